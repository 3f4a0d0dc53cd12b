"""Recording a call of a user's function into IR, with guards.

The user's function runs once, define-by-run, on tensors standing for its arguments.
While a `Tracer` is active every op on a value derived from an argument is recorded
(booleans and integers too, since the generated code recomputes them), and every
Python decision taken on such a value — `bool()`, `float()`, `int()`, `.item()` — is
recorded as a guard: the generated function re-checks it, and a different outcome
sends the call back here to record the other path. A value that would leave the graph
silently (`np.asarray(t)`, a numpy function with no rule) is an error, since its
value would be frozen into the generated code.
"""
from __future__ import annotations

import gc
import sys

import numpy as np

from .autograd import recording
from .utils.locations import user_loc


class TraceError(RuntimeError):
    """The traced function did something whose result cannot be recorded.

    needs_builders: a traced value was stored into, or made into, a plain numpy array; the
    function is traced again with numpy's builders making tensors (numpy/builders.py)."""
    needs_builders = False
    #: an array an op read was changed in place before the function returned: traced again
    #: keeping a copy of each array read (autograd/constants.py), with numpy's builders
    needs_snapshot = False


class Tracer:
    def __init__(self):
        self.inputs = set()       # ids of the tensors standing for arguments
        self.keep = []            # those tensors, kept alive so ids stay unique
        self.guards = []          # (tensor, kind, expected value, location, order)
        self.order = {}           # id(grad_fn) -> when it was recorded: the program order
                                  # that loop re-rolling reads repeated segments from
        self.code = None          # the traced function's code, until its frame is found
        self.frame = None
        self.inner_leaves = []    # leaves an inner transform made to differentiate in
        self.builders = False     # the second trace, with numpy's builders making tensors
        self.before = {}          # (id(array), version) -> (array, its copy) taken before an
                                  # in-place write into an array the run did not compute

    def before_write(self, t):
        """An in-place op is about to write into t, an array made without the traced
        arguments (`w = np.ones_like(x)`), which ops recorded earlier read as it is now: a
        copy of the array its data is part of (t's own, or the base of a view: a read of
        the base or of another view of it is found from there, _view_before), which the
        generated code captures (transforms.py)."""
        root = t._data
        while isinstance(root.base, np.ndarray):
            root = root.base
        key = (id(root), t._vc.v)
        if key not in self.before:
            self.before[key] = (root, root.copy())

    def captured(self, arr, version, now):
        """The data of an array at `version`, which is now at `now`."""
        if version == now:
            return arr
        kept = self.before.get((id(arr), version))
        if kept is None or kept[0] is not arr:
            old = self._view_before(arr, version)
            if old is not None:
                return old
            raise TraceError("an array the traced function read was then changed in place by a write "
                             "srcgrad did not see (through numpy directly, or a view): write "
                             "`w = w + ...` instead of changing w in place")
        return kept[1]

    def _view_before(self, arr, version):
        """A view's data before a write into the array it views (`x[:1]` read, then `x[0] =
        a[1]`): the same view of the copy taken of that array, or None."""
        import numpy as np
        base = arr.base
        while isinstance(base, np.ndarray):
            kept = self.before.get((id(base), version))
            if kept is not None and kept[0] is base and base.flags.c_contiguous and kept[1].flags.c_contiguous:
                offset = arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]
                flat = kept[1].reshape(-1)[offset // base.itemsize:]
                return np.lib.stride_tricks.as_strided(flat, arr.shape, arr.strides, writeable=False)
            base = base.base
        return None

    # -- called by autograd.recording.apply ----------------------------------------------
    def is_input(self, t):
        return id(t) in self.inputs

    def traced(self, t):
        return t.grad_fn is not None or id(t) in self.inputs

    def touches(self, inputs):
        return any(getattr(x, "grad_fn", None) is not None or id(x) in self.inputs for x in inputs)

    # -- called by Tensor when Python looks at a value -----------------------------------
    def guard(self, t, kind, value):
        self.guards.append((t, kind, value, user_loc(1), len(self.order)))

    def recorded(self, fn):
        # an id reused by a collected node is overwritten by its new owner: still in order
        self.order[id(fn)] = len(self.order)
        if self.frame is None and self.code is not None:
            self._find_frame()

    def _find_frame(self):
        """The outermost running frame of the traced function (see call_capturing_locals)."""
        f = sys._getframe(2)
        while f is not None:
            if f.f_code is self.code:
                self.frame = f
            f = f.f_back
        if self.frame is not None:
            self.code = None

    def add_input(self, t):
        self.inputs.add(id(t))
        self.keep.append(t)


def active():
    return recording.TRACER[0]


#: an integer or boolean array numpy takes from a traced one (as an index into a plain
#: array) is guarded on its values, up to this many of them
GUARDED_ARRAY_SIZE = 256


def frozen_index(t):
    """Tensor.__array__ of an integer or boolean traced tensor, where numpy takes its
    values (`table[idx]` on a plain array, a numpy function with no srcgrad rule): its
    values carry no gradient, so the code is guarded on them (each new value compiles
    again, as int(x) does). True if so guarded. Only in the trace with numpy's builders:
    the first trace refuses, so that an array the function builds becomes a tensor and
    the indexing is recorded instead."""
    tracer = recording.TRACER[0]
    if tracer is None or not tracer.builders or not tracer.traced(t) or t._data.dtype.kind not in "biu":
        return False
    if t._data.size > GUARDED_ARRAY_SIZE:
        escape(t, f"an array of {t._data.size} integers computed from the data, taken by numpy (an index "
                  f"into a plain array: `table[idx]`)",
               f"srcgrad guards the code on such values up to {GUARDED_ARRAY_SIZE} of them. Make the array "
               f"indexed a tensor, `srcgrad.numpy.asarray(table)[idx]`, to have the gather recorded (and "
               f"recomputed by each call).")
    if not any(g[0] is t and g[1] == "array" for g in tracer.guards):  # (once: `a[idx], b[idx]`)
        tracer.guard(t, "array", _nested_tuple(t._data.tolist()))
    return True


def _nested_tuple(x):
    return tuple(_nested_tuple(e) for e in x) if isinstance(x, list) else x


def decision(t, kind, value):
    """Tensor.__bool__/__float__/item(): record a guard if t is traced. Returns value."""
    tracer = recording.TRACER[0]
    if tracer is not None and tracer.traced(t):
        tracer.guard(t, kind, value)
    return value


class GradientLostWarning(UserWarning):
    """A value being differentiated became a Python number inside a compiled function."""


def number_taken(t):
    """t.item() / float(t) of a value that depends on the arguments differentiated: the
    number leaves the recording. The result stays right (the compiled code is guarded on
    the number), but no gradient flows through it, and each new value compiles again."""
    tracer = recording.TRACER[0]
    if not (tracer.traced(t) if tracer is not None else recording.NUMPY_CODE[0] and t._requires_grad):
        return
    import warnings
    loc = user_loc(2)
    where = f" at {loc[0][0]}:{loc[0][1]}" if loc else ""
    guarded = (" the compiled code is guarded on its exact value (each new value compiles again), and"
               if tracer is not None else "")  # (or the function runs op by op: srcgrad.vjp & co)
    message = (f"float()/item() of a value being differentiated{where}: a Python number, which is a "
               f"constant to srcgrad:{guarded} no gradient flows through arithmetic done with it. Compare and "
               f"compute with the array itself: `if x.sum() > 0`, `x / x.max()`, `np.sin(x)`.")
    if loc:
        warnings.warn_explicit(message, GradientLostWarning, loc[0][0], loc[0][1])
    else:
        warnings.warn(message, GradientLostWarning, stacklevel=3)


def stored_into_numpy(t):
    """Tensor.__float__/__int__: refuse when numpy calls it to store a traced value into a
    plain array (`out = np.zeros(3); out[i] = x[i] ** 2`): the value would reach the result
    with no gradient, and a guard on it would recompile for every new value."""
    tracer = recording.TRACER[0]
    if not (t._requires_grad if tracer is None else tracer.traced(t)):  # (or run op by op: vjp & co)
        return
    import dis
    from .utils.locations import _PKG_DIR, describe_loc
    f = sys._getframe(3)  # who called __float__/__int__: numpy's C code leaves the user's frame
    if f.f_code.co_filename.startswith(_PKG_DIR):
        return
    math_function = _math_call(f)
    if math_function is not None:
        where = describe_loc(((f.f_code.co_filename, f.f_lineno),))
        err = TraceError(f"math.{math_function} of a traced value ({where}) takes the number out of it, so its "
                         f"gradient would be lost; srcgrad runs numpy's function of it instead, unless math's is "
                         f"called by another name: call np.{math_function} (or math.{math_function} itself)")
        err.needs_builders = True  # (run again with math's functions of a tensor numpy's: numpy/pymath.py)
        raise err
    if dis.opname[f.f_code.co_code[f.f_lasti]] == "STORE_SUBSCR":
        where = describe_loc(((f.f_code.co_filename, f.f_lineno),))
        err = TraceError(
            f"a traced value is stored into a plain numpy array ({where}): numpy converts it to a "
            f"number, so its gradient would be lost. Make the array from a traced one "
            f"(`out = np.zeros_like(x)`), or collect the values in a list and `np.stack` them.")
        err.needs_builders = True
        raise err


def _math_call(frame):
    """The name of the function of Python's math the frame's current call is calling
    (`math.exp(x[0])`, `exp(x[0])` of `from math import exp`), if one srcgrad has
    (numpy/pymath.py); else None."""
    import math
    from .numpy.builders import _called_name
    from .numpy.pymath import NAMES
    name = _called_name(frame)
    if name not in NAMES:
        return None
    fn = frame.f_globals.get(name, frame.f_locals.get(name))
    module = frame.f_globals.get("math")
    return name if fn is getattr(math, name) or module is math else None


def escape(t, what, hint=None, builders=False):
    """The value of a traced tensor is about to leave the graph: refuse, saying where in
    the user's code, and what to write instead. builders: numpy is making it into an array
    (TraceError.needs_builders)."""
    tracer = recording.TRACER[0]
    if tracer is not None and tracer.traced(t):
        from .utils.locations import describe_loc
        where = describe_loc(user_loc(2))
        err = TraceError(
            f"{what} of a traced tensor inside a compiled function{f' ({where})' if where else ''}: its "
            f"value would be frozen into the generated code. "
            + (hint or "Keep it a tensor (use srcgrad.numpy / tensor methods), or pass the value in "
                       "as an argument outside argnums."))
        err.needs_builders = builders
        raise err


class tracing:
    """`with tracing() as tracer:` — record everything derived from tracer's inputs."""

    def __enter__(self):
        if recording.TRACER[0] is not None:  # (transforms.py runs a nested one eagerly)
            raise TraceError("srcgrad cannot trace a function while tracing another one")
        self.tracer = Tracer()
        recording.TRACER[0] = self.tracer
        self.gc = gc_paused()
        self.gc.__enter__()
        return self.tracer

    def __exit__(self, *exc):
        recording.TRACER[0] = None
        self.gc.__exit__()
        return False


class gc_paused:
    """Recording and compiling allocate many long-lived objects and few garbage cycles:
    the cyclic collector would rescan them again and again (half the time of a long
    trace). It is paused meanwhile; reference counting still frees everything else."""

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was_enabled:
            gc.enable()
        return False


def call_capturing_locals(fn, args, kwargs, builders=False, snapshot=False):
    """Call fn under the active tracer; return (result, the locals of its frame when it
    returned), so that generated code can use the user's variable names. snapshot: keep
    a copy of each plain array an op reads (TraceError.needs_snapshot).

    No tracing hook is installed (it would cost a callback per Python call): the first op
    recorded finds fn's frame on the stack, and a finished frame keeps its last locals."""
    from .numpy.builders import redirected
    from .numpy.polynomial import tensors_as_arrays
    from .autograd.constants import ChangedConstant, watching
    tracer = recording.TRACER[0]
    tracer.code = getattr(fn, "__code__", None)
    try:
        with tensors_as_arrays(), watching(snapshot) as watch:  # (numpy.polynomial's values of a tensor x)
            if builders:  # (np.zeros(n) & co make tensors: srcgrad/numpy/builders.py)
                with redirected():
                    result = fn(*args, **kwargs)
            else:
                result = fn(*args, **kwargs)
        try:
            watch.check()
        except ChangedConstant:
            err = TraceError("an array the traced function read was then changed in place")
            err.needs_builders = err.needs_snapshot = True
            raise err from None
    except (ValueError, TypeError) as e:
        if isinstance(e.__cause__, TraceError):  # raised in a conversion numpy asked for,
            raise e.__cause__ from None          # which numpy reports as its own error
        raise
    frame, tracer.frame = tracer.frame, None
    local_vars = dict(frame.f_locals) if frame is not None else {}
    # the finished frame's f_back is this frame: holding it would make a cycle that keeps
    # the whole recording (every tensor and node) alive until the next full collection
    del frame
    return result, local_vars


# -- argument structures (pytrees) ---------------------------------------------------
class Leaf:
    """An array position in an argument structure."""
    __slots__ = ("kind",)   # "ndarray", "tensor", "float", "complex", "generic"

    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return f"Leaf({self.kind})"

    def __eq__(self, other):
        return isinstance(other, Leaf) and other.kind == self.kind

    def __hash__(self):
        return hash(("leaf", self.kind))


def flatten(obj, leaves, dynamic_floats=True, objects=False):
    """Append the array leaves of obj to `leaves`; return its structure (hashable).

    With `objects`, the leaves appended are the objects themselves (tensors stay tensors)."""
    from .tensor import Tensor
    if isinstance(obj, Tensor):
        leaves.append(obj if objects else obj._data)
        return Leaf("tensor")
    if isinstance(obj, np.ndarray):
        leaves.append(obj)
        return Leaf("ndarray")
    if isinstance(obj, np.generic) and obj.dtype.kind in "fc":
        leaves.append(np.asarray(obj))
        return Leaf("generic")
    if isinstance(obj, float) and dynamic_floats:
        leaves.append(np.asarray(obj, dtype=np.float64))
        return Leaf("float")
    if isinstance(obj, complex) and dynamic_floats:
        leaves.append(np.asarray(obj, dtype=np.complex128))
        return Leaf("complex")
    if isinstance(obj, dict):
        keys = sorted(obj, key=repr)
        return ("dict", tuple(keys), tuple(flatten(obj[k], leaves, dynamic_floats, objects) for k in keys))
    if isinstance(obj, (list, tuple)) and not _is_namedtuple(obj):
        kind = "list" if isinstance(obj, list) else "tuple"
        return (kind, len(obj), tuple(flatten(x, leaves, dynamic_floats, objects) for x in obj))
    if _is_namedtuple(obj):
        return ("namedtuple", type(obj), tuple(flatten(x, leaves, dynamic_floats, objects) for x in obj))
    try:
        hash(obj)
    except TypeError:
        raise TypeError(f"an argument of type {type(obj).__name__} is neither an array, a number, a "
                        f"container of them, nor hashable (static)") from None
    return ("static", type(obj), obj)  # (typed: f(x, True) and f(x, 1) may take different paths)


def unflatten(spec, leaves):
    """Rebuild a structure from spec, taking leaves in order (an iterator)."""
    if isinstance(spec, Leaf):
        return next(leaves)
    kind = spec[0]
    if kind == "dict":
        return {k: unflatten(s, leaves) for k, s in zip(spec[1], spec[2])}
    if kind == "list":
        return [unflatten(s, leaves) for s in spec[2]]
    if kind == "tuple":
        return tuple(unflatten(s, leaves) for s in spec[2])
    if kind == "namedtuple":
        return spec[1](*[unflatten(s, leaves) for s in spec[2]])
    return spec[2]


def leaf_specs(spec):
    """The Leaf objects of a structure, in order."""
    if isinstance(spec, Leaf):
        return [spec]
    if spec[0] in ("dict", "list", "tuple", "namedtuple"):
        return [l for s in spec[2] for l in leaf_specs(s)]
    return []


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")
