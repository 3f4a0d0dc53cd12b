"""numpy functions with srcgrad rules: isin, lexsort, unwrap, i0, linalg.matrix_rank, modf,
divmod, trim_zeros, histogram_bin_edges, putmask, place, asarray_chkfinite.

Each is checked for numpy's values on tensors, and run inside `srcgrad.value_and_grad`
(compiled) on several inputs whose data-dependent part differs between calls (which
entries are members, the sort order, the unwrapping corrections, the rank, how much is
trimmed, which entries a mask selects), so that a result frozen into the generated code
on the first call would give a wrong value or gradient on the next; and op by op through
`srcgrad.vjp`. Gradients are compared with central differences of the same function run
by numpy on plain arrays.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import srcgrad
import srcgrad.numpy as snp
from numeric import numeric_grad
from srcgrad.trace import TraceError

T = srcgrad.tensor


def data(t):
    return t.detach().numpy() if isinstance(t, srcgrad.Tensor) else np.asarray(t)


def assert_numpy(got, want):
    """The same values, shape and dtype kind as numpy's (signed zeros included)."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_numpy(g, w)
        return
    g, w = data(got), np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype.kind == w.dtype.kind, (g.dtype, w.dtype)
    if w.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=0, equal_nan=True)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


def check_compiled_and_op_by_op(f, inputs, rtol=1e-6, atol=1e-8):
    """value_and_grad(f) (one compiled function, called on every input) and vjp(f, x)
    (recorded op by op) against f run by numpy and its central differences."""
    g = srcgrad.value_and_grad(f)
    for x in inputs:
        want_value, want_grad = data(f(x)).item(), numeric_grad(f, x)
        value, grad = g(x)
        assert value == pytest.approx(want_value, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(grad, want_grad, rtol=rtol, atol=atol)
        out, vjp_fn = srcgrad.vjp(f, x)
        assert data(out) == pytest.approx(want_value, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(vjp_fn(1.0)[0], want_grad, rtol=rtol, atol=atol)


def differ(results):
    """The data-dependent results of the inputs are not all the same (else a frozen one
    would go unnoticed)."""
    results = [np.asarray(r) for r in results]
    assert any(r.shape != results[0].shape or not np.array_equal(r, results[0]) for r in results[1:])


# ---------------------------------------------------------------------------------------
# isin
# ---------------------------------------------------------------------------------------
TEST_ELEMENTS = np.array([1.0, -2.0, 3.0, np.nan, 1.0])


@pytest.mark.parametrize("element, test, kwargs", [
    (np.array([0.5, 2.0, -1.0, 3.0, 2.0, np.nan]), TEST_ELEMENTS, {}),
    (np.array([[1, 4], [3, 2]]), np.array([2, 3, 3]), {"invert": True}),
    (np.array([1, 4, 7]), np.array([7, 1]), {"kind": "table"}),
    (np.array([1.0, 2.0]), np.zeros(0), {}),
    (np.array([1.0, 2.0]), np.zeros(0), {"invert": True}),
    (np.array([-0.0, 1.0]), np.array([[0.0, 5.0], [1.0, 6.0]]), {"assume_unique": True}),
    (np.array([True, False]), np.array([1]), {}),
], ids=["floats-nan", "invert-2d", "table", "empty-test", "empty-test-invert", "matrix-test", "bools"])
def test_isin_values(element, test, kwargs):
    want = np.isin(element, test, **kwargs)
    assert_numpy(np.isin(T(element), test, **kwargs), want)
    assert_numpy(np.isin(element, T(test), **kwargs), want)
    assert_numpy(snp.isin(T(element), T(test), **kwargs), want)


def test_isin_scalar_element_and_errors():
    assert_numpy(np.isin(3.0, T(TEST_ELEMENTS)), np.isin(3.0, TEST_ELEMENTS))
    with pytest.raises(ValueError, match="Invalid kind"):
        np.isin(T(np.ones(2)), [1.0], kind="hash")
    with pytest.raises(ValueError, match="only supported for boolean or integer arrays"):
        np.isin(T(np.ones(2)), [1.0], kind="table")


def f_isin(x):
    r = np.round(x)
    member = np.isin(r, TEST_ELEMENTS)
    # (the test elements traced too: which of them are among r)
    hits = np.isin(np.array([1.0, 2.0, 3.0]), r, invert=True)
    return np.sum(np.where(member, x ** 2, np.sin(x))) + np.sum(hits * np.array([1.0, 2.0, 4.0])) * x[0]


ISIN_INPUTS = [np.array([0.7, 2.2, -1.8, 3.1]), np.array([1.2, -2.3, 0.4, 2.6]), np.array([-0.3, 2.9, 1.4, 3.4])]


def test_isin_is_recomputed_by_each_call():
    differ([np.isin(np.round(x), TEST_ELEMENTS) for x in ISIN_INPUTS])
    differ([np.isin([1.0, 2.0, 3.0], np.round(x)) for x in ISIN_INPUTS])
    check_compiled_and_op_by_op(f_isin, ISIN_INPUTS)


# ---------------------------------------------------------------------------------------
# lexsort
# ---------------------------------------------------------------------------------------
def test_lexsort_values():
    rng = np.random.default_rng(0)
    k1, k2 = rng.integers(0, 3, 9), rng.standard_normal(9)
    assert_numpy(np.lexsort((T(k2), T(k1))), np.lexsort((k2, k1)))
    assert_numpy(np.lexsort((k2, T(k1))), np.lexsort((k2, k1)))
    K = rng.integers(0, 3, (3, 4, 5))
    assert_numpy(np.lexsort(T(K)), np.lexsort(K))                       # a 3-D array: keys along axis 0
    assert_numpy(np.lexsort(T(K), axis=0), np.lexsort(K, axis=0))
    assert_numpy(np.lexsort([T(K[0]), T(K[1])], axis=1), np.lexsort([K[0], K[1]], axis=1))
    assert_numpy(np.lexsort(T(np.array([3, 1, 2]))), np.lexsort(np.array([3, 1, 2])))  # 0-d keys
    with pytest.raises(TypeError, match="need sequence of keys"):
        np.lexsort(T(np.array(3)))
    with pytest.raises(ValueError, match="all keys need to be the same shape"):
        np.lexsort((T(np.ones(3)), T(np.ones(2))))


WEIGHTS = np.array([1.0, -2.0, 3.0, 0.5, 4.0, -1.5])


def f_lexsort(x):
    # the primary key groups entries by a rounded, wrapped value; ties by -x
    order = np.lexsort((-x, np.round(2 * x) % 3))
    return np.sum(x[order] * WEIGHTS) + np.sum(np.lexsort(np.stack([x, np.floor(x)])) * x)


LEXSORT_INPUTS = [np.array([0.3, 1.9, -0.6, 1.1, 0.8, -1.3]), np.array([1.2, 0.1, 0.7, -0.9, 1.6, 0.4]),
                  np.array([-1.1, 0.6, 1.4, 0.2, -0.4, 0.9])]


def test_lexsort_is_recomputed_by_each_call():
    differ([np.lexsort((-x, np.round(2 * x) % 3)) for x in LEXSORT_INPUTS])
    check_compiled_and_op_by_op(f_lexsort, LEXSORT_INPUTS)


# ---------------------------------------------------------------------------------------
# unwrap
# ---------------------------------------------------------------------------------------
def wrapped(seed, shape=(9,), period=2 * np.pi):
    steps = np.random.default_rng(seed).uniform(-0.45, 0.45, shape) * period
    phase = np.cumsum(steps, axis=0) + 0.1
    return (phase + period / 2) % period - period / 2


@pytest.mark.parametrize("p, kwargs", [
    (wrapped(1), {}),
    (wrapped(2, (7, 3)), {"axis": 0}),
    (wrapped(3, (3, 7)).T.copy(), {"axis": 0, "discont": 4.0}),
    (wrapped(4, (8,), period=2.0), {"period": 2.0}),
    (wrapped(5).astype(np.float32), {}),
    (np.array([0, 5, 10, 15, 1, 4]), {"period": 6}),                   # integers (numpy: integer results)
    (np.array([0, 3, 6, 9, 2]), {"period": 6}),                        # jumps of exactly period / 2
    (np.array([0.0, np.pi, 0.0, -np.pi, 0.0]), {}),
    (np.array([0.5]), {}),
], ids=["1d", "axis0", "discont", "period", "float32", "int", "int-half-period", "half-period", "one"])
def test_unwrap_values(p, kwargs):
    assert_numpy(np.unwrap(T(p), **kwargs), np.unwrap(p, **kwargs))


def f_unwrap(x):
    u = np.unwrap(x)
    v = np.unwrap(x.reshape(3, 3), axis=0, period=np.pi)
    return np.sum(u * np.arange(1.0, 10.0)) + np.sum(np.sin(v) * np.arange(9.0).reshape(3, 3))


UNWRAP_INPUTS = [wrapped(6), wrapped(7), wrapped(8)]


def test_unwrap_is_recomputed_by_each_call_and_its_gradient_is_the_identity():
    differ([np.unwrap(x) - x for x in UNWRAP_INPUTS])
    check_compiled_and_op_by_op(f_unwrap, UNWRAP_INPUTS)
    g = srcgrad.grad(lambda x: np.sum(np.unwrap(x) * np.arange(1.0, 10.0)))
    for x in UNWRAP_INPUTS:
        np.testing.assert_array_equal(g(x), np.arange(1.0, 10.0))


# ---------------------------------------------------------------------------------------
# i0
# ---------------------------------------------------------------------------------------
def test_i0_values():
    x = np.array([-12.0, -3.5, -0.2, 0.0, 0.7, 8.0, 25.0])
    assert_numpy(np.i0(T(x)), np.i0(x))
    assert np.i0(T(x.astype(np.float32))).dtype == np.float32
    with pytest.raises(TypeError, match="complex"):
        np.i0(T(np.array([1 + 1j])))


def f_i0(x):
    return np.sum(np.i0(x) * np.array([1.0, -2.0, 0.5, 3.0])) + np.i0(x[0] * x[1])


def test_i0_gradient():
    check_compiled_and_op_by_op(f_i0, [np.array([0.3, -1.7, 2.4, 9.5]), np.array([-4.2, 0.05, 1.1, -8.7])])


def test_i0_and_i1_numpy_kernels_agree_with_scipy():
    special = pytest.importorskip("scipy.special")
    from srcgrad.symbolic import numpy_special as N
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-40, 40, 2000), rng.uniform(-1e-3, 1e-3, 50),
                        [0.0, -0.0, 8.0, -8.0, 1e-300, 700.0, 710.0, -710.0, np.inf, np.nan]])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(N.i0(x), special.i0(x), rtol=2e-15, atol=0, equal_nan=True)
        np.testing.assert_allclose(N.i1(x), special.i1(x), rtol=2e-15, atol=0, equal_nan=True)
    assert N.i1(np.array([0.5], np.float32)).dtype == np.float32


def test_i0_works_without_scipy():
    code = textwrap.dedent("""
        import json
        import sys
        sys.modules["scipy"] = None  # (no scipy: srcgrad's numpy kernels)
        import numpy as np
        import srcgrad

        def f(x):
            return np.sum(np.i0(x) * np.array([1.0, -2.0, 3.0]))

        g = srcgrad.value_and_grad(f)
        x = np.array([0.4, -2.5, 9.1])
        value, grad = g(x)
        out, vjp_fn = srcgrad.vjp(f, x)
        t = srcgrad.tensor(x, requires_grad=True)
        np.i0(t).sum().backward()
        print(json.dumps({"value": value, "grad": grad.tolist(), "vjp": vjp_fn(1.0)[0].tolist(),
                          "eager": t.grad.numpy().tolist(), "source": g.source(x)}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    import json
    got = json.loads(out.stdout)
    assert "special.i0" in got["source"] and "special.i1" in got["source"]
    x = np.array([0.4, -2.5, 9.1])
    w = np.array([1.0, -2.0, 3.0])
    assert got["value"] == pytest.approx(np.sum(np.i0(x) * w), rel=1e-14)
    want = i1_series(x) * w
    for key in ("grad", "vjp"):
        np.testing.assert_allclose(got[key], want, rtol=1e-13)
    np.testing.assert_allclose(got["eager"], want / w, rtol=1e-13)


def i1_series(x):
    """I1(x) = sum_k (x/2)^(2k+1) / (k! (k+1)!), summed to convergence (|x| of order 10)."""
    import math
    return np.array([math.fsum((v / 2) ** (2 * k + 1) / (math.factorial(k) * math.factorial(k + 1))
                               for k in range(80)) for v in x])


# ---------------------------------------------------------------------------------------
# linalg.matrix_rank
# ---------------------------------------------------------------------------------------
def low_rank(rank, shape=(4, 5), seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((shape[0], rank)) @ rng.standard_normal((rank, shape[1]))


@pytest.mark.parametrize("A, kwargs", [
    (low_rank(2), {}), (low_rank(3, (5, 5)), {}), (low_rank(4), {}), (np.zeros((3, 2)), {}),
    (low_rank(2), {"tol": 0.5}), (low_rank(3), {"rtol": 0.2}),
    (np.stack([low_rank(1), low_rank(3), np.eye(4, 5)]), {}),
    (np.stack([low_rank(2), low_rank(4)]), {"tol": np.array([1e-8, 100.0])}),
    (low_rank(2, (4, 4)) @ low_rank(2, (4, 4)).T, {"hermitian": True}),
    (np.diag([3.0, -2.0, 0.0, 1e-20]), {"hermitian": True}),
    (np.array([0.0, 2.0]), {}), (np.zeros(3), {}), (np.zeros((0, 3)), {}),
], ids=["rank2", "square3", "full", "zero", "tol", "rtol", "batch", "batch-tol", "hermitian",
        "hermitian-negative", "vector", "zero-vector", "empty"])
def test_matrix_rank_values(A, kwargs):
    want = np.linalg.matrix_rank(A, **kwargs)
    got = np.linalg.matrix_rank(T(A), **kwargs)
    assert_numpy(got, want)
    assert isinstance(got, int) == isinstance(want, int)
    with pytest.raises(ValueError, match="can't be both set"):
        np.linalg.matrix_rank(T(A), tol=1.0, rtol=1.0)


RANK_INPUTS = [low_rank(2, seed=1), low_rank(4, seed=2), low_rank(3, seed=3), low_rank(1, seed=4)]


@pytest.mark.parametrize("kwargs", [{}, {"tol": 1e-6}, {"hermitian": True}], ids=["default", "tol", "hermitian"])
def test_matrix_rank_is_recomputed_by_each_call(kwargs):
    """The rank of each call's matrix: grad of rank(A) * sum(A ** 2) is rank * 2 A."""
    prep = (lambda A: A @ A.T) if kwargs.get("hermitian") else (lambda A: A)

    def f(A):
        return np.linalg.matrix_rank(prep(A), **kwargs) * np.sum(A ** 2)
    ranks = [np.linalg.matrix_rank(prep(A), **kwargs) for A in RANK_INPUTS]
    differ(ranks)
    g = srcgrad.value_and_grad(f)
    for A, rank in zip(RANK_INPUTS, ranks):
        value, grad = g(A)
        assert value == pytest.approx(rank * np.sum(A ** 2), rel=1e-12)
        np.testing.assert_allclose(grad, rank * 2 * A, rtol=1e-12)
        out, vjp_fn = srcgrad.vjp(f, A)
        assert data(out) == pytest.approx(rank * np.sum(A ** 2), rel=1e-12)
        np.testing.assert_allclose(vjp_fn(1.0)[0], rank * 2 * A, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# modf and divmod: ufuncs with two outputs
# ---------------------------------------------------------------------------------------
SPECIAL_VALUES = np.array([-2.0, -0.0, 0.0, 2.5, -2.5, np.inf, -np.inf, np.nan, 3.0, -7.25, 1e300])


def test_modf_and_divmod_values():
    assert_numpy(np.modf(T(SPECIAL_VALUES)), np.modf(SPECIAL_VALUES))
    single = SPECIAL_VALUES[:-1].astype(np.float32)
    assert_numpy(np.modf(T(single)), np.modf(single))
    assert_numpy(np.modf(T(np.array([3, -2, 0]))), np.modf(np.array([3.0, -2.0, 0.0])))
    assert_numpy(np.modf(T(SPECIAL_VALUES[:5]), dtype=np.float32), np.modf(SPECIAL_VALUES[:5], dtype=np.float32))
    a, b = np.array([7.5, -7.5, 7.5, -7.5, 0.3, 5.0]), np.array([2.0, 2.0, -2.0, -2.0, 0.1, 2.5])
    assert_numpy(np.divmod(T(a), T(b)), np.divmod(a, b))
    assert_numpy(np.divmod(T(a), 1.7), np.divmod(a, 1.7))
    ai, bi = np.array([7, -7, 7, -7, 0]), np.array([2, 2, -2, -2, 3])
    assert_numpy(np.divmod(T(ai), T(bi)), np.divmod(ai, bi))
    assert_numpy(divmod(T(ai), 3), divmod(ai, 3))


def f_modf(x):
    frac, whole = np.modf(3 * x)
    return np.sum(frac * np.arange(1.0, 6.0)) + np.sum(whole ** 2 * x)


def f_divmod(x):
    q, r = np.divmod(x[:3], x[3:] + 0.5)
    q2, r2 = np.divmod(2.0, x[3:] + 3.0)
    return np.sum(q * r) + np.sum(r * np.array([1.0, -2.0, 3.0])) + np.sum(r2 * q2)


def test_modf_and_divmod_gradients():
    check_compiled_and_op_by_op(f_modf, [np.array([0.31, -1.27, 2.45, -0.08, 1.66]),
                                         np.array([-0.93, 0.52, 1.11, -2.4, 0.2])])
    check_compiled_and_op_by_op(f_divmod, [np.array([2.3, -1.7, 5.2, 0.4, 1.3, -0.2]),
                                           np.array([-3.1, 0.6, 1.9, 1.7, 0.35, 0.8])])


def test_modf_fractional_part_has_derivative_one_at_integers_too():
    g = srcgrad.grad(lambda x: np.sum(np.modf(x)[0]))
    np.testing.assert_array_equal(g(np.array([-2.0, -0.0, 0.0, 3.0, 1.5])), np.ones(5))


def test_modf_and_divmod_write_into_out_tensors():
    def f(x):
        frac, whole = np.zeros_like(x), np.zeros_like(x)
        result = np.modf(2 * x, out=(frac, whole))
        assert result[0] is frac and result[1] is whole
        q, r = np.zeros_like(x), np.zeros_like(x)
        np.divmod(x, 0.3, out=(q, r))
        return np.sum(frac * np.arange(4.0)) + np.sum(whole * x) + np.sum(q * r)
    check_compiled_and_op_by_op(f, [np.array([0.33, -1.21, 2.46, 0.71]), np.array([1.62, 0.27, -0.74, 2.08])])


# ---------------------------------------------------------------------------------------
# trim_zeros
# ---------------------------------------------------------------------------------------
Z1 = np.array([0.0, 0.0, 1.5, 0.0, -2.0, 0.0])
Z2 = np.array([[0, 0, 2, 3, 0, 0], [0, 1, 0, 3, 0, 0], [0, 0, 0, 0, 0, 0]])


@pytest.mark.parametrize("filt, args", [
    (Z1, ()), (Z1, ("f",)), (Z1, ("b",)), (Z1, ("BF",)), (np.zeros(4), ()), (np.array([1.0, 2.0]), ()),
    (np.array([0.0, np.nan, 0.0]), ()), (np.array([False, True, False, True, False]), ()),
    (Z2, ()), (Z2, ("fb", -1)), (Z2, ("f", 0)), (Z2, ("b", (0, 1))), (np.zeros((2, 3)), ("fb", 1)),
    (Z2, ("fb", ())),
], ids=["1d", "front", "back", "upper", "zeros", "none", "nan", "bools", "2d", "axis-1", "front-axis0",
        "back-both", "zeros-axis1", "no-axes"])
def test_trim_zeros_values(filt, args):
    assert_numpy(np.trim_zeros(T(filt), *args), np.trim_zeros(filt, *args))


def test_trim_zeros_errors():
    with pytest.raises(ValueError, match="unexpected character"):
        np.trim_zeros(T(Z1), "x")
    with pytest.raises(np.exceptions.AxisError):
        np.trim_zeros(T(Z2), axis=2)


def f_trim(x):
    t = np.trim_zeros(np.where(np.abs(x) < 0.5, 0.0, x))
    m = np.trim_zeros(np.where(np.abs(x) < 0.5, 0.0, x).reshape(2, 4), "b", axis=1)
    return np.sum(t ** 2 * np.cos(np.arange(t.shape[0]))) + np.sum(m * np.arange(m.size).reshape(m.shape))


TRIM_INPUTS = [np.array([0.1, 0.9, -1.2, 0.3, 1.4, 0.2, 0.7, 0.1]),
               np.array([1.1, -0.2, 0.3, 0.8, -0.4, 0.1, 0.2, 0.3]),
               np.array([0.2, -0.3, 0.1, 0.6, 1.3, 0.9, 0.1, 1.7]),
               np.array([0.1, 0.9, -1.2, 0.3, 1.4, 0.2, 0.7, 0.1])]


def test_trim_zeros_is_recomputed_by_each_call():
    masked = [np.where(np.abs(x) < 0.5, 0.0, x) for x in TRIM_INPUTS]
    differ([np.trim_zeros(m).shape for m in masked])
    differ([np.trim_zeros(m.reshape(2, 4), "b", axis=1).shape for m in masked])
    check_compiled_and_op_by_op(f_trim, TRIM_INPUTS)


# ---------------------------------------------------------------------------------------
# histogram_bin_edges
# ---------------------------------------------------------------------------------------
SAMPLE = np.random.default_rng(7).normal(size=12)


@pytest.mark.parametrize("a, kwargs", [
    (SAMPLE, {}), (SAMPLE, {"bins": 4}), (SAMPLE, {"bins": 3, "range": (-1, 1)}),
    (SAMPLE, {"bins": [-2, 0, 0.5, 3]}), (SAMPLE, {"bins": "auto"}), (SAMPLE, {"bins": "sturges"}),
    (np.array([1, 5, 2, 9]), {"bins": 3}), (np.full(4, 2.0), {"bins": 2}),
    (SAMPLE.astype(np.float32), {"bins": 5}), (SAMPLE, {"bins": 4, "weights": np.ones(12)}),
], ids=["default", "count", "range", "edges", "auto", "sturges", "ints", "constant", "float32", "weights"])
def test_histogram_bin_edges_values(a, kwargs):
    want = np.histogram_bin_edges(a, **kwargs)
    got = np.histogram_bin_edges(T(a), **kwargs)
    np.testing.assert_allclose(data(got), want, rtol=1e-12)
    assert data(got).dtype == want.dtype


def test_histogram_bin_edges_errors():
    with pytest.raises(ValueError, match=r"autodetected range of \[1.0, inf\] is not finite"):
        np.histogram_bin_edges(T(np.array([1.0, 2.0, np.inf])))
    with pytest.raises(ValueError, match="supplied range of .* is not finite"):
        np.histogram_bin_edges(T(SAMPLE), range=(0, np.inf))
    with pytest.raises(ValueError, match="weights should have the same shape"):
        np.histogram_bin_edges(T(SAMPLE), weights=np.ones(3))
    with pytest.raises(TypeError, match="not supported for weighted data"):
        np.histogram_bin_edges(T(SAMPLE), bins="auto", weights=np.ones(12))
    with pytest.raises(TraceError, match="numpy estimates the number of bins"):
        srcgrad.grad(lambda x: np.sum(np.histogram_bin_edges(x, bins="auto")))(SAMPLE)


def f_edges(x):
    # edges over x's own min and max; a range of traced values
    return np.sum(np.histogram_bin_edges(x, bins=4) ** 2) + \
        np.sum(np.histogram_bin_edges(x, bins=3, range=(x[0], x[1] + 3.0)) * np.arange(4.0))


def test_histogram_bin_edges_gradient():
    check_compiled_and_op_by_op(f_edges, [SAMPLE, SAMPLE[::-1] * 2 + 0.3, np.sin(SAMPLE * 3)])


def test_histogram_bin_edges_non_finite_data_raises_on_a_later_call():
    g = srcgrad.value_and_grad(lambda x: np.sum(np.histogram_bin_edges(x, bins=3) ** 2))
    g(SAMPLE)
    with pytest.raises(ValueError, match="is not finite"):
        g(np.where(SAMPLE > 1.0, np.inf, SAMPLE))


# ---------------------------------------------------------------------------------------
# putmask and place: recorded writes
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, a, mask, values", [
    (np.putmask, np.arange(6.0).reshape(2, 3), np.arange(6).reshape(2, 3) > 2, [10.0, 20.0]),
    (np.putmask, np.arange(6.0), np.array([1, 0, 2, 0, 0, 3]), np.arange(10.0, 17.0)),
    (np.putmask, np.arange(6), np.arange(6) % 2 == 0, [1.5, 2.7, 3.3]),
    (np.putmask, np.arange(4.0), np.ones(4, bool), []),
    (np.putmask, np.arange(4.0), np.array([[True, False], [True, True]]), 7.0),
    (np.place, np.arange(6.0).reshape(2, 3), np.arange(6).reshape(2, 3) > 2, [10.0, 20.0]),
    (np.place, np.arange(6), np.arange(6) % 2 == 0, [1.5, 2.7]),
    (np.place, np.arange(4.0), np.zeros(4, bool), []),
    (np.place, np.arange(4.0), np.array([True, False, True, True]), [[1.0, 2.0], [3.0, 4.0]]),
], ids=["putmask", "putmask-nonzero-mask", "putmask-int", "putmask-empty", "putmask-mask-shape",
        "place", "place-int", "place-empty", "place-2d-vals"])
def test_putmask_and_place_values(fn, a, mask, values):
    want = a.copy()
    fn(want, mask, values)
    got = T(a.copy())
    assert fn(got, mask, values) is None
    assert_numpy(got, want)
    got = T(a.copy())
    fn(got, T(np.asarray(mask)), T(np.asarray(values, float)))
    assert_numpy(got, want)


def test_putmask_and_place_errors():
    with pytest.raises(ValueError, match="putmask: mask and data must be the same size"):
        np.putmask(T(np.zeros(4)), [True, False], 1.0)
    with pytest.raises(ValueError, match="place: mask and data must be the same size"):
        np.place(T(np.zeros(4)), [True, False], [1.0])
    with pytest.raises(ValueError, match="Cannot insert from an empty array"):
        np.place(T(np.zeros(3)), [True, False, True], [])
    a = np.zeros(3)
    np.putmask(a, [True, False, True], T(np.array([1.0, 2.0])))  # (no gradient needed: numpy's own)
    np.testing.assert_array_equal(a, [1.0, 0.0, 1.0])
    with pytest.raises(TypeError, match="putmask"):
        np.putmask(a, [True, False, True], T(np.array([1.0, 2.0]), requires_grad=True))


def f_putmask(x):
    a = 0.5 * x
    np.putmask(a, x > 0.2, np.exp(x[:3]))        # values repeat by position in a
    b = x ** 2
    np.place(b, x < 0.0, np.sin(x[::-1][:2]))     # vals repeat by the count of true entries
    return np.sum(a * np.arange(1.0, 7.0)) + np.sum(b * np.cos(np.arange(6.0)))


PUTMASK_INPUTS = [np.array([0.7, -0.4, 0.1, -1.3, 0.9, -0.6]), np.array([-0.5, 0.3, 1.2, 0.05, -0.8, 0.4]),
                  np.array([0.9, 0.6, -0.3, 0.5, -0.2, -0.7])]


def test_putmask_and_place_inside_grad_with_new_masks():
    differ([x > 0.2 for x in PUTMASK_INPUTS])
    differ([x < 0.0 for x in PUTMASK_INPUTS])
    check_compiled_and_op_by_op(f_putmask, PUTMASK_INPUTS)


# ---------------------------------------------------------------------------------------
# asarray_chkfinite
# ---------------------------------------------------------------------------------------
def test_asarray_chkfinite():
    x = T(np.array([1.0, 2.0]))
    assert snp.asarray_chkfinite(x) is x
    assert_numpy(snp.asarray_chkfinite([T(1.0), 2.0]), np.array([1.0, 2.0]))
    assert_numpy(snp.asarray_chkfinite(T(np.array([1, 2])), dtype=float), np.array([1.0, 2.0]))
    assert_numpy(snp.asarray_chkfinite(np.array([1, 2])), np.array([1, 2]))
    for bad in (np.array([1.0, np.nan]), np.array([np.inf, 1.0]), np.array([1j, complex(np.inf, 0)])):
        with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
            snp.asarray_chkfinite(T(bad))


def f_chkfinite(x):
    return np.sum(snp.asarray_chkfinite(np.log(x)) ** 2)


def test_asarray_chkfinite_checks_every_call():
    check_compiled_and_op_by_op(f_chkfinite, [np.array([0.5, 2.0, 3.0]), np.array([1.5, 0.2, 4.0])])
    g = srcgrad.value_and_grad(f_chkfinite)
    g(np.array([0.5, 2.0, 3.0]))
    with np.errstate(divide="ignore"):
        with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
            g(np.array([0.5, 0.0, 3.0]))   # (log 0 = -inf: the compiled check fails)
        with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
            srcgrad.vjp(f_chkfinite, np.array([0.5, 0.0, 3.0]))


def test_asarray_chkfinite_called_as_numpys_in_a_traced_function():
    def f(x):
        return np.sum(np.asarray_chkfinite(x) ** 2)
    g = srcgrad.grad(f)
    np.testing.assert_allclose(g(np.array([1.0, 2.0])), [2.0, 4.0])
    np.testing.assert_allclose(srcgrad.vjp(f, np.array([1.0, 3.0]))[1](1.0)[0], [2.0, 6.0])
    with pytest.raises(ValueError, match="must not contain infs or NaNs"):
        g(np.array([1.0, np.nan]))
