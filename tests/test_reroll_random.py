"""Random loop programs: the re-rolled code must agree with the unrolled trace and with an
eager run, in value and gradient, including calls whose data takes another path."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad import config
from thresholds import thresholds

# statements of a loop body over a carried state `h` (shape (3,)), an invariant matrix W,
# a sequence xs (T, 3) read at the iteration's index, and an accumulator `acc`
STATEMENTS = [
    "h = np.tanh(W @ h + xs[t])",
    "h = h * 0.9 + np.sin(xs[t]) * 0.1",
    "h = np.maximum(h, -0.5) - 0.1 * h",
    "acc = acc + np.sum(h * h)",
    "acc = acc + np.sum(xs[t] * h)",
    "h = h / (1.0 + np.abs(h))",
    "h = np.where(h > 0, h, 0.5 * h)",
    "z = np.exp(-h ** 2)\n        h = h + z * 0.2",
    "h = W.T @ h * 0.5",
    "acc = acc * 0.95 + np.max(h)",
    "h = np.concatenate([h[1:], h[:1]]) * 1.1",
    "if np.sum(h) > 0:\n            h = h * 0.8\n        else:\n            h = h + 0.1",
    "h = h + xs[t + 1 if t + 1 < T else t] * 0.05",
    "acc = acc + np.sum(h[::2])",
    "for _ in range(3):\n            h = np.tanh(h) * 1.2",
    "ys.append(h)",
    "h = (h[:, None] * W).sum(axis=0) * 0.5",
    "acc = acc + float(np.sum(h) > 1.0)",
    "h = np.sort(h) + h * 0.1",
]

TEMPLATE = """
def f(W, xs, h0):
    T = xs.shape[0]
    h = h0
    acc = 0.0
    ys = [h0]
    for t in range(T):
        {body}
    return acc + np.sum(h ** 2) + np.sum(np.stack(ys[-2:]) ** 2){tail}
"""


def _compile(body, tail):
    src = TEMPLATE.format(body="\n        ".join(body), tail=tail)
    ns = {"np": np}
    exec(compile(src, f"<loop program {abs(hash(src))}>", "exec"), ns)
    return ns["f"], src


def _eager(f, args):
    ts = [srcgrad.tensor(a, requires_grad=True) for a in args]
    out = f(*ts)
    out.backward()
    return float(out.item()), [t.grad.numpy() if t.grad is not None else np.zeros_like(a)
                               for t, a in zip(ts, args)]


@settings(max_examples=40, deadline=None)
@given(body=st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=4),
       tail=st.sampled_from(["", " + np.sum(h * h0)", " * 1.0", " + np.sum(np.stack(ys))"]),
       T=st.integers(3, 7), seed=st.integers(0, 2 ** 16))
def test_random_loop_programs(body, tail, T, seed):
    _check(body, tail, T, seed)


@settings(max_examples=25, deadline=None)
@given(body=st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=4),
       tail=st.sampled_from(["", " + np.sum(h * h0)", " * 1.0", " + np.sum(np.stack(ys))"]),
       T=st.integers(3, 7), seed=st.integers(0, 2 ** 16))
def test_random_loop_programs_with_every_large_array_form(body, tail, T, seed):
    """The same, with every large-array threshold at 1: in-place kernels, memory reuse,
    einsum sums (in loop bodies too) and shared subformulas on 3-element arrays."""
    with thresholds(1):
        _check(body, tail, T, seed)


def _check(body, tail, T, seed):
    f, src = _compile(body, tail)
    rng = np.random.default_rng(seed)
    args = (rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(T, 3)), rng.normal(size=3))
    g = srcgrad.value_and_grad(f, argnums=(0, 1, 2))
    value, grads = g(*args)
    saved = config.reroll
    config.reroll = False
    try:
        value_u, grads_u = srcgrad.value_and_grad(f, argnums=(0, 1, 2))(*args)
    finally:
        config.reroll = saved
    value_e, grads_e = _eager(f, args)
    np.testing.assert_allclose(value, value_u, rtol=1e-12, atol=1e-12, err_msg=src)
    np.testing.assert_allclose(value, value_e, rtol=1e-12, atol=1e-12, err_msg=src)
    for a, b, c in zip(grads, grads_u, grads_e):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=src)
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12, err_msg=src)
    # other data (another path through the `if`s) through the same compiled function
    args2 = (args[0], -args[1], -args[2])
    value2, grads2 = g(*args2)
    value_e2, grads_e2 = _eager(f, args2)
    np.testing.assert_allclose(value2, value_e2, rtol=1e-12, atol=1e-12, err_msg=src)
    for a, c in zip(grads2, grads_e2):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12, err_msg=src)
