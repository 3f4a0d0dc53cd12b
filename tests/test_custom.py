"""Custom derivative rules: JAX's custom_vjp, PyTorch's Function, sympy-defined primitives."""
import numpy as np
import pytest

import srcgrad
import srcgrad.numpy as snp
from srcgrad.testing import gradcheck


class DoubledExp(srcgrad.autograd.Function):
    """exp with a deliberately different rule (2x), to see that the rule is what is used."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        ctx.factor = 2.0
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * ctx.factor


def test_function_style_rule_is_used_and_named():
    x = srcgrad.tensor([0.5, 1.0], requires_grad=True)
    y = DoubledExp.apply(x)
    np.testing.assert_allclose(y.detach().numpy(), np.exp([0.5, 1.0]), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([0.5, 1.0]), rtol=1e-6)
    assert "custom[DoubledExp]" in srcgrad.inspect.ir(y.sum())
    assert type(y.grad_fn).__name__ == "DoubledExpBackward"  # as PyTorch names a Function
    assert "test_custom.py" in srcgrad.inspect.backward_source(y.sum())


def test_function_rule_compiles_once_for_a_training_loop():
    from srcgrad.autograd import engine
    x = srcgrad.tensor([0.5, 1.0], requires_grad=True)
    DoubledExp.apply(x).sum().backward()
    first = engine.last_compiled()
    for _ in range(3):
        DoubledExp.apply(x).sum().backward()
        assert engine.last_compiled() is first


def test_rules_are_differentiable_again():
    # g = 2 y with y the Function's saved output: its derivative is the rule's again
    # (2 * 2 exp(x), PyTorch's 6.5949, 10.8731); forward runs without recording
    x = srcgrad.tensor([0.5, 1.0], dtype=srcgrad.float64, requires_grad=True)
    (g,) = srcgrad.autograd.grad(DoubledExp.apply(x).sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([0.5, 1.0]))


class _TripledInPlace(srcgrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(3.0)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 3.0


def test_mark_dirty_returns_the_input_itself_with_this_nodes_history():
    # (checked against PyTorch 2.13: w.grad = 72, 144; a leaf is refused)
    w = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    h = w * 2
    out = _TripledInPlace.apply(h)
    assert out is h and type(h.grad_fn).__name__ == "_TripledInPlaceBackward"
    (out ** 2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [72.0, 144.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        _TripledInPlace.apply(srcgrad.tensor([1.0], requires_grad=True))


@srcgrad.custom_vjp
def clip_gradient(x):
    return x


def _fwd(x):
    return x * 1.0, None


def _bwd(_, g):
    return (snp.clip(g, -1.0, 1.0),)


clip_gradient.defvjp(_fwd, _bwd)


def test_custom_vjp_inside_a_decorated_function():
    def loss(w):
        return np.sum(clip_gradient(w * 10) ** 2)
    g = srcgrad.grad(loss)
    np.testing.assert_allclose(g(np.array([0.01, 0.5, -3.0])), [2.0, 10.0, -10.0])
    np.testing.assert_allclose(g(np.array([0.02, -0.01, 1.0])), [4.0, -2.0, 10.0])
    assert "np.clip" in g.source(np.ones(3))


def test_custom_vjp_with_residuals_and_two_arguments():
    @srcgrad.custom_vjp
    def mul(a, b):
        return a * b

    def fwd(a, b):
        return a * b, (a, b)

    def bwd(res, g):
        a, b = res
        return g * b, g * a
    mul.defvjp(fwd, bwd)
    gradcheck(lambda a, b: mul(a, b).sin(), np.array([0.3, -1.2]), np.array([2.0, 0.5]))


def test_register_elementwise_from_a_formula():
    softsign = srcgrad.register_elementwise("softsign_test", lambda a: a / (1 + abs(a)))
    gradcheck(lambda x: softsign(x) * 3, np.array([0.5, -2.0, 0.0001]))
    src = srcgrad.grad(lambda x: np.sum(softsign(x))).source(np.ones(2))
    assert "np.abs(x)" in src


def test_rules_must_be_straight_line():
    class Bad(srcgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 if float(x.sum()) > 0 else g
    x = srcgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="straight-line"):
        Bad.apply(x).sum().backward()


def test_compile_of_a_function_of_one_array():
    # its backward returns a tuple of one gradient, which the caller's backward unpacks
    @srcgrad.compile
    def f(x):
        return np.sum(np.abs(x) * 0.5) + np.sum(x * x)
    x = srcgrad.tensor(np.array([0.8, -0.3]), requires_grad=True)
    f(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.5 * np.sign([0.8, -0.3]) + 2 * np.array([0.8, -0.3]))


def test_compile_runs_generated_forward_and_backward():
    @srcgrad.compile
    def layer(x, W, b):
        return np.tanh(x @ W + b)
    rng = np.random.default_rng(0)
    W0, x0 = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    W = srcgrad.tensor(W0, requires_grad=True)
    b = srcgrad.zeros(2, dtype=srcgrad.float64, requires_grad=True)
    x = srcgrad.tensor(x0)
    y = layer(x, W, b)
    loss = (y * y).sum()
    src = srcgrad.inspect.backward_source(loss)
    loss.backward()
    assert "layer_vjp_" in src  # the compiled function's backward, called by name
    W2 = srcgrad.tensor(W0, requires_grad=True)
    b2 = srcgrad.zeros(2, dtype=srcgrad.float64, requires_grad=True)
    y2 = (x @ W2 + b2).tanh()
    (y2 * y2).sum().backward()
    np.testing.assert_allclose(W.grad.numpy(), W2.grad.numpy())
    np.testing.assert_allclose(b.grad.numpy(), b2.grad.numpy())
    assert "def layer_forward(x, W, b):" in layer.source(x, W, b)
    # plain arrays in: tensors out, no graph
    out = layer(x0, W0, np.zeros(2))
    assert not out.requires_grad
    np.testing.assert_allclose(out.numpy(), np.tanh(x0 @ W0))


def test_a_function_checks_the_gradients_its_backward_returns():
    import srcgrad as torch

    def doubling(name, backward):  # x * 2, with a backward returning what it is given
        return type(name, (torch.autograd.Function,), {
            "forward": staticmethod(lambda ctx, x: x * 2), "backward": staticmethod(backward)})
    TooMany = doubling("TooMany", lambda ctx, g: (g, g))
    WrongShape = doubling("WrongShape", lambda ctx, g: torch.ones(5))
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        TooMany.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"invalid gradient at index 0 - got \[5\]"):
        WrongShape.apply(x).sum().backward()


def test_outputs_marked_non_differentiable_and_integer_outputs_are_detached():
    import srcgrad as torch

    class SortWithIndex(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, idx = torch.sort(x)
            ctx.save_for_backward(idx)
            flag = values > 0
            ctx.mark_non_differentiable(flag)
            return values, idx, flag

        @staticmethod
        def backward(ctx, g, g_idx, g_flag):
            (idx,) = ctx.saved_tensors
            out = torch.zeros_like(g)
            out[idx] = g
            return out
    x = torch.tensor([3.0, -1.0, 2.0], requires_grad=True)
    values, idx, flag = SortWithIndex.apply(x)
    assert idx.grad_fn is None and idx.is_leaf and not idx.requires_grad
    assert flag.grad_fn is None and not flag.requires_grad
    (values * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [100.0, 1.0, 10.0])


def test_a_function_in_pytorch_2s_setup_context_style():
    import srcgrad as torch

    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    np.testing.assert_allclose(y.detach().numpy(), [1.0, 8.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
