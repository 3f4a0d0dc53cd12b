"""Elementwise regions as sympy formulas: compose, differentiate, build `ew` kernels.

A kernel's formulas are written over canonical symbols a0, a1, ... (one per input, in
order of first appearance), so equal kernels have equal attrs and equal cache keys.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..ir.graph import Value
from ..ops import broadcast_shapes, result_dtype
from . import functions as F
from .simplify import simplify_expr

_CANON: list = []


def canon_symbol(i):
    while len(_CANON) <= i:
        _CANON.append(sp.Symbol(f"a{len(_CANON)}", real=True))
    return _CANON[i]


def value_symbol(v: Value):
    """A symbol standing for Value `v` while formulas are being built."""
    return sp.Symbol(f"v{v.id}", real=True)


def literal(x):
    """A Python scalar operand as a sympy number."""
    if isinstance(x, bool):
        return sp.Integer(int(x))
    if isinstance(x, int):
        return sp.Integer(x)
    if isinstance(x, complex):  # (ops/complex.py)
        return literal(x.real) + literal(x.imag) * sp.I if x.real else literal(x.imag) * sp.I
    f = float(x)
    if math.isnan(f):
        return sp.nan
    if math.isinf(f):
        return sp.oo if f > 0 else -sp.oo
    return sp.Float(f)


def integral(e):
    """2.0 → 2 (used for exponents, so x**2.0 differentiates to 2*x, not 2.0*x**1.0)."""
    if isinstance(e, sp.Float) and e == int(e):
        return sp.Integer(int(e))
    return e


def substitute(exprs, args):
    """Kernel formulas with a_i replaced by args[i] (sympy re-evaluates the result)."""
    mapping = {canon_symbol(i): a for i, a in enumerate(args)}
    return [e.xreplace(mapping) for e in exprs]


def node_exprs(node, in_exprs):
    """Formulas of an elementwise node's outputs, given formulas for its inputs."""
    op = node.op
    if op.name == "ew":
        return substitute(node.attrs["exprs"], in_exprs)
    attrs = node.attrs
    if op.name == "pow":
        in_exprs = [in_exprs[0], integral(in_exprs[1])]
    return [op.formula(*in_exprs, **attrs)]


def operand_expr(x, env):
    """The formula for one operand: a symbol for a Value (recorded in env), else a number."""
    if isinstance(x, Value):
        s = value_symbol(x)
        env[s] = x
        return s
    return literal(x)


def input_exprs(node, env):
    return [operand_expr(x, env) for x in node.inputs]


def _costly(e):
    """Worth reading from a saved forward value instead of recomputing."""
    if e.is_Atom:
        return False
    return bool(e.atoms(sp.Function)) or any(not p.exp.is_Integer for p in e.atoms(sp.Pow))


def push_selects(e):
    """g * where(c, p, q) → where(c, g*p, g*q), and g * step(x) → where(x > 0, g, 0).

    A select is applied before, never after, multiplying: an inf or NaN in the branch
    that is not taken (or in g) must not leak into the result as 0*inf = NaN.
    """
    if e.is_Atom:
        return e
    args = tuple(push_selects(a) for a in e.args)
    if args != e.args:
        e = e.func(*args)
    if e.is_Add:
        # where(c, p1, q1) + where(c, p2, q2) → where(c, p1 + p2, q1 + q2)
        by_cond, rest = {}, []
        for t in e.args:
            if isinstance(t, F.where):
                by_cond.setdefault(t.args[0], []).append(t)
            else:
                rest.append(t)
        if any(len(ts) > 1 for ts in by_cond.values()):
            merged = [F.where(c, push_selects(sp.Add(*[t.args[1] for t in ts])),
                              push_selects(sp.Add(*[t.args[2] for t in ts])))
                      for c, ts in by_cond.items()]
            return push_selects(sp.Add(*rest, *merged))
    if e.is_Mul:
        for f in e.args:
            if isinstance(f, (F.where, F.step)):
                rest = sp.Mul(*[a for a in e.args if a is not f])
                if isinstance(f, F.step):
                    return F.where(sp.StrictGreaterThan(f.args[0], 0), push_selects(rest), 0)
                c, p, q = f.args
                return F.where(c, push_selects(rest * p), push_selects(rest * q))
    return e


def may_lose_dtype(e):
    """Could numpy compute `e` in another dtype than its float inputs'? A select or step
    with only numbers in its branches makes an integer or boolean array, which then
    promotes float32 to float64."""
    for a in sp.preorder_traversal(e):
        if isinstance(a, F.step) or (isinstance(a, F.where) and a.args[1].is_Number and a.args[2].is_Number):
            return True
    return False


def natural_shape(expr, env):
    shapes = [env[s].shape for s in expr.free_symbols if s in env]
    return broadcast_shapes(*shapes) if shapes else ()


def canonicalize(exprs):
    """(symbols in order of first appearance, exprs rewritten over a0, a1, ...)."""
    order, seen = [], set()
    for e in exprs:
        for a in sp.preorder_traversal(e):
            if a.is_Symbol and a not in seen:
                seen.add(a)
                order.append(a)
    mapping = {s: canon_symbol(i) for i, s in enumerate(order)}
    return order, tuple(e.xreplace(mapping) for e in exprs)


def make_kernel(graph, exprs, env, avals):
    """Emit one `ew` node computing `exprs` (over symbols of `env`'s Values)."""
    order, canon = canonicalize(exprs)
    out = graph.emit("ew", [env[s] for s in order], exprs=canon,
                     avals=tuple((tuple(s), np.dtype(d)) for s, d in avals))
    return [out] if len(exprs) == 1 else list(out)


_SLOTS = {}


def _slot(kind, i):
    """Template symbols: x<i> input position i, o<j> output j, g<j> cotangent of output j."""
    key = (kind, i)
    s = _SLOTS.get(key)
    if s is None:
        s = _SLOTS[key] = sp.Symbol(f"{kind}{i}", real=True)
    return s


_VJP_TEMPLATES = {}


#: a kernel whose derivative formulas are this big (as trees) and SPLIT_RATIO times its
#: own is differentiated piece by piece instead (_split_vjp): nested shared terms, as a
#: scalar recurrence's steps, make sympy's derivative grow far faster than the formula
SPLIT_SIZE = 400
SPLIT_RATIO = 6


def elementwise_vjp(node, gs, split=True):
    """The backward of any elementwise node: sympy.diff of its formulas, as one kernel.

    Forward values the node computed are reused rather than recomputed: wherever the
    derivative contains a costly output formula (tanh(u), exp(u), sqrt(u), ...) or its
    reciprocal, it reads the saved output instead.

    The symbolic work depends only on the node's formulas and on which operands are the
    same value, need a gradient or receive one — not on data, and on shapes only through
    which outputs share or broadcast into each other's shape — so it is done once per
    such pattern and reused (a loop's repeated kernels cost one sympy.diff).
    """
    graph = next(g for g in gs if g is not None).graph
    active = graph.active
    first = {}
    pattern = []
    for i, x in enumerate(node.inputs):
        if isinstance(x, Value):
            k = first.setdefault(x.id, i)
            wanted = k == i and x.dtype.kind in "fc" and (active is None or x.id in active)
            pattern.append((k, wanted))
        else:
            pattern.append(("lit", type(x).__name__, x))
    gmask = tuple(g is not None for g in gs)
    # outputs of different shapes (a kernel may broadcast some of them further) must each
    # be summed back to an input's shape on their own: number the distinct shapes
    # (and fits[j][k]: output j broadcasts into output k's shape, so the part for k may
    # read j's saved value)
    shapes = [o.shape for o in node.outputs]
    groups = tuple(shapes.index(s) for s in shapes)
    fits = tuple(tuple(_fits(a, b) for b in shapes) for a in shapes)
    attrs = node.attrs["exprs"] if node.op.name == "ew" else tuple(sorted(node.attrs.items()))
    key = (node.op.name, attrs, tuple(pattern), gmask, groups, fits)
    template = _VJP_TEMPLATES.get(key)
    if template is None:
        template = _VJP_TEMPLATES[key] = _vjp_template(node, pattern, gmask, groups, fits)
    targets, order, canon, uses, big = template
    if big and split:
        return _split_vjp(node, gs)
    result = [None] * len(node.inputs)
    if not canon:
        return result

    def value(slot):
        kind, i = slot
        return node.inputs[i] if kind == "x" else node.outputs[i] if kind == "o" else gs[i]

    inputs = [value(s) for s in order]
    avals = []
    for k, used in enumerate(uses):
        vals = [inputs[u] for u in used]
        shape = broadcast_shapes(*[v.shape for v in vals],
                                 *[node.inputs[i].shape for i, kk in targets if kk == k])
        floats = [v for v in vals if v.dtype.kind in "fc"]
        dtype = result_dtype(floats or [node.inputs[i] for i, kk in targets if kk == k][:1])
        avals.append((shape, dtype))
    if all(e.is_Symbol for e in canon) and all(
            inputs[u[0]].shape == a[0] and inputs[u[0]].dtype == a[1] for u, a in zip(uses, avals)):
        outs_v = [inputs[u[0]] for u in uses]  # d(a + b) = g: no kernel needed
    else:
        out = graph.emit("ew", inputs, exprs=canon, avals=tuple(avals))
        outs_v = [out] if len(canon) == 1 else list(out)
    for i, k in targets:
        x = node.inputs[i]
        part = outs_v[k].sum_to(x.shape)
        result[i] = part if result[i] is None else result[i] + part
    return [None if r is None else r.cast(x.dtype) for r, x in zip(result, node.inputs)]


def _fits(a, b):
    try:
        return broadcast_shapes(a, b) == tuple(b)
    except ValueError:
        return False


def _vjp_template(node, pattern, gmask, groups, fits):
    """(targets [(input index, expr index)], slot order, canonical exprs, slots used per expr)."""
    ins = [literal(p[2]) if p[0] == "lit" else _slot("x", p[0]) for p in pattern]
    outs = node_exprs(node, ins)

    def reuse(group):
        """Saved outputs to read instead of recomputing, for the part of `group`: only
        those no bigger than it (a broadcast copy would multiply its terms). Any output
        the forward computed is read back (`x - mu` as the saved `xc`), and a costly one
        (tanh, exp, ...) also through its reciprocal."""
        found = {}
        for j, e in enumerate(outs):
            if not e.is_Atom and fits[j][group]:
                found.setdefault(e, _slot("o", j))
                if _costly(e):
                    found.setdefault(1 / e, 1 / _slot("o", j))
        return found
    targets, exprs = [], []
    for i, p in enumerate(pattern):
        if p[0] == "lit" or not p[1]:
            continue
        for group in sorted(set(groups)):  # one part per output shape: summed apart
            d = sp.Integer(0)
            for j, (out_e, has_g) in enumerate(zip(outs, gmask)):
                if has_g and groups[j] == group:
                    d = d + _slot("g", j) * safe_diff(out_e, ins[i])
            d = push_selects(d.xreplace(reuse(group)))
            if d == 0:
                continue
            d = simplify_expr(d)
            if d in exprs:  # e.g. both operands of an add
                targets.append((i, exprs.index(d)))
                continue
            targets.append((i, len(exprs)))
            exprs.append(d)
    order, canon = canonicalize(exprs)
    slots = [(str(s)[0], int(str(s)[1:])) for s in order]
    index = {s: k for k, s in enumerate(order)}
    uses = [sorted(index[s] for s in e.free_symbols if s in index) for e in exprs]
    from .simplify import tree_size
    size = sum(tree_size(e, 100 * SPLIT_SIZE) for e in canon)
    big = node.op.name == "ew" and size > SPLIT_SIZE and \
        size > SPLIT_RATIO * sum(tree_size(e, 100 * SPLIT_SIZE) for e in outs) and _splittable(outs, node)
    return targets, slots, canon, uses, big


def _splittable(outs, node):
    """Formulas of one float dtype, without conditions (a piece is typed as the outputs)."""
    dtypes = {o.dtype for o in node.outputs}
    return len(dtypes) == 1 and next(iter(dtypes)).kind == "f" and not any(
        e.has(sp.Piecewise) or e.atoms(sp.core.relational.Relational) or e.atoms(F.where) for e in outs)


def _split_vjp(node, gs):
    """The backward of a kernel whose derivative as one formula is too big: its formulas
    cut at their common subexpressions into small kernels (recomputed in the backward:
    elementwise work), each differentiated on its own, in reverse. Linear in the pieces,
    where the derivative of the whole nests every piece's derivative in the next."""
    import itertools
    graph = next(g for g in gs if g is not None).graph
    env = {}
    ins = [operand_expr(x, env) for x in node.inputs]
    outs = node_exprs(node, ins)
    symbols = (sp.Symbol(f"piece{k}", real=True) for k in itertools.count())
    replacements, reduced = sp.cse(outs, symbols=symbols, order="none")
    dtype = node.outputs[0].dtype
    pieces = []
    for sym, sub in replacements:
        shape = broadcast_shapes(*[env[x].shape for x in sub.free_symbols if x in env])
        (v,) = make_kernel(graph, [sub], env, [(shape, dtype)])
        env[sym] = v
        pieces.append((sym, v))
    finals = [(make_kernel(graph, [e], env, [(o.shape, o.dtype)])[0], g)
              for e, o, g in zip(reduced, node.outputs, gs) if g is not None]
    if graph.active is not None:  # (the pieces take part in the gradient)
        graph.active |= {v.id for _, v in pieces}
    piece_of = {v.id: sym for sym, v in pieces}
    first = {}
    for i, x in enumerate(node.inputs):
        if isinstance(x, Value):
            first.setdefault(x.id, i)
    ct, result = {}, [None] * len(node.inputs)

    def spread(v, g):
        for x, gx in zip(v.node.inputs, elementwise_vjp(v.node, [g], split=False)):
            if gx is None:
                continue
            if x.id in piece_of:
                sym = piece_of[x.id]
                ct[sym] = gx if sym not in ct else ct[sym] + gx
            elif x.id in first and (graph.active is None or x.id in graph.active):
                i = first[x.id]
                result[i] = gx if result[i] is None else result[i] + gx
    for v, g in finals:
        spread(v, g)
    for sym, v in reversed(pieces):
        if sym in ct:
            spread(v, ct[sym])
    return [None if r is None else r.cast(x.dtype) for r, x in zip(result, node.inputs)]


class _PowOf(sp.Function):
    """b**e while differentiating: sympy writes d(b**e) as e*b**e*b'/b for a product b
    (NaN where b = 0), and b**e*log(b) in e (NaN at b = 0, where the power is 0 for any
    e > 0); these are the derivatives without those divisions."""
    nargs = 2

    def fdiff(self, argindex=1):
        b, e = self.args
        if argindex == 1:  # (an exponent 0 gives 0 wherever the base is, 0 and NaN too: PyTorch's)
            return e * b ** (e - 1) if e.is_Number else F.where(sp.Eq(e, 0), 0, e * b ** (e - 1))
        # (at b = 0 with e < 0 the power is inf and its log -inf: -inf, as PyTorch)
        if b.is_Number:
            return F.where(sp.GreaterThan(e, 0), 0, -sp.oo) if b.is_zero else b ** e * sp.log(b)
        return F.where(sp.And(sp.Eq(b, 0), sp.GreaterThan(e, 0)), 0, b ** e * sp.log(b))


def safe_diff(e, s):
    """sympy.diff, with the powers sympy would differentiate through a division taken
    as _PowOf, and no DiracDelta."""
    pows = {p: _PowOf(*p.args) for p in e.atoms(sp.Pow)
            if (not p.exp.is_Number and (p.exp.has(s) or p.base.has(s))) or (
                p.exp.is_Number and not p.exp.is_Integer and not p.base.is_Atom and p.base.has(s))}
    d = sp.diff(e.xreplace(pows), s).replace(_PowOf, lambda b, x: b ** x) if pows else sp.diff(e, s)
    if d.has(sp.DiracDelta):  # the derivative of sympy's sign (from |x| = sqrt(x**2)): 0 almost everywhere
        d = d.replace(sp.DiracDelta, lambda *args: sp.Integer(0))
    return d


def value_formulas(n, by_symbol):
    """The kernel's formulas over symbols of the Values it reads (not a0, a1, ...)."""
    mapping = {}
    for i, x in enumerate(n.inputs):
        if isinstance(x, Value):
            s = value_symbol(x)
            by_symbol[s] = x
            mapping[canon_symbol(i)] = s
    return [e.xreplace(mapping) for e in n.attrs["exprs"]]


def set_formulas(n, formulas, by_symbol):
    """Rewrite kernel n to compute `formulas` (over value symbols), reading their values;
    the names of the intermediates it writes out follow."""
    old = {canon_symbol(i): value_symbol(x) for i, x in enumerate(n.inputs) if isinstance(x, Value)}
    order, canon = canonicalize(formulas)
    new = {s: canon_symbol(i) for i, s in enumerate(order)}
    hints = tuple((h, name) for h, name in ((e.xreplace(old).xreplace(new), name)
                                           for e, name in n.attrs.get("names", ()))
                  if h.free_symbols <= set(new.values()))
    n.inputs = [by_symbol[s] for s in order]
    n.attrs = dict(n.attrs, exprs=canon)
    if "names" in n.attrs:
        n.attrs["names"] = hints
