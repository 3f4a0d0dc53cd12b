"""srcgrad.testing: gradcheck catches wrong gradients (first and second order) and says
where; assert_grad_close names the leaf; the hypothesis strategies stay in their domains;
the pytest plugin (fixture, --srcgrad-dump, the report section) works through pytester;
hypothesis stays a test-only dependency."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import srcgrad
from srcgrad.codegen import loader
from srcgrad.testing import GradcheckError, assert_grad_close, gradcheck, numerical_grad
from srcgrad.testing import strategies as sgs

pytest_plugins = ["pytester"]

RNG = np.random.default_rng(0)
#: examples for the property tests that run gradcheck: fewer under the "ci" profile
FEW = min(25, settings.default.max_examples)


def scaled_square(scale):
    """x*x with a backward scaled by `scale` (1 is right)."""
    @srcgrad.custom_vjp
    def sq(a):
        return a * a

    def fwd(a):
        return a * a, (a,)

    def bwd(res, g):
        (a,) = res
        return (g * a * (2 * scale),)
    sq.defvjp(fwd, bwd)
    return sq


def half_second_order_cube():
    """x**3 with a correct first derivative and a wrong second (a detached factor)."""
    @srcgrad.custom_vjp
    def cube(a):
        return a * a * a

    def fwd(a):
        return a * a * a, (a,)

    def bwd(res, g):
        (a,) = res
        return (g * 3 * a * a.detach(),)
    cube.defvjp(fwd, bwd)
    return cube


# ---------------------------------------------------------------------------------------
# gradcheck: right gradients pass
# ---------------------------------------------------------------------------------------
def test_correct_gradients_pass_and_come_back_per_argument():
    x, W = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
    gx, gW = gradcheck(lambda x, W: np.tanh(x @ W), x, W)
    assert gx.shape == x.shape and gW.shape == W.shape


def test_the_current_signature_still_works():
    x = RNG.standard_normal(5)
    (g,) = gradcheck(lambda t: t.exp().sum(), x, eps=1e-6, atol=1e-5, rtol=1e-4, seed=3, full_limit=0)
    np.testing.assert_allclose(g, np.exp(x))  # a scalar f: its own gradient comes back
    (n,) = numerical_grad(lambda t: t.exp().sum(), [x], np.float64(1.0))
    np.testing.assert_allclose(n, np.exp(x), rtol=1e-6)
    assert issubclass(GradcheckError, AssertionError)


def test_float32_gradients_keep_float32():
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    (g,) = gradcheck(lambda t: np.sin(t) * t, x)
    assert g.dtype == np.float32


def test_floats_constants_argnums_and_tuple_outputs():
    x = RNG.standard_normal(4)
    idx = np.array([0, 2, 3])

    def f(x, s, idx, n):
        return x[idx] * s, (x ** n).sum()
    gx, gs = gradcheck(f, x, 1.5, idx, 3)          # the float array and the float, by default
    assert gs.shape == () and gs.dtype == np.float64
    (gs_only,) = gradcheck(f, x, 1.5, idx, 3, argnums=1)
    assert gs_only.shape == ()
    with pytest.raises(TypeError, match="argument 2 has int64"):
        gradcheck(f, x, 1.5, idx, 3, argnums=(0, 2))
    with pytest.raises(ValueError, match="no float argument"):
        gradcheck(lambda n: n, 3)
    with pytest.raises(ValueError, match="order"):
        gradcheck(f, x, 1.5, idx, 3, order=3)


def test_a_wrong_rule_in_a_constant_argument_is_not_checked():
    sq = scaled_square(2.0)  # wrong, but only on W, which is held constant
    x, W = RNG.standard_normal(3), RNG.standard_normal(3)
    gradcheck(lambda x, W: x * sq(W), x, W, argnums=0)
    with pytest.raises(GradcheckError, match="argument 1 \\(`W`\\)"):
        gradcheck(lambda x, W: x * sq(W), x, W)


def test_traced_path_and_second_order_pass_on_right_code():
    x, W = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))
    gradcheck(lambda x, W: np.tanh(x @ W), x, W, order=2, traced=True)
    gradcheck(lambda x, s: (np.sin(x * s) ** 3).sum(), x, 0.7, order=2, traced=True)
    gradcheck(lambda x: np.tanh(x).sum(1), x.astype(np.float32), order=2, traced=True)


def test_constant_and_unused_inputs_have_zero_gradients():
    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    gx, gy = gradcheck(lambda x, y: x * 2, x, y, order=2)
    np.testing.assert_array_equal(gy, 0)
    gradcheck(lambda x: np.ones(3), x)


# ---------------------------------------------------------------------------------------
# gradcheck: wrong gradients fail, saying where
# ---------------------------------------------------------------------------------------
def test_a_wrong_gradient_names_argument_index_and_both_values():
    sq = scaled_square(1.01)
    x, W = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
    with pytest.raises(GradcheckError) as e:
        gradcheck(lambda x, W: sq(x) @ W, x, W)
    msg = str(e.value)
    assert "gradient of argument 0 (`x`) is wrong at index (" in msg
    assert "srcgrad " in msg and "finite differences " in msg and "largest difference" in msg
    # the backward is 1.01 times too large: so are the reported values' ratio
    ana = float(msg.split("srcgrad ")[1].split(",")[0])
    num = float(msg.split("finite differences ")[1].split(" ")[0])
    assert ana / num == pytest.approx(1.01, rel=1e-6)


@pytest.mark.parametrize("shape", [(3,), (20, 30)])
def test_projections_alone_catch_a_one_percent_error_and_localize_it(shape):
    sq = scaled_square(1.01)
    x = RNG.standard_normal(shape)
    with pytest.raises(GradcheckError, match=r"gradient of argument 0 \(`x`\) is wrong at index"):
        gradcheck(lambda x: sq(x).sum(0), x, full_limit=0)


def test_a_large_input_is_reported_along_its_direction(monkeypatch):
    from srcgrad.testing import gradcheck as _  # noqa: F401  (the module is shadowed by the function)
    mod = sys.modules["srcgrad.testing.gradcheck"]
    monkeypatch.setattr(mod, "LOCALIZE_LIMIT", 10)
    sq = scaled_square(1.01)
    with pytest.raises(GradcheckError, match="wrong along a random direction.*more than LOCALIZE_LIMIT"):
        gradcheck(lambda x: sq(x).sum(0), RNG.standard_normal((6, 5)), full_limit=0)


def test_the_culprit_among_several_large_arguments_is_found():
    sq = scaled_square(1.02)
    a, b = RNG.standard_normal((10, 10)), RNG.standard_normal((10, 10))
    with pytest.raises(GradcheckError, match=r"argument 1 \(`b`\) is wrong at index"):
        gradcheck(lambda a, b: a * 2 + sq(b), a, b, full_limit=0)


def test_wrong_shape_or_dtype_of_a_gradient_is_reported(monkeypatch):
    mod = sys.modules["srcgrad.testing.gradcheck"]
    monkeypatch.setattr(mod._Problem, "eager_grad", lambda self: [np.zeros(a.shape, np.float64)
                                                                  for a in self.arrays])
    with pytest.raises(GradcheckError, match=r"dtype float64; the argument has shape \(3,\) and dtype fl"):
        gradcheck(lambda t: t * 2, np.ones(3, np.float32))


def test_a_function_that_computes_another_value_when_traced_is_named_as_such():
    x = RNG.standard_normal((4, 3))
    gradcheck(lambda t: t.var(0), x)  # eagerly: PyTorch's var (correction=1)
    with pytest.raises(GradcheckError, match="f computes another value when traced"):
        gradcheck(lambda t: t.var(0), x, traced=True)  # traced: numpy's var (ddof=0)


def test_a_wrong_traced_gradient_is_reported(monkeypatch):
    mod = sys.modules["srcgrad.testing.gradcheck"]
    real = mod._Problem.traced_grad
    monkeypatch.setattr(mod._Problem, "traced_grad", lambda self: [g * 1.1 for g in real(self)])
    with pytest.raises(GradcheckError, match=r"gradient \(traced, srcgrad.value_and_grad\) of argument 0"):
        gradcheck(lambda t: np.sin(t), RNG.standard_normal(3), traced=True)


def test_a_wrong_second_derivative_is_caught_with_a_right_first():
    cube = half_second_order_cube()
    x = np.array([0.5, -1.2, 2.0])
    gradcheck(lambda t: cube(t), x)  # first order is right
    with pytest.raises(GradcheckError, match=r"second derivative d2/d\[argument 0 \(`t`\) index \(\d,\)\]"):
        gradcheck(lambda t: cube(t), x, order=2)
    with pytest.raises(GradcheckError, match=r"Hessian-vector product .* is wrong at index"):
        gradcheck(lambda t: cube(t), x, order=2, full_limit=0)


# ---------------------------------------------------------------------------------------
# assert_grad_close
# ---------------------------------------------------------------------------------------
def test_assert_grad_close_passes_nested_containers_of_mixed_leaves():
    actual = {"W": [np.ones((2, 2)), srcgrad.tensor([1.0, 2.0])], "b": (0.5, np.float32(2))}
    expected = {"b": [0.5, 2.0], "W": (np.ones((2, 2)) + 1e-9, np.array([1.0, 2.0]))}
    assert_grad_close(actual, expected)
    assert_grad_close(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    assert_grad_close(None, None)


def test_assert_grad_close_names_the_path_index_and_values():
    actual = {"W": [np.zeros((2, 2)), np.array([[1.0, 2.0], [3.0, 4.0]])]}
    expected = {"W": [np.zeros((2, 2)), np.array([[1.0, 2.0], [3.0, 4.5]])]}
    with pytest.raises(AssertionError) as e:
        assert_grad_close(actual, expected)
    msg = str(e.value)
    assert "['W'][1], index (1, 1): actual 4.0, expected 4.5" in msg
    assert "1 of 4 entries" in msg


@pytest.mark.parametrize("actual, expected, match", [
    ({"W": 1.0}, {"b": 1.0}, r"keys differ \(missing \['b'\], unexpected \['W'\]\)"),
    ([1.0, 2.0], [1.0], r"actual has 2 items, expected 1"),
    ({"W": np.ones(3)}, {"W": np.ones((3, 1))}, r"at \['W'\]: actual has shape \(3,\), expected \(3, 1\)"),
    ([np.ones(2)], {"a": 1}, r"actual is a list, expected a dict"),
    ([None], [np.ones(2)], r"at \[0\]: actual is None"),
    (2.0, 3.0, r"differ at \(top level\): actual 2.0, expected 3.0"),
])
def test_assert_grad_close_structure_errors(actual, expected, match):
    with pytest.raises(AssertionError, match=match):
        assert_grad_close(actual, expected)


def test_assert_grad_close_tolerances_and_dtype():
    assert_grad_close(np.array([1.0]), np.array([1.1]), rtol=0.1)
    with pytest.raises(AssertionError):
        assert_grad_close(np.array([1.0]), np.array([1.1]))
    with pytest.raises(AssertionError, match="dtype float32, expected float64"):
        assert_grad_close(np.ones(2, np.float32), np.ones(2), check_dtype=True)


# ---------------------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------------------
def test_hypothesis_profile_follows_ci():
    ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
    assert settings.get_profile("ci").max_examples < settings.get_profile("dev").max_examples
    assert settings.default.max_examples == settings.get_profile("ci" if ci else "dev").max_examples \
        or "--hypothesis-profile" in " ".join(sys.argv)
    assert settings.default.deadline is None


def test_domain_table():
    assert sgs.domain("log").low > 0
    assert -1 < sgs.domain("arcsin").low < sgs.domain("arcsin").high < 1
    assert sgs.domain("sqrt").low > 0 and sgs.domain("arccosh").low > 1
    assert not sgs.domain("abs").contains(0.01) and sgs.domain("abs").contains(0.5)
    assert not sgs.domain("floor").contains(2.01) and sgs.domain("floor").contains(2.5)
    assert not sgs.domain("round").contains(1.49) and sgs.domain("round").contains(1.0)
    assert sgs.domain((0.0, 2.0)) == sgs.Domain(0.0, 2.0)
    with pytest.raises(KeyError, match="no domain for 'lgo'"):
        sgs.domain("lgo")


@given(data=st.data(), op=st.sampled_from(sorted(sgs.DOMAINS)), dtype=sgs.dtypes())
def test_arrays_stay_in_their_domain_dtype_and_shape(data, op, dtype):
    shape = data.draw(sgs.shapes(max_dims=2))
    x = data.draw(sgs.arrays(dtype=dtype, shape=shape, domain=op))
    assert x.dtype == dtype and x.shape == shape
    d = sgs.domain(op)
    assert all(d.contains(v) for v in x.ravel())


@given(pair=sgs.broadcastable_shapes(), mm=sgs.matmul_shapes(batch=True),
       t=sgs.tensors(shape=(2, 3), dtype=np.float32, requires_grad=True))
def test_shape_pairs_and_tensors(pair, mm, t):
    np.broadcast_shapes(*pair)
    np.matmul(np.ones(mm[0]), np.ones(mm[1]))
    assert isinstance(t, srcgrad.Tensor) and t.requires_grad and t.dtype == np.float32


UNARY = {  # op -> (function, order checked)
    "log": (lambda t: t.log(), 2), "sqrt": (lambda t: t.sqrt(), 2), "arcsin": (np.arcsin, 2),
    "arccos": (np.arccos, 2), "arctanh": (np.arctanh, 2), "tan": (lambda t: t.tan(), 2),
    "log1p": (lambda t: t.log1p(), 2), "reciprocal": (lambda t: t.reciprocal(), 2),
    "abs": (lambda t: t.abs(), 2), "arccosh": (np.arccosh, 2), "floor": (lambda t: t.floor() + t, 2),
    "relu": (lambda t: t.relu(), 2),
}


@pytest.mark.slow
@settings(max_examples=FEW, derandomize=True)
@given(data=st.data(), op=st.sampled_from(sorted(UNARY)))
def test_elementwise_gradients_inside_their_domains(data, op):
    x = data.draw(sgs.arrays(dtype=np.float64, shape=sgs.shapes(max_dims=2, max_side=3), domain=op))
    fn, order = UNARY[op]
    gradcheck(fn, x, order=order)


@pytest.mark.parametrize("fn", [lambda t: t.relu() * t, lambda t: np.maximum(t, 0.1) * t,
                                lambda t: np.hypot(t, 2.0)], ids=["relu", "maximum", "hypot"])
def test_second_derivatives_through_kinks(fn):
    gradcheck(fn, np.array([0.3, 0.7]), order=2)


@settings(max_examples=FEW, derandomize=True)
@given(pair=sgs.broadcastable_shapes(max_dims=2, max_side=3), dtype=sgs.dtypes(), data=st.data())
def test_broadcasting_binary_ops(pair, dtype, data):
    a = data.draw(sgs.arrays(dtype=dtype, shape=pair[0]))
    b = data.draw(sgs.arrays(dtype=dtype, shape=pair[1], domain="divide"))
    gradcheck(lambda a, b: a / b + a * b, a, b)


# ---------------------------------------------------------------------------------------
# the loader hook
# ---------------------------------------------------------------------------------------
def test_listeners_hear_every_generated_function():
    heard = []
    listener = lambda label, source, filename: heard.append((label, source, filename))  # noqa: E731
    loader.listeners.append(listener)
    try:
        srcgrad.autograd.engine.clear_cache()
        x = srcgrad.tensor(RNG.standard_normal(7), requires_grad=True)
        (x.sinh() * 3).sum().backward()
        srcgrad.grad(lambda w: np.sum(np.cosh(w) * 2))(np.ones(7))
    finally:
        loader.listeners.remove(listener)
    labels = [h[0] for h in heard]
    assert "backward" in labels and any(lab.endswith("_grad") for lab in labels)
    for label, source, filename in heard:
        assert filename.startswith(f"<srcgrad:{label}#") and source.startswith("#")


# ---------------------------------------------------------------------------------------
# hypothesis is a test-only dependency
# ---------------------------------------------------------------------------------------
BLOCK_HYPOTHESIS = """import sys
class _NoHypothesis:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "hypothesis":
            raise ImportError("hypothesis is not installed (blocked by the test)")
sys.meta_path.insert(0, _NoHypothesis())
"""


def _python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, SRCGRAD_CACHE="0"))


def test_srcgrad_and_its_plugin_import_without_hypothesis():
    r = _python(BLOCK_HYPOTHESIS + "import srcgrad, srcgrad.testing, srcgrad.testing.plugin\n"
                "from srcgrad.testing import gradcheck\n"
                "import numpy as np; gradcheck(lambda t: t.exp(), np.ones(2))\n"
                "try:\n    import srcgrad.testing.strategies\n"
                "except ImportError as e:\n    print('refused:', e)\n")
    assert r.returncode == 0, r.stderr
    assert "refused: srcgrad.testing.strategies needs hypothesis" in r.stdout


def test_importing_srcgrad_does_not_import_hypothesis():
    r = _python("import sys, srcgrad, srcgrad.testing, srcgrad.testing.plugin; "
                "print(sorted(m for m in sys.modules if m.split('.')[0] == 'hypothesis'))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------
# the pytest plugin
# ---------------------------------------------------------------------------------------
INNER = '''
import numpy as np
import pytest
import srcgrad

@srcgrad.value_and_grad
def loss(w):
    return np.sum(np.tanh(w) ** 2)

def test_fixture(gradcheck):
    srcgrad.autograd.engine.clear_cache()
    gradcheck(lambda x: (x * x).sum(), np.array([1.0, 2.0]))

def test_compiles_and_fails():
    srcgrad.autograd.engine.clear_cache()
    x = srcgrad.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (x.sin() * x).sum().backward()
    loss(np.ones(3))
    assert x.grad.numpy()[0] == 0, "on purpose"

def test_passes_quietly():
    srcgrad.autograd.engine.clear_cache()
    x = srcgrad.tensor(np.ones(2), requires_grad=True)
    x.cos().sum().backward()

@pytest.mark.parametrize("n", [2, 3])
def test_param(n):
    srcgrad.autograd.engine.clear_cache()
    x = srcgrad.tensor(np.ones(n), requires_grad=True)
    x.cos().sum().backward()
    pytest.skip("skipped after compiling")
'''


def test_plugin_fixture_report_section_and_dump(pytester):
    pytester.makepyfile(test_inner=INNER)
    before = list(loader.listeners)
    result = pytester.runpytest("--srcgrad-dump", "dump", "-p", "no:cacheprovider")
    assert loader.listeners == before  # the inner session unregistered its listener
    result.assert_outcomes(passed=2, failed=1, skipped=2)
    out = result.stdout.str()
    # the failing test's report shows the code it compiled: eager backward and decorated
    assert "Captured srcgrad generated code call" in out
    section = out.split("Captured srcgrad generated code call")[1]
    assert "def backward(grad_out, x" in section and "def loss_value_and_grad(w):" in section
    assert out.count("Captured srcgrad generated code") == 1  # not for passing or skipped tests
    # one file per compiled function, in a directory named after the test
    dump = pytester.path / "dump"
    files = sorted(str(f.relative_to(dump)) for f in dump.rglob("*.py"))
    assert files == ["test_inner.py__test_compiles_and_fails/01_backward.py",
                     "test_inner.py__test_compiles_and_fails/02_loss_value_and_grad.py",
                     "test_inner.py__test_fixture/01_backward.py",
                     "test_inner.py__test_param_2/01_backward.py",
                     "test_inner.py__test_param_3/01_backward.py",
                     "test_inner.py__test_passes_quietly/01_backward.py"], files
    text = (dump / files[1]).read_text()
    assert text.startswith("# test: test_inner.py::test_compiles_and_fails\n"
                           "# generated by srcgrad as <srcgrad:")
    assert "def loss_value_and_grad(w):" in text
    compile(text, files[1], "exec")
    # deterministic: a second run writes the same names, and the dump is never collected
    again = pytester.runpytest("--srcgrad-dump", "dump", "-p", "no:cacheprovider")
    again.assert_outcomes(passed=2, failed=1, skipped=2)
    assert sorted(str(f.relative_to(dump)) for f in dump.rglob("*.py")) == files


def test_plugin_shows_a_cached_function_found_in_the_traceback(pytester):
    pytester.makepyfile(test_hooks='''
import numpy as np
import srcgrad

def run(hook):
    x = srcgrad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.exp()
    y.register_hook(hook)
    (y * 5).sum().backward()

def test_compiles():
    srcgrad.autograd.engine.clear_cache()
    run(lambda g: None)

def test_reuses_and_raises_inside_generated_code():
    def hook(g):
        raise ValueError("boom")
    run(hook)
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "(compiled earlier; in the traceback)" in out and "hooks[0](" in out


def test_plugin_can_be_turned_off(pytester):
    pytester.makepyfile("def test_x(gradcheck):\n    pass\n")
    result = pytester.runpytest("-p", "no:srcgrad", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert "fixture 'gradcheck' not found" in result.stdout.str()


def test_plugin_works_without_hypothesis(pytester):
    pytester.makepyfile(test_plain='''
import numpy as np
def test_x(gradcheck):
    gradcheck(lambda t: np.tanh(t), np.array([0.1, 0.2]))
''')
    code = (BLOCK_HYPOTHESIS + "import pytest\n"
            "sys.exit(pytest.main(['-q', '-p', 'no:hypothesispytest', '-p', 'no:cacheprovider', "
            "'test_plain.py']))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=pytester.path, capture_output=True, text=True,
                       env=dict(os.environ, SRCGRAD_CACHE="0"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout


def test_traced_gradcheck_of_a_function_using_a_module_with_parameters():
    # the function reads tensors that require grad (the module's): value_and_grad returns
    # tensors then, and gradcheck took their value with np.asarray (an error)
    lin = srcgrad.nn.Linear(3, 2).double()
    x = np.linspace(-1, 1, 12).reshape(4, 3)
    grads = gradcheck(lambda x: lin(x), x, traced=True)
    assert grads is not None and lin.weight.grad is None
