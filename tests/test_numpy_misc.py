"""numpy's wider vocabulary over tensors (srcgrad/numpy/misc.py, srcgrad/ops/misc.py).

Each differentiable function is checked four ways: values against numpy, through
`srcgrad.numpy` and through plain numpy on tensors (`np.median(t)`, dispatched by
`__array_function__`); float64 gradients against central finite differences
(`srcgrad.testing.gradcheck`); and in float32, where the gradient must stay float32 and
agree with the float64 one. Functions with integer or boolean results are checked for
values and for giving no gradient. A last group runs plain numpy functions under
`srcgrad.grad` on fresh data every call, against finite differences of the same
functions run by numpy.
"""
import warnings

import numpy as np
import pytest

import srcgrad
import srcgrad.numpy as snp
from srcgrad.testing import gradcheck
from srcgrad.trace import TraceError

RNG = np.random.default_rng(20240607)


def rand(*shape, lo=-1.5, hi=1.5, seed=None):
    rng = RNG if seed is None else np.random.default_rng(seed)
    return rng.uniform(lo, hi, size=shape)


def with_nans(shape, positions, seed=0):
    a = rand(*shape, seed=seed)
    for p in positions:
        a[p] = np.nan
    return a


def as_array(t):
    if isinstance(t, srcgrad.Tensor):
        return t.detach().numpy()
    return t


def assert_same(got, want, rtol=1e-10, atol=1e-12):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), (type(got), got)
        for g, w in zip(got, want):
            assert_same(g, w, rtol, atol)
        return
    g = as_array(got)
    assert np.shape(g) == np.shape(want), (np.shape(g), np.shape(want))
    if isinstance(want, (bool, np.bool_)) or np.asarray(want).dtype == bool:
        np.testing.assert_array_equal(np.asarray(g), np.asarray(want))
    else:
        np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(want, np.float64), rtol=rtol,
                                   atol=atol, equal_nan=True)


def tensors(arrays, dtype=None, requires_grad=False):
    return [srcgrad.tensor(a if dtype is None else a.astype(dtype), requires_grad=requires_grad) for a in arrays]


# ---------------------------------------------------------------------------------------
# differentiable functions: (id, fn(M, *arrays), arrays); every array is differentiated
# ---------------------------------------------------------------------------------------
XP = np.array([-1.4, -0.9, -0.2, 0.3, 0.8, 1.6])          # interp's sample points (constant)
XQ = np.array([-2.0, -1.2, -0.5, -0.1, 0.05, 0.41, 0.77, 1.1, 1.5, 2.3])  # away from XP
COORDS = np.array([0.0, 0.4, 1.1, 1.5, 2.6, 3.0])           # uneven coordinates

CASES = [
    ("diff-1d", lambda M, a: M.diff(a), [rand(6)]),
    ("diff-n2-axis0", lambda M, a: M.diff(a, n=2, axis=0), [rand(4, 3)]),
    ("diff-axis1-3d", lambda M, a: M.diff(a, axis=1), [rand(2, 3, 4)]),
    ("diff-prepend-append", lambda M, a, p: M.diff(a, prepend=p, append=0.5), [rand(3, 4), rand(3, 1)]),
    ("diff-n0", lambda M, a: M.diff(a, n=0) * 1.0, [rand(3)]),
    ("ediff1d", lambda M, a, b: M.ediff1d(a, to_begin=b, to_end=2.0), [rand(2, 3), rand(2)]),
    ("append-flat", lambda M, a, b: M.append(a, b), [rand(2, 3), rand(4)]),
    ("append-axis1", lambda M, a, b: M.append(a, b, axis=1), [rand(2, 3), rand(2, 2)]),
    ("insert-scalar", lambda M, a: M.insert(a, 2, 7.0), [rand(5)]),
    ("insert-values", lambda M, a, v: M.insert(a, [0, 2, 2, 5], v), [rand(5), rand(4)]),
    ("insert-axis1", lambda M, a, v: M.insert(a, [1, 3], v, axis=1), [rand(3, 4), rand(3, 2)]),
    ("insert-axis0-broadcast", lambda M, a, v: M.insert(a, 1, v, axis=0), [rand(3, 4), rand(4)]),
    ("delete-axis1", lambda M, a: M.delete(a, [0, 2], axis=1), [rand(3, 4)]),
    ("delete-flat-slice", lambda M, a: M.delete(a, slice(1, 8, 3)), [rand(3, 4)]),
    ("polyval", lambda M, p, x: M.polyval(p, x), [rand(4), rand(3, 2)]),
    ("polyval-scalar-x", lambda M, p, x: M.polyval(p, x), [rand(3), np.array(0.7)]),
    ("polyadd", lambda M, a, b: M.polyadd(a, b), [rand(3), rand(5)]),
    ("polysub", lambda M, a, b: M.polysub(a, b), [rand(4), rand(2)]),
    ("polymul", lambda M, a, b: M.polymul(a, b), [rand(3), rand(4)]),
    ("polyder-m2", lambda M, p: M.polyder(p, 2), [rand(5)]),
    ("polyint-k", lambda M, p, k: M.polyint(p, 2, k), [rand(3), rand(2)]),
    ("interp", lambda M, x, fp: M.interp(x, XP.astype(x.dtype), fp), [XQ, rand(6)]),
    ("interp-left-right", lambda M, x, fp: M.interp(x, XP.astype(x.dtype), fp, left=-3.0, right=4.0),
     [XQ, rand(6)]),
    ("interp-xp", lambda M, x, xp, fp: M.interp(x, xp, fp), [XQ[2:8], XP, rand(6)]),
    ("interp-2d-x", lambda M, x, fp: M.interp(x, XP.astype(x.dtype), fp), [XQ.reshape(2, 5), rand(6)]),
    ("interp-period", lambda M, x, fp: M.interp(x, XP.astype(x.dtype), fp, period=3.1), [XQ, rand(6)]),
    ("median-odd", lambda M, a: M.median(a), [rand(7)]),
    ("median-even", lambda M, a: M.median(a), [rand(6)]),
    ("median-axis0", lambda M, a: M.median(a, axis=0), [rand(4, 3)]),
    ("median-axis1-keep", lambda M, a: M.median(a, axis=1, keepdims=True), [rand(3, 5)]),
    ("median-axes-3d", lambda M, a: M.median(a, axis=(0, 2)), [rand(2, 3, 4)]),
    ("quantile", lambda M, a: M.quantile(a, [0.1, 0.5, 0.83]), [rand(9)]),
    ("quantile-axis-keep", lambda M, a: M.quantile(a, 0.3, axis=-1, keepdims=True), [rand(3, 5)]),
    ("quantile-2d-q", lambda M, a: M.quantile(a, [[0.2, 0.9], [0.45, 0.6]], axis=0), [rand(5, 3)]),
    ("quantile-midpoint", lambda M, a: M.quantile(a, [0.2, 0.5], axis=1, method="midpoint"), [rand(3, 6)]),
    ("quantile-nearest", lambda M, a: M.quantile(a, [0.2, 0.9], method="nearest"), [rand(7)]),
    ("quantile-lower", lambda M, a: M.quantile(a, 0.4, axis=0, method="lower"), [rand(6, 2)]),
    ("quantile-higher", lambda M, a: M.quantile(a, 0.4, method="higher"), [rand(6)]),
    ("quantile-hazen", lambda M, a: M.quantile(a, [0.05, 0.5, 0.97], method="hazen"), [rand(8)]),
    ("quantile-wrt-q", lambda M, a, q: M.quantile(a, q), [rand(8), np.array([0.13, 0.52, 0.91])]),
    ("percentile", lambda M, a: M.percentile(a, 35), [rand(3, 4)]),
    ("percentile-axis", lambda M, a: M.percentile(a, [10, 90], axis=1), [rand(3, 4)]),
    ("nanmean", lambda M, a: M.nanmean(a), [with_nans((3, 4), [(0, 1), (2, 3)])]),
    ("nanmean-axis0", lambda M, a: M.nanmean(a, axis=0), [with_nans((3, 4), [(0, 1), (2, 3), (1, 1)])]),
    ("nanmax-axis1", lambda M, a: M.nanmax(a, axis=1), [with_nans((3, 4), [(0, 1), (2, 3)])]),
    ("nanmin", lambda M, a: M.nanmin(a, axis=0, keepdims=True), [with_nans((3, 4), [(0, 1), (2, 3)])]),
    ("nanprod", lambda M, a: M.nanprod(a, axis=1), [with_nans((3, 4), [(0, 1), (2, 3)])]),
    ("nanvar-ddof1", lambda M, a: M.nanvar(a, axis=0, ddof=1), [with_nans((4, 3), [(0, 1), (2, 2)])]),
    ("nanstd", lambda M, a: M.nanstd(a), [with_nans((3, 4), [(0, 1), (2, 3)])]),
    ("nancumsum", lambda M, a: M.nancumsum(a, axis=1), [with_nans((3, 4), [(0, 1), (2, 3)])]),
    ("nancumprod", lambda M, a: M.nancumprod(a), [with_nans((3, 4), [(0, 1), (2, 3)])]),
    ("nanmedian", lambda M, a: M.nanmedian(a, axis=1), [with_nans((3, 5), [(0, 1), (2, 3), (2, 0)])]),
    ("nanmedian-all", lambda M, a: M.nanmedian(a), [with_nans((3, 4), [(0, 1)])]),
    ("nanquantile", lambda M, a: M.nanquantile(a, [0.25, 0.6], axis=0), [with_nans((5, 3), [(0, 1), (3, 1)])]),
    ("nanpercentile", lambda M, a: M.nanpercentile(a, 70, axis=1, keepdims=True),
     [with_nans((3, 5), [(0, 1), (2, 3)])]),
    ("cov", lambda M, a: M.cov(a), [rand(3, 5)]),
    ("cov-cols-bias", lambda M, a: M.cov(a, rowvar=False, bias=True), [rand(5, 3)]),
    ("cov-y-ddof", lambda M, a, b: M.cov(a, b, ddof=2), [rand(2, 5), rand(5)]),
    ("cov-1d", lambda M, a: M.cov(a), [rand(6)]),
    ("cov-fweights", lambda M, a: M.cov(a, fweights=[1, 2, 3, 1, 1]), [rand(2, 5)]),
    ("cov-aweights", lambda M, a, w: M.cov(a, aweights=w), [rand(2, 5), rand(5, lo=0.2, hi=2.0)]),
    ("cov-both-weights", lambda M, a, w: M.cov(a, fweights=[2, 1, 1, 3, 1], aweights=w),
     [rand(2, 5), rand(5, lo=0.2, hi=2.0)]),
    ("corrcoef", lambda M, a: M.corrcoef(a), [rand(3, 5)]),
    ("corrcoef-y-cols", lambda M, a, b: M.corrcoef(a, b, rowvar=False), [rand(5, 2), rand(5, 2)]),
    ("meshgrid-xy", lambda M, a, b: (lambda g: g[0] * g[1] ** 2)(M.meshgrid(a, b)), [rand(3), rand(4)]),
    ("meshgrid-ij-3", lambda M, a, b, c: (lambda g: g[0] * g[1] + g[2])(M.meshgrid(a, b, c, indexing="ij")),
     [rand(2), rand(3), rand(2)]),
    ("meshgrid-sparse", lambda M, a, b: (lambda g: g[0] - g[1] * 3)(M.meshgrid(a, b, sparse=True)),
     [rand(3), rand(2)]),
    ("vander", lambda M, x: M.vander(x), [np.array([0.0, 0.5, -1.2, 1.1])]),
    ("vander-N-increasing", lambda M, x: M.vander(x, 3, increasing=True), [np.array([0.3, 0.0, -0.7])]),
    ("trapezoid", lambda M, y: M.trapezoid(y), [rand(3, 5)]),
    ("trapezoid-x", lambda M, y, x: M.trapezoid(y, x, axis=0), [rand(6, 2), COORDS]),
    ("trapezoid-x-2d", lambda M, y, x: M.trapezoid(y, x), [rand(2, 6), np.cumsum(rand(2, 6, lo=0.1, hi=1), 1)]),
    ("trapezoid-dx", lambda M, y: M.trapezoid(y, dx=0.25), [rand(7)]),
    ("gradient-1d", lambda M, f: M.gradient(f), [rand(6)]),
    ("gradient-2-elements", lambda M, f: M.gradient(f, 0.5), [rand(2)]),
    ("gradient-2d", lambda M, f: (lambda g: g[0] + 2 * g[1])(M.gradient(f, 0.5, 2.0)), [rand(4, 5)]),
    ("gradient-axis", lambda M, f: M.gradient(f, 0.3, axis=1), [rand(3, 4, 2)]),
    ("gradient-coords", lambda M, f: M.gradient(f, COORDS), [rand(6)]),
    ("gradient-coords-wrt", lambda M, f, c: M.gradient(f, c, axis=0), [rand(6, 2), COORDS]),
    ("gradient-edge2", lambda M, f: M.gradient(f, 0.7, edge_order=2), [rand(5)]),
    ("gradient-edge2-coords", lambda M, f: M.gradient(f, COORDS, axis=-1, edge_order=2), [rand(2, 6)]),
    ("unique-distinct", lambda M, a: M.unique(a), [rand(6)]),
    ("real", lambda M, a: M.real(a) * 1.0, [rand(2, 3)]),
    ("imag", lambda M, a: M.imag(a) + a, [rand(2, 3)]),
    ("conj", lambda M, a: M.conj(a), [rand(2, 3)]),
    ("conjugate", lambda M, a: M.conjugate(a), [rand(4)]),
]
for _mode in ("full", "same", "valid"):
    for _n, _m in ((6, 3), (3, 6), (4, 4), (5, 1), (2, 5)):
        CASES += [
            (f"convolve-{_mode}-{_n}-{_m}", lambda M, a, v, mode=_mode: M.convolve(a, v, mode), [rand(_n), rand(_m)]),
            (f"correlate-{_mode}-{_n}-{_m}", lambda M, a, v, mode=_mode: M.correlate(a, v, mode), [rand(_n), rand(_m)]),
        ]
CASES.append(("convolve-default", lambda M, a, v: M.convolve(a, v), [rand(5), rand(3)]))
# numpy 2's array-API functions, ufunc-like helpers and numpy's fitting / slicing utilities
XS4 = np.array([0.0, 0.3, 0.7, 1.2])
CASES += [
    ("matvec", lambda M, a, v: M.matvec(a, v), [rand(2, 3, 4), rand(4)]),
    ("vecmat", lambda M, v, a: M.vecmat(v, a), [rand(3), rand(2, 3, 4)]),
    ("unstack-axis1", lambda M, a: M.stack(M.unstack(a, axis=1)[::-1]), [rand(3, 4)]),
    ("matrix_transpose", lambda M, a: M.matrix_transpose(a), [rand(2, 3, 4)]),
    ("permute_dims", lambda M, a: M.permute_dims(a, (2, 0, 1)), [rand(2, 3, 4)]),
    ("resize-grow", lambda M, a: M.resize(a, (3, 5)), [rand(2, 4)]),
    ("resize-shrink", lambda M, a: M.resize(a, 5), [rand(2, 4)]),
    ("choose", lambda M, a, b, c: M.choose(np.array([[0, 2, 1], [1, 0, 2]]), [a, b, c]),
     [rand(2, 3), rand(3), rand(2, 3)]),
    ("choose-wrap", lambda M, a, b: M.choose(np.array([0, 3, 1]), [a, b], mode="wrap"), [rand(3), rand(3)]),
    ("ldexp", lambda M, a: M.ldexp(a, np.array([[1, -2, 0], [3, 0, -1]])), [rand(2, 3)]),
    ("polyfit", lambda M, y: M.polyfit(XS4, y, 2), [rand(4)]),
    ("polyfit-2d-x", lambda M, x, y: M.polyfit(x, y, 1), [XS4 + rand(4) * 0.1, rand(4, 2)]),
    ("apply_along_axis", lambda M, a: M.apply_along_axis(lambda r: r * M.sum(r ** 2), 1, a), [rand(3, 4)]),
    ("apply_along_axis-matrix", lambda M, a: M.apply_along_axis(lambda r: M.outer(r, r[:2]), 0, a),
     [rand(3, 4)]),
]
CASES.append(("correlate-default", lambda M, a, v: M.correlate(a, v), [rand(5), rand(3)]))

# (numpy computes these in float64 from float32 data: diff's append=0.5 joins as a float64 array)
FLOAT32_SKIP = {"polyval-scalar-x", "diff-prepend-append", "polyfit",  # (polyfit: with float64 x)
                "polyder-m2", "polyint-k"}  # (numpy's own results are float64: p times numpy.arange)


@pytest.mark.parametrize("name, fn, arrays", CASES, ids=[c[0] for c in CASES])
def test_values(name, fn, arrays):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = fn(np, *arrays)
        assert_same(fn(snp, *tensors(arrays)), want)   # srcgrad.numpy by name
        assert_same(fn(np, *tensors(arrays)), want)    # numpy on tensors: __array_function__


@pytest.mark.parametrize("name, fn, arrays", CASES, ids=[c[0] for c in CASES])
def test_gradients(name, fn, arrays):
    g64 = gradcheck(lambda *ts: fn(np, *ts), *arrays)
    if name in FLOAT32_SKIP:
        return
    ts = tensors(arrays, np.float32, requires_grad=True)
    out = fn(snp, *ts)
    assert out.dtype == np.float32, out.dtype
    out.backward(srcgrad.tensor(np.ones(out.shape, np.float32)))
    t64 = tensors(arrays, requires_grad=True)
    fn(snp, *t64).sum().backward()
    for t32, t in zip(ts, t64):
        g32 = t32.grad.numpy() if t32.grad is not None else np.zeros(t32.shape, np.float32)
        gref = t.grad.numpy() if t.grad is not None else np.zeros(t.shape)
        assert g32.dtype == np.float32 and g32.shape == t32.shape
        np.testing.assert_allclose(g32, gref, rtol=2e-3, atol=2e-4)
    assert len(g64) == len(arrays)


# ---------------------------------------------------------------------------------------
# numpy's exact values in the corners
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_correlate_all_lengths(mode):
    for n in range(1, 7):
        for m in range(1, 7):
            a, v = rand(n), rand(m)
            assert_same(snp.convolve(a, v, mode), np.convolve(a, v, mode))
            assert_same(snp.correlate(a, v, mode), np.correlate(a, v, mode))
    assert snp.convolve(np.arange(3), np.arange(2)).dtype.kind == "i"  # integers stay integers


def test_convolve_errors():
    with pytest.raises(ValueError, match="empty"):
        snp.convolve(np.ones(3), np.ones(0))
    with pytest.raises(ValueError):
        snp.correlate(np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="mode"):
        snp.convolve(np.ones(3), np.ones(2), "circular")


def test_interp_corners():
    xp, fp = np.array([0.0, 1.0, 1.0, 2.0, 3.5]), rand(5)
    x = np.array([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.5, 4.0, np.nan, -np.inf, np.inf])
    assert_same(snp.interp(x, xp, fp), np.interp(x, xp, fp))
    assert_same(snp.interp(x, xp[:1], fp[:1]), np.interp(x, xp[:1], fp[:1]))
    assert_same(snp.interp(x[:8], xp, fp, period=1.7), np.interp(x[:8], xp, fp, period=1.7))
    assert_same(snp.interp(2.2, xp, fp), np.interp(2.2, xp, fp))
    assert_same(snp.interp(np.arange(4), np.arange(4), np.arange(4) ** 2), np.interp(np.arange(4), np.arange(4),
                                                                                    np.arange(4) ** 2))
    with pytest.raises(ValueError):
        snp.interp(x, xp, fp[:3])
    # outside [xp[0], xp[-1]] the value is constant: gradient 0 in x, all of it on fp's end
    t = srcgrad.tensor(np.array([-2.0, 5.0]), requires_grad=True)
    f = srcgrad.tensor(fp, requires_grad=True)
    snp.interp(t, xp, f).sum().backward()
    assert_same(t.grad, np.zeros(2))
    assert_same(f.grad, np.array([1.0, 0, 0, 0, 1.0]))


def test_quantile_methods_and_errors():
    a = rand(4, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for method in ("linear", "lower", "higher", "nearest", "midpoint", "hazen", "weibull", "median_unbiased",
                       "normal_unbiased", "interpolated_inverted_cdf"):
            for axis in (None, 0, 1):
                q = [0.0, 0.1, 0.25, 0.5, 0.77, 1.0]
                assert_same(snp.quantile(a, q, axis=axis, method=method), np.quantile(a, q, axis=axis, method=method))
                b = a.copy()
                b[1, 2] = b[3, 0] = np.nan
                assert_same(snp.quantile(b, q, axis=axis, method=method),
                            np.quantile(b, q, axis=axis, method=method))
                assert_same(snp.nanquantile(b, q, axis=axis, method=method),
                            np.nanquantile(b, q, axis=axis, method=method))
    assert_same(snp.median(np.arange(5)), np.median(np.arange(5)))   # integers: float64 result
    assert snp.median(np.arange(5)).dtype == np.float64
    assert snp.median(rand(5).astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="Quantiles"):
        snp.quantile(rand(5), 1.5)
    with pytest.raises(ValueError, match="Quantiles"):
        snp.percentile(rand(5), -3)
    with pytest.raises(NotImplementedError):
        snp.quantile(rand(5), 0.5, method="inverted_cdf")


def test_median_ties_share_nothing_wrongly():
    # the two middle entries each get 1/2, in every order; a NaN slice gets no gradient
    t = srcgrad.tensor(np.array([3.0, 1.0, 4.0, 2.0]), requires_grad=True)
    snp.median(t).backward()
    assert_same(t.grad, np.array([0.5, 0, 0, 0.5]))
    t = srcgrad.tensor(np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 4.0]]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m = snp.median(t, axis=1)
    assert_same(m, np.array([np.nan, 4.0]))
    m[1].backward()
    assert_same(t.grad, np.array([[0, 0, 0], [0, 0, 1.0]]))


def test_nan_reductions_all_nan_slices():
    a = np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 3.0], [0.5, -2.0, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in ("nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "nansum", "nanmedian"):
            for axis in (None, 0, 1):
                assert_same(getattr(snp, name)(a, axis=axis), getattr(np, name)(a, axis=axis))
        assert_same(snp.nanvar(a, axis=1, ddof=2), np.nanvar(a, axis=1, ddof=2))
        assert_same(snp.nanpercentile(a, [10, 60], axis=1), np.nanpercentile(a, [10, 60], axis=1))
        assert_same(snp.nancumsum(a, axis=0), np.nancumsum(a, axis=0))
        assert_same(snp.nanargmax(a, axis=0), np.nanargmax(a, axis=0))
        assert_same(snp.nanargmin(a[1:]), np.nanargmin(a[1:]))
    with pytest.raises(ValueError, match="All-NaN"):
        snp.nanargmax(a, axis=1)
    # integer data: the plain reductions
    i = np.arange(12).reshape(3, 4)
    for name in ("nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "nanmedian"):
        assert_same(getattr(snp, name)(i, axis=0), getattr(np, name)(i, axis=0))
    # NaN entries get gradient exactly 0, the others the plain mean's
    t = srcgrad.tensor(a[1:], requires_grad=True)
    snp.nanmean(t).backward()
    assert_same(t.grad, np.where(np.isnan(a[1:]), 0.0, 1 / 5))


def test_cov_corrcoef_corners():
    x = rand(3, 6)
    for kw in ({}, {"bias": True}, {"ddof": 0}, {"ddof": 3}, {"rowvar": False}, {"fweights": [1, 2, 1, 1, 3, 1]},
               {"aweights": rand(6, lo=0.1, hi=1)}, {"dtype": np.float32}):
        assert_same(snp.cov(x, **kw), np.cov(x, **kw), rtol=1e-6 if kw.get("dtype") else 1e-10)
    assert_same(snp.cov(x[0], x[1]), np.cov(x[0], x[1]))
    assert_same(snp.corrcoef(x[0], x[1]), np.corrcoef(x[0], x[1]))
    assert_same(snp.corrcoef(x[0]), np.corrcoef(x[0]))
    assert_same(snp.cov(np.arange(6).reshape(2, 3)), np.cov(np.arange(6).reshape(2, 3)))
    with pytest.raises(ValueError):
        snp.cov(rand(2, 2, 2))
    with pytest.raises(TypeError):
        snp.cov(x, fweights=[1.5, 1, 1, 1, 1, 1])
    with pytest.warns(RuntimeWarning):
        assert_same(snp.cov(rand(2, 1)), np.full((2, 2), np.nan))


def test_grids_and_integration_corners():
    a, b = rand(3), rand(4)
    for indexing in ("xy", "ij"):
        for sparse in (False, True):
            assert_same(snp.meshgrid(a, b, indexing=indexing, sparse=sparse),
                        np.meshgrid(a, b, indexing=indexing, sparse=sparse))
    assert_same(snp.meshgrid(a), np.meshgrid(a))
    t = srcgrad.tensor(a)
    assert snp.meshgrid(t)[0] is not t     # numpy copies
    with pytest.raises(ValueError):
        snp.meshgrid(a, b, indexing="yx")
    for N in (None, 0, 1, 2, 5):
        assert_same(snp.vander(a, N), np.vander(a, N))
    assert snp.vander(np.arange(3)).dtype == np.vander(np.arange(3)).dtype
    assert_same(snp.trapezoid(np.arange(5)), np.trapezoid(np.arange(5)))
    assert_same(snp.trapz(b, dx=0.5), np.trapezoid(b, dx=0.5))
    assert_same(snp.gradient(np.arange(6) ** 2), np.gradient(np.arange(6) ** 2))
    even = np.arange(6) * 0.3
    assert_same(snp.gradient(rand(6, seed=3), even, edge_order=2), np.gradient(rand(6, seed=3), even, edge_order=2))
    assert_same(snp.gradient(rand(3, 4, seed=4), axis=(1, 0)), np.gradient(rand(3, 4, seed=4), axis=(1, 0)))
    with pytest.raises(ValueError, match="too small"):
        snp.gradient(np.ones(2), edge_order=2)
    with pytest.raises(TypeError):
        snp.gradient(np.ones((2, 3)), 1.0, 2.0, 3.0)
    f32 = snp.gradient(srcgrad.tensor(rand(5).astype(np.float32)), COORDS[:5])
    assert f32.dtype == np.float32


def test_diff_insert_delete_corners():
    a = rand(3, 4)
    assert_same(snp.diff(a, n=5, axis=1), np.diff(a, n=5, axis=1))
    assert_same(snp.diff(np.array([True, False, False, True])), np.diff(np.array([True, False, False, True])))
    assert_same(snp.diff(np.arange(5) ** 2, n=2), np.diff(np.arange(5) ** 2, n=2))
    with pytest.raises(ValueError):
        snp.diff(a, n=-1)
    with pytest.raises(ValueError):
        snp.diff(np.float64(3.0))
    for obj in (0, -1, [1, 1], slice(0, 3), np.array([0, 3])):
        assert_same(snp.insert(a, obj, 9.5, axis=1), np.insert(a, obj, 9.5, axis=1))
        assert_same(snp.delete(a, obj, axis=1), np.delete(a, obj, axis=1))
    assert_same(snp.insert(np.arange(4), 1, 2.7), np.insert(np.arange(4), 1, 2.7))  # cast to arr's dtype
    assert_same(snp.delete(a, np.array([True, False, True]), axis=0), np.delete(a, np.array([True, False, True]), 0))
    assert_same(snp.ediff1d(np.arange(4)), np.ediff1d(np.arange(4)))


def test_complex_parts_of_real_data():
    a = rand(2, 3)
    t = srcgrad.tensor(a, requires_grad=True)
    for fn in ("real", "imag", "conj", "conjugate"):
        assert_same(getattr(snp, fn)(t), getattr(np, fn)(a))
        assert_same(getattr(np, fn)(t), getattr(np, fn)(a))
    assert np.imag(t).requires_grad is False
    x = np.array([1.0, -1.0, 0.0, -0.0, np.nan, np.inf, -np.inf, -3.0])
    for deg in (False, True):
        assert_same(snp.angle(x, deg=deg), np.angle(x, deg=deg))
        assert_same(np.angle(srcgrad.tensor(x), deg=deg), np.angle(x, deg=deg))
    assert_same(snp.angle(np.arange(-2, 3)), np.angle(np.arange(-2, 3)))
    assert not snp.angle(srcgrad.tensor(x, requires_grad=True)).requires_grad   # piecewise constant
    # complex data without gradient: numpy's own answer
    z = np.array([1 + 2j, -3j])
    assert_same(snp.real(srcgrad.tensor(z)), z.real)
    assert_same(snp.imag(srcgrad.tensor(z)), z.imag)


def test_fill_diagonal():
    a = rand(4, 4)
    for val, wrap, shape in ((5.0, False, (4, 4)), ([1.0, 2.0], False, (4, 4)), ([1.0, 2.0, 3.0], True, (9, 3)),
                             (7.0, True, (9, 3)), (2.0, False, (3, 3, 3))):
        ref = np.zeros(shape)
        np.fill_diagonal(ref, val, wrap=wrap)
        t = snp.zeros(shape)
        assert np.fill_diagonal(t, val, wrap=wrap) is None
        assert_same(t, ref)
    # in place on a computed tensor, as a recorded write: gradients reach a (off the
    # diagonal) and the written values
    gradcheck(lambda x, v: _filled(x, v), a, rand(4))
    gradcheck(lambda x, v: _filled(x, v), a, np.array(0.3))
    leaf = srcgrad.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        np.fill_diagonal(leaf, 0.0)


def _filled(x, v):
    y = x * 2.0
    np.fill_diagonal(y, v)
    return y * y


# ---------------------------------------------------------------------------------------
# integer and boolean results: values, and no gradient
# ---------------------------------------------------------------------------------------
def test_comparisons():
    a = rand(3, 4)
    b = a + rand(3, 4) * 1e-7
    c = np.array([np.inf, -np.inf, 1.0, np.nan, np.nan, 0.0])
    d = np.array([np.inf, np.inf, np.inf, np.nan, 1.0, 1e-9])
    t = srcgrad.tensor(a, requires_grad=True)
    for M, args in ((snp, (t, b)), (np, (t, b)), (snp, (srcgrad.tensor(c), d))):
        ref = [x.detach().numpy() if isinstance(x, srcgrad.Tensor) else x for x in args]
        for kw in ({}, {"equal_nan": True}, {"rtol": 0, "atol": 1e-12}):
            r = M.isclose(*args, **kw)
            assert isinstance(r, srcgrad.Tensor) and not r.requires_grad
            assert_same(r, np.isclose(*ref, **kw))
            got = M.allclose(*args, **kw)
            assert type(got) is bool and got == np.allclose(*ref, **kw)
    assert_same(snp.isclose(np.arange(3), [0, 1, 2.0000001]), np.isclose(np.arange(3), [0, 1, 2.0000001]))
    for x, y, kw in ((t, a, {}), (t, b, {}), (t, a[:2], {}), (srcgrad.tensor(c), c, {}),
                     (srcgrad.tensor(c), c, {"equal_nan": True})):
        got = np.array_equal(x, y, **kw)
        assert type(got) is bool and got == np.array_equal(x.detach().numpy(), y, **kw)
    assert np.array_equiv(t, a[0]) is False and np.array_equiv(srcgrad.tensor(np.ones((2, 3))), [1, 1, 1]) is True
    assert np.array_equiv(t, a[:2]) is False


def test_positions():
    xp = np.sort(rand(6))
    x = np.concatenate([rand(10), xp, [np.nan]])
    tx, txp = srcgrad.tensor(x, requires_grad=True), srcgrad.tensor(xp, requires_grad=True)
    for side in ("left", "right"):
        r = np.searchsorted(txp, tx, side=side)
        assert not r.requires_grad and r.dtype == np.intp
        assert_same(r, np.searchsorted(xp, x, side=side))
        assert_same(snp.searchsorted(xp, x, side=side), np.searchsorted(xp, x, side=side))
    perm = RNG.permutation(6)
    assert_same(snp.searchsorted(xp[perm], x, sorter=np.argsort(perm)), np.searchsorted(xp[perm], x,
                                                                                        sorter=np.argsort(perm)))
    assert_same(snp.searchsorted(xp, 0.25), np.searchsorted(xp, 0.25))
    for bins in (xp, xp[::-1].copy(), np.array([0.0, 0.0, 1.0]), np.array([0.5])):
        for right in (False, True):
            assert_same(np.digitize(tx, bins, right=right), np.digitize(x, bins, right=right))
    with pytest.raises(ValueError, match="monoton"):
        snp.digitize(x, np.array([0.0, 1.0, 0.5]))
    z = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    tz = srcgrad.tensor(z, requires_grad=True)
    assert_same(np.nonzero(tz), np.nonzero(z))
    assert_same(snp.nonzero(z), np.nonzero(z))
    assert_same(np.argwhere(tz), np.argwhere(z))
    assert_same(np.flatnonzero(tz), np.flatnonzero(z))
    assert_same(np.count_nonzero(tz, axis=1), np.count_nonzero(z, axis=1))
    u = np.array([3.0, 1.0, 2.0, 3.0, 1.0, np.nan, np.nan, 5.0])
    tu = srcgrad.tensor(u, requires_grad=True)
    assert_same(np.unique(tu), np.unique(u))
    got = np.unique(tu, return_index=True, return_inverse=True, return_counts=True)
    assert_same(got, np.unique(u, return_index=True, return_inverse=True, return_counts=True))
    got[0][:3].sum().backward()        # the unique values are read from first occurrences
    assert_same(tu.grad, np.array([1.0, 1.0, 1.0, 0, 0, 0, 0, 0]))
    rows = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 2.0]])
    assert_same(snp.unique(rows, axis=0, return_counts=True), np.unique(rows, axis=0, return_counts=True))


def test_index_helpers():
    for fn, args in ((snp.triu_indices, (4,)), (snp.triu_indices, (4, 1)), (snp.tril_indices, (4, -1, 5)),
                     (snp.diag_indices, (3,)), (snp.diag_indices, (3, 3))):
        assert_same(fn(*args), getattr(np, fn.__name__)(*args))
    a = rand(3, 4)
    t = srcgrad.tensor(a, requires_grad=True)
    for name in ("triu_indices_from", "tril_indices_from"):
        assert_same(getattr(np, name)(t, 1), getattr(np, name)(a, 1))
    assert_same(np.diag_indices_from(srcgrad.tensor(a[:3, :3])), np.diag_indices_from(a[:3, :3]))
    assert_same(snp.triu_indices(srcgrad.tensor(np.array(3))), np.triu_indices(3))
    # they index tensors, with gradient
    t[snp.triu_indices(3, 1, 4)].sum().backward()
    want = np.zeros((3, 4))
    want[np.triu_indices(3, 1, 4)] = 1
    assert_same(t.grad, want)


# ---------------------------------------------------------------------------------------
# inside srcgrad.grad: plain numpy functions, fresh data on every call
# ---------------------------------------------------------------------------------------
BINS = np.array([-1.0, -0.3, 0.2, 0.9])
WEIGHTS = np.array([0.3, -1.1, 0.7, 2.0, -0.4, 1.3, 0.25, -0.6])


def f_interp(x, fp):
    return np.sum(np.interp(x, XP, fp) ** 2 * np.arange(1, 9))


def f_order_stats(x):
    return np.median(x) + 2 * np.percentile(x, 30) - np.sum(np.quantile(x, [0.1, 0.9], axis=0) ** 2)


NAN = np.array(np.nan)   # a 0-d array constant (NaN literals are covered by test_nan_literal_in_compiled_kernel)


def f_nan(x):
    y = np.where(x > 1.0, NAN, x)       # where the NaNs are depends on the data
    return np.nanmean(y) + np.nanmax(y, axis=0).sum() + np.nanstd(y) + np.nanmedian(y)


def f_conv(a, v):
    return np.sum(np.convolve(a, v, "same") ** 2) + np.sum(np.correlate(a, v) * np.arange(6))


def f_calculus(y):
    return np.trapezoid(np.gradient(y, 0.3) ** 2) + np.sum(np.diff(y, 2) ** 2) + np.sum(np.ediff1d(y) * WEIGHTS[1:])


def f_stats(x):
    return np.sum(np.corrcoef(x) ** 2) + np.trace(np.cov(x, rowvar=False)) + np.sum(np.insert(x[0], [1, 3], x[1, :2]))


def f_bins(x, w):
    return np.sum(np.take(w, np.digitize(x, BINS)) * x) + np.sum(w[np.searchsorted(BINS, x)] ** 2)


def f_poly(x):
    return np.sum(np.polyval(np.array([0.5, -1.0, 2.0]), x) ** 2) + np.sum(np.vander(x, 3) * WEIGHTS[:3])


def f_quantile_q(x, q):
    return np.sum(np.quantile(x, q, axis=0) ** 2) + np.sum(np.nanpercentile(x, 100 * q))


def f_traced_bins(x, b):
    bins = np.sort(b)                   # computed from an argument: digitize's checks become guards
    return np.sum(np.digitize(x, bins) * x) + np.sum(bins * np.arange(4))


def f_branch(x):
    if np.allclose(x, 0.0, atol=0.8):
        return np.sum(x ** 3)
    return np.sum(np.sin(x))


def numeric_grads(f, args, eps=1e-6):
    grads = []
    for k, a in enumerate(args):
        g = np.zeros_like(a)
        for i in range(a.size):
            plus = [b.copy() for b in args]
            minus = [b.copy() for b in args]
            plus[k].flat[i] += eps
            minus[k].flat[i] -= eps
            g.flat[i] = (f(*plus) - f(*minus)) / (2 * eps)
        grads.append(g)
    return grads


TRACED = [
    ("interp", f_interp, lambda rng: [rng.uniform(-2, 2, 8), rng.standard_normal(6)]),
    ("order-stats", f_order_stats, lambda rng: [rng.standard_normal((5, 3))]),
    ("nan", f_nan, lambda rng: [rng.uniform(-2.0, 1.5, (4, 3))]),
    ("conv", f_conv, lambda rng: [rng.standard_normal(8), rng.standard_normal(3)]),
    ("calculus", f_calculus, lambda rng: [rng.standard_normal(8)]),
    ("stats", f_stats, lambda rng: [rng.standard_normal((3, 5))]),
    ("bins", f_bins, lambda rng: [rng.uniform(-1.5, 1.5, 7), rng.standard_normal(5)]),
    ("poly", f_poly, lambda rng: [rng.standard_normal(4)]),
    ("quantile-q", f_quantile_q, lambda rng: [rng.standard_normal((5, 2)), rng.uniform(0.05, 0.95, 3)]),
    ("traced-bins", f_traced_bins, lambda rng: [rng.uniform(-2, 2, 6), rng.standard_normal(4)]),
    ("branch", f_branch, lambda rng: [rng.uniform(-0.5, 0.5, 3) * (1 + 3 * (rng.random() < 0.5))]),
]


@pytest.mark.parametrize("name, f, make", TRACED, ids=[t[0] for t in TRACED])
def test_inside_grad_with_new_data(name, f, make):
    rng = np.random.default_rng(sum(map(ord, name)))
    argnums = tuple(range(len(make(np.random.default_rng(0)))))
    g = srcgrad.grad(f, argnums=argnums)
    seen_nans = set()
    for _ in range(4):
        args = make(rng)
        if name == "nan":   # no all-NaN column: its NaN would make finite differences NaN
            args[0][0] = np.minimum(args[0][0], 0.9)
            seen_nans.add(int((args[0] > 1.0).sum()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = g(*args)
            want = numeric_grads(f, args)
        got = got if isinstance(got, tuple) else (got,)
        for gg, ww in zip(got, want):
            np.testing.assert_allclose(gg, ww, rtol=1e-5, atol=1e-6)
    if name == "nan":
        assert len(seen_nans) > 1   # the NaN positions really changed between calls


def test_nan_literal_in_compiled_kernel():
    def f(x):
        return np.nansum(np.where(x > 0.5, np.nan, x) * 2)

    np.testing.assert_allclose(srcgrad.grad(f)(np.linspace(0, 1, 4)), [2.0, 2.0, 0.0, 0.0])


SECOND_ORDER = ["median-axis0", "quantile", "interp", "convolve-same-6-3", "correlate-full-3-6", "nanvar-ddof1",
                "nanmax-axis1", "corrcoef", "gradient-coords-wrt", "vander", "trapezoid-x", "insert-values",
                "polyval"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_order_and_compiled(name):
    """Composites differentiate again (Hessian-vector products against finite differences
    of the gradient), and the compiled decorator path agrees."""
    import inspect
    if "order" not in inspect.signature(gradcheck).parameters:
        pytest.skip("this gradcheck has no order=2")
    fn, arrays = next((c[1], c[2]) for c in CASES if c[0] == name)
    gradcheck(lambda *ts: fn(np, *ts) ** 2, *arrays, order=2, traced=True)


def test_data_dependent_shapes_inside_grad():
    """Masks, nonzero and unique are recomputed by the generated code, their count a guard:
    data selecting another number of entries compiles another variant, never a stale one.
    np.unique along an axis still refuses."""
    def f(x):
        return np.sum(x[np.nonzero(x > 0)] ** 2)

    def h(x):
        return np.sum(x[x > 0] ** 2)

    for fn in (f, h):
        g = srcgrad.grad(fn)
        for x in (np.array([1.0, -2.0, 3.0]), np.array([-1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]),
                  np.array([-1.0, -2.0, -3.0])):
            assert_same(g(x), 2 * x * (x > 0))
        assert len(g._variants[next(iter(g._variants))]) == 3  # counts 2, 3 and 0

    with pytest.raises(TraceError):
        srcgrad.grad(lambda x: np.sum(np.unique(x, axis=0)))(rand(5))


def per_class(w, y):
    total = 0.0
    for c in np.unique(y):  # integer labels: an argument that is not differentiated
        total = total + np.sum(w[y == c]) * c
    return total


def test_unique_inside_grad_is_recomputed_and_its_count_guarded():
    g = srcgrad.grad(per_class)
    w = np.arange(6.0)
    for y in ([0, 1, 1, 2, 0, 2], [0, 1, 1, 3, 0, 3], [5, 1, 1, 1, 5, 1], [4, 4, 4, 4, 4, 4]):
        assert_same(g(w, np.array(y)), np.array(y, float))   # new classes, same count: no stale values
    assert len(g._variants[next(iter(g._variants))]) == 3    # 3, 2 and 1 classes

    def f(x):
        u, inv, cnt = np.unique(np.round(x), return_inverse=True, return_counts=True)
        vals, idx = np.unique(x, return_index=True)
        return np.sum(u[inv] * x / cnt[inv]) * u.size + np.sum(vals ** 2) + idx.sum()
    vg = srcgrad.value_and_grad(f)
    for x in (np.array([0.1, 0.2, 1.3, 2.2, 1.1]), np.array([0.1, 0.2, 1.3, 2.9, 1.1]), np.array([3.1, 0.2, 0.4, 2.9, 1.1])):
        value, grad = vg(x)
        assert value == pytest.approx(f(x), rel=1e-12)
        np.testing.assert_allclose(grad, numeric_grads(f, [x])[0], rtol=1e-6, atol=1e-8)


def test_masked_assignment_inside_grad():
    def f(x):
        out = np.zeros_like(x)
        out[x > 0] = np.log(x[x > 0])
        out[x <= 0] = x[x <= 0] * 2.0
        return np.sum(out * np.array([1.0, 2.0, 3.0]))
    g = srcgrad.grad(f)
    for x in (np.array([1.0, -2.0, 3.0]), np.array([-1.0, 2.0, 0.5])):
        assert_same(g(x), np.where(x > 0, 1 / np.where(x > 0, x, 1), 2.0) * np.array([1.0, 2.0, 3.0]))


def test_sort_positions_index_inside_grad():
    # x[i] with i computed from x (argsort, argmax) is recomputed on every call
    def f(x):
        return np.sum(x[np.argsort(x)] * WEIGHTS[:5]) + x[np.argmax(x)] * 3.0

    g = srcgrad.grad(f)
    rng = np.random.default_rng(7)
    for _ in range(3):
        x = rng.standard_normal(5)
        want = np.zeros(5)
        want[np.argsort(x)] = WEIGHTS[:5]
        want[np.argmax(x)] += 3.0
        np.testing.assert_allclose(g(x), want)


def test_data_dependent_selects_inside_grad():
    # conditions, masks and gather indices computed from the arguments are recomputed on
    # every call (numpy's where and PyTorch's where/masked_fill/gather/index_select)
    def f(x):
        return np.sum(np.where(x > 0, x, 0.0) ** 2)

    def g(x):
        i = x.argsort()
        return ((srcgrad.where(x > 0, x, x * 0) ** 2).sum() + x.masked_fill(x < -0.5, 0.0).sum()
                + (srcgrad.gather(x.reshape(1, -1), 1, i.reshape(1, -1)) * srcgrad.tensor(WEIGHTS[:5])).sum()
                + srcgrad.functional.index_select(x, 0, i[:2]).sum())

    gf, gg = srcgrad.grad(f), srcgrad.grad(g)
    rng = np.random.default_rng(11)
    for _ in range(3):
        x = rng.standard_normal(5)
        np.testing.assert_allclose(gf(x), 2 * x * (x > 0))
        want = 2 * x * (x > 0) + (x >= -0.5)
        want[np.argsort(x)] += WEIGHTS[:5]
        want[np.argsort(x)[:2]] += 1
        np.testing.assert_allclose(gg(x), want)


# ---------------------------------------------------------------------------------------
# numpy's method spellings on tensors, inside a decorated function
# ---------------------------------------------------------------------------------------
B = np.array([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.2]])
METHODS = [
    ("T", lambda x: x.T), ("dot", lambda x: x.dot(B)), ("sum-axis", lambda x: x.sum(axis=1)),
    ("mean-axis", lambda x: x.mean(axis=0)), ("max-axis", lambda x: x.max(axis=1)),
    ("reshape-ints", lambda x: x.reshape(3, 2)), ("reshape-tuple", lambda x: x.reshape((3, 2))),
    ("flatten", lambda x: x.flatten()), ("ravel", lambda x: x.ravel()), ("astype", lambda x: x.astype(float)),
    ("copy", lambda x: x.copy()), ("clip", lambda x: x.clip(-0.5, 0.5)), ("cumsum", lambda x: x.cumsum(axis=1)),
    ("prod", lambda x: x.prod(axis=0)), ("squeeze", lambda x: x.reshape(1, 6).squeeze()),
    ("transpose", lambda x: x.transpose()), ("round", lambda x: x.round(2) + x), ("conj", lambda x: x.conj()),
    ("conjugate", lambda x: x.conjugate()), ("real", lambda x: x.real * 2.0), ("imag", lambda x: x.imag + x),
]


def test_method_spellings_in_decorated_function():
    x0 = np.array([[0.3, -1.2, 0.8], [1.5, -0.4, 0.1]])
    for name, m in METHODS:
        def loss(x, m=m):
            return np.sum(m(x) * np.cos(np.arange(m(x).size)).reshape(np.shape(m(x))))

        with _no_disk():
            g = srcgrad.grad(loss)
            for x in (x0, x0[::-1] * 1.7):
                want = numeric_grads(loss, [x.copy()])[0]
                np.testing.assert_allclose(g(x), want, rtol=1e-6, atol=1e-7, err_msg=name)
    # integer and boolean results
    t = srcgrad.tensor(x0)
    assert_same(t.argmax(axis=1), x0.argmax(axis=1))
    assert t.all() and bool(t.any())
    assert_same(t.nonzero(), np.argwhere(x0))                 # PyTorch's form, eagerly
    assert_same(t.nonzero(as_tuple=True), x0.nonzero())

    @srcgrad.grad
    def inside(x):
        idx = srcgrad.tensor(x0 > 0).nonzero()               # numpy's form inside (constant data)
        return np.sum(x[idx])

    assert_same(inside(x0), (x0 > 0).astype(float))

    @srcgrad.grad
    def listed(x):  # (tolist() of a traced array: its entries, tensors still)
        return np.sum(x.tolist())

    assert_same(listed(x0), np.ones_like(x0))
    with pytest.raises(TraceError):
        srcgrad.grad(lambda x: np.sum(x.numpy()))(x0)
    assert_same(srcgrad.grad(lambda x: np.sum(x[x.nonzero()]))(x0), (x0 != 0).astype(float))


class _no_disk:
    """The loss closures above share one code object, and the disk cache keys compiled code
    by code location (not by closure contents): keep them in memory only."""

    def __enter__(self):
        from srcgrad import config
        self.old = config.cache_dir
        config.cache_dir = False

    def __exit__(self, *exc):
        from srcgrad import config
        config.cache_dir = self.old


@pytest.mark.parametrize("name,f", [
    ("select", lambda x: np.sum(np.select([x < 0, x < 1], [x ** 2, np.sin(x)], default=x * 3))),
    ("piecewise", lambda x: np.sum(np.piecewise(x, [x < 0, x >= 0], [lambda v: v ** 2, lambda v: np.exp(v)]))),
    ("piecewise otherwise", lambda x: np.sum(np.piecewise(x, [x < 0], [lambda v: -v, lambda v: v * 2]))),
    ("heaviside", lambda x: np.sum(np.heaviside(x, 0.5) * x)),
    ("copysign", lambda x: np.sum(np.copysign(x * 2, -x + 0.3))),
    ("fmod", lambda x: np.sum(np.fmod(x * 3, 2.0) * x)),
    ("float_power", lambda x: np.sum(np.float_power(np.abs(x) + 1, 1.5))),
    ("diagflat", lambda x: np.sum(np.diagflat(x) @ np.arange(16.0).reshape(4, 4))),
])
def test_selections_and_sign_functions(name, f):
    x = np.array([-1.5, 0.4, 0.7, 2.5])
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x))
    fd = [(f(x + 1e-6 * e) - f(x - 1e-6 * e)) / 2e-6 for e in np.eye(4)]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_scatter_adds_add_at_and_weighted_bincount():
    """np.add.at into a tensor and np.bincount(weights=): repeated positions add up, and the
    gradient reaches each value (or weight) added."""
    idx = np.array([0, 2, 2, 1, 0])
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])

    def added(x):
        out = np.zeros_like(x[:3])
        np.add.at(out, idx, x ** 2)
        np.subtract.at(out, np.array([1]), x[4])
        return np.sum(out * np.array([1.0, 2.0, 3.0]))

    def binned(w):
        return np.sum(np.bincount(idx, weights=w, minlength=4) ** 2)
    for f in (added, binned):
        value, grad = srcgrad.value_and_grad(f)(x)
        assert value == pytest.approx(f(x))
        fd = [(f(x + 1e-6 * e) - f(x - 1e-6 * e)) / 2e-6 for e in np.eye(5)]
        np.testing.assert_allclose(grad, fd, rtol=1e-6)
    assert np.array_equal(np.bincount(srcgrad.tensor(idx)).numpy(), np.bincount(idx))


@pytest.mark.parametrize("f", [
    lambda x: np.sum(x / np.float64(3.0)),
    lambda x: np.sum(np.maximum(x, np.float64(0.5))),
    lambda x: np.sum(np.clip(x, np.float64(0.2), 1.0)),
    lambda x: np.sum(np.where(x > 0.5, x, np.float64(0))),
    lambda x: np.sum(x + np.int64(2)),
    lambda x: np.sum(x * np.float32(2)),
    lambda x: np.sum(np.diff(x, prepend=0.0) ** 2),
])
def test_numpy_scalars_promote_as_in_numpy_2(f):
    # NumPy 2 (NEP 50): np.float64(3.0) is strong where 3.0 is weak; float32 data with it
    # computes in float64, as does diff's prepend=0.0 (numpy makes it an array)
    x = np.array([0.1, 0.7, 1.3], dtype=np.float32)
    want = f(x)
    assert srcgrad.compile(f)(x).dtype == want.dtype
    v, g = srcgrad.value_and_grad(f)(x)
    assert v == want  # (computed in the same dtype: the same number)
    assert g.dtype == np.float32


def test_nan_to_num_with_values_fix_positive_floor_divide_and_clips_new_keywords():
    x = np.array([1.5, -2.7, np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(np.asarray(snp.nan_to_num(srcgrad.tensor(x), nan=-1.0, posinf=9.0)),
                                  np.nan_to_num(x, nan=-1.0, posinf=9.0))
    np.testing.assert_array_equal(np.asarray(snp.fix(np.array([-2.5, 1.7]))), [-2.0, 1.0])
    np.testing.assert_array_equal(np.asarray(snp.floor_divide(np.array([-2.5, 1.7]), 0.7)),
                                  np.floor_divide(np.array([-2.5, 1.7]), 0.7))

    def f(x):
        return np.sum(np.nan_to_num(x * 2, nan=3.0) + np.fix(x) + np.positive(x) + np.clip(x, min=-1, max=1)
                      + np.floor_divide(x, 0.7))
    np.testing.assert_array_equal(srcgrad.grad(f)(np.array([0.3, -2.5, 1.7])), [4.0, 3.0, 3.0])


# ---------------------------------------------------------------------------------------
# writes in place: put_along_axis, copyto, a ufunc's out= (a recorded write into a tensor)
# ---------------------------------------------------------------------------------------
def f_in_place(x):
    y = np.zeros((3, 4)) + 0.5 * x
    np.put_along_axis(y, np.array([[1], [3], [0]]), x[:, :1] ** 2, axis=1)
    z = np.ones((3, 4))
    np.copyto(z, np.sin(x), where=x > 0)
    return np.sum(y * z)


def test_writes_in_place_inside_a_compiled_function():
    x = rand(3, 4, seed=41)
    value, grad = srcgrad.value_and_grad(f_in_place)(x)
    assert value == pytest.approx(f_in_place(x))
    np.testing.assert_allclose(grad, numeric_grads(f_in_place, [x])[0], rtol=1e-6, atol=1e-8)


def test_writes_into_plain_arrays():
    a = np.zeros(3)
    np.copyto(a, srcgrad.tensor([1.0, 2.0, 3.0]))  # no gradient needed: numpy's own copy
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="copyto"):
        np.copyto(a, srcgrad.tensor([1.0, 2.0, 3.0], requires_grad=True))


# ---------------------------------------------------------------------------------------
# histogram with weights: differentiable in the weights
# ---------------------------------------------------------------------------------------
SAMPLE = np.random.default_rng(7).normal(size=20)


@pytest.mark.parametrize("f", [
    lambda w: np.sum(np.histogram(SAMPLE, bins=5, weights=w)[0] * np.arange(5.0)),
    lambda w: np.sum(np.histogram(SAMPLE, bins=[-3, -1, 0, 0.5, 3], density=True, weights=w ** 2)[0] ** 2),
    lambda w: np.sum(np.histogram(SAMPLE, bins=4, range=(-1, 1), weights=np.exp(w))[0] * np.arange(4.0)),
], ids=["count", "edges-density", "range"])
def test_histogram_weights(f):
    w = np.random.default_rng(8).uniform(size=20)
    value, grad = srcgrad.value_and_grad(f)(w)
    assert value == pytest.approx(f(w), rel=1e-12)
    np.testing.assert_allclose(grad, numeric_grads(f, [w])[0], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", [
    # (the bins of x * 2 are recomputed from each call's x)
    lambda x: np.sum(np.histogram(x * 2, bins=np.linspace(-3, 3, 7), weights=x ** 2)[0] * np.arange(6.0)),
    # (edges from x's own min and max: differentiable, the counts recomputed)
    lambda x: np.sum(np.histogram(x, bins=4, weights=x)[0] * np.arange(4.0)),
    lambda x: np.sum(np.histogram(x, bins=5)[0] * np.arange(5.0)) * np.sum(x ** 2),
    lambda x: np.sum(np.histogram(x, bins=3, density=True)[0] ** 2),
    lambda x: np.sum(np.histogram(x ** 2, bins=4)[1] ** 2),
    lambda x: np.sum(np.histogram(x, bins=3, range=(-1, 1))[0] * np.arange(3.0)) * x[0],
], ids=["edges", "count-weights", "counts", "density", "edges-of-data", "range"])
def test_histogram_of_a_traced_array(f):
    g = srcgrad.value_and_grad(f)
    x = SAMPLE.copy()
    for shift in (0.0, 0.4, -0.7):
        y = x * (1 + shift) + shift
        value, grad = g(y)
        assert value == pytest.approx(f(y), rel=1e-12)
        np.testing.assert_allclose(grad, numeric_grads(f, [y])[0], rtol=1e-6, atol=1e-7)


def test_histogram_bins_estimated_from_traced_data_are_refused():
    with pytest.raises(TraceError, match="numpy estimates the number of bins from the values"):
        srcgrad.grad(lambda x: np.sum(np.histogram(x, bins="auto", weights=x)[0]))(SAMPLE)


def test_argwhere_of_a_traced_condition_is_recomputed_by_each_call():
    def f(x):
        xr = x.reshape(3, 1)
        return x[np.argwhere(x > 0)[:, 0]].sum() + (xr[tuple(np.argwhere(xr > 0).T)] ** 2).sum()
    g = srcgrad.value_and_grad(f)
    for x, grad in [([1.0, -2.0, 3.0], [3.0, 0.0, 7.0]), ([1.0, 2.0, -3.0], [3.0, 5.0, 0.0]),
                    ([1.0, -2.0, 3.0], [3.0, 0.0, 7.0])]:
        value, got = g(np.array(x))
        assert value == f(np.array(x))
        np.testing.assert_array_equal(got, grad)



def test_vectorize_runs_the_function_on_each_traced_element():
    vf = np.vectorize(lambda v: v * v if v > 0 else -v)  # (made outside the function too)

    def f(x):
        return vf(x).sum() + np.vectorize(lambda a, b: a * b + 1)(x.reshape(3, 1), [2.0, 3.0]).sum()
    g = srcgrad.value_and_grad(f)
    for x in ([1.0, -2.0, 3.0], [-1.0, 2.0, 3.0], [1.0, -2.0, 3.0]):
        x = np.array(x)
        value, grad = g(x)
        assert value == pytest.approx(f(x))
        np.testing.assert_allclose(grad, np.where(x > 0, 2 * x, -1.0) + 5.0)
    assert np.vectorize(lambda v: v + 1)(np.ones(2)).tolist() == [2.0, 2.0]  # (numpy's, outside)


def test_r_and_c_join_traced_values():
    def f(x):
        return np.sum(np.r_[x, x ** 2, 3.0] * np.arange(5.0)) + np.sum(np.c_[x, 2 * x] * np.array([[1.0, 2.0], [3.0, 4.0]]))
    x = np.array([1.0, 2.0])
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x))
    np.testing.assert_allclose(grad, [4 * x[0] + 5, 1 + 6 * x[1] + 11])
    assert np.r_[np.ones(2), 3].tolist() == [1.0, 1.0, 3.0]  # (numpy's own, outside)


@pytest.mark.parametrize("name", ["expit", "erf", "erfc", "logit", "ndtr", "log_expit", "entr", "xlogy"])
def test_scipy_special_ufuncs_numpy_expresses(name):
    special = pytest.importorskip("scipy.special")  # (optional: srcgrad never imports scipy)
    fn = getattr(special, name)
    f = (lambda x: np.sum(fn(x, x + 1.0))) if name == "xlogy" else (lambda x: np.sum(fn(x) * np.arange(1.0, 4.0)))
    x = np.array([0.2, 0.45, 0.7])
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x), rel=1e-12)
    num = np.array([(f(x + e) - f(x - e)) / 2e-6 for e in np.eye(3) * 1e-6])
    np.testing.assert_allclose(grad, num, rtol=1e-6)


def test_put_unravel_index_tensorinv_and_ravel_order_inside_grad():
    """np.put writes in place (values repeated, indices wrapped as numpy does);
    np.unravel_index of a computed flat index divides; tensorinv inverts the reshaped
    matrix; ravel/flatten take numpy's order."""
    def f(m, t):
        i, j = np.unravel_index(np.argmin(m), m.shape)
        y = m * 2
        np.put(y, [0, 5, -1], [9.0, 8.0])
        np.put(y, [13, 1], m[0, :2] * 3, mode="wrap")
        return (np.sum(y ** 2) + m[i, j] ** 3 + np.sum(m.ravel(order="F") * np.arange(12))
                + np.sum(np.linalg.tensorinv(t, ind=1) ** 2))
    rng = np.random.default_rng(4)
    t = rng.normal(size=(4, 2, 2)) * 0.3 + np.eye(4).reshape(4, 2, 2)
    g = srcgrad.value_and_grad(f, argnums=(0, 1))
    for _ in range(3):  # (the minimum moves: the index is computed by the generated code)
        m = rng.normal(size=(3, 4))
        value, grads = g(m, t)
        np.testing.assert_allclose(value, f(m, t), rtol=1e-12)
        for k, a in enumerate((m, t)):
            def fk(x, k=k):
                args = [m, t]
                args[k] = x
                return f(*args)
            assert gradcheck(fk, a)
            eager = [srcgrad.tensor(m, requires_grad=True), srcgrad.tensor(t, requires_grad=True)]
            f(*eager).backward()
            np.testing.assert_allclose(grads[k], eager[k].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_put_and_polynomial_errors():
    y = srcgrad.tensor(np.zeros(4))
    np.put(y, [7, -9], [1.0, 2.0], mode="clip")  # (clipped to the last and the first place)
    np.testing.assert_array_equal(y.numpy(), [2.0, 0.0, 0.0, 1.0])
    y = srcgrad.tensor(np.zeros(4))
    with pytest.raises(IndexError, match="put: index 4 is out of bounds for an array of size 4"):
        np.put(y, [1, 4], 1.0)
    with pytest.raises(NotImplementedError, match="poly1d"):
        snp.polyadd(np.poly1d([1.0, 2.0]), srcgrad.tensor([1.0], requires_grad=True))
    with pytest.raises(ValueError, match="order of derivative"):
        snp.polyder(srcgrad.tensor([1.0, 2.0]), -1)


def test_builders_imported_by_name_into_a_users_module_make_tensors(tmp_path, monkeypatch):
    """`from numpy import zeros, array` (or a module re-exporting numpy's names, as a
    compatibility layer does) binds numpy's builders in the user's module: while a
    function is traced they make tensors there too (numpy/builders.py)."""
    (tmp_path / "user_numpy_mod.py").write_text(
        "from numpy import zeros, array, sum\n"
        "def f(x):\n"
        "    out = zeros(3)\n"
        "    out[0] = x[0] ** 2\n"
        "    out[1:] = x[1:] * 3\n"
        "    return sum(out * array([x[1], 1.0, 2.0]))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import user_numpy_mod
    x = np.array([1.5, -2.0, 0.5])
    g = srcgrad.grad(user_numpy_mod.f)(x)
    np.testing.assert_allclose(g, [2 * x[0] * x[1], x[0] ** 2 + 3, 6.0])
    assert user_numpy_mod.zeros is np.zeros  # (restored after the trace)


def test_r_with_a_slice_and_linalg_norm_of_a_list_of_traced_values():
    c = np.arange(4.0)
    g = srcgrad.grad(lambda x: np.sum(np.r_[x, c, 1:4] * np.arange(1.0, 11.0)))(np.ones(3))
    np.testing.assert_allclose(g, [1.0, 2.0, 3.0])
    assert srcgrad.grad(lambda x: np.linalg.norm([x, x + 2]))(0.0) == 1.0
    assert np.linalg.norm is srcgrad.numpy.builders._LINALG_ORIGINAL["norm"]


def test_tolist_of_a_traced_array_gives_its_entries_as_tensors():
    """`for v in x.tolist(): if v > 0` — the entries stay tensors inside a decorated
    function: the branches are guards (a new sign pattern compiles another variant) and
    the arithmetic is recorded."""
    def f(x):
        s = 0.0
        for i, v in enumerate(x.tolist()):
            s = s + (x[i] ** 2 if v > 0 else x[i] * 3 * v)
        return s
    g = srcgrad.value_and_grad(f)
    for x in ([1.0, -2.0, 3.0], [-1.0, -2.0, 3.0], [1.0, -2.0, 3.0]):
        x = np.array(x)
        value, grad = g(x)
        assert value == pytest.approx(f(x))
        np.testing.assert_allclose(grad, np.where(x > 0, 2 * x, 6 * x))
    assert str(g.cache_info()).count("variant") == 2  # (two sign patterns, the third call a cached one)
    m = np.arange(6.0).reshape(2, 3) - 2
    assert srcgrad.grad(lambda a: sum(v for row in a.tolist() for v in row if v > 0) + 0.0 * a.sum())(m).tolist() == \
        [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]


# ---------------------------------------------------------------------------------------
# weighted quantiles (numpy's method 'inverted_cdf')
# ---------------------------------------------------------------------------------------
_QA = np.random.default_rng(21).normal(size=(4, 6))
_QW = np.random.default_rng(22).uniform(size=(4, 6))
_QW[0, :2] = 0.0  # (leading zero weights: q = 0 skips them)
_QQ = np.array([0.0, 0.3, 0.5, 1.0])


@pytest.mark.parametrize("f", [
    lambda a: np.sum(np.quantile(a, _QQ, method="inverted_cdf", weights=_QW) ** 2),
    lambda a: np.sum(np.quantile(a, _QQ, axis=1, method="inverted_cdf", weights=_QW) ** 2),
    lambda a: np.sum(np.quantile(a, 0.4, axis=0, keepdims=True, method="inverted_cdf", weights=_QW) ** 2),
    lambda a: np.sum(np.quantile(a, _QQ, axis=1, method="inverted_cdf", weights=_QW[1]) ** 2),
    lambda a: np.sum(np.percentile(a, [10, 90], axis=1, method="inverted_cdf", weights=_QW) * a[:, 0]),
], ids=["all", "axis", "keepdims", "1-d weights", "percentile"])
def test_weighted_quantiles(f):
    value, grad = srcgrad.value_and_grad(f)(_QA)
    assert value == pytest.approx(f(_QA), rel=1e-12)
    np.testing.assert_allclose(grad, numeric_grads(f, [_QA])[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(srcgrad.grad(f)(_QA[::-1].copy()), numeric_grads(f, [_QA[::-1].copy()])[0],
                               rtol=1e-6, atol=1e-8)


def test_weighted_quantiles_need_the_inverted_cdf():
    with pytest.raises(ValueError, match="Only method 'inverted_cdf' supports weights"):
        srcgrad.grad(lambda a: np.quantile(a, 0.5, weights=_QW))(_QA)
