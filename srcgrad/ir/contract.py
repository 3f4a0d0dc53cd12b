"""Sums of products as einsum: `np.sum(a * b, axis=1)` without the product array.

A gradient is full of reductions of elementwise products (`grad_q = sum(g * xc, axis=1)`),
and fusion leaves them as a kernel computing the whole-size product followed by a `sum`.
For large arrays, making that product array costs more than the arithmetic. When a
`sum` reads a kernel output that is a sum of terms `c * a` or `c * a * b` (a, b inputs
of the kernel, c a number), each term becomes a `sum` of a or an `einsum` of a and b,
which multiply and add in one pass without a temporary, and a small kernel adds the
reduced terms. The kernel itself disappears when nothing else reads it.
"""
import string

import sympy

from .. import ops as _ops
from .graph import Node, Value
from .passes import summed_axes

#: kernels smaller than this keep their plain form (a product array is cheap there, and
#: einsum's own overhead is a few microseconds)
MIN_SIZE = 1 << 14


def contract_sums(graph):
    """Rewrite graph.nodes (the list: sums are replaced, no node is changed), loop bodies
    and their backward included; returns the number of sums rewritten.

    The last replacing node defines the sum's own output Value, so every reader — later
    nodes, the graph's outputs, the values a loop saves for its backward — stays valid.
    (That Value's `node` still names the sum: the graph this list came from may be
    differentiated again, and must stay as it was.)"""
    made = 0
    nodes = []
    for n in graph.nodes:
        for sub in (v for v in n.attrs.values() if hasattr(v, "nodes") and hasattr(v, "outputs")):
            made += contract_sums(sub)
        new = _contracted(n) if n.op.name in ("sum", "sum_to") else None
        if new is None:
            nodes.append(n)
            continue
        new[-1].outputs = [n.out]
        nodes.extend(new)
        made += 1
    graph.nodes = nodes
    return made


def _contracted(n):
    """The nodes replacing sum node n, the last one computing its value; or None."""
    from ..symbolic.kernel import canon_symbol
    x = n.inputs[0]
    k = x.node
    if k is None or k.op.name != "ew" or x.size < MIN_SIZE or x.dtype.kind != "f":
        return None
    e = k.attrs["exprs"][x.index]
    symbols = {canon_symbol(i): v for i, v in enumerate(k.inputs)}
    # a factor the kernel computes as another output of its own (`Qxc**2` next to `Qxc`)
    symbols.update((f, o) for j, (f, o) in enumerate(zip(k.attrs["exprs"], k.outputs))
                   if j != x.index and not f.is_Atom and f not in symbols)
    terms = []
    for term in sympy.Add.make_args(e):
        coeff, rest = term.as_coeff_Mul()
        factors = []
        for f in sympy.Mul.make_args(rest):
            base, exp = f.as_base_exp()
            if base not in symbols or not (exp == 1 or exp == 2):
                return None
            factors += [symbols[base]] * int(exp)
        if not 1 <= len(factors) <= 2 or not coeff.is_Number or not coeff.is_finite:
            return None
        if any(not isinstance(v, Value) or v.dtype != x.dtype for v in factors):
            return None
        terms.append((float(coeff) if not coeff.is_Integer else int(coeff), factors))
    if not any(len(f) == 2 for _, f in terms):
        return None  # nothing to save: the kernel is a plain sum of its inputs
    for _, factors in terms:  # every axis must be some factor's own (einsum does not broadcast)
        for d in range(x.ndim):
            if not any(_size(v, x.ndim, d) == x.shape[d] for v in factors):
                return None
    axes = summed_axes(n)
    kept = [d for d in range(x.ndim) if d not in axes]
    reduced_shape = tuple(x.shape[d] for d in kept)
    g = x.graph
    new, parts = [], []
    for coeff, factors in terms:
        part = _einsum(g, factors, x.shape, kept, n.loc, new)
        parts.append((coeff, part))
    # the reduced terms, added (and weighted) by a small kernel, then shaped like the sum
    out_shape = n.out.shape
    if len(parts) > 1 or parts[0][0] != 1:
        expr = sympy.Add(*[c * canon_symbol(i) for i, (c, _) in enumerate(parts)])
        total = Node(_ops.get("ew"), [p for _, p in parts],
                     dict(exprs=(expr,), avals=((reduced_shape, x.dtype),)), n.loc)
        total.outputs = [Value(g, reduced_shape, x.dtype, total, 0)]
        new.append(total)
    if out_shape != reduced_shape:  # keepdims
        r = Node(_ops.get("reshape"), [new[-1].out], dict(shape=out_shape), n.loc)
        r.outputs = [Value(g, out_shape, x.dtype, r, 0)]
        new.append(r)
    return new


def _size(v, ndim, d):
    """v's length along axis d of an ndim-dimensional broadcast (1 where v has no axis)."""
    offset = ndim - v.ndim
    return v.shape[d - offset] if d >= offset else 1


def _einsum(g, factors, shape, kept, loc, new):
    """sum over the axes not in `kept` of the product of factors (broadcast to `shape`)."""
    letters = iter(string.ascii_letters)
    labels = [next(letters) for _ in shape]
    terms = []
    for v in factors:
        offset = len(shape) - v.ndim
        term = ""
        for d, size in enumerate(v.shape):
            term += labels[offset + d] if size == shape[offset + d] else next(letters)  # (size 1: summed away)
        terms.append(term)
    out = "".join(labels[d] for d in kept)
    node = Node(_ops.get("einsum"), list(factors), dict(subscripts=",".join(terms) + "->" + out), loc)
    (aval,) = node.op.infer(node.inputs, node.attrs)
    node.outputs = [Value(g, aval[0], aval[1], node, 0)]
    new.append(node)
    return node.out
