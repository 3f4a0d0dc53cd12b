"""A backward run without generating code, for recordings whose structure is new.

srcgrad.grad falls back to running a function op by op when its structure keeps changing
from call to call (a trip count or a shape taken from the data: transforms.py). Each call
then records a structure the compiled-backward cache has not seen, and compiling it
(fusion, sympy, code generation: ~0.5 ms per backward node) costs 10-30 times what the
call itself does — for code that may never run again.

There, a structure seen for the first times is differentiated by the same rules
(ir/autodiff.py, one op table), unfused, and each node of the backward runs as its op's
numpy implementation, the one eager recording runs. Once the same structure has come
back COMPILE_AFTER times it is compiled as usual (engine.compiled_backward): by then the
interpreted runs have cost about as much as compiling would have, and later calls run
the generated function.
"""
import numpy as np

from ..ir.autodiff import backward as build_backward
from ..ir.graph import Graph, Value
from ..ir.passes import live_nodes

#: the number of times a structure runs interpreted before it is compiled
COMPILE_AFTER = 8

#: structural key -> times its backward ran interpreted (bounded: the oldest go first)
_seen = {}
_SEEN_SIZE = 4096

#: set while transforms run a function op by op (only there are new structures expected)
ACTIVE = [False]


class interpreting:
    """Context manager: backward passes of new structures run interpreted (op by op)."""

    def __enter__(self):
        self.was = ACTIVE[0]
        ACTIVE[0] = True

    def __exit__(self, *exc):
        ACTIVE[0] = self.was
        return False


def wanted(key):
    """Whether the backward of structure `key` (not in the compiled cache) should run
    interpreted this time; counts this sighting."""
    if not ACTIVE[0]:
        return False
    n = _seen.get(key, 0)
    if n >= COMPILE_AFTER or n < 0:
        del _seen[key]
        return False
    if n == 0 and len(_seen) >= _SEEN_SIZE:
        _seen.pop(next(iter(_seen)))
    _seen[key] = n + 1
    return True


def refuse(key):
    """Structure `key` is compiled from now on (its interpreted run met a non-finite value)."""
    _seen[key] = -1


class Interpreted:
    """What engine.Compiled offers the engine's call (fn, graph, params, n_wrt), with the
    backward run node by node; there is no source (inspect compiles its own)."""

    source = None
    forward = None

    def __init__(self, nodes, graph, params, n_wrt):
        self._nodes = nodes
        self.graph = graph
        self.params = params
        self.n_wrt = n_wrt

    def fn(self, *args):
        """The gradients, or None when a value came out infinite or NaN: there, fused
        formulas may differ (a select applied before a product keeps 0 * inf out:
        symbolic/kernel.push_selects), so the compiled backward decides."""
        env = {p.id: a for p, a in zip(self.graph.inputs, args)}
        for n in self._nodes:
            r = n.op.impl(*[env[x.id] if isinstance(x, Value) else x for x in n.inputs], **n.attrs)
            for o, a in zip(n.outputs, r if len(n.outputs) > 1 else (r,)):
                if o.dtype.kind in "fc" and not np.isfinite(a).all():
                    return None
                env[o.id] = a
        return tuple(None if v is None else env[v.id] for v in self.graph.outputs)


def interpreted_backward(walk, roots, wrt):
    """The backward of the walk's recording from `roots` to `wrt` (canonical indices), to
    run interpreted; None when a node has no numpy implementation to run (compile then)."""
    from .engine import record_graph
    g, vals = record_graph(walk)
    g.outputs = [vals[i] for i in roots]
    n_fwd = len(g.nodes)
    cts = [g.add_input(v.shape, v.dtype, "grad") for v in g.outputs]
    grads, _, _ = build_backward(g, list(g.outputs), cts, [vals[i] for i in wrt])
    available = {v.id for v in g.inputs} | {o.id for n in g.nodes[:n_fwd] for o in n.outputs}
    nodes = live_nodes(g.nodes[n_fwd:], [v for v in grads if v is not None], available=available)
    if any(n.op.impl is None or n.op.block is not None for n in nodes):
        return None
    read = {x.id for n in nodes for x in n.inputs if isinstance(x, Value)}
    read.update(v.id for v in grads if v is not None)
    index_of = {v.id: i for i, v in vals.items()}
    params = list(cts) + [vals[i] for i in sorted(vals) if vals[i].id in read]
    spec = [("ct", k) for k in range(len(cts))] + [("v", index_of[v.id]) for v in params[len(cts):]]
    bwd = Graph("backward")
    bwd.inputs, bwd.nodes, bwd.outputs = params, nodes, list(grads)
    return Interpreted(nodes, bwd, spec, len(wrt))
