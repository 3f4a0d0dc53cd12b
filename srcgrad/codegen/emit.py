"""IR graph → the source text of one Python function.

One assignment per value, named after the user's variable where it is known (`h`,
`grad_h`) and `t0, t1, ...` otherwise; each line ends with a comment naming the user's
line it comes from. Cheap views used once (`W.T`, `g.reshape(...)`) are written inline
where they are used. The text depends only on the graph, so equal graphs give equal
source.
"""
import ast
import builtins
import keyword
import re

from ..ops.indexing import added_into
from ..ir.graph import Value
from ..ir.passes import live_nodes
from ..utils.locations import format_loc_range
from . import astbuild as A
from . import layout
from .buffers import OUT_FUNCTIONS, BufferPlan, detached_views, large, makes_fresh
from .kernels import added_terms, kernel_statements
from .release import insert_releases, releasable_names
from .source import COMMENT_COLUMN, comment_text, expr_source, statement_lines

_INLINE_OPS = {"transpose", "reshape", "getitem", "lt", "le", "gt", "ge", "eq", "ne", "loop_index"}
_RESERVED = {"np", "math", "special", "hooks", "scratch"} | set(dir(builtins)) | set(keyword.kwlist)


class Namer:
    def __init__(self):
        from .loader import HELPERS
        self.taken = set(_RESERVED) | HELPERS  # (functions generated code calls by name)
        self.names = {}
        self.temps = 0

    def fresh(self, base):
        base = re.sub(r"\W", "_", base) or "v"
        if base[0].isdigit():
            base = "v" + base
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def temp(self):
        while True:
            name = f"t{self.temps}"
            self.temps += 1
            if name not in self.taken:
                self.taken.add(name)
                return name

    def of(self, v):
        n = self.names.get(v.id)
        if n is None:
            n = self.names[v.id] = self.fresh(v.name) if v.name else self.temp()
        return n


def generate(graph, fn_name, params, outputs, header=(), extra_params=(), constants=()):
    """Source of `def fn_name(*params, *extra_params)` returning a tuple of `outputs`.

    params: Values given as arguments. outputs: Values (or None) to return.
    constants: Values read from module globals of the same name (captured arrays)."""
    namer = Namer()
    for p in list(params) + list(constants):
        namer.of(p)
    given = list(params) + list(constants)
    nodes = live_nodes(graph.nodes, outputs, available={p.id for p in given})
    missing = _missing_inputs(nodes, given, outputs)
    if missing:
        raise RuntimeError(f"internal error: generated code would read undefined values {missing}")

    em = Emitter(namer)
    out_ids = {v.id for v in outputs if isinstance(v, Value)}
    body = _given_histories(params, em)
    columns = layout.column_major_params(nodes, params)
    body += layout.prologue([namer.of(p) for p in columns])
    kept = []  # (name, shape, dtype) of the arrays taken from the function's pool (scratch.py)

    def new_scratch(shape, dtype):
        order = ", 'F'" if layout.column_major(shape) else ""  # (in the function's layout)
        kept.append((namer.fresh("kept"), shape, dtype, order))
        return kept[-1][0]
    plan = BufferPlan(nodes, out_ids, new_scratch)
    with layout.columns(bool(columns)):
        block = em.block(nodes, out_ids, plan=plan)
    body += [f"    {name} = scratch.take({shape!r}, {expr_source(A.dtype_expr(dtype))}{order})".ljust(COMMENT_COLUMN)
             + "  # kept from the last call: codegen/scratch.py" for name, shape, dtype, order in kept]
    body += block
    if kept:
        body.append(f"    scratch.give({', '.join(k[0] for k in kept)})")
    rets = [em.arg(v) if isinstance(v, Value) else A.const(None) for v in outputs]
    body.append("    return (" + ", ".join(expr_source(r) for r in rets) + ("," if len(rets) == 1 else "") + ")")
    if not nodes and not body:
        body.append("    pass")
    sig = ", ".join([namer.of(p) for p in params] + list(extra_params))
    lines = [f"# {comment_text(h)}" for h in header] + [f"def {fn_name}({sig}):"] + body
    large, small = releasable_names(nodes, namer, plan, em.renamed)
    source = insert_releases("\n".join(lines) + "\n", large, [namer.of(p) for p in params] + list(extra_params),
                             small)
    return source, {p.id: namer.of(p) for p in given}


def _given_histories(params, em):
    """A loop's saved histories given as arguments (an eager backward reads the arrays
    the recorded iterations made): one list of tuples per loop, as the loop's own code
    would have saved them (codegen/loops.py)."""
    by_loop = {}
    for p in params:
        if p.node is not None and p.node.op.name == "loop" and p.dtype == object:
            by_loop.setdefault(id(p.node), []).append(p)
    lines = []
    for hs in by_loop.values():
        hs.sort(key=lambda h: h.index)
        pack = em.namer.fresh("saved")
        names = [em.namer.of(h) for h in hs]
        line = f"    {pack} = list(zip({', '.join(names)}))"
        lines.append(line.ljust(COMMENT_COLUMN) + "  # what each iteration saved, as the loop would have")
        for k, h in enumerate(hs):
            em.packs[h.id] = (pack, k)
    return lines


class Emitter:
    """Statements for a list of nodes, with one Namer for the whole function: a loop's
    body is a block of its own (codegen/loops.py), nested in the function's."""

    def __init__(self, namer):
        self.namer = namer
        self.inlined = {}   # value id -> the expression written in place of its name
        self.exported = set()  # names a loop leaves for the code after it (codegen/loops.py)
        self.packs = {}        # a loop's saved history -> (the list holding it, its position)
        self.handed = set()    # values whose variable a loop takes over (rebinds): never aliased
        self.into = {}         # id(node) -> an array its value is added into instead (codegen/loops.py)
        self.summed = {}       # id(kernel) -> (a sum its terms are added into instead, ...): the same
        self.added = {}        # id(node) -> (a sum its value is added into instead, subtracted?)
        self.detached = set()  # ids of view nodes written as copies (buffers.detached_views)
        self.at = (None, 0)    # (the BufferPlan, the position) of the block op being written
        self.formed = {}       # id(kernel) -> outputs formed where read (_formed_at_uses)
        self.renamed = []      # (name, value): a loop's backward's own names of values (codegen/loops.py)

    def arg(self, x):
        if not isinstance(x, Value):
            return A.literal(x)
        if x.id in self.inlined:
            return self.inlined[x.id]
        return A.name(self.namer.of(x))

    def block(self, nodes, keep, indent="    ", plan=None):
        """Source lines computing `nodes`. keep: ids of values read after the block,
        never written inline. plan: a BufferPlan of these nodes, to write results into
        the memory of arrays no longer read (codegen/buffers.py)."""
        namer = self.namer
        # a cheap view is written inline only where it is read once, and never into a
        # fused kernel or a loop (they read their inputs by name)
        uses, by_name = {}, set()
        for n in nodes:
            for x in n.inputs:
                if isinstance(x, Value):
                    uses[x.id] = uses.get(x.id, 0) + 1
                    if n.op.name == "ew" or n.op.block is not None:
                        by_name.add(x.id)
        self.handed |= _hand_over_to_loops(nodes, uses, keep, namer)
        for n in nodes:  # (a block written twice, a checkpointed loop's body, decides again)
            for o in n.outputs:
                self.inlined.pop(o.id, None)
        self.detached |= plan.detached if plan is not None else detached_views(nodes, keep)
        if plan is not None:  # (a loop's body is a block inside this one: its entries join these)
            self.formed.update(_formed_at_uses(nodes, keep))
        lines = []
        for i, n in enumerate(nodes):
            stmts, fresh, reused = self._node(i, n, plan, uses, keep, by_name, indent)
            if plan is not None:
                plan.after(i, n, [(o, namer.of(o)) for o in fresh], reused)
            comment = format_loc_range(n.loc)
            for s in stmts:  # statements, or a block's source lines
                if isinstance(s, str):
                    lines.append(s)
                else:
                    lines.extend(statement_lines(s, indent=indent, comment=comment))
        return lines

    def _node(self, i, n, plan, uses, keep, by_name, indent):
        """(statements or source lines, outputs computed into new or reused memory,
        ids of inputs whose memory was taken over) for node n, the i-th of its block."""
        namer = self.namer
        if id(n) in self.into:  # slices added where they go in a sum (ops/indexing.added_into)
            return added_into(n, [self.arg(x) for x in n.inputs], self.into[id(n)]), [], ()
        if id(n) in self.added:  # (a term of a sum's kernel: codegen/loops.py)
            target, negative, number = self.added[id(n)]
            expr = n.op.emit([self.arg(x) for x in n.inputs], n.attrs, n)
            expr = A.method(expr, "item") if number else expr
            return [ast.AugAssign(target=A.store(target), op=ast.Sub() if negative else ast.Add(), value=expr)], [], ()
        if n.op.block is not None:
            self.at = (plan, i)  # (a loop's backward asks which cotangents die into it)
            return n.op.block(n, self, indent), [], ()
        if n.op.name == "ew":
            arg_names = [namer.of(x) for x in n.inputs]
            first, summed = [], self.summed.get(id(n))
            if summed is not None:  # an output's terms added where they go in a sum (first:
                target, prev, k, gone, number = summed  # the other outputs may take over the inputs' memory)
                first = added_terms(n.attrs["exprs"][k], prev, target, arg_names,
                                    [(x.shape, x.dtype) for x in n.inputs], gone, number)
            formed = {kb: (ka, c) for kb, (ka, c) in self.formed.get(id(n), {}).items()
                      if summed is None or ka != k}  # (formed from an output this kernel holds)
            skip = set(formed) | ({k} if summed is not None else set())
            exprs, avals, outs = _distinct_outputs(n, namer, self.handed, skip)
            for kb, (ka, factor) in formed.items():  # (each reader forms it: `2.0 * t24`)
                self.inlined[n.outputs[kb].id] = A.binop(A.literal(factor), ast.Mult(), A.name(namer.of(n.outputs[ka])))
            dying = set(plan.dying(i, n)) if plan is not None else set()
            ids = [x.id for x in n.inputs if isinstance(x, Value)]
            reusable = [k for k, x in enumerate(n.inputs)
                        if isinstance(x, Value) and x.id in dying and ids.count(x.id) == 1]
            report = {}
            by_name = {namer.of(o): o for o in outs}
            take = None if plan is None else (lambda shape, dtype, name: plan.take_free(shape, dtype,
                                                                                    by_name.get(name)))
            stmts = kernel_statements(exprs, avals, arg_names, [(x.shape, x.dtype) for x in n.inputs],
                                      [namer.of(o) for o in outs], namer.temp,
                                      n.attrs.get("names", ()), namer.fresh, reusable, report,
                                      take) if outs else []
            fresh = [o for o in outs if namer.of(o) in report.get("fresh", ())]
            return first + stmts, fresh, {n.inputs[k].id for k in report.get("reused", ())}
        if n.op.statement:
            args = [self.arg(x) for x in n.inputs]
            stmts = n.op.emit(args, n.attrs, n, namer.of(n.out) if n.outputs else None)
            used = ()
            if plan is not None and args:  # (its copy to write into: a dying input instead)
                stmts, used = plan.taken_over_copy(i, n, stmts, args[0])
                stmts = plan.scaled_in_place(i, n, stmts, args)
            return stmts, (list(n.outputs) if makes_fresh(n.op.name) else []), used
        o = n.out if n.outputs else None
        into = OUT_FUNCTIONS.get(n.op.name)
        if plan is not None and into and len(n.outputs) == 1 and large(o):
            buffer = plan.take_free(o.shape, o.dtype, o)
            if buffer is not None:  # the result written into an array no longer read
                expr = A.npcall(into, *[self.arg(x) for x in n.inputs], out=A.name(buffer))
                return [A.assign(namer.of(o), expr)], [o], ()
        expr = n.op.emit([self.arg(x) for x in n.inputs], n.attrs, n)
        if id(n) in self.detached:
            return [A.assign(namer.of(o), A.method(expr, "copy"))], [o], ()
        # (the identity on a value a loop rebinds keeps its own variable: read after the
        # loop, the loop's name holds another value)
        if isinstance(expr, ast.Name) and len(n.outputs) == 1 and not o.name and \
                not any(isinstance(x, Value) and x.id in self.handed for x in n.inputs):
            namer.names[o.id] = expr.id  # the op is the identity on values: no new name
            return [], [], ()
        if n.op.name in _INLINE_OPS and uses.get(o.id, 0) == 1 and o.id not in keep \
                and o.id not in by_name:
            self.inlined[o.id] = expr
            return [], [], ()
        if len(n.outputs) > 1:  # a multi-output op's expression is a tuple: unpack it
            return [A.assign(ast.Tuple(elts=[A.store(namer.of(v)) for v in n.outputs],
                                       ctx=ast.Store()), expr)], [], ()
        return [A.assign(namer.of(o), expr)], ([o] if makes_fresh(n.op.name) else []), ()


def _hand_over_to_loops(nodes, uses, keep, namer):
    """A loop's carried value (or its backward's cotangent) takes over the variable of its
    initial value when the loop is all that reads it: `y = 2 * x` then `for ...: y = 2 * y`,
    not `t0 = 2 * x; y = t0`. Returns the ids of the values handed over."""
    handed = set()
    defined = {o.id for n in nodes for o in n.outputs}
    for n in nodes:
        if n.op.name == "loop":
            body, n_carry = n.attrs["body"], n.attrs["n_carry"]
            pairs = zip(body.inputs[1:1 + n_carry], n.inputs[:n_carry])
        elif n.op.name == "loop_grad":
            pairs = zip(n.attrs["backward"].inputs, n.inputs[:n.attrs["n_out"]])
        else:
            continue
        for b, x in pairs:
            if isinstance(x, Value) and uses.get(x.id) == 1 and x.id in defined \
                    and x.id not in keep and x.id not in namer.names:
                namer.names[x.id] = namer.of(b)
                handed.add(x.id)
    return handed


def _distinct_outputs(n, namer, handed=(), skip=()):
    """A kernel output that is one of its inputs, or repeats an earlier output, is not
    computed again: its value takes that name — unless a loop takes that name over
    (`handed`), rebinding it. Returns the outputs left to compute (not those at the
    positions in `skip`: added into a sum instead, codegen/loops.py, or formed where read,
    _formed_at_uses)."""
    from ..symbolic.kernel import canon_symbol
    exprs, avals, outs, seen = [], [], [], {}
    symbols = {canon_symbol(i): x for i, x in enumerate(n.inputs)}
    for k, (o, e, aval) in enumerate(zip(n.outputs, n.attrs["exprs"], n.attrs["avals"])):
        if k in skip:
            continue
        same = symbols.get(e)
        if same is not None and tuple(same.shape) == tuple(aval[0]) and same.dtype == aval[1] \
                and not o.name and same.id not in handed:
            namer.names[o.id] = namer.of(same)
        elif (e, tuple(aval[0])) in seen and not o.name and seen[(e, tuple(aval[0]))].id not in handed:
            namer.names[o.id] = namer.of(seen[(e, tuple(aval[0]))])
        else:
            seen[(e, tuple(aval[0]))] = o
            exprs.append(e)
            avals.append(aval)
            outs.append(o)
    return exprs, avals, outs


def _formed_at_uses(nodes, keep):
    """{id(kernel): {k: (j, c)}}: kernel outputs o_k = c * o_j (a number times another
    output: the gradients of an RK4 step's k2 and k3 are twice that of k1) read only as the
    array an `accumulate` writes its sum into, all before o_j's last read (o_j unchanged
    until then: an array is overwritten only where it is read last, codegen/buffers.py).
    Each such reader forms `c * o_j` as the array it writes into, where it would have
    copied o_k: the same work, and o_k is never held beside its copies."""
    readers, last = {}, {}
    for i, m in enumerate(nodes):
        for x in m.inputs:
            if isinstance(x, Value):
                readers.setdefault(x.id, []).append((i, m))
                last[x.id] = i
    found, sources = {}, {}
    for n in nodes:
        if n.op.name != "ew" or len(n.outputs) < 2:
            continue
        exprs, outs = n.attrs["exprs"], n.outputs
        split = [e.as_coeff_Mul() for e in exprs]
        for kb, (ob, eb) in enumerate(zip(outs, exprs)):
            cb, rest = split[kb]
            if ob.id in keep or ob.dtype.kind != "f" or not ob.shape or rest.is_Number or not readers.get(ob.id):
                continue
            uses = readers[ob.id]
            if not all(m.op.name == "accumulate" and m.attrs["n_dense"] == 1 and m.inputs[0] is ob
                       and sum(x is ob for x in m.inputs) == 1 for _, m in uses):
                continue
            if kb in sources.get(id(n), ()):  # (another is formed from it: it is held)
                continue
            for ja, (oa, ea) in enumerate(zip(outs, exprs)):
                ca, rest_a = split[ja]
                if ja == kb or ja in found.get(id(n), {}) or rest_a != rest or ea.is_Symbol or ca == 0 \
                        or tuple(oa.shape) != tuple(ob.shape) or oa.dtype != ob.dtype or oa.id == ob.id:
                    continue
                if oa.id not in keep and last.get(oa.id, -1) <= max(i for i, _ in uses):
                    continue
                found.setdefault(id(n), {})[kb] = (ja, float(cb / ca))
                sources.setdefault(id(n), set()).add(ja)
                break
    return found


def _missing_inputs(nodes, params, outputs):
    defined = {p.id for p in params}
    for n in nodes:
        defined.update(o.id for o in n.outputs)
    missing = []
    for n in nodes:
        for x in n.inputs:
            if isinstance(x, Value) and x.id not in defined:
                missing.append(x)
    missing += [v for v in outputs if isinstance(v, Value) and v.id not in defined]
    return missing
