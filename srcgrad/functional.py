"""Functions of the top-level namespace (`srcgrad.exp(t)`, `srcgrad.where(c, a, b)`, ...),
each a thin call into the Tensor method or the op table."""
import numpy as np

from . import ops as _ops
from .autograd.recording import apply
from .tensor import Tensor, _as_operand, _binary, _promote


def _t(x):
    if isinstance(x, Tensor):
        return x
    from .creation import tensor
    return tensor(x)


def exp(x): return _t(x).exp()
def log(x): return _t(x).log()
def sqrt(x): return _t(x).sqrt()
def sin(x): return _t(x).sin()
def cos(x): return _t(x).cos()
def tanh(x): return _t(x).tanh()
def sigmoid(x): return _t(x).sigmoid()
def relu(x): return _t(x).relu()
def abs(x): return _t(x).abs()


def sum(x, dim=None, keepdim=False, *, dtype=None):
    return _t(x).sum(dim, keepdim, dtype=dtype)


def mean(x, dim=None, keepdim=False):
    return _t(x).mean(dim, keepdim)


def norm(x, p="fro", dim=None, keepdim=False):
    return _t(x).norm(p, dim, keepdim)


def matmul(a, b):
    return _binary("matmul", _t(a), b)


def where(condition, a=None, b=None):
    """Elementwise select; the gradient of the branch not taken is exactly 0.
    where(condition) alone: the positions of its nonzero elements (a tuple, per dim)."""
    if a is None and b is None:
        return _t(condition).nonzero(as_tuple=True)
    c = condition   # a tensor stays one: a compiled function recomputes it, never freezes it
    a, b = _promote([_as_operand(a), _as_operand(b)])
    if not hasattr(a, "dtype") and not hasattr(b, "dtype"):  # two numbers: PyTorch's dtype for them
        from ._dtype import torch_result_type
        dtype = torch_result_type([a, b])
        a, b = np.asarray(a, dtype), np.asarray(b, dtype)
    return apply(_ops.get("where"), [c, a, b], {})


# -- reductions of the numpy surface: PyTorch's functions, each the Tensor method ---------
def max(x, dim=None, keepdim=False):
    """torch.max(x), torch.max(x, dim) → (values, indices), torch.max(a, b) → maximum."""
    from .numpy.reductions import torch_extreme
    return torch_extreme(_t(x), dim, keepdim, None, None, "max")


def min(x, dim=None, keepdim=False):
    from .numpy.reductions import torch_extreme
    return torch_extreme(_t(x), dim, keepdim, None, None, "min")


def amax(x, dim=(), keepdim=False): return _t(x).amax(dim, keepdim)
def amin(x, dim=(), keepdim=False): return _t(x).amin(dim, keepdim)
def argmax(x, dim=None, keepdim=False): return _t(x).argmax(dim, keepdim)
def argmin(x, dim=None, keepdim=False): return _t(x).argmin(dim, keepdim)
def prod(x, dim=None, keepdim=False, *, dtype=None): return _t(x).prod(dim, keepdim, dtype=dtype)
def cumsum(x, dim, *, dtype=None): return _t(x).cumsum(dim, dtype=dtype)
def cumprod(x, dim, *, dtype=None): return _t(x).cumprod(dim, dtype=dtype)
def logsumexp(x, dim, keepdim=False): return _t(x).logsumexp(dim, keepdim)
def softmax(x, dim, dtype=None): return _t(x).softmax(dim, dtype)
def log_softmax(x, dim, dtype=None): return _t(x).log_softmax(dim, dtype)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _t(x).var(dim, unbiased, keepdim, correction=correction)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _t(x).std(dim, unbiased, keepdim, correction=correction)


# -- PyTorch's spellings of the numpy surface (torch.log1p(x), torch.clamp(x, 0, 1), ...) ------
def _np():
    import srcgrad.numpy as snp
    return snp


def _unary(np_name):
    def fn(x):
        return getattr(_np(), np_name)(_t(x))
    fn.__name__ = np_name
    fn.__doc__ = f"Elementwise {np_name} (numpy.{np_name} over tensors)."
    return fn


square, reciprocal, exp2, log1p, expm1 = (_unary(n) for n in ("square", "reciprocal", "exp2", "log1p", "expm1"))
log2, log10, floor, ceil = (_unary(n) for n in ("log2", "log10", "floor", "ceil"))


def sign(x):
    """torch.sign: -1, 0 or 1, and 0 for NaN (numpy's sign gives NaN)."""
    return _t(x).sign()
sinh, cosh, tan, erf = (_unary(n) for n in ("sinh", "cosh", "tan", "erf"))
asin = arcsin = _unary("arcsin")
acos = arccos = _unary("arccos")
atan = arctan = _unary("arctan")
isnan, isfinite, logical_not = (_unary(n) for n in ("isnan", "isfinite", "logical_not"))
softplus = _unary("softplus")


def rsqrt(x):
    return 1 / _t(x).sqrt()


def neg(x):
    return -_t(x)


def round(x, decimals=0):  # noqa: A001
    return _np().round(_t(x), decimals)


def _binary_fn(np_name):
    def fn(a, b):
        return getattr(_np(), np_name)(a, b)
    fn.__name__ = np_name
    return fn


add, sub, mul, div = (_binary_fn(n) for n in ("add", "subtract", "multiply", "divide"))
subtract, multiply, divide, true_divide = sub, mul, div, div
pow = _binary_fn("power")  # noqa: A001
maximum, minimum, atan2 = (_binary_fn(n) for n in ("maximum", "minimum", "arctan2"))
logical_and, logical_or = _binary_fn("logical_and"), _binary_fn("logical_or")


def lerp(start, end, weight):
    """start + weight * (end - start), in start's dtype: PyTorch refuses an `end` (or a
    weight tensor with dimensions) of another dtype, and integer tensors."""
    from .surface import float_only, same_dtype
    same_dtype("lerp end", start, end)
    if isinstance(weight, Tensor) and weight.ndim:
        same_dtype("lerp weight", start, weight)
    float_only(start, kernel="lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar")
    return start + weight * (end - start)


def clamp(x, min=None, max=None):  # noqa: A002
    return _t(x).clamp(min, max)


clip = clamp


def transpose(x, dim0, dim1):
    return _t(x).transpose(dim0, dim1)


def reshape(x, shape):
    return _t(x).reshape(shape)


def squeeze(x, dim=None):
    return _t(x).squeeze(dim)


def unsqueeze(x, dim):
    return _t(x).unsqueeze(dim)


def t(x):
    return _t(x).t()


def flip(x, dims):
    return _t(x).flip(dims)


def roll(x, shifts, dims=None):
    return _t(x).roll(shifts, dims)


def tile(x, dims):
    return _np().tile(_t(x), dims)


def diag(x, diagonal=0):
    """torch.diag: a vector's diagonal matrix, or a matrix's diagonal — a copy, unlike
    numpy's np.diag (a view) and diagonal() (a view in both)."""
    t = _t(x)
    if t.ndim == 2:
        from .autograd.recording import named
        return named(_np().diagonal(t, diagonal).clone(), "DiagonalBackward0_copy", inputs=(t,))
    return _np().diag(t, diagonal)


def triu(x, diagonal=0):
    return _np().triu(_t(x), diagonal)


def tril(x, diagonal=0):
    return _np().tril(_t(x), diagonal)


def mm(a, b):
    from .surface import same_dtype
    same_dtype("mm", a, b)
    return matmul(a, b)


def bmm(a, b):
    from .autograd.recording import named
    from .surface import same_dtype
    same_dtype("bmm", a, b)
    a = _t(a)
    if a.ndim != 3 or np.ndim(b) != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if a.ndim != 3 else "batch2 must be a 3D tensor")
    # (one op: `@`'s PyTorch steps for more than two dimensions end in this bmm)
    return named(apply(_ops.get("matmul"), list(_promote([a, _as_operand(b)])), {}), "BmmBackward0",
                 inputs=(a, b))


def dot(a, b):
    from .surface import same_dtype
    same_dtype("dot", a, b)
    return _np().dot(a, b)


def outer(a, b):
    return _np().outer(a, b)


ger = outer


def cross(a, b, dim=-1):
    from .surface import same_dtype
    same_dtype("bmm", a, b)
    return _np().cross(a, b, axis=dim)


def kron(a, b):
    return _np().kron(a, b)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    from .surface import same_dtype
    same_dtype("addmm self", input, mat2)  # (PyTorch's order of its checks)
    same_dtype("addmm mat1", mat1, mat2)
    return beta * _t(input) + alpha * matmul(mat1, mat2)


def gather(x, dim, index):
    """out[..., j, ...] = x[..., index[..., j, ...], ...] along dim (PyTorch's gather)."""
    idx = index if isinstance(index, Tensor) else __import__("numpy").asarray(index)
    return _np().take_along_axis(_t(x), idx, axis=dim)


def index_select(x, dim, index):
    idx = index if isinstance(index, Tensor) else __import__("numpy").asarray(index)
    return _np().take(_t(x), idx, axis=dim)


def masked_fill(x, mask, value):
    """x with value where mask is True, in x's dtype (a float value in an integer tensor is
    truncated, as PyTorch's); value is a number or a 0-d tensor (its gradient is the sum
    over the filled places)."""
    x = _t(x)
    from .surface import dtype_error, dtype_name, torch_dtype_rules
    if torch_dtype_rules():
        m = mask.dtype if isinstance(mask, (Tensor, np.ndarray)) else None
        if m is not None and m != np.bool_:
            raise dtype_error(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                              f"{dtype_name(m, c=True)}")
        if isinstance(value, Tensor) and value.ndim:
            raise dtype_error(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                              f"{value.ndim} dimension(s).")
    if isinstance(value, Tensor):
        value = value._cast_const(x.dtype)
    elif isinstance(value, (bool, int, float, np.generic)) and x.dtype.kind in "biu":
        value = x.dtype.type(value)
    return where(mask, value, x)


def numel(x):
    return _t(x).numel()


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    from .numpy.misc import allclose as _allclose   # recorded: a guard inside a compiled function
    return _allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def dist(a, b, p=2):
    """The p-norm of a - b (any order: torch.linalg.vector_norm's)."""
    from .autograd.recording import named
    from .linalg import vector_norm
    from .surface import float_only
    d = _t(a) - b
    float_only(d, "norm(): input dtype should be either floating point or complex. Got {x} instead.")
    return named(vector_norm(d, p), "DistBackward0", inputs=(a, b))


def det(x):
    from .surface import float_only
    float_only(x, "linalg.det: Expected a floating point or complex tensor as input. Got {x}")
    return _np().linalg.det(_t(x))


def inverse(x):
    from .surface import float_only
    float_only(x, "linalg.inv: Expected a floating point or complex tensor as input. Got {x}")
    return _np().linalg.inv(_t(x))


def sort(x, dim=-1, descending=False, stable=False):
    return _t(x).sort(dim, descending, stable)


def trace(x):
    """The sum of the diagonal of a matrix (torch.trace)."""
    return _t(x).trace()
