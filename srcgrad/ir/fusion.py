"""Elementwise fusion: maximal regions of elementwise nodes become single `ew` kernels.

Regions grow greedily in program order. A node joins the region of one of its
producers unless that would create a cycle (an input reaching the region through a
node outside it), or the region would exceed its budget — sympy is fast on small
formulas and hopeless on huge ones, so kernels stay small (DESIGN.md).
"""
from ..utils.locations import merge_locs
from .graph import Node, Value
from .passes import toposort

MAX_OPS = 48        # nodes per kernel
MAX_INPUTS = 32     # distinct inputs per kernel
MAX_TREE = 40       # size of a formula seen as a tree (shared subterms count each time): the
                    # derivative of a larger one (a product of shared terms) grows much faster
MAX_KERNEL_TREE = 160  # the same, when a kernel (a derivative's, in a backward) joins a region: its
                       # formula counts whole, so that kernels of kernels stay bounded
MAX_NESTING = 2     # transcendental functions nested inside one another in one kernel:
                    # sympy's time on f(g(h(...))) and its derivative grows much faster than
                    # the chain, while a kernel boundary costs one saved value


def fuse(graph, keep_costly=False, boundaries=()):
    """Replace elementwise regions of `graph.nodes` by `ew` nodes, in place.

    Output Values keep their identity (only their producer changes), so everything
    that refers to them stays valid. With `keep_costly`, intermediate results of
    transcendental ops are kernel outputs too, for a derivative to reuse. Values in
    `boundaries` (ids) are never fused into their consumers' kernels: a value with a
    hook or a retained gradient needs a gradient of its own."""
    from ..symbolic.kernel import _costly, node_exprs, operand_expr
    from .. import config, ops
    from ..ops.complex import involves_complex

    for n in graph.nodes:  # a loop's body is a graph of its own
        if n.op.name == "loop":
            fuse(n.attrs["body"], keep_costly=keep_costly)
    nodes = graph.nodes
    region_of = {}            # id(node) -> region index
    regions = []              # region index -> [nodes]
    region_inputs = []        # region index -> set of external value ids
    deps = {}                 # value id -> bitmask of regions it depends on
    region_deps = []          # region index -> bitmask of regions its external inputs depend on
    tree = {}                 # value id -> formula tree size, inside its region
    nesting = {}              # value id -> depth of nested transcendental functions, inside its region
    complex_regions = set()   # regions of one node that computes alone (below), nobody joining
    for n in nodes:
        mask = 0
        for x in n.inputs:
            if isinstance(x, Value):
                mask |= deps.get(x.id, 0)
        chosen = None
        # alone: complex values (formulas are simplified over real symbols: ops/complex.py),
        # and arithmetic making booleans or narrow integers, whose numpy dtype is its meaning
        # (`m1 + m2` of masks is `or`, uint8 wraps) where a formula means numbers
        alone = involves_complex(n) or _narrow_integer_arithmetic(n)
        if n.op.elementwise:
            # nor may n join the region that produced a boundary value it reads (through
            # another input): the kernel would compute n from that value's formula
            blocked = {region_of.get(id(x.node)) for x in n.inputs
                       if isinstance(x, Value) and x.id in boundaries and x.node is not None}
            for x in (n.inputs if config.fuse_elementwise and not alone else ()):
                if not isinstance(x, Value) or x.node is None or id(x.node) not in region_of \
                        or x.id in boundaries:
                    continue
                r = region_of[id(x.node)]
                if r in complex_regions:
                    continue
                if r == chosen or r in blocked or not _can_join(n, r, region_of, regions, region_inputs, deps, tree,
                                                                region_deps):
                    continue
                if _nesting(n, r, region_of, nesting) > MAX_NESTING:
                    continue
                chosen = r
                break
            if chosen is None:
                chosen = len(regions)
                if alone:
                    complex_regions.add(chosen)
                regions.append([])
                region_inputs.append(set())
                region_deps.append(0)
            regions[chosen].append(n)
            region_of[id(n)] = chosen
            size = _own_size(n)
            for x in n.inputs:
                if isinstance(x, Value):
                    if x.node is not None and region_of.get(id(x.node)) == chosen:
                        size += tree.get(x.id, 1)
                    else:
                        region_inputs[chosen].add(x.id)
                        region_deps[chosen] |= deps.get(x.id, 0)
            depth = _nesting(n, chosen, region_of, nesting)
            for o in n.outputs:
                tree[o.id] = size
                nesting[o.id] = depth
            mask |= 1 << chosen
        for o in n.outputs:
            deps[o.id] = mask

    if not regions:
        return graph
    used_outside = {}
    for n in nodes:
        for x in n.inputs:
            if isinstance(x, Value):
                used_outside.setdefault(x.id, set()).add(region_of.get(id(n), -1))
    graph_outs = {v.id for v in graph.outputs if isinstance(v, Value)}

    index = {id(n): i for i, n in enumerate(nodes)}
    position = {}
    replaced = {}
    for r, members in enumerate(regions):
        env, exprs = {}, {}
        outputs, out_exprs = [], []
        named = []   # (formula, user's name) of intermediates the kernel computes inside
        for m in members:
            ins = [exprs[x.id] if isinstance(x, Value) and x.id in exprs else operand_expr(x, env)
                   for x in m.inputs]
            es = node_exprs(m, ins)
            for o, e in zip(m.outputs, es):
                exprs[o.id] = e
                users = used_outside.get(o.id, set())
                if o.id in graph_outs or any(u != r for u in users) or (keep_costly and _costly(e)):
                    outputs.append(o)
                    out_exprs.append(e)
                elif o.name:
                    named.append((e, o.name))
        if not outputs:
            continue
        kernel = _kernel_node(members, outputs, out_exprs, env, ops.get("ew"), named)
        for m in members:
            replaced[id(m)] = kernel
        position[id(kernel)] = index[id(members[0])]
    new_nodes = []
    seen = set()
    for i, n in enumerate(nodes):
        k = replaced.get(id(n))
        if k is None:
            if id(n) in region_of:
                continue  # a member with no output used anywhere: dead
            new_nodes.append(n)
            position[id(n)] = i
        elif id(k) not in seen:
            seen.add(id(k))
            new_nodes.append(k)
    graph.nodes = toposort(new_nodes, position)
    return graph


def _can_join(n, r, region_of, regions, region_inputs, deps, tree, region_deps):
    if len(regions[r]) >= MAX_OPS:
        return False
    new_inputs = set(region_inputs[r])
    size = _own_size(n)
    for x in n.inputs:
        if not isinstance(x, Value):
            continue
        if x.node is not None and region_of.get(id(x.node)) == r:
            size += tree.get(x.id, 1)
            continue
        if _closure(deps.get(x.id, 0), region_deps) >> r & 1:
            return False  # x is computed from this region outside it: joining would cycle
        new_inputs.add(x.id)
    return len(new_inputs) <= MAX_INPUTS and size <= (MAX_KERNEL_TREE if n.op.name == "ew" else MAX_TREE)


def _own_size(n):
    """The size of a node's own formula as a tree: 1 for an op, a kernel's largest
    formula for a kernel (a derivative's, fused again, may be large)."""
    if n.op.name != "ew":
        return 1
    from ..symbolic.simplify import tree_size
    return max(tree_size(e, MAX_KERNEL_TREE + 1) for e in n.attrs["exprs"])


def _closure(mask, region_deps):
    """The regions `mask` depends on, with what each of them depends on in turn: a region
    grows after its first values were read, so a value read from it early also depends
    on the external inputs the region took later."""
    seen, todo = 0, mask
    while todo:
        r = (todo & -todo).bit_length() - 1
        todo &= todo - 1
        if not seen >> r & 1:
            seen |= 1 << r
            todo |= region_deps[r] & ~seen
    return seen


def _nesting(n, r, region_of, nesting):
    """Nesting depth of transcendental functions in n's formula if n joins region r."""
    inner = max([nesting.get(x.id, 0) for x in n.inputs
                 if isinstance(x, Value) and x.node is not None and region_of.get(id(x.node)) == r],
                default=0)
    return inner + function_depth(n)


_DEPTH = {}


def function_depth(node):
    """How deeply transcendental functions nest in a node's own formula (0 for a*b+c)."""
    from ..symbolic.kernel import canon_symbol, node_exprs
    if node.op.name != "ew":
        d = _DEPTH.get(node.op.name)
        if d is None:
            d = _DEPTH[node.op.name] = max(_depth(e) for e in node_exprs(
                node, [canon_symbol(i) for i in range(len(node.inputs))]))
        return d
    return max(_depth(e) for e in node.attrs["exprs"])


def _depth(e):
    import sympy as sp
    if e.is_Atom:
        return 0
    inner = max((_depth(a) for a in e.args), default=0)
    costly = isinstance(e, sp.Function) or (e.is_Pow and not e.exp.is_Integer)
    return inner + (1 if costly else 0)


def _kernel_node(members, outputs, out_exprs, env, ew_op, named=()):
    import numpy as np
    from ..symbolic.kernel import canon_symbol, canonicalize
    from ..symbolic.kernel import push_selects
    # composing kernels can put a select under a product or next to another select on
    # the same condition: push it outward again (see push_selects)
    order, canon = canonicalize([push_selects(e) for e in out_exprs])
    attrs = dict(exprs=canon, avals=tuple((o.shape, np.dtype(o.dtype)) for o in outputs))
    mapping = {s: canon_symbol(i) for i, s in enumerate(order)}
    hints = tuple((e.xreplace(mapping), name) for e, name in named if e.free_symbols <= set(mapping))
    if hints:
        attrs["names"] = hints  # user names for subexpressions the code generator writes out
    node = Node(ew_op, [env[s] for s in order], attrs, merge_locs(*[m.loc for m in members]))
    for k, o in enumerate(outputs):
        o.node, o.index = node, k
    node.outputs = list(outputs)
    return node


def absorb_broadcasts(graph):
    """A kernel reads the value that a kernel output broadcasts (`ew[a0]` to a larger
    shape: the backward of a sum, say), rather than the broadcast array: its formula
    broadcasts by numpy's rules, and it still writes its outputs at their own shapes
    (codegen/kernels.py). Spares an `np.broadcast_to` call, itself slower than a small
    multiplication, for every kernel fusion kept apart from the broadcast (it has several
    readers, or a loop's boundary lies between). Rewrites graph.nodes in place (and loop
    bodies'); the broadcasts left unread are dropped later (passes.live_nodes). Returns
    the number of inputs replaced."""
    from .cse import _merged_inputs
    done = 0
    own = {id(n) for n in graph.nodes}  # (a value computed before this graph is read as it is)
    for k, n in enumerate(graph.nodes):
        for key in ("body", "backward"):
            inner = n.attrs.get(key)
            if inner is not None and hasattr(inner, "nodes"):
                done += absorb_broadcasts(inner)
        if n.op.name != "ew":
            continue
        inputs = [_unbroadcast(x, own) for x in n.inputs]
        replaced = sum(a is not b for a, b in zip(inputs, n.inputs))
        if not replaced:
            continue
        done += replaced
        m = Node(n.op, inputs, n.attrs, n.loc)
        m.outputs = n.outputs
        m = _merged_inputs(m)  # (x and what x broadcasts may both be inputs: one symbol)
        for o in m.outputs:
            o.node = m
        graph.nodes[k] = m
    return done


def _unbroadcast(x, own):
    """What x broadcasts, when x is a kernel's output (of a kernel among `own`, ids of
    nodes) that is one of its inputs at a larger shape; else x."""
    n = x.node if isinstance(x, Value) else None
    if n is None or id(n) not in own or n.op.name != "ew":
        return x
    e = n.attrs["exprs"][x.index]
    if not e.is_Symbol:
        return x
    src = n.inputs[int(str(e)[1:])]
    if not (isinstance(src, Value) and src.dtype == x.dtype and src.ndim <= x.ndim and src.shape != x.shape):
        return x
    return src


def _narrow_integer_arithmetic(n):
    """An elementwise arithmetic node (not a comparison) whose result is boolean, or an
    integer type narrower than 64 bits or unsigned: computed by numpy on its own."""
    import numpy as np
    if n.op.kind != "elementwise":
        return False
    for v in n.outputs:
        d = np.dtype(v.dtype)
        if d.kind == "b" or (d.kind in "iu" and (d.kind == "u" or d.itemsize < 8)):
            return True
    return False
