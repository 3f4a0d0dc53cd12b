"""Joining arrays: concatenate. Its derivative slices the cotangent back into pieces
(basic `getitem`, views), so stacking, hstack, ... are composites of it."""

import numpy as np

from ..codegen import layout
from .indexing import Slice
from .registry import Op, ShapeError, register, result_dtype


def _concat_infer(inputs, attrs):
    axis = attrs["axis"]
    shapes = [tuple(x.shape) if hasattr(x, "shape") else () for x in inputs]
    if not shapes:
        raise ShapeError("concatenate needs at least one array")
    first = shapes[0]
    if not 0 <= axis < len(first):
        raise ShapeError(f"concatenate: axis {axis} is out of range for shapes {', '.join(map(str, shapes))}")
    for s in shapes[1:]:
        if len(s) != len(first) or any(a != b for i, (a, b) in enumerate(zip(s, first)) if i != axis):
            raise ShapeError(f"concatenate: all dimensions except axis {axis} must match, got shapes "
                             + ", ".join(map(str, shapes)))
    out = list(first)
    out[axis] = sum(s[axis] for s in shapes)
    return [(tuple(out), result_dtype(inputs))]


def _concat_vjp(node, gs):
    (g,) = gs
    axis = node.attrs["axis"]
    active = g.graph.active
    grads, start = [], 0
    for x in node.inputs:
        stop = start + x.shape[axis]
        if active is None or getattr(x, "id", None) in active:
            index = (Slice(None, None, None),) * axis + (Slice(start, stop, None),)
            grads.append(g.graph.emit("getitem", [g], index=index))
        else:
            grads.append(None)
        start = stop
    return grads


def _concat_emit(args, attrs, node):
    return layout.concatenate(args, attrs["axis"], node.out.shape)


register(Op("concatenate", "shape", lambda *xs, axis: np.concatenate(xs, axis=axis), infer=_concat_infer,
            vjp=_concat_vjp, emit=_concat_emit, torch_name="CatBackward0"))
