"""Memory reuse in generated code (codegen/buffers.py) and subformulas shared between a
forward kernel and its derivative (ir/share.py).

Arrays of 200 x 200 are above every large-array threshold, so these tests see the forms
the benchmarks see. Random programs with every threshold at 1 are in
test_differential.py."""
import ast
import re

import numpy as np
import pytest

import srcgrad

N = 200


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((N, N)), rng.standard_normal((N, N))


def _plain(f, *args, **kw):
    """The same gradient with memory reuse and sharing out of reach."""
    from srcgrad.codegen import buffers
    from srcgrad.ir import share
    saved = buffers.MIN_SIZE, share.MIN_SIZE
    buffers.MIN_SIZE = share.MIN_SIZE = 1 << 62
    try:
        return srcgrad.value_and_grad(f, **kw)(*args)
    finally:
        buffers.MIN_SIZE, share.MIN_SIZE = saved


def _code(src):
    return [line.split("#")[0].strip() for line in src.splitlines()]


def _same_as_plain(f, args, **kw):
    g = srcgrad.value_and_grad(f, **kw)
    value, grads = g(*args)
    plain_value, plain_grads = _plain(f, *args, **kw)
    assert value == pytest.approx(plain_value, rel=1e-12)
    for a, b in zip(np.atleast_1d(grads) if not isinstance(grads, tuple) else grads,
                    np.atleast_1d(plain_grads) if not isinstance(plain_grads, tuple) else plain_grads):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    return g.source(*args)


def test_a_dying_array_holds_the_next_result(data):
    def f(x, y):
        a = x @ y
        b = a + y          # a is not read again: b takes its memory
        return np.sum(b @ y)
    src = _same_as_plain(f, data)
    assert "b = a" in _code(src) and "b += y" in _code(src), src


def test_a_matrix_product_writes_into_a_dead_array(data):
    def f(x, y):
        h = np.tanh(x @ y)
        return np.sum(h @ y)
    src = _same_as_plain(f, data, argnums=(0, 1))
    assert any("out=" in line for line in _code(src)), src


def test_arguments_are_never_written(data):
    def f(x, y):
        return np.sum((x + y) * x + y * y)
    x, y = data
    x0, y0 = x.copy(), y.copy()
    srcgrad.value_and_grad(f, argnums=(0, 1))(x, y)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)


def test_a_returned_array_is_never_overwritten(data):
    # `a` is returned (aux) and read for the last time by `b`: b must not take its memory
    def f(x, y):
        a = x @ y
        b = a * 3.0 + y
        return np.sum(b @ y), a
    x, y = data
    (value, a), grads = srcgrad.value_and_grad(f, argnums=0, has_aux=True)(x, y)
    np.testing.assert_array_equal(a, x @ y)


def test_an_array_whose_view_is_still_read_keeps_its_memory(data):
    # `a` is read last by `b`, but its transpose `at` is read after that
    def f(x, y):
        a = x @ y
        at = a.T
        b = a * 3.0 + y
        return np.sum(np.tanh(b @ at))
    src = _same_as_plain(f, data)
    assert "b = a" not in _code(src), src


def test_a_second_call_gives_the_same_result(data):
    def f(x, y):
        a = np.exp(x * 0.1) * y
        return np.sum((a + x) ** 2)
    x, y = data
    g = srcgrad.value_and_grad(f, argnums=(0, 1))
    v1, g1 = g(x, y)
    g1 = [a.copy() for a in g1]
    v2, g2 = g(x, y)
    assert v1 == v2
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)


def test_the_derivative_reads_what_the_forward_computed(data):
    # the forward kernel computes (p + q)**2, its derivative 2*g*(p + q): the sum
    # becomes a value of its own (`s`), and the sum of squares an einsum of it
    def f(x, y):
        p = x * y
        q = x @ y
        s = p + q
        return np.sum(np.sum(s * s, axis=1))
    src = _same_as_plain(f, data, argnums=(0, 1))
    code = _code(src)
    first = next(k for k, line in enumerate(code) if line.startswith("s = "))
    assert not any("x * y" in line for line in code[first + 2:]), src  # not again
    assert "t0 = np.einsum('ab,ab->a', s, s)" in code, src


def test_a_kernel_result_is_written_into_a_dead_array():
    """The kernel writer asks for a dead array of the output's shape and computes the
    outermost operator into it; it asks only when it can use one."""
    import sympy as sp
    from srcgrad.codegen.kernels import kernel_statements
    from srcgrad.codegen.source import statement_lines
    a0, a1 = sp.Symbol("a0", real=True), sp.Symbol("a1", real=True)
    aval = ((N, N), np.dtype(np.float64))
    asked = []

    def take(shape, dtype, name):
        asked.append((shape, dtype, name))
        return "dead"
    for expr, expected in [(a0 * a1, "out = np.multiply(x, y, out=dead)"),
                           (sp.exp(a0), "out = np.exp(x, out=dead)"),
                           (a0 - a1, "out = np.subtract(x, y, out=dead)")]:
        stmts = kernel_statements((expr,), (aval,), ["x", "y"], [aval, aval], ["out"], lambda: "t",
                                  take_buffer=take)
        code = [line.split("#")[0].strip() for s in stmts for line in statement_lines(s)]
        assert code == [expected]
    asked.clear()
    kernel_statements((a0,), (aval,), ["x", "y"], [aval, aval], ["out"], lambda: "t", take_buffer=take)
    assert asked == []  # a bare name is no computation: nothing to write




@pytest.mark.parametrize("f", [
    lambda x, y: np.sum(np.sum((x * y + x @ y) ** 2, axis=1)),
    lambda x, y: np.sum(np.tanh(x @ y) * y) + np.sum(np.exp(x - y) ** 2),
    lambda x, y: np.sum(np.maximum(x, 0.5) @ (y.T * 2.0)) + np.sum((x[:, :, None] - y[None]) ** 2),
])
def test_kept_memory_never_reaches_what_a_call_returns(f):
    """Arrays kept from call to call (codegen/scratch.py) hold only values that stay inside
    the call: what one call returned is unchanged by the next, and equals the reference."""
    from thresholds import thresholds
    rng = np.random.default_rng(3)
    args1 = [rng.standard_normal((6, 6)) for _ in range(2)]
    args2 = [rng.standard_normal((6, 6)) for _ in range(2)]
    with thresholds(1 << 62):
        ref1 = srcgrad.value_and_grad(f, argnums=(0, 1))(*args1)
        ref2 = srcgrad.value_and_grad(f, argnums=(0, 1))(*args2)
    with thresholds(1):
        g = srcgrad.value_and_grad(f, argnums=(0, 1))
        assert "scratch.take" in g.source(*args1)
        v1, g1 = g(*args1)
        kept = [a.copy() for a in g1]
        v2, g2 = g(*args2)
        v3, g3 = g(*args1)
    for got, want in [(g1, ref1[1]), (g2, ref2[1]), (g3, ref1[1])]:
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, kept):
        np.testing.assert_array_equal(a, b)
    assert v1 == pytest.approx(ref1[0]) and v2 == pytest.approx(ref2[0]) and v3 == pytest.approx(ref1[0])


# -- the pool of kept arrays (codegen/scratch.py) --------------------------------------------
def test_one_pool_serves_every_generated_function():
    """Two functions run one after the other share kept arrays rather than each keeping
    its own set."""
    from thresholds import thresholds
    from srcgrad.codegen.scratch import POOL

    def f(x, y):
        return np.sum(np.tanh(x @ y) * y) + np.sum(np.exp(x - y) ** 2)

    def g(x, y):
        return np.sum(np.sin(x @ y) * y) + np.sum(np.cos(x - y) ** 2)
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
    with thresholds(1):
        fs, gs = srcgrad.value_and_grad(f, argnums=(0, 1)), srcgrad.value_and_grad(g, argnums=(0, 1))
        fs(x, y), gs(x, y)
        assert "scratch.take" in fs.source(x, y) and "scratch.take" in gs.source(x, y)
        fs(x, y)
        before = POOL.kept_bytes()
        value, _ = gs(x, y)
        assert POOL.kept_bytes() == before  # g took f's arrays and gave them back
    assert value == pytest.approx(np.sum(np.sin(x @ y) * y) + np.sum(np.cos(x - y) ** 2))


def test_the_pool_lets_go_of_the_arrays_given_back_longest_ago():
    from srcgrad.codegen.scratch import Scratch
    pool = Scratch()
    a, b = pool.take((1000,), np.float64), pool.take((1000,), np.float64)
    pool.give(a, b)                     # the most one call gave: 16 kB; the pool keeps 32 kB
    assert pool.kept_bytes() == 16000
    pool.give(pool.take((2000,), np.float64))
    assert pool.kept_bytes() == 32000
    pool.give(pool.take((3000,), np.float64))  # 24 kB: the pool keeps up to 48 kB
    assert pool.kept_bytes() == 40000
    assert pool.take((1000,), np.float64) is not a  # the oldest shape went first
    c = pool.take((3000,), np.float64)
    pool.give(c)
    assert pool.take((3000,), np.float64) is c


def _ode_like(x, y):
    """A loop over slices (GradBench's ode): the backward adds slices' gradients into
    arrays, and reads one-element slices of large arrays late (the gradient of x[:1])."""
    for _ in range(4):
        k1 = np.concatenate([x[:1], x[1:] * y[:-1]])
        z = y + 0.1 * k1
        k2 = np.concatenate([x[:1], x[1:] * z[:-1]])
        y = y + 0.05 * (k1 + k2)
    return np.sum(y * y)


def test_a_dying_array_is_written_into_rather_than_copied():
    """`t29 = t22` then `t29[:-1] += t28`, not `t22.copy()`, where t22 is read no more:
    in a loop's body too. What a body copies to write into is read again after, or is
    the carried value it was given (not the body's to overwrite)."""
    rng = np.random.default_rng(0)
    x, y = rng.random(3000), rng.random(3000)
    src = _same_as_plain(_ode_like, (x, y), argnums=(0, 1))
    fn = ast.parse(str(src)).body[0]
    loops = [n for n in ast.walk(fn) if isinstance(n, ast.For)]
    assert loops
    took_over = 0
    for loop in loops:
        body = loop.body
        for k, stmt in enumerate(body):
            if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name)):
                continue
            took_over += 1
        for k, stmt in enumerate(body):
            v = getattr(stmt, "value", None)
            if not (isinstance(stmt, ast.Assign) and isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute)
                    and v.func.attr == "copy" and isinstance(v.func.value, ast.Name)):
                continue
            name = v.func.value.id
            later = [n for s in body[k + 1:] for n in ast.walk(s)
                     if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
            given = next(isinstance(n.ctx, ast.Load) for s in body for n in ast.walk(s)
                         if isinstance(n, ast.Name) and n.id == name)
            assert later or given, (ast.unparse(stmt), src)
    assert took_over, src


def _reads_a_number_late(x, y):
    """One number of a large array read at the iteration's end (forward and backward)."""
    for _ in range(4):
        a = np.concatenate([x[:1], x[1:] * y[:-1]])
        first = a[:1]
        y = np.sin(y * 0.5 + a * 0.1)
        y = np.sin(y) * 1.01
        y = y * first
    return np.sum(y * y)


def test_a_small_view_read_late_is_copied_so_its_base_can_go(monkeypatch):
    """`first = a[:1].copy()`: a view of one number read at the iteration's end would keep
    its whole base alive until then. A memory count: the peak falls."""
    from peak_memory import peak
    from srcgrad.codegen import buffers
    monkeypatch.setenv("SRCGRAD_CACHE", "0")
    rng = np.random.default_rng(0)
    x, y = rng.random(3000), rng.random(3000)
    vg = srcgrad.value_and_grad(_reads_a_number_late, argnums=(0, 1))
    value, grads = vg(x, y)
    src = str(vg.source(x, y))
    assert re.search(r"= \w+\[:1\]\.copy\(\)", src) and re.search(r"= \w+\[0:1\]\.copy\(\)", src), src
    detached = peak(vg, x, y)
    monkeypatch.setattr(buffers, "DETACH_FRACTION", 0)
    srcgrad.autograd.engine.clear_cache()
    try:
        plain = srcgrad.value_and_grad(_reads_a_number_late, argnums=(0, 1))
        plain_value, plain_grads = plain(x, y)
        assert ".copy()" not in re.sub(r"\w+ = \w+\.copy\(\)", "", str(plain.source(x, y)))
        assert detached < peak(plain, x, y)
    finally:
        srcgrad.autograd.engine.clear_cache()
    for a, b in zip(grads, plain_grads):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _rk4_step_then_loop(x, s):
    """One RK4 step, then a loop: the step's backward is written after the loop's."""
    y = np.zeros(x.shape[0])
    k1 = np.concatenate([x[:1], x[1:] * y[:-1]])
    k2 = np.concatenate([x[:1], x[1:] * (y + 0.1 * k1)[:-1]])
    k3 = np.concatenate([x[:1], x[1:] * (y + 0.1 * k2)[:-1]])
    k4 = np.concatenate([x[:1], x[1:] * (y + 0.2 * k3)[:-1]])
    y = y + 0.2 / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    for _ in range(s):
        y = np.sin(y) * x
    return np.sum(y * np.arange(x.shape[0]))


def test_outputs_twice_another_are_formed_where_written_after_a_loop_too():
    """k2's and k3's gradients, twice k1's, are formed where an accumulate writes into them
    (`grad_k3 = 2.0 * grad_k4`), not held and copied — also in the block after a loop's
    backward (a loop's body, written in between, used to drop the block's choices)."""
    x = np.linspace(0.1, 1.0, 3000)
    g = srcgrad.grad(_rk4_step_then_loop)
    got = g(x, 6)
    code = _code(str(g.source(x, 6)))
    assert sum(bool(re.fullmatch(r"\w+ = 2\.0 \* \w+", line)) for line in code) == 2, code
    e = np.eye(3000)[[0, 1, 1500, 2999]] * 1e-6
    num = [(_rk4_step_then_loop(x + d, 6) - _rk4_step_then_loop(x - d, 6)) / 2e-6 for d in e]
    np.testing.assert_allclose(got[[0, 1, 1500, 2999]], num, rtol=1e-6, atol=1e-6)
