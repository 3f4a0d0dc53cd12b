"""srcgrad.scipy.stats: values equal scipy.stats', gradients in every parameter that has
one against central differences, in eager and generated code. (scipy is optional: these
tests skip without it.)"""
import numpy as np
import pytest

import srcgrad
from srcgrad.numpy import NoRuleError
from srcgrad.scipy import stats
from srcgrad.testing import gradcheck

st = pytest.importorskip("scipy.stats")

X = np.array([0.13, 0.42, 0.57, 0.88])
CASES = [  # (distribution, method, x, parameters)
    *[("norm", m, X * 3 - 1, (0.3, 1.7)) for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")],
    *[("t", m, X * 3 - 1, (2.7, 0.3, 1.7)) for m in ("logpdf", "pdf", "cdf", "logcdf")],
    *[("gamma", m, X * 3, (2.7, 0.05, 1.7)) for m in ("logpdf", "pdf", "cdf")],
    *[("chi2", m, X * 3, (2.7,)) for m in ("logpdf", "pdf", "cdf")],
    *[("beta", m, X, (2.7, 1.3)) for m in ("logpdf", "pdf", "cdf")],
    *[("poisson", m, np.array([0.0, 1.0, 3.0, 6.0]), (2.2,)) for m in ("logpmf", "pmf", "cdf")],
]
#: parameters with no derivative: the shape inside an incomplete gamma / beta function
NO_GRAD = {("t", "cdf"): (1,), ("t", "logcdf"): (1,), ("gamma", "cdf"): (1,), ("chi2", "cdf"): (1,),
           ("beta", "cdf"): (1, 2)}


@pytest.mark.parametrize("dist,method,x,params", CASES, ids=[f"{d}.{m}" for d, m, _, _ in CASES])
def test_density_values_and_gradients(dist, method, x, params):
    ours, theirs = getattr(getattr(stats, dist), method), getattr(getattr(st, dist), method)
    np.testing.assert_allclose(np.asarray(ours(x, *params)), theirs(x, *params), rtol=1e-12, atol=1e-15)
    args = (x, *[np.float64(p) for p in params])
    fixed = NO_GRAD.get((dist, method), ())
    argnums = tuple(k for k in range(len(args)) if k not in fixed and not (dist == "poisson" and k == 0))
    assert gradcheck(lambda *a: np.sum(ours(*a)), *args, argnums=argnums)
    assert gradcheck(lambda *a: np.sum(ours(*a)), *args, argnums=argnums, traced=True)


def test_cdf_refuses_a_gradient_in_its_shape():
    with pytest.raises(NoRuleError, match="betainc"):
        srcgrad.grad(lambda df: np.sum(stats.t.cdf(X, df)))(2.5)


def test_dirichlet():
    alpha, p = np.array([1.5, 2.0, 3.2]), np.array([0.2, 0.3, 0.5])
    for m in ("logpdf", "pdf"):
        np.testing.assert_allclose(float(getattr(stats.dirichlet, m)(p, alpha)), getattr(st.dirichlet, m)(p, alpha),
                                   rtol=1e-12)
        assert gradcheck(getattr(stats.dirichlet, m), p, alpha)


def test_multivariate_normal():
    rng = np.random.default_rng(0)
    A, X2, mean = rng.normal(size=(3, 3)), rng.normal(size=(5, 3)), rng.normal(size=3)
    cov = A @ A.T + np.eye(3)
    for m in ("logpdf", "pdf"):
        for x in (X2, X2[0]):
            np.testing.assert_allclose(np.asarray(getattr(stats.multivariate_normal, m)(x, mean, cov)),
                                       getattr(st.multivariate_normal, m)(x, mean, cov), rtol=1e-12)
    assert gradcheck(lambda x, m, a: np.sum(stats.multivariate_normal.logpdf(x, m, a @ a.T + np.eye(3))),
                     X2, mean, A, traced=True)
    np.testing.assert_allclose(float(stats.multivariate_normal.entropy(mean, cov)),
                               st.multivariate_normal.entropy(mean, cov), rtol=1e-12)
    assert gradcheck(lambda a: stats.multivariate_normal.entropy(None, a @ a.T), A)
    # a singular covariance: the density on its span, as scipy's allow_singular
    B = rng.normal(size=(3, 2))
    x = B @ np.array([0.3, -0.2])
    np.testing.assert_allclose(float(stats.multivariate_normal.logpdf(x, np.zeros(3), B @ B.T, allow_singular=True)),
                               st.multivariate_normal.logpdf(x, np.zeros(3), B @ B.T, allow_singular=True),
                               rtol=1e-12)
    assert gradcheck(lambda m: stats.multivariate_normal.logpdf(x, m, B @ B.T, allow_singular=True), B @ [0.1, 0.2])
