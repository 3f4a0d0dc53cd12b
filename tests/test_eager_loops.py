"""Eager `backward()` through a Python loop: the recorded run is re-rolled (ir/reroll.py)
and the backward is generated once, as a reverse `for` over the arrays each iteration
recorded, so its source and compile time do not grow with the trip count."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad as torch
from srcgrad import config
from srcgrad.autograd import engine


def _rnn(W, U, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = torch.tanh(xs[t] @ U + 0.5 * (h @ W))
    return (h ** 2).sum()


def _leaves(seed, T):
    rng = np.random.default_rng(seed)
    W = torch.tensor(rng.normal(size=(5, 5)) * 0.5, requires_grad=True)
    U = torch.tensor(rng.normal(size=(3, 5)), requires_grad=True)
    return W, U, torch.tensor(rng.normal(size=(T, 3))), torch.zeros(5, dtype=torch.float64)


def _grads(fn, leaves, args, reroll=True):
    saved = config.reroll
    config.reroll = reroll
    try:
        for t in leaves:
            t.grad = None
        out = fn(*args)
        out.backward()
        return out.item(), [np.zeros(t.shape) if t.grad is None else t.grad.numpy().copy() for t in leaves], \
            engine.last_compiled()
    finally:
        config.reroll = saved


def _same(a, b):
    assert a[0] == pytest.approx(b[0], rel=1e-12)
    for x, y in zip(a[1], b[1]):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_an_eager_loop_backward_is_one_reverse_loop_of_any_length():
    sources = []
    for T in (5, 40):
        W, U, xs, h0 = _leaves(0, T)
        looped = _grads(_rnn, [W, U], (W, U, xs, h0))
        _same(looped, _grads(_rnn, [W, U], (W, U, xs, h0), reroll=False))
        src = looped[2].source
        assert f"for i in range({T - 1}, -1, -1):" in src and "saved = list(zip(" in src
        body = src.replace(f"range({T - 1},", "range(T,").split("\n", 1)[1]  # (after the header)
        sources.append(" ".join(body.split()))
    assert sources[0] == sources[1]  # the same text, whatever the trip count


def _weighted(w, T):
    h = w
    for t in range(T):
        h = torch.sin(h) * (t + 1) / (2 * t + 3)
    return h.sum()


def test_an_eager_loop_with_an_operand_moving_with_the_counter():
    w = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64, requires_grad=True)
    looped = _grads(_weighted, [w], (w, 30))
    _same(looped, _grads(_weighted, [w], (w, 30), reroll=False))
    assert "for i in range(29, -1, -1):" in looped[2].source


def test_new_data_through_the_same_compiled_loop():
    W, U, xs, h0 = _leaves(1, 8)
    first = _grads(_rnn, [W, U], (W, U, xs, h0))
    xs2 = torch.tensor(np.random.default_rng(2).normal(size=(8, 3)))
    again = _grads(_rnn, [W, U], (W, U, xs2, h0))
    assert again[2] is first[2]  # no recompilation
    _same(again, _grads(_rnn, [W, U], (W, U, xs2, h0), reroll=False))


def test_inputs_that_change_per_iteration_and_a_sum_starting_at_zero():
    """A list of tensors without gradient (one per iteration) and `loss = 0` before
    the loop: both are read per iteration from what was recorded."""
    rng = np.random.default_rng(3)
    w = torch.tensor(rng.normal(size=4), requires_grad=True)
    inputs = [torch.tensor(rng.normal(size=4)) for _ in range(12)]

    def f(w):
        loss, h = 0, torch.ones(4, dtype=torch.float64)
        for x in inputs:
            h = torch.sin(h * w + x)
            loss = loss + (h * x).sum()
        return loss
    looped = _grads(f, [w], (w,))
    assert "for i in range(11, -1, -1):" in looped[2].source
    _same(looped, _grads(f, [w], (w,), reroll=False))


def test_changing_a_saved_array_in_place_is_still_an_error():
    w = torch.tensor(np.linspace(0.5, 1.5, 4), requires_grad=True)
    h, ys = torch.ones(4, dtype=torch.float64), []
    for _ in range(6):
        h = torch.tanh(h * w)
        ys.append(h)
    with torch.no_grad():
        ys[2].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h.sum().backward()


def test_a_second_backward_needs_retain_graph():
    w = torch.tensor(np.linspace(0.5, 1.5, 4), requires_grad=True)
    h = torch.ones(4, dtype=torch.float64)
    for _ in range(6):
        h = torch.tanh(h * w)
    loss = h.sum()
    loss.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_double_backward_and_hooks_through_a_loop():
    """create_graph and hooks on values inside the loop: the backward reaches single
    iterations' values, so the loop stays unrolled — with the same gradients."""
    x = torch.tensor([0.3, -0.2, 0.5], requires_grad=True)
    y, seen = x, []
    for _ in range(5):
        y = torch.sin(y) * 1.5
        y.register_hook(lambda g: seen.append(g))
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    g.sum().backward()
    xv, h = x.detach().numpy(), 1e-6

    def grad_sum(v):
        d, y = np.ones(3), v
        for _ in range(5):
            d, y = d * 1.5 * np.cos(y), np.sin(y) * 1.5
        return d.sum()
    fd = [(grad_sum(xv + h * e) - grad_sum(xv - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=1e-6)
    assert len(seen) == 9  # 5 in the first backward, 4 in the second (as PyTorch)


STEPS = [
    "h = torch.tanh(h @ W + xs[t])",
    "h = h * 0.9 + torch.sin(xs[t]) * 0.1",
    "h = torch.maximum(h, torch.tensor(-0.5, dtype=torch.float64)) - 0.1 * h",
    "acc = acc + (h * h).sum()",
    "acc = acc + (xs[t] * h).sum()",
    "h = h / (1.0 + h.abs())",
    "h = torch.where(h > 0, h, 0.5 * h)",
    "h = torch.cat([h[1:], h[:1]]) * 1.1",
    "h = h * extra[t]",
    "acc = acc * 0.95 + h.max()",
]


@settings(max_examples=30, deadline=None)
@given(body=st.lists(st.sampled_from(STEPS), min_size=1, max_size=4), T=st.integers(3, 7),
       seed=st.integers(0, 2 ** 16))
def test_random_eager_loops_agree_with_the_unrolled_backward(body, T, seed):
    src = "def f(W, xs, h0, extra):\n    h, acc = h0, 0.0\n    for t in range(xs.shape[0]):\n        " \
          + "\n        ".join(body) + "\n    return acc + (h ** 2).sum()\n"
    ns = {"torch": torch}
    exec(compile(src, "<eager loop>", "exec"), ns)
    rng = np.random.default_rng(seed)
    W = torch.tensor(rng.normal(size=(3, 3)) * 0.5, requires_grad=True)
    h0 = torch.tensor(rng.normal(size=3), requires_grad=True)
    xs = torch.tensor(rng.normal(size=(T, 3)))  # no gradient: read per iteration
    extra = [torch.tensor(rng.uniform(0.5, 1.5, size=3)) for _ in range(T)]
    args = (W, xs, h0, extra)
    looped = _grads(ns["f"], [W, h0], args)
    unrolled = _grads(ns["f"], [W, h0], args, reroll=False)
    assert looped[0] == pytest.approx(unrolled[0], rel=1e-12), src
    for a, b in zip(looped[1], unrolled[1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=src)
