"""The generated backward source: what it says, where it points, and that it is stable.

Several tests read the `# test_codegen.py:N` comments of the generated code, so the
programs under test are written at known lines (found with `_here()`), not copied.
"""
import inspect as pyinspect
import linecache
import os
import re
import subprocess
import sys
import textwrap
import traceback

import numpy as np
import pytest
import sympy as sp

import srcgrad
from srcgrad.autograd import engine

THIS = os.path.basename(__file__)


def _here():
    """The line number of the caller's line."""
    return sys._getframe(1).f_lineno


@pytest.fixture(params=["default", "reference"])
def config(request):
    old = (srcgrad.config.fuse_elementwise, srcgrad.config.simplify)
    on = request.param == "default"
    srcgrad.config.fuse_elementwise, srcgrad.config.simplify = on, on
    try:
        yield request.param
    finally:
        srcgrad.config.fuse_elementwise, srcgrad.config.simplify = old


def body_lines(source):
    """The statement lines of a generated function (no header comments, def or return)."""
    out = []
    for line in source.splitlines():
        s = line.strip()
        if not s or s.startswith("#") or s.startswith("def ") or s.startswith("return"):
            continue
        out.append(line)
    return out


def assignments(source):
    return [line for line in body_lines(source) if re.match(r"\s*[\w\[\], :.]+ = ", line)]


def code_and_comment(line):
    code, _, comment = line.partition("  # ")
    return code.strip(), comment.strip()


def as_sympy(expr_text, names):
    """A generated right-hand side as a sympy expression (names -> symbols)."""
    ns = {n: sp.Symbol(n) for n in names}
    return sp.sympify(expr_text, locals=ns)


# ---------------------------------------------------------------------------------------
# the seed program: one simplified line
# ---------------------------------------------------------------------------------------
def _check_single_simplified_line(out, xname="x"):
    src = srcgrad.inspect.backward_source(out)
    lines = assignments(src)
    assert len(lines) == 1, f"expected one fused line, got:\n{src}"
    code, comment = code_and_comment(lines[0])
    target, rhs = [s.strip() for s in code.split("=", 1)]
    assert target == f"grad_{xname}"
    assert "1.5" in rhs and f"({xname} - 2)" in rhs, rhs
    # no per-op chain: no intermediate gradients, broadcasts, means or powers
    for chain in ("grad_y", "grad_z", "broadcast_to", "mean", "**", "/ 4", "* 3", "* 2"):
        assert chain not in rhs, f"{chain!r} in {rhs!r}"
    # equivalent to 1.5 * grad_out * (x - 2), whatever the cotangent is called
    (g,) = re.findall(r"\bgrad_\w+", rhs)
    got = as_sympy(rhs, [g, xname])
    assert sp.simplify(got - sp.Rational(3, 2) * sp.Symbol(g) * (sp.Symbol(xname) - 2)) == 0
    # the signature takes the cotangent and x, nothing else
    sig = re.search(r"def backward\((.*)\):", src).group(1)
    assert [p.strip() for p in sig.split(",")] == [g, xname]
    return src, comment


def test_seed_one_liner_expression_form():
    x = srcgrad.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    line = _here() + 1
    out = (3 * (x - 2) ** 2).mean()
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-1.5, 0.0], [1.5, 3.0]])
    src, comment = _check_single_simplified_line(out)
    assert comment == f"{THIS}:{line}"
    assert src.startswith("# backward of `out`, compiled by srcgrad from 4 recorded ops\n")


def test_seed_one_liner_tutorial_form():
    x = srcgrad.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    first = _here() + 1
    y = x - 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-1.5, 0.0], [1.5, 3.0]])
    src, comment = _check_single_simplified_line(out)
    assert comment == f"{THIS}:{first}-{first + 2}"
    assert x.grad.dtype == np.float32


def test_seed_reference_backward_is_a_per_op_chain():
    """With both switches off the same program gives one line per op rule, and the same
    gradient."""
    old = (srcgrad.config.fuse_elementwise, srcgrad.config.simplify)
    srcgrad.config.fuse_elementwise, srcgrad.config.simplify = False, False
    try:
        x = srcgrad.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x - 2
        z = y * y * 3
        out = z.mean()
        out.backward()
        src = srcgrad.inspect.backward_source(out)
    finally:
        srcgrad.config.fuse_elementwise, srcgrad.config.simplify = old
    assert len(assignments(src)) > 1, src
    np.testing.assert_allclose(x.grad.numpy(), [[-1.5, 0.0], [1.5, 3.0]])


def test_names_follow_the_users_variables():
    W = srcgrad.tensor(np.ones((3, 2)), requires_grad=True)
    inp = srcgrad.tensor(np.arange(6.).reshape(2, 3), requires_grad=True)
    hidden = (inp @ W).tanh()
    loss = hidden.sum()
    loss.backward()
    src = srcgrad.inspect.backward_source(loss)
    sig = re.search(r"def backward\((.*)\):", src).group(1)
    assert "grad_loss" in sig
    assert re.search(r"\bgrad_W\b", src) and re.search(r"\bgrad_inp\b", src), src
    assert "hidden" in src  # the saved tanh is read, not recomputed


# ---------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------
def _program(x, w):
    h = (x @ w).tanh()
    s = h.sigmoid() * h + (x.exp() * 0.5).sum(-1, True)
    return (s / (w * w + 1).sum()).mean() + srcgrad.where(x > 0, x, -x).abs().sum()


def _source_of_program(seed=0):
    rng = np.random.default_rng(seed)
    x = srcgrad.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = srcgrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    out = _program(x, w)
    out.backward()
    return engine.last_compiled().source, srcgrad.inspect.backward_source(out)


def test_same_program_compiled_twice_gives_identical_text(config):
    engine.clear_cache()
    first, via_inspect = _source_of_program(0)
    assert first == via_inspect
    engine.clear_cache()
    second, _ = _source_of_program(1)  # other data, same structure: same text
    assert first == second
    engine.clear_cache()
    third, _ = _source_of_program(0)
    assert first == third


DETERMINISM_SCRIPT = textwrap.dedent("""
    import numpy as np, srcgrad
    x = srcgrad.tensor(np.ones((2, 3)), requires_grad=True)
    w = srcgrad.tensor(np.ones((3, 4)), requires_grad=True)
    h = (x @ w).tanh()
    s = h.sigmoid() * h + (x.exp() * 0.5).sum(-1, True) + (x.sin() * x.cos()).sum()
    out = (s / (w * w + 1).sum()).mean() + srcgrad.where(x > 0, x, -x).abs().sum()
    out.backward()
    print(srcgrad.inspect.backward_source(out))
""")


def test_text_does_not_depend_on_hash_seed(tmp_path):
    """sympy's and Python's set/dict orders vary with the hash seed; the text must not."""
    script = tmp_path / "prog.py"
    script.write_text(DETERMINISM_SCRIPT)
    texts = []
    for seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        texts.append(r.stdout)
    assert texts[0] == texts[1]
    assert "def backward(" in texts[0]


# ---------------------------------------------------------------------------------------
# locations and linecache
# ---------------------------------------------------------------------------------------
def _located_program(x, w, b):
    h = x @ w + b
    a = h.relu() * 2
    m = a.mean(0)
    r = m.reshape(1, -1).T[::-1]
    return (r * r).sum() + (x.sin() ** 2).sum()


def test_every_assignment_points_at_a_line_of_this_file(config):
    first = _located_program.__code__.co_firstlineno
    last = first + len(pyinspect.getsourcelines(_located_program)[0]) - 1
    rng = np.random.default_rng(0)
    x = srcgrad.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = srcgrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = srcgrad.tensor(rng.standard_normal((4,)), requires_grad=True)
    out = _located_program(x, w, b)
    out.backward()
    src = srcgrad.inspect.backward_source(out)
    lines = assignments(src)
    assert lines, src
    for line in lines:
        code, comment = code_and_comment(line)
        m = re.fullmatch(re.escape(THIS) + r":(\d+)(?:-(\d+))?", comment)
        assert m, f"no `# {THIS}:N` comment on: {line!r}\n{src}"
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        assert first < lo <= hi <= last, f"{line!r} points outside _located_program ({first}-{last})"
        for n in range(lo, hi + 1):
            assert linecache.getline(__file__, n).strip(), f"line {n} is empty"


def test_ir_comments_point_at_recording_lines():
    x = srcgrad.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    first = _here() + 1
    y = x - 2
    z = y * y * 3
    out = z.mean()
    text = str(srcgrad.inspect.ir(out))
    locs = re.findall(re.escape(THIS) + r":(\d+)", text)
    assert [int(n) for n in locs] == [first, first + 1, first + 1, first + 2]


def test_generated_function_is_registered_in_linecache():
    x = srcgrad.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    out = (3 * (x - 2) ** 2).mean()
    out.backward()
    compiled = engine.last_compiled()
    fn = compiled.fn
    filename = fn.__code__.co_filename
    assert filename.startswith("<srcgrad:")
    assert "".join(linecache.getlines(filename)) == compiled.source
    # inspect finds it through linecache, from the def line on
    got = pyinspect.getsource(fn)
    assert got.startswith("def backward(")
    assert compiled.source.endswith(got)
    # each line of the code object maps to the text at that line
    first = fn.__code__.co_firstlineno
    assert linecache.getline(filename, first).startswith("def backward(")


def test_traceback_through_generated_code_shows_its_lines():
    x = srcgrad.tensor([1., 2., 3.], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: 1 / 0)
    out = (y * y).sum()
    with pytest.raises(ZeroDivisionError) as info:
        out.backward()
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename.startswith("<srcgrad:")]
    assert frames, "the generated function is not on the traceback"
    frame = frames[-1]
    assert frame.name == "backward"
    assert frame.line and "hooks[" in frame.line
    text = "".join(traceback.format_exception(info.value))
    assert frame.line in text


# ---------------------------------------------------------------------------------------
# the compile cache
# ---------------------------------------------------------------------------------------
def _step(data, w):
    x = srcgrad.tensor(data, requires_grad=True)
    out = ((x * w).tanh() ** 2).mean()
    out.backward()
    return x.grad


def test_same_structure_new_data_does_not_recompile(config):
    engine.clear_cache()
    rng = np.random.default_rng(0)
    g1 = _step(rng.standard_normal((3, 2)), 0.5)
    fn = engine.last_compiled()
    size = len(engine._cache)
    data = rng.standard_normal((3, 2))
    g2 = _step(data, 0.5)
    assert engine.last_compiled() is fn
    assert len(engine._cache) == size
    assert not np.array_equal(g1.numpy(), g2.numpy())
    t = np.tanh(data * 0.5)
    np.testing.assert_allclose(g2.numpy(), (2 * t * (1 - t * t) * 0.5 / 6).astype(np.float64),
                               rtol=1e-12)


def test_cache_key_sees_shapes_dtypes_literals_and_config():
    engine.clear_cache()
    _step(np.ones((3, 2)), 0.5)
    fn = engine.last_compiled()
    _step(np.ones((3, 2)), 0.25)                 # another literal: another function
    assert engine.last_compiled() is not fn
    _step(np.ones((3, 2)), 0.5)
    assert engine.last_compiled() is fn
    _step(np.ones((2, 2)), 0.5)                  # another shape
    assert engine.last_compiled() is not fn
    _step(np.ones((3, 2), np.float32), 0.5)      # another dtype
    assert engine.last_compiled() is not fn
    old = srcgrad.config.simplify
    srcgrad.config.simplify = False
    try:
        _step(np.ones((3, 2)), 0.5)              # another config
        assert engine.last_compiled() is not fn
    finally:
        srcgrad.config.simplify = old
    _step(np.ones((3, 2)), 0.5)
    assert engine.last_compiled() is fn
    assert len(engine._cache) == 5


def test_a_training_loop_compiles_once():
    engine.clear_cache()
    rng = np.random.default_rng(1)
    W = srcgrad.tensor(rng.standard_normal((3, 1)) * 0.1, requires_grad=True)
    X = rng.standard_normal((8, 3))
    Y = X @ np.array([[1.0], [-2.0], [0.5]])
    fns = set()
    for _ in range(5):
        loss = ((srcgrad.tensor(X) @ W - srcgrad.tensor(Y)) ** 2).mean()
        loss.backward()
        fns.add(id(engine.last_compiled()))
        with srcgrad.no_grad():
            W -= 0.1 * W.grad
        W.grad = None
    assert len(fns) == 1
    assert len(engine._cache) == 1


# ---------------------------------------------------------------------------------------
# the IR listing
# ---------------------------------------------------------------------------------------
AVAL = r"(?:f16|f32|f64|i8|i16|i32|i64|u8|bool)\[[\d,]*\]"


def test_ir_one_typed_line_per_recorded_op():
    x = srcgrad.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    y = x - 2
    z = y * y * 3
    out = z.mean()
    text = str(srcgrad.inspect.ir(out))
    lines = text.splitlines()
    assert lines[0] == "forward(x: f32[2,2]):"
    assert lines[-1].strip() == "return out"
    ops = lines[1:-1]
    assert len(ops) == 4
    for line in ops:
        assert re.match(r"\s+\S+: " + AVAL + r" = \w+", line), line
    assert re.match(r"\s+y: f32\[2,2\] = sub x 2\s", ops[0])
    assert re.match(r"\s+\S+: f32\[2,2\] = mul y y\s", ops[1])
    assert re.match(r"\s+z: f32\[2,2\] = mul \S+ 3\s", ops[2])
    assert re.match(r"\s+out: f32\[\] = mean\[axis=None keepdims=False\] z\s", ops[3])
    assert repr(srcgrad.inspect.ir(out)) == text  # prints as itself


def test_ir_types_of_a_mixed_program():
    a = srcgrad.tensor(np.ones((2, 3)), requires_grad=True)            # float64
    b = srcgrad.tensor(np.ones(3, np.float32), requires_grad=True)
    c = (a.float() * b).sum(0) @ b.double().float()
    text = str(srcgrad.inspect.ir(c))
    lines = text.splitlines()
    assert lines[0] == "forward(a: f64[2,3], b: f32[3]):"
    ops = lines[1:-1]
    assert len(ops) == 6  # cast, mul, sum, cast, cast, matmul
    for line in ops:
        assert re.match(r"\s+\S+: " + AVAL + r" = \w+", line), line
    assert "f64[3]" in text and "f32[]" in text


def test_backward_ir_is_the_generated_function():
    x = srcgrad.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    out = (3 * (x - 2) ** 2).mean()
    text = str(srcgrad.inspect.backward_ir(out))
    assert text.startswith("backward(")
    assert text.count(" = ew[") == 1


# ---------------------------------------------------------------------------------------
# numerics of the generated code
# ---------------------------------------------------------------------------------------
def _grad(f, data, dtype=np.float64):
    x = srcgrad.tensor(np.asarray(data, dtype), requires_grad=True)
    out = f(x)
    out.sum().backward() if out.ndim else out.backward()
    return x.grad.numpy(), out


# The two where tests run in the default config only: the reference backward is the plain
# per-op chain rule, where (as in PyTorch) the zero cotangent of the branch not taken
# meets sqrt'(0) = inf in the next op's rule and gives 0 * inf = NaN. Fusing the select
# and the sqrt into one kernel is what lets srcgrad apply the select first.
def test_where_keeps_nan_of_the_branch_not_taken_out():
    data = [-1.0, 0.0, 0.0, 2.0]
    g, out = _grad(lambda x: srcgrad.where(x > 0, (x * x).sqrt(), x * 0), data)
    assert not np.isnan(g).any(), g
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(out.detach().numpy(), [0.0, 0.0, 0.0, 2.0])


def test_where_with_inf_in_the_branch_not_taken():
    data = [0.0, 1.0, 4.0]
    g, _ = _grad(lambda x: srcgrad.where(x > 0, x.sqrt(), x), data)  # sqrt'(0) = inf, not taken
    assert np.isfinite(g).all(), g
    np.testing.assert_allclose(g, [1.0, 0.5, 0.25])
    with np.errstate(divide="ignore", invalid="ignore"):  # the forward's log(0) * 0, not taken
        g, _ = _grad(lambda x: srcgrad.where(x > 0, x.log() * x, x * 2), data)
    assert np.isfinite(g).all(), g
    np.testing.assert_allclose(g, [2.0, 1.0, np.log(4.0) + 1])


@pytest.mark.parametrize("op", ["relu", "abs", "sign"])
def test_kinks_have_zero_gradient(op, config):
    data = [-2.0, -0.0, 0.0, 3.0]
    g, _ = _grad(lambda x: getattr(x, op)() * 3, data)
    expected = {"relu": [0, 0, 0, 3], "abs": [-3, 0, 0, 3], "sign": [0, 0, 0, 0]}[op]
    np.testing.assert_array_equal(g, expected)
    assert not np.signbit(g[1:3]).any() or op == "abs"


def test_relu_and_abs_of_zero_alone(config):
    for op in ("relu", "abs"):
        g, _ = _grad(lambda x: getattr(x, op)(), 0.0)
        assert g == 0.0 and not np.isnan(g)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_of_huge_arguments(dtype, config):
    data = [-800.0, -100.0, 0.0, 100.0, 800.0]
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # not even internally
        g, out = _grad(lambda x: x.sigmoid(), data, dtype)
    y = out.detach().numpy()
    assert y.dtype == dtype and g.dtype == dtype
    assert np.isfinite(y).all() and np.isfinite(g).all(), (y, g)
    np.testing.assert_allclose(y, [0, 0, 0.5, 1, 1], atol=1e-30)
    np.testing.assert_allclose(g, [0, 0, 0.25, 0, 0], atol=1e-30)
    # composed with other ops in a fused kernel too
    g, _ = _grad(lambda x: x.sigmoid() * x, data, dtype)
    assert np.isfinite(g).all(), g


def test_norm_of_zero_vector_has_zero_gradient(config):
    g, out = _grad(lambda x: x.norm(), [0.0, 0.0, 0.0])
    assert out.item() == 0.0
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    g, _ = _grad(lambda x: x.norm(dim=1), [[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(g, [[0.0, 0.0], [0.6, 0.8]])


def test_zero_derivatives_give_zero_grads_not_none(config):
    """PyTorch materialises zeros (sign, x * 0): x.grad is a zero tensor, not None."""
    for f in (lambda x: x.sign(), lambda x: x * 0, lambda x: x.sign().sign() * 2):
        x = srcgrad.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        f(x).sum().backward()
        assert x.grad is not None
        assert x.grad.dtype == np.float32
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 2)))


PROGRAMS_F32 = {
    "seed": lambda x: (3 * (x - 2) ** 2).mean(),
    "log2-ish": lambda x: ((x * x + 1).log() / 0.6931471805599453).sum(),
    "thirds": lambda x: (x / 3 + x ** (1 / 3.0 + 1)).sum(),
    "transcendental": lambda x: (x.exp() * x.sin() + x.cos().tanh() + x.sigmoid()).sum(),
    "pow": lambda x: (2 ** x + x ** 2.5 + (x + 1).sqrt()).sum(),
    "where": lambda x: srcgrad.where(x > 1, x, x * x * 0.1).sum(),
    "where-both": lambda x: srcgrad.where(x >= 1, x, x * 2).sum(),
    "kinks": lambda x: ((x - 1).relu() + (x - 1).abs() + x.sign()).sum(),
    "reductions": lambda x: (x.mean(0, True) * x.norm(dim=1, keepdim=True)).sum() + x.norm(1),
    "matmul": lambda x: (x @ x.T).tanh().mean(),
    "slicing": lambda x: (x[::-1, 1:] * x[:, :1]).sum(),
    "divide": lambda x: (1 / (x * x + 1) - 0.25 * x).sum(),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS_F32))
def test_float32_stays_float32_in_generated_code(name, config):
    f = PROGRAMS_F32[name]
    data = np.array([[0.5, 1.5, 2.0], [1.25, 0.75, 3.0]], np.float32)
    x = srcgrad.tensor(data, requires_grad=True)
    out = f(x)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32
    src = srcgrad.inspect.backward_source(out)
    assert "float64" not in src, src
    assert "np.float" not in src.replace("np.float32", ""), src
    # the same gradient as in float64, to float32 precision
    x64 = srcgrad.tensor(data.astype(np.float64), requires_grad=True)
    f(x64).backward()
    np.testing.assert_allclose(x.grad.numpy(), x64.grad.numpy(), rtol=2e-5, atol=2e-5)


def test_generated_source_is_valid_python_and_runs_standalone():
    """The text alone (with numpy as np) computes the gradient: nothing hidden."""
    x = srcgrad.tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True)
    w = srcgrad.tensor(np.array([1.0, -2.0]), requires_grad=True)
    out = ((x @ w).tanh() * 3 + x.sum(0).exp().sum()).sum()
    out.backward(retain_graph=True)
    compiled = engine.last_compiled()
    ns = {"np": np}
    exec(compile(compiled.source, "<standalone>", "exec"), ns)
    params = re.search(r"def backward\((.*)\):", compiled.source).group(1).split(", ")
    args = []
    for p in params:
        if p.startswith("grad_"):
            args.append(np.float64(1.0))
        elif p in ("x", "w"):
            args.append({"x": x, "w": w}[p].detach().numpy())
        else:  # a saved forward value, read from what the engine passes
            kind, i = compiled.params[params.index(p)]
            assert kind == "v"
            args.append(engine.Walk([out]).array(i)[0])
    gx, gw = ns["backward"](*args)
    np.testing.assert_allclose(gx, x.grad.numpy())
    np.testing.assert_allclose(gw, w.grad.numpy())


def test_slice_gradients_accumulate_into_one_array():
    """`grad = zeros-with-x[:2]-set + zeros-with-x[1:]-set` becomes one array with `+=` per slice."""
    def f(x):
        return np.sum(np.sin(x[:2]) * x[1:]) + np.sum(x[::2] ** 2)
    x = np.array([0.3, -1.2, 2.0])
    g = srcgrad.grad(f)
    src = g.source(x)
    assert "+= " in src
    assert src.count("np.zeros") <= 1
    t = srcgrad.tensor(x, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(g(x), t.grad.numpy(), rtol=1e-12)
    srcgrad.testing.gradcheck(f, x, order=2, traced=True)


def test_large_sums_of_products_become_einsum():
    """`sum(a * b, axis)` over a large kernel is an einsum (no product array), with the
    same value and gradient."""
    def f(a, b):
        return np.sum(np.sum(a * b, axis=1) ** 2) + np.sum(a[:, :1] * b)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 500)), rng.normal(size=(40, 500))
    g = srcgrad.value_and_grad(f, argnums=(0, 1))
    src = g.source(a, b)
    assert "np.einsum(" in src
    v, (ga, gb) = g(a, b)
    ta, tb = srcgrad.tensor(a, requires_grad=True), srcgrad.tensor(b, requires_grad=True)
    out = f(ta, tb)
    out.backward()
    np.testing.assert_allclose(v, out.item(), rtol=1e-12)
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-10)


def test_slices_that_tile_an_array_have_their_gradients_concatenated():
    def f(x):
        return np.sum(x[:, :2] ** 2) + np.sum(np.sin(x[:, 2:3])) + np.sum(x[:, 3:] * 3.0)
    x = np.arange(12.0).reshape(3, 4) / 5
    g = srcgrad.grad(f)
    src = g.source(x)
    assert "np.concatenate(" in src and "np.zeros" not in src
    t = srcgrad.tensor(x, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(g(x), t.grad.numpy(), rtol=1e-12)
    srcgrad.testing.gradcheck(f, x, order=2, traced=True)


def test_in_place_arithmetic_on_large_arrays_is_exact():
    """Large kernels are computed into one array with `+=`, `-=`, `*=`, `/=`, `**=`: checked
    against the gradient written by hand."""
    def f(a, b, c):
        r = a * b - c * a - 2.0 * b - np.exp(c) / (1.0 + b * b)
        return np.sum(r ** 2 * 0.5) + np.sum((a + c) ** 3 * b)
    rng = np.random.default_rng(3)
    a, b, c = (rng.normal(size=(200, 200)) for _ in range(3))
    g = srcgrad.value_and_grad(f)
    value, ga = g(a, b, c)
    r = a * b - c * a - 2.0 * b - np.exp(c) / (1.0 + b * b)
    np.testing.assert_allclose(value, f(a, b, c), rtol=1e-12)
    np.testing.assert_allclose(ga, r * (b - c) + 3 * (a + c) ** 2 * b, rtol=1e-10, atol=1e-10)
    src = g.source(a, b, c)
    assert "-= " in src and "*= " in src and "**= " in src


def test_large_cross_products_are_written_by_components():
    """np.cross on (n, 3) arrays moves axes and copies; large ones are written as the
    textbook formula (np.stack of three components), with the same values."""
    rng = np.random.default_rng(4)
    a, b, c = rng.normal(size=(20000, 3)), rng.normal(size=(3,)), rng.normal(size=(20000, 3))

    def f(a, b):
        return np.sum(np.cross(a, b) * c)
    g = srcgrad.value_and_grad(f, argnums=(0, 1))
    value, (ga, gb) = g(a, b)
    np.testing.assert_allclose(value, f(a, b), rtol=1e-12)
    # sum(cross(a, b) * c) is the triple product of (a, b, c): d/da = cross(b, c), d/db = cross(c, a)
    np.testing.assert_allclose(ga, np.cross(b, c), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, np.sum(np.cross(c, a), axis=0), rtol=1e-10)
    src = g.source(a, b)
    assert "np.stack([" in src and "np.cross" not in src


def test_slice_gradients_summed_inside_a_formula_are_one_concatenation():
    """The gradient of g = p * v read through g[0:4] and g[4:8] is v * (the two slice
    gradients, side by side): one np.concatenate, no zeros array per slice."""
    def f(p, v):
        g = p * v
        return np.sum(np.tanh(g[0:4]) * np.sin(g[4:8]))
    rng = np.random.default_rng(0)
    p, v = rng.normal(size=8), rng.normal(size=8)
    h = srcgrad.value_and_grad(f, argnums=(0, 1))
    value, (gp, gv) = h(p, v)
    g = p * v
    a = np.tanh(g[:4])
    dg = np.concatenate([(1 - a ** 2) * np.sin(g[4:]), a * np.cos(g[4:])])
    np.testing.assert_allclose(gp, dg * v, rtol=1e-12)
    np.testing.assert_allclose(gv, dg * p, rtol=1e-12)
    src = h.source(p, v)
    assert "np.zeros" not in src and src.count("np.concatenate") == 1, src



@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [None, 0, (0, 2)])
def test_float_means_are_written_as_sums_over_a_count(dtype, axis):
    """np.mean's argument handling costs more than a small mean itself: a float mean is
    `np.sum(x) / n`, which is what np.mean computes, to the last bit and dtype."""
    def f(x):
        return np.sum(np.mean(x * x, axis=axis) ** 2)
    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype(dtype)
    g = srcgrad.value_and_grad(f)
    src = g.source(x)
    assert "np.mean(" not in src and "/ " in src
    v, gx = g(x)
    assert v == float(f(x)) and gx.dtype == dtype


def test_tall_thin_arguments_are_computed_column_major():
    """Arrays of many rows and few columns are copied column-major in the function's first
    lines, and arrays the code builds (stack, concatenate, zeros) are built column-major, so
    numpy's inner loops run down columns. The values are those of the row-major code."""
    from thresholds import thresholds

    def f(P, Q, w):
        d = P[:, 0:3] - Q                         # a column slice, an elementwise op
        r = np.sqrt(np.sum(d * d, axis=1, keepdims=True))
        c = np.cross(d / r, Q)                    # a cross product: a stack of components
        return np.sum(w[:, None] * c[:, 0:2] ** 2) + np.sum(P[:, 3:5] * c[:, 1:3])
    rng = np.random.default_rng(0)
    P, Q, w = rng.standard_normal((40, 6)), rng.standard_normal((40, 3)), rng.standard_normal(40)
    with thresholds(1 << 62):
        reference = srcgrad.value_and_grad(f, argnums=(0, 1, 2))(P, Q, w)
        assert "asfortranarray" not in srcgrad.value_and_grad(f, argnums=(0, 1, 2)).source(P, Q, w)
    with thresholds(1):
        g = srcgrad.value_and_grad(f, argnums=(0, 1, 2))
        value, grads = g(P, Q, w)
        src = g.source(P, Q, w)
    assert "P = np.asfortranarray(P)" in src and "Q = np.asfortranarray(Q)" in src
    assert "w = np.asfortranarray(w)" not in src           # 1-d: nothing to gain
    assert re.search(r"np\.stack\(\[.*\]\)\.T", src.replace("\n", ""))
    assert ".T)).T" in src or "order='F'" in src          # the cross's gradient is joined column-major
    assert value == pytest.approx(reference[0], rel=1e-12)
    for a, b in zip(grads, reference[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _unread_assignments(source):
    """Names a generated function assigns (plainly) and never reads afterwards."""
    import ast
    fn = ast.parse(source).body[0]
    unread = []
    for k, st in enumerate(fn.body):
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            name = st.targets[0].id
            later = fn.body[k + 1:]
            if not any(isinstance(n, ast.Name) and n.id == name for s in later for n in ast.walk(s)):
                unread.append(name)
    return unread


def test_generated_code_assigns_nothing_it_never_reads():
    # a kernel's common subexpressions can lose their readers when the printer folds a
    # formula (here the gradient of the std of one element, 0 * ... after cancellation)
    import warnings
    from srcgrad.autograd.engine import last_compiled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = srcgrad.tensor([0.23, 1.5], dtype=srcgrad.float64, requires_grad=True)
        (x[:1].std() + x.sum()).backward()
    assert _unread_assignments(last_compiled().source) == []
    f = srcgrad.value_and_grad(lambda x: np.sum(np.tanh(x) ** 2 + np.exp(-x) * np.tanh(x)))
    assert _unread_assignments(f.source(np.ones(3))) == []


def _logistic(x0, r):
    x, acc = x0, 0.0
    for i in range(30):
        x = r * x * (1 - x)
        acc = acc + x / (i + 1)
    return acc


def test_a_scalar_recurrence_written_out_has_a_backward_linear_in_its_steps():
    # sympy's derivative of a fused kernel nests every step's derivative in the next:
    # unrolled, 30 steps gave 4920 lines and 8 s; the kernel is now differentiated piece
    # by piece (symbolic/kernel.py, _split_vjp)
    from srcgrad import config
    saved, config.reroll = config.reroll, False
    try:
        vg = srcgrad.value_and_grad(_logistic, argnums=(0, 1))
        value, (gx, gr) = vg(0.3, 2.9)
        src = vg.source(0.3, 2.9)
    finally:
        config.reroll = saved
    eps = 1e-6
    assert value == pytest.approx(_logistic(0.3, 2.9), rel=1e-12)
    assert gx == pytest.approx((_logistic(0.3 + eps, 2.9) - _logistic(0.3 - eps, 2.9)) / (2 * eps), rel=1e-6)
    assert gr == pytest.approx((_logistic(0.3, 2.9 + eps) - _logistic(0.3, 2.9 - eps)) / (2 * eps), rel=1e-6)
    assert len(src.splitlines()) < 400 and max(len(line) for line in src.splitlines()) < 140


def _newton_sqrt(a):
    y = a if a > 1 else 1.0
    while abs(y * y - a) > 1e-12 * a:
        y = 0.5 * (y + a / y)
    return y


def test_the_hessian_of_a_newton_iteration_stays_small():
    # 22 steps: the kernels of the first derivative were fused again counted as one op
    # each, into one formula of 27000 terms: 560 kB of source, 80 s
    h = srcgrad.hessian(_newton_sqrt)
    assert h(0.001) == pytest.approx(-0.25 * 0.001 ** -1.5, rel=1e-9)
    src = h.source(0.001, 1.0)
    assert len(src) < 40000 and max(len(line) for line in src.splitlines()) < 140


def test_a_very_long_statement_is_wrapped_in_linear_time_and_stays_the_same_code():
    import ast
    from srcgrad.codegen.source import LONG_STATEMENT, statement_lines
    terms = " + ".join(f"a{k} * (b{k} - 'c{k}')" for k in range(150))
    stmt = ast.parse(f"t = {terms}").body[0]
    lines = statement_lines(stmt, indent="")
    assert len("".join(lines)) > LONG_STATEMENT and max(map(len, lines)) <= 90
    assert ast.dump(ast.parse("\n".join(lines))) == ast.dump(ast.parse(f"t = {terms}"))


def test_a_sum_is_the_array_method():
    """`t.sum()`, not `np.sum(t)`: the method skips np.sum's argument handling, a fifth of
    the time of a loop over small vectors (ops/reduction.summed)."""
    def f(x):
        return np.sum(np.sin(x)) + np.sum(x * x, axis=0).sum()
    x = np.arange(6.0).reshape(2, 3) / 5
    src = srcgrad.grad(f).source(x)
    assert ".sum()" in src and ".sum(axis=0)" in src and "np.sum(" not in src
    np.testing.assert_allclose(srcgrad.grad(f)(x), np.cos(x) + 2 * x)


def test_a_kernel_reads_a_broadcast_value_unbroadcast():
    """The backward of a per-row sum broadcasts its cotangent over the row's columns; the
    kernels reading it broadcast by numpy's rules instead of an np.broadcast_to array
    (ir/fusion.absorb_broadcasts)."""
    def f(w, X):
        tmp = np.sum(w * X, axis=1, keepdims=True) * (1 - np.cos(X[:, :1]))
        return np.sum(np.sin(w * tmp) + X * np.cos(tmp))
    rng = np.random.default_rng(0)
    w, X = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    g = srcgrad.value_and_grad(f, argnums=(0, 1))
    value, (gw, gX) = g(w, X)
    tw, tX = srcgrad.tensor(w, requires_grad=True), srcgrad.tensor(X, requires_grad=True)
    f(tw, tX).backward()
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gX, tX.grad.numpy(), rtol=1e-12)
    assert "broadcast_to" not in g.source(w, X), g.source(w, X)


def test_a_derivative_reads_a_function_the_forward_computed_as_another_op():
    """sin's derivative is cos of the same x, which the forward computed for `np.cos(x)`:
    the backward reads that value instead of calling np.cos again (ir/share.py), at any
    size; and never its own output."""
    def f(x):
        return np.sum(np.sin(x) * np.cos(x)) + np.sum(np.exp(np.tanh(x)))
    x = np.array([0.3, -1.2, 2.0])
    g = srcgrad.value_and_grad(f)
    value, grad = g(x)
    np.testing.assert_allclose(grad, np.cos(x) ** 2 - np.sin(x) ** 2
                               + np.exp(np.tanh(x)) * (1 - np.tanh(x) ** 2), rtol=1e-12)
    src = g.source(x)
    for call in ("np.cos(", "np.sin(", "np.tanh(", "np.exp("):
        assert src.count(call) == 1, src


def test_a_users_name_ending_in_special_does_not_need_scipy():
    """Generated code binds scipy.special as `special` only when it calls it: a user's
    `my_special.sum()` must not (scipy may be absent)."""
    from srcgrad.codegen.loader import uses_scipy_special

    def f(x):
        my_special = x * 2
        return my_special.sum()
    src = str(srcgrad.grad(f).source(np.ones(3)))
    assert "my_special" in src and not uses_scipy_special(src)
    assert uses_scipy_special("    t0 = special.gammaln(x)")


def test_a_number_shared_by_terms_of_a_sum_multiplies_them_once():
    """`y + c * (k1 + k4 + 2 * k2 + 2 * k3)`, as an RK4 step is written, not sympy's
    distributed `y + c*k1 + c*k4 + 2c*k2 + 2c*k3` (four multiplications for one); a sum
    with no shared number is left as it is. Values as numpy's."""
    from srcgrad.codegen.kernels import grouped_coefficients
    y, k1, k2, k3, k4 = sp.symbols("a0:5", real=True)
    c = sp.Float(0.5 / 6)
    grouped = grouped_coefficients(sp.expand(y + c * (k1 + 2 * k2 + 2 * k3 + k4)))
    assert sp.srepr(grouped).count("Float") == 1
    assert sp.simplify(grouped - (y + c * (k1 + 2 * k2 + 2 * k3 + k4))) == 0
    plain = y + 2 * k1 - 3 * k2
    assert grouped_coefficients(plain) is plain

    def step(y, k1, k2, k3, k4):
        return np.sum(np.sin(y + 0.5 / 6 * (k1 + 2 * k2 + 2 * k3 + k4)))
    args = [np.linspace(0.1, 1.0, 7) * (j + 1) for j in range(5)]
    vg = srcgrad.value_and_grad(step, argnums=(0, 1, 2))
    value, grads = vg(*args)
    assert value == pytest.approx(step(*args), rel=1e-13)
    src = str(vg.source(*args))
    assert re.search(r"0\.08333333333333333 \* \(", src), src
    cos = np.cos(args[0] + 0.5 / 6 * (args[1] + 2 * args[2] + 2 * args[3] + args[4]))
    np.testing.assert_allclose(grads[2], 2 * 0.5 / 6 * cos, rtol=1e-13)
