"""Writing a fused elementwise kernel as Python statements.

The formulas of one `ew` node go through sympy's common-subexpression elimination, then
each piece becomes one assignment. A formula whose natural broadcast shape is smaller
than the kernel's declared output shape (a derivative that is constant along an axis)
is broadcast explicitly, so every value has the shape the IR promised.
"""
import ast

import numpy as np
import sympy as sp

from ..ops import broadcast_shapes
from ..symbolic.kernel import canon_symbol, may_lose_dtype
from ..symbolic.printer import to_ast
from . import astbuild as A

#: formulas bigger than this (as trees) skip CSE: its cost grows faster than linearly
CSE_BUDGET = 2000


def kernel_statements(exprs, avals, arg_names, arg_avals, out_names, new_temp, hints=(), new_name=None,
                      reusable=(), report=None, take_buffer=None):
    """Statements computing each formula of a kernel into `out_names[i]`.

    arg_names[i] / arg_avals[i]: the Python name and (shape, dtype) read for symbol a_i.
    new_temp(): a fresh name for a common subexpression.
    hints: (formula, name) of values the user named; a subexpression equal to one of them
    is written under that name (via new_name(name), which keeps names unique).
    reusable: indices of inputs whose arrays are not read after this kernel and may be
    overwritten (codegen/buffers.py). report: a dict, filled with "fresh" (the output
    names computed into new or reused memory, not views or other names) and "reused"
    (indices of the inputs whose memory an output took over). take_buffer(shape, dtype, name):
    the name of an array no longer read, for an output to be computed into, or None."""
    hinted = dict(hints)
    names = {canon_symbol(i): n for i, n in enumerate(arg_names)}
    arg_symbols = set(names)
    shapes = {canon_symbol(i): tuple(s) for i, (s, _) in enumerate(arg_avals)}
    dtypes = {canon_symbol(i): np.dtype(d) for i, (_, d) in enumerate(arg_avals)}
    stmts = []
    floats_out = all(np.dtype(d).kind in "fc" for _, d in avals)  # (integer results keep numpy's arithmetic)
    for sym in _integers_as_numbers(exprs, dtypes) if floats_out else ():
        # a formula is arithmetic on numbers, where numpy's booleans add as `or` (the
        # gradient of `x * m1 + x * m2` is m1 + m2) and uint8 wraps: read as numbers
        dtype = np.result_type(*[d for _, d in avals if np.dtype(d).kind in "fc"] or [np.float64])
        cast = new_temp()
        stmts.append(A.assign(cast, A.npcall("asarray", A.name(names[sym]), A.dtype_expr(dtype))))
        names[sym], dtypes[sym] = cast, np.dtype(dtype)
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
        kinds = [dtypes[x] for x in sub.free_symbols if x in dtypes]
        if kinds:
            dtypes[sym] = np.result_type(*kinds)
    claimed = {}
    for e, name, (shape, dtype) in zip(exprs, out_names, avals):
        r = reduced[unique.index(e)]
        # only when the output is that value exactly: no broadcast or dtype fix on top
        if r in dict(replacements) and r not in claimed and not may_lose_dtype(e) \
                and shapes[r] == tuple(shape) and dtypes.get(r) == np.dtype(dtype):
            claimed[r] = name
    for sym, sub in replacements:
        names[sym] = claimed.get(sym) or (new_name(hinted[sub]) if sub in hinted and new_name else sym.name)
        value = to_ast(grouped_coefficients(sub), names, shapes)
        if sym in claimed and take_buffer is not None:  # an output: into a dead (or kept) array
            out = claimed[sym]
            value = _into_buffer(value, shapes[sym], np.dtype(dtypes.get(sym, np.float64)),
                                 lambda s, d: take_buffer(s, d, out)) or value
        stmts.append(A.assign(names[sym], value))
    report = {} if report is None else report
    fresh, reused = report.setdefault("fresh", set()), report.setdefault("reused", set())
    spare = {canon_symbol(i) for i in reusable}
    computed = {}
    outs_reduced = [reduced[unique.index(e)] for e in exprs]
    for k, (e, name, (shape, dtype)) in enumerate(zip(exprs, out_names, avals)):
        r = outs_reduced[k]
        shape = tuple(shape)
        if claimed.get(r) == name:
            computed[(e, shape)] = name
            fresh.add(name)
            continue
        if (e, shape) in computed:  # the same formula at the same shape (a constant 1 may
            stmts.append(A.assign(name, A.name(computed[(e, shape)])))  # have several)
            continue
        computed[(e, shape)] = name
        r = grouped_coefficients(r)
        value = to_ast(r, names, shapes)
        if not r.free_symbols:
            value = A.npcall("full", A.literal(shape), value, A.dtype_expr(dtype))
        else:
            kinds = [dtypes[x] for x in r.free_symbols if x in dtypes]
            if may_lose_dtype(e) or (kinds and np.result_type(*kinds) != np.dtype(dtype)):
                # numpy would compute another dtype (`x * mask`'s gradient is the bool
                # mask, `x32 * y`'s is x32 for float64 y): the output's, without a copy
                # where the arithmetic already promotes
                value = A.npcall("asarray", value, A.dtype_expr(dtype))
            if _shape(r, shapes) != shape:
                value = A.npcall("broadcast_to", value, A.literal(shape))
                stmts.append(A.assign(name, value))
                continue  # a read-only view: never written into
            if not may_lose_dtype(e):
                # an input this output reads once, and no later output reads at all,
                # may hold the result (its memory is free after this kernel)
                later = set().union(*[x.free_symbols for x in outs_reduced[k + 1:]])
                free = {x for x in spare if x not in later and _occurrences(r, x) == 1}
                took = []
                take = None if take_buffer is None else (lambda s, d, name=name: take_buffer(s, d, name))
                # (an output bound to a name the formula reads, a loop's `y = y + c * k`, is
                # computed under a name of its own, then bound)
                rebinds = any(names.get(x) == name for x in r.free_symbols)
                into = new_temp() if rebinds else name
                steps = _in_place(into, r, names, shapes, dtypes, shape, np.dtype(dtype), free, took, take)
                if steps:
                    if rebinds:  # (`y = t19; del t19`: the loop's name alone holds it)
                        steps += [A.assign(name, A.name(into)),
                                  ast.Delete(targets=[ast.Name(id=into, ctx=ast.Del())])]
                    stmts += steps
                    fresh.add(name)
                    for x in took:
                        spare.discard(x)
                        reused.add(int(x.name[1:]))
                    continue
            take = None if take_buffer is None else (lambda s, d, name=name: take_buffer(s, d, name))
            value = _into_buffer(value, shape, np.dtype(dtype), take) or value
        stmts.append(A.assign(name, value))
        if r not in arg_symbols:
            fresh.add(name)
    temps = {names[sym] for sym, _ in replacements} - set(out_names)
    return _without_unread(stmts, temps)


def added_terms(expr, prev, target, arg_names, arg_avals, gone=(), number=False):
    """`target += a; target += b * c` for a kernel's one formula a + b * c whose value is
    only ever added into the array `target` (a gradient summed over a loop's iterations:
    codegen/loops.py), without its term a_prev (the running sum already there, or None)
    and the terms ±a_k, k in `gone` (added where a_k is made): no whole-size array for the
    formula, and no addition of it afterwards. number: target is a Python float, and each
    term (of one element) is added as one (`.item()`)."""
    names = {canon_symbol(i): n for i, n in enumerate(arg_names)}
    shapes = {canon_symbol(i): tuple(s) for i, (s, _) in enumerate(arg_avals)}
    if prev is not None:
        expr = expr - canon_symbol(prev)
    terms = [t for t in (expr.args if expr.is_Add else (expr,))
             if not any(t == canon_symbol(k) or t == -canon_symbol(k) for k in gone) and t != 0]
    stmts = []
    for t in terms:
        negative = t.could_extract_minus_sign()
        t = -t if negative else t
        value = to_ast(t, names, shapes)
        stmts.append(ast.AugAssign(target=A.store(target), op=ast.Sub() if negative else ast.Add(),
                                   value=A.method(value, "item") if number and not t.is_Number else value))
    return stmts


def grouped_coefficients(e):
    """`y + c * (t5 + t17 + 2 * t9)` for `y + c*t5 + c*t17 + 2c*t9`: the terms of a sum that
    share a number (up to sign), with any whose number is a small integer multiple of it,
    are multiplied by it once — one multiplication for the group rather than one per term
    (an RK4 step's `h/6 * (k1 + 2 k2 + 2 k3 + k4)`, which sympy distributes). Unevaluated:
    sympy would distribute it again. In sums inside the expression too; an expression
    with no such sum is returned as it is."""
    if e.is_Atom:
        return e
    args = tuple(grouped_coefficients(a) for a in e.args)
    if any(a is not b for a, b in zip(args, e.args)):
        try:
            e = e.func(*args, evaluate=False)
        except TypeError:  # (a class that takes no `evaluate`: a Piecewise's pair)
            e = e.func(*args)
    if not e.is_Add:
        return e
    split = [t.as_coeff_Mul() for t in e.args]
    counts = {}
    for c, rest in split:
        if c.is_Number and c != 0 and abs(c) != 1 and not rest.is_Number:
            counts[abs(c)] = counts.get(abs(c), 0) + 1
    if not counts or max(counts.values()) < 2:
        return e
    unit = max(counts, key=lambda c: (counts[c], -float(c)))
    inner, outer = [], []
    for (c, rest), t in zip(split, e.args):
        k = float(c) / float(unit) if c.is_Number and not rest.is_Number else None
        if k is not None and k == round(k) and 1 <= abs(k) <= 8 and float(unit) * k == float(c):
            inner.append(rest if k == 1 else -rest if k == -1 else sp.Mul(sp.Integer(int(k)), rest, evaluate=False))
        else:
            outer.append(t)
    group = sp.Mul(unit, sp.Add(*inner, evaluate=False), evaluate=False)
    return sp.Add(*outer, group, evaluate=False) if outer else group


def _integers_as_numbers(exprs, dtypes):
    """The boolean and narrow integer inputs that arithmetic on integers alone reads in the
    formulas, where numpy's dtypes differ from the numbers a formula means: a sum of
    booleans is `or` (`-` refuses them), and uint8 or int16 arithmetic wraps around (the
    gradient of x * a + x * b is a + b, which wraps for uint8 a and b). A product of
    booleans, a select's condition, or anything mixed with a float is numpy's arithmetic
    already."""
    integers = {x for x, d in dtypes.items() if d.kind in "biu"}
    narrow = {x for x in integers if dtypes[x].kind == "u" or dtypes[x].kind == "b" or dtypes[x].itemsize < 8}
    found = set()
    if not narrow:
        return []
    for e in exprs:
        for a in sp.preorder_traversal(e):
            if isinstance(a, sp.Add):  # (printed left to right: `m1 + m2 + cos(x)` adds m1 + m2 first)
                terms = [t.free_symbols for t in a.args if not t.is_Number and t.free_symbols <= integers]
                if len(terms) >= 2:
                    found |= set().union(*terms) & (narrow | {x for x in integers if dtypes[x].kind == "b"})
            if not isinstance(a, (sp.Add, sp.Mul, sp.Pow)) or not a.free_symbols <= integers:
                continue
            bools = {x for x in a.free_symbols if dtypes[x].kind == "b"}
            wraps = a.free_symbols & narrow - bools
            if wraps:  # (uint8, int16...: any arithmetic may leave their range)
                found |= wraps | bools
            elif bools and (isinstance(a, sp.Add) or (isinstance(a, sp.Mul) and a.args[0].is_Number
                                                      and a.args[0] < 0)):
                found |= bools
    return sorted(found, key=lambda x: x.name)


def _without_unread(stmts, temps):
    """stmts without the assignments of common subexpressions no later statement reads
    (the printer may fold the formula that read one: `x*t - x*t`, or `0 * t`)."""
    read = set()
    kept = []
    for st in reversed(stmts):
        targets = [t.id for t in getattr(st, "targets", []) if isinstance(t, ast.Name)]
        if len(targets) == 1 and targets[0] in temps and targets[0] not in read:
            continue
        read |= {n.id for n in ast.walk(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        kept.append(st)
    return kept[::-1]


_UFUNCS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide", ast.Pow: "power"}


def _into_buffer(value, shape, dtype, take_buffer):
    """`np.multiply(a, b, out=t7)` for `a * b` of a large float array, when take_buffer
    gives an array no longer read (codegen/buffers.py); else None. Only the outermost
    operator writes into it: its operands are computed first, as in `a * b`."""
    if take_buffer is None or dtype.kind != "f" or int(np.prod(shape, dtype=np.int64)) < IN_PLACE_SIZE:
        return None
    if isinstance(value, ast.BinOp) and type(value.op) in _UFUNCS:
        fn, args = _UFUNCS[type(value.op)], [value.left, value.right]
    elif isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        fn, args = "negative", [value.operand]
    elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and \
            isinstance(value.func.value, ast.Name) and value.func.value.id == "np" and not value.keywords \
            and isinstance(getattr(np, value.func.attr, None), np.ufunc) and \
            getattr(np, value.func.attr).nout == 1:
        fn, args = value.func.attr, list(value.args)
    else:
        return None
    buffer = take_buffer(shape, dtype)
    if buffer is None:
        return None
    return A.npcall(fn, *args, out=A.name(buffer))


def _occurrences(e, x):
    return sum(1 for a in sp.preorder_traversal(e) if a == x)


#: arrays smaller than this are computed the plain way: a temporary is cheap there. (From
#: a few kilobytes on, in-place steps cost no time, measured on every benchmark workload,
#: and a temporary fewer lowers the peak of a loop over such arrays: an ODE solver's.)
IN_PLACE_SIZE = 512


def _in_place(name, e, names, shapes, dtypes, shape, dtype, free=(), took=None, take_buffer=None):
    """`out = t5 + t7; out *= 2 * t52` for `out = 2 * t52 * (t5 + t7)`: a sum, product or
    power whose main term is compound and of the full shape is computed into that term's
    fresh array, and the other terms are added / multiplied into it, so a whole-size
    temporary is not made for each operator (for large arrays, allocating fresh memory
    costs more than the arithmetic). An input in `free` (read once by e, and by nothing
    after it: codegen/buffers.py) serves as such a term, its memory taken over
    (`out = t5; out += t7`), and is appended to `took`. None when that does not apply:
    small arrays, dtypes that in-place arithmetic would change, or `out` being read by
    the formula itself."""
    if int(np.prod(shape, dtype=np.int64)) < IN_PLACE_SIZE or dtype.kind != "f":
        return None
    if any(names.get(x) == name for x in e.free_symbols):
        return None
    took = [] if took is None else took

    def full(a):  # of the output's shape and dtype
        kinds = [dtypes[x] for x in a.free_symbols if x in dtypes]
        return bool(kinds) and np.result_type(*kinds) == dtype and _shape(a, shapes) == shape

    def spare(a):  # an input whose memory may hold the result
        return a in free and not took and full(a)

    def fresh(a):  # computes a new array (a bare name would be written into)
        return (not a.is_Atom and (a.is_Add or a.is_Mul or a.is_Pow or a.is_Function) and full(a)) \
            or spare(a)

    def start(a):
        if spare(a):
            took.append(a)
            return [A.assign(name, A.name(names[a]))]
        steps = _in_place(name, a, names, shapes, dtypes, shape, dtype, free, took, take_buffer)
        if steps:
            return steps
        value = to_ast(a, names, shapes)
        return [A.assign(name, _into_buffer(value, shape, dtype, take_buffer) or value)]

    def aug(op, value):
        return ast.AugAssign(target=ast.Name(id=name, ctx=ast.Store()), op=op, value=to_ast(value, names, shapes))

    def main(candidates):  # the term to start from: a spare input's memory, else the biggest
        spare_ones = [a for a in candidates if spare(a)]
        return spare_ones[0] if spare_ones else max(candidates, key=sp.count_ops)

    if e.is_Add:
        terms = list(e.args)
        if len(terms) > 1 and all(t.could_extract_minus_sign() for t in terms):
            positive = sp.Add(*[-t for t in terms], evaluate=False)
            return start(positive) + [aug(ast.Mult(), sp.Integer(-1))]
        # (not `-x`: `y - x` is one operator, `out = -x; out += y` two)
        bases = [t for t in terms if fresh(t) and not (t.could_extract_minus_sign() and (-t).is_Symbol)]
        if not bases:
            return None
        base = main(bases)
        terms.remove(base)
        stmts = start(base)
        for t in terms:
            negative = t.could_extract_minus_sign()
            t = -t if negative else t
            coeff, rest = t.as_coeff_Mul()
            if float(coeff) == 1.0 and not rest.is_Number:  # `+= t3`, not `+= 1.0 * t3` (out is float)
                t = rest
            stmts.append(aug(ast.Sub() if negative else ast.Add(), t))
        return stmts
    if e.is_Mul:
        factors = list(e.args)
        bases = [f for f in factors if fresh(f)]
        if bases:
            base = main(bases)
            factors.remove(base)
        else:
            # a product of whole-size names times numbers or smaller factors
            # (two at least, so that their product is a new array: never write into a name)
            big = [f for f in factors if f.is_Symbol and full(f)]
            small = [f for f in factors if f not in big]
            if len(big) < 2 or not small:
                return None  # a plain product is one operator: nothing to save
            value = to_ast(sp.Mul(*big), names, shapes)
            return [A.assign(name, _into_buffer(value, shape, dtype, take_buffer) or value),
                    aug(ast.Mult(), sp.Mul(*small))]
        stmts = start(base)
        small = []
        for f in factors:
            if f.is_Pow and f.exp == -1 and full(f.base):
                stmts.append(aug(ast.Div(), f.base))
            elif full(f):
                stmts.append(aug(ast.Mult(), f))
            else:
                small.append(f)
        if small:
            stmts.append(aug(ast.Mult(), sp.Mul(*small)))
        return stmts
    if e.is_Pow and e.exp.is_Number and fresh(e.base):
        return start(e.base) + [aug(ast.Pow(), e.exp)]
    return None


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
