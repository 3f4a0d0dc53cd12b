"""Common subexpressions among ops: one `x[1:]`, not five.

Re-rolling hoists each iteration's reads of an invariant out of the loop (five copies of
`x[1:]` for five iterations' worth of code), the backward of two uses of one value makes
the same reduction twice, and so on. Every op is a pure function of its inputs and
attributes — except those with effects (guards, hooks, loops containing them), which
are left alone — so a node equal to an earlier one is dropped and its readers read the
earlier one's outputs. Kernels compare by their formulas like any op by its attributes.
"""
from .graph import Node, Value
from .passes import has_effect


def eliminate_common(graph):
    """Rewrite graph.nodes (the list: a node whose inputs change is replaced by a new one,
    never changed) and graph.outputs; returns the number of nodes dropped. Loop bodies
    are not entered: their values are also read by name from the loop's backward."""
    outputs = {v.id for v in graph.outputs if isinstance(v, Value)}
    seen, replace, nodes = {}, {}, []
    for n in graph.nodes:
        if replace and any(isinstance(x, Value) and x.id in replace for x in n.inputs):
            m = Node(n.op, [replace.get(x.id, x) if isinstance(x, Value) else x for x in n.inputs],
                     n.attrs, n.loc)
            m.outputs = n.outputs
            n = _merged_inputs(m) if m.op.name == "ew" else m
        key = node_key(n)
        first = seen.get(key) if key is not None else None
        # (a returned value keeps its own array: two results must not be one object)
        if first is not None and not any(o.id in outputs for o in n.outputs):
            replace.update((a.id, b) for a, b in zip(n.outputs, first.outputs))
            continue
        if key is not None:
            seen[key] = n
        nodes.append(n)
    graph.nodes = nodes
    graph.outputs = [replace.get(v.id, v) if isinstance(v, Value) else v for v in graph.outputs]
    return len(replace)


def _merged_inputs(n):
    """A kernel that now reads one value through several inputs reads it through one
    symbol (`7 * t13`, not `t13 + t13 + ...`), as fusion would have written it."""
    from ..symbolic.kernel import canon_symbol, canonicalize
    first, mapping = {}, {}
    for i, x in enumerate(n.inputs):
        if isinstance(x, Value):
            j = first.setdefault(x.id, i)
            if j != i:
                mapping[canon_symbol(i)] = canon_symbol(j)
    if not mapping:
        return n
    exprs = [e.xreplace(mapping) for e in n.attrs["exprs"]]
    order, canon = canonicalize(exprs)
    by_symbol = {canon_symbol(i): x for i, x in enumerate(n.inputs)}
    renamed = {s: canon_symbol(k) for k, s in enumerate(order)}
    attrs = dict(n.attrs, exprs=canon)
    if "names" in attrs:
        attrs["names"] = tuple((h.xreplace(mapping).xreplace(renamed), name) for h, name in attrs["names"]
                               if h.xreplace(mapping).free_symbols <= set(renamed))
    m = Node(n.op, [by_symbol[s] for s in order], attrs, n.loc)
    m.outputs = n.outputs
    return m


#: two-operand ops whose operands may be swapped
COMMUTATIVE = frozenset({"add", "mul"})


def node_key(n):
    """What makes n's outputs equal to another node's, or None if n must stay itself."""
    if has_effect(n) or n.op.block is not None or not n.outputs:
        return None
    inputs = tuple(("v", x.id) if isinstance(x, Value) else ("l", type(x).__name__, x) for x in n.inputs)
    if n.op.name in COMMUTATIVE:  # (b * a is a * b: numpy's promotion and broadcasting are symmetric)
        inputs = tuple(sorted(inputs, key=repr))
    try:
        key = (n.op.name, inputs, _frozen(n.attrs))
        hash(key)
    except TypeError:  # an attribute that cannot be compared by value (an array, a graph)
        return None
    return key


def _frozen(v):
    if isinstance(v, dict):
        return tuple(sorted((k, _frozen(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return tuple(_frozen(x) for x in v)
    if hasattr(v, "nodes") or hasattr(v, "__array__") and not hasattr(v, "free_symbols"):
        raise TypeError("not comparable by value")
    return v
