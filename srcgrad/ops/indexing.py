"""Indexing: reading (`x[i]`) and writing (`x[i] = v`) with any numpy index.

An index is stored as a hashable template — ints, `Slice`s, None, Ellipsis, and
`Arg(k)` placeholders for integer index arrays, which are ordinary (constant) inputs of
the node. Cache keys therefore hold the index's structure and the arrays' shapes, never
their contents, and the generated code reads the arrays as arguments. Boolean masks
become integer arrays (`nonzero`) when recorded.

The gradient of a read scatters the cotangent back with `np.add.at`, so repeated
indices accumulate; the gradient of a write is the cotangent with the written places
zeroed (for the old value) and read back at those places (for the new one).
"""
import ast
from typing import NamedTuple

import numpy as np

from ..codegen import astbuild as A
from ..codegen import layout
from .registry import Op, ShapeError, broadcast_shapes, register


class Slice(NamedTuple):
    """A hashable stand-in for `slice` (attrs are part of cache keys)."""
    start: object
    stop: object
    step: object

    def __repr__(self):
        s = ("" if self.start is None else str(self.start)) + ":" + ("" if self.stop is None else str(self.stop))
        return s + (":" + str(self.step) if self.step is not None else "")


class Arg(NamedTuple):
    """Placeholder for the k-th index array (input k + 1 of the node)."""
    k: int

    def __repr__(self):
        return f"<arr{self.k}>"


def _int(v):
    if isinstance(v, (int, np.integer)):
        return int(v)
    if hasattr(v, "__index__"):
        return v.__index__()
    raise IndexError(f"slice bounds must be integers, got {type(v).__name__}")


def _simple_index(index):
    """The template of an index of Python ints and int-bounded slices only (most indices,
    and every op of a long loop pays for this: no arrays, nothing traced), else None."""
    items = index if type(index) is tuple else (index,)
    out = []
    for item in items:
        t = type(item)
        if t is int:
            out.append(item)
        elif t is slice and type(item.start) in _BOUND and type(item.stop) in _BOUND \
                and type(item.step) in _BOUND:
            out.append(Slice(item.start, item.stop, item.step))
        else:
            return None
    return tuple(out)


_BOUND = (int, type(None))


def split_index(index):
    """A user's index → (template, [integer index arrays]).

    Tensors and lists used as indices become arrays; boolean masks become the integer
    arrays of their True positions. An integer tensor computed inside a compiled function
    (an argsort, an argmax) stays a tensor input, so the generated code recomputes it; a
    boolean mask computed there selects a data-dependent number of entries and refuses."""
    simple = _simple_index(index)
    if simple is not None:
        return simple, []
    from ..autograd.recording import TRACER
    from ..tensor import Tensor
    if not isinstance(index, tuple):
        index = (index,)
    template, arrays = [], []
    for item in index:
        if isinstance(item, Tensor) and TRACER[0] is not None and TRACER[0].traced(item):
            if item.dtype.kind in "iu":
                template.append(Arg(len(arrays)))
                arrays.append(item)
                continue
            if item.dtype.kind == "b":
                for a in traced_nonzero(item):
                    template.append(Arg(len(arrays)))
                    arrays.append(a)
                continue
            from ..trace import escape
            escape(item, "a non-integer index", "Index with integers or a boolean mask.")
        if isinstance(item, Tensor) and item.ndim == 0 and item.dtype.kind in "iu":
            item = int(item._data)  # a scalar tensor indexes as its integer (a view), as in PyTorch
        if isinstance(item, Tensor):
            item = item._data
        if isinstance(item, (list, tuple)):
            item = _own(np.asarray(item))  # (a tuple inside the index is an array, as in numpy)
        if isinstance(item, slice):
            template.append(Slice(*(None if v is None else _int(v) for v in (item.start, item.stop, item.step))))
        elif item is None:
            template.append(None)
        elif item is Ellipsis:
            template.append(Ellipsis)
        elif isinstance(item, (bool, np.bool_)):
            raise IndexError("a boolean scalar index is not supported; use a boolean array")
        elif isinstance(item, (int, np.integer)):
            template.append(int(item))
        elif isinstance(item, np.ndarray) and item.dtype == np.bool_:
            for a in np.nonzero(item):
                template.append(Arg(len(arrays)))
                arrays.append(_own(a))
        elif isinstance(item, np.ndarray) and item.dtype.kind in "iu":
            template.append(Arg(len(arrays)))
            arrays.append(item.astype(np.intp, copy=False))
        else:
            raise IndexError(f"an index must be an int, slice, None, ..., or an integer/boolean array; "
                             f"got {type(item).__name__}"
                             + (f" of dtype {item.dtype}" if isinstance(item, np.ndarray) else ""))
    return tuple(template), arrays


def _own(a):
    """An index array made here, from a list or a mask, which nobody else can reach:
    read-only, so that the compiler may take its entries as known (ir/index_chains.py)."""
    a.flags.writeable = False
    return a


def traced_nonzero(mask):
    """The positions of a traced boolean mask's True entries, one integer tensor per axis,
    recomputed by the generated code. How many there are decides the shapes that follow:
    that count is a guard, so data selecting another number of entries records and
    compiles another variant (as a data-dependent branch does)."""
    from ..autograd.recording import apply
    from .registry import get
    count = int(mask.sum())  # (a guard)
    return [apply(get("nonzero"), [mask], {"axis": k, "size": count}) for k in range(mask.ndim)]


def numpy_index(template, arrays):
    out = []
    for i in template:
        if isinstance(i, Slice):
            out.append(slice(*i))
        elif isinstance(i, Arg):
            out.append(arrays[i.k])
        else:
            out.append(i)
    return tuple(out)


def fmt_index(template):
    return "[" + ", ".join("..." if i is Ellipsis else repr(i) for i in template) + "]"


def index_ast(template, arrays, as_value=False):
    """The index as code; `arrays` are the ast expressions of the index arrays.

    as_value: an index passed as an argument (`np.add.at(out, key, g)`), where `a:b` is
    not valid syntax and slices are written `slice(a, b, c)`."""
    elts = []
    for i in template:
        if isinstance(i, Slice) and as_value:
            elts.append(A.call("slice", *(A.const(None) if v is None else A.num(v) for v in i)))
        elif isinstance(i, Slice):
            elts.append(ast.Slice(lower=None if i.start is None else A.num(i.start),
                                  upper=None if i.stop is None else A.num(i.stop),
                                  step=None if i.step is None else A.num(i.step)))
        elif isinstance(i, Arg):
            elts.append(arrays[i.k])
        elif i is None or i is Ellipsis:
            elts.append(A.const(i))
        else:
            elts.append(A.num(i))
    return elts[0] if len(elts) == 1 else ast.Tuple(elts=elts, ctx=ast.Load())


def _probe(shape, dtype):
    return np.broadcast_to(np.zeros((), dtype), shape)  # a free view: no data


def _indexed_shape(x_shape, template, index_vals):
    probes = [np.zeros(v.shape, np.intp) for v in index_vals]
    try:
        return _probe(x_shape, np.float64)[numpy_index(template, probes)].shape
    except IndexError as e:
        raise ShapeError(f"index {fmt_index(template)} does not fit shape {tuple(x_shape)}: {e}") from None


def _has_arrays(template):
    return any(isinstance(i, Arg) for i in template)


# -- x[index] -----------------------------------------------------------------------------
def _getitem_infer(inputs, attrs):
    x, idx = inputs[0], inputs[1:]
    return [(_indexed_shape(x.shape, attrs["index"], idx), x.dtype)]


def _getitem_torch_name(attrs, inputs=()):
    """PyTorch's node for x[index]: IndexBackward0 with index tensors; else its basic
    indexing applies the items in turn, and the last that does something names it
    (`x[1:, 0]`: SelectBackward0, `x[0, 1:]`: SliceBackward0, `x[:, None]`: Unsqueeze)."""
    template = attrs.get("index", ())
    if any(isinstance(i, Arg) for i in template):
        return "IndexBackward0"
    if len(template) == 1 and isinstance(template[0], Slice):
        return "SliceBackward0"  # (x[a:b] is one slice, whatever its range)
    steps = basic_index_steps(template, getattr(inputs[0], "shape", None) if inputs else None)
    return steps[-1] if steps else "AliasBackward0"


def basic_index_steps(template, shape):
    """PyTorch's view nodes for a basic index, in the order its indexing applies them
    (`x[None, ..., 0:1]`: UnsqueezeBackward0, then SliceBackward0); a slice over a whole
    axis does nothing there."""
    steps, dim = [], 0
    consuming = sum(1 for i in template if i is not None and i is not Ellipsis)
    for i in template:
        if i is Ellipsis:
            dim += (len(shape) - consuming) if shape is not None else 0
            continue
        if not (isinstance(i, Slice) and _whole(i, shape[dim] if shape is not None and dim < len(shape) else None)):
            steps.append("UnsqueezeBackward0" if i is None else "SliceBackward0" if isinstance(i, Slice)
                         else "SelectBackward0")
        dim += i is not None
    return steps


def _whole(item, size):
    """Whether a slice takes a whole axis of this size (None: unknown, only `:` does)."""
    if item.step not in (None, 1) or item.start not in (None, 0):
        return False
    return item.stop is None or (size is not None and item.stop >= size)


def _getitem_vjp(node, gs):
    (g,) = gs
    x, idx = node.inputs[0], node.inputs[1:]
    if _only_new_axes(node.attrs["index"], x.ndim):  # x[:, None] reads every element once
        return [g.reshape(x.shape)] + [None] * len(idx)
    gx = g.graph.emit("getitem_grad", [g, *idx], index=node.attrs["index"], shape=x.shape)
    return [gx] + [None] * len(idx)


def _only_new_axes(template, ndim):
    """Whether the index only inserts axes (None) among whole ones (`:`, `...`)."""
    full = Slice(None, None, None)
    return all(t is None or t is Ellipsis or t == full for t in template) and \
        sum(1 for t in template if t == full) <= ndim


def _getitem_impl(x, *idx, index):
    key = numpy_index(index, idx)
    r = x[key]
    if not isinstance(r, np.ndarray) and not _numpy_code():
        # an element: numpy copies it out, but a tensor's element is a 0-d view of it
        # (PyTorch's: `x[0].fill_(7)` writes into x, `first = x[0]` sees `x += 1`)
        r = x[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
    return r


def _numpy_code():
    from ..autograd.recording import numpy_code
    return numpy_code()


register(Op("getitem", "index", _getitem_impl, infer=_getitem_infer,
            vjp=_getitem_vjp,
            emit=lambda args, attrs, node: ast.Subscript(value=args[0], slice=index_ast(attrs["index"], args[1:]),
                                                         ctx=ast.Load()),
            fmt_attrs=lambda attrs: fmt_index(attrs["index"]), torch_name=_getitem_torch_name))


# -- the gradient of a read: scatter-add into zeros ------------------------------------
def _scatters(index, idx):
    """Whether a write at this index may hit a place twice (so must add with np.add.at):
    only through index arrays of one or more dimensions (a 0-d one is a plain int)."""
    return _has_arrays(index) and any(len(getattr(a, "shape", ())) > 0 for a in idx)


def _scatter_impl(g, *idx, index, shape):
    out = np.zeros(shape, g.dtype)
    key = numpy_index(index, idx)
    if _scatters(index, idx):
        np.add.at(out, key, g)
    else:
        out[key] = g
    return out


def _scatter_emit(args, attrs, node, target):
    dtype = node.out.dtype
    key = index_ast(attrs["index"], args[1:])
    zeros = A.assign(target, layout.zeros(attrs["shape"], A.dtype_expr(dtype)))
    if _scatters(attrs["index"], node.inputs[1:]):
        key = index_ast(attrs["index"], args[1:], as_value=True)
        add = ast.Expr(value=A.call("np.add.at", A.name(target), key, args[0]))
        return [zeros, add]
    put = ast.Assign(targets=[ast.Subscript(value=A.name(target), slice=key, ctx=ast.Store())],
                     value=args[0], lineno=0)
    return [zeros, put]


register(Op("getitem_grad", "index", _scatter_impl,
            infer=lambda inputs, attrs: [(tuple(attrs["shape"]), inputs[0].dtype)],
            vjp=lambda node, gs: [gs[0].graph.emit("getitem", [gs[0], *node.inputs[1:]],
                                                   index=node.attrs["index"])] + [None] * (len(node.inputs) - 1),
            emit=_scatter_emit, statement=True,
            fmt_attrs=lambda attrs: f"{fmt_index(attrs['index'])} shape={tuple(attrs['shape'])}",
            torch_name="IndexBackwardBackward0"))


# -- x[index] = v, as a new value -------------------------------------------------------
def _put_impl(x, v, *idx, index):
    out = np.array(x, copy=True)
    out[numpy_index(index, idx)] = v
    return out


def _put_inplace(x, v, *idx, index):
    x[numpy_index(index, idx)] = v
    return x


def _put_infer(inputs, attrs):
    x, v, idx = inputs[0], inputs[1], inputs[2:]
    target = _indexed_shape(x.shape, attrs["index"], idx)
    vshape = v.shape if hasattr(v, "shape") else ()
    if broadcast_shapes(vshape, target) != tuple(target):
        raise ShapeError(f"cannot assign a value of shape {tuple(vshape)} to x{fmt_index(attrs['index'])} "
                         f"of shape {tuple(target)}")
    return [(tuple(x.shape), x.dtype)]


def _put_vjp(node, gs):
    (g,) = gs
    v, idx = node.inputs[1], node.inputs[2:]
    index = node.attrs["index"]
    gx = g.graph.emit("setitem", [g, 0, *idx], index=index)
    gv = None
    if hasattr(v, "shape"):
        gv = g.graph.emit("getitem", [g, *idx], index=index)
        if _scatters(index, idx):  # a place written twice keeps the last value written:
            kept = g.graph.emit("last_writes", list(idx), index=index, shape=g.shape)
            kept.name = "kept"
            gv = g.graph.emit("where", [kept, gv, 0])  # only that one has a gradient
        gv = gv.sum_to(v.shape)
    return [gx, gv] + [None] * len(idx)


def _writable_copy(expr, ndim):
    """A copy of an array to write into: `x.copy()`; of a 0-d value `np.array(x)`, as numpy's
    full reductions give scalars (`t.sum(axis=0)` of a vector), whose copy is no array;
    arithmetic (`2.0 * t24`, codegen/emit._formed_at_uses) makes a new array itself."""
    if ndim and isinstance(expr, ast.BinOp):
        return expr
    return A.method(expr, "copy") if ndim else A.npcall("array", expr)


def _put_emit(args, attrs, node, target):
    key = index_ast(attrs["index"], args[2:])
    copy = A.assign(target, _writable_copy(args[0], node.out.ndim))
    put = ast.Assign(targets=[ast.Subscript(value=A.name(target), slice=key, ctx=ast.Store())],
                     value=args[1], lineno=0)
    return [copy, put]


def _put_torch_name(attrs, inputs=()):
    """PyTorch's node for `x[i] = v`: IndexPutBackward0 for an index holding tensors,
    CopySlices for ints and slices (a write through a view)."""
    return "IndexPutBackward0" if any(isinstance(i, Arg) for i in attrs.get("index", ())) else "CopySlices"


_put = register(Op("setitem", "index", _put_impl, infer=_put_infer, vjp=_put_vjp, emit=_put_emit,
                   statement=True, fmt_attrs=lambda attrs: fmt_index(attrs["index"]),
                   torch_name=_put_torch_name))
_put.inplace_impl = _put_inplace


# -- which places of a write by index arrays keep their value -------------------------------
# `y[[1, 1]] = v` writes y[1] twice and numpy keeps the last value, v[1]: v[0] has no
# gradient. Writing each place's position and reading it back tells which writes were
# kept, by numpy's own rule (so the contents of the index arrays may change per call).
def _last_writes_impl(*idx, index, shape):
    key = numpy_index(index, idx)
    written = _probe(shape, np.float64)[key].shape
    ids = np.arange(int(np.prod(written))).reshape(written)
    last = np.full(shape, -1, np.intp)
    last[key] = ids
    return last[key] == ids


def _last_writes_emit(args, attrs, node, target):
    key = index_ast(attrs["index"], args)
    written = node.out.shape
    ids = A.npcall("arange", A.num(int(np.prod(written))))
    if len(written) != 1:
        ids = A.method(ids, "reshape", A.literal(tuple(written)))
    put = ast.Assign(targets=[ast.Subscript(value=A.name(target), slice=key, ctx=ast.Store())],
                     value=ids, lineno=0)
    read = ast.Compare(left=ast.Subscript(value=A.name(target), slice=index_ast(attrs["index"], args),
                                          ctx=ast.Load()), ops=[ast.Eq()], comparators=[ids])
    return [A.assign(target, A.npcall("full", A.literal(tuple(attrs["shape"])), A.num(-1), A.name("np.intp"))),
            put, A.assign(target, read)]


register(Op("last_writes", "index", _last_writes_impl,
            infer=lambda inputs, attrs: [(_indexed_shape(attrs["shape"], attrs["index"], inputs), np.dtype(bool))],
            vjp=None, differentiable=False, emit=_last_writes_emit, statement=True,
            fmt_attrs=lambda attrs: f"{fmt_index(attrs['index'])} shape={tuple(attrs['shape'])}"))


# -- a sum of dense terms and slice gradients, accumulated into one array ------------------
# What `grad = a + b + zeros-with-x[i]-set + ...` becomes (ir/scatter.py): one array, the
# dense terms summed into it, each slice gradient added in place at its index — rather
# than a zeros array per slice and a whole-array addition for each.
def _entries(attrs, rest):
    """Per slice gradient: (template, coefficient, g, index arrays), from the inputs after
    the dense terms."""
    pos = 0
    for template, n_arrays, coeff in attrs["scatters"]:
        yield template, coeff, rest[pos], rest[pos + 1:pos + 1 + n_arrays]
        pos += 1 + n_arrays


def _accumulate_impl(*inputs, n_dense, scatters, shape):
    dense, rest = inputs[:n_dense], inputs[n_dense:]
    dtype = np.result_type(*[np.asarray(x).dtype for x in inputs[:n_dense] + (rest[0],)])
    out = np.zeros(shape, dtype)
    for d in dense:
        out += d
    for template, coeff, g, idx in _entries(dict(scatters=scatters), rest):
        key = numpy_index(template, idx)
        if _scatters(template, idx):
            np.add.at(out, key, coeff * g)
        else:
            out[key] += coeff * g
    return out


def _tiling(attrs, node):
    """When the slices cover the whole array exactly, side by side along one axis (no dense
    term): [(position of the slice's gradient among the inputs, coefficient)] in axis
    order, and the axis; else None. Then the sum is one np.concatenate."""
    if attrs["n_dense"]:
        return None
    shape = tuple(attrs["shape"])
    pieces, axis, pos = [], None, 0
    for template, n_arrays, coeff in attrs["scatters"]:
        g = node.inputs[pos]
        if n_arrays or Ellipsis in template or None in template or len(template) > len(shape):
            return None
        moving = [d for d, item in enumerate(template) if item != Slice(None, None, None)]
        if len(moving) != 1:
            return None
        d = moving[0]
        item = template[d]
        if not isinstance(item, Slice) or item.step not in (None, 1) or (axis is not None and d != axis):
            return None
        axis = d
        start, stop, _ = slice(item.start, item.stop).indices(shape[d])
        want = shape[:d] + (stop - start,) + shape[d + 1:]
        if getattr(g, "shape", None) != want:
            return None
        pieces.append((start, stop, pos, coeff))
        pos += 1
    pieces.sort()
    if not pieces or pieces[0][0] != 0 or pieces[-1][1] != shape[axis] or \
            any(a[1] != b[0] for a, b in zip(pieces, pieces[1:])):
        return None
    return [(p, c) for _, _, p, c in pieces], axis


def _accumulate_emit(args, attrs, node, target):
    tiles = _tiling(attrs, node)
    if tiles is not None:  # the slices tile the array: their gradients side by side
        parts, axis = tiles
        values = [args[p] if c == 1 else A.binop(A.literal(c), ast.Mult(), args[p]) for p, c in parts]
        return [A.assign(target, layout.concatenate(values, axis, attrs["shape"]))]
    n_dense = attrs["n_dense"]
    dense, rest = args[:n_dense], args[n_dense:]
    if not dense:
        first = layout.zeros(attrs["shape"], A.dtype_expr(node.out.dtype))
    elif len(dense) == 1:
        first = _writable_copy(dense[0], node.out.ndim)
    else:
        first = dense[0]
        for d in dense[1:]:
            first = A.binop(first, ast.Add(), d)
    return [A.assign(target, first)] + _slices_added(target, node, rest)


def added_into(node, args, target):
    """Statements adding the value a `getitem_grad` or `accumulate` node computes (zeros
    with slices placed or added) into the existing array named `target`: a gradient
    summed over a loop's iterations takes each iteration's slices where they go, with no
    zeros array of the whole shape per iteration (codegen/loops.py). `args`: the node's
    inputs as expressions."""
    if node.op.name == "getitem_grad":
        return [_add_at(target, node.attrs["index"], args[1:], node.inputs[1:], args[0])]
    n_dense = node.attrs["n_dense"]
    return [ast.AugAssign(target=A.store(target), op=ast.Add(), value=d) for d in args[:n_dense]] + \
        _slices_added(target, node, args[n_dense:])


def _slices_added(target, node, rest):
    """`target[i] += c * g` per slice gradient of an accumulate node (np.add.at where an
    index array may hit a place twice); rest: its inputs after the dense terms, as code."""
    stmts, values, pos = [], node.inputs[node.attrs["n_dense"]:], 0
    for template, coeff, g, idx in _entries(node.attrs, rest):
        idx_values = values[pos + 1:pos + 1 + len(idx)]
        pos += 1 + len(idx)
        value = g if coeff == 1 else A.binop(A.literal(coeff), ast.Mult(), g)
        stmts.append(_add_at(target, template, idx, idx_values, value))
    return stmts


def _add_at(target, template, idx_args, idx_values, value):
    if _scatters(template, idx_values):
        return ast.Expr(value=A.call("np.add.at", A.name(target), index_ast(template, idx_args, as_value=True), value))
    return ast.AugAssign(target=ast.Subscript(value=A.name(target), slice=index_ast(template, idx_args),
                                              ctx=ast.Store()), op=ast.Add(), value=value)


def _accumulate_vjp(node, gs):
    (ct,) = gs
    n_dense = node.attrs["n_dense"]
    out = [ct] * n_dense
    for template, coeff, g, idx in _entries(node.attrs, node.inputs[n_dense:]):
        part = ct.graph.emit("getitem", [ct, *idx], index=template)
        out.append(part * coeff if coeff != 1 else part)
        out += [None] * len(idx)
    return out


def _fmt_accumulate(attrs):
    parts = [f"{c}*g{fmt_index(t)}" if c != 1 else f"g{fmt_index(t)}" for t, _, c in attrs["scatters"]]
    return f"dense={attrs['n_dense']} " + " ".join(parts)


register(Op("accumulate", "index", _accumulate_impl,
            infer=lambda inputs, attrs: [(tuple(attrs["shape"]), inputs[attrs["n_dense"]].dtype)],
            vjp=_accumulate_vjp, emit=_accumulate_emit, statement=True, fmt_attrs=_fmt_accumulate,
            torch_name="IndexPutBackward0"))


# -- nonzero: the True positions along one axis of a mask whose count a guard fixes ------------
def _nonzero_infer(inputs, attrs):
    (m,) = inputs
    if not 0 <= attrs["axis"] < len(m.shape):
        raise ShapeError(f"nonzero: axis {attrs['axis']} of a {len(m.shape)}-d mask")
    return [((attrs["size"],), np.dtype(np.intp))]


def _nonzero_impl(m, axis, size):
    out = np.nonzero(m)[axis]
    if out.shape[0] != size:  # (the guard on the count runs first in generated code)
        raise ShapeError(f"nonzero: the mask has {out.shape[0]} True entries, {size} were recorded")
    return out


register(Op("nonzero", "index", _nonzero_impl, infer=_nonzero_infer, differentiable=False,
            torch_name="NonzeroBackward0",
            emit=lambda args, attrs, node: ast.Subscript(value=A.npcall("nonzero", args[0]),
                                                         slice=A.num(attrs["axis"]), ctx=ast.Load())))



# -- unique: its values' first positions, inverse and counts, whose number a guard fixes ----------
_UNIQUE_PARTS = ("count", "index", "inverse", "counts")


def _unique_infer(inputs, attrs):
    (x,) = inputs
    part, size = attrs["part"], attrs["size"]
    if part not in _UNIQUE_PARTS:
        raise ShapeError(f"unique: part {part!r}")
    shape = () if part == "count" else tuple(x.shape) if part == "inverse" else (size,)
    return [(shape, np.dtype(np.intp))]


def _unique_impl(x, part, size, equal_nan):
    if part == "count":
        return np.asarray(np.unique(x, equal_nan=equal_nan).size, np.intp)
    out = np.unique(x.ravel(), equal_nan=equal_nan, **{"return_" + part: True})[1]
    if part != "inverse" and out.shape[0] != size:  # (the guard on the count runs first in generated code)
        raise ShapeError(f"unique: {out.shape[0]} distinct values, {size} were recorded")
    return out.reshape(x.shape) if part == "inverse" else out


def _unique_emit(args, attrs, node):
    kw = {} if attrs["equal_nan"] else {"equal_nan": A.const(False)}
    if attrs["part"] == "count":
        return A.attr(A.npcall("unique", args[0], **kw), "size")
    call = A.npcall("unique", A.method(args[0], "ravel"), **kw, **{"return_" + attrs["part"]: A.const(True)})
    part = ast.Subscript(value=call, slice=A.num(1), ctx=ast.Load())
    return A.method(part, "reshape", A.literal(tuple(node.inputs[0].shape))) if attrs["part"] == "inverse" else part


register(Op("unique", "index", _unique_impl, infer=_unique_infer, differentiable=False,
            emit=_unique_emit, fmt_attrs=lambda attrs: attrs["part"]))
