"""Checkpointed loops (ir/checkpoint.py): a long loop's backward runs its forward again,
a segment at a time, instead of keeping every iteration's values."""
import re

import numpy as np
import pytest

import srcgrad
from numpy.testing import assert_array_equal
from peak_memory import peak
from srcgrad import config
from srcgrad.ir.checkpoint import segment_length

from benchmarks.workloads.ode import rhs, runge_kutta


@pytest.fixture
def checkpoints():
    """Set config.checkpoint_loops for one test (the compile key includes it)."""
    saved = config.checkpoint_loops

    def set_mode(mode):
        config.checkpoint_loops = mode
    yield set_mode
    config.checkpoint_loops = saved


def rnn(W, U, xs, h):
    total = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W * h + U * xs[t])
        total = total + np.sum(h * h)
    return total


def rnn_args(steps, width=8):
    rng = np.random.default_rng(0)
    return (rng.normal(size=width) * 0.5, rng.normal(size=width), rng.normal(size=(steps, width)),
            rng.normal(size=width))


def gradient(fn, args, mode, set_mode, argnums=(0, 1, 3)):
    set_mode(mode)
    vg = srcgrad.value_and_grad(fn, argnums=argnums)
    return vg(*args), vg.source(*args)


def assert_same(a, b):
    (va, ga), (vb, gb) = a, b
    np.testing.assert_allclose(va, vb, rtol=1e-12)
    for x, y in zip(ga, gb):
        np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-14)


def test_a_long_loop_over_small_arrays_is_checkpointed(checkpoints):
    args = rnn_args(1000)
    got, src = gradient(rnn, args, "auto", checkpoints)
    want, plain = gradient(rnn, args, False, checkpoints)
    assert "iterations at a time" in src and "h_checkpoints[i // " in src
    assert "checkpoints" not in plain
    assert_same(got, want)


def test_the_running_loss_is_not_checkpointed(checkpoints):
    """The backward never reads `total`: the segments' forward leaves it out."""
    _, src = gradient(rnn, rnn_args(1000), "auto", checkpoints)
    assert "h_checkpoints = np.empty(" in src and "total_checkpoints" not in src
    rerun = src[src.index("the segment's forward again"):src.index("for i in range(stop - 1")]
    assert "h_2 = np.tanh(" in rerun and "total" not in rerun


def coupled(W, xs, h):
    """A 0-d carried value the backward reads: checkpoints are a list of tuples (rows of
    arrays need values of at least one dimension)."""
    a = np.sum(h) * 0.0
    total = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W * h + xs[t] + a)
        a = np.sin(a + np.sum(h))
        total = total + a * np.sum(h)
    return total


@pytest.mark.parametrize("segment", [2, 3])
def test_a_0d_carried_value_is_checkpointed_in_a_list(checkpoints, segment):
    W, _, xs, h = rnn_args(9, width=4)
    got, src = gradient(coupled, (W, xs, h), segment, checkpoints, argnums=(0, 1, 2))
    want, _ = gradient(coupled, (W, xs, h), False, checkpoints, argnums=(0, 1, 2))
    assert "checkpoints.append((h, a))" in src and "= checkpoints[segment - 1] if segment else (" in src
    assert_same(got, want)  # (`total` shares a fused kernel with `a`, but nothing reads it)


def test_a_short_loop_keeps_its_saved_values(checkpoints):
    _, src = gradient(rnn, rnn_args(12), "auto", checkpoints)
    assert "saved[i]" in src and "checkpoints" not in src


@pytest.mark.parametrize("segment", [1, 2, 3, 5, 6])
def test_segments_that_do_not_divide_the_count(checkpoints, segment):
    args = rnn_args(7, width=3)
    got, src = gradient(rnn, args, segment, checkpoints)
    want, _ = gradient(rnn, args, False, checkpoints)
    assert (f"{segment} iterations at a time" if segment > 1 else "each iteration run again from its checkpoint") in src
    assert_same(got, want)


def test_a_segment_as_long_as_the_loop_is_not_a_checkpoint(checkpoints):
    _, src = gradient(rnn, rnn_args(7, width=3), 7, checkpoints)
    assert "checkpoints" not in src


def carried_result(W, x):
    """The loop's own carried value is the result: the backward's second run of the
    forward must not overwrite the variable the function returns."""
    y = x
    for _ in range(9):
        y = np.sin(W * y) + y
    return np.sum(y), y


def test_the_values_returned_are_the_forward_ones(checkpoints):
    rng = np.random.default_rng(1)
    args = (rng.normal(size=5), rng.normal(size=5))
    checkpoints(2)
    vg = srcgrad.value_and_grad(carried_result, argnums=(0, 1), has_aux=True)
    (value, y), grads = vg(*args)
    assert "iterations at a time" in vg.source(*args)
    checkpoints(False)
    (value0, y0), grads0 = srcgrad.value_and_grad(carried_result, argnums=(0, 1), has_aux=True)(*args)
    np.testing.assert_allclose(value, value0, rtol=1e-13)
    np.testing.assert_allclose(y, y0, rtol=1e-13)
    for a, b in zip(grads, grads0):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def two_loops(W, xs):
    h = np.zeros(4)
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    g = h
    for t in range(xs.shape[0]):
        g = g * np.cos(W @ g)
    return np.sum(g ** 2)


def test_two_loops_one_after_the_other(checkpoints):
    rng = np.random.default_rng(2)
    args = (rng.normal(size=(4, 4)) * 0.4, rng.normal(size=(10, 4)))
    got, src = gradient(two_loops, args, 3, checkpoints, argnums=(0, 1))
    want, _ = gradient(two_loops, args, False, checkpoints, argnums=(0, 1))
    assert src.count("iterations at a time") == 2
    assert_same(got, want)


def test_the_setting_is_part_of_the_compile_key(checkpoints):
    args = rnn_args(1000)
    checkpoints("auto")
    vg = srcgrad.value_and_grad(rnn, argnums=(0,))
    vg(*args)
    assert "checkpoints" in vg.source(*args)
    checkpoints(False)
    vg(*args)
    assert "checkpoints" not in vg.source(*args)


def test_the_program_ir_shows_the_segment(checkpoints):
    args = rnn_args(1000)
    checkpoints("auto")
    vg = srcgrad.value_and_grad(rnn, argnums=(0,))
    k = segment_length_of(vg.source(*args))
    assert f"count=1000, segment={k}" in vg.program_ir(*args)


def segment_length_of(src):
    line = next(s for s in src.splitlines() if "iterations at a time" in s)
    return int(line.split("in reverse, ")[1].split()[0])


def test_checkpoints_cut_the_memory_a_long_loop_keeps(checkpoints):
    """What the feature is for (a memory count, not a timing): the peak of a gradient call
    of a 1000-step loop falls several times."""
    args = rnn_args(1000)
    vg = srcgrad.value_and_grad(rnn, argnums=(0, 1, 3))
    checkpoints("auto")
    vg(*args)  # (compiled: the setting is part of the key)
    light = peak(vg, *args)
    checkpoints(False)
    vg(*args)
    heavy = peak(vg, *args)
    assert light * 4 < heavy


def test_segment_length_balances_checkpoints_and_saved_values():
    from srcgrad.ir.graph import Graph
    g = Graph()
    small = [g.add_input((14,), np.dtype(np.float64)) for _ in range(24)]
    carried = small[:5]
    k = segment_length(small, carried, 1023, "auto")
    assert 10 <= k <= 20  # ~sqrt(1023 * 5 / 24)
    assert segment_length(small, carried, 10, "auto") is None  # too little to save
    big = [g.add_input((1000,), np.dtype(np.float64)) for _ in range(4)]
    # an ODE solver's 10 large steps save ten times what one step holds: checkpointed, a
    # step at a time (the model's two-step segments are not worth their longer reruns)
    assert segment_length(big, big[:1], 10, "auto") == 1
    assert segment_length(big, big[:1], 4, "auto") is None  # (less than a quarter megabyte)


def matvec_loop(W, h):
    for _ in range(4):
        h = (h[:, None] * W).sum(axis=0) * 0.5
    return np.sum(h ** 2)


def test_a_view_written_inline_in_the_forward_is_read_by_name_in_the_rerun(checkpoints):
    """The first forward writes `h[:, None]` inline in its einsum; the segments' forward
    saves it, so it is a variable there (the emitter decides inlining again per block)."""
    from thresholds import thresholds
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3))
    with thresholds(1):
        got, src = gradient(matvec_loop, args, 3, checkpoints, argnums=(0, 1))
        want, _ = gradient(matvec_loop, args, False, checkpoints, argnums=(0, 1))
    rerun = src[src.index("the segment's forward again"):src.index("for i in range(stop - 1")]
    assert "h[:, None]" not in rerun
    assert_same(got, want)


def shared_invariant(W, x):
    a = np.sin(x)
    b = np.sin(x)  # equal to `a`: merged into it (ir/cse.py copies the loop node reading it)
    h = a
    for _ in range(8):
        h = np.tanh(W * h + b)
    return np.sum(h ** 2)


def test_a_loop_node_copied_by_a_pass_is_still_checkpointed(checkpoints):
    rng = np.random.default_rng(5)
    args = (rng.normal(size=4) * 0.5, rng.normal(size=4))
    got, src = gradient(shared_invariant, args, 3, checkpoints, argnums=(0, 1))
    want, _ = gradient(shared_invariant, args, False, checkpoints, argnums=(0, 1))
    assert "3 iterations at a time" in src
    assert_same(got, want)


def reads_ahead(W, U, xs, h):
    """A carried input row read at the counter (`x = xs[t + 1]`, as ADBench's LSTM) and a
    carried view of the state (`tail = h[1:]`)."""
    total = 0.0
    x = xs[0]
    tail = h[1:] * 0.0
    for t in range(xs.shape[0] - 1):
        h = np.tanh(W * h + U * x + np.concatenate([tail, h[:1]]))
        x = xs[t + 1]
        tail = h[1:]
        total = total + np.sum(h * x)
    return total


@pytest.mark.parametrize("segment", [True, 7])
def test_carried_views_are_formed_again_at_a_segments_start_not_kept(checkpoints, segment):
    args = rnn_args(60)
    got, src = gradient(reads_ahead, args, segment, checkpoints)
    want, _ = gradient(reads_ahead, args, False, checkpoints)
    assert_same(got, want)
    formed = [line for line in src.splitlines() if "formed again" in line]
    assert len(formed) == 2, src
    assert any("= xs[start] if segment else" in line for line in formed), src
    assert any("_r[1:] if segment else" in line for line in formed), src
    assert "x_checkpoints" not in src and "tail_checkpoints" not in src, src




def rk4(x, steps):
    """GradBench's ODE (benchmarks/workloads/ode.py), its last 12 elements weighted (the
    workload's last element has a zero gradient beyond 4 * steps elements)."""
    y = runge_kutta(x, np.zeros(x.shape[0]), 2.0, steps)
    return np.sum(y[-12:] * np.arange(12))


@pytest.mark.parametrize("segment", [2, 3])
def test_a_segments_last_iteration_computes_no_next_state(checkpoints, segment):
    """The next segment starts from its own checkpoint: the rerun's last iteration stops
    once it has saved what the backward reads, and drops what only the next state read."""
    x = np.random.default_rng(1).random(30)
    got, src = gradient(rk4, (x, 7), segment, checkpoints, argnums=0)
    want, _ = gradient(rk4, (x, 7), False, checkpoints, argnums=0)
    assert_same((got[0], [got[1]]), (want[0], [want[1]]))
    lines = src.splitlines()
    k = next(j for j, line in enumerate(lines) if line.strip().startswith("if i == stop - 1:"))
    assert lines[k + 1].strip().startswith("del ") and lines[k + 2].strip() == "break", src
    assert "saved.pop()" in src  # (the backward lets go of each iteration's values)


def test_an_ode_gradient_stays_within_twice_the_forwards_memory(checkpoints):
    """A memory count, not a timing (the benchmark's target). By default ("auto") an RK4
    solver's 10 steps are checkpointed one at a time: the peak is under twice the
    forward's (arguments counted in both), against 5x kept whole. Forward and backward
    bodies drop what they no longer read, take over dying arrays, add x's gradient into its
    sum term by term, and form k2's and k3's gradients where they are written into."""
    x = np.random.default_rng(0).random(2000)
    checkpoints("auto")
    vg = srcgrad.value_and_grad(rk4)
    vg(x, 10)
    ratio = (peak(vg, x, 10) + x.nbytes) / (peak(rk4, x, 10) + x.nbytes)
    src = vg.source(x, 10)
    assert "each iteration run again from its checkpoint" in src
    assert ratio < 1.95, (ratio, src)  # (1.90 here)
    # (the next state is computed in place, under a name of its own, then bound: the
    # step's combination holds no temporaries, and the name lets go of it)
    code = [line.split("#")[0].strip() for line in src.splitlines()]
    k = next(j for j, line in enumerate(code) if re.fullmatch(r"y = t\d+", line))
    assert code[k + 1] == "del " + code[k].split(" = ")[1], src


def test_the_first_checkpoint_is_the_initial_state(checkpoints):
    """The state at iteration 0 is the loop's initial values, which the backward reads as
    they are: the forward copies no row for it (10 steps every 2: 4 rows, not 5)."""
    x = np.random.default_rng(1).random(14)
    got, src = gradient(rk4, (x, 10), 2, checkpoints, argnums=0)
    want, _ = gradient(rk4, (x, 10), False, checkpoints, argnums=0)
    assert "np.empty((4, 14), np.float64)" in src and "[i // 2 - 1] = y" in src, src
    assert "= y_checkpoints[segment - 1] if segment else " in src, src
    assert_same((got[0], [got[1]]), (want[0], [want[1]]))


def rk2_vector(x, steps=10):
    y, h = np.zeros(x.shape[0]), 2.0 / steps
    for _ in range(steps):
        k1 = rhs(x, y)
        k2 = rhs(x, y + h / 2 * k1)
        y = y + h / 2 * (k1 + k2)
    return y


@pytest.mark.parametrize("mode", [False, True])
def test_a_backward_writes_into_the_cotangents_it_carries_not_the_callers(checkpoints, mode):
    """A loop's backward adds into its carried cotangent in place (`grad_y[:-1] += t0`,
    not a copy of grad_y per iteration) when the function made it; a cotangent the caller
    passes (vjp's) is left as it was."""
    checkpoints(mode)
    x = np.linspace(0.1, 1.0, 8)
    src = srcgrad.grad(lambda x: rk2_vector(x)[-1]).source(x)
    lines = [line.split("#")[0].strip() for line in src.splitlines()]
    k = next(j for j, line in enumerate(lines) if line.endswith("[:-1] += t0"))
    assert not lines[k - 1].endswith(".copy()"), src
    _, pull = srcgrad.vjp(rk2_vector, x)
    ct = np.arange(8.0)
    first = pull(ct)
    assert_array_equal(ct, np.arange(8.0))
    np.testing.assert_allclose(pull(ct)[0], first[0], rtol=1e-15)
    checkpoints(False if mode else True)
    np.testing.assert_allclose(srcgrad.vjp(rk2_vector, x)[1](ct)[0], first[0], rtol=1e-12)


def test_a_checkpointed_rk4_backward_is_written_as_one_would_by_hand(checkpoints):
    """Each iteration from its own checkpoint (one loop, no segment lists); k2's and k3's
    gradients, twice k1's, formed where written into rather than held and copied; a slice's
    gradient scaled in its own memory before it is added; x's gradient added into its sum
    term by term. Values as the plain backward's."""
    x = np.random.default_rng(2).random(3000)
    got, src = gradient(rk4, (x, 10), 1, checkpoints, argnums=0)
    want, _ = gradient(rk4, (x, 10), False, checkpoints, argnums=0)
    assert_same((got[0], [got[1]]), (want[0], [want[1]]))
    code = [line.split("#")[0].strip() for line in str(src).splitlines()]
    assert "saved = []" not in code and "each iteration run again from its checkpoint" in src, src
    backward = code[next(k for k, line in enumerate(code) if line.startswith("for i in range(9, -1, -1)")):]
    assert sum(re.fullmatch(r"\w+ = 2\.0 \* \w+", line) is not None for line in backward) == 2, src
    assert not any(line.endswith(".copy()") for line in backward), src
    scaled = [m.group(1) for m in map(re.compile(r"(\w+) \*= 0\.[12]").fullmatch, backward) if m]
    assert sum(f"[:-1] += {g}" in " ".join(backward) for g in scaled) == 3, src
    assert sum(line.startswith("grad_sum += ") for line in code) == 4, src
