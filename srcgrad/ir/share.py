"""Subformulas shared across kernels: a derivative reads what its forward computed.

Fusion writes each region's formulas over the region's inputs, so a derivative kernel
may recompute an intermediate its forward kernel computed inside itself. In gmm, the
forward kernel is `(t5 + t7)**2` and its derivative `2*g*(t5 + t7)`: for large arrays,
computing `t5 + t7` again costs a whole-array pass and a fresh array (more than the
arithmetic). Here such a subformula becomes an extra output of the earlier kernel
(`Qxc = t5 + t7` then `Qxc**2`), and the later kernel reads it.

Only large kernels take part in that (small arrays are cheap to recompute and cheaper to
keep fused), only in a function that computes forward and backward together: an eager
backward receives the forward's values, and cannot ask the forward for a new one.

A kernel of any size reads a function of values an earlier kernel already has as an
output, rather than calling the function again: the derivative of `sin(x) * cos(x)` is
`t0 * t0 - t1 * t1` with `t0 = np.cos(x)` and `t1 = np.sin(x)` from the forward, not
`t0 * np.cos(x) - t1 * np.sin(x)` (sin's derivative is cos of the same x, which the
forward computed as another op). For a small array a call is most of the cost.
"""
import sympy as sp

from .graph import Value

#: kernels whose outputs are smaller than this (elements) are left alone
MIN_SIZE = 1 << 14


def share_subformulas(nodes, first_backward):
    """Let the kernels of nodes[first_backward:] read subformulas that earlier kernels
    compute (adding those as outputs of the earlier kernel). Changes the nodes in place;
    returns the number of subformulas shared."""
    from ..symbolic.kernel import set_formulas, value_formulas, value_symbol
    known = {}      # subformula over value symbols -> (earlier kernel, None) or (None, Value)
    calls = {}      # a function call over value symbols -> (None, the Value computing it)
    by_symbol = {}  # value symbol -> Value
    shared = 0
    for i, n in enumerate(nodes):
        if n.op.name != "ew":
            continue
        large = any(_large(o) for o in n.outputs)
        formulas = value_formulas(n, by_symbol)
        table = known if large else calls  # (a small kernel reads only what is computed already)
        if i >= first_backward:
            found = {}
            for e in formulas:
                _matches(e, table, found)
            if found:
                subs = {}
                for sub, (f, c) in found.items():
                    kernel, value = table[f]
                    if value is None:
                        value = _add_output(kernel, f, by_symbol)
                        table[f] = (None, value)
                    symbol = value_symbol(value)
                    by_symbol[symbol] = value
                    subs[sub] = c * symbol + (sub - c * f)
                formulas = [e.xreplace(subs) for e in formulas]
                set_formulas(n, formulas, by_symbol)
                shared += len(found)
        _note_calls(n, formulas, calls, by_symbol)
        if not large:
            continue
        for o, e in zip(n.outputs, formulas):
            # (an output broadcast beyond its formula's own shape is not that formula)
            if _worth_sharing(e, by_symbol) and tuple(o.shape) == _natural_shape(e, by_symbol) \
                    and o.dtype == by_symbol[next(iter(e.free_symbols))].dtype:
                known[e] = (None, o)
        for e in formulas:
            for sub in sp.preorder_traversal(e):
                if sub not in known and _worth_sharing(sub, by_symbol):
                    known[sub] = (n, None)
    return shared


def _large(v):
    return v.dtype.kind == "f" and v.size >= MIN_SIZE


def _note_calls(n, formulas, calls, by_symbol):
    for o, e in zip(n.outputs, formulas):
        if _a_call(e, o, by_symbol):
            calls.setdefault(e, (None, o))


def _a_call(e, out, by_symbol):
    """Whether output `out` computes a function of values (`cos(x)`, `special.psi(x)`),
    of the shape and dtype that function gives them."""
    if e.is_Atom or not isinstance(e, sp.Function) or e.is_Boolean or not e.free_symbols:
        return False
    values = [by_symbol.get(s) for s in e.free_symbols]
    return all(v is not None and v.dtype == out.dtype for v in values) and out.dtype.kind == "f" \
        and tuple(out.shape) == _natural_shape(e, by_symbol)


def _worth_sharing(e, by_symbol):
    """A compound float formula of whole-size arrays, reading two values at least (or
    one through a function): recomputing it costs a pass over the data."""
    if e.is_Atom or e.is_Relational or e.is_Boolean:
        return False
    values = [by_symbol[s] for s in e.free_symbols if s in by_symbol]
    if len(values) != len(e.free_symbols) or not values:
        return False
    if any(v.dtype.kind != "f" or v.dtype != values[0].dtype for v in values):
        return False
    if len(values) < 2 and not e.atoms(sp.Function):
        return False
    return _size(_shape(values)) >= MIN_SIZE


def _natural_shape(e, by_symbol):
    return tuple(_shape([by_symbol[s] for s in e.free_symbols]))


def _matches(e, known, found):
    """The largest subformulas of e that earlier kernels compute: found[sub] = (known
    formula f, number c) with sub = c*f + (what is left of sub). A sum matches up to a
    common factor of some of its terms, since sympy distributes numbers over sums
    (the derivative `2*(x*y + q)` is written `2*x*y + 2*q`)."""
    if e.is_Atom:
        return
    if e in known:
        found[e] = (e, sp.Integer(1))
        return
    if e.is_Add:
        groups = {}
        for t in e.args:
            c, rest = t.as_coeff_Mul()
            groups.setdefault(c, []).append(rest)
        for c, rests in groups.items():
            if len(rests) < 2:
                continue
            part = sp.Add(*rests)
            for sign in (1, -1):
                if sign * part in known:
                    found[e] = (sign * part, sign * c)
                    return
    for a in e.args:
        _matches(a, known, found)


def _shape(values):
    from ..ops import broadcast_shapes
    return broadcast_shapes(*[v.shape for v in values])


def _size(shape):
    size = 1
    for d in shape:
        size *= d
    return size


def _add_output(kernel, sub, by_symbol):
    """A new output of `kernel` computing `sub` (a subformula of its formulas)."""
    import numpy as np
    from ..symbolic.kernel import canon_symbol, value_symbol
    mapping = {value_symbol(x): canon_symbol(i) for i, x in enumerate(kernel.inputs) if isinstance(x, Value)}
    values = [by_symbol[s] for s in sub.free_symbols]
    shape, dtype = _shape(values), values[0].dtype
    canon = sub.xreplace(mapping)
    name = dict(kernel.attrs.get("names", ())).get(canon)   # the user's name for it, if any
    out = Value(values[0].graph, shape, dtype, kernel, len(kernel.outputs), name=name)
    kernel.outputs = list(kernel.outputs) + [out]
    kernel.attrs = dict(kernel.attrs, exprs=tuple(kernel.attrs["exprs"]) + (canon,),
                        avals=tuple(kernel.attrs["avals"]) + ((shape, np.dtype(dtype)),))
    return out
