"""Shape ops and basic indexing: views whose derivative rules move the cotangent back."""
import ast

import numpy as np

from ..codegen import astbuild as A
from ..codegen.loader import share_helper
from .registry import Op, ShapeError, register


# -- copy: the old value of an in-place op's target (autograd/recording.py) -------------
# Not elementwise, so never fused: the write's derivative reads this copy, and the value
# it was taken from may be overwritten.
register(Op("copy", "shape", lambda x: np.array(x, copy=True, order="C"),  # (as x.copy())
            infer=lambda inputs, attrs: [(tuple(inputs[0].shape), inputs[0].dtype)],
            vjp=lambda node, gs: [gs[0]],
            emit=lambda args, attrs, node: A.method(args[0], "copy"), torch_name="CloneBackward0"))


# -- reshape / transpose --------------------------------------------------------------
def _reshape_infer(inputs, attrs):
    (x,) = inputs
    shape = tuple(attrs["shape"])
    if int(np.prod(shape, dtype=np.int64)) != int(np.prod(x.shape, dtype=np.int64)):
        raise ShapeError(f"cannot reshape an array of shape {tuple(x.shape)} into shape {shape}")
    return [(shape, x.dtype)]


def _reshape_torch_name(attrs, inputs):
    """PyTorch's node for a reshape: a view of contiguous data (ViewBackward0), another
    view of strided data (ReshapeAliasBackward0), or a copy (UnsafeViewBackward0)."""
    x = inputs[0] if inputs else None
    if not isinstance(x, np.ndarray) or x.flags.c_contiguous:
        return "ViewBackward0"
    alias = x.view()
    try:
        alias.shape = tuple(attrs["shape"])  # (numpy refuses where the strides need a copy)
    except (AttributeError, ValueError):
        return "UnsafeViewBackward0"
    return "ReshapeAliasBackward0"


register(Op("reshape", "shape", lambda x, shape: np.reshape(x, shape), infer=_reshape_infer,
            vjp=lambda node, gs: [gs[0].reshape(node.inputs[0].shape)],
            emit=lambda args, attrs, node: A.method(args[0], "reshape", A.literal(tuple(attrs["shape"]))),
            torch_name=_reshape_torch_name))


def _transpose_infer(inputs, attrs):
    (x,) = inputs
    perm = attrs["perm"]
    if sorted(perm) != list(range(len(x.shape))):
        raise ShapeError(f"axes {perm} are not a permutation of the {len(x.shape)} axes of shape {tuple(x.shape)}")
    return [(tuple(x.shape[p] for p in perm), x.dtype)]


def _transpose_emit(args, attrs, node):
    perm = tuple(attrs["perm"])
    if perm == tuple(reversed(range(len(perm)))):
        return A.attr(args[0], "T")
    return A.npcall("transpose", args[0], A.literal(perm))


register(Op("transpose", "shape", lambda x, perm: np.transpose(x, perm), infer=_transpose_infer,
            vjp=lambda node, gs: [gs[0].transpose(tuple(np.argsort(node.attrs["perm"]).tolist()))],
            emit=_transpose_emit, torch_name="PermuteBackward0"))


# -- diagonal: a view of a diagonal, and the matrix its cotangent places -----------------
# numpy's np.diagonal and PyTorch's diagonal() are views of their input: read after a write
# into it they see the write (autograd/recording.py takes them again), and PyTorch's writes
# through (`K.diagonal().add_(1e-6)`: tensor.py). The eager view is writable, as PyTorch's;
# generated code reads np.diagonal's and never writes into it.
def diagonal_length(rows, cols, offset):
    return max(0, min(rows + min(offset, 0), cols - max(offset, 0)))


def _diagonal_infer(inputs, attrs):
    (x,) = inputs
    s, i, j = tuple(x.shape), attrs["axis1"], attrs["axis2"]
    if len(s) < 2 or not (0 <= i < len(s) and 0 <= j < len(s)) or i == j:
        raise ShapeError(f"diagonal: axes {i} and {j} of an array of shape {s}")
    rest = tuple(n for d, n in enumerate(s) if d not in (i, j))
    return [(rest + (diagonal_length(s[i], s[j], attrs["offset"]),), x.dtype)]


def diagonal_view(x, offset, axis1, axis2):
    """The diagonal of x as a numpy view that writes into x (np.diagonal's is read-only)."""
    moved = np.moveaxis(x, (axis1, axis2), (-2, -1))
    n = diagonal_length(moved.shape[-2], moved.shape[-1], offset)
    if n == 0:  # (nothing to share: an empty array, writable as the view would be)
        return np.empty(moved.shape[:-2] + (0,), x.dtype)
    start = moved[..., max(-offset, 0):, max(offset, 0):]
    return np.lib.stride_tricks.as_strided(start, moved.shape[:-2] + (n,),
                                           moved.strides[:-2] + (moved.strides[-2] + moved.strides[-1],),
                                           writeable=bool(x.flags.writeable))


def _diagonal_emit(args, attrs, node):
    return A.npcall("diagonal", args[0], A.num(attrs["offset"]), A.num(attrs["axis1"]), A.num(attrs["axis2"]))


register(Op("diagonal", "shape", lambda x, offset, axis1, axis2: diagonal_view(x, offset, axis1, axis2),
            infer=_diagonal_infer,
            vjp=lambda node, gs: [gs[0].graph.emit("diagonal_grad", [gs[0]], shape=tuple(node.inputs[0].shape),
                                                   **node.attrs)],
            emit=_diagonal_emit, torch_name="DiagonalBackward0"))


def _diagonal_grad_impl(g, shape, offset, axis1, axis2):
    out = np.zeros(shape, np.result_type(g))
    diagonal_view(out, offset, axis1, axis2)[...] = g
    return out


def _diagonal_grad_emit(args, attrs, node, target):
    """`t = np.zeros(shape)` then `np.moveaxis(t, ...)[..., rows, cols] = g`, or `t[rows,
    cols] = g` for the matrix's own axes: the cotangent placed on the diagonal."""
    shape, off, i, j = tuple(attrs["shape"]), attrs["offset"], attrs["axis1"], attrs["axis2"]
    n = diagonal_length(shape[i], shape[j], off)
    zeros = A.assign(target, A.npcall("zeros", A.literal(shape), A.dtype_expr(node.out.dtype)))

    def positions(start):
        r = A.npcall("arange", A.num(n))
        return A.binop(r, ast.Add(), A.num(start)) if start else r
    rows, cols = positions(max(-off, 0)), positions(max(off, 0))
    if (i, j) == (len(shape) - 2, len(shape) - 1):
        into, key = A.name(target), [ast.Constant(value=Ellipsis), rows, cols] if len(shape) > 2 else [rows, cols]
    else:
        into = A.npcall("moveaxis", A.name(target), A.literal((i, j)), A.literal((-2, -1)))
        key = [ast.Constant(value=Ellipsis), rows, cols]
    put = ast.Assign(targets=[ast.Subscript(value=into, slice=ast.Tuple(elts=key, ctx=ast.Load()), ctx=ast.Store())],
                     value=args[0], lineno=0)
    return [zeros, put]


def _diagonal_grad_infer(inputs, attrs):
    return [(tuple(attrs["shape"]), inputs[0].dtype)]


register(Op("diagonal_grad", "shape", _diagonal_grad_impl, infer=_diagonal_grad_infer,
            vjp=lambda node, gs: [gs[0].graph.emit("diagonal", [gs[0]], offset=node.attrs["offset"],
                                                   axis1=node.attrs["axis1"], axis2=node.attrs["axis2"])],
            emit=_diagonal_grad_emit, statement=True, torch_name="DiagonalBackwardBackward0"))


# -- windows: sliding windows along an axis, a view (numpy's sliding_window_view, PyTorch's
# unfold); the gradient adds each window's entries where they were read --------------------
def windows_view(x, axis, size, step):
    w = np.lib.stride_tricks.sliding_window_view(x, size, axis=axis)
    return w if step == 1 else w[(slice(None),) * axis + (slice(None, None, step),)]


def _windows_infer(inputs, attrs):
    (x,) = inputs
    s, axis, size, step = tuple(x.shape), attrs["axis"], attrs["size"], attrs["step"]
    if not 0 <= axis < len(s) or not 0 <= size <= s[axis] or step < 1:
        raise ShapeError(f"windows: {size} entries every {step} along axis {axis} of shape {s}")
    return [(s[:axis] + ((s[axis] - size) // step + 1,) + s[axis + 1:] + (size,), x.dtype)]


def _windows_emit(args, attrs, node):
    axis, step = attrs["axis"], attrs["step"]
    call = A.call("np.lib.stride_tricks.sliding_window_view", args[0], A.num(attrs["size"]), axis=A.num(axis))
    if step == 1:
        return call
    key = [ast.Slice()] * axis + [ast.Slice(step=A.num(step))]
    return ast.Subscript(value=call, slice=ast.Tuple(elts=key, ctx=ast.Load()) if axis else key[0], ctx=ast.Load())


register(Op("windows", "shape", windows_view, infer=_windows_infer,
            vjp=lambda node, gs: [gs[0].graph.emit("windows_grad", [gs[0]], shape=tuple(node.inputs[0].shape),
                                                   axis=node.attrs["axis"], step=node.attrs["step"])],
            emit=_windows_emit, torch_name="UnfoldBackward0"))


def window_sums(g, shape, axis, step):
    """The gradient of sliding windows (g: the windows' cotangent, the window last): the
    k-th entry of every window added where it was read, one strided slice per k."""
    out = np.zeros(shape, g.dtype)
    n = g.shape[axis]
    for k in range(g.shape[-1] if n else 0):
        out[(slice(None),) * axis + (slice(k, k + step * (n - 1) + 1, step),)] += g[..., k]
    return out


share_helper("window_sums", window_sums)  # (generated code calls it by name: codegen/loader.py)

register(Op("windows_grad", "shape", window_sums,
            infer=lambda inputs, attrs: [(tuple(attrs["shape"]), inputs[0].dtype)],
            vjp=lambda node, gs: [gs[0].graph.emit("windows", [gs[0]], axis=node.attrs["axis"],
                                                   size=node.inputs[0].shape[-1], step=node.attrs["step"])],
            emit=lambda args, attrs, node: A.call("window_sums", args[0], A.literal(tuple(attrs["shape"])),
                                                  A.num(attrs["axis"]), A.num(attrs["step"])),
            torch_name="UnfoldBackwardBackward0"))


# -- roll: a cyclic shift; its derivative is the opposite shift ---------------------------
# A primitive rather than a gather: the gather's derivative would scatter with np.add.at,
# while the exact derivative of a roll is one more np.roll.
def _roll_infer(inputs, attrs):
    (x,) = inputs
    shift, axis = attrs["shift"], attrs["axis"]
    if axis is None:
        if len(shift) != 1:
            raise ShapeError(f"roll over the flattened array takes one shift, got {shift}")
    else:
        if len(shift) != len(axis):
            raise ShapeError(f"roll: {len(shift)} shifts for {len(axis)} axes")
        for a in axis:
            if not 0 <= a < len(x.shape):
                raise ShapeError(f"roll: axis {a} is out of range for shape {tuple(x.shape)}")
    return [(tuple(x.shape), x.dtype)]


def _roll_vjp(node, gs):
    (g,) = gs
    back = tuple(-s for s in node.attrs["shift"])
    return [g.graph.emit("roll", [g], shift=back, axis=node.attrs["axis"])]


def _roll_emit(args, attrs, node):
    shift, axis = attrs["shift"], attrs["axis"]
    if axis is None:
        return A.npcall("roll", args[0], A.num(shift[0]))
    if len(axis) == 1:
        return A.npcall("roll", args[0], A.num(shift[0]), axis=A.num(axis[0]))
    return A.npcall("roll", args[0], A.literal(tuple(shift)), axis=A.literal(tuple(axis)))


register(Op("roll", "shape",
            lambda x, shift, axis: np.roll(x, shift[0] if axis is None else shift, axis),
            infer=_roll_infer, vjp=_roll_vjp, emit=_roll_emit, torch_name="RollBackward0"))


# -- argsort: sorting positions, an op of its own so that a compiled (traced) function
# recomputes them from its arguments instead of freezing one permutation -----------------
def _argsort_impl(x, axis, descending, kind="stable"):
    """kind: numpy's (np.argsort's default is quicksort, which orders ties its own way:
    the same order as numpy's own call, for the same data)."""
    if not descending:
        return np.argsort(x, axis=axis, kind=kind)
    # stable descending for every dtype (no negation: unsigned, bool, NaN first like PyTorch):
    # sort the reversed data ascending, reverse that order, and map positions back
    n = x.shape[axis]
    return (n - 1) - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)


def _argsort_infer(inputs, attrs):
    (x,) = inputs
    if not 0 <= attrs["axis"] < len(x.shape):
        raise ShapeError(f"argsort: axis {attrs['axis']} is out of range for shape {tuple(x.shape)}")
    return [(tuple(x.shape), np.dtype(np.intp))]


def _argsort_emit(args, attrs, node):
    axis = A.num(attrs["axis"])
    if not attrs["descending"]:
        kind = attrs.get("kind", "stable")
        return A.npcall("argsort", args[0], axis=axis, **({} if kind is None else {"kind": A.const(kind)}))
    n = node.inputs[0].shape[attrs["axis"]]
    order = A.npcall("argsort", A.npcall("flip", args[0], axis), axis=axis, kind=A.const("stable"))
    return A.binop(A.num(n - 1), ast.Sub(), A.npcall("flip", order, axis))


register(Op("argsort", "index", _argsort_impl, infer=_argsort_infer, emit=_argsort_emit,
            differentiable=False, torch_name="ArgsortBackward0"))


# -- argpartition: np.partition is x read at these positions ------------------------------------
def _kth_emit(args, attrs, node):
    kth = attrs["kth"]
    return A.npcall("argpartition", args[0], A.literal(kth if len(kth) > 1 else kth[0]), axis=A.num(attrs["axis"]))


register(Op("argpartition", "index", lambda x, kth, axis: np.argpartition(x, list(kth), axis=axis),
            infer=_argsort_infer, emit=_kth_emit, differentiable=False, torch_name="ArgpartitionBackward0"))
