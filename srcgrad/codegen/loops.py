"""Generated code for re-rolled loops (ops/loop.py): a `for` block and its reverse.

Forward:
    y = y0                                  # carried values start at their initial value
    saved = []                              # values the backward needs, one tuple per iteration
    for i in range(9):                      # the body, once
        ...
        saved.append((t4, t7))
        y = y_2                             # the carried values' next state

Backward:
    grad_y = grad_y_out                     # the cotangents of the carried values
    grad_W = np.zeros(...)                  # gradients of the invariants add up
    for i in range(8, -1, -1):
        t4, t7_r = saved[i]                 # this iteration's saved values (new names where
                                            # the code after the loop still reads the old)
        ...                                 # the body's backward, once
        grad_W += grad_W_i
        grad_y = grad_y_2

Checkpointed (ir/checkpoint.py: attrs["segment"] = K), the forward keeps only the carried
values every K iterations, and the backward takes the segments last to first:

    for segment in range(73, -1, -1):
        start, stop = segment * 14, min(segment * 14 + 14, 1023)
        h_r = h_checkpoints[segment]        # the state at the segment's start (the forward
        c_r = c_checkpoints[segment]        # wrote row i // 14 of each at i % 14 == 0)
        saved = []
        for i in range(start, stop):        # the segment's forward again, saving
            ...                             # (what the saved values need)
            saved.append((t4, t7))
            if i == stop - 1:               # the next state only where the segment goes on:
                del t5                      # the next segment starts from its checkpoint
                break
            ...                             # (what only the next state needs)
        for i in range(stop - 1, start - 1, -1):
            t4, t7 = saved.pop()            # (its memory goes once the iteration is done)
            ...                             # the body's backward, as above

Each body is planned as a block of its own (codegen/buffers.py): an op writing into a
copy of a value the body made and reads no more writes into that value instead.

Names are the function's own (one Namer): a carried value keeps one variable for the
whole loop, and a value of the last iteration is read after the loop under its name in
the body. The backward binds saved values to fresh names, so it never disturbs a name
the code after it still reads.
"""
import ast
import math

import numpy as np

from ..ir.checkpoint import stackable
from ..ir.graph import Value
from ..ir.passes import live_nodes, prune_kernel_outputs
from ..utils.locations import format_loc_range
from . import astbuild as A
from .buffers import BufferPlan
from .release import natural_order
from .source import comment_text, expr_source

INDENT = "    "


def _comment(line, text):
    from .source import COMMENT_COLUMN
    text = comment_text(text)
    return (line.ljust(COMMENT_COLUMN) if len(line) < COMMENT_COLUMN else line) + "  # " + text if text else line


def loop_lines(node, em, indent):
    namer = em.namer
    body, n_carry, count = node.attrs["body"], node.attrs["n_carry"], node.attrs["count"]
    saves = list(node.attrs["saves"])
    counter, carried, invs = body.inputs[0], body.inputs[1:1 + n_carry], body.inputs[1 + n_carry:]
    inits, outer_invs = node.inputs[:n_carry], node.inputs[n_carry:]
    n_out = len(body.outputs)
    where = format_loc_range(node.loc)
    lines = []
    for b, x in zip(invs, outer_invs):  # the body reads invariants under their own names
        if isinstance(x, Value):
            namer.names[b.id] = namer.of(x)
        else:
            lines.append(f"{indent}{namer.of(b)} = {expr_source(A.literal(x))}")
    nodes = live_nodes(body.nodes, body.outputs + saves)
    nodes = prune_kernel_outputs(nodes, body.outputs + saves)
    em.handed |= _share_carried_names(nodes, carried, body.outputs[:n_carry], list(saves) + list(body.outputs),
                                      namer)
    for b, x in zip(carried, inits):
        if not isinstance(x, Value):  # a number (`total = 0.0`): an array of the carried type
            x = A.npcall("full", A.literal(b.shape), A.literal(x), A.dtype_expr(b.dtype))
        value = expr_source(em.arg(x) if isinstance(x, Value) else x)
        if value != namer.of(b):
            lines.append(f"{indent}{namer.of(b)} = {value}")
    segment = node.attrs.get("segment")
    if segment:
        return lines + _checkpointed_loop_lines(node, em, indent, segment)
    # one list for all the values saved: a tuple per iteration (the IR has a history per
    # value; here they are the positions of one list's tuples)
    pack = namer.fresh("saved") if saves else None
    if pack:
        lines.append(f"{indent}{pack} = []")
    lines.append(_comment(f"{indent}for {namer.of(counter)} in range({count}):",
                          f"{where}: recorded {count} times, re-rolled"))
    inner = indent + INDENT
    keep = {v.id for v in body.outputs} | {v.id for v in saves}
    block = em.block(nodes, keep, inner, plan=BufferPlan(nodes, keep))
    if pack:  # (after the body: a nested loop's history, saved whole, is named there)
        saved_names = list(dict.fromkeys(namer.of(v) for v in saves))
        for h, v in zip(node.outputs[n_out:], saves):
            em.packs[h.id] = (pack, saved_names.index(namer.of(v)))
            namer.names[h.id] = pack
        block.append(f"{inner}{pack}.append(({_tuple(saved_names)}))")
    block += _rebind(inner, [namer.of(b) for b in carried], [namer.of(o) for o in body.outputs[:n_carry]])
    lines += block or [f"{inner}pass"]
    _export(node, em)
    return lines


def _export(node, em):
    """After the loop, its outputs are its last values, under their names in the body."""
    body, n_carry, namer = node.attrs["body"], node.attrs["n_carry"], em.namer
    for k, o in enumerate(node.outputs[:len(body.outputs)]):
        namer.names[o.id] = namer.of(body.inputs[1 + k]) if k < n_carry else namer.of(body.outputs[k])
        em.exported.add(namer.names[o.id])


def _checkpointed_loop_lines(node, em, indent, segment):
    """The forward of a checkpointed loop (ir/checkpoint.py): the carried values every
    `segment` iterations, nothing else saved; its backward runs the body again."""
    namer = em.namer
    body, n_carry, count = node.attrs["body"], node.attrs["n_carry"], node.attrs["count"]
    counter, carried = body.inputs[0], body.inputs[1:1 + n_carry]
    i = namer.of(counter)
    kept = [carried[k] for k in node.attrs["checkpointed"]]
    inner = indent + INDENT
    lines = []
    # (the state at iteration 0 is the initial values, which the backward reads as they are)
    if stackable(kept):  # one array per carried value, a row per checkpoint
        packs = tuple(namer.fresh(namer.of(b) + "_checkpoints") for b in kept)
        rows = (count - 1) // segment
        for b, pack in zip(kept, packs):
            line = f"{indent}{pack} = {_empty((rows,) + tuple(b.shape), b.dtype)}"
            every = "at every iteration" if segment == 1 else f"every {segment} iterations"
            lines.append(_comment(line, f"the loop's state {every}") if b is kept[0] else line)
        row = f"{i} - 1" if segment == 1 else f"{i} // {segment} - 1"
        store = [f"{inner}{INDENT}{pack}[{row}] = {namer.of(b)}" for b, pack in zip(kept, packs)]
    else:
        packs = namer.fresh("checkpoints")
        lines.append(_comment(f"{indent}{packs} = []", f"the loop's state every {segment} iterations"))
        store = [f"{inner}{INDENT}{packs}.append(({_tuple([namer.of(b) for b in kept])}))"]
    for h in node.outputs[len(body.outputs):]:  # (every history is in the checkpoints)
        em.packs[h.id] = (packs, None)
        namer.names[h.id] = packs if isinstance(packs, str) else packs[0]
    lines.append(_comment(f"{indent}for {i} in range({count}):",
                          f"{format_loc_range(node.loc)}: recorded {count} times, re-rolled"))
    if kept:  # (none when what the backward reads depends on no carried value)
        test = f"{i}" if segment == 1 else f"{i} % {segment} == 0 and {i}"
        lines += [_comment(f"{inner}if {test}:", "its backward runs the loop again from there")] + store
    nodes = live_nodes(body.nodes, body.outputs)
    nodes = prune_kernel_outputs(nodes, body.outputs)
    keep = {v.id for v in body.outputs}
    lines += em.block(nodes, keep, inner, plan=BufferPlan(nodes, keep))
    lines += _rebind(inner, [namer.of(b) for b in carried], [namer.of(o) for o in body.outputs[:n_carry]])
    _export(node, em)
    return lines


def loop_grad_lines(node, em, indent):
    namer = em.namer
    a = node.attrs
    body, bwd, count, n_carry, n_out = a["body"], a["backward"], a["count"], a["n_carry"], a["n_out"]
    saves, wrt = list(a["saves"]), list(a["wrt"])
    cts_outer = node.inputs[:n_out]
    histories = node.inputs[n_out:n_out + len(saves)]
    counter = body.inputs[0]
    for b, x in zip(a["invariant_reads"], node.inputs[n_out + len(saves):]):
        if isinstance(x, Value):  # (a number is bound before the loop, under b's name)
            namer.names[b.id] = namer.of(x)
    where = format_loc_range(node.loc)
    nodes = live_nodes(bwd.nodes, bwd.outputs)
    nodes = prune_kernel_outputs(nodes, bwd.outputs)
    read = {x.id for n in nodes for x in n.inputs if isinstance(x, Value)} | {v.id for v in bwd.outputs}
    lines = []
    # cotangents of the body's outputs: the carried ones flow between iterations; a value
    # of the last iteration read after the loop has one only in the last iteration
    ct_names = [namer.of(c) for c in bwd.inputs]
    zeros = {}
    for k, (c, x) in enumerate(zip(bwd.inputs, cts_outer)):
        if c.id in read:
            if expr_source(em.arg(x)) != ct_names[k]:
                lines.append(f"{indent}{ct_names[k]} = {expr_source(em.arg(x))}")
            if k >= n_carry:
                zeros[k] = namer.fresh("zero_" + ct_names[k])
                lines.append(f"{indent}{zeros[k]} = {_zeros(c)}")
    # gradients of invariants add up over the iterations
    accumulators, init_line = {}, {}
    for j, (k, g) in enumerate(zip(wrt, bwd.outputs)):
        if k >= n_carry and not _is_zero(g):
            name = body.inputs[1 + k].name
            acc = namer.names[node.outputs[j].id] = namer.fresh(f"grad_{name}_sum" if name else "grad_sum")
            accumulators[j] = acc
            init_line[j] = len(lines)
            lines.append(f"{indent}{acc} = {_zeros(g)}")
    # saved values come back under their names in the body, or fresh ones if the code
    # after the loop still reads that name; loop_index values are recomputed
    restore, renamed = {}, {}
    segment = a.get("segment")
    # (a checkpointed loop's backward runs the whole body again: all of its values)
    for v in (_body_values(body, n_carry) if segment else saves):
        restore[v.id] = old = namer.names.get(v.id)
        if old is not None and old in em.exported:
            if old not in renamed:
                renamed[old] = namer.fresh(old + "_r")
            namer.names[v.id] = renamed[old]
            em.renamed.append((renamed[old], v))
    recompute = [n for n in body.nodes if n.op.name == "loop_index" and n.out.id in read]
    for n in recompute:
        restore.setdefault(n.out.id, namer.names.get(n.out.id))
        namer.names.pop(n.out.id, None)
    carried_grads = [(bwd.inputs[k], bwd.outputs[j]) for j, k in enumerate(wrt)
                     if k < n_carry and bwd.inputs[k].id in read]
    em.handed |= _share_carried_names(nodes, [c for c, _ in carried_grads], [g for _, g in carried_grads],
                                      bwd.outputs, namer)
    if segment:
        header, inner, block = _segment_lines(node, em, indent, segment, histories, read)
    else:
        header = [_comment(f"{indent}for {namer.of(counter)} in range({count - 1}, -1, -1):",
                           f"{where}: the loop's backward, in reverse")]
        inner = indent + INDENT
        block = _unpack_lines(histories, saves, read, em, inner, namer.of(counter))
    # (where the node stands: its inputs may be names the iteration rebinds later)
    placed = _placed_in_sums(nodes, bwd.outputs, accumulators)
    em.into.update({id(p): accumulators[j] for j, p in placed.items()})
    summed, moved = _summed_in_place(nodes, bwd.outputs,
                                     {j: acc for j, acc in accumulators.items() if j not in placed})
    # a sum of one number, all of whose terms are added where they are computed, is a
    # Python float (`grad_sum_2 += t23[0:1].item()`): a number added to a number, not a
    # numpy call per term on an array of one element; an array again after the loop
    scalars = {}
    for j, acc in accumulators.items():
        g = bwd.outputs[j]
        if j not in placed and math.prod(g.shape) == 1 and g.dtype == np.float64 \
                and any(entry[0] == acc for entry in summed.values()):
            scalars[j] = acc
            lines[init_line[j]] = f"{indent}{acc} = 0.0"
    scalar_names = set(scalars.values())
    em.summed.update({key: entry + (entry[0] in scalar_names,) for key, entry in summed.items()})
    em.added.update({key: entry + (entry[0] in scalar_names,) for key, entry in moved.items()})
    block += em.block(recompute, set(read), inner)
    keep = {v.id for v in bwd.outputs}
    block += _backward_body(node, em, nodes, keep, inner)
    for p in placed.values():
        del em.into[id(p)]
    for key in summed:
        del em.summed[key]
    for key in moved:
        del em.added[key]
    added = {entry[0] for entry in summed.values()}
    for j, acc in accumulators.items():
        if j not in placed and acc not in added:
            block.append(f"{inner}{acc} += {expr_source(em.arg(bwd.outputs[j]))}")
    targets, values = [], []
    for j, k in enumerate(wrt):
        if k < n_carry and bwd.inputs[k].id in read:
            targets.append(ct_names[k])
            values.append(expr_source(em.arg(bwd.outputs[j])))
    for k, z in zeros.items():
        targets.append(ct_names[k])
        values.append(z)
    block += _rebind(inner, targets, values)
    if block:  # (a body whose backward is the identity leaves nothing to loop over)
        lines += header + block
    for vid, old in restore.items():
        if old is None:
            namer.names.pop(vid, None)
        else:
            namer.names[vid] = old
    for j, acc in scalars.items():
        g = bwd.outputs[j]
        lines.append(f"{indent}{acc} = {expr_source(A.npcall('full', A.literal(tuple(g.shape)), A.name(acc), A.dtype_expr(g.dtype)))}")
    # the gradients of the loop's inputs
    for j, k in enumerate(wrt):
        if j in accumulators:
            continue
        if k < n_carry and bwd.inputs[k].id in read:
            namer.names[node.outputs[j].id] = ct_names[k]
        elif k < n_carry:  # the carried cotangent never reached the body: it is the last one
            lines.append(f"{indent}{namer.of(node.outputs[j])} = {expr_source(em.arg(bwd.outputs[j]))}")
        else:  # an invariant whose gradient is zero
            lines.append(f"{indent}{namer.of(node.outputs[j])} = {_zeros(bwd.outputs[j])}")
    return lines


def _backward_body(node, em, nodes, keep, inner):
    """The lines of one iteration of a loop's backward. Its carried cotangents are its own
    to overwrite (`grad_y[:-1] += t0`, not a copy of grad_y per iteration) when the ones
    coming in die into the loop (made by the function, read by nothing after) and each
    iteration's are arrays it made: written with that assumption, checked after."""
    a = node.attrs
    bwd, n_carry, wrt = a["backward"], a["n_carry"], list(a["wrt"])
    outer, i = em.at
    dying = set(outer.dies_into(i, node)) if outer is not None else set()
    ids = [x.id for x in node.inputs if isinstance(x, Value)]
    outs = {k: bwd.outputs[j] for j, k in enumerate(wrt) if k < n_carry}
    owned = [(bwd.inputs[k], em.namer.of(bwd.inputs[k])) for k, x in enumerate(node.inputs[:n_carry])
             if isinstance(x, Value) and x.id in dying and ids.count(x.id) == 1 and k in outs
             and len(x.shape) >= 1]
    if owned:
        plan = BufferPlan(nodes, keep, owned_inputs=owned)
        lines = em.block(nodes, keep, inner, plan=plan)
        made = [outs[bwd.inputs.index(v)] for v, _ in owned]
        names = [em.namer.of(o) for o in made]
        if all(o.id in plan.owned for o in made) and len(set(names)) == len(names):
            return lines
    return em.block(nodes, keep, inner, plan=BufferPlan(nodes, keep))


def _placed_in_sums(nodes, outputs, accumulators):
    """{j: node} for the gradients summed over the iterations (accumulators) that an
    iteration makes as zeros with slices placed (`grad_x[i] = g`): read by nothing else,
    each is added into its sum where it goes (`grad_x_sum[i] += g`) rather than made
    whole and added whole — an O(size) array per iteration, a loop quadratic in time."""
    read = {x.id for n in nodes for x in n.inputs if isinstance(x, Value)}
    out_ids = [v.id for v in outputs if isinstance(v, Value)]
    placed = {}
    for j in accumulators:
        g = outputs[j]
        n = g.node
        if n is None or n.op.name not in ("getitem_grad", "accumulate") or g.id in read \
                or out_ids.count(g.id) != 1 or not any(m is n for m in nodes):
            continue
        placed[j] = n
    return placed


def _summed_in_place(nodes, outputs, accumulators):
    """For the gradients summed over the iterations that an iteration builds up as a chain
    of kernels, each adding terms to the one before (`t34 = t27 + t32 * t11`, then
    `t40 = t34 + t38 * t7`, ...), read by nothing else: each kernel's terms are added into
    the sum where it stands (`grad_sum += t32 * t11`), so that no array holds an
    iteration's part of the sum. Kernels of float inputs only. Returns
    ({id(kernel): (accumulator, k, the output, ks)}, {id(node): (accumulator, negative)}):
    k is the input that is the chain's running value (None at the chain's start), ks the
    inputs that are terms added where the node making them stands."""
    reads = {}
    for n in nodes:
        for x in n.inputs:
            if isinstance(x, Value):
                reads[x.id] = reads.get(x.id, 0) + 1
    out_ids = [v.id for v in outputs if isinstance(v, Value)]
    in_block = {id(n) for n in nodes}

    def summable(v):  # (a kernel's output, of float inputs, not already part of a sum)
        n = v.node
        return n is not None and id(n) in in_block and n.op.name == "ew" and id(n) not in summed \
            and all(isinstance(x, Value) and x.dtype.kind == "f" for x in n.inputs) and v.dtype.kind == "f" \
            and not _shares_with_other_outputs(n, v)

    from ..symbolic.kernel import canon_symbol
    summed = {}
    for j, acc in accumulators.items():
        v = outputs[j]
        if not isinstance(v, Value) or out_ids.count(v.id) != 1 or reads.get(v.id) or not summable(v):
            continue
        while True:
            n = v.node
            k_out = next(k for k, o in enumerate(n.outputs) if o is v)
            e = n.attrs["exprs"][k_out]
            others = set().union(*[f.free_symbols for k, f in enumerate(n.attrs["exprs"]) if k != k_out])
            ids = [x.id for x in n.inputs]
            # the running value: a term of the formula, read by it alone, of the sum's shape
            prev = next((k for k, x in enumerate(n.inputs)
                         if e.is_Add and canon_symbol(k) in e.args and canon_symbol(k) not in others
                         and ids.count(x.id) == 1 and reads.get(x.id) == 1 and x.id not in out_ids
                         and summable(x) and tuple(x.shape) == tuple(v.shape)), None)
            summed[id(n)] = (acc, prev, k_out)
            if prev is None:
                break
            v = n.inputs[prev]
    # a term that is an input made by a plain op (a slice) and read by nothing else is
    # added where that op stands (`grad_sum_2 += t24[0:1]`): not kept until the kernel
    made = {o.id: m for m in nodes for o in m.outputs}
    by_id = {id(m): m for m in nodes}
    moved = {}
    for n_id, (acc, prev, k_out) in list(summed.items()):
        n = by_id[n_id]
        e = n.attrs["exprs"][k_out]
        others = set().union(*[f.free_symbols for k, f in enumerate(n.attrs["exprs"]) if k != k_out])
        ids = [x.id for x in n.inputs]
        gone = []
        for t in (e.args if e.is_Add else (e,)):
            negative = t.could_extract_minus_sign()
            sym = -t if negative else t
            if not sym.is_Symbol or sym in others:
                continue
            k = int(sym.name[1:])
            x = n.inputs[k]
            m = made.get(x.id)
            if k == prev or m is None or len(m.outputs) != 1 or m.op.name == "ew" or m.op.statement \
                    or m.op.block is not None or ids.count(x.id) != 1 or reads.get(x.id) != 1 \
                    or x.id in out_ids or x.dtype.kind != "f" or id(m) in moved:
                continue
            moved[id(m)] = (acc, negative)
            gone.append(k)
        summed[n_id] = (acc, prev, k_out, tuple(gone))
    return summed, moved


def _shares_with_other_outputs(n, v):
    """Whether kernel n's formula for output v has a compound part that a formula of another
    output of n has too (`t45 + 1`): written apart from the kernel, it would be computed
    twice."""
    import sympy as sp
    exprs = n.attrs["exprs"]
    k = next(j for j, o in enumerate(n.outputs) if o is v)
    if len(exprs) == 1:
        return False
    mine = {e for e in sp.preorder_traversal(exprs[k]) if not e.is_Atom}
    return any(not e.is_Atom and e in mine for j, f in enumerate(exprs) if j != k
               for e in sp.preorder_traversal(f))


def _body_values(body, n_carry):
    """The carried values and every value the body computes."""
    return list(body.inputs[1:1 + n_carry]) + [o for n in body.nodes for o in n.outputs]


def _unpack_lines(histories, saves, read, em, inner, counter):
    """`t4, t7_r = saved[i]`: an iteration's saved values, under their names."""
    namer, packs, lines = em.namer, {}, []
    for h, v in zip(histories, saves):
        pack, k = em.packs[h.id]
        names = packs.setdefault(pack, {})
        if v.id not in read:
            names.setdefault(k, "_")
        elif names.get(k, "_") == "_":
            names[k] = namer.of(v)
        else:  # the same value saved twice (a nested loop's history): one name
            namer.names[v.id] = names[k]
    for pack, names in packs.items():
        if any(n != "_" for n in names.values()):
            lines.append(f"{inner}{_tuple([names.get(k, '_') for k in range(max(names) + 1)])} = "
                         f"{pack}[{counter}]")
    return lines


def _segment_lines(node, em, indent, segment, histories, read):
    """A checkpointed loop's backward (ir/checkpoint.py), segments last to first: the
    carried values from the segment's checkpoint, its forward again saving what the
    backward reads, then its iterations' backward in reverse. Returns (the lines up to
    the reverse loop's header, the indent of its body, the body's first lines)."""
    namer, a = em.namer, node.attrs
    body, count, saves = a["body"], a["count"], list(a["saves"])
    counter = namer.of(body.inputs[0])
    carried = [body.inputs[1 + k] for k in a["checkpointed"]]
    nexts = [body.outputs[k] for k in a["checkpointed"]]
    packs = em.packs[histories[0].id][0]
    if segment == 1:  # (each iteration from its own checkpoint: no segment to loop over)
        s = start = counter
        outer = inner = indent + INDENT
        lines = [_comment(f"{indent}for {counter} in range({count - 1}, -1, -1):",
                          f"{format_loc_range(node.loc)}: the loop's backward, in reverse, each "
                          f"iteration run again from its checkpoint")]
    else:
        s, start, stop, pack = (namer.fresh(b) for b in ("segment", "start", "stop", "saved"))
        outer, inner = indent + INDENT, indent + 2 * INDENT
        last = (count - 1) // segment
        lines = [_comment(f"{indent}for {s} in range({last}, -1, -1):",
                          f"{format_loc_range(node.loc)}: the loop's backward, in reverse, "
                          f"{segment} iterations at a time"),
                 f"{outer}{start}, {stop} = {s} * {segment}, min({s} * {segment} + {segment}, {count})"]
    # (the first segment's start is the initial values, read after the invariants)
    what = "iteration" if segment == 1 else "segment"
    initial = [expr_source(em.arg(x)) for x in node.inputs[len(node.inputs) - len(a.get("derived", ())) - len(carried):
                                                            len(node.inputs) - len(a.get("derived", ()))]]
    if carried and isinstance(packs, str):
        lines.append(_comment(f"{outer}{_tuple([namer.of(b) for b in carried])} = {packs}[{s} - 1] if {s} else "
                              f"({', '.join(initial)},)", f"the state at the {what}'s start"))
    elif carried:  # (rows of the arrays of checkpoints)
        for b, rows, x in zip(carried, packs, initial):
            line = f"{outer}{namer.of(b)} = {rows}[{s} - 1] if {s} else {x}"
            lines.append(_comment(line, f"the state at the {what}'s start") if b is carried[0] else line)
    lines += _derived_lines(node, em, outer, s, start)
    if segment == 1:  # the iteration's forward again, up to what its backward reads
        nodes = live_nodes(body.nodes, saves)
        nodes = prune_kernel_outputs(nodes, saves)
        keep = {v.id for v in saves}
        lines += em.block(nodes, keep, inner, plan=BufferPlan(nodes, keep))
        return lines, inner, []
    nexts = nexts + [body.outputs[k] for k in a.get("derived", ())]
    carried = carried + [body.inputs[1 + k] for k in a.get("derived", ())]
    lines += [f"{outer}{pack} = []",
              _comment(f"{outer}for {counter} in range({start}, {stop}):",
                       "the segment's forward again, saving what its backward reads")]
    nodes = live_nodes(body.nodes, nexts + saves)
    nodes = prune_kernel_outputs(nodes, nexts + saves)
    # what the backward reads first; the carried values' next state after, and not in
    # the segment's last iteration (the next segment starts from its own checkpoint)
    saving = {id(n) for n in live_nodes(nodes, saves)}
    first_part = [n for n in nodes if id(n) in saving]
    rest = [n for n in nodes if id(n) not in saving]
    read_later = {x.id for n in rest for x in n.inputs if isinstance(x, Value)}
    keep = {v.id for v in nexts} | {v.id for v in saves} | read_later
    lines += em.block(first_part, keep, inner, plan=BufferPlan(first_part, keep))
    saved_names = list(dict.fromkeys(namer.of(v) for v in saves))
    lines.append(f"{inner}{pack}.append(({_tuple(saved_names)}))")
    keep = {v.id for v in nexts}
    step = em.block(rest, keep, inner, plan=BufferPlan(rest, keep))
    step += _rebind(inner, [namer.of(b) for b in carried], [namer.of(o) for o in nexts])
    if step and segment > 1:
        # (what only the next state reads would otherwise live on into the backward)
        kept = {namer.of(v) for v in saves} | {namer.of(b) for b in carried}
        unread = sorted({namer.of(o) for n in first_part for o in n.outputs if o.id in read_later} - kept,
                        key=natural_order)
        lines += [_comment(f"{inner}if {counter} == {stop} - 1:", "the next segment starts from its checkpoint")]
        lines += [f"{inner}{INDENT}del {', '.join(unread)}"] if unread else []
        lines += [f"{inner}{INDENT}break"] + step
    lines.append(f"{outer}for {counter} in range({stop} - 1, {start} - 1, -1):")
    read_names = {namer.of(v) for v in saves if v.id in read}
    unpack = [name if name in read_names else "_" for name in saved_names]
    # (taken off the list as the backward reaches them: their memory goes with them)
    first = [f"{inner}{_tuple(unpack)} = {pack}.pop()"] if any(u != "_" for u in unpack) else []
    return lines, inner, first


def _derived_lines(node, em, indent, segment, start):
    """The carried values a checkpointed loop forms again at a segment's start
    (ir/checkpoint.derived_carries): the body's view of its next state, at the iteration
    before the segment; the initial value in the first segment."""
    a, namer = node.attrs, em.namer
    body = a["body"]
    derived = a.get("derived", ())
    initial = node.inputs[len(node.inputs) - len(derived):]
    next_of = {o.id: j for j, o in enumerate(body.outputs)}  # (a carried value's next state)
    lines = []
    for k, x in zip(derived, initial):
        view = body.outputs[k].node
        args = []
        for v in view.inputs:
            if v.node is not None and v.node.op.name == "loop_index":  # (at the iteration before)
                first, step = v.node.attrs["start"], v.node.attrs["step"]
                at = (f"{start}" if first == 1 else f"{start} + {first - 1}" if first > 1 else f"{start} - {1 - first}") \
                    if step == 1 else f"({start} - 1) * {step} + {first}"
                args.append(ast.parse(at, mode="eval").body)
            elif v.id in next_of:  # (another carried value's next state: its state at the start)
                args.append(A.name(namer.of(body.inputs[1 + next_of[v.id]])))
            else:
                args.append(em.arg(v))
        expr = expr_source(view.op.emit(args, view.attrs, view))
        lines.append(_comment(f"{indent}{namer.of(body.inputs[1 + k])} = {expr} if {segment} else "
                              f"{expr_source(em.arg(x))}", "formed again, not kept"))
    return lines


def _zeros(v):
    return expr_source(A.npcall("zeros", A.literal(v.shape), A.dtype_expr(v.dtype)))


def _empty(shape, dtype):
    return expr_source(A.npcall("empty", A.literal(tuple(shape)), A.dtype_expr(dtype)))


def _tuple(names):
    return names[0] + "," if len(names) == 1 else ", ".join(names)


def _rebind(indent, targets, values):
    pairs = [(t, v) for t, v in zip(targets, values) if t != v]
    if not pairs:
        return []
    return [f"{indent}{', '.join(t for t, _ in pairs)} = {', '.join(v for _, v in pairs)}"]


def _is_zero(v):
    n = v.node
    return n is not None and n.op.name == "ew" and not n.inputs and \
        all(e == 0 for e in n.attrs["exprs"])


def _share_carried_names(nodes, carried, nexts, read_after, namer):
    """`y = y * 2.0` rather than `y_2 = y * 2.0; y = y_2`: a carried value's next state
    takes the variable of the current one when nothing reads the current one after it is
    computed — no later node, and nothing after the block (`read_after`: values saved,
    accumulated or passed on at the end of the iteration). Returns the ids of the carried
    values whose variable is shared so."""
    position = {}
    for k, n in enumerate(nodes):
        for o in n.outputs:
            position[o.id] = k
    saved = {v.id for v in read_after if isinstance(v, Value)}
    taken, shared = set(), set()
    for b, o in zip(carried, nexts):
        k = position.get(o.id)
        if k is None or b.id in saved or o.id in taken or o.id in namer.names:
            continue
        if len(nodes[k].outputs) > 1 or nodes[k].op.block is not None or nodes[k].op.statement:
            continue  # written in several statements: the first may overwrite b before the next reads it
        if any(isinstance(x, Value) and x.id == b.id for n in nodes[k + 1:] for x in n.inputs):
            continue
        namer.names[o.id] = namer.of(b)
        taken.add(o.id)
        shared.add(b.id)  # (rebound by o: no other value may alias b's variable)
    return shared
