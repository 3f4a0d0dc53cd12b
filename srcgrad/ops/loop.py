"""Loops: a repeated segment of a recorded run, written back as one (ir/reroll.py).

`loop` runs its body graph `count` times. The body's inputs are the iteration counter,
then the carried values (their initial values are the node's first inputs), then the
invariants (the node's other inputs); its outputs are the carried values' next states,
then the values of the last iteration read after the loop. The node's outputs are the
body's outputs after the last iteration, then one list per value saved for the
backward (a "saved history": the value at every iteration).

The derivative of a loop is another loop (`loop_grad`), running the body's own
backward in reverse over the saved histories: the body is differentiated once, by the
same rules as any graph, whatever the count. The cotangents of the carried values flow
from one reverse iteration to the one before; the gradients of the invariants add up.
"""
import ast

import numpy as np

from ..codegen import astbuild as A
from .registry import Op, register

_SAVED = np.dtype(object)  # the type of a saved history (a Python list of arrays)


def _no_eager(*args, **kwargs):
    raise RuntimeError("a loop node exists only in generated code (srcgrad's re-rolled loops)")


# -- the iteration counter, as an index that moves by a fixed step: `seq[t + 1]` -----------
def _index_emit(args, attrs, node):
    i, start, step = args[0], attrs["start"], attrs["step"]
    e = i if step == 1 else A.binop(i, ast.Mult(), A.num(step))
    return e if start == 0 else A.binop(e, ast.Add(), A.num(start))


register(Op("loop_index", "special", lambda i, start, step: np.asarray(start + step * i),
            infer=lambda inputs, attrs: [((), np.dtype(np.int64))], vjp=None, differentiable=False,
            emit=_index_emit, fmt_attrs=lambda attrs: f"{attrs['start']} + {attrs['step']}*i"))


# -- the loop ---------------------------------------------------------------------------
def _loop_infer(inputs, attrs):
    body = attrs["body"]
    return [(o.shape, o.dtype) for o in body.outputs] + [((), _SAVED)] * len(attrs["saves"])


def _loop_vjp(node, gs):
    from ..compiler import differentiate_body
    outer = node.outputs[0].graph
    body, n_carry, count = node.attrs["body"], node.attrs["n_carry"], node.attrs["count"]
    n_out = len(body.outputs)
    wrt = _needs_gradient(node, outer.active)
    if not wrt:
        return [None] * len(node.inputs)
    carried = body.inputs[1:1 + n_carry] if outer.one_function else None
    bwd = differentiate_body(body, [body.inputs[1 + k] for k in wrt], carried)
    # what the body's backward reads of the forward: saved per iteration, or recomputed
    # from the counter (loop_index), or an invariant read directly
    defined = {v.id: v for n in body.nodes for v in n.outputs}
    carried_in = {v.id for v in body.inputs[1:1 + n_carry]}
    invariant_in = {v.id: k for k, v in enumerate(body.inputs) if k > n_carry}
    saves, invariant_reads, seen = list(node.attrs["saves"]), [], {v.id for v in node.attrs["saves"]}
    for n in bwd.nodes:
        for x in n.inputs:
            if not hasattr(x, "id") or x.id in seen:
                continue
            seen.add(x.id)
            if x.id in invariant_in:
                invariant_reads.append(x)
            elif x.id in carried_in or (x.id in defined and defined[x.id].node.op.name != "loop_index"):
                saves.append(x)
    new_saves = saves[len(node.attrs["saves"]):]
    node.attrs = dict(node.attrs, saves=tuple(saves))
    from ..ir.graph import Value
    for v in new_saves:
        node.outputs.append(Value(outer, (), _SAVED, node, len(node.outputs),
                                  name=(v.name + "_saved") if v.name else None))
    histories = node.outputs[n_out:]
    cts = []
    for o, g in zip(node.outputs[:n_out], gs[:n_out]):
        cts.append(g if g is not None else outer.filled(0, o))
    invariants = [node.inputs[invariant_in[x.id] - 1] for x in invariant_reads]
    grads = outer.emit("loop_grad", cts + histories + invariants, body=body, backward=bwd, count=count,
                       n_carry=n_carry, n_out=n_out, saves=tuple(saves), invariant_reads=tuple(invariant_reads),
                       wrt=tuple(wrt), avals=tuple((body.inputs[1 + k].shape, body.inputs[1 + k].dtype) for k in wrt))
    grads = grads if isinstance(grads, tuple) else (grads,)
    result = [None] * len(node.inputs)
    for k, gr in zip(wrt, grads):
        result[k] = gr
    return result



def _needs_gradient(node, active):
    """Positions of the loop's inputs that need a gradient: float inputs depending on what
    is differentiated, and every carried value that becomes such a value in the body."""
    body, n_carry = node.attrs["body"], node.attrs["n_carry"]
    active = active or set()
    need = {k for k, x in enumerate(node.inputs)
            if hasattr(x, "id") and x.id in active and x.dtype.kind in "fc"}
    while True:
        live = {body.inputs[1 + k].id for k in need}
        for n in body.nodes:
            if n.op.differentiable and any(hasattr(x, "id") and x.id in live for x in n.inputs):
                live.update(o.id for o in n.outputs)
        more = {c for c in range(n_carry) if body.outputs[c].id in live and body.outputs[c].dtype.kind in "fc"}
        if more <= need:
            return sorted(need)
        need |= more


def _fmt_loop(attrs):
    segment = attrs.get("segment")  # (ir/checkpoint.py)
    return f"count={attrs['count']}" + (f", segment={segment}" if segment else "")


def _block(name):
    def lines(node, emitter, indent):
        from ..codegen import loops
        return getattr(loops, name)(node, emitter, indent)
    return lines


register(Op("loop", "special", _no_eager, infer=_loop_infer, vjp=_loop_vjp, fmt_attrs=_fmt_loop,
            torch_name="LoopBackward0")).block = _block("loop_lines")


# -- the reverse loop -----------------------------------------------------------------------
register(Op("loop_grad", "special", _no_eager, infer=lambda inputs, attrs: list(attrs["avals"]),
            vjp=None, differentiable=False,
            fmt_attrs=_fmt_loop)).block = _block("loop_grad_lines")

