"""sympy expression → Python `ast` expression over numpy (namespace name `np`; scipy.special's
functions, symbolic/special.py, as `special`).

Written for people: numbers are printed as literals (`0.25`, never `np.float64(...)`,
so float32 arrays stay float32), constants go after the symbols (`x - 2`, not `-2 + x`),
negative powers become divisions and square roots `np.sqrt`.
"""
import ast

import numpy as np
import sympy as sp

from ..codegen import astbuild as A
from . import functions as F
from .special import SpecialFunction

_NP_FUNCS = {
    sp.exp: "exp", F.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan",
    sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh", sp.asin: "arcsin", sp.acos: "arccos",
    sp.atan: "arctan", sp.asinh: "arcsinh", sp.acosh: "arccosh", sp.atanh: "arctanh",
    sp.Abs: "abs", sp.sign: "sign", F.abs_: "abs", F.sgn: "sign", sp.floor: "floor",
    sp.ceiling: "ceil",
}

_NP_CUSTOM = {
    F.expm1: "expm1", F.log1p: "log1p", F.exp2: "exp2", F.log2: "log2", F.log10: "log10",
    F.cbrt: "cbrt", F.sinc: "sinc", F.logaddexp: "logaddexp", F.logaddexp2: "logaddexp2",
    F.hypot: "hypot", F.sqrt0: "sqrt", F.floor0: "floor", F.maximum: "maximum", F.minimum: "minimum", F.fmax: "fmax", F.fmin: "fmin",
    F.mod: "remainder", F.clip: "clip", F.nan_to_num: "nan_to_num", F.isfinite: "isfinite",
    sp.atan2: "arctan2", F.arctan2: "arctan2",
}

_CMP = {sp.StrictGreaterThan: ast.Gt, sp.GreaterThan: ast.GtE, sp.StrictLessThan: ast.Lt,
        sp.LessThan: ast.LtE, sp.Equality: ast.Eq, sp.Unequality: ast.NotEq}


class PrintError(TypeError):
    pass


def to_ast(expr, names, shapes=None):
    """`names` maps each free Symbol to the Python name it is read from. With `shapes`
    (Symbol -> the shape of its array), the factors of a product and the terms of a sum
    are taken smallest first: `x * (a * b)`-like order, so that values that broadcast
    (an (n, 1) column against an (n, 3) array) combine before the whole-size one, in
    one whole-size operation instead of one per factor."""
    return _Printer(names, shapes).p(expr)


class _Printer:
    def __init__(self, names, shapes=None):
        self.names = names
        self.shapes = shapes

    def size(self, e):
        """The number of elements of e's value (0 without shapes: keep sympy's order)."""
        if not self.shapes:
            return 0
        size = 1
        for s in e.free_symbols:
            shape = self.shapes.get(s)
            if shape is not None:
                n = 1
                for d in shape:
                    n *= d
                size = max(size, n)
        return size

    def p(self, e):
        if e.is_Symbol:
            try:
                return A.name(self.names[e])
            except KeyError:
                raise PrintError(f"no name for symbol {e}") from None
        if e.is_Number or e is sp.zoo:
            return self.number(e)
        if e.is_number and e.is_real and e is not sp.pi and e is not sp.E and not self._calls_only:
            # log(2), sqrt(3): a literal, as np.log(2) would be an np.float64 that makes
            # float32 arrays float64
            try:
                return self.number(e)
            except TypeError:  # a function of numbers sympy cannot evaluate (exp2(0), clip(0, -1, 1))
                return self.number(sp.Float(self._evaluated(e)))
        if e.is_number and e.has(sp.I):  # (a complex number in the user's formula: ops/complex.py)
            return A.num(complex(e))
        if e.is_Add:
            return self.add(e)
        if e.is_Mul:
            return self.mul(e)
        if e.is_Pow:
            return self.pow(e)
        if e is sp.pi:
            return A.attr(A.name("np"), "pi")
        if e is sp.E:
            return A.attr(A.name("np"), "e")
        if isinstance(e, sp.Rel):
            return ast.Compare(left=self.p(e.lhs), ops=[_CMP[type(e)]()], comparators=[self.p(e.rhs)])
        f = e.func
        if f in _NP_FUNCS:
            return A.npcall(_NP_FUNCS[f], self.p(e.args[0]))
        if f is F.sigmoid:
            # exp(-log(1 + exp(-x))): never overflows, exact in both tails
            x = e.args[0]
            return A.npcall("exp", A.neg(A.npcall("logaddexp", A.const(0.0), self.p(-x))))
        if f in _NP_CUSTOM:
            return A.npcall(_NP_CUSTOM[f], *[self.p(a) for a in e.args])
        if isinstance(e, SpecialFunction):
            return A.call(A.attr(A.name("special"), f.scipy_name), *[self.p(a) for a in e.args])
        if f is F.softplus:
            return A.npcall("logaddexp", A.num(0.0), self.p(e.args[0]))
        if f is F.dsinc:
            x = self.p(e.args[0])
            pix = A.binop(A.attr(A.name("np"), "pi"), ast.Mult(), self.p(e.args[0]))
            slope = A.div(A.binop(A.npcall("cos", pix), ast.Sub(), A.npcall("sinc", x)), self.p(e.args[0]))
            zero = ast.Compare(left=self.p(e.args[0]), ops=[ast.Eq()], comparators=[A.num(0)])
            return A.npcall("where", zero, A.num(0), slope)
        if f is F.erf:
            # numpy has no erf: math.erf elementwise, in the argument's dtype (np.asarray:
            # of a 0-d argument, frompyfunc gives a Python float)
            x = self.p(e.args[0])
            return A.npcall("asarray", A.call(A.npcall("frompyfunc", A.attr(A.name("math"), "erf"), A.num(1),
                                                       A.num(1)), x), A.attr(self.p(e.args[0]), "dtype"))
        if f is F.isnan_or:
            return A.binop(A.npcall("isnan", self.p(e.args[0])), ast.BitOr(), self.p(e.args[1]))
        if isinstance(e, (sp.And, sp.Or)):
            op = ast.BitAnd() if isinstance(e, sp.And) else ast.BitOr()
            out = self.p(e.args[0])
            for a in e.args[1:]:
                out = A.binop(out, op, self.p(a))
            return out
        if f is F.relu:
            return A.npcall("maximum", self.p(e.args[0]), A.const(0))
        if f is F.step:
            return ast.Compare(left=self.p(e.args[0]), ops=[ast.Gt()], comparators=[A.const(0)])
        if f is F.where:
            return A.npcall("where", *[self.p(a) for a in e.args])
        if f is sp.Max or f is sp.Min:
            fn = "maximum" if f is sp.Max else "minimum"
            out = self.p(e.args[0])
            for a in e.args[1:]:
                out = A.npcall(fn, out, self.p(a))
            return out
        if e is sp.true or e is sp.false:
            return A.const(bool(e))
        raise PrintError(f"cannot print {type(e).__name__} ({e}) as numpy code")

    _calls_only = False

    def _evaluated(self, e):
        """A function of numbers, evaluated by the numpy code it prints as."""
        import math
        self._calls_only = True
        try:
            tree = ast.fix_missing_locations(ast.Expression(self.p(e)))
        finally:
            self._calls_only = False
        namespace = {"np": np, "math": math}
        if e.atoms(SpecialFunction):
            from ..numpy.special import scipy_special
            namespace["special"] = scipy_special()
        return float(eval(compile(tree, "<srcgrad constant>", "eval"), namespace))

    def number(self, e):
        if e.is_Integer:
            return A.num(int(e))
        if e.is_Rational:
            p, q = int(e.p), int(e.q)
            f = p / q
            if len(repr(abs(f))) <= 10:
                return A.num(f)
            return A.div(A.num(p), A.num(q))
        if e.is_Float:
            return A.num(float(e))
        if e is sp.nan:
            return A.num(float("nan"))
        if e is sp.oo or e is -sp.oo:
            return A.num(float("inf") if e is sp.oo else float("-inf"))
        if e is sp.zoo:  # a division by zero sympy folded (var of one element): undefined, as PyTorch's NaN
            return A.num(float("nan"))
        return A.num(float(e))

    def add(self, e):
        # positive terms first and the constant last where that reads naturally:
        # `x - 2`, `2 - 2 * t`, `a + b - c`
        terms = [(t.could_extract_minus_sign(), t.is_Number, (self.size(t), i), t) for i, t in enumerate(e.args)]
        pos = [t for t in terms if not t[0]]
        neg = [t for t in terms if t[0]]
        order = sorted(pos, key=lambda t: (t[1], t[2])) + sorted(neg, key=lambda t: (t[1], t[2]))
        if pos and not any(not t[1] for t in pos) and neg and any(not t[1] for t in neg):
            order = pos + sorted(neg, key=lambda t: (t[1], t[2]))  # `2 - 2 * t`
        out = None
        for negative, _, _, t in order:
            node = self.p(-t if negative else t)
            if out is None:
                out = A.neg(node) if negative else node
            else:
                out = A.binop(out, ast.Sub() if negative else ast.Add(), node)
        return out

    def mul(self, e):
        coeff, factors = e.as_coeff_mul()
        num, den = [], []
        for f in factors:
            if f.is_Pow and f.exp.is_Number and f.exp.is_negative and f.exp != sp.Rational(-1, 2):
                den.append(sp.Pow(f.base, -f.exp))
            else:
                num.append(f)
        sign = coeff < 0
        coeff = abs(coeff)
        num.sort(key=self.size)  # stable: sympy's order among factors of one size
        parts = [self.p(f) for f in num]
        if coeff != 1 or not parts:
            if coeff.is_Rational and not coeff.is_Integer and coeff.p == 1 and parts:
                den.insert(0, sp.Integer(coeff.q))  # x/4 rather than 0.25*x when exact
            else:
                parts.insert(0, self.number(coeff))
        out = parts[0] if parts else A.num(1)
        for part in parts[1:]:
            out = A.binop(out, ast.Mult(), part)
        if den:
            d = self.p(den[0])
            for f in den[1:]:
                d = A.binop(d, ast.Mult(), self.p(f))
            out = A.binop(out, ast.Div(), d)
        return A.neg(out) if sign else out

    def pow(self, e):
        b, x = e.base, e.exp
        if b is sp.E:
            return A.npcall("exp", self.p(x))
        if x == sp.Rational(1, 2):
            return A.npcall("sqrt", self.p(b))
        if x == sp.Rational(-1, 2):
            return A.div(A.num(1), A.npcall("sqrt", self.p(b)))
        if x.is_Number and x.is_negative:
            return A.div(A.num(1), self.p(sp.Pow(b, -x)))
        return A.binop(self.p(b), ast.Pow(), self.p(x))
