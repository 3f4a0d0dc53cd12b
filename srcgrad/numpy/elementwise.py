"""numpy's elementwise functions over tensors, each one entry of the op table."""
import numpy as np

from .. import ops as _ops
from ..autograd.recording import apply
from ._dispatch import UFUNCS, implements, tensor_cls


def _operand(x):
    Tensor = tensor_cls()
    if isinstance(x, np.generic):  # first: np.float64 is a float, but not a weak scalar in numpy
        from ..autograd.recording import numpy_code  # code: _promote applies NumPy 2's rule
        return x if numpy_code() else x.item()
    if isinstance(x, (Tensor, np.ndarray, bool, int, float)):
        return x
    return np.asarray(x)


_PROMOTE = []


def _promote(operands, float_result):
    # tensor.py imports this package: its promotion rule is looked up once, on first use
    if not _PROMOTE:
        from ..tensor import _promote as rule
        _PROMOTE.append(rule)
    return _PROMOTE[0](operands, float_result)


def elementwise(opname, *args, float_result=False):
    """Apply elementwise op `opname` with PyTorch's promotion (see tensor._promote)."""
    operands = _promote([_operand(x) for x in args], float_result)
    Tensor = tensor_cls()
    if float_result and len(operands) == 1 and isinstance(operands[0], Tensor) \
            and operands[0].dtype.kind in "iub":
        from ..tensor import _float_dtype
        operands = [operands[0]._cast_const(_float_dtype(operands[0].dtype))]
    return apply(_ops.get(opname), operands, {})


def _define(np_func, opname, float_result=False):
    def impl(*args):
        return elementwise(opname, *args, float_result=float_result)
    impl.__name__ = np_func.__name__
    impl.__doc__ = f"numpy.{np_func.__name__} over tensors (op `{opname}`)."
    implements(np_func)(impl)
    return impl


add = _define(np.add, "add")
subtract = _define(np.subtract, "sub")
multiply = _define(np.multiply, "mul")
true_divide = divide = _define(np.true_divide, "div", float_result=True)
power = _define(np.power, "pow")
negative = _define(np.negative, "neg")
exp = _define(np.exp, "exp", True)
log = _define(np.log, "log", True)
sqrt = _define(np.sqrt, "sqrt", True)
sin = _define(np.sin, "sin", True)
cos = _define(np.cos, "cos", True)
tanh = _define(np.tanh, "tanh", True)
absolute = abs = _define(np.absolute, "abs")
sign = _define(np.sign, "sign")
less = _define(np.less, "lt")
less_equal = _define(np.less_equal, "le")
greater = _define(np.greater, "gt")
greater_equal = _define(np.greater_equal, "ge")
equal = _define(np.equal, "eq")
not_equal = _define(np.not_equal, "ne")


@implements(np.where)
def where(condition, x=None, y=None):
    """Elementwise select; the gradient of the branch not taken is exactly 0."""
    from ..tensor import _promote
    Tensor = tensor_cls()
    if x is None and y is None:
        if isinstance(condition, Tensor):   # np.nonzero(condition)
            return np.nonzero(condition)
        c = np.asarray(condition)
        return tuple(Tensor._make(i) for i in np.nonzero(c))
    if isinstance(condition, Tensor):   # kept a tensor: a compiled function recomputes it
        c = condition if condition.dtype == np.bool_ else condition.astype(np.bool_)
    else:
        c = np.asarray(condition)
    a, b = _promote([_operand(x), _operand(y)])
    return apply(_ops.get("where"), [c, a, b], {})

# numpy's wider vocabulary: one line per function, each an op of the table
exp2 = _define(np.exp2, "exp2", True)
expm1 = _define(np.expm1, "expm1", True)
log2 = _define(np.log2, "log2", True)
log10 = _define(np.log10, "log10", True)
log1p = _define(np.log1p, "log1p", True)
cbrt = _define(np.cbrt, "cbrt", True)
square = _define(np.square, "square")
reciprocal = _define(np.reciprocal, "reciprocal", True)
fabs = _define(np.fabs, "abs", True)
tan = _define(np.tan, "tan", True)
arcsin = _define(np.arcsin, "arcsin", True)
arccos = _define(np.arccos, "arccos", True)
arctan = _define(np.arctan, "arctan", True)
sinh = _define(np.sinh, "sinh", True)
cosh = _define(np.cosh, "cosh", True)
arcsinh = _define(np.arcsinh, "arcsinh", True)
arccosh = _define(np.arccosh, "arccosh", True)
arctanh = _define(np.arctanh, "arctanh", True)
sinc = _define(np.sinc, "sinc", True)
deg2rad = radians = _define(np.deg2rad, "deg2rad", True)
rad2deg = degrees = _define(np.rad2deg, "rad2deg", True)
implements(np.radians)(deg2rad)
implements(np.degrees)(rad2deg)
logaddexp = _define(np.logaddexp, "logaddexp", True)
logaddexp2 = _define(np.logaddexp2, "logaddexp2", True)
arctan2 = _define(np.arctan2, "arctan2", True)
hypot = _define(np.hypot, "hypot", True)
maximum = _define(np.maximum, "maximum")
minimum = _define(np.minimum, "minimum")
fmax = _define(np.fmax, "fmax")
fmin = _define(np.fmin, "fmin")
remainder = mod = _define(np.remainder, "mod")
implements(np.mod)(remainder)
floor = _define(np.floor, "floor")
ceil = _define(np.ceil, "ceil")
rint = _define(np.rint, "rint")
trunc = _define(np.trunc, "trunc")
floor_divide = _define(np.floor_divide, "floor_divide")  # (numpy's value; derivative 0)


@implements(np.divmod)
def divmod(x1, x2):
    """(floor_divide(x1, x2), remainder(x1, x2)): the quotient's derivative is 0, the
    remainder's is the `mod` op's (1 in x1, -floor(x1 / x2) in x2)."""
    return floor_divide(x1, x2), remainder(x1, x2)


@implements(np.modf)
def modf(x):
    """(fractional part, integral part), both with x's sign as C's modf gives them (-0.0
    for -2.0, (+-0.0, +-inf) for +-inf). The fractional part is written s * (|x| -
    trunc(|x|)) with s = +-1 from x's sign bit and |x| = s * x: numpy's values, signed
    zeros included, and derivative s * s = 1 everywhere (PyTorch's frac), also at the
    integers, where `x - trunc(x)` would need a select that drops it; the integral part
    is trunc's, derivative 0. Integers become floats as for any float-valued op."""
    from ..tensor import _float_dtype
    t = _operand(x)
    Tensor = tensor_cls()
    if not isinstance(t, Tensor):
        t = Tensor._make(np.asarray(t))
    if t.dtype.kind in "iub":
        t = t._cast_const(_float_dtype(t.dtype))
    if t.dtype.kind == "c":
        raise TypeError("ufunc 'modf' not supported for complex input")
    dtype = t.dtype
    s = where(signbit(t), np.asarray(-1.0, dtype), np.asarray(1.0, dtype))
    a = where(isinf(t), np.zeros((), dtype), s * t)   # (no inf - inf: an infinity's fraction is 0)
    return s * (a - trunc(a)), trunc(t)


@implements(np.i0)
def i0(x):
    """The modified Bessel function of the first kind of order 0: the op `i0` of
    scipy.special's table (ops/scipy_special.py), derivative i1. Without scipy its kernels
    are numpy's np.i0 and a Chebyshev series for i1 (symbolic/numpy_special.py)."""
    t = _operand(x)
    if np.dtype(getattr(t, "dtype", None) or np.asarray(t).dtype).kind == "c":
        raise TypeError("i0 not supported for complex values")
    return elementwise("i0", t, float_result=True)


@implements(np.fix)
def fix(x):
    """Rounding toward zero (numpy's fix is trunc's value): derivative 0."""
    return elementwise("trunc", x)


@implements(np.positive)
def positive(x):
    """+x: a copy, derivative 1."""
    return elementwise("mul", x, 1)
isnan = _define(np.isnan, "isnan")
isfinite = _define(np.isfinite, "isfinite")
isinf = _define(np.isinf, "isinf")
signbit = _define(np.signbit, "signbit")


@implements(np.isposinf)
def isposinf(x, out=None):
    """x == +inf: a mask, with no derivative (numpy writes it in Python, with isinf)."""
    return isinf(x) & ~signbit(x)


@implements(np.isneginf)
def isneginf(x, out=None):
    return isinf(x) & signbit(x)
logical_not = _define(np.logical_not, "logical_not")
logical_and = _define(np.logical_and, "logical_and")
logical_or = _define(np.logical_or, "logical_or")
logical_xor = _define(np.logical_xor, "logical_xor")
invert = bitwise_not = _define(np.invert, "invert")
bitwise_and = _define(np.bitwise_and, "bitwise_and")
bitwise_or = _define(np.bitwise_or, "bitwise_or")
bitwise_xor = _define(np.bitwise_xor, "bitwise_xor")


@implements(np.round, np.around)
def round(a, decimals=0):
    return elementwise("round", a) if decimals == 0 else apply(_ops.get("round"), [a, decimals], {})


around = round


_UNSET = object()


@implements(np.clip)
def clip(a, a_min=_UNSET, a_max=_UNSET, *, min=None, max=None):  # noqa: A002  (numpy 2.1's names)
    """Gradient reaches `a` inside [a_min, a_max] (ends included), else the bound chosen."""
    from ..tensor import _promote
    a_min = min if a_min is _UNSET else a_min
    a_max = max if a_max is _UNSET else a_max
    lo = -np.inf if a_min is None else _operand(a_min)
    hi = np.inf if a_max is None else _operand(a_max)
    x, lo, hi = _promote([_operand(a), lo, hi])
    return apply(_ops.get("clip"), [x, lo, hi], {})


@implements(np.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, inf -> posinf, -inf -> neginf (the dtype's largest values by default);
    derivative 1 where x is finite, 0 where replaced."""
    if nan == 0.0 and posinf is None and neginf is None:
        return elementwise("nan_to_num", x)
    from ..functional import where
    t = _operand(x)
    Tensor = tensor_cls()
    if not isinstance(t, Tensor):
        return np.nan_to_num(np.asarray(t), copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    big = np.finfo(t.dtype).max if t.dtype.kind == "f" else None
    hi = big if posinf is None else posinf
    lo = -big if neginf is None and big is not None else neginf
    out = where(isnan(t), nan, t)
    out = where(out == np.inf, hi, out)
    return where(out == -np.inf, lo, out)


def sigmoid(x):
    """1 / (1 + exp(-x)), without overflow (also `logistic`, scipy's `expit`)."""
    return elementwise("sigmoid", x, float_result=True)


logistic = expit = sigmoid


def softplus(x):
    """log(1 + exp(x)) = logaddexp(0, x): finite for any x, and so is its derivative."""
    return elementwise("softplus", x, float_result=True)


def relu(x):
    """max(x, 0), with derivative 0 at 0 (PyTorch's choice)."""
    return elementwise("relu", x)


def erf(x):
    if np.dtype(getattr(x, "dtype", None) or np.asarray(x).dtype).kind == "c":  # (math.erf has no complex erf)
        return elementwise("erf_complex", x)
    return elementwise("erf", x, float_result=True)


# scipy.special's ufuncs that numpy operations express: they reach srcgrad by name through
# __array_ufunc__ (srcgrad never imports scipy), and the generated code is numpy's
def _erfc(x):
    return 1.0 - erf(x)


def _logit(x):
    return log(x) - log1p(-x)


def _ndtr(x):
    return 0.5 + 0.5 * erf(x * 0.7071067811865476)


def _log_expit(x):
    return -softplus(-x)


def _xlogy(x, y):
    return where(x == 0, 0.0, x * log(y))


def _entr(x):
    return where(x == 0, 0.0, -x * log(x))


UFUNCS.update({"expit": sigmoid, "erf": erf, "erfc": _erfc, "logit": _logit, "ndtr": _ndtr,
               "log_expit": _log_expit, "xlogy": _xlogy, "entr": _entr})


@implements(np.ldexp)
def ldexp(x1, x2):
    """x1 * 2**x2, x2 integers (exponents: no gradient flows to them)."""
    Tensor = tensor_cls()
    e = x2 if isinstance(x2, Tensor) else np.asarray(x2)
    if e.dtype.kind not in "iub":
        raise TypeError(f"ldexp: the exponents x2 must be integers, got dtype {e.dtype}")
    a = x1 if isinstance(x1, Tensor) else np.asarray(x1)
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    scale = exp2(e.astype(dtype)) if isinstance(e, Tensor) else np.exp2(e.astype(dtype))
    return multiply(a, scale)
