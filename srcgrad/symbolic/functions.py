"""sympy functions for primitives whose derivative sympy would write unstably or wrongly.

Each class carries a hand-written `fdiff` (its derivative) chosen for numerical safety
and to match PyTorch's subgradient at kinks. The numpy printer (`printer.py`) knows
how to write each of them.
"""
import sympy as sp


class _RealFunction(sp.Function):
    def _eval_is_real(self):
        return True


class sigmoid(_RealFunction):
    """1 / (1 + exp(-x)); derivative written from its own value: s * (1 - s)."""
    nargs = 1

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return 1 / (1 + sp.exp(-x))


class step(_RealFunction):
    """Heaviside step with step(0) = 0 (so relu'(0) = 0, as in PyTorch); derivative 0."""
    nargs = 1

    def fdiff(self, argindex=1):
        return sp.Integer(0)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
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


class sgn(_RealFunction):
    """sign(x) with a zero derivative everywhere (sympy's sign has DiracDelta)."""
    nargs = 1

    def fdiff(self, argindex=1):
        return sp.Integer(0)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.sign(x)


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


class abs_(_RealFunction):
    """|x| with derivative sgn(x) (0 at 0, as PyTorch)."""
    nargs = 1

    def fdiff(self, argindex=1):
        return sgn(self.args[0])

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return abs(x)


# Functions with a zero derivative that are still allowed inside kernels.
ZERO_DERIVATIVE = (step, sgn)
CUSTOM = {f.__name__: f for f in (sigmoid, step, relu, sgn, where, abs_)}
