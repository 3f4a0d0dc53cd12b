"""Functions of the top-level namespace (`srcgrad.exp(t)`, `srcgrad.where(c, a, b)`, ...),
each a thin call into the Tensor method or the op table."""
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


def sum(x, dim=None, keepdim=False):
    return _t(x).sum(dim, keepdim)


def mean(x, dim=None, keepdim=False):
    return _t(x).mean(dim, keepdim)


def norm(x, p="fro", dim=None, keepdim=False):
    return _t(x).norm(p, dim, keepdim)


def matmul(a, b):
    return _binary("matmul", _t(a), b)


def where(condition, a, b):
    """Elementwise select; the gradient of the branch not taken is exactly 0."""
    c = condition._data if isinstance(condition, Tensor) else condition
    a, b = _promote([_as_operand(a), _as_operand(b)])
    return apply(_ops.get("where"), [c, a, b], {})


# -- reductions of the numpy surface: PyTorch's functions, each the Tensor method ---------
def max(x, dim=None, keepdim=False):
    """torch.max(x), torch.max(x, dim) → (values, indices), torch.max(a, b) → maximum."""
    return _t(x).max(dim, keepdim)


def min(x, dim=None, keepdim=False):
    return _t(x).min(dim, keepdim)


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
