"""Numbers computed as arrays by one kernel and read by another are folded into the
reader's formulas."""
from .graph import Value
from .passes import through_views


def fold_constant_inputs(graph):
    """A kernel input that another kernel computes as a plain number (`np.full((64, 10),
    -0.015625)`, typically a seed cotangent scaled by a mean; or such a number reshaped) is written into the reading
    kernel's formulas instead: no array of it is made. Kernels keep their declared
    shapes, so a formula that became smaller is still broadcast to them. Returns how
    many inputs were folded."""
    from ..symbolic.kernel import canon_symbol, canonicalize
    folded = 0
    for n in graph.nodes:
        if n.op.name != "ew":
            continue
        constant = {}
        for i, x in enumerate(n.inputs):
            v = through_views(x, ("reshape", "broadcast_to"))  # a number reshaped is the same number
            k = v.node if isinstance(v, Value) else None
            if k is not None and k.op.name == "ew" and not k.attrs["exprs"][v.index].free_symbols \
                    and x.dtype.kind == "f":
                constant[canon_symbol(i)] = k.attrs["exprs"][v.index]
        if not constant:
            continue
        exprs = tuple(e.xreplace(constant) for e in n.attrs["exprs"])
        order, canon = canonicalize(exprs)
        by_symbol = {canon_symbol(i): x for i, x in enumerate(n.inputs)}
        n.inputs = [by_symbol[s] for s in order]
        n.attrs = dict(n.attrs, exprs=canon)
        folded += len(constant)
    return folded
