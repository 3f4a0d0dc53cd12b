"""Gradients that are zero outside a slice are computed on the slice (ir/slices.py)."""
import numpy as np
import pytest

import srcgrad
from thresholds import value_and_grad_without


def _without_pushdown(f, args, **kw):
    """The same gradient without the rewrite."""
    return value_and_grad_without("push_slices", f, args, **kw)


def _code(src):
    return [line.split("#")[0].strip() for line in src.splitlines()]


@pytest.mark.parametrize("column", [0, 1, -1])
def test_a_column_objective_differentiates_on_the_column(column):
    def f(x, w):
        h = np.tanh(x * w[:, None]) + x ** 2
        return np.sum(h[:, column])
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(50, 3)), rng.normal(size=50)
    g = srcgrad.value_and_grad(f, argnums=(0, 1))
    value, (gx, gw) = g(x, w)
    c = x[:, column]
    t = np.tanh(c * w)
    gx_hand = np.zeros_like(x)
    gx_hand[:, column] = (1 - t ** 2) * w + 2 * c
    np.testing.assert_allclose(value, f(x, w), rtol=1e-12)
    np.testing.assert_allclose(gx, gx_hand, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gw, (1 - t ** 2) * c, rtol=1e-12, atol=1e-14)
    plain_value, (px, pw) = _without_pushdown(f, (x, w), argnums=(0, 1))
    np.testing.assert_allclose(gx, px, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gw, pw, rtol=1e-12, atol=1e-14)
    code = _code(g.source(x, w))
    # the derivative reads the column of x, and makes no (50, 3) array but the gradient
    assert any(f"x[:, {column}]" in line for line in code), g.source(x, w)
    assert sum("np.zeros((50, 3)" in line for line in code) == 1, g.source(x, w)


def test_a_slice_of_rows_and_a_term_that_does_not_vanish():
    # the cotangent of y[2:5] meets `+ g` (does not vanish where g is 0): that kernel
    # keeps the whole array; the product before it works on the rows
    def f(x):
        y = np.exp(x) * x
        return np.sum(y[2:5] ** 2) + np.sum(y)
    x = np.linspace(-1, 1, 8).reshape(4, 2).repeat(2, axis=0)
    value, grad = srcgrad.value_and_grad(f)(x)
    y = np.exp(x) * x
    dy = np.ones_like(x)
    dy[2:5] += 2 * y[2:5]
    np.testing.assert_allclose(grad, dy * np.exp(x) * (1 + x), rtol=1e-12)
    np.testing.assert_allclose(value, f(x), rtol=1e-12)
