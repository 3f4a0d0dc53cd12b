"""numpy.polynomial inside numpy-style functions: its functions and classes run on tensors
(srcgrad/numpy/polynomial.py, numpy/_dispatch.ARRAY_CODE_DIRS), values equal to numpy's
on plain arrays and gradients to central differences, in x and in the coefficients."""
import numpy as np
import pytest
from numpy.polynomial import chebyshev as C
from numpy.polynomial import polynomial as P
from numpy.polynomial.legendre import legval

import srcgrad
from numeric import numeric_grad

X = np.array([0.1, -0.4, 0.7])
COEF = np.array([0.5, -1.0, 2.0, 0.3])
COLUMNS = np.arange(12.0).reshape(4, 3) / 7 - 0.5  # (four coefficients of three polynomials)

CASES = [
    # (name, function of one array, the array)
    ("polyval of several polynomials", lambda x: np.sum(P.polyval(x, COLUMNS) ** 2), X),
    ("chebval of several polynomials", lambda x: np.sum(C.chebval(x, COLUMNS) ** 2), X),
    ("legval imported by name", lambda x: np.sum(legval(x, COLUMNS) ** 2), X),
    ("polyval, tensor=False", lambda x: np.sum(P.polyval(x, COLUMNS[:, :3], tensor=False) ** 2), X),
    ("polyvalfromroots", lambda x: np.sum(P.polyvalfromroots(x, COLUMNS[:2]) ** 2), X),
    ("polyval2d", lambda x: np.sum(P.polyval2d(x, x ** 2, COLUMNS[:3]) ** 2), X),
    ("polygrid2d", lambda x: np.sum(P.polygrid2d(x, x[:2], COLUMNS[:3])), X),
    ("Polynomial(c)(x)", lambda x: np.sum(np.polynomial.Polynomial(COEF)(x) ** 2), X),
    ("Chebyshev(c, domain)(x)", lambda x: np.sum(np.polynomial.Chebyshev(COEF, domain=[-2, 3])(x)), X),
    ("polyval in the coefficients", lambda c: P.polyval(0.7, c) ** 2, COEF),
    ("polyder in the coefficients", lambda c: np.sum(P.polyder(c, 2) ** 2), COEF),
    ("polyvander", lambda x: np.sum(P.polyvander(x, 3) @ COEF), X),
    ("polyfit of the data", lambda y: np.sum(P.polyfit(np.arange(4.0), y, 2) ** 2), COEF),
    ("Polynomial(c).deriv()(x)", lambda c: np.polynomial.Polynomial(c).deriv()(0.3), COEF),
]


@pytest.mark.parametrize("fn,a", [(f, a) for _, f, a in CASES], ids=[n for n, _, _ in CASES])
@pytest.mark.parametrize("how", ["grad", "vjp"])
def test_values_and_gradients(fn, a, how):
    if how == "grad":  # (traced and compiled)
        value, grad = srcgrad.value_and_grad(fn)(a.copy())
    else:  # (run op by op)
        value, pullback = srcgrad.vjp(fn, a.copy())
        grad = pullback(1.0)[0] if isinstance(pullback(1.0), tuple) else pullback(1.0)
    assert np.asarray(value) == pytest.approx(fn(a.copy()), rel=1e-12)
    np.testing.assert_allclose(grad, numeric_grad(fn, a), rtol=1e-6, atol=1e-8)


def test_numpy_functions_are_restored():
    code = P.polyval.__code__
    srcgrad.grad(lambda x: np.sum(P.polyval(x, COLUMNS)))(X)
    assert P.polyval.__code__ is code  # (numpy's own again outside srcgrad's runs)
