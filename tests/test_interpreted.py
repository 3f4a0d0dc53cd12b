"""A structure new op by op runs its backward interpreted, until it comes back often
enough to be compiled (autograd/interpreted.py); where an interpreted value is infinite or
NaN, the compiled backward decides."""
import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad import transforms
from srcgrad.autograd import engine, interpreted

from numeric import numeric_grad


@pytest.fixture
def op_by_op_soon(monkeypatch):
    """Functions switch to op by op after their first variant; a fresh backward cache."""
    monkeypatch.setattr(transforms, "MAX_VARIANTS", 1)
    engine.clear_cache()
    interpreted._seen.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def rows(x):
    # a trip count and an array shape from the data: a new structure for each count
    n = int(abs(x[0]) * 10) % 5 + 3
    v = np.zeros((n, 3))
    v[0] = x
    for i in range(1, n):
        v[i] = np.tanh(v[i - 1] * x) + 0.1
    return v


def chain(x):
    return np.sum(rows(x) ** 2)


def test_new_structures_run_interpreted_with_the_gradients_of_the_compiled_code(op_by_op_soon):
    g = srcgrad.grad(chain)
    rng = np.random.default_rng(0)
    kinds = []
    for _ in range(12):
        x = rng.normal(size=3)
        got = g(x)
        kinds.append(type(engine.last_compiled()).__name__)
        np.testing.assert_allclose(got, numeric_grad(chain, x), rtol=1e-6, atol=1e-8)
    assert "Interpreted" in kinds


def test_a_structure_that_comes_back_is_compiled(op_by_op_soon):
    g = srcgrad.grad(chain)
    g(np.array([0.05, 0.3, -0.2]))  # (the first variant, compiled whole)
    x = np.array([0.11, 0.2, 0.7])  # another trip count: op by op from now on
    runs = []
    for k in range(interpreted.COMPILE_AFTER + 2):
        got = g(x * (1 + 1e-3 * k))  # (the same trip count, new data)
        runs.append(engine.last_compiled())
        np.testing.assert_allclose(got, numeric_grad(chain, x * (1 + 1e-3 * k)), rtol=1e-6, atol=1e-8)
    assert all(isinstance(r, interpreted.Interpreted) for r in runs[:interpreted.COMPILE_AFTER])
    compiled = runs[interpreted.COMPILE_AFTER:]
    assert all(r.source is not None and "def backward" in r.source for r in compiled)
    assert compiled[0] is compiled[1]  # (compiled once, then taken from the cache)


def safe_sqrt(x):
    n = int(abs(x[1]) * 10) % 4 + 1  # (a trip count from the data: op by op)
    y = np.where(x > 0, np.sqrt(np.abs(x)), 0.0)
    for _ in range(n):
        y = y * 1.5
    return np.sum(y)


def test_an_infinite_slope_in_the_branch_not_taken_gives_the_compiled_answer(op_by_op_soon):
    # interpreted node by node, 0 (the branch not taken) times sqrt's infinite slope at 0
    # is NaN; the compiled formula selects first: 0
    g = srcgrad.grad(safe_sqrt)
    g(np.array([1.0, 0.05, 2.0]))
    for x1 in (0.15, 0.25, 0.35):
        x = np.array([0.0, x1, 4.0])
        n = int(abs(x1) * 10) % 4 + 1
        np.testing.assert_allclose(g(x), np.array([0.0, 0.5 / np.sqrt(x1), 0.25]) * 1.5 ** n)
        assert not isinstance(engine.last_compiled(), interpreted.Interpreted)


def test_pytorch_mode_backward_is_always_compiled():
    engine.clear_cache()
    x = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert engine.last_compiled().source is not None


def chain_vector(x):
    return rows(x).sum(0) * np.array([1.0, 2.0, 3.0])


def numeric_jacobian(f, x, eps=1e-6):
    cols = []
    for k in range(x.size):
        d = np.zeros_like(x)
        d[k] = eps
        cols.append((f(x + d) - f(x - d)) / (2 * eps))
    return np.stack(cols, axis=1)


def test_vjp_of_a_new_structure_runs_interpreted_then_compiled_for_many_cotangents():
    engine.clear_cache()
    interpreted._seen.clear()
    x = np.array([0.13, -0.4, 0.8])
    J = numeric_jacobian(chain_vector, x)
    out, vjp_fn = srcgrad.vjp(chain_vector, x)
    np.testing.assert_allclose(out, chain_vector(x))
    rng = np.random.default_rng(1)
    kinds = []
    for _ in range(interpreted.COMPILE_AFTER + 2):
        ct = rng.normal(size=3)
        (g,) = vjp_fn(ct)
        kinds.append(engine.last_compiled())
        np.testing.assert_allclose(g, ct @ J, rtol=1e-6, atol=1e-8)
    assert all(isinstance(k, interpreted.Interpreted) for k in kinds[:interpreted.COMPILE_AFTER])
    assert all(k.source is not None for k in kinds[interpreted.COMPILE_AFTER:])
    np.testing.assert_allclose(srcgrad.jacobian(chain_vector)(x), J, rtol=1e-6, atol=1e-8)


def test_vjp_with_an_infinite_slope_in_the_branch_not_taken():
    engine.clear_cache()
    interpreted._seen.clear()
    x = np.array([0.0, 0.25, 4.0])
    _, vjp_fn = srcgrad.vjp(lambda t: np.where(t > 0, np.sqrt(np.abs(t)), 0.0) * 2.0, x)
    (g,) = vjp_fn(np.ones(3))
    np.testing.assert_allclose(g, [0.0, 2.0, 0.5])
    assert not isinstance(engine.last_compiled(), interpreted.Interpreted)
