"""PyTorch's autograd semantics, as issue 2 (section 3) specifies them for srcgrad.

Each test checks values against numpy (or hand-derived formulas, or central finite
differences in float64), never only that no exception was raised.
"""
import operator
import os
import re
import zlib

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import srcgrad as torch
import srcgrad.autograd as autograd
from srcgrad.autograd import Variable

THIS_FILE = os.path.basename(__file__)


@pytest.fixture
def default_float64():
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(prev)


@pytest.fixture(autouse=True)
def _grad_mode_is_restored():
    """Every test starts, and must end, with grad mode on and float32 as the default."""
    assert torch.is_grad_enabled()
    assert torch.get_default_dtype() == np.float32
    yield
    assert torch.is_grad_enabled()


def leaf(values, dtype=None):
    return torch.tensor(values, dtype=dtype, requires_grad=True)


def numeric_grad(f, arrays, i, eps=1e-6):
    """Central finite differences of the scalar f(*arrays) with respect to arrays[i]."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    g = np.zeros_like(arrays[i])
    for idx in np.ndindex(arrays[i].shape):
        plus = [a.copy() for a in arrays]
        minus = [a.copy() for a in arrays]
        plus[i][idx] += eps
        minus[i][idx] -= eps
        g[idx] = (f(*plus) - f(*minus)) / (2 * eps)
    return g


# =======================================================================================
# dtypes
# =======================================================================================
def test_default_dtype_is_float32():
    assert torch.get_default_dtype() == np.float32
    for t in (torch.tensor([1.0, 2.0]), torch.tensor(1.5), torch.ones(2), torch.zeros(2, 3), torch.randn(3),
              torch.rand(2), torch.empty(2), torch.Tensor([1, 2]), torch.Tensor(2, 3), torch.FloatTensor([1]),
              torch.arange(0.0, 3.0), torch.linspace(0, 1, 5), torch.eye(2), torch.full((2,), 1.5)):
        assert t.dtype == np.float32, t
    # integer data stays integer, like PyTorch
    assert torch.tensor([1, 2]).dtype == np.int64
    assert torch.arange(3).dtype == np.int64
    assert torch.tensor([True]).dtype == np.bool_


def test_set_default_dtype_float64(default_float64):
    assert torch.get_default_dtype() == np.float64
    for t in (torch.tensor([1.0, 2.0]), torch.ones(2), torch.zeros(2), torch.randn(3), torch.rand(2),
              torch.Tensor([1, 2]), torch.arange(0.0, 3.0), torch.linspace(0, 1, 3), torch.eye(2)):
        assert t.dtype == np.float64, t
    # explicit dtypes and integers are unaffected
    assert torch.FloatTensor([1.0]).dtype == np.float32
    assert torch.tensor([1.0], dtype=torch.float32).dtype == np.float32
    assert torch.arange(3).dtype == np.int64
    # integer data that must become float takes the new default
    assert (torch.arange(3) / 2).dtype == np.float64
    assert (torch.arange(3) * 0.5).dtype == np.float64
    assert Variable(torch.arange(1, 4), requires_grad=True).dtype == np.float64
    assert torch.arange(4).mean(dtype=torch.float64).dtype == np.float64
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype"):
        torch.arange(4).mean()  # (PyTorch's: the mean of integers needs a dtype)
    # the printed form names a dtype only when it is not the default
    assert str(torch.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=torch.float32" in str(torch.tensor([1.0], dtype=torch.float32))


def test_default_dtype_restored_prints_float64_with_dtype():
    assert str(torch.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "float64" in str(torch.tensor([1.0, 2.0], dtype=torch.float64))


def test_set_default_dtype_rejects_non_float():
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)
    assert torch.get_default_dtype() == np.float32


def test_float64_throughout():
    """A float64 run is computed in float64 end to end: values and gradients agree with
    float64 numpy to ~1e-12, far beyond what a float32 step anywhere would allow."""
    rng = np.random.default_rng(5)
    a = rng.uniform(0.5, 1.5, (3, 4))
    w = rng.standard_normal((4, 2))
    x = leaf(a, torch.float64)
    W = leaf(w, torch.float64)

    def f_np(a, w):
        h = np.tanh(a @ w) + np.exp(-a.mean()) * np.log(a[:, :2] + 1)
        u = 1 / (1 + np.exp(-h)) + np.sqrt(a[:, 1:3]) * np.sin(h) ** 2 / 3
        return float((u ** 1.5).sum() + np.cos(a).sum())

    h = (x @ W).tanh() + torch.exp(-x.mean()) * (x[:, :2] + 1).log()
    u = h.sigmoid() + x[:, 1:3].sqrt() * h.sin() ** 2 / 3
    out = (u ** 1.5).sum() + x.cos().sum()
    for t in (h, u, out):
        assert t.dtype == np.float64
    assert_allclose(out.item(), f_np(a, w), rtol=1e-13)
    out.backward()
    assert x.grad.dtype == np.float64 and W.grad.dtype == np.float64
    assert_allclose(x.grad.numpy(), numeric_grad(f_np, [a, w], 0), rtol=1e-7, atol=1e-9)
    assert_allclose(W.grad.numpy(), numeric_grad(f_np, [a, w], 1), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_dtype_is_leaf_dtype(dtype):
    x = leaf([0.5, 1.0, 2.0], dtype)
    # Python-scalar constants (including ones whose derivative brings in log(2), sqrt(2))
    # are weak: they never widen float32
    y = (2 ** x + x ** 0.5 + 3.0 * x.exp() - 1 / x + x * np.float64(1.5) + x.tanh() / 7).sum()
    assert y.dtype == dtype
    y.backward()
    assert x.grad.dtype == dtype
    xv = np.array([0.5, 1.0, 2.0])
    expected = 2 ** xv * np.log(2) + 0.5 / np.sqrt(xv) + 3 * np.exp(xv) + 1 / xv ** 2 + 1.5 \
        + (1 - np.tanh(xv) ** 2) / 7
    assert_allclose(x.grad.numpy(), expected, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_grad_dtype_is_leaf_dtype_in_mixed_precision():
    a = leaf([1.0, 2.0], torch.float32)
    b = leaf([3.0, 4.0], torch.float64)
    y = a * b
    assert y.dtype == np.float64  # float32 meets float64: float64, as in PyTorch
    (y * y).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert_allclose(a.grad.numpy(), 2 * np.array([1.0, 2.0]) * np.array([9.0, 16.0]))
    assert_allclose(b.grad.numpy(), 2 * np.array([3.0, 4.0]) * np.array([1.0, 4.0]))


def test_grad_dtype_preserved_by_create_graph():
    x = leaf([0.5, 1.5])
    (g,) = autograd.grad((2 ** x * x.sin()).sum(), x, create_graph=True)
    assert g.dtype == np.float32
    (g2,) = autograd.grad(g.sum(), x)
    assert g2.dtype == np.float32


def test_explicit_gradient_of_other_dtype_is_cast():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.backward(torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert x.grad.dtype == np.float32
    assert_allclose(x.grad.numpy(), [3.0, 6.0])


# =======================================================================================
# accumulation and resetting
# =======================================================================================
def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    first = x.grad
    (x * x * x).sum().backward()
    assert_allclose(x.grad.numpy(), [2.0 + 3, 4.0 + 12, 6.0 + 27])
    # accumulated in place, as in PyTorch (an optimizer holding .grad sees the sum)
    assert x.grad is first
    (x * 5).sum().backward()
    assert_allclose(x.grad.numpy(), [10.0, 21.0, 38.0])


def test_accumulation_through_autograd_backward():
    x = leaf([1.0, -1.0])
    autograd.backward((x * 2).sum())
    autograd.backward([(x * x).sum(), (x * 3).sum()])
    assert_allclose(x.grad.numpy(), [2.0 + 2 + 3, 2.0 - 2 + 3])


def test_grad_zero_resets():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    g = x.grad
    x.grad.zero_()
    assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])
    assert x.grad is g
    (x * x).sum().backward()
    assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_grad_none_resets():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    old = x.grad
    x.grad = None
    assert x.grad is None
    (x * 4).sum().backward()
    assert_allclose(x.grad.numpy(), [4.0, 4.0, 4.0])
    assert_allclose(old.numpy(), [2.0, 4.0, 6.0])  # the old gradient was not touched


def test_grad_assignment_is_checked():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = torch.zeros(3)
    x.grad = torch.ones(2)
    (x * 2).sum().backward()
    assert_allclose(x.grad.numpy(), [3.0, 3.0])


# =======================================================================================
# backward twice
# =======================================================================================
SECOND_TIME = "Trying to backward through the graph a second time"


@pytest.mark.parametrize("make", [
    lambda x: (x * x).sum(),
    lambda x: x.exp().sum(),
    lambda x: (x @ x),
    lambda x: (x.tanh() * 3).mean(),
], ids=["mul", "exp", "matmul", "tanh-mean"])
def test_second_backward_needing_saved_values_raises(make):
    x = leaf([0.5, 1.0, 2.0])
    y = make(x)
    y.backward()
    first = x.grad.numpy().copy()
    with pytest.raises(RuntimeError, match=SECOND_TIME) as info:
        y.backward()
    assert "retain_graph=True" in str(info.value)
    assert_array_equal(x.grad.numpy(), first)  # a failed backward accumulates nothing


def test_retain_graph_allows_a_second_backward_and_accumulates():
    x = leaf([1.0, 2.0, 3.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    y.backward(retain_graph=True)
    assert_allclose(x.grad.numpy(), [4.0, 8.0, 12.0])
    y.backward()  # frees it
    assert_allclose(x.grad.numpy(), [6.0, 12.0, 18.0])
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        y.backward()


def test_second_backward_through_a_shared_subgraph_raises():
    x = leaf([1.0, 2.0])
    h = x.exp()
    (h * 2).sum().backward()
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        (h * 3).sum().backward()


def test_second_backward_without_saved_values_is_allowed():
    # like PyTorch: AddBackward / SumBackward save no tensors, so nothing was freed
    x = leaf([1.0, 2.0])
    y = (x + 1).sum()
    y.backward()
    y.backward()
    assert_allclose(x.grad.numpy(), [2.0, 2.0])


@pytest.mark.parametrize("make", [
    # PyTorch's node saved a tensor its backward reads, even where srcgrad's compiled
    # backward needs nothing (a zero derivative below it, or the gradient of a constant)
    lambda x: (x.ceil()[1:] * torch.tensor([2.0])).sum(),
    lambda x: (x.floor() * x.floor()).sum(),
    lambda x: (x / torch.tensor([1.0, 2.0])).sum(),
    lambda x: x[torch.tensor([1, 0])].sum(),
    lambda x: (x * 2).sum(),  # PyTorch keeps the number, as a tensor
    lambda x: (x / 4 - x).mean(),
], ids=["const-times-zero-derivative", "floor-squared", "div-by-tensor", "advanced-index", "times-number",
        "div-number"])
def test_second_backward_raises_where_pytorch_saved_a_tensor(make):
    x = leaf([1.5, 2.5])
    y = make(x)
    y.backward()
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        y.backward()


@pytest.mark.parametrize("make", [
    lambda x: (1 - x - x).sum(),
    lambda x: x.reshape(2, 1).T[0].sum(),  # views keep sizes only
    lambda x: torch.cat([x, x.flip(0)]).sum(),
    lambda x: x.ceil().sum(),
    lambda x: x.cumsum(0).mean(),
], ids=["sub", "views", "cat-flip", "ceil", "cumsum-mean"])
def test_second_backward_allowed_where_pytorch_saved_no_tensor(make):
    x = leaf([1.5, 2.5])
    y = make(x)
    y.backward()
    first = x.grad.numpy().copy()
    y.backward()
    assert_allclose(x.grad.numpy(), 2 * first)


def test_autograd_grad_frees_only_the_nodes_it_ran():
    # PyTorch runs (and frees) only the nodes on a path to the inputs asked for
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    loss = (x * x).sum() + (w * 2).sum()
    (gw,) = autograd.grad(loss, [w])
    assert_allclose(gw.numpy(), [2.0, 2.0])
    (gx,) = autograd.grad(loss, [x])  # x * x was never run backward: its values are there
    assert_allclose(gx.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        autograd.grad(loss, [x])


def test_autograd_grad_frees_the_graph_unless_retained():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    (g,) = autograd.grad(y, x, retain_graph=True)
    (g2,) = autograd.grad(y, x)
    assert_allclose(g.numpy(), [2.0, 4.0])
    assert_allclose(g2.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        autograd.grad(y, x)


# =======================================================================================
# bad roots
# =======================================================================================
def test_backward_on_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        autograd.grad(y, x)
    assert x.grad is None
    y.backward(torch.tensor([1.0, 0.5, 0.0]))
    assert_allclose(x.grad.numpy(), [2.0, 1.0, 0.0])


def test_backward_of_a_one_element_non_scalar_is_implicit():
    x = leaf([3.0])
    (x * x).backward()
    assert_allclose(x.grad.numpy(), [6.0])


def test_backward_with_a_gradient_of_the_wrong_shape():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(torch.ones(2))
    assert x.grad is None


def test_backward_on_tensor_without_graph():
    t = torch.tensor([1.0, 2.0]).sum()
    with pytest.raises(RuntimeError, match="does not require grad") as info:
        t.backward()
    assert "grad_fn" in str(info.value)
    # nor a result computed under no_grad from a tensor that requires grad
    x = leaf([1.0, 2.0])
    with torch.no_grad():
        y = (x * x).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    assert x.grad is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad(y, x)


def test_backward_of_a_leaf_itself():
    x = leaf(3.0)
    x.backward()
    assert x.grad.item() == 1.0
    x.backward(torch.tensor(2.5))
    assert x.grad.item() == 3.5


# =======================================================================================
# grad modes
# =======================================================================================
def test_no_grad_context():
    x = leaf([1.0, 2.0])
    with torch.no_grad():
        assert not torch.is_grad_enabled()
        y = x * 2
    assert torch.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert_allclose(y.numpy(), [2.0, 4.0])
    z = x * 2
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_restores_on_exception():
    with pytest.raises(ValueError):
        with torch.no_grad():
            raise ValueError("boom")
    assert torch.is_grad_enabled()


@pytest.mark.parametrize("form", ["call", "bare"])
def test_no_grad_decorator(form):
    x = leaf([1.0, 2.0])

    def double(t):
        """doc"""
        assert not torch.is_grad_enabled()
        return t * 2

    f = torch.no_grad()(double) if form == "call" else torch.no_grad(double)
    assert f.__name__ == "double" and f.__doc__ == "doc"
    y = f(x)
    assert not y.requires_grad and y.grad_fn is None
    assert_allclose(y.numpy(), [2.0, 4.0])
    assert torch.is_grad_enabled()
    # it can be decorated with @ too
    @torch.no_grad
    def g(t):
        return t * 3

    @torch.no_grad()
    def h(t):
        return t * 3
    assert not g(x).requires_grad and not h(x).requires_grad


@pytest.mark.parametrize("form", ["call", "bare"])
def test_enable_grad_context_and_decorator(form):
    x = leaf([1.0, 2.0])

    def triple(t):
        assert torch.is_grad_enabled()
        return t * 3

    f = torch.enable_grad()(triple) if form == "call" else torch.enable_grad(triple)
    with torch.no_grad():
        with torch.enable_grad():
            assert torch.is_grad_enabled()
            y = x * 2
        assert not torch.is_grad_enabled()
        z = f(x)
        assert not torch.is_grad_enabled()
        w = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert z.requires_grad and z.grad_fn is not None
    assert not w.requires_grad
    (y.sum() + z.sum()).backward()
    assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_set_grad_enabled_context_decorator_and_function():
    x = leaf([1.0, 2.0])
    with torch.set_grad_enabled(False):
        assert not torch.is_grad_enabled()
        a = x * 2
    assert torch.is_grad_enabled()
    assert not a.requires_grad
    with torch.no_grad():
        with torch.set_grad_enabled(True):
            b = x * 2
        assert not torch.is_grad_enabled()
    assert b.requires_grad

    @torch.set_grad_enabled(False)
    def f(t):
        assert not torch.is_grad_enabled()
        return t * 2
    assert torch.is_grad_enabled()  # decorating changes nothing by itself
    assert not f(x).requires_grad
    assert torch.is_grad_enabled()

    # called as a plain function it takes effect at once (and stays)
    torch.set_grad_enabled(False)
    try:
        assert not torch.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        torch.set_grad_enabled(True)
    assert torch.is_grad_enabled()
    assert (x * 2).requires_grad


def test_grad_modes_nest():
    with torch.no_grad():
        with torch.enable_grad():
            with torch.set_grad_enabled(False):
                assert not torch.is_grad_enabled()
            assert torch.is_grad_enabled()
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()


# =======================================================================================
# detach, .data, requires_grad_, is_leaf
# =======================================================================================
def test_detach_cuts_the_graph_and_shares_data():
    x = leaf([1.0, 2.0, 3.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert_array_equal(d.numpy(), [1.0, 2.0, 3.0])
    # the gradient does not flow through the detached factor
    (x * x.detach()).sum().backward()
    assert_allclose(x.grad.numpy(), [1.0, 2.0, 3.0])
    # detaching a non-leaf
    y = x * 2
    yd = y.detach()
    assert yd.is_leaf and not yd.requires_grad
    assert_array_equal(yd.numpy(), [2.0, 4.0, 6.0])
    # shared storage: an in-place change through the detached tensor is seen by x
    d.mul_(10)
    assert_array_equal(x.detach().numpy(), [10.0, 20.0, 30.0])


def test_detach_shares_the_version_counter():
    x = leaf([1.0, 2.0])
    y = x.exp()
    z = y.sum()
    y.detach().add_(1)  # an in-place change the graph must notice
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_data_is_history_free_and_shares_storage():
    x = leaf([1.0, 2.0])
    y = x * 3
    d = y.data
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert_array_equal(d.numpy(), [3.0, 6.0])
    x.data.mul_(2)  # untracked update, the way optimizers step
    assert_array_equal(x.detach().numpy(), [2.0, 4.0])
    assert x.requires_grad and x.is_leaf
    x.data = torch.tensor([5.0, 6.0])
    assert_array_equal(x.detach().numpy(), [5.0, 6.0])
    assert x.requires_grad and x.is_leaf
    (x * x).sum().backward()
    assert_allclose(x.grad.numpy(), [10.0, 12.0])


def test_requires_grad_():
    t = torch.tensor([1.0, 2.0])
    assert not t.requires_grad
    r = t.requires_grad_()
    assert r is t and t.requires_grad and t.is_leaf
    (t * t).sum().backward()
    assert_allclose(t.grad.numpy(), [2.0, 4.0])
    t.requires_grad_(False)
    assert not t.requires_grad
    assert not (t * 2).requires_grad
    # only leaves can have it switched off; integer tensors cannot require grad
    x = leaf([1.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2], requires_grad=True)


def test_is_leaf():
    x = leaf([1.0])
    c = torch.tensor([2.0])
    assert x.is_leaf and c.is_leaf
    assert not (x * c).is_leaf
    assert (c * 2).is_leaf  # no history: a leaf, as in PyTorch
    with torch.no_grad():
        assert (x * 2).is_leaf
    assert x.detach().is_leaf


# =======================================================================================
# retain_grad
# =======================================================================================
def test_retain_grad_populates_non_leaf_grad():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    assert not y.retains_grad
    y.retain_grad()
    assert y.retains_grad
    z = (y * y).sum()
    z.backward()
    assert_allclose(y.grad.numpy(), 2 * np.array([2.0, 4.0, 6.0]))
    assert_allclose(x.grad.numpy(), 8 * np.array([1.0, 2.0, 3.0]))
    assert y.grad.dtype == np.float32
    # a non-leaf that was not retained has no .grad
    w = x * 3
    (w * w).sum().backward()
    assert w.grad is None


def test_retain_grad_inside_an_elementwise_chain():
    # y sits in the middle of an elementwise region that srcgrad would otherwise fuse
    x = leaf([1.0, 2.0, 3.0])
    u = x * 3
    y = u * 2
    v = u + 1
    y.retain_grad()
    u.retain_grad()
    (y * v).sum().backward()
    xv = np.array([1.0, 2.0, 3.0])
    assert_allclose(y.grad.numpy(), 3 * xv + 1)               # dz/dy = v
    assert_allclose(u.grad.numpy(), 2 * (3 * xv + 1) + 6 * xv)  # 2v + y
    assert_allclose(x.grad.numpy(), 3 * u.grad.numpy())


def test_retain_grad_accumulates_and_works_on_the_root():
    x = leaf([1.0, 2.0])
    y = x.exp()
    y.retain_grad()
    out = (y * 2).sum()
    out.retain_grad()
    out.backward(retain_graph=True)
    out.backward()
    assert out.grad.item() == 2.0
    assert_allclose(y.grad.numpy(), [4.0, 4.0])
    assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_retain_grad_on_leaf_is_a_no_op_and_on_constant_an_error():
    x = leaf([1.0])
    x.retain_grad()
    (x * 2).sum().backward()
    assert_allclose(x.grad.numpy(), [2.0])
    with pytest.raises(RuntimeError):
        torch.tensor([1.0]).retain_grad()


# =======================================================================================
# hooks
# =======================================================================================
def test_hook_on_leaf_sees_and_replaces_the_gradient():
    x = leaf([1.0, 2.0, 3.0])
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    (x * x).sum().backward()
    assert len(seen) == 1
    assert_allclose(seen[0], [2.0, 4.0, 6.0])
    assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])  # returning None keeps it
    handle.remove()
    x.grad = None
    h2 = x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    assert_allclose(x.grad.numpy(), [20.0, 40.0, 60.0])
    h2.remove()
    x.grad = None
    (x * x).sum().backward()
    assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    assert len(seen) == 1  # removed hooks are not called


def test_hook_on_non_leaf_replacement_propagates_backwards():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    seen = []

    def hook(g):
        seen.append(g.numpy().copy())
        return g * 10
    handle = y.register_hook(hook)
    (y * y).sum().backward()
    assert_allclose(seen[0], [4.0, 8.0, 12.0])               # dz/dy = 2y
    assert_allclose(x.grad.numpy(), [80.0, 160.0, 240.0])     # 2 * (10 * 2y)
    # the handle disables it
    handle.remove()
    x.grad = None
    y = x * 2
    (y * y).sum().backward()
    assert_allclose(x.grad.numpy(), [8.0, 16.0, 24.0])
    assert len(seen) == 1


def test_hook_sees_the_total_gradient_once():
    x = leaf([1.0, 2.0])
    y = x.exp()
    calls = []
    y.register_hook(lambda g: calls.append(g.numpy().copy()))
    (y * 3 + y * y).sum().backward()
    assert len(calls) == 1
    assert_allclose(calls[0], 3 + 2 * np.exp([1.0, 2.0]), rtol=1e-6)
    # and on a leaf used twice
    a = leaf([2.0])
    acalls = []
    a.register_hook(lambda g: acalls.append(g.item()))
    (a * a * a + a * 5).sum().backward()
    assert acalls == [pytest.approx(3 * 4.0 + 5)]


def test_hooks_chain_in_registration_order():
    x = leaf([1.0, 1.0])
    y = x * 1.5
    y.register_hook(lambda g: g + 1)
    y.register_hook(lambda g: g * 2)
    y.sum().backward()
    assert_allclose(x.grad.numpy(), [(1 + 1) * 2 * 1.5] * 2)


def test_hook_in_the_middle_of_an_elementwise_chain():
    # u -> y (hooked) and u -> v, z = y * v: zeroing y's gradient leaves only the v path
    x = leaf([1.0, 2.0, 3.0])
    u = x * 3
    y = u * 2
    v = u + 1
    y.register_hook(lambda g: g * 0)
    (y * v).sum().backward()
    assert_allclose(x.grad.numpy(), 3 * 6 * np.array([1.0, 2.0, 3.0]))  # dz/dv * dv/dx = y * 3


def test_hook_with_handle_as_context_manager_and_errors():
    x = leaf([1.0])
    with x.register_hook(lambda g: g * 0):
        (x * 2).sum().backward()
    assert_allclose(x.grad.numpy(), [0.0])
    (x * 2).sum().backward()
    assert_allclose(x.grad.numpy(), [2.0])
    with pytest.raises(RuntimeError, match="doesn't require"):
        torch.tensor([1.0]).register_hook(lambda g: g)


# =======================================================================================
# autograd.grad
# =======================================================================================
def test_autograd_grad_returns_a_tuple_and_leaves_grad_alone():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([0.5, -1.0, 2.0])
    y = (x * x * w).sum()
    res = autograd.grad(y, [x, w])
    assert isinstance(res, tuple) and len(res) == 2
    assert_allclose(res[0].numpy(), 2 * np.array([1.0, 2.0, 3.0]) * np.array([0.5, -1.0, 2.0]))
    assert_allclose(res[1].numpy(), [1.0, 4.0, 9.0])
    assert x.grad is None and w.grad is None
    assert not res[0].requires_grad
    # a single tensor input also gives a tuple; existing .grad is left unchanged
    x.grad = torch.tensor([7.0, 7.0, 7.0])
    out = autograd.grad((x * 2).sum(), x)
    assert isinstance(out, tuple) and len(out) == 1
    assert_allclose(out[0].numpy(), [2.0, 2.0, 2.0])
    assert_allclose(x.grad.numpy(), [7.0, 7.0, 7.0])


def test_autograd_grad_with_grad_outputs_and_several_outputs():
    x = leaf([1.0, 2.0])
    y = x * x
    (g,) = autograd.grad(y, x, grad_outputs=torch.tensor([1.0, -3.0]))
    assert_allclose(g.numpy(), [2.0, -12.0])
    a = (x * x).sum()
    b = (x * 3).sum()
    (g,) = autograd.grad([a, b], [x], retain_graph=True)
    assert_allclose(g.numpy(), [5.0, 7.0])
    (g,) = autograd.grad([a, b], [x], grad_outputs=[torch.tensor(2.0), torch.tensor(-1.0)])
    assert_allclose(g.numpy(), [1.0, 5.0])


def test_autograd_grad_allow_unused():
    x = leaf([1.0, 2.0])
    unused = leaf([5.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="^The differentiated Tensor at index 1 appears to not have been used in the graph"):
        autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = autograd.grad(y, [x, unused], allow_unused=True)
    assert_allclose(gx.numpy(), [2.0, 2.0])
    assert gu is None


def test_autograd_grad_input_must_require_grad():
    x = leaf([1.0])
    c = torch.tensor([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad((x * c).sum(), [c])


def test_second_derivative_of_cube():
    xv = np.array([-1.5, 0.5, 2.0])
    x = leaf(xv, torch.float64)
    (g,) = autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    assert_allclose(g.detach().numpy(), 3 * xv ** 2)
    (g2,) = autograd.grad(g.sum(), x, create_graph=True)
    assert_allclose(g2.detach().numpy(), 6 * xv)
    (g3,) = autograd.grad(g2.sum(), x)
    assert_allclose(g3.numpy(), [6.0, 6.0, 6.0])
    assert x.grad is None


def test_second_derivative_of_tanh_times_x():
    xv = np.array([-2.0, -0.3, 0.0, 0.7, 1.9])
    x = leaf(xv, torch.float64)
    (g,) = autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
    t = np.tanh(xv)
    s = 1 - t ** 2                      # sech^2
    assert_allclose(g.detach().numpy(), t + xv * s, rtol=1e-12)
    (g2,) = autograd.grad(g.sum(), x)
    # d/dx (tanh x + x sech^2 x) = 2 sech^2 x - 2 x sech^2 x tanh x
    assert_allclose(g2.numpy(), 2 * s * (1 - xv * t), rtol=1e-10, atol=1e-14)


def test_create_graph_backward_then_backward_again():
    # the double-backward pattern of gradient penalties: backward(create_graph=True) into
    # .grad, then differentiate a function of that .grad
    xv = np.array([0.5, 1.0])
    x = leaf(xv, torch.float64)
    (x.sin() * x).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    assert_allclose(g.detach().numpy(), np.sin(xv) + xv * np.cos(xv))
    x.grad = None
    (g * g).sum().backward()
    d1 = np.sin(xv) + xv * np.cos(xv)
    d2 = 2 * np.cos(xv) - xv * np.sin(xv)
    assert_allclose(x.grad.detach().numpy(), 2 * d1 * d2, rtol=1e-12)


def test_without_create_graph_the_result_has_no_history():
    x = leaf([1.0, 2.0])
    (g,) = autograd.grad((x ** 3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


# =======================================================================================
# broadcasting, compared with central finite differences in float64
# =======================================================================================
BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
          "pow": operator.pow}
BROADCAST_SHAPES = [((2, 3), (3,)), ((2, 3), (2, 1)), ((2, 1), (1, 3)), ((4, 1, 3), (2, 3)), ((3,), (2, 4, 3)),
                    ((), (2, 3)), ((2, 3), ()), ((1,), (3,)), ((2, 3), (2, 3))]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=lambda s: f"{s[0]}-{s[1]}")
@pytest.mark.parametrize("name", list(BINARY))
def test_broadcasting_binary_gradients(name, shapes):
    op = BINARY[name]
    sa, sb = shapes
    rng = np.random.default_rng(zlib.crc32(repr((name, shapes)).encode()))  # fixed per case
    a = rng.uniform(0.5, 2.0, sa)   # positive: pow and div stay smooth
    b = rng.uniform(0.5, 2.0, sb)
    w = rng.standard_normal(np.broadcast_shapes(sa, sb))  # a non-uniform cotangent

    def f_np(a, b):
        return float((op(a, b) * w).sum())

    ta, tb = leaf(a, torch.float64), leaf(b, torch.float64)
    out = op(ta, tb)
    assert out.shape == np.broadcast_shapes(sa, sb)
    assert_allclose(out.detach().numpy(), op(a, b), rtol=1e-14)
    (out * torch.tensor(w)).sum().backward()
    assert ta.grad.shape == sa and tb.grad.shape == sb
    assert_allclose(ta.grad.numpy(), numeric_grad(f_np, [a, b], 0), rtol=1e-6, atol=1e-8)
    assert_allclose(tb.grad.numpy(), numeric_grad(f_np, [a, b], 1), rtol=1e-6, atol=1e-8)


MATMUL_SHAPES = [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)),
                 ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((4,), (4,)), ((4,), (4, 3)), ((1, 3, 4), (2, 4, 2))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=lambda s: f"{s[0]}@{s[1]}")
def test_batched_matmul_gradients(shapes):
    sa, sb = shapes
    rng = np.random.default_rng(len(sa) * 10 + len(sb))
    a = rng.standard_normal(sa)
    b = rng.standard_normal(sb)
    w = rng.standard_normal(np.matmul(a, b).shape)

    def f_np(a, b):
        return float((np.matmul(a, b) * w).sum())

    ta, tb = leaf(a, torch.float64), leaf(b, torch.float64)
    out = ta @ tb
    assert out.shape == np.matmul(a, b).shape
    assert_allclose(out.detach().numpy(), np.matmul(a, b), rtol=1e-12)
    (out * torch.tensor(w)).sum().backward()
    assert ta.grad.shape == sa and tb.grad.shape == sb
    assert_allclose(ta.grad.numpy(), numeric_grad(f_np, [a, b], 0), rtol=1e-6, atol=1e-8)
    assert_allclose(tb.grad.numpy(), numeric_grad(f_np, [a, b], 1), rtol=1e-6, atol=1e-8)


def test_broadcasting_in_a_chain_sums_back_once():
    # a bias broadcast over a batch and used twice
    rng = np.random.default_rng(3)
    xv, bv = rng.standard_normal((5, 3)), rng.standard_normal(3)
    x, b = leaf(xv, torch.float64), leaf(bv, torch.float64)
    h = (x + b).tanh() * b
    h.sum().backward()

    def f_np(x, b):
        return float((np.tanh(x + b) * b).sum())
    assert b.grad.shape == (3,)
    assert_allclose(b.grad.numpy(), numeric_grad(f_np, [xv, bv], 1), rtol=1e-6)
    assert_allclose(x.grad.numpy(), numeric_grad(f_np, [xv, bv], 0), rtol=1e-6)


# =======================================================================================
# Python scalars and numpy arrays on either side
# =======================================================================================
XV = np.array([0.5, 1.0, 2.0])
NV = np.array([2.0, 3.0, 0.5])

# name: (srcgrad expression, the same in numpy, is the other operand a weak scalar)
MIXED = {
    "2 * x": (lambda x: 2 * x, lambda x: 2 * x, True),
    "x * 2": (lambda x: x * 2, lambda x: x * 2, True),
    "2.5 + x": (lambda x: 2.5 + x, lambda x: 2.5 + x, True),
    "x + 2.5": (lambda x: x + 2.5, lambda x: x + 2.5, True),
    "3 - x": (lambda x: 3 - x, lambda x: 3 - x, True),
    "x - 3": (lambda x: x - 3, lambda x: x - 3, True),
    "1 / x": (lambda x: 1 / x, lambda x: 1 / x, True),
    "x / 4": (lambda x: x / 4, lambda x: x / 4, True),
    "2 ** x": (lambda x: 2 ** x, lambda x: 2 ** x, True),
    "x ** 2": (lambda x: x ** 2, lambda x: x ** 2, True),
    "x ** 0.5": (lambda x: x ** 0.5, lambda x: x ** 0.5, True),
    "x * np.float64(2)": (lambda x: x * np.float64(2), lambda x: x * 2, True),
    "n * x": (lambda x: NV * x, lambda x: NV * x, False),
    "x * n": (lambda x: x * NV, lambda x: x * NV, False),
    "n + x": (lambda x: NV + x, lambda x: NV + x, False),
    "x + n": (lambda x: x + NV, lambda x: x + NV, False),
    "n - x": (lambda x: NV - x, lambda x: NV - x, False),
    "x - n": (lambda x: x - NV, lambda x: x - NV, False),
    "n / x": (lambda x: NV / x, lambda x: NV / x, False),
    "x / n": (lambda x: x / NV, lambda x: x / NV, False),
    "n ** x": (lambda x: NV ** x, lambda x: NV ** x, False),
    "x ** n": (lambda x: x ** NV, lambda x: x ** NV, False),
    "x @ n": (lambda x: x @ NV, lambda x: x @ NV, False),
    "n @ x": (lambda x: NV @ x, lambda x: NV @ x, False),
    "n2d @ x": (lambda x: np.ones((2, 3)) @ x, lambda x: np.ones((2, 3)) @ x, False),
    "n[:, None] * x": (lambda x: NV[:, None] * x, lambda x: NV[:, None] * x, False),
}
@pytest.mark.parametrize("case", list(MIXED))
def test_scalars_and_numpy_arrays_on_either_side(case):
    f, f_np, weak = MIXED[case]
    x = leaf(XV.astype(np.float32))
    y = f(x)
    assert isinstance(y, torch.Tensor)
    assert y.requires_grad and y.grad_fn is not None
    expected = f_np(XV)
    assert y.shape == np.shape(expected)
    assert_allclose(y.detach().numpy(), expected, rtol=1e-6)
    # Python (and numpy) scalars are weak: float32 stays float32; a float64 array is not
    assert y.dtype == (np.float32 if weak else np.float64)
    y.sum().backward()
    assert x.grad.dtype == np.float32
    expected_grad = numeric_grad(lambda v: float(np.sum(f_np(v))), [XV], 0)
    assert_allclose(x.grad.numpy(), expected_grad, rtol=1e-5, atol=1e-6)


def test_numpy_float64_array_with_float32_tensor_gives_float64():
    # the array is a tensor operand, not a weak scalar (as in PyTorch)
    x = leaf([1.0, 2.0])
    assert (x * np.array([1.0, 2.0])).dtype == np.float64
    assert (np.array([1.0, 2.0]) + x).dtype == np.float64
    assert (x * np.array([1.0, 2.0], np.float32)).dtype == np.float32
    # integer arrays meeting float tensors become float
    y = x * np.array([3, 4])
    assert y.dtype == np.float32
    y.sum().backward()
    assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_numpy_integer_scalars_are_weak():
    x = leaf([1.0, 2.0])
    y = x * np.int64(3) + np.float32(1)
    assert y.dtype == np.float32
    assert_allclose(y.detach().numpy(), [4.0, 7.0])


# =======================================================================================
# in-place operations
# =======================================================================================
INPLACE_MSG = "modified by an inplace operation"


def test_inplace_change_of_a_saved_output_raises():
    x = leaf([0.5, 1.0])
    y = x.exp()            # the backward of exp reads exp's output
    z = y.sum()
    y.mul_(2)
    with pytest.raises(RuntimeError, match=INPLACE_MSG) as info:
        z.backward()
    msg = str(info.value)
    assert "version 1" in msg and "version 0" in msg
    assert THIS_FILE in msg  # where the value was recorded
    assert x.grad is None


def test_inplace_change_of_a_reductions_kept_result_raises():
    # (PyTorch 2.13: AminBackward0 and MaxBackward1 keep their input and their result; the
    # values of x.max(dim) are a gather, whose node keeps the indices only: seed 360259)
    for reduce in (lambda t: t.amin(dim=1), lambda t: t.max(), lambda t: t.prod(dim=0)):
        x = leaf([[0.5, 1.0], [2.0, 3.0]])
        v = reduce(x * 2)
        out = (v * 1.5).sum()
        v.mul_(2)
        with pytest.raises(RuntimeError, match=INPLACE_MSG):
            out.backward()
    x = leaf([[0.5, 1.0], [2.0, 3.0]])
    v = x.max(dim=1).values
    v.mul_(2)
    v.sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0], [0.0, 2.0]]


def test_inplace_change_of_a_saved_constant_raises():
    x = leaf([1.0, 2.0])
    c = torch.tensor([3.0, 4.0])
    z = (x * c).sum()      # d/dx needs c
    c.add_(1)
    with pytest.raises(RuntimeError, match=INPLACE_MSG):
        z.backward()


def test_inplace_setitem_of_a_saved_value_raises():
    x = leaf([0.5, 1.0])
    y = x.tanh()
    z = (y * 2).sum()
    y[0] = 5.0
    with pytest.raises(RuntimeError, match=INPLACE_MSG):
        z.backward()


def test_inplace_through_an_augmented_assignment_raises():
    x = leaf([1.0, 2.0])
    y = x.sigmoid()
    z = y.sum()
    y += 1
    with pytest.raises(RuntimeError, match=INPLACE_MSG):
        z.backward()


def test_inplace_on_non_leaf_that_no_backward_needs_is_differentiated():
    x = leaf([1.0, 2.0])
    y = x * 1
    y.mul_(3)
    assert type(y.grad_fn).__name__ == "MulBackward0"
    y.sum().backward()
    assert_allclose(x.grad.numpy(), [3.0, 3.0])
    x.grad = None
    y = x + 0
    y.add_(x)             # y = 2x
    (y * y).sum().backward()
    assert_allclose(x.grad.numpy(), [8.0, 16.0])


@pytest.mark.parametrize("op", ["add_", "mul_", "sub_", "div_", "iadd", "zero_", "fill_", "setitem"])
def test_inplace_on_leaf_requiring_grad_raises(op):
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError):
        if op == "iadd":
            x += 1
        elif op == "zero_":
            x.zero_()
        elif op == "fill_":
            x.fill_(3.0)
        elif op == "setitem":
            x[0] = 3.0
        else:
            getattr(x, op)(2.0)
    assert_array_equal(x.detach().numpy(), [1.0, 2.0])  # nothing was written


def test_inplace_on_leaf_under_no_grad_is_allowed():
    x = leaf([1.0, 2.0])
    with torch.no_grad():
        x.sub_(0.5)
        x *= 2
    assert_array_equal(x.detach().numpy(), [1.0, 3.0])
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    (x * x).sum().backward()
    assert_allclose(x.grad.numpy(), [2.0, 6.0])


# =======================================================================================
# shape errors
# =======================================================================================
def _compact(s):
    return re.sub(r"\s+", "", s)


SHAPE_ERRORS = [
    ("add", lambda x, y: x + y, "x + y"),
    ("sub", lambda x, y: x - y, "x - y"),
    ("mul", lambda x, y: x * y, "x * y"),
    ("div", lambda x, y: x / y, "x / y"),
    ("pow", lambda x, y: x ** y, "x ** y"),
]


@pytest.mark.parametrize("name,f,text", SHAPE_ERRORS, ids=[s[0] for s in SHAPE_ERRORS])
def test_incompatible_shapes_name_op_shapes_and_line(name, f, text):
    x = torch.ones(2, 3, requires_grad=True)
    y = torch.ones(4)
    with pytest.raises(RuntimeError) as info:
        f(x, y)
    msg = str(info.value)
    assert name in msg
    assert "(2,3)" in _compact(msg) and "(4,)" in _compact(msg)
    assert THIS_FILE in msg and text in msg  # the user's line
    # a ValueError too, as numpy's are
    assert isinstance(info.value, ValueError)


def test_incompatible_matmul_names_op_and_shapes():
    a = torch.ones(2, 3, requires_grad=True)
    b = torch.ones(4, 5)
    with pytest.raises(RuntimeError) as info:
        a @ b  # noqa: B018  (the line the message must show)
    msg = str(info.value)
    assert "matmul" in msg
    assert "(2,3)" in _compact(msg) and "(4,5)" in _compact(msg)
    assert THIS_FILE in msg and "a @ b" in msg
    assert not msg.startswith("matmul: matmul:")
    with pytest.raises(RuntimeError) as info:
        torch.ones(2, 3, 4) @ torch.ones(5, 4, 2)
    assert "matmul" in str(info.value)


def test_incompatible_shapes_with_a_numpy_array():
    x = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        x * np.ones(4)
    msg = str(info.value)
    assert "mul" in msg and "(2,3)" in _compact(msg) and "(4,)" in _compact(msg)


def test_shape_errors_are_not_recorded():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError):
        x + torch.ones(2)
    # x is still usable and its graph unaffected
    (x * 2).sum().backward()
    assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


# =======================================================================================
# integer data meeting float data
# =======================================================================================
def test_float_matmul_integer_is_float32():
    # (PyTorch 2 raises for two dtypes; the seed tutorial, written for an older PyTorch,
    # multiplies a float vector by an integer one, and must run as written)
    r = torch.ones(3) @ torch.arange(1, 4)
    assert r.dtype == np.float32 and r.shape == ()
    assert r.item() == 6.0
    r2 = torch.arange(1, 4) @ torch.ones(3)
    assert r2.dtype == np.float32 and r2.item() == 6.0


def test_integer_meets_float_with_gradient():
    theta = leaf([1.0, 1.0, 1.0])
    t = torch.arange(1, 4)
    s = theta @ t
    assert s.dtype == np.float32
    s.backward()
    assert_array_equal(theta.grad.numpy(), [1.0, 2.0, 3.0])
    assert theta.grad.dtype == np.float32
    theta.grad = None
    ((t * theta) + t).sum().backward()
    assert_array_equal(theta.grad.numpy(), [1.0, 2.0, 3.0])


def test_integer_promotion_rules():
    i = torch.arange(3)
    assert (i + 1).dtype == np.int64
    assert (i * 2).dtype == np.int64
    assert_array_equal((i + 1).numpy(), [1, 2, 3])
    assert (i * 1.5).dtype == np.float32
    assert_allclose((i * 1.5).numpy(), [0.0, 1.5, 3.0])
    assert (i / 2).dtype == np.float32
    assert_allclose((i / 2).numpy(), [0.0, 0.5, 1.0])
    assert (i + torch.ones(3)).dtype == np.float32
    assert (i + torch.ones(3, dtype=torch.float64)).dtype == np.float64
    assert i.float().mean().dtype == np.float32 and i.float().mean().item() == 1.0
    with pytest.raises(RuntimeError, match="Got: Long"):  # (PyTorch's: no mean of integers)
        i.mean()
    assert i.exp().dtype == np.float32


F32, F64, I32, I64, BOOL = np.float32, np.float64, np.int32, np.int64, np.bool_


@pytest.mark.parametrize("a, b, expected", [
    # (operands: a dtype for a vector, (dtype,) for a 0-d tensor, or a Python number)
    (F32, (F64,), F32),     # a 0-d tensor of the same category does not widen a vector
    (F64, (F32,), F64),
    (I32, (I64,), I32),
    (I64, (F64,), F64),     # ... a 0-d tensor of a higher category decides
    (I32, (F32,), F32),
    (BOOL, (I32,), I32),
    ((F32,), (F64,), F64),  # two 0-d tensors promote as vectors do
    ((I64,), 1.5, F32),     # a float number makes integers the default float dtype
    (I64, F32, F32),        # an integer vector meeting a float one: that float (numpy: float64)
    (BOOL, 1, I64),
    (BOOL, True, BOOL),
    (F32, 2, F32),
])
def test_eager_type_promotion_is_pytorchs(a, b, expected):
    def operand(spec, k):
        if isinstance(spec, tuple):
            return torch.tensor(np.full((), k + 1, spec[0]))
        if isinstance(spec, type):
            return torch.tensor(np.full(3, k + 1, spec))
        return spec
    x, y = operand(a, 0), operand(b, 1)
    for op in (operator.add, operator.mul, operator.sub if BOOL not in (a, b) else operator.mul):
        assert op(x, y).dtype == expected
        assert op(y, x).dtype == expected
    # a vector meeting a 0-d tensor of the same category keeps its dtype in the gradient too
    if a == F32 and b == (F64,):
        v = torch.ones(3, requires_grad=True)
        s = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        (v * s).sum().backward()
        assert v.grad.dtype == np.float32 and s.grad.dtype == np.float64
        assert s.grad.item() == 3.0


def test_numpy_functions_of_numbers_compute_in_float64():
    """srcgrad.numpy's functions of Python numbers follow numpy (float64), eagerly too; only
    torch.where of two numbers takes PyTorch's default dtype."""
    import srcgrad.numpy as snp
    assert snp.sin(0.4).dtype == np.float64 and snp.sin(0.4).item() == np.sin(0.4)
    assert torch.where(torch.tensor([True, False]), 2, 2.5).dtype == np.float32


def test_numpy_code_keeps_numpys_promotion():
    """Inside a compiled function integer arrays follow numpy: `k * 1.5` is float64 there
    (PyTorch's default float32 would round it)."""
    seen = {}

    def f(x):
        k = np.argsort(x)
        a, b, c = k * 0.1, k / 3, np.exp(k)
        seen.update(a=a.dtype, b=b.dtype, c=c.dtype, mean=np.mean(k).dtype)
        return np.sum(x * a + b * c)
    x = np.array([3.0, 1.0, 2.0])
    value, grad = torch.value_and_grad(f)(x)
    assert seen == {"a": np.float64, "b": np.float64, "c": np.float64, "mean": np.float64}
    assert value == f(x)  # the same bits as numpy
    assert_array_equal(grad, np.argsort(x) * 0.1)


def test_numpy_conversion_of_a_tensor_that_requires_grad_refuses():
    """np.array([t1, t2]) would silently drop the gradient: refuse, as PyTorch does."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="gradient would be lost"):
        np.array([x, x])
    np.testing.assert_allclose(np.asarray(x.detach()), [1.0, 2.0])
    with torch.no_grad():
        np.testing.assert_allclose(np.asarray(x), [1.0, 2.0])


def test_retained_gradient_is_zeros_when_every_path_is_flat():
    y = torch.tensor([1.0, 2.0], requires_grad=True) * 1
    z = y * 2
    z.retain_grad()
    z.sign().sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [0.0, 0.0])


def test_zero_dim_reductions_accept_dim_zero():
    x = torch.tensor(2.0, requires_grad=True)
    (x.sum(0) * 3 + x.mean(-1, True)).backward()
    assert x.grad.item() == 4.0


def test_an_inplace_op_whose_derivative_reads_the_old_value():
    """`a *= x`: x's gradient is the old a. The op reads a copy of it (as PyTorch keeps
    the original self), so this works; a backward needing a's old value elsewhere (here
    tanh's) still raises."""
    M = torch.tensor(np.arange(9.0).reshape(3, 3) / 10, dtype=torch.float32)
    x = leaf([1.0, 2.0, 3.0])
    a = x @ M
    a *= x
    a.sum().backward()
    xv, Mv = np.array([1.0, 2.0, 3.0]), np.arange(9.0).reshape(3, 3) / 10
    np.testing.assert_allclose(x.grad.numpy(), xv @ Mv + Mv @ xv)
    b = torch.tanh(x @ M)
    b *= x
    with pytest.raises(RuntimeError, match=INPLACE_MSG):
        b.sum().backward()


def test_an_inplace_op_on_a_tensor_without_history_reads_its_old_value():
    x = leaf([1.0, 2.0, 3.0])
    w = torch.ones(3, dtype=torch.float64) * 2
    w *= x
    w.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_writes_into_views_go_through_to_the_tensor_they_were_taken_from():
    """`x[0] += w` (Python: x[0] = x[0].__iadd__(w)) and `row = x[1:]; row *= 2`: the
    write is recorded as a write into x, as PyTorch rebases a view's history."""
    w = leaf([1.0, 2.0])
    x = torch.zeros(3, dtype=torch.float64)
    x[0] += w[0] * 3
    x[1:] += w * w
    row = x[1:]
    row *= 2
    assert_allclose(x.detach().numpy(), [3.0, 2.0, 8.0])
    assert row.grad_fn is not None
    x.sum().backward()
    assert_allclose(w.grad.numpy(), [3.0 + 4.0, 8.0])

    def f(v):  # the same in a traced numpy function
        out = np.zeros_like(v)
        out[1:] += v[:-1] * 2
        head = out[:2]
        head *= v[:2]
        return np.sum(out * out)
    v = np.array([1.0, 2.0, 3.0])
    value, grad = torch.value_and_grad(f)(v)
    h = 1e-6
    fd = [(f(v + h * e) - f(v - h * e)) / (2 * h) for e in np.eye(3)]
    assert value == pytest.approx(f(v))
    assert_allclose(grad, fd, rtol=1e-6)


def test_writes_into_reshaped_and_transposed_views_go_through():
    """`v = y.view(2, 3); v[0, 1] = ...` and `y.reshape(3, 2).t() += 1`: each element of such
    a view is one element of y, so the write is recorded as a write into y (PyTorch)."""
    x = leaf(np.arange(6.0))
    y = x * 1
    v = y.view(2, 3)
    v[0, 1] = 10 * x[5]
    w = v.t()
    w.mul_(2)
    z = y.reshape(3, 2).transpose(0, 1)
    z += 1
    (y * torch.arange(6.0, dtype=torch.float64)).sum().backward()
    assert_allclose(y.detach().numpy(), [1.0, 101.0, 5.0, 7.0, 9.0, 11.0])
    assert_allclose(x.grad.numpy(), [0.0, 0.0, 4.0, 6.0, 8.0, 30.0])
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf([1.0, 2.0]).view(-1).add_(1)  # a view of a leaf shares its data

    def f(x):  # the same in a traced numpy function
        y = x * 1
        v = y.reshape(2, 3)
        v[0, 1] = 10 * x[5]
        w = v.T
        w *= 2
        z = np.transpose(y.reshape(3, 2))
        z += x[:2, None]
        return np.sum(y * np.arange(6.0) * x)
    x0 = np.arange(6.0) + 0.5
    value, grad = torch.value_and_grad(f)(x0)
    h = 1e-6
    fd = [(f(x0 + h * e) - f(x0 - h * e)) / (2 * h) for e in np.eye(6)]
    assert value == pytest.approx(f(x0))
    assert_allclose(grad, fd, rtol=1e-6)


def test_a_shape_op_that_changes_nothing_is_still_a_new_view_eagerly():
    """PyTorch: `x.view(-1)` of a vector is a new tensor (not a leaf; its .grad stays None),
    while `to`, `flatten` of a vector and `conj` of real data return x itself."""
    x = leaf([1.0, 2.0, 3.0])
    views = [x.view(-1), x.reshape(3), x.squeeze(), x.squeeze(0), x.t(), x.T, x.expand(3),
             x.movedim(0, 0), x.permute(0), torch.reshape(x, (3,))]
    for v in views:
        assert v is not x and not v.is_leaf and v.grad_fn is not None
    assert x.to(x.dtype) is x and x.flatten() is x and x.conj() is x
    sum(v.sum() for v in views).backward()
    assert all(v.grad is None for v in views)
    assert_allclose(x.grad.numpy(), [len(views)] * 3)


def test_a_detached_copy_sharing_the_data_is_no_use_of_the_leaf():
    """v = x.detach() shares x's array: autograd.grad in x must not take v's uses for x's."""
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    loss = (x.detach() * w).sum()
    gx, gw = autograd.grad(loss, [x, w], allow_unused=True)
    assert gx is None
    assert_allclose(gw.numpy(), [1.0, 2.0])


def test_an_element_taken_by_integers_is_a_view_eagerly_and_a_copy_in_numpy_code():
    x = leaf([1.0, 2.0, 3.0])
    v = x * 1
    v[torch.tensor(1)].mul_(10)            # PyTorch: a 0-d view of v
    v.sum().backward()
    assert_allclose(v.detach().numpy(), [1.0, 20.0, 3.0])
    assert_allclose(x.grad.numpy(), [1.0, 10.0, 1.0])

    def f(x):                              # numpy: s is a scalar of its own
        s = x[0]
        s += x[1]
        return s * x[0]
    value, grad = torch.value_and_grad(f)(np.array([2.0, 3.0]))
    assert value == pytest.approx(10.0)
    assert_allclose(grad, [2 * 2.0 + 3.0, 2.0])


def test_each_leaf_gets_a_gradient_array_of_its_own():
    a, b = leaf([1.0, 2.0]), leaf([1.0, 1.0])
    s = a + b
    (s.sum() + s.sum()).backward()
    a.grad.mul_(100)
    assert_allclose(b.grad.numpy(), [2.0, 2.0])


def test_copy_into_a_tensor_is_recorded():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    c = torch.zeros(2, dtype=torch.float64)
    c.copy_(x * 3)
    assert c.requires_grad
    (c * y).sum().backward()
    assert_allclose(x.grad.numpy(), [9.0, 12.0])
    assert_allclose(y.grad.numpy(), [3.0, 6.0])


def test_clamp_with_crossed_bounds_sends_the_gradient_to_the_upper_one():
    """lo > hi gives hi everywhere (numpy, PyTorch), and hi gets the gradient."""
    x, lo, hi = leaf([1.0, 0.5, 3.0]), leaf([2.0, 0.0, 0.0]), leaf([1.0, 1.0, 1.0])
    y = torch.clamp(x, lo, hi)
    y.sum().backward()
    assert_array_equal(y.detach().numpy(), [1.0, 0.5, 1.0])
    assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])
    assert_array_equal(lo.grad.numpy(), [0.0, 0.0, 0.0])
    assert_array_equal(hi.grad.numpy(), [1.0, 0.0, 1.0])


def test_integer_results_are_constants_and_floor_division_is_a_step():
    x = leaf([1.5, 2.5])
    n = x.long()
    assert n.grad_fn is None and n.is_leaf and not n.requires_grad
    q = x // 0.3
    assert q.requires_grad and q.grad_fn is not None  # a zero derivative, as floor
    (q * x).sum().backward()
    assert_array_equal(x.grad.numpy(), q.detach().numpy())


def test_create_graph_gradients_are_functions_of_the_inputs_where_pytorchs_are():
    """A backward that reads a value requiring grad records (PyTorch), even where srcgrad's
    simplified formula is a constant; one through sums and views alone stays a constant."""
    x = leaf([1.0, 2.0])
    (g,) = autograd.grad((torch.log(x) - torch.log(x)).sum(), [x], create_graph=True)
    assert g.requires_grad
    assert_array_equal(g.detach().numpy(), [0.0, 0.0])
    g.sum().backward()  # (PyTorch: zeros; it raised "does not require grad" here)
    assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    (g,) = autograd.grad((x * 2).sum(), [x], create_graph=True)
    assert not g.requires_grad
    w = leaf([3.0, 4.0])
    (g,) = autograd.grad(torch.minimum(x, w * 1).sum() + x.floor().sum(), [x], create_graph=True)
    assert not g.requires_grad  # a fused kernel's output reading nothing that requires grad
    (g,) = autograd.grad((x * w).sum(), [x], create_graph=True)
    assert g.requires_grad


def test_a_view_used_after_its_base_was_written_is_taken_again():
    """PyTorch replays a view on its base's new history: `row` read after `y[0] = ...` and
    `y.mul_(2)` is 2 * x[1:], and a view of a leaf changed under no_grad stays usable."""
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    row = y[1:]
    y[0] = 10 * x[2]
    y.mul_(2)
    assert_array_equal(row.detach().numpy(), [4.0, 6.0])
    (row * row).sum().backward()
    assert_array_equal(x.grad.numpy(), [0.0, 16.0, 24.0])
    w = leaf([1.0, 2.0])
    v = w.unsqueeze(0)
    with torch.no_grad():
        w.mul_(3.0)
    (v.clone() * v).sum().backward()
    assert_array_equal(w.grad.numpy(), [6.0, 12.0])


def test_an_expand_used_after_its_base_was_written_is_taken_again():
    """np.broadcast_to's expand shares its base's memory as PyTorch's does: read after
    `y.exp_()` it is the new values, and its gradient flows through the exp (it used to
    keep the history of y before the write: a gradient 65x too small, silently)."""
    x = leaf([1.0, 2.0])
    y = x * 2
    z = y.view(2, 1).expand(2, 3)
    y.exp_()
    assert_allclose(z.detach().numpy(), np.exp([[2.0] * 3, [4.0] * 3]), rtol=1e-6)
    (z * z).sum().backward()
    assert_allclose(x.grad.numpy(), 12 * np.exp([4.0, 8.0]), rtol=1e-6)  # (float32)
    assert z.grad_fn.name() == "AsStridedBackward0"  # (PyTorch's name for a view replayed)
    # an in-place op on a whole expand, whose elements repeat, is PyTorch's error
    w = leaf([1.0, 2.0]) * 1
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        w.expand(2, 2).mul_(5.0)


def test_a_write_into_an_expand_goes_to_its_base_as_in_pytorch():
    """`v = b.expand(2, 3); v[1, 1:] = w` writes w into b (values and gradients from
    PyTorch 2.13); a region that repeats one of b's elements is PyTorch's error."""
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([7.0, 8.0])
    b = x * 1
    v = b.unsqueeze(0).expand(2, 3)
    v[1, 1:] = w
    assert_array_equal(b.detach().numpy(), [1.0, 7.0, 8.0])
    assert_array_equal(v.detach().numpy(), [[1.0, 7.0, 8.0]] * 2)
    (v * v).sum().backward()
    assert_array_equal(x.grad.numpy(), [4.0, 0.0, 0.0])
    assert_array_equal(w.grad.numpy(), [28.0, 32.0])
    c = leaf([[1.0], [2.0]]) * 2
    e = c.expand(2, 3)
    e[1, 2] = 9.0  # (an expanded axis, one position: c's element)
    e[:, 0] = 5.0  # (each of c's elements once)
    assert_array_equal(c.detach().numpy(), [[5.0], [5.0]])
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e[1, :] = 4.0


def test_an_expand_without_grad_is_written_through_as_in_pytorch():
    """Without grad too, an expand is its base's memory (values from PyTorch 2.13): an
    in-place op on it whose elements repeat is PyTorch's error (numpy's read-only error
    used to surface), a fill writes the base, and so does an op on a part of it that holds
    each element once. In numpy code np.broadcast_to stays read-only."""
    def expanded():
        a = torch.tensor([1.0, 2.0]).reshape(2, 1)
        return a, a.expand(2, 3)
    for write in (lambda v: v.add_(1), lambda v: v.mul_(torch.ones(2, 3)), lambda v: v.copy_(torch.ones(2, 3)),
                  lambda v: v.clamp_(min=1.5), lambda v: v.exp_(), lambda v: v.__setitem__(Ellipsis, 5.0)):
        a, v = expanded()
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            write(v)
        assert_array_equal(a.numpy(), [[1.0], [2.0]])  # (nothing written)
    a, v = expanded()
    v.fill_(2.0)
    assert_array_equal(a.numpy(), [[2.0], [2.0]])
    a, v = expanded()
    v.zero_()
    assert_array_equal(a.numpy(), [[0.0], [0.0]])
    a, v = expanded()
    v[:, 0].add_(1)
    assert_array_equal(a.numpy(), [[2.0], [3.0]])
    assert_array_equal(v.numpy(), [[2.0] * 3, [3.0] * 3])
    b = torch.tensor([1.0, 2.0])
    one = b.reshape(2, 1).expand(2, 1)  # (an expand to the same size: no element repeats)
    one.mul_(torch.tensor([[2.0], [3.0]]))
    assert_array_equal(b.numpy(), [2.0, 6.0])

    @torch.grad
    def f(x):
        y = np.broadcast_to(x, (2, 2))
        y += 1
        return y.sum()
    with pytest.raises(RuntimeError, match="in-place modification of a view"):
        f(np.ones(2))


def test_a_diagonal_is_a_view_written_through_as_in_pytorch():
    """`K.diagonal().add_(jitter)` changes K (a copy used to take the write, silently), with
    the gradient of the write; without grad the view writes into K's memory; read after a
    write into K the diagonal is taken again."""
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    K = x * 1
    K.diagonal().add_(10.0)
    assert_array_equal(K.detach().numpy(), [[11.0, 2.0], [3.0, 14.0]])
    (K * K).sum().backward()
    assert_array_equal(x.grad.numpy(), [[22.0, 4.0], [6.0, 28.0]])
    z = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) * 1
    z.diagonal(-1).mul_(10.0)  # (below the diagonal, recorded: the one element z[1, 0])
    assert_array_equal(z.detach().numpy(), [[1.0, 2.0, 3.0], [40.0, 5.0, 6.0]])
    plain = torch.ones(2, 3, 3)
    plain.diagonal(1, 1, 2).fill_(5.0)  # (offset 1, in the last two dims of a batch)
    assert_array_equal(plain.numpy()[0], [[1.0, 5.0, 1.0], [1.0, 1.0, 5.0], [1.0, 1.0, 1.0]])
    y = leaf([[1.0, 2.0], [3.0, 4.0]])
    a = y * 1
    d = a.diagonal()
    assert d.grad_fn.name() == "DiagonalBackward0"
    a.mul_(3)
    assert_array_equal(d.detach().numpy(), [3.0, 12.0])
    d.sum().backward()
    assert_array_equal(y.grad.numpy(), [[3.0, 0.0], [0.0, 3.0]])


def test_unfold_is_a_view_read_after_its_base_is_written():
    x = leaf([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], dtype=torch.float64)
    a = x * 2
    v = a.unfold(1, 2, 1)
    assert v.grad_fn.name() == "UnfoldBackward0"
    a.mul_(3)
    assert_allclose(v.detach().numpy(), 6 * np.lib.stride_tricks.sliding_window_view(x.detach().numpy(), 2, 1))
    (v * v).sum().backward()
    # each entry is read by one or two windows: d/dx of sum (6 x)^2 per read
    assert_allclose(x.grad.numpy(), 72 * x.detach().numpy() * np.array([1.0, 2.0, 1.0]))


@pytest.mark.parametrize("first", ["tanh_", "sigmoid_", "exp_", "relu_"])
def test_an_in_place_op_keeping_its_result_refuses_a_later_write_as_in_pytorch(first):
    """`y.tanh_()`'s node keeps y itself: a write into y after it is PyTorch's error in the
    backward (srcgrad's own backward reads a copy, and would have given a gradient)."""
    x = leaf([1.0, 2.0])
    y = x * 1
    getattr(y, first)()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    z = x * 1
    getattr(z, first)()
    (z * 2).sum().backward()  # (nothing written after it: fine)


def test_torch_diag_of_a_matrix_is_a_copy():
    """torch.diag (unlike diagonal() and numpy's np.diag) copies: a later write into the
    matrix does not reach it."""
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    a = x * 1
    d = torch.diag(a)
    assert d.grad_fn.name() == "DiagonalBackward0_copy"
    a.mul_(3)
    assert_array_equal(d.detach().numpy(), [1.0, 4.0])
    d.sum().backward()
    assert_array_equal(x.grad.numpy(), [[1.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize("take", [lambda a: a.split(1, 0)[0], lambda a: a.chunk(2, 1)[1],
                                  lambda a: a.unbind(0)[1]])
def test_views_returned_together_refuse_use_after_their_base_is_written_as_in_pytorch(take):
    """PyTorch does not replay one of the views split, chunk or unbind return: used after a
    write into their base (its grad_fn read, or an op on it), it raises."""
    a = leaf([[1.0, 2.0], [3.0, 4.0]]) * 1
    v = take(a)
    a.mul_(2)
    with pytest.raises(RuntimeError, match="is a view and its base or another view of its base has been modified"):
        v.grad_fn
    with pytest.raises(RuntimeError, match="output of a function that returns multiple views"):
        v * 2
    # a backward that does not use it runs (its variable is only looked at to name values)
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_the_diagonals_gradient_is_differentiable_again():
    x = leaf([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    (g,) = autograd.grad((x.diagonal() ** 3).sum(), [x], create_graph=True)
    (gg,) = autograd.grad((g * g).sum(), [x])
    # g = 3 diag(x)^2 on the diagonal; d/dx sum(g^2) = 36 x^3 there
    assert_allclose(gg.numpy(), np.diag(36 * np.array([1.0, 4.0]) ** 3))


def test_a_reshape_that_copies_is_no_view():
    """x.t().reshape(-1) copies (numpy and PyTorch alike): a later write into x neither
    reaches it nor makes it be taken again from x."""
    w = leaf(np.arange(6.0).reshape(2, 3))
    x = w * 1
    flat = x.t().reshape(-1)
    x[1, 1] = -1.0
    assert_array_equal((flat * 1).detach().numpy(), [0.0, 3.0, 1.0, 4.0, 2.0, 5.0])


@pytest.mark.parametrize("take", [lambda x: x[:, [1, 0]], lambda x: torch.index_select(x, 1, torch.tensor([1, 0]))],
                         ids=["index-list", "index_select"])
def test_in_place_on_what_indexing_with_arrays_copied(take):
    # a copy (numpy's result has a base of its own, but shares nothing with x): PyTorch
    # lets it be written in place, and x is no view of it
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = take(x)
    v.mul_(2)
    (v * v + x).sum().backward()
    assert_allclose(x.grad.numpy(), [[9.0, 17.0], [25.0, 33.0]])


def test_autograd_grad_fills_retained_values_on_its_paths():
    # as PyTorch: a retain_grad() value the backward runs through gets its .grad; one off
    # the paths to the inputs asked for, and the leaves, get none
    x, w = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    v, u = x * 2, w * 3
    v.retain_grad()
    u.retain_grad()
    (gx,) = autograd.grad((v * v).sum() + (u * u).sum(), [x])
    assert_allclose(gx.numpy(), [8.0, 16.0])
    assert_allclose(v.grad.numpy(), [4.0, 8.0])
    assert u.grad is None and x.grad is None and w.grad is None


MODIFIED = "modified by an inplace operation"


@pytest.mark.parametrize("make", [
    lambda x: (lambda y: (y.relu(), y.add_(1))[0])(x * 1),      # relu keeps its result, not its input
    lambda x: (lambda y: (y.exp(), y.add_(1))[0])(x * 1),
    lambda x: (lambda y: (y.sqrt(), y.add_(1))[0])(x.abs() + 1),
    lambda x: (lambda y: (y * 2, y.add_(1))[0])(x * 1),          # a number times y keeps no y
    lambda x: (lambda y: (y.sum(), y.add_(1))[0])(x * 1),
], ids=["relu-input", "exp-input", "sqrt-input", "times-number", "sum"])
def test_changing_what_pytorch_did_not_keep_is_allowed(make):
    x = leaf([1.5, -2.5, 0.5])
    make(x).sum().backward()
    assert x.grad is not None


@pytest.mark.parametrize("make", [
    lambda x: (lambda z: (z, z.add_(1))[0])((x * 1).relu()),      # relu's result
    lambda x: (lambda z: (z, z.mul_(2))[0])(x.sigmoid()),
    lambda x: (lambda y: (y.sin(), y.add_(1))[0])(x * 1),         # sin keeps its input
    lambda x: (lambda y: (y.abs(), y.add_(1))[0])(x * 1),
    lambda x: (lambda y: (y * x, y.add_(1))[0])(x * 1),           # a factor kept for the other's gradient
    lambda x: (lambda c: (x * c, c.add_(1))[0])(torch.ones(3, dtype=torch.float64)),
    lambda x: (lambda y: (x / y, y.add_(1))[0])(x * 1),
    lambda x: (lambda z: (z * z, z.add_(1))[0])(x.softmax(0)),    # softmax's result
    lambda x: (lambda z: (z * 2, z.mul_(2))[0])(x.reshape(3, 1).logsumexp(0)),  # logsumexp's result
    lambda x: (lambda y: (torch.nn.functional.leaky_relu(y), y.add_(1))[0])(x * 1),
], ids=["relu-result", "sigmoid-result", "sin-input", "abs-input", "mul-factor", "mul-constant", "div",
        "softmax-result", "logsumexp-result", "leaky_relu-input"])
def test_changing_what_pytorch_kept_raises_with_the_recording_line(make):
    # as PyTorch, even where srcgrad's own backward would read another value, or a copy
    x = leaf([1.5, -2.5, 0.5])
    y = make(x).sum()
    with pytest.raises(RuntimeError, match=MODIFIED + r".*recorded at test_autograd_semantics.py:\d+"):
        y.backward()


def test_in_place_on_what_a_reshape_copied():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = x.t().reshape(-1)  # (not contiguous: the reshape copies, so v is no view)
    v.mul_(2)
    v.sum().backward()
    assert_allclose(x.grad.numpy(), np.full((2, 2), 2.0))


@pytest.mark.parametrize("take", [lambda y: y.view(-1), lambda y: y[None]], ids=["view", "index"])
def test_a_view_written_under_no_grad_keeps_its_history(take):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    v = take(x * 1)
    with torch.no_grad():
        v.mul_(1.0)
    assert v.requires_grad and v.grad_fn is not None
    (v ** 2).sum().backward()
    assert_allclose(x.grad.numpy(), [2.0, 4.0])


@pytest.mark.parametrize("step", [lambda x: x.ceil(), lambda x: x.sign(), lambda x: x.floor().sin()],
                         ids=["ceil", "sign", "floor-sin"])
def test_create_graph_gradient_through_a_zero_derivative_has_no_history(step):
    # PyTorch's backward of ceil/floor/sign is zeros: it cuts the graph
    x = torch.tensor([1.5, 2.0, -1.0], dtype=torch.float64, requires_grad=True)
    (g,) = autograd.grad((step(x) ** 2).sum(), [x], create_graph=True)
    assert_array_equal(g.detach().numpy(), [0.0, 0.0, 0.0])
    assert not g.requires_grad


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's, on the float32 forward's overflow)
def test_power_with_a_tensor_exponent_differentiates_the_base_without_dividing():
    x = torch.tensor([0.0, np.inf, 3.0, 0.0, np.nan], dtype=torch.float64, requires_grad=True)
    e = torch.tensor([2.0, 2.0, 2.0, 0.0, 0.0], dtype=torch.float64)
    (x ** e).sum().backward()
    assert_array_equal(x.grad.numpy(), [0.0, np.inf, 6.0, 0.0, 0.0])  # (e * x ** (e - 1); 0 at e = 0)
    y = torch.tensor([1e30], dtype=torch.float32, requires_grad=True)
    (y ** torch.tensor(1.6)).sum().backward()
    assert np.isfinite(y.grad.numpy()).all()


@pytest.mark.parametrize("write", ["no_grad", "recorded"])
def test_a_result_srcgrad_reads_but_pytorch_did_not_keep_may_be_written(write):
    # d exp(x)**2 / dx is 2 * exp(x)**2, which srcgrad reads from the result; PyTorch kept
    # exp(x) instead, so writing the result in place is no error there: the node keeps
    # its data as computed for srcgrad
    x = torch.tensor([1.5, 2.0], dtype=torch.float64, requires_grad=True)
    v = x.exp().square()
    if write == "no_grad":
        with torch.no_grad():
            v.mul_(1.5)
    else:
        v.mul_(2)
    v.sum().backward()
    recorded_factor = 2.0 if write == "recorded" else 1.0  # (a write under no_grad is not differentiated)
    assert_allclose(x.grad.numpy(), 2 * np.exp(2 * np.array([1.5, 2.0])) * recorded_factor)


def test_views_from_narrow_and_select_write_through():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    y.narrow(0, 0, 1).mul_(2)
    y.select(1, 1).add_(10)
    assert_allclose(y.detach().numpy(), [[2.0, 14.0], [3.0, 14.0]])
    (y * y).sum().backward()
    assert_allclose(x.grad.numpy(), [[8.0, 56.0], [6.0, 28.0]])


def test_a_result_written_by_an_in_place_add_keeps_its_data_for_srcgrads_backward():
    # `v7 = v2 ** 2; v7.add_(v7)`: PyTorch's pow kept v2, not v7; srcgrad's backward (with
    # create_graph, op by op) reads v7 as computed, which its node kept before the add
    x = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    v = x.exp() ** 2
    v.add_(v)
    (g,) = autograd.grad(v.sum(), [x], create_graph=True)
    assert_allclose(g.detach().numpy(), 4 * np.exp(2 * np.array([0.3, -0.2])))
    g.sum().backward()
    assert_allclose(x.grad.numpy(), 8 * np.exp(2 * np.array([0.3, -0.2])))
    y = x * 1
    z = y.max()   # PyTorch's max keeps its input: changing it is an error there
    y.add_(1)
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.backward()


def test_an_accumulation_in_place_keeps_no_copy_per_step():
    # `acc += x * w` in a loop: the add nodes are linear, srcgrad's backward never reads
    # their results, so no step keeps a copy of acc (a nonlinear result's node does)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    acc = x * 0
    nodes = []
    for k in range(3):
        nodes.append(acc.grad_fn)
        acc += x * k
    assert all(fn.overwritten is None for fn in nodes[1:])  # (nodes[0] is x * 0's, a product)
    acc.sum().backward()
    assert_allclose(x.grad.numpy(), [3.0, 3.0])
    y = x.exp().square()
    square = y.grad_fn
    y += 1
    assert square.overwritten is not None


def test_create_graph_gradient_reads_a_compared_only_operand_as_a_constant():
    # d/dx maximum(exp(x), y) is where(exp(x) >= y, exp(x), 0): y only selects, so the
    # gradient's graph does not reach it (its .grad stays None, as PyTorch's)
    x = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0.5, 0.5], dtype=torch.float64, requires_grad=True)
    (gx,) = autograd.grad(x.exp().maximum(y).sum(), [x], create_graph=True)
    gx.sum().backward()
    assert y.grad is None
    assert_allclose(x.grad.numpy(), [np.exp(1.0), 0.0])
    z = torch.tensor([0.5, 0.5], dtype=torch.float64, requires_grad=True)  # (read, not only compared)
    (gz,) = autograd.grad((x.exp().clamp(max=z) ** 2).sum(), [x], create_graph=True)
    gz.sum().backward()
    assert z.grad is not None
    # a sign() of an operand is no comparison: PyTorch's graph runs through it (zeros)
    w = torch.tensor([0.1, 0.2], dtype=torch.float64, requires_grad=True)
    (gw,) = autograd.grad(torch.nn.functional.l1_loss(x.expm1(), w), [w], create_graph=True)
    (h,) = autograd.grad((gw * 3).sum(), [w], allow_unused=True)
    assert h is not None and not h.numpy().any()


def test_a_backward_kernel_run_op_by_op_warns_of_no_branch_it_does_not_take():
    # std's derivative is where(std == 0, 0, ... / std): under create_graph the kernel runs
    # op by op, computing the branch not taken at 0 too, as generated code does (silently)
    import warnings
    x = torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = autograd.grad(x.std(), [x], create_graph=True)
    assert_array_equal(g.detach().numpy(), [0.0, 0.0, 0.0])


def test_grad_in_an_intermediate_that_an_elementwise_op_reads():
    # h is fused into no kernel: its gradient is formed (it was zeros, silently)
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x.sin()
    gh, gx = torch.autograd.grad((h * h).sum(), [h, x])
    assert_allclose(gh.numpy(), 2 * np.sin([1.0, 2.0, 3.0]), rtol=1e-6)
    assert_allclose(gx.numpy(), np.sin(2 * np.array([1.0, 2.0, 3.0])), rtol=1e-5)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    g, = torch.autograd.grad((h ** 3).sum(), h, create_graph=True)
    assert_allclose(g.detach().numpy(), [27.0, 108.0])
    g.sum().backward()
    assert_allclose(x.grad.numpy(), [54.0, 108.0])  # d/dx 3 (3x)^2 = 54 x


def test_backward_inputs_may_name_an_intermediate():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x.sin()
    (h * h).sum().backward(inputs=[h])
    assert_allclose(h.grad.numpy(), 2 * np.sin([1.0, 2.0]), rtol=1e-6)
    assert x.grad is None


def test_an_element_is_a_view_of_its_tensor():
    # numpy copies an element out; PyTorch's x[0] is a 0-d view: fill_, zero_ and copy_
    # write into x, and a kept element sees later writes into x
    a = torch.tensor([1.0, 2.0, 3.0])
    a[0].fill_(7.0)
    a[1].zero_()
    a[2].copy_(torch.tensor(9.0))
    assert a.tolist() == [7.0, 0.0, 9.0]
    counts = torch.zeros(3)
    first = counts[0]
    for _ in range(4):
        counts += 1
    assert first.item() == 4.0
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x.clone()
    e = h[0]
    z = e * e
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_view_of_a_tensor_whose_strides_cannot_give_the_shape_raises():
    x = torch.arange(6.0).reshape(2, 3).t()
    assert not x.is_contiguous()
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.view(-1)
    assert x.reshape(-1).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    assert x.contiguous().view(-1).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    assert torch.arange(6.0).view(2, 3).shape == (2, 3)


def test_a_tensor_from_a_list_of_numpy_scalars_keeps_their_dtype():
    assert torch.tensor([np.mean([1.0, 2.0]), np.std([1.0, 2.0])]).dtype == np.float64
    assert torch.tensor([1.0, np.float64(2)]).dtype == np.float64
    assert torch.tensor([1.0, np.float32(2)]).dtype == np.float32
    assert torch.tensor([np.int32(1), 2]).dtype == np.int64
    assert torch.tensor([np.float16(1), 2.0]).dtype == np.float32
    assert torch.tensor([1.0, 2.0]).dtype == np.float32


def test_inference_mode_records_nothing():
    x = torch.ones(2, requires_grad=True)
    with torch.inference_mode():
        assert not (x * 2).requires_grad
    assert torch.inference_mode(lambda x: x * 2)(x).requires_grad is False
    assert torch.inference_mode()(lambda x: x * 2)(x).requires_grad is False
    with torch.inference_mode(False):
        assert (x * 2).requires_grad
    assert torch.is_grad_enabled()


def test_matmul_of_float32_and_float64_tensors_raises_as_pytorch():
    lin = torch.nn.Linear(3, 2).double()
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got Float and Double"):
        lin(torch.ones(4, 3))
    assert lin(torch.ones(4, 3, dtype=torch.float64)).dtype == np.float64


def test_tensors_print_their_dtype_and_size_as_pytorch():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (float16 data printed without an overflow warning)
        assert str(torch.tensor([1.0, 2.0], dtype=torch.float64)) == "tensor([1., 2.], dtype=torch.float64)"
        assert str(torch.tensor([1, 2], dtype=torch.int32)) == "tensor([1, 2], dtype=torch.int32)"
        assert str(torch.tensor([1.0], dtype=torch.float16)) == "tensor([1.], dtype=torch.float16)"
    assert str(torch.zeros(0)) == "tensor([])"
    assert str(torch.tensor([True])) == "tensor([True])"  # (padded only beside a False)
    assert str(torch.tensor([True, False])) == "tensor([ True, False])"
    assert str(torch.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert str(torch.zeros(2, 0, dtype=torch.float64)) == "tensor([], size=(2, 0), dtype=torch.float64)"


@pytest.mark.parametrize("take", [lambda y: y.split(2)[0], lambda y: y.chunk(2)[1], lambda y: y.unbind()[0],
                                  lambda y: torch.split(y, [1, 3])[1]])
def test_views_returned_together_refuse_in_place_writes_as_in_pytorch(take):
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    for write in (lambda v: v.mul_(2), lambda v: v.__setitem__(0, 5.0), lambda v: v.zero_(), lambda v: v.exp_()):
        with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
            write(take(x * 1))
    with torch.no_grad():  # (allowed without a graph, as in PyTorch)
        take(x * 1).mul_(2)
    take(torch.tensor([1.0, 2.0, 3.0, 4.0])).mul_(2)


def test_in_place_op_on_a_0d_result_of_a_full_reduction():
    # (the backward's copy of a 0-d gradient is an array: numpy's full sum is a scalar)
    x0 = torch.tensor([-0.24, -0.92], dtype=torch.float64, requires_grad=True)
    x1 = torch.tensor([-1.9, -1.86], dtype=torch.float64, requires_grad=True)
    v1 = torch.einsum("i,i->", x1, x1)
    v1.tanh_()
    v11 = torch.atan2(v1, x0)
    (v11.mean() + v11.sum()).backward()
    # (values from PyTorch 2.13)
    assert_allclose(x0.grad.numpy(), [-1.4183074262577473, -0.8123917788960732], rtol=1e-9)
    assert_allclose(x1.grad.numpy(), [1.1962275376685713e-05, 1.1710438000334437e-05], rtol=1e-6)


def test_a_write_through_detach_is_seen_by_the_backward_as_pytorchs_saved_tensors_see_it():
    # (values from PyTorch 2.13) y's data is written through an alias autograd does not
    # see; y * y saved the written data: its backward reads it, not y's formula in x
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.detach().mul_(0.5)
    (y * y).sum().backward()
    assert_allclose(x.grad.numpy(), [1.0, 2.0])
    x4 = torch.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    x1 = torch.tensor([[0.5, 1.0], [2.0, -1.0]], requires_grad=True)
    v9 = x4.abs()
    v9.detach().mul_(0.5)  # (abs saves its input, not v9: no error)
    v13 = x1 * v9
    (v13.sum() + (v13 ** 2).sum()).backward()
    assert_allclose(x4.grad.numpy(), [[0.75, -3.0], [14.0, 3.0]])
    assert_allclose(x1.grad.numpy(), [[0.75, 3.0], [10.5, -6.0]])
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.detach().mul_(2)  # (exp saves its result: PyTorch's error)
    with pytest.raises(RuntimeError, match=INPLACE_MSG):
        (y * 3).sum().backward()
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y  # (saved y before the write)
    y.detach().add_(1)
    with pytest.raises(RuntimeError, match=INPLACE_MSG):
        (z + y * 3).sum().backward()


def test_a_leaf_written_through_detach_after_its_use_is_not_read_again():
    """`x.detach().mul_(2)` after `y = (x * 3).sin()`: PyTorch's nodes saved x * 3, not x,
    so its backward runs, at the values computed then (srcgrad's read x again: an error)."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sin()
    x.detach().mul_(2)
    y.sum().backward()
    assert_allclose(x.grad.numpy(), 3 * np.cos([3.0, 6.0]), rtol=1e-6)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * x  # (saves x itself: PyTorch's error)
    x.detach().mul_(2)
    with pytest.raises(RuntimeError, match=INPLACE_MSG):
        y.sum().backward()


def test_a_constant_written_after_its_use_is_not_read_again():
    # y = c - x saves nothing of c in PyTorch; y * y saves y: no error, the gradient at y
    c = torch.tensor(1.87)
    x = torch.tensor([0.05, 1.72], requires_grad=True)
    y = c - x
    c.exp_()
    (y * y).sum().backward()
    assert_allclose(x.grad.numpy(), [-3.64, -0.30], rtol=1e-6)


@pytest.mark.parametrize("write", [lambda v: v.detach().mul_(0.5), lambda v: v.data.zero_()])
def test_a_result_written_after_its_use_is_not_read_again(write):
    # y = v + x saves nothing of v in PyTorch; y * y saves y: no error, the gradient at y
    # (srcgrad's backward must read y as computed, not form it again from v's new data)
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    v = x * w
    y = v + x
    s = v.sum()  # (v a value of its own, not fused into y's kernel)
    write(v)
    ((y * y).sum() + s).backward()
    yv = np.array([1.5, -4.0])
    assert_allclose(x.grad.numpy(), (2 * yv + 1) * np.array([2.0, 3.0]) + 2 * yv, rtol=1e-6)
    assert_allclose(w.grad.numpy(), (2 * yv + 1) * np.array([0.5, -1.0]), rtol=1e-6)


def test_a_leaf_written_through_data_after_its_use_is_not_read_again():
    # (PyTorch: `x * 2` keeps nothing of x; y * y keeps y as computed)
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    y = x * 2
    x.data.mul_(10)
    (y * y).sum().backward()
    assert_allclose(x.grad.numpy(), [8.0, -16.0])
    assert x._version == 0  # (a write through .data is not counted, as in PyTorch)


def test_accumulate_grad_names_itself_as_pytorch():
    x = torch.ones(2, requires_grad=True)
    acc = (x * 2).sum().grad_fn.next_functions[0][0].next_functions[0][0]
    assert type(acc).__name__ == "AccumulateGrad" and acc.name() == "torch::autograd::AccumulateGrad"
    y = x * 2
    y[0] = 5.0
    assert type(y.grad_fn).__name__ == "CopySlices" and y.grad_fn.name() == "torch::autograd::CopySlices"
    z = torch.zeros(2)
    z.copy_(x)
    assert z.grad_fn.name() == "torch::autograd::CopyBackwards"


def test_a_view_of_a_tensor_that_gains_history_in_place_is_a_function_of_it():
    # (PyTorch 2.13: the view's grad_fn is regenerated on access, as AsStridedBackward0)
    x = torch.tensor(1.5, requires_grad=True)
    c = torch.tensor([2.0])
    v = c.unsqueeze(0)
    assert not v.requires_grad
    c.copy_(x)
    assert v.requires_grad and not v.is_leaf and type(v.grad_fn).__name__ == "AsStridedBackward0"
    (v * 3).sum().backward()
    assert x.grad.item() == 3.0


def test_a_view_with_history_is_taken_again_after_its_base_is_written():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    v = y[1:]
    assert type(v.grad_fn).__name__ == "SliceBackward0"
    y.mul_(x)
    assert type(v.grad_fn).__name__ == "AsStridedBackward0"
    v.sum().backward()
    assert_allclose(x.grad.numpy(), [0.0, 8.0, 12.0])


def test_a_detached_view_written_with_history_takes_it_and_leaves_its_base_stale():
    # (PyTorch 2.13: detach() is a view autograd does not follow; the write is allowed,
    # and a backward needing the base's old data raises)
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    d = y[1:].detach()
    w = torch.tensor([5.0, 6.0], requires_grad=True)
    d.copy_(w)
    assert d.requires_grad and type(d.grad_fn).__name__ == "CopyBackwards"
    (d * 2).sum().backward()
    assert_allclose(w.grad.numpy(), [2.0, 2.0])
    assert_allclose(y.detach().numpy()[1:], [5.0, 6.0])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_retain_grad_follows_a_tensor_written_in_place():
    # (PyTorch 2.13: the retained .grad is the new value's)
    x = torch.ones(2, requires_grad=True)
    v = x * 2
    v.retain_grad()
    w = v * 3
    v.mul_(2)
    assert v.retains_grad
    w.sum().backward()
    assert v.grad is None
    v2 = x * 2
    v2.retain_grad()
    v2.add_(1)
    (v2 * v2).sum().backward()
    assert_allclose(v2.grad.numpy(), [6.0, 6.0])


def test_a_failing_backward_leaves_the_gradients_pytorchs_engine_completed_before():
    # (values from PyTorch 2.13: its engine runs the latest recorded ready node first and
    # raises at the first failing one; the leaves completed by then hold their gradients)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.tensor([3.0, -1.0], requires_grad=True)
    out = (y ** 2).sum() + x.sum()
    out.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()
    assert_allclose(x.grad.numpy(), [2.0, 2.0])  # (SumBackward0 keeps nothing: x's path ran)
    assert_allclose(y.grad.numpy(), [6.0, -2.0])
    a = torch.tensor([0.5, 1.5], requires_grad=True)
    b = torch.tensor([2.0, 3.0], requires_grad=True)
    c = torch.tensor([2.0, 3.0], requires_grad=True)
    s = a.sin()
    t = (s * b).sum() + (c * 3).sum()
    s.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        t.backward()
    assert a.grad is None and b.grad is None
    assert_allclose(c.grad.numpy(), [3.0, 3.0])


def test_a_view_of_a_base_that_requires_grad_requires_grad_with_no_edge_as_in_pytorch():
    # (PyTorch 2.13: a view taken under no_grad, or before its base required grad,
    # requires grad; what is computed from it requires grad, and nothing flows back)
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        v = x[0:2]
    assert v.requires_grad and v.grad_fn is None and v.is_leaf
    c = torch.ones(3)
    v = c[0:2]
    d = c.detach()
    c.requires_grad_()
    assert v.requires_grad and v.is_leaf and not d.requires_grad
    w = v * 2
    assert w.requires_grad and [f for f, _ in w.grad_fn.next_functions] == [None, None]
    w.sum().backward()
    assert c.grad is None and v.grad is None
    base = torch.ones(2)
    u = base.unsqueeze(0)
    base.requires_grad_()
    u.retain_grad()  # (it requires grad: no error; its .grad stays None)
    assert u.requires_grad and not u.retains_grad


@pytest.mark.parametrize("src", [torch.tensor([5.0, 5.0]), [5.0, 5.0], torch.tensor([5, 5])])
def test_copying_a_constant_into_a_result_cuts_what_it_was_computed_from(src):
    # (PyTorch 2.13: CopyBackwards over the old node; the gradient there is zero)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.copy_(src)
    assert type(y.grad_fn).__name__ == "CopyBackwards"
    (y * y + x).sum().backward()
    assert_allclose(x.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("change, name", [(lambda y: y.t_(), "TBackward1"), (lambda y: y.transpose_(0, 1), "TransposeBackward1"),
                                          (lambda y: y.unsqueeze_(1), "UnsqueezeBackward1"),
                                          (lambda y: y.swapaxes_(0, 1), "TransposeBackward1")])
def test_in_place_view_methods_change_the_tensor_itself(change, name):
    # (PyTorch 2.13: the tensor takes the view's layout and node, and its version moves)
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x * 2
    s = y.sin()
    assert change(y) is y and type(y.grad_fn).__name__ == name and y._version == 1
    assert [type(f).__name__ for f, _ in y.grad_fn.next_functions] == ["MulBackward0"]
    (y * torch.arange(y.numel()).reshape(y.shape)).sum().backward(retain_graph=True)
    expected = 2 * np.arange(6.0).reshape(y.shape)
    assert_allclose(x.grad.numpy(), expected.T if y.shape == (3, 2) else expected.reshape(2, 3))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()  # (SinBackward0 kept y, now written)


def test_data_replaced_on_a_result_is_what_later_ops_read():
    # (PyTorch 2.13: y's node stays; later ops read the new data)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.data = torch.tensor([5.0, -1.0])
    assert type(y.grad_fn).__name__ == "MulBackward0"
    (y * y + y * x).sum().backward()
    assert_allclose(x.grad.numpy(), [(2 * 5.0 + 1.0) * 2 + 5.0, (2 * -1.0 + 2.0) * 2 - 1.0])


def test_var_and_std_without_degrees_of_freedom_are_nan_and_so_are_their_gradients():
    # (PyTorch 2.13: 0 / 0 in the value and in the gradient)
    x = torch.tensor(0.22, dtype=torch.float64, requires_grad=True)
    torch.reciprocal(x.std().abs() + 1).backward()
    assert np.isnan(x.grad.item())
    y = torch.tensor([[1.0, 2.0]], requires_grad=True)
    v = y.var(0)
    assert np.isnan(v.detach().numpy()).all()
    v.sum().backward()
    assert np.isnan(y.grad.numpy()).all()


def test_a_failing_autograd_grad_leaves_the_retained_gradients_pytorchs_engine_reached():
    # (PyTorch 2.13: v4's retained gradient is set before the node that raises)
    x0 = torch.tensor([-0.12, -0.22, 1.41, 0.98], requires_grad=True)
    v1 = x0 * 1
    v4 = v1.prod(dim=0)
    v4.retain_grad()
    v1.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.autograd.grad(v4 * 3, [x0])
    assert v4.grad.item() == 3.0 and x0.grad is None


@pytest.mark.parametrize("power", [lambda x, t: x.abs() ** t, lambda x, t: 2 ** t])
def test_a_power_with_a_tensor_exponent_keeps_its_result_as_in_pytorch(power):
    # (PyTorch 2.13: PowBackward1/PowBackward2 keep the result; writing it raises)
    x = torch.tensor([0.5, 1.5], requires_grad=True)
    t = torch.tensor([2.0, 3.0], requires_grad=True)
    y = power(x, t)
    y.clamp_(-1, 1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("call, keeps", [
    (lambda x: x.std(), "both"), (lambda x: x.var(), "input"), (lambda x: x.logsumexp(0), "both"),
    (lambda x: torch.nn.functional.gelu(x), "input"), (lambda x: torch.nn.functional.elu(x), "input"),
    (lambda x: torch.nn.functional.logsigmoid(x), "input"), (lambda x: x.median(), "both"),
    (lambda x: torch.nn.functional.layer_norm(x, (3,)), "input"), (lambda x: x.abs().rsqrt(), "both"),
    (lambda x: torch.lgamma(x.abs()), "input"), (lambda x: torch.nn.functional.silu(x), "input")])
def test_a_composite_call_keeps_what_pytorchs_node_keeps(call, keeps):
    # (PyTorch 2.13: changing a kept tensor in place makes the backward raise; the others not)
    for which in ("input", "result"):
        x = torch.tensor([0.5, 1.5, -0.7], requires_grad=True)
        a = x * 1
        y = call(a)
        with torch.no_grad():
            (a if which == "input" else y).mul_(1.0)
        if keeps in (which, "both"):
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                y.sum().backward()
        else:
            y.sum().backward()


def test_an_in_place_add_whose_old_value_is_gone_reads_its_result():
    """`a += f(a)` overwrites the value it read: the backward reads the result as computed
    (a fusion boundary), never the old value, whose data is gone."""
    x = torch.linspace(-1, 1, 6, dtype=torch.float64).requires_grad_()
    a = x.clone()
    a += a + x.abs() + 0.1 * x
    a.sin().sum().backward()
    xv = np.linspace(-1, 1, 6)
    np.testing.assert_allclose(x.grad.numpy(), np.cos(2 * xv + np.abs(xv) + 0.1 * xv) * (2.1 + np.sign(xv)),
                               rtol=1e-12)


def test_gradients_accumulate_as_pytorchs_accumulategrad_and_retain_grad_do():
    """Values and nodes as PyTorch 2.13 printed them: under create_graph a leaf's first
    gradient is a copy (CopyBackwards), a retained one a clone (CloneBackward0); a later
    backward without create_graph adds into the leaf's in place (its history stays) and
    makes the retained one a plain sum (no history; it used to be a recorded AddBackward0)."""
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward(create_graph=True)
    assert_array_equal(x.grad.detach().numpy(), [18.0, 36.0])
    assert type(x.grad.grad_fn).__name__ == "CopyBackwards" and y.grad.grad_fn.name() == "CloneBackward0"
    (y * y).sum().backward(retain_graph=True)
    assert_array_equal(x.grad.detach().numpy(), [36.0, 72.0])
    assert_array_equal(y.grad.numpy(), [12.0, 24.0])
    assert type(x.grad.grad_fn).__name__ == "CopyBackwards" and y.grad.grad_fn is None
    x.grad.sum().backward()  # (through the first gradient's history: d(18 x)/dx)
    assert_array_equal(x.grad.detach().numpy(), [54.0, 90.0])
    assert_array_equal(y.grad.numpy(), [18.0, 30.0])


def test_a_median_or_kthvalue_is_a_result_of_its_own():
    """`v = x.median(dim=0, keepdim=True).values; v.exp_()` is ExpBackward0 over
    MedianBackward1, as PyTorch 2.13 printed (srcgrad cut it from the sorted values: the
    write went through them, AsStridedBackward0); gradients as PyTorch's."""
    x = leaf([[1.45], [1.05], [-1.45], [1.73]])
    v0 = (x.abs() + 0.5) ** x
    v = v0.median(dim=0, keepdim=True).values
    v.exp_()
    assert v.grad_fn.name() == "ExpBackward0"
    assert v.grad_fn.next_functions[0][0].name() == "MedianBackward1"
    k = torch.kthvalue(v0 * 1, 2, 0).values
    k.mul_(2)
    assert k.grad_fn.name() == "MulBackward0"
    (v.sum() + k.sum()).backward()
    assert_allclose(x.grad.numpy(), [[0.0], [12.1542], [0.0], [0.0]], atol=1e-4)


def test_reductions_with_indices_are_results_of_their_own_named_as_pytorchs():
    """Node names PyTorch 2.13 printed, and an in-place op on each result is its own node
    (ExpBackward0), not a write through what srcgrad cut it from (AsStridedBackward0)."""
    a = leaf([[0.31, -1.2, 2.0, 0.4], [1.5, 0.7, -0.4, -0.9], [0.9, 0.1, -2.2, 1.3]])
    cases = {"MaxBackward0": lambda x: x.max(1).values, "KthvalueBackward0": lambda x: x.kthvalue(2, 1).values,
             "ModeBackward0": lambda x: x.mode(1).values, "CummaxBackward0": lambda x: x.cummax(1).values,
             "NanmedianBackward0": lambda x: x.nanmedian(), "VarMeanBackward0": lambda x: torch.var_mean(x, 1)[1],
             "StdMeanBackward0": lambda x: torch.std_mean(x, 1)[0], "RepeatBackward0": lambda x: x.tile((2,))}
    for name, fn in cases.items():
        y = fn(a * 1)
        assert y.grad_fn.name() == name, (name, y.grad_fn.name())
        y.exp_()
        assert y.grad_fn.name() == "ExpBackward0", (name, y.grad_fn.name())
    y = a.max(1).values
    y.exp_()
    y.sum().backward()
    assert_allclose(a.grad.numpy(), [[0.0, 0.0, np.exp(2.0), 0.0], [np.exp(1.5), 0.0, 0.0, 0.0],
                                     [0.0, 0.0, 0.0, np.exp(1.3)]], rtol=1e-6)
