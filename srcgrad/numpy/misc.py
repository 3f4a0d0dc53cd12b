"""numpy's wider numerical vocabulary over tensors: differences, insertion and deletion,
convolution, polynomials, interpolation, order statistics, NaN-ignoring reductions,
covariance, grids, integration and numerical gradients — plus the integer- and
boolean-valued helpers that numerical code calls next to them.

Everything differentiable is a composite of ops that have derivative rules (slices,
integer-array gathers, concatenate, where, sort, cumprod, matmul, sums), so every
gradient is exact and can be differentiated again:

- `diff`, `ediff1d`, `gradient`, `trapezoid` are slices and arithmetic;
- `insert`, `delete`, `append` are one gather from the joined data (numpy itself works
  out which entry lands where, on arrays of positions);
- `convolve`/`correlate` gather the sliding windows into a matrix and multiply it with
  the kernel, so both inputs get gradients;
- `median`, `percentile`, `quantile` (and their nan- forms) sort, gather and interpolate:
  the gradient follows the sort back to the entries used;
- `interp` gathers the bracketing points found by the `searchsorted` op
  (srcgrad/ops/misc.py: integer positions recomputed by a compiled function, no gradient);
- `nanmean` & co replace NaN with a neutral value by `where` (so NaN entries get 0).

Integer results (`searchsorted`, `digitize`, `nonzero`, `argwhere`, `flatnonzero`,
`unique`'s indices, `*_indices`) and boolean ones (`isclose`; `allclose`, `array_equal`
give Python bools) carry no gradient. Functions whose result's *shape* depends on the
data (`nonzero`, `argwhere`, `flatnonzero`, `unique`) run eagerly; inside a compiled
function they raise (their value would be frozen into the generated code).

Values follow numpy; where numpy would widen float32 to float64 (`interp`, `cov`,
`corrcoef`) the result keeps the inputs' float dtype, as everywhere in srcgrad (float32
stays float32); integer data computes in float64.
"""
import builtins
import math

import numpy as np

from .. import ops as _ops
from ..autograd.recording import apply
from ..ops.indexing import Arg, Slice, numpy_index, split_index, traced_nonzero
from ._dispatch import implements, needs_grad, run_without_gradient, tensor_cls
from .elementwise import isnan, logical_and, logical_not, logical_or, signbit, sqrt, trunc, where
from .elementwise import isfinite as _isfinite
from .elementwise import where as _select  # (for functions whose where= parameter shadows it)
from .elementwise import abs as _abs
from .elementwise import clip as _clip
from .elementwise import elementwise as _elementwise
from .reductions import _axes as _reduction_axes
from .reductions import _floating, amax, amin, argmax, argmin, average, count_nonzero, cumprod, cumsum, prod
from .reductions import all as _all
from .reductions import any as _any
from .reductions import sum as _sum
from .shape import (_along, _axes, _axis, _getitem, _index, _into_plain_array, _is_tensor, _is_traced, _reshape,
                    _static, _take_along, _tensor, _transpose, atleast_1d, atleast_2d, broadcast_arrays,
                    broadcast_to, concatenate, copy, diag, diagonal, flip, linspace, moveaxis, ravel, sort, take)

__all__ = [
    "diff", "ediff1d", "append", "insert", "delete", "convolve", "correlate", "polyval", "interp",
    "median", "percentile", "quantile", "nanmedian", "nanpercentile", "nanquantile", "nanmean",
    "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "nancumsum", "nancumprod", "nanargmax",
    "nanargmin", "cov", "corrcoef", "meshgrid", "vander", "trapezoid", "trapz", "gradient", "isclose",
    "allclose", "array_equal", "array_equiv", "searchsorted", "digitize", "unique", "nonzero",
    "argwhere", "flatnonzero", "triu_indices", "tril_indices", "diag_indices", "triu_indices_from",
    "tril_indices_from", "diag_indices_from", "fill_diagonal", "real", "imag", "conj", "conjugate",
    "angle", "bincount", "select", "piecewise", "heaviside", "copysign", "fmod", "float_power", "diagflat",
    "polyfit", "apply_along_axis", "polyadd", "polysub", "polymul", "polyder", "polyint", "put",
    "unravel_index", "unwrap", "isin", "trim_zeros", "histogram_bin_edges", "putmask", "place",
]

_NoValue = np._NoValue


def _make(data):
    return tensor_cls()._make(np.asarray(data))


def _nan(dtype):
    """NaN as a 0-d array: a fill value that compiled kernels read as data (a NaN literal
    cannot be written into a fused kernel)."""
    return np.full((), np.nan, dtype)


def _slice(x, axis, start, stop):
    """x[..., start:stop, ...] along `axis` (a view; its gradient is a slice too)."""
    return _getitem(x, _along(axis, Slice(start, stop, None)))


def _gather(x, index):
    """x[index] for an integer array (or traced integer tensor) index of any shape."""
    return _getitem(x, (Arg(0),), [index])


def _promoted(*xs):
    from ..tensor import _promote
    return _promote([_tensor(x) for x in xs])


def _float_common(*xs):
    """Tensors in one float dtype: integers become float64, floats keep the widest float."""
    xs = [_floating(_tensor(x)) for x in xs]
    dt = np.result_type(*[x.dtype for x in xs])
    return [x._cast_const(dt) for x in xs]


def _refuse_complex(name, *xs):
    for x in xs:
        if _is_tensor(x) and x.dtype.kind == "c":
            raise NotImplementedError(f"{name}: complex data is not supported by srcgrad")


def _keepdims(keepdims):
    return False if keepdims is _NoValue else bool(keepdims)



def _no_where(where, name):
    if where is not _NoValue and where is not True:
        raise NotImplementedError(f"{name}: where= is not supported by srcgrad")


def _data_dependent_shape(x, name):
    """Refuse inside a compiled function: the result's shape depends on the data."""
    if _is_traced(x):
        from ..trace import escape
        escape(x, f"numpy.{name} (whose result's shape depends on the data)")


# ---------------------------------------------------------------------------------------
# differences, appending, inserting, deleting
# ---------------------------------------------------------------------------------------
@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=_NoValue, append=_NoValue):
    """n-th discrete difference along `axis` (booleans: not_equal, as numpy)."""
    n = _index(n, "diff: order n")
    x = _tensor(a)
    if n == 0:
        return x
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    if x.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = _axis(axis, x.ndim, "diff")
    def edge(value):
        if isinstance(value, (bool, int, float)):   # numpy's asanyarray: float32 and 0.0 join as float64
            value = np.asarray(value)
        v = _tensor(value)
        return broadcast_to(v, x.shape[:axis] + (1,) + x.shape[axis + 1:]) if v.ndim == 0 else v

    before = [] if prepend is _NoValue else [edge(prepend)]
    after = [] if append is _NoValue else [edge(append)]
    if before or after:
        x = concatenate(before + [x] + after, axis=axis)
    for _ in range(n):
        hi, lo = _slice(x, axis, 1, None), _slice(x, axis, None, -1)
        x = _elementwise("ne", hi, lo) if x.dtype == np.bool_ else hi - lo
    return x


@implements(np.ediff1d)
def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of the flattened array, with optional values before/after (cast to its dtype)."""
    x = ravel(_tensor(ary))
    parts = [_slice(x, 0, 1, None) - _slice(x, 0, None, -1)]
    if to_begin is not None:
        parts.insert(0, ravel(_tensor(to_begin))._cast_const(x.dtype))
    if to_end is not None:
        parts.append(ravel(_tensor(to_end))._cast_const(x.dtype))
    return parts[0] if len(parts) == 1 else concatenate(parts)


@implements(np.unwrap)
def unwrap(p, discont=None, axis=-1, *, period=2 * math.pi):
    """numpy's unwrap, step by step: each difference between neighbours along `axis` of at
    least `discont` (period / 2 by default) is brought into [-period/2, period/2] by
    mod, and the corrections (ddmod - dd: whole multiples of period, decided by the data
    and recomputed by a compiled function) add up along the axis. A correction's
    derivative in p is 1 - 1 = 0 (mod's derivative in its first argument is 1), so the
    gradient reaches p unchanged, and a period given as a tensor gets the multiples."""
    x = _tensor(p)
    axis = _axis(axis, x.ndim, "unwrap") if x.ndim else axis
    dd = diff(x, axis=axis)
    if discont is None:
        discont = period / 2
    dtype = np.result_type(dd.dtype, period.dtype if _is_tensor(period) else period)
    if np.issubdtype(dtype, np.integer):
        high, rem = builtins.divmod(period, 2)
        ambiguous = builtins.bool(rem == 0)
    else:
        high, ambiguous = period / 2, True
    low = -high
    ddmod = _elementwise("mod", dd - low, period) + low
    if ambiguous:  # (a jump of exactly period/2 keeps its sign, as numpy's)
        ddmod = where(logical_and(ddmod == low, dd > 0), high, ddmod)
    correction = where(_abs(dd) < discont, 0, ddmod - dd)
    up = x if x.dtype == dtype else x._cast_const(dtype)
    first = _slice(up, axis, 0, 1)
    return concatenate([first, _slice(up, axis, 1, None) + cumsum(correction, axis)], axis=axis)


@implements(np.append)
def append(arr, values, axis=None):
    x, v = _tensor(arr), _tensor(values)
    if axis is None:
        x, v, axis = ravel(x), ravel(v), 0
    return concatenate((x, v), axis=axis)


def _positions(shape, offset=0):
    return offset + np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.intp).reshape(shape)


def _obj(obj, name):
    if _is_tensor(obj):
        return _static(obj, f"{name}: the index object")
    return obj


@implements(np.insert)
def insert(arr, obj, values, axis=None):
    """numpy.insert: values are cast to arr's dtype; both arr and values get gradients.
    numpy works out the layout on arrays of positions; the result is one gather."""
    x = _tensor(arr)
    v = _tensor(values)
    if v.dtype != x.dtype:
        v = v._cast_const(x.dtype)
    layout = np.insert(_positions(x.shape), _obj(obj, "insert"), _positions(v.shape, x._data.size), axis=axis)
    return _gather(concatenate([ravel(x), ravel(v)]), layout)


@implements(np.delete)
def delete(arr, obj, axis=None):
    x = _tensor(arr)
    layout = np.delete(_positions(x.shape), _obj(obj, "delete"), axis=axis)
    return _gather(ravel(x), layout)


# ---------------------------------------------------------------------------------------
# convolution and correlation
# ---------------------------------------------------------------------------------------
def _vectors(a, v, name):
    a, v = _promoted(atleast_1d(_tensor(a)), atleast_1d(_tensor(v)))
    _refuse_complex(name, a, v)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"{name}: object too deep for desired array (inputs of shapes {tuple(a.shape)} and {tuple(v.shape)}; "
                         f"1-D sequences are required)")
    if a.shape[0] == 0:
        raise ValueError(f"{name}: a cannot be empty")
    if v.shape[0] == 0:
        raise ValueError(f"{name}: v cannot be empty")
    return a, v


def _correlate_window(a, v, start, length):
    """z[k] = sum_j a[k - (m-1) + j] v[j] for k in [start, start+length) (a zero outside
    its range): the needed windows of a, gathered into a (length, m) matrix, times v."""
    n, m = a.shape[0], v.shape[0]
    first = start - (m - 1)                      # the lowest position of a read
    last = start + length - 1                    # the highest
    pad_lo, pad_hi = builtins.max(0, -first), builtins.max(0, last - (n - 1))
    if pad_lo or pad_hi:
        zeros = [np.zeros(pad_lo, a.dtype)] if pad_lo else []
        a = concatenate(zeros + [a] + ([np.zeros(pad_hi, a.dtype)] if pad_hi else []))
    index = (first + pad_lo + np.arange(length))[:, None] + np.arange(m)[None, :]
    return _gather(a, index) @ v


def _correlate_range(n, m, mode, name):
    """Where numpy's correlate(a, v, mode) lies in the full correlation (length n + m - 1)."""
    if mode in ("full", 2):
        return 0, n + m - 1
    if mode in ("same", 1):
        return (m - 1 - m // 2, n) if n >= m else (n // 2, m)
    if mode in ("valid", 0):
        return (m - 1, n - m + 1) if n >= m else (n - 1, m - n + 1)
    raise ValueError(f"{name}: mode must be one of 'valid', 'same' or 'full', got {mode!r}")


@implements(np.correlate)
def correlate(a, v, mode="valid"):
    """Cross-correlation of two 1-D sequences, c[k] = sum_n a[n+k] v[n] (modes 'valid',
    'same', 'full' as numpy); gradients with respect to both."""
    a, v = _vectors(a, v, "correlate")
    start, length = _correlate_range(a.shape[0], v.shape[0], mode, "correlate")
    return _correlate_window(a, v, start, length)


@implements(np.convolve)
def convolve(a, v, mode="full"):
    """Discrete linear convolution of two 1-D sequences (modes 'full', 'same', 'valid' as
    numpy); gradients with respect to both."""
    a, v = _vectors(a, v, "convolve")
    if v.shape[0] > a.shape[0]:
        a, v = v, a
    start, length = _correlate_range(a.shape[0], v.shape[0], mode, "convolve")
    return _correlate_window(a, flip(v), start, length)


# ---------------------------------------------------------------------------------------
# polynomials and interpolation
# ---------------------------------------------------------------------------------------
@implements(np.polyval)
def polyval(p, x):
    """p[0] x^(N-1) + ... + p[N-1] by Horner's rule, as numpy computes it; gradients with
    respect to the coefficients and x."""
    if isinstance(p, np.poly1d):
        p = p.coeffs
    P, X = _tensor(p), _tensor(x)
    if P.ndim == 0:
        raise TypeError("polyval: p must be a sequence of coefficients (iteration over a 0-d array)")
    y = _make(np.zeros_like(X._data))
    for i in range(P.shape[0]):
        y = y * X + P[i]
    return y


def _coefficients(p, name):
    if isinstance(p, np.poly1d):
        raise NotImplementedError(f"{name}: np.poly1d objects hold numpy arrays and cannot carry a "
                                  f"gradient; pass the coefficients as an array")
    P = atleast_1d(_tensor(p))
    if P.ndim != 1:
        raise ValueError(f"{name}: coefficients must be a 1-D sequence (got shape {tuple(P.shape)})")
    return P


def _aligned(a1, a2, name):
    """Two coefficient vectors, the shorter padded with leading zeros (highest power first)."""
    A, B = _coefficients(a1, name), _coefficients(a2, name)
    A, B = _promoted(A, B)
    d = A.shape[0] - B.shape[0]
    if d > 0:
        B = concatenate([_make(np.zeros(d, B.dtype)), B])
    elif d < 0:
        A = concatenate([_make(np.zeros(-d, A.dtype)), A])
    return A, B


@implements(np.polyadd)
def polyadd(a1, a2):
    """Sum of two polynomials (coefficients highest power first)."""
    A, B = _aligned(a1, a2, "polyadd")
    return A + B


@implements(np.polysub)
def polysub(a1, a2):
    """Difference of two polynomials (coefficients highest power first)."""
    A, B = _aligned(a1, a2, "polysub")
    return A - B


@implements(np.polymul)
def polymul(a1, a2):
    """Product of two polynomials: the convolution of their coefficients."""
    return convolve(_coefficients(a1, "polymul"), _coefficients(a2, "polymul"))


@implements(np.polyder)
def polyder(p, m=1):
    """The m-th derivative's coefficients: p[:-1] * (n, ..., 1), m times."""
    m = int(m)
    if m < 0:
        raise ValueError("polyder: order of derivative must be positive (see polyint)")
    P = _coefficients(p, "polyder")
    powers = np.float64 if P.dtype.kind == "f" else np.int64  # (numpy's result: float64 for float32 too)
    for _ in range(m):
        n = P.shape[0] - 1
        P = P[:-1] * np.arange(n, 0, -1, dtype=powers)
    return P


@implements(np.polyint)
def polyint(p, m=1, k=None):
    """The m-th antiderivative's coefficients, integration constants k (default 0)."""
    m = int(m)
    if m < 0:
        raise ValueError("polyint: order of integral must be positive (see polyder)")
    K = _make(np.zeros(m)) if k is None else atleast_1d(_tensor(k))
    if K.ndim != 1 or K.shape[0] not in (1, m) and m:
        raise ValueError("polyint: k must be a scalar or a rank-1 array of length 1 or >m.")
    if m and K.shape[0] == 1 and m > 1:
        K = concatenate([K] * m)
    P = _coefficients(p, "polyint")
    for i in range(m):
        P = concatenate([P / np.arange(P.shape[0], 0, -1, dtype=np.float64), _reshape(K[i], (1,))])
    return P


@implements(np.put)
def put(a, ind, v, mode="raise"):
    """numpy.put, in place: `a.flat[ind] = v`, v repeated as numpy repeats it, indices
    wrapped or clipped by mode."""
    if not _is_tensor(a):
        if needs_grad(v) or _is_traced(v):
            raise NotImplementedError("put: writing a tensor that needs a gradient into a numpy array "
                                      "would lose the gradient")
        np.put(a, np.asarray(ind), v._data if _is_tensor(v) else v, mode=mode)
        return None
    if _is_tensor(ind):
        raise NotImplementedError("put: the indices must be known (a list or a numpy array), not a tensor")
    index = np.asarray(ind, dtype=np.intp).reshape(-1)
    size = int(a._data.size)
    if mode == "wrap":
        index = index % size if size else index
    elif mode == "clip":
        index = np.clip(index, 0, size - 1)
    elif mode != "raise":
        raise ValueError(f"put: clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    elif index.size and (index.max() >= size or index.min() < -size):
        bad = index[(index >= size) | (index < -size)][0]
        raise IndexError(f"put: index {bad} is out of bounds for an array of size {size}")
    if not index.size:
        return None
    V = ravel(_tensor(v))
    if V._data.size == 0:
        return None
    if V._data.size != index.size:
        V = _gather(V, np.arange(index.size) % V._data.size)
    a[np.unravel_index(index % size, a.shape)] = V
    return None


@implements(np.putmask)
def putmask(a, /, mask, values):
    """numpy.putmask, in place: a.flat[i] = values.flat[i % len(values)] wherever
    mask.flat[i] holds — values repeat by position in a (np.place's repeat by the count
    of true entries instead). One recorded write of where(mask, values, a): a mask computed
    from traced data is recomputed by a compiled function, values get the gradient where
    the mask holds and a's earlier entries elsewhere."""
    if not _is_tensor(a):
        return _into_plain_array(np.putmask, "putmask", (a, mask, values), {})
    m = _tensor(mask)
    size = int(a._data.size)
    if int(m._data.size) != size:
        raise ValueError("putmask: mask and data must be the same size")
    V = ravel(_tensor(values))
    n = V.shape[0]
    if n == 0:
        return None
    V = _reshape(V if n == size else _gather(V, np.arange(size) % n), a.shape)
    a[...] = where(_reshape(m.astype(np.bool_), a.shape), V.astype(a.dtype), a)
    return None


@implements(np.place)
def place(arr, mask, vals):
    """numpy.place, in place: the entries of arr where mask holds get vals[0], vals[1], ...
    in order, vals repeated when shorter — by the count of true entries before each (not
    its position, as np.putmask). The k-th true entry reads vals[(cumsum(mask) - 1) % n]:
    a gather a compiled function recomputes from a traced mask (no guard on how many hold),
    written in one recorded write of where(mask, ..., arr)."""
    if not _is_tensor(arr):
        return _into_plain_array(np.place, "place", (arr, mask, vals), {})
    m = ravel(_tensor(mask)).astype(np.bool_)
    if m.shape[0] != int(arr._data.size):
        raise ValueError("place: mask and data must be the same size")
    V = ravel(_tensor(vals))
    n = V.shape[0]
    if n == 0:
        if builtins.bool(_any(m)):   # (a decision on the mask: in a compiled function, a guard)
            raise ValueError("Cannot insert from an empty array!")
        return None
    k = (cumsum(m.astype(np.intp)) - 1) % n
    picked = _reshape(_gather(V, k), arr.shape).astype(arr.dtype)
    arr[...] = where(_reshape(m, arr.shape), picked, arr)
    return None


@implements(np.unravel_index)
def unravel_index(indices, shape, order="C"):
    """Coordinates of flat indices: by integer division when the indices are computed
    (np.argmin(x) in a compiled function), as numpy otherwise."""
    if not _is_tensor(indices):
        return np.unravel_index(indices, shape, order=order)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: only int indices permitted (got {indices.dtype})")
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)
    if order not in ("C", "F"):
        raise ValueError("unravel_index: only 'C' or 'F' order is permitted")
    dims = list(reversed(shape)) if order == "C" else list(shape)
    coords, rest = [], indices
    for d in dims[:-1]:
        coords.append(rest % d)
        rest = rest // d
    coords.append(rest)
    return tuple(reversed(coords)) if order == "C" else tuple(coords)


@implements(np.polyfit)
def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Least-squares polynomial coefficients, highest power first, as numpy computes them
    (Vandermonde columns scaled to unit norm, then lstsq): differentiable in y and x."""
    from .linalg import lstsq
    if full or w is not None or cov:
        raise NotImplementedError("polyfit: full=, w= and cov= are not supported by srcgrad")
    deg = int(deg)
    if deg < 0:
        raise ValueError("polyfit: expected deg >= 0")
    X, Y = _tensor(x), _tensor(y)
    if X.ndim != 1 or X.shape[0] == 0:
        raise TypeError("polyfit: expected a non-empty 1-D vector for x")
    if Y.ndim not in (1, 2) or Y.shape[0] != X.shape[0]:
        raise TypeError("polyfit: expected a 1-D or 2-D y with as many rows as x has entries")
    dtype = np.result_type(X.dtype, Y.dtype, np.float32)  # (numpy's lstsq: the common float type)
    X, Y = X.astype(dtype), Y.astype(dtype)
    lhs = vander(X, deg + 1)
    scale = sqrt(_sum(lhs * lhs, axis=0))
    c = lstsq(lhs / scale, Y, X.shape[0] * np.finfo(np.float64).eps if rcond is None else rcond)[0]
    return c / (scale if Y.ndim == 1 else scale[:, None])


@implements(np.apply_along_axis)
def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """func1d on each 1-D slice along `axis`, called with the slices as tensors (so
    recorded, and differentiated), its results stacked where that axis was."""
    from .shape import moveaxis, stack
    x = _tensor(arr)
    axis = _axis(axis, x.ndim, "apply_along_axis")
    moved = moveaxis(x, axis, -1)
    outer = tuple(moved.shape[:-1])
    if 0 in outer:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    results = [_tensor(func1d(moved[idx], *args, **kwargs)) for idx in np.ndindex(*outer)]
    out = stack(results).reshape(outer + tuple(results[0].shape))
    k = results[0].ndim
    return moveaxis(out, list(range(len(outer), len(outer) + k)), list(range(axis, axis + k)))


def _searchsorted(a, v, side):
    return apply(_ops.get("searchsorted"), [a, v], {"side": side})


@implements(np.interp)
def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation (numpy.interp). Gradients reach x (the slope of its
    segment; 0 outside [xp[0], xp[-1]]), fp, xp, and left/right when given as tensors.
    The segment of each x comes from the `searchsorted` op: no gradient, recomputed by
    a compiled function."""
    X, XP, FP = _float_common(x, xp, fp)
    _refuse_complex("interp", X, XP, FP)
    if XP.ndim != 1 or FP.ndim != 1:
        raise ValueError("interp: xp and fp must be 1-D sequences")
    if XP.shape[0] != FP.shape[0]:
        raise ValueError("fp and xp are not of the same length.")
    if XP.shape[0] == 0:
        raise ValueError("array of sample points is empty")
    if period is not None:
        period = builtins.abs(float(_static(period, "interp: period")))
        if period == 0:
            raise ValueError("period must be a non-zero value")
        left = right = None
        X = _elementwise("mod", X, period)
        XP = _elementwise("mod", XP, period)
        order = apply(_ops.get("argsort"), [XP], {"axis": 0, "descending": False})
        XP, FP = _gather(XP, order), _gather(FP, order)
        XP = concatenate([_slice(XP, 0, -1, None) - period, XP, _slice(XP, 0, 0, 1) + period])
        FP = concatenate([_slice(FP, 0, -1, None), FP, _slice(FP, 0, 0, 1)])
    n = XP.shape[0]
    lo_val = FP[0] if left is None else left._cast_const(X.dtype) if _is_tensor(left) else left
    hi_val = FP[n - 1] if right is None else right._cast_const(X.dtype) if _is_tensor(right) else right
    if n == 1:   # numpy: left below, right above, fp[0] otherwise (NaN included)
        return where(X < XP[0], lo_val, where(X > XP[0], hi_val, FP[0]))
    j = _searchsorted(XP, X, "right") - 1
    j = _clip(j, 0, n - 2)
    x0, x1, f0, f1 = _gather(XP, j), _gather(XP, j + 1), _gather(FP, j), _gather(FP, j + 1)
    y = (f1 - f0) / (x1 - x0) * (X - x0) + f0
    y = where(X == XP[n - 1], FP[n - 1], y)   # numpy's exact value at the last point
    y = where(X < XP[0], lo_val, y)
    return where(X > XP[n - 1], hi_val, y)


# ---------------------------------------------------------------------------------------
# order statistics: median, quantile, percentile (and the NaN-ignoring forms)
# ---------------------------------------------------------------------------------------
# methods whose virtual index (into the sorted data) is continuous: (alpha, beta) of
# Hyndman and Fan (None: numpy's own formula), interpolated linearly between neighbours
_CONTINUOUS = {"linear": None, "midpoint": None, "hazen": (0.5, 0.5), "weibull": (0.0, 0.0),
               "median_unbiased": (1 / 3.0, 1 / 3.0), "normal_unbiased": (3 / 8.0, 3 / 8.0),
               "interpolated_inverted_cdf": (0.0, 1.0)}
_DISCRETE = {"lower": "floor", "higher": "ceil", "nearest": "rint"}


def _reduced_last(x, axis, name):
    """x with the reduced axes moved to the end and flattened into one: (kept..., N)."""
    nd = x.ndim
    red = tuple(range(nd)) if axis is None else (_reduction_axes(axis, nd, name) or tuple(range(nd)))
    kept = [d for d in range(nd) if d not in red]
    n = int(np.prod([x.shape[d] for d in red], dtype=np.int64))
    xt = _reshape(_transpose(x, kept + list(red)), tuple(x.shape[d] for d in kept) + (n,))
    keep_shape = tuple(1 if d in red else x.shape[d] for d in range(nd))
    return xt, keep_shape


def _check_quantiles(q):
    ok = _all(logical_and(q >= 0, q <= 1))
    if not builtins.bool(ok):
        raise ValueError("Quantiles must be in the range [0, 1]")


def _lerp(a, b, t):
    """numpy's interpolation a + (b - a) t, computed from the nearer end."""
    d = b - a
    return where(t >= 0.5, b - d * (1 - t), a + d * t)


def _quantile(a, q, axis, keepdims, method, name, omit_nan, weights=None):
    x = _floating(_tensor(a))
    _refuse_complex(name, x)
    if weights is not None:
        return _weighted_quantile(x, q, axis, keepdims, method, name, weights)
    if method not in _CONTINUOUS and method not in _DISCRETE:
        raise NotImplementedError(f"{name}: method={method!r} is not supported by srcgrad; use one of "
                                  + ", ".join(repr(m) for m in list(_CONTINUOUS) + list(_DISCRETE)))
    q = _tensor(q)
    if q.dtype.kind not in "f":
        q = q._cast_const(np.float64)
    _check_quantiles(q)
    xt, keep_shape = _reduced_last(x, axis, name)
    kept, N = xt.shape[:-1], xt.shape[-1]
    if N == 0:
        raise ValueError(f"{name}: cannot compute quantiles of an empty array (shape {tuple(x.shape)})")
    s = sort(xt, axis=-1)                      # NaN sorts last
    qf = ravel(q)
    if omit_nan:                               # per slice: the count of non-NaN entries, (kept..., 1)
        n = count_nonzero(logical_not(isnan(xt)), axis=-1, keepdims=True)
    else:
        n = N
    h = qf * (n - 1)
    if method in _DISCRETE:
        idx = _elementwise(_DISCRETE[method], h)
        lo = hi = idx.astype(np.intp)
        gamma = None
    else:
        if method == "midpoint":
            h = 0.5 * (_elementwise("floor", h) + _elementwise("ceil", h))
        elif _CONTINUOUS[method] is not None:
            alpha, beta = _CONTINUOUS[method]
            h = n * qf + (alpha + qf * (1 - alpha - beta)) - 1
        below, above = h < 0, h >= n - 1
        floor = _elementwise("floor", h)
        gamma = (h - floor)._cast_const(x.dtype)
        lo = where(above, n - 1, where(below, 0, floor)).astype(np.intp)
        hi = where(above, n - 1, where(below, 0, floor + 1)).astype(np.intp)
    shape = kept + (qf.shape[0],)
    a_ = _take_along(s, broadcast_to(lo, shape), len(kept))
    if gamma is None:
        r = a_
    else:
        b_ = _take_along(s, broadcast_to(hi, shape), len(kept))
        r = _lerp(a_, b_, gamma)
    if not omit_nan:                           # numpy: a slice holding NaN has NaN quantiles
        r = where(isnan(_slice(s, len(kept), N - 1, N)), _nan(r.dtype), r)
    r = moveaxis(r, -1, 0)
    return _reshape(r, q.shape + (keep_shape if keepdims else kept))


def _weighted_quantile(x, q, axis, keepdims, method, name, weights):
    """numpy's weighted quantiles (method 'inverted_cdf' only): per slice, the first sorted
    entry whose share of the total weight, counted from the smallest, reaches q. The
    gradient reaches that entry; none reaches the weights (the choice is piecewise
    constant in them), which a compiled function reads again at each call."""
    if method != "inverted_cdf":
        raise ValueError(f"Only method 'inverted_cdf' supports weights. Got: {method}.")
    q = _tensor(q)
    q = q if q.dtype.kind == "f" else q._cast_const(np.float64)
    _check_quantiles(q)
    w = _const(weights)
    if tuple(w.shape) == tuple(x.shape):
        wt, _ = _reduced_last(w, axis, name)
    elif w.ndim == 1 and axis is not None and np.ndim(axis) == 0 and w.shape[0] == x.shape[axis]:
        wt = None  # (one weight per position along the axis)
    else:
        raise ValueError(f"{name}: weights must have the shape of a {tuple(x.shape)}, or be 1-D of the length "
                         f"of the reduced axis; got shape {tuple(w.shape)}")
    if builtins.bool(_any(w < 0)):
        raise ValueError("Weights must be non-negative.")
    xt, keep_shape = _reduced_last(x, axis, name)
    kept, N = xt.shape[:-1], xt.shape[-1]
    if N == 0:
        raise ValueError(f"{name}: cannot compute quantiles of an empty array (shape {tuple(x.shape)})")
    wt = broadcast_to(w, xt.shape) if wt is None else wt
    order = apply(_ops.get("argsort"), [_const(xt)], {"axis": xt.ndim - 1, "descending": False})
    s = _take_along(xt, order, len(kept))
    cdf = cumsum(_take_along(wt, order, len(kept)).astype(np.float64), axis=-1)
    cdf = cdf / _slice(cdf, len(kept), N - 1, N)
    if builtins.bool(_any(isnan(_slice(cdf, len(kept), N - 1, N)))):
        raise ValueError("Weights included NaN, inf or were all zero.")
    cdf = cdf.astype(q.dtype)
    cdf = where(cdf == 0, -1, cdf)  # (leading zero weights: q = 0 takes the first weighted entry)
    qf = ravel(q)
    below = _reshape(cdf, kept + (1, N)) < _reshape(qf, (qf.shape[0], 1))
    idx = _clip(count_nonzero(below, axis=-1), 0, N - 1)
    r = _take_along(s, idx, len(kept))
    r = where(isnan(_slice(s, len(kept), N - 1, N)), _nan(r.dtype), r)
    r = moveaxis(r, -1, 0)
    return _reshape(r, q.shape + (keep_shape if keepdims else kept))


def _method(method, interpolation, name):
    if interpolation is not None:
        return interpolation
    return method


def _no_weights(weights, name):
    if weights is not None:
        raise NotImplementedError(f"{name}: weights= is not supported by srcgrad")


@implements(np.quantile)
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
             weights=None, interpolation=None):
    """Quantiles q in [0, 1] along `axis` (sorted and interpolated, numpy's methods
    'linear' (default), 'lower', 'higher', 'nearest', 'midpoint', 'hazen', 'weibull',
    'median_unbiased', 'normal_unbiased', 'interpolated_inverted_cdf'). The gradient
    reaches the (one or two) entries each quantile is read from — and q, when it is a
    tensor that requires grad."""
    return _quantile(a, q, axis, _keepdims(keepdims), _method(method, interpolation, "quantile"),
                     "quantile", omit_nan=False, weights=weights)


@implements(np.percentile)
def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
               weights=None, interpolation=None):
    """quantile(a, q / 100)."""
    return _quantile(a, _floating(_tensor(q)) / 100, axis, _keepdims(keepdims),
                     _method(method, interpolation, "percentile"), "percentile", omit_nan=False, weights=weights)


@implements(np.nanquantile)
def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=_NoValue, *,
                weights=None, interpolation=None):
    """quantile over the non-NaN entries of each slice (NaN for an all-NaN slice)."""
    _no_weights(weights, "nanquantile")
    return _quantile(a, q, axis, _keepdims(keepdims), _method(method, interpolation, "nanquantile"),
                     "nanquantile", omit_nan=True)


@implements(np.nanpercentile)
def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=_NoValue, *,
                  weights=None, interpolation=None):
    _no_weights(weights, "nanpercentile")
    return _quantile(a, _floating(_tensor(q)) / 100, axis, _keepdims(keepdims),
                     _method(method, interpolation, "nanpercentile"), "nanpercentile", omit_nan=True)


@implements(np.median)
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The middle entry, or the mean of the two middle ones, along `axis` (NaN if the slice
    holds NaN). The gradient reaches those entries (1, or 1/2 each)."""
    x = _floating(_tensor(a))
    _refuse_complex("median", x)
    xt, keep_shape = _reduced_last(x, axis, "median")
    kept, N = xt.shape[:-1], xt.shape[-1]
    if N == 0:
        return _make(np.full(keep_shape if keepdims else kept, np.nan, x.dtype))
    s = sort(xt, axis=-1)
    k = len(kept)
    mid = _getitem(s, _along(k, N // 2))
    if N % 2 == 0:
        mid = (_getitem(s, _along(k, N // 2 - 1)) + mid) / 2
    mid = where(isnan(_getitem(s, _along(k, N - 1))), _nan(mid.dtype), mid)
    return _reshape(mid, keep_shape) if keepdims else mid


@implements(np.nanmedian)
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=_NoValue):
    """median of the non-NaN entries of each slice (NaN for an all-NaN slice)."""
    x = _floating(_tensor(a))
    if x.dtype.kind != "f":
        return median(x, axis, keepdims=_keepdims(keepdims))
    xt, keep_shape = _reduced_last(x, axis, "nanmedian")
    kept, N = xt.shape[:-1], xt.shape[-1]
    if N == 0:
        return _make(np.full(keep_shape if _keepdims(keepdims) else kept, np.nan, x.dtype))
    s = sort(xt, axis=-1)
    n = count_nonzero(logical_not(isnan(xt)), axis=-1, keepdims=True)
    lo = _elementwise("floor", (n - 1) / 2).astype(np.intp)   # -1 for an all-NaN slice: NaN below
    hi = _elementwise("floor", n / 2).astype(np.intp)
    r = (_take_along(s, lo, len(kept)) + _take_along(s, hi, len(kept))) / 2
    r = where(n == 0, _nan(r.dtype), r)
    return _reshape(r, keep_shape if _keepdims(keepdims) else kept)


# ---------------------------------------------------------------------------------------
# reductions that ignore NaN: where-based, so NaN entries get gradient 0
# ---------------------------------------------------------------------------------------
def _left_out_as_nan(a, where, name):
    """A NaN-ignoring reduction's `where=`: the entries it leaves out become NaN, ignored as
    NaN entries are."""
    if where is _NoValue or where is True:
        return a
    x = _tensor(a)
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{name}: where= on {x.dtype} data is not supported by srcgrad")
    mask = _tensor(where)
    if mask.dtype != np.bool_:
        raise TypeError(f"where= must be a boolean mask, got dtype {mask.dtype}")
    return _select(mask, x, np.asarray(np.nan, x.dtype))


def _nan_filled(a, fill):
    """(x, mask) with NaN entries replaced by `fill`; mask None for data that can't hold NaN."""
    x = _tensor(a)
    if x.dtype.kind != "f":
        return x, None
    mask = isnan(x)
    return where(mask, np.asarray(fill, x.dtype), x), mask


@implements(np.nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=_NoValue, *, where=_NoValue):
    """Mean of the non-NaN entries (NaN for an all-NaN slice)."""
    from .reductions import mean
    keep = _keepdims(keepdims)
    x, mask = _nan_filled(_left_out_as_nan(a, where, "nanmean"), 0)
    if mask is None:
        return mean(x, axis, dtype, keepdims=keep)
    if dtype is not None:
        x = x._cast_const(np.dtype(dtype))
    axes = _reduction_axes(axis, x.ndim, "nanmean")
    count = count_nonzero(logical_not(mask), axis=axes, keepdims=keep)
    return _sum(x, axes, keepdims=keep) / count


def _nanvar(a, axis, dtype, ddof, keepdims, name):
    keep = _keepdims(keepdims)
    x, mask = _nan_filled(a, 0)
    if mask is None:
        from .reductions import var
        return var(x, axis, dtype, ddof=ddof, keepdims=keep)
    if dtype is not None:
        x = x._cast_const(np.dtype(dtype))
    axes = _reduction_axes(axis, x.ndim, name)
    valid = logical_not(mask)
    count = count_nonzero(valid, axis=axes, keepdims=True)
    avg = _sum(x, axes, keepdims=True) / count
    d = where(valid, x - avg, 0)
    dof = count_nonzero(valid, axis=axes, keepdims=keep) - ddof
    ok = dof > 0
    v = _sum(d * d, axes, keepdims=keep) / where(ok, dof, 1)
    return where(ok, v, _nan(v.dtype))


@implements(np.nanvar)
def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *, where=_NoValue,
           mean=_NoValue, correction=_NoValue):
    """Variance of the non-NaN entries (NaN where fewer than ddof + 1 of them)."""
    from .reductions import _ddof
    if mean is not _NoValue:
        raise NotImplementedError("nanvar: mean= is not supported by srcgrad")
    return _nanvar(_left_out_as_nan(a, where, "nanvar"), axis, dtype, _ddof(ddof, correction, "nanvar"),
                   keepdims, "nanvar")


@implements(np.nanstd)
def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *, where=_NoValue,
           mean=_NoValue, correction=_NoValue):
    return sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction))


def _nan_extreme(a, axis, out, keepdims, initial, where_, name, fill, reduce):
    _no_where(where_, name)
    if initial is not _NoValue:
        raise NotImplementedError(f"{name}: initial= is not supported by srcgrad")
    keep = _keepdims(keepdims)
    x, mask = _nan_filled(a, fill)
    r = reduce(x, axis, keepdims=keep)
    if mask is None:
        return r
    return where(_all(mask, axis, keepdims=keep), _nan(r.dtype), r)


@implements(np.nanmax)
def nanmax(a, axis=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
    """Largest non-NaN entry (NaN for an all-NaN slice); ties share the gradient evenly."""
    return _nan_extreme(a, axis, out, keepdims, initial, where, "nanmax", -np.inf, amax)


@implements(np.nanmin)
def nanmin(a, axis=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
    """Smallest non-NaN entry (NaN for an all-NaN slice); ties share the gradient evenly."""
    return _nan_extreme(a, axis, out, keepdims, initial, where, "nanmin", np.inf, amin)


@implements(np.nanprod)
def nanprod(a, axis=None, dtype=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
    """Product with NaN entries counted as 1 (exact gradient with zeros, as `prod`)."""
    x, _ = _nan_filled(a, 1)
    return prod(x, axis, dtype, keepdims=_keepdims(keepdims), initial=initial, where=where)


@implements(np.nancumsum)
def nancumsum(a, axis=None, dtype=None, out=None):
    return cumsum(_nan_filled(a, 0)[0], axis, dtype)


@implements(np.nancumprod)
def nancumprod(a, axis=None, dtype=None, out=None):
    return cumprod(_nan_filled(a, 1)[0], axis, dtype)


def _nan_arg(a, axis, out, keepdims, name, fill, arg):
    x, mask = _nan_filled(a, fill)
    if mask is not None and mask._data.size and builtins.bool(_any(_all(mask, axis))):
        raise ValueError("All-NaN slice encountered")
    return arg(x, axis, keepdims=_keepdims(keepdims))


@implements(np.nanargmax)
def nanargmax(a, axis=None, out=None, *, keepdims=_NoValue):
    return _nan_arg(a, axis, out, keepdims, "nanargmax", -np.inf, argmax)


@implements(np.nanargmin)
def nanargmin(a, axis=None, out=None, *, keepdims=_NoValue):
    return _nan_arg(a, axis, out, keepdims, "nanargmin", np.inf, argmin)


# ---------------------------------------------------------------------------------------
# covariance and correlation coefficients
# ---------------------------------------------------------------------------------------
def _variables(m, rowvar, name):
    X = _floating(_tensor(m))
    _refuse_complex(name, X)
    if X.ndim > 2:
        raise ValueError(f"{name}: m has more than 2 dimensions")
    X = atleast_2d(X)
    if not rowvar and X.shape[0] != 1:
        X = X.T
    return X


@implements(np.cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    """Covariance matrix of the variables in the rows (rowvar=True) or columns of m (and y),
    normalised by N - ddof (ddof 1 unless bias); fweights/aweights as numpy. Gradients reach
    m, y and aweights."""
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    X = _variables(m, rowvar, "cov")
    if y is not None:
        Y = _variables(y, rowvar, "cov")
        X, Y = _float_common(X, Y)
        X = concatenate((X, Y), axis=0)
    if dtype is not None:
        X = X._cast_const(np.dtype(dtype))
    if X.shape[0] == 0:
        return _make(np.zeros((0, 0), X.dtype))
    if ddof is None:
        ddof = 0 if bias else 1
    n = X.shape[1]
    w = None
    if fweights is not None:
        f = np.asarray(_static(fweights, "cov: fweights"), dtype=np.float64)
        if not np.all(f == np.around(f)):
            raise TypeError("fweights must be integer")
        if f.ndim > 1:
            raise RuntimeError("cannot handle multidimensional fweights")
        if f.shape[0] != n:
            raise RuntimeError("incompatible numbers of samples and fweights")
        if np.any(f < 0):
            raise ValueError("fweights cannot be negative")
        w = f.astype(X.dtype)
    aw = None
    if aweights is not None:
        aw = _floating(_tensor(aweights))
        if aw.ndim > 1:
            raise RuntimeError("cannot handle multidimensional aweights")
        if aw.shape[0] != n:
            raise RuntimeError("incompatible numbers of samples and aweights")
        if not _is_traced(aw) and np.any(aw._data < 0):
            raise ValueError("aweights cannot be negative")
        w = aw if w is None else aw * w
    if w is None:
        avg = X.mean(axis=1)
        fact = n - ddof
    else:
        if not _is_tensor(w):
            w = _make(w)
        avg, w_sum = average(X, axis=1, weights=w, returned=True)
        w_sum = w_sum[0]
        if ddof == 0:
            fact = w_sum
        elif aw is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * _sum(w * aw) / w_sum
    if (fact <= 0) if not _is_tensor(fact) else builtins.bool(fact <= 0):
        import warnings
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        fact = 0.0
    Xc = X - _reshape(avg, (X.shape[0], 1))
    Xw = Xc if w is None else Xc * w
    with np.errstate(divide="ignore"):
        c = (Xc @ Xw.T) * (1 / fact if _is_tensor(fact) else np.true_divide(1, fact))
    return _reshape(c, tuple(d for d in c.shape if d != 1))


@implements(np.corrcoef)
def corrcoef(x, y=None, rowvar=True, bias=_NoValue, ddof=_NoValue, *, dtype=None):
    """Pearson correlation coefficients: cov / (std_i std_j), clipped to [-1, 1] as numpy."""
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    d = sqrt(diagonal(c))
    c = c / _reshape(d, (d.shape[0], 1))
    c = c / _reshape(d, (1, d.shape[0]))
    return _clip(c, -1, 1)


# ---------------------------------------------------------------------------------------
# grids, Vandermonde matrices, integration and numerical gradients
# ---------------------------------------------------------------------------------------
@implements(np.meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate arrays from coordinate vectors ('xy': Cartesian, 'ij': matrix indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    xs = [_tensor(x) for x in xi]
    nd = len(xs)
    s0 = (1,) * nd
    out = [_reshape(x, s0[:i] + (x._data.size,) + s0[i + 1:]) for i, x in enumerate(xs)]
    if indexing == "xy" and nd > 1:
        out[0] = _reshape(out[0], (1, out[0]._data.size) + s0[2:])
        out[1] = _reshape(out[1], (out[1]._data.size, 1) + s0[2:])
    if not sparse:
        out = list(broadcast_arrays(*out))
    if copy:   # numpy copies: never hand back an argument itself
        out = [globals()["copy"](o) if o is x else o for o, x in zip(out, xs)]
    return tuple(out)


@implements(np.vander)
def vander(x, N=None, increasing=False):
    """Columns of powers of x, built by a cumulative product (exact gradient at x = 0).
    Integers and booleans give int64 as numpy; float32 stays float32."""
    X = _tensor(x)
    if X.ndim != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = X.shape[0]
    N = n if N is None else _index(N, "vander: N")
    # numpy's promote_types(x.dtype, int), except that float32 stays float32
    dtype = X.dtype if X.dtype.kind == "f" else np.promote_types(X.dtype, int)
    X = X._cast_const(dtype)
    if N <= 0:
        return _make(np.zeros((n, builtins.max(N, 0)), dtype))
    ones = np.ones((n, 1), dtype)
    if N == 1:
        return _make(ones)
    cols = concatenate([ones, broadcast_to(_reshape(X, (n, 1)), (n, N - 1))], axis=1)
    v = cumprod(cols, axis=1)
    return v if increasing else flip(v, axis=1)


@implements(np.trapezoid)
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral along `axis` by the trapezoidal rule; gradients reach y and x."""
    Y = _floating(_tensor(y))
    axis = _axis(axis, Y.ndim, "trapezoid")
    if x is None:
        d = dx
    else:
        X = _floating(_tensor(x))
        if X.ndim == 1:
            d = diff(X)
            d = _reshape(d, tuple(d.shape[0] if i == axis else 1 for i in range(Y.ndim)))
        else:
            d = diff(X, axis=axis)
    return _sum(d * (_slice(Y, axis, 1, None) + _slice(Y, axis, None, -1)) / 2.0, axis)


trapz = trapezoid
if hasattr(np, "trapz"):
    implements(np.trapz)(trapezoid)


def _spacing(h, n, name):
    """One axis's spacing argument: a scalar, or coordinates (→ their differences)."""
    if _is_tensor(h) and (h.ndim == 0):
        return h
    if not _is_tensor(h) and np.ndim(h) == 0:
        return h
    c = _floating(_tensor(h))
    if c.ndim != 1:
        raise ValueError("distances must be either scalars or 1d")
    if c.shape[0] != n:
        raise ValueError("when 1d, distances must match the length of the corresponding dimension")
    d = diff(c)
    if not (_is_traced(c) or c.requires_grad):
        data = d._data
        if data.size and (data == data[0]).all():   # numpy's test for uniform spacing
            return _make(data[0])
    return d


def _along_shape(v, axis, ndim):
    return _reshape(v, tuple(v.shape[0] if i == axis else 1 for i in range(ndim)))


@implements(np.gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    """numpy.gradient: second-order central differences inside, first- or second-order
    one-sided differences at the edges, for uniform spacing (scalars) or coordinates;
    gradients reach f (and coordinates/spacings given as tensors)."""
    F = _floating(_tensor(f))
    N = F.ndim
    if axis is None:
        axes = tuple(range(N))
    else:
        axes = tuple(_axis(ax, N, "gradient") for ax in (axis if isinstance(axis, (tuple, list)) else (axis,)))
        if len(set(axes)) != len(axes):
            raise ValueError(f"gradient: repeated axis in {axis}")
    n = len(varargs)
    if n == 0:
        dx = [1.0] * len(axes)
    elif n == 1 and np.ndim(varargs[0]) == 0:
        dx = [varargs[0]] * len(axes)
    elif n == len(axes):
        dx = [_spacing(h, F.shape[ax], "gradient") for h, ax in zip(varargs, axes)]
    else:
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    outs = []
    for ax, h in zip(axes, dx):
        size = F.shape[ax]
        if size < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")

        def part(start, stop, ax=ax):
            return _slice(F, ax, start, stop)

        uniform = not _is_tensor(h) or h.ndim == 0
        if uniform:
            inner = (part(2, None) - part(None, -2)) / (2.0 * h)
        else:
            dx1, dx2 = _slice(h, 0, 0, -1), _slice(h, 0, 1, None)
            a = -dx2 / (dx1 * (dx1 + dx2))
            b = (dx2 - dx1) / (dx1 * dx2)
            c = dx1 / (dx2 * (dx1 + dx2))
            a, b, c = (_along_shape(t, ax, N) for t in (a, b, c))
            inner = a * part(None, -2) + b * part(1, -1) + c * part(2, None)
        if edge_order == 1:
            h0 = h if uniform else h[0]
            hn = h if uniform else h[h.shape[0] - 1]
            first = (part(1, 2) - part(0, 1)) / h0
            last = (part(size - 1, size) - part(size - 2, size - 1)) / hn
        else:
            if uniform:
                a, b, c = -1.5 / h, 2. / h, -0.5 / h
                first = a * part(0, 1) + b * part(1, 2) + c * part(2, 3)
                a, b, c = 0.5 / h, -2. / h, 1.5 / h
            else:
                dx1, dx2 = h[0], h[1]
                a = -(2. * dx1 + dx2) / (dx1 * (dx1 + dx2))
                b = (dx1 + dx2) / (dx1 * dx2)
                c = -dx1 / (dx2 * (dx1 + dx2))
                first = a * part(0, 1) + b * part(1, 2) + c * part(2, 3)
                k = h.shape[0]
                dx1, dx2 = h[k - 2], h[k - 1]
                a = dx2 / (dx1 * (dx1 + dx2))
                b = -(dx2 + dx1) / (dx1 * dx2)
                c = (2. * dx2 + dx1) / (dx2 * (dx1 + dx2))
            last = a * part(size - 3, size - 2) + b * part(size - 2, size - 1) + c * part(size - 1, size)
        g = concatenate([first, inner, last], axis=ax)
        outs.append(g._cast_const(F.dtype) if g.dtype != F.dtype else g)
    return outs[0] if len(axes) == 1 else tuple(outs)


# ---------------------------------------------------------------------------------------
# comparisons: boolean results, no gradient
# ---------------------------------------------------------------------------------------
def _const(x):
    """A tensor whose gradient nobody needs (a function of the arguments is still recorded)."""
    t = _tensor(x)
    return t.detach() if t.requires_grad or _is_traced(t) else t


@implements(np.isclose)
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol |b| elementwise (infinities equal only to themselves)."""
    x, y = _const(a), _const(b)
    if y.dtype.kind in "iub":
        y = y._cast_const(np.float64)
    with np.errstate(invalid="ignore"):
        close = logical_and(_abs(x - y) <= atol + rtol * _abs(y), _elementwise("isfinite", y))
        result = logical_or(close, x == y)
        if equal_nan:
            result = logical_or(result, logical_and(isnan(x), isnan(y)))
    return result


@implements(np.allclose)
def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(_all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


@implements(np.array_equal)
def array_equal(a1, a2, equal_nan=False):
    x, y = _const(a1), _const(a2)
    if x.shape != y.shape:
        return False
    same = x == y
    if equal_nan and x.dtype.kind in "fc" and y.dtype.kind in "fc":
        same = logical_or(same, logical_and(isnan(x), isnan(y)))
    return builtins.bool(_all(same))


@implements(np.array_equiv)
def array_equiv(a1, a2):
    x, y = _const(a1), _const(a2)
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        return False
    return builtins.bool(_all(x == y))


@implements(np.isin)
def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """Whether each entry of `element` equals one of `test_elements` (booleans of element's
    shape, no gradient). The test elements are sorted and each entry compared with the one
    at its insertion position (the `searchsorted` op): ops a compiled function recomputes
    from traced data, in O((n + m) log m) where comparing every pair would hold n * m
    booleans. Equality is numpy's `==`, so NaN is in nothing; assume_unique and kind pick
    numpy's algorithm, not the result (kind is checked as numpy checks it)."""
    if kind not in (None, "sort", "table"):
        raise ValueError(f"Invalid kind: '{kind}'. Please use None, 'sort' or 'table'.")
    x, t = _const(element), ravel(_const(test_elements))
    if kind == "table" and not (x.dtype.kind in "uib" and t.dtype.kind in "uib"):
        raise ValueError("The 'table' method is only supported for boolean or integer arrays. "
                         "Please select 'sort' or None for kind.")
    m = t.shape[0]
    if m == 0:
        return _make(np.full(x.shape, builtins.bool(invert)))
    x, t = _promoted(x, t)
    s = sort(t)
    found = _gather(s, _clip(_searchsorted(s, x, "left"), 0, m - 1)) == x
    return logical_not(found) if invert else found


# ---------------------------------------------------------------------------------------
# positions: integer results, no gradient
# ---------------------------------------------------------------------------------------
@implements(np.searchsorted)
def searchsorted(a, v, side="left", sorter=None):
    """Insertion positions of v in the sorted 1-D a (an op: a compiled function recomputes
    them); integer results, no gradient."""
    A, V = _const(a), _const(v)
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if A.ndim != 1:
        raise ValueError(f"searchsorted: a must be 1-D, got shape {tuple(A.shape)}")
    if sorter is not None:
        A = take(A, sorter)
    return _searchsorted(A, V, side)


@implements(np.digitize)
def digitize(x, bins, right=False):
    """Indices of the bins each x falls in (bins monotonically increasing or decreasing)."""
    X, B = _const(x), _const(bins)
    _refuse_complex("digitize", X, B)
    if B.ndim != 1:
        raise ValueError("bins must be one-dimensional")
    n = B.shape[0]
    side = "left" if right else "right"
    if n <= 1 or builtins.bool(_all(_slice(B, 0, 1, None) >= _slice(B, 0, None, -1))):
        return _searchsorted(B, X, side)
    if builtins.bool(_all(_slice(B, 0, 1, None) <= _slice(B, 0, None, -1))):
        return n - _searchsorted(flip(B), X, side)
    raise ValueError("bins must be monotonically increasing or decreasing")


@implements(np.nonzero)
def nonzero(a):
    """Indices of the nonzero entries, one integer tensor per axis (run eagerly: the number
    of entries depends on the data)."""
    x = _tensor(a)
    if _is_traced(x):  # recomputed by the generated code, the count a guard (ops/indexing.py)
        return tuple(traced_nonzero(x if x.dtype == np.bool_ else x != 0))
    return tuple(_make(i) for i in np.nonzero(x._data))


@implements(np.argwhere)
def argwhere(a):
    """The nonzero entries' indices, one row each: np.nonzero's arrays side by side (traced
    as nonzero is: the count a guard)."""
    x = _tensor(a)
    if _is_traced(x) and x.ndim:
        from .shape import stack
        return stack(nonzero(x), axis=1)
    _data_dependent_shape(x, "argwhere")
    return _make(np.argwhere(x._data))


@implements(np.flatnonzero)
def flatnonzero(a):
    x = _tensor(a)
    if _is_traced(x):
        return nonzero(ravel(x))[0]
    return _make(np.flatnonzero(x._data))


@implements(np.trim_zeros)
def trim_zeros(filt, trim="fb", axis=None):
    """The slice of filt that drops its leading ('f') and/or trailing ('b') zeros along
    `axis` (every axis by default: the smallest box holding every nonzero entry; all
    zeros: empty along those axes, as numpy). How much is trimmed depends on the data: in
    a compiled function each bound is a guard (data trimming another amount records and
    compiles another variant, as a branch does); the result is a slice of filt, so its
    entries keep their gradient."""
    x = _tensor(filt)
    how = trim.lower()
    if how not in ("fb", "bf", "f", "b"):
        raise ValueError(f"unexpected character(s) in `trim`: {trim!r}")
    axes = tuple(range(x.ndim)) if axis is None else _axes(axis, x.ndim, "trim_zeros")
    if not axes:
        return filt
    nonzero_ = _const(x) != 0
    if not builtins.bool(_any(nonzero_)):   # (a guard)
        return x[tuple(slice(0, 0) if d in axes else slice(None) for d in range(x.ndim))]
    index = []
    for d in range(x.ndim):
        if d not in axes:
            index.append(slice(None))
            continue
        along = nonzero_ if x.ndim == 1 else _any(nonzero_, axis=tuple(k for k in range(x.ndim) if k != d))
        start = int(argmax(along)) if "f" in how else None                   # (guards)
        stop = x.shape[d] - int(argmax(flip(along))) if "b" in how else None
        index.append(slice(start, stop))
    return x[tuple(index)]


@implements(np.unique)
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, **kwargs):
    """numpy.unique, run eagerly (the number of unique values depends on the data). The
    values are read from their first occurrences, so they keep a gradient; index, inverse
    and counts are integer tensors."""
    x = _tensor(ar)
    if _is_traced(x) and axis is None and not kwargs:
        return _traced_unique(x, return_index, return_inverse, return_counts, bool(equal_nan))
    _data_dependent_shape(x, "unique")
    res = np.unique(x._data, return_index=True, return_inverse=return_inverse, return_counts=return_counts,
                    axis=axis, equal_nan=equal_nan, **kwargs)
    values, index, rest = res[0], res[1], res[2:]
    if x.requires_grad:   # gathered from the first occurrences: the same values, with gradient
        values = take(ravel(x), index) if axis is None else take(x, index, axis=axis)
    else:
        values = _make(values)
    extra = ([_make(index)] if return_index else []) + [_make(r) for r in rest]
    return (values, *extra) if extra else values


def _traced_unique(x, return_index, return_inverse, return_counts, equal_nan):
    """unique inside a compiled function: the generated code computes it from x again. How
    many distinct values there are decides the shapes that follow: that count is a guard
    (data with another count records and compiles another variant, as a branch does); the
    values are gathered from their first positions, so they keep a gradient."""
    op = _ops.get("unique")
    n = int(apply(op, [x], {"part": "count", "size": None, "equal_nan": equal_nan}))  # (a guard)
    parts = {p: apply(op, [x], {"part": p, "size": n, "equal_nan": equal_nan})
             for p, wanted in (("index", True), ("inverse", return_inverse), ("counts", return_counts)) if wanted}
    values = take(ravel(x), parts["index"])
    extra = [parts[p] for p, wanted in (("index", return_index), ("inverse", return_inverse),
                                         ("counts", return_counts)) if wanted]
    return (values, *extra) if extra else values


def _int_arg(n, name):
    return int(_static(n, name)) if _is_tensor(n) else n


def triu_indices(n, k=0, m=None):
    """Row and column indices of the upper triangle of an (n, m) array: integer tensors."""
    return tuple(_make(i) for i in np.triu_indices(_int_arg(n, "triu_indices: n"), _int_arg(k, "triu_indices: k"),
                                                    None if m is None else _int_arg(m, "triu_indices: m")))


def tril_indices(n, k=0, m=None):
    return tuple(_make(i) for i in np.tril_indices(_int_arg(n, "tril_indices: n"), _int_arg(k, "tril_indices: k"),
                                                    None if m is None else _int_arg(m, "tril_indices: m")))


def diag_indices(n, ndim=2):
    return tuple(_make(i) for i in np.diag_indices(_int_arg(n, "diag_indices: n"),
                                                    _int_arg(ndim, "diag_indices: ndim")))


@implements(np.triu_indices_from)
def triu_indices_from(arr, k=0):
    shape = np.shape(arr) if not _is_tensor(arr) else arr.shape
    if len(shape) != 2:
        raise ValueError("input array must be 2-d")
    return triu_indices(shape[-2], k=k, m=shape[-1])


@implements(np.tril_indices_from)
def tril_indices_from(arr, k=0):
    shape = np.shape(arr) if not _is_tensor(arr) else arr.shape
    if len(shape) != 2:
        raise ValueError("input array must be 2-d")
    return tril_indices(shape[-2], k=k, m=shape[-1])


@implements(np.diag_indices_from)
def diag_indices_from(arr):
    shape = np.shape(arr) if not _is_tensor(arr) else arr.shape
    if len(shape) < 2:
        raise ValueError("input array must be at least 2-d")
    if len(set(shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    return diag_indices(shape[0], len(shape))


@implements(np.fill_diagonal)
def fill_diagonal(a, val, wrap=False):
    """numpy.fill_diagonal, in place: a recorded write `a[diagonal] = val` (PyTorch's
    in-place semantics: a leaf that requires grad refuses; val gets gradient)."""
    if not _is_tensor(a):
        if needs_grad(val) or _is_traced(val):
            raise NotImplementedError("fill_diagonal: writing a tensor that needs a gradient into a numpy "
                                      "array would lose the gradient")
        np.fill_diagonal(a, val._data if _is_tensor(val) else val, wrap=wrap)
        return None
    probe = np.zeros(a.shape, dtype=bool)
    np.fill_diagonal(probe, True, wrap=wrap)   # numpy's own checks and positions
    where_ = np.nonzero(probe)
    k = where_[0].shape[0]
    v = _tensor(val)
    if v._data.size == 1:
        v = _reshape(v, ())
    elif v._data.size:
        v = _gather(ravel(v), np.arange(k) % v._data.size)  # numpy's flat write repeats val
    a[where_] = v
    return None


# ---------------------------------------------------------------------------------------
# complex parts (ops/complex.py); of real data, what numpy gives
# ---------------------------------------------------------------------------------------
def _part(name, x):
    return apply(_ops.get(name), [x], {})


@implements(np.real)
def real(val):
    """The real part (of real data: the data itself)."""
    x = _tensor(val)
    return _part("real", x) if x.dtype.kind == "c" else x


@implements(np.imag)
def imag(val):
    """The imaginary part (of real data: zeros, a constant)."""
    x = _tensor(val)
    return _part("imag", x) if x.dtype.kind == "c" else _make(np.zeros(x.shape, x.dtype))


@implements(np.real_if_close)
def real_if_close(a, tol=100):
    """The real part when every imaginary part is within tol machine epsilons of 0 (a
    decision on the data, guarded), else the data itself."""
    x = _tensor(a)
    if x.dtype.kind != "c":
        return x
    eps = np.finfo(x.dtype).eps * tol if tol > 1 else tol
    return real(x) if bool(np.all(_abs(imag(x)) < eps)) else x


@implements(np.iscomplex)
def iscomplex(x):
    """Where the imaginary part is not 0 (booleans, no gradient)."""
    t = _tensor(x)
    return imag(t) != 0 if t.dtype.kind == "c" else _make(np.zeros(t.shape, bool))


@implements(np.isreal)
def isreal(x):
    t = _tensor(x)
    return imag(t) == 0 if t.dtype.kind == "c" else _make(np.ones(t.shape, bool))


@implements(np.iscomplexobj)
def iscomplexobj(x):
    """Whether the dtype is complex: a fact of the type, not of the data (no guard)."""
    return _tensor(x).dtype.kind == "c"


@implements(np.isrealobj)
def isrealobj(x):
    return _tensor(x).dtype.kind != "c"


@implements(np.common_type)
def common_type(*arrays):
    """The scalar type numpy's common_type gives arrays of these dtypes (of the type, not
    the data: numpy.polynomial's coefficients)."""
    return np.common_type(*[np.empty(0, a.dtype) if _is_tensor(a) else a for a in arrays])


@implements(np.conjugate)
def conjugate(x, /):
    """The complex conjugate (of real data: a copy)."""
    t = _tensor(x)
    return _part("conj", t) if t.dtype.kind == "c" else copy(t)


conj = conjugate


@implements(np.angle)
def angle(z, deg=False):
    """The argument. Of real data: 0 for x >= +0, pi for x <= -0 (numpy's arctan2(0, x)),
    NaN for NaN; piecewise constant, so no gradient."""
    t = _tensor(z)
    if t.dtype.kind == "c":
        a = _part("angle", t)
        return a * (180 / math.pi) if deg else a
    x = _floating(t)
    half_turn = 180.0 if deg else math.pi
    zero = np.zeros((), x.dtype)
    a = where(signbit(x), np.asarray(half_turn, x.dtype), zero)
    return where(isnan(x), x.detach() if x.requires_grad or _is_traced(x) else x, a)


# ---------------------------------------------------------------------------------------
# selections by condition: compositions of where (the branch not taken gets no gradient)
# ---------------------------------------------------------------------------------------
@implements(np.select)
def select(condlist, choicelist, default=0):
    """The choice of the first condition that holds, else default."""
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = where(cond, choice, out)
    return out


@implements(np.piecewise)
def piecewise(x, condlist, funclist, *args, **kw):
    """funclist[i] where condlist[i] holds (the last function, if one more, elsewhere; 0
    where nothing holds). Each function is applied to the whole array and the results
    selected, so its gradient is exactly 0 where it is not selected."""
    t = _tensor(x)
    if isinstance(condlist, (bool, np.bool_)) or _is_tensor(condlist) and condlist.ndim == t.ndim \
            or isinstance(condlist, np.ndarray) and condlist.ndim == t.ndim:
        condlist = [condlist]
    condlist = list(condlist)
    n = len(condlist)
    if len(funclist) not in (n, n + 1):
        raise ValueError(f"piecewise: with {n} condition(s), {n} or {n + 1} functions are expected, "
                         f"got {len(funclist)}")
    if len(funclist) == n + 1:  # "otherwise": where none of the conditions holds
        rest = logical_not(_any_of(condlist))
        condlist = condlist + [rest]

    def value(f):
        return f(t, *args, **kw) if callable(f) else f
    out = np.zeros(t.shape, t.dtype)
    for cond, f in zip(condlist, funclist):  # (a later condition wins, as in numpy)
        out = where(cond, value(f), out)
    return out


def _any_of(conds):
    out = conds[0]
    for c in conds[1:]:
        out = logical_or(out, c)
    return out


@implements(np.heaviside)
def heaviside(x1, x2):
    """0 for x1 < 0, x2 at 0, 1 for x1 > 0: a step (its gradient in x1 is 0)."""
    x = _tensor(x1)
    return where(x < 0, np.zeros((), x.dtype), where(x > 0, np.ones((), x.dtype), x2))


@implements(np.copysign)
def copysign(x1, x2):
    """|x1| with the sign bit of x2."""
    a = _abs(_floating(_tensor(x1)))
    return where(signbit(x2), -a, a)


@implements(np.fmod)
def fmod(x1, x2):
    """The remainder with the sign of x1 (C's fmod): x1 - trunc(x1 / x2) * x2."""
    a, b = _floating(_tensor(x1)), x2
    return a - trunc(a / b) * b


@implements(np.float_power)
def float_power(x1, x2):
    """x1 ** x2 computed in float64."""
    a = _tensor(x1)
    a = a if a.dtype == np.float64 else a._cast_const(np.float64)
    b = x2._cast_const(np.float64) if _is_tensor(x2) and x2.dtype != np.float64 else x2
    return a ** b


@implements(np.diagflat)
def diagflat(v, k=0):
    return diag(ravel(_tensor(v)), k)


# ---------------------------------------------------------------------------------------
# scatter-adds: np.add.at and np.bincount(weights=), through the getitem gradient's scatter
# ---------------------------------------------------------------------------------------
def _scatter_add(values, index, shape, dtype):
    """zeros(shape) with `values` added at `index` (repeated positions add up)."""
    template, arrays = split_index(index)
    v = _tensor(values)
    v = v if v.dtype == dtype else v._cast_const(dtype)
    target = np.empty(shape, dtype)[_numpy_key(template, arrays)].shape
    v = broadcast_to(v, target) if tuple(v.shape) != tuple(target) else v
    return apply(_ops.get("getitem_grad"), [v, *arrays], {"index": tuple(template), "shape": tuple(shape)})


def _numpy_key(template, arrays):
    return numpy_index(template, [a._data if _is_tensor(a) else a for a in arrays])


def add_at(a, indices, b=None, negate=False):
    """np.add.at(a, indices, b) on a tensor: a += (b added at indices, repeats adding up),
    recorded as a write into a."""
    if not _is_tensor(a):
        message = ("np.add.at into a plain numpy array with a tensor would lose the gradient: "
                   "make the array from a tensor (np.zeros_like(x))")
        from ..autograd.recording import numpy_code
        if not numpy_code():
            raise TypeError(message)
        from ..trace import TraceError
        err = TraceError(message)
        err.needs_builders = True  # (run again with np.zeros & co making tensors)
        raise err
    b = 1 if b is None else b
    delta = _scatter_add(-_tensor(b) if negate else b, indices, a.shape, a.dtype)
    a[...] = a + delta


@implements(np.histogram)
def histogram(a, bins=10, range=None, density=None, weights=None):
    """(hist, bin_edges). Which bin each entry of `a` falls in is data (no gradient),
    recomputed by a compiled function from `a`; the counts are integers. With weights,
    hist is the sum of the weights falling in each bin (a scatter-add: the gradient reaches
    each weight). Edges from a count of bins and no range are numpy's linspace(min(a),
    max(a)): differentiable in a, as density is through them."""
    W = weights
    grad_of = [x for x in (a, W, bins, range) if _is_tensor(x) and (x.requires_grad or _is_traced(x))]
    if not grad_of and not any(_is_tensor(x) for x in (a, W)):
        return np.histogram(a, bins, range, density, weights)
    if not grad_of:
        return run_without_gradient(np.histogram, "histogram", (a, bins, range, density, weights), {})
    A = _tensor(a)
    if W is not None:
        W = _tensor(W)
        if tuple(W.shape) != tuple(A.shape):
            raise ValueError(f"histogram: weights should have the same shape as a ({tuple(W.shape)} and "
                             f"{tuple(A.shape)})")
    flat = ravel(A)
    edges = _bin_edges(flat, bins, range)
    n = edges.shape[0] - 1
    x = _const(flat)
    inside = logical_and(x >= edges[0], x <= edges[-1])
    idx = _clip(_searchsorted(_const(edges), x, "right") - 1, 0, n - 1)
    if W is None:
        hist = _scatter_add(inside.astype(np.int64), (idx,), (n,), np.dtype(np.int64))
    else:
        hist = _scatter_add(where(inside, ravel(W), 0), (idx,), (n,), np.result_type(W.dtype, np.float64))
    if density:
        hist = hist / (_sum(hist) * diff(edges))
    return hist, edges


def _bin_edges(flat, bins, range):
    """numpy's histogram_bin_edges for a count of bins or the edges themselves (a string
    asks numpy's estimators for a count from the data: a traced array's would be frozen).
    A range that is not finite raises as numpy's (of a traced array: a guard)."""
    if isinstance(bins, str):
        if _is_traced(flat):
            from ..trace import TraceError
            raise TraceError(f"histogram of a traced array with bins={bins!r}: numpy estimates the number of "
                             f"bins from the values (frozen into the generated code); give a count or the edges")
        return _make(np.histogram_bin_edges(flat._data, bins, range))
    if np.ndim(bins) == 1:
        edges = _tensor(bins)
        if not bool(_all(diff(_const(edges)) >= 0)):
            raise ValueError("histogram: bins must increase monotonically, when an array")
        return edges
    if np.ndim(bins) != 0 or int(bins) < 1:
        raise ValueError(f"histogram: `bins` must be a positive integer or a 1-d array, got {bins!r}")
    n = int(bins)
    if range is not None:
        lo, hi = range
    elif flat.shape[0] == 0:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = amin(flat), amax(flat)
    if not builtins.all(builtins.bool(_isfinite(v) if _is_tensor(v) else np.isfinite(v)) for v in (lo, hi)):
        which = "autodetected" if range is None else "supplied"
        lo_, hi_ = (v._data if _is_tensor(v) else v for v in (lo, hi))
        raise ValueError(f"{which} range of [{lo_}, {hi_}] is not finite")
    if bool(lo > hi):
        raise ValueError("histogram: max must be larger than min in range parameter")
    if bool(lo == hi):
        lo, hi = lo - 0.5, hi + 0.5
    kind = flat.dtype if flat.dtype.kind in "fc" else np.dtype(np.float64)
    if not (_is_tensor(lo) or _is_tensor(hi)):
        return _make(np.linspace(lo, hi, n + 1, dtype=kind))
    return linspace(lo, hi, n + 1)


@implements(np.histogram_bin_edges)
def histogram_bin_edges(a, bins=10, range=None, weights=None):
    """np.histogram's edges alone (_bin_edges): a count of bins over a's own min and max
    is differentiable in a, through linspace (in range, given as tensors). numpy uses the
    weights only to refuse them with a string of bins (an estimator of the count)."""
    A = _tensor(a)
    if weights is not None:
        if tuple(np.shape(weights)) != tuple(A.shape):
            raise ValueError("weights should have the same shape as a.")
        if isinstance(bins, str):
            raise TypeError("Automated estimation of the number of bins is not supported for weighted data")
    return _bin_edges(ravel(A), bins, range)


@implements(np.bincount)
def bincount(x, weights=None, minlength=0):
    """Counts of each value of x (no gradient), or the sums of weights per value (the gradient
    reaches each weight). How many bins there are depends on x's largest value: a guard."""
    xs = _tensor(x)
    if weights is None or not (_is_tensor(weights) and (weights.requires_grad or _is_traced(weights))):
        data = xs._data
        w = weights._data if _is_tensor(weights) else weights
        if _is_traced(xs):
            _data_dependent_shape(xs, "bincount")
        return _make(np.bincount(data, w, minlength))
    n = builtins.max(int(amax(xs)) + 1 if xs.shape[0] else 0, int(minlength))
    return _scatter_add(weights, (xs,), (n,), np.result_type(weights.dtype, np.float64))
