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
    made_before = {}  # what an accumulation reads -> the node computing it (one per sum)
    for n in graph.nodes:
        if replace:
            n.inputs = [replace.get(x.id, x) if isinstance(x, Value) else x for x in n.inputs]
        if n.op.name != "ew":
            nodes.append(n)
            continue
        scatter = {canon_symbol(i): x for i, x in enumerate(n.inputs)
                   if isinstance(x, Value) and x.node is not None and x.node.op.name == "getitem_grad"}
        symbols = {canon_symbol(i): x for i, x in enumerate(n.inputs)}
        done = []  # (output or None, the formula, the accumulate node, c: formula = c * node)
        for o, e in _candidates(n, scatter):
            c, terms = sympy.Integer(1), _split(e, symbols, scatter, o)
            if terms is None and e.is_Add:  # `0.1*t3 + 0.1*t59`: 0.1 times an accumulation
                c, primitive = _common_factor(e)
                terms = _split(primitive, symbols, scatter, o) if c != 1 else None
                o = o if isinstance(o, _Part) else _Part(o)  # (the output stays: c * the sum)
            if terms is None:
                continue
            dense, scatters = terms
            inputs, entries = list(dense), []
            for s, coeff in scatters:
                src = scatter[s].node
                inputs += [src.inputs[0], *src.inputs[1:]]
                entries.append((src.attrs["index"], len(src.inputs) - 1, coeff))
            key = (tuple(x.id if isinstance(x, Value) else x for x in inputs), len(dense), tuple(entries),
                   tuple(o.shape))
            acc = made_before.get(key)
            if acc is None:
                acc = made_before[key] = Node(op, inputs, dict(n_dense=len(dense), scatters=tuple(entries),
                                                               shape=o.shape), n.loc)
                acc.outputs = [Value(o.graph, o.shape, o.dtype, acc, 0, name=getattr(o, "name", None))]
                nodes.append(acc)  # (before the kernel: it reads the kernel's inputs and what made them)
            if isinstance(o, Value):
                replace[o.id] = acc.outputs[0]
            done.append((o if isinstance(o, Value) else None, e, acc, c))
            made += 1
        if not done or _read_accumulated(n, done):
            nodes.append(n)
    graph.nodes = nodes
    graph.outputs = [replace.get(v.id, v) if isinstance(v, Value) else v for v in graph.outputs]
    return made


def _common_factor(e):
    """(c, p) with e = c * p, c the number every term of the sum e is multiplied by (sympy
    keeps `0.1*a + 0.1*b` distributed); (1, e) if there is none."""
    parts = [t.as_coeff_Mul() for t in e.args]
    c = parts[0][0]
    if c == 1 or any(ci != c for ci, _ in parts):
        return sympy.Integer(1), e
    return c, sympy.Add(*[rest for _, rest in parts])


class _Part:
    """Shape and dtype of a sum of slice gradients inside a formula (or of one a kernel
    output is a multiple of): it is not a value of the graph, the kernel reads it."""
    def __init__(self, like):
        self.shape, self.dtype, self.graph = like.shape, like.dtype, like.graph


def _candidates(n, scatter):
    """(output or _Part, formula) of the sums that may be slice gradients accumulated:
    the outputs, then sums inside formulas that read a slice gradient (`t7 * (t86 + t87)`:
    the sum is made once, and no zeros array for each slice)."""
    if not scatter:
        return []
    out = list(zip(n.outputs, n.attrs["exprs"]))
    seen = {e for _, e in out}
    like = next(iter(scatter.values()))
    for e in n.attrs["exprs"]:
        for sub in sympy.preorder_traversal(e):
            if sub.is_Add and sub not in seen and any(a in scatter for a in sub.free_symbols):
                seen.add(sub)
                out.append((_Part(like), sub))
    return out


def _read_accumulated(n, done):
    """Kernel n without the outputs now accumulated, and reading them where its other
    formulas use the same sums (`t36 * (t86 + t87 + t88 + t89)` reads the accumulated
    array, and the zeros arrays of the slices are not made). False if no output is left."""
    from ..symbolic.kernel import canon_symbol, set_formulas, value_formulas, value_symbol
    gone = {o.id for o, _, _, _ in done if o is not None}
    keep = [k for k, o in enumerate(n.outputs) if o.id not in gone]
    if not keep:
        return False
    by_symbol = {}
    formulas = value_formulas(n, by_symbol)
    canon = {canon_symbol(i): value_symbol(x) for i, x in enumerate(n.inputs) if isinstance(x, Value)}
    subs = {}
    for _, e, acc, c in done:
        symbol = value_symbol(acc.out)
        by_symbol[symbol] = acc.out
        subs[e.xreplace(canon)] = c * symbol
    formulas = [formulas[k].xreplace(subs) for k in keep]
    n.outputs = [n.outputs[k] for k in keep]
    for k, o in enumerate(n.outputs):
        o.index = k
    n.attrs = dict(n.attrs, avals=tuple(n.attrs["avals"][k] for k in keep))
    set_formulas(n, formulas, by_symbol)
    return True


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

