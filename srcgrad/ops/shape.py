"""Shape ops and basic indexing: views whose derivative rules move the cotangent back."""
import ast
from typing import NamedTuple

import numpy as np

from ..codegen import astbuild as A
from .registry import Op, ShapeError, register


# -- reshape / transpose --------------------------------------------------------------
def _reshape_infer(inputs, attrs):
    (x,) = inputs
    shape = tuple(attrs["shape"])
    if int(np.prod(shape, dtype=np.int64)) != int(np.prod(x.shape, dtype=np.int64)):
        raise ShapeError(f"cannot reshape an array of shape {x.shape} into shape {shape}")
    return [(shape, x.dtype)]


register(Op("reshape", "shape", lambda x, shape: np.reshape(x, shape), infer=_reshape_infer,
            vjp=lambda node, gs: [gs[0].reshape(node.inputs[0].shape)],
            emit=lambda args, attrs, node: A.method(args[0], "reshape", A.literal(tuple(attrs["shape"]))),
            torch_name="ViewBackward0"))


def _transpose_infer(inputs, attrs):
    (x,) = inputs
    perm = attrs["perm"]
    if sorted(perm) != list(range(len(x.shape))):
        raise ShapeError(f"axes {perm} are not a permutation of the {len(x.shape)} axes of shape {x.shape}")
    return [(tuple(x.shape[p] for p in perm), x.dtype)]


def _transpose_emit(args, attrs, node):
    perm = tuple(attrs["perm"])
    if perm == tuple(reversed(range(len(perm)))):
        return A.attr(args[0], "T")
    return A.npcall("transpose", args[0], A.literal(perm))


register(Op("transpose", "shape", lambda x, perm: np.transpose(x, perm), infer=_transpose_infer,
            vjp=lambda node, gs: [gs[0].transpose(tuple(np.argsort(node.attrs["perm"]).tolist()))],
            emit=_transpose_emit, torch_name="PermuteBackward0"))


# -- basic indexing -------------------------------------------------------------------
class Slice(NamedTuple):
    """A hashable stand-in for `slice` (attrs are part of cache keys)."""
    start: object
    stop: object
    step: object

    def __repr__(self):
        s = ("" if self.start is None else str(self.start)) + ":" + ("" if self.stop is None else str(self.stop))
        return s + (":" + str(self.step) if self.step is not None else "")


def canonical_index(index):
    """A user's basic index → a hashable tuple of ints, Slices, None and Ellipsis."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        if isinstance(item, slice):
            out.append(Slice(*(None if v is None else _int(v) for v in (item.start, item.stop, item.step))))
        elif item is None or item is Ellipsis:
            out.append(item)
        elif isinstance(item, (bool, np.bool_)):
            raise IndexError("boolean scalar indices are not supported yet")
        elif isinstance(item, (int, np.integer)):
            out.append(int(item))
        else:
            raise IndexError(f"only integers, slices, None and ... are supported as indices here, "
                             f"got {type(item).__name__}")
    return tuple(out)


def _int(v):
    if isinstance(v, (int, np.integer)):
        return int(v)
    if hasattr(v, "__index__"):
        return v.__index__()
    raise IndexError(f"slice bounds must be integers, got {type(v).__name__}")


def numpy_index(index):
    return tuple(slice(*i) if isinstance(i, Slice) else i for i in index)


def _index_ast(index):
    elts = []
    for i in index:
        if isinstance(i, Slice):
            elts.append(ast.Slice(lower=None if i.start is None else A.num(i.start),
                                  upper=None if i.stop is None else A.num(i.stop),
                                  step=None if i.step is None else A.num(i.step)))
        elif i is None:
            elts.append(A.const(None))
        elif i is Ellipsis:
            elts.append(A.const(Ellipsis))
        else:
            elts.append(A.num(i))
    return elts[0] if len(elts) == 1 else ast.Tuple(elts=elts, ctx=ast.Load())


def _getitem_infer(inputs, attrs):
    (x,) = inputs
    probe = np.broadcast_to(np.empty((), x.dtype), x.shape)  # a free view: no data
    try:
        return [(probe[numpy_index(attrs["index"])].shape, x.dtype)]
    except IndexError as e:
        raise ShapeError(f"index {_fmt_index(attrs['index'])} does not fit shape {x.shape}: {e}") from None


def _fmt_index(index):
    return "[" + ", ".join("..." if i is Ellipsis else repr(i) for i in index) + "]"


register(Op("getitem", "index", lambda x, index: x[numpy_index(index)], infer=_getitem_infer,
            vjp=lambda node, gs: [gs[0].graph.emit(
                "getitem_grad", [gs[0]], index=node.attrs["index"], shape=node.inputs[0].shape)],
            emit=lambda args, attrs, node: ast.Subscript(value=args[0], slice=_index_ast(attrs["index"]),
                                                         ctx=ast.Load()),
            fmt_attrs=lambda attrs: _fmt_index(attrs["index"]), torch_name="SelectBackward0"))


def _getitem_grad_impl(g, index, shape):
    out = np.zeros(shape, g.dtype)
    out[numpy_index(index)] = g
    return out


def _getitem_grad_emit(args, attrs, node, target):
    dtype = node.out.dtype
    return [A.assign(target, A.npcall("zeros", A.literal(tuple(attrs["shape"])), A.dtype_expr(dtype))),
            ast.Assign(targets=[ast.Subscript(value=A.name(target), slice=_index_ast(attrs["index"]),
                                              ctx=ast.Store())], value=args[0], lineno=0)]


register(Op("getitem_grad", "index", _getitem_grad_impl,
            infer=lambda inputs, attrs: [(tuple(attrs["shape"]), inputs[0].dtype)],
            vjp=lambda node, gs: [gs[0].graph.emit("getitem", [gs[0]], index=node.attrs["index"])],
            emit=_getitem_grad_emit, statement=True,
            fmt_attrs=lambda attrs: f"{_fmt_index(attrs['index'])} shape={tuple(attrs['shape'])}",
            torch_name="SelectBackwardBackward0"))
