"""A re-rolled loop's backward forms cheap forward values again instead of saving them
per iteration (ir/remat.py)."""
import re

import numpy as np
import pytest

import srcgrad
from srcgrad import config
from thresholds import thresholds


def _saved(src):
    """The names one iteration saves for the backward."""
    m = re.search(r"saved\.append\(\((.*)\)\)", src)
    assert m, src
    return [s.strip() for s in m.group(1).split(",") if s.strip()]


def _sigmoid_scan(w, xs):
    h = np.zeros(w.shape[0])
    total = 0.0
    x = xs[0]
    for t in range(xs.shape[0] - 1):
        h = 1 / (1 + np.exp(-(w * h + x)))
        x = xs[t + 1]
        total = total + np.sum(h * x)
    return total


def _args():
    rng = np.random.default_rng(1)
    return rng.normal(size=6), rng.normal(size=(12, 6))


def _compiled_like_eager(f, args):
    """value_and_grad(f) in every argument, after checking it against the eager engine."""
    g = srcgrad.value_and_grad(f, argnums=tuple(range(len(args))))
    value, grads = g(*args)
    ts = [srcgrad.tensor(a, requires_grad=True) for a in args]
    out = f(*ts)
    out.backward()
    np.testing.assert_allclose(value, float(out.item()), rtol=1e-12)
    for a, t in zip(grads, ts):
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-10, atol=1e-14)
    return g


def test_a_sigmoid_saves_its_exponential_alone_and_a_row_of_an_argument_not_at_all():
    args = _args()
    g = _compiled_like_eager(_sigmoid_scan, args)
    src = g.source(*args)
    assert "for i in range(" in src, src
    saved = _saved(src)
    # exp(-z) is saved; 1 + exp(-z) is formed again from it in the backward, and the row
    # xs[t + 1] is read again at the counter: each of them would be one more array per step
    assert not any(re.search(rf"^\s*{re.escape(s)} = xs\[", src, re.M) for s in saved), src
    exps = [s for s in saved if re.search(rf"^\s*{re.escape(s)} = np\.exp\(", src, re.M)]
    plus_one = [s for s in saved if re.search(rf"^\s*{re.escape(s)} = t\d+ \+ 1\b", src, re.M)]
    assert exps and not plus_one, src


def test_a_loop_saves_less_per_step_than_when_it_saved_every_value_read():
    """The saved tuple shrinks; the gradient is the one an unrolled trace computes."""
    args = _args()
    g = srcgrad.value_and_grad(_sigmoid_scan, argnums=(0, 1))
    got = g(*args)
    saved = config.reroll
    config.reroll = False
    try:
        want = srcgrad.value_and_grad(_sigmoid_scan, argnums=(0, 1))(*args)
    finally:
        config.reroll = saved
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    assert len(_saved(g.source(*args))) <= 2, g.source(*args)


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_a_value_formed_again_from_another_output_of_its_kernel(scale):
    """`e + scale` formed from `e = exp(-z)`, its kernel's other output, in the backward:
    a kernel of several outputs gives one of them up, not all."""
    def f(w, xs):
        h = np.zeros(w.shape[0])
        for t in range(xs.shape[0]):
            e = np.exp(-(w * h + xs[t]))
            h = e / (e + scale) + np.log(e + scale) * 0.1
        return np.sum(h)
    args = _args()
    g = _compiled_like_eager(f, args)
    assert len(_saved(g.source(*args))) == 2, g.source(*args)  # e and h; not e + scale


def test_a_value_compared_with_its_maximum_is_saved_not_formed_again():
    """max(h)'s gradient goes where h == max(h): formed again in the backward, h could be
    printed in another order and round differently, and then no entry would equal the
    saved maximum (the gradient divided by a count of 0: NaN). Found by
    tests/test_reroll_random.py."""
    def f(xs, h0):
        h, acc = h0, 0.0
        for t in range(xs.shape[0]):
            h = h * 0.9 + np.sin(xs[t]) * 0.1
            acc = acc + np.sum(h * h)
            h = h / (1.0 + np.abs(h))
            acc = acc * 0.95 + np.max(h)
        return acc + np.sum(h ** 2)
    rng = np.random.default_rng(0)
    rng.normal(size=(3, 3))
    xs, h0 = rng.normal(size=(3, 3)), rng.normal(size=3)
    with thresholds(1):
        value, (gx, gh) = srcgrad.value_and_grad(f, argnums=(0, 1))(xs, h0)
    tx, th = srcgrad.tensor(xs, requires_grad=True), srcgrad.tensor(h0, requires_grad=True)
    f(tx, th).backward()
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gh, th.grad.numpy(), rtol=1e-10)
