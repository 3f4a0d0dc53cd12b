"""The IR: a flat, typed SSA graph.

A `Graph` is an ordered list of `Node`s. Every node applies one op of the op table to
its inputs — `Value`s of the same graph or Python scalar literals — and defines one or
more output `Value`s, each with a static shape and dtype. Forward recordings, backward
passes and fused kernels are all graphs of this one kind, so every pass and the code
generator read a single data structure.

Values overload Python's operators so that derivative rules read like math
(`g * b`, `a.T @ g`); each operator appends a node to the value's graph.
"""
from __future__ import annotations

import numpy as np

from .. import ops as _ops
from ..utils.locations import format_loc_range
from .types import fmt_aval

Literal = (bool, int, float, complex)


class Value:
    """One SSA value: defined once, by a graph input or by a node output."""

    __slots__ = ("graph", "shape", "dtype", "node", "index", "name", "id", "__weakref__")

    def __init__(self, graph, shape, dtype, node=None, index=0, name=None):
        self.graph = graph
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index
        self.name = name
        self.id = graph._new_id()

    @classmethod
    def typed_as(cls, graph, array, node, index, name):
        """A node's output of the shape and dtype of an array numpy computed (no checks:
        recording a long run makes one per op)."""
        v = object.__new__(cls)
        v.graph, v.shape, v.dtype, v.node, v.index, v.name = graph, array.shape, array.dtype, node, index, name
        v.id = graph._new_id()
        return v

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self):
        return "%" + (self.name or str(self.id)) + ":" + fmt_aval(self.shape, self.dtype)

    # -- operators: each one appends a node to the graph ---------------------------------
    def _e(self, op, *inputs, **attrs):
        return self.graph.emit(op, list(inputs), **attrs)

    def __add__(self, o): return self._e("add", self, o)
    def __radd__(self, o): return self._e("add", o, self)
    def __sub__(self, o): return self._e("sub", self, o)
    def __rsub__(self, o): return self._e("sub", o, self)
    def __mul__(self, o): return self._e("mul", self, o)
    def __rmul__(self, o): return self._e("mul", o, self)
    def __truediv__(self, o): return self._e("div", self, o)
    def __rtruediv__(self, o): return self._e("div", o, self)
    def __pow__(self, o): return self._e("pow", self, o)
    def __neg__(self): return self._e("neg", self)
    def __matmul__(self, o): return self._e("matmul", self, o)

    @property
    def mT(self):
        """Swap the last two axes (matrix transpose of a batch)."""
        perm = list(range(self.ndim))
        perm[-1], perm[-2] = perm[-2], perm[-1]
        return self.transpose(tuple(perm))

    def transpose(self, perm):
        return self._e("transpose", self, perm=tuple(perm))

    def reshape(self, shape):
        shape = tuple(shape)
        return self if shape == self.shape else self._e("reshape", self, shape=shape)

    def broadcast_to(self, shape):
        shape = tuple(shape)
        return self if shape == self.shape else self._e("broadcast_to", self, shape=shape)

    def sum_to(self, shape):
        """Sum over the axes along which `shape` was broadcast to this value's shape."""
        shape = tuple(shape)
        return self if shape == self.shape else self._e("sum_to", self, shape=shape)

    def sum(self, axis=None, keepdims=False):
        return self._e("sum", self, axis=_ops.normalize_axis(axis, self.ndim), keepdims=keepdims)

    def cast(self, dtype):
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else self._e("cast", self, dtype=dtype)


class Node:
    """One application of an op: `outputs = op(inputs, **attrs)`."""

    __slots__ = ("op", "inputs", "attrs", "outputs", "loc")

    def __init__(self, op, inputs, attrs, loc=None):
        self.op = op
        self.inputs = inputs
        self.attrs = attrs
        self.outputs = []
        self.loc = loc  # tuple of (filename, lineno) in the user's code, possibly empty

    @property
    def out(self):
        return self.outputs[0]

    def __repr__(self):
        return f"<Node {self.op.name} -> {self.outputs}>"


class Graph:
    """An ordered list of nodes over some input values, with designated outputs."""

    def __init__(self, name="graph", parent=None):
        self.name = name
        self.parent = parent   # a loop body's enclosing graph: values share one numbering
        self.inputs: list[Value] = []
        self.nodes: list[Node] = []
        self.outputs: list = []
        self.current_loc = ()  # location stamped on nodes emitted from now on
        self.active = None     # while a backward is built: ids of values that need gradients
        self.one_function = False  # forward and backward generated as one function: the
        #                           backward may compute forward values again (ir/remat.py)
        self._ids = 0

    def _new_id(self):
        if self.parent is not None:
            return self.parent._new_id()
        self._ids += 1
        return self._ids

    def add_input(self, shape, dtype, name=None):
        v = Value(self, shape, dtype, name=name)
        self.inputs.append(v)
        return v

    def emit(self, opname, inputs, loc=None, **attrs):
        """Append `opname(inputs, **attrs)`; returns its output (a tuple if several)."""
        op = _ops.get(opname) if isinstance(opname, str) else opname
        inputs = [_as_input(x) for x in inputs]
        avals = op.infer(inputs, attrs)
        node = Node(op, inputs, attrs, self.current_loc if loc is None else loc)
        node.outputs = [Value(self, s, d, node, i) for i, (s, d) in enumerate(avals)]
        self.nodes.append(node)
        return node.outputs[0] if len(node.outputs) == 1 else tuple(node.outputs)

    def filled(self, number, like):
        """A constant array of `like`'s shape and dtype (a kernel with no inputs, so the
        number folds into the formulas that read it)."""
        import sympy
        return self.emit("ew", [], exprs=(sympy.Integer(number) if isinstance(number, int) else sympy.Float(number),),
                         avals=((like.shape, like.dtype),))

    # -- reading -------------------------------------------------------------------------
    def users(self):
        """Map each value id to the list of nodes that read it."""
        users = {}
        for n in self.nodes:
            for x in n.inputs:
                if isinstance(x, Value):
                    users.setdefault(x.id, []).append(n)
        return users

    def __str__(self):
        return format_graph(self)


def _as_input(x):
    if isinstance(x, Value):
        return x
    if isinstance(x, np.generic) and x.ndim == 0:
        return x.item()
    if isinstance(x, Literal):
        return x
    raise TypeError(f"graph inputs must be Values or Python scalars, got {type(x).__name__}")


def value_label(v):
    if not isinstance(v, Value):
        return repr(v)
    return v.name if v.name else f"%{v.id}"


def format_graph(g, indent=""):
    """Print a graph in a flat, jaxpr-like text form, one node per line; a loop's body
    (and its backward) indented under it."""
    params = ", ".join(f"{value_label(v)}: {fmt_aval(v.shape, v.dtype)}" for v in g.inputs)
    lines = [f"{indent}{g.name}({params}):"]
    body = []
    nested = {}
    for n in g.nodes:
        subs = [v for v in n.attrs.values() if isinstance(v, Graph)]
        if subs:
            nested[len(body)] = subs
        outs = ", ".join(f"{value_label(o)}: {fmt_aval(o.shape, o.dtype)}" for o in n.outputs)
        args = " ".join(value_label(x) for x in n.inputs)
        attrs = n.op.format_attrs(n.attrs)
        text = f"  {outs} = {n.op.name}" + (f"[{attrs}]" if attrs else "") + (f" {args}" if args else "")
        body.append((text, format_loc_range(n.loc)))
    width = max([len(t) for t, _ in body] + [0])
    for k, (text, loc) in enumerate(body):
        lines.append(indent + (f"{text.ljust(width)}  # {loc}" if loc else text))
        for sub in nested.get(k, ()):
            lines.append(format_graph(sub, indent + "    "))
    outs = ", ".join(value_label(o) if o is not None else "None" for o in g.outputs)
    lines.append(f"{indent}  return {outs}")
    return "\n".join(lines)
