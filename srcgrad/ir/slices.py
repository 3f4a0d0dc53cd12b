"""Gradients that are zero outside a slice are computed on the slice.

The cotangent of `y[:, 0]` is an array of zeros with the gradient placed in column 0
(a `getitem_grad`). Each backward kernel that multiplies by it would work on the whole
array, most of it zeros: in bundle adjustment's `sum(err[:, 0])`, six (n, 2) products
whose second column is 0, each then summed over its row. So:

* a kernel whose every formula vanishes where such an input is 0, and whose outputs all
  have that input's shape, computes on the slice instead: its other inputs are read at
  the same index (an input broadcast along a sliced axis is read whole there), and each
  output is its sliced result placed into zeros the same way — for the next kernel to
  work on the slice again;
* a sum over every axis the index selects on reads the slice alone: the zeros add
  nothing.

Only basic indices (integers and slices) take part: each place is written at most once.
"""
import sympy as sp

from .. import ops as _ops
from .graph import Node, Value
from .passes import rewrite_each, summed_axes


def push_slices(graph):
    """Rewrite graph.nodes in place; returns the number of nodes rewritten."""
    def rewrite(n):
        if n.op.name == "ew":
            return _kernel_on_slice(n)
        if n.op.name in ("sum", "sum_to"):
            return _sum_of_slice(n)
        return None
    return rewrite_each(graph, rewrite)


def _basic_scatter(x):
    """(index template, the slice's value) if x is zeros with a value placed at a basic
    index, else None."""
    from ..ops.indexing import Slice
    s = x.node if isinstance(x, Value) else None
    if s is None or s.op.name != "getitem_grad" or len(s.inputs) != 1:
        return None
    template = s.attrs["index"]
    if not template or not all(isinstance(t, Slice) or (isinstance(t, int) and not isinstance(t, bool))
                               for t in template):
        return None
    g = s.inputs[0]
    if not isinstance(g, Value) or g.dtype != x.dtype or len(template) > len(x.shape):
        return None
    return template, g


def _kernel_on_slice(n):
    from ..symbolic.kernel import canon_symbol
    for i, x in enumerate(n.inputs):
        found = _basic_scatter(x)
        if found is None:
            continue
        template, g = found
        shape = x.shape
        if any(tuple(aval[0]) != shape for aval in n.attrs["avals"]):
            continue
        a = canon_symbol(i)
        if not all(_vanishes(e, a) for e in n.attrs["exprs"]):
            continue
        new, inputs = [], []
        for j, y in enumerate(n.inputs):
            if j == i:
                inputs.append(g)
            elif isinstance(y, Value):
                inputs.append(_read_at(y, shape, template, n.loc, new))
            else:
                inputs.append(y)
        sliced = tuple(g.shape)
        kernel = Node(n.op, inputs, dict(n.attrs, avals=tuple((sliced, d) for _, d in n.attrs["avals"])), n.loc)
        kernel.outputs = [Value(o.graph, sliced, o.dtype, kernel, k) for k, o in enumerate(n.outputs)]
        new.append(kernel)
        for o, part in zip(n.outputs, kernel.outputs):  # each result placed back: the same Value
            place = Node(_ops.get("getitem_grad"), [part], dict(index=template, shape=shape), n.loc)
            o.node, o.index = place, 0
            place.outputs = [o]
            new.append(place)
        return new
    return None


def _vanishes(e, a):
    """Whether formula e is 0 wherever a is 0 (a is a factor of every term)."""
    from ..symbolic import functions as F
    z = e.xreplace({a: sp.Integer(0)})
    if z == 0:
        return True
    return isinstance(z, F.where) and all(_is_zero(b) for b in z.args[1:])


def _is_zero(b):
    from ..symbolic import functions as F
    return b == 0 or (isinstance(b, F.where) and all(_is_zero(c) for c in b.args[1:]))


def _read_at(y, shape, template, loc, new):
    """y (broadcast against `shape`) read where `template` selects in `shape`."""
    from ..ops.indexing import Slice
    full = Slice(None, None, None)
    offset = len(shape) - len(y.shape)
    index = []
    for d, t in enumerate(template):
        if d < offset:
            continue  # y has no such axis: it broadcasts there whatever is selected
        if y.shape[d - offset] == shape[d]:
            index.append(t)
        else:  # y has length 1 along d: the same value for the whole slice
            index.append(0 if isinstance(t, int) else full)
    if all(t == full for t in index):
        return y
    return _getitem(y, index, loc, new)


def _getitem(y, index, loc, new):
    node = Node(_ops.get("getitem"), [y], dict(index=tuple(index)), loc)
    (aval,) = node.op.infer(node.inputs, node.attrs)
    node.outputs = [Value(y.graph, aval[0], aval[1], node, 0)]
    new.append(node)
    return node.out


def _sum_of_slice(n):
    """sum(zeros with v placed at index) over every axis the index selects on: v summed
    over what is left of those axes, shaped like the sum."""
    from ..ops.indexing import Slice
    x = n.inputs[0]
    found = _basic_scatter(x)
    if found is None:
        return None
    template, g = found
    reduced = summed_axes(n)
    if n.out.dtype != x.dtype:
        return None
    for d, t in enumerate(template):
        whole = isinstance(t, Slice) and slice(*t).indices(x.shape[d]) == (0, x.shape[d], 1)
        if d not in reduced and not whole:
            return None  # the index selects along an axis the sum keeps
    # the slice's axes: one per template slice, then x's axes after the template
    axes, k = [], 0
    for d in range(x.ndim):
        if d < len(template) and isinstance(template[d], int):
            continue  # gone from the slice
        if d in reduced:
            axes.append(k)
        k += 1
    new = []
    value = g
    if axes:
        node = Node(_ops.get("sum"), [g], dict(axis=tuple(axes), keepdims=False), n.loc)
        (aval,) = node.op.infer(node.inputs, node.attrs)
        node.outputs = [Value(g.graph, aval[0], aval[1], node, 0)]
        new.append(node)
        value = node.out
    last = Node(_ops.get("reshape"), [value], dict(shape=tuple(n.out.shape)), n.loc)
    n.out.node, n.out.index = last, 0
    last.outputs = [n.out]
    new.append(last)
    return new
