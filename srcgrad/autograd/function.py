"""The graph an eager run records: `grad_fn` nodes, in PyTorch's shape.

Each op applied to tensors that require grad creates one `BackwardNode` (its
`grad_fn`), named like PyTorch's (`SubBackward0`) and linked to its inputs' nodes
through `next_functions`; leaves are reached through `AccumulateGrad` nodes. A node
holds no Python closure for its derivative: `backward()` turns the recorded nodes into
IR and compiles the derivative from the op table (see engine.py).
"""
import itertools

from ..ops import attrs_key

# edge kinds: how an op's input was obtained
NODE, LEAF, CONST = 0, 1, 2


class Version:
    """A version counter shared by a tensor and the views/aliases of its storage.

    `.data` is an alias with a counter of its own (PyTorch's: autograd does not see its
    writes), linked by `data_of` to the tensor's: a write through it stamps `data_written`
    there with the recording sequence, so that a backward knows which recorded reads came
    before it (engine.Walk.read_stale) without raising PyTorch's version error."""
    __slots__ = ("v", "data_of", "data_written", "numpy_reads", "read")

    def __init__(self, data_of=None):
        self.v = 0
        self.data_of = data_of
        self.data_written = -1
        self.read = -1  # the version a recorded op last read (trace.Tracer.before_write)
        self.numpy_reads = None  # (recording.keep_numpy_reads: values in this storage read as numpy's)

    def bump(self):
        """One more write into the storage."""
        self.v += 1
        if self.data_of is not None:
            self.data_of.data_written = next(_SEQUENCE)


#: ops whose number operands PyTorch takes as Scalars, not as inputs with an edge
_SCALAR_OPERANDS = {"pow", "clip"}


def _edge_entry(e):
    kind, ref = e
    if kind == NODE:
        fn = ref[0]
        if fn.promotes:  # (a cast for type promotion: PyTorch's edge is to what was cast)
            return _edge_entry(fn.edges[0]) if isinstance(fn.edges[0], tuple) else (None, 0)
        return ref
    if kind == LEAF:
        return ref._accumulator(), 0
    return None, 0


def _differentiable_const(dtype, op_kind):
    """Whether PyTorch gives a tensor input that needs no gradient an edge: not a mask or
    condition, nor the indices of an indexing op."""
    return dtype.kind != "b" and not (dtype.kind in "iu" and op_kind == "index")


def call_edges(args):
    """The edges PyTorch's node for a call of these arguments has: its tensor inputs."""
    import numpy as np
    from ..tensor import Tensor
    edges = []
    for a in args:
        if not isinstance(a, Tensor):
            continue
        if a.grad_fn is not None:
            edges.append((NODE, (a.grad_fn, a._output_nr)))
        elif a._requires_grad:
            edges.append((LEAF, a))
        elif a._data.dtype.kind not in "biu":
            edges.append((CONST, None))
    return tuple(edges)


def operand_edges(operands):
    """PyTorch's edge per operand of an op that takes each as an input: to its node, its
    accumulator, or none ((CONST, None): a number, an integer tensor, a constant)."""
    edges = []
    for x in operands:
        e = call_edges([x])  # (empty for a number or an integer tensor)
        edges.append(e[0] if e else (CONST, None))
    return tuple(edges)


def edges_of(fn):
    """The edges behind fn's next_functions (to show another node as fn)."""
    edges = []
    for f, k in fn.next_functions:
        edges.append((CONST, None) if f is None else (LEAF, f.variable) if isinstance(f, AccumulateGrad)
                     else (NODE, (f, k)))
    return tuple(edges)


class BackwardNode:
    """The record of one op application. Subclassed per op to carry PyTorch's name."""
    # (one per recorded op: the attributes most nodes never set are class defaults, in the
    # instance's __dict__ once set)
    __slots__ = ("op", "attrs", "edges", "saved", "freed", "outs", "loc", "_key", "seq", "__dict__",
                 "__weakref__")
    pre_hooks = None    # {output index: [hooks]} registered on non-leaf tensors
    retains = None      # {output index: weakref to tensor} for retain_grad()
    pytorch_inputs = None  # edges of the call PyTorch's node stands for (pytorch_names.py)
    as_pytorch = None   # how PyTorch's own node for this step differs from the op's
                        # (recording.keeps_no_tensor, recording.reads_its_inputs)
    overwritten = None  # {output index: its data before an in-place write} (recording.py)
    kept_call = ()      # what PyTorch's node for a composite call keeps (saved.keep_call)
    promotes = False    # a cast for type promotion, which PyTorch's nodes do inside (tensor._cast_to)
    numpy_semantics = False  # recorded running numpy code op by op: values as read, no version error

    def __init__(self, op, attrs, edges, saved, outs, loc):
        self.op = op
        self.attrs = attrs
        self.edges = edges    # per input: a literal, or (kind, ref)
        self.saved = saved    # per input: (array, version counter, version) or None; None once freed
        self.freed = None     # once freed: per input (shape, dtype, identity) or None
        self.outs = outs      # per output: (array, version counter, version)
        self.loc = loc
        self._key = None
        self.seq = next(_SEQUENCE)  # when it was recorded: backward() lays the run out in program order

    def name(self):
        name = type(self).__name__
        # (PyTorch's nodes written by hand in C++ name themselves with their namespace)
        return "torch::autograd::" + name if name in _CPP_NODES else name

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        """PyTorch's edges: per input it differentiates, its node (None for a tensor that
        needs no gradient). Not a mask or a condition (bool), an index into an indexing op,
        nor a number an op takes as a Scalar (`x ** 2`, `x.clamp(0, 1)`, `2 - x`); a number
        another op wraps into a tensor (`x * 2`) is one, as there. A node named after a
        call srcgrad computes as several ops (`gelu`) has the call's inputs as edges."""
        if self.pytorch_inputs is not None:
            return tuple(_edge_entry(e) for e in self.pytorch_inputs)
        out = []
        for i, e in enumerate(self.edges):
            if not isinstance(e, tuple):
                if self.op.name in _SCALAR_OPERANDS or (self.op.name == "sub" and i == 0):
                    continue
                out.append((None, 0))
            elif e[0] == CONST and not _differentiable_const(self.input_info(i)[1], self.op.kind):
                continue
            else:
                out.append(_edge_entry(e))
        return tuple(out)

    def free(self):
        """Drop the saved arrays (after a backward without retain_graph), keeping their
        shapes so the graph's structure can still be read."""
        if self.saved is not None:
            self.freed = tuple(None if s is None else (s[0].shape, s[0].dtype, (id(s[0]), s[2])) for s in self.saved)
            self.saved = None

    def input_info(self, i):
        """(shape, dtype, identity) of input i, whether or not the graph was freed: the
        identity of its data as read (the array, and its version: an array without history
        written in place between two reads is two values)."""
        if self.saved is not None:
            a, _, version = self.saved[i]
            return a.shape, a.dtype, (id(a), version)
        return self.freed[i]

    def key(self):
        """The structural part of a cache key contributed by this node."""
        k = self._key
        if k is None:
            avals = tuple((a.shape, a.dtype.str) for a, _, _ in self.outs)
            lits = tuple((type(e).__name__, e) for e in self.edges if not isinstance(e, tuple))
            k = self._key = (self.op.name, attrs_key(self.attrs), avals, lits)
        return k


#: recording order of every node (PyTorch's `sequence_nr`)
_SEQUENCE = itertools.count()

_CLASSES = {}


def node_class(op, attrs=None, inputs=()):
    # a custom rule's node is named after it, as PyTorch names a Function's: MyExpBackward;
    # an op whose PyTorch name depends on its attributes or its inputs (their shapes, their
    # layout) gives it from them (`a @ b`: DotBackward0 ... UnsafeViewBackward0)
    name = op.torch_name
    if op.name == "custom" and attrs:
        name = f"{attrs['name']}Backward"
    elif callable(name):
        name = name(attrs or {}, tuple(getattr(x, "_data", x) for x in inputs))
    cls = _CLASSES.get(name)
    if cls is None:
        cls = _CLASSES[name] = type(name, (BackwardNode,), {"__slots__": ()})
    return cls


def class_named(name):
    """The node class PyTorch's name `name` stands for (one class per name)."""
    cls = _CLASSES.get(name)
    if cls is None:
        cls = _CLASSES[name] = type(name, (BackwardNode,), {"__slots__": ()})
    return cls


#: PyTorch's nodes whose name() carries the torch::autograd namespace
_CPP_NODES = {"CopySlices", "CopyBackwards"}


class AccumulateGrad:
    """Where a leaf's gradient ends up: `next_functions` of its consumers point here."""
    __slots__ = ("variable", "__weakref__")

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"  # (PyTorch's name() of its C++ node)

    @property
    def next_functions(self):
        return ()

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"
