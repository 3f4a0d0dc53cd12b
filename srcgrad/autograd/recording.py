"""Applying an op eagerly, and recording it when a gradient will be needed.

`apply()` is the single entry point through which every tensor operation runs: it
computes the numpy forward from the op table and, when grad mode is on and an input
requires grad, records a `BackwardNode` holding references (never copies) to the
arrays involved, with their version counters.
"""
import numpy as np

from .. import ops as _ops
from ..ops import ShapeError
from ..ops.complex import supports_complex
from ..utils.locations import describe_loc, user_loc
from . import constants as _constants
from .function import CONST, LEAF, NODE, Version, call_edges, edges_of, node_class
from .saved import kept_a_tensor, reads_values
from .mode import is_grad_enabled


#: the Tracer recording a function for srcgrad.grad & co. (see srcgrad/trace.py), or None.
#: While one is active, every op on a traced value is recorded — integer and boolean
#: results too — since the generated function recomputes all of them from its arguments.
TRACER = [None]

#: > 0 while srcgrad.vjp, jacobian & co run a user's numpy-style function op by op (not
#: traced): tensors follow numpy's semantics there, as inside a traced function.
NUMPY_CODE = [0]


def numpy_code():
    """Whether the running code is a user's numpy-style function (traced by srcgrad.grad &
    co, or run op by op by srcgrad.vjp & co), where a tensor behaves as numpy's array
    (indexing, type promotion, `x.std()`, `x.max(1)`...) rather than PyTorch's tensor."""
    return TRACER[0] is not None or NUMPY_CODE[0] > 0


class numpy_semantics:
    """`with numpy_semantics():` — run a user's numpy-style function op by op."""

    def __enter__(self):
        from ..numpy.polynomial import tensors_as_arrays
        NUMPY_CODE[0] += 1
        self._arrays = tensors_as_arrays().__enter__()

    def __exit__(self, *exc):
        NUMPY_CODE[0] -= 1
        self._arrays.__exit__(*exc)
        return False


class OpError(RuntimeError):
    """An op was given inputs it cannot take. Also a ValueError, like numpy's errors."""


class ShapeMismatch(OpError, ValueError):
    pass


class LinAlgOpError(ShapeMismatch, np.linalg.LinAlgError):
    """A linear-algebra op failed on its data (singular, not positive-definite): still
    numpy's LinAlgError, as torch.linalg.LinAlgError is a RuntimeError."""


class IndexOpError(OpError, IndexError):
    """An index out of bounds: still numpy's (and Python's) IndexError, which numpy code
    catches (`try: x[i] except IndexError: ...`), as PyTorch's is."""


def _tensor_class():
    # tensor.py imports this module: the class is looked up once, on first use
    global _Tensor
    from ..tensor import Tensor
    _Tensor = Tensor
    return Tensor


_Tensor = None


def apply(op, inputs, attrs, out=None):
    """Run `op` on `inputs` (tensors, arrays, Python scalars). Returns tensor(s).

    `out`: a tensor to write the result into (in-place ops); it takes over the history."""
    # (every op of every run passes here: one pass over the inputs gathers all it needs)
    Tensor = _Tensor or _tensor_class()
    tracer = TRACER[0]
    traced_ids = None if tracer is None else tracer.inputs
    arrays = []
    needs_grad = volatile = touched = False
    for x in inputs:
        if isinstance(x, Tensor):
            if x._view_of is not None:
                x._sync_view()  # (a view whose base was written since: taken again)
                if not x._requires_grad and x._grad_fn is None and x._view_of[0].requires_grad:
                    # a view taken before its base required grad (or under no_grad): it
                    # requires grad, as PyTorch's, with no edge: the result requires grad,
                    # and no gradient flows back through it
                    needs_grad = True
            fn = x._grad_fn
            if x._requires_grad:
                needs_grad = True
                # a view whose storage was written through another tensor: its history is
                # stale; one that knows its base takes the view again (PyTorch's view replay)
                if fn is not None and fn.outs[x._output_nr][2] != x._vc.v and x._data.base is not None:
                    if x._view_of is None or not is_grad_enabled():
                        raise _stale_input(op, fn)
                    x._retake_view()
                    fn = x.grad_fn
            if x._volatile:
                volatile = True
            if traced_ids is not None and (fn is not None or id(x) in traced_ids):
                touched = True
            arrays.append(x._data)
        else:
            arrays.append(x)
    touched = touched and not volatile
    grad_out = needs_grad and not volatile and (op.differentiable or op.name in _ZERO_DERIVATIVE) \
        and is_grad_enabled()
    record = grad_out or touched
    before = shown = None
    if out is not None:
        if not numpy_code():
            refuse_overlapping_write(out)
        if (record or out._requires_grad) and _is_view(out):
            raise RuntimeError(
                f"{op.name}: in-place modification of a view (a slice, reshape or expand of another tensor) that "
                f"takes part in autograd is not supported; write into the tensor it was taken from instead "
                f"{describe_loc(user_loc(1))}")
        if record and out._grad_fn is not None and op.name not in _KEEPS_NO_OLD_VALUE:
            # the write's own derivative reads out as it was (`a *= x`: x's gradient is
            # the old a): the op reads a recorded copy, and out's old value stays free to
            # be overwritten (PyTorch keeps the original `self` of an in-place op alike)
            shown = call_edges([out])  # (PyTorch's node leads to out's node, not a copy's)
            copy = apply(_ops.get("copy"), [out], {})
            inputs = [copy if x is out else x for x in inputs]
            _keep_overwritten(out, copy._data)
        elif out._grad_fn is None and (record or tracer is not None):
            # an array without history: the op, and ops recorded before it, read it as it is
            if record:
                before = out._data.copy()
            if tracer is not None and not tracer.is_input(out) and out._vc.read == out._vc.v:
                tracer.before_write(out)  # (read by a recorded op since its last write)
        elif out._grad_fn is not None and tracer is None and kept_a_tensor(out._grad_fn):
            # a write under no_grad, or `a += x`, into a result srcgrad's backward may read:
            # not one of a linear step, so that `acc += x[i]` in a loop keeps no copy per step
            _keep_overwritten(out, out._data.copy())
    if out is not None and tracer is None and NUMPY_CODE[0] and out._vc.numpy_reads:
        keep_numpy_reads(out)
    try:
        if out is not None and op.inplace_impl is not None:
            result = op.inplace_impl(*arrays, **attrs)
        else:
            result = op.impl(*arrays, **attrs)
    except (ValueError, IndexError, TypeError, ShapeError, np.linalg.LinAlgError) as e:
        if touched and isinstance(e, np.linalg.LinAlgError):  # (the data decided: a guard, if caught)
            tracer.guard(tuple(inputs), "raises", (op.name, tuple(sorted(attrs.items()))))
        raise _op_error(op, inputs, attrs, e) from None
    results = result if isinstance(result, tuple) else (result,)
    if grad_out and not _floating(results):
        # integer or boolean results never require grad (`x.long()`): eagerly they are
        # constants with no grad_fn, as in PyTorch; a trace still records them
        grad_out = False
        record = touched
    outs = []
    complex_out = False
    for k, r in enumerate(results):
        if not isinstance(r, np.ndarray):
            r = np.asarray(r)
        complex_out = complex_out or r.dtype.kind == "c"
        if out is not None:
            if r is not out._data:
                np.copyto(out._data, r, casting="same_kind")
            out._vc.bump()
            t = out
        else:
            # (any op whose result is numpy's view of its input's memory: a slice, a
            # reshape that did not copy, np.broadcast_to's expand, a real part...; indexing
            # with arrays copies, though numpy's result has a base of its own)
            view = r.base is not None and isinstance(inputs[0], Tensor) and r.size > 0 \
                and (op.name != "getitem" or len(arrays) == 1) and np.may_share_memory(r, arrays[0])
            if not view and op.kind not in _KEEPS_LAYOUT and r.ndim > 1 and not r.flags.c_contiguous:
                # a computed result is contiguous, as PyTorch's are (numpy's einsum, a
                # reduction of a transposed array, an advanced index may lay it out otherwise:
                # `.view(-1)` of it would fail where PyTorch's succeeds); elementwise results
                # keep their inputs' layout in both (`x.t() * 2` is not contiguous)
                r = np.ascontiguousarray(r)
            if view and op.name == "broadcast_to" and not numpy_code() and arrays[0].flags.writeable:
                # PyTorch's expand is its base's memory, written through where no two of its
                # elements share a location (`v[:, 0] += 1`); numpy's broadcast_to is read-only
                r = np.lib.stride_tricks.as_strided(arrays[0], r.shape, r.strides, writeable=True)
            t = Tensor._make(r, grad_out and r.dtype.kind in "fc")
            if view:
                # (a reshape may copy; indexing with arrays always copies, though numpy's
                # result has a base of its own)
                t._vc = inputs[0]._vc  # a view: writes through it are writes to the base
                if op.name in _REVERSIBLE_VIEWS or len(inputs) == 1:  # (taken again after a write)
                    t._view_of = (inputs[0], op.name, attrs, t._vc.v)
        t._volatile = volatile
        outs.append(t)
    if record:
        if not supports_complex(op) and (complex_out or any(
                a.dtype.kind == "c" for a in arrays if isinstance(a, np.ndarray))):
            raise TypeError(f"{op.name}: srcgrad has no derivative of this op for complex values "
                            f"{describe_loc(user_loc(1))}")
        _record(op, attrs, inputs, outs, grad_out, tracer, out, before)
        if shown is not None and not numpy_code():
            fn, copied = outs[0]._grad_fn, (NODE, (copy._grad_fn, 0))
            fn.pytorch_inputs = tuple(shown[0] if e == copied else e for e in edges_of(fn))
    elif out is not None and not out._requires_grad:
        out.grad_fn = None
    elif out is not None and out._grad_fn is not None and tracer is None:
        # a write under no_grad into a tensor with history: the history is kept, as in
        # PyTorch, and later ops read the new data through a `copy` node (its derivative
        # is the identity), never a formula of the old one
        _record_keeping_name(out)
    return outs[0] if len(outs) == 1 else tuple(outs)


_KEEPS_LAYOUT = ("elementwise", "compare")  # op kinds whose results keep their inputs' memory layout
_OBJECT = np.dtype(object)  # (the dtype of a result that is not an array: never float)


def overlapping_write():
    """PyTorch's error for a write into elements that share memory (an expand along an
    axis of more than one element): which of them the result lands in is undefined."""
    return RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                        "single memory location. Please clone() the tensor before performing the operation.")


def refuse_overlapping_write(t):
    """overlapping_write() for an in-place op on all of t, if its elements share memory.
    (A fill writes one value to all: it is allowed, and writes the base.)"""
    a = t._data
    if a.ndim and any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape)):
        raise overlapping_write()


def _keep_overwritten(t, old):
    """t is about to be written in place: its node keeps `old` (a copy of the data it
    computed), for a backward of srcgrad's that reads it where PyTorch's reads another
    value (d exp(x)**2 is 2 * exp(x)**2: the result); one PyTorch kept still raises."""
    fn = t.grad_fn
    entry = fn.outs[t._output_nr]
    if entry[2] == t._vc.v:  # (still the data it computed)
        if fn.overwritten is None:
            fn.overwritten = {}
        fn.overwritten[t._output_nr] = old


def _is_view(t):
    """Whether t's data is a view of another tensor's: numpy's `.base`, except for what
    indexing with arrays made (a copy, whose base is numpy's own scratch array), and an
    alias cut from the graph (`y.detach()`: a write into it takes the history, and leaves
    y's stale, as PyTorch's non-differentiable views)."""
    if t._data.base is None or t._detached:
        return False
    fn = t.grad_fn
    if fn is not None and fn.op.name == "reshape" and fn.saved is not None:  # (a reshape may copy)
        return np.may_share_memory(t._data, fn.saved[0][0])
    return fn is None or fn.op.name != "getitem" or len(fn.edges) == 1


def _floating(results):
    for r in results:
        if getattr(r, "dtype", _OBJECT).kind in "fc":
            return True
    return False


def keeps_no_tensor(t):
    """t was made by a function whose PyTorch node keeps no tensor for its backward
    (`tril`, `fill_`, `add(alpha=)`), though srcgrad records it with an op that would
    (`where`, `setitem`, `mul`): a second backward through it needs no retain_graph."""
    return _as_pytorch(t, "keeps no tensor")


def reads_its_inputs(t):
    """t was made by a function whose PyTorch node reads its input in its backward
    (`leaky_relu`, `hardtanh`), though srcgrad records it with an op whose derivative is
    a constant (`where`): under create_graph its gradient is a function of the input, as
    there (engine._reads_values)."""
    return _as_pytorch(t, "reads its inputs")


def keeps_its_result(t):
    """t was made by a function whose PyTorch node keeps its result for the backward
    (`softmax`): changing t in place makes a backward through it an error, as there."""
    return _as_pytorch(t, "keeps its result")


def named(t, name, numpy_too=False, inputs=None):
    """t was made by a function PyTorch computes as one node (`softmax`: SoftmaxBackward0)
    and srcgrad as several ops: t's grad_fn is named as PyTorch's, for printing and
    `type(t.grad_fn).__name__` (the ops inside are srcgrad's); with the call's `inputs`,
    its next_functions are theirs, as that node's are. In numpy code, where nobody reads
    grad_fn, only if numpy_too."""
    fn = getattr(t, "grad_fn", None)
    if fn is not None and (numpy_too or not numpy_code()):
        from .function import call_edges, class_named
        from .saved import keep_call
        fn.__class__ = class_named(name)
        if inputs is not None:
            fn.pytorch_inputs = call_edges(inputs)
            keep_call(t, name, inputs)
    return t


def rebound(t):
    """t, with history, was given other data (`y.data = c`): later ops read the new data
    through a `copy` node (its derivative is the identity), never the formula of the old,
    as under a write under no_grad (PyTorch's node reads what its tensor holds)."""
    _record_keeping_name(t)


def _record_keeping_name(t):
    """A `copy` node for t's new data, shown as t's node before (PyTorch's tensor keeps
    its node: the data changed under it)."""
    from .function import class_named, edges_of
    old = t.grad_fn
    _record(_ops.get("copy"), {}, [t], [t])
    fn = t.grad_fn
    fn.__class__ = class_named(type(old).__name__)
    fn.pytorch_inputs = edges_of(old)


def _as_pytorch(t, how):
    fn = getattr(t, "grad_fn", None)
    if fn is not None:
        fn.as_pytorch = how
    return t


def not_a_view(t):
    """t is a PyTorch function's result of its own (`logsumexp(x, 1)`, a batched product's
    _unsafe_view), though srcgrad's last step made it as a view: an in-place write into it
    is its own node, not one through a base (CopySlices)."""
    t._view_of, t._detached = None, True
    return t


def unchanged_view(x):
    """A shape op that changes nothing (a reshape to x's own shape, `x.T` of a vector): x
    itself inside a trace, where the compiled function has nothing to do; eagerly a new view
    of x, as in PyTorch (not a leaf, with a .grad of its own)."""
    if TRACER[0] is not None or not isinstance(x, _Tensor or _tensor_class()):
        return x
    return apply(_ops.get("reshape"), [x], {"shape": x.shape})


#: float-valued ops without a derivative whose result still requires grad, with a zero
#: gradient (as in PyTorch: `x.floor().sum().backward()` gives zeros)
_ZERO_DERIVATIVE = {"floor", "ceil", "rint", "trunc", "round", "floor_divide"}

#: views whose writes are recorded as writes into the tensor they were taken from (see
#: Tensor._write_through): each element of the view is exactly one element of its base.
#: Any other view (an expand, which repeats elements) is taken again from its base after a
#: write into the base, and refuses writes of its own
REVERSIBLE_VIEWS = {"getitem", "reshape", "transpose", "diagonal"}
_REVERSIBLE_VIEWS = REVERSIBLE_VIEWS - {"getitem"}  # (a slice's view records itself: Tensor.__getitem__)

#: in-place ops whose derivative never reads the target's old value
_KEEPS_NO_OLD_VALUE = {"add", "sub", "setitem"}


def _record(op, attrs, inputs, outs, grad_out=True, tracer=None, out=None, before=None):
    """out, before: an in-place op's target without history, and a copy of its data
    from before the write, which this op read."""
    Tensor = _Tensor or _tensor_class()
    traced_ids = () if tracer is None else tracer.inputs
    edges, saved = [], []
    for x in inputs:
        if isinstance(x, Tensor):
            fn = x._grad_fn  # (apply took stale views again already)
            if fn is not None:
                edges.append((NODE, (fn, x._output_nr)))
            elif x._requires_grad or id(x) in traced_ids:
                edges.append((LEAF, x))
            else:
                edges.append(_CONST_EDGE)
            if x is out and before is not None:
                saved.append((before, Version(), 0))
                continue
            v = x._vc
            v.read = v.v
            saved.append((x._data, v, v.v))
        elif isinstance(x, np.ndarray):
            edges.append(_CONST_EDGE)
            saved.append((_constants.read(x), Version(), 0))  # (as read now: numpy code may change it)
        else:
            edges.append(x)
            saved.append(None)
    if len(outs) == 1:
        t = outs[0]
        v = t._vc
        recorded = ((t._data, v, v.v),)
    else:
        recorded = tuple([(t._data, t._vc, t._vc.v) for t in outs])
    fn = node_class(op, attrs, inputs)(op, attrs, tuple(edges), tuple(saved), recorded, user_loc(3))
    if tracer is None and NUMPY_CODE[0]:
        fn.numpy_semantics = True
        _register_numpy_reads(fn, inputs, outs, out)
    for k, t in enumerate(outs):
        t._requires_grad = grad_out and t._data.dtype.kind in "fc"  # (integers never require grad)
        old = t._grad_fn
        if old is not None and old.retains and t._output_nr in old.retains:
            # retain_grad() follows the tensor to its new value, as PyTorch's (written in
            # place, its .grad is the new value's)
            fn.retains = {k: old.retains.pop(t._output_nr)}
        t._grad_fn = fn
        t._output_nr = k
    if tracer is not None:
        tracer.recorded(fn)


_CONST_EDGE = (CONST, None)


# -- numpy's semantics op by op: a value keeps its data as read ---------------------------
# srcgrad.vjp & co (and a function whose decisions keep changing) run numpy code op by op,
# writes into arrays in place. numpy code writes freely into an array after reading it
# (`v[i] = v[i - 1] * x`), where PyTorch would refuse the backward: a node recorded there
# raises no version error (saved.check_kept_tensors), and each value a backward may read
# is kept before a write into its storage changes it.

def _register_numpy_reads(fn, inputs, outs, out):
    """Remember, on the storage's version counter, each value fn's backward may read: the
    inputs of an op that reads values (its producer's output, or fn's own saved array of
    a tensor without history), and its result where it reads that."""
    inputs_read, result_read = reads_values(fn.op.name)
    Tensor = _Tensor or _tensor_class()
    if inputs_read:
        for j, x in enumerate(inputs):
            if not isinstance(x, Tensor) or x is out:
                continue
            kind, ref = fn.edges[j]
            if kind == NODE:
                _note_read(x._vc, ref[0], "out", ref[1])
            elif kind == CONST:
                _note_read(x._vc, fn, "saved", j)
    if result_read:
        for k, t in enumerate(outs):
            _note_read(t._vc, fn, "out", k)


def _note_read(counter, fn, where, i):
    reads = counter.numpy_reads
    if reads is None:
        counter.numpy_reads = reads = []
    reads.append((fn, where, i))


def keep_numpy_reads(out):
    """out's storage is about to be written: each value read from it (noted above) whose
    data the write may change is kept as a copy — a node's output in its `overwritten`
    (engine.Walk.array reads it there), a saved array of a tensor without history in
    place of it. (The whole of out counts, not the part written: a value is copied once.)"""
    target = out._data
    left = []
    for entry in out._vc.numpy_reads:
        fn, where, i = entry
        if fn.saved is None:  # (freed)
            continue
        arr = fn.outs[i][0] if where == "out" else fn.saved[i][0]
        if not np.may_share_memory(arr, target):
            left.append(entry)
        elif where == "saved":
            fn.saved = fn.saved[:i] + ((arr.copy(), Version(), 0),) + fn.saved[i + 1:]
        elif fn.overwritten is None or i not in fn.overwritten:
            if fn.overwritten is None:
                fn.overwritten = {}
            fn.overwritten[i] = arr.copy()
    out._vc.numpy_reads = left


def _stale_input(op, fn):
    return RuntimeError(
        f"{op.name}: an input was changed in place after it was computed (it is a view of a tensor "
        f"that was modified since; it was computed {describe_loc(fn.loc) or 'earlier'}). Its recorded "
        f"history no longer matches its data: take the view again after modifying the tensor.")


def _op_error(op, inputs, attrs, cause):
    shapes = []
    for x in inputs:
        s = getattr(x, "shape", None)
        shapes.append(str(tuple(s)) if s is not None else repr(x))
    where = describe_loc(user_loc(4))
    text = str(cause)
    if text.startswith(op.name + ": "):  # numpy's own prefix (`matmul: Input operand 1 ...`)
        text = text[len(op.name) + 2:]
    msg = f"{op.name}: {text}" if text else f"{op.name} failed"
    detail = f" (input shapes: {', '.join(shapes)})"
    if "shape" not in str(cause):
        msg += detail
    if where:
        msg += f"\n  {where}"
    cls = (LinAlgOpError if isinstance(cause, np.linalg.LinAlgError) else
           ShapeMismatch if isinstance(cause, (ValueError, ShapeError)) else
           IndexOpError if isinstance(cause, IndexError) else OpError)
    return cls(msg)
