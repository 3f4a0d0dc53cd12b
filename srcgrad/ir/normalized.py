"""Sums of normalised values are known: sum(e / sum(e)) = 1.

The backward of a softmax or a logsumexp sums `g * e / s` over the axis of `s =
sum(e)`: where `g` is constant along that axis, that is `g` itself. In the stable
logsumexp (`m + log(sum(exp(a - m)))`) the path through the maximum `m` gets exactly
`g - sum(g * softmax) = 0`: computed, it is a mask of where the maximum is, a count of
ties and a few whole arrays to multiply — all for a rounding error. Written as the
number it is, it folds away (ir/fold.py), and so does the maximum's whole backward.
"""
import sympy as sp

from .. import ops as _ops
from .graph import Node, Value
from .passes import rewrite_each, summed_axes, through_views

def fold_normalized_sums(graph):
    """Rewrite graph.nodes in place; returns the number of sums rewritten."""
    return rewrite_each(graph, lambda n: _normalized(n) if n.op.name in ("sum", "sum_to") else None)


def _sum_of(v):
    """(e, axes) if v is sum(e) over axes (possibly reshaped), else None."""
    v = through_views(v)
    s = v.node if isinstance(v, Value) else None
    if s is None or s.op.name not in ("sum", "sum_to") or not isinstance(s.inputs[0], Value):
        return None
    return s.inputs[0], summed_axes(s)


def _reciprocal_of_sum(v):
    """(e, axes, c) if v is c / sum(e) over axes (possibly reshaped), else None."""
    from ..symbolic.kernel import canon_symbol
    v = through_views(v)
    k = v.node if isinstance(v, Value) else None
    if k is None or k.op.name != "ew":
        return None
    f = k.attrs["exprs"][v.index]
    coeff, rest = f.as_coeff_Mul()
    base, exp = rest.as_base_exp()
    inputs = {canon_symbol(i): x for i, x in enumerate(k.inputs)}
    if exp != -1 or base not in inputs or not coeff.is_Number:
        return None
    found = _sum_of(inputs[base])
    return None if found is None else (found[0], found[1], coeff)


def _normalized(n):
    from ..symbolic.kernel import canon_symbol
    x = n.inputs[0]
    k = x.node if isinstance(x, Value) else None
    if k is None or k.op.name != "ew" or x.dtype.kind != "f" or n.out.dtype != x.dtype:
        return None
    axes = summed_axes(n)
    e = k.attrs["exprs"][x.index]
    coeff, factors = e.as_coeff_mul()
    if not coeff.is_Number:
        return None
    powers = [f.as_base_exp() for f in factors]
    by_symbol = {canon_symbol(i): v for i, v in enumerate(k.inputs)}
    if any(b not in by_symbol or not isinstance(by_symbol[b], Value) for b, _ in powers):
        return None
    for i, (b, p) in enumerate(powers):  # the normaliser: 1/s (s = sum(e)), or c/s itself
        if p == -1:
            found = _sum_of(by_symbol[b])
            c = sp.Integer(1)
        elif p == 1:
            found = _reciprocal_of_sum(by_symbol[b])
            c = found[2] if found else None
            found = found[:2] if found else None
        else:
            continue
        if found is None or found[1] != axes or found[0].shape != x.shape:
            continue
        others = powers[:i] + powers[i + 1:]
        # the summed value itself, once, to the first power
        hits = [j for j, (b2, p2) in enumerate(others) if by_symbol[b2] is found[0] and p2 == 1]
        if len(hits) != 1:
            continue
        rest = others[:hits[0]] + others[hits[0] + 1:]
        if all(_constant_along(by_symbol[b2], x.ndim, axes) for b2, _ in rest):
            return _replacement(n, x, axes, coeff * c, [(by_symbol[b2], p2) for b2, p2 in rest])
    return None


def _constant_along(v, ndim, axes):
    offset = ndim - v.ndim
    return all(d < offset or v.shape[d - offset] == 1 for d in axes)


def _replacement(n, x, axes, coeff, rest):
    """Nodes computing coeff * prod(v**p for v, p in rest), kept along `axes`, shaped
    like the sum n (whose output Value they define)."""
    import numpy as np
    from ..symbolic.kernel import canon_symbol
    kept = tuple(1 if d in axes else s for d, s in enumerate(x.shape))
    values = list(dict.fromkeys(v for v, _ in rest))
    expr = coeff * sp.Mul(*[canon_symbol(values.index(v)) ** p for v, p in rest])
    kernel = Node(_ops.get("ew"), values, dict(exprs=(expr,), avals=((kept, np.dtype(x.dtype)),)), n.loc)
    kernel.outputs = [Value(x.graph, kept, x.dtype, kernel, 0)]
    last = Node(_ops.get("reshape"), [kernel.out], dict(shape=tuple(n.out.shape)), n.loc)
    n.out.node, n.out.index = last, 0
    last.outputs = [n.out]
    return [kernel, last]
