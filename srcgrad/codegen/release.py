"""`del` for large arrays the generated function no longer reads.

A generated function is one long block: every local lives until it returns, so a large
intermediate the backward never reads would stay in memory through the whole backward
(bundle adjustment's sweep: 22.7 MB at its peak, 13.6 MB with these lines). After the
last top-level statement that names a large value's variable, the function drops it:

    t17 = t16 * t10 * t7                                  # ba.py:50-51
    del t9, t16

Only variables of arrays of at least MIN_SIZE elements (32 kB of float64: smaller ones
cost the allocator little, and the lines would only make the code longer), only at the function's top level
(a loop body's variables are rebound each iteration), and never a parameter or a
variable a later statement names — including one an op writes into (`out=t7`), so the
buffer reuse of codegen/buffers.py sees every array it may take.
"""
import ast

from ..ir.graph import Value

MIN_SIZE = 1 << 12


#: ops whose result may be a view of an input: dropping its variable frees nothing
VIEW_OPS = {"getitem", "reshape", "transpose", "broadcast_to", "loop_index"}


def releasable_names(nodes, namer, plan=None):
    """Variables of large arrays that own their memory, among the values of `nodes` and of
    their loops' bodies: not a view, not a second name of another value's array, not kept
    memory (codegen/scratch.py) and not memory a later value took over (`plan`)."""
    owners = {}
    for v in _values(nodes):
        name = namer.names.get(v.id)
        if name is not None:
            owners.setdefault(name, []).append(v)
    names = set()
    for name, values in owners.items():
        if len(values) != 1:  # (a loop's carried variable, or an alias: it holds several arrays)
            continue
        (v,) = values
        if v.dtype == object or v.ndim == 0 or v.size < MIN_SIZE or v.node is None \
                or v.node.op.name in VIEW_OPS:
            continue
        if v.node.op.name == "ew" and v.node.attrs["exprs"][v.index].is_Symbol:
            continue  # (an output that is one of the kernel's inputs)
        if plan is not None and (name in plan.taken or v.id in plan.scratch_backed):
            continue
        names.add(name)
    return names


def _values(nodes):
    for n in nodes:
        yield from n.outputs
        for key in ("body", "backward"):
            g = n.attrs.get(key)
            if g is not None and hasattr(g, "nodes"):
                yield from (v for v in g.inputs if isinstance(v, Value))
                yield from _values(g.nodes)


def insert_releases(source, names, params):
    """`source` (one function) with `del` lines after the last top-level statement naming
    each of `names` that the function itself assigns."""
    names = set(names) - set(params)
    if not names:
        return source
    fn = ast.parse(source).body[0]
    last, bound = {}, set()
    for k, stmt in enumerate(fn.body):
        conditional = None
        for n in ast.walk(stmt):
            if isinstance(n, ast.Name) and n.id in names:
                last[n.id] = k
                if isinstance(n.ctx, ast.Store):
                    if conditional is None:
                        conditional = _conditional_names(stmt)
                    if id(n) not in conditional:
                        bound.add(n.id)
    after = {}
    for name, k in last.items():
        if name in bound and not isinstance(fn.body[k], ast.Return):
            after.setdefault(fn.body[k].end_lineno, []).append(name)
    if not after:
        return source
    lines = source.split("\n")
    out = []
    for number, line in enumerate(lines, start=1):
        out.append(line)
        if number in after:
            out.append(f"    del {', '.join(sorted(after[number], key=_natural))}")
    return "\n".join(out)


def _conditional_names(stmt):
    """ids of the Name nodes of stmt bound only on some paths: inside an `if` or `try` (a
    loop of the generated code runs at least once)."""
    return {id(m) for n in ast.walk(stmt) if isinstance(n, (ast.If, ast.Try))
            for m in ast.walk(n) if isinstance(m, ast.Name)}


def _natural(name):
    """t9 before t16."""
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return (head, int(tail) if tail else -1)
