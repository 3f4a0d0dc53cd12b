"""Tensor: a numpy array plus autograd metadata, with PyTorch's methods.

Every operation goes through `autograd.recording.apply` with an entry of the op table;
nothing here computes a derivative. Type promotion follows PyTorch: Python scalars are
weak, and integer data meeting float data takes the float dtype.
"""
from __future__ import annotations

import weakref

import math

import numpy as np

from . import _dtype
from . import ops as _ops
from ._format import format_tensor
from .size import Size
from .autograd.function import NODE, AccumulateGrad, Version, call_edges, edges_of, operand_edges
from .autograd.mode import is_grad_enabled
from .autograd import recording as _recording
from .autograd.recording import apply, unchanged_view
from .ops.indexing import basic_index_steps, split_index
from .autograd.pytorch_names import view_chain

_scalar = (bool, int, float)


def _op(name):
    return _ops.get(name)


def _tracing():
    return _recording.TRACER[0]


_numpy_code = _recording.numpy_code


def _decision(t, kind, value):
    """A Python decision on t's value: a guard if a function is being traced."""
    if _tracing() is None:
        return value
    from .trace import decision
    return decision(t, kind, value)


def _frozen_index(t):
    from .trace import frozen_index
    return frozen_index(t)


#: a traced tensor's tolist() gives its entries as 0-d tensors up to this many
TOLIST_MAX = 4096


def _entries(t):
    """t's entries as nested lists of 0-d tensors (each a recorded index)."""
    if t.ndim == 0:
        return t
    return [_entries(t[i]) for i in range(t.shape[0])]


def _escape(t, what, hint=None, builders=False):
    if _tracing() is not None:
        from .trace import escape
        escape(t, what, hint, builders)


def _stored_into_numpy(t):
    if _numpy_code():
        from .trace import stored_into_numpy
        stored_into_numpy(t)


def _escape_numpy_code(t):
    """A tensor that requires grad made into a plain array by a numpy-style function run op
    by op (srcgrad.vjp & co): it runs again with numpy's builders making tensors, as a
    trace does (trace.TraceError.needs_builders)."""
    if _recording.NUMPY_CODE[0] and _tracing() is None:
        from .trace import TraceError
        err = TraceError("a value being differentiated was made into a plain numpy array")
        err.needs_builders = True
        raise err


class InPlaceOnLeafError(RuntimeError, TypeError):
    """A tensor being differentiated (a leaf) was written in place. PyTorch's RuntimeError;
    a TypeError too, as numpy-style autodiff (HIPS autograd) reports it."""


def _one_number(t):
    """float(t), int(t): of one entry only (numpy's TypeError in numpy code, which it may
    catch; PyTorch's RuntimeError elsewhere)."""
    if t._data.size != 1:
        if _numpy_code():
            raise TypeError("only 0-dimensional arrays can be converted to Python scalars")
        raise RuntimeError(f"a Tensor with {t._data.size} elements cannot be converted to Scalar")


def _into_out(name, result, out, x):
    """`x.sum(out=o)` (numpy's and PyTorch's): the result written into o, o returned; a
    tuple of results (`x.max(dim)`) into a tuple of outs."""
    if out is None:
        return result
    from .numpy._dispatch import write_out
    if isinstance(result, tuple):
        if not (isinstance(out, (tuple, list)) and len(out) == len(result)):
            raise TypeError(f"{name}: out= must be a tuple of {len(result)} tensors")
        return type(result)(*[write_out(name, r, o, (x,)) for r, o in zip(result, out)])
    return write_out(name, result, out, (x,))


def _leaf_written_in_place():
    if _numpy_code():  # (a numpy-style function writing into its differentiated argument)
        from .utils.locations import describe_loc, user_loc
        where = describe_loc(user_loc(1))
        return InPlaceOnLeafError(
            f"an argument being differentiated cannot be changed in place{f' ({where})' if where else ''}: "
            f"its gradient is taken at the value passed in. Copy it first (`x = x.copy()`).")
    return InPlaceOnLeafError("a leaf Variable that requires grad is being used in an in-place operation.")


def _as_operand(x):
    """Tensor | ndarray | Python scalar; lists and numpy scalars converted."""
    if isinstance(x, np.generic):  # first: np.float64 is a float, but not a weak scalar
        # (PyTorch takes it as a number; numpy code keeps it, for _promote's numpy rule)
        return x if _numpy_code() else x.item()
    if isinstance(x, (Tensor, np.ndarray)) or isinstance(x, _scalar):
        return x
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    if isinstance(x, complex):
        return x
    return NotImplemented


def _dtype_of(x):
    if isinstance(x, Tensor):
        return x._data.dtype
    if isinstance(x, np.ndarray):
        return x.dtype
    return None


def _float_dtype(d):
    """The float dtype an integer (or bool) operand of a float-valued op computes in: the
    default dtype eagerly (PyTorch), numpy's smallest float holding it in numpy code."""
    if _recording.TRACER[0] is None:
        return _dtype.get_default_dtype()
    return np.promote_types(d, np.float16)


def _cast_to(x, dtype):
    """x in the dtype an op computes in (type promotion, tensor._promote)."""
    if isinstance(x, Tensor):
        r = x._cast_const(dtype)
        if r._grad_fn is not None and r is not x:
            r._grad_fn.promotes = True  # (PyTorch's node casts inside: not a node of its own there)
        return r
    if isinstance(x, np.ndarray):
        return x.astype(dtype)
    return x


def _own_copy(t):
    """t in memory of its own, outside numpy code (where numpy's view semantics hold)."""
    return t if _numpy_code() or t._data.base is None else t.clone()


def _integers_first(index, ndim):
    """PyTorch indexes with integers first (`x[0, :, idx]` is `x[0][:, idx]`), while numpy
    counts an integer beside an index array as advanced (its rule moves the selected axes
    to the front when a slice separates them). Eagerly, for an index mixing integers and
    arrays: (the integers, with full slices elsewhere; the rest), else None."""
    if type(index) is not tuple or _numpy_code():
        return None
    ints = arrays = False
    for i in index:
        if i is None:
            return None
        if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
            ints = True
        elif isinstance(i, (list, np.ndarray, Tensor)) and np.ndim(i._data if isinstance(i, Tensor) else i):
            arrays = True
    if not (ints and arrays):
        return None
    if any(i is Ellipsis for i in index):
        at = next(k for k, i in enumerate(index) if i is Ellipsis)
        rest = len(index) - 1
        index = index[:at] + (slice(None),) * (ndim - rest) + index[at + 1:]
    first = tuple(i if isinstance(i, (int, np.integer)) else slice(None) for i in index)
    second = tuple(i for i in index if not isinstance(i, (int, np.integer)))
    return first, second


def _promote(operands, float_result=False):
    """The operands, cast to the dtype the op computes in. Eagerly PyTorch's rule
    (`_dtype.torch_result_type`: a float32 tensor times a float64 0-d one stays float32, an
    integer tensor divided by 2 is of the default float dtype). Inside a compiled function
    (numpy code) numpy's own rule, which its ops follow by themselves."""
    if _numpy_code():
        return _numpy_scalars(operands)
    first = None
    for x in operands:  # (the common case first: arrays of one float dtype, and numbers)
        d = x._data.dtype if isinstance(x, Tensor) else x.dtype if isinstance(x, np.ndarray) else None
        if d is None:
            continue
        if first is None:
            first = d
        elif d != first:
            break
    else:
        if first is None or first.kind in "fc":
            return operands
    target = _dtype.torch_result_type([x._data if isinstance(x, Tensor) else x for x in operands])
    if float_result and target.kind in "iub":
        target = _dtype.get_default_dtype()
    return [_cast_to(x, target) if (_dtype_of(x) is not None and _dtype_of(x) != target) else x
            for x in operands]


def _numpy_scalars(operands):
    """numpy code: NumPy 2's rule for numpy scalars (`np.float64(3.0)`, a reduction of a
    plain array), which are strong where Python's numbers are weak: `x32 / np.float64(3)`
    computes in float64. One that changes the dtype numpy computes in enters as a 0-d
    array; the others as the numbers they are (literals of the generated code)."""
    if not any(isinstance(x, np.generic) for x in operands):
        return operands
    weak = [x.item() if isinstance(x, np.generic) else x for x in operands]
    kinds = [x._data.dtype if isinstance(x, Tensor) else x for x in operands]
    weak_kinds = [x._data.dtype if isinstance(x, Tensor) else x for x in weak]
    if np.result_type(*kinds) == np.result_type(*weak_kinds):
        return weak
    return [np.asarray(x) if isinstance(x, np.generic) else x for x in operands]


def refuse_bool_subtraction(a, b):
    """PyTorch refuses `-` with a bool tensor, or a Python bool, which it takes as one
    (numpy code, inside a decorated function, keeps numpy's rule: a bool array minus a
    float array is a float array)."""
    bools = sum(1 for x in (a, b) if isinstance(x, Tensor) and x._data.dtype == np.bool_ or x is True or x is False)
    if bools and not _numpy_code():
        if bools == 2:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                               "Use the `^` or `logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _binary(name, a, b, float_result=False):
    b = _as_operand(b)
    if b is NotImplemented:
        return NotImplemented
    if name == "sub":
        refuse_bool_subtraction(a, b)
    if name == "matmul" and isinstance(a, Tensor) and isinstance(b, Tensor) and not _numpy_code():
        da, db = a._data.dtype, b._data.dtype
        # PyTorch multiplies matrices of one dtype only; float32 with float64 (a float64 model
        # given float32 data) is its common error. (A float times an integer tensor is let
        # through: the seed tutorial, written for an older PyTorch, multiplies them.)
        if da != db and da.kind == "f" and db.kind == "f":
            from .surface import strict_matmul  # (PyTorch's message for these dimensions)
            strict_matmul(a, b)
        if (a.ndim > 2 or b.ndim > 2) and da == db and (a._requires_grad or b._requires_grad):
            from .pytorch_steps import pytorch_matmul  # (PyTorch's own steps: its graph)
            return pytorch_matmul(a, b)
        if a.ndim == 1 and b.ndim == 2:
            from .pytorch_steps import vector_matrix_nodes
            return vector_matrix_nodes(apply(_op(name), _promote([a, b], float_result), {}), a, b)
    a, b = _promote([a, b], float_result)
    return apply(_op(name), [a, b], {})


def alpha_node(r, operands, first=None):
    """`torch.add(x, y, alpha=2)`: one PyTorch node over x and y, where srcgrad records
    x + (2 * y). first: x's edge from before an in-place write (`x.add_(y, alpha=2)`)."""
    fn = r._grad_fn if isinstance(r, Tensor) else None
    if fn is not None and not _numpy_code():
        edges = operand_edges(operands)
        fn.pytorch_inputs = edges if first is None else first + edges[1:]
    return r


def _reflected(r):
    """`2 + x`, `2 * x`: recorded as written (a loop's `loss = 0; loss = loss + s` repeats
    one op), named as PyTorch's x.add(2), whose node's edges are (x, None)."""
    fn = r._grad_fn if isinstance(r, Tensor) else None
    if fn is not None and not _numpy_code():
        fn.pytorch_inputs = edges_of(fn)[::-1]
    return r


def _unary_float(name):
    def method(self):
        x = self._cast_const(_float_dtype(self._data.dtype)) if self._data.dtype.kind in "iub" else self
        return apply(_op(name), [x], {})
    method.__name__ = name
    return method


def _size_args(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def _functional(name):
    """A method that calls srcgrad.functional.<name>(self, ...)."""
    def method(self, *args, **kwargs):
        from . import functional
        return getattr(functional, name)(self, *args, **kwargs)
    method.__name__ = name
    return method


class Tensor:
    """A numpy array with `requires_grad`, `grad`, `grad_fn` and PyTorch's methods."""

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_output_nr", "_grad", "_vc", "_volatile",
                 "_hooks", "_acc", "_view_of", "_multi_view", "_detached", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, *args, dtype=None, requires_grad=False):
        # PyTorch's legacy constructor: Tensor(data) or Tensor(*sizes); always the default
        # float dtype unless a dtype is given.
        dtype = _dtype.resolve(dtype) or _dtype.get_default_dtype()
        if not args:
            data = np.zeros((0,), dtype)
        elif all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            data = np.zeros(tuple(int(a) for a in args), dtype)
        elif len(args) == 1:
            src = args[0]
            if isinstance(src, Tensor):
                src = src._data
            data = np.array(src, dtype=dtype)
        else:
            raise TypeError(f"Tensor() takes data or sizes, got {len(args)} arguments")
        self._init(data, False)
        if requires_grad:
            self.requires_grad = True

    def _init(self, data, requires_grad):
        self._data = data
        self._requires_grad = requires_grad
        self._grad_fn = None
        self._multi_view = None  # (k, "Split"): output k of a call returning several views
        self._output_nr = 0
        self._grad = None
        self._vc = Version()
        self._volatile = False
        self._hooks = None
        self._acc = None
        self._view_of = None   # (tensor, how, arg, version taken at) for a view: writes into it go through
        self._detached = False  # an alias of another tensor's data cut from its graph (detach, .data)

    @classmethod
    def _make(cls, data, requires_grad=False):
        t = object.__new__(Tensor)
        t._init(data, requires_grad)
        return t

    def _cast_const(self, dtype):
        """This tensor's data in another dtype, differentiably if it requires grad."""
        if self._data.dtype == dtype:
            return self
        return apply(_op("cast"), [self], {"dtype": np.dtype(dtype)})

    # -- autograd metadata --------------------------------------------------------------
    @property
    def requires_grad(self):
        if self._view_of is not None:
            self._sync_view()
            if not self._requires_grad and self._grad_fn is None:
                return self._view_of[0].requires_grad  # (PyTorch's view of a base that requires grad)
        return self._requires_grad

    @property
    def grad_fn(self):
        """The node that made this tensor (None for a leaf). A view whose base was written
        in place since is taken again first, as PyTorch regenerates a view's grad_fn."""
        if self._view_of is not None:
            self._sync_view()
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, fn):
        self._grad_fn = fn

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if self.grad_fn is not None:
            if not flag:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                                   "want to use a computed variable in a subgraph that doesn't require "
                                   "differentiation use var_no_grad = var.detach().")
            return
        if flag and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(this one is {self._data.dtype.name})")
        self._requires_grad = flag

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def _version(self):
        """How many times this tensor's storage was written in place (PyTorch's counter,
        shared with its views and `.detach()`; `.data` has its own)."""
        return self._vc.v

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: {tuple(value.shape)} "
                                   f"vs {tuple(self.shape)}")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    def _accumulator(self):
        acc = self._acc() if self._acc is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._acc = weakref.ref(acc)
        return acc

    def detach(self):
        """The same data, cut from the graph (shares storage and version counter)."""
        if _tracing() is not None and _tracing().traced(self):
            return apply(_op("stop_gradient"), [self], {})
        t = Tensor._make(self._data)
        t._vc = self._vc
        t._detached = True
        return t

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """The same storage with no autograd history; changes through it are not tracked."""
        if _tracing() is not None and _tracing().traced(self):
            return apply(_op("stop_gradient"), [self], {})  # still a function of the arguments
        t = Tensor._make(self._data)
        t._vc = Version(self._vc.data_of or self._vc)
        t._detached = True
        return t

    @data.setter
    def data(self, value):
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        old, self._data = self._data, arr
        if self._grad_fn is not None and arr.shape == old.shape and arr.dtype == old.dtype:
            _recording.rebound(self)

    def retain_grad(self):
        """Keep the gradient of this non-leaf tensor in `.grad` after backward."""
        if self.grad_fn is None:
            if not self.requires_grad:  # (a view of a base that requires grad does: PyTorch's)
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        fn = self.grad_fn
        if fn.retains is None:
            fn.retains = {}
        fn.retains[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        fn = self.grad_fn
        return bool(fn is not None and fn.retains and self._output_nr in fn.retains)

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with .remove()."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            fn = self.grad_fn
            if fn.pre_hooks is None:
                fn.pre_hooks = {}
            hooks = fn.pre_hooks.setdefault(self._output_nr, {})
        else:
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        return RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd.engine import run_backward
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        run_backward([self], [gradient], retain_graph, create_graph, inputs=inputs)

    # -- numpy-like facts -----------------------------------------------------------------
    @property
    def shape(self):
        shape = self._data.shape
        return shape if _numpy_code() else Size(shape)  # (numpy code: numpy's plain tuple)

    @shape.setter
    def shape(self, shape):
        """numpy's `a.shape = (m, n)`: the array itself takes the shape, its data not copied
        (numpy's refusal where that would need a copy). PyTorch's tensors have no setter."""
        if not _numpy_code():
            raise AttributeError("attribute 'shape' of 'torch._C.TensorBase' objects is not writable")
        reshaped = self._data.view()
        reshaped.shape = shape  # (numpy's checks and messages)
        if self._requires_grad and self._grad_fn is None and is_grad_enabled():
            raise _leaf_written_in_place()
        view = self.reshape(reshaped.shape)
        self._data, self._grad_fn, self._output_nr = view._data, view._grad_fn, view._output_nr
        self._view_of = None  # (the values are unchanged: no version bump, as numpy's)

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def nbytes(self):
        return self._data.nbytes

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def is_cuda(self):
        return False

    @property
    def device(self):
        return "cpu"

    @property
    def size(self):
        """numpy's `x.size` (the number of elements) that is also PyTorch's `x.size()` /
        `x.size(dim)` (the shape) when called."""
        return _Size(self._data.size, self._data.shape)

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def contiguous(self, memory_format=None):
        """The tensor itself when C-contiguous, else a recorded copy that is (PyTorch)."""
        if self._data.flags.c_contiguous:
            return self
        return apply(_op("copy"), [self], {})

    def cpu(self):
        return self

    def where(self, condition, other):
        """x.where(condition, y): x where condition holds, else y (torch.where(condition, x, y))."""
        from .functional import where
        return where(condition, self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        from .functional import allclose
        return allclose(self, other, rtol=rtol, atol=atol, equal_nan=equal_nan)

    def type_as(self, other):
        return self.to(other.dtype)

    # -- new tensors like this one (dtype from it unless given; no history) -----------------
    def _new(self, data, dtype, requires_grad):
        dt = self._data.dtype if dtype is None else _dtype.resolve(dtype)
        return Tensor._make(np.asarray(data, dt), requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False, **kwargs):
        return self._new(np.zeros(_size_args(size)), dtype, requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False, **kwargs):
        return self._new(np.ones(_size_args(size)), dtype, requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False, **kwargs):
        return self._new(np.zeros(_size_args(size)), dtype, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, requires_grad=False, **kwargs):
        return self._new(np.full(tuple(size), fill_value), dtype, requires_grad)

    def new_tensor(self, data, *, dtype=None, requires_grad=False, **kwargs):
        data = data.detach()._data if isinstance(data, Tensor) else data
        return self._new(np.array(data), dtype, requires_grad)

    def __len__(self):
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def item(self):
        if self._data.size != 1:
            if _numpy_code():  # (numpy's error, which numpy code may catch)
                raise ValueError("can only convert an array of size 1 to a Python scalar")
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        value = self._data.item()
        if self._requires_grad and isinstance(value, float) and _numpy_code():
            from .trace import number_taken
            number_taken(self)
        return _decision(self, "eq", value)

    def tolist(self):
        """Python numbers; of a traced tensor (inside a decorated function), nested lists
        of its 0-d entries, tensors still: `for v in x.tolist(): if v > 0: ...` takes its
        decisions as guards and its arithmetic is recorded (up to TOLIST_MAX entries)."""
        tracer = _tracing()
        if tracer is not None and tracer.traced(self) and self._data.size <= TOLIST_MAX:
            return _entries(self)
        _escape(self, "tolist()", f"Keep it a tensor (use srcgrad.numpy / tensor methods); tolist() of a traced "
                                  f"tensor of at most {TOLIST_MAX} entries gives its entries as 0-d tensors.")
        return self._data.tolist()

    def numpy(self):
        _escape(self, "numpy()")
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        _stored_into_numpy(self)  # (`out[i, :] = row` into a plain numpy array)
        integers = dtype is not None and np.dtype(dtype).kind in "biu"
        if _tracing() is not None and (dtype is None or integers) and _frozen_index(self):
            a = self._data  # (guarded on: an index carries no gradient)
            return a.astype(dtype) if dtype is not None and np.dtype(dtype) != a.dtype else a
        if integers:  # (np.int64(x): its values would still be frozen into generated code)
            _escape(self, f"converting to {np.dtype(dtype).name} with numpy",
                    f"Cast it with x.astype(np.{np.dtype(dtype).name}), which is recorded.", builders=True)
        _escape(self, "converting to a numpy array (np.asarray, np.array, or a numpy function without a "
                      "srcgrad rule)", "It is an array to numpy functions as it is: drop np.asarray(x); "
                      "use np.stack for a list of values, or srcgrad.numpy.array.", builders=True)
        if self._requires_grad and is_grad_enabled() and not integers:  # (integers carry no gradient)
            _escape_numpy_code(self)
            # np.array([t1, t2]) and friends would silently drop the gradient
            raise RuntimeError("Can't convert a Tensor that requires grad to a numpy array: its "
                               "gradient would be lost. Use tensor.detach(), or srcgrad.numpy.array/"
                               "np.stack to keep it.")
        a = self._data
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return np.array(a, copy=True) if copy else a

    def __bool__(self):
        if self._data.size != 1:
            if _numpy_code():  # (numpy's error, which numpy code may catch)
                raise ValueError("The truth value of an array with more than one element is ambiguous. "
                                 "Use a.any() or a.all()")
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is ambiguous")
        return _decision(self, "bool", bool(self._data))

    def __float__(self):
        _one_number(self)
        _stored_into_numpy(self)
        return float(self.item())

    def __int__(self):
        _stored_into_numpy(self)
        return int(self._step_value())

    def _step_value(self):
        """The number, for int(), round() and trunc(): guarded as item(), but without its
        warning, as those are steps whose derivative is 0: no gradient is lost."""
        _one_number(self)
        return _decision(self, "eq", self._data.item())

    def __round__(self, ndigits=None):
        """round(t): the nearest integer, a Python number (a guard in a compiled function,
        as int()); round(t, n): the tensor rounded to n decimals, as numpy's scalars."""
        if ndigits is None:
            _stored_into_numpy(self)
            return round(self._step_value())
        return self.round(decimals=ndigits)

    def __trunc__(self):
        _stored_into_numpy(self)
        return math.trunc(self._step_value())

    def __divmod__(self, o):
        return self // o, self % o

    def __rdivmod__(self, o):
        return o // self, o % self

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return _decision(self, "eq", int(self._data))  # an index taken from data is a guard

    def __repr__(self):
        return format_tensor(self)

    def __format__(self, spec):
        """`f"{loss:.4f}"`: a 0-d tensor formats as its number (PyTorch)."""
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    __hash__ = object.__hash__

    # -- dtype conversion -----------------------------------------------------------------
    def to(self, dtype=None, *args, **kwargs):
        dtype = kwargs.get("dtype", dtype)
        if dtype is None or isinstance(dtype, str) and dtype in ("cpu",):
            return self
        return self._cast_const(_dtype.resolve(dtype))

    def type(self, dtype=None):
        if dtype is None:
            return {"float32": "srcgrad.FloatTensor", "float64": "srcgrad.DoubleTensor",
                    "int64": "srcgrad.LongTensor"}.get(self.dtype.name, f"srcgrad.{self.dtype.name}")
        return self.to(dtype)

    def float(self):
        return self._cast_const(np.float32)

    def double(self):
        return self._cast_const(np.float64)

    def half(self):
        return self._cast_const(np.float16)

    def long(self):
        return self._cast_const(np.int64)

    def int(self):
        return self._cast_const(np.int32)

    def bool(self):
        return self._cast_const(np.bool_)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        """numpy's: a new array in dtype — of the same dtype too, unless copy=False."""
        dtype = _dtype.resolve(dtype)
        if copy and self._data.dtype == dtype:
            return apply(_op("copy"), [self], {})
        return self._cast_const(dtype)

    # -- arithmetic -------------------------------------------------------------------
    def __add__(self, o): return _binary("add", self, o)
    def __radd__(self, o): return _reflected(_binary("add", _as_operand(o), self))
    def __sub__(self, o): return _binary("sub", self, o)
    def __rsub__(self, o): return _binary("sub", _as_operand(o), self)
    def __mul__(self, o): return _binary("mul", self, o)
    def __rmul__(self, o): return _reflected(_binary("mul", _as_operand(o), self))
    def __truediv__(self, o): return _binary("div", self, o, float_result=True)
    def __rtruediv__(self, o):
        if isinstance(o, (int, float)) and not _numpy_code():
            # PyTorch computes `2 / x` as x.reciprocal() * 2 (MulBackward0 over
            # ReciprocalBackward0), rounding so too
            return self.reciprocal() * o
        return _binary("div", _as_operand(o), self, float_result=True)
    def __invert__(self): return self._bitwise("invert")
    def __and__(self, o): return self._bitwise("bitwise_and", o)
    def __rand__(self, o): return self._bitwise("bitwise_and", o)
    def __or__(self, o): return self._bitwise("bitwise_or", o)
    def __ror__(self, o): return self._bitwise("bitwise_or", o)
    def __xor__(self, o): return self._bitwise("bitwise_xor", o)
    def __rxor__(self, o): return self._bitwise("bitwise_xor", o)

    def _bitwise(self, name, *other):
        """~ & | ^: logical on booleans (masks), bitwise on integers, as numpy and PyTorch."""
        ops = {"invert": "logical_not", "bitwise_and": "logical_and", "bitwise_or": "logical_or",
               "bitwise_xor": "logical_xor"}
        operands = [self] + [_as_operand(o) for o in other]
        kinds = {np.asarray(x._data if isinstance(x, Tensor) else x).dtype.kind for x in operands}
        if kinds <= {"b"}:
            name = ops[name]
        elif not kinds <= {"b", "i", "u"}:
            raise TypeError(f"{name}: only integer and boolean tensors, got {self.dtype}")
        return apply(_op(name), operands, {})

    def __mod__(self, o): return _binary("mod", self, o)
    def __rmod__(self, o): return _binary("mod", _as_operand(o), self)

    def __floordiv__(self, o):  # a step function: a zero derivative, as PyTorch's
        return _binary("floor_divide", self, o)

    def __rfloordiv__(self, o):
        return _binary("floor_divide", _as_operand(o), self)

    def __pow__(self, o): return _binary("pow", self, o)
    def __rpow__(self, o): return _binary("pow", _as_operand(o), self)
    def __matmul__(self, o): return _binary("matmul", self, o)
    def __rmatmul__(self, o): return _binary("matmul", _as_operand(o), self)
    def __neg__(self):
        if self._data.dtype == np.bool_ and not _numpy_code():
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                               "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        return apply(_op("neg"), [self], {})
    def __pos__(self):  # (numpy's +a is a new array; PyTorch's is a itself)
        return apply(_op("copy"), [self], {}) if _numpy_code() else self

    def __abs__(self): return self.abs()

    def __lt__(self, o): return _binary("lt", self, o)
    def __le__(self, o): return _binary("le", self, o)
    def __gt__(self, o): return _binary("gt", self, o)
    def __ge__(self, o): return _binary("ge", self, o)
    def __eq__(self, o): return _binary("eq", self, o)
    def __ne__(self, o): return _binary("ne", self, o)

    def add(self, other, *, alpha=1):
        if alpha == 1:
            return self + other
        return alpha_node(self + _recording.keeps_no_tensor(alpha * _as_operand(other)), [self, other])

    def sub(self, other, *, alpha=1):
        if alpha == 1:
            return self - other
        return alpha_node(self - _recording.keeps_no_tensor(alpha * _as_operand(other)), [self, other])

    mul = __mul__

    def div(self, other, *, rounding_mode=None):
        from .surface import divide
        return divide(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div
    pow = __pow__
    matmul = __matmul__
    mm = _functional("mm")  # (torch.mm, torch.dot: one dtype only, as PyTorch's)
    dot = _functional("dot")
    lt, le, gt, ge, eq, ne = __lt__, __le__, __gt__, __ge__, __eq__, __ne__

    def neg(self):
        return -self

    exp = _unary_float("exp")
    log = _unary_float("log")
    sqrt = _unary_float("sqrt")
    sin = _unary_float("sin")
    cos = _unary_float("cos")
    tanh = _unary_float("tanh")
    sigmoid = _unary_float("sigmoid")

    def relu(self):
        return apply(_op("relu"), [self], {})

    def abs(self):
        return apply(_op("abs"), [self], {})

    def sign(self):
        """PyTorch's sign: 0 for NaN, where numpy's np.sign (srcgrad.numpy.sign) gives NaN."""
        s = apply(_op("sign"), [self], {})
        if self.dtype.kind != "f":
            return s
        return apply(_op("where"), [apply(_op("isnan"), [self], {}), 0.0, s], {})

    # -- in place -------------------------------------------------------------------------
    def _refuse_multi_view_write(self):
        """PyTorch refuses to write into one of the views split, chunk or unbind return
        together, when it requires grad (each view's backward assumes the others')."""
        if self._multi_view is not None and self._requires_grad and is_grad_enabled():
            k, fn = self._multi_view
            raise RuntimeError(f"Output {k} of {fn} is a view and is being modified inplace. This view is "
                               f"the output of a function that returns multiple views. Such functions do not allow "
                               f"the output views to be modified inplace. You should replace the inplace operation "
                               f"by an out-of-place one.")

    def _inplace(self, name, other):
        self._refuse_multi_view_write()
        if self._requires_grad and self.grad_fn is None and is_grad_enabled():
            raise _leaf_written_in_place()
        other = _as_operand(other)
        if isinstance(other, np.generic):  # (the result keeps this tensor's dtype)
            other = other.item()
        if isinstance(other, Tensor) and other._data.dtype != self._data.dtype:
            # the result keeps this tensor's dtype: computed in it (the cast is differentiable)
            other = other._cast_const(self._data.dtype)
        if self._writes_through(other):  # (computed from a copy: the view's data is overwritten)
            new = apply(_op(name), [apply(_op("copy"), [self], {}), other], {})
            return self._write_through(new if new._data.dtype == self._data.dtype else new._cast_const(self.dtype))
        return apply(_op(name), [self, other], {}, out=self)

    def add_(self, o, *, alpha=1):
        if alpha == 1:
            return self._inplace("add", o)
        before = operand_edges([self])
        return alpha_node(self._inplace("add", alpha * _as_operand(o)), [self, o], before)

    def sub_(self, o, *, alpha=1):
        if alpha == 1:
            return self._inplace("sub", o)
        before = operand_edges([self])
        return alpha_node(self._inplace("sub", alpha * _as_operand(o)), [self, o], before)
    def mul_(self, o): return self._inplace("mul", o)

    def div_(self, o, *, rounding_mode=None):
        if rounding_mode is None:
            return self._inplace("div", o)
        return self._write_back(lambda x: x.div(o, rounding_mode=rounding_mode))
    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def _write_back(self, compute):
        """An in-place op, `x.exp_()`: x[...] = compute(x), where x takes the result's history
        (PyTorch's semantics). compute reads a recorded copy of x when x has one, as the
        write overwrites the memory its recording would read."""
        self._refuse_multi_view_write()
        if self._requires_grad and self.grad_fn is None and is_grad_enabled():
            raise _leaf_written_in_place()
        src = apply(_op("copy"), [self], {}) if self._requires_grad and is_grad_enabled() else self
        before = None if _numpy_code() else call_edges([self])  # (nobody reads node names there)
        result = compute(src)
        self[...] = result
        if before is not None and isinstance(result, Tensor) and result._grad_fn is not None:
            # PyTorch's node of `y.tanh_()` keeps y itself as its result: a later write
            # into y is an error in its backward (autograd/saved.py checks the version)
            rfn, k = result._grad_fn, result._output_nr
            rfn.outs = rfn.outs[:k] + ((self._data, self._vc, self._vc.v),) + rfn.outs[k + 1:]
        if before is not None and self._view_of is None and isinstance(result, Tensor) \
                and result.grad_fn is not None:
            # PyTorch's node of an in-place op on a tensor of its own is the op's
            # (`y.sigmoid_()`: SigmoidBackward0, over y's node before the write); through
            # a view it is CopySlices
            _recording.named(self, type(result.grad_fn).__name__)
            copied = (NODE, (src._grad_fn, 0)) if src is not self and src._grad_fn is not None else None
            self._grad_fn.pytorch_inputs = tuple(before[0] if e == copied and before else e
                                                 for e in edges_of(result.grad_fn))
        return self

    def zero_(self):
        return self._fill(0, "ZeroBackward0")

    def fill_(self, value):
        return self._fill(value, "FillBackward3" if isinstance(value, Tensor) else "FillBackward2")

    def _fill(self, value, node_name):
        self._refuse_multi_view_write()
        if (self._requires_grad and is_grad_enabled()) or isinstance(value, Tensor):
            self[...] = value  # recorded: the old value's gradient is zero, a tensor value's passes
            if self._view_of is None:  # (PyTorch's node, as for _write_back)
                _recording.named(self, node_name)
            return _recording.keeps_no_tensor(self)
        self._data[...] = value
        self._vc.bump()
        return self

    def copy_(self, src):
        """Write src into this tensor: recorded (the gradient reaches src) as `self[...] = src`."""
        self._refuse_multi_view_write()
        if self._requires_grad and self.grad_fn is None and is_grad_enabled():
            raise _leaf_written_in_place()
        if is_grad_enabled() and (self._requires_grad or isinstance(src, Tensor) and src._requires_grad):
            # (a constant copied into a result with history is recorded too: what was
            # computed before no longer reaches the gradient through it)
            if not isinstance(src, Tensor):
                src = Tensor._make(np.asarray(src))
            if src.dtype != self.dtype:
                src = src._cast_const(self._data.dtype)
            self[...] = src if src.shape == self.shape else src.expand(*self.shape)
            if self._view_of is None:
                _recording.named(self, "CopyBackwards")
            return _recording.keeps_no_tensor(self)
        if not _numpy_code():
            _recording.refuse_overlapping_write(self)
        np.copyto(self._data, src._data if isinstance(src, Tensor) else np.asarray(src), casting="unsafe")
        self._vc.bump()
        return self

    # -- reductions -----------------------------------------------------------------------
    def _reduce(self, name, dim, keepdim, axis, keepdims, float_result=False):
        axis = dim if axis is None else axis
        keep = keepdim if keepdims is None else keepdims
        if self.ndim == 0 and dim is not None and dim in (0, -1, (0,), (-1,)):
            axis = None  # PyTorch lets dim 0 / -1 name the single "axis" of a 0-d tensor
        x = self
        if float_result and self._data.dtype.kind in "iub":  # (numpy's mean of integers: float64)
            x = self._cast_const(np.float64 if _numpy_code() else _dtype.get_default_dtype())
        return apply(_op(name), [x], {"axis": _ops.normalize_axis(axis, self.ndim), "keepdims": bool(keep)})

    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None, out=None):
        r = self._reduce("sum", dim, keepdim, axis, keepdims)
        if dim is not None and r is not self:  # (PyTorch's overload with dims)
            _recording.named(r, "SumBackward1")
        return _into_out("sum", r if dtype is None else r.to(dtype), out, self)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None, out=None):
        if self._data.dtype.kind not in "fc" and dtype is None:
            from .surface import float_only  # (PyTorch's rule, in torch-style code)
            float_only(self, "mean(): could not infer output dtype. Input dtype must be either a floating point "
                             "or complex dtype. Got: {x}")
        x = self if dtype is None else self.to(dtype)
        r = x._reduce("mean", dim, keepdim, axis, keepdims, float_result=True)
        r = _recording.named(r, "MeanBackward1", inputs=(x,)) if dim is not None and r is not x else r
        return _into_out("mean", r, out, self)

    def norm(self, p="fro", dim=None, keepdim=False):
        ord = None if p in ("fro", 2, 2.0) else (1 if p in (1, 1.0) else p)
        if self._data.dtype.kind in "iub":
            from .surface import float_only
            float_only(self, f"linalg.{'matrix' if p == 'nuc' else 'vector'}_norm: Expected a floating point "
                             f"or complex tensor as input. Got {{x}}")
        x = self._cast_const(_float_dtype(self._data.dtype)) if self._data.dtype.kind in "iub" else self
        if x._data.dtype.kind == "c":  # (the norm of the moduli, as PyTorch's)
            x = x.abs()
        if isinstance(p, (int, float)) and abs(p) == float("inf"):  # max |x| (min for -inf), as torch
            extreme = x.abs().amax if p > 0 else x.abs().amin
            return extreme(() if dim is None else dim, keepdim)
        if self.ndim == 0 and dim is not None:  # PyTorch: dim 0 or -1 of a scalar is the scalar
            _ops.normalize_axis(dim, 1)
            return x.abs()
        if ord not in (None, 1, "nuc"):  # any other order, as torch.linalg.vector_norm
            from .linalg import vector_norm
            return vector_norm(x, p, dim, keepdim)
        return apply(_op("norm"), [x], {"ord": ord, "axis": _ops.normalize_axis(dim, self.ndim),
                                        "keepdims": bool(keepdim)})

    # -- shape ----------------------------------------------------------------------------
    def reshape(self, *shape, order="C"):
        if order != "C":  # (numpy's `x.reshape(s, order='F')`)
            from .numpy.shape import reshape
            return reshape(self, _size_args(shape), order=order)
        shape = _size_args(shape)
        shape = _resolve_shape(shape, self._data.size)
        if shape == self.shape:
            return unchanged_view(self)
        r = apply(_op("reshape"), [self], {"shape": shape})
        if r._grad_fn is not None and type(r._grad_fn).__name__ == "UnsafeViewBackward0" and not _numpy_code():
            view_chain(r._grad_fn, ["CloneBackward0"])  # (PyTorch's copying reshape: a clone, then a view)
        return r

    def view(self, *shape):
        """PyTorch's view: a reshape that never copies. Where this tensor's strides cannot
        give the new shape (a transposed matrix flattened), it raises as PyTorch does.
        numpy's `a.view()` (no arguments, in numpy code) is a new view of the same shape."""
        if not shape and _numpy_code():
            return unchanged_view(self)
        if not _numpy_code() and not (len(shape) == 1 and not isinstance(shape[0], (int, tuple, list))):
            probe = self._data.view()
            try:
                probe.shape = _resolve_shape(_size_args(shape), self._data.size)
            except AttributeError:
                raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                                   "least one dimension spans across two contiguous subspaces). Use "
                                   ".reshape(...) instead.") from None
        return self.reshape(*shape)

    def flatten(self, start_dim=0, end_dim=-1, *, order=None):
        from .numpy.shape import ravel, torch_flatten
        if isinstance(start_dim, str) or order is not None or _numpy_code():  # (numpy's flatten copies)
            flat = ravel(self, start_dim if isinstance(start_dim, str) else order or "C")
            return apply(_op("copy"), [flat], {})
        return torch_flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        d = dim % (self.ndim + 1)
        return _recording.named(self.reshape(self.shape[:d] + (1,) + self.shape[d:]), "UnsqueezeBackward0")

    def squeeze(self, dim=None, *, axis=None):
        dim = axis if dim is None else dim
        if isinstance(dim, (tuple, list)):
            out = self if dim else unchanged_view(self)
            for d in sorted((d % max(self.ndim, 1) for d in dim), reverse=True):
                out = out.squeeze(d)
            return out
        if dim is None:
            out = self.reshape(tuple(s for s in self.shape if s != 1))
            return _recording.named(out, "SqueezeBackward0") if out is not self else out
        d = dim % max(self.ndim, 1)
        if self.ndim and self.shape[d] == 1:
            return _recording.named(self.reshape(self.shape[:d] + self.shape[d + 1:]), "SqueezeBackward1")
        return unchanged_view(self)

    # -- in place: this tensor becomes the view (PyTorch's metadata changes, `x.t_()`)
    def t_(self): return self._view_in_place(self.t(), "TBackward1")
    def transpose_(self, dim0, dim1): return self._view_in_place(self.transpose(dim0, dim1), "TransposeBackward1")
    def swapaxes_(self, axis0, axis1): return self.transpose_(axis0, axis1)
    swapdims_ = swapaxes_
    def unsqueeze_(self, dim): return self._view_in_place(self.unsqueeze(dim), "UnsqueezeBackward1")

    def squeeze_(self, dim=None):
        return self._view_in_place(self.squeeze(dim), "SqueezeBackward3" if dim is None else "SqueezeBackward4")

    def _view_in_place(self, view, node_name):
        """This tensor takes the view's layout and history, a write of its storage's
        version as PyTorch's (a node that kept it before raises)."""
        if self._requires_grad and self._grad_fn is None and is_grad_enabled():
            raise _leaf_written_in_place()
        before = call_edges([self])
        self._data, self._grad_fn, self._output_nr = view._data, view._grad_fn, view._output_nr
        self._view_of = None  # (a write into it is its own, no longer written through)
        self._vc.bump()
        fn = self._grad_fn
        if fn is not None:
            fn.outs = tuple((a, c, c.v) if c is self._vc else (a, c, v) for a, c, v in fn.outs)
            _recording.named(self, node_name)
            fn.pytorch_inputs = before
        return self

    def permute(self, *dims):
        dims = _size_args(dims)
        return apply(_op("transpose"), [self], {"perm": tuple(d % self.ndim for d in dims)})

    def transpose(self, *axes):
        """PyTorch's swap of two dims; numpy's permutation for no axes, a tuple, or more than two."""
        if len(axes) != 2 or not all(isinstance(a, (int, np.integer)) for a in axes):
            from .numpy.shape import transpose
            return transpose(self, None if not axes else axes[0] if len(axes) == 1 else axes)
        dim0, dim1 = axes
        perm = list(range(self.ndim))
        a, b = dim0 % self.ndim, dim1 % self.ndim
        perm[a], perm[b] = perm[b], perm[a]
        return apply(_op("transpose"), [self], {"perm": tuple(perm)})

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.T

    @property
    def T(self):
        if self.ndim < 2:
            return unchanged_view(self)
        return apply(_op("transpose"), [self], {"perm": tuple(reversed(range(self.ndim)))})

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def expand(self, *sizes):
        sizes = _size_args(sizes)
        lead = len(sizes) - self.ndim
        shape = tuple(s if s != -1 else self.shape[i - lead] for i, s in enumerate(sizes))
        return self.broadcast_to(shape)

    def broadcast_to(self, shape):
        shape = tuple(shape)
        if shape == self.shape:  # (PyTorch's expand to the same shape is still a node)
            same = unchanged_view(self)
            return same if _numpy_code() or same is self else _recording.named(same, "ExpandBackward0")
        return apply(_op("broadcast_to"), [self], {"shape": shape})

    def copy(self):
        """numpy's `x.copy()`: PyTorch's clone()."""
        return self.clone()

    def round(self, decimals=0):
        from .numpy.elementwise import round as _round
        return _round(self, decimals)

    def clamp(self, min=None, max=None):
        """Clip to [min, max]; the gradient reaches self inside the range, ends included
        (PyTorch's clamp), and a tensor bound where it was selected."""
        from .numpy.elementwise import clip
        # (PyTorch 2's: one node for number bounds, another for tensor bounds)
        name = "ClampBackward0" if isinstance(min, Tensor) or isinstance(max, Tensor) else "ClampBackward1"
        return _recording.named(clip(self, min, max), name, inputs=(self, min, max))

    def clip(self, min=None, max=None, out=None, **kwargs):  # noqa: A002
        """PyTorch's clip (clamp); ndarray.clip's `out=` (and numpy's other keywords) are
        numpy's clip."""
        if out is None and not kwargs:
            return self.clamp(min, max)
        from .numpy.elementwise import clip
        return clip(self, min, max, out=out, **kwargs)

    def clone(self):
        if self._requires_grad or (_tracing() is not None and _tracing().traced(self)):
            return apply(_op("copy"), [self], {})  # recorded: a copy is still a function of x
        return Tensor._make(self._data.copy())

    # -- indexing -------------------------------------------------------------------------
    def __getitem__(self, index):
        if isinstance(index, (bool, np.bool_)) or (isinstance(index, (Tensor, np.ndarray)) and index.ndim == 0
                                                    and index.dtype == np.bool_):
            # x[True] is x[None], x[False] is x[None][:0] (numpy's and PyTorch's scalar mask)
            v = self[None]
            return v if bool(index) else v[0:0]
        split = _integers_first(index, self.ndim)
        if split is not None:  # PyTorch's rule: x[0, :, idx] selects x[0] first
            return self[split[0]][split[1]]
        template, arrays = split_index(index)
        t = apply(_op("getitem"), [self, *arrays], {"index": template})
        if not arrays:  # a view (or an element): remember of what, for writes through it
            t._view_of = (self, "getitem", index, t._vc.v)
            if t._grad_fn is not None and len(template) > 1 and not _numpy_code():
                steps = basic_index_steps(template, self.shape)
                if len(steps) > 1:  # (PyTorch's view nodes in turn: x[None, 1:] is Slice over Unsqueeze)
                    view_chain(t._grad_fn, steps[:-1])
        return t

    def __setitem__(self, index, value):
        """`t[index] = value`, recorded: t takes the history of the write (PyTorch's
        in-place semantics), and a backward that needs t's old value raises."""
        self._refuse_multi_view_write()
        if self._requires_grad and self.grad_fn is None and is_grad_enabled():
            raise _leaf_written_in_place()
        split = _integers_first(index, self.ndim)
        if split is not None:  # (PyTorch's rule, as __getitem__: a write through x[0])
            self[split[0]][split[1]] = value
            return
        template, arrays = split_index(index)
        value = _as_operand(value)
        if isinstance(value, np.generic):  # (written in this tensor's dtype)
            value = value.item()
        if isinstance(value, Tensor) and value._data.dtype != self._data.dtype:
            value = value._cast_const(self._data.dtype)
        if self._view_of is not None and self._view_of[1] == "broadcast_to" and not _numpy_code():
            return self._write_into_expand(index, value)
        if self._writes_through(value):
            new = apply(_op("copy"), [self], {})
            new[index] = value
            return self._write_through(new)
        apply(_op("setitem"), [self, value, *arrays], {"index": template}, out=self)

    def _write_into_expand(self, index, value):
        """`v = a.expand(3, 2); v[0] = w`: PyTorch writes into a, where the written region
        holds each of a's elements once (a region repeating one, along an expanded axis,
        is its error); the view is taken again."""
        base = self._view_of[0]
        shape, bshape = tuple(self.shape), tuple(base.shape)
        lead = len(shape) - len(bshape)
        items = index if isinstance(index, tuple) else (index,)
        if any(not (isinstance(i, (int, np.integer, slice)) or i is Ellipsis) for i in items) \
                or sum(i is Ellipsis for i in items) > 1:
            from .utils.locations import describe_loc, user_loc
            raise RuntimeError(f"setitem: writing into an expanded tensor by {index!r} is not supported "
                               f"(integers and slices are) {describe_loc(user_loc(1))}")
        if Ellipsis in items:
            k = items.index(Ellipsis)
            items = items[:k] + (slice(None),) * (len(shape) - len(items) + 1) + items[k + 1:]
        items = items + (slice(None),) * (len(shape) - len(items))
        mapped = []
        for d, item in enumerate(items):
            repeated = d < lead or (bshape[d - lead] == 1 and shape[d] != 1)
            count = 1 if not isinstance(item, slice) else len(range(*item.indices(shape[d])))
            if repeated and count > 1:
                raise _recording.overlapping_write()
            if d >= lead:
                mapped.append((0 if not isinstance(item, slice) else slice(0, 1)) if repeated else item)
        region = np.empty(shape, dtype=bool)[items].shape
        target = np.empty(bshape, dtype=bool)[tuple(mapped)].shape
        value = _as_operand(value)
        if isinstance(value, Tensor):
            value = value.expand(*region).reshape(target) if region else value.reshape(target)
        else:
            value = np.broadcast_to(np.asarray(value, self._data.dtype), region).reshape(target)
        base[tuple(mapped)] = value
        return self._retake_view()

    def _writes_through(self, other):
        """Whether a write into this view is recorded as a write into the tensor it was
        taken from (`row = x[0]; row += w`, or Python's `x[0] += w`)."""
        if self._view_of is None or self._view_of[1] not in _recording.REVERSIBLE_VIEWS:
            return False  # (an expand's write: refused where it is recorded)
        if self._data.base is None:
            # an element, which numpy copies: written back as PyTorch's view, eagerly; in
            # numpy code (a compiled function) `s = x[0]; s += 1` leaves x as it is
            return not _numpy_code()
        if self._requires_grad or (isinstance(other, Tensor) and other._requires_grad):
            return True
        tracer = _tracing()
        return tracer is not None and tracer.touches([self, other])

    def _write_through(self, new):
        """Write `new` into the tensor this view was taken from (recorded there), and take
        the view again, so that this tensor has the history of its new value."""
        base, how, arg = self._view_of[:3]
        if how == "getitem":
            base[arg] = new
        elif how == "reshape":
            base[...] = new.reshape(base.shape)
        elif how == "diagonal":  # (the matrices' axes last: the positions of the diagonal)
            from .numpy.shape import diagonal_positions
            moved = base.movedim((arg["axis1"], arg["axis2"]), (-2, -1))
            moved[(Ellipsis,) + diagonal_positions(*moved.shape[-2:], arg["offset"])] = new
        else:  # a permutation of the axes, written back through the inverse one
            base[...] = new.permute(*np.argsort(arg["perm"]))
        return self._retake_view()

    def _retake_view(self):
        """Take this view again from its base, and adopt the new view's history: after a
        write into the base (recorded, or under no_grad) the view's recorded history is
        stale, and PyTorch replays the view on the base's new history alike."""
        from .autograd.mode import set_grad_enabled
        base, how, arg = self._view_of[:3]
        # (under no_grad too: a view of a base with history keeps it, as PyTorch's)
        with set_grad_enabled(is_grad_enabled() or base._requires_grad):
            if how == "getitem":
                fresh = base[arg]
            elif how == "reshape":
                fresh = base.reshape(arg["shape"])
            elif how == "transpose":
                fresh = base.permute(*arg["perm"])
            else:  # (the op again: an expand, a real part, ...)
                fresh = apply(_op(how), [base], arg)
        if fresh.grad_fn is not None:  # (PyTorch's node for a view replayed on a new base)
            _recording.named(fresh, "AsStridedBackward0")
        self._grad_fn, self._output_nr = fresh._grad_fn, fresh._output_nr
        self._requires_grad, self._vc = fresh._requires_grad, fresh._vc
        self._data = fresh._data
        self._view_of = (base, how, arg, self._vc.v)
        return self

    def _sync_view(self):
        """Take this view again if its storage was written since it was taken and that
        left it behind: its recorded history no longer holds its data, or it has none
        while its base has gained one (`v = c[0]; c.copy_(x)`: v is a function of x)."""
        base, _, _, taken = self._view_of
        now = self._vc.v
        if now == taken or self._data.base is None:
            return
        fn = self._grad_fn
        if fn is not None and fn.outs[self._output_nr][2] != now or fn is None and base.requires_grad:
            if self._multi_view is not None and self._requires_grad:
                # PyTorch does not replay one of several views a call returned together
                k, name = self._multi_view
                raise RuntimeError(f"Output {k} of {name} is a view and its base or another view of its "
                                   f"base has been modified inplace. This view is the output of a function that "
                                   f"returns multiple views. Such functions do not allow the output views to be "
                                   f"modified inplace. You should replace the inplace operation by an out-of-place "
                                   f"one.")
            self._retake_view()

    # -- reductions of the numpy surface (max/min with indices, prod, var, std, cumsum, ...)
    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None):
        """x.max(): the largest entry (tied maxima share the gradient evenly).
        x.max(dim, keepdim): (values, indices); as in PyTorch the values get gradient at the
        returned (first) index only. x.max(other): the elementwise maximum.
        x.max(axis=..., keepdims=...): numpy's method, values only (ties share evenly)."""
        from .numpy.reductions import torch_extreme
        return _into_out("max", torch_extreme(self, dim, keepdim, axis, keepdims, "max", numpy_method=_numpy_code()),
                         out, self)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None):
        """Like `max`, for the smallest entries."""
        from .numpy.reductions import torch_extreme
        return _into_out("min", torch_extreme(self, dim, keepdim, axis, keepdims, "min", numpy_method=_numpy_code()),
                         out, self)

    def amax(self, dim=(), keepdim=False, *, axis=None, keepdims=None):
        """Largest entries over `dim` (all if empty); ties share the gradient evenly."""
        from .numpy.reductions import _dim_axes, _extreme
        axes = _dim_axes(self, dim, "amax") if axis is None else axis
        return _extreme("amax", self, axes, bool(keepdim if keepdims is None else keepdims),
                        np._NoValue, np._NoValue, "amax")

    def amin(self, dim=(), keepdim=False, *, axis=None, keepdims=None):
        from .numpy.reductions import _dim_axes, _extreme
        axes = _dim_axes(self, dim, "amin") if axis is None else axis
        return _extreme("amin", self, axes, bool(keepdim if keepdims is None else keepdims),
                        np._NoValue, np._NoValue, "amin")

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        from .numpy.reductions import torch_arg
        return torch_arg(self, dim if axis is None else axis, bool(keepdim if keepdims is None else keepdims),
                         "argmax")

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        from .numpy.reductions import torch_arg
        return torch_arg(self, dim if axis is None else axis, bool(keepdim if keepdims is None else keepdims),
                         "argmin")

    def prod(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        """Product; the gradient is exact with zeros (products of the other entries)."""
        from .numpy.reductions import prod
        return prod(self, dim if axis is None else axis, dtype,
                    keepdims=bool(keepdim if keepdims is None else keepdims))

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, ddof=None, axis=None,
            keepdims=None):
        """Variance; PyTorch's default is unbiased (correction=1). numpy's `ddof=` and
        `axis=`/`keepdims=` are accepted too (ddof gives numpy's value)."""
        from .numpy.reductions import torch_var
        return torch_var(self, dim if axis is None else axis, unbiased,
                         bool(keepdim if keepdims is None else keepdims), correction, ddof, "var")

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, ddof=None, axis=None,
            keepdims=None):
        """sqrt(var) with var's arguments (unbiased by default, as PyTorch)."""
        from .numpy.reductions import torch_var
        return torch_var(self, dim if axis is None else axis, unbiased,
                         bool(keepdim if keepdims is None else keepdims), correction, ddof, "std")

    def cumsum(self, dim=None, *, dtype=None, axis=None):
        """Cumulative sum along `dim` (numpy's method without one: the flattened tensor)."""
        from .numpy.reductions import torch_scan
        return torch_scan(self, dim if axis is None else axis, dtype, "cumsum")

    def cumprod(self, dim=None, *, dtype=None, axis=None):
        """Cumulative product along `dim`; the gradient is exact with zeros."""
        from .numpy.reductions import torch_scan
        return torch_scan(self, dim if axis is None else axis, dtype, "cumprod")

    def logsumexp(self, dim=None, keepdim=False):
        """log(sum(exp(x))) over `dim` (all if None), stable for large entries."""
        from .numpy.reductions import torch_logsumexp
        x = self
        if x._data.dtype.kind in "biu" and not _numpy_code():  # (PyTorch: in the default float dtype)
            x = x.to(_dtype.get_default_dtype())
        return torch_logsumexp(x, dim, keepdim)

    def softmax(self, dim=None, dtype=None):
        from .numpy.reductions import torch_softmax
        return _recording.named(torch_softmax(self, dim, dtype, log=False), "SoftmaxBackward0", inputs=(self,))

    def log_softmax(self, dim=None, dtype=None):
        from .numpy.reductions import torch_softmax
        return _recording.named(torch_softmax(self, dim, dtype, log=True), "LogSoftmaxBackward0", inputs=(self,))

    def count_nonzero(self, dim=None, *, axis=None, keepdims=False):
        from .numpy.reductions import count_nonzero
        return count_nonzero(self, dim if axis is None else axis, keepdims=keepdims)

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None):
        from .numpy.reductions import any
        return any(self, dim if axis is None else axis, out, bool(keepdim if keepdims is None else keepdims))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None):
        from .numpy.reductions import all
        return all(self, dim if axis is None else axis, out, bool(keepdim if keepdims is None else keepdims))

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        """Sum of the diagonal (PyTorch: of a matrix; numpy's offset/axis1/axis2 too)."""
        from .numpy.reductions import trace
        return trace(self, offset, axis1, axis2, dtype, out)

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        """Sum with NaN entries counted as 0 (they get no gradient)."""
        from .numpy.reductions import _dim_axes, nansum
        return nansum(self, _dim_axes(self, dim, "nansum"), dtype, keepdims=keepdim)

    # -- shape methods of the numpy surface (flip, roll, repeat, ...)
    def ravel(self, order="C"):
        if order == "C":
            return self.reshape(-1)
        from .numpy.shape import ravel
        return ravel(self, order)

    @property
    def flat(self):
        """numpy's `x.flat`: indexing the flattened tensor, to read or to write."""
        return _Flat(self)

    def swapaxes(self, axis0, axis1):
        from .numpy.shape import swapaxes
        return swapaxes(self, axis0, axis1)

    swapdims = swapaxes

    def moveaxis(self, source, destination):
        from .numpy.shape import moveaxis
        return moveaxis(self, source, destination)

    movedim = moveaxis

    # (numpy's flips and rot90 are views; PyTorch's are copies, which a later write into
    # the input leaves as they are)
    def flip(self, *dims):
        from .numpy.shape import _dims, flip
        return _own_copy(flip(self, _dims(dims)))

    def fliplr(self):
        from .numpy.shape import fliplr
        return _own_copy(fliplr(self))

    def flipud(self):
        from .numpy.shape import flipud
        return _own_copy(flipud(self))

    def roll(self, shifts, dims=None):
        from .numpy.shape import torch_roll
        return torch_roll(self, shifts, dims)

    def rot90(self, k=1, dims=(0, 1)):
        from .numpy.shape import rot90
        return _own_copy(rot90(self, k, dims))

    def repeat(self, *sizes, axis=None):
        """PyTorch's repeat: tiles the tensor (numpy's tile). Inside a function compiled by
        srcgrad.grad & co (numpy code), or with axis=: numpy's repeat of each element."""
        from .numpy.shape import repeat, torch_repeat
        if _numpy_code() or axis is not None:  # x.repeat(repeats[, axis])
            if len(sizes) > 2 or (len(sizes) == 2 and axis is not None):
                raise TypeError("repeat(repeats, axis=None): numpy's repeat takes one repeats argument")
            return repeat(self, sizes[0], sizes[1] if len(sizes) == 2 else axis)
        return torch_repeat(self, _size_args(sizes))

    def tile(self, *dims):
        from .numpy.shape import tile
        return tile(self, _size_args(dims))

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        from .numpy.shape import repeat
        return repeat(self, repeats, dim)

    def split(self, split_size_or_sections, dim=0):
        from .numpy.shape import torch_split
        return torch_split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        from .numpy.shape import torch_chunk
        return torch_chunk(self, chunks, dim)

    def unbind(self, dim=0):
        from .numpy.shape import _axis
        d = _axis(dim, self.ndim, "unbind")
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.shape[d]))

    def narrow(self, dim, start, length):
        from .numpy.shape import torch_narrow
        return torch_narrow(self, dim, start, length)

    def sort(self, dim=-1, descending=False, stable=False, *, axis=None, kind=None):
        """(values, indices); the gradient of the values follows the permutation back.
        Inside a function compiled by srcgrad.grad & co (numpy code) without PyTorch's
        descending=/stable=, or with axis=/kind=: numpy's in-place sort, recorded as a
        write of the sorted values."""
        from .numpy.shape import sort, torch_sort
        if axis is not None or kind is not None or (_numpy_code() and not descending and not stable):
            self[...] = sort(self, axis=dim if axis is None else axis)
            return None
        return torch_sort(self, dim, descending, stable)

    def take(self, indices, axis=None):
        from .numpy.shape import take
        return take(self, indices, axis=axis)

    def fill(self, value):
        """numpy's in-place fill."""
        self.fill_(value)

    def argsort(self, *args, **kwargs):
        """PyTorch's argsort(dim=-1, descending=False, stable=False); in numpy code numpy's
        argsort(axis=-1, kind=None, ...), whose default orders ties as numpy does."""
        torch_style = "dim" in kwargs or "descending" in kwargs or (len(args) > 1 and isinstance(args[1], bool))
        if _numpy_code() and not torch_style:
            from .numpy.shape import argsort
            return argsort(self, *args, **kwargs)
        from .numpy.shape import torch_argsort
        return torch_argsort(self, *args, **kwargs)

    def diag(self, diagonal=0):
        from .numpy.shape import diag
        return diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        from .numpy.shape import diagonal
        return diagonal(self, offset, dim1, dim2)

    def triu(self, diagonal=0):
        from .numpy.shape import triu
        return triu(self, diagonal)

    def tril(self, diagonal=0):
        from .numpy.shape import tril
        return tril(self, diagonal)


    # -- products and linear algebra of the numpy surface
    def outer(self, vec2):
        """Outer product of two vectors."""
        from .numpy.products import outer
        if self.ndim != 1 or np.ndim(vec2) != 1:
            raise RuntimeError(f"outer: expected 1-D vectors, got shapes {tuple(self.shape)} and {np.shape(vec2)}")
        return outer(self, vec2)

    ger = outer

    def inner(self, other):
        from .surface import inner
        return inner(self, other)

    def kron(self, other):
        from .numpy.products import kron
        return kron(self, other)

    def cross(self, other, dim=None):
        """Cross product of 3-vectors along `dim` (PyTorch's default: the first axis of size 3)."""
        from .numpy.products import cross
        from .surface import same_dtype
        same_dtype("bmm", self, other)
        if dim is None:
            shape = np.broadcast_shapes(self.shape, np.shape(other))
            dim = next((d for d, n in enumerate(shape) if n == 3), -1)
        return cross(self, other, axis=dim)

    def inverse(self):
        from .functional import inverse
        return inverse(self)

    def det(self):
        from .functional import det
        return det(self)

    def slogdet(self):
        from .numpy.linalg import slogdet
        return slogdet(self)

    def logdet(self):
        """log(det): NaN for a negative determinant, -inf for a zero one, as in PyTorch."""
        sign, logabsdet = self.slogdet()
        with np.errstate(divide="ignore", invalid="ignore"):
            return logabsdet + Tensor._make(np.log(sign._data))

    def cholesky(self, upper=False):
        from .numpy.linalg import symmetric_cholesky  # (PyTorch's: the symmetric gradient)
        return symmetric_cholesky(self, upper=upper)

    def matrix_power(self, n):
        from .numpy.linalg import matrix_power
        return matrix_power(self, n)

    def pinverse(self):
        from .numpy.linalg import pinv
        return pinv(self)


    # -- PyTorch's method spellings of the numpy surface (x.log1p(), x.gather(1, i), ...)
    square = _functional("square")
    reciprocal = _functional("reciprocal")
    rsqrt = _functional("rsqrt")
    exp2 = _functional("exp2")
    log1p = _functional("log1p")
    expm1 = _functional("expm1")
    log2 = _functional("log2")
    log10 = _functional("log10")
    floor = _functional("floor")
    ceil = _functional("ceil")
    sinh = _functional("sinh")
    cosh = _functional("cosh")
    tan = _functional("tan")
    erf = _functional("erf")
    asin = _functional("asin")
    acos = _functional("acos")
    atan = _functional("atan")
    atan2 = _functional("atan2")
    maximum = _functional("maximum")
    minimum = _functional("minimum")
    lerp = _functional("lerp")
    isnan = _functional("isnan")
    isfinite = _functional("isfinite")
    logical_and = _functional("logical_and")
    logical_or = _functional("logical_or")
    logical_not = _functional("logical_not")
    gather = _functional("gather")
    index_select = _functional("index_select")
    masked_fill = _functional("masked_fill")
    dist = _functional("dist")
    bmm = _functional("bmm")
    addmm = _functional("addmm")
    arcsin, arccos, arctan = asin, acos, atan

    # -- complex parts (ops/complex.py) and positions of the numpy surface
    def conj(self):
        """The complex conjugate. Of real data: in numpy code a copy (numpy's x.conj()),
        eagerly the tensor itself (PyTorch's)."""
        if not _numpy_code() and self._data.dtype.kind != "c":
            return self
        from .numpy.misc import conjugate
        return conjugate(self)

    conjugate = conj

    @property
    def real(self):
        from .numpy.misc import real
        return real(self)

    @property
    def imag(self):
        from .numpy.misc import imag
        return imag(self)

    def nonzero(self, *, as_tuple=None):
        """Positions of the nonzero entries. PyTorch's x.nonzero(): an (n, ndim) int64 tensor
        (as_tuple=True: one index tensor per dimension); inside a function compiled by
        srcgrad.grad & co (numpy code), numpy's tuple, recomputed by the generated code
        (the count is a guard, as for np.nonzero)."""
        from .numpy.misc import nonzero
        if as_tuple is None:
            as_tuple = _numpy_code()
        if as_tuple:
            return nonzero(self)
        _escape(self, "nonzero()")
        return Tensor._make(np.argwhere(self._data).astype(np.int64))

    # -- numpy protocol -------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return (_DISPATCH or _dispatch_module()).dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return (_DISPATCH or _dispatch_module()).dispatch_function(func, args, kwargs)


class _Flat:
    """x.flat: x.reshape(-1) indexed (a write goes through to x, as numpy's flatiter's)."""

    def __init__(self, t):
        self._t = t

    def __getitem__(self, index):
        return self._t.reshape(-1)[index]

    def __setitem__(self, index, value):
        flat = self._t.reshape(-1)
        flat[index] = value
        if flat._data.base is None or not np.may_share_memory(flat._data, self._t._data):
            self._t[...] = flat.reshape(self._t.shape)  # (the reshape copied: write it back)

    def __iter__(self):
        return iter(self._t.reshape(-1))

    def __len__(self):
        return self._t.numel()


_DISPATCH = None


def _dispatch_module():
    # srcgrad.numpy imports this module: looked up once, on first use
    global _DISPATCH
    from .numpy import _dispatch
    _DISPATCH = _dispatch
    return _dispatch


def _resolve_shape(shape, size):
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if shape.count(-1) > 1 or known == 0 or size % known:
            raise RuntimeError(f"shape {list(shape)} is invalid for input of size {size}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    return shape


def _unwrap_index(index):
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index._data if isinstance(index, Tensor) else index


class _Size(int):
    """An int (numpy's `.size`) that, called, gives the shape (PyTorch's `.size()`)."""

    def __new__(cls, n, shape):
        self = int.__new__(cls, n)
        self._shape = tuple(shape)
        return self

    def __call__(self, dim=None):
        return Size(self._shape) if dim is None else self._shape[dim]


class RemovableHandle:
    _next_id = 0

    def __init__(self, hooks, fn):
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id
        self._hooks = hooks
        hooks[self.id] = fn

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
