"""Loop re-rolling: a traced Python loop comes back as a `for` loop in the generated code,
and computes exactly what the unrolled trace computes (values and gradients)."""
import re

import numpy as np
import pytest

import srcgrad
from srcgrad import config


@pytest.fixture
def unrolled():
    """Run a block with re-rolling off (the reference the re-rolled code must match)."""
    class Switch:
        def __enter__(self):
            self.saved = config.reroll
            config.reroll = False

        def __exit__(self, *exc):
            config.reroll = self.saved
    return Switch()


def both(f, args, argnums=0, unrolled=None):
    """(value, grads) re-rolled and unrolled, and the re-rolled source."""
    g = srcgrad.value_and_grad(f, argnums=argnums)
    got = g(*args)
    src = g.source(*args)
    with unrolled:
        want = srcgrad.value_and_grad(f, argnums=argnums)(*args)
    return got, want, src


def assert_same(got, want):
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-12)
    gg, gw = got[1], want[1]
    if not isinstance(gg, tuple):
        gg, gw = (gg,), (gw,)
    for a, b in zip(gg, gw):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def seed_loop(x):
    y = x * 2
    while np.linalg.norm(y) < 1000:
        y = y * 2
    return np.sum(y * np.array([0.1, 1.0, 1e-4]))


def test_the_seed_loop_is_a_for_loop_with_its_guard_inside(unrolled):
    x = np.array([0.5, 0.2, 0.1])
    got, want, src = both(seed_loop, (x,), unrolled=unrolled)
    assert_same(got, want)
    np.testing.assert_allclose(got[1], np.array([0.1, 1.0, 1e-4]) * 2.0 ** 11)
    assert "for i in range(10):" in src and "re-rolled" in src
    assert "raise GuardFailed" in src
    assert src.count("np.sqrt") == 2  # once in the body, once for the exit test


def test_a_different_trip_count_records_again_and_stays_correct():
    g = srcgrad.grad(seed_loop)
    for x in (np.array([0.5, 0.2, 0.1]), np.array([5.0, 2.0, 1.0]), np.array([0.01, 0.02, 0.03])):
        y, k = x * 2, 1
        while np.linalg.norm(y) < 1000:
            y, k = y * 2, k + 1
        np.testing.assert_allclose(g(x), np.array([0.1, 1.0, 1e-4]) * 2.0 ** k)


def rnn(W, U, xs, h0):
    h = h0
    total = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
        total = total + np.sum(h * h)
    return total + np.sum(h)


def _rnn_args(T, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(4, 3)), rng.normal(size=(T, 3)), rng.normal(size=4)


def test_an_rnn_loop_is_rerolled_with_a_moving_index(unrolled):
    args = _rnn_args(12)
    got, want, src = both(rnn, args, argnums=(0, 1, 3), unrolled=unrolled)
    assert_same(got, want)
    assert "for i in range(" in src and "xs[i" in src
    assert "for i in range(" in src.split("re-rolled", 1)[1]  # and a reverse loop for the backward


def test_the_source_length_does_not_grow_with_the_loop():
    g = srcgrad.value_and_grad(rnn, argnums=(0, 1))
    short = g.source(*_rnn_args(8)).count("\n")
    long = g.source(*_rnn_args(80)).count("\n")
    assert long == short


def test_gradients_match_finite_differences():
    W, U, xs, h0 = _rnn_args(9, seed=3)
    gW = srcgrad.grad(rnn)(W, U, xs, h0)
    eps = 1e-6
    num = np.zeros_like(W)
    for i in np.ndindex(W.shape):
        d = np.zeros_like(W)
        d[i] = eps
        num[i] = (rnn(W + d, U, xs, h0) - rnn(W - d, U, xs, h0)) / (2 * eps)
    np.testing.assert_allclose(gW, num, rtol=1e-6, atol=1e-8)


def branchy(x):
    s = x
    for _ in range(6):
        if np.sum(s) > 0:
            s = s * 1.5 - 0.1
        else:
            s = s * 0.5 + 0.2
    return np.sum(s * s)


def test_a_branch_inside_the_loop_stays_a_guard():
    g = srcgrad.grad(branchy)
    x = np.array([1.0, 2.0])
    src = g.source(x)
    assert "re-rolled" in src
    for x in (np.array([1.0, 2.0]), np.array([-1.0, -2.0]), np.array([0.3, -0.2]), np.array([1.0, 2.0])):
        t = srcgrad.tensor(x, requires_grad=True)
        branchy(t).backward()
        np.testing.assert_allclose(g(x), t.grad.numpy(), rtol=1e-12)


def keeps_all(x):
    ys = []
    y = x
    for _ in range(5):
        y = np.sin(y) * 1.1 + 0.3
        ys.append(y)
    return np.sum(np.stack(ys) * np.arange(1.0, 6.0)[:, None])


def test_every_iteration_read_after_the_loop_is_correct(unrolled):
    got, want, _ = both(keeps_all, (np.array([0.2, -0.4, 1.0]),), unrolled=unrolled)
    assert_same(got, want)


def last_value(x):
    y = x
    for _ in range(4):
        z = np.exp(-y)          # not carried, read after the loop: the last iteration's
        y = y + z * 0.5
    return np.sum(z * y)


def test_a_value_of_the_last_iteration_is_read_after_the_loop(unrolled):
    got, want, _ = both(last_value, (np.array([0.3, 1.2]),), unrolled=unrolled)
    assert_same(got, want)


def nested(W, x):
    for _ in range(4):
        h = x
        for _ in range(5):
            h = np.tanh(W @ h) + x
        x = x + 0.1 * h
    return np.sum(x ** 2)


def test_nested_loops(unrolled):
    rng = np.random.default_rng(1)
    args = (rng.normal(size=(3, 3)) * 0.4, rng.normal(size=3))
    got, want, src = both(nested, args, argnums=(0, 1), unrolled=unrolled)
    assert_same(got, want)
    assert src.count("re-rolled") == 2


def integer_state(x):
    k = 0
    acc = x
    for t in range(5):
        acc = acc * np.cos(x + t)
        k = k + 1
    return np.sum(acc) * k


def test_constants_and_python_state_in_the_body(unrolled):
    got, want, _ = both(integer_state, (np.array([0.1, 0.7]),), unrolled=unrolled)
    assert_same(got, want)


def slices(x):
    out = 0.0
    for i in range(6):
        out = out + np.sum(x[i] * x[i + 1]) + x[2 * i + 1, 0]
    return out


def test_indices_moving_by_different_steps(unrolled):
    x = np.arange(26.0).reshape(13, 2) / 10
    got, want, src = both(slices, (x,), unrolled=unrolled)
    assert_same(got, want)
    assert "re-rolled" in src


def test_the_ir_shows_the_loop_and_its_body():
    text = srcgrad.grad(seed_loop).ir(np.array([0.5, 0.2, 0.1]))
    assert "loop[count=10]" in text
    assert "body(i: i64[]" in text


def test_reroll_can_be_turned_off(unrolled):
    with unrolled:
        src = srcgrad.grad(seed_loop).source(np.array([0.5, 0.2, 0.1]))
    assert "for i in" not in src


def test_float32_stays_float32():
    args = tuple(a.astype(np.float32) for a in _rnn_args(7))
    v, g = srcgrad.value_and_grad(rnn, argnums=(0, 3))(*args)
    assert g[0].dtype == np.float32 and g[1].dtype == np.float32


def test_compile_rerolls_and_backpropagates(unrolled):
    f = srcgrad.compile(rnn)
    args = _rnn_args(10)
    W = srcgrad.tensor(args[0], requires_grad=True)
    out = f(W, *args[1:])
    out.backward()
    assert "re-rolled" in f.source(W, *args[1:])
    with unrolled:
        W2 = srcgrad.tensor(args[0], requires_grad=True)
        out2 = rnn(W2, *args[1:])
        out2.backward()
    np.testing.assert_allclose(out.item(), out2.item(), rtol=1e-12)
    np.testing.assert_allclose(W.grad.numpy(), W2.grad.numpy(), rtol=1e-10)


def test_has_aux_reads_loop_values():
    def f(W, xs):
        h = np.zeros(3)
        for t in range(xs.shape[0]):
            h = np.tanh(W @ h + xs[t])
        return np.sum(h), {"h": h}
    rng = np.random.default_rng(5)
    W, xs = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(8, 3))
    (v, aux), g = srcgrad.value_and_grad(f, has_aux=True)(W, xs)
    t = srcgrad.tensor(W, requires_grad=True)
    out, a2 = f(t, xs)
    out.backward()
    np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(aux["h"], a2["h"].detach().numpy(), rtol=1e-12)


def per_iteration_indices(x):
    total = 0.0
    for j in range(5):
        cols = [c for c in range(5) if c != j]      # a new index array every iteration
        total = total + np.sum(x[j, cols] ** 2) * x[j, j]
    return total


def test_an_index_array_made_per_iteration_is_read_from_a_stack(unrolled):
    x = np.arange(25.0).reshape(5, 5) / 10
    got, want, src = both(per_iteration_indices, (x,), unrolled=unrolled)
    assert_same(got, want)
    assert "re-rolled" in src and "_each[i]" in src


def test_saved_values_travel_as_one_tuple_per_iteration():
    src = srcgrad.grad(rnn).source(*_rnn_args(6))
    assert "saved = []" in src and "saved.append((" in src and "= saved[i]" in src


def nested_index_lists(x):
    total = 0.0
    for k in range(3):
        for j in range(4):
            cols = [c for c in range(4) if c != j]
            total = total + np.sum(x[j, cols] * x[k, j])
    return total


def test_index_lists_in_nested_loops(unrolled):
    x = np.arange(16.0).reshape(4, 4) / 7
    got, want, src = both(nested_index_lists, (x,), unrolled=unrolled)
    assert_same(got, want)
    assert "re-rolled" in src


def test_a_large_sum_of_products_in_a_loop_body_is_saved_for_the_backward():
    """Sums of products in a loop body become einsums (ir/contract.py): the value the
    loop saves for its backward must still be the one computed."""
    def f(W, h):
        acc = 0.0
        for _ in range(4):
            h = np.tanh(h * W)
            acc = acc + np.sum(h * h) * np.sum(h * W)
        return acc
    rng = np.random.default_rng(0)
    W, h = rng.normal(size=(150, 150)) * 0.5, rng.normal(size=(150, 150))
    g = srcgrad.value_and_grad(f, argnums=(0, 1))
    value, grads = g(W, h)
    ts = [srcgrad.tensor(a, requires_grad=True) for a in (W, h)]
    out = f(*ts)
    out.backward()
    assert np.isclose(value, float(out.item()), rtol=1e-12)
    for a, t in zip(grads, ts):
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert "einsum" in g.source(W, h) and "for i in range(" in g.source(W, h)


def test_a_loop_taking_over_a_variable_another_value_shares():
    """Two equal gradients share one variable; a reverse loop took that variable over
    for its carried cotangent, and the other value, read after the loop, read the loop's
    last cotangent instead (found by tests/test_reroll_random.py)."""
    def f(xs, h0):
        T = xs.shape[0]
        h = h0
        ys = [h0]
        for t in range(T):
            ys.append(h)
            h = h + xs[t + 1 if t + 1 < T else t] * 0.05
            h = h + xs[t + 1 if t + 1 < T else t] * 0.05
        return np.sum(h ** 2) + np.sum(np.stack(ys[-2:]) ** 2)
    rng = np.random.default_rng(0)
    xs, h0 = rng.normal(size=(5, 3)), rng.normal(size=3)
    value, (gxs, gh0) = srcgrad.value_and_grad(f, argnums=(0, 1))(xs, h0)
    ts = [srcgrad.tensor(a, requires_grad=True) for a in (xs, h0)]
    out = f(*ts)
    out.backward()
    np.testing.assert_allclose(gxs, ts[0].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gh0, ts[1].grad.numpy(), rtol=1e-12)


def test_a_carried_value_starting_from_a_constant_is_not_named_after_it(unrolled):
    # y starts as an array the function made (a constant of the graph): the loop's carried
    # variable changes every iteration, so it must not read as `const0_2 = const0`
    def rhs(x, y):
        return np.concatenate([x[:1], x[1:] * y[:-1]])

    def f(x):  # (an RK2 integration: the carried value is `y[:-1]`, which has no name)
        y = np.zeros(x.shape[0])
        for _ in range(6):
            k = rhs(x, y)
            y = y + 0.1 * (k + rhs(x, y + 0.2 * k))
        return y[-1]
    x = np.linspace(-1.0, 1.0, 5)
    got, want, src = both(f, (x,), unrolled=unrolled)
    assert_same(got, want)
    # all six iterations in the loop: the last one's `y[:-1]` for a seventh, never
    # recorded, is a view taken in vain, rather than the last iteration written out again
    assert "for i in range(6):" in src and "re-rolled" in src
    assert "const0_2" not in src and "const0 =" not in src.replace(" = const0", "")
    # x[:1] and x[1:], taken again by each call of rhs, are invariants of the loop: y[:-1]
    # is the one value carried to the next iteration
    loop = src.split("re-rolled")[1].split("\n    t")[0]
    rebinds = [line for line in loop.splitlines() if line.startswith("        ") and " = " in line
               and "(" not in line and "[" not in line and "+" not in line and "*" not in line]
    assert len(rebinds) == 1 and "," not in rebinds[0], loop


def _tail_cases():
    def read_after(x):  # the last iteration's `a` is read after the loop
        y = np.zeros(5)
        for _ in range(5):
            a = y[1:]
            y = np.tanh(x * np.concatenate([a, y[:1]]) + 0.3)
        return np.sum(y) + np.sum(a * a)

    def moving_index(x, seq):  # the slice the last iteration lacks comes with seq[t + 1]
        y = np.zeros(5)
        for t in range(6):
            y = np.tanh(seq[t] * x + y[::-1] * 0.5)
        return np.sum(y * y)

    def two_views(x):
        y = np.zeros(6)
        for _ in range(5):
            y = y + 0.1 * np.sin(x * np.concatenate([y[3:], y[:3]]))
        return np.sum(y ** 2)
    seq = np.linspace(0.2, 1.0, 30).reshape(6, 5)
    x = np.linspace(0.5, 1.5, 5)
    # (loop, its count: one less than the iterations where the last one must stay written
    # out after the loop)
    return [(read_after, (x,), 4), (moving_index, (x, seq), 5), (two_views, (np.linspace(0.5, 1.5, 6),), 5)]


@pytest.mark.parametrize("case", range(3))
def test_a_last_iteration_without_its_trailing_views(case, unrolled):
    f, args, count = _tail_cases()[case]
    got, want, src = both(f, args, unrolled=unrolled)
    assert_same(got, want)
    assert f"for i in range({count}):" in src and "re-rolled" in src


def _harmonic(x0, r):
    x, acc = x0, 0.0
    for i in range(12):
        x = r * x * (1 - x)
        acc = acc + x / (i + 1) + (2 * i) * x ** 2
    return acc


def test_an_operand_moving_with_the_loop_counter_is_rerolled(unrolled):
    # `x / (i + 1)`: each iteration read another number, so the loop was written out
    # whole (a 60-step one took 12 s to compile)
    got, want, src = both(_harmonic, (0.3, 2.9), argnums=(0, 1), unrolled=unrolled)
    assert_same(got, want)
    assert "for i in range(12):" in src and len(src.splitlines()) < 40
    x = np.array([0.3, 0.25], np.float32)  # (float32 beside a Python int: kept unrolled, as numpy types it)
    assert srcgrad.grad(lambda x: np.sum(_harmonic(x, np.float32(2.9))))(x).dtype == np.float32


def _horner(x):
    y = np.zeros_like(x)
    for c in [0.5, -0.3, 0.2, 1.5, -2.0, 0.7, 0.1]:
        y = y * x + c
    return np.sum(np.sin(y))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numbers_that_change_per_iteration_are_read_from_an_array_of_them(dtype, unrolled):
    x = np.array([0.3, -0.5, 1.2], dtype)
    got, want, src = both(_horner, (x,), unrolled=unrolled)
    assert got[1].dtype == dtype and "numbers[i]" in src and "for i in range(7):" in src
    if dtype == np.float64:
        assert_same(got, want)
    else:  # (the unrolled code fuses all seven steps into one formula: float32 rounds elsewhere)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5)


def test_slice_gradients_are_added_where_they_go_in_the_sum(unrolled):
    # each iteration's gradient of x is zeros with row i placed: added into the sum at
    # row i, not made whole and added whole (an (n, 3) array per iteration: quadratic)
    def f(x, w):
        s = 0.0
        for i in range(x.shape[0]):
            s = s + np.sum(x[i]) * w[i] + x[i, 0] ** 2 + np.sum(x * w[:, None]) * x[i, 1] * 1e-3 \
                + np.sum(x[[i, i], 2])
        return s
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(30, 3)), rng.normal(size=30)
    got, want, src = both(f, (x, w), argnums=(0, 1), unrolled=unrolled)
    assert_same(got, want)
    code = [line.split("#")[0] for line in str(src).splitlines()]
    assert "for i in range(29, -1, -1):" in src
    assert sum("np.zeros((30, 3)" in line for line in code) == 1, src
    assert sum("np.zeros((30,)" in line for line in code) == 1, src
    assert any("grad_x_sum[i] +=" in line for line in code), src
    assert any("np.add.at(grad_x_sum" in line for line in code), src


def test_a_read_carried_to_the_next_iteration_is_placed_at_its_own_index(unrolled):
    # x[k % 3] is read in one iteration and used in the next: its cotangent arrives through
    # the carried variable, which the iteration then rebinds — the slice must be added
    # where the read stands, with the cotangent it had there
    def f(x):
        y = x
        for k in range(6):
            y = y * x[k % 3] + y[(k + 1) % 3]
        return np.sum(y)
    x = np.array([0.3, -0.5, 0.8])
    got, want, src = both(f, (x,), unrolled=unrolled)
    assert "for i in range(" in src
    assert_same(got, want)
    num = np.array([(f(x + e) - f(x - e)) / 2e-6 for e in np.eye(3) * 1e-6])
    np.testing.assert_allclose(got[1], num, rtol=1e-6)


def test_an_invariants_gradient_is_added_into_its_sum_term_by_term(unrolled):
    # w's gradient in an iteration is a chain of kernels, each adding terms to the one
    # before, slices in between (an ODE step's stages): each kernel's terms go straight
    # into the sum (`grad_w_sum += ...`), no array holding the iteration's part of it;
    # subtracted and broadcast terms too, and a running value read elsewhere stays whole
    def f(w, b, steps):
        y = np.zeros(w.shape[0])
        for _ in range(steps):
            k1 = np.concatenate([w[:1], w[1:] * y[:-1]])
            z = y + 0.1 * k1
            k2 = np.concatenate([w[:1], w[1:] * z[:-1]]) - b * w
            y = y + 0.05 * (k1 + k2) - 0.01 * np.sum(w) * z
        return np.sum(y * np.arange(y.shape[0]))
    rng = np.random.default_rng(3)
    w, b = rng.normal(size=7), rng.normal(size=(1,))
    got, want, src = both(f, (w, b, 12), argnums=(0, 1), unrolled=unrolled)
    assert_same(got, want)
    code = [line.split("#")[0].strip() for line in str(src).splitlines()]
    added = [line for line in code if re.match(r"grad_sum(_\d)? [-+]= .* \* ", line)]
    assert len(added) >= 3 and any(" -= " in line for line in added), src
    # (a slice that is a term is added where it is taken, not kept to the kernel's place; a
    # sum of one number is a Python float in the loop: no numpy call per term)
    assert sum(bool(re.match(r"grad_sum(_\d)? \+= \w+\[0:1\]\.item\(\)$", line)) for line in code) == 2, src
    assert sum(bool(re.match(r"grad_sum(_\d)? = 0\.0$", line)) for line in code) == 1, src
    num = np.array([(f(w + e, b, 12) - f(w - e, b, 12)) / 2e-6 for e in np.eye(7) * 1e-6])
    np.testing.assert_allclose(got[1][0], num, rtol=1e-6, atol=1e-8)


def test_a_summed_gradient_sharing_a_part_with_another_output_stays_in_its_kernel(unrolled):
    # w's and h's gradients of `h = sin(h * w + x)` share `grad_h * cos(...)`: w's is not
    # added into its sum apart from the kernel, which would compute the cosine twice
    def f(w, xs):
        h = np.ones(6)
        for t in range(xs.shape[0]):
            h = np.sin(h * w + xs[t])
        return np.sum(h)
    w, xs = np.linspace(0.1, 0.9, 6), np.random.default_rng(0).normal(size=(8, 6))
    got, want, src = both(f, (w, xs), unrolled=unrolled)
    assert_same(got, want)
    backward = src[src.index("the loop's backward"):]
    assert backward.count("np.cos(") == 1, src
