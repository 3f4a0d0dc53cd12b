"""numpy code that writes into arrays after reading them, run op by op (srcgrad.vjp,
jacobian, and grad once a function's decisions keep changing): each value keeps its data
as read (recording.keep_numpy_reads), no PyTorch version error, gradients equal to the
traced function's and to central differences."""
import warnings

import numpy as np
import pytest

import srcgrad
from numeric import numeric_grad


def row_fill(x):  # (each row from the one before: PyTorch would refuse the backward)
    v = np.zeros((5, 3))
    v[0] = x
    for i in range(1, 5):
        v[i] = v[i - 1] * x + 0.1
    return np.sum(v)


def read_then_overwrite(x):  # (sin read v; then v is written where sin read it)
    v = x * 1.0
    y = np.sin(v)
    v[0] = 5.0
    v[1:] *= 3.0
    return np.sum(y) + np.sum(v ** 2)


def view_read_then_base_written(x):
    v = x * 2.0
    w = v[1:]
    p = w * x[1:]  # (mul reads the view w)
    v[:] = 0.5     # (its data changes)
    return np.sum(p) + np.sum(v * x)


def result_kept_then_written(x):  # (exp's backward reads its result; the result is then written)
    z = np.exp(x)
    s = np.sum(z * z)
    z[1] = 0.0
    return s + np.sum(z)


def write_through_a_view(x):
    v = np.ones((2, 3))
    row = v[1]
    t = np.tanh(v * x)
    row[:] = x ** 2  # (a write into v through its view)
    return np.sum(t) + np.sum(v * x)


def buffer_of_constants_read_then_written(x):  # (numpy changes it: srcgrad does not see it)
    buf = np.ones(3) * 2.0
    y = np.sum(np.sin(buf * x))
    buf[0] = 7.0
    return y + np.sum(buf * x)


def out_argument(x):
    out = np.empty(3)
    np.multiply(x, x, out=out)
    y = np.sum(np.sin(out))
    np.add(out, x, out=out)
    return y + np.sum(out ** 2)


def cumulative_in_place(x):
    acc = x.copy()
    for k in range(3):
        acc[1:] += acc[:-1] * x[k]
    return np.sum(acc ** 2)


CASES = [row_fill, read_then_overwrite, view_read_then_base_written, result_kept_then_written,
         write_through_a_view, buffer_of_constants_read_then_written, out_argument, cumulative_in_place]
X = np.array([0.3, -0.7, 1.1])


@pytest.mark.parametrize("fn", CASES, ids=[f.__name__ for f in CASES])
def test_op_by_op_equals_traced_and_numeric(fn):
    want = numeric_grad(fn, X)
    traced = srcgrad.grad(fn)(X.copy())
    value, pullback = srcgrad.vjp(fn, X.copy())
    (op_by_op,) = pullback(1.0)
    assert value == pytest.approx(fn(X.copy()), rel=1e-12)
    np.testing.assert_allclose(traced, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(op_by_op, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(srcgrad.jacobian(fn)(X.copy()), want, rtol=1e-6, atol=1e-8)


def test_decisions_that_keep_changing():
    """A trip count from the data: past its variants, grad runs op by op, writes and all."""
    def f(x):
        n = int(abs(x[0]) * 100) % 40 + 3
        v = np.zeros((n, 3))
        v[0] = x
        for i in range(1, n):
            v[i] = np.tanh(v[i - 1] * x) + 0.1
        return np.sum(v)
    g = srcgrad.grad(f)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the warning that it now runs op by op)
        for _ in range(24):
            x = rng.normal(size=3)
            np.testing.assert_allclose(g(x), numeric_grad(f, x), rtol=1e-5, atol=1e-7)


def constant_list_array_changed(x):  # (np.array of numbers stays numpy's, builders or not)
    w = np.array([1.0, 2.0, 3.0])
    y = np.sum(np.sin(w * x))
    w[0] = 10.0
    w += 1.0
    return y + np.sum(w * x)


def global_buffer_changed(x):  # (a module's array, changed by the function itself)
    BUFFER[:] = 2.0
    y = np.sum(np.sin(BUFFER * x))
    BUFFER[0] = 7.0
    return y + np.sum(BUFFER * x)


BUFFER = np.zeros(3)


@pytest.mark.parametrize("fn", [constant_list_array_changed, global_buffer_changed])
def test_a_constant_changed_after_being_read(fn):
    """Traced and op by op, an op reads a plain array as it was when it read it."""
    want = numeric_grad(fn, X)
    np.testing.assert_allclose(srcgrad.grad(fn)(X.copy()), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(srcgrad.grad(fn)(X.copy() * 2), numeric_grad(fn, X * 2), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(srcgrad.vjp(fn, X.copy())[1](1.0)[0], want, rtol=1e-6, atol=1e-8)


def filled_literal(x):  # (an array of numbers, then traced values stored into it)
    out = np.array([0.0, 0.0, 1.0])
    out[0] = x[0] ** 2
    out[1:] *= x[1:]
    return np.sum(np.sin(out))


def literal_written_through_a_view(x):
    out = np.array([[0.0, 0.0, 0.5], [1.0, 2.0, 3.0]])
    row = out[0]
    row[1] = x[0]
    return np.sum(np.tanh(out * x[1])) + np.sum(out[:, 2] * x[2])


def literal_read_then_filled(x):  # (read as numbers first: the read keeps the numbers)
    w = np.array([1.0, 2.0, 3.0])
    y = np.sum(np.sin(w * x))
    w[1] = x[1] ** 3
    return y + np.sum(w * x)


def literal_read_then_its_view_written(x):  # (numbers written into a view of what an op read)
    a = np.array([0.07, -1.76, 0.86, 1.58])
    s = np.sum(np.sin(a * x[0]))
    v = a.reshape(2, 2)
    v[1] = v[0] * 1.09
    return s + np.sum(a * x[1])


@pytest.mark.parametrize("fn", [filled_literal, literal_written_through_a_view, literal_read_then_filled,
                                literal_read_then_its_view_written])
def test_arrays_numpy_builds_from_numbers_take_traced_values(fn):
    want = numeric_grad(fn, X)
    np.testing.assert_allclose(srcgrad.grad(fn)(X.copy()), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(srcgrad.vjp(fn, X.copy())[1](1.0)[0], want, rtol=1e-6, atol=1e-8)


def test_a_plain_array_written_by_putmask_op_by_op():
    def f(x):
        v = np.ones(4)  # (numpy's: a tensor once numpy's builders make them)
        np.putmask(v, x > 0, x ** 2)
        return np.sum(v * x)
    x = np.array([0.5, -0.3, 0.2, -0.7])
    want = numeric_grad(f, x)
    np.testing.assert_allclose(srcgrad.grad(f)(x.copy()), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(srcgrad.vjp(f, x.copy())[1](1.0)[0], want, rtol=1e-6, atol=1e-8)


def test_a_function_that_needs_numpys_builders_runs_once_per_later_call():
    """Storing a differentiated value into np.zeros needs the builders redirected: the
    first op-by-op call finds out by running the function twice; later calls start there."""
    calls = []

    def f(x):
        calls.append(1)
        v = np.zeros(3)
        v[0] = x[0] * x[1]
        return v * x

    for k in range(3):
        calls.clear()
        x = np.array([1.0, 2.0, 3.0]) + k
        _, vjp_fn = srcgrad.vjp(f, x)
        (g,) = vjp_fn(np.ones(3))
        np.testing.assert_allclose(g, [2 * x[0] * x[1], x[0] ** 2, 0.0])  # (of x0**2 x1)
        assert len(calls) == (2 if k == 0 else 1)


def test_a_broadcast_view_read_after_its_base_was_written_sees_the_write():
    """`v = np.broadcast_to(a, ...)` is a view: after `a *= 3`, numpy's v is the new values,
    and so is the recorded one (the generated code used to compute with a's old value)."""
    def f(x):
        a = x * 2
        v = np.broadcast_to(a, (3, 2))
        a *= 3
        return np.sum(v * np.arange(6.0).reshape(3, 2))
    x = np.array([1.0, 2.0])
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == f(x) == 144.0
    np.testing.assert_allclose(grad, 6 * np.array([6.0, 9.0]))


def test_a_diagonal_is_a_view_of_its_array():
    """np.diagonal's result is a view: read after a write into its array it is the new
    values (a copy used to keep the old ones), in compiled code and op by op alike."""
    def f(x):
        a = x * 2
        d = np.diagonal(a)
        a *= 3
        return np.sum(d * np.array([1.0, 2.0]))
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == f(x) == 54.0
    np.testing.assert_allclose(grad, [[6.0, 0.0], [0.0, 12.0]])
    value, vjp_fn = srcgrad.vjp(f, x)
    assert value == 54.0
    np.testing.assert_allclose(vjp_fn(1.0)[0], [[6.0, 0.0], [0.0, 12.0]])


#: (what numpy returns, a view or a copy of `a`; srcgrad's had the other kind)
VIEWS_AND_COPIES = {
    "np.diag of a matrix (a view)": lambda a: np.diag(a),
    "ndarray.view() (a view)": lambda a: a.view()[::-1],
    "sliding_window_view (a view)": lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, axis=0)[0],
    "flatten (a copy)": lambda a: a.flatten(),
    "unary plus (a copy)": lambda a: +a,
    "astype to its own dtype (a copy)": lambda a: a.astype(np.float64),
    "asfortranarray of C order (a copy)": lambda a: np.asfortranarray(a),
    "ascontiguousarray of a transpose (a copy)": lambda a: np.ascontiguousarray(a.T),
}


@pytest.mark.parametrize("name", sorted(VIEWS_AND_COPIES))
def test_a_later_write_reaches_numpys_views_and_not_its_copies(name):
    take = VIEWS_AND_COPIES[name]

    def f(x):
        a = x * 2
        v = take(a)
        a *= 3
        return np.sum(np.sin(v) * np.arange(1.0, v.size + 1).reshape(v.shape))
    x = np.array([[0.1, 0.2], [0.3, 0.4]])
    value, grad = srcgrad.value_and_grad(f)(x)
    assert np.isclose(value, f(x))
    np.testing.assert_allclose(grad, numeric_grad(f, x), atol=1e-7)
    assert np.isclose(srcgrad.vjp(f, x)[0], f(x))


def test_asarray_chkfinite_checks_in_a_compiled_function():
    g = srcgrad.grad(lambda x: np.sum(np.asarray_chkfinite(x) ** 2))
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [2.0, 4.0])
    with pytest.raises(ValueError, match="infs or NaNs"):
        g(np.array([1.0, np.inf]))  # (numpy's check, again for each call's data)
