"""Reading a gradient back as mathematics: IR values → sympy expressions of the arguments.

Fused kernels are already sympy formulas; this substitutes them into one another back
to the function's arguments. A value produced by a structural op (matmul, a reduction,
indexing) becomes a symbol named after it, so the result stays an honest formula of what
the generated code computes.
"""
import sympy as sp

from ..symbolic.kernel import substitute


class Formulas(dict):
    """{argument name: sympy expression}, printable as text and LaTeX."""

    def latex(self):
        return "\n".join(rf"\frac{{\partial f}}{{\partial {sp.latex(sp.Symbol(k))}}} = {sp.latex(e)}"
                         for k, e in self.items())

    def pretty(self):
        return "\n".join(f"d/d{k}:\n{sp.pretty(e)}" for k, e in self.items())

    def __str__(self):
        return "\n".join(f"d/d{k} = {e}" for k, e in self.items())

    __repr__ = __str__


def gradient_formulas(program, grads, names):
    """Expressions for each of `grads` (Values of `program`) in terms of its inputs;
    `names[k]` names the argument grads[k] belongs to."""
    symbols = {}
    for k, p in enumerate(program.inputs):
        symbols[p.id] = sp.Symbol(p.name or f"x{k}", real=True)
    memo = {}

    def expand(v):
        if v.id in memo:
            return memo[v.id]
        if v.id in symbols:
            return symbols[v.id]
        n = v.node
        if n is not None and n.op.name == "ew":
            e = substitute([n.attrs["exprs"][v.index]], [expand(x) for x in n.inputs])[0]
        elif n is not None and n.op.name in ("broadcast_to", "cast", "stop_gradient") or \
                (n is not None and n.op.name == "sum_to" and n.inputs[0].shape == v.shape):
            e = expand(n.inputs[0])
        else:
            e = sp.Symbol(v.name or f"v{v.id}", real=True)
        memo[v.id] = e
        return e

    out = Formulas()
    for k, g in enumerate(grads):
        name = names[k] if k < len(names) and names[k] else f"x{k}"
        out[name] = _as_sympy(expand(g)) if g is not None else sp.Integer(0)
    return out


def _as_sympy(e):
    """With sympy's own functions where srcgrad's only compute as written (its exp keeps
    `exp(x - 740.0)` whole): a formula to work with in sympy."""
    from ..symbolic import functions as F
    return e.replace(F.exp, sp.exp) if e.has(F.exp) else e
