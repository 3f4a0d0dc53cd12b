"""Row blocks: a program over many independent rows runs a block of rows at a time.

Code vectorised over the rows of tall arrays (bundle adjustment's 31843 observations, a
batch of samples) treats every row alike: row i of each result depends on row i of the
arguments only, until a final sum over the rows. Run on all rows at once, every
intermediate is a whole tall array, and the gradient's peak memory is many of them at
once (bundle adjustment: 24 MB for a forward of 9 MB). Run a block of BLOCK rows at a
time, the intermediates are a block's worth, they stay in the processor's caches, and
only the results are whole:

    def reproj_x_value_and_grad(cam, X, w, feats):        # runs the function below on
        grad_cam = np.empty((31843, 11), np.float64)       # blocks of 4096 rows
        ...
        for lo in range(0, 31843, 4096):
            hi = min(lo + 4096, 31843)
            b0, b1, b2, b3 = reproj_x_value_and_grad_rows(cam[lo:hi], X[lo:hi], w[lo:hi], feats[lo:hi], hi - lo)
            t31 = b0 if lo == 0 else t31 + b0               # a sum over the rows: the blocks' sums
            grad_cam[lo:hi] = b1                            # a row per row
            ...

The function of a block is the program itself, generated for a row count `rows` (its
shapes read `(rows, 3)`). A program qualifies when each of its values is one of

- a row value: leading axis the rows, row i computed from row i of what it reads (an
  elementwise kernel, a column slice, a reshape or sum within a row, a cross product, a
  product with a matrix of no rows, the backward's scatters into columns);
- a shared value: no rows (computed from what has none, the same in every block, and
  cheap: every block computes it again);
- a sum over the rows of a row value, which only the program's results may be: the
  driver adds the blocks' sums.

Anything else (an op mixing rows, a guard, a loop, a captured array with rows) keeps the
program whole. The rows' count must be at least MIN_BLOCKS blocks.
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
    -> "row", "shared" or "sum" (a sum over the rows)."""
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
        if any(isinstance(x, Value) and kinds.get(x.id) == "sum" for x in node.inputs):
            return None  # (a value computed from a sum over all rows: not per block)
        if any(isinstance(x, Value) and x.id not in kinds for x in node.inputs):
            return None
        kind = _kind(node, kinds, n)
        if kind is None:
            return None
        for o in node.outputs:
            kinds[o.id] = kind
    if not any(isinstance(v, Value) and kinds.get(v.id) == "row" for v in outputs) and \
            not any(kinds.get(v.id) == "sum" for v in outputs if isinstance(v, Value)):
        return None
    return n, kinds


def _kind(node, kinds, n):
    """The kind of node's outputs, or None if the node mixes rows."""
    ins = [x for x in node.inputs if isinstance(x, Value)]
    rowed = [x for x in ins if kinds[x.id] == "row"]
    outs = node.outputs
    name, a = node.op.name, node.attrs
    if node.op.side_effect or a.get("side_effect") or node.op.block is not None:
        return None
    if not rowed:
        if any(o.ndim >= 1 and o.shape[0] == n for o in outs):
            # rows from nothing with rows: a constant filled per block, or a broadcast
            return "row" if name == "ew" and all(_fits_rows(x, o) for o in outs for x in ins) else None
        # (every block computes it again: only what costs little)
        return "shared" if name in CHEAP_SHARED and all(o.size <= BLOCK for o in outs) else None
    if not outs:
        return None
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
    if name == "reshape":
        x, o = node.inputs[0], outs[0]
        return "row" if x.shape[0] == n and o.ndim >= 1 and o.shape[0] == n else None
    if name == "broadcast_to":
        o = outs[0]
        return "row" if o.ndim >= 1 and o.shape[0] == n and _fits_rows(node.inputs[0], o) else None
    if name == "sum":
        x, axis = node.inputs[0], a["axis"]
        axes = set(range(x.ndim)) if axis is None else {d % x.ndim for d in axis}
        if 0 not in axes:
            return "row"
        return "sum" if outs[0].ndim == 0 or not a["keepdims"] else None
    if name == "sum_to":
        x, target = node.inputs[0], tuple(a["shape"])
        if len(target) == x.ndim and target[0] == n:
            return "row"
        return "sum" if not target or len(target) < x.ndim else None
    if name == "concatenate":
        o = outs[0]
        return "row" if a["axis"] % o.ndim != 0 and all(x.shape[0] == n for x in ins) and o.shape[0] == n else None
    if name == "matmul":
        x, w = node.inputs
        if kinds.get(getattr(w, "id", None)) == "shared" and x is rowed[0] and x.ndim == 2 and w.ndim == 2:
            return "row"
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


# -- the block program ------------------------------------------------------------------
_SHAPE_ATTRS = ("shape",)


def block_graph(nodes, params, outputs, kinds, n, rows):
    """The program for `rows` rows: (graph, params, outputs), row values' leading axis
    `rows` instead of n. Shared values keep their identity; the others are new."""
    new = {}

    def value(v, graph):  # (a node's outputs are new before any reader asks for them)
        if not isinstance(v, Value) or v.id in new:
            return new.get(getattr(v, "id", None), v)
        if kinds.get(v.id) != "row":
            return v  # (an argument or captured array without rows: itself)
        new[v.id] = Value(graph, (rows,) + tuple(v.shape[1:]), v.dtype, name=v.name)
        return new[v.id]
    g = Graph("rows")
    g._ids = max([p.id for p in params] + [o.id for m in nodes for o in m.outputs], default=0) + 1 << 20
    #        (new values numbered apart from the program's: shared values keep their ids)
    block_params = [value(p, g) for p in params]
    nodes_out = []
    for node in nodes:
        attrs = dict(node.attrs)
        if node.op.name == "ew":
            attrs["avals"] = tuple(((rows,) + tuple(s[1:]) if kinds[o.id] == "row" else tuple(s), d)
                                   for o, (s, d) in zip(node.outputs, attrs["avals"]))
        for key in _SHAPE_ATTRS:
            if key in attrs and kinds.get(node.outputs[0].id) == "row" and attrs[key] and attrs[key][0] == n:
                attrs[key] = (rows,) + tuple(attrs[key][1:])
        m = Node(node.op, [value(x, g) if isinstance(x, Value) else x for x in node.inputs], attrs, node.loc)
        outs = []
        for k, o in enumerate(node.outputs):
            if kinds[o.id] == "row":
                c = value(o, g)
            else:  # (a shared value or a sum: its shape has no rows, but its node is new)
                c = new.setdefault(o.id, Value(g, o.shape, o.dtype, name=o.name))
            c.node, c.index = m, k  # (a pruned kernel's outputs keep their old index: passes.py)
            outs.append(c)
        m.outputs = outs
        nodes_out.append(m)
    g.nodes = nodes_out
    g.inputs = block_params
    g.outputs = [new.get(v.id, v) if isinstance(v, Value) else v for v in outputs]
    return g, block_params, g.outputs


def block_source(generate_for, fn_name):
    """The source of the block function: generated for both sentinel row counts, the
    row count made the parameter `rows` where the two differ; None if they differ
    otherwise."""
    from .source import COMMENT_COLUMN
    a, b = (generate_for(s) for s in _SENTINELS)
    ta, tb = (re.sub(rf"\b{s}\b", "rows", src) for s, src in zip(_SENTINELS, (a, b)))
    if ta != tb or re.search(r"\browsrows\b", ta):
        return None
    lines = []
    for line, original in zip(ta.split("\n"), a.split("\n")):
        if line != original and "  # " in line:  # (the comment back in its column)
            code, comment = line.split("  # ", 1)
            line = code.rstrip().ljust(COMMENT_COLUMN) + "  # " + comment
        lines.append(line)
    return "\n".join(lines)


def driver_source(fn_name, block_name, param_names, params, outputs, kinds, n, out_names):
    """The function that runs `block_name` on each block of rows and joins the results."""
    from .source import COMMENT_COLUMN
    body = []
    for v, name in zip(outputs, out_names):
        if isinstance(v, Value) and kinds.get(v.id) == "row":
            body.append(f"    {name} = np.empty({tuple(v.shape)!r}, np.{v.dtype.name})")
    head = f"    for lo in range(0, {n}, {BLOCK}):"
    body.append(head.ljust(COMMENT_COLUMN) + f"  # a block of rows at a time: codegen/blocks.py")
    body.append(f"        hi = min(lo + {BLOCK}, {n})")
    args = [f"{name}[lo:hi]" if kinds.get(p.id) == "row" else name for p, name in zip(params, param_names)]
    parts = [f"b{k}" for k in range(len(outputs))]
    call = f"{block_name}({', '.join(args + ['hi - lo'])})"
    body.append(f"        {', '.join(parts)}{',' if len(parts) == 1 else ''} = {call}")
    for v, name, part in zip(outputs, out_names, parts):
        kind = kinds.get(v.id) if isinstance(v, Value) else None
        if kind == "row":
            body.append(f"        {name}[lo:hi] = {part}")
        elif kind == "sum":
            body.append(f"        {name} = {part} if lo == 0 else {name} + {part}")
        else:
            body.append(f"        {name} = {part}")
    body.append(f"    return ({', '.join(out_names)}{',' if len(out_names) == 1 else ''})")
    sig = ", ".join(param_names)
    return "\n".join([f"def {fn_name}({sig}):"] + body) + "\n"
