"""Tests of srcgrad.autograd.functional: PyTorch's torch.autograd.functional API (jacobian,
hessian, vjp, jvp, hvp, vhp), gradcheck / gradgradcheck and the anomaly-mode switches.

Values are checked against hand-derived formulas or central finite differences in
float64; structures (tuple nesting), shapes, detaching, create_graph=True (a further
backward through the result) and strict=True errors are checked as PyTorch defines them.
"""
import os
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import srcgrad as torch
import srcgrad.autograd.functional as AF
from srcgrad import Tensor

THIS_FILE = os.path.basename(__file__)
RNG = np.random.default_rng(7)
XA = RNG.standard_normal((2, 3))
YA = RNG.standard_normal(3)


def t(a, requires_grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=requires_grad)


def arr(x):
    return np.asarray(x.detach().numpy(), dtype=np.float64)


def numeric_jacobian(func, inputs, eps=1e-6):
    """J[i][k] = d func(*inputs)[i] / d inputs[k] by central differences, shape out + in."""
    arrays = [arr(x) for x in inputs]

    def call():
        with torch.no_grad():
            out = func(*[t(a) for a in arrays])
        return [arr(o) for o in (out if isinstance(out, tuple) else (out,))]

    base = call()
    jac = [[np.zeros(o.shape + a.shape) for a in arrays] for o in base]
    for k, a in enumerate(arrays):
        for idx in np.ndindex(a.shape):
            orig = a[idx]
            a[idx] = orig + eps
            plus = call()
            a[idx] = orig - eps
            minus = call()
            a[idx] = orig
            for i, (p, m) in enumerate(zip(plus, minus)):
                jac[i][k][(Ellipsis,) + idx] = (p - m) / (2 * eps)
    return jac


def assert_detached(x):
    assert isinstance(x, Tensor)
    assert not x.requires_grad and x.grad_fn is None


# ---------------------------------------------------------------------------------------
# jacobian
# ---------------------------------------------------------------------------------------
def test_jacobian_single_tensor_in_and_out_matches_formula():
    x = XA
    jac = AF.jacobian(lambda a: (a.sin() * a).sum(dim=1), t(x))
    assert_detached(jac)
    assert jac.shape == (2, 2, 3)
    expected = np.zeros((2, 2, 3))
    for i in range(2):
        expected[i, i] = np.cos(x[i]) * x[i] + np.sin(x[i])  # d/dx (x sin x)
    assert_allclose(arr(jac), expected, rtol=1e-12, atol=1e-12)


def test_jacobian_tuple_of_outputs_and_inputs_is_a_tuple_of_tuples():
    def f(x, y):
        return (x @ y).tanh(), (y ** 3).sum(), x.cos()

    x, y = t(XA), t(YA)
    jac = AF.jacobian(f, (x, y))
    assert isinstance(jac, tuple) and len(jac) == 3
    assert all(isinstance(row, tuple) and len(row) == 2 for row in jac)
    outs = f(x, y)
    for i, out in enumerate(outs):
        for k, inp in enumerate((x, y)):
            assert jac[i][k].shape == tuple(out.shape) + tuple(inp.shape)
            assert_detached(jac[i][k])
    num = numeric_jacobian(f, (x, y))
    for i in range(3):
        for k in range(2):
            assert_allclose(arr(jac[i][k]), num[i][k], rtol=1e-6, atol=1e-8)
    # x.cos() does not depend on y: exact zeros there; (y**3).sum() gives 3 y^2
    assert not arr(jac[2][1]).any()
    assert_allclose(arr(jac[1][1]), 3 * YA ** 2, rtol=1e-12)


def test_jacobian_unpacks_exactly_as_pytorch():
    x, y = t(XA), t(YA)
    # tuple in, single tensor out: a tuple over the inputs
    j = AF.jacobian(lambda a, b: a * b, (x, y))
    assert isinstance(j, tuple) and len(j) == 2 and isinstance(j[0], Tensor)
    assert j[0].shape == (2, 3, 2, 3) and j[1].shape == (2, 3, 3)
    # single tensor in, tuple out: a tuple over the outputs
    j = AF.jacobian(lambda b: (b.exp(), b.sum()), y)
    assert isinstance(j, tuple) and len(j) == 2 and isinstance(j[0], Tensor)
    assert j[0].shape == (3, 3) and j[1].shape == (3,)
    assert_allclose(arr(j[0]), np.diag(np.exp(YA)), rtol=1e-12)
    assert_allclose(arr(j[1]), np.ones(3))
    # a one-element tuple stays a tuple on both sides
    j = AF.jacobian(lambda b: (b.exp(),), (y,))
    assert isinstance(j, tuple) and isinstance(j[0], tuple) and isinstance(j[0][0], Tensor)
    # a 0-d input and output
    j = AF.jacobian(lambda d: d.sin() * d ** 3, t(0.7))
    assert j.shape == ()
    assert_allclose(float(arr(j)), np.cos(0.7) * 0.7 ** 3 + 3 * np.sin(0.7) * 0.7 ** 2, rtol=1e-12)


def test_jacobian_zeros_for_an_independent_input_and_a_constant_output():
    x, y = t(XA), t(YA)
    j = AF.jacobian(lambda a, b: (a ** 2).sum(dim=0), (x, y))
    assert j[1].shape == (3, 3) and not arr(j[1]).any()
    assert_allclose(arr(j[0]), numeric_jacobian(lambda a, b: (a ** 2).sum(dim=0), (x, y))[0][0], atol=1e-8)
    j = AF.jacobian(lambda a: torch.ones(2, dtype=torch.float64), x)
    assert j.shape == (2, 2, 3) and not arr(j).any()
    # an empty output: an empty Jacobian (PyTorch's torch.stack raises on it instead)
    j = AF.jacobian(lambda b: b[:0] * 2, y)
    assert j.shape == (0, 3)


def test_jacobian_strict_raises_where_pytorch_does():
    x, y = t(XA), t(YA)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1"):
        AF.jacobian(lambda a, b: (a ** 2).sum(dim=0), (x, y), strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
        AF.jacobian(lambda a: torch.ones(2, dtype=torch.float64), x, strict=True)
    # a linear function: its Jacobian cannot depend on the input
    with pytest.raises(RuntimeError, match="independent of input 0.*when create_graph=True"):
        AF.jacobian(lambda a: 3 * a, y, strict=True, create_graph=True)
    assert_allclose(arr(AF.jacobian(lambda a: 3 * a, y, strict=True)), 3 * np.eye(3))
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True`"):
        AF.jacobian(lambda a: a.exp(), y, strict=True, vectorize=True)


def test_jacobian_forward_mode_and_vectorize_give_the_same_jacobian():
    def f(x, y):
        return (x @ y).tanh(), x.cos() * y

    x, y = t(XA), t(YA)
    rev = AF.jacobian(f, (x, y))
    for kw in (dict(strategy="forward-mode"), dict(vectorize=True), dict(strategy="forward-mode", vectorize=True)):
        other = AF.jacobian(f, (x, y), **kw)
        for i in range(2):
            for k in range(2):
                assert other[i][k].shape == rev[i][k].shape
                assert_allclose(arr(other[i][k]), arr(rev[i][k]), rtol=1e-12, atol=1e-14)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        AF.jacobian(f, (x, y), strategy="forward-mode", create_graph=True)
    with pytest.raises(RuntimeError, match='`strict=True` and `strategy="forward-mode"`'):
        AF.jacobian(f, (x, y), strategy="forward-mode", strict=True)
    with pytest.raises(AssertionError, match="Expected strategy"):
        AF.jacobian(f, (x, y), strategy="sideways")


def test_jacobian_create_graph_allows_a_further_backward():
    x = t(YA, requires_grad=True)
    jac = AF.jacobian(lambda a: a.exp() * a, x, create_graph=True)
    assert jac.requires_grad and jac.grad_fn is not None
    # J = diag((1 + x) e^x); d/dx sum(J) = (2 + x) e^x
    assert_allclose(arr(jac), np.diag((1 + YA) * np.exp(YA)), rtol=1e-12)
    (g,) = torch.autograd.grad(jac.sum(), x)
    assert_allclose(arr(g), (2 + YA) * np.exp(YA), rtol=1e-12)
    # without create_graph the result is detached even though x requires grad
    assert_detached(AF.jacobian(lambda a: a.exp() * a, x))
    assert x.grad is None


def test_inputs_are_new_tensors_distinct_from_the_ones_passed_in():
    # as PyTorch: func also reading the tensor passed in (captured) is not a use of the argument
    x = t(YA, requires_grad=True)
    assert_allclose(arr(AF.jacobian(lambda a: a * x, x)), np.diag(YA), rtol=1e-12)
    assert_allclose(arr(AF.jacobian(lambda a: a * x, x, create_graph=True)), np.diag(YA), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# hessian
# ---------------------------------------------------------------------------------------
def _f_xy(x, y):
    return (x.exp() * y).sum() + (y ** 4).sum()


def _hessian_xy(x, y):
    """Hand-derived blocks of _f_xy's Hessian, x of shape (2, 3), y of shape (3,)."""
    ex = np.exp(x)
    hxx = np.zeros((2, 3, 2, 3))
    hxy = np.zeros((2, 3, 3))
    for i in range(2):
        for j in range(3):
            hxx[i, j, i, j] = ex[i, j] * y[j]
            hxy[i, j, j] = ex[i, j]
    return ((hxx, hxy), (hxy.transpose(2, 0, 1), np.diag(12 * y ** 2)))


def test_hessian_tuple_inputs_matches_formula():
    h = AF.hessian(_f_xy, (t(XA), t(YA)))
    expected = _hessian_xy(XA, YA)
    assert isinstance(h, tuple) and all(isinstance(r, tuple) and len(r) == 2 for r in h)
    for i in range(2):
        for k in range(2):
            assert_detached(h[i][k])
            assert h[i][k].shape == expected[i][k].shape
            assert_allclose(arr(h[i][k]), expected[i][k], rtol=1e-12, atol=1e-12)


def test_hessian_single_input_and_forward_outer_strategy():
    h = AF.hessian(lambda a: (a ** 3).sum() + a[0] * a[1], t(YA))
    expected = np.diag(6 * YA)
    expected[0, 1] = expected[1, 0] = 1.0
    assert h.shape == (3, 3)
    assert_allclose(arr(h), expected, rtol=1e-12)
    h2 = AF.hessian(lambda a: (a ** 3).sum() + a[0] * a[1], t(YA), outer_jacobian_strategy="forward-mode")
    assert_allclose(arr(h2), expected, rtol=1e-12)
    # a 1-element (not 0-d) output is accepted and squeezed, as PyTorch does
    h3 = AF.hessian(lambda a: (a ** 3).sum().reshape(1), t(YA))
    assert h3.shape == (3, 3)
    assert_allclose(arr(h3), np.diag(6 * YA), rtol=1e-12)


def test_hessian_create_graph_gives_third_derivatives():
    x = t(YA, requires_grad=True)
    h = AF.hessian(lambda a: (a ** 4).sum(), x, create_graph=True)
    assert h.requires_grad
    assert_allclose(arr(h), np.diag(12 * YA ** 2), rtol=1e-12)
    (g,) = torch.autograd.grad(h.sum(), x)
    assert_allclose(arr(g), 24 * YA, rtol=1e-12)


def test_hessian_refuses_non_scalar_functions_and_strict_linear_ones():
    with pytest.raises(RuntimeError, match="should contain a single element"):
        AF.hessian(lambda a: a ** 2, t(YA))
    with pytest.raises(RuntimeError, match="should return a single Tensor"):
        AF.hessian(lambda a: ((a ** 2).sum(),), t(YA))
    f = lambda a, b: (2 * a).sum() + (b * b).sum()  # noqa: E731  (linear in a)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect to input 0"):
        AF.hessian(f, (t(YA), t(YA)), strict=True)
    h = AF.hessian(f, (t(YA), t(YA)))
    assert not arr(h[0][0]).any() and not arr(h[0][1]).any()
    assert_allclose(arr(h[1][1]), 2 * np.eye(3))


# ---------------------------------------------------------------------------------------
# vjp, jvp
# ---------------------------------------------------------------------------------------
def test_vjp_values_and_structure():
    x = XA
    v = np.array([0.5, -2.0])
    out, g = AF.vjp(lambda a: a.exp().sum(dim=1), t(x), t(v))
    assert_detached(out)
    assert_detached(g)
    assert_allclose(arr(out), np.exp(x).sum(1), rtol=1e-12)
    assert_allclose(arr(g), v[:, None] * np.exp(x), rtol=1e-12)
    # tuple of inputs, tuple of outputs: results shaped like the inputs
    vy = RNG.standard_normal(3)
    out, g = AF.vjp(lambda a, b: (2 * a + 3 * b, b.sin()), (t(YA), t(YA)), (t(vy), t(vy)))
    assert isinstance(out, tuple) and isinstance(g, tuple) and len(g) == 2
    assert_allclose(arr(g[0]), 2 * vy)
    assert_allclose(arr(g[1]), 3 * vy + np.cos(YA) * vy, rtol=1e-12)


def test_vjp_v_defaults_to_one_only_for_a_single_element_output():
    out, g = AF.vjp(lambda a: (a ** 2).sum(), t(YA))
    assert_allclose(arr(g), 2 * YA, rtol=1e-12)
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(lambda a: a ** 2, t(YA))


def test_vjp_strict_and_create_graph():
    x, y = t(YA, requires_grad=True), t(YA)
    _, g = AF.vjp(lambda a, b: (a ** 2).sum(), (x, y))
    assert not arr(g[1]).any() and g[1].shape == (3,)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda a, b: (a ** 2).sum(), (x, y), strict=True)
    # linear: v^T J cannot depend on the input, which strict refuses when a graph is wanted
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function is independent of input 0. "
                                           "This is not allowed in strict mode when create_graph=True"):
        AF.vjp(lambda a: 3 * a, x, t(YA), strict=True, create_graph=True)
    assert_allclose(arr(AF.vjp(lambda a: 3 * a, x, t(YA), strict=True)[1]), 3 * YA)
    out, g = AF.vjp(lambda a: (a ** 3).sum(), x, create_graph=True)
    assert out.requires_grad and g.requires_grad
    (gg,) = torch.autograd.grad(g.sum(), x)  # d/dx sum(3 x^2) = 6 x
    assert_allclose(arr(gg), 6 * YA, rtol=1e-12)


def test_jvp_values_structure_and_default_v():
    x, v = XA, RNG.standard_normal((2, 3))
    out, jv = AF.jvp(lambda a: a.exp().sum(dim=1), t(x), t(v))
    assert_detached(jv)
    assert jv.shape == (2,)
    assert_allclose(arr(jv), (np.exp(x) * v).sum(1), rtol=1e-12)
    # several outputs: jvp shaped like the outputs; several inputs: v a tuple
    vy = RNG.standard_normal(3)
    out, jv = AF.jvp(lambda a, b: (a * b, (a ** 2).sum()), (t(YA), t(YA)), (t(vy), t(vy)))
    assert isinstance(jv, tuple) and jv[0].shape == (3,) and jv[1].shape == ()
    assert_allclose(arr(jv[0]), 2 * YA * vy, rtol=1e-12)
    assert_allclose(float(arr(jv[1])), float(2 * YA @ vy), rtol=1e-12)
    # a single-element input needs no v
    _, jv = AF.jvp(lambda a: a ** 2, t(3.0))
    assert_allclose(float(arr(jv)), 6.0)


def test_jvp_matches_the_jacobian_and_finite_differences():
    def f(x, y):
        return (x @ y).tanh(), x.cos() * y

    vx, vy = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    _, jv = AF.jvp(f, (t(XA), t(YA)), (t(vx), t(vy)))
    num = numeric_jacobian(f, (t(XA), t(YA)))
    for i in range(2):
        expected = np.tensordot(num[i][0], vx, 2) + np.tensordot(num[i][1], vy, 1)
        assert_allclose(arr(jv[i]), expected, rtol=1e-6, atol=1e-8)


def test_jvp_strict_independent_input_and_create_graph():
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jvp(lambda a, b: a.exp(), (t(YA), t(YA)), (t(YA), t(YA)), strict=True)
    _, jv = AF.jvp(lambda a, b: (a.exp(), b.floor()), (t(YA), t(YA)), (t(YA), t(YA)))
    assert not arr(jv[1]).any()  # floor: derivative zero
    x, v = t(YA, requires_grad=True), t(np.ones(3), requires_grad=True)
    _, jv = AF.jvp(lambda a: a.exp(), x, v, create_graph=True)
    assert jv.requires_grad
    gx, gv = torch.autograd.grad(jv.sum(), (x, v))  # jv = e^x * v
    assert_allclose(arr(gx), np.exp(YA), rtol=1e-12)
    assert_allclose(arr(gv), np.exp(YA), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# hvp, vhp
# ---------------------------------------------------------------------------------------
def test_hvp_and_vhp_match_the_hand_derived_hessian():
    vx, vy = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    (hxx, hxy), (hyx, hyy) = _hessian_xy(XA, YA)
    expected_x = np.tensordot(hxx, vx, 2) + np.tensordot(hxy, vy, 1)
    expected_y = np.tensordot(hyx, vx, 2) + np.tensordot(hyy, vy, 1)
    for fn in (AF.hvp, AF.vhp):
        out, hv = fn(_f_xy, (t(XA), t(YA)), (t(vx), t(vy)))
        assert_detached(out)
        assert_allclose(float(arr(out)), float(arr(_f_xy(t(XA), t(YA)))), rtol=1e-12)
        assert isinstance(hv, tuple) and hv[0].shape == (2, 3) and hv[1].shape == (3,)
        assert_allclose(arr(hv[0]), expected_x, rtol=1e-10, atol=1e-12)
        assert_allclose(arr(hv[1]), expected_y, rtol=1e-10, atol=1e-12)


def test_hvp_and_vhp_single_input_default_v_and_errors():
    for fn in (AF.hvp, AF.vhp):
        _, hv = fn(lambda a: a ** 4, t(2.0))
        assert_allclose(float(arr(hv)), 48.0)
        with pytest.raises(RuntimeError, match="v can only be None"):
            fn(lambda a: (a ** 4).sum(), t(YA))
        with pytest.raises(RuntimeError, match=r"v has invalid size: should be \(3,\) but got \(2,\)"):
            fn(lambda a: (a ** 4).sum(), t(YA), t([1.0, 2.0]))
        with pytest.raises(RuntimeError, match="should return a single Tensor"):
            fn(lambda a: ((a ** 4).sum(), a), t(YA), t(YA))
        with pytest.raises(RuntimeError, match="should contain a single element"):
            fn(lambda a: a ** 4, t(YA), t(YA))


def test_hvp_vhp_strict_and_create_graph():
    f = lambda a, b: (a ** 3).sum() + b.sum()  # noqa: E731  (linear in b)
    for fn in (AF.hvp, AF.vhp):
        with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect to input 1"):
            fn(f, (t(YA), t(YA)), (t(YA), t(YA)), strict=True)
        _, hv = fn(f, (t(YA), t(YA)), (t(YA), t(YA)))
        assert_allclose(arr(hv[0]), 6 * YA * YA, rtol=1e-12)
        assert hv[1].shape == (3,) and not arr(hv[1]).any()
        x, v = t(YA, requires_grad=True), t(np.ones(3))
        _, hv = fn(lambda a: (a ** 3).sum(), x, v, create_graph=True)  # H v = 6 x v
        assert hv.requires_grad
        (g,) = torch.autograd.grad(hv.sum(), x)
        assert_allclose(arr(g), 6 * np.ones(3), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# argument checks and grad mode
# ---------------------------------------------------------------------------------------
def test_argument_errors():
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors but the given inputs"):
        AF.jacobian(lambda a: a * 2, YA)
    with pytest.raises(TypeError, match="value at index 1 has type <class 'float'>"):
        AF.jacobian(lambda a, b: a * b, (t(YA), 2.0))
    with pytest.raises(TypeError, match="outputs of the user-provided function"):
        AF.jacobian(lambda a: [a * 2], t(YA))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got 1"):
        AF.vjp(lambda a: (a * 2, a), t(YA), (t(YA),))
    with pytest.raises(RuntimeError, match=r"Entry 1 in v has invalid size: should be \(3,\) but got \(2,\)"):
        AF.jvp(lambda a, b: a * b, (t(YA), t(YA)), (t(YA), t([1.0, 2.0])))


def test_works_under_no_grad_and_restores_the_mode():
    x = t(YA, requires_grad=True)
    with torch.no_grad():
        j = AF.jacobian(lambda a: a.exp(), x)
        _, g = AF.vjp(lambda a: (a ** 2).sum(), x, create_graph=True)
        assert not torch.is_grad_enabled()
    assert_allclose(arr(j), np.diag(np.exp(YA)), rtol=1e-12)
    assert_allclose(arr(g), 2 * YA, rtol=1e-12)
    assert g.requires_grad  # create_graph asked for a graph, as in PyTorch


# ---------------------------------------------------------------------------------------
# gradcheck, gradgradcheck
# ---------------------------------------------------------------------------------------
class _WrongGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.exp()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.exp() * 1.01  # 1% off


class _DetachedSecond(torch.autograd.Function):
    """Right first derivative, wrong second: its backward hides x from differentiation."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x.detach() ** 2


def test_gradcheck_passes_right_gradients_and_catches_wrong_ones():
    x, y = t(YA, requires_grad=True), t(YA, requires_grad=True)
    assert AF.gradcheck(lambda a, b: (a.sin() * b, a @ b), (x, y)) is True
    # a tensor that does not require grad and a Python number are constants
    assert AF.gradcheck(lambda a, b, s: a.sin() * b * s, (x, t(YA), 2.0)) is True
    with pytest.raises(AF.GradcheckError, match="argument 0") as info:
        AF.gradcheck(_WrongGrad.apply, (x,))
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, AssertionError)
    assert AF.gradcheck(_WrongGrad.apply, x, raise_exception=False) is False
    assert AF.gradcheck(_WrongGrad.apply, x, fast_mode=True, raise_exception=False) is False
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        AF.gradcheck(lambda a: a.sin(), (t(YA),))


def test_gradcheck_warns_for_single_precision_inputs():
    x = torch.tensor(YA, dtype=torch.float32, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert AF.gradcheck(lambda a: a.sin(), (x,), atol=1e-3, rtol=1e-2) is True
    assert any("Input #0 requires gradient and is not a double precision" in str(w.message) for w in caught)


def test_gradgradcheck_checks_second_derivatives():
    x, y = t(YA, requires_grad=True), t(YA, requires_grad=True)
    assert AF.gradgradcheck(lambda a, b: (a.sin() * b).sum() * a, (x, y)) is True
    assert AF.gradgradcheck(lambda a: a ** 3, (x,), (t(YA),)) is True
    # first order right, second wrong: gradcheck passes, gradgradcheck does not
    assert AF.gradcheck(_DetachedSecond.apply, (x,)) is True
    assert AF.gradgradcheck(_DetachedSecond.apply, (x,), raise_exception=False) is False
    with pytest.raises(AF.GradcheckError):
        AF.gradgradcheck(_DetachedSecond.apply, (x,))


# ---------------------------------------------------------------------------------------
# anomaly mode
# ---------------------------------------------------------------------------------------
def test_anomaly_switches_set_and_restore_the_flag():
    assert not AF.is_anomaly_enabled()
    with AF.detect_anomaly(check_nan=False):
        assert AF.is_anomaly_enabled() and not AF.is_anomaly_check_nan_enabled()
        x = t(YA, requires_grad=True)
        (x.exp() * 2).sum().backward()  # a backward runs as usual inside
        assert_allclose(arr(x.grad), 2 * np.exp(YA), rtol=1e-12)
    assert not AF.is_anomaly_enabled() and AF.is_anomaly_check_nan_enabled()
    mode = AF.set_detect_anomaly(True)  # takes effect when called, as PyTorch's
    assert AF.is_anomaly_enabled()
    with mode:
        pass
    assert not AF.is_anomaly_enabled()


def test_backward_errors_name_the_users_line_without_anomaly_mode():
    # what PyTorch's anomaly mode adds (the forward line of a failing backward), srcgrad
    # reports always
    x = t(YA, requires_grad=True)
    y = x.exp()
    z = y * 2
    y.add_(1)
    with pytest.raises(RuntimeError, match=rf"modified by an inplace operation.*recorded at {THIS_FILE}:\d+"):
        z.sum().backward()
