"""scipy.special's functions as sympy functions, each with its derivative.

Each class stands for one scipy.special function and prints as a call of it
(`special.gammaln(x)`, printer.py); its `fdiff` writes the derivative with the same
family of functions (digamma for gammaln, Bessel functions of neighbouring orders for a
Bessel function), so a derivative of any order is again printable code. An argument
with no derivative (the order of a Bessel function, the shape `a` of the incomplete
gamma function) has `None` here: numpy/special.py refuses a gradient there before
anything is recorded, and sympy is never asked for it.

srcgrad never imports scipy for these: generated code that calls one of them is loaded
with `special` bound to scipy.special (codegen/loader.py), which only happens after the
user has called scipy with a tensor.
"""
import sympy as sp

from .functions import _RealFunction, exp, sgn, where


class NoDerivative(TypeError):
    """A derivative scipy.special's function has no formula for (in an order or shape)."""


class SpecialFunction(_RealFunction):
    """A scipy.special function; subclasses are made by `_define`."""
    scipy_name = None
    derivatives = ()

    def fdiff(self, argindex=1):
        d = self.derivatives[argindex - 1]
        if d is None:
            raise NoDerivative(f"scipy.special.{self.scipy_name} has no derivative in its argument {argindex}")
        return d(*self.args)


#: scipy name -> the sympy function standing for it
BY_NAME = {}


def _define(name, nargs, *derivatives):
    """The sympy function for scipy.special.<name>: `derivatives`, per argument, gives the
    partial derivative as a function of the arguments (None where there is none)."""
    cls = type(f"special_{name}", (SpecialFunction,),
               {"nargs": nargs, "scipy_name": name, "derivatives": derivatives})
    BY_NAME[name] = cls
    return cls


_SQRT_PI = sp.sqrt(sp.pi)
_SQRT_2PI = sp.sqrt(2 * sp.pi)

# -- gamma and its relatives --------------------------------------------------------------
psi = _define("psi", 1, lambda x: polygamma(1, x))            # digamma
polygamma = _define("polygamma", 2, None, lambda n, x: polygamma(n + 1, x))
gammaln = _define("gammaln", 1, lambda x: psi(x))
loggamma = _define("loggamma", 1, lambda x: psi(x))
gamma = _define("gamma", 1, lambda x: gamma(x) * psi(x))
rgamma = _define("rgamma", 1, lambda x: -rgamma(x) * psi(x))
gammasgn = _define("gammasgn", 1, lambda x: sp.Integer(0))
beta = _define("beta", 2, lambda a, b: beta(a, b) * (psi(a) - psi(a + b)),
               lambda a, b: beta(a, b) * (psi(b) - psi(a + b)))
betaln = _define("betaln", 2, lambda a, b: psi(a) - psi(a + b), lambda a, b: psi(b) - psi(a + b))
# regularised incomplete gamma and beta functions: densities in x (none in the shapes)
# (x**(a - 1), not exp((a - 1) log x): at x = 0 with a = 1, numpy's 0**0 is 1, 0 * -inf NaN)
gammainc = _define("gammainc", 2, None, lambda a, x: x ** (a - 1) * exp(-x - gammaln(a)))
gammaincc = _define("gammaincc", 2, None, lambda a, x: -x ** (a - 1) * exp(-x - gammaln(a)))
betainc = _define("betainc", 3, None, None,
                  lambda a, b, x: x ** (a - 1) * (1 - x) ** (b - 1) * exp(-betaln(a, b)))
# Hurwitz zeta(s, q): a derivative in q only
zeta = _define("zeta", 2, None, lambda s, q: -s * zeta(s + 1, q))

# -- error function and normal distribution ------------------------------------------------
erfinv = _define("erfinv", 1, lambda x: _SQRT_PI / 2 * exp(erfinv(x) ** 2))
erfcinv = _define("erfcinv", 1, lambda x: -_SQRT_PI / 2 * exp(erfcinv(x) ** 2))
erfcx = _define("erfcx", 1, lambda x: 2 * x * erfcx(x) - 2 / _SQRT_PI)
ndtri = _define("ndtri", 1, lambda x: _SQRT_2PI * exp(ndtri(x) ** 2 / 2))
# d log Phi(x) = phi(x) / Phi(x), as exp(log phi - log Phi): finite far in the left tail
log_ndtr = _define("log_ndtr", 1, lambda x: exp(-x ** 2 / 2 - log_ndtr(x)) / _SQRT_2PI)
dawsn = _define("dawsn", 1, lambda x: 1 - 2 * x * dawsn(x))

# -- exponential integrals ------------------------------------------------------------------
exp1 = _define("exp1", 1, lambda x: -exp(-x) / x)
expi = _define("expi", 1, lambda x: exp(x) / x)
expn = _define("expn", 2, None, lambda n, x: where(sp.Eq(n, 0), -exp(-x) * (1 + x) / x ** 2, -expn(n - 1, x)))

# -- Bessel functions: orders get no derivative; in x, the recurrences ---------------------
jv = _define("jv", 2, None, lambda v, x: (jv(v - 1, x) - jv(v + 1, x)) / 2)
yv = _define("yv", 2, None, lambda v, x: (yv(v - 1, x) - yv(v + 1, x)) / 2)
yn = _define("yn", 2, None, lambda n, x: (yn(n - 1, x) - yn(n + 1, x)) / 2)
iv = _define("iv", 2, None, lambda v, x: (iv(v - 1, x) + iv(v + 1, x)) / 2)
kv = _define("kv", 2, None, lambda v, x: -(kv(v - 1, x) + kv(v + 1, x)) / 2)
# exponentially scaled: ive = iv * exp(-|x|), kve = kv * exp(x)
ive = _define("ive", 2, None, lambda v, x: (ive(v - 1, x) + ive(v + 1, x)) / 2 - sgn(x) * ive(v, x))
kve = _define("kve", 2, None, lambda v, x: kve(v, x) - (kve(v - 1, x) + kve(v + 1, x)) / 2)
j0 = _define("j0", 1, lambda x: -j1(x))
j1 = _define("j1", 1, lambda x: (j0(x) - jv(2, x)) / 2)
y0 = _define("y0", 1, lambda x: -y1(x))
y1 = _define("y1", 1, lambda x: (y0(x) - yv(2, x)) / 2)
i0 = _define("i0", 1, lambda x: i1(x))
i1 = _define("i1", 1, lambda x: (i0(x) + iv(2, x)) / 2)
i0e = _define("i0e", 1, lambda x: i1e(x) - sgn(x) * i0e(x))
i1e = _define("i1e", 1, lambda x: (i0e(x) + ive(2, x)) / 2 - sgn(x) * i1e(x))
k0 = _define("k0", 1, lambda x: -k1(x))
k1 = _define("k1", 1, lambda x: -(k0(x) + kv(2, x)) / 2)
k0e = _define("k0e", 1, lambda x: k0e(x) - k1e(x))
k1e = _define("k1e", 1, lambda x: k1e(x) - (k0e(x) + kve(2, x)) / 2)

#: the argument positions of each function that take no derivative
NO_DERIVATIVE = {name: tuple(k for k, d in enumerate(cls.derivatives) if d is None)
                 for name, cls in BY_NAME.items()}


def scipy_special():
    """scipy.special, imported the first time a generated function or an op needs it.
    Without scipy: numpy kernels of the functions PyTorch's own vocabulary reaches
    (torch.lgamma, digamma, polygamma, erfinv: numpy_special.py); any other function
    raises ImportError when called."""
    try:
        import scipy.special
    except ImportError:
        from .numpy_special import SPECIAL
        return SPECIAL
    return scipy.special
