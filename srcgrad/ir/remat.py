"""A loop's backward computes again what is cheap to compute, rather than saving it.

A re-rolled loop saves, at every iteration, each forward value its backward body reads
(ops/loop.py): a list entry per iteration, a numpy array object beside its data. Some of
those values are one cheap step from values saved anyway: a sigmoid's `1 + e` beside its
saved `e = exp(-x)`, or a row `sequence[i + 1]` of an argument at the counter. Saving both
keeps twice what is needed; the backward forms `1 + e` itself, inside the kernel that
reads it (an LSTM step of two cells: 7 of 24 arrays per step).

A forward value is formed again in the backward when it is cheap from what is there
anyway — the body's invariants, the counter, values the backward reads regardless —
either

- by its own formula: an elementwise kernel of a few additions and multiplications (no
  function, no fractional power: what fusion keeps as values, ir/fusion.py); or a view
  (basic indexing, a reshape), which copies nothing; or
- by its formula in terms of its kernel's other outputs: `exp(-a0) + 1` is `e + 1` where
  `e = exp(-a0)` is saved.
"""
import sympy as sp

from ..ops import broadcast_shapes
from ..symbolic.kernel import _costly, canon_symbol, canonicalize
from .graph import Node, Value

#: at most this many operations in a formula formed again (`a*b + 1` is 2)
MAX_OPS = 3
#: ops whose result is a view of their first input: free to form again
VIEWS = {"getitem", "reshape", "transpose", "loop_index"}


def recompute_cheap_reads(body, bwd, carried):
    """Rewrite bwd (the backward of loop body `body`, not yet fused) so that it forms again
    each cheap forward value it would otherwise need saved. `carried`: the body's inputs
    that change from one iteration to the next (saved when read, like the values it
    computes); its other inputs are the same in every iteration. Returns the number of
    values formed again."""
    per_iteration = {o.id for n in body.nodes for o in n.outputs} | {v.id for v in carried}
    reads = {x.id for n in bwd.nodes for x in n.inputs if isinstance(x, Value) and x.id in per_iteration}
    # a value the backward compares for equality (a maximum's mask, `x == max(x)`) must be
    # the very bits the forward computed: formed again, it may be printed in another order
    # and round differently (then no entry equals the maximum, and the count divides by 0)
    exact = {x.id for n in bwd.nodes if n.op.name in ("eq", "ne") for x in n.inputs if isinstance(x, Value)}

    def there(x):  # (in every iteration's backward without saving anything more)
        return not isinstance(x, Value) or x.id in reads or x.id not in per_iteration \
            or x.node is not None and x.node.op.name == "loop_index"

    recipes = {}  # forward value id -> (its node, formula or None, the values it reads)
    changed = True
    while changed:
        changed = False
        for n in reversed(body.nodes):  # (readers first: what they read may then go too)
            for k, o in enumerate(n.outputs):
                if o.id not in reads or o.id in recipes or o.id in exact:
                    continue
                recipe = _recipe(n, k, reads, there)
                if recipe is not None:
                    recipes[o.id] = recipe
                    reads.discard(o.id)
                    changed = True
    if not recipes:
        return 0
    formed, prefix = {}, []

    def form(v):  # (a value's copy after those of what it reads: forward order)
        if v.id in formed or v.id not in recipes:
            return formed.get(v.id, v)
        n, formula, inputs = recipes[v.id]
        inputs = [form(x) if isinstance(x, Value) else x for x in inputs]
        if formula is None:  # the node's own op, again
            m = Node(n.op, inputs, n.attrs, n.loc)
            m.outputs = [Value(bwd, o.shape, o.dtype, m, k) for k, o in enumerate(n.outputs)]
            formed.update((o.id, c) for o, c in zip(n.outputs, m.outputs))
        else:
            m = Node(n.op, inputs, dict(n.attrs, exprs=(formula,), avals=((v.shape, v.dtype),)), n.loc)
            m.outputs = [Value(bwd, v.shape, v.dtype, m, 0)]
            formed[v.id] = m.outputs[0]
        prefix.append(m)
        return formed[v.id]

    for n in body.nodes:
        for o in n.outputs:
            if o.id in recipes:
                form(o)
    for n in bwd.nodes:
        n.inputs = [formed.get(x.id, x) if isinstance(x, Value) else x for x in n.inputs]
    bwd.outputs = [formed.get(v.id, v) if isinstance(v, Value) else v for v in bwd.outputs]
    bwd.nodes = prefix + bwd.nodes
    return len(recipes)


def _recipe(n, k, reads, there):
    """(n, formula or None, inputs) forming n's k-th output again from values there
    anyway, or None. (By position: a pruned kernel's outputs keep their old `index`.)"""
    o = n.outputs[k]
    if n.op.name in VIEWS:
        if (n.op.name != "getitem" or _basic(n)) and all(there(x) for x in n.inputs):
            return n, None, list(n.inputs)
        return None
    if n.op.name != "ew":
        return None
    exprs = n.attrs["exprs"]
    by_symbol = {canon_symbol(i): x for i, x in enumerate(n.inputs)}
    # its kernel's other outputs, saved anyway, stand for their formulas
    others = {}
    for j, p in enumerate(n.outputs):
        if j != k and p.id in reads and not exprs[j].is_Atom:
            others[exprs[j]] = stand = sp.Dummy(f"o{j}")
            by_symbol[stand] = p
    formula = exprs[k].xreplace(others) if others else exprs[k]
    if not _cheap(formula):
        return None
    env = {s: by_symbol[s] for s in formula.free_symbols}
    if not all(there(x) for x in env.values()):
        return None
    if broadcast_shapes(*[x.shape for x in env.values()]) != o.shape if env else True:
        return None  # (the value is a broadcast of what it reads: formed, it would not be)
    order, (canon,) = canonicalize([formula])
    return n, canon, [env[s] for s in order]


def _cheap(e):
    """Not what fusion keeps as a value (symbolic.kernel._costly: a function, a fractional
    power), and a few additions, multiplications and small integer powers."""
    if _costly(e) or any(abs(p.exp) > 2 for p in e.atoms(sp.Pow)):
        return False
    return sp.count_ops(e) <= MAX_OPS


def _basic(n):
    """A getitem of integers and slices (a view), an index at the counter included."""
    return all(isinstance(x, Value) and x.ndim == 0 and x.dtype.kind in "iu" for x in n.inputs[1:])
