"""scipy.special's functions on tensors: first and second derivatives against central
differences, eagerly and in generated code, errors for arguments with no derivative,
and export. (scipy is optional: srcgrad never needs it, these tests skip without it.)"""
import numpy as np
import pytest

import srcgrad
from srcgrad.numpy import NoRuleError
from srcgrad.testing import gradcheck

special = pytest.importorskip("scipy.special")

# name -> (call on the differentiated x, a domain for x)
UNARY = {
    "gammaln": (0.3, 4.0), "loggamma": (0.3, 4.0), "gamma": (0.3, 3.0), "rgamma": (0.3, 3.0),
    "psi": (0.3, 4.0), "digamma": (0.3, 4.0), "erfinv": (-0.9, 0.9), "erfcinv": (0.1, 1.9),
    "erfcx": (-1.0, 3.0), "ndtri": (0.05, 0.95), "log_ndtr": (-5.0, 3.0), "dawsn": (-2.0, 2.0),
    "exp1": (0.2, 3.0), "expi": (0.2, 3.0), "j0": (-4.0, 4.0), "j1": (-4.0, 4.0), "y0": (0.3, 4.0),
    "y1": (0.3, 4.0), "i0": (-3.0, 3.0), "i1": (-3.0, 3.0), "i0e": (-3.0, 3.0), "i1e": (-3.0, 3.0),
    "k0": (0.3, 3.0), "k1": (0.3, 3.0), "k0e": (0.3, 3.0), "k1e": (0.3, 3.0),
}
# name -> (the function of x with its other arguments fixed, a domain for x)
WITH_ORDER = {
    "jv": (lambda f, x: f(1.5, x), (0.3, 4.0)), "jn": (lambda f, x: f(2, x), (-3.0, 3.0)),
    "yv": (lambda f, x: f(0.5, x), (0.3, 4.0)), "yn": (lambda f, x: f(2, x), (0.5, 4.0)),
    "iv": (lambda f, x: f(1.5, x), (0.3, 3.0)), "ive": (lambda f, x: f(1.0, x), (-3.0, 3.0)),
    "kv": (lambda f, x: f(0.7, x), (0.3, 3.0)), "kve": (lambda f, x: f(0.7, x), (0.3, 3.0)),
    "gammainc": (lambda f, x: f(2.5, x), (0.1, 4.0)), "gammaincc": (lambda f, x: f(2.5, x), (0.1, 4.0)),
    "betainc": (lambda f, x: f(2.0, 3.5, x), (0.05, 0.95)), "expn": (lambda f, x: f(2, x), (0.2, 3.0)),
    "zeta": (lambda f, x: f(3.0, x), (0.5, 3.0)),
    "beta": (lambda f, x: f(x, 1.7) + f(2.2, x), (0.3, 3.0)),
    "betaln": (lambda f, x: f(x, 1.7) + f(2.2, x ** 2), (0.3, 3.0)),
    "xlog1py": (lambda f, x: f(x, x ** 2) + f(0.0, x), (-0.9, 2.0)),
}


def _points(lo, hi, n=5):
    return np.linspace(lo, hi, n) + 0.013


def _loss(call):
    return lambda x: np.sum(call(x) * np.arange(1.0, 1.0 + x.shape[0]))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_function_first_and_second_derivatives(name):
    fn = getattr(special, name)
    x = _points(*UNARY[name])
    assert gradcheck(_loss(fn), x, order=2)
    assert gradcheck(_loss(fn), x, traced=True)


@pytest.mark.parametrize("name", sorted(WITH_ORDER))
def test_function_with_fixed_arguments(name):
    fn = getattr(special, name)
    call, domain = WITH_ORDER[name]
    x = _points(*domain)
    assert gradcheck(_loss(lambda t: call(fn, t)), x, order=2)
    assert gradcheck(_loss(lambda t: call(fn, t)), x, traced=True)


def test_polygamma_and_multigammaln_written_in_python_are_in_srcgrad_scipy():
    """scipy writes these in Python (np.asarray of the arguments): srcgrad.scipy.special
    has them."""
    from srcgrad.scipy import special as sspecial
    x = _points(1.2, 4.0)
    for order in (0, 1, 3):
        f = _loss(lambda t, n=order: sspecial.polygamma(n, t))
        np.testing.assert_allclose(f(x), np.sum(special.polygamma(order, x) * np.arange(1.0, 6.0)))
        assert gradcheck(f, x, order=2)
    f = _loss(lambda t: sspecial.multigammaln(t, 3))
    np.testing.assert_allclose(f(x), np.sum(special.multigammaln(x, 3) * np.arange(1.0, 6.0)))
    assert gradcheck(f, x, traced=True)


def test_generated_code_calls_scipy_special_and_reads_like_the_math():
    def f(x):
        return np.sum(special.gammaln(x) + special.jv(1.5, x))
    g = srcgrad.value_and_grad(f)
    x = np.array([0.5, 1.3, 2.7])
    value, grad = g(x)
    assert value == pytest.approx(f(x))
    np.testing.assert_allclose(grad, special.psi(x) + (special.jv(0.5, x) - special.jv(2.5, x)) / 2)
    src = g.source(x)
    assert "special.gammaln(x)" in src and "special.psi(x)" in src and "special.jv(2.5, x)" in src


def test_float32_stays_float32():
    x = np.linspace(0.5, 2.0, 4).astype(np.float32)
    value, grad = srcgrad.value_and_grad(lambda t: np.sum(special.gammaln(t) * special.i0e(t)))(x)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, special.psi(x) * special.i0e(x)
                               + special.gammaln(x) * (special.i1e(x) - special.i0e(x)), rtol=1e-5)


@pytest.mark.parametrize("call", [lambda a, x: special.jv(a, x), lambda a, x: special.gammainc(a, x),
                                  lambda a, x: special.betainc(a, 2.0, x)],
                         ids=["jv order", "gammainc shape", "betainc shape"])
def test_argument_without_derivative_is_refused_at_the_users_line(call):
    x = np.array([0.3, 0.6])
    with pytest.raises(NoRuleError, match=r"no derivative in its argument 1.*requires grad here at .*test_scipy_spec"):
        srcgrad.grad(lambda a, x: np.sum(call(a, x)), argnums=(0, 1))(np.array([1.5, 2.5]), x)
    # as data, the same argument is fine
    grad = srcgrad.grad(lambda a, x: np.sum(call(a, x)), argnums=1)(np.array([1.5, 2.5]), x)
    assert grad.shape == (2,) and np.all(np.isfinite(grad))


def test_eager_tensors_record_scipy_functions_with_pytorch_names():
    x = srcgrad.tensor(np.array([0.7, 1.9]), requires_grad=True)
    y = special.gammaln(x)
    assert y.grad_fn.name() == "LgammaBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), special.psi(np.array([0.7, 1.9])))


def test_export_imports_scipy_special(tmp_path):
    import importlib.util
    g = srcgrad.value_and_grad(lambda x: np.sum(special.erfinv(x) ** 2))
    x = np.array([0.1, -0.4, 0.7])
    name = srcgrad.export(g, tmp_path / "mod.py", x)
    text = (tmp_path / "mod.py").read_text()
    assert "from scipy import special" in text and "import srcgrad" not in text
    spec = importlib.util.spec_from_file_location("mod", tmp_path / "mod.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    value, grad = getattr(mod, name)(x)
    np.testing.assert_allclose(grad, g(x)[1])


def test_a_user_variable_named_special_does_not_hide_scipy():
    sc = special

    def f(x):
        special = x * 2 + 1  # (a variable of that name in the user's code)
        return np.sum(sc.gammaln(special))
    x = np.array([0.5, 1.5])
    g = srcgrad.value_and_grad(f)
    value, grad = g(x)
    np.testing.assert_allclose(grad, 2 * sc.psi(2 * x + 1))
    assert "special.gammaln(" in g.source(x)


def test_erf_of_complex_numbers_is_scipys_and_holomorphic():
    z = np.array([0.3 + 0.4j, -1.0 + 0.2j])
    from srcgrad.scipy import special as ours
    np.testing.assert_allclose(ours.erf(srcgrad.tensor(z)).numpy(), special.erf(z), rtol=1e-12)

    def f(x, y):
        return np.sum(np.real(special.erf(x + 1j * y)) ** 2 + np.imag(special.erfc(x * y + 0.5j)))
    x, y = np.array([0.3, -0.7]), np.array([0.2, 0.5])
    gx, gy = srcgrad.grad(f, argnums=(0, 1))(x, y)
    eps = 1e-6
    for g, k in ((gx, 0), (gy, 1)):
        num = [(f(*[a + eps * e if i == k else a for i, a in enumerate((x, y))])
                - f(*[a - eps * e if i == k else a for i, a in enumerate((x, y))])) / (2 * eps) for e in np.eye(2)]
        np.testing.assert_allclose(g, num, rtol=1e-6)
