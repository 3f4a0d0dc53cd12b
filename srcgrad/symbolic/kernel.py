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
    if e.is_Mul:
        for f in e.args:
            if isinstance(f, (F.where, F.step)):
                rest = sp.Mul(*[a for a in e.args if a is not f])
                if isinstance(f, F.step):
                    return F.where(sp.StrictGreaterThan(f.args[0], 0), push_selects(rest), 0)
                c, p, q = f.args
                return F.where(c, push_selects(rest * p), push_selects(rest * q))
    return e


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


def elementwise_vjp(node, gs):
    """The backward of any elementwise node: sympy.diff of its formulas, as one kernel.

    Forward values the node computed are reused rather than recomputed: wherever the
    derivative contains a costly output formula (tanh(u), exp(u), sqrt(u), ...) or its
    reciprocal, it reads the saved output instead.
    """
    graph = next(g for g in gs if g is not None).graph
    env = {}
    ins = input_exprs(node, env)
    outs = node_exprs(node, ins)
    reuse = {}
    for o, e in zip(node.outputs, outs):
        if _costly(e):
            s = value_symbol(o)
            env[s] = o
            reuse[e] = s
            reuse[1 / e] = 1 / s
    gsyms = []
    for g in gs:
        if g is None:
            gsyms.append(None)
        else:
            s = value_symbol(g)
            env[s] = g
            gsyms.append(s)

    targets, exprs, avals = [], [], []
    done = set()
    active = graph.active
    for i, x in enumerate(node.inputs):
        if not isinstance(x, Value) or x.dtype.kind not in "fc" or x.id in done:
            continue
        if active is not None and x.id not in active:
            continue
        done.add(x.id)
        d = sp.Integer(0)
        for out_e, gsym in zip(outs, gsyms):
            if gsym is not None:
                d = d + gsym * sp.diff(out_e, ins[i])
        d = push_selects(d.xreplace(reuse))
        if d == 0:
            continue
        d = simplify_expr(d)
        shape = broadcast_shapes(natural_shape(d, env), x.shape)
        if d in exprs and avals[exprs.index(d)][0] == shape:  # e.g. both operands of an add
            targets.append((i, exprs.index(d)))
            continue
        dtype = result_dtype([env[s] for s in d.free_symbols if s in env and env[s].dtype.kind in "fc"]
                             or [x])
        targets.append((i, len(exprs)))
        exprs.append(d)
        avals.append((shape, dtype))
    result = [None] * len(node.inputs)
    if not exprs:
        return result
    # a derivative that is just an incoming value (the two operands of an add) needs no kernel
    direct = [e.is_Symbol and env[e].shape == a[0] and env[e].dtype == a[1] for e, a in zip(exprs, avals)]
    if all(direct):
        outs_v = [env[e] for e in exprs]
    else:
        outs_v = make_kernel(graph, exprs, env, avals)
    for i, k in targets:
        x = node.inputs[i]
        result[i] = outs_v[k].sum_to(x.shape).cast(x.dtype)
    return result
