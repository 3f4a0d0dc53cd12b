"""Reverse-mode differentiation of a graph, as more graph.

`backward()` walks the graph's nodes in reverse and asks each op's rule for the
cotangents of its inputs. Rules build IR with the same ops (elementwise rules through
sympy, structural rules by hand), so the backward is an ordinary part of the graph:
it can be fused, simplified, printed, compiled — and differentiated again.
"""
from ..ops.complex import complex_vjp, involves_complex
from ..utils.locations import format_loc_range, merge_locs
from .graph import Value


class BackwardError(RuntimeError):
    pass


def backward(graph, outputs, cotangents, wrt, hooks=None, observe=()):
    """Append to `graph` the nodes computing d(outputs)/d(wrt) contracted with `cotangents`.

    hooks:   {value id: slot} — the total gradient of that value passes through
             `hook[slot]` (user code that may replace it) before flowing further.
    observe: values whose total gradient is also wanted (retain_grad).
    Returns (grads for wrt, grads for observe, {value id: total gradient}); None where
    no gradient flows.
    """
    hooks = hooks or {}
    forward = list(graph.nodes)
    wanted = {v.id for v in wrt} | {v.id for v in observe}
    # values that depend on something we differentiate with respect to
    active = {v.id for v in wrt} | {v.id for v in observe}
    for n in forward:
        if n.op.differentiable and any(isinstance(x, Value) and x.id in active for x in n.inputs):
            active.update(o.id for o in n.outputs)

    grads = {}
    placed = {}  # value id -> {basic index: sum of the cotangents read there}
    # rules may consult this to skip inputs that need no gradient (sympy time is not free)
    graph.active = active

    def accumulate(v, g):
        if g.shape != v.shape:
            raise BackwardError(f"internal error: gradient of shape {tuple(g.shape)} for a value of shape "
                                f"{tuple(v.shape)} ({v.node.op.name if v.node else 'input'})")
        if g.dtype.kind == "c" and v.dtype.kind != "c":  # a real value: the real part (ops/complex.py)
            g = graph.emit("real", [g])
        if g.dtype != v.dtype:
            g = g.cast(v.dtype)
        place = _placed(g)
        if place is not None:  # (kept apart: the next cotangent for the same place adds to it)
            if graph.nodes and graph.nodes[-1] is g.node:
                graph.nodes.pop()  # (the rule just made it; the sum is placed once instead)
            at = placed.setdefault(v.id, {})
            index, c = place
            if index in at:
                total, loc = at[index]
                at[index] = (total + c, merge_locs(loc, g.node.loc))
            else:
                at[index] = (c, g.node.loc)
            return
        grads[v.id] = grads[v.id] + g if v.id in grads else g

    def gathered(v):
        """v's gradient, its cotangents read through the same basic index (`A[2, 1]` read
        by many terms) summed before they are placed: one small sum, one scatter."""
        here = graph.current_loc
        for index, (c, loc) in placed.pop(v.id, {}).items():
            graph.current_loc = loc  # (the lines that read there)
            g = graph.emit("getitem_grad", [c], index=index, shape=v.shape)
            grads[v.id] = grads[v.id] + g if v.id in grads else g
        graph.current_loc = here
        return grads.get(v.id)

    for out, ct in zip(outputs, cotangents):
        if out.id in active:
            accumulate(out, ct)

    def finish(v):
        """The gradient of v is complete: run its hooks."""
        g = gathered(v)
        if g is not None and v.id in hooks:
            g = graph.emit("hook", [g], slot=hooks[v.id])
            grads[v.id] = g
        return g

    for n in reversed(forward):
        if not n.op.differentiable or not any(o.id in grads or o.id in placed for o in n.outputs):
            continue
        graph.current_loc = n.loc
        gs = [finish(o) for o in n.outputs]
        if not any(isinstance(x, Value) and x.id in active for x in n.inputs):
            continue
        if n.op.vjp is None:
            raise BackwardError(f"op {n.op.name!r} has no derivative rule "
                                f"(recorded at {format_loc_range(n.loc) or 'an unknown line'})")
        in_grads = complex_vjp(n, gs) if involves_complex(n) else n.op.vjp(n, gs)
        for x, gi in zip(n.inputs, in_grads):
            if gi is not None and isinstance(x, Value) and x.id in active:
                accumulate(x, gi)
    graph.current_loc = ()
    graph.active = None
    for v in graph.inputs:
        if v.id in wanted:
            finish(v)
    return [grads.get(v.id) for v in wrt], [grads.get(v.id) for v in observe], grads


def _placed(g):
    """(index, cotangent) if g is a cotangent placed into zeros at a basic index (integers
    and slices: each place once), else None."""
    from ..ops.indexing import Slice
    n = g.node
    if n is None or n.op.name != "getitem_grad" or len(n.inputs) != 1:
        return None
    index = n.attrs["index"]
    if not all(type(i) is int or isinstance(i, Slice) for i in index):
        return None
    return index, n.inputs[0]
