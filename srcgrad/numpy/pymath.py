"""Python's `math` functions of a traced value, as numpy's.

`math.exp(x[0])` in numpy code is ordinary (x[0] is a numpy scalar there), but math takes
the number out of the tensor (Tensor.__float__): the result is a constant, and the
gradient through it would be lost. Inside a differentiated function, a call of one of these
from the user's code with a tensor runs the function of the same name here instead
(numpy/builders.py's library redirects, like scipy's; the trace runs again for it when
`__float__` finds the user's line calling math: trace._math_call). Each returns a 0-d
tensor; a domain error is math's ValueError (a decision on the value: a guard).
"""
import math

import numpy as np

from .. import numpy as _np
from .shape import _is_tensor, _tensor


def _t(x):
    """x as a floating tensor (math computes in floats)."""
    t = _tensor(x)
    return t.astype(np.float64) if t.dtype.kind in "biu" else t


#: math's name -> (srcgrad.numpy's function, the arguments outside math's domain or None)
_TABLE = {
    "exp": ("exp", None), "exp2": ("exp2", None), "expm1": ("expm1", None),
    "log1p": ("log1p", lambda x: x <= -1), "log2": ("log2", lambda x: x <= 0), "log10": ("log10", lambda x: x <= 0),
    "sqrt": ("sqrt", lambda x: x < 0), "cbrt": ("cbrt", None),
    "sin": ("sin", None), "cos": ("cos", None), "tan": ("tan", None),
    "asin": ("arcsin", lambda x: _np.abs(x) > 1), "acos": ("arccos", lambda x: _np.abs(x) > 1), "atan": ("arctan", None),
    "sinh": ("sinh", None), "cosh": ("cosh", None), "tanh": ("tanh", None),
    "asinh": ("arcsinh", None), "acosh": ("arccosh", lambda x: x < 1), "atanh": ("arctanh", lambda x: _np.abs(x) >= 1),
    "fabs": ("abs", None), "degrees": ("rad2deg", None), "radians": ("deg2rad", None),
    "atan2": ("arctan2", None), "pow": ("power", None), "copysign": ("copysign", None), "fmod": ("fmod", None),
}


def _from_table(name, np_name, bad):
    def fn(*args):
        args = [_t(a) for a in args]
        if bad is not None and bool(bad(*args)):
            raise ValueError("math domain error")
        return getattr(_np, np_name)(*args)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"math.{name} of a tensor: numpy's {np_name}."
    return fn


globals().update({name: _from_table(name, *entry) for name, entry in _TABLE.items()})


def log(x, base=None):
    x = _t(x)
    if bool(x <= 0) or (base is not None and bool(_t(base) <= 0)):
        raise ValueError("math domain error")
    return _np.log(x) if base is None else _np.log(x) / _np.log(_t(base) if _is_tensor(base) else float(base))


def hypot(*coordinates):
    return _np.sqrt(sum(_t(c) ** 2 for c in coordinates))


def erf(x):
    from ..scipy import special
    return special.erf(_t(x))


def erfc(x):
    from ..scipy import special
    return special.erfc(_t(x))


def lgamma(x):
    from ..scipy import special
    return special.gammaln(_t(x))


#: the names redirected (math's own names, those this Python's math has)
NAMES = tuple(name for name in (*_TABLE, "log", "hypot", "erf", "erfc", "lgamma") if hasattr(math, name))
