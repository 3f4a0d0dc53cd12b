"""PyTorch's spellings: top-level functions and tensor methods over the same op table."""
import numpy as np
import pytest

import srcgrad as torch
from srcgrad.testing import gradcheck

X = np.array([[1.0, 2.2], [3.0, 4.0]])


@pytest.mark.parametrize("name, f", [
    ("gather", lambda x: torch.gather(x, 1, torch.tensor([[0, 0], [1, 0]]))),
    ("masked_fill", lambda x: torch.masked_fill(x, x > 2.5, 0.0)),
    ("index_select", lambda x: x.index_select(0, torch.tensor([1, 1, 0]))),
    ("clamp", lambda x: torch.clamp(x, 1.5, 3.5)),
    ("addmm", lambda x: torch.addmm(x, x, x, beta=0.5, alpha=2.0)),
    ("rsqrt", lambda x: x.rsqrt()),
    ("lerp", lambda x: x.lerp(x * x, 0.3)),
    ("log1p+expm1", lambda x: torch.log1p(x) + (x / 10).expm1()),
    ("pow", lambda x: torch.pow(x, 3) + torch.pow(2.0, x)),
    ("maximum", lambda x: torch.maximum(x, x.t())),
    ("atan2", lambda x: torch.atan2(x, x.t() + 1)),
    ("transpose/reshape", lambda x: torch.reshape(torch.transpose(x, 0, 1), (4,)) * torch.arange(4.0)),
    ("dist", lambda x: torch.dist(x, x * x)),
    ("det/inverse", lambda x: torch.det(x) + torch.inverse(x).sum()),
])
def test_torch_spellings_have_right_gradients(name, f):
    gradcheck(f, X)


def test_methods_and_functions_agree():
    x = torch.tensor(X)
    for n in ("square", "reciprocal", "exp2", "log2", "log10", "sinh", "cosh", "tan", "erf", "floor",
              "ceil", "asin", "acos", "atan"):
        arg = x / 10 if n in ("asin", "acos") else x
        np.testing.assert_allclose(getattr(arg, n)().numpy(), getattr(torch, n)(arg).numpy())


def test_rounding_results_require_grad_with_a_zero_gradient():
    x = torch.tensor([1.5, -2.3], requires_grad=True)
    y = x.floor()
    assert y.requires_grad
    (y.sum() + x.round().sum() + x.ceil().sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_activation_kinks_match_pytorch():
    import srcgrad.nn.functional as F
    x = torch.tensor([0.0, 6.0, -1.0, 3.0], requires_grad=True)
    F.elu(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, np.exp(-1.0), 1.0])
    x.grad = None
    F.relu6(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 1.0])


def test_trace_mod_and_floordiv():
    x = torch.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    t = torch.trace(x)
    t.backward()
    assert t.item() == 12.0 and np.array_equal(x.grad.numpy(), np.eye(3))
    y = torch.tensor([5.5, -3.25], requires_grad=True)
    ((y % 2.0) * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [2 * 5.5 - 4.0, 2 * -3.25 + 4.0])
    np.testing.assert_array_equal((y // 2).numpy(), [2.0, -2.0])
    np.testing.assert_array_equal((torch.tensor([1.0]) // 0.1).numpy(), [9.0])  # as numpy and Python


def test_scalar_tensors_through_erf_gelu_and_norm_over_dim():
    import srcgrad.nn.functional as F
    x = torch.tensor(-0.5, requires_grad=True, dtype=torch.float64)
    y = x.norm(dim=0) + x.erf() + F.gelu(x) + x.norm(1, dim=-1)
    y.backward()
    assert y.shape == () and x.grad.shape == ()
    h = 1e-6

    def f(v):
        from math import erf, sqrt
        return 2 * abs(v) + erf(v) + 0.5 * v * (1 + erf(v / sqrt(2)))
    assert x.grad.item() == pytest.approx((f(-0.5 + h) - f(-0.5 - h)) / (2 * h), rel=1e-6)


def test_derivatives_sympy_writes_with_dirac_or_a_folded_division_by_zero():
    """d2/dx2 sqrt(x**2) (sympy: |x|, sign, DiracDelta) is 0 away from 0; the variance of
    one element is 0/0: NaN, as PyTorch, never a code-printing error."""
    x = torch.tensor([1.5, -2.0], requires_grad=True, dtype=torch.float64)
    (g,) = torch.autograd.grad((x ** 2).sqrt().sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    y = torch.tensor([3.0], requires_grad=True, dtype=torch.float64)
    with np.errstate(invalid="ignore"):  # (numpy warns of the 0/0, as PyTorch does)
        y.var().backward()
    assert np.isnan(y.grad.numpy()).all()


@pytest.mark.parametrize("make", [lambda y: (y * 0).exp2(), lambda y: (y - y).clamp(-1, 1),
                                  lambda y: torch.nn.functional.softplus(y * 0)])
def test_functions_of_constants_sympy_cannot_evaluate_are_folded(make):
    """exp2(0), clip(0, -1, 1), softplus(0): numbers in the kernel, in the arrays' dtype."""
    for dtype in (np.float32, np.float64):
        x = torch.tensor(np.ones(2, dtype), requires_grad=True)
        y = torch.tensor(np.ones(2, dtype), requires_grad=True)
        out = x * make(y)
        out.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), out.detach().numpy(), rtol=1e-6)
        assert x.grad.dtype == dtype


def test_infinity_norms():
    """x.norm(inf) is max |x| (min for -inf), over all entries or a dim; ties share the
    gradient, as PyTorch's."""
    x = torch.tensor([[1.0, -3.0], [3.0, 0.5]], dtype=torch.float64, requires_grad=True)
    y = x.norm(float("inf")) + x.norm(float("-inf"), dim=1).sum() + x.norm(float("inf"), dim=0, keepdim=True).sum()
    y.backward()
    assert y.item() == pytest.approx(3.0 + (1.0 + 0.5) + (3.0 + 3.0))
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.5], [1.5, 1.0]])


def test_mixed_precision_in_place_and_clamp_bounds():
    """v *= x keeps v's dtype (x is cast, and its gradient cast back); a float64 0-d bound
    promotes a float32 clamp as numpy does — neither an internal error at backward."""
    v = torch.ones(3)
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    v *= x
    v.sum().backward()
    assert v.dtype == np.float32 and x.grad.dtype == np.float64 and x.grad.item() == 3.0
    a = torch.tensor(1.17, dtype=torch.float32, requires_grad=True)
    m = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    y = torch.clamp(a, max=m)
    y.sum().backward()
    assert (a.grad.item(), m.grad.item()) == (0.0, 1.0)


def test_a_scalar_boolean_index():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    a, b = x[torch.tensor(True)], x[np.bool_(False)]
    assert a.shape == (1, 2, 2) and b.shape == (0, 2, 2)
    (a.sum() * 2 + b.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 2.0))


def test_integer_results_never_require_grad():
    x = torch.tensor([1.5, -2.5], requires_grad=True)
    assert not x.long().requires_grad and not x.int().requires_grad
    assert x.round().requires_grad  # (a float result: a zero gradient)
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.long().float().sum().backward()
