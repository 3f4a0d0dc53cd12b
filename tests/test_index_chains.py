"""An element read through a chain of known indexes reads the element itself
(ir/index_chains.py), and the cotangents read at one place are summed before they are
placed (ir/autodiff.py)."""
import numpy as np
import pytest

import srcgrad
from srcgrad import transforms


def _code(src):
    return [line.split("#")[0].strip() for line in str(src).splitlines()]


def _without_composing(f, args):
    saved = transforms.compose_element_reads
    transforms.compose_element_reads = lambda graph, constants: 0
    try:
        return srcgrad.value_and_grad(f)(*args)
    finally:
        transforms.compose_element_reads = saved


def chains(A):
    return A[1:][0][1] * A[[0, 2]][1, 1] + A[::-1, 1:][0][-1] + A[:, [2, 0]][1][1] ** 2


def test_element_reads_through_chains_read_the_first_array():
    A = np.arange(12.0).reshape(3, 4) + 1
    g = srcgrad.value_and_grad(chains)
    value, grad = g(A)
    expect = np.zeros_like(A)
    expect[1, 1] += A[2, 1]
    expect[2, 1] += A[1, 1]
    expect[2, 3] += 1
    expect[1, 0] += 2 * A[1, 0]
    np.testing.assert_allclose(value, chains(A))
    np.testing.assert_allclose(grad, expect)
    code = _code(g.source(A))
    for read in ("A[1, 1]", "A[2, 1]", "A[2, 3]", "A[1, 0]"):
        assert any(read in line for line in code), g.source(A)
    # no intermediate array is made in either direction: the gradient is the only zeros
    assert sum("np.zeros(" in line for line in code) == 1, g.source(A)
    assert not any("np.add.at" in line for line in code), g.source(A)
    ref_value, ref_grad = _without_composing(chains, (A,))
    np.testing.assert_allclose(grad, ref_grad)


def test_a_captured_index_array_is_read_when_the_code_runs():
    # a user's array may change between calls: its entries are not taken as known
    idx = np.array([0, 2])

    def f(A):
        return A[idx][1, 1] * 3.0
    A = np.arange(9.0).reshape(3, 3)
    g = srcgrad.value_and_grad(f)
    assert g(A)[0] == 3 * A[2, 1]
    idx[1] = 1
    value, grad = g(A)
    assert value == 3 * A[1, 1]
    expect = np.zeros_like(A)
    expect[1, 1] = 3
    np.testing.assert_allclose(grad, expect)


def test_a_list_index_is_known_and_its_array_read_only():
    from srcgrad.ops.indexing import split_index
    template, arrays = split_index((slice(1, None), [0, 2]))
    assert not arrays[0].flags.writeable
    user = np.array([0, 2])
    _, arrays = split_index((slice(1, None), user))
    assert arrays[0].flags.writeable  # (the user's own array, as it is)


@pytest.mark.parametrize("n", [3, 4])
def test_determinant_by_minors(n):
    def det(A):
        if A.shape[0] == 1:
            return A[0, 0]
        total = 0.0
        for j in range(A.shape[0]):
            cols = [c for c in range(A.shape[0]) if c != j]
            term = A[0, j] * det(A[1:, cols])
            total = total + term if j % 2 == 0 else total - term
        return total
    A = np.random.default_rng(n).normal(size=(n, n))
    g = srcgrad.value_and_grad(det)
    value, grad = g(A)
    np.testing.assert_allclose(value, np.linalg.det(A), rtol=1e-12)
    np.testing.assert_allclose(grad, np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-10)
    code = _code(g.source(A))
    # one zeros (the gradient) and one accumulation per element of A, whatever the reads
    assert sum("np.zeros(" in line for line in code) == 1, g.source(A)
    assert sum(line.startswith("grad_A[") and "+=" in line for line in code) == n * n, g.source(A)


def test_cotangents_read_at_one_place_are_summed_before_they_are_placed():
    def f(x):
        return x[0] * x[1] + x[0] ** 2 + np.sin(x[0]) + x[2]
    x = np.array([0.5, 2.0, 3.0])
    g = srcgrad.value_and_grad(f)
    value, grad = g(x)
    np.testing.assert_allclose(grad, [x[1] + 2 * x[0] + np.cos(x[0]), x[0], 1.0])
    code = _code(g.source(x))
    assert sum("grad_x[0]" in line for line in code) == 1, g.source(x)


def test_eager_backward_sums_reads_of_one_place():
    x = srcgrad.tensor([0.5, 2.0, 3.0], requires_grad=True)
    y = x[0] * x[1] + x[0] ** 2 + x[1:][0] * 3
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0 + 1.0, 0.5 + 3, 0.0])


def test_a_retained_intermediate_keeps_its_gradient():
    x = srcgrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    row = x[1]
    row.retain_grad()
    y = row[0] * row[1] + row[0]
    y.backward()
    np.testing.assert_allclose(row.grad.numpy(), [5.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0], [5.0, 3.0]])


def _diagonal_pairs(A):
    s = 0.0
    for i in range(A.shape[0]):
        s = s + A[i][i] * A[i][A.shape[0] - 1 - i]
    return s


def _subdiagonal_pairs(A):
    s = 0.0
    for i in range(A.shape[0] - 1):
        s = s + A[i][i + 1] * A[i + 1:][0][i]
    return s


@pytest.mark.parametrize("f, places", [
    (_diagonal_pairs, lambda i, n: ((i, i), (i, n - 1 - i))),
    (_subdiagonal_pairs, lambda i, n: ((i, i + 1), (i + 1, i))),
])
def test_a_loop_of_reads_through_chains_is_rerolled(f, places):
    # (the dead intermediates, A[i + 1:] with a moving start, would break the repeats)
    n = 40
    A = np.random.default_rng(1).normal(size=(n, n))
    g = srcgrad.value_and_grad(f)
    value, grad = g(A)
    expect = np.zeros_like(A)
    for i in range(n if f is _diagonal_pairs else n - 1):
        p, q = places(i, n)
        expect[p] += A[q]
        expect[q] += A[p]
    np.testing.assert_allclose(value, f(A))
    np.testing.assert_allclose(grad, expect)
    src = str(g.source(A))
    assert "for i in range(" in src and len(src.splitlines()) < 40 and "[i][" not in src, src
