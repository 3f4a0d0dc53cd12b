"""PyTorch's node names for functions srcgrad computes as several ops.

`type(y.grad_fn).__name__` is what PyTorch users print and test: `F.gelu(x)` is one
`GeluBackward0` node there, while srcgrad records gelu's multiplications (its compiled
backward is the same either way). This table names the result's node as PyTorch's; the
ops inside keep srcgrad's. A name may depend on the call (`x.max()` is MaxBackward1,
`x.max(1)` MaxBackward0). Only a node the call made is renamed, never an input's.
"""
import functools

from .function import NODE, call_edges, class_named
from .recording import named, numpy_code
from .saved import keep_call

#: calls returning several views of one tensor: PyTorch refuses in-place writes into them
_MULTI_VIEW = {"SplitBackward0", "SplitWithSizesBackward0", "UnbindBackward0"}


def _with_dim(no_dim, dim):
    """One name for a reduction over everything, another for one over `dim`."""
    return lambda args, kwargs: dim if len(args) > 1 or "dim" in kwargs else no_dim


def _split(args, kwargs):
    sizes = args[1] if len(args) > 1 else kwargs.get("split_size_or_sections", kwargs.get("split_size"))
    return "SplitWithSizesBackward0" if isinstance(sizes, (list, tuple)) else "SplitBackward0"


def _lerp(args, kwargs):
    from ..tensor import Tensor
    weight = args[2] if len(args) > 2 else kwargs.get("weight")
    return "LerpBackward1" if isinstance(weight, Tensor) else "LerpBackward0"


def _scatter(args, kwargs):
    from ..tensor import Tensor
    src = args[3] if len(args) > 3 else kwargs.get("src")
    return "ScatterBackward0" if isinstance(src, Tensor) else "ScatterBackward1"


def _index_fill(args, kwargs):
    from ..tensor import Tensor
    value = args[3] if len(args) > 3 else kwargs.get("value")
    return "IndexFillBackward1" if isinstance(value, Tensor) else "IndexFillBackward0"


def _take_along_dim(args, kwargs):
    dim = args[2] if len(args) > 2 else kwargs.get("dim")
    return "GatherBackward0<ExpandBackward0" if dim is not None else "GatherBackward0<ViewBackward0"


def _pad(args, kwargs):
    mode = args[2] if len(args) > 2 else kwargs.get("mode", "constant")
    n = len(args[1] if len(args) > 1 else kwargs["pad"]) // 2
    return {"constant": "ConstantPadNdBackward0", "reflect": f"ReflectionPad{n}DBackward0",
            "replicate": f"ReplicationPad{n}DBackward0", "circular": "CopySlices"}[mode]


#: (where: "F" torch.nn.functional, "T" srcgrad and its Tensor methods, name, PyTorch's node)
TABLE = [
    ("F", "gelu", "GeluBackward0"), ("F", "silu", "SiluBackward0"), ("F", "mish", "MishBackward0"),
    ("F", "softplus", "SoftplusBackward0"), ("F", "leaky_relu", "LeakyReluBackward0"),
    ("F", "elu", "EluBackward0"), ("F", "selu", "EluBackward0"), ("F", "celu", "CeluBackward0"),
    ("F", "logsigmoid", "LogSigmoidBackward0"), ("F", "hardtanh", "HardtanhBackward0"),
    ("F", "relu6", "HardtanhBackward0"), ("F", "hardswish", "HardswishBackward0"),
    ("F", "hardsigmoid", "HardsigmoidBackward0"), ("F", "softshrink", "SoftshrinkBackward0"),
    ("F", "hardshrink", "HardshrinkBackward0"), ("F", "glu", "GluBackward0"),
    ("F", "smooth_l1_loss", "SmoothL1LossBackward0"), ("F", "huber_loss", "HuberLossBackward0"),
    ("F", "batch_norm", "NativeBatchNormBackward0"), ("F", "group_norm", "NativeGroupNormBackward0"),
    ("F", "conv1d", "ConvolutionBackward0"), ("F", "conv2d", "ConvolutionBackward0"),
    ("F", "conv3d", "ConvolutionBackward0"), ("F", "avg_pool1d", "SqueezeBackward1"),
    ("F", "avg_pool2d", "AvgPool2DBackward0"), ("F", "max_pool1d", "SqueezeBackward1"),
    ("F", "max_pool2d", "MaxPool2DWithIndicesBackward0"), ("F", "pad", _pad),
    ("F", "pairwise_distance", "NormBackward1"),
    ("F", "adaptive_avg_pool1d", "SqueezeBackward1"), ("F", "adaptive_avg_pool2d", "AdaptiveAvgPool2DBackward0"),
    ("F", "adaptive_avg_pool3d", "AdaptiveAvgPool3DBackward0"), ("F", "adaptive_max_pool1d", "SqueezeBackward1"),
    ("F", "adaptive_max_pool2d", "AdaptiveMaxPool2DBackward0"), ("F", "adaptive_max_pool3d", "AdaptiveMaxPool3DBackward0"),
    ("F", "unfold", "Im2ColBackward0"), ("F", "fold", "Col2ImBackward0"),
    ("T", "logsumexp", "LogsumexpBackward0"), ("T", "std", "StdBackward0"), ("T", "var", "VarBackward0"),
    ("T", "index_select", "IndexSelectBackward0"), ("T", "sort", "SortBackward0"),
    ("T", "topk", "TopkBackward0"), ("T", "masked_select", "MaskedSelectBackward0"),
    ("T", "max", _with_dim("MaxBackward1", "MaxBackward0")),
    ("T", "min", _with_dim("MinBackward1", "MinBackward0")),
    ("T", "prod", _with_dim("ProdBackward0", "ProdBackward1")),
    ("T", "repeat", "RepeatBackward0"), ("T", "split", _split), ("T", "chunk", "SplitBackward0"),
    ("T", "unbind", "UnbindBackward0"), ("T", "flip", "FlipBackward0"), ("T", "tril", "TrilBackward0"),
    ("T", "triu", "TriuBackward0"), ("T", "transpose", "TransposeBackward0"), ("T", "mv", "MvBackward0"),
    ("T", "norm", "LinalgVectorNormBackward0"), ("T", "clamp_min", "ClampMinBackward0"),
    ("T", "clamp_max", "ClampMaxBackward0"), ("T", "sign", "SignBackward0"), ("T", "sgn", "SgnBackward0"),
    ("T", "scatter_add", "ScatterAddBackward0"), ("T", "view", "ViewBackward0"), ("T", "unflatten", "ViewBackward0"),
    ("T", "gather", "GatherBackward0"), ("T", "masked_fill", "MaskedFillBackward0"), ("T", "rsqrt", "RsqrtBackward0"),
    ("T", "logcumsumexp", "LogcumsumexpBackward0"), ("T", "fmod", "FmodBackward0"),
    ("T", "median", _with_dim("MedianBackward0", "MedianBackward1")),
    ("T", "lerp", _lerp), ("T", "take_along_dim", _take_along_dim), ("T", "squeeze", _with_dim("SqueezeBackward0", "SqueezeBackward1")),
    ("T", "rot90", "Rot90Backward0"), ("T", "fliplr", "FlipBackward0"), ("T", "flipud", "FlipBackward0"),
    ("T", "t", "TBackward0"), ("T", "adjoint", "TransposeBackward0"), ("T", "angle", "AngleBackward0"),
    ("T", "scatter", _scatter), ("T", "scatter_reduce", "ScatterReduceBackward0"), ("T", "index_add", "IndexAddBackward0"),
    ("T", "index_copy", "IndexCopyBackward0"), ("T", "index_fill", _index_fill), ("T", "index_put", "IndexPutBackward0"),
    ("T", "addcmul", "AddcmulBackward0"), ("T", "addcdiv", "AddcdivBackward0"),
    ("T", "masked_scatter", "MaskedScatterBackward0"), ("T", "put", "PutBackward0"), ("T", "take", "TakeBackward0"),
    ("T", "kthvalue", "KthvalueBackward0"), ("T", "mode", "ModeBackward0"), ("T", "cummax", "CummaxBackward0"),
    ("T", "cummin", "CumminBackward0"), ("T", "nanmedian", _with_dim("NanmedianBackward0", "NanmedianBackward1")),
    ("T", "var_mean", "VarMeanBackward0"), ("T", "std_mean", "StdMeanBackward0"), ("T", "tile", "RepeatBackward0"),
]


def renaming(fn, name):
    """fn, naming the nodes of the tensors it returns (each of a tuple or list) `name`."""
    from ..tensor import Tensor

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if numpy_code():  # (nobody reads grad_fn there: numpy's semantics, no renaming)
            return fn(*args, **kwargs)
        before = {id(a.grad_fn) for a in args if isinstance(a, Tensor) and a.grad_fn is not None}
        # (the arguments' edges as called: one written in place, `silu(y, inplace=True)`,
        # has the new node afterwards, which must not be its own next function)
        edges = call_edges(list(args) + list(kwargs.values()))
        out = fn(*args, **kwargs)
        node = None
        for k, t in enumerate(out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(t, Tensor) and t.grad_fn is not None and id(t.grad_fn) not in before:
                if node is None:
                    node = name(args, kwargs) if callable(name) else name
                    # "GatherBackward0<ExpandBackward0": PyTorch's node over a view it takes
                    # first (display nodes between, innermost last)
                    node, *chain = node.split("<")
                named(t, node)
                t.grad_fn.pytorch_inputs = edges
                keep_call(t, node, list(args) + list(kwargs.values()))
                if chain:
                    view_chain(t.grad_fn, chain[::-1])
                if node in _MULTI_VIEW:
                    t._multi_view = (k, node[:-len("Backward0")])
        return out
    call.pytorch_named = name
    return call


def install():
    """Wrap the table's functions where users call them: srcgrad.<name>, the Tensor method
    and torch.nn.functional.<name>."""
    import srcgrad
    import srcgrad.nn.functional as F
    from ..tensor import Tensor
    for where, attr, name in TABLE:
        owners = [F] if where == "F" else [srcgrad, Tensor]
        for owner in owners:
            fn = getattr(owner, attr, None)
            if fn is not None and not hasattr(fn, "pytorch_named"):
                setattr(owner, attr, renaming(fn, name))


def view_chain(fn, names):
    """fn stands for several PyTorch view nodes applied in turn (`x[None, ..., 0:1]`:
    UnsqueezeBackward0, then SliceBackward0, fn's own name): the others, `names`, innermost
    first, are nodes between fn and its input for next_functions only (srcgrad records one
    op; nothing is computed through them)."""
    edges = fn.pytorch_inputs if fn.pytorch_inputs is not None else fn.edges[:1]
    for name in names:
        node = class_named(name)(fn.op, fn.attrs, (), None, (), fn.loc)
        node.pytorch_inputs = edges
        edges = ((NODE, (node, 0)),)
    fn.pytorch_inputs = edges
