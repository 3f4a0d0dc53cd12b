"""Loop re-rolling: a segment of the recorded run that repeats is written back as a loop.

A traced Python loop arrives unrolled: the same ops, from the same lines, wired the
same way, once per iteration. `reroll(graph)` finds runs of identical iterations and
replaces each by one `loop` node whose body is a single iteration as a sub-graph. The
generated code then has a `for` loop of the recorded length, sympy and the code
generator see the body once, and the backward is a reverse loop over the body's
derivative (ops/loop.py).

Iteration j repeats iteration 0 when, position by position, the nodes have the same op,
attrs, line and output types, and every input is
  - internal:  the same position of the same iteration;
  - carried:   for j >= 1 the same position of iteration j - 1, and in iteration 0 a
               value from before the segment (the initial value);
  - invariant: the same value from before the segment in every iteration, or the same
               literal;
  - per iteration: a captured integer array that is new in each iteration (an index list
               made in the loop), read from a stack of them.
An integer index moving by a fixed step per iteration (`seq[t + 1]`) becomes a function
of the loop counter; a carried value may start at a number (`total = 0.0`); nodes whose
inputs are all invariant are computed once, before the loop. A value of the segment read
after it must be one of the last iteration. The count is the recorded one and every decision inside the body stays a
guard, so the loop computes exactly what the recording computed — nothing is guessed
about iterations that were not seen.
"""
from __future__ import annotations

from .. import ops as _ops
from ..ops.indexing import Arg
from .graph import Graph, Node, Value

#: a segment is re-rolled when it repeats at least this many times ...
MIN_COUNT = 3
#: ... and the unrolled form would have at least this many nodes
MIN_NODES = 12
#: candidate periods tried per starting node (the next occurrences of its signature)
MAX_CANDIDATES = 8
#: an integer array captured per iteration (an index list) is stacked up to this size
MAX_STACKED = 1 << 16


class Recorded:
    """Where a re-rolled loop's values were in the run as recorded, for a backward that
    reads the forward's arrays rather than computing them (eager `backward()`):
    `each[body value id]` lists the recorded Value (or the number a carried value started
    at) of every iteration; `last[loop output id]` is the recorded Value it stands for."""

    def __init__(self):
        self.each = {}
        self.last = {}


def reroll(graph, constants=None, nested=True, recorded=None, varying=None):
    """Replace repeated segments of `graph.nodes` by `loop` nodes, in place (and inside
    their bodies, for nested loops, if `nested`). Returns the number of loops made.

    constants: [(Value, array)], the arrays the graph captured; an integer array that
    changes per iteration (`x[:, cols]` with a new `cols` each time) is read from a stack
    of them, appended to this list as a new captured array.
    recorded: a Recorded to fill in, for each loop made.
    varying: for a backward that never runs the loop forward (eager): ids of the inputs
    (arrays nothing is differentiated in) that may differ per iteration. Each becomes an
    input holding them all, read at the iteration's position; Recorded tells where each
    iteration's array is."""
    constants = [] if constants is None else constants
    # (an eager backward reads every iteration's recorded values: a last iteration whose
    # trailing views were never recorded has none to read)
    scan = _Scan(graph, constants, varying, partial_last=recorded is None)
    out, p, made = [], 0, 0
    while p < len(scan.nodes):
        found = scan.loop_at(p)
        if found is None:
            out.append(scan.nodes[p])
            p += 1
            continue
        period, end, prefix, loop = found
        where = loop.attrs.pop("_where")
        if recorded is not None:
            _note_recorded(recorded, where, scan.nodes, p, period, loop.attrs["count"])
        out.extend(prefix)
        out.append(loop)
        made += 1 + (reroll(loop.attrs["body"], constants) if nested else 0)
        kept = {id(n) for n in prefix}
        for n in scan.nodes[p:end]:
            if id(n) not in kept:  # the unrolled iterations are gone: break their node <->
                n.inputs, n.outputs = [], []  # value cycles, so refcounting frees them at once
        p = end
    graph.nodes = out
    return made


class _Scan:
    """The graph's nodes with what finding loops in linear-ish time needs."""

    def __init__(self, graph, constants, varying=None, partial_last=True):
        self.graph = graph
        self.partial_last = partial_last
        self.varying = varying
        self.constants = constants  # [(Value, array)] captured arrays (appended to)
        self.arrays = {v.id: a for v, a in constants}
        self.nodes = list(graph.nodes)
        ids = {}              # signature -> a small int, so runs compare as int lists
        self.sigs = [ids.setdefault(_signature(n), len(ids)) for n in self.nodes]
        self.at = {}          # signature -> positions, ascending
        for q, s in enumerate(self.sigs):
            self.at.setdefault(s, []).append(q)
        self.pos = {}         # value id -> position of the node defining it
        self.last_read = {}   # value id -> last position reading it (len(nodes) for an output)
        for q, n in enumerate(self.nodes):
            for o in n.outputs:
                self.pos[o.id] = q
            for x in n.inputs:
                if isinstance(x, Value):
                    self.last_read[x.id] = q
        for v in graph.outputs:
            if isinstance(v, Value):
                self.last_read[v.id] = len(self.nodes)

    def per_iteration(self, a, b):
        """Whether two captured arrays may be one input that changes per iteration (read
        from a stack of them): same shape and dtype, nothing to differentiate."""
        if self.varying is not None:
            return a.id in self.varying and b.id in self.varying and a.shape == b.shape and a.dtype == b.dtype
        x, y = self.arrays.get(a.id), self.arrays.get(b.id)
        return x is not None and y is not None and x.shape == y.shape and x.dtype == y.dtype \
            and x.dtype.kind in "biu" and x.size <= MAX_STACKED

    def stacked(self, values, name):
        """A captured array stacking the arrays of `values` (one per iteration): an input
        of the outermost graph, like every captured array (generated code reads it as a
        global, from a loop body too)."""
        import numpy as np
        root = self.graph
        while root.parent is not None:
            root = root.parent
        if self.varying is not None:  # never computed: the backward reads Recorded's arrays
            return root.add_input((len(values),) + values[0].shape, values[0].dtype, name)
        arr = np.stack([self.arrays[v.id] for v in values])
        arr.flags.writeable = False
        v = root.add_input(arr.shape, arr.dtype, name)
        self.constants.append((v, arr))
        self.arrays[v.id] = arr
        return v

    def numbers(self, values, dtype):
        """A captured array of the numbers an operand takes per iteration."""
        import numpy as np
        root = self.graph
        while root.parent is not None:
            root = root.parent
        arr = np.array(values, dtype=dtype)
        arr.flags.writeable = False
        v = root.add_input(arr.shape, arr.dtype, "numbers")
        self.constants.append((v, arr))
        self.arrays[v.id] = arr
        return v

    def repeats(self, p, period):
        """How many whole periods from p have the signatures of the first one."""
        sigs, first = self.sigs, self.sigs[p:p + period]
        n = 1
        while sigs[p + n * period:p + (n + 1) * period] == first:
            n += 1
        return n

    def loop_at(self, p):
        """The loop starting at node p, as (period, count, nodes to put before it, loop
        node), or None."""
        import bisect
        places = self.at[self.sigs[p]]
        k = bisect.bisect_right(places, p)
        best = None
        for q in places[k:k + MAX_CANDIDATES]:
            period = q - p
            n = self.repeats(p, period)
            if n < MIN_COUNT or period * n < MIN_NODES:
                continue
            if best is not None and period * n <= best[0] * best[1]:
                continue
            plan = _plan(self, p, period, n)
            if plan is not None:
                best = (period, plan.count, plan)
        if best is None:
            return None
        period, count, plan = best
        return (period, plan.end) + _build(self, p, period, plan)


_VALUE = ("v",)


def _signature(n):
    """What must agree between two iterations' nodes, wiring aside."""
    attrs = n.attrs
    if attrs:
        if n.op.name == "getitem" and len(attrs) == 1:  # an int index may move with the iteration
            # (the index alone: hashable as it is, and the commonest op of a long loop)
            key = ("index", tuple("int" if type(i) is int else i for i in attrs["index"]))
            attrs = None
        elif n.op.name == "getitem":
            attrs = dict(attrs, index=tuple("int" if type(i) is int else i for i in attrs["index"]))
        elif n.op.name == "guard":
            attrs = {k: v for k, v in attrs.items() if k != "index"}
        try:
            if attrs is not None:
                key = _ops.attrs_key(attrs)
            hash(key)
        except TypeError:
            return object()  # attrs without a stable identity: never part of a loop
    else:
        key = ()
    # a number may stand where later iterations read a value: `total = 0.0` before the
    # loop makes the first iteration's `0.0 + t` and the next ones' `total + t` alike
    # (outside elementwise ops, with the input types too: the same line at another depth
    # of a recursion differs)
    typed = n.op.kind != "elementwise"
    lits = []
    for x in n.inputs:
        if type(x) is Value:
            lits.append((x.shape, x.dtype) if typed else _VALUE)
        else:
            lits.append(_VALUE if type(x) in (int, float) else ("l", type(x).__name__, x))
    outs = n.outputs
    types = ((outs[0].shape, outs[0].dtype),) if len(outs) == 1 else tuple((o.shape, o.dtype) for o in outs)
    return (n.op.name, key, n.loc, types, tuple(lits))


# ---------------------------------------------------------------------------------------
# checking the wiring
# ---------------------------------------------------------------------------------------
class _Plan:
    """How the iterations' inputs are wired, and which of their values leave the loop."""

    def __init__(self):
        self.count = 0
        self.slots = {}     # (position, input) -> ("int", q, k) | ("carry", q, k, initial) | ("inv", value)
                            # | ("xs", [value per iteration])
        self.indices = {}   # (position, template entry) -> (start, step) of a moving int index
        self.numbers = {}   # (position, input) -> (start, step) of a moving int operand (`x / (i + 1)`)
        self.exits = []     # (q, k): values of the last iteration read after the loop
        self.end = 0        # the position after the loop's last recorded node


def _plan(scan, p, period, n):
    """The plan of the largest count <= n of iterations wired identically; None if fewer
    than MIN_COUNT agree, or a later node reads an iteration other than the last."""
    plan = _Plan()
    count = n
    for j in range(n):
        if not _iteration_agrees(scan, p, period, j, plan):
            count = j
            break
    if count < MIN_COUNT or period * count < MIN_NODES:
        return None
    m = _partial_last(scan, p, period, count, plan) if scan.partial_last else period
    if m < period and _exits(scan, p, period, count + 1, m, plan):
        return plan
    return plan if _exits(scan, p, period, count, period, plan) else None


def _exits(scan, p, period, count, m, plan):
    """Set the plan's count, end and exits for `count` iterations, the last of which has
    its first m nodes; False if a value of an earlier iteration is read after them."""
    start = p + period * (count - 1)
    end = start + m
    exits = set()
    for pos in range(p, end):
        for k, o in enumerate(scan.nodes[pos].outputs):
            if scan.last_read.get(o.id, -1) >= end:
                if pos < start:
                    return False  # an earlier iteration's value is used after the loop
                exits.add((pos - start, k))
    plan.count, plan.end, plan.exits = count, end, sorted(exits)
    return True


def _partial_last(scan, p, period, count, plan):
    """m < period if the nodes after `count` whole iterations are the first m nodes of one
    more, and the m-th to the last node of an iteration are views, reshapes or joins that
    only the next iteration reads. (`y = np.zeros(n)`, then `rhs(x, y)` slicing `y[:-1]` in every
    iteration: the first iteration slices a constant, so the recorded period starts after
    the slice, and the last iteration ends before its next one.) The loop then runs one
    more time, its last iteration taking views nothing reads — rather than the last
    iteration written out again after the loop, and its backward too."""
    start, sigs, nodes = p + period * count, scan.sigs, scan.nodes
    m = 0
    while m < period and start + m < len(sigs) and sigs[start + m] == sigs[p + m]:
        m += 1
    if m == 0 or m == period:
        return period
    from .passes import has_effect
    for q in range(m, period):
        n = nodes[p + q]
        # views by ints and slices (never a moving index: one step further may be out of
        # range) and reshapes or joins, of the same shapes as before: nothing can raise,
        # little is computed
        if has_effect(n) or not (n.op.kind == "shape" or n.op.name == "getitem" and len(n.inputs) == 1 and all(
                plan.indices.get((q, t), (0, 0))[1] == 0 for t in range(len(n.attrs["index"])))):
            return period
    return m if _iteration_agrees(scan, p, period, count, plan, upto=m) else period


def _iteration_agrees(scan, p, period, j, plan, upto=None):
    nodes = scan.nodes
    start = p + j * period
    for q in range(period if upto is None else upto):
        a, b = nodes[p + q], nodes[start + q]
        if j > 0 and a.op.name == "getitem" and not _index_moves(a, b, q, j, plan):
            return False
        for r, y in enumerate(b.inputs):
            if not isinstance(y, Value):
                x = a.inputs[r]
                if isinstance(x, Value) or type(x) is not type(y):
                    return False  # a number where iteration 0 read a value
                if (x != y or (q, r) in plan.numbers) and not _number_moves(scan, a, x, y, q, r, j, plan):
                    return False  # different numbers that cannot be read per iteration
                continue
            if j == 1 and not isinstance(a.inputs[r], Value):
                # iteration 0 read a number where the next reads the previous iteration's
                # value: a carried value starting at that number (in an elementwise op)
                at = scan.pos.get(y.id, -1)
                if not (a.op.elementwise and p <= at < start):
                    return False
                plan.slots[(q, r)] = ("carry", at - start + period, y.index, a.inputs[r])
                continue
            at = scan.pos.get(y.id, -1)
            if at >= start:
                kind = ("int", at - start, y.index)
            elif at >= start - period and at >= p:
                kind = ("carry", at - start + period, y.index)
            elif at < p:
                kind = ("inv", y)
            else:
                return False  # reads a value from two or more iterations back
            if j == 0:
                plan.slots[(q, r)] = ("first", y) if kind[0] == "inv" else kind
                continue
            known = plan.slots[(q, r)]
            if known[0] == "first":  # iteration 1 tells an invariant from a carried start
                if kind[0] == "inv" and kind[1] is known[1]:
                    plan.slots[(q, r)] = kind
                elif kind[0] == "carry":
                    plan.slots[(q, r)] = kind + (known[1],)
                elif kind[0] == "inv" and scan.per_iteration(known[1], y):
                    plan.slots[(q, r)] = ("xs", [known[1], y])
                else:
                    return False
            elif known[0] == "inv":
                if kind[0] != "inv":
                    return False
                if kind[1] is not known[1]:
                    if not scan.per_iteration(known[1], y):
                        return False
                    plan.slots[(q, r)] = ("xs", [known[1]] * j + [y])
            elif known[0] == "xs":
                if kind[0] != "inv" or not scan.per_iteration(known[1][0], y):
                    return False
                known[1].append(y)
            elif known[:3] != kind:
                return False
    return True


def _number_moves(scan, a, x, y, q, r, j, plan):
    """A number operand of an elementwise op that changes per iteration: an int moving
    by a fixed step (`acc + x / (i + 1)`) becomes a function of the loop counter, beside
    float64 and int64 values (which a Python int and the counter's int64 promote alike);
    other numbers (`for c in coefs: y = y * x + c`) are read from a captured array of
    them, in the dtype of the values beside them (as numpy converts a Python number)."""
    import numpy as np
    if not a.op.elementwise:
        return False
    dtypes = {v.dtype for v in a.inputs if isinstance(v, Value)}
    if len(dtypes) != 1:
        return False
    d = np.dtype(next(iter(dtypes)))
    known = plan.numbers.get((q, r))
    if known is None or known[0] == "step":
        start, step = known[1:] if known else (x, 0)
        if type(x) is int and d in (np.float64, np.int64) and (j == 1 and known is None or y == start + step * j):
            if j == 1:
                plan.numbers[(q, r)] = ("step", x, y - x)
            return True
        if scan.varying is not None:  # (an eager backward reads no captured array of numbers)
            return False
        known = plan.numbers[(q, r)] = ("xs", [start + step * k for k in range(j)], d)
    if not _exact(y, d):
        return False
    known[1].append(y)
    return True


def _exact(v, d):
    """Whether numpy converts the number v to dtype d as a weak Python scalar would be."""
    import numpy as np
    if d.kind == "f":
        return type(v) is float or abs(v) <= 2 ** (np.finfo(d).nmant + 1)
    if d.kind in "iu":
        return type(v) is int and np.iinfo(d).min <= v <= np.iinfo(d).max
    return False


def _index_moves(a, b, q, j, plan):
    """getitem's int entries agree, or move by a fixed step per iteration."""
    for t, (u, v) in enumerate(zip(a.attrs["index"], b.attrs["index"])):
        if type(u) is int and type(v) is int:
            if j == 1:
                plan.indices[(q, t)] = (u, v - u)
            elif v != u + plan.indices[(q, t)][1] * j:
                return False
        elif u != v:
            return False
    return True


# ---------------------------------------------------------------------------------------
# building the loop node
# ---------------------------------------------------------------------------------------
def _build(scan, p, period, plan):
    """The loop node for a checked plan, and the nodes to put before it: the body's
    loop-invariant nodes (`W.T`, `params[0]`), computed once rather than per iteration,
    so their gradients are also formed once, after the reverse loop."""
    from .passes import has_effect
    graph, nodes = scan.graph, scan.nodes
    count = plan.count
    first = nodes[p:p + period]
    last = nodes[p + (count - 1) * period:plan.end]  # (its first m nodes, if partial)
    hoisted = _invariant_positions(first, plan)
    prefix, same = _distinct([n for q, n in enumerate(first) if q in hoisted])

    def canon(x):  # a hoisted value, or the equal one computed first
        return same.get(x.id, x)
    body = Graph("body", parent=graph)
    counter = body.add_input((), "int64", "i")
    carried = {}    # (q, k) of the producer -> (body input, initial value: a Value or a number)
    steady = {}     # (q, k) of a hoisted producer -> the invariant body input it always equals
    invariant = {}  # outer value id -> body input
    invs = []
    stacks = {}     # (q, r) of a per-iteration captured array -> the body input of their stack
    index_values = {}

    def counter_index(start, step, loc):
        if (start, step) not in index_values:
            index_values[(start, step)] = body.emit("loop_index", [counter], loc=loc, start=start, step=step)
        return index_values[(start, step)]

    def invariant_input(x):
        x = canon(x)
        if x.id not in invariant:
            invariant[x.id] = body.add_input(x.shape, x.dtype, x.name)
            invs.append(x)
        return invariant[x.id]

    # the body's inputs, in the order first read
    for q, n in enumerate(first):
        if q in hoisted:
            continue
        for r, x in enumerate(n.inputs):
            s = plan.slots.get((q, r))
            if s is None:
                continue
            if s[0] == "carry" and s[1:3] in steady:
                continue
            if s[0] == "carry" and s[1] in hoisted and _same_value(s[3], canon(first[s[1]].outputs[s[2]])):
                # read from the previous iteration, but that is a hoisted value equal to the
                # first iteration's: one invariant (`x[1:]`, which a helper called at the
                # end of each iteration takes again for the next), not a variable carried
                steady[s[1:3]] = invariant_input(canon(first[s[1]].outputs[s[2]]))
            elif s[0] == "carry" and s[1:3] not in carried:
                producer = (last[s[1]] if s[1] < len(last) else first[s[1]]).outputs[s[2]]
                # (named after the value it becomes: a carried value named after its initial
                # value, `const0_2 = const0`, would read as if it stayed that constant)
                carried[s[1:3]] = (body.add_input(producer.shape, producer.dtype, producer.name), s[3])
            elif s[0] == "inv" or (s[0] == "int" and s[1] in hoisted):
                invariant_input(x)
            elif s[0] == "xs" and (q, r) not in stacks:
                name = s[1][count - 1].name or x.name or "const"  # (the user's name is the last one's)
                stacks[(q, r)] = invariant_input(scan.stacked(s[1][:count], name + "_each"))
    carry_keys = list(carried)
    inits = [carried[k][1] for k in carry_keys]

    # the body's nodes: iteration 0 re-emitted, named after the last iteration's values
    local = {}
    each = []  # (body value, per-iteration input values) of a varying input's reads
    for q, n in enumerate(first):
        if q in hoisted:
            continue
        ins = []
        for r, x in enumerate(n.inputs):
            s = plan.slots.get((q, r))
            if (q, r) in plan.numbers and plan.numbers[(q, r)][0] == "step":  # a number moving with i
                ins.append(counter_index(*plan.numbers[(q, r)][1:], n.loc))
            elif (q, r) in plan.numbers:  # this iteration's number: numbers[i]
                _, values, d = plan.numbers[(q, r)]
                stack = invariant_input(scan.numbers(values[:count], d))
                ins.append(body.emit("getitem", [stack, counter_index(0, 1, n.loc)], loc=n.loc, index=(Arg(0),)))
            elif s is None:  # a number, the same in every iteration
                ins.append(x)
            elif s[0] == "carry":
                ins.append(steady[s[1:3]] if s[1:3] in steady else carried[s[1:3]][0])
            elif s[0] == "xs":  # this iteration's array: stack[i]
                ins.append(body.emit("getitem", [stacks[(q, r)], counter_index(0, 1, n.loc)], loc=n.loc,
                                     index=(Arg(0),)))
                each.append((ins[-1], s[1][:count]))
            elif s[0] == "int" and s[1] not in hoisted:
                ins.append(local[(s[1], s[2])])
            else:
                ins.append(invariant[canon(x).id])
        attrs = dict(n.attrs)
        if n.op.name == "getitem":
            template = list(attrs["index"])
            extra = []
            for t, item in enumerate(template):
                moving = plan.indices.get((q, t))
                if moving is not None and moving[1] != 0:
                    template[t] = Arg(len(ins) - 1 + len(extra))
                    extra.append(counter_index(moving[0], moving[1], n.loc))
            attrs["index"] = tuple(template)
            ins = ins + extra
        outs = body.emit(n.op, ins, loc=n.loc, **attrs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        for k, o in enumerate(outs):
            o.name = (last[q] if q < len(last) else n).outputs[k].name or n.outputs[k].name
            local[(q, k)] = o
    # outputs: the carried values' next states, then the other values read after the
    # loop (a hoisted value is read after the loop as itself)
    nexts = [local[k] if k[0] not in hoisted else invariant_input(first[k[0]].outputs[k[1]])
             for k in carry_keys]
    exits = [e for e in plan.exits if e not in carried and e[0] not in hoisted]
    body.outputs = nexts + [local[e] for e in exits]
    body.inputs = [counter] + [carried[k][0] for k in carry_keys] + [invariant[x.id] for x in invs]
    loop = Node(_ops.get("loop"), inits + invs,
                dict(body=body, count=count, n_carry=len(carry_keys), saves=(),
                     side_effect=any(has_effect(n) for n in body.nodes)), _loop_loc(first))
    loop.outputs = [Value(graph, o.shape, o.dtype, loop, i) for i, o in enumerate(body.outputs)]
    # where the body's values were recorded (for Recorded; taken out by _note_recorded)
    where = loop.attrs["_where"] = dict(defined=[(o, key) for key, o in local.items()],
                                        carried=[(carried[k][0], k, carried[k][1]) for k in carry_keys],
                                        last=[], each=each)
    # later nodes read the loop's outputs instead of the last iteration's values
    replace = {}
    for i, key in enumerate(carry_keys + exits):
        if key[0] >= len(last):
            continue  # a view of a last iteration that was not recorded: nothing reads it
        old = last[key[0]].outputs[key[1]]
        replace[old.id] = loop.outputs[i]
        loop.outputs[i].name = old.name
        where["last"].append((loop.outputs[i], old))
    for q, k in plan.exits:
        if q in hoisted and (q, k) not in carried:
            replace[last[q].outputs[k].id] = canon(first[q].outputs[k])
    replace.update((vid, v) for vid, v in same.items() if vid not in replace)
    for node in nodes[plan.end:]:
        node.inputs = [replace.get(x.id, x) if isinstance(x, Value) else x for x in node.inputs]
    graph.outputs = [replace.get(v.id, v) if isinstance(v, Value) else v for v in graph.outputs]
    return prefix, loop


def _note_recorded(recorded, where, nodes, p, period, count):
    """Fill `recorded` for a loop just built from nodes[p:] (before they are unlinked)."""
    for v, (q, k) in where["defined"]:
        recorded.each[v.id] = [nodes[p + j * period + q].outputs[k] for j in range(count)]
    for v, (q, k), init in where["carried"]:
        recorded.each[v.id] = [init] + [nodes[p + j * period + q].outputs[k] for j in range(count - 1)]
    for o, old in where["last"]:
        recorded.last[o.id] = old
    for v, values in where["each"]:
        recorded.each[v.id] = list(values)


def _same_value(a, b):
    """Whether a and b are the same value, or computed by equal nodes from the same inputs."""
    from .cse import node_key
    if a is b:
        return True
    if not isinstance(a, Value) or not isinstance(b, Value) or a.node is None or b.node is None:
        return False
    key = node_key(a.node)
    return key is not None and key == node_key(b.node) and a.index == b.index


def _distinct(prefix):
    """The hoisted nodes with those equal to an earlier one left out (each of four calls
    of a helper reads `x[1:]`: the loop reads one invariant, whose gradient adds up
    inside the body and once after the loop); and {left-out value id: the equal value}."""
    from .cse import node_key
    same, seen, kept = {}, {}, []
    for n in prefix:
        n.inputs = [same.get(x.id, x) if isinstance(x, Value) else x for x in n.inputs]
        key = node_key(n)
        first = seen.get(key) if key is not None else None
        if first is not None:
            same.update((a.id, b) for a, b in zip(n.outputs, first.outputs))
            continue
        if key is not None:
            seen[key] = n
        kept.append(n)
    return kept, same


def _invariant_positions(first, plan):
    """Positions of the body whose every input is loop-invariant (and which decide
    nothing): they compute the same value in every iteration."""
    from .passes import has_effect
    hoisted = set()
    for q, n in enumerate(first):
        if has_effect(n) or n.op.name == "loop" or not n.outputs:
            continue
        if n.op.name == "getitem" and any(plan.indices.get((q, t), (0, 0))[1] != 0
                                          for t in range(len(n.attrs["index"]))):
            continue
        if any((q, r) in plan.numbers for r in range(len(n.inputs))):
            continue
        if all(s is None or s[0] == "inv" or (s[0] == "int" and s[1] in hoisted)
               for s in (plan.slots.get((q, r)) for r in range(len(n.inputs)))):
            hoisted.add(q)
    return hoisted


def _loop_loc(first):
    """The loop's place: the lines of its first iteration."""
    from ..utils.locations import merge_locs
    return merge_locs(*(n.loc for n in first))
