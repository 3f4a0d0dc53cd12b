"""Python's `math` functions of a traced value, as numpy's.

`math.exp(x[0])` in numpy code is ordinary (x[0] is a numpy scalar there), but math takes
the number out of the tensor (Tensor.__float__): the result is a constant, and the
gradient through it would be lost. Inside a differentiated function, a call of one of these
from the user's code with a tensor runs the function of the same name here instead
(numpy/builders.py's library redirects, like scipy's; the trace runs again for it when
`__float__` finds the user's line calling math: trace.stored_into_numpy). Each returns a
0-d tensor; a domain error is math's ValueError (a decision on the value: a guard).
"""
import math

import numpy as np

from .. import numpy as _ew
from .shape import _is_tensor, _tensor


def _domain(bad):
    if bool(bad):
        raise ValueError("math domain error")


def _t(x):
    """x as a floating tensor (math computes in floats)."""
    t = _tensor(x)
    return t.astype(np.float64) if t.dtype.kind in "biu" else t


def exp(x):
    return _ew.exp(_t(x))


def exp2(x):
    return _ew.exp2(_t(x))


def expm1(x):
    return _ew.expm1(_t(x))


def log(x, base=None):
    x = _t(x)
    _domain(x <= 0)
    if base is None:
        return _ew.log(x)
    _domain(_ew.less_equal(base, 0) if _is_tensor(base) else base <= 0)
    return _ew.log(x) / _ew.log(_t(base) if _is_tensor(base) else float(base))


def log1p(x):
    x = _t(x)
    _domain(x <= -1)
    return _ew.log1p(x)


def log2(x):
    x = _t(x)
    _domain(x <= 0)
    return _ew.log2(x)


def log10(x):
    x = _t(x)
    _domain(x <= 0)
    return _ew.log10(x)


def sqrt(x):
    x = _t(x)
    _domain(x < 0)
    return _ew.sqrt(x)


def cbrt(x):
    return _ew.cbrt(_t(x))


def sin(x):
    return _ew.sin(_t(x))


def cos(x):
    return _ew.cos(_t(x))


def tan(x):
    return _ew.tan(_t(x))


def asin(x):
    x = _t(x)
    _domain(_ew.abs(x) > 1)
    return _ew.arcsin(x)


def acos(x):
    x = _t(x)
    _domain(_ew.abs(x) > 1)
    return _ew.arccos(x)


def atan(x):
    return _ew.arctan(_t(x))


def atan2(y, x):
    return _ew.arctan2(_t(y), _t(x))


def sinh(x):
    return _ew.sinh(_t(x))


def cosh(x):
    return _ew.cosh(_t(x))


def tanh(x):
    return _ew.tanh(_t(x))


def asinh(x):
    return _ew.arcsinh(_t(x))


def acosh(x):
    x = _t(x)
    _domain(x < 1)
    return _ew.arccosh(x)


def atanh(x):
    x = _t(x)
    _domain(_ew.abs(x) >= 1)
    return _ew.arctanh(x)


def pow(x, y):  # noqa: A001  (math's name)
    x, y = _t(x), _t(y)
    return _ew.power(x, y)


def fabs(x):
    return _ew.abs(_t(x))


def hypot(*coordinates):
    total = 0.0
    for c in coordinates:
        total = total + _t(c) ** 2
    return _ew.sqrt(total)


def copysign(x, y):
    return _ew.copysign(_t(x), _t(y))


def fmod(x, y):
    return _ew.fmod(_t(x), _t(y))


def degrees(x):
    return _ew.rad2deg(_t(x))


def radians(x):
    return _ew.deg2rad(_t(x))


def erf(x):
    from ..scipy import special
    return special.erf(_t(x))


def erfc(x):
    from ..scipy import special
    return special.erfc(_t(x))


def lgamma(x):
    from ..scipy import special
    return special.gammaln(_t(x))


#: the names redirected (each is math's own name of a function above)
NAMES = tuple(name for name in ("exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "sin",
                                "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh",
                                "acosh", "atanh", "pow", "fabs", "hypot", "copysign", "fmod", "degrees", "radians",
                                "erf", "erfc", "lgamma") if hasattr(math, name))
