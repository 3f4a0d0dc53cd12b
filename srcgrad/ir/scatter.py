"""Slice gradients accumulated in place.

The gradient of `x[i]` is "zeros of x's shape, with the cotangent at i"; a value read
through several slices gets a sum of such arrays, and fusion turns that sum into a
kernel `grad = t1 + t2 + 0.5 * t3`. `accumulate_scatters` rewrites each kernel output
that is a plain sum of dense terms plus number-weighted slice gradients into one
`accumulate` node: the dense terms summed into one new array, then `out[i] += c * g`
per slice — no zeros array per slice and no whole-array addition for it. The slice
gradients themselves disappear when nothing else reads them.
"""
import sympy

from .. import ops as _ops
from .graph import Node, Value


def accumulate_scatters(graph):
    """Rewrite graph.nodes in place (see the module's doc). Returns how many outputs were
    rewritten."""
    from ..symbolic.kernel import canon_symbol
    op = _ops.get("accumulate")
    replace, nodes, made = {}, [], 0
    for n in graph.nodes:
        if replace:
            n.inputs = [replace.get(x.id, x) if isinstance(x, Value) else x for x in n.inputs]
        nodes.append(n)
        if n.op.name != "ew":
            continue
        scatter = {canon_symbol(i): x for i, x in enumerate(n.inputs)
                   if isinstance(x, Value) and x.node is not None and x.node.op.name == "getitem_grad"}
        if not scatter:
            continue
        symbols = {canon_symbol(i): x for i, x in enumerate(n.inputs)}
        for o, e in zip(n.outputs, n.attrs["exprs"]):
            terms = _split(e, symbols, scatter, o)
            if terms is None:
                continue
            dense, scatters = terms
            inputs, entries = list(dense), []
            for s, coeff in scatters:
                src = scatter[s].node
                inputs += [src.inputs[0], *src.inputs[1:]]
                entries.append((src.attrs["index"], len(src.inputs) - 1, coeff))
            acc = Node(op, inputs, dict(n_dense=len(dense), scatters=tuple(entries), shape=o.shape), n.loc)
            acc.outputs = [Value(o.graph, o.shape, o.dtype, acc, 0, name=o.name)]
            replace[o.id] = acc.outputs[0]
            nodes.append(acc)
            made += 1
    graph.nodes = nodes
    graph.outputs = [replace.get(v.id, v) if isinstance(v, Value) else v for v in graph.outputs]
    return made


def _split(e, symbols, scatter, out):
    """e as (dense Values summed with coefficient 1, [(slice-gradient symbol, number)]),
    or None if it is not of that form (or a term is not of the output's shape/dtype)."""
    dense, scatters = [], []
    for term in sympy.Add.make_args(e):
        coeff, rest = term.as_coeff_Mul()
        if rest not in symbols:
            return None
        v = symbols[rest]
        if v.shape != out.shape or v.dtype != out.dtype:
            return None
        if rest in scatter:
            if not coeff.is_Number or (isinstance(coeff, sympy.Float) and not coeff.is_finite):
                return None
            scatters.append((rest, int(coeff) if coeff.is_Integer else float(coeff)))
        elif coeff == 1:
            dense.append(v)
        else:
            return None
    if not scatters or len({s for s, _ in scatters}) != len(scatters):
        return None
    return dense, scatters

