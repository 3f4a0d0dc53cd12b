"""`del` for large arrays the generated function no longer reads.

A generated function is one long block: every local lives until it returns, so a large
intermediate the backward never reads would stay in memory through the whole backward
(bundle adjustment's sweep: 22.7 MB at its peak, 13.6 MB with these lines). After the
last top-level statement that names a large value's variable, the function drops it:

    t17 = t16 * t10 * t7                                  # ba.py:50-51
    del t9, t16

A loop's body drops its own temporaries the same way, after the last statement of the
body naming them: otherwise each lives until the next iteration rebinds it, so all of
them are alive at once (a backward body of GradBench's ode: 25 arrays, where 6 suffice).

Small values are dropped in batches, and only in a function of many of them: a straight
line of scalar code (a determinant by expansion in minors, 600 numbers) would otherwise
keep every number it computed until it returns. Every BATCH of them that the function
no longer reads become one line:

    del t3, t5, t8, t9, t12, t13, t14, t17, t20, t21, t22, t25, t26, t27, t30, t31

Only variables of arrays of at least MIN_SIZE elements (4 kB of float64, a page: smaller
ones cost the allocator little, and the lines would only make the code longer), never a
parameter, a variable a later statement names — including one an op writes into
(`out=t7`), so the buffer reuse of codegen/buffers.py sees every array it may take — nor,
in a loop, one read after the loop. A view is dropped too (once its base is dropped, it is
what keeps the base's memory alive), and so is a loop's carried variable, between its last
read in the body and the binding that carries it on (`t22 = grad_y.copy(); del grad_y`
... `grad_y = grad_y_2`), and after the loop.
"""
import ast

from ..ir.graph import Value

MIN_SIZE = 1 << 9
#: small values are dropped only in a function of at least this many of them ...
MANY_SMALL = 256
#: ... this many to a `del` line
BATCH = 16


#: ops whose result may be a view of an input: dropping its variable frees nothing
VIEW_OPS = {"getitem", "reshape", "transpose", "broadcast_to", "loop_index", "diagonal", "windows"}


def releasable_names(nodes, namer, plan=None, renamed=()):
    """(large, small): variables holding an array of at least MIN_SIZE elements that the
    function made, among the values of `nodes` and of their loops' bodies (and `renamed`,
    a loop's backward's own names) — a view of such an array too, and a loop's carried
    variable; never kept memory (codegen/scratch.py: `plan`) — and variables of the small
    values of `nodes` when they are many."""
    owners = {}
    for v in _values(nodes):
        name = namer.names.get(v.id)
        if name is not None:  # (a loop's backward yields its forward body's values again)
            owners.setdefault(name, {})[v.id] = v
    for name, v in renamed:  # (names a loop's backward gave its values, given back after it)
        owners.setdefault(name, {})[v.id] = v
    top = {o.id for n in nodes for o in n.outputs}
    names, small = set(), set()
    for name, values in owners.items():
        vs = list(values.values())
        if any(v.dtype == object for v in vs):
            continue
        roots = [r for r in map(_made_root, vs) if r is not None and r.ndim and r.size >= MIN_SIZE]
        if len(vs) == 1 and (vs[0].ndim == 0 or vs[0].size < MIN_SIZE) and not roots:
            if vs[0].node is not None and vs[0].id in top:
                small.add(name)
            continue
        if plan is not None and any(v.id in plan.scratch_backed for v in vs):
            continue
        # a view too, of any size: where its base was dropped already, it is what keeps
        # the base alive (a loop's carried variable holds several values: its last one,
        # after the loop)
        if roots:
            names.add(name)
    return names, (small if len(small) >= MANY_SMALL else set())


def _made_root(v):
    """The array v's memory belongs to when the function made it: v, or the array it is
    a view of (a slice, a reshape, a kernel output that is one of its inputs), computed
    by a node; None for a parameter or a value a loop's body is given, or a view of one."""
    while v.node is not None:
        n = v.node
        if n.op.name in VIEW_OPS:
            v = n.inputs[0] if n.inputs and isinstance(n.inputs[0], Value) else None
        elif n.op.name == "ew" and n.attrs["exprs"][v.index].is_Symbol:
            v = n.inputs[int(str(n.attrs["exprs"][v.index])[1:])]
        else:
            return v
        if not isinstance(v, Value):
            return None
    return None


def _values(nodes):
    for n in nodes:
        yield from n.outputs
        for key in ("body", "backward"):
            g = n.attrs.get(key)
            if g is not None and hasattr(g, "nodes"):
                yield from (v for v in g.inputs if isinstance(v, Value))
                yield from _values(g.nodes)


def insert_releases(source, names, params, small=()):
    """`source` (one function) with `del` lines after the last statement naming each of
    `names`: in a loop's body for a variable each iteration binds before it reads it
    (`_in_loops`), else after the last top-level statement, for one the function itself
    assigns. Variables of `small`, at the top level only, are dropped BATCH at a time."""
    names = set(names) - set(params)
    small = set(small) - set(params) - names
    if not names and not small:
        return source
    fn = ast.parse(source).body[0]
    after = {}  # line -> {indentation: names to drop after it}
    in_loops = _in_loops(fn, names)
    carried = [found for loop in _loops(fn) for found in _read_then_rebound(loop, names)]
    for stmt, name in in_loops + carried:
        after.setdefault(stmt.end_lineno, {}).setdefault(stmt.col_offset, []).append(name)
    names -= {name for _, name in in_loops}  # (a carried variable is dropped after its loop too)
    everything = names | small
    last, bound = {}, set()
    for k, stmt in enumerate(fn.body):
        conditional = None
        for n in ast.walk(stmt):
            if isinstance(n, ast.Name) and n.id in everything:
                last[n.id] = k
                if isinstance(n.ctx, ast.Store):
                    if conditional is None:
                        conditional = _conditional_names(stmt)
                    if id(n) not in conditional:
                        bound.add(n.id)
    done = {}  # statement index -> small variables read there for the last time
    for name, k in last.items():
        if name in bound and not isinstance(fn.body[k], ast.Return):
            if name in small:
                done.setdefault(k, []).append(name)
                continue
            stmt = fn.body[k]
            after.setdefault(stmt.end_lineno, {}).setdefault(stmt.col_offset, []).append(name)
    pending = []
    for k in sorted(done):
        pending += done[k]
        if len(pending) >= BATCH:
            stmt = fn.body[k]
            after.setdefault(stmt.end_lineno, {}).setdefault(stmt.col_offset, []).extend(pending)
            pending = []
    if not after:
        return source
    lines = source.split("\n")
    out = []
    for number, line in enumerate(lines, start=1):
        out.append(line)
        for col, dropped in sorted(after.get(number, {}).items(), reverse=True):  # (inner blocks first)
            dropped = sorted(dropped, key=natural_order)
            for k in range(0, len(dropped), BATCH):
                out.append(" " * col + f"del {', '.join(dropped[k:k + BATCH])}")
    return "\n".join(out)


def _in_loops(fn, names):
    """(statement, name): a loop's variable among `names`, dropped after the last statement
    of the loop's body naming it. The body binds it before any read in every iteration
    (so no iteration reads the last one's), and outside the loop it is only ever such a
    variable of other loops (a checkpointed backward runs the forward's body again):
    without this, a body's temporaries live until the next iteration rebinds them, all
    of them at once."""
    loops, enclosing, parent = [], {}, {}

    def visit(node, loop):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Name) and child.id in names:
                enclosing.setdefault(child.id, []).append(loop)
            if isinstance(child, ast.For):
                loops.append(child)
                parent[id(child)] = loop
                visit(child, child)
            else:
                visit(child, loop)

    def within(inner, outer):  # (loop `inner` is `outer` or nested in it; None: the top level)
        while inner is not None and inner is not outer:
            inner = parent[id(inner)]
        return inner is outer
    visit(fn, None)
    local = {id(loop): _bound_first(loop.body, names) for loop in loops}
    found = []
    for loop in loops:
        for name in local[id(loop)]:
            elsewhere = [f for f in enclosing[name] if not within(f, loop)]
            if all(f is not None and name in local[id(f)] and not within(loop, f) for f in elsewhere):
                k = max(k for k, stmt in enumerate(loop.body)
                        if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt)))
                found.append((loop.body[k], name))
    return found


def _loops(fn):
    return [n for n in ast.walk(fn) if isinstance(n, ast.For)]


def _read_then_rebound(loop, names):
    """(statement, name) for a loop's carried variable among `names` that the body reads,
    then binds again later at its top level (`t22 = grad_y.copy()` ... `grad_y = grad_y_2`):
    between its last read and that binding it holds an array nothing reads, which is
    dropped after the read. Not in a loop that may leave before the binding (`break`)."""
    if any(isinstance(n, ast.Break) for n in ast.walk(loop)):
        return []
    found = []
    for name in sorted(names - _bound_first(loop.body, names)):
        rebind = next((k for k, stmt in enumerate(loop.body) if isinstance(stmt, ast.Assign) and any(
            isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
            for t in stmt.targets for n in ast.walk(t))), None)
        if rebind is None:
            continue
        named = [k for k, stmt in enumerate(loop.body[:rebind + 1])
                 if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt))]
        reads = [k for k in named if k < rebind]
        if reads and not _reads(loop.body[rebind], name):
            found.append((loop.body[max(reads)], name))
    return found


def _reads(stmt, name):
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in ast.walk(stmt))


def _bound_first(body, names):
    """Names among `names` whose first appearance in `body` binds them, on every path."""
    seen, bound = set(), set()
    for stmt in body:
        conditional = None
        stored = set()
        updated = {id(n.target) for n in ast.walk(stmt) if isinstance(n, ast.AugAssign)}  # (`t += 1` reads t)
        for n in ast.walk(stmt):
            if isinstance(n, ast.Name) and n.id in names and n.id not in seen:
                if isinstance(n.ctx, ast.Load) or id(n) in updated:
                    stored.discard(n.id)
                    seen.add(n.id)
                elif isinstance(n.ctx, ast.Store):
                    if conditional is None:
                        conditional = _conditional_names(stmt)
                    if id(n) not in conditional:
                        stored.add(n.id)
        bound |= stored
        seen |= stored
    return bound


def _conditional_names(stmt):
    """ids of the Name nodes of stmt bound only on some paths: inside an `if` or `try` (a
    loop of the generated code runs at least once)."""
    return {id(m) for n in ast.walk(stmt) if isinstance(n, (ast.If, ast.Try))
            for m in ast.walk(n) if isinstance(m, ast.Name)}


def natural_order(name):
    """t9 before t16."""
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return (head, int(tail) if tail else -1)
