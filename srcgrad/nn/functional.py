"""`srcgrad.nn.functional`: PyTorch's functional layers, each a composite of the op table.

Every function here is built from Tensor methods and srcgrad.functional / srcgrad.numpy
calls, so its backward is generated from the op table's rules. Decisions on values
(masks, kinks, ignored targets) are tensor comparisons, never reads of `._data`, so that a
function compiled by srcgrad.grad & co recomputes them instead of freezing the recorded ones.
"""
import math
import warnings

import numpy as np

from .. import _dtype
from .. import functional as _f
from ..autograd import no_grad
from ..autograd.recording import named as _named, reads_its_inputs
from ..autograd.function import edges_of
from ..surface import dtype_error, dtype_name, float_only, kernel_error, same_dtype, strict_matmul, torch_dtype_rules
from ..tensor import Tensor, _promote


def _t(x):
    return x if isinstance(x, Tensor) else _f._t(x)


def _snp():
    import srcgrad.numpy as snp
    return snp


def _const(array, dtype):
    """A constant tensor (a mask, a divisor, noise) in the computation's dtype."""
    return Tensor._make(np.asarray(array, dtype=dtype))


def _float_dtype(x):
    return x.dtype if x.dtype.kind == "f" else _dtype.get_default_dtype()


def _rand(shape):
    """Uniform [0, 1) samples from srcgrad's generator (seeded by srcgrad.manual_seed)."""
    from ..creation import rand
    return rand(*shape, dtype=np.float64)._data


def _inplace(x, y, inplace):
    """PyTorch's inplace=True: y written into x (recorded, so gradients still flow)."""
    if not inplace:
        return y
    x.copy_(y)
    fn, made = x.grad_fn, getattr(y, "grad_fn", None)
    if x._view_of is None and fn is not None and made is not None:
        # PyTorch's node is the function's (`relu(y, inplace=True)`: ReluBackward0 over
        # y's node before the write), not a copy's
        _named(x, type(made).__name__)
        fn.pytorch_inputs = edges_of(made)
    return x


def _ntuple(v, n, name):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {v}")
    return v


# ---------------------------------------------------------------------------------------
# reductions of the losses
# ---------------------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average=/reduce= arguments, read as a reduction string."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  stacklevel=3)
    return ret


def _check_reduction(reduction, allowed=("mean", "sum", "none")):
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(x, reduction):
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    if reduction == "none":
        return x
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _warn_target_size(input, target):  # noqa: A002
    if tuple(np.shape(target)) != tuple(input.shape):
        warnings.warn(f"Using a target size ({tuple(np.shape(target))}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted_reduce(loss, weight, input, reduction, mean_by_weight):  # noqa: A002
    """The optional elementwise `weight=` of mse/l1/huber (recent PyTorch): mse and l1
    divide the weighted sum by the sum of the weights, huber by the element count."""
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(np.shape(weight)) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / _t(weight).sum()
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------------------
def relu(input, inplace=False):  # noqa: A002
    x = _t(input)
    return _inplace(x, x.relu(), inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """Clamp to [min_val, max_val] with no gradient at the bounds (unlike clamp). Integer
    input stays integer (the bounds truncated), as PyTorch's."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    x = _t(input)
    if x.dtype.kind in "biu" and torch_dtype_rules():
        if x.dtype == np.bool_:
            raise dtype_error("Bool inputs not supported for hardtanh")
        min_val, max_val = int(min_val), int(max_val)
    inner = reads_its_inputs(_f.where(x >= max_val, max_val, x))  # (PyTorch's node reads x)
    y = reads_its_inputs(_f.where(x <= min_val, min_val, inner))
    return _inplace(x, y, inplace)


def relu6(input, inplace=False):  # noqa: A002
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    x = _t(input)
    float_only(x, kernel="leaky_relu_cpu")
    return _inplace(x, reads_its_inputs(_f.where(x > 0, x, x * negative_slope)), inplace)


def _elu(x, alpha, scale, input_scale):
    # x <= 0 takes the exponential branch: its slope alpha * input_scale at 0, as PyTorch.
    # The inner where keeps expm1 of large positive x (not taken) from overflowing.
    neg = alpha * _f.expm1(_f.where(x > 0, 0.0, x) * input_scale)
    y = _f.where(x > 0, x, neg)
    return y if scale == 1.0 else y * scale


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    x = _t(input)
    float_only(x, kernel="elu_cpu")
    return _inplace(x, _elu(x, alpha, 1.0, 1.0), inplace)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):  # noqa: A002
    x = _t(input)
    float_only(x, kernel="elu_cpu")
    return _inplace(x, _elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0), inplace)


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    x = _t(input)
    float_only(x, kernel="elu_cpu")
    return _inplace(x, _elu(x, alpha, 1.0, 1.0 / alpha), inplace)


def gelu(input, approximate="none"):  # noqa: A002
    x = _t(input)
    float_only(x, kernel="GeluKernelImpl")
    if approximate == "tanh":
        return 0.5 * x * (1 + ((2 / np.pi) ** 0.5 * (x + 0.044715 * x ** 3)).tanh())
    if approximate != "none":
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return 0.5 * x * (1 + _f.erf(x / 2 ** 0.5))


def silu(input, inplace=False):  # noqa: A002
    x = _t(input)
    float_only(x, kernel="silu_cpu")
    return _inplace(x, x * x.sigmoid(), inplace)


def mish(input, inplace=False):  # noqa: A002
    x = _t(input)
    float_only(x, kernel="mish_cpu")
    return _inplace(x, x * _f.softplus(x).tanh(), inplace)


def hardsigmoid(input, inplace=False):  # noqa: A002
    """relu6(x + 3) / 6, with no gradient at x = -3 and x = 3 (PyTorch's)."""
    x = _t(input)
    float_only(x, kernel="hardsigmoid_cpu")
    return _inplace(x, _f.where(x <= -3, 0.0, _f.where(x >= 3, 1.0, x / 6 + 0.5)), inplace)


def hardswish(input, inplace=False):  # noqa: A002
    """x * relu6(x + 3) / 6; at the kinks PyTorch's slopes: 0 at x = -3, 1 at x = 3."""
    x = _t(input)
    float_only(x, kernel="hardswish_cpu")
    return _inplace(x, _f.where(x <= -3, 0.0, _f.where(x >= 3, x, x * (x + 3) / 6)), inplace)


def sigmoid(input):  # noqa: A002
    return _t(input).sigmoid()


def tanh(input):  # noqa: A002
    return _t(input).tanh()


def logsigmoid(input):  # noqa: A002
    float_only(input, kernel="log_sigmoid_cpu")
    return -_f.softplus(-_t(input))


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (slope 1 there)."""
    x = _t(input)
    float_only(x, kernel="softplus_cpu")
    bx = x * beta if beta != 1.0 else x
    soft = _f.softplus(bx) / beta if beta != 1.0 else _f.softplus(bx)
    return _f.where(bx > threshold, x, soft)


def softsign(input):  # noqa: A002
    x = _t(input)
    return x / (1 + x.abs())


def softshrink(input, lambd=0.5):  # noqa: A002
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    x = _t(input)
    return reads_its_inputs(_f.where(x > lambd, x - lambd, _f.where(x < -lambd, x + lambd, 0.0)))


def hardshrink(input, lambd=0.5):  # noqa: A002
    x = _t(input)
    return reads_its_inputs(_f.where((x > lambd) | (x < -lambd), x, 0.0))


def tanhshrink(input):  # noqa: A002
    x = _t(input)
    return x - x.tanh()


def threshold(input, threshold, value, inplace=False):  # noqa: A002
    """x where x > threshold, else value."""
    x = _t(input)
    return _inplace(x, _f.where(x > threshold, x, value), inplace)


def prelu(input, weight):  # noqa: A002
    """max(0, x) + weight * min(0, x); weight: one slope, or one per channel (dim 1)."""
    x, w = _t(input), _t(weight)
    if w.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {w.ndim}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.numel() != 1 and w.numel() != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter "
                           f"numbers = {w.numel()} and channel size = {channels}.")
    if w.numel() == 1:
        w = w.reshape(())
    else:
        w = w.reshape((channels,) + (1,) * (x.ndim - 2))
    return _f.where(x > 0, x, w * x)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):  # noqa: A002
    """Leaky ReLU with slope (lower + upper) / 2, or in training a slope drawn uniformly
    from [lower, upper] per element (srcgrad's generator)."""
    x = _t(input)
    if training:
        slope = _const(lower + (upper - lower) * _rand(x.shape), _float_dtype(x))
        y = _f.where(x >= 0, x, x * slope)  # (PyTorch draws for x <= 0; at 0 both give 0)
    else:
        y = _f.where(x > 0, x, x * ((lower + upper) / 2))
    return _inplace(x, y, inplace)


def glu(input, dim=-1):  # noqa: A002
    """a * sigmoid(b), where a and b are the halves of the input along dim."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % x.ndim
    if x.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {x.shape[d]}")
    h = x.shape[d] // 2
    return x.narrow(d, 0, h) * x.narrow(d, h, h).sigmoid()


# ---------------------------------------------------------------------------------------
# softmax & co
# ---------------------------------------------------------------------------------------
def _softmax_dim(name, ndim, dim):
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                  f"dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """dtype: the input is cast to it first (PyTorch's, to avoid overflow in half types)."""
    x = _t(input)
    return x.softmax(_softmax_dim("softmax", x.ndim, dim), dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    x = _t(input)
    return x.log_softmax(_softmax_dim("log_softmax", x.ndim, dim), dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    x = _t(input)
    return (-x).softmax(_softmax_dim("softmin", x.ndim, dim), dtype)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise) / tau); hard=True: the one-hot argmax in the forward
    pass, the soft sample's gradient (straight-through). eps is unused, as in PyTorch."""
    x = _t(logits)
    # -log(Exponential(1)) noise, the exponential drawn as -log(1 - U)
    gumbels = _const(-np.log(-np.log1p(-_rand(x.shape))), _float_dtype(x))
    y_soft = ((x + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    classes = np.arange(x.shape[dim]).reshape((-1,) + (1,) * (x.ndim - 1 - dim % x.ndim))  # along dim
    y_hard = (index == classes).to(y_soft.dtype)
    return y_hard - y_soft.detach() + y_soft


def _one_node(name):
    """The function's result is, in PyTorch, one node named `name` (recording.named), or
    name(args, kwargs) where the call decides it."""
    import functools

    def wrap(fn):
        @functools.wraps(fn)
        def one_node(*args, **kwargs):
            return _named(fn(*args, **kwargs), name(args, kwargs) if callable(name) else name,
                          inputs=list(args) + list(kwargs.values()))
        return one_node
    return wrap


def _nll_node(args, kwargs):
    """PyTorch 2.13's last node of nll_loss / cross_entropy: NllLoss(2D)Backward0 for class
    indices (a view of it for an unreduced N-d loss other than 4-d), the mixing Add with
    label smoothing, and the Div (mean) or Neg of the sum for class probabilities."""
    x, target = _t(args[0]), _t(args[1] if len(args) > 1 else kwargs["target"])
    reduction = kwargs.get("reduction", args[6] if len(args) > 6 else "mean")
    smoothing = kwargs.get("label_smoothing", args[7] if len(args) > 7 else 0.0)
    if target.dtype.kind == "f":
        return "DivBackward1" if reduction == "mean" else "NegBackward0"
    if smoothing:
        return "AddBackward0"
    if x.ndim >= 3:
        return "NllLoss2DBackward0" if reduction != "none" or x.ndim == 4 else "ViewBackward0"
    return "NllLossBackward0"


# ---------------------------------------------------------------------------------------
# linear, dropout, embeddings
# ---------------------------------------------------------------------------------------
def linear(input, weight, bias=None):  # noqa: A002
    """input @ weight.T + bias, of one dtype: PyTorch's addmm (with a bias) or matmul
    refuses mixed dtypes, with their messages."""
    if bias is not None:
        same_dtype("addmm self", bias, weight)
        same_dtype("addmm mat1", input, weight)
    elif isinstance(input, Tensor) and isinstance(weight, Tensor) and weight.ndim == 2:
        strict_matmul(input, weight.t())
    y = _f.matmul(input, _t(weight).t())
    if bias is None:
        return y
    y = y + bias
    return _named(y, "AddmmBackward0", inputs=(bias, input, weight)) if y.ndim == 2 else y  # (PyTorch's one node for a matrix)


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero each element with probability p (srcgrad's generator) and scale the rest by
    1 / (1 - p); the identity (the input itself) when not training or p = 0."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _t(input)
    if not training or p == 0.0:
        return x
    dtype = _float_dtype(x)
    keep = _rand(x.shape) >= p  # kept with probability 1 - p
    scale = _const(np.where(keep, 1.0 / (1.0 - p), 0.0) if p < 1.0 else np.zeros(x.shape), dtype)
    return _inplace(x, x * scale, inplace)


def one_hot(tensor, num_classes=-1):
    """(..., num_classes) int64 with a 1 at each class index."""
    t = _t(tensor)
    if t.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if t.numel() == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(t.max().item()) + 1
    if t.numel():
        if bool((t < 0).any()):
            raise RuntimeError("Class values must be non-negative.")
        if bool((t >= num_classes).any()):
            raise RuntimeError("Class values must be smaller than num_classes.")
    return (t.unsqueeze(-1) == np.arange(num_classes)).long()


@_one_node("EmbeddingBackward0")
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,  # noqa: A002
              sparse=False):
    """weight[input]; the row padding_idx gets no gradient. max_norm renormalizes the
    looked-up rows of weight in place (no gradient), as PyTorch. sparse only changes
    PyTorch's gradient layout: ignored here."""
    idx, w = _t(input), _t(weight)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {idx.dtype} instead (while checking arguments for "
                           f"embedding)")
    if scale_grad_by_freq:
        raise NotImplementedError("embedding: scale_grad_by_freq=True is not supported")
    n = w.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= n
    if idx.numel() and bool(((idx < 0) | (idx >= n)).any()):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(w, idx, max_norm, norm_type)
    rows = w[idx]
    if padding_idx is None:
        return rows
    return _f.where((idx != padding_idx).unsqueeze(-1), rows, rows.detach())


def _embedding_renorm_(w, idx, max_norm, norm_type):
    """Rows of w read by idx with a norm above max_norm scaled to max_norm (PyTorch's
    embedding_renorm_, 1e-7 included), in place and without recording."""
    with no_grad():
        rows = np.unique(idx.detach()._data)
        norms = _norm(w[rows], norm_type, 1, True)
        scale = _f.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        w[rows] = w[rows] * scale


# ---------------------------------------------------------------------------------------
# normalization
# ---------------------------------------------------------------------------------------
def _normalized(x, dims, eps):
    """(x - mean) / sqrt(biased var + eps) over dims."""
    d = x - x.mean(dims, keepdim=True)
    return d / ((d * d).mean(dims, keepdim=True) + eps).sqrt()


def _channel_view(v, ndim):
    """A per-channel (dim 1) vector shaped to broadcast against an ndim input."""
    v = _t(v)
    return v.reshape((v.shape[0],) + (1,) * (ndim - 2)) if ndim > 2 else v


@_one_node("NativeLayerNormBackward0")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    x = _t(input)
    mixed = _norm_parameters(x, weight, bias, "LayerNormKernelImpl")
    if mixed:  # (half input, float32 parameters: computed in float32, as PyTorch)
        return layer_norm(x.float(), normalized_shape, weight, bias, eps).to(x.dtype)
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(s) for s in normalized_shape)
    if not shape or len(shape) > x.ndim or x.shape[x.ndim - len(shape):] != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(x.shape)}")
    y = _normalized(x, tuple(range(x.ndim - len(shape), x.ndim)), eps)
    if weight is not None:
        y = y * weight
    return y if bias is None else y + bias


def _norm_parameters(x, weight, bias, kernel):
    """PyTorch's dtype rules of layer_norm and group_norm on CPU: parameters of the input's
    dtype, or float32 ones with a half-precision input (its "mixed dtype": returns True); the
    kernels take floating-point input."""
    if not torch_dtype_rules():
        return False
    params = [p for p in (weight, bias) if isinstance(p, Tensor)]
    if params and params[0].dtype != x.dtype:  # (the first parameter decides, as PyTorch)
        if any(p.dtype != np.float32 for p in params):
            raise dtype_error("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if x.dtype != np.float16:
            raise dtype_error("mixed dtype (CPU): all inputs must share same datatype.")
        return True
    float_only(x, kernel=kernel, complex_ok=False)
    for p in params[1:]:
        same_dtype("bmm", x, p)
    return False


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalize over each group of num_groups channels (and the spatial dims)."""
    x = _t(input)
    if _norm_parameters(x, weight, bias, "GroupNormKernelImpl"):
        return group_norm(x.float(), num_groups, weight, bias, eps).to(x.dtype)
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got "
                           f"input of shape {list(x.shape)} and num_groups={num_groups}")
    y = _normalized(x.reshape((x.shape[0], num_groups, -1)), 2, eps).reshape(x.shape)
    if weight is not None:
        y = y * _channel_view(weight, x.ndim)
    return y if bias is None else y + _channel_view(bias, x.ndim)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,  # noqa: A002
               eps=1e-5):
    """Normalize each channel (dim 1). Training: by the batch's statistics, and the running
    ones (if given) updated in place: (1 - momentum) * running + momentum * batch, the
    variance unbiased there. Evaluation: by the running statistics."""
    x = _t(input)
    float_only(x, kernel="batch_norm", complex_ok=False)
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        count = int(np.prod([x.shape[a] for a in axes]))
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")
        mean = x.mean(axes, keepdim=True)
        d = x - mean
        var = (d * d).mean(axes, keepdim=True)
        y = d / (var + eps).sqrt()
        with no_grad():
            if running_mean is not None:
                running_mean.copy_((1 - momentum) * running_mean + momentum * mean.reshape(-1))
            if running_var is not None:
                running_var.copy_((1 - momentum) * running_var
                                  + momentum * count / (count - 1) * var.reshape(-1))
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be defined in "
                               f"evaluation mode")
        y = (x - _channel_view(running_mean, x.ndim)) / (_channel_view(running_var, x.ndim) + eps).sqrt()
    if weight is not None:
        y = y * _channel_view(weight, x.ndim)
    return y if bias is None else y + _channel_view(bias, x.ndim)


def _norm(x, p, dim, keepdim):
    """The p-norm over dim. Tensor.norm handles 1, 2 and +-inf; any other order is
    (sum |x|**p)**(1/p) (srcgrad.linalg's), its gradient 0 where the norm is 0 and, for
    p < 1, at zero entries (PyTorch's masking of the infinite slopes there)."""
    float_only(x, "linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x}")
    if p in (1, 2, float("inf"), float("-inf")):
        return x.norm(p, dim, keepdim)
    from ..linalg import _p_norm, vector_norm
    return vector_norm(x, 0, dim, keepdim) if p == 0 else _p_norm(x, float(p), dim, keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):  # noqa: A002
    """x / max(||x||_p over dim, eps)."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    x = _t(input)
    return x / _norm(x, p, dim, True).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / ||x1|| * x2 / ||x2||) over dim, each norm at least eps. As PyTorch, the
    clamp to eps changes the value only: the gradient flows through the norm as if unclamped."""
    a, b = _promote([_t(x1), _t(x2)], float_result=True)  # (integers: the default float dtype)
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)

    def norm(v):
        n = v.norm(2, dim, keepdim=True)
        return n + (n.clamp(min=eps) - n).detach()
    return ((a / norm(a)) * (b / norm(b))).sum(dim)


def pdist(input, p=2):  # noqa: A002
    """The p-norm distances between the rows of a 2-D input, for each pair i < j in row order
    (the upper triangle of cdist(input, input), flattened). A zero distance has a zero
    gradient, as PyTorch's."""
    x = _t(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    float_only(x, "pdist only supports floating-point dtypes", complex_ok=False)
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    rows, cols = np.triu_indices(x.shape[0], 1)
    d = x[rows] - x[cols]
    if p == 0:  # (the count of differing entries: no gradient)
        return (d != 0).sum(-1).to(x.dtype)
    if p == float("inf"):  # (PyTorch's gradient: the sign at every entry attaining the maximum)
        a = d.abs()
        m = a.amax(-1)
        hit = (a == m.detach().unsqueeze(-1)).to(x.dtype)
        picked = (a * hit).sum(-1)
        return _named(m.detach() + (picked - picked.detach()), "PdistBackward0", inputs=(x,))
    return _named(_norm(d, p, -1, False), "PdistBackward0", inputs=(x,))


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    return _norm(_t(x1) - x2 + eps, p, -1, keepdim)


# ---------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------
def _loss_kernel(x, target, kernel):
    """The dtype PyTorch's pointwise loss computes in (the operands' promoted one), which its
    kernel takes floating only."""
    dtype = _dtype.torch_result_type([x._data, _t(target)._data])
    if dtype.kind not in "fc" and torch_dtype_rules():
        raise kernel_error(kernel, dtype)
    return dtype


@_one_node("MseLossBackward0")
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    x = _t(input)
    _loss_kernel(x, target, "mse_cpu")
    _warn_target_size(x, target)
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    return _weighted_reduce((x - target) ** 2, weight, x, reduction, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    x = _t(input)
    _warn_target_size(x, target)
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    return _weighted_reduce((x - target).abs(), weight, x, reduction, True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):  # noqa: A002
    """0.5 d**2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = input - target)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x = _t(input)
    _loss_kernel(x, target, "smooth_l1_cpu")
    _warn_target_size(x, target)
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    d = x - target
    if beta == 0:
        return _reduce(d.abs(), reduction)
    return _reduce(_f.where(d.abs() < beta, 0.5 * d * d / beta, d.abs() - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """0.5 d**2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x = _t(input)
    result = _loss_kernel(x, target, "huber_cpu")
    if x.dtype.kind in "biu" and result.kind == "f" and torch_dtype_rules():  # (computed into the input)
        raise dtype_error(f"result type {dtype_name(result)} can't be cast to the desired output type "
                          f"{dtype_name(x.dtype)}")
    _warn_target_size(x, target)
    _check_reduction(reduction)
    d = x - target
    loss = _f.where(d.abs() < delta, 0.5 * d * d, delta * (d.abs() - 0.5 * delta))
    return _weighted_reduce(_in_dtype_of(loss, x), weight, x, reduction, False)


def _in_dtype_of(loss, like):
    """The loss in `like`'s dtype: PyTorch's huber, soft margin and hinge embedding losses
    compute into the input's dtype, BCE with logits into the target's (float32 input with
    a float64 target: a float32 loss), where other losses promote."""
    like = _t(like)
    return loss if loss.dtype == like.dtype or like.dtype.kind != "f" else loss.to(like.dtype)


@_one_node("BinaryCrossEntropyBackward0")
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """-w (t log x + (1 - t) log(1 - x)), each log clamped to >= -100 (PyTorch's). The
    target has the input's dtype, and the loss is in it (a weight is cast to it)."""
    x = _t(input)
    same_dtype("binary_cross_entropy", x, target)
    float_only(x, kernel="binary_cross_entropy", complex_ok=False)
    if isinstance(weight, Tensor) and weight.dtype != x.dtype:
        weight = weight.to(x.dtype)
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if tuple(np.shape(target)) != tuple(x.shape):
        raise ValueError(f"Using a target size ({tuple(np.shape(target))}) that is different to the input "
                         f"size ({x.shape}) is deprecated. Please ensure they have the same size.")
    if x.numel() and bool(((x < 0) | (x > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
        log_x = x.log().clamp(min=-100)
        log_1mx = _f.log1p(-x).clamp(min=-100)
    loss = (target - 1) * log_1mx - target * log_x
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@_one_node("BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                     reduction="mean", pos_weight=None):
    """(1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), times weight: the stable form of
    -w (pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x)))."""
    x = _t(input)
    float_only(x, kernel="log_sigmoid_cpu", complex_ok=False)
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if tuple(np.shape(target)) != tuple(x.shape):
        raise ValueError(f"Target size ({tuple(np.shape(target))}) must be the same as input size "
                         f"({x.shape})")
    if pos_weight is None:
        loss = (1 - target) * x + _f.softplus(-x)
    else:
        loss = (1 - target) * x + ((_t(pos_weight) - 1) * target + 1) * _f.softplus(-x)
    if weight is not None:
        loss = loss * weight
    return _reduce(_in_dtype_of(loss, target), reduction)


def _class_first(x, target, name):
    """(C,) input with a 0-d target (unbatched) as a batch of one; returns whether it was."""
    if x.ndim == 1:
        return x.unsqueeze(0), target.unsqueeze(0), True
    if x.ndim == 0:
        raise ValueError(f"{name}: expected an input of at least 1 dimension, got a 0-d one")
    return x, target, False


def _check_index_target(x, tgt):
    if tgt.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {tgt.dtype}")
    if tgt.shape[:1] != x.shape[:1]:
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
                         f"({tgt.shape[0] if tgt.ndim else 1}).")
    if tgt.shape[1:] != x.shape[2:]:
        raise RuntimeError(f"expected target size {[x.shape[0], *x.shape[2:]]}, got {list(tgt.shape)}")


def _picked(x, tgt, weight, ignore_index):
    """Per-target weights w (0 at ignored targets) and -w * x[n, target, ...], the
    ignored targets exactly 0 (no gradient either)."""
    keep = tgt != ignore_index
    safe = _f.where(keep, tgt, 0)  # an index that exists, at the ignored places
    if tgt.numel() and bool(((safe < 0) | (safe >= x.shape[1])).any()):
        bad = tgt._data[(safe._data < 0) | (safe._data >= x.shape[1])].flat[0]
        raise IndexError(f"Target {bad} is out of bounds.")
    picked = _f.gather(x, 1, safe.unsqueeze(1)).squeeze(1)
    if weight is None:
        return _f.where(keep, -picked, 0.0), keep.to(x.dtype)
    w = _t(weight)[safe]
    return _f.where(keep, -picked * w, 0.0), _f.where(keep, w, 0.0)


@_one_node(_nll_node)
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
             reduction="mean"):
    """-weight[t] * input[n, t, d1, ...] for input (N, C, d1, ...) and target (N, d1, ...)
    (or (C,) and ()). Targets equal to ignore_index contribute 0; 'mean' divides by the
    sum of the weights of the other targets."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    x, tgt, unbatched = _class_first(_t(input), _t(target), "nll_loss")
    _check_index_target(x, tgt)
    loss, w = _picked(x, tgt, weight, ignore_index)
    loss = reads_its_inputs(loss)  # (PyTorch's node takes the input: create_graph keeps it)
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore", divide="ignore"):  # every target ignored: NaN, as PyTorch
        return loss.sum() / w.sum()


@_one_node(_nll_node)
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
                  reduction="mean", label_smoothing=0.0):
    """Log-softmax over the class dim (1, or 0 for an unbatched (C,) input), then the
    negative log-likelihood of class indices (integer target, as nll_loss) or of class
    probabilities (float target of the input's shape). label_smoothing mixes the target
    with the uniform distribution over the classes."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    x, tgt, unbatched = _class_first(_t(input), _t(target), "cross_entropy")
    logp = x.log_softmax(1)
    n_classes = x.shape[1]
    wview = None if weight is None else _t(weight).reshape((n_classes,) + (1,) * (x.ndim - 2))
    if tgt.dtype.kind == "f":  # class probabilities
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if tgt.shape != x.shape:
            raise RuntimeError(f"Expected target of shape {list(x.shape)} (probabilities), got "
                               f"{list(tgt.shape)}")
        if label_smoothing > 0:
            tgt = tgt * (1 - label_smoothing) + label_smoothing / n_classes
        terms = logp * tgt if wview is None else logp * tgt * wview
        if reduction == "none":
            loss = -terms.sum(1)
            return loss.squeeze(0) if unbatched else loss
        if reduction == "sum":
            return -terms.sum()
        return -terms.sum() / (x.numel() // n_classes)
    _check_index_target(x, tgt)
    loss, w = _picked(logp, tgt, weight, ignore_index)
    if label_smoothing > 0:
        # PyTorch's: (1 - ls) * nll + ls / C * (-sum_c weight_c logp_c), ignored targets 0
        smooth = _f.where(tgt != ignore_index, -(logp if wview is None else logp * wview).sum(1), 0.0)
        loss = (1 - label_smoothing) * loss + (label_smoothing / n_classes) * smooth
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return loss.sum() / w.sum()


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):  # noqa: A002
    """target * (log target - input) pointwise (input: log-probabilities; 0 where target
    is 0); log_target: exp(target) * (target - input). 'batchmean' divides the sum by the
    batch size (input.size(0))."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, ("mean", "sum", "none", "batchmean"))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    x, t = _t(input), _t(target)
    if torch_dtype_rules() and (x.dtype.kind in "biu" or t.dtype.kind in "biu"):
        raise dtype_error("kl_div: Integral inputs not supported.")
    if log_target:
        loss = t.exp() * (t - x)
    else:
        zero = t == 0
        # xlogy(t, t): 0 at t = 0; the inner where keeps log(0) out of the taken branch
        with np.errstate(invalid="ignore"):  # (a negative target: NaN, silently as PyTorch)
            loss = _f.where(zero, 0.0, t * _f.where(zero, 1.0, t).log()) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0] if x.ndim else loss.sum()
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,  # noqa: A002
                     reduction="mean"):
    """exp(input) - target * input (log_input), or input - target * log(input + eps);
    full adds Stirling's term target log target - target + log(2 pi target) / 2 where target > 1."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    x, t = _t(input), _t(target)
    loss = x.exp() - t * x if log_input else x - t * (x + eps).log()
    if full:
        big = t > 1
        ts = _f.where(big, t, 2.0)  # keeps log(t <= 0) out of the branch not taken
        stirling = ts * ts.log() - ts + 0.5 * (2 * math.pi * ts).log()
        loss = loss + _f.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    a, b, y = _t(input1), _t(input2), _t(target)
    if not a.ndim == b.ndim == y.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got "
                           f"sizes: input1: {a.shape}, input2: {b.shape}, target: {y.shape} ")
    return _reduce((-y * (a - b) + margin).clamp(min=0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """log(1 + exp(-target * input))."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    return _reduce(_in_dtype_of(_f.softplus(-_t(target) * input), input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                reduction="mean"):
    """-(t log sigmoid(x) + (1 - t) log sigmoid(-x)), weighted per class, averaged over the
    classes (the last dim), then reduced over the samples."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    x, y = _t(input), _t(target)
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(-1) / x.shape[-1], reduction)


@_one_node("MultiMarginLossBackward0")
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,  # noqa: A002
                      reduction="mean"):
    """Per sample, sum over the classes j other than its target y of
    max(0, margin - x[y] + x[j]) ** p (times weight[y]), over the number of classes."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x, y = _t(input), _t(target)
    single = x.ndim == 1
    if single:
        x, y = x[None], y.reshape(1)
    picked = x.gather(1, y.reshape(-1, 1))
    m = (margin - picked + x).clamp(min=0)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * _t(weight)[y][:, None]
    own = y.reshape(-1, 1) == np.arange(x.shape[1])
    loss = _f.where(own, 0.0, m).sum(1) / x.shape[1]
    return _reduce(loss[0] if single and reduction == "none" else loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """input where target is 1, max(0, margin - input) where it is -1 (PyTorch's: an
    element whose target is neither gets both terms)."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    x, y = _t(input), _t(target)
    loss = _f.where(y != 1, (margin - x).clamp(min=0), 0.0) + _f.where(y != -1, x, 0.0)
    return _reduce(_in_dtype_of(loss, x), reduction)


# ---------------------------------------------------------------------------------------
# padding, convolution, pooling
# ---------------------------------------------------------------------------------------
_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """pad = (left, right) pairs from the last dim backwards. constant: value (default 0),
    negative widths crop; reflect / replicate / circular copy elements (PyTorch's limits:
    the last 1-3 dims of a 2-5 dim input, reflect widths < the size, circular <= it)."""
    x = _t(input)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > x.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but "
                           f"got padding length {len(pad)} and input of dimension {x.ndim}")
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    if mode == "constant":
        if any(lo < 0 or hi < 0 for lo, hi in widths):  # negative widths crop
            x = x[tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, x.shape))]
            widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        if not any(lo or hi for lo, hi in widths):
            return x.clone()
        return _snp().pad(x, widths, mode="constant", constant_values=0 if value is None else value)
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.")
    for d, ((lo, hi), n) in enumerate(zip(widths, x.shape)):
        if lo < 0 or hi < 0:
            raise NotImplementedError("pad: negative padding is only supported in constant mode")
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({lo}, {hi}) at dimension {d} of input {list(x.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    out = _snp().pad(x, widths, mode=_PAD_MODES[mode])
    return out if mode == "circular" else reads_its_inputs(out)  # (PyTorch's reflect/replicate backward reads x)


def _windows(x, kernel, stride, dilation, pads, out, fill):
    """The sliding windows of x (N, C, *spatial) as (N, C, K, *out), K the kernel offsets
    in C order: a gather of the padded input's flat positions (its gradient adds up over
    the windows that read each element). pads: (left, right) per spatial dim, the right
    extended to cover the last window."""
    spatial = x.shape[2:]
    widths = []
    for n, k, s, dil, (lo, hi), o in zip(spatial, kernel, stride, dilation, pads, out):
        need = (o - 1) * s + dil * (k - 1) + 1  # extent of the last window
        widths.append((lo, max(hi, need - n - lo)))
    if any(lo or hi for lo, hi in widths):
        x = _snp().pad(x, [(0, 0), (0, 0)] + widths, mode="constant", constant_values=fill)
    sizes = x.shape[2:]
    d = len(kernel)
    strides = np.cumprod((1,) + sizes[:0:-1])[::-1]  # the flat position's stride of each dim
    pos = 0
    for i in range(d):
        ks = [1] * (2 * d)
        ks[i] = kernel[i]
        os = [1] * (2 * d)
        os[d + i] = out[i]
        pos = pos + (np.arange(kernel[i]) * dilation[i]).reshape(ks) * strides[i] \
            + (np.arange(out[i]) * stride[i]).reshape(os) * strides[i]
    pos = np.asarray(pos, dtype=np.intp).reshape((-1,) + tuple(out))
    return x.reshape(x.shape[:2] + (-1,))[:, :, pos]


def _batched(x, d, name):
    """(C, *spatial) as a batch of one; returns whether it was unbatched."""
    if x.ndim == d + 1:
        return x.unsqueeze(0), True
    if x.ndim != d + 2:
        raise RuntimeError(f"{name}: Expected {d + 1}D (unbatched) or {d + 2}D (batched) input, but got "
                           f"input of size: {list(x.shape)}")
    return x, False


def _conv(input, weight, bias, stride, padding, dilation, groups, d, name):  # noqa: A002
    """Convolution (cross-correlation, as PyTorch) over d spatial dims: the im2col windows
    times the weight as one batched matmul per group."""
    x, unbatched = _batched(_t(input), d, name)
    w = _t(weight)
    same_dtype("conv bias", x, bias)  # (PyTorch's order)
    same_dtype("bmm", x, w)
    if w.ndim != d + 2:
        raise RuntimeError(f"{name}: expected a {d + 2}D weight, got shape {list(w.shape)}")
    out_ch, cin_g = w.shape[:2]
    kernel = w.shape[2:]
    stride, dilation = _ntuple(stride, d, "stride"), _ntuple(dilation, d, "dilation")
    if groups < 1 or x.shape[1] != cin_g * groups or out_ch % groups:
        raise RuntimeError(f"{name}: expected input with {cin_g * groups} channels ({groups} groups of "
                           f"{cin_g}) and out_channels divisible by groups, got input of size "
                           f"{list(x.shape)} and weight of size {list(w.shape)}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * d
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = [dl * (k - 1) for dl, k in zip(dilation, kernel)]
            pads = [(t // 2, t - t // 2) for t in total]  # PyTorch puts the odd one on the right
        else:
            raise ValueError(f"Invalid padding string {padding!r}, should be one of ['valid', 'same']")
    else:
        pads = [(p, p) for p in _ntuple(padding, d, "padding")]
    out = tuple((n + lo + hi - dl * (k - 1) - 1) // s + 1
                for n, (lo, hi), dl, k, s in zip(x.shape[2:], pads, dilation, kernel, stride))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"{name}: Kernel size can't be greater than actual input size (input "
                           f"{list(x.shape)}, weight {list(w.shape)})")
    cols = _windows(x, kernel, stride, dilation, pads, out, 0)  # (N, C, K, *out)
    n, k, length = x.shape[0], int(np.prod(kernel)), int(np.prod(out))
    cols = cols.reshape((n, groups, cin_g * k, length))
    y = w.reshape((groups, out_ch // groups, cin_g * k)) @ cols  # (N, G, O/G, L)
    y = y.reshape((n, out_ch) + out)
    if bias is not None:
        y = y + _t(bias).reshape((out_ch,) + (1,) * d)
    return y.squeeze(0) if unbatched else y


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, d, name):  # noqa: A002
    """The transposed convolution (the gradient of a convolution in its input): the input
    spread `stride` apart, padded by the kernel's reach, convolved with the weight flipped
    and with its two channel dims swapped (per group), then `padding` cropped off each side
    (output_padding added on the right)."""
    x, unbatched = _batched(_t(input), d, name)
    w = _t(weight)
    same_dtype("bmm", x, w)
    if w.ndim != d + 2 or x.shape[1] != w.shape[0] or groups < 1 or w.shape[0] % groups:
        raise RuntimeError(f"{name}: expected a weight of shape (in_channels, out_channels / groups, *kernel) "
                           f"with in_channels = {x.shape[1]} divisible by groups = {groups}, got weight of size "
                           f"{list(w.shape)}")
    cin, cout_g, kernel = w.shape[0], w.shape[1], tuple(w.shape[2:])
    stride, padding = _ntuple(stride, d, "stride"), _ntuple(padding, d, "padding")
    output_padding, dilation = _ntuple(output_padding, d, "output_padding"), _ntuple(dilation, d, "dilation")
    if any(op >= max(s, dl) for op, s, dl in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{name}: output padding must be smaller than either stride or dilation, got "
                           f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    n, spatial = x.shape[0], tuple(x.shape[2:])
    if any(s > 1 for s in stride):
        from ..creation import zeros
        spread = zeros((n, cin) + tuple((m - 1) * s + 1 for m, s in zip(spatial, stride)), dtype=x.dtype)
        spread[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = x
        x = spread
    pads = []
    for op in reversed(output_padding):  # (F.pad's order: the last dim first)
        pads += [0, op]
    if any(pads):
        x = pad(x, pads)
    wt = w.reshape((groups, cin // groups, cout_g) + kernel).transpose(1, 2)
    wt = wt.reshape((groups * cout_g, cin // groups) + kernel).flip(tuple(range(2, d + 2)))
    y = _conv(x, wt, None, 1, tuple(dl * (k - 1) for dl, k in zip(dilation, kernel)), dilation, groups, d, name)
    if any(padding):
        y = y[(slice(None), slice(None)) + tuple(slice(p, y.shape[2 + i] - p) for i, p in enumerate(padding))]
    if bias is not None:
        y = y + _t(bias).reshape((groups * cout_g,) + (1,) * d)
    return y.squeeze(0) if unbatched else y


@_one_node(lambda args, kwargs: "SqueezeBackward1" if _t(args[0]).ndim == 2 else "ConvolutionBackward0")
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "conv_transpose1d")


@_one_node(lambda args, kwargs: "SqueezeBackward1" if _t(args[0]).ndim == 3 else "ConvolutionBackward0")
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "conv_transpose2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _pool_shape(x, kernel_size, stride, padding, dilation, ceil_mode, d, name):
    kernel = _ntuple(kernel_size, d, "kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        _ntuple(stride, d, "stride")
    padding, dilation = _ntuple(padding, d, "padding"), _ntuple(dilation, d, "dilation")
    for p, k, dl in zip(padding, kernel, dilation):
        if p > (dl * (k - 1) + 1) // 2:
            raise RuntimeError(f"{name}: pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={dl}")
    out = []
    for n, k, s, p, dl in zip(x.shape[2:], kernel, stride, padding, dilation):
        span = n + 2 * p - dl * (k - 1) - 1
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:  # the last window must start inside the input
            o -= 1
        if o <= 0:
            raise RuntimeError(f"{name}: Output size is too small (input {list(x.shape)})")
        out.append(o)
    return kernel, stride, padding, dilation, tuple(out)


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, d, name):  # noqa: A002
    """The largest entry of each window; its gradient goes to the first largest, as
    PyTorch's. return_indices: their flat positions in each (unpadded) input plane."""
    x, unbatched = _batched(_t(input), d, name)
    kernel, stride, padding, dilation, out = _pool_shape(x, kernel_size, stride, padding, dilation,
                                                         ceil_mode, d, name)
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    cols = _windows(x, kernel, stride, dilation, [(p, p) for p in padding], out, fill)
    values, arg = _f.max(cols, 2)  # (PyTorch's (values, indices) in numpy code too, unlike Tensor.max)
    if return_indices:
        # the flat input position each window offset reads (-1: padding, which never wins)
        plane = _f._t(np.arange(int(np.prod(x.shape[2:]))).reshape((1, 1) + x.shape[2:]))
        positions = _windows(plane, kernel, stride, dilation, [(p, p) for p in padding], out, -1)
        index = _f.gather(positions.broadcast_to(cols.shape), 2, arg.unsqueeze(2)).squeeze(2)
        return (values.squeeze(0), index.squeeze(0)) if unbatched else (values, index)
    return reads_its_inputs(values.squeeze(0) if unbatched else values)  # (PyTorch's backward reads x)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, d, name):  # noqa: A002
    """The sum of each (zero-padded) window over PyTorch's divisor: the window's size
    clipped to the padded input (count_include_pad), or its count of input elements."""
    x, unbatched = _batched(_t(input), d, name)
    kernel, stride, padding, dilation, out = _pool_shape(x, kernel_size, stride, padding, 1, ceil_mode, d, name)
    cols = _windows(x, kernel, stride, dilation, [(p, p) for p in padding], out, 0)
    if divisor_override:
        divisor = np.asarray(float(divisor_override))
    else:
        divisor = np.ones(out)
        for i, (n, k, s, p, o) in enumerate(zip(x.shape[2:], kernel, stride, padding, out)):
            start = np.arange(o) * s - p
            end = np.minimum(start + k, n + p)
            size = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
            divisor = divisor * size.reshape([-1 if j == i else 1 for j in range(d)])
    y = reads_its_inputs(cols.sum(2)) / _const(divisor, _float_dtype(x))  # (PyTorch's backward reads x)
    return y.squeeze(0) if unbatched else y


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):  # noqa: A002
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels) ** beta, the window
    zero-padded by size // 2 channels before and (size - 1) // 2 after (PyTorch's)."""
    x = _t(input)
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
    if x.numel() == 0:
        return x
    widths = [0, 0] * (x.ndim - 2) + [size // 2, (size - 1) // 2]
    div = pad(x * x, widths).unfold(1, size, 1).mean(-1)
    return x / (div * alpha + k) ** beta


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """(sum of x ** p over each window) ** (1 / p): PyTorch's, an average pool of x ** p
    times the window's size."""
    out = avg_pool1d(_t(input) ** norm_type, kernel_size, stride, 0, ceil_mode)
    return (_f.sign(out) * relu(out.abs())).mul(kernel_size).pow(1.0 / norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    out = avg_pool2d(_t(input) ** norm_type, kernel_size, stride, 0, ceil_mode)
    return (_f.sign(out) * relu(out.abs())).mul(kh * kw).pow(1.0 / norm_type)


@_one_node("PixelShuffleBackward0")
def pixel_shuffle(input, upscale_factor):  # noqa: A002
    """(*, C r^2, H, W) -> (*, C, H r, W r): each channel group's r x r values spread
    over a block of pixels."""
    x, r = _t(input), int(upscale_factor)
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    n = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


@_one_node("PixelUnshuffleBackward0")
def pixel_unshuffle(input, downscale_factor):  # noqa: A002
    """The inverse of pixel_shuffle: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    x, r = _t(input), int(downscale_factor)
    *lead, c, h, w = x.shape
    n = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


def bilinear(input1, input2, weight, bias=None):
    """x1^T W_o x2 (+ b_o) for each output feature o, over the leading dims."""
    y = np.einsum("...i,oij,...j->...o", _t(input1), _t(weight), _t(input2))
    return y if bias is None else y + bias


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # noqa: A002
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                     "avg_pool2d")


# ---------------------------------------------------------------------------------------
# attention
# ---------------------------------------------------------------------------------------
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """softmax(q k^T * scale + mask) v. attn_mask: boolean (True takes part) or added to
    the scores; is_causal: the lower-triangular (top-left aligned) mask. dropout_p > 0
    drops attention weights with srcgrad's generator."""
    q, k, v = _t(query), _t(key), _t(value)
    if enable_gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        k = k.repeat_interleave(q.shape[-3] // k.shape[-3], -3)
        v = v.repeat_interleave(q.shape[-3] // v.shape[-3], -3)
    s = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * s
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
        scores = _f.where(np.tril(np.ones((q.shape[-2], k.shape[-2]), bool)), scores, -np.inf)
    if attn_mask is not None:
        m = _t(attn_mask)
        scores = _f.where(m, scores, -np.inf) if m.dtype == np.bool_ else scores + m
    weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ v


# ---------------------------------------------------------------------------------------
# adaptive pooling, instance norm, more losses, interpolation, im2col / col2im
# ---------------------------------------------------------------------------------------
def _output_sizes(output_size, sizes, name):
    """PyTorch's adaptive output_size: an int for every spatial dim, or one per dim where
    None keeps the input's size."""
    d = len(sizes)
    if isinstance(output_size, (int, np.integer)):
        out = (int(output_size),) * d
    else:
        out = tuple(output_size)
        if len(out) != d:
            raise RuntimeError(f"{name}: output_size must be {d}")
        out = tuple(n if o is None else int(o) for o, n in zip(out, sizes))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{', '.join(map(str, out))}}}")
    return out


def _bins(n, out):
    """PyTorch's adaptive pooling windows of n entries into out: [floor(i n / out),
    ceil((i + 1) n / out)) for each output i."""
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def _along(x, axis, matrix):
    """x's dimension `axis` mapped by the (out, in) constant matrix: a matrix product."""
    m = _const(matrix, x.dtype)
    if axis == x.ndim - 1:
        return x @ m.t()
    return (x.movedim(axis, -1) @ m.t()).movedim(-1, axis)


def _adaptive_input(x, d, name):
    if x.ndim not in (d + 1, d + 2):
        if d == 1:
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {x.ndim}-dimensional tensor for argument #1 "
                               f"'self' (while checking arguments for {name})")
        colon = ":" if "max" in name else ""  # (PyTorch's two messages differ so)
        raise RuntimeError(f"{name}(): Expected {d + 1}D or {d + 2}D tensor, but got{colon} {list(x.shape)}")
    float_only(x, kernel=name[:-2] + "2d" if d == 1 else name, complex_ok=False)  # (1-d: PyTorch's 2-d kernel)


def _adaptive_avg(input, output_size, d, name):  # noqa: A002
    """The mean of each adaptive window: per spatial dim a constant (out, in) matrix of
    1 / window length (a window is a product of intervals), so the gradient is its transpose."""
    x = _t(input)
    _adaptive_input(x, d, name)
    out = _output_sizes(output_size, x.shape[-d:], name)
    y = x
    for k, (n, o) in enumerate(zip(x.shape[-d:], out)):
        start, end = _bins(n, o)
        m = np.zeros((o, n))
        for i, (s, e) in enumerate(zip(start, end)):
            m[i, s:e] = 1.0 / (e - s)
        y = _along(y, x.ndim - d + k, m)
    return y


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):  # noqa: A002
    return _adaptive_avg(input, output_size, 3, "adaptive_avg_pool3d")


def _adaptive_max(input, output_size, return_indices, d, name):  # noqa: A002
    """The largest entry of each adaptive window (the gradient to the first largest, as
    PyTorch's); indices: flat positions in each input plane. Windows of unequal lengths
    are gathered padded with their first entry, repeated at the end (never first)."""
    x = _t(input)
    _adaptive_input(x, d, name)
    sizes = x.shape[-d:]
    out = _output_sizes(output_size, sizes, name)
    per_dim = []
    for n, o in zip(sizes, out):
        start, end = _bins(n, o)
        per_dim.append([np.arange(s, e) for s, e in zip(start, end)])
    strides = np.cumprod((1,) + sizes[:0:-1])[::-1]
    windows = []
    for cell in np.ndindex(*out):
        pos = 0
        for k, i in enumerate(cell):  # (row-major within the window, as PyTorch scans it)
            pos = np.add.outer(pos * 1, per_dim[k][i] * strides[k]) if k else per_dim[k][i] * strides[k]
        windows.append(np.asarray(pos).reshape(-1))
    width = max([len(w) for w in windows] + [1])
    index = np.zeros((len(windows), width), dtype=np.intp)
    for j, w in enumerate(windows):
        index[j] = np.concatenate([w, np.full(width - len(w), w[0] if len(w) else 0)])
    flat = x.reshape(x.shape[:x.ndim - d] + (-1,))
    values, arg = _f.max(flat[..., index], -1)
    values = values.reshape(x.shape[:x.ndim - d] + out)
    if not return_indices:
        return values
    # (the winner's flat position: an op on the recorded argmax, recomputed when compiled)
    positions = _f.gather(_f._t(index).expand(*arg.shape, width), -1, arg.unsqueeze(-1)).squeeze(-1)
    return values, positions.long().reshape(values.shape)


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):  # noqa: A002
    return _adaptive_max(input, output_size, return_indices, 3, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):  # noqa: A002
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):  # noqa: A002
    return adaptive_max_pool2d(input, output_size, True)


@_one_node("ViewBackward0")
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,  # noqa: A002
                  momentum=0.1, eps=1e-5):
    """Normalize each (sample, channel) over its spatial dims. use_input_stats: by their own
    statistics, and running ones (if given) updated in place with the mean over the batch
    of each instance's mean and unbiased variance (PyTorch's); otherwise by the running
    statistics. weight and bias per channel."""
    x = _t(input)
    if use_input_stats and int(np.prod(x.shape[2:])) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {x.shape}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    float_only(x, kernel="batch_norm", complex_ok=False)
    spatial = tuple(range(2, x.ndim))
    if use_input_stats:
        mean = x.mean(spatial, keepdim=True)
        dev = x - mean
        var = (dev * dev).mean(spatial, keepdim=True)
        y = dev / (var + eps).sqrt()
        count = int(np.prod(x.shape[2:]))
        with no_grad():
            if running_mean is not None:
                running_mean.copy_((1 - momentum) * running_mean + momentum * mean.reshape(x.shape[:2]).mean(0))
            if running_var is not None:
                unbiased = var.reshape(x.shape[:2]) * (count / (count - 1))
                running_var.copy_((1 - momentum) * running_var + momentum * unbiased.mean(0))
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        y = (x - _channel_view(running_mean, x.ndim)) / (_channel_view(running_var, x.ndim) + eps).sqrt()
    if weight is not None:
        y = y * _channel_view(weight, x.ndim)
    return y if bias is None else y + _channel_view(bias, x.ndim)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):  # noqa: A002
    """0.5 (log var + (input - target)^2 / var) (+ 0.5 log(2 pi) with full). var: one per
    entry, or one fewer dimension / one broadcast dimension (homoscedastic). var is clamped
    to >= eps without a gradient (PyTorch clamps under no_grad): the gradient is taken at
    the clamped value, as if unclamped."""
    x = _t(input)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _f._t(np.ones(x.shape, x.dtype))
    else:
        var = _t(var)
        if bool((var < 0).any()):
            raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(x.shape):
        if tuple(x.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (x.ndim == var.ndim and sum(b for a, b in zip(x.shape, var.shape) if a != b) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clamp(min=eps).detach() + (var - var.detach())  # (the clamped value, the identity's gradient)
    loss = 0.5 * (var.log() + (x - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(margin + d(a, p) - d(a, n), 0), d the pairwise p-distance (with eps); swap: d(a, n)
    is the smaller of d(a, n) and d(p, n)."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pos, neg = _t(anchor), _t(positive), _t(negative)
    if not a.ndim == pos.ndim == neg.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a.ndim}D, positive {pos.ndim}D, and negative {neg.ndim}D "
                           f"inputs")
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = _f.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    loss = _named((margin + d_pos - d_neg).clamp(min=0), "ClampMinBackward0")
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1 (0
    elsewhere), cos over the last dim with 1e-12 added to each squared norm (PyTorch's)."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    a, b, y = _t(input1), _t(input2), _t(target)
    if y.ndim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if y.ndim == 1 and not (a.ndim == 2 and b.ndim == 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(a.shape)} and {list(b.shape)}.")
    if y.ndim == 0 and not (a.ndim == 1 and b.ndim == 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(a.shape)} and {list(b.shape)}.")
    dim = y.ndim
    prod = (a * b).sum(dim)
    mag1 = (a * a).sum(dim) + 1e-12
    mag2 = (b * b).sum(dim) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    loss = _f.where(y == 1, 1 - cos, 0.0) + _f.where(y == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


# -- interpolate ---------------------------------------------------------------------------
_INTERP_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_INTERP_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_INTERP_NODE = {"nearest": "UpsampleNearest{d}DBackward0", "nearest-exact": "UpsampleNearestExact{d}DBackward0",
                "linear": "UpsampleLinear1DBackward0", "bilinear": "UpsampleBilinear2DBackward0",
                "bicubic": "UpsampleBicubic2DBackward0", "trilinear": "UpsampleTrilinear3DBackward0"}


def _scale_value(scale, n, out):
    """PyTorch's compute_scales_value: 1 / scale_factor if one was given, else in / out."""
    return 1.0 / scale if scale is not None and scale > 0 else n / out


def _nearest_taps(n, out, scale, exact, dtype):
    """The input entry each output entry copies (PyTorch's nearest_idx, its float scale)."""
    s = dtype.type(_scale_value(scale, n, out))
    i = np.arange(out, dtype=dtype) + (dtype.type(0.5) if exact else 0)
    src = np.floor((i * s).astype(np.float32)).astype(np.intp)
    return [np.minimum(src, n - 1)], None


def _linear_taps(n, out, scale, align_corners, dtype, cubic=False):
    """The input entries each output entry mixes and their weights (PyTorch's
    area_pixel_compute_source_index and guard_index_and_lambda; for cubic, the four
    taps of its convolution kernel with A = -0.75, clamped to the edges)."""
    if align_corners:
        s = (n - 1) / (out - 1) if out > 1 else 0.0
    else:
        s = _scale_value(scale, n, out)
    i = np.arange(out, dtype=np.float64)
    real = s * i if align_corners else s * (i + 0.5) - 0.5
    if not cubic and not align_corners:
        real = np.maximum(real, 0.0)
    if not cubic and n == out:
        return [np.arange(out), np.arange(out)], [np.ones(out), np.zeros(out)]
    i0 = np.minimum(np.floor(real).astype(np.intp), n - 1)
    t = np.clip(real - i0, 0.0, 1.0)
    if not cubic:
        return [i0, i0 + (i0 < n - 1)], [1.0 - t, t]
    a = -0.75

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    weights = [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]
    return [np.clip(i0 - 1 + j, 0, n - 1) for j in range(4)], weights


def _interp_axis(x, axis, taps, weights):
    """x's dimension `axis` resampled: sum_j x[..., taps[j], ...] * weights[j] (a gather per
    tap: the gradient adds each output's weight back at its taps)."""
    lead = (slice(None),) * axis
    tail = (1,) * (x.ndim - axis - 1)
    if weights is None:
        return x[lead + (taps[0],)]
    y = None
    for idx, w in zip(taps, weights):
        term = x[lead + (idx,)] * _const(np.asarray(w).reshape((-1,) + tail), x.dtype)
        y = term if y is None else y + term
    return y


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,  # noqa: A002
                recompute_scale_factor=None, antialias=False):
    """Resample the spatial dims (all but the first two) of a 3-D, 4-D or 5-D input: modes
    nearest, nearest-exact, linear (3-D), bilinear and bicubic (4-D), trilinear (5-D) and
    area (adaptive average pooling), to `size` or by `scale_factor` (the output size
    floor(n * scale), the scale used as given unless recompute_scale_factor). Each mode is
    linear in the input: a gather (nearest) or a weighted sum of gathers per dim, whose
    gradient is PyTorch's (the transposed weights). antialias is not supported."""
    x = _t(input)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    d = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    scales = None
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != d:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(x.shape[2:])} and output size of {size}. Please "
                                 f"provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, "
                                 f"...,oK) format.")
            if not all(isinstance(s, (int, np.integer)) for s in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, "
                                f"int], but got size with types {[type(s) for s in size]}")
            out = tuple(int(s) for s in size)
        else:
            out = (int(size),) * d
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != d:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(x.shape[2:])} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 f"scale_factor in (s1, s2, ...,sK) format.")
            scales = tuple(float(s) for s in scale_factor)
        else:
            scales = (float(scale_factor),) * d
        out = tuple(int(math.floor(n * s)) for n, s in zip(x.shape[2:], scales))
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        scales = None
    if antialias:
        if not (mode in ("bilinear", "bicubic", "lanczos") and x.ndim == 4):
            raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a "
                             "4-D tensor as input")
        raise NotImplementedError("interpolate: antialias=True is not supported by srcgrad")
    need = _INTERP_DIMS.get(mode)
    if mode not in _INTERP_MODES or x.ndim not in (3, 4, 5) or (need is not None and need != d):
        if need is not None and x.ndim in (3, 4, 5) and mode != "bicubic":
            raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {need + 2}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
                                  f"modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    if any(o <= 0 for o in out) or any(n <= 0 for n in x.shape[2:]):
        names = ("D", "H", "W")[3 - d:]
        shown_in = ", ".join(f"{a}: {n}" for a, n in zip(names, x.shape[2:]))
        shown_out = ", ".join(f"{a}: {o}" for a, o in zip(names, out))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({shown_in}) and output "
                           f"({shown_out})")
    if mode == "area":  # (the module's function: PyTorch's node name, pytorch_names.py)
        return globals()[f"adaptive_avg_pool{d}d"](x, out)
    kind = "nearest" if mode.startswith("nearest") else "cubic" if mode == "bicubic" else "linear"
    float_only(x, kernel=f"compute_indices_weights_{kind}", complex_ok=False)
    dtype = np.dtype(_float_dtype(x))
    y = x
    for k, (n, o) in enumerate(zip(x.shape[2:], out)):
        s = None if scales is None else scales[k]
        if mode in ("nearest", "nearest-exact"):
            taps, weights = _nearest_taps(n, o, s, mode == "nearest-exact", dtype)
        else:
            taps, weights = _linear_taps(n, o, s, align_corners, dtype, cubic=mode == "bicubic")
        y = _interp_axis(y, 2 + k, taps, weights)
    return _named(y, _INTERP_NODE[mode].format(d=d), inputs=(x,))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """Deprecated in PyTorch in favour of interpolate (which it calls)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- im2col / col2im --------------------------------------------------------------------------
def _pair(v, name):
    return _ntuple(v, 2, name)


def _sliding_blocks(spatial, kernel, dilation, padding, stride):
    return tuple(int((n + 2 * p - dl * (k - 1) - 1) / s) + 1
                 for n, k, dl, p, s in zip(spatial, kernel, dilation, padding, stride))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """im2col: the sliding blocks of a (N, C, H, W) (or (C, H, W)) input as columns,
    (N, C * kh * kw, L), L the number of blocks; the gradient adds up over the blocks
    that read each entry."""
    x = _t(input)
    kernel, dilation = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    padding, stride = _pair(padding, "padding"), _pair(stride, "stride")
    if x.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(x.shape)}")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    out = _sliding_blocks(x.shape[2:], kernel, dilation, padding, stride)
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input with spatial size {tuple(x.shape[2:])}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, calculated shape of the array of sliding blocks "
                           f"as {out}, but its components must be at least one.")
    cols = _windows(x, kernel, stride, dilation, [(p, p) for p in padding], out, 0)  # (N, C, K, oh, ow)
    cols = cols.reshape((x.shape[0], x.shape[1] * kernel[0] * kernel[1], out[0] * out[1]))
    return cols.squeeze(0) if unbatched else cols


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """col2im, the adjoint of unfold: columns (N, C * kh * kw, L) summed into a (N, C, H, W)
    output at the positions unfold reads (overlapping blocks add up)."""
    from ..numpy.misc import _scatter_add
    x = _t(input)
    size, kernel = _pair(output_size, "output_size"), _pair(kernel_size, "kernel_size")
    dilation, padding, stride = _pair(dilation, "dilation"), _pair(padding, "padding"), _pair(stride, "stride")
    if x.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(x.shape)}")
    unbatched = x.ndim == 2
    if unbatched:
        x = x.unsqueeze(0)
    k = kernel[0] * kernel[1]
    if x.shape[1] % k:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size={kernel}.")
    blocks = _sliding_blocks(size, kernel, dilation, padding, stride)
    if any(b < 1 for b in blocks) or x.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
                           f"stride={stride}, expected size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
                           f"input.size(2)={x.shape[2]}.")
    n, c = x.shape[0], x.shape[1] // k
    padded = (size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    plane = np.arange(padded[0] * padded[1]).reshape(padded)
    # the padded plane's flat position each (kernel offset, block) reads, as unfold's windows
    rows = (np.arange(kernel[0]) * dilation[0])[:, None, None, None] + (np.arange(blocks[0]) * stride[0])[None, None, :, None]
    cols = (np.arange(kernel[1]) * dilation[1])[None, :, None, None] + (np.arange(blocks[1]) * stride[1])[None, None, None, :]
    pos = plane[rows, cols].reshape(k, blocks[0] * blocks[1])
    total = _scatter_add(x.reshape((n, c, k, -1)), (slice(None), slice(None), pos),
                         (n, c, padded[0] * padded[1]), x.dtype)
    y = total.reshape((n, c) + padded)[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    return y.squeeze(0) if unbatched else y
