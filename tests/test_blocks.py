"""Programs over the rows of tall arrays run a block of rows at a time (codegen/blocks.py):
the same values and gradients as the whole program, intermediates of a block's size."""
import numpy as np
import pytest

import srcgrad
from peak_memory import peak
from srcgrad import config
from srcgrad.codegen import blocks

N = blocks.MIN_BLOCKS * blocks.BLOCK + 123  # (a last block shorter than the others)


def rodrigues(rot, X):
    theta = np.sqrt(np.sum(rot * rot, axis=1, keepdims=True))
    w = rot / theta
    tmp = np.sum(w * X, axis=1, keepdims=True) * (1 - np.cos(theta))
    return X * np.cos(theta) + np.cross(w, X) * np.sin(theta) + w * tmp


def residuals(cam, X, feats):
    Xc = rodrigues(cam[:, 0:3], X - cam[:, 3:6])
    proj = Xc[:, 0:2] / Xc[:, 2:3]
    return np.sum((proj * cam[:, 6:7] - feats) ** 2)


def args(n=N, seed=0):
    rng = np.random.default_rng(seed)
    cam = np.concatenate([0.3 * rng.standard_normal((n, 3)) + 0.1, 0.1 * rng.standard_normal((n, 3)),
                          rng.uniform(0.5, 1.5, (n, 1))], axis=1)
    X = np.concatenate([rng.uniform(-1, 1, (n, 2)), rng.uniform(5, 10, (n, 1))], axis=1)
    return cam, X, 0.1 * rng.standard_normal((n, 2))


@pytest.fixture
def whole():
    """Compile with blocks off (the reference)."""
    class Switch:
        def __enter__(self):
            self.saved = config.row_blocks
            config.row_blocks = False

        def __exit__(self, *exc):
            config.row_blocks = self.saved
    return Switch()


def test_a_row_by_row_program_runs_in_blocks_and_computes_what_the_whole_one_does(whole):
    a = args()
    g = srcgrad.value_and_grad(residuals, argnums=(0, 1))
    value, (gcam, gX) = g(*a)
    src = g.source(*a)
    assert f"for lo in range(0, {N}, {blocks.BLOCK}):" in src and "residuals_value_and_grad_rows(" in src, src
    assert "(rows, 3)" in src and str(N) not in src.split("def residuals_value_and_grad_rows")[1], src
    with whole:
        w = srcgrad.value_and_grad(residuals, argnums=(0, 1))
        want_value, (want_cam, want_X) = w(*a)
        assert "_rows(" not in w.source(*a)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(gcam, want_cam, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gX, want_X, rtol=1e-10, atol=1e-12)
    small = [x[:40] for x in a]  # (against the eager engine, on a few rows)
    ts = [srcgrad.tensor(x, requires_grad=True) for x in small[:2]]
    residuals(*ts, small[2]).backward()
    np.testing.assert_allclose(gcam[:40], ts[0].grad.numpy(), rtol=1e-9, atol=1e-12)
    # new values in every block: the code holds no block's numbers
    b = args(seed=1)
    value_b, (gcam_b, _) = g(*b)
    with whole:
        np.testing.assert_allclose(gcam_b, srcgrad.value_and_grad(residuals, argnums=(0, 1))(*b)[1][0],
                                   rtol=1e-10, atol=1e-12)


def test_the_peak_is_a_blocks_worth_of_intermediates(whole):
    """(A count of bytes, not a timing. The arrays each keeps between calls, scratch.py,
    are not counted: the whole program's are the larger.)"""
    a = args()
    g = srcgrad.value_and_grad(residuals, argnums=(0, 1))
    g(*a)
    blocked = peak(g, *a)
    with whole:
        w = srcgrad.value_and_grad(residuals, argnums=(0, 1))
        w(*a)
        assert blocked < 0.7 * peak(w, *a)


def per_row_loss_and_aux(cam, X, feats):
    r = rodrigues(cam[:, 0:3], X)
    return np.sum(r * r), r[:, 0] * 2.0


def test_results_of_every_kind_come_back_whole(whole):
    """A sum over the rows (the blocks' sums added), a value per row (the blocks' rows),
    an aux value per row."""
    a = args()
    g = srcgrad.value_and_grad(per_row_loss_and_aux, argnums=(0,), has_aux=True)
    (value, aux), (gcam,) = g(*a)
    assert "_rows(" in g.source(*a)
    with whole:
        (want_value, want_aux), (want_cam,) = srcgrad.value_and_grad(per_row_loss_and_aux, argnums=(0,),
                                                                      has_aux=True)(*a)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(aux, want_aux, rtol=1e-14)
    np.testing.assert_allclose(gcam, want_cam, rtol=1e-10, atol=1e-12)
    assert aux.shape == (N,) and gcam.shape == (N, 7)


@pytest.mark.parametrize("f", [
    lambda X: np.sum(np.tanh(X - np.mean(X, axis=0)) ** 2),    # rows read a sum over them
    lambda X: np.sum(np.tanh(X - np.sum(X, axis=0) / N) ** 2),  # (the same, spelled as a sum)
    lambda X: np.sum(np.sin(X.T @ X)),                         # rows mixed by a product
    lambda X: np.sum(np.cumsum(X, axis=0) ** 2),               # rows mixed in order
    lambda X: np.sum(np.sin(X[::-1]) * X),                     # rows reordered
    lambda X, A=np.eye(3) * 2 + 0.1: np.sum(X @ np.linalg.inv(A * X[0, 0])),  # a row read alone
])
def test_a_program_mixing_rows_runs_whole(f, whole):
    X = np.random.default_rng(3).normal(size=(N, 3)) * 0.1
    g = srcgrad.value_and_grad(f)
    value, grad = g(X)
    assert "_rows(" not in g.source(X)
    with whole:
        want_value, want_grad = srcgrad.value_and_grad(f)(X)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-10, atol=1e-13)


def test_short_arrays_run_whole():
    a = args(n=2 * blocks.BLOCK)
    g = srcgrad.value_and_grad(residuals, argnums=(0, 1))
    g(*a)
    assert "_rows(" not in g.source(*a)


def test_a_costly_value_without_rows_keeps_the_program_whole(whole):
    """Every block would compute an inverse of the shared matrix again."""
    def f(X, A):
        return np.sum(np.tanh(X @ np.linalg.inv(A)))
    X = np.random.default_rng(4).normal(size=(N, 3)) * 0.1
    A = np.eye(3) * 2 + 0.1
    g = srcgrad.value_and_grad(f, argnums=(0, 1))
    value, grads = g(X, A)
    assert "_rows(" not in g.source(X, A)
    with whole:
        want = srcgrad.value_and_grad(f, argnums=(0, 1))(X, A)
    np.testing.assert_allclose(grads[0], want[1][0], rtol=1e-10)

    def cheap(X, s):  # (a product with a shared matrix of the arguments: row by row)
        return np.sum(np.tanh(X @ (s * np.eye(3))))
    g = srcgrad.value_and_grad(cheap)
    g(X, 2.0)
    assert "_rows(" in g.source(X, 2.0)


def logistic(w, X, y):
    return np.sum(np.log1p(np.exp(-y * (X @ w)))) + 0.1 * np.sum(w ** 2)


def test_what_follows_the_sums_over_the_rows_is_computed_once_after_the_blocks(whole):
    """A shared parameter's gradient is a sum over the rows (`g @ X`), and the loss adds a
    term of the parameter alone: the blocks return their sums, and a third function
    computes the rest from them once."""
    rng = np.random.default_rng(5)
    X, y, w = rng.normal(size=(N, 6)), np.sign(rng.normal(size=N)), rng.normal(size=6) * 0.3
    g = srcgrad.value_and_grad(logistic, argnums=(0, 1))
    value, (gw, gX) = g(w, X, y)
    src = g.source(w, X, y)
    assert "logistic_value_and_grad_rows(" in src and "logistic_value_and_grad_after_rows(" in src, src
    after = src.split("def logistic_value_and_grad_after_rows")[1]
    assert "w ** 2" in after and "w ** 2" not in src.split("def logistic_value_and_grad_rows")[1].split(
        "def logistic_value_and_grad_after_rows")[0], src
    with whole:
        want_value, (want_w, want_X) = srcgrad.value_and_grad(logistic, argnums=(0, 1))(w, X, y)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(gw, want_w, rtol=1e-10)
    np.testing.assert_allclose(gX, want_X, rtol=1e-10, atol=1e-15)


ROWWISE = {
    "column slices": lambda X, Y, v, z: np.sum(np.sin(X[:, :2]) * Y[:, 1:3] + np.cos(X[:, 2:3])),
    "row sums": lambda X, Y, v, z: np.sum(X / (1 + np.sum(X * X, axis=1, keepdims=True))),
    "shared vector": lambda X, Y, v, z: np.sum(np.tanh(X * v + v ** 2)),
    "cross": lambda X, Y, v, z: np.sum(np.cross(X, Y[:, :3]) ** 2),
    "einsum": lambda X, Y, v, z: np.sum(np.einsum('ij,ij->i', X, Y[:, :3]) ** 2),
    "concatenate": lambda X, Y, v, z: np.sum(np.concatenate([X, Y], axis=1) ** 3),
    "where": lambda X, Y, v, z: np.sum(np.where(X > 0, X, 0.1 * X) * Y[:, :3]),
    "maximum": lambda X, Y, v, z: np.sum(np.maximum(X, Y[:, 1:]) + np.abs(X)),
    "per-row vector": lambda X, Y, v, z: np.sum(np.exp(-z ** 2) * X[:, 0]),
    "reshape": lambda X, Y, v, z: np.sum(Y.reshape(N, 2, 2).sum(axis=2) ** 2),
    "outer product": lambda X, Y, v, z: np.sum(np.sin(X @ np.outer(v, v))),
    "norm": lambda X, Y, v, z: np.sum(np.linalg.norm(X, axis=1)),
    "logsumexp": lambda X, Y, v, z: np.sum(np.log(np.sum(np.exp(Y), axis=1))),
    "softmax": lambda X, Y, v, z: np.sum((np.exp(Y) / np.sum(np.exp(Y), axis=1, keepdims=True))[:, 0]),
    "clip": lambda X, Y, v, z: np.sum(np.clip(X, -0.5, 0.5) ** 2),
    "stack": lambda X, Y, v, z: np.sum(np.stack([X[:, 0], z, X[:, 1] * z], axis=1) ** 2),
    "newaxis": lambda X, Y, v, z: np.sum(z[:, None] * X) * np.sum(v),
    "transpose": lambda X, Y, v, z: np.sum(X.T[0] * z),
    "matrix-vector": lambda X, Y, v, z: np.sum(np.tanh(X @ v) * z) + np.sum(v * v),
    "bias row": lambda X, Y, v, z: np.sum(np.tanh(X + v[None, :] * 2) ** 2) + np.sum(np.sum(Y, axis=0, keepdims=True) ** 2),
    "linear layer": lambda X, Y, v, z: np.sum((np.tanh(X @ (v[:, None] * np.arange(4.0))) - Y) ** 2),
    "means": lambda X, Y, v, z: np.mean(np.sin(X) ** 2) + np.sum(np.mean(Y, axis=0) ** 2) * np.mean(z),
}


@pytest.mark.parametrize("name", sorted(ROWWISE))
def test_blocked_or_whole_every_program_computes_the_same(name, whole):
    f = ROWWISE[name]
    rng = np.random.default_rng(6)
    a = rng.normal(size=(N, 3)), rng.normal(size=(N, 4)), rng.normal(size=3), rng.normal(size=N)
    g = srcgrad.value_and_grad(f, argnums=(0, 1, 2, 3))
    value, grads = g(*a)
    with whole:
        want_value, want = srcgrad.value_and_grad(f, argnums=(0, 1, 2, 3))(*a)
    np.testing.assert_allclose(value, want_value, rtol=1e-11)
    for got, expected in zip(grads, want):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_a_blocked_function_comes_back_from_the_disk_cache():
    """Driver, block function and what follows the sums are one module's source: a second
    decorator of the same function loads them and computes the same."""
    rng = np.random.default_rng(7)
    X, y, w = rng.normal(size=(N, 6)), np.sign(rng.normal(size=N)), rng.normal(size=6) * 0.3
    first = srcgrad.value_and_grad(logistic, argnums=(0, 1))
    value, (gw, gX) = first(w, X, y)
    again = srcgrad.value_and_grad(logistic, argnums=(0, 1))
    value2, (gw2, gX2) = again(w, X, y)
    (loaded,) = [v for variants in again._variants.values() for v in variants]
    assert loaded.program is None and "logistic_value_and_grad_after_rows(" in loaded.source  # (from disk)
    assert value2 == value
    np.testing.assert_array_equal(gw2, gw)
    np.testing.assert_array_equal(gX2, gX)


def test_a_shared_weights_gradient_is_a_product_over_the_blocks_rows(whole):
    """`X.T @ g`: the transposed rows are read by a product over them only, each block's
    product added by the driver."""
    f = ROWWISE["linear layer"]
    rng = np.random.default_rng(8)
    a = rng.normal(size=(N, 3)), rng.normal(size=(N, 4)), rng.normal(size=3), rng.normal(size=N)
    g = srcgrad.value_and_grad(f, argnums=(0, 2))
    g(*a)
    src = g.source(*a)
    assert "_rows(" in src and ".T @ " in src.split("_rows(X, Y, v, z, rows)")[1], src


def test_the_drivers_names_never_clash_with_the_programs():
    def f(X):
        v1 = np.sin(X)
        v2 = np.sum(v1 ** 2)  # (named as the driver names a sum it has no name for)
        return v2 + np.sum(np.cos(X))
    X = np.random.default_rng(9).normal(size=(N, 3))
    g = srcgrad.value_and_grad(f)
    value, grad = g(X)
    assert "_rows(" in g.source(X)
    np.testing.assert_allclose(value, f(X), rtol=1e-12)
    np.testing.assert_allclose(grad, 2 * np.sin(X) * np.cos(X) - np.sin(X), rtol=1e-10, atol=1e-14)
