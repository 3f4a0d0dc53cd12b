"""Checkpointed loops: the backward of a long loop runs its forward again, a segment at a time.

Reverse mode keeps what each iteration's backward reads (ops/loop.py: a "saved history").
For a long loop over small arrays that is far more than the forward ever holds: an LSTM
over 1024 characters saves 24 arrays per step, ~50x the memory of its forward and its
arguments together. A checkpointed loop keeps only its carried values, every K
iterations ("checkpoints"); its backward takes the segments last to first, runs each
segment's forward again from its checkpoint, saving as before, then that segment's
backward (codegen/loops.py writes both).

    memory: ceil(count / K) - 1 checkpoints (the first is the initial values, which the
            backward reads) + K iterations' saved values, the least at
            K = sqrt(count * checkpoint / saved) (about 2 sqrt(count * checkpoint * saved))
    time:   the body's forward once more (the first pass saves nothing, which is cheaper
            than saving: a long loop's saved arrays are all new allocations)

Only when both run in one generated function: an eager backward reads the histories the
recorded run made, which exist already.
"""
import math

import numpy as np

from .graph import Node, Value
from .passes import live_nodes

#: bytes of a numpy array object beside its data (sys.getsizeof(np.empty(0)) on 64-bit
#: CPython): for arrays of a dozen numbers, as much again as their data
ARRAY_HEADER = 112
#: in "auto" mode, a loop is checkpointed when what it would save adds up to at least
#: this many bytes (below, memory is not worth a second run of the forward) ...
MIN_SAVED_BYTES = 1 << 18
#: ... and to more than this many times what one iteration holds (its saved values and its
#: state: about what the forward holds) — the peak the gradient is to stay under, relative
#: to the forward's (an ODE solver's 10 RK4 steps save ten times one step's stages) ...
MEMORY_TARGET = 2
#: ... and checkpoints cut it at least this many times
MIN_GAIN = 2
#: a segment of one iteration is taken over a longer one that the memory model prefers by
#: less than this factor: its second run computes only what the backward reads (a longer
#: segment's runs whole iterations, and holds their values to the segment's end, which the
#: model does not count)
ONE_ITERATION_SLACK = 1.25


def plan_checkpoints(nodes, mode):
    """`nodes` with each checkpointed loop (and its backward) replaced by a copy carrying
    attrs["segment"] = K and attrs["checkpointed"], the positions of the carried values
    kept. mode: "auto" (long loops whose saved values would dwarf their checkpoints), True
    (every loop whose memory checkpoints reduce), an int (that segment length, for every
    loop longer) or False."""
    if not mode:
        return nodes
    position = {id(n): k for k, n in enumerate(nodes)}
    readers, producer = {}, {}
    for n in nodes:
        for x in n.inputs:
            if isinstance(x, Value):
                readers.setdefault(x.id, set()).add(id(n))
        for o in n.outputs:
            producer[o.id] = n
    nodes = list(nodes)
    for k, n in enumerate(nodes):
        if n.op.name != "loop_grad":
            continue
        loop = _forward_loop(n, producer, readers)
        if loop is None:
            continue
        body, n_carry = loop.attrs["body"], loop.attrs["n_carry"]
        carries = recomputed_carries(body, n_carry, n.attrs["saves"])
        derived = derived_carries(body, n_carry, carries)
        carries = [c for c in carries if c not in derived]
        segment = segment_length(n.attrs["saves"], [body.inputs[1 + c] for c in carries], n.attrs["count"], mode)
        if segment is None:
            continue
        j = position[id(loop)]
        copy = Node(loop.op, loop.inputs, dict(loop.attrs, segment=segment, checkpointed=tuple(carries)), loop.loc)
        copy.outputs = loop.outputs  # (the Values keep their node: as ir/passes.prune_kernel_outputs)
        nodes[j] = copy
        # the backward runs the whole body again: it reads every invariant the body reads,
        # and the initial values of the carried values (its first segment starts from
        # them: they are the first checkpoint, which the forward need not copy)
        invariants = list(body.inputs[1 + n_carry:])
        n_read = n.attrs["n_out"] + len(n.attrs["saves"])
        grad = Node(n.op, list(n.inputs[:n_read]) + list(loop.inputs[n_carry:])
                    + [loop.inputs[c] for c in carries] + [loop.inputs[c] for c in derived],
                    dict(n.attrs, segment=segment, checkpointed=tuple(carries), derived=tuple(derived),
                         invariant_reads=tuple(invariants)), n.loc)
        grad.outputs = n.outputs
        nodes[k] = grad
    return nodes


def _forward_loop(grad, producer, readers):
    """The loop node whose saved histories `grad` (a loop_grad) reads, when that loop is
    among the nodes generated, its histories are read by `grad` alone, and its body can run
    twice (no nested loop, whose own history would be saved whole, and no effect). (Found
    by what produces the histories among the nodes: a pass may have copied the node a
    Value was made by.)"""
    a = grad.attrs
    histories = grad.inputs[a["n_out"]:a["n_out"] + len(a["saves"])]
    if not histories or not all(isinstance(h, Value) for h in histories):
        return None
    loop = producer.get(histories[0].id)
    if loop is None or loop.op.name != "loop" or any(producer.get(h.id) is not loop for h in histories):
        return None
    if loop.attrs["body"] is not a["body"]:
        return None
    n_out = len(loop.attrs["body"].outputs)
    if any(readers.get(h.id, set()) - {id(grad)} for h in loop.outputs[n_out:]):
        return None
    if any(m.op.name in ("loop", "loop_grad") or m.op.side_effect or m.attrs.get("side_effect")
           for m in loop.attrs["body"].nodes):
        return None
    return loop


def recomputed_carries(body, n_carry, saves):
    """Positions of the carried values a segment's forward must run again to recompute
    `saves`: those the saved values depend on, through as many iterations as it takes
    (a running loss the backward never reads is left out, and not checkpointed)."""
    carried = {v.id: k for k, v in enumerate(body.inputs[1:1 + n_carry])}
    need, targets = set(), list(saves)
    while True:
        reads, wanted = set(), {v.id for v in targets if isinstance(v, Value)}
        for n in reversed(live_nodes(body.nodes, targets)):
            if not any(o.id in wanted for o in n.outputs):
                continue
            inputs = _inputs_read(n, wanted)
            wanted.update(x.id for x in inputs)
            reads.update(carried[x.id] for x in inputs if x.id in carried)
        reads.update(carried[v.id] for v in targets if isinstance(v, Value) and v.id in carried)
        if reads <= need:
            return sorted(need)
        need |= reads
        targets = list(saves) + [body.outputs[k] for k in need]


def derived_carries(body, n_carry, carries):
    """Positions among `carries` of carried values a segment's start need not keep: the
    body's next state of one is a view, formed from another kept carried value's next
    state (`t3 = y[:-1]`), or from an invariant at the counter (`x = sequence[i + 1]`) —
    at a segment's start, the same view of that carried value, or of the invariant at the
    iteration before. (The first segment starts from the initial values.)"""
    counter = body.inputs[0]
    nexts = {body.outputs[c].id: c for c in carries}
    invariant = {v.id for v in body.inputs[1 + n_carry:]}
    derived = {}
    for c in carries:
        v = body.outputs[c]
        node = v.node
        if node is None or node.op.name != "getitem" or len(node.outputs) != 1 or not node.inputs:
            continue
        base, idx = node.inputs[0], node.inputs[1:]
        if not all(isinstance(x, Value) and x.ndim == 0 and x.node is not None and x.node.op.name == "loop_index"
                   and x.node.inputs and x.node.inputs[0] is counter for x in idx):
            continue
        if not idx and isinstance(base, Value) and nexts.get(base.id, c) != c:
            derived[c] = nexts[base.id]
        elif idx and isinstance(base, Value) and base.id in invariant:
            derived[c] = None
    # (a view of a carried value that is itself formed again is not)
    return sorted(c for c, d in derived.items() if d is None or d not in derived)


def _inputs_read(n, wanted):
    """The inputs node n reads to compute those of its outputs in `wanted` (a fused
    kernel's formula for one output reads only some of its inputs)."""
    values = [x for x in n.inputs if isinstance(x, Value)]
    if n.op.name != "ew":
        return values
    from ..symbolic.kernel import canon_symbol
    used = set()
    for o, e in zip(n.outputs, n.attrs["exprs"]):
        if o.id in wanted:
            used |= e.free_symbols
    return [x for k, x in enumerate(n.inputs) if isinstance(x, Value) and canon_symbol(k) in used]


def stackable(carried):
    """Whether checkpoints of these carried values are rows of one preallocated array per
    value (no array object per checkpoint: for a dozen numbers, half the memory), rather
    than a list of tuples: arrays of numbers of at least one dimension."""
    return bool(carried) and all(len(v.shape) >= 1 and np.dtype(v.dtype).kind in "biuf" for v in carried)


def data_bytes(v):
    return math.prod(v.shape) * np.dtype(v.dtype).itemsize


def value_bytes(v):
    """Bytes a value of this type takes as a numpy array, its object included."""
    return ARRAY_HEADER + data_bytes(v)


def _tuple_bytes(values):
    return 56 + 8 * len(values) + sum(value_bytes(v) for v in values)


def segment_length(saves, carried, count, mode):
    """K, the iterations between checkpoints, or None to save every iteration."""
    if not saves or count < 2:
        return None
    if not isinstance(mode, bool) and isinstance(mode, int):  # a segment length asked for
        return mode if 0 < mode < count else None
    if count < 4:
        return None
    saved = _tuple_bytes(saves)
    checkpoint = sum(data_bytes(v) for v in carried) if stackable(carried) else _tuple_bytes(carried)
    k = max(1, min(count, round(math.sqrt(count * checkpoint / saved))))
    plain = count * saved

    def checkpointed(k):
        return (math.ceil(count / k) - 1) * checkpoint + k * saved
    if k > 1 and checkpointed(1) <= ONE_ITERATION_SLACK * checkpointed(k):
        k = 1
    if k >= count or checkpointed(k) >= plain:
        return None
    if mode == "auto" and (plain < MIN_SAVED_BYTES or plain <= MEMORY_TARGET * (saved + checkpoint)
                           or checkpointed(k) * MIN_GAIN > plain):
        return None
    return k
