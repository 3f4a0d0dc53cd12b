"""numpy's reductions over tensors: sums, means, extrema, products, scans, statistics, norms.

Primitives of the op table (srcgrad/ops/reduction.py) where a composite would be wrong
or slow — `amax`/`amin` (ties share the gradient evenly), `prod` and `cumprod` (exact
gradients with zeros, no division by the data), `cumsum`, and the integer/boolean
reductions `argmax`, `argmin`, `count_nonzero`, `any`, `all` (no gradient) — and
composites of ops everywhere else: `var` is the mean of squared deviations, `logsumexp`
and `softmax` shift by the (gradient-free) maximum, `average` is two sums, `trace` sums a
diagonal, `linalg.norm` is a 2-norm, sums of absolute values or extrema of them.

Values follow numpy (signatures, axis=None/int/tuple, keepdims, ddof); gradients follow
PyTorch/JAX. Integer input to a function with a float result (mean, var, std, average,
norm, logsumexp, softmax) computes in float64, as numpy does. `out=` is not supported:
a result is always a new tensor.
"""
import builtins
from collections import namedtuple

import numpy as np

from .. import ops as _ops
from ..autograd.recording import apply, keeps_its_result, not_a_view
from ..ops import ShapeError
from ._dispatch import implements, tensor_cls
from .shape import _axis, _take_along, _tensor, broadcast_to, copy, diagonal, ravel

__all__ = [
    "sum", "nansum", "mean", "prod", "product", "var", "std", "max", "min", "amax", "amin", "ptp", "cumsum",
    "cumprod", "cumulative_sum", "cumulative_prod", "logsumexp", "softmax", "log_softmax", "trace",
    "argmax", "argmin", "average", "count_nonzero", "any", "all",
]

_NoValue = np._NoValue
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def _op(name, inputs, **attrs):
    return apply(_ops.get(name), inputs, attrs)


def _axes(axis, ndim, name):
    """numpy's axis argument (None, int, tuple) → None or a sorted tuple of axes.

    A 0-d array reduces over axis 0/-1 like PyTorch allows (numpy would raise)."""
    if axis is None:
        return None
    if ndim == 0:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        if builtins.any(int(a) not in (0, -1) for a in axes):
            raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for array of dimension 0")
        return None
    try:
        return _ops.normalize_axis(axis, ndim)
    except ShapeError as e:
        raise np.exceptions.AxisError(f"{name}: {e}") from None
    except TypeError:
        raise TypeError(f"{name}: axis must be None, an integer or a tuple of integers, got {axis!r}") from None


def _count(shape, axes):
    return int(np.prod([shape[a] for a in (range(len(shape)) if axes is None else axes)], dtype=np.int64))



def _no_where(where, name):
    if where is not _NoValue and where is not True:
        raise NotImplementedError(f"{name}: where= is not supported by srcgrad")


def _masked(x, where, fill):
    """x with the entries a reduction's `where=` leaves out replaced by `fill` (the
    reduction's identity): a select, so they get no gradient. (The mask itself is a
    condition: never differentiated.)"""
    if where is _NoValue or where is True:
        return x
    return _op("where", [_mask(where, x), x, fill])


def _mask(where, x):
    mask = _tensor(where)
    if mask.dtype != np.bool_:
        raise TypeError(f"where= must be a boolean mask, got dtype {mask.dtype}")
    return broadcast_to(mask, x.shape)


def _counted(x, where, axes, keepdims):
    """How many entries a `where=` mask keeps along `axes` (numpy's divisor of a masked mean)."""
    if where is _NoValue or where is True:
        return _count(x.shape, axes)
    ones = _op("where", [_mask(where, x), 1.0, 0.0])._cast_const(x.dtype)
    return _reduce("sum", ones, axes, keepdims)


def _floating(x):
    """Integer and boolean data become float64, as numpy computes means and norms."""
    return x._cast_const(np.float64) if x.dtype.kind in "iub" else x


def _with_dtype(x, dtype):
    return x if dtype is None else x._cast_const(np.dtype(dtype))


def _reduce(opname, x, axes, keepdims):
    return _op(opname, [x], axis=axes, keepdims=bool(keepdims))


# ---------------------------------------------------------------------------------------
# sums and means
# ---------------------------------------------------------------------------------------
@implements(np.sum)
def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NoValue, where=_NoValue):
    x = _with_dtype(_tensor(a), dtype)
    r = _reduce("sum", _masked(x, where, 0), _axes(axis, x.ndim, "sum"), keepdims)
    return r if initial is _NoValue else r + initial


@implements(np.mean)
def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=_NoValue):
    x = _with_dtype(_floating(_tensor(a)), dtype)
    return _mean(x, where, _axes(axis, x.ndim, "mean"), keepdims)


def _mean(x, where, axes, keepdims):
    """The mean of the entries `where` keeps (all of them by default)."""
    if where is _NoValue or where is True:
        return _reduce("mean", x, axes, keepdims)
    return _reduce("sum", _masked(x, where, 0), axes, keepdims) / _counted(x, where, axes, keepdims)


@implements(np.prod)
def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NoValue, where=_NoValue):
    """Product; its gradient is the product of the other entries, exact with one or several
    zeros (computed from exclusive cumulative products, never by dividing by the data)."""
    x = _with_dtype(_tensor(a), dtype)
    r = _reduce("prod", _masked(x, where, 1), _axes(axis, x.ndim, "prod"), keepdims)
    return r if initial is _NoValue else r * initial


product = prod


@implements(np.nansum)
def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NoValue, where=_NoValue):
    """Sum with NaN entries counted as 0; they get no gradient."""
    x = _tensor(a)
    if x.dtype.kind in "fc":
        x = _op("where", [_op("isnan", [x]), 0.0, x])
    return sum(x, axis, dtype, out, keepdims, initial, where)


# ---------------------------------------------------------------------------------------
# extrema
# ---------------------------------------------------------------------------------------
def _extreme(opname, a, axis, keepdims, initial, where, name):
    x = _tensor(a)
    if where is not _NoValue and where is not True:
        if initial is _NoValue:
            raise ValueError(f"reduction operation '{'maximum' if opname == 'amax' else 'minimum'}' does not "
                             f"have an identity, so to use a where mask one has to specify 'initial'")
        x = _masked(x, where, initial)  # (an entry left out counts as `initial`, which bounds the result)
    axes = _axes(axis, x.ndim, name)
    empty = x.numel() == 0 and (axes is None or builtins.any(x.shape[i] == 0 for i in axes))
    if initial is _NoValue:
        if empty:
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity "
                             f"(shape {tuple(x.shape)})")
        return _reduce(opname, x, axes, keepdims)
    if empty:  # every result is `initial`
        reduced = range(x.ndim) if axes is None else axes
        shape = tuple(1 if i in reduced else d for i, d in enumerate(x.shape)) if keepdims \
            else tuple(d for i, d in enumerate(x.shape) if i not in reduced)
        return tensor_cls()._make(np.full(shape, initial, x.dtype))
    return _op("maximum" if opname == "amax" else "minimum", [_reduce(opname, x, axes, keepdims), initial])


@implements(np.max, np.amax)
def amax(a, axis=None, out=None, keepdims=False, initial=_NoValue, where=_NoValue):
    """Largest entries along `axis`. Gradient: where several entries tie for the maximum,
    the cotangent is split evenly among them (as JAX and HIPS autograd do for np.max, and
    PyTorch for amax); entries below the maximum get 0."""
    return _extreme("amax", a, axis, keepdims, initial, where, "max")


@implements(np.min, np.amin)
def amin(a, axis=None, out=None, keepdims=False, initial=_NoValue, where=_NoValue):
    """Smallest entries along `axis`; ties split the gradient evenly (see `amax`)."""
    return _extreme("amin", a, axis, keepdims, initial, where, "min")


max = amax
min = amin


@implements(np.ptp)
def ptp(a, axis=None, out=None, keepdims=False):
    """max - min along `axis` (ties split the gradient evenly at both ends)."""
    return amax(a, axis, keepdims=keepdims) - amin(a, axis, keepdims=keepdims)


def _arg(opname, a, axis, keepdims, name):
    x = _tensor(a)
    if axis is not None:
        if x.ndim == 0:  # PyTorch's reading of a 0-d tensor's dimension 0 (numpy would raise)
            _axes(axis, 0, name)
            axis = None
        else:
            axis = _axis(axis, x.ndim, name)
    return _op(opname, [x], axis=axis, keepdims=bool(keepdims))


@implements(np.argmax)
def argmax(a, axis=None, out=None, *, keepdims=False):
    """Index of the (first) largest entry: an integer tensor, no gradient."""
    return _arg("argmax", a, axis, keepdims, "argmax")


@implements(np.argmin)
def argmin(a, axis=None, out=None, *, keepdims=False):
    """Index of the (first) smallest entry: an integer tensor, no gradient."""
    return _arg("argmin", a, axis, keepdims, "argmin")


# ---------------------------------------------------------------------------------------
# cumulative sums and products
# ---------------------------------------------------------------------------------------
def _scan(opname, a, axis, dtype, name):
    x = _with_dtype(_tensor(a), dtype)
    if axis is None:  # numpy scans the flattened array
        x, axis = ravel(x), 0
    elif x.ndim == 0:
        return _op(opname, [x.reshape(1)], axis=0).reshape(())
    return _op(opname, [x], axis=_axis(axis, x.ndim, name))


@implements(np.cumsum)
def cumsum(a, axis=None, dtype=None, out=None):
    return _scan("cumsum", a, axis, dtype, "cumsum")


@implements(np.cumprod)
def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product; the gradient is exact with zeros (a linear recurrence, no
    division by the data) and can be differentiated again."""
    return _scan("cumprod", a, axis, dtype, "cumprod")


def running_extreme(a, axis, name):
    """np.maximum.accumulate / np.minimum.accumulate: x read where the running extreme was
    attained (recomputed positions), so the gradient reaches that entry."""
    x = _tensor(a)
    if x.ndim == 0:
        return copy(x)
    d = _axis(0 if axis is None else axis, x.ndim, name)
    idx = _op("cumargmax" if name.startswith("maximum") else "cumargmin", [x], axis=d)
    return _take_along(x, idx, d)


def _cumulative(opname, name, identity):
    def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        t = _tensor(x)
        if axis is None and t.ndim > 1:
            raise ValueError(f"{name}: axis must be given for arrays of more than one dimension")
        r = _scan(opname, t, 0 if axis is None else axis, dtype, name)
        if include_initial:
            from .shape import concatenate, full
            ax = _axis(0 if axis is None else axis, r.ndim, name)
            shape = r.shape[:ax] + (1,) + r.shape[ax + 1:]
            r = concatenate([full(shape, identity, dtype=r.dtype), r], axis=ax)
        return r
    cumulative.__name__ = name
    return cumulative


cumulative_sum = _cumulative("cumsum", "cumulative_sum", 0)
cumulative_prod = _cumulative("cumprod", "cumulative_prod", 1)
if hasattr(np, "cumulative_sum"):
    implements(np.cumulative_sum)(cumulative_sum)
    implements(np.cumulative_prod)(cumulative_prod)


# ---------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------
def _ddof(ddof, correction, name):
    if correction is not _NoValue and correction is not None:
        if ddof not in (0, None):
            raise ValueError(f"{name}: ddof and correction can't be provided simultaneously.")
        return correction
    return 0 if ddof is None else ddof


def variance(x, axes, ddof, keepdims, where=_NoValue, mean=_NoValue):
    """sum((x - mean)^2) / (n - ddof): a composite, so its gradient 2 (x - mean) / (n - ddof)
    is exact and differentiable again. where: numpy's mask of the entries counted; mean:
    the mean given (numpy's `mean=`, shaped as with keepdims), differentiated too."""
    x = _floating(x)
    if mean is _NoValue:
        mean = _mean(x, where, axes, True)
    d = _masked(x - _tensor(mean), where, 0)
    n = _counted(x, where, axes, keepdims)
    if d.dtype.kind == "c":  # (|d|^2, as numpy: the variance of complex data is real)
        d = _op("abs", [d])
    if isinstance(n, int) and 0 < n <= ddof:
        # no degree of freedom left: NaN, and so is its gradient (PyTorch's 0 / 0), which a
        # formula of `x - mean` would lose (for one entry it is 0 exactly: 0 * NaN is not NaN)
        return _reduce("sum", x * np.full(x.shape, np.nan, x.dtype), axes, keepdims)
    total = _reduce("sum", d * d, axes, keepdims)
    if isinstance(n, int):
        return total / float(np.maximum(n - ddof, 0))
    return total / _op("maximum", [n - ddof, 0.0])


@implements(np.var)
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NoValue, mean=_NoValue,
        correction=_NoValue):
    x = _with_dtype(_tensor(a), dtype)
    return variance(x, _axes(axis, x.ndim, "var"), _ddof(ddof, correction, "var"), keepdims, where, mean)


@implements(np.std)
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NoValue, mean=_NoValue,
        correction=_NoValue):
    """sqrt(var). Where the data has no spread its gradient is 0, not PyTorch's NaN (the
    function is finite there)."""
    return _std_sqrt(var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction))


def _std_sqrt(v):
    return apply(_ops.get("std_sqrt"), [v], {})


@implements(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted mean sum(a * w) / sum(w); both `a` and `weights` get gradients."""
    x = _floating(_tensor(a))
    axes = _axes(axis, x.ndim, "average")
    if weights is None:
        avg = _reduce("mean", x, axes, keepdims)
        if not returned:
            return avg
        count = x.numel() // builtins.max(avg.numel(), 1)
        return avg, tensor_cls()._make(np.full(avg.shape, count, avg.dtype))
    w = _floating(_tensor(weights))
    if w.shape != x.shape:
        if axis is None:
            raise TypeError(f"average: axis must be specified when shapes of a and weights differ "
                            f"({tuple(x.shape)} and {tuple(w.shape)})")
        given = tuple(int(i) % x.ndim for i in ((axis,) if isinstance(axis, (int, np.integer)) else axis))
        if w.shape != tuple(x.shape[i] for i in given):
            raise ValueError(f"average: shape of weights {tuple(w.shape)} must be that of a {tuple(x.shape)} along axis {axis}")
        # numpy lays the weights' axes along the given axes of a
        order = tuple(int(i) for i in np.argsort(given))
        if order != tuple(range(len(given))):
            w = w.transpose(order)
        w = w.reshape(tuple(x.shape[i] if i in given else 1 for i in range(x.ndim))).broadcast_to(x.shape)
    avg = _reduce("sum", w * x, axes, keepdims) / (scale := _reduce("sum", w, axes, keepdims))
    return (avg, scale) if returned else avg


@implements(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum along a diagonal (of the two given axes); the gradient lands on that diagonal."""
    x = _with_dtype(_tensor(a), dtype)
    return _reduce("sum", diagonal(x, offset, axis1, axis2), (x.ndim - 2,), False)


# ---------------------------------------------------------------------------------------
# log-sum-exp and softmax (scipy.special's signatures)
# ---------------------------------------------------------------------------------------
def _shift_max(x, axes, normalized=False):
    """The maximum over `axes` (kept), with no gradient, and 0 where it is infinite: the
    shift that keeps exp() from overflowing without changing the result (0 over no entries:
    the sums are then empty, or 0, as PyTorch's). normalized (softmax): a +inf is a shift
    too, as in PyTorch, which gives NaN for the whole slice (inf / inf)."""
    if x.numel() == 0:
        return 0.0
    m = _reduce("amax", x, axes, True).detach()
    if normalized:
        return _op("where", [_op("gt", [m, -np.inf]), m, 0.0])
    return _op("where", [_op("isfinite", [m]), m, 0.0])


def _squeezed(shape, axes):
    return () if axes is None else tuple(d for i, d in enumerate(shape) if i not in axes)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) over `axis`, computed stably (shifted by the maximum): finite for
    any finite input, +-inf where it should be. Its gradient is the softmax."""
    if return_sign:
        raise NotImplementedError("logsumexp: return_sign=True is not supported by srcgrad")
    x = _floating(_tensor(a))
    if x.numel() == 0 and axis is None:
        return _reduce("sum", x, None, keepdims).log()
    axes = _axes(axis, x.ndim, "logsumexp")
    m = _shift_max(x, axes)
    e = (x - m).exp()
    if b is not None:
        e = e * (b if isinstance(b, (int, float)) else _floating(_tensor(b)))
    s = keeps_its_result(_reduce("sum", e, axes, True).log() + m)  # (PyTorch's node keeps it)
    return s if keepdims else s.reshape(_squeezed(x.shape, axes))


def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) over `axis` (all entries if None), shifted by the maximum."""
    t = _floating(_tensor(x))
    axes = _axes(axis, t.ndim, "softmax")
    e = (t - _shift_max(t, axes, normalized=True)).exp()
    return keeps_its_result(e / _reduce("sum", e, axes, True))


def log_softmax(x, axis=None):
    """x - logsumexp(x) over `axis`, stable for large inputs (no log of an underflowed 0)."""
    t = _floating(_tensor(x))
    axes = _axes(axis, t.ndim, "log_softmax")
    shifted = t - _shift_max(t, axes, normalized=True)
    return keeps_its_result(shifted - _reduce("sum", shifted.exp(), axes, True).log())


# ---------------------------------------------------------------------------------------
# counts and truth tests: no gradient
# ---------------------------------------------------------------------------------------
@implements(np.count_nonzero)
def count_nonzero(a, axis=None, *, keepdims=False):
    x = _tensor(a)
    return _reduce("count_nonzero", x, _axes(axis, x.ndim, "count_nonzero"), keepdims)


@implements(np.any)
def any(a, axis=None, out=None, keepdims=False, *, where=_NoValue):
    x = _masked(_tensor(a), where, False)
    return _reduce("any", x, _axes(axis, x.ndim, "any"), keepdims)


@implements(np.all)
def all(a, axis=None, out=None, keepdims=False, *, where=_NoValue):
    x = _masked(_tensor(a), where, True)
    return _reduce("all", x, _axes(axis, x.ndim, "all"), keepdims)


# ---------------------------------------------------------------------------------------
# norms (srcgrad.numpy.linalg.norm)
# ---------------------------------------------------------------------------------------
def _vector_norm(x, ord, axes, keepdims):
    if ord is None or ord == 2:
        return _op("norm", [x], ord=None, axis=axes, keepdims=bool(keepdims))
    if ord == 1:
        return _op("norm", [x], ord=1, axis=axes, keepdims=bool(keepdims))
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    if ord == np.inf:
        return _reduce("amax", x.abs(), axes, keepdims)
    if ord == -np.inf:
        return _reduce("amin", x.abs(), axes, keepdims)
    if ord == 0:  # the number of nonzero entries: piecewise constant, so no gradient
        return _reduce("count_nonzero", x, axes, keepdims)._cast_const(x.dtype)
    p = float(ord)
    return _reduce("sum", x.abs() ** p, axes, keepdims) ** (1.0 / p)


def _matrix_norm(x, ord, row, col, keepdims):
    if ord in (None, "fro"):
        return _op("norm", [x], ord=None, axis=tuple(sorted((row, col))), keepdims=bool(keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        # 1: largest column sum of |x|; inf: largest row sum (and -1/-inf the smallest)
        summed_axis, extreme_axis = (row, col) if ord in (1, -1) else (col, row)
        sums = _reduce("sum", x.abs(), (summed_axis,), True)
        r = _reduce("amax" if ord > 0 else "amin", sums, (extreme_axis,), True)
    elif ord in (2, -2, "nuc"):
        from .linalg import svd
        from .shape import moveaxis
        s = svd(moveaxis(x, (row, col), (-2, -1)), compute_uv=False)
        r = sum(s, axis=-1) if ord == "nuc" else _reduce("amax" if ord == 2 else "amin", s, (s.ndim - 1,), False)
        if keepdims:
            r = r.reshape(tuple(1 if i in (row, col) else d for i, d in enumerate(x.shape)))
        return r
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices")
    if keepdims:
        return r
    return r.reshape(tuple(d for i, d in enumerate(x.shape) if i not in (row, col)))


def linalg_norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm: vector norms (ord None/2, 1, inf, -inf, 0, any p) over one axis,
    matrix norms (None/'fro', 1, -1, inf, -inf, 2, -2, 'nuc') over two, with numpy's
    rules for axis=None. Gradients: x/|x| (0 at 0, as PyTorch) for the 2-norm, sign(x) for
    the 1-norm, the tied extreme entries sharing evenly for inf/-inf norms."""
    t = _floating(_tensor(x))
    pair = axis is not None and not isinstance(axis, (int, np.integer)) and len(tuple(axis)) == 2
    t = _moduli(t, ord if pair or axis is None and ord is not None and t.ndim == 2 else None)
    if axis is None:
        if ord is None:  # the 2-norm of the flattened array, any dimension
            return _op("norm", [t], ord=None, axis=None, keepdims=bool(keepdims))
        if t.ndim == 1:
            return _vector_norm(t, ord, None, keepdims)
        if t.ndim == 2:
            return _matrix_norm(t, ord, 0, 1, keepdims)
        raise ValueError(f"norm: improper number of dimensions to norm (shape {tuple(t.shape)}); give axis")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axes) == 1:
        return _vector_norm(t, ord, (_axis(axes[0], t.ndim, "norm"),), keepdims)
    if len(axes) == 2:
        row, col = _axis(axes[0], t.ndim, "norm"), _axis(axes[1], t.ndim, "norm")
        if row == col:
            raise ValueError("norm: duplicate axes given")
        return _matrix_norm(t, ord, row, col, keepdims)
    raise ValueError(f"norm: improper number of dimensions to norm (axis {axis})")


implements(np.linalg.norm)(linalg_norm)


def _moduli(t, matrix_ord=None):
    """|t| for complex data, whose norms are those of the moduli; not for the matrix norms
    of singular values (ord 2, -2, 'nuc'), which are the complex matrix's own."""
    if t.dtype.kind != "c" or matrix_ord in (2, -2, "nuc"):
        return t
    return _op("abs", [t])


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """numpy.linalg.vector_norm: a vector norm over `axis` (all entries if None)."""
    t = _moduli(_floating(_tensor(x)))
    if axis is None:
        r = _vector_norm(ravel(t), ord, None, False)
        return r.reshape((1,) * t.ndim) if keepdims else r
    # several axes: the norm of the entries over those axes, taken together
    return _vector_norm(t, ord, _axes(axis, t.ndim, "vector_norm"), keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """numpy.linalg.matrix_norm: a matrix norm over the last two axes."""
    t = _moduli(_floating(_tensor(x)), ord)
    if t.ndim < 2:
        raise ValueError(f"matrix_norm: the input must be at least 2-D, got shape {tuple(t.shape)}")
    return _matrix_norm(t, ord, t.ndim - 2, t.ndim - 1, keepdims)


if hasattr(np.linalg, "vector_norm"):
    implements(np.linalg.vector_norm)(vector_norm)
    implements(np.linalg.matrix_norm)(matrix_norm)


# ---------------------------------------------------------------------------------------
# PyTorch's spellings (Tensor methods and srcgrad.max/softmax/... call these)
# ---------------------------------------------------------------------------------------
def _dim_axes(x, dim, name):
    """torch's dim: None or () is every dimension."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    return _axes(dim, x.ndim, name)


def torch_extreme(x, dim, keepdim, axis, keepdims, name, numpy_method=False):
    """x.max() / x.max(dim) / x.max(other) / x.max(axis=..., keepdims=...), and min.

    numpy_method: the method called inside a function compiled by srcgrad.grad & co
    (numpy code), where x.max(1) is numpy's (values only), not PyTorch's (values, indices)."""
    Tensor = tensor_cls()
    opname = "amax" if name == "max" else "amin"
    if isinstance(dim, (Tensor, np.ndarray)):  # torch.max(a, b): the elementwise maximum
        from .elementwise import maximum, minimum
        return (maximum if name == "max" else minimum)(x, dim)
    if axis is not None or keepdims is not None or (numpy_method and dim is not None):
        # numpy's method, values only: x.max(axis=1), x.max(-1, keepdims=True), and x.max(1)
        # inside a function compiled by srcgrad.grad & co (numpy code)
        if dim is not None and axis is not None:
            raise TypeError(f"{name}() got both dim and axis")
        return _extreme(opname, x, dim if axis is None else axis, bool(keepdims or keepdim), _NoValue,
                        _NoValue, name)
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        return _reduce(opname, x, None, False)
    result = MaxResult if name == "max" else MinResult
    if x.ndim == 0:
        if dim not in (0, -1):
            raise IndexError(f"{name}(): dimension {dim} is out of range for a 0-d tensor")
        return result(copy(x), _op("argmax", [x], axis=None, keepdims=False).astype(np.int64))
    d = _axis(dim, x.ndim, name)
    if x.shape[d] == 0:
        raise IndexError(f"{name}(): cannot reduce over dimension {d} of size 0 (shape {tuple(x.shape)})")
    idx = _op("argmax" if name == "max" else "argmin", [x], axis=d, keepdims=True)
    # the values are read at the returned indices, so (as in PyTorch) only they get gradient
    values = _take_along(x, idx, d)
    if not keepdim:  # (results of their own, as PyTorch's: an in-place op on them is their node)
        values = not_a_view(values.reshape(values.shape[:d] + values.shape[d + 1:]))
        idx = idx.reshape(idx.shape[:d] + idx.shape[d + 1:])
    return result(values, idx.astype(np.int64))


def torch_arg(x, dim, keepdim, name):
    if dim is None:
        r = _op(name, [x], axis=None, keepdims=False)
        return r.reshape((1,) * x.ndim) if keepdim else r
    return _arg(name, x, dim, keepdim, name).astype(np.int64)


def torch_var(x, dim, unbiased, keepdim, correction, ddof, name):
    from ..surface import float_only  # (PyTorch's rule, in torch-style code)
    float_only(x, "std and var only support floating point and complex dtypes")
    if isinstance(dim, bool):  # the legacy var(unbiased) signature
        dim, unbiased = None, dim
    given = [v for v in (unbiased, correction, ddof) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{name}(): give only one of unbiased, correction and ddof")
    if ddof is not None:
        c = ddof
    elif correction is not None:
        c = correction
    elif unbiased is None:
        # x.std() alone: PyTorch's unbiased estimate in eager torch-style code, numpy's
        # ddof=0 inside a function traced by srcgrad.grad & co (numpy-style code)
        from ..autograd.recording import numpy_code
        c = 0 if numpy_code() else 1
    else:
        c = 1 if unbiased else 0
    r = variance(x, _dim_axes(x, dim, name), c, keepdim)
    return _std_sqrt(r) if name == "std" else r


def torch_scan(x, dim, dtype, name):
    """x.cumsum(dim); with no dim, numpy's method: the flattened array."""
    if x.ndim == 0 and dim is not None:
        _axes(dim, 0, name)
    return _scan(name, x, dim, dtype, name)


def torch_logsumexp(x, dim, keepdim):
    r = logsumexp(x, _dim_axes(x, dim, "logsumexp"), keepdims=keepdim)
    return not_a_view(r) if isinstance(r, tensor_cls()) else r  # (PyTorch's result is its own)


def torch_softmax(x, dim, dtype, log):
    if dim is None:
        raise TypeError(f"{'log_softmax' if log else 'softmax'}() missing required argument 'dim'")
    if dtype is None:  # (PyTorch's kernels take floats only: its own name for the one refusing)
        from ..surface import float_only
        last = x.ndim <= 1 or dim % x.ndim == x.ndim - 1
        float_only(x, kernel=f"{'log_' if log else ''}softmax_{'lastdim_' if last else ''}kernel_impl")
    x = _with_dtype(x, dtype)
    return (log_softmax if log else softmax)(x, dim)
