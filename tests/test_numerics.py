"""Derivatives at least as stable as their forwards: extreme inputs, kinks, unsupported data."""
import numpy as np
import pytest

import srcgrad
import srcgrad.numpy as snp

BIG = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])


def grad_of(f, x):
    t = srcgrad.tensor(x, requires_grad=True)
    f(t).sum().backward()
    return t.grad.numpy()


def sigmoid(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


@pytest.mark.parametrize("name, f, expected", [
    ("softplus", snp.softplus, sigmoid(BIG)),
    ("logaddexp(x, 0)", lambda t: snp.logaddexp(t, 0.0), sigmoid(BIG)),
    ("logaddexp(0, x)", lambda t: snp.logaddexp(0.0, t), sigmoid(BIG)),
    ("sigmoid", snp.sigmoid, sigmoid(BIG) * sigmoid(-BIG)),
    ("log(sigmoid)", lambda t: -snp.softplus(-t), sigmoid(-BIG)),
])
def test_stable_primitives_have_finite_exact_gradients_at_extremes(name, f, expected):
    g = grad_of(f, BIG)
    assert np.all(np.isfinite(g)), name
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-300)


def test_logsumexp_and_log_softmax_on_large_inputs():
    x = np.array([[1000.0, 1000.0, -1000.0], [1e4, 0.0, -1e4]])
    g = grad_of(lambda t: snp.logsumexp(t, axis=1), x)
    np.testing.assert_allclose(g, [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    w = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    g = grad_of(lambda t: snp.log_softmax(t, axis=1) * w, x)
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(g, w - p * w.sum(1, keepdims=True), atol=1e-12)


def test_where_with_an_infinite_branch_not_taken_is_not_nan():
    x = np.array([0.0, 1.0, 4.0])
    g = grad_of(lambda t: snp.where(t > 0, snp.sqrt(t), 0.0), x)
    np.testing.assert_allclose(g, [0.0, 0.5, 0.25])


@pytest.mark.parametrize("f, at, expected", [
    (lambda t: t.relu(), 0.0, 0.0),
    (lambda t: t.abs(), 0.0, 0.0),
    (lambda t: snp.maximum(t, 0.0), 0.0, 0.5),
    (lambda t: t.clamp(-1.0, 1.0), 1.0, 1.0),
    (lambda t: t.clamp(-1.0, 1.0), 1.5, 0.0),
])
def test_subgradients_at_kinks_match_pytorch(f, at, expected):
    assert grad_of(f, np.array([at]))[0] == expected


def test_small_arguments_keep_precision():
    x = np.array([1e-12, -1e-9])
    np.testing.assert_allclose(grad_of(snp.log1p, x), 1 / (1 + x), rtol=1e-15)
    np.testing.assert_allclose(grad_of(snp.expm1, x), np.exp(x), rtol=1e-15)
    big = np.array([1e200, 3e200])
    np.testing.assert_allclose(grad_of(lambda t: snp.hypot(t, 1e200), big),
                               big / np.hypot(big, 1e200), rtol=1e-14)


def test_float32_stays_float32_through_special_functions():
    x = np.array([0.5, -2.0, 3.0], np.float32)
    for f in (snp.softplus, snp.sigmoid, snp.expm1, lambda t: snp.logaddexp(t, 1.0), snp.sinc):
        t = srcgrad.tensor(x, requires_grad=True)
        f(t).sum().backward()
        assert t.grad.dtype == np.float32


def test_complex_data_an_op_has_no_rule_for_is_refused_not_differentiated_wrongly():
    """(tests/test_complex.py has the ops that do differentiate complex data)"""
    z = srcgrad.tensor(np.array([1 + 2j, 3 - 1j]), requires_grad=True)
    with pytest.raises(TypeError, match=r"maximum: .*complex values"):
        snp.maximum(z, 2.0)
    x = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"maximum: .*complex values"):
        snp.maximum(x * 1j, 2.0)


def test_std_of_data_without_spread_has_zero_gradient():
    """The function is finite (0) there: no NaN (PyTorch gives NaN; HIPS autograd 0)."""
    x = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(srcgrad.grad(lambda x: np.sum(np.std(x, axis=0)))(x), np.zeros((1, 3)))
    t = srcgrad.tensor([[1.0, 1.0], [1.0, 2.0]], requires_grad=True)
    t.std(1).sum().backward()
    assert np.isfinite(t.grad.numpy()).all() and (t.grad.numpy()[0] == 0).all()


def test_powers_at_a_zero_base():
    """(x*y)**1.5 at x = 0 and 0**y: sympy's derivatives divide by the base (NaN);
    these are 0, as PyTorch's."""
    x, y = np.array([0.0, 1.0, 2.0]), np.array([2.0, 3.0, 0.5])
    g = srcgrad.grad(lambda x: np.sum(np.exp((x * y) ** 1.5)))(x)
    np.testing.assert_allclose(g, 1.5 * (x * y) ** 0.5 * y * np.exp((x * y) ** 1.5))
    assert srcgrad.grad(lambda p: np.power(0.0, p))(0.7) == 0.0
    np.testing.assert_allclose(srcgrad.grad(lambda p: np.sum(np.power(np.array([0.0, 2.0]), p)))(
        np.array([0.7, 0.7])), [0.0, 2.0 ** 0.7 * np.log(2.0)])


def test_a_write_under_no_grad_keeps_the_history_and_is_read_as_written():
    x = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    v = x * 3
    with srcgrad.no_grad():
        v.add_(1.0)
    assert v.requires_grad and v.grad_fn is not None
    (v * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 13.0])  # v + 3x, as PyTorch


def test_exp_of_a_shifted_argument_is_computed_as_written():
    # sympy's exp takes the number out: exp(x - 740.0) -> 4.2e-322 * exp(x), inf at x = 735
    f = lambda x: np.sum(np.exp(x - 740.0))  # noqa: E731
    x = np.array([700.0, 735.0])
    v, g = srcgrad.value_and_grad(f)(x)
    np.testing.assert_allclose(v, f(x), rtol=1e-14)
    np.testing.assert_allclose(g, np.exp(x - 740.0), rtol=1e-14)
    h = lambda x: np.sum(np.exp(2 * x - 50.0) + np.exp(x - 740.0) ** 2)  # noqa: E731
    x = np.array([360.0, 1.0])
    v, g = srcgrad.value_and_grad(h)(x)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    np.testing.assert_allclose(g, 2 * np.exp(2 * x - 50.0) + 2 * np.exp(x - 740.0) ** 2, rtol=1e-13)


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")  # (numpy's, as the user's code)
def test_exp_of_log_is_not_folded_away():
    # numpy's exp(log(x)) is NaN for x < 0; sympy would fold it into x
    v, g = srcgrad.value_and_grad(lambda x: np.sum(np.exp(np.log(x))))(np.array([-2.0, 3.0]))
    assert np.isnan(v)
    assert np.isnan(g[0]) and g[1] == pytest.approx(1.0)


def test_the_gradient_of_a_nan_maximum_goes_to_the_nan_entries():
    # (PyTorch's: ties split among the entries equal to the result, NaN counting as equal
    # to a NaN result; srcgrad divided by a count of 0: NaN everywhere)
    import srcgrad as torch
    x1 = torch.tensor([[3.0, -1.0, 3.0], [0.5, 0.0, 1.0]], dtype=torch.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        torch.max(torch.log(x1)).backward()
    np.testing.assert_array_equal(x1.grad.numpy(), [[0.0, -1.0, 0.0], [0.0, np.nan, 0.0]])
    g = srcgrad.grad(lambda x: np.max(x, axis=1).sum())(np.array([[1.0, 3.0, 3.0], [2.0, 0.5, np.nan]]))
    np.testing.assert_array_equal(g, [[0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
