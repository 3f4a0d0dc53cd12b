"""Writing a fused elementwise kernel as Python statements.

The formulas of one `ew` node go through sympy's common-subexpression elimination, then
each piece becomes one assignment. A formula whose natural broadcast shape is smaller
than the kernel's declared output shape (a derivative that is constant along an axis)
is broadcast explicitly, so every value has the shape the IR promised.
"""
import sympy as sp

from ..ops import broadcast_shapes
from ..symbolic.kernel import canon_symbol, may_lose_dtype
from ..symbolic.printer import to_ast
from . import astbuild as A

#: formulas bigger than this (as trees) skip CSE: its cost grows faster than linearly
CSE_BUDGET = 2000


def kernel_statements(exprs, avals, arg_names, arg_avals, out_names, new_temp, hints=(), new_name=None):
    """Statements computing each formula of a kernel into `out_names[i]`.

    arg_names[i] / arg_avals[i]: the Python name and (shape, dtype) read for symbol a_i.
    new_temp(): a fresh name for a common subexpression.
    hints: (formula, name) of values the user named; a subexpression equal to one of them
    is written under that name (via new_name(name), which keeps names unique)."""
    hinted = dict(hints)
    names = {canon_symbol(i): n for i, n in enumerate(arg_names)}
    shapes = {canon_symbol(i): tuple(s) for i, (s, _) in enumerate(arg_avals)}
    stmts = []
    unique = []
    for e in exprs:
        if e not in unique:
            unique.append(e)
    from ..symbolic.simplify import tree_size
    if sum(tree_size(e, CSE_BUDGET) for e in unique) < CSE_BUDGET and _repeats(unique):
        temps = []

        def temp_symbols():
            while True:
                t = sp.Symbol(new_temp(), real=True)
                temps.append(t)
                yield t
        replacements, reduced = sp.cse(unique, symbols=temp_symbols(), order="none")
    else:
        replacements, reduced = [], list(unique)
    # an output that is exactly a common subexpression takes its place (no `out = t3`)
    for sym, sub in replacements:
        shapes[sym] = _shape(sub, shapes)
    claimed = {}
    for e, name, (shape, _) in zip(exprs, out_names, avals):
        r = reduced[unique.index(e)]
        # only when the output is that value exactly: no broadcast or dtype fix on top
        if r in dict(replacements) and r not in claimed and not may_lose_dtype(e) \
                and shapes[r] == tuple(shape):
            claimed[r] = name
    for sym, sub in replacements:
        names[sym] = claimed.get(sym) or (new_name(hinted[sub]) if sub in hinted and new_name else sym.name)
        stmts.append(A.assign(names[sym], to_ast(sub, names)))
    computed = {}
    for e, name, (shape, dtype) in zip(exprs, out_names, avals):
        r = reduced[unique.index(e)]
        if claimed.get(r) == name:
            computed[e] = name
            continue
        if e in computed:
            stmts.append(A.assign(name, A.name(computed[e])))
            continue
        computed[e] = name
        value = to_ast(r, names)
        shape = tuple(shape)
        if not r.free_symbols:
            value = A.npcall("full", A.literal(shape), value, A.dtype_expr(dtype))
        else:
            if may_lose_dtype(e):
                value = A.npcall("asarray", value, A.dtype_expr(dtype))
            if _shape(r, shapes) != shape:
                value = A.npcall("broadcast_to", value, A.literal(shape))
        stmts.append(A.assign(name, value))
    return stmts


def _repeats(exprs):
    """Whether some compound subexpression occurs twice (else CSE has nothing to do, and
    most kernels are that small: skipping it halves the time of writing them)."""
    seen = set()
    stack = list(exprs)
    while stack:
        e = stack.pop()
        if e.is_Atom:
            continue
        if e in seen:
            return True
        seen.add(e)
        stack.extend(e.args)
    return False


def _shape(expr, shapes):
    s = [shapes[x] for x in expr.free_symbols if x in shapes]
    return broadcast_shapes(*s) if s else ()


_KERNELS = {}


def kernel_function(exprs, avals, arg_avals):
    """A Python function evaluating a kernel on arrays (used to run `ew` nodes eagerly)."""
    key = (exprs, avals, arg_avals)
    fn = _KERNELS.get(key)
    if fn is None:
        from .loader import load_function
        args = [f"a{i}" for i in range(len(arg_avals))]
        outs = [f"out{i}" for i in range(len(exprs))]
        counter = iter(range(1 << 30))
        body = kernel_statements(exprs, avals, args, arg_avals, outs, lambda: f"t{next(counter)}")
        from .source import statement_lines
        lines = [f"def kernel({', '.join(args)}):"]
        for stmt in body:
            lines += statement_lines(stmt)
        lines.append(f"    return ({', '.join(outs)},)")
        fn = _KERNELS[key] = load_function("\n".join(lines) + "\n", "kernel", "kernel")
    return fn
