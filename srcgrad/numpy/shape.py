"""numpy's shape, joining and gathering functions over tensors.

Everything here is a composite of a few primitives of the op table — reshape,
transpose, broadcast_to, getitem/setitem (basic and integer-array indexing),
concatenate, roll and where — so every gradient is exact and can be differentiated
again: reshapes and views move the cotangent back, joins slice it, gathers scatter it.
Values follow numpy (`np.repeat`, `np.split`, ...), gradients follow PyTorch/JAX.
Integer data meeting float data becomes float, as everywhere in srcgrad.
"""
from collections import namedtuple

import numpy as np

from .. import ops as _ops
from ..autograd.recording import apply, keeps_no_tensor, unchanged_view
from ..ops.indexing import Arg, Slice, numpy_index
from ._dispatch import implements, needs_grad, run_without_gradient, tensor_cls

__all__ = [
    "reshape", "ravel", "squeeze", "expand_dims", "transpose", "swapaxes", "moveaxis", "broadcast_to",
    "broadcast_arrays", "atleast_1d", "atleast_2d", "atleast_3d", "repeat", "tile", "roll", "flip",
    "fliplr", "flipud", "rot90", "pad", "diag", "diagonal", "triu", "tril", "concatenate", "concat",
    "stack", "hstack", "vstack", "dstack", "column_stack", "split", "array_split", "hsplit", "vsplit",
    "dsplit", "sort", "argsort", "take", "take_along_axis", "array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "copy",
    "zeros_like", "ones_like", "empty_like", "full_like", "shape", "ndim", "size", "zeros", "ones",
    "empty", "full", "eye", "identity", "arange", "linspace", "r_", "c_", "lexsort", "asarray_chkfinite",
]

_ALL = Slice(None, None, None)


def _op(name):
    return _ops.get(name)


def _is_tensor(x):
    return isinstance(x, tensor_cls())


def _tensor(x):
    """A tensor for any array-like (lists holding tensors are stacked, with gradient)."""
    return x if _is_tensor(x) else asarray(x)


def _axis(axis, ndim, name):
    """One axis, numpy's way: an AxisError (a ValueError and IndexError) when out of range."""
    axis = _index(axis, f"{name}: axis")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim


def _axes(axes, ndim, name):
    axes = (axes,) if _is_int(axes) else tuple(axes)
    out = tuple(_axis(a, ndim, name) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axes}")
    return out


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _index(v, what):
    if _is_int(v):
        return int(v)
    if hasattr(v, "__index__") and not isinstance(v, (bool, np.bool_)):
        return v.__index__()
    raise TypeError(f"{what} must be an integer, got {type(v).__name__}")


def _shape_arg(shape, name):
    if _is_tensor(shape):
        shape = _static(shape, f"{name}: a shape given as a tensor")
    if isinstance(shape, np.ndarray):
        shape = shape.tolist()
    if isinstance(shape, (tuple, list)):
        return tuple(_index(s, f"{name}: shape") for s in shape)
    return (_index(shape, f"{name}: shape"),)


def _fresh(result, x):
    """numpy returns a new array where it copies: never hand back the input tensor itself."""
    return copy(x) if result is x else result


def _const_data(x):
    """The data of an argument read only for its shape and dtype."""
    if _is_tensor(x):
        return x._data
    return np.asarray(x)


def _static(x, what):
    """The value of an argument that decides shapes or positions (repeats, shifts, split
    points, fill values): plain data. Inside a compiled (traced) function a tensor computed
    from the arguments cannot be one — its value would be frozen — so that raises."""
    if _is_tensor(x):
        from ..trace import escape
        escape(x, what)
        return x._data
    return np.asarray(x)


def _is_traced(x):
    """Is x a tensor recorded by a compiled function being traced (its value is not fixed)?"""
    from ..autograd.recording import TRACER
    return _is_tensor(x) and TRACER[0] is not None and TRACER[0].traced(x)


def _getitem(x, template, arrays=()):
    t = apply(_op("getitem"), [x, *arrays], {"index": tuple(template)})
    if not arrays and _is_tensor(t) and _is_tensor(x):
        # a view (narrow, select, split...): writes into it go through to x, as x[...]'s
        t._view_of = (x, "getitem", numpy_index(tuple(template), []), t._vc.v)
    return t


def _along(axis, item):
    """An index selecting `item` along `axis` and everything along the axes before it."""
    return (_ALL,) * axis + (item,)


# ---------------------------------------------------------------------------------------
# dtypes of joined data
# ---------------------------------------------------------------------------------------
def _join_dtype(items):
    """The dtype of data joined from `items` (arrays/tensors strong, Python scalars weak):
    numpy's promotion, except that integer data meeting float data takes the float dtype."""
    strong = [x.dtype for x in items if hasattr(x, "dtype")]
    weak = [x for x in items if not hasattr(x, "dtype")]
    floats = [d for d in strong if d.kind in "fc"]
    if floats:
        strong = floats
    if not strong and not weak:
        return np.dtype(np.float64)
    return np.result_type(*strong, *weak)


def _as_dtype(x, dtype):
    if _is_tensor(x):
        return x._cast_const(dtype)
    return tensor_cls()._make(np.asarray(x, dtype=dtype))


def _joinable(arrays, name):
    if _is_tensor(arrays) or isinstance(arrays, np.ndarray):
        arrays = list(arrays)  # numpy iterates over the first axis
    xs = [_tensor(a) for a in arrays]
    if not xs:
        raise ValueError(f"{name}: need at least one array to join")
    return xs


def _common(xs, dtype=None):
    dtype = np.dtype(dtype) if dtype is not None else _join_dtype(xs)
    return [_as_dtype(x, dtype) for x in xs]


# ---------------------------------------------------------------------------------------
# reshaping
# ---------------------------------------------------------------------------------------
def _resolve_shape(shape, size, old_shape):
    if list(shape).count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if any(s < -1 for s in shape):
        raise ValueError(f"reshape: negative dimensions not allowed in {shape}")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if int(np.prod(shape, dtype=np.int64)) != size:
        raise ValueError(f"cannot reshape array of size {size} (shape {old_shape}) into shape {shape}")
    return shape


def _reshape(x, shape):
    shape = tuple(shape)
    if shape == x.shape:
        return unchanged_view(x)
    return apply(_op("reshape"), [x], {"shape": shape})


def _transpose(x, perm):
    perm = tuple(perm)
    if perm == tuple(range(x.ndim)):
        return unchanged_view(x)
    return apply(_op("transpose"), [x], {"perm": perm})


def _check_order(order, name):
    """Whether the elements are read column-major ('F'); 'C', 'A' and 'K' are row-major
    (srcgrad's arrays are stored C-ordered, so 'A' and 'K' are 'C')."""
    if order not in ("C", "F", "A", "K", None):
        raise ValueError(f"{name}: order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    return order == "F"


def _reversed_axes(x):
    return _transpose(x, tuple(range(x.ndim))[::-1])


@implements(np.reshape)
def reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    """numpy.reshape; -1 infers one dimension. order='F' reads and writes the elements
    column-major: the reshape of the transpose, transposed back."""
    fortran = _check_order(order, "reshape")
    if shape is None:
        shape = newshape
    if shape is None:
        raise TypeError("reshape() missing required argument 'shape'")
    x = _tensor(a)
    shape = _resolve_shape(_shape_arg(shape, "reshape"), x._data.size, x.shape)
    if fortran:
        out = _reversed_axes(_reshape(_reversed_axes(x), tuple(shape)[::-1]))
    else:
        out = _reshape(x, shape)
    return _fresh(out, x) if copy else out


@implements(np.ravel)
def ravel(a, order="C"):
    x = _tensor(a)
    if _check_order(order, "ravel"):
        x = _reversed_axes(x)
    return _reshape(x, (x._data.size,))


@implements(np.squeeze)
def squeeze(a, axis=None):
    x = _tensor(a)
    if axis is None:
        drop = {i for i, s in enumerate(x.shape) if s == 1}
    else:
        drop = set(_axes(axis, x.ndim, "squeeze"))
        for i in drop:
            if x.shape[i] != 1:
                raise ValueError(f"squeeze: cannot select an axis to squeeze out which has size not equal "
                                 f"to one (axis {i} of shape {tuple(x.shape)})")
    return _reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in drop))


@implements(np.expand_dims)
def expand_dims(a, axis):
    x = _tensor(a)
    axes = (axis,) if _is_int(axis) else tuple(axis)
    ndim = x.ndim + len(axes)
    axes = set(_axes(axes, ndim, "expand_dims"))
    dims = iter(x.shape)
    return _reshape(x, tuple(1 if i in axes else next(dims) for i in range(ndim)))


@implements(np.transpose)
def transpose(a, axes=None):
    x = _tensor(a)
    if axes is None:
        return _transpose(x, reversed(range(x.ndim)))
    perm = tuple(_axis(p, x.ndim, "transpose") for p in ((axes,) if _is_int(axes) else axes))
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {tuple(axes)} don't match array of shape {tuple(x.shape)}")
    return _transpose(x, perm)


@implements(np.swapaxes)
def swapaxes(a, axis1, axis2):
    x = _tensor(a)
    i, j = _axis(axis1, x.ndim, "swapaxes"), _axis(axis2, x.ndim, "swapaxes")
    perm = list(range(x.ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return _transpose(x, perm)


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    x = _tensor(a)
    src = _axes(source, x.ndim, "moveaxis")
    dst = _axes(destination, x.ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError("moveaxis: `source` and `destination` arguments must have the same number of elements")
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _transpose(x, order)


@implements(np.broadcast_to)
def broadcast_to(array, shape, subok=False):
    x = _tensor(array)
    shape = _shape_arg(shape, "broadcast_to")
    try:
        if np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast an array of shape {tuple(x.shape)} to shape {shape}") from None
    return x.broadcast_to(shape)


@implements(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    xs = [_tensor(a) for a in args]
    try:
        shape = np.broadcast_shapes(*[x.shape for x in xs])
    except ValueError:
        raise ValueError("broadcast_arrays: shape mismatch: objects cannot be broadcast to a single shape "
                         + ", ".join(str(x.shape) for x in xs)) from None
    return tuple(x.broadcast_to(shape) for x in xs)


def _atleast(arys, fix):
    out = tuple(fix(_tensor(a)) for a in arys)
    return out[0] if len(out) == 1 else out


@implements(np.atleast_1d)
def atleast_1d(*arys):
    return _atleast(arys, lambda x: _reshape(x, (1,)) if x.ndim == 0 else x)


@implements(np.atleast_2d)
def atleast_2d(*arys):
    return _atleast(arys, lambda x: _reshape(x, (1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x)


def _to_3d(x):
    if x.ndim == 0:
        return _reshape(x, (1, 1, 1))
    if x.ndim == 1:
        return _reshape(x, (1,) + x.shape + (1,))
    if x.ndim == 2:
        return _reshape(x, x.shape + (1,))
    return x


@implements(np.atleast_3d)
def atleast_3d(*arys):
    return _atleast(arys, _to_3d)


# ---------------------------------------------------------------------------------------
# repeating, rolling, flipping
# ---------------------------------------------------------------------------------------
@implements(np.repeat)
def repeat(a, repeats, axis=None):
    """numpy.repeat. A single repeat count is a broadcast (its gradient a sum); per-element
    counts are a gather."""
    x = _tensor(a)
    if axis is None:
        x, axis = ravel(x), 0
    else:
        axis = _axis(axis, x.ndim, "repeat")
    n = x.shape[axis]
    reps = _static(repeats, "repeat: the repeat counts")
    if reps.dtype.kind not in "iub" and reps.size:
        raise TypeError(f"repeat: repeats must be integers, got dtype {reps.dtype}")
    if (reps < 0).any():
        raise ValueError("repeat: negative dimensions are not allowed")
    if reps.size == 1:
        r = int(reps.reshape(()))
        inner = x.shape[:axis + 1] + (1,) + x.shape[axis + 1:]
        spread = _reshape(x, inner).broadcast_to(x.shape[:axis + 1] + (r,) + x.shape[axis + 1:])
        return _fresh(_reshape(spread, x.shape[:axis] + (n * r,) + x.shape[axis + 1:]), x)
    if reps.ndim != 1 or reps.shape[0] != n:
        raise ValueError(f"repeat: operands could not be broadcast together: {reps.shape[0]} repeats "
                         f"for axis {axis} of length {n} (shape {tuple(x.shape)})")
    index = np.repeat(np.arange(n), reps.astype(np.intp))
    return _getitem(x, _along(axis, Arg(0)), [index])


@implements(np.tile)
def tile(A, reps):
    """numpy.tile: a broadcast over interleaved new axes, then one reshape."""
    x = _tensor(A)
    reps = _shape_arg(reps, "tile")
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: negative dimensions are not allowed in reps {reps}")
    nd = max(len(reps), x.ndim)
    reps = (1,) * (nd - len(reps)) + reps
    shape = (1,) * (nd - x.ndim) + x.shape
    inter = tuple(d for s in shape for d in (1, s))
    spread = tuple(d for r, s in zip(reps, shape) for d in (r, s))
    out = _reshape(_reshape(x, inter).broadcast_to(spread), tuple(r * s for r, s in zip(reps, shape)))
    return _fresh(out, x)


@implements(np.roll)
def roll(a, shift, axis=None):
    x = _tensor(a)
    if axis is None:
        total = int(np.sum(_static(shift, "roll: the shift")))
        if x._data.size == 0 or total % x._data.size == 0:
            return copy(x)
        return apply(_op("roll"), [x], {"shift": (total % x._data.size,), "axis": None})
    shifts = np.atleast_1d(_static(shift, "roll: the shift"))
    axes = np.atleast_1d(np.asarray(axis))
    try:
        shifts, axes = np.broadcast_arrays(shifts, axes)
    except ValueError:
        raise ValueError(f"roll: 'shift' and 'axis' should be scalars or 1D sequences of the same length "
                         f"(got {shifts.shape[0]} shifts and {axes.shape[0]} axes)") from None
    per_axis = {}
    for s, ax in zip(shifts.tolist(), axes.tolist()):
        ax = _axis(ax, x.ndim, "roll")
        per_axis[ax] = per_axis.get(ax, 0) + int(s)
    kept = sorted((ax, s % x.shape[ax]) for ax, s in per_axis.items() if x.shape[ax] and s % x.shape[ax])
    if not kept:
        return copy(x)
    return apply(_op("roll"), [x], {"shift": tuple(s for _, s in kept), "axis": tuple(ax for ax, _ in kept)})


def _flip(x, axes):
    if not axes:
        return x
    index = tuple(Slice(None, None, -1) if i in axes else _ALL for i in range(max(axes) + 1))
    return _getitem(x, index)


@implements(np.flip)
def flip(m, axis=None):
    x = _tensor(m)
    axes = tuple(range(x.ndim)) if axis is None else _axes(axis, x.ndim, "flip")
    return _flip(x, axes)


@implements(np.fliplr)
def fliplr(m):
    x = _tensor(m)
    if x.ndim < 2:
        raise ValueError(f"fliplr: input must be >= 2-d, got shape {tuple(x.shape)}")
    return _flip(x, (1,))


@implements(np.flipud)
def flipud(m):
    x = _tensor(m)
    if x.ndim < 1:
        raise ValueError("flipud: input must be >= 1-d")
    return _flip(x, (0,))


@implements(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    x = _tensor(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("rot90: len(axes) must be 2")
    if x.ndim < 2:
        raise ValueError(f"rot90: the array must have at least 2 dimensions, got shape {tuple(x.shape)}")
    a0, a1 = _axis(axes[0], x.ndim, "rot90"), _axis(axes[1], x.ndim, "rot90")
    if a0 == a1:
        raise ValueError("rot90: axes must be different")
    k = _index(k, "rot90: k") % 4
    if k == 0:
        return _getitem(x, (_ALL,))
    if k == 2:
        return _flip(x, (a0, a1))
    perm = list(range(x.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return _transpose(_flip(x, (a1,)), perm)
    return _flip(_transpose(x, perm), (a1,))


# ---------------------------------------------------------------------------------------
# padding, diagonals, triangles
# ---------------------------------------------------------------------------------------
_GATHER_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")
_STAT_PAD_MODES = {"maximum": "max", "minimum": "min", "mean": "mean", "median": "median"}


def _pad_computed(x, pad_width, mode, kwargs):
    """pad's modes whose new values are computed from the data: a statistic of the first or
    last `stat_length` entries along each axis, or a linear ramp from `end_values` to the
    edge. As numpy, axis by axis, each axis padding the array the earlier ones padded."""
    widths = np.broadcast_to(np.round(np.asarray(pad_width)).astype(np.intp), (x.ndim, 2))
    if mode == "linear_ramp":
        ends = np.broadcast_to(np.asarray(kwargs.get("end_values", 0), np.float64), (x.ndim, 2))
    else:
        stat = kwargs.get("stat_length")
        lengths = None if stat is None else np.broadcast_to(np.round(np.asarray(stat)).astype(np.intp), (x.ndim, 2))
    y = x
    for axis, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        n = y.shape[axis]
        parts = []
        for side, width in (("before", int(before)), ("after", int(after))):
            if not width:
                parts.append(None)
                continue
            at = [slice(None)] * y.ndim
            shape = list(y.shape)
            shape[axis] = width
            if mode == "linear_ramp":
                at[axis] = slice(0, 1) if side == "before" else slice(n - 1, n)
                edge, end = y[tuple(at)], float(ends[axis][0 if side == "before" else 1])
                k = np.arange(width, dtype=np.float64) if side == "before" else np.arange(width - 1, -1, -1.0)
                k = k.reshape([-1 if d == axis else 1 for d in range(y.ndim)]).astype(y.dtype)
                parts.append(k * ((edge - end) / width) + end)  # (numpy's linspace, term for term)
            else:
                m = n if lengths is None else min(int(lengths[axis][0 if side == "before" else 1]), n)
                at[axis] = slice(0, m) if side == "before" else slice(n - m, n)
                value = getattr(_np_namespace(), _STAT_PAD_MODES[mode])(y[tuple(at)], axis=axis, keepdims=True)
                parts.append(broadcast_to(value, tuple(shape)))
        y = concatenate([p for p in (parts[0], y, parts[1]) if p is not None], axis=axis)
    return y


def _np_namespace():
    from .. import numpy as snp  # (max, mean, median of srcgrad.numpy)
    return snp


@implements(np.pad)
def pad(array, pad_width, mode="constant", **kwargs):
    """numpy.pad. mode='constant' writes the tensor into numpy's padded constant array;
    'edge', 'reflect', 'symmetric' and 'wrap' only copy elements, so they are gathers
    (numpy pads an array of flat positions to find them)."""
    x = _tensor(array)
    if needs_grad(list(kwargs.values())):
        raise NotImplementedError("pad: gradients with respect to constant_values are not supported")
    kwargs = {k: _static(v, f"pad: {k}") for k, v in kwargs.items()}
    if mode == "constant":
        base = np.pad(np.zeros(x.shape, x.dtype), pad_width, mode="constant", **kwargs)
        # numpy's reading of pad_width (it validated it just now): rounded, one pair per axis
        widths = np.broadcast_to(np.round(np.asarray(pad_width)).astype(np.intp), (x.ndim, 2)) if x.ndim else ()
        inner = tuple(Slice(int(b), int(b) + n, None) for (b, _), n in zip(widths, x.shape))
        return keeps_no_tensor(apply(_op("setitem"), [base, x], {"index": inner or (Ellipsis,)}))
    if mode in _GATHER_PAD_MODES:
        if kwargs.get("reflect_type", "even") != "even":
            raise NotImplementedError("pad: reflect_type='odd' computes new values; only 'even' is supported")
        positions = np.pad(np.arange(x._data.size).reshape(x.shape), pad_width, mode=mode, **kwargs)
        return _reshape(_getitem(ravel(x), (Arg(0),), [positions.ravel()]), positions.shape)
    if mode in _STAT_PAD_MODES or mode == "linear_ramp":
        if x.dtype.kind != "f":
            raise NotImplementedError(f"pad: mode={mode!r} on {x.dtype} data is not supported (numpy rounds "
                                      f"the new values); pad float data")
        np.pad(np.zeros(x.shape), pad_width, mode=mode, **kwargs)  # (numpy's own checks of the arguments)
        return _pad_computed(x, pad_width, mode, kwargs)
    if callable(mode) or mode == "empty":
        raise NotImplementedError(f"pad: mode={mode!r} is not supported; use 'constant', 'linear_ramp', "
                                  + ", ".join(repr(m) for m in _GATHER_PAD_MODES + tuple(_STAT_PAD_MODES)))
    raise ValueError(f"pad: mode {mode!r} is not supported")


def diagonal_positions(rows, cols, k):
    """Row and column indices of diagonal k of a rows x cols matrix."""
    i = np.arange(_ops.shape.diagonal_length(rows, cols, k))
    return i - min(k, 0), i + max(k, 0)


@implements(np.diag)
def diag(v, k=0):
    x = _tensor(v)
    k = _index(k, "diag: k")
    if x.ndim == 1:
        n = x.shape[0] + abs(k)
        rows, cols = diagonal_positions(n, n, k)
        return keeps_no_tensor(apply(_op("setitem"), [np.zeros((n, n), x.dtype), x, rows, cols],
                                     {"index": (Arg(0), Arg(1))}))
    if x.ndim == 2:  # (numpy's: the diagonal's view)
        return keeps_no_tensor(diagonal(x, k))
    raise ValueError(f"diag: input must be 1-d or 2-d, got shape {tuple(x.shape)}")


@implements(np.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    x = _tensor(a)
    if x.ndim < 2:
        raise ValueError(f"diagonal: the array must have at least two dimensions, got shape {tuple(x.shape)}")
    i, j = _axis(axis1, x.ndim, "diagonal"), _axis(axis2, x.ndim, "diagonal")
    if i == j:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    # (a view, as numpy's and PyTorch's: ops/shape.py)
    return apply(_op("diagonal"), [x], {"offset": _index(offset, "diagonal: offset"), "axis1": i, "axis2": j})


def _triangle(m, k, keep):
    x = _tensor(m)
    if x.ndim == 0:
        raise ValueError("triu/tril: the input must be at least 1-d")
    shape = x.shape[-2:] if x.ndim >= 2 else x.shape * 2  # numpy repeats a 1-d input as rows
    mask = keep(np.ones(shape, dtype=bool), _index(k, "triu/tril: k"))
    return keeps_no_tensor(apply(_op("where"), [mask, x, 0], {}))


@implements(np.triu)
def triu(m, k=0):
    return _triangle(m, k, np.triu)


@implements(np.tril)
def tril(m, k=0):
    return _triangle(m, k, np.tril)


# ---------------------------------------------------------------------------------------
# joining
# ---------------------------------------------------------------------------------------
def _check_join_args(out, casting, name):
    if casting not in ("same_kind", "unsafe", "safe", "equiv", "no"):
        raise ValueError(f"{name}: unknown casting {casting!r}")


def _concatenate(xs, axis, dtype=None, name="concatenate"):
    if axis is None:
        xs, axis = [ravel(x) for x in xs], 0
    for x in xs:
        if x.ndim == 0:
            raise ValueError(f"{name}: zero-dimensional arrays cannot be concatenated")
    axis = _axis(axis, xs[0].ndim, name)
    xs = _common(xs, dtype)
    return apply(_op("concatenate"), xs, {"axis": axis})


@implements(np.concatenate)
def concatenate(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _check_join_args(out, casting, "concatenate")
    return _concatenate(_joinable(arrays, "concatenate"), axis, dtype)


concat = concatenate


@implements(np.stack)
def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _check_join_args(out, casting, "stack")
    xs = _joinable(arrays, "stack")
    if len({x.shape for x in xs}) != 1:
        raise ValueError("stack: all input arrays must have the same shape, got "
                         + ", ".join(str(x.shape) for x in xs))
    axis = _axis(axis, xs[0].ndim + 1, "stack")
    return _concatenate([expand_dims(x, axis) for x in xs], axis, dtype, "stack")


@implements(np.hstack)
def hstack(tup, *, dtype=None, casting="same_kind"):
    xs = [atleast_1d(x) for x in _joinable(tup, "hstack")]
    return _concatenate(xs, 0 if xs[0].ndim == 1 else 1, dtype, "hstack")


@implements(np.vstack)
def vstack(tup, *, dtype=None, casting="same_kind"):
    return _concatenate([atleast_2d(x) for x in _joinable(tup, "vstack")], 0, dtype, "vstack")


if hasattr(np, "row_stack"):  # (deprecated in numpy 2: vstack under another name)
    implements(np.row_stack)(vstack)


@implements(np.rollaxis)
def rollaxis(a, axis, start=0):
    """numpy's older spelling of moveaxis: axis moves to just before `start`."""
    x = _tensor(a)
    axis = _axes(axis, x.ndim, "rollaxis")[0]
    start = start + x.ndim if start < 0 else start
    if not 0 <= start <= x.ndim:
        raise ValueError(f"rollaxis: start {start} is out of range for {x.ndim} axes")
    return moveaxis(x, axis, start - 1 if axis < start else start)


@implements(np.dstack)
def dstack(tup):
    return _concatenate([atleast_3d(x) for x in _joinable(tup, "dstack")], 2, None, "dstack")


@implements(np.column_stack)
def column_stack(tup):
    xs = [_reshape(x, (x._data.size, 1)) if x.ndim < 2 else x for x in _joinable(tup, "column_stack")]
    return _concatenate(xs, 1, None, "column_stack")


# ---------------------------------------------------------------------------------------
# splitting: each piece a basic slice (a view), so the pieces' gradients are slices too
# ---------------------------------------------------------------------------------------
def _pieces(x, bounds, axis):
    return [_getitem(x, _along(axis, Slice(a, b, None))) for a, b in zip(bounds[:-1], bounds[1:])]


def _split(ary, indices_or_sections, axis, name, equal):
    x = _tensor(ary)
    axis = _axis(axis, x.ndim, name) if x.ndim else _axis(axis, 0, name)
    n = x.shape[axis]
    if _is_int(indices_or_sections) or (_is_tensor(indices_or_sections) and indices_or_sections.ndim == 0):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"{name}: number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        if equal and extra:
            raise ValueError(f"{name}: array split does not result in an equal division "
                             f"({n} along axis {axis} into {sections})")
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    else:
        points = [_index(i, f"{name}: split index") for i in _static(indices_or_sections, f"{name}: the split points").tolist()]
        bounds = [0] + points + [n]
    return _pieces(x, [int(b) for b in bounds], axis)


@implements(np.split)
def split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, "split", equal=True)


@implements(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, "array_split", equal=False)


@implements(np.hsplit)
def hsplit(ary, indices_or_sections):
    x = _tensor(ary)
    if x.ndim == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _split(x, indices_or_sections, 1 if x.ndim > 1 else 0, "hsplit", equal=True)


@implements(np.vsplit)
def vsplit(ary, indices_or_sections):
    x = _tensor(ary)
    if x.ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return _split(x, indices_or_sections, 0, "vsplit", equal=True)


@implements(np.dsplit)
def dsplit(ary, indices_or_sections):
    x = _tensor(ary)
    if x.ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _split(x, indices_or_sections, 2, "dsplit", equal=True)


# ---------------------------------------------------------------------------------------
# gathering: integer-array getitem, whose gradient scatters back (np.add.at)
# ---------------------------------------------------------------------------------------
def _integer_indices(indices, name):
    """Index data as an intp array — or, inside a compiled function, a tensor computed from
    its arguments (e.g. an argsort), which the generated code then recomputes."""
    if _is_traced(indices):
        if indices.dtype.kind not in "iu":
            raise TypeError(f"{name}: indices must be integers, got dtype {indices.dtype}")
        return indices
    idx = _const_data(indices)
    if idx.dtype.kind not in "iu":
        if idx.size == 0:
            return idx.astype(np.intp)
        raise TypeError(f"{name}: indices must be integers, got dtype {idx.dtype}")
    return idx.astype(np.intp, copy=False)


def _check_bounds(idx, n, axis, name):
    """numpy's IndexError for an index outside [-n, n), before the gather runs."""
    if _is_tensor(idx):  # recomputed by a compiled function: the gather itself checks
        return
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise IndexError(f"{name}: index {int(idx[bad].flat[0])} is out of bounds for axis {axis} with size {n}")


def _take_along(x, idx, axis):
    arrays = []
    for d in range(x.ndim):
        if d == axis:
            arrays.append(idx)
        else:
            arrays.append(np.arange(x.shape[d]).reshape((1,) * d + (-1,) + (1,) * (x.ndim - d - 1)))
    return _getitem(x, tuple(Arg(k) for k in range(x.ndim)), arrays)


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    x = _tensor(arr)
    idx = _integer_indices(indices, "take_along_axis")
    if axis is None:
        if idx.ndim != 1:
            raise ValueError("take_along_axis: when axis=None, `indices` must have a single dimension.")
        x, axis = ravel(x), 0
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_axis: `indices` and `arr` must have the same number of dimensions "
                         f"(shapes {tuple(idx.shape)} and {tuple(x.shape)})")
    axis = _axis(axis, x.ndim, "take_along_axis")
    _check_bounds(idx, x.shape[axis], axis, "take_along_axis")
    return _take_along(x, idx, axis)


@implements(np.compress)
def compress(condition, a, axis=None, out=None):
    """The slices of a (along axis; of the flattened a if None) where condition is true: a
    boolean index (a traced condition's positions are recomputed by the generated code)."""
    x = _tensor(a)
    if axis is None:
        x, axis = ravel(x), 0
    axis = axis % x.ndim
    keep = _tensor(condition).astype(bool)
    n = x.shape[axis]
    if keep.ndim != 1 or keep.shape[0] > n:
        raise ValueError(f"compress: condition of shape {tuple(keep.shape)} for an axis of length {n}")
    if keep.shape[0] < n:  # (numpy: the elements past the condition's end are not taken)
        keep = concatenate([keep, tensor_cls()._make(np.zeros(n - keep.shape[0], bool))])
    return x[(slice(None),) * axis + (keep,)]


@implements(np.extract)
def extract(condition, arr):
    """The elements of arr where condition is nonzero, flattened."""
    return ravel(_tensor(arr))[ravel(_tensor(condition)).astype(bool)]


@implements(np.block)
def block(arrays):
    """An array assembled from nested lists of blocks: the innermost lists joined along
    the last axis, the next ones along the one before, ... (numpy's rule, blocks first
    given at least as many dimensions as the nesting is deep)."""
    def depth(x):
        return 1 + depth(x[0]) if isinstance(x, list) and x else (1 if isinstance(x, list) else 0)
    d = depth(arrays)
    ndim = max([d] + [np.ndim(_data_of(b)) for b in _leaves(arrays)])

    def join(x, level):
        if not isinstance(x, list):
            t = _tensor(x)
            return _reshape(t, (1,) * (ndim - t.ndim) + tuple(t.shape)) if t.ndim < ndim else t
        return concatenate([join(e, level + 1) for e in x], axis=-(d - level))
    return join(arrays, 0)


def _leaves(x):
    if isinstance(x, list):
        for e in x:
            yield from _leaves(e)
    else:
        yield x


def _data_of(x):
    return x._data if isinstance(x, tensor_cls()) else x


@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    x = _tensor(a)
    if axis is None:
        x, axis = ravel(x), 0
    else:
        axis = _axis(axis, x.ndim, "take")
    idx = _integer_indices(indices, "take")
    n = x.shape[axis]
    if mode == "wrap":
        idx = (apply(_op("mod"), [idx, n], {}) if _is_tensor(idx) else idx % n) if n else idx
    elif mode == "clip":
        idx = apply(_op("clip"), [idx, 0, max(n - 1, 0)], {}) if _is_tensor(idx) else np.clip(idx, 0, max(n - 1, 0))
    elif mode == "raise":
        _check_bounds(idx, n, axis, "take")
    else:
        raise ValueError(f"take: clipmode must be one of 'clip', 'raise', or 'wrap', got {mode!r}")
    if idx.ndim == 0 and not _is_tensor(idx):
        return _getitem(x, _along(axis, int(idx)))
    return _getitem(x, _along(axis, Arg(0)), [idx])


def _argsort(x, axis, descending=False, kind="stable"):
    """Sorting positions (stable, or numpy's `kind`), as a tensor with no gradient."""
    attrs = {"axis": axis, "descending": bool(descending)}
    if kind != "stable":
        attrs["kind"] = kind
    return apply(_op("argsort"), [x], attrs)


@implements(np.argpartition)
def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    x = _tensor(a)
    if order is not None:
        raise NotImplementedError("argpartition: order= (structured arrays) is not supported")
    if axis is None:
        x, axis = ravel(x), 0
    kth = tuple(int(k) for k in np.atleast_1d(kth))
    return apply(_op("argpartition"), [x], {"kth": kth, "axis": _axis(axis, x.ndim, "argpartition")})


@implements(np.partition)
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """x read at np.argpartition's positions (numpy's own arrangement), so the gradient
    follows each entry back."""
    x = _tensor(a)
    if axis is None:
        x, axis = ravel(x), 0
    d = _axis(axis, x.ndim, "partition")
    return _take_along(x, argpartition(x, kth, d, kind, order), d)


@implements(np.lib.stride_tricks.sliding_window_view)
def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    """numpy's read-only view of the windows, one axis at a time (ops/shape.py `windows`):
    the gradient of each entry adds up over the windows that read it."""
    t = _tensor(x)
    shape = tuple(np.atleast_1d(window_shape).tolist())
    axes = tuple(range(t.ndim)) if axis is None else tuple(np.atleast_1d(axis).tolist())
    if len(shape) != len(axes):
        raise ValueError("sliding_window_view: window_shape and axis must have the same length")
    ndim = t.ndim  # (an axis names one of x's: the windows' axes go last)
    for a, size in zip(axes, shape):
        d = _axis(a, ndim, "sliding_window_view")
        if size > t.shape[d] or size < 0:
            raise ValueError("sliding_window_view: window shape cannot be larger than input array shape")
        t = apply(_op("windows"), [t], {"axis": d, "size": int(size), "step": 1})
    return t


@implements(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Sorted values; the gradient follows the (stable) permutation back."""
    if order is not None:
        raise NotImplementedError("sort: order= (structured arrays) is not supported")
    x = _tensor(a)
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis(axis, x.ndim, "sort")
    return _take_along(x, _argsort(x, axis), axis)


@implements(np.argsort)
def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Integer positions: no gradient flows through them, so a tensor needing grad is fine."""
    if order is not None:
        raise NotImplementedError("argsort: order= (structured arrays) is not supported")
    x = _tensor(a)
    if axis is None:
        x, axis = ravel(x), 0
    # numpy's own kind: its default (quicksort) orders ties otherwise than a stable sort
    kind = "stable" if stable else {"mergesort": "stable"}.get(kind, kind)
    if kind not in (None, "quicksort", "heapsort", "stable"):
        raise ValueError(f"argsort: sort kind must be one of 'quick', 'heap', or 'stable' (got {kind!r})")
    return _argsort(x, _axis(axis, x.ndim, "argsort"), kind=None if kind == "quicksort" else kind)


@implements(np.lexsort)
def lexsort(keys, axis=-1):
    """The positions that sort by the last key, ties broken by the one before it, and so
    on: a stable argsort by the first key, then by each next key read in that order (the
    argsort op, so a compiled function recomputes them from traced keys). A 2-D array's
    rows are the keys. Integers, no gradient."""
    if _is_tensor(keys) or isinstance(keys, np.ndarray):
        stacked = _tensor(keys)
        keys = [stacked[i] for i in range(stacked.shape[0])] if stacked.ndim else []
    keys = [_tensor(k) for k in keys]
    if not keys:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    if any(tuple(k.shape) != tuple(keys[0].shape) for k in keys):
        raise ValueError("all keys need to be the same shape")
    keys = [k.detach() if k.requires_grad or _is_traced(k) else k for k in keys]
    x = keys[0]
    if x.ndim == 0:
        return tensor_cls()._make(np.zeros((), np.intp))
    axis = _axis(axis, x.ndim, "lexsort")
    order = _argsort(x, axis)
    for k in keys[1:]:
        order = _take_along(order, _argsort(_take_along(k, order, axis), axis), axis)
    return order


# ---------------------------------------------------------------------------------------
# arrays from data, copies, and facts
# ---------------------------------------------------------------------------------------
def _contains_tensor(obj):
    if _is_tensor(obj):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tensor(o) for o in obj)
    return False


def _scalar_leaves(obj):
    """The Python scalars of a nested list, or None if it holds anything else."""
    if isinstance(obj, (bool, int, float, complex)) and not isinstance(obj, np.generic):
        return [obj]
    if isinstance(obj, (list, tuple)):
        out = []
        for o in obj:
            leaves = _scalar_leaves(o)
            if leaves is None:
                return None
            out += leaves
        return out
    return None


def _nested(obj):
    """A nested list holding tensors → one stacked tensor (with gradient)."""
    parts, dtype_items = [], []
    for o in obj:
        if _contains_tensor(o):
            o = o if _is_tensor(o) else _nested(o)
            dtype_items.append(o)
        else:
            leaves = _scalar_leaves(o)
            if leaves is not None:       # Python scalars stay weak, as in arithmetic
                dtype_items += leaves
                o = np.asarray(o)
            else:
                o = np.asarray(o)
                dtype_items.append(o)
        parts.append(o)
    dtype = _join_dtype(dtype_items)
    parts = [_as_dtype(p, dtype) for p in parts]
    if len({p.shape for p in parts}) != 1:
        raise ValueError("array: setting an array element with a sequence: the nested sequences have "
                         "inhomogeneous shapes " + ", ".join(str(p.shape) for p in parts))
    return stack(parts)


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    """numpy.array returning a tensor. A (nested) list holding tensors becomes one tensor
    stacked from them, which keeps their gradient."""
    Tensor = tensor_cls()
    if _is_tensor(object) or _contains_tensor(object):
        x = object if _is_tensor(object) else _nested(object)
        if dtype is not None and np.dtype(dtype) != x.dtype:
            x = x._cast_const(np.dtype(dtype))
        elif copy and x is object:
            x = globals()["copy"](x)
        if x.ndim < ndmin:
            x = _reshape(x, (1,) * (ndmin - x.ndim) + x.shape)
        return x
    return Tensor._make(np.array(object, dtype=dtype, copy=copy, order=order, ndmin=ndmin))


def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """numpy.asarray returning a tensor: a tensor is returned as it is."""
    if _is_tensor(a) and (dtype is None or np.dtype(dtype) == a.dtype) and not copy:
        return a
    if _is_tensor(a) or _contains_tensor(a):
        return array(a, dtype=dtype, copy=bool(copy))
    return tensor_cls()._make(np.asarray(a, dtype=dtype, order=order, copy=copy))


asanyarray = asarray


def ascontiguousarray(a, dtype=None, *, like=None):
    """numpy.ascontiguousarray: asarray, a copy where numpy's would be one (the data not
    C-contiguous as recorded: a later write into `a` does not reach it). The generated
    code's memory order is the compiler's business (codegen/layout.py); values and
    aliasing are numpy's. (numpy does not dispatch these to srcgrad: the user's calls
    reach them while numpy's converters are redirected, builders.py.)"""
    return _in_order(asarray(a, dtype=dtype), "c_contiguous")


def asfortranarray(a, dtype=None, *, like=None):
    """numpy.asfortranarray: asarray, a copy where the data is not Fortran-contiguous."""
    return _in_order(asarray(a, dtype=dtype), "f_contiguous")


def _in_order(t, flag):
    if isinstance(t, tensor_cls()) and not getattr(t._data.flags, flag):
        return apply(_op("copy"), [t], {})
    return t


@implements(np.asarray_chkfinite)
def asarray_chkfinite(a, dtype=None, order=None):
    """np.asarray(a) after checking that no float or complex entry is NaN or infinite
    (numpy's ValueError otherwise). The check is a decision on the data: in a compiled
    function a guard, so each call's data is checked again. (numpy's own asarray_chkfinite
    is not dispatched to srcgrad: it converts a tensor with np.asarray, which a traced
    one refuses; this is srcgrad.numpy's, and the one user code reaches when numpy's
    converters are redirected, builders.py.)"""
    from .elementwise import isfinite
    from .reductions import all as all_
    t = asarray(a, dtype=dtype, order=order)
    if t.dtype.kind in "fc" and not bool(all_(isfinite(t))):
        raise ValueError("array must not contain infs or NaNs")
    return t


@implements(np.copy)
def copy(a, order="K", subok=False):
    x = _tensor(a)
    if _is_traced(x) and not x.requires_grad:
        # recorded, so that a compiled function copies its argument rather than a constant
        return apply(_op("where"), [True, x, x], {})
    return x.clone()


def _like(fill):
    def like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
        data = _const_data(a)
        shape_ = data.shape if shape is None else _shape_arg(shape, "like")
        return tensor_cls()._make(fill(shape_, np.dtype(dtype) if dtype is not None else data.dtype))
    return like


zeros_like = implements(np.zeros_like)(_like(np.zeros))
ones_like = implements(np.ones_like)(_like(np.ones))
empty_like = implements(np.empty_like)(_like(np.zeros))  # zeros: reproducible, never stale data
zeros_like.__name__, ones_like.__name__, empty_like.__name__ = "zeros_like", "ones_like", "empty_like"


@implements(np.full_like)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    data = _const_data(a)
    shape_ = data.shape if shape is None else _shape_arg(shape, "full_like")
    if needs_grad(fill_value):
        raise NotImplementedError("full_like: a fill value that requires grad is not supported; "
                                  "use broadcast_to(value, shape)")
    return tensor_cls()._make(np.full(shape_, _static(fill_value, "full_like: the fill value"),
                                      np.dtype(dtype) if dtype is not None else data.dtype))


@implements(np.shape)
def shape(a):
    return tuple(a.shape) if _is_tensor(a) else np.shape(a)


@implements(np.ndim)
def ndim(a):
    return a.ndim if _is_tensor(a) else np.ndim(a)


@implements(np.size)
def size(a, axis=None):
    if not _is_tensor(a):
        return np.size(a, axis)
    return a._data.size if axis is None else a.shape[axis]


# -- constructors: numpy's defaults (float64, int64 ranges), returning tensors ---------------
def _construct(fn):
    def construct(*args, **kwargs):
        return run_without_gradient(fn, fn.__name__, args, kwargs)
    construct.__name__ = fn.__name__
    construct.__doc__ = f"numpy.{fn.__name__}, returning a tensor."
    return construct


zeros = _construct(np.zeros)
ones = _construct(np.ones)
empty = _construct(np.zeros)  # zeros: reproducible, never stale data
empty.__name__ = "empty"
full = _construct(np.full)
eye = _construct(np.eye)
identity = _construct(np.identity)
arange = _construct(np.arange)
class _Joiner:
    """`np.r_[...]` (rows: pieces joined along the first axis) and `np.c_[...]` (columns:
    1-d pieces become columns, joined along the last axis), for pieces that are tensors.
    Slices are ranges as in numpy (`1:5`, `0:1:5j`); without a tensor among the pieces,
    and for numpy's string directives, numpy's own object does the work."""

    def __init__(self, numpy_obj, columns):
        self.numpy_obj, self.columns = numpy_obj, columns

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not any(_is_tensor(x) for x in items) or any(isinstance(x, str) for x in items):
            return self.numpy_obj[key]
        pieces = []
        for x in items:
            if isinstance(x, slice):
                x = self.numpy_obj[x]
            t = atleast_1d(_tensor(x))
            if self.columns and t.ndim == 1:
                t = reshape(t, (-1, 1))
            pieces.append(t)
        return _concatenate(pieces, -1 if self.columns else 0, name="c_" if self.columns else "r_")


r_ = _Joiner(np.r_, columns=False)
c_ = _Joiner(np.c_, columns=True)

_plain_linspace = _construct(np.linspace)


@implements(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """numpy's linspace; differentiable in start and stop when they are tensors, by
    numpy's own formula: start + i * ((stop - start) / div), the last point exactly stop."""
    if not (_is_tensor(start) or _is_tensor(stop)) or retstep or dtype is not None or axis != 0:
        if _is_tensor(start) or _is_tensor(stop):
            return run_without_gradient(np.linspace, "linspace", (start, stop, num),
                                        dict(endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis))
        return _plain_linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    a, b = (x._cast_const(np.float64) if x.dtype.kind in "iub" else x for x in (_tensor(start), _tensor(stop)))
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    div = num - 1 if endpoint else num
    shape = np.broadcast_shapes(a.shape, b.shape)
    steps = np.arange(num, dtype=np.result_type(a.dtype, b.dtype)).reshape((num,) + (1,) * len(shape))
    y = steps * ((b - a) / div) + a if div > 0 else steps * (b - a) + a
    if endpoint and num > 1:
        y = _concatenate([y[:-1], expand_dims(broadcast_to(b, shape), 0)], 0)
    return y


# ---------------------------------------------------------------------------------------
# PyTorch's spellings (Tensor methods and srcgrad.cat/stack/flatten/split call these)
# ---------------------------------------------------------------------------------------
SortResult = namedtuple("sort", ["values", "indices"])


def _dims(dims):
    """torch's `*dims` arguments: ints, or one tuple/list."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


def torch_flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return _reshape(x, (1,))
    s, e = _axis(start_dim, x.ndim, "flatten"), _axis(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x  # nothing flattened: PyTorch returns the tensor itself
    return _reshape(x, x.shape[:s] + (int(np.prod(x.shape[s:e + 1], dtype=np.int64)),) + x.shape[e + 1:])


def torch_split(x, split_size_or_sections, dim=0):
    dim = _axis(dim, x.ndim, "split")
    n = x.shape[dim]
    if _is_int(split_size_or_sections):
        size = int(split_size_or_sections)
        if size <= 0 and n:
            raise RuntimeError(f"split expects split_size be positive, but got split_size={size}")
        bounds = list(range(0, n, size)) + [n] if n else [0, 0]
    else:
        sizes = [_index(s, "split: section size") for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                               f"size at dimension {dim}), but got split_sizes={sizes}")
        bounds = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).tolist()
    return tuple(_pieces(x, bounds, dim))


def torch_chunk(x, chunks, dim=0):
    chunks = _index(chunks, "chunk: chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = _axis(dim, x.ndim, "chunk")
    n = x.shape[dim]
    return torch_split(x, max(-(-n // chunks), 1), dim)


def torch_cat(tensors, dim=0):
    return _concatenate(_joinable(tensors, "cat"), dim, None, "cat")


def torch_stack(tensors, dim=0):
    from ..autograd.recording import named
    return named(stack(tensors, axis=dim), "StackBackward0", inputs=list(tensors))


def torch_narrow(x, dim, start, length):
    dim = _axis(dim, x.ndim, "narrow")
    n = x.shape[dim]
    start = _index(start, "narrow: start")
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) "
                           f"of shape {tuple(x.shape)}")
    return _getitem(x, _along(dim, Slice(start, start + length, None)))


def torch_repeat(x, sizes):
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           f"dimensions of tensor ({sizes} for shape {tuple(x.shape)})")
    return tile(x, sizes)


def torch_roll(x, shifts, dims=None):
    return roll(x, shifts, dims)


def torch_sort(x, dim=-1, descending=False, stable=False):
    axis = _axis(dim, x.ndim, "sort") if x.ndim else 0
    if x.ndim == 0:
        return SortResult(copy(x), tensor_cls()._make(np.zeros((), np.int64)))
    idx = _argsort(x, axis, descending)
    return SortResult(_take_along(x, idx, axis), idx)


def torch_argsort(x, dim=-1, descending=False, stable=False):
    if x.ndim == 0:
        return tensor_cls()._make(np.zeros((), np.int64))
    return _argsort(x, _axis(dim, x.ndim, "argsort"), descending)


# -- numpy 2's array-API spellings --------------------------------------------------------
if hasattr(np, "permute_dims"):
    implements(np.permute_dims)(transpose)

if hasattr(np, "matrix_transpose"):
    @implements(np.matrix_transpose)
    def matrix_transpose(x, /):
        """The last two axes swapped."""
        t = _tensor(x)
        if t.ndim < 2:
            raise ValueError(f"matrix_transpose: input array must be at least 2-dimensional, got shape {tuple(t.shape)}")
        return swapaxes(t, -1, -2)

    __all__.append("matrix_transpose")

if hasattr(np, "unstack"):
    @implements(np.unstack)
    def unstack(x, /, *, axis=0):
        """The slices along `axis`, as a tuple (the inverse of stack)."""
        t = moveaxis(_tensor(x), _axis(axis, _tensor(x).ndim, "unstack"), 0)
        return tuple(t[i] for i in range(t.shape[0]))

    __all__.append("unstack")


@implements(np.resize)
def resize(a, new_shape):
    """The flattened data repeated cyclically to fill `new_shape` (a gather of constant
    positions: entries used several times add their gradients)."""
    x = _tensor(a)
    shape = _shape_arg(new_shape, "resize")
    n = int(np.prod(shape, dtype=np.int64))
    if n and not x.numel():
        return _tensor(np.resize(x._data, shape))
    return ravel(x)[np.arange(n) % (x.numel() or 1)].reshape(shape)


@implements(np.choose)
def choose(a, choices, out=None, mode="raise"):
    """choices[a[i]][i] for each position i (a: integer indices, constant or traced;
    choices broadcast together): a gather along a stacked first axis."""
    idx = _integer_indices(a, "choose")
    options = [_tensor(c) for c in choices]
    n = len(options)
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = idx.clip(0, n - 1)
    elif mode != "raise":
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    shape = np.broadcast_shapes(tuple(idx.shape), *(tuple(c.shape) for c in options))
    stacked = stack([broadcast_to(c, shape) for c in options], axis=0)
    idx = np.broadcast_to(idx, shape) if isinstance(idx, np.ndarray) else broadcast_to(idx, shape)
    _check_bounds(idx, n, 0, "choose")
    return _take_along(stacked, idx[None], 0)[0]


@implements(np.put_along_axis)
def put_along_axis(arr, indices, values, axis):
    """arr[... indices ...] = values along `axis`, in place (a recorded write: arr's
    history and gradient follow, as for `arr[i] = v`)."""
    if not isinstance(arr, tensor_cls()):
        return _into_plain_array(np.put_along_axis, "put_along_axis", (arr, indices, values, axis), {})
    x = arr
    idx = _integer_indices(indices, "put_along_axis")
    if axis is None:
        raise NotImplementedError("put_along_axis: axis=None is not supported by srcgrad")
    axis = _axis(axis, x.ndim, "put_along_axis")
    if idx.ndim != x.ndim:
        raise ValueError(f"put_along_axis: `indices` and `arr` must have the same number of dimensions "
                         f"(shapes {tuple(idx.shape)} and {tuple(x.shape)})")
    _check_bounds(idx, x.shape[axis], axis, "put_along_axis")
    full = np.broadcast_shapes(tuple(idx.shape), tuple(s if d != axis else 1 for d, s in enumerate(x.shape)))
    index = tuple((np.broadcast_to(idx, full) if isinstance(idx, np.ndarray) else broadcast_to(idx, full))
                  if d == axis else
                  np.arange(x.shape[d]).reshape([-1 if k == d else 1 for k in range(x.ndim)])
                  for d in range(x.ndim))
    x[index] = broadcast_to(_tensor(values).astype(x.dtype), full)


@implements(np.copyto)
def copyto(dst, src, casting="same_kind", where=True):
    """dst[...] = src (where the mask holds), in place: dst must be a srcgrad tensor."""
    if not isinstance(dst, tensor_cls()):
        return _into_plain_array(np.copyto, "copyto", (dst, src), dict(casting=casting, where=where))
    value = broadcast_to(_tensor(src).astype(dst.dtype), tuple(dst.shape))
    if where is not True:
        from .elementwise import where as select
        value = select(broadcast_to(_tensor(where), tuple(dst.shape)), value, dst)
    dst[...] = value


def _into_plain_array(fn, name, args, kwargs):
    """A write into a plain numpy array: numpy's own, on data that needs no gradient.
    Inside a compiled function, the function is traced again with numpy's builders making
    tensors (`np.zeros` & co: TraceError.needs_builders); elsewhere a value that needs a
    gradient is refused (it would be lost)."""
    from ..autograd.recording import TRACER, numpy_code
    if (any(_is_traced(a) for a in args) if TRACER[0] is not None else numpy_code() and needs_grad(args)):
        from ..trace import TraceError
        err = TraceError(f"{name}: a traced value written into a plain numpy array would lose its "
                         f"gradient: make the array from a traced one (np.zeros_like(x))")
        err.needs_builders = True  # (run again with np.zeros & co making tensors; op by op too)
        raise err
    return run_without_gradient(fn, name, args, kwargs)
