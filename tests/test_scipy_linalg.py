"""srcgrad.scipy.linalg, and plain scipy calls inside a differentiated function: scipy's
Python functions convert their arguments with np.asarray, so while a function is traced
the ones srcgrad has (scipy.special.logsumexp, scipy.linalg.cho_solve, scipy.stats.norm.logpdf,
...) run as srcgrad's when the user's code calls them with a tensor (numpy/builders.py).
(scipy is optional: these tests skip without it.)"""
import numpy as np
import pytest

import srcgrad
from srcgrad.scipy import linalg as L
from srcgrad.testing import gradcheck

sl = pytest.importorskip("scipy.linalg")
scipy_special = pytest.importorskip("scipy.special")
scipy_stats = pytest.importorskip("scipy.stats")

RNG = np.random.default_rng(0)
A = RNG.normal(size=(4, 4))
SPD = A @ A.T + 4 * np.eye(4)
B = RNG.normal(size=(4, 2))
CASES = {
    "cholesky upper": (lambda a: L.cholesky(a), lambda a: sl.cholesky(a)),
    "cholesky lower": (lambda a: L.cholesky(a, lower=True), lambda a: sl.cholesky(a, lower=True)),
    "cho_solve": (lambda a: L.cho_solve(L.cho_factor(a), B), lambda a: sl.cho_solve(sl.cho_factor(a), B)),
    "cho_solve lower": (lambda a: L.cho_solve(L.cho_factor(a, lower=True), B),
                        lambda a: sl.cho_solve(sl.cho_factor(a, lower=True), B)),
    "solve_triangular lower": (lambda a: L.solve_triangular(a, B, lower=True),
                               lambda a: sl.solve_triangular(a, B, lower=True)),
    "solve_triangular trans unit": (lambda a: L.solve_triangular(a, B, trans="T", unit_diagonal=True),
                                    lambda a: sl.solve_triangular(a, B, trans="T", unit_diagonal=True)),
    "solve assume_a=pos": (lambda a: L.solve(a, B, assume_a="pos"), lambda a: sl.solve(a, B, assume_a="pos")),
    "eigh upper": (lambda a: L.eigh(a, lower=False, eigvals_only=True), lambda a: sl.eigh(a, lower=False,
                                                                                      eigvals_only=True)),
    "det inv": (lambda a: L.det(a) * L.inv(a), lambda a: sl.det(a) * sl.inv(a)),
    "qr economic": (lambda a: L.qr(a, mode="economic")[1], lambda a: sl.qr(a, mode="economic")[1]),
    "solve_banded": (lambda a: L.solve_banded((1, 2), a, B), lambda a: sl.solve_banded((1, 2), a, B)),
    "solve_sylvester": (lambda a: L.solve_sylvester(a, SPD[:2, :2], B), lambda a: sl.solve_sylvester(a, SPD[:2, :2], B)),
    "solve_sylvester in a, b": (lambda a: L.solve_sylvester(a, a[:3, :3].T, B2),
                                lambda a: sl.solve_sylvester(a, a[:3, :3].T, B2)),
    "sqrtm": (lambda a: L.sqrtm(a), lambda a: sl.sqrtm(a)),
    "sqrtm not symmetric": (lambda a: L.sqrtm(a + np.triu(a, 1)), lambda a: sl.sqrtm(a + np.triu(a, 1))),
    "expm": (lambda a: L.expm(a / 10), lambda a: sl.expm(a / 10)),
}
B2 = RNG.normal(size=(4, 3))


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_are_scipys_and_gradients_check(name):
    ours, theirs = CASES[name]
    np.testing.assert_allclose(np.asarray(ours(SPD)), theirs(SPD), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda a: np.sum(np.sin(ours(a))), SPD)


USER_MODULE = """
import numpy as np
from scipy.special import logsumexp
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy import stats

def gp_nll(log_ls, X, y):
    d = X[:, None, :] - X[None, :, :]
    K = np.exp(-0.5 * np.sum(d ** 2, axis=-1) / np.exp(2 * log_ls)) + 0.1 * np.eye(X.shape[0])
    c = cho_factor(K, lower=True)
    z = solve_triangular(np.linalg.cholesky(K), y, lower=True)
    return 0.5 * y @ cho_solve(c, y) + np.sum(np.log(np.diag(c[0]))) + 0.01 * z @ z

def mixture(w, x):
    return -np.sum(logsumexp(np.log(w)[None, :] + stats.norm.logpdf(x[:, None], np.arange(3.0), 1.0), axis=1))
"""


def test_plain_scipy_calls_in_the_users_code_are_differentiated(tmp_path, monkeypatch):
    (tmp_path / "user_scipy_mod.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import user_scipy_mod as u
    X, y = RNG.normal(size=(5, 2)), RNG.normal(size=5)
    g = srcgrad.grad(u.gp_nll)(np.array(0.3), X, y)
    assert g == pytest.approx((u.gp_nll(0.3 + 1e-6, X, y) - u.gp_nll(0.3 - 1e-6, X, y)) / 2e-6, rel=1e-6)
    w, x = np.array([0.2, 0.5, 0.3]), RNG.normal(size=6)
    g = srcgrad.grad(u.mixture)(w, x)
    num = [(u.mixture(w + 1e-6 * e, x) - u.mixture(w - 1e-6 * e, x)) / 2e-6 for e in np.eye(3)]
    np.testing.assert_allclose(g, num, rtol=1e-6)
    # and scipy is itself again afterwards
    assert u.logsumexp is scipy_special.logsumexp and "logpdf" not in vars(scipy_stats.norm)
    assert u.cho_solve is sl.cho_solve


@pytest.mark.parametrize("lower", [False, True])
def test_the_gradient_is_in_the_triangle_scipy_reads(lower):
    """scipy.linalg.cholesky reads the triangle `lower` names: the gradient of srcgrad's is
    the central differences of scipy's own, entry by entry."""
    from numeric import numeric_grad
    w = RNG.normal(size=SPD.shape)
    ours = lambda a: np.sum(np.sin(L.cholesky(a, lower=lower)) * w)  # noqa: E731
    theirs = lambda a: np.sum(np.sin(sl.cholesky(a, lower=lower)) * w)  # noqa: E731
    np.testing.assert_allclose(srcgrad.grad(ours)(SPD), numeric_grad(theirs, SPD), rtol=1e-6, atol=1e-8)


def test_solve_of_a_complex_symmetric_matrix_mirrors_without_conjugating():
    B2 = RNG.normal(size=(3, 3)) + 1j * RNG.normal(size=(3, 3))
    a = np.tril(B2 + B2.T + 5 * np.eye(3)) + np.triu(RNG.normal(size=(3, 3)), 1)  # (the upper part unread)
    b = RNG.normal(size=3)
    for assume_a in ("sym", "her"):
        np.testing.assert_allclose(np.asarray(L.solve(a, b, assume_a=assume_a, lower=True)),
                                   sl.solve(a, b, assume_a=assume_a, lower=True), rtol=1e-12)


def test_solve_banded_and_sylvester_called_from_scipy_in_a_traced_function():
    ab = A.copy()
    ab[1] += 6  # (a dominant diagonal: (1, 2) bands of a 4x4 matrix)

    def f(ab, q):
        return np.sum(sl.solve_banded((1, 2), ab, q) ** 2) + np.sum(sl.solve_sylvester(SPD, SPD[:2, :2], q))
    g = srcgrad.grad(f, argnums=(0, 1))(ab, B)
    eps = 1e-6
    for k, arg in enumerate((ab, B)):
        num = np.zeros_like(arg)
        for idx in np.ndindex(arg.shape):
            e = np.zeros_like(arg)
            e[idx] = eps
            args = [ab, B]
            plus, minus = list(args), list(args)
            plus[k], minus[k] = arg + e, arg - e
            num[idx] = (f(*plus) - f(*minus)) / (2 * eps)
        np.testing.assert_allclose(g[k], num, rtol=1e-5, atol=1e-7)
    assert g[0][0, 0] == g[0][1, 0] == g[0][3, 3] == 0  # (storage scipy never reads)


def test_sqrtm_and_its_second_derivative_from_scipy_in_a_traced_function():
    from numeric import numeric_grad
    w = RNG.normal(size=SPD.shape)

    def f(a):  # (scipy's own sqrtm, called by the user's code: srcgrad's runs instead)
        return np.sum(sl.sqrtm(a) * w)
    g = srcgrad.grad(f)
    np.testing.assert_allclose(g(SPD), numeric_grad(f, SPD), rtol=1e-6, atol=1e-7)
    h = srcgrad.hessian(f)(SPD)
    for k in [(0, 0), (1, 3), (3, 2)]:  # (columns of the Hessian: central differences of the gradient)
        e = np.zeros_like(SPD)
        e[k] = 1e-5
        np.testing.assert_allclose(h[(...,) + k], (g(SPD + e) - g(SPD - e)) / 2e-5, rtol=1e-5, atol=1e-6)
    assert "sqrtm(" in g.source(SPD) and "sylvester(" in g.source(SPD)


def test_sqrtm_of_a_real_matrix_with_a_complex_root_is_refused():
    with pytest.raises(np.linalg.LinAlgError, match="complex"):
        srcgrad.grad(lambda a: np.sum(L.sqrtm(a)))(-SPD)


def test_qr_full_and_r_of_a_tall_matrix_are_scipys_and_differentiable():
    """scipy's default mode is 'full' (Q square) and 'r' gives R of that shape: for a tall
    matrix, R has zero rows and Q extra columns (numpy.linalg.qr's complete mode)."""
    a = RNG.normal(size=(5, 3))
    q, rr = L.qr(srcgrad.tensor(a))
    q0, r0 = sl.qr(a)
    np.testing.assert_allclose(q.numpy(), q0, atol=1e-12)
    np.testing.assert_allclose(rr.numpy(), r0, atol=1e-12)
    (r_only,) = L.qr(srcgrad.tensor(a), mode="r")
    assert r_only.shape == sl.qr(a, mode="r")[0].shape == (5, 3)
    assert gradcheck(lambda m: np.sum(np.sin(L.qr(m, mode="r")[0])) + np.sum(L.qr(m)[0][:, :3] ** 2), a)
