"""Row blocks: a program over many independent rows runs a block of rows at a time.

Code vectorised over the rows of tall arrays (bundle adjustment's 31843 observations, a
batch of samples) treats every row alike: row i of each result depends on row i of the
arguments only, until a final sum over the rows. Run on all rows at once, every
intermediate is a whole tall array, and the gradient's peak memory is many of them at
once (bundle adjustment: 24 MB for a forward of 9 MB). Run a block of BLOCK rows at a
time, the intermediates are a block's worth, they stay in the processor's caches, and
only the results are whole:

    def loss_value_and_grad(w, X, y):
        grad_X = np.empty((200000, 20), np.float64)
        for lo in range(0, 200000, 4096):                  # a block of rows at a time
            hi = min(lo + 4096, 200000)
            b0, b1, b2 = loss_value_and_grad_rows(w, X[lo:hi], y[lo:hi], hi - lo)
            grad_X[lo:hi] = b0                            # rows: the block's rows
            v1 = b1 if lo == 0 else v1 + b1               # a sum over the rows: the blocks' sums
            v2 = b2 if lo == 0 else v2 + b2
        v3, grad_w = loss_value_and_grad_after_rows(v1, v2, w)
        return (v3, grad_X, grad_w)

The function of a block is the program itself, generated for a row count `rows` (its
shapes read `(rows, 3)`); the function after the rows computes, once, what follows the
sums over the rows (a shared parameter's gradient, a term of the parameters alone). A
program qualifies when each of its values is one of

- a row value: leading axis the rows, row i computed from row i of what it reads (an
  elementwise kernel, a column slice, a reshape, sum or mean within a row, a cross
  product, a product with a matrix or vector of no rows, the backward's scatters into
  columns); or a matrix of rows transposed, which only a product over the rows may read
  (`X.T @ g`, a shared weight's gradient);
- a shared value: no rows (computed from what has none, the same in every block, and
  cheap: every block computes it again);
- a sum or mean over the rows of row values (the blocks' sums added, their means weighed
  by their rows);
- what follows those ("post"): computed from sums, means and shared values only, after
  the blocks — no row value may read it.

Anything else (an op mixing rows, a guard, a loop, a captured array with rows, a row read
from a sum over the rows) keeps the program whole. The rows' count must be at least
MIN_BLOCKS blocks.
"""
import re

from ..ir.graph import Graph, Node, Value

#: rows per block: a block's (4096, 3) float64 array is 96 kB
BLOCK = 4096
#: only programs over at least this many blocks of rows are run in blocks
MIN_BLOCKS = 3

#: ops a block may compute on values without rows (each block computes them again): a
#: matrix inverse or a large product is left to a program that runs whole
CHEAP_SHARED = {"ew", "getitem", "reshape", "sum", "sum_to", "broadcast_to", "concatenate", "transpose"}

#: two row counts the block function is generated for: the code that differs between
#: them is exactly where the row count appears, which becomes the variable `rows`
_SENTINELS = (2147483629, 2147483587)


def plan_blocks(nodes, params, outputs, constants):
    """(rows, kinds) when the program runs in blocks of rows, else None. kinds: value id
    -> "row", "shared", "sum" (a sum over the rows), "mean" (a mean over them) or "post"
    (what reads a sum or mean, or costs too much to compute per block)."""
    counts = {p.shape[0] for p in params if p.ndim >= 1 and p.shape[0] >= MIN_BLOCKS * BLOCK}
    if len(counts) != 1:
        return None
    (n,) = counts
    kinds = {p.id: ("row" if p.ndim >= 1 and p.shape[0] == n else "shared") for p in params}
    for c in constants:
        if c.ndim >= 1 and c.shape[0] == n:
            return None  # (a captured array with rows: the block would need its rows too)
        kinds[c.id] = "shared"
    for node in nodes:
        if any(isinstance(x, Value) and x.id not in kinds for x in node.inputs):
            return None
        found = _node_kinds(node, kinds, n)
        if found is None:
            return None
        for o, kind in zip(node.outputs, found):
            kinds[o.id] = kind
    if any(kinds.get(v.id) == "cols" for v in outputs if isinstance(v, Value)):
        return None
    if not any(kinds.get(v.id) in ("row", "sum", "mean") for v in outputs if isinstance(v, Value)) \
            and not {"sum", "mean"} & set(kinds.values()):
        return None
    return n, kinds


def _node_kinds(node, kinds, n):
    """The kind of each of node's outputs, or None if the node mixes rows. A kernel's
    outputs are classed one by one, by the inputs each one's formula reads."""
    if node.op.side_effect or node.attrs.get("side_effect") or node.op.block is not None or not node.outputs:
        return None
    if node.op.name != "ew":
        kind = _kind(node, [x for x in node.inputs if isinstance(x, Value)], node.outputs, kinds, n)
        return None if kind is None else [kind] * len(node.outputs)
    from ..symbolic.kernel import canon_symbol
    found = []
    for o, e in zip(node.outputs, node.attrs["exprs"]):
        reads = [x for k, x in enumerate(node.inputs) if isinstance(x, Value) and canon_symbol(k) in e.free_symbols]
        kind = _kind(node, reads, [o], kinds, n)
        if kind is None:
            return None
        found.append(kind)
    return found


def _kind(node, ins, outs, kinds, n):
    """The kind of `outs` (outputs of node) computed from `ins`, or None if they mix rows:
    "post" for what reads a sum over the rows (computed once, after the blocks)."""
    read = {kinds[x.id] for x in ins}
    name, a = node.op.name, node.attrs
    if "cols" in read:  # (rows along the last axis: only a product over the rows reads them)
        x, y = (node.inputs + [None, None])[:2]
        if name == "matmul" and kinds.get(getattr(x, "id", None)) == "cols" \
                and kinds.get(getattr(y, "id", None)) == "row" and y.ndim in (1, 2):
            return "sum"
        return None
    if read & {"sum", "mean", "post"}:
        return None if "row" in read else "post"
    rowed = [x for x in ins if kinds[x.id] == "row"]
    if not rowed:
        if any(o.ndim >= 1 and o.shape[0] == n for o in outs):
            # rows from nothing with rows: a constant filled per block, or a broadcast
            return "row" if name == "ew" and all(_fits_rows(x, o) for o in outs for x in ins) else None
        # (every block computes it again: only what costs little; the rest is computed
        # once, after the blocks, and no row may read it)
        return "shared" if name in CHEAP_SHARED and all(o.size <= BLOCK for o in outs) else "post"
    if name == "ew":
        if not all(o.ndim >= 1 and o.shape[0] == n for o in outs):
            return None
        return "row" if all(_fits_rows(x, o) for o in outs for x in ins) else None
    if name == "cross":
        o = outs[0]
        return "row" if o.ndim >= 2 and o.shape[0] == n and all(_fits_rows(x, o) for x in ins) else None
    if name in ("getitem", "getitem_grad"):
        index = a["index"]
        full = isinstance(index, tuple) and index and _all_rows(index[0], n)
        if len(node.inputs) != 1 or not full or outs[0].ndim < 1 or outs[0].shape[0] != n:
            return None
        return "row"
    if name == "transpose":  # (a matrix of rows, transposed: its rows along the last axis)
        x, o = node.inputs[0], outs[0]
        return "cols" if x.ndim == 2 and tuple(a["perm"]) == (1, 0) else None
    if name == "reshape":
        x, o = node.inputs[0], outs[0]
        return "row" if x.shape[0] == n and o.ndim >= 1 and o.shape[0] == n else None
    if name == "broadcast_to":
        o = outs[0]
        return "row" if o.ndim >= 1 and o.shape[0] == n and _fits_rows(node.inputs[0], o) else None
    if name in ("sum", "mean"):
        x, axis = node.inputs[0], a["axis"]
        axes = set(range(x.ndim)) if axis is None else {d % x.ndim for d in axis}
        return "row" if 0 not in axes else name
    if name == "sum_to":
        x, target = node.inputs[0], tuple(a["shape"])
        if len(target) == x.ndim and target[0] == n:
            return "row"
        return "sum" if len(target) < x.ndim or target[0] == 1 else None
    if name == "concatenate":
        o = outs[0]
        return "row" if a["axis"] % o.ndim != 0 and all(x.shape[0] == n for x in ins) and o.shape[0] == n else None
    if name == "matmul":
        x, w = node.inputs
        if kinds.get(getattr(w, "id", None)) == "shared" and x is rowed[0] and x.ndim == 2 and w.ndim in (1, 2):
            return "row"  # (rows times a matrix or vector of no rows)
        if len(rowed) == 2 and x.ndim == 1 and w.ndim == 2:
            return "sum"  # (a vector over the rows times rows: a sum over them)
        return None
    if name == "einsum":
        return _einsum_kind(a["subscripts"], node.inputs, kinds)
    if name == "accumulate":
        shape = tuple(a["shape"])
        if not shape or shape[0] != n or any(not (isinstance(s[0], tuple) and s[0] and _all_rows(s[0][0], n))
                                             for s in a["scatters"]):
            return None
        return "row" if len(rowed) == len(ins) and all(x.shape[0] == n for x in ins) else None
    return None


def _all_rows(ix, n):
    """Whether index entry ix (ops/indexing.Slice) takes every row, in order."""
    from ..ops.indexing import Slice
    if not isinstance(ix, Slice) or not all(b is None or type(b) is int for b in ix):
        return False
    return slice(*ix).indices(n) == (0, n, 1)


def _fits_rows(x, o):
    """x broadcasts into o row by row: x has o's rows, or has none (fewer axes, or 1)."""
    if x.ndim < o.ndim:
        return True
    return x.ndim == o.ndim and (x.shape[0] == o.shape[0] or x.shape[0] == 1)


def _einsum_kind(subscripts, inputs, kinds):
    terms, _, out = subscripts.replace(" ", "").partition("->")
    terms = terms.split(",")
    if "." in subscripts or not _ or len(terms) != len(inputs):
        return None
    letters = {t[0] for t, x in zip(terms, inputs) if kinds[x.id] == "row" and t}
    if len(letters) != 1:
        return None
    (r,) = letters
    if any(r in t for t, x in zip(terms, inputs) if kinds[x.id] != "row") or \
            any(not t or t[0] != r for t, x in zip(terms, inputs) if kinds[x.id] == "row"):
        return None
    if r not in out:
        return "sum"
    return "row" if out[0] == r else None


# -- the functions: the block's, the one after the blocks, the driver -------------------
_SHAPE_ATTRS = ("shape",)
_IN_BLOCKS = ("row", "cols", "shared", "sum", "mean")
_OVER_ROWS = ("sum", "mean")
_AFTER = ("post", "shared")


def block_graph(nodes, params, outputs, kinds, n, rows):
    """The program of a block of `rows` rows: (graph, params, outputs), row values' leading
    axis `rows` instead of n. Arguments without rows keep their identity."""
    g = _numbered_apart(Graph("rows"), nodes, params)
    new = {}
    for p in params:
        if kinds[p.id] == "row":
            new[p.id] = Value(g, (rows,) + tuple(p.shape[1:]), p.dtype, name=p.name)
    g.nodes = _copied(nodes, kinds, _IN_BLOCKS, new, g, n, rows)
    g.inputs = [new.get(p.id, p) for p in params]
    g.outputs = [new.get(v.id, v) if isinstance(v, Value) else v for v in outputs]
    return g, g.inputs, g.outputs


def after_graph(nodes, params, sums, outputs, kinds):
    """What follows the sums over the rows, computed once: (graph, params, outputs); its
    parameters are the sums, then the arguments without rows."""
    g = _numbered_apart(Graph("after"), nodes, params)
    new = {v.id: Value(g, v.shape, v.dtype, name=v.name) for v in sums}
    g.nodes = _copied(nodes, kinds, _AFTER, new, g, None, None)
    g.inputs = [new[v.id] for v in sums] + [p for p in params if kinds[p.id] != "row"]
    g.outputs = [new.get(v.id, v) if isinstance(v, Value) else v for v in outputs]
    return g, g.inputs, g.outputs


def _numbered_apart(g, nodes, params):
    # (new values numbered apart from the program's: arguments keep their ids)
    g._ids = (max([p.id for p in params] + [o.id for m in nodes for o in m.outputs], default=0) + 1) << 20
    return g


def _copied(nodes, kinds, wanted, new, g, n, rows):
    """Copies of the nodes computing values of the `wanted` kinds (a kernel computing
    values of other kinds too, only its outputs of those), reading `new` values in place
    of the program's; row shapes made `rows` long when n is given."""
    from ..symbolic.kernel import canon_symbol, canonicalize
    out = []
    for node in nodes:
        keep = [k for k, o in enumerate(node.outputs) if kinds[o.id] in wanted]
        if not keep:
            continue
        inputs = [new.get(x.id, x) if isinstance(x, Value) else x for x in node.inputs]
        attrs = dict(node.attrs)
        if node.op.name == "ew":
            if len(keep) < len(node.outputs):  # (its other outputs are computed elsewhere)
                symbols = {canon_symbol(i): x for i, x in enumerate(inputs)}
                order, canon = canonicalize([attrs["exprs"][k] for k in keep])
                inputs = [symbols[sym] for sym in order]
                attrs = dict(attrs, exprs=canon, avals=tuple(attrs["avals"][k] for k in keep))
                attrs.pop("names", None)
            if n is not None:
                attrs["avals"] = tuple(((rows,) + tuple(sh[1:]) if kinds[node.outputs[k].id] == "row" else tuple(sh), d)
                                       for k, (sh, d) in zip(keep, attrs["avals"]))
        if n is not None:
            for key in _SHAPE_ATTRS:
                if key in attrs and kinds[node.outputs[0].id] == "row" and attrs[key] and attrs[key][0] == n:
                    attrs[key] = (rows,) + tuple(attrs[key][1:])
        m = Node(node.op, inputs, attrs, node.loc)
        m.outputs = []
        for j, k in enumerate(keep):
            o = node.outputs[k]
            shape = (rows,) + tuple(o.shape[1:]) if n is not None and kinds[o.id] == "row" else \
                tuple(o.shape[:-1]) + (rows,) if n is not None and kinds[o.id] == "cols" else o.shape
            c = new[o.id] = Value(g, shape, o.dtype, m, j, name=o.name)
            m.outputs.append(c)
        out.append(m)
    return out


def block_source(generate_for, fn_name):
    """The source of the block function: generated for both sentinel row counts, and
    where the two differ — by the row count, or a multiple of it (a mean's count of
    elements) — the count made the parameter `rows`; None if they differ otherwise."""
    from .source import COMMENT_COLUMN
    s1, s2 = _SENTINELS
    a, b = (generate_for(s) for s in _SENTINELS)
    pa, pb = re.split(r"(\d+)", a), re.split(r"(\d+)", b)
    if len(pa) != len(pb):
        return None
    parts = []
    for k, (x, y) in enumerate(zip(pa, pb)):
        if x == y:
            parts.append(x)
        elif k % 2 and int(x) % s1 == 0 and int(y) % s2 == 0 and int(x) // s1 == int(y) // s2:
            times = int(x) // s1
            parts.append("rows" if times == 1 else f"({times} * rows)")
        else:
            return None
    lines = []
    for line, original in zip("".join(parts).split("\n"), a.split("\n")):
        if line != original and "  # " in line:  # (the comment back in its column)
            code, comment = line.split("  # ", 1)
            line = code.rstrip().ljust(COMMENT_COLUMN) + "  # " + comment
        lines.append(line)
    return "\n".join(lines)


def split_outputs(outputs, kinds, nodes):
    """(the block function's outputs: the program's row outputs, then the sums over the
    rows it returns or what follows them reads; the function after the blocks' outputs:
    the program's other outputs)."""
    rows = [v for v in outputs if isinstance(v, Value) and kinds.get(v.id) == "row"]
    sums = {}
    for v in outputs:
        if isinstance(v, Value) and kinds.get(v.id) in _OVER_ROWS:
            sums[v.id] = v
    for node in nodes:
        if any(kinds[o.id] == "post" for o in node.outputs):
            for x in node.inputs:
                if isinstance(x, Value) and kinds.get(x.id) in _OVER_ROWS:
                    sums[x.id] = x
    after = [v for v in outputs if isinstance(v, Value) and kinds.get(v.id) in _AFTER]
    return rows, list(sums.values()), list(dict((v.id, v) for v in after).values())


def driver_source(fn_name, block_name, after_name, param_names, params, outputs, kinds, n,
                  rows, sums, after, names_of):
    """The function that runs `block_name` on each block of rows, joins their rows, adds
    their sums, then (after_name) computes what follows the sums."""
    from .source import COMMENT_COLUMN
    body = []
    row_names = []
    for v in rows:
        name = names_of(v)
        row_names.append(name)
        body.append(f"    {name} = np.empty({tuple(v.shape)!r}, np.{v.dtype.name})")
    sum_names = [names_of(v) for v in sums]
    head = f"    for lo in range(0, {n}, {BLOCK}):"
    body.append(head.ljust(COMMENT_COLUMN) + "  # a block of rows at a time: codegen/blocks.py")
    body.append(f"        hi = min(lo + {BLOCK}, {n})")
    args = [f"{name}[lo:hi]" if kinds.get(p.id) == "row" else name for p, name in zip(params, param_names)]
    parts = [f"b{k}" for k in range(len(rows) + len(sums))]
    body.append(f"        {_targets(parts)} = {block_name}({', '.join(args + ['hi - lo'])})")
    for name, part in zip(row_names, parts):
        body.append(f"        {name}[lo:hi] = {part}")
    for v, name, part in zip(sums, sum_names, parts[len(rows):]):
        if kinds[v.id] == "mean":  # (the blocks' means, each weighed by its share of the rows)
            part = f"{part} * ((hi - lo) / {n})"
        body.append(f"        {name} = {part} if lo == 0 else {name} + {part}")
    after_names = [names_of(v) for v in after]
    if after:
        shared = [name for p, name in zip(params, param_names) if kinds.get(p.id) != "row"]
        body.append(f"    {_targets(after_names)} = {after_name}({', '.join(sum_names + shared)})")
    by_value = {v.id: name for v, name in zip(rows + sums + after, row_names + sum_names + after_names)}
    rets = [by_value[v.id] if isinstance(v, Value) else "None" for v in outputs]
    body.append(f"    return ({', '.join(rets)}{',' if len(rets) == 1 else ''})")
    return "\n".join([f"def {fn_name}({', '.join(param_names)}):"] + body) + "\n"


def _targets(names):
    return names[0] + "," if len(names) == 1 else ", ".join(names)
