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
    q = y // 2  # a step function: differentiable, with a zero gradient (PyTorch)
    assert q.requires_grad
    np.testing.assert_array_equal(q.detach().numpy(), [2.0, -2.0])
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


# -- PyTorch's wider vocabulary (srcgrad/surface.py) --------------------------------------------
A = np.array([[0.7, -1.3, 2.2], [1.9, 0.4, -0.6]])
B = np.array([[1.1, 0.5, -2.0], [0.3, -1.7, 0.9]])


@pytest.mark.parametrize("name, f", [
    ("hypot", lambda a, b: torch.hypot(a, b)),
    ("logaddexp", lambda a, b: torch.logaddexp(a, b) + a.logaddexp2(b)),
    ("remainder/fmod", lambda a, b: torch.remainder(a, 0.61) * b + torch.fmod(b, 0.8) * a),
    ("addcmul/addcdiv", lambda a, b: torch.addcmul(a, a, b, value=0.5) + torch.addcdiv(b, a, b + 3, value=2)),
    ("xlogy/logit", lambda a, b: torch.xlogy(a, b.abs() + 0.1) + torch.logit(a.sigmoid(), eps=1e-6)),
    ("frac/erfc/asinh", lambda a, b: torch.frac(a * 3) * b + torch.erfc(a) + a.asinh()),
    ("topk", lambda a, b: torch.topk(a * b, 2, dim=1).values * 2),
    ("median/kthvalue", lambda a, b: torch.median(a) + torch.median(b, 1).values.sum()
     + torch.kthvalue(a, 2, 0).values.sum()),
    ("cummax/logcumsumexp", lambda a, b: torch.cummax(a, 1).values * b + torch.logcumsumexp(b, 1)),
    ("diff/cdist", lambda a, b: torch.diff(a, dim=1).sum() + torch.cdist(a, b).sum()),
    ("take_along_dim/select", lambda a, b: torch.take_along_dim(a, torch.tensor([[2, 0], [1, 1]]), 1)
     + torch.select(b, 1, 2)[:, None]),
    ("scatter/index_add", lambda a, b: torch.scatter(a, 1, torch.tensor([[2, 0], [1, 0]]), b)
     + torch.index_add(a, 1, torch.tensor([0, 0, 2]), b, alpha=2)),
    ("diag_embed/block_diag", lambda a, b: torch.diag_embed(a).sum(0) * b[0] + torch.block_diag(a, b).sum(1)[0]),
    ("masked_select", lambda a, b: torch.masked_select(a * b, torch.tensor([True, False, True]))),
    ("tensor_split/unflatten", lambda a, b: torch.tensor_split(a, [1], dim=1)[1].unflatten(1, (2, 1)).sum()
     * torch.hstack([a, b]).sum()),
    ("std_mean/var_mean", lambda a, b: torch.std_mean(a, 1)[0] * torch.var_mean(b, 1)[1]),
    # (exp_ first would be PyTorch's error: its node keeps its result, which clamp_ changes)
    ("in place", lambda a, b: (a * 1).clamp_(0.5, 5).addcmul_(a, b).exp_().sigmoid()),
])
def test_wider_vocabulary_has_right_gradients(name, f):
    gradcheck(f, A, B)


def test_wider_vocabulary_values_follow_pytorchs_definitions():
    a, b = torch.tensor(A), torch.tensor(B)
    v, i = torch.topk(a, 2)
    np.testing.assert_array_equal(v.numpy(), [[2.2, 0.7], [1.9, 0.4]])
    np.testing.assert_array_equal(i.numpy(), [[2, 0], [0, 1]])
    assert torch.median(torch.tensor([4.0, 1.0, 3.0, 2.0])).item() == 2.0  # the lower middle value
    m = torch.median(a, 1)
    np.testing.assert_array_equal(m.values.numpy(), [0.7, 0.4])
    np.testing.assert_array_equal(m.indices.numpy(), [0, 1])
    cm = torch.cummax(torch.tensor([1.0, 3.0, 2.0, 3.0]), 0)
    np.testing.assert_array_equal(cm.values.numpy(), [1, 3, 3, 3])
    np.testing.assert_array_equal(cm.indices.numpy(), [0, 1, 1, 3])  # the last position attaining it
    q = torch.div(torch.tensor([-7, 7]), 2, rounding_mode="trunc")
    assert q.dtype == np.int64 and q.tolist() == [-3, 3]
    assert torch.div(torch.tensor([-7.0]), 2, rounding_mode="floor").tolist() == [-4.0]
    assert torch.add(a, b, alpha=2).allclose(a + 2 * b) and a.sub(b, alpha=3).allclose(a - 3 * b)
    np.testing.assert_array_equal(torch.scatter(torch.zeros(2, 3), 1, torch.tensor([[2], [0]]),
                                                torch.tensor([[5.0], [6.0]])).numpy(), [[0, 0, 5], [6, 0, 0]])
    np.testing.assert_array_equal(torch.index_add(torch.zeros(3), 0, torch.tensor([0, 0, 2]),
                                                  torch.tensor([1.0, 2.0, 3.0])).numpy(), [3, 0, 3])
    g = torch.meshgrid(torch.arange(2), torch.arange(3))
    assert g[0].shape == (2, 3)  # "ij" indexing, PyTorch's default
    assert torch.tril_indices(3, 3).tolist() == [[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]]
    assert torch.searchsorted(torch.tensor([1.0, 3.0, 5.0]), torch.tensor([3.0, 4.0])).tolist() == [1, 2]
    assert torch.equal(a, torch.tensor(A)) and not torch.equal(a, b)
    np.testing.assert_array_equal(torch.nan_to_num(torch.tensor([np.nan, np.inf, -1.0]), nan=7.0,
                                                   posinf=9.0).numpy(), [7.0, 9.0, -1.0])
    assert torch.randint(10, (4,)).shape == (4,) and sorted(torch.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    assert f"{torch.tensor(1.23456):.2f}" == "1.23"
    assert torch.finfo().eps == np.finfo(np.float32).eps


def test_tensor_conveniences_of_pytorch():
    x = torch.tensor(A, requires_grad=True)
    assert x.new_zeros(2, 3).dtype == x.dtype and x.new_full((2,), 3.0).tolist() == [3.0, 3.0]
    assert not x.new_ones(1).requires_grad and x.new_tensor([1, 2]).dtype == x.dtype
    assert x.element_size() == 8 and x.nelement() == 6 and x.cpu() is x
    t = x.t()
    assert not t.is_contiguous() and t.contiguous().is_contiguous()
    assert x.view_as(torch.zeros(3, 2)).shape == (3, 2) and x.expand_as(torch.zeros(4, 2, 3)).shape == (4, 2, 3)
    assert x.type_as(torch.zeros(1, dtype=torch.float32)).dtype == np.float32
    np.testing.assert_array_equal(x.where(x > 0, 0.0).detach().numpy(), np.where(A > 0, A, 0.0))
    assert torch.where(torch.tensor([0, 2, 3]))[0].tolist() == [1, 2]


def test_in_place_forms_take_the_results_history():
    x = torch.tensor([0.2, -1.0, 2.0], requires_grad=True)
    y = x * 2
    y.clamp_(max=1.0).exp_()  # (exp_ then clamp_ is PyTorch's error: exp's node keeps y)
    y.sum().backward()
    expected = np.where(2 * x.detach().numpy() < 1, 2 * np.exp(2 * x.detach().numpy()), 0.0)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.exp_()
    z = x * 1
    z.zero_()  # a non-leaf may be zeroed: its old value's gradient is zero
    assert z.requires_grad and z.sum().item() == 0.0
    w = torch.ones(3, 3)
    torch.manual_seed(0)
    w.uniform_(-1, 1)
    assert (w.abs() <= 1).all() and w.std().item() > 0
    w.fill_diagonal_(0.0)
    assert w.diagonal().tolist() == [0.0, 0.0, 0.0]


def test_softmax_and_logsumexp_over_no_entries():
    """PyTorch: an empty softmax is empty, a logsumexp over nothing is -inf (was an error
    from the maximum that shifts them)."""
    e = torch.zeros(2, 0, requires_grad=True)
    assert torch.softmax(e, -1).shape == (2, 0) and torch.log_softmax(e, 0).shape == (2, 0)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(torch.logsumexp(e, -1).detach().numpy(), [-np.inf, -np.inf])


def test_topk_and_cummax_are_recomputed_by_a_compiled_function():
    """Their positions are ops, so a compiled function selects anew for new data; reading
    values in Python (unique) is refused there instead of frozen."""
    def f(x):
        v, _ = torch.topk(x, 2)
        m, _ = torch.cummax(x, 0)
        return (v * np.array([1.0, 10.0])).sum() + m.sum()
    g = torch.grad(f)
    np.testing.assert_array_equal(g(np.array([1.0, 5.0, 3.0])), [1.0, 3.0, 10.0])
    np.testing.assert_array_equal(g(np.array([9.0, 5.0, 3.0])), [4.0, 10.0, 0.0])
    with pytest.raises(torch.TraceError, match="unique"):
        torch.grad(lambda x: torch.unique(x).sum() * x.sum())(np.array([1.0, 2.0]))


def test_integers_beside_index_arrays_follow_pytorchs_rule():
    """x[0, :, idx] is x[0][:, idx] in PyTorch (numpy moves the indexed axes to the front,
    shape (2, 3) here); in numpy code inside a compiled function numpy's rule stays."""
    a = np.arange(24.0).reshape(2, 3, 4)
    x = torch.tensor(a, requires_grad=True)
    y = x[0, :, [1, 2]]
    assert y.shape == (3, 2)
    np.testing.assert_array_equal(y.detach().numpy(), a[0][:, [1, 2]])
    assert x[:, 0, [1, 3]].shape == (2, 2) and x[..., 0, [1, 2]].shape == (2, 2)
    z = x * 1
    z[0, :, [1, 2]] = 0.0
    z.sum().backward()
    expected = np.ones_like(a)
    expected[0][:, [1, 2]] = 0.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    seen = {}

    def f(v):
        seen["shape"] = v[0, :, [1, 2]].shape
        return np.sum(v[0, :, [1, 2]] ** 2)
    torch.grad(f)(a)
    assert seen["shape"] == (2, 3)  # numpy's


# ---------------------------------------------------------------------------------------
# PyTorch's values at the edges: infinities, NaN, the origin
# ---------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's, on inf - inf and 0 ** -0.5)
def test_softmax_of_a_slice_holding_inf_is_nan_as_pytorch():
    x = torch.tensor([[1.0, float("inf"), 2.0], [1.0, 2.0, 3.0]], dtype=torch.float64)
    for f in (lambda t: t.softmax(1), lambda t: t.log_softmax(1)):
        y = f(x).numpy()
        assert np.isnan(y[0]).all() and np.isfinite(y[1]).all()
    assert torch.logsumexp(x, 1)[0].item() == float("inf")  # (its inf is a value, not NaN)


def test_atan2_has_a_zero_gradient_at_the_origin():
    y = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    torch.atan2(y, x).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [0.0, 0.5])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, -0.5])


@pytest.mark.parametrize("name, a_grad, b_grad", [("maximum", [1.0, 0.0, 0.5], [1.0, 1.0, 0.5]),
                                                   ("minimum", [1.0, 1.0, 0.5], [1.0, 0.0, 0.5])])
def test_maximum_and_minimum_give_both_operands_the_gradient_at_nan(name, a_grad, b_grad):
    a = torch.tensor([float("nan"), 1.0, 4.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([2.0, 3.0, 4.0], dtype=torch.float64, requires_grad=True)
    getattr(torch, name)(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), a_grad)
    np.testing.assert_array_equal(b.grad.numpy(), b_grad)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's, on inf - inf and 0 ** -0.5)
def test_power_of_zero_in_the_exponent_below_zero_is_minus_inf():
    y = torch.tensor([0.0, 0.5, -0.5], dtype=torch.float64, requires_grad=True)
    (0 ** y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0, -np.inf])


@pytest.mark.parametrize("name", ["leaky_relu", "hardtanh", "relu6"])
def test_piecewise_linear_activations_keep_the_input_under_create_graph(name):
    import srcgrad.nn.functional as F
    x = torch.tensor([1.0, -2.0, 7.0], requires_grad=True)
    (g,) = torch.autograd.grad(getattr(F, name)(x).sum(), [x], create_graph=True)
    assert g.requires_grad  # PyTorch's backward node reads x
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_composite_functions_have_pytorchs_node_names():
    # srcgrad computes these with several ops; their result's grad_fn is named as the one
    # node PyTorch records (what printing a tensor shows)
    import srcgrad as torch
    import srcgrad.nn.functional as F
    x = torch.randn(4, 3, requires_grad=True)
    target = torch.tensor([0, 2, 1, 0])
    lin = torch.nn.Linear(3, 2)
    cases = {
        "AddmmBackward0": lin(x), "SoftmaxBackward0": x.softmax(1), "LogSoftmaxBackward0": F.log_softmax(x, 1),
        "NllLossBackward0": F.cross_entropy(x, target), "MseLossBackward0": F.mse_loss(x, torch.zeros(4, 3)),
        "BinaryCrossEntropyWithLogitsBackward0": F.binary_cross_entropy_with_logits(x, torch.ones(4, 3)),
        "NativeLayerNormBackward0": F.layer_norm(x, (3,)), "SqueezeBackward1": x[:1].squeeze(0),
        "UnsqueezeBackward0": x.unsqueeze(0), "StackBackward0": torch.stack([x, x]),
        "ClampBackward1": x.clamp(-0.5, 0.5), "ClampMinBackward0": x.clamp_min(0),
        "SumBackward1": x.sum(1), "MeanBackward1": x.mean(0), "SumBackward0": x.sum(),
        "BmmBackward0": torch.bmm(x.unsqueeze(0), x.t().unsqueeze(0)),
    }
    for name, t in cases.items():
        assert type(t.grad_fn).__name__ == name
        assert f"grad_fn=<{name}>" in str(t)
    cases["NllLossBackward0"].backward()  # (the ops inside are srcgrad's, differentiated as ever)
    assert x.grad is not None and x.grad.shape == (4, 3)


def test_shapes_are_torch_sizes_outside_numpy_code():
    x = torch.zeros(2, 3, 4)
    s = x.shape
    assert repr(s) == str(s) == "torch.Size([2, 3, 4])" and repr(x.size()) == "torch.Size([2, 3, 4])"
    assert repr(s[1:]) == "torch.Size([3, 4])" and repr(s + (1,)) == "torch.Size([2, 3, 4, 1])"
    assert s == (2, 3, 4) and s.numel() == 24 and x.size(1) == 3 and repr(torch.zeros(()).shape) == "torch.Size([])"
    assert x.view(torch.Size([6, 4])).shape == (6, 4)
    import pickle
    assert repr(pickle.loads(pickle.dumps(s))) == "torch.Size([2, 3, 4])"
    seen = []
    torch.grad(lambda a: seen.append(repr(a.shape)) or np.sum(a))(np.ones(3))
    assert seen == ["(3,)"]  # (numpy code: numpy's tuple)


def test_a_dataloader_batches_shuffles_and_collates():
    from srcgrad.utils.data import DataLoader, TensorDataset, random_split
    X, y = torch.arange(14.0).reshape(7, 2), torch.arange(7)
    batches = list(DataLoader(TensorDataset(X, y), batch_size=3))
    assert [tuple(b[0].shape) for b in batches] == [(3, 2), (3, 2), (1, 2)]
    assert batches[2][1].tolist() == [6] and batches[0][0].tolist() == [[0, 1], [2, 3], [4, 5]]
    loader = DataLoader(TensorDataset(X, y), batch_size=3, shuffle=True, drop_last=True)
    assert len(loader) == 2
    torch.manual_seed(0)
    first = [b[1].tolist() for b in loader]
    torch.manual_seed(0)
    assert [b[1].tolist() for b in loader] == first  # (seeded: the same order again)
    orders = {tuple(sum((b[1].tolist() for b in loader), [])) for _ in range(5)}
    assert len(orders) > 1 and all(len(set(o)) == 6 for o in orders)  # (a new order per pass)
    dicts = list(DataLoader([{"a": 1.0, "b": np.ones(2)}, {"a": 2.0, "b": np.zeros(2)}], batch_size=2))
    assert dicts[0]["a"].tolist() == [1.0, 2.0] and tuple(dicts[0]["b"].shape) == (2, 2)
    parts = random_split(TensorDataset(X, y), [0.5, 0.5])
    assert [len(p) for p in parts] == [4, 3]
    assert sorted(int(p[i][1]) for p in parts for i in range(len(p))) == list(range(7))


def test_save_and_load_a_state_dict_and_a_checkpoint(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = tmp_path / "ckpt.pt"
    torch.save({"model": model.state_dict(), "epoch": 4}, path)
    other = torch.nn.Linear(3, 2)
    ckpt = torch.load(path, map_location="cpu")
    other.load_state_dict(ckpt["model"])
    assert ckpt["epoch"] == 4 and np.array_equal(other.weight.detach().numpy(), model.weight.detach().numpy())
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    import io
    buffer = io.BytesIO()
    torch.save(w, buffer)
    back = torch.load(io.BytesIO(buffer.getvalue()))
    assert back.requires_grad and back.tolist() == [1.0, 2.0]


# PyTorch 2.13's node names for calls srcgrad computes as several ops (recorded from it)
F = torch.nn.functional
_X = np.array([[0.5, -1.2, 2.0, 0.3], [-0.3, 0.8, -2.5, 1.1]])
_NODE_NAMES = [
    (lambda x: F.gelu(x), "GeluBackward0"), (lambda x: F.softplus(x), "SoftplusBackward0"),
    (lambda x: F.leaky_relu(x), "LeakyReluBackward0"), (lambda x: F.selu(x), "EluBackward0"),
    (lambda x: F.relu6(x), "HardtanhBackward0"), (lambda x: F.glu(x), "GluBackward0"),
    (lambda x: F.smooth_l1_loss(x, torch.zeros(2, 4)), "SmoothL1LossBackward0"),
    (lambda x: F.batch_norm(x, None, None, training=True), "NativeBatchNormBackward0"),
    (lambda x: F.pad(x, (1, 1)), "ConstantPadNdBackward0"),
    (lambda x: F.pad(x.reshape(1, 2, 4), (1, 1), mode="reflect"), "ReflectionPad1DBackward0"),
    (lambda x: torch.logsumexp(x, 1), "LogsumexpBackward0"), (lambda x: x.std(), "StdBackward0"),
    (lambda x: x.max(), "MaxBackward1"), (lambda x: x.max(1)[0], "MaxBackward0"),
    (lambda x: torch.sort(x, 1)[0], "SortBackward0"), (lambda x: torch.split(x, 2, 1)[1], "SplitBackward0"),
    (lambda x: x.transpose(0, 1), "TransposeBackward0"), (lambda x: x.norm(), "LinalgVectorNormBackward0"),
    (lambda x: x.clamp(min=0), "ClampBackward1"), (lambda x: x.clamp_min(0), "ClampMinBackward0"),
    (lambda x: x.clamp(torch.zeros(4)), "ClampBackward0"), (lambda x: x.flip(0), "FlipBackward0"),
    (lambda x: x.prod(), "ProdBackward0"), (lambda x: x.prod(1), "ProdBackward1"),
    (lambda x: torch.split(x, [3, 1], 1)[0], "SplitWithSizesBackward0"),
    (lambda x: F.max_pool1d(x.reshape(1, 2, 4), 2), "SqueezeBackward1"),
    # indexing: the last basic item that acts names the node; index tensors make IndexBackward0
    (lambda x: x[0], "SelectBackward0"), (lambda x: x[1:], "SliceBackward0"), (lambda x: x[:], "SliceBackward0"),
    (lambda x: x[...], "AliasBackward0"), (lambda x: x[None], "UnsqueezeBackward0"),
    (lambda x: x[1:, 0], "SelectBackward0"), (lambda x: x[0, 1:], "SliceBackward0"),
    (lambda x: x[:, None], "UnsqueezeBackward0"), (lambda x: x[None, 0], "SelectBackward0"),
    (lambda x: x[:, torch.tensor([0, 2])], "IndexBackward0"), (lambda x: x[x > 0], "IndexBackward0"),
    (lambda x: x.select(0, 1), "SelectBackward0"), (lambda x: x.narrow(1, 1, 2), "SliceBackward0"),
    (lambda x: x.gather(1, torch.tensor([[0], [1]])), "GatherBackward0"),
    # numpy's names and composites against PyTorch's nodes
    (lambda x: torch.atan2(x, x + 3), "Atan2Backward0"), (lambda x: x.abs().log1p(), "Log1PBackward0"),
    (lambda x: torch.asin(x / 3), "AsinBackward0"), (lambda x: torch.deg2rad(x), "Deg2RadBackward0"),
    (lambda x: x ** 2, "PowBackward0"), (lambda x: x.abs() ** x, "PowBackward1"), (lambda x: 2 ** x, "PowBackward2"),
    (lambda x: x.square(), "PowBackward0"), (lambda x: 2 - x, "RsubBackward1"), (lambda x: torch.rsub(x, 1), "RsubBackward1"),
    (lambda x: 2 / x, "MulBackward0"), (lambda x: True / x, "MulBackward0"), (lambda x: x / 2, "DivBackward0"), (lambda x: x.abs().rsqrt(), "RsqrtBackward0"),
    (lambda x: x % 2, "RemainderBackward0"), (lambda x: x % (x + 9), "RemainderBackward1"),
    (lambda x: torch.fmod(x, 2), "FmodBackward0"), (lambda x: x.masked_fill(x > 0, 1.0), "MaskedFillBackward0"),
    (lambda x: x.logcumsumexp(0), "LogcumsumexpBackward0"), (lambda x: x.median(0).values, "MedianBackward1"),
    (lambda x: x.median(), "MedianBackward0"), (lambda x: torch.einsum("ij->j", x), "SumBackward1"),
    (lambda x: torch.einsum("ij->ij", x), "PermuteBackward0"),
    # in place on a tensor of its own: the op's node (through a view: CopySlices)
    (lambda x: (x * 1).sigmoid_(), "SigmoidBackward0"), (lambda x: (x * 1).clamp_(0, 1), "ClampBackward1"),
    (lambda x: (x * 1).relu_(), "ReluBackward0"), (lambda x: (x * 1).exp_(), "ExpBackward0"),
    (lambda x: (x * 1).zero_(), "ZeroBackward0"), (lambda x: (x * 1).fill_(2.0), "FillBackward2"),
    (lambda x: (x * 1).copy_(x), "CopyBackwards"), (lambda x: (x * 1).add_(1), "AddBackward0"),
    (lambda x: (x * 1)[0].exp_(), "AsStridedBackward0"),
    (lambda x: torch.rot90(x), "Rot90Backward0"), (lambda x: torch.fliplr(x), "FlipBackward0"),
    (lambda x: x[:, 0:4], "AliasBackward0"), (lambda x: x[None, ..., 0:4], "UnsqueezeBackward0"),
    (lambda x: x[0:10], "SliceBackward0"), (lambda x: x[1:, 0:4], "SliceBackward0"), (lambda x: x[..., 0], "SelectBackward0"),
    (lambda x: torch.take_along_dim(x, torch.tensor([0, 1])), "GatherBackward0"),
    (lambda x: x[None].squeeze(0), "SqueezeBackward1"), (lambda x: x[None].squeeze(), "SqueezeBackward0"),
]


def test_a_number_over_a_tensor_is_its_reciprocal_times_the_number_as_in_pytorch():
    x = torch.tensor([1.0, 3.0], requires_grad=True)
    y = 2 / x
    (mul, _), (none, _) = y.grad_fn.next_functions
    assert type(mul).__name__ == "ReciprocalBackward0" and none is None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-2.0, -2.0 / 9])


@pytest.mark.parametrize("flip", [lambda t: torch.flip(t, [1]), lambda t: t.flip(0), torch.fliplr, torch.flipud,
                                  torch.rot90])
def test_flips_are_copies_as_in_pytorch(flip):
    # numpy's flips are views; PyTorch's copies: a later write to either leaves the other
    b = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    f = flip(b)
    before = f.numpy().copy()
    b.mul_(10)
    np.testing.assert_array_equal(f.numpy(), before)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    g = flip(y)
    g.mul_(2)
    np.testing.assert_array_equal(y.detach().numpy(), [[1.0, 2.0], [3.0, 4.0]])
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 2.0))


@pytest.mark.parametrize("f, name", _NODE_NAMES)
def test_composite_calls_have_pytorchs_node_names(f, name):
    assert type(f(torch.tensor(_X, requires_grad=True)).grad_fn).__name__ == name


def test_a_call_returning_its_input_leaves_the_inputs_node_named_as_it_was():
    from srcgrad.autograd.pytorch_names import renaming
    x = torch.tensor(_X, requires_grad=True) * 2
    identity = renaming(lambda t, *rest: t, "SomeBackward0")  # (as pad with no widths could be)
    assert identity(x) is x and type(x.grad_fn).__name__ == "MulBackward0"
    assert type(renaming(lambda t: t * 1, "SomeBackward0")(x).grad_fn).__name__ == "SomeBackward0"


def test_index_put_and_the_node_names_of_writes_by_index():
    # (values and names from PyTorch 2.13)
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    v = torch.tensor([9.0, 8.0, 7.0], requires_grad=True)
    y = x * 1
    y.index_put_((torch.tensor([0, 2, 0]),), v, accumulate=True)
    z = torch.index_put(x * 1, (torch.tensor([1, 3]),), v[:2])
    assert y.tolist() == [17.0, 2.0, 11.0, 4.0] and z.tolist() == [1.0, 9.0, 3.0, 8.0]
    (y.sum() * 2 + (z ** 2).sum()).backward()
    assert x.grad.tolist() == [4.0, 2.0, 8.0, 2.0] and v.grad.tolist() == [20.0, 18.0, 2.0]
    assert type(z.grad_fn).__name__ == "IndexPutBackward0"
    w = x * 1
    w[1:3] = v[:2]
    assert type(w.grad_fn).__name__ == "CopySlices"
    w[torch.tensor([True, False, False, True])] = v[:2]
    assert type(w.grad_fn).__name__ == "IndexPutBackward0"


def test_sign_of_nan_is_zero_as_in_pytorch():
    # (PyTorch 2.13: torch.sign(nan) == 0; numpy's np.sign(nan) is nan, and stays so)
    x = torch.tensor([float("nan"), -2.0, 0.0, 3.0], requires_grad=True)
    for y in (x.sign(), torch.sign(x), torch.sgn(x), x.sgn()):
        assert y.tolist() == [0.0, -1.0, 0.0, 1.0]
    assert type(x.sign().grad_fn).__name__ == "SignBackward0" and type(x.sgn().grad_fn).__name__ == "SgnBackward0"
    assert np.isnan(np.sign(x).tolist()[0])
    (x.sign() * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_einsum_result_is_contiguous_as_in_pytorch():
    # (np.einsum's matrix product comes back transposed; PyTorch's is contiguous, so
    # `.view(-1)` works on it: found by the PyTorch random-program comparison, seed 340017)
    a = torch.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = torch.tensor(np.arange(12.0).reshape(3, 4))
    y = torch.einsum("ij,jk->ik", a, b)
    assert y.is_contiguous()
    y.view(-1).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.ones((2, 4)) @ np.arange(12.0).reshape(3, 4).T)


def test_a_reduction_of_an_advanced_index_is_contiguous_as_in_pytorch():
    # (numpy lays out x[i][:, j] with its index axes moved; PyTorch's mean of it is a new
    # contiguous tensor: seed 350172 of the PyTorch random-program comparison)
    x = torch.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = x[torch.tensor([1, 0])][:, torch.tensor([2, 0, 1])].mean(dim=2)
    assert y.is_contiguous()
    y.view(-1).sum().backward()
    assert x.grad.sum().item() == 6.0
    t = x.transpose(0, 1)  # a view stays a view: PyTorch's view of it fails too
    assert not t.is_contiguous()
    assert not (t * 2).is_contiguous() and not t.exp().is_contiguous()  # (elementwise: the layout kept)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        t.view(-1)


@pytest.mark.parametrize("shapes, name", [
    (((3,), (3,)), "DotBackward0"), (((2, 3), (3,)), "MvBackward0"), (((3,), (3, 4)), "SqueezeBackward4"),
    (((2, 3), (3, 4)), "MmBackward0"), (((5, 2, 3), (3, 4)), "UnsafeViewBackward0"),
    (((5, 2, 3), (5, 3, 4)), "UnsafeViewBackward0"), (((3,), (5, 3, 4)), "UnsafeViewBackward0"),
    (((2, 3), (5, 3, 4)), "CloneBackward0"), (((1, 2, 3), (5, 3, 4)), "CloneBackward0"),
])
def test_matmul_nodes_are_named_as_in_pytorch(shapes, name):
    # (PyTorch 2.13's names, by how its matmul reduces to dot, mv, mm or a folded bmm)
    a, b = (torch.randn(*s, requires_grad=True) for s in shapes)
    assert type((a @ b).grad_fn).__name__ == name
    assert type(torch.matmul(a, b).grad_fn).__name__ == name


def test_einsum_nodes_are_named_as_in_pytorch():
    a = torch.randn(2, 3, requires_grad=True)
    assert type(torch.einsum("ij,jk->ik", a, torch.randn(3, 4)).grad_fn).__name__ == "ViewBackward0"
    assert type(torch.einsum("ij->ji", a).grad_fn).__name__ == "PermuteBackward0"


def test_a_create_graph_gradient_is_named_after_its_last_operation():
    # (a fused backward kernel run as one node: PyTorch 2.13's node for its last step)
    x = torch.tensor([0.5, 1.5], requires_grad=True)
    (g,) = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert type(g.grad_fn).__name__ == "MulBackward0"
    (h,) = torch.autograd.grad((x.sin() + x * x).sum(), x, create_graph=True)
    assert type(h.grad_fn).__name__ == "AddBackward0"
    np.testing.assert_allclose(h.detach().numpy(), np.cos([0.5, 1.5]) + 2 * np.array([0.5, 1.5]))


@pytest.mark.parametrize("call, name", [
    (lambda F, z, t, p: F.cross_entropy(z, t), "NllLossBackward0"),
    (lambda F, z, t, p: F.cross_entropy(z, p), "DivBackward1"),
    (lambda F, z, t, p: F.cross_entropy(z, p, reduction="sum"), "NegBackward0"),
    (lambda F, z, t, p: F.cross_entropy(z, t, label_smoothing=0.1), "AddBackward0"),
    (lambda F, z, t, p: F.cross_entropy(z[None].permute(0, 2, 1), t[None]), "NllLoss2DBackward0"),
    (lambda F, z, t, p: F.nll_loss(z[None].permute(0, 2, 1), t[None], reduction="none"), "ViewBackward0"),
    (lambda F, z, t, p: F.nll_loss(z.log_softmax(1), t, reduction="none"), "NllLossBackward0"),
])
def test_loss_nodes_are_named_as_in_pytorch(call, name):
    # (PyTorch 2.13's last node of each form of the loss)
    z = torch.randn(4, 5, requires_grad=True)
    t, p = torch.tensor([1, 0, 4, 2]), torch.softmax(torch.randn(4, 5), 1)
    assert type(call(torch.nn.functional, z, t, p).grad_fn).__name__ == name


def test_scatter_add_is_one_node():
    src = torch.randn(5, requires_grad=True)
    agg = torch.zeros(3).scatter_add(0, torch.tensor([0, 1, 0, 2, 1]), src)
    assert type(agg.grad_fn).__name__ == "ScatterAddBackward0"


def test_reshape_nodes_are_named_by_whether_they_view_or_copy():
    # (PyTorch 2.13: a view of contiguous data, a view of strided data, a copy)
    x = torch.randn(2, 3, 4, requires_grad=True)
    y = x.permute(2, 0, 1)
    names = [type(r.grad_fn).__name__ for r in (x.reshape(6, 4), y.reshape(4, 6), x.transpose(0, 1).reshape(-1),
                                                  y.flatten(1), y.view(4, 6), y.unflatten(0, (2, 2)))]
    assert names == ["ViewBackward0", "ReshapeAliasBackward0", "UnsafeViewBackward0", "ReshapeAliasBackward0",
                     "ViewBackward0", "ViewBackward0"]


# PyTorch 2.13's next_functions of y = x * 1 under each call (recorded from it): an edge per
# input it differentiates (a number wrapped into a tensor, `y * 2`, is one; a Scalar
# operand, a mask, an index is not), and a composite call's inputs, not srcgrad's ops inside
_EDGES = [
    ('y ** 2', ['MulBackward0']),
    ('y ** y', ['MulBackward0', 'MulBackward0']),
    ('2 ** y', ['MulBackward0']),
    ('y * 2', ['MulBackward0', None]),
    ('y + 2', ['MulBackward0', None]),
    ('y.clamp(0, 1)', ['MulBackward0']),
    ('y.clamp(min=0)', ['MulBackward0']),
    ('torch.where(y > 0, y, 0.)', ['MulBackward0', None]),
    ('torch.where(y > 0, y, c)', ['MulBackward0', None]),
    ('y.masked_fill(y > 0, 1.0)', ['MulBackward0']),
    ('y.var()', ['MulBackward0']),
    ('y.var(0)', ['MulBackward0']),
    ('y.std()', ['MulBackward0']),
    ('y[torch.tensor([0, 1])]', ['MulBackward0']),
    ('y.gather(1, torch.tensor([[0],[1],[2]]))', ['MulBackward0']),
    ('y[y > 0]', ['MulBackward0']),
    ('y * c', ['MulBackward0', None]),
    ('y.index_select(0, torch.tensor([0]))', ['MulBackward0']),
    ('torch.maximum(y, c)', ['MulBackward0', None]),
    ('y.masked_select(y > 0)', ['MulBackward0']),
    ('torch.lerp(y, c, 0.5)', ['MulBackward0', None]),
    ('y.sum(0)', ['MulBackward0']),
    ('y.mean()', ['MulBackward0']),
    ('torch.nn.functional.softmax(y, 0)', ['MulBackward0']),
    ('torch.nn.functional.log_softmax(y, 0)', ['MulBackward0']),
    ('y / 2', ['MulBackward0', None]),
    ('y - 2', ['MulBackward0', None]),
    ('2 - y', ['MulBackward0']),
    ('y.pow(2)', ['MulBackward0']),
    ('torch.atan2(y, c)', ['MulBackward0', None]),
    ('y.scatter_add(0, torch.tensor([[0,1,2,0]]), y)', ['MulBackward0', 'MulBackward0']),
    ('y.cumsum(0)', ['MulBackward0']),
    ('y.norm()', ['MulBackward0']),
    ('y.relu()', ['MulBackward0']),
    ('torch.nn.functional.gelu(y)', ['MulBackward0']),
    ('y.sigmoid()', ['MulBackward0']),
]


@pytest.mark.parametrize("expr, edges", _EDGES, ids=[e for e, _ in _EDGES])
def test_next_functions_are_pytorchs_edges(expr, edges):
    x = (torch.rand(3, 4) + 0.5).requires_grad_()  # (positive: y ** y is defined)
    y = x * 1
    c = torch.randn(3, 4)
    out = eval(expr, {"torch": torch, "y": y, "c": c})
    got = [None if n is None else type(n).__name__ for n, _ in out.grad_fn.next_functions]
    assert got == edges


def test_logsumexp_of_integers_is_in_the_default_float_dtype():
    assert torch.logsumexp(torch.tensor([1, 2, 3]), 0).dtype == torch.float32
    assert torch.tensor([[1, 2]]).logsumexp(1).dtype == torch.float32


def test_subtraction_and_negation_of_bool_tensors_refuse_as_pytorch():
    """PyTorch's errors for `-` with a bool tensor; numpy code (inside a decorated function)
    keeps numpy's rule, where a mask minus a float array is a float array."""
    b, x = torch.tensor([True, False]), torch.tensor([1.0, 2.0])
    for f in (lambda: b - x, lambda: x - b, lambda: b - 1, lambda: 1 - b, lambda: torch.sub(b, x),
              lambda: x.sub(b), lambda: True - x, lambda: x - False):
        with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
            f()
    with pytest.raises(RuntimeError, match="with two bool tensors"):
        b - b
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        -b
    g = torch.grad(lambda v: np.sum((v > 0) - v * 2))(np.array([1.0, -1.0]))
    np.testing.assert_allclose(g, [-2.0, -2.0])
    assert (x + True).tolist() == [2.0, 3.0]


def test_a_binary_op_of_two_float_dtypes_casts_inside_its_node_as_in_pytorch():
    x = torch.ones(2, requires_grad=True)
    y = torch.ones(2, dtype=torch.float64, requires_grad=True)
    for r in (x + y, x * torch.ones(2, dtype=torch.float64), x.sum() + y.sum() * 0.5):
        kinds = [type(f).__name__ if f is not None else None for f, _ in r.grad_fn.next_functions]
        assert "ToCopyBackward0" not in kinds, kinds
    r = x * torch.ones(2, dtype=torch.float64)
    assert [f for f, _ in r.grad_fn.next_functions][1] is None
    r.sum().backward()
    assert x.grad.dtype == torch.float32


@pytest.mark.parametrize("write", [lambda v: v.sigmoid_(), lambda v: v.clamp_(-1, 1), lambda v: v.exp_(),
                                   lambda v: torch.nn.functional.silu(v, inplace=True),
                                   lambda v: torch.nn.functional.relu(v, inplace=True)])
def test_an_in_place_op_node_leads_to_the_node_before_the_write_as_in_pytorch(write):
    x = torch.ones(2, requires_grad=True)
    v = x * 2
    before = v.grad_fn
    write(v)
    assert [f for f, _ in v.grad_fn.next_functions] == [before]


def _node_chain(t):
    names, fn = [], t.grad_fn
    while fn is not None and type(fn).__name__ != "MulBackward0":
        names.append(type(fn).__name__)
        fn = fn.next_functions[0][0]
    return names


@pytest.mark.parametrize("index, chain", [
    (lambda y: y[None, ..., 0:1], ["SliceBackward0", "UnsqueezeBackward0"]),
    (lambda y: y[1:, 0], ["SelectBackward0", "SliceBackward0"]),
    (lambda y: y[None, 0], ["SelectBackward0", "UnsqueezeBackward0"]),
    (lambda y: y[1:3, 1:2], ["SliceBackward0", "SliceBackward0"]),
    (lambda y: y[:, 0:4], ["AliasBackward0"]), (lambda y: y[0, 0], ["SelectBackward0", "SelectBackward0"])])
def test_basic_indexing_is_pytorchs_view_nodes_in_turn(index, chain):
    # (PyTorch 2.13 applies an index's items one view at a time)
    x = torch.ones(4, 4, requires_grad=True)
    y = index(x * 2)
    assert _node_chain(y) == chain
    y.sum().backward()
    assert x.grad.sum().item() == 2 * y.numel()


@pytest.mark.parametrize("op", [lambda x: 2 * x, lambda x: 2 + x, lambda x: 2.5 * x])
def test_a_number_first_is_pytorchs_method_call_on_the_tensor(op):
    # (PyTorch's `2 * x` is x.mul(2): its node's edges are (x's, None))
    x = torch.ones(2, requires_grad=True)
    (acc, _), (none, _) = op(x).grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and none is None


_S = torch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)


@pytest.mark.parametrize("call, name, edges", [
    (lambda y: torch.scatter(y, 0, torch.tensor([[0, 1, 0]]), _S), "ScatterBackward0", ["MulBackward0", "AccumulateGrad"]),
    (lambda y: torch.scatter(y, 0, torch.tensor([[0, 1, 0]]), 2.0), "ScatterBackward1", ["MulBackward0"]),
    (lambda y: torch.index_add(y, 0, torch.tensor([1]), _S), "IndexAddBackward0", ["MulBackward0", "AccumulateGrad"]),
    (lambda y: torch.index_copy(y, 0, torch.tensor([1]), _S), "IndexCopyBackward0", ["MulBackward0", "AccumulateGrad"]),
    (lambda y: torch.index_fill(y, 0, torch.tensor([1]), 2.0), "IndexFillBackward0", ["MulBackward0"]),
    (lambda y: torch.addcmul(y, _S, _S), "AddcmulBackward0", ["MulBackward0", "AccumulateGrad", "AccumulateGrad"]),
    (lambda y: y.addcdiv_(_S, _S), "AddcdivBackward0", ["MulBackward0", "AccumulateGrad", "AccumulateGrad"]),
    (lambda y: torch.put(y, torch.tensor([1, -1]), _S[0, :2]), "PutBackward0", ["MulBackward0", "SliceBackward0"]),
    (lambda y: y.take(torch.tensor([1])), "TakeBackward0", ["MulBackward0"]),
    (lambda y: torch.add(y, _S, alpha=2), "AddBackward0", ["MulBackward0", "AccumulateGrad"]),
    (lambda y: y.sub_(_S, alpha=2), "SubBackward0", ["MulBackward0", "AccumulateGrad"]),
    (lambda y: torch.outer(y[0], _S[0]), "MulBackward0", ["ViewBackward0", "SelectBackward0"]),
])
def test_composite_writes_are_one_pytorch_node_over_the_call_arguments(call, name, edges):
    # (PyTorch 2.13's node and next_functions)
    x = torch.ones(2, 3, requires_grad=True)
    r = call(x * 2)
    assert type(r.grad_fn).__name__ == name
    assert [type(f).__name__ for f, _ in r.grad_fn.next_functions] == edges


def test_put_writes_and_accumulates_at_flat_positions():
    x = torch.zeros(2, 3, requires_grad=True)
    src = torch.tensor([3.0, 4.0], requires_grad=True)
    y = torch.put(x * 1, torch.tensor([1, -1]), src)
    np.testing.assert_array_equal(y.detach().numpy(), [[0, 3, 0], [0, 0, 4]])
    (y * torch.arange(6.0).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 2], [3, 4, 0]])
    np.testing.assert_array_equal(src.grad.numpy(), [1, 5])
    z = torch.zeros(2, 3).put_(torch.tensor([1, 1]), torch.tensor([3.0, 4.0]), accumulate=True)
    np.testing.assert_array_equal(z.numpy(), [[0, 7, 0], [0, 0, 0]])


@pytest.mark.parametrize("write, edges", [(lambda y: y.div_(3), ["ToCopyBackward0", None]),
                                          (lambda y: y.mul_(y.detach() + 1), ["ToCopyBackward0", None]),
                                          (lambda y: y.pow_(2), ["ToCopyBackward0"]),
                                          (lambda y: y.__iadd__(1), ["ToCopyBackward0", None])])
def test_an_in_place_op_reading_its_old_value_leads_to_its_node_as_in_pytorch(write, edges):
    x = torch.ones(2, requires_grad=True)
    y = x.double()
    write(y)
    assert [type(f).__name__ if f is not None else None for f, _ in y.grad_fn.next_functions] == edges


def test_take_along_dim_gathers_from_a_view_and_t_is_tbackward_as_in_pytorch():
    x = torch.ones(4, 1, 2, requires_grad=True)
    y = x * 2
    r = torch.take_along_dim(y, torch.tensor([[[1, 0]], [[3, 3]]]), dim=0)
    (view, _), = r.grad_fn.next_functions
    assert type(r.grad_fn).__name__ == "GatherBackward0" and type(view).__name__ == "ExpandBackward0"
    assert view.next_functions[0][0] is y.grad_fn
    flat = torch.take_along_dim(y, torch.tensor([1, 0]))
    assert type(flat.grad_fn.next_functions[0][0]).__name__ == "ViewBackward0"
    m = x[:, 0] * 2
    assert type(m.t().grad_fn).__name__ == "TBackward0" and type(m.T.grad_fn).__name__ == "PermuteBackward0"


def test_median_shares_its_gradient_among_ties_as_pytorch():
    x = torch.tensor([[1.0, 2.0, 2.0, 0.0], [3.0, 3.0, -1.0, 3.0], [0.0, 0.0, 0.0, 0.0]], requires_grad=True)
    m = x.median()
    assert m.item() == 0.0 and type(m.grad_fn).__name__ == "MedianBackward0"
    m.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0, 0, 0.2], [0, 0, 0, 0], [0.2, 0.2, 0.2, 0.2]])


def test_angle_of_a_real_tensor_requires_grad_with_a_zero_gradient():
    x = torch.tensor([1.0, -2.0, 0.0, float("inf")], requires_grad=True)
    a = torch.angle(x)
    assert a.requires_grad and type(a.grad_fn).__name__ == "AngleBackward0"
    np.testing.assert_allclose(a.detach().numpy(), [0.0, np.pi, 0.0, 0.0])
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 0.0])


def test_nan_to_num_with_replacements_differentiates_where_finite():
    x = torch.tensor([1.0, float("nan"), float("inf"), -float("inf")], requires_grad=True)
    y = torch.nan_to_num(x * 2, 0.5, 1.0, -1.0)
    np.testing.assert_array_equal(y.detach().numpy(), [2.0, 0.5, 1.0, -1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 0.0, 0.0])
    m = torch.tensor([float("inf"), -float("inf"), 1.0])
    assert np.isposinf(m).tolist() == [True, False, False] and np.isneginf(m).tolist() == [False, True, False]


def _graph(fn):
    if fn is None:
        return None
    if type(fn).__name__ == "AccumulateGrad":
        return "Acc"
    return [type(fn).__name__, [_graph(f) for f, _ in fn.next_functions]]


@pytest.mark.parametrize("equation, shapes, graph", [
    ("ij,ij->i", [(3, 4), (3, 4)], ["ViewBackward0", [["PermuteBackward0", [["ViewBackward0", [["BmmBackward0", [
        ["ViewBackward0", [["PermuteBackward0", [["PermuteBackward0", ["Acc"]]]]]],
        ["ViewBackward0", [["PermuteBackward0", [["PermuteBackward0", ["Acc"]]]]]]]]]]]]]]),
    ("bij,bij->bj", [(2, 3, 4), (2, 3, 4)], ["ViewBackward0", [["PermuteBackward0", [["ViewBackward0", [["BmmBackward0", [
        ["UnsafeViewBackward0", [["CloneBackward0", [["PermuteBackward0", [["PermuteBackward0", ["Acc"]]]]]]]],
        ["UnsafeViewBackward0", [["CloneBackward0", [["PermuteBackward0", [["PermuteBackward0", ["Acc"]]]]]]]]]]]]]]]]),
    ("ij->j", [(3, 4)], ["SumBackward1", [["PermuteBackward0", ["Acc"]]]]),
    ("i,j->ij", [(4,), (3,)], ["MulBackward0", [["PermuteBackward0", [["UnsqueezeBackward0", ["Acc"]]]],
                                                 ["PermuteBackward0", [["UnsqueezeBackward0", ["Acc"]]]]]]),
])
def test_einsum_records_pytorchs_steps(equation, shapes, graph):
    # (PyTorch 2.13's graph: its einsum permutes, reshapes and multiplies with bmm)
    rng = np.random.default_rng(0)
    xs = [torch.tensor(rng.normal(size=s), requires_grad=True) for s in shapes]
    r = torch.einsum(equation, *xs)
    assert _graph(r.grad_fn) == graph
    np.testing.assert_allclose(r.detach().numpy(), np.einsum(equation, *[x.detach().numpy() for x in xs]))
    grads = torch.autograd.grad(r.sum(), xs)
    expected = torch.grad(lambda *a: np.sum(np.einsum(equation, *a)), argnums=tuple(range(len(xs))))(
        *[x.detach().numpy() for x in xs])
    for g, e in zip(grads, expected if isinstance(expected, tuple) else (expected,)):
        np.testing.assert_allclose(g.numpy(), e)


@pytest.mark.parametrize("f", [torch.add, torch.mul, torch.sub, torch.maximum, torch.atan2,
                               lambda a, b: torch.where(a > 0, a, b)])
def test_type_promotion_is_inside_pytorchs_node_for_every_op(f):
    x = torch.ones(2, requires_grad=True)
    y = torch.ones(2, dtype=torch.float64, requires_grad=True)
    r = f(x, y)
    assert [type(g).__name__ for g, _ in r.grad_fn.next_functions] == ["AccumulateGrad", "AccumulateGrad"]
    assert type(x.to(torch.float64).grad_fn).__name__ == "ToCopyBackward0"  # (an explicit cast is a node)


@pytest.mark.parametrize("shapes, graph", [
    (((5, 2, 3), (5, 3, 4)), ["UnsafeViewBackward0", [["BmmBackward0", [
        ["ViewBackward0", [["ExpandBackward0", ["Acc"]]]], ["ViewBackward0", [["ExpandBackward0", ["Acc"]]]]]]]]),
    (((5, 2, 3), (3,)), ["UnsafeViewBackward0", [["MvBackward0", [["ViewBackward0", ["Acc"]], "Acc"]]]]),
    (((2, 3), (5, 3, 4)), ["CloneBackward0", [["TransposeBackward0", [["UnsafeViewBackward0", [["MmBackward0", [
        ["UnsafeViewBackward0", [["CloneBackward0", [["TransposeBackward0", ["Acc"]]]]]], ["TBackward0", ["Acc"]]]]]]]]]]),
    (((3,), (3, 4)), ["SqueezeBackward4", [["MmBackward0", [["UnsqueezeBackward0", ["Acc"]], "Acc"]]]]),
])
def test_a_matrix_product_of_more_dimensions_records_pytorchs_steps(shapes, graph):
    # (PyTorch 2.13's graph for `@`: folds to mm/mv, or expands and uses bmm)
    rng = np.random.default_rng(1)
    a, b = (torch.tensor(rng.normal(size=s), requires_grad=True) for s in shapes)
    r = a @ b
    assert _graph(r.grad_fn) == graph
    np.testing.assert_allclose(r.detach().numpy(), a.detach().numpy() @ b.detach().numpy())
    ga, gb = torch.autograd.grad(r.sum(), [a, b])
    ea, eb = torch.grad(lambda x, y: np.sum(x @ y), argnums=(0, 1))(a.detach().numpy(), b.detach().numpy())
    np.testing.assert_allclose(ga.numpy(), ea)
    np.testing.assert_allclose(gb.numpy(), eb)


def test_a_batched_product_is_not_a_view_an_in_place_op_on_it_is_its_own_node():
    a = torch.ones(2, 3, 4, requires_grad=True)
    r = a @ a.transpose(-1, -2)
    r.relu_()
    assert type(r.grad_fn).__name__ == "ReluBackward0"
    assert type(r.grad_fn.next_functions[0][0]).__name__ == "UnsafeViewBackward0"
    r.sum().backward()
    assert a.grad.sum().item() == 144.0


def test_logsumexp_over_a_dim_is_a_result_of_its_own():
    # (PyTorch 2.13: not a view; writing it in place is ZeroBackward0, and the backward
    # through it raises, as LogsumexpBackward0 keeps its result)
    x = torch.tensor([[1.58, -1.45, 1.26], [-1.4, 0.27, 1.0]], dtype=torch.float64, requires_grad=True)
    v = torch.logsumexp(x * 1, dim=1)
    v.zero_()
    assert type(v.grad_fn).__name__ == "ZeroBackward0"
    w = torch.logsumexp(x * 1, dim=1)
    w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


def test_a_product_folds_to_mm_only_where_pytorch_does():
    # (PyTorch 2.13: a constant matrix's product with a contiguous batch folds to mm; with
    # a permuted one, whose rows cannot fold without a copy, it is a bmm)
    rng = np.random.default_rng(0)
    a = torch.tensor(rng.normal(size=(5, 2, 3)), requires_grad=True)
    w = torch.tensor(rng.normal(size=(3, 4)))
    for x, inner in ((a, "MmBackward0"), (a.permute(1, 0, 2), "BmmBackward0")):
        r = x @ w
        assert type(r.grad_fn).__name__ == "UnsafeViewBackward0"
        assert [type(f).__name__ for f, _ in r.grad_fn.next_functions] == [inner]
        np.testing.assert_allclose(r.detach().numpy(), x.detach().numpy() @ w.numpy())


def test_bmm_takes_three_dimensional_batches_only():
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        torch.bmm(torch.ones(2, 3), torch.ones(3, 2))
    with pytest.raises(RuntimeError, match="batch2 must be a 3D tensor"):
        torch.bmm(torch.ones(2, 2, 3), torch.ones(3, 2))
    r = torch.bmm(torch.ones(2, 2, 3, requires_grad=True), torch.ones(2, 3, 4))
    assert type(r.grad_fn).__name__ == "BmmBackward0"


def test_cdist_at_a_zero_distance_has_pytorchs_gradient():
    """A row's distance to itself is 0, where sqrt's derivative is infinite: PyTorch's
    gradient there is 0 (it was NaN for every row with a zero distance)."""
    x = torch.tensor([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    d = torch.cdist(x, x)
    assert d.grad_fn.name() == "CdistBackward0"
    d.sum().backward()
    s5 = 2 / np.sqrt(5.0)  # (values from PyTorch 2.13)
    np.testing.assert_allclose(x.grad.numpy(), [[s5, 2 * s5], [s5, 2 * s5], [-2 * s5, -4 * s5]])
