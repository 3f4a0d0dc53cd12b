"""Reductions: hand-written derivative rules that emit IR (broadcasts back over the
reduced axes)."""
import ast

import numpy as np

from ..codegen import astbuild as A
from .registry import Op, ShapeError, register, result_dtype


def _reduced_shape(shape, axis, keepdims):
    if axis is None:
        return tuple(1 for _ in shape) if keepdims else ()
    if keepdims:
        return tuple(1 if i in axis else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axis)


def _kept(g, x, axis, keepdims):
    """Reshape a reduction's cotangent so it broadcasts against the input."""
    if keepdims or axis is None:
        return g
    return g.reshape(_reduced_shape(x.shape, axis, True))


def _reduce_kwargs(args, attrs):
    kw = {}
    if attrs["axis"] is not None:
        ax = attrs["axis"]
        kw["axis"] = A.literal(ax[0] if len(ax) == 1 else ax)
    if attrs["keepdims"]:
        kw["keepdims"] = A.const(True)
    return kw


def _count(shape, axis):
    axes = range(len(shape)) if axis is None else axis
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _infer_reduce(float_result):
    def infer(inputs, attrs):
        (x,) = inputs
        dtype = x.dtype
        if float_result and dtype.kind not in "fc":
            dtype = np.dtype(np.float64)
        elif dtype == np.bool_:
            dtype = np.dtype(np.int64)
        return [(_reduced_shape(x.shape, attrs["axis"], attrs["keepdims"]), dtype)]
    return infer


def _sum_vjp(node, gs):
    (g,), x = gs, node.inputs[0]
    return [_kept(g, x, node.attrs["axis"], node.attrs["keepdims"]).broadcast_to(x.shape)]


def _mean_vjp(node, gs):
    (g,), x = gs, node.inputs[0]
    n = _count(x.shape, node.attrs["axis"])
    return [(_kept(g, x, node.attrs["axis"], node.attrs["keepdims"]) / n).broadcast_to(x.shape)]


register(Op("sum", "reduction", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
            infer=_infer_reduce(False), vjp=_sum_vjp,
            emit=lambda args, attrs, node: A.npcall("sum", args[0], **_reduce_kwargs(args, attrs))))
register(Op("mean", "reduction", lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
            infer=_infer_reduce(True), vjp=_mean_vjp,
            emit=lambda args, attrs, node: A.npcall("mean", args[0], **_reduce_kwargs(args, attrs))))


# -- sum_to: undo broadcasting (the derivative of broadcast_to) --------------------------
def _sum_to_axes(src, dst):
    lead = len(src) - len(dst)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(dst) if d == 1 and src[lead + i] != 1)
    return lead, axes


def _sum_to_impl(x, shape):
    lead, axes = _sum_to_axes(x.shape, shape)
    return np.sum(x, axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)


def _sum_to_infer(inputs, attrs):
    (x,) = inputs
    shape = tuple(attrs["shape"])
    if len(shape) > len(x.shape) or np.broadcast_shapes(shape, x.shape) != tuple(x.shape):
        raise ShapeError(f"cannot sum shape {x.shape} down to {shape}")
    return [(shape, x.dtype)]


def _sum_to_emit(args, attrs, node):
    x = node.inputs[0]
    shape = tuple(attrs["shape"])
    lead, axes = _sum_to_axes(x.shape, shape)
    keep = [a for a in axes if a >= lead]
    if not keep:  # only leading axes: a plain sum gives the shape already
        return A.npcall("sum", args[0], axis=A.literal(axes[0] if len(axes) == 1 else axes))
    if lead == 0:
        return A.npcall("sum", args[0], axis=A.literal(axes[0] if len(axes) == 1 else axes),
                        keepdims=A.const(True))
    summed = A.npcall("sum", args[0], axis=A.literal(axes), keepdims=A.const(True))
    return A.method(summed, "reshape", A.literal(shape))


register(Op("sum_to", "reduction", _sum_to_impl, infer=_sum_to_infer,
            vjp=lambda node, gs: [gs[0].broadcast_to(node.inputs[0].shape)],
            emit=_sum_to_emit, torch_name="SumBackward1"))


# -- norm ---------------------------------------------------------------------------------
def _norm_impl(x, ord, axis, keepdims):
    if ord in (None, 2, "fro"):
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    raise NotImplementedError(f"norm of order {ord!r} is not supported yet")


def _norm_vjp(node, gs):
    (g,), x, n = gs, node.inputs[0], node.out
    axis, keepdims, ord = node.attrs["axis"], node.attrs["keepdims"], node.attrs["ord"]
    g = _kept(g, x, axis, keepdims)
    if ord == 1:
        return [g * x.graph.emit("sign", [x])]
    n = _kept(n, x, axis, keepdims)
    # d|x| = x / |x|, and 0 (not NaN) where the norm is 0, as PyTorch does
    safe = x.graph.emit("where", [x.graph.emit("eq", [n, 0]), 0, g / n])
    return [x * safe]


def _norm_emit(args, attrs, node):
    # written exactly as the forward computes it, for every shape and axis
    kw = _reduce_kwargs(args, attrs)
    if attrs["ord"] == 1:
        return A.npcall("sum", A.npcall("abs", args[0]), **kw)
    x = args[0]
    return A.npcall("sqrt", A.npcall("sum", A.binop(x, ast.Mult(), x), **kw))


register(Op("norm", "reduction", _norm_impl, infer=_infer_reduce(True), vjp=_norm_vjp,
            emit=_norm_emit, torch_name="NormBackward1"))
