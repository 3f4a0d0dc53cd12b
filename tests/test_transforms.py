"""grad / value_and_grad: traced once, compiled to one function, guarded, never stale."""
import types
import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import numerical_grad
from srcgrad.trace import GradientLostWarning, TraceError

RNG = np.random.default_rng(0)


def eager_grad(f, *arrays, argnums=(0,)):
    """The reference: the same function run eagerly on fresh tensors."""
    ts = [srcgrad.tensor(a, requires_grad=i in argnums) for i, a in enumerate(arrays)]
    out = f(*ts)
    out.backward()
    return out.item(), [ts[i].grad.numpy() for i in argnums]


def mlp(W1, b1, W2, X, Y):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2
    e = np.exp(logits)
    s = e.sum(axis=1, keepdims=True)
    return (np.log(s) - (Y * logits).sum(axis=1, keepdims=True)).sum() / X.shape[0]


def test_value_and_grad_matches_finite_differences_and_returns_numpy():
    W1, b1, W2 = RNG.standard_normal((5, 4)) * .3, RNG.standard_normal(4), RNG.standard_normal((4, 3)) * .3
    X, Y = RNG.standard_normal((6, 5)), np.eye(3)[RNG.integers(0, 3, 6)]
    f = srcgrad.value_and_grad(mlp, argnums=(0, 1, 2))
    value, grads = f(W1, b1, W2, X, Y)
    assert isinstance(value, float) and all(type(g) is np.ndarray for g in grads)
    assert [g.shape for g in grads] == [W1.shape, b1.shape, W2.shape]
    num = numerical_grad(lambda a, b, c: mlp(a, b, c, X, Y), [W1, b1, W2], np.float64(1.0))
    for g, n in zip(grads, num):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8)
    ref_value, _ = eager_grad(mlp, W1, b1, W2, X, Y)
    assert value == pytest.approx(ref_value)
    # new data, same shapes: the same compiled code, still right
    W1b = RNG.standard_normal((5, 4))
    _, grads_b = f(W1b, b1, W2, X, Y)
    np.testing.assert_allclose(grads_b[0], eager_grad(mlp, W1b, b1, W2, X, Y, argnums=(0,))[1][0],
                               rtol=1e-10)
    assert len(f._variants) == 1


def seed_loop(x):
    y = x * 2
    while np.sqrt((y * y).sum()) < 1000:
        y = y * 2
    return (y * np.array([0.1, 1.0, 1e-4])).sum()


def test_seed_loop_is_never_stale_across_trip_counts():
    g = srcgrad.grad(seed_loop)
    inputs = [np.array([1., 2., 3.]), np.array([0.1, 0.2, 0.3]), np.array([1., 2., 3.]),
              np.array([300., 2., 3.]), np.array([0.1, 0.2, 0.3])]
    for x in inputs:
        k = 1
        y = x * 2
        while np.linalg.norm(y) < 1000:
            y = y * 2
            k += 1
        np.testing.assert_allclose(g(x), np.array([0.1, 1.0, 1e-4]) * 2.0 ** k)
        np.testing.assert_allclose(g(x), eager_grad(seed_loop, x)[1][0])
    variants = sum(len(v) for v in g._variants.values())
    assert variants == 3  # three distinct trip counts among five calls
    assert "is False" in g.cache_info()


def branchy(x):
    if x.sum() > 0:
        return (x ** 2).sum()
    return (np.sin(x) * 3).sum()


def test_if_branches_follow_the_sign_of_each_call():
    g = srcgrad.grad(branchy)
    for x in [np.array([1., 2.]), np.array([-3., 1.]), np.array([0.5, 0.1]), np.array([-1., -1.])]:
        expected = 2 * x if x.sum() > 0 else 3 * np.cos(x)
        np.testing.assert_allclose(g(x), expected)


def test_float_decisions_are_guards_too():
    def f(x):
        scale = float(x.sum())  # a Python number taken from the data
        return (x * scale).sum()
    g = srcgrad.grad(f)
    for x in [np.array([1., 2.]), np.array([3., 1.])]:
        # the decision is frozen per variant, so d/dx (x * c).sum() = c with c = sum(x); and
        # the user is told that the number carries no gradient, where it was taken
        with pytest.warns(GradientLostWarning, match=r"float\(\)/item\(\) .* at .*test_transforms.py:\d+"):
            np.testing.assert_allclose(g(x), np.full(2, x.sum()))


def test_containers_and_argnums_keep_structure_and_types():
    def f(params, X, n):
        out = X @ params["W"] + params["b"][0]
        for _ in range(n):  # n is static: part of the cache key
            out = np.tanh(out)
        return (out ** 2).sum()
    params = {"W": RNG.standard_normal((3, 2)), "b": [RNG.standard_normal(2)]}
    X = RNG.standard_normal((4, 3))
    g = srcgrad.grad(f)
    for n in (1, 2, 1):
        grads = g(params, X, n)
        assert set(grads) == {"W", "b"} and isinstance(grads["b"], list)
        num = numerical_grad(lambda W, b: f({"W": W, "b": [b]}, X, n), [params["W"], params["b"][0]],
                             np.float64(1.0))
        np.testing.assert_allclose(grads["W"], num[0], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(grads["b"][0], num[1], rtol=1e-6, atol=1e-8)
    assert len(g._variants) == 2  # n=1 and n=2


def test_python_float_argument_gives_float_gradient():
    g = srcgrad.grad(lambda a, x: (np.exp(a * x)).sum())
    ga = g(0.5, np.array([1.0, 2.0]))
    assert isinstance(ga, float)
    assert ga == pytest.approx(np.exp(0.5) + 2 * np.exp(1.0))


def test_has_aux_and_grad_mode():
    def f(x):
        y = x * 3
        return (y ** 2).sum(), {"y": y}
    (value, aux), g = srcgrad.value_and_grad(f, has_aux=True)(np.array([1.0, 2.0]))
    assert value == pytest.approx(45.0)
    np.testing.assert_allclose(aux["y"], [3.0, 6.0])
    np.testing.assert_allclose(g, [18.0, 36.0])


def test_generated_source_reads_like_the_users_code():
    W1, b1, W2 = RNG.standard_normal((5, 4)), RNG.standard_normal(4), RNG.standard_normal((4, 3))
    X, Y = RNG.standard_normal((6, 5)), np.eye(3)[RNG.integers(0, 3, 6)]
    f = srcgrad.value_and_grad(mlp, argnums=(0, 1, 2))
    src = f.source(W1, b1, W2, X, Y)
    assert "def mlp_value_and_grad(W1, b1, W2, X, Y):" in src
    for line in ("h = np.tanh(", "logits = h @ W2", "grad_W2 = h.T @ grad_logits"):
        assert line in src, line
    body = [l for l in src.splitlines() if l.startswith("    ") and "=" in l and "return" not in l]
    assert body and all("# test_transforms.py:" in l for l in body)
    assert "np.float64(" not in src
    assert src == f.source(W1, b1, W2, X, Y)  # deterministic
    assert "matmul" in f.ir(W1, b1, W2, X, Y)


def test_guards_are_written_in_the_generated_code():
    src = srcgrad.grad(seed_loop).source(np.array([1., 2., 3.]))
    assert "raise GuardFailed(" in src
    assert "# guards 0-7: (np.sqrt((y * y).sum()) < 1000) is True" in src
    assert "# guard 8: (np.sqrt((y * y).sum()) < 1000) is False" in src


def test_captured_arrays_are_named_constants():
    weights = np.array([1.0, -2.0, 0.5])

    def f(x):
        return (x * weights).sum()
    src = srcgrad.grad(f).source(np.ones(3))
    assert "weights" in src
    np.testing.assert_allclose(srcgrad.grad(f)(np.ones(3)), weights)


def test_values_that_would_freeze_raise():
    def leaks(x):
        return x.numpy()[0] * x.sum()
    with pytest.raises(TraceError, match="frozen"):
        srcgrad.grad(leaks)(np.ones(2))


def test_numpy_builders_make_tensors_the_function_fills_in():
    """`out = np.zeros(n); out[i] = ...`, `R = np.eye(2); R[0, 1] = t`, np.array([...]) of
    traced values and np.asarray(x): numpy's builders make tensors inside a trace, so the
    stores are recorded (numpy would convert them to numbers and lose the gradient)."""
    def f(x):
        out = np.zeros(len(x))
        for i in range(len(x)):
            out[i] = x[i] ** 2 * (i + 1)
        R = np.eye(2)
        R[0, 1] = x[0]
        R[1, 0] = -x[0]
        v = np.array([x[0] * 2, x[1]])
        return np.sum(out) + np.sum(R @ v) + np.sum(np.asarray(x) ** 3)
    x = np.array([1.0, 2.0, 3.0])
    value, grad = srcgrad.value_and_grad(f)(x)
    h = 1e-6
    fd = [(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(3)]
    assert value == pytest.approx(f(x))
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
    assert type(np.zeros(2)) is np.ndarray  # numpy's own builders again outside the trace

    def mixed(x):  # numpy.random's C code calls np.empty itself: it must get numpy's array
        out = np.empty(3)
        noise = np.random.default_rng(0).standard_normal(3) + np.random.randn(3)
        for i in range(3):
            out[i] = x[i] * (i + 1)
        return np.sum(out) + 0.0 * np.sum(noise)
    with pytest.warns(UserWarning, match="draws random numbers"):  # (np.random.randn: run op by op)
        np.testing.assert_array_equal(srcgrad.grad(mixed)(np.ones(3)), [1.0, 2.0, 3.0])
    x2 = np.array([0.5, -1.0, 2.0])  # the same compiled code for other values
    np.testing.assert_allclose(srcgrad.grad(f)(x2),
                               [(f(x2 + h * e) - f(x2 - h * e)) / (2 * h) for e in np.eye(3)], rtol=1e-6)


def test_add_at_into_an_array_the_function_built():
    """np.add.at(per_atom, idx, e) with per_atom = np.zeros(n): numpy gives srcgrad the
    plain array, and the trace runs again with the builders making tensors."""
    bonds = np.array([[0, 1], [1, 2], [0, 2]])

    def f(pos):
        d = pos[bonds[:, 0]] - pos[bonds[:, 1]]
        e = (np.sqrt(np.sum(d ** 2, axis=1)) - 1.0) ** 2
        per_atom = np.zeros(pos.shape[0])
        np.add.at(per_atom, bonds[:, 0], 0.5 * e)
        np.add.at(per_atom, bonds[:, 1], 0.5 * e)
        return np.sum(per_atom ** 2)
    pos = np.array([[0.0, 0.0], [1.5, 0.2], [0.3, 1.7]])
    h = 1e-6
    grad = srcgrad.grad(f)(pos)
    fd = np.zeros_like(pos)
    for idx in np.ndindex(*pos.shape):
        E = np.zeros_like(pos)
        E[idx] = h
        fd[idx] = (f(pos + E) - f(pos - E)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_a_function_that_needs_no_tensor_builders_keeps_numpys_arrays():
    """The builders make tensors only for a function that stores traced values into what
    they build: a cached constant built during the trace stays a numpy array."""
    import functools

    @functools.lru_cache(maxsize=None)
    def selector(n):
        s = np.zeros((n, n))
        for i in range(n):
            s[i, n - 1 - i] = 1.0
        return s

    def f(x):
        return np.sum((selector(len(x)) @ x) * x)
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(srcgrad.grad(f)(x), 2 * (selector(3) @ x))
    assert type(selector(3)) is np.ndarray


KNOTS = np.array([0.0, 1.0, 2.0, 3.0])


def _spline(x):
    coef = np.array([[1.0, 0.5, -0.2], [1.3, 0.1, 0.3], [1.7, -0.4, 0.1]])
    idx = np.searchsorted(KNOTS, x) - 1
    t = x - KNOTS[idx]  # (plain numpy arrays indexed by a traced index)
    c = coef[idx]
    return np.sum(c[:, 0] + c[:, 1] * t + c[:, 2] * t ** 2 + c[:, 1] * (x > 2.5))


def test_a_plain_numpy_array_indexed_by_a_traced_index_is_guarded_on_the_index():
    # numpy converts the index to an array: it was a TraceError; an integer or boolean
    # index carries no gradient, so the code is guarded on its value instead
    vg = srcgrad.value_and_grad(_spline)
    for x in ([0.5, 1.5, 2.7], [0.1], [2.9, 1.1], [0.5, 1.5, 2.7], [0.2, 1.2, 2.2]):
        x = np.array(x)
        idx = np.searchsorted(KNOTS, x) - 1
        coef = np.array([[1.0, 0.5, -0.2], [1.3, 0.1, 0.3], [1.7, -0.4, 0.1]])[idx]
        value, grad = vg(x)
        assert value == pytest.approx(_spline(x), rel=1e-12)
        np.testing.assert_allclose(grad, coef[:, 1] + 2 * coef[:, 2] * (x - KNOTS[idx]), rtol=1e-12)
    assert "np.array_equal" in vg.source(np.array([0.5, 1.5, 2.7]))


def _logdet_or_fallback(S):
    try:
        L = np.linalg.cholesky(S)
        return 2 * np.sum(np.log(np.diag(L)))
    except np.linalg.LinAlgError:
        return np.sum(S ** 2)


def test_an_op_raising_inside_try_except_is_a_guard_both_ways():
    # traced on a matrix cholesky refuses, the fallback's code ran for every later matrix
    # (a wrong value); traced on one it takes, the error escaped the user's `except`
    bad, good = np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([[2.0, 0.5], [0.5, 1.0]])
    for order in ((bad, good, bad, good), (good, bad, good, bad)):
        vg = srcgrad.value_and_grad(_logdet_or_fallback)
        for S in order:
            value, grad = vg(S)
            assert value == pytest.approx(_logdet_or_fallback(S), rel=1e-12)
            if S is bad:
                np.testing.assert_allclose(grad, 2 * S)
            else:  # (numpy's cholesky reads the lower triangle: its gradient lies there)
                np.testing.assert_allclose(grad, np.tril(2 * np.linalg.inv(S) - np.diag(np.diag(np.linalg.inv(S)))))
    assert "raises LinAlgError" in vg.source(bad)
    with pytest.raises(np.linalg.LinAlgError, match="cholesky"):  # (not caught: the user's error)
        srcgrad.grad(lambda S: np.sum(np.linalg.cholesky(S)))(bad)


def test_integer_argument_cannot_be_differentiated():
    with pytest.raises(TypeError, match="integer"):
        srcgrad.grad(lambda x: (x * 2).sum())(np.arange(3))


def test_float32_stays_float32():
    x = np.ones(3, np.float32)
    g = srcgrad.grad(lambda x: (np.tanh(x) * 2.5).sum())(x)
    assert g.dtype == np.float32


def test_vjp_and_jacobian():
    W = np.array([[1., 2.], [0.5, -1.], [3., 0.1]])
    x = np.array([0.5, -1.0])

    def f(x, W):
        return np.tanh(W @ x)
    expected = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    J = srcgrad.jacobian(f)(x, W)
    assert J.shape == (3, 2)
    np.testing.assert_allclose(J, expected)
    JW = srcgrad.jacobian(f, argnums=(0, 1))(x, W)[1]
    assert JW.shape == (3, 3, 2)
    np.testing.assert_allclose(JW[1, 1], (1 - np.tanh(W @ x)[1] ** 2) * x)
    np.testing.assert_allclose(JW[0, 1], 0.0)
    out, fn = srcgrad.vjp(f, x, W)
    np.testing.assert_allclose(out, np.tanh(W @ x))
    ct = np.array([1.0, -2.0, 0.5])
    gx, gW = fn(ct)
    np.testing.assert_allclose(gx, ct @ expected)
    gx2, _ = fn(2 * ct)  # the same recorded run, another cotangent
    np.testing.assert_allclose(gx2, 2 * gx)


def test_a_jacobians_rows_walk_the_recording_once(monkeypatch):
    # each row walked and keyed the whole recording again (most of a row's time on a
    # graph of small ops): slower than PyTorch's jacobian
    from srcgrad.autograd import engine
    walks = []
    real = engine.Walk

    def counting(*args, **kwargs):
        walks.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(engine, "Walk", counting)
    W = np.array([[1., 2.], [0.5, -1.], [3., 0.1], [0.2, 0.3]])
    J = srcgrad.jacobian(lambda x: np.tanh(W @ np.sin(x)))(np.array([0.5, -1.0]))
    np.testing.assert_allclose(J, (1 - np.tanh(W @ np.sin([0.5, -1.0])) ** 2)[:, None] * W * np.cos([0.5, -1.0]))
    assert len(walks) == 1
    out, fn = srcgrad.vjp(lambda x: np.sin(x) * 2, np.array([0.1, 0.2]))
    for k in range(3):
        np.testing.assert_allclose(fn(np.full(2, float(k)))[0], 2 * k * np.cos([0.1, 0.2]))
    assert len(walks) == 2


def test_hessian_is_reverse_over_reverse_and_exact():
    def f(x):
        return (np.sin(x) * x ** 2).sum() + x[0] * x[1]
    x = np.array([0.3, -1.2, 2.0])
    H = srcgrad.hessian(f)(x)
    expected = np.diag(-np.sin(x) * x ** 2 + 4 * x * np.cos(x) + 2 * np.sin(x))
    expected[0, 1] += 1
    expected[1, 0] += 1
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12)
    v = np.array([1.0, 0.5, -2.0])
    np.testing.assert_allclose(srcgrad.hvp(f)(x, v), expected @ v, rtol=1e-12)
    src = srcgrad.hvp(f).source(x, v)
    assert "def f_hvp(x, v):" in src or "_hvp(x, v):" in src
    assert "np.cos(x)" in src  # the second derivative, written out


def test_numpy_method_spellings_inside_decorated_functions():
    def f(x):
        # numpy's attribute .size and method .std() (ddof=0) in numpy-style code
        return np.sum(np.sqrt(x ** 2 + 1)) / x.size + x.std()
    x = np.array([0.5, -1.0, 2.0, 0.25])
    g = srcgrad.grad(f)(x)
    eps = 1e-6
    num = np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(4)])  # plain numpy
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)
    t = srcgrad.tensor(x)
    assert t.size == 4 and t.size() == (4,) and t.size(0) == 4
    assert float(t.std()) == pytest.approx(np.std(x, ddof=1))  # eager: PyTorch's unbiased default


def test_formula_gives_the_gradient_as_sympy():
    import sympy as sp
    f = srcgrad.grad(lambda x: np.sum(np.exp(-x ** 2) * np.sin(x)))
    form = f.formula(np.ones(3))
    x = sp.Symbol("x", real=True)
    assert sp.simplify(form["x"] - sp.diff(sp.exp(-x ** 2) * sp.sin(x), x)) == 0
    assert r"\frac{\partial f}{\partial x}" in form.latex()
    loop = srcgrad.grad(seed_loop).formula(np.array([1.0, 2.0, 3.0]))
    assert "512" in str(loop["x"])  # the unrolled loop's derivative, in closed form


def test_export_writes_a_standalone_module_with_guards(tmp_path):
    import importlib.util
    import sys
    g = srcgrad.value_and_grad(seed_loop)
    x = np.array([1.0, 2.0, 3.0])
    path = tmp_path / "exported_seed.py"
    name = srcgrad.export(g, str(path), x)
    text = path.read_text()
    assert "srcgrad" not in text.replace("Generated by srcgrad", "")
    spec = importlib.util.spec_from_file_location("exported_seed", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    value, grad = getattr(mod, name)(x)
    v2, g2 = g(x)
    assert value == pytest.approx(v2)
    np.testing.assert_allclose(grad, g2)
    with pytest.raises(mod.GuardFailed):
        getattr(mod, name)(x * 10)  # another trip count: refused, not a stale answer
    assert "srcgrad" not in sys.modules.get("exported_seed", mod).__dict__


def test_an_exported_function_keeps_its_own_arrays_between_calls(tmp_path):
    """Code taking arrays from its pool (codegen/scratch.py) exports with the pool."""
    import importlib.util
    from thresholds import thresholds

    def f(x, y):
        return np.sum(np.tanh(x @ y) * y)
    x, y = np.ones((4, 4)), np.full((4, 4), 0.1)
    with thresholds(1):
        g = srcgrad.value_and_grad(f, argnums=(0, 1))
        path = tmp_path / "exported_pool.py"
        name = srcgrad.export(g, str(path), x, y)
        value, (gx, gy) = g(x, y)
    assert "scratch.take" in path.read_text()
    spec = importlib.util.spec_from_file_location("exported_pool", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for _ in range(2):
        v, ex, ey = getattr(mod, name)(x, y)
        assert v == pytest.approx(value)
        np.testing.assert_allclose(ex, gx)
        np.testing.assert_allclose(ey, gy)


def test_tracing_under_a_profiler_leaves_it_in_place():
    import cProfile
    import sys
    prof = cProfile.Profile()
    prof.enable()
    try:
        g = srcgrad.grad(lambda x: np.sum(np.sin(x)))(np.array([0.5, 1.0]))
        still = sys.getprofile()
    finally:
        prof.disable()
    np.testing.assert_allclose(g, np.cos([0.5, 1.0]))
    assert still is not None  # the profiler was not displaced


def test_an_array_made_inside_and_changed_in_place_is_captured_as_it_was():
    """`w = np.ones_like(x); w[i] = 5` or `w += x`: the recorded ops read w as it was
    when they ran, not as it is at the end of the recording."""
    def acc(x):
        w = np.zeros_like(x)
        w += x
        return (w * x).sum()

    def weight_max(x):
        w = np.ones_like(x)
        w[np.argmax(x)] = 5.0
        w[0] += 1.0
        return (w * x ** 2).sum()
    for f, calls in [(acc, [[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]]),
                     (weight_max, [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [1.0, 4.0, 2.0]])]:
        g = srcgrad.value_and_grad(f)
        for x in map(np.array, calls):
            value, grad = g(x)
            assert value == pytest.approx(f(x))
            h = 1e-6
            fd = [(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(3)]
            np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_transforms_nest_and_their_results_can_be_differentiated():
    """grad of grad, grad inside vjp or an eager backward, and a function reading a
    tensor that requires grad from outside: the inner transform runs on tensors, so
    the outer derivative sees it (never a silently constant inner gradient)."""
    x = np.array([0.7, 1.1])
    expected = np.cos(x) - x * np.sin(x)          # d/dx sum(x * cos(x))

    def h(x):
        return np.sum(x * srcgrad.grad(lambda y: np.sum(np.sin(y)))(x))
    np.testing.assert_allclose(srcgrad.grad(h)(x), expected)
    np.testing.assert_allclose(srcgrad.vjp(h, x)[1](1.0)[0], expected)
    t = srcgrad.tensor(x, requires_grad=True)
    h(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), expected)
    assert srcgrad.grad(srcgrad.grad(np.sin))(0.5) == pytest.approx(-np.sin(0.5))
    assert srcgrad.grad(srcgrad.grad(srcgrad.grad(np.sin)))(0.5) == pytest.approx(-np.cos(0.5))
    # the inner derivative is in its own argument only, not in the closure's x
    assert srcgrad.grad(lambda x: x * srcgrad.grad(lambda y: x * y)(x))(1.5) == pytest.approx(3.0)
    w = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    g = srcgrad.grad(lambda y: np.sum(w * y * y))(np.array([3.0, 4.0]))
    g.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [6.0, 8.0])


def test_static_arguments_of_different_types_are_different_variants():
    def f(x, flag):
        return np.sum(x ** 2) if flag is True else np.sum(x) * 10.0
    g = srcgrad.value_and_grad(f)
    x = np.array([1.0, 2.0])
    assert g(x, True)[0] == 5.0
    assert g(x, 1)[0] == 30.0


def test_vjp_and_jacobian_of_functions_without_a_derivative():
    x = np.array([1.5, 2.5])
    np.testing.assert_array_equal(srcgrad.jacobian(np.floor)(x), np.zeros((2, 2)))
    np.testing.assert_array_equal(srcgrad.vjp(np.floor, x)[1](np.ones(2))[0], [0.0, 0.0])
    c = np.ones(3)
    np.testing.assert_array_equal(srcgrad.vjp(lambda x: c, x)[1](np.ones(3))[0], [0.0, 0.0])
    np.testing.assert_array_equal(srcgrad.jacobian(lambda x: c)(x), np.zeros((3, 2)))


BUFFER = np.zeros(3)
numpy_asarray = np.asarray


def test_a_traced_value_stored_into_a_plain_numpy_array_is_an_error():
    """numpy converts it with float(): the gradient would silently be zero. (An array the
    function builds with np.zeros is a tensor: test_numpy_builders_make_tensors_...; one
    made before the call is numpy's.)"""
    def f(x):
        out = BUFFER.copy()
        for i in range(3):
            out[i] = x[i] ** 2
        return out.sum()
    with pytest.raises(srcgrad.TraceError, match=r"stored into a plain numpy array .*out\[i\] = x\[i\] \*\* 2"):
        srcgrad.grad(f)(np.array([1.0, 2.0, 3.0]))

    def g(x):  # the same, into an array made from a traced one, is differentiated
        out = np.zeros_like(x)
        for i in range(3):
            out[i] = x[i] ** 2
        return out.sum()
    np.testing.assert_allclose(srcgrad.grad(g)(np.array([1.0, 2.0, 3.0])), [2.0, 4.0, 6.0])


def test_values_leaving_the_graph_are_refused_at_the_users_line_with_what_to_write():
    def as_array(x):
        x = numpy_asarray(x)  # (bound before the call: numpy's own)
        return np.sum(x ** 2)

    def into_numpy(x):
        out = BUFFER + 1.0
        out *= x
        return np.sum(out)
    x = np.array([1.0, -2.0, 3.0])
    for f, hint in [(as_array, "drop np.asarray"), (into_numpy, "out = out \\* x")]:
        with pytest.raises(srcgrad.TraceError, match=rf"test_transforms.py:\d+.*{hint}"):
            srcgrad.grad(f)(x)


def test_keyword_arguments_bind_to_their_positions():
    def f(a, b, scale=1.0):
        return scale * np.sin(a) * b
    ga, gb = srcgrad.grad(f, argnums=(0, 1))(0.5, 2.0, scale=3.0)
    assert (ga, gb) == (pytest.approx(6 * np.cos(0.5)), pytest.approx(3 * np.sin(0.5)))
    assert srcgrad.grad(f)(0.5, b=2.0) == pytest.approx(2 * np.cos(0.5))


def test_hvp_takes_v_as_any_array_of_the_arguments_shape():
    f = lambda x: np.sum(x ** 3)  # noqa: E731
    assert srcgrad.hvp(f)(0.5, np.asarray(1.0)) == pytest.approx(3.0)
    np.testing.assert_allclose(np.asarray(srcgrad.hvp(f)(srcgrad.tensor(np.eye(2) * 2.0), np.ones((2, 2)))),
                               [[12.0, 0.0], [0.0, 12.0]])
    with pytest.raises(TypeError, match="shapes"):
        srcgrad.hvp(f)(np.eye(2), np.ones(3))


def test_second_derivative_of_a_remainder_and_a_float32_cotangent():
    a = np.array([5.0, -3.0])
    np.testing.assert_array_equal(np.asarray(srcgrad.hvp(lambda b: np.sum(np.mod(a, b)))(
        np.array([2.0, 1.5]), np.ones(2))), [0.0, 0.0])
    x = srcgrad.tensor(np.ones((3, 2)), requires_grad=True)
    u = srcgrad.tensor(np.float32(0.5), requires_grad=True)
    (g,) = srcgrad.autograd.grad([srcgrad.numpy.sum(x)], [x], [u], create_graph=True)
    assert g.dtype == np.float64
    _, gu = srcgrad.autograd.grad([srcgrad.numpy.sum(g * 2.0)], [x, u], allow_unused=True)
    assert gu.item() == pytest.approx(12.0)


def test_gradients_come_in_the_order_argnums_lists_them():
    def f(a, b, c, d):
        return a + np.sin(b) + np.cos(d) * c
    args = (0.5, -0.3, 0.2, -1.1)
    gd, gb = srcgrad.grad(f, argnums=[3, 1])(*args)
    assert (gd, gb) == (pytest.approx(-0.2 * np.sin(-1.1)), pytest.approx(np.cos(-0.3)))
    _, (gd2, gb2) = srcgrad.value_and_grad(f, argnums=(3, 1))(*args)
    assert (gd2, gb2) == (gd, gb)


def test_srcgrad_numpy_names_reach_the_rules_numpy_dispatches_to():
    """srcgrad.numpy.rollaxis is the rule np.rollaxis dispatches to, not a gradient-less
    fallback."""
    import srcgrad.numpy as snp
    x = srcgrad.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    snp.sum(snp.rollaxis(x, 2) * np.arange(4.0)[:, None, None]).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(np.arange(4.0), (2, 3, 4)))


def test_jacobian_and_vjp_inside_a_derivative_are_differentiated_too():
    fun = lambda x: np.sin(np.outer(x, x)) + np.cos(np.dot(x, x))  # noqa: E731
    x = np.array([0.3, -0.7])
    assert srcgrad.jacobian(srcgrad.jacobian(fun))(x).shape == (2, 2, 2, 2)

    def g(x):
        return np.sum(np.sin(srcgrad.jacobian(fun)(x)))

    def k(x):
        return np.sum(srcgrad.vjp(np.sin, x)[1](x)[0])   # sum(x * cos(x))

    def m(x):
        return np.sum(srcgrad.hessian(lambda y: np.sum(np.sin(y) * y[0]))(x) ** 2)
    h = 1e-6
    for f in (g, k, m):
        fd = [(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose(srcgrad.grad(f)(x), fd, rtol=1e-6)
        np.testing.assert_allclose(srcgrad.vjp(f, x)[1](1.0)[0], fd, rtol=1e-6)


@pytest.mark.parametrize("h", [0.2, 1e-6])
def test_a_float_read_by_the_recording_may_be_computed_in_another_order(h):
    """float(np.max(yh - y)), as an adaptive step reads its error estimate: the generated
    code simplifies yh - y to h*sin(y), a few ulps away (the same decision, within 16 ulps)
    or, after cancellation, many (compiled again, op by op, as numpy computes it)."""
    def f(y):
        yh = y + h * np.sin(y)
        step = float(np.max(yh - y))
        return np.sum(yh ** 2) * step
    y = np.array([1.0, 0.3])
    g = srcgrad.value_and_grad(f)
    with pytest.warns(GradientLostWarning):
        value, grad = g(y)
    assert value == f(y)
    step = float(np.max((y + h * np.sin(y)) - y))
    np.testing.assert_allclose(grad, 2 * (y + h * np.sin(y)) * (1 + h * np.cos(y)) * step, rtol=1e-12)
    assert g(y)[0] == value  # the variant accepts its own arguments


def test_returned_arrays_are_the_callers_to_change():
    """A gradient may be a captured constant (d/da sum((a + b) * w) is w) and the same for
    two arguments: each returned array is one of its own, so changing it in place changes
    nothing else — not the other gradient, not the next call's."""
    f = lambda a, b: np.sum((a + b) * np.array([1.0, 2.0]))  # noqa: E731
    g = srcgrad.grad(f, argnums=(0, 1))
    ga, gb = g(np.ones(2), np.ones(2))
    ga *= 100
    np.testing.assert_array_equal(gb, [1.0, 2.0])
    np.testing.assert_array_equal(g(np.ones(2), np.ones(2))[0], [1.0, 2.0])
    x = np.ones(2)
    assert srcgrad.compile(lambda x: x)(x) is not x


# ---------------------------------------------------------------------------------------
# vjp, jacobian & co run the user's numpy code op by op: with numpy's semantics, as grad
# ---------------------------------------------------------------------------------------
def test_vjp_and_jacobian_read_numpy_code_as_grad_does():
    A = np.arange(120.0).reshape(5, 6, 4)
    f = lambda x: x[3, 2:, [1, 3]] * x.std()  # numpy: the advanced axes first; std with ddof=0
    expect = f(A)
    out, back = srcgrad.vjp(f, A)
    np.testing.assert_allclose(out, expect)
    ct = np.arange(8.0).reshape(expect.shape)
    g = srcgrad.grad(lambda x: np.sum(f(x) * ct))(A)
    np.testing.assert_allclose(back(ct)[0], g)
    assert srcgrad.jacobian(f)(A).shape == expect.shape + A.shape


def test_vjp_of_a_value_stored_into_an_array_numpy_built():
    def f(b):
        out = np.zeros(5)
        out[1] = b
        return np.sum(out * np.arange(5.0))
    b = np.array(0.7)
    assert srcgrad.grad(f)(b) == 1.0
    assert srcgrad.vjp(f, b)[1](np.array(1.0))[0] == 1.0  # (was 0: the store dropped it)
    assert srcgrad.jacobian(f)(b) == 1.0


def test_integer_casts_for_indices_have_no_gradient():
    import srcgrad.numpy as snp
    W = np.random.default_rng(0).standard_normal((5, 10))
    W[:, -1] = [1, 0, 1, 2, 1]
    expect = np.zeros_like(W)
    expect[[0, 1, 2], :-1] = np.array([[1.0], [3.0], [1.0]])  # rows 1, 0, 1, 2, 1 selected

    def through(cast):
        return lambda W: np.sum(W[:, :-1][cast(W[:, -1])])
    for cast in (lambda c: c.astype(np.int64), snp.int64, lambda c: np.asarray(c, dtype=np.int64)):
        np.testing.assert_array_equal(srcgrad.grad(through(cast))(W), expect)
        np.testing.assert_array_equal(srcgrad.vjp(through(cast), W)[1](np.array(1.0))[0], expect)
    np.testing.assert_array_equal(srcgrad.vjp(through(np.int64), W)[1](np.array(1.0))[0], expect)
    with pytest.raises(TraceError, match=r"astype\(np.int64\)"):  # numpy's np.int64 in a trace
        srcgrad.grad(through(np.int64))(W)
    assert snp.int64(3) == 3 and np.zeros(2, snp.int64).dtype == np.int64


def test_hvp_of_a_function_reading_a_tensor_from_outside():
    y = srcgrad.tensor(0.3, requires_grad=True)
    h = srcgrad.hvp(lambda x: np.sin(x * y))(np.array(0.5), np.array(1.0))
    assert float(h) == pytest.approx(-0.3 ** 2 * np.sin(0.15))


def test_writing_into_a_differentiated_argument_names_the_line():
    def fun(A, b):
        A[1] = b
        return np.sum(A)
    for error in (TypeError, RuntimeError):  # (HIPS autograd's TypeError, PyTorch's RuntimeError)
        with pytest.raises(error, match=r"changed in place \(at .*test_transforms.py:\d+.*A\[1\] = b"):
            srcgrad.grad(fun)(np.ones(5), 3.0)
    assert srcgrad.grad(lambda A, b: fun(A.copy(), b))(np.ones(5), 3.0).tolist() == [1, 0, 1, 1, 1]


def test_a_decision_that_changes_every_call_stops_compiling_variants():
    # float() of the data is a guard on its exact value: after MAX_VARIANTS variants the
    # function is differentiated op by op (its backward compiled once, by structure)
    from srcgrad.transforms import MAX_VARIANTS

    def f(x, w):
        s = float(np.sum(x))
        return np.sum(x ** 2 * w) * s, {"s": s}
    g = srcgrad.value_and_grad(f, argnums=(0, 1), has_aux=True)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(MAX_VARIANTS + 4):
            x, w = rng.standard_normal(4), rng.standard_normal(4)
            (value, aux), (gx, gw) = g(x, w)
            s = x.sum()
            assert np.isclose(value, np.sum(x ** 2 * w) * s) and aux["s"] == s
            np.testing.assert_allclose(gx, 2 * x * w * s)  # (s is a number: no gradient through it)
            np.testing.assert_allclose(gw, x ** 2 * s)
            assert isinstance(gx, np.ndarray) and isinstance(value, float)
    assert sum(len(vs) for vs in g._variants.values()) == MAX_VARIANTS
    assert len([c for c in caught if "op by op" in str(c.message)]) == 1


def test_a_slice_of_a_local_array_read_before_a_write_into_the_array():
    # Gauss-Seidel style: x[:1] is read, then x[0] written; the read saw zeros
    def f(a):
        x = np.zeros(2)
        t = np.sum(a[:1] * x[:1])
        x[0] = a[1]
        return np.sum(x) + t
    g = srcgrad.value_and_grad(f)
    for a in (np.array([2.0, 3.0]), np.array([-1.0, 5.0])):
        v, grad = g(a)
        assert v == f(a)
        np.testing.assert_allclose(grad, [0.0, 1.0])


RNG = np.random.default_rng(7)


def _mc_loss(x):
    noise = np.random.standard_normal(x.shape)
    return np.sum((x + noise) ** 2)


def _mc_loss_rng(x):
    return np.sum((x + RNG.normal(size=x.shape)) ** 2)


@pytest.mark.filterwarnings("ignore:.*draws random numbers")
def test_a_function_drawing_random_numbers_draws_at_every_call():
    # compiled, the draws would be constants: the first call's sample at every call
    x = np.array([1.0, 2.0])
    vg = srcgrad.value_and_grad(_mc_loss)
    np.random.seed(0)
    want = [_mc_loss(x) for _ in range(3)]
    np.random.seed(0)
    got = [vg(x) for _ in range(3)]
    np.testing.assert_allclose([v for v, _ in got], want, rtol=1e-12)
    np.random.seed(0)
    for _, g in got:  # d/dx sum((x + n)^2) = 2 (x + n), with this call's n
        np.testing.assert_allclose(g, 2 * (x + np.random.standard_normal(2)), rtol=1e-12)
    g_rng = srcgrad.grad(_mc_loss_rng)  # a module-level Generator: new draws at every call
    values = [g_rng(x) for _ in range(3)]
    assert not np.allclose(values[0], values[1])
    np.random.seed(1)
    first = srcgrad.compile(_mc_loss)(x)
    np.random.seed(1)
    assert first == _mc_loss(x)
    assert srcgrad.compile(_mc_loss)(x) != first


def test_a_function_drawing_random_numbers_warns_at_the_users_line():
    with pytest.warns(UserWarning, match="draws random numbers") as record:
        srcgrad.grad(lambda x: np.sum(x * np.random.rand(2)))(np.array([1.0, 2.0]))
    assert record[0].filename == __file__


def _noisy_cubic(x):
    np.random.standard_normal(3)  # (a draw the value does not use)
    return np.sum(np.sin(x) * x ** 2)


@pytest.mark.filterwarnings("ignore:.*draws random numbers")
def test_hvp_of_a_function_drawing_random_numbers_is_the_hessian_product():
    # run op by op, hvp returned the gradient
    x, v = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0])
    d2 = 2 * np.sin(x) + 4 * x * np.cos(x) - x ** 2 * np.sin(x)  # (the Hessian is diagonal)
    for _ in range(2):
        np.testing.assert_allclose(srcgrad.hvp(_noisy_cubic)(x, v), d2 * v, rtol=1e-12)


SCALE = 1.0
CONFIG = {"scale": 1.0}


def _scaled(x):
    return np.sum(x ** 2) * SCALE * CONFIG["scale"]


def test_a_global_the_function_reads_changed_between_calls_compiles_again():
    # the trace bakes SCALE and CONFIG["scale"] in: the next call must not return the
    # first value's results (it did, silently)
    global SCALE
    g = srcgrad.value_and_grad(_scaled)
    x = np.array([1.0, 2.0])
    try:
        assert g(x)[0] == 5.0
        SCALE = 3.0
        v, grad = g(x)
        assert v == 15.0 and list(grad) == [6.0, 12.0]
        CONFIG["scale"] = 2.0
        assert g(x)[0] == 30.0
        SCALE, CONFIG["scale"] = 1.0, 1.0
        assert g(x)[0] == 5.0  # (the first variant again)
    finally:
        SCALE, CONFIG["scale"] = 1.0, 1.0
    k = 2.0
    h = srcgrad.grad(lambda x: np.sum(k * x))
    assert list(h(x)) == [2.0, 2.0]
    k = 5.0
    assert list(h(x)) == [5.0, 5.0]


def test_a_helper_function_rebound_between_calls_compiles_again():
    # a function read by name was keyed by its id: a new helper in the old one's memory
    # (CPython reuses it at once) returned the old helper's gradient
    helper = lambda x: x ** 2  # noqa: E731
    g = srcgrad.grad(lambda x: np.sum(helper(x)))
    x = np.array([1.0, 2.0])
    assert list(g(x)) == [2.0, 4.0]
    for power, want in ((3, [3.0, 12.0]), (4, [4.0, 32.0])):
        helper = None
        helper = (lambda x: x ** 3) if power == 3 else (lambda x, p=power: x ** p)  # noqa: E731
        assert list(g(x)) == want


def _p(x, w):
    return 1.0 / np.sqrt(np.sum((x - w) ** 2))


_dp = srcgrad.grad(_p, argnums=0)


def test_an_inner_grad_of_what_an_inner_grad_returned_gives_arrays():
    # (it returned a srcgrad tensor with a grad_fn, from the top level)
    def outer(w):
        x = np.array([0.0, 8.0])
        a = _dp(x, w)
        return _dp(x + a, w)[0]
    g = srcgrad.grad(outer)
    w = np.array([0.3, 0.1])
    r = g(w)
    assert type(r) is np.ndarray
    h = 1e-6
    fd = [(outer(w + h * e) - outer(w - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(r, fd, rtol=1e-5)
    assert type(g(w)) is np.ndarray  # (again: the arguments' key runs op by op)
    v, r2 = srcgrad.value_and_grad(outer)(w)
    assert type(r2) is np.ndarray and isinstance(v, float)


def test_round_trunc_divmod_and_int_of_traced_numbers():
    import math
    import warnings

    def euler(z, T):  # T is not differentiated: round() of it is the step count
        for _ in range(round(T / 0.01)):
            z = z + 0.01 * np.array([-z[1], z[0]])
        return z[0] ** 2 + 3 * z[1]
    z = np.array([1.0, 0.0])
    v, g = srcgrad.value_and_grad(euler)(z, 0.05)
    assert v == pytest.approx(euler(z, 0.05), rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (steps: no gradient is lost, nothing to warn about)
        g = srcgrad.grad(lambda x, T: np.sum(x) * math.trunc(T) + divmod(T, 1.0)[1] * x[0])(np.array([1.5, 2.0]), 2.25)
        np.testing.assert_allclose(g, [2.25, 2.0])
        g = srcgrad.grad(lambda x: np.sum(x) * round(x[0]) + np.sum(x) * int(np.ceil(x.max())))(np.array([1.4, 2.2]))
        np.testing.assert_allclose(g, [4.0, 4.0])
        assert round(srcgrad.tensor(2.26), 1).item() == pytest.approx(2.3)


class _Cfg:
    scale = 1.0


class _Params:
    def __init__(self):
        self.lr = 1.0


_PARAMS = _Params()


def _attr_scaled(x):
    return np.sum(x ** 2) * _Cfg.scale * _PARAMS.lr


def test_a_class_or_object_attribute_changed_between_calls_compiles_again():
    g = srcgrad.value_and_grad(_attr_scaled)
    x = np.array([1.0, 2.0])
    try:
        assert g(x)[0] == 5.0
        _Cfg.scale = 3.0
        assert g(x)[0] == 15.0
        _PARAMS.lr = 2.0
        v, grad = g(x)
        assert v == 30.0 and list(grad) == [12.0, 24.0]
    finally:
        _Cfg.scale, _PARAMS.lr = 1.0, 1.0


class _Model:
    def __init__(self):
        self.W = np.ones(3)
        self.layer = types.SimpleNamespace(scale=1.0, b=np.zeros(3))

    def loss(self, x):
        return np.sum(self.W * x) * self._scale() + np.sum(self.layer.b * x)

    def _scale(self):
        return self.layer.scale


def test_an_objects_attributes_a_method_reads_changed_between_calls_compile_again():
    # `grad(model.loss)` with model.W rebound by a training step, an attribute of an
    # attribute, one read by another method: all returned the first call's gradient
    m = _Model()
    g = srcgrad.grad(m.loss)
    x = np.array([1.0, 2.0, 3.0])
    assert list(g(x)) == [1.0, 1.0, 1.0]
    m.W = m.W * 2
    assert list(g(x)) == [2.0, 2.0, 2.0]
    m.W *= 2  # (in place)
    assert list(g(x)) == [4.0, 4.0, 4.0]
    m.layer.scale = 0.5
    assert list(g(x)) == [2.0, 2.0, 2.0]
    m.layer = types.SimpleNamespace(scale=1.0, b=np.ones(3))
    assert list(g(x)) == [5.0, 5.0, 5.0]


class _Model2:
    def __init__(self):
        self.W, self.s = np.ones(3), 1.0

    def __call__(self, x):  # (a model object, passed as a static argument)
        return np.sum(self.W * x) * self.s


def test_an_object_passed_as_a_static_argument_is_keyed_by_the_attributes_read():
    g = srcgrad.grad(lambda model, x: model(x), argnums=1)
    p, x = _Model2(), np.array([1.0, 2.0, 3.0])
    assert list(g(p, x)) == [1.0, 1.0, 1.0]
    p.s = 2.0
    assert list(g(p, x)) == [2.0, 2.0, 2.0]
    p.W = p.W * 3
    assert list(g(p, x)) == [6.0, 6.0, 6.0]


_LAYERS = [types.SimpleNamespace(w=1.0), types.SimpleNamespace(w=2.0)]
_WEIGHT = srcgrad.tensor([1.0, 1.0])


def _stacked(x):
    for layer in _LAYERS:
        x = x * layer.w
    return np.sum(x * _WEIGHT.numpy())


def test_objects_in_a_list_and_a_tensor_read_by_name_changed_between_calls_compile_again():
    g = srcgrad.grad(_stacked)
    x = np.array([1.0, 2.0])
    try:
        assert list(g(x)) == [2.0, 2.0]
        _LAYERS[1].w = 3.0
        assert list(g(x)) == [3.0, 3.0]
        with srcgrad.no_grad():
            _WEIGHT.mul_(2.0)
        assert list(g(x)) == [6.0, 6.0]
    finally:
        _LAYERS[1].w = 2.0
        with srcgrad.no_grad():
            _WEIGHT.fill_(1.0)


_DATA = np.ones(3)


def _data_loss(w):
    return np.sum((_DATA * w) ** 2)


def test_a_global_array_rebound_between_calls_is_never_stale():
    # (the array is baked into the compiled code: a new one compiles again, and after
    # MAX_VARIANTS of them the calls run op by op, with a warning)
    global _DATA
    g = srcgrad.grad(_data_loss)
    w = np.array([1.0, 2.0, 3.0])
    try:
        with pytest.warns(UserWarning, match="changed 9 times"):
            for k in range(12):
                _DATA = np.full(3, float(k))
                np.testing.assert_allclose(g(w), 2 * _DATA * _DATA * w)
    finally:
        _DATA = np.ones(3)


def _potential(x, w):
    d = x - np.array([10.0, 10.0 - w[0]])
    return 1.0 / np.sqrt(np.sum(d * d))


def test_an_inner_grad_in_a_loop_walks_its_own_recording_only(monkeypatch):
    # each inner call walked the whole run so far (through its argument's history): the
    # outer gradient's first call grew quadratically with the step count (80 steps: 7.8 s)
    from srcgrad.autograd import engine
    sizes = []
    real = engine.Walk

    def measuring(*args, **kwargs):
        w = real(*args, **kwargs)
        sizes.append(len(w.fns))
        return w
    monkeypatch.setattr(engine, "Walk", measuring)
    dpot = srcgrad.grad(_potential)

    def euler(w, steps=30):
        x, xdot = np.array([0.0, 8.0]), np.array([0.75, 0.0])
        for _ in range(steps):
            x, xdot = x + 0.1 * xdot, xdot - 0.1 * dpot(x, w)
        return x[0] ** 2
    g = srcgrad.grad(euler)(np.array([0.0]))
    inner = sizes[:30]
    assert max(inner) == min(inner)  # (the same small recording at every step)
    eps = 1e-6
    assert g[0] == pytest.approx((euler(np.array([eps])) - euler(np.array([-eps]))) / (2 * eps), rel=1e-5)


def _sum_of_list(x):
    return np.sum([x[0] ** 2, np.sin(x[1]), x[2]]) + np.mean([np.sum(x ** k) for k in range(1, 3)]) \
        + np.max([x[0], 2 * x[1]])


def test_numpy_reductions_of_lists_of_traced_values():
    # numpy converts the list itself, without asking srcgrad: it was a TraceError
    x = np.array([0.3, 0.7, 1.2])
    want = [0.6 + 0.5 * (1 + 0.6), np.cos(0.7) + 0.5 * (1 + 1.4) + 2.0, 1.0 + 0.5 * (1 + 2.4)]
    np.testing.assert_allclose(srcgrad.grad(_sum_of_list)(x), want)


def test_a_numpy_function_without_a_rule_is_refused_at_the_users_line():
    def f(x):
        return np.sum(np.sort_complex(x[None, :] * 2))
    with pytest.raises(TraceError, match=r"sort_complex has no srcgrad rule.*test_transforms.py:\d+: "
                                         r"return np.sum\(np.sort_complex"):
        srcgrad.grad(f)(np.array([1.0, 2.0]))


class _Noisy:
    def __init__(self):
        self.rng, self.W = np.random.default_rng(0), np.ones(3)

    def loss(self, x):
        return np.sum((x + self.rng.normal(size=3)) * self.W)


_SETTINGS = {"rng": np.random.default_rng(1)}


def _noisy_through_a_dict(x):
    return np.sum(x * _SETTINGS["rng"].normal(size=3))


@pytest.mark.filterwarnings("ignore:.*draws random numbers")
def test_generators_reached_through_attributes_and_dicts_draw_at_every_call():
    # `self.rng.normal()` or `cfg["rng"].normal()`: the draws were frozen at the first call's
    x = np.zeros(3)
    m, fresh = _Noisy(), _Noisy()
    g = srcgrad.value_and_grad(m.loss)
    np.testing.assert_allclose([g(x)[0] for _ in range(3)], [fresh.loss(x) for _ in range(3)], rtol=1e-12)
    h = srcgrad.grad(_noisy_through_a_dict)
    values = [h(x)[0] for _ in range(3)]
    assert len(set(values)) == 3


def _python_noise(x):
    import random
    return np.sum(x * random.gauss(0, 1))


@pytest.mark.filterwarnings("ignore:.*draws random numbers")
def test_pythons_own_random_module_draws_at_every_call():
    import random
    g = srcgrad.grad(_python_noise)
    random.seed(3)
    got = [g(np.ones(2))[0] for _ in range(3)]
    random.seed(3)
    np.testing.assert_allclose(got, [random.gauss(0, 1) for _ in range(3)], rtol=1e-12)


_COEFS = [0.1] * 500


def _reads_a_long_list(x):
    return np.sum(x * _COEFS[7])


def test_a_long_list_of_numbers_changed_in_place_between_calls_compiles_again():
    # past 256 entries a list was keyed by its identity: `_COEFS[7] = 5.0` went unseen
    g = srcgrad.grad(_reads_a_long_list)
    try:
        assert list(g(np.ones(2))) == [0.1, 0.1]
        _COEFS[7] = 5.0
        assert list(g(np.ones(2))) == [5.0, 5.0]
    finally:
        _COEFS[7] = 0.1


def test_inspection_takes_keyword_arguments_as_a_call_does():
    def f(x, scale=1.0):
        return np.sum(np.sin(x) * scale)
    vg = srcgrad.value_and_grad(f)
    x = np.ones(3)
    assert vg(x, scale=3.0)[0] == pytest.approx(3 * 3 * np.sin(1.0))
    assert "def f_value_and_grad(x, scale):" in vg.source(x, scale=3.0)
    assert str(vg.ir(x, scale=3.0)) and str(vg.program_ir(x, scale=3.0))
    assert "scale" in str(vg.formula(x, scale=2.0))


def test_too_many_data_dependent_indices_into_a_plain_array_name_the_limit_and_the_way_out():
    table = np.arange(1000.0) + 1

    def f(x):
        return (x * table[(x > 0).astype(int) * 3]).sum()
    np.testing.assert_allclose(srcgrad.grad(f)(np.ones(200)), np.full(200, 4.0))
    with pytest.raises(TraceError, match=r"300 integers .* up to 256 .*srcgrad.numpy.asarray\(table\)\[idx\]"):
        srcgrad.grad(f)(np.ones(300))


def test_a_complex_number_with_a_tensor_is_differentiated():
    """|x1 + i x2|^2 = x1^2 + x2^2: real data through complex values (tests/test_complex.py)."""
    x = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(srcgrad.grad(lambda x: np.sum(np.abs(x[:2] + 1j * x[2:]) ** 2))(x), 2 * x)
    t = srcgrad.ones(2, requires_grad=True)
    (t * 2j).imag.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [2.0, 2.0])
    assert t.grad.dtype == np.float32


def test_vjp_of_a_function_returning_a_tuple_or_list():
    x = np.array([0.5, 1.5])
    out, back = srcgrad.vjp(lambda x: (np.sin(x), 2 * x[0]), x)
    np.testing.assert_allclose(out[0], np.sin(x))
    assert isinstance(out, tuple) and out[1] == 1.0
    (g,) = back((np.ones(2), 3.0))
    np.testing.assert_allclose(g, np.cos(x) + [6.0, 0.0])
    out, back = srcgrad.vjp(lambda a, b: [a * b, np.sum(a)], x, np.arange(2.0))
    assert isinstance(out, list)
    ga, gb = back([np.array([1.0, 2.0]), 1.0])
    np.testing.assert_allclose(ga, [1.0, 3.0])
    np.testing.assert_allclose(gb, [0.5, 3.0])
    with pytest.raises(ValueError, match="2 outputs"):
        back(np.ones(3))


def _ambiguous_truth(x):
    try:
        if x > 0:  # (numpy: ValueError, the truth value of an array is ambiguous)
            return np.sum(x)
    except ValueError:
        pass
    return np.sum(x ** 2)


def _index_out_of_range(x):
    try:
        return x[int(np.argmax(x)) + 3]
    except IndexError:  # (a data-dependent index past the end: numpy's IndexError)
        return x[0] * 2


def _float_of_an_array(x):
    try:
        c = float(x)  # (numpy: TypeError, only 0-d arrays are numbers)
    except TypeError:
        c = 1.0
    return np.sum(x ** 2) * c


@pytest.mark.parametrize("f,x", [(_ambiguous_truth, np.array([0.5, -0.3])),
                                 (_float_of_an_array, np.array([0.5, -0.3])),
                                 (_index_out_of_range, np.array([0.1, 0.2, 0.9, 0.3])),
                                 (_index_out_of_range, np.array([0.9, 0.2, 0.1, 0.3]))])
def test_numpys_exceptions_are_raised_for_the_functions_own_except(f, x):
    value, grad = srcgrad.value_and_grad(f)(x.copy())
    assert value == f(x.copy())
    eps = 1e-7
    want = [(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(len(x))]
    np.testing.assert_allclose(grad, want, atol=1e-6)
    np.testing.assert_allclose(srcgrad.vjp(f, x.copy())[1](1.0)[0], want, atol=1e-6)
