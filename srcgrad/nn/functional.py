"""`srcgrad.nn.functional`: PyTorch's functional layers, each a composite of the op table."""
import numpy as np

from .. import functional as _f
from ..tensor import Tensor


def _t(x):
    return x if isinstance(x, Tensor) else _f._t(x)


def relu(x, inplace=False):
    return _t(x).relu()


def relu6(x):
    x = _t(x)  # (PyTorch's hardtanh: no gradient at the bounds, unlike clamp)
    return _f.where(x._data <= 0, 0.0, _f.where(x._data >= 6, 6.0, x))


def leaky_relu(x, negative_slope=0.01):
    x = _t(x)
    return _f.where(x._data > 0, x, x * negative_slope)


def elu(x, alpha=1.0):
    x = _t(x)
    return _f.where(x._data > 0, x, alpha * _f.expm1(_f.where(x._data > 0, 0.0, x)))  # (alpha at 0)


def gelu(x, approximate="none"):
    x = _t(x)
    if approximate == "tanh":
        return 0.5 * x * (1 + ((2 / np.pi) ** 0.5 * (x + 0.044715 * x ** 3)).tanh())
    return 0.5 * x * (1 + _f.erf(x / 2 ** 0.5))


def silu(x):
    x = _t(x)
    return x * x.sigmoid()


def sigmoid(x):
    return _t(x).sigmoid()


def tanh(x):
    return _t(x).tanh()


def softplus(x, beta=1.0, threshold=20.0):
    x = _t(x)
    return _f.softplus(x * beta) / beta if beta != 1.0 else _f.softplus(x)


def softmax(x, dim=-1):
    return _t(x).softmax(dim)


def log_softmax(x, dim=-1):
    return _t(x).log_softmax(dim)


def linear(x, weight, bias=None):
    y = _f.matmul(x, _t(weight).t())
    return y if bias is None else y + bias


def mse_loss(input, target, reduction="mean"):  # noqa: A002
    d = (_t(input) - target) ** 2
    return _reduce(d, reduction)


def l1_loss(input, target, reduction="mean"):  # noqa: A002
    return _reduce((_t(input) - target).abs(), reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):  # noqa: A002
    x = _t(input)
    return _reduce(_f.softplus(x) - x * target, reduction)


def cross_entropy(input, target, reduction="mean"):  # noqa: A002
    """Class indices (integer target) or class probabilities (float target), over dim 1."""
    logp = _t(input).log_softmax(1)
    tgt = target._data if isinstance(target, Tensor) else np.asarray(target)
    if tgt.dtype.kind in "iu":
        picked = _f.gather(logp, 1, tgt.reshape(tgt.shape[0], 1)).reshape(tgt.shape[0])
        return _reduce(-picked, reduction)
    return _reduce(-(logp * target).sum(1), reduction)


def nll_loss(input, target, reduction="mean"):  # noqa: A002
    tgt = target._data if isinstance(target, Tensor) else np.asarray(target)
    picked = _f.gather(_t(input), 1, tgt.reshape(tgt.shape[0], 1)).reshape(tgt.shape[0])
    return _reduce(-picked, reduction)


def _reduce(x, reduction):
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    if reduction == "none":
        return x
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
