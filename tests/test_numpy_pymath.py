"""Python's math functions of traced values in numpy code (numpy/pymath.py): the user's
`math.exp(x[0])` runs as numpy's exp of the tensor, so the gradient flows through it —
traced and op by op — with math's values and math's domain errors."""
import math
import warnings
from math import exp, log  # (bound by name in this module: rebound while srcgrad runs the code)

import numpy as np
import pytest

import srcgrad
from numeric import numeric_grad

#: (name, a call of math's, a point inside its domain)
CALLS = [
    ("exp", lambda x: math.exp(x[0]) * x[1], None), ("exp2", lambda x: math.exp2(x[0]), None),
    ("expm1", lambda x: math.expm1(x[0]), None), ("log", lambda x: math.log(x[1]), None),
    ("log base", lambda x: math.log(x[1], 3), None), ("log1p", lambda x: math.log1p(x[0]), None),
    ("log2", lambda x: math.log2(x[1]), None), ("log10", lambda x: math.log10(x[1]), None),
    ("sqrt", lambda x: math.sqrt(x[1]), None), ("cbrt", lambda x: math.cbrt(x[0]), None),
    ("sin", lambda x: math.sin(x[0]), None), ("cos", lambda x: math.cos(x[0]), None),
    ("tan", lambda x: math.tan(x[0]), None), ("asin", lambda x: math.asin(x[0]), None),
    ("acos", lambda x: math.acos(x[0]), None), ("atan", lambda x: math.atan(x[0]), None),
    ("atan2", lambda x: math.atan2(x[0], x[1]), None), ("sinh", lambda x: math.sinh(x[0]), None),
    ("cosh", lambda x: math.cosh(x[0]), None), ("tanh", lambda x: math.tanh(x[0]), None),
    ("asinh", lambda x: math.asinh(x[0]), None), ("acosh", lambda x: math.acosh(x[1] + 1), None),
    ("atanh", lambda x: math.atanh(x[0]), None), ("pow", lambda x: math.pow(x[1], x[0]), None),
    ("fabs", lambda x: math.fabs(x[0]), None), ("hypot", lambda x: math.hypot(x[0], x[1], 2.0), None),
    ("copysign", lambda x: math.copysign(x[1], x[0]), None), ("fmod", lambda x: math.fmod(x[1] * 3, x[0] + 0.07), None),
    ("degrees", lambda x: math.degrees(x[0]), None), ("radians", lambda x: math.radians(x[0]), None),
    ("erf", lambda x: math.erf(x[0]), None), ("erfc", lambda x: math.erfc(x[0]), None),
    ("lgamma", lambda x: math.lgamma(x[1]), None),
    ("from math import", lambda x: exp(x[0]) * log(x[1]), None),
]
CALLS = [c for c in CALLS if hasattr(math, c[0].split()[0])]
X = np.array([0.3, 0.7])


@pytest.mark.parametrize("fn", [c[1] for c in CALLS], ids=[c[0] for c in CALLS])
def test_math_of_a_traced_value_is_differentiated(fn):
    def f(x):
        return fn(x) + np.sum(x ** 2)
    want = numeric_grad(f, X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no gradient lost, so no warning)
        value, grad = srcgrad.value_and_grad(f)(X.copy())
        np.testing.assert_allclose(grad, want, rtol=1e-6, atol=1e-8)
        assert value == pytest.approx(f(X.copy()), rel=1e-12)
        np.testing.assert_allclose(srcgrad.grad(f)(X * 0.5), numeric_grad(f, X * 0.5), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(srcgrad.vjp(f, X.copy())[1](1.0)[0], want, rtol=1e-6, atol=1e-8)
    assert type(math.exp(0.5)) is float and exp is math.exp  # (math is math's again)


def test_math_domain_errors_are_maths():
    with pytest.raises(ValueError, match="math domain error"):
        srcgrad.grad(lambda x: math.sqrt(x[0]) + x[1])(np.array([-1.0, 0.0]))
    g = srcgrad.grad(lambda x: math.log(x[0]) + x[1])
    g(np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="math domain error"):  # (a guard: each call checks)
        g(np.array([-1.0, 0.0]))


def test_float_of_a_value_being_differentiated_warns_op_by_op_too():
    def f(x):
        return float(x[0]) * x[1]
    with pytest.warns(srcgrad.GradientLostWarning, match="float"):
        (g,) = srcgrad.vjp(f, X.copy())[1](1.0)
    np.testing.assert_allclose(g, [0.0, X[0]])  # (float() is a constant: as warned)
