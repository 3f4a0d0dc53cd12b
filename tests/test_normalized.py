"""Sums of normalised values (ir/normalized.py): sum(g * e / sum(e)) = g."""
import numpy as np
import pytest

import srcgrad
from thresholds import value_and_grad_without


def _plain(f, args, **kw):
    """The same gradient without the rewrite."""
    return value_and_grad_without("fold_normalized_sums", f, args, **kw)


def _code(src):
    return [line.split("#")[0].strip() for line in src.splitlines()]


def _logsumexp(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("reduce", [np.sum, np.mean])
def test_the_maximum_of_a_stable_logsumexp_gets_no_backward(axis, reduce):
    def f(x):
        return reduce(_logsumexp(x, axis)) * 3.0
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 7))
    g = srcgrad.value_and_grad(f)
    value, grad = g(x)
    n = x.shape[1 - axis] if reduce is np.mean else 1
    softmax = np.exp(x - np.expand_dims(_logsumexp(x, axis), axis))
    np.testing.assert_allclose(grad, 3.0 * softmax / n, rtol=1e-12)
    plain_value, plain_grad = _plain(f, (x,))
    np.testing.assert_allclose(grad, plain_grad, rtol=1e-12, atol=1e-15)
    code = _code(g.source(x))
    assert not any("==" in line for line in code), g.source(x)  # no mask of where the max is


def test_a_weighted_logsumexp_gives_the_same_gradient():
    # (the weight makes the normaliser `w / s`, not a number over s: not rewritten)
    def f(x, w):
        return np.sum(w * _logsumexp(x, 1))
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(5, 7)), rng.normal(size=5)
    value, grad = srcgrad.value_and_grad(f)(x, w)
    softmax = np.exp(x - _logsumexp(x, 1)[:, None])
    np.testing.assert_allclose(grad, softmax * w[:, None], rtol=1e-12)


def test_a_normaliser_over_another_axis_is_left_alone():
    # x (n, 1) broadcast along axis 1, normalised along axis 0: the backward sums e / s
    # over axis 1, which is not the axis of s
    def f(x, y):
        e = np.exp(x + y)
        s = np.sum(e, axis=0, keepdims=True)
        return np.sum(np.log(s)) + np.sum(e / s * y)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 1)), rng.normal(size=(1, 6))
    value, (gx, gy) = srcgrad.value_and_grad(f, argnums=(0, 1))(x, y)
    _, (px, py) = _plain(f, (x, y), argnums=(0, 1))
    np.testing.assert_allclose(gx, px, rtol=1e-12)
    np.testing.assert_allclose(gy, py, rtol=1e-12)
    eps = 1e-6
    for i in range(4):
        d = np.zeros_like(x)
        d[i, 0] = eps
        assert np.isclose(gx[i, 0], (f(x + d, y) - f(x - d, y)) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_a_weight_varying_along_the_axis_is_left_alone():
    def f(x, z):
        e = np.exp(x)
        s = np.sum(e, axis=1, keepdims=True)
        return np.sum(np.sum(e * z, axis=1) / s[:, 0])
    rng = np.random.default_rng(2)
    x, z = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    value, grad = srcgrad.value_and_grad(f)(x, z)
    p = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
    expected = p * z - p * np.sum(p * z, axis=1, keepdims=True)
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-14)
