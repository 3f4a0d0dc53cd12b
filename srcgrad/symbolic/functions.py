"""sympy functions for primitives whose derivative sympy would write unstably or wrongly.

Each class carries a hand-written `fdiff` (its derivative) chosen for numerical safety
and to match PyTorch's subgradient at kinks. The numpy printer (`printer.py`) knows
how to write each of them.
"""
import sympy as sp


class _RealFunction(sp.Function):
    def _eval_is_real(self):
        return True


class exp(sp.exp):
    """numpy's exp, computed as written. sympy's own takes numbers out of its argument
    (`exp(x - 740.0)` becomes `4.2e-322 * exp(x)`, which overflows at x = 710 where the
    original is 1e-13), folds `exp(log(x))` into x (NaN for x < 0 in numpy) and writes
    `exp(u)**2` as `exp(2*u)`; this one keeps the user's formula."""

    @classmethod
    def eval(cls, arg):
        if arg.has(sp.log) or arg.is_Add and any(t.is_Float for t in arg.args):
            return None
        return super().eval(arg)

    def _eval_power(self, other):
        return None

    def as_base_exp(self):  # (sympy's is (E, u): a product rebuilds E**u, sympy's exp)
        return self, sp.S.One

    def fdiff(self, argindex=1):
        return self

    def _eval_derivative(self, s):  # (sympy's goes through E**u: the numbers come out again)
        return self * self.args[0].diff(s)


class sigmoid(_RealFunction):
    """1 / (1 + exp(-x)); derivative sigmoid(x) * sigmoid(-x), not s * (1 - s), whose
    1 - s cancels catastrophically for large x (it would be less exact than the forward)."""
    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sigmoid(x) * sigmoid(-x)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return 1 / (1 + sp.exp(-x))


class _PiecewiseConstant(_RealFunction):
    """A step-like function of one argument: its derivative is written 0 (sympy's would be a
    DiracDelta or an unevaluated Derivative), and on a number it is `at_number`'s value."""
    nargs = 1

    def fdiff(self, argindex=1):
        return sp.Integer(0)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return cls.at_number(x)


class step(_PiecewiseConstant):
    """Heaviside step with step(0) = 0 (so relu'(0) = 0, as in PyTorch); derivative 0."""

    @staticmethod
    def at_number(x):
        return sp.Integer(1) if x > 0 else sp.Integer(0)


class relu(_RealFunction):
    """max(x, 0); relu'(x) = step(x), 0 at the kink like PyTorch."""
    nargs = 1

    def fdiff(self, argindex=1):
        return step(self.args[0])

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return x if x > 0 else sp.Integer(0)


class sgn(_PiecewiseConstant):
    """sign(x) with a zero derivative everywhere (sympy's sign has DiracDelta)."""
    at_number = staticmethod(sp.sign)


class where(_RealFunction):
    """where(c, a, b): elementwise select. The derivative of the unselected branch is 0
    *selected*, never multiplied by a mask, so an inf/NaN there cannot leak (0*inf=NaN)."""
    nargs = 3

    def fdiff(self, argindex=1):
        c = self.args[0]
        if argindex == 1:
            return sp.Integer(0)
        if argindex == 2:
            return where(c, 1, 0)
        return where(c, 0, 1)

    @classmethod
    def eval(cls, c, a, b):
        if a == b:
            return a

    def _eval_derivative(self, s):
        # the condition is boolean: differentiate the branches only (sympy would try to
        # differentiate the relational too)
        c, a, b = self.args
        return where(c, a.diff(s), b.diff(s))


class abs_(_RealFunction):
    """|x| with derivative sgn(x) (0 at 0, as PyTorch)."""
    nargs = 1

    def fdiff(self, argindex=1):
        return sgn(self.args[0])

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return abs(x)


CUSTOM = {f.__name__: f for f in (sigmoid, step, relu, sgn, where, abs_)}


# -- numpy's special functions, each with a derivative that stays as stable as it is ---
class _Unary(_RealFunction):
    nargs = 1


class expm1(_Unary):
    def fdiff(self, argindex=1):
        return expm1(self.args[0]) + 1  # exp(x), read from the saved expm1 when there is one


class log1p(_Unary):
    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])


class exp2(_Unary):
    def fdiff(self, argindex=1):
        return sp.log(2) * exp2(self.args[0])


class log2(_Unary):
    def fdiff(self, argindex=1):
        return 1 / (sp.log(2) * self.args[0])


class log10(_Unary):
    def fdiff(self, argindex=1):
        return 1 / (sp.log(10) * self.args[0])


class cbrt(_Unary):
    """Real cube root (negative for negative x, unlike x**(1/3))."""
    def fdiff(self, argindex=1):
        return 1 / (3 * cbrt(self.args[0]) ** 2)


class softplus(_Unary):
    """log(1 + exp(x)), computed as logaddexp(0, x): no overflow at x = 800."""
    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])


class sinc(_Unary):
    """numpy's normalised sinc: sin(pi x) / (pi x), 1 at 0."""
    def fdiff(self, argindex=1):
        return dsinc(self.args[0])


class dsinc(_Unary):
    """d/dx sinc(x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0 (its limit)."""
    def fdiff(self, argindex=1):
        x = self.args[0]
        # second derivative: (-pi^2 sinc(x) x - 2 dsinc(x)) / x, limit -pi^2/3 at 0
        return where(sp.Eq(x, 0), -sp.pi ** 2 / 3, (-sp.pi ** 2 * x * sinc(x) - 2 * dsinc(x)) / x)


class erf(_Unary):
    def fdiff(self, argindex=1):
        return 2 / sp.sqrt(sp.pi) * sp.exp(-self.args[0] ** 2)


class logaddexp(_RealFunction):
    """log(exp(a) + exp(b)); derivatives exp(a - out), exp(b - out) never overflow."""
    nargs = 2

    def fdiff(self, argindex=1):
        return sp.exp(self.args[argindex - 1] - self)


class logaddexp2(_RealFunction):
    nargs = 2

    def fdiff(self, argindex=1):
        return exp2(self.args[argindex - 1] - self)


class hypot(_RealFunction):
    """sqrt(a^2 + b^2) without overflow; derivative a / hypot (0 where both are 0)."""
    nargs = 2

    def fdiff(self, argindex=1):
        return where(sp.Eq(self, 0), 0, self.args[argindex - 1] / self)


class arctan2(_RealFunction):
    """atan2(y, x); derivative (x, -y) / (x^2 + y^2), 0 at the origin (as PyTorch: a
    direction there has no angle to change)."""
    nargs = 2

    def fdiff(self, argindex=1):
        y, x = self.args
        r2 = x ** 2 + y ** 2
        return where(sp.Eq(r2, 0), 0, (x if argindex == 1 else -y) / r2)

    @classmethod
    def eval(cls, y, x):
        if y.is_Number and x.is_Number:
            return sp.atan2(y, x)


class sqrt0(_RealFunction):
    """sqrt whose derivative is 0 at 0: the standard deviation of data with no spread
    (every deviation is 0, and stays 0 to first order in no direction's favour)."""
    nargs = 1

    def fdiff(self, argindex=1):
        return where(sp.Eq(self, 0), 0, 1 / (2 * self))

    @classmethod
    def eval(cls, x):
        if x.is_Number and x >= 0:
            return sp.sqrt(x)


class maximum(_RealFunction):
    """Elementwise max; at ties each argument gets half the gradient, and where one is NaN
    (no order) both get all of it (as PyTorch)."""
    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args if argindex == 1 else self.args[::-1]
        return where(sp.StrictLessThan(a, b), 0, where(sp.Eq(a, b), sp.Rational(1, 2), 1))


class minimum(_RealFunction):
    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args if argindex == 1 else self.args[::-1]
        return where(sp.StrictGreaterThan(a, b), 0, where(sp.Eq(a, b), sp.Rational(1, 2), 1))


class fmax(_RealFunction):
    """max ignoring NaN; the whole gradient goes to the argument selected (a at ties)."""
    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args
        pick_a = isnan_or(b, sp.GreaterThan(a, b))
        return where(pick_a, 1, 0) if argindex == 1 else where(pick_a, 0, 1)


class fmin(_RealFunction):
    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args
        pick_a = isnan_or(b, sp.LessThan(a, b))
        return where(pick_a, 1, 0) if argindex == 1 else where(pick_a, 0, 1)


class isnan_or(_RealFunction):
    """isnan(x) | cond — a boolean helper for fmax/fmin."""
    nargs = 2

    def _eval_derivative(self, s):
        return sp.Integer(0)


class floor0(_PiecewiseConstant):
    """floor with its derivative written 0 (sympy's stays an unevaluated Derivative)."""
    at_number = staticmethod(sp.floor)


class mod(_RealFunction):
    """numpy's remainder: a - floor(a / b) * b."""
    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args
        return sp.Integer(1) if argindex == 1 else -floor0(a / b)


class clip(_RealFunction):
    """min(max(x, lo), hi); the gradient reaches x inside [lo, hi] (ends included, as
    PyTorch's clamp), else the bound that was selected: hi when the bounds cross (lo > hi
    gives hi everywhere, as numpy and PyTorch)."""
    nargs = 3

    def fdiff(self, argindex=1):
        x, lo, hi = self.args
        inside = sp.And(sp.GreaterThan(x, lo), sp.LessThan(x, hi))
        if argindex == 1:
            return where(inside, 1, 0)
        if argindex == 2:
            return where(sp.And(sp.StrictLessThan(x, lo), sp.StrictLessThan(lo, hi)), 1, 0)
        return where(sp.Or(sp.StrictGreaterThan(x, hi), sp.StrictLessThan(hi, lo)), 1, 0)


class nan_to_num(_RealFunction):
    """NaN → 0, ±inf → the largest finite values; gradient 1 where x was finite."""
    nargs = 1

    def fdiff(self, argindex=1):
        return where(isfinite(self.args[0]), 1, 0)


class isfinite(_RealFunction):
    nargs = 1


CUSTOM.update({f.__name__: f for f in (expm1, log1p, exp2, log2, log10, cbrt, softplus, sinc, dsinc, erf,
                                       logaddexp, logaddexp2, hypot, arctan2, maximum, minimum, fmax, fmin,
                                       isnan_or, mod, clip, nan_to_num, isfinite, sqrt0, floor0)})
