"""Equal ops computed once (ir/cse.py), and equal loop invariants read once (ir/reroll.py)."""
import collections
import re

import numpy as np

import srcgrad
from programs import det_by_minors


def _code(src):
    return [line.split("#")[0].strip() for line in src.splitlines()]


def test_an_op_repeated_on_the_same_inputs_is_computed_once():
    def f(x, y):
        return np.sum(np.tanh(x[1:]) * y) + np.sum(np.sin(x[1:]) @ y)
    x, y = np.linspace(-1, 1, 6), np.linspace(0, 1, 5)
    g = srcgrad.value_and_grad(f, argnums=(0, 1))
    value, (gx, gy) = g(x, y)
    assert np.isclose(value, f(x, y))
    gx_hand = np.zeros(6)
    gx_hand[1:] = y / np.cosh(x[1:]) ** 2 + np.cos(x[1:]) * y
    np.testing.assert_allclose(gx, gx_hand, rtol=1e-12)
    code = _code(g.source(x, y))
    assert sum(len(re.findall(r"\bx\[1:\]", line)) for line in code) == 1, g.source(x, y)


def test_equal_results_returned_stay_distinct_arrays():
    def f(x):
        return np.sum(x * x), (x[1:] * 2, x[1:] * 2)
    x = np.arange(4.0)
    (value, (a, b)), grad = srcgrad.value_and_grad(f, has_aux=True)(x)
    np.testing.assert_array_equal(a, b)
    assert a is not b
    a[0] = 100.0
    assert b[0] == 2.0


def _rk2(x, steps):
    """y' = (x_0, x_i * y_{i-1}) by a two-stage Runge-Kutta: each stage reads x[:1],
    x[1:] and y[:-1]."""
    def rhs(y):
        return np.concatenate([x[:1], x[1:] * y[:-1]])
    y = np.zeros(x.shape[0])
    for _ in range(steps):
        k1 = rhs(y)
        k2 = rhs(y + 0.1 * k1)
        y = y + 0.05 * (k1 + k2)
    return y


def _compiled_like_eager(f, x):
    """value_and_grad(f)'s source, after checking its value and gradient against an eager run."""
    g = srcgrad.value_and_grad(f)
    value, grad = g(x)
    t = srcgrad.tensor(x, requires_grad=True)
    out = f(t)
    out.backward()
    np.testing.assert_allclose(value, float(out.item()), rtol=1e-12)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-12)
    return g.source(x)


def test_a_loop_reads_an_invariant_once_however_often_its_body_computes_it():
    def f(x):
        y = _rk2(x, 6)
        return np.sum(y * y)
    src = _compiled_like_eager(f, np.linspace(0.5, 1.5, 8))
    code = _code(src)
    assert any(line.startswith("for i in range(") for line in code), src
    # one accumulator per distinct invariant (x[1:] and x[:1]), not one per call of rhs
    assert sum(1 for line in code if line.startswith("grad_sum") and "np.zeros" in line) <= 2, src


def test_a_multiple_of_a_slice_gradient_sum_is_accumulated_once():
    """RK stages read `y[:-1]` and scale the state's cotangent by different numbers:
    `0.1*g + 0.1*scatter` is 0.1 times one accumulation, shared by every stage; the
    reverse loop makes no zeros array."""
    def f(x):
        y = _rk2(x, 5)
        return y[-1] + np.sum(y) * 0.5
    src = _compiled_like_eager(f, np.linspace(0.5, 1.5, 6))
    reverse = src[src.index("in reverse"):]
    assert "np.zeros" not in reverse.split("return")[0].split("\n    grad_x")[0], src


def test_a_value_the_run_computes_along_several_paths_is_computed_once():
    """Expansion in minors reaches each minor once per path to it (a 5x5 expands into 325
    minors, of which 30 are distinct): equal computations become one value before fusion,
    so no two kernels each contain a copy of one minor's formula."""
    A = np.random.default_rng(3).standard_normal((5, 5))
    g = srcgrad.value_and_grad(det_by_minors)
    value, grad = g(A)
    np.testing.assert_allclose(value, np.linalg.det(A), rtol=1e-12)
    np.testing.assert_allclose(grad, np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-10)
    code = _code(g.source(A))
    # a 2x2 minor of the last two rows, `a * b - c` of entries and a product, is written in
    # the forward and at most once more where a backward kernel recomputes it (in one per
    # path to it, it was written 10 times: 572 lines in all)
    minors = collections.Counter(m for line in code for m in re.findall(r"\bt\d+ \* t\d+ - t\d+\b", line))
    assert minors and max(minors.values()) <= 2, g.source(A)
    assert len(code) < 400, g.source(A)


def test_operands_of_a_commutative_op_may_come_in_either_order():
    def f(x):
        return np.sum(np.sin(x[0] * x[1]) + np.cos(x[1] * x[0]) * np.exp(x[1] * x[0]))
    x = np.array([0.3, -1.2])
    g = srcgrad.value_and_grad(f)
    value, grad = g(x)
    a, b = x
    p = a * b
    dp = np.cos(p) + np.exp(p) * (np.cos(p) - np.sin(p))
    np.testing.assert_allclose(grad, [dp * b, dp * a], rtol=1e-12)
    code = _code(g.source(x))
    assert sum(len(re.findall(r"\bt0 \* t1\b|\bt1 \* t0\b", line)) for line in code) == 1, g.source(x)
