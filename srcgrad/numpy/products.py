"""numpy's products over tensors: dot, matmul, inner, outer, vdot, tensordot, einsum, kron,
cross (and vecdot where numpy has it).

einsum and matmul are ops of the table (srcgrad/ops/linalg.py); the others are
composites of them and of reshape/transpose/indexing, exactly as numpy defines them
(tensordot is numpy's own transpose-reshape-matmul), so their gradients are exact.
"""
import numpy as np

from .. import ops as _ops
from ..autograd.recording import apply, numpy_code
from ._dispatch import implements, tensor_cls

_AxisError = getattr(np, "exceptions", np).AxisError

__all__ = ["dot", "matmul", "inner", "outer", "vdot", "tensordot", "einsum", "kron", "cross"]


def _tensor(x):
    Tensor = tensor_cls()
    if isinstance(x, Tensor):
        return x
    return Tensor._make(np.asarray(x))


def _pair(a, b):
    """Two tensors with PyTorch's promotion (integer data meeting float data becomes float)."""
    from ..tensor import _promote
    return _promote([_tensor(a), _tensor(b)])


def _shapes_error(name, a, b, ax_a, ax_b):
    return ValueError(f"{name}: shapes {tuple(a.shape)} and {tuple(b.shape)} not aligned: {a.shape[ax_a]} "
                      f"(dim {ax_a % a.ndim}) != {b.shape[ax_b]} (dim {ax_b % b.ndim})")


@implements(np.matmul)
def matmul(x1, x2, /):
    a, b = _pair(x1, x2)
    for k, t in enumerate((a, b)):
        if t.ndim == 0:
            raise ValueError(f"matmul: input operand {k} does not have enough dimensions "
                             f"(shapes {tuple(a.shape)} and {tuple(b.shape)})")
    ka, kb = a.shape[-1], b.shape[0 if b.ndim == 1 else -2]
    if ka != kb:
        raise _shapes_error("matmul", a, b, -1, 0 if b.ndim == 1 else -2)
    return apply(_ops.get("matmul"), [a, b], {})


@implements(np.dot)
def dot(a, b, out=None):
    """numpy's dot: a product with a scalar, the inner product of vectors, the matrix
    product of matrices, and otherwise a sum over a's last and b's second-to-last axis."""
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    kb = 0 if b.ndim == 1 else -2
    if a.shape[-1] != b.shape[kb]:
        raise _shapes_error("dot", a, b, -1, kb)
    if b.ndim == 1 or (a.ndim <= 2 and b.ndim == 2):
        return apply(_ops.get("matmul"), [a, b], {})
    return tensordot(a, b, axes=([-1], [-2]))


@implements(np.inner)
def inner(a, b, /):
    """Sum over the last axes of a and b."""
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise _shapes_error("inner", a, b, -1, -1)
    return tensordot(a, b, axes=([-1], [-1]))


@implements(np.outer)
def outer(a, b, out=None):
    """a.ravel()[:, None] * b.ravel()[None, :]."""
    a, b = _pair(a, b)
    if b.ndim == 1 and not numpy_code():  # (PyTorch's node reads b as it is: edges (view of a, b))
        return a.reshape(-1, 1) * b
    return a.reshape(-1, 1) * b.reshape(1, -1)


@implements(np.vdot)
def vdot(a, b, /):
    """The dot product of the flattened inputs, the first conjugated (for real data, as is)."""
    a, b = _pair(a, b)
    if a.dtype.kind == "c":
        a = apply(_ops.get("conj"), [a], {})
    if a.numel() != b.numel():
        raise ValueError(f"vdot: vectors have different lengths ({tuple(a.shape)} has {a.numel()} elements, "
                         f"{tuple(b.shape)} has {b.numel()})")
    return apply(_ops.get("matmul"), [a.reshape(-1), b.reshape(-1)], {})


def _axes_list(axes, ndim, name):
    axes = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    out = []
    for ax in axes:
        ax = int(ax)
        if not -ndim <= ax < ndim:
            raise _AxisError(f"{name}: axis {ax} is out of bounds for an array of dimension {ndim}")
        out.append(ax % ndim)
    return out


def _prod(sizes):
    return int(np.prod(list(sizes), dtype=np.int64))


def _permute(t, perm):
    return t if list(perm) == list(range(t.ndim)) else t.permute(*perm)


@implements(np.tensordot)
def tensordot(a, b, axes=2):
    """Sum over `axes` (an int N: a's last N and b's first N axes; or a pair of axis
    lists), written as numpy writes it: transpose, reshape to matrices, matmul."""
    a, b = _pair(a, b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={n} does not fit shapes {tuple(a.shape)} and {tuple(b.shape)}")
        axes_a, axes_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        try:
            spec_a, spec_b = axes
        except (TypeError, ValueError):
            raise ValueError("tensordot: axes must be an int or a pair of axis sequences") from None
        axes_a = _axes_list(spec_a, a.ndim, "tensordot")
        axes_b = _axes_list(spec_b, b.ndim, "tensordot")
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: {len(axes_a)} axes of a and {len(axes_b)} axes of b")
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        raise ValueError("tensordot: repeated axis")
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: shape-mismatch for sum: axis {i} of shape {tuple(a.shape)} has size "
                             f"{a.shape[i]}, axis {j} of shape {tuple(b.shape)} has size {b.shape[j]}")
    free_a = [k for k in range(a.ndim) if k not in axes_a]
    free_b = [k for k in range(b.ndim) if k not in axes_b]
    n_sum = _prod(a.shape[k] for k in axes_a)
    at = _permute(a, free_a + axes_a).reshape(_prod(a.shape[k] for k in free_a), n_sum)
    bt = _permute(b, axes_b + free_b).reshape(n_sum, _prod(b.shape[k] for k in free_b))
    out = apply(_ops.get("matmul"), [at, bt], {})
    return out.reshape(tuple(a.shape[k] for k in free_a) + tuple(b.shape[k] for k in free_b))


def _sublist_subscripts(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [sublistout]) -> (subscripts, operands)."""
    def labels(sub):
        s = ""
        for v in sub:
            if v is Ellipsis:
                s += "..."
            elif isinstance(v, (int, np.integer)) and 0 <= v < 52:
                s += chr(ord("A") + v) if v < 26 else chr(ord("a") + v - 26)  # keeps numpy's label order
            else:
                raise ValueError(f"einsum: subscript {v!r} in a sublist must be an int in [0, 52) or ...")
        return s
    operands = list(args[0::2][:len(args) // 2])
    terms = [labels(s) for s in args[1::2]]
    subs = ",".join(terms)
    if len(args) % 2:
        subs += "->" + labels(args[-1])
    return subs, operands


@implements(np.einsum)
def einsum(subscripts, *operands, out=None, dtype=None, order="K", casting="safe", optimize=False):
    """numpy's einsum (explicit or implicit subscripts, repeated labels, ellipses,
    broadcasting, or the sublist form). One op; each operand's gradient is again an einsum."""
    if not isinstance(subscripts, str):
        subscripts, operands = _sublist_subscripts((subscripts,) + operands)
    if not operands:
        raise ValueError("einsum: no operands given")
    from ..tensor import _promote
    ts = _promote([_tensor(x) for x in operands])
    if dtype is not None:
        ts = [t._cast_const(np.dtype(dtype)) for t in ts]
    norm = _ops.linalg.normalize_einsum(subscripts, [t.shape for t in ts])
    return apply(_ops.get("einsum"), ts, {"subscripts": norm})


@implements(np.kron)
def kron(a, b):
    """Kronecker product: a's axes interleaved with b's, multiplied, merged pairwise."""
    a, b = _pair(a, b)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    spread_a = a.reshape(sum(((d, 1) for d in sa), ()))
    spread_b = b.reshape(sum(((1, d) for d in sb), ()))
    return (spread_a * spread_b).reshape(tuple(x * y for x, y in zip(sa, sb)))


def _to_last(t, axis, name):
    axis = _axes_list(axis, t.ndim, name)[0]
    return _permute(t, [k for k in range(t.ndim) if k != axis] + [axis])


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (a primitive op) and numpy's z-component for two
    2-vectors, broadcast over the other axes."""
    a, b = _pair(a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _to_last(a, axisa, "cross"), _to_last(b, axisb, "cross")
    da, db = a.shape[-1], b.shape[-1]
    if da not in (2, 3) or db not in (2, 3):
        raise ValueError(f"cross: incompatible dimensions for cross product (dimension must be 2 or 3), "
                         f"got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if da != db:
        raise NotImplementedError("cross: a 2-vector with a 3-vector is not supported; pad the 2-vector "
                                  "with a zero")
    if da == 2:
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    c = apply(_ops.get("cross"), [a, b], {})
    axisc = _axes_list(axisc, c.ndim, "cross")[0]
    return _permute(c, list(range(axisc)) + [c.ndim - 1] + list(range(axisc, c.ndim - 1)))


if hasattr(np, "vecdot"):
    @implements(np.vecdot)
    def vecdot(x1, x2, /, *, axis=-1):
        """Sum of x1 * x2 over `axis` (broadcasting the others); real data."""
        a, b = _pair(x1, x2)
        return (a * b).sum(axis=axis)

    __all__.append("vecdot")

if hasattr(np, "matvec"):
    @implements(np.matvec)
    def matvec(x1, x2, /):
        """x1 @ x2 of a stack of matrices and a stack of vectors (numpy 2.2): matmul with
        x2 as a column."""
        a, b = _pair(x1, x2)
        return matmul(a, b[..., None])[..., 0]

    @implements(np.vecmat)
    def vecmat(x1, x2, /):
        """x1 @ x2 of a stack of vectors and a stack of matrices (numpy 2.2; real data)."""
        a, b = _pair(x1, x2)
        return matmul(a[..., None, :], b)[..., 0, :]

    __all__ += ["matvec", "vecmat"]


def torch_einsum(equation, *operands):
    """PyTorch's einsum: the operands as arguments or as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    from ..surface import same_dtype  # (PyTorch's: one dtype for all operands)
    for x in operands[1:]:
        same_dtype("bmm", operands[0], x)
    Tensor = tensor_cls()
    if not numpy_code() and isinstance(equation, str) and all(isinstance(x, Tensor) for x in operands) \
            and any(x.requires_grad for x in operands):
        from ..pytorch_steps import pytorch_einsum  # (PyTorch's own steps: its graph, its views)
        r = pytorch_einsum(equation, operands)
        if r is not None:
            return r
    return einsum(equation, *operands)
