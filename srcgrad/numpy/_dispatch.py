"""How numpy calls reach srcgrad: the registry behind `__array_function__`/`__array_ufunc__`.

Each numpy function srcgrad differentiates has one implementation here, registered
with `@implements(np.func)`; `srcgrad.numpy` exposes the same implementations by
name. A numpy function with no implementation still runs on data that needs no
gradient, and raises `NoRuleError` naming the function when a gradient would be lost —
never a silently wrong or constant gradient.
"""
import functools
import inspect
import os

import numpy as np

HANDLED = {}   # numpy function object -> srcgrad implementation
UFUNCS = {}    # ufunc name -> srcgrad implementation


class NoRuleError(TypeError):
    """A numpy function was applied to a tensor that needs a gradient, and srcgrad has no
    derivative rule for it."""


def implements(*np_funcs):
    def register(impl):
        impl = _with_out(impl, np_funcs[0]) if np_funcs else impl
        for f in np_funcs:
            HANDLED[f] = impl
            if isinstance(f, np.ufunc):
                UFUNCS[f.__name__] = impl
        return impl
    return register


def _out_position(fn):
    """Where `out` is among fn's parameters: its index if it can be passed by position,
    -1 if only by keyword, None if fn has none."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    for i, p in enumerate(params):
        if p.name == "out":
            return i if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD else -1
    return None


def _with_out(impl, np_func):
    """impl accepting numpy's `out=` (by keyword, or by position as numpy's signature has
    it) for every function numpy gives one, whether or not impl has the parameter: impl
    computes a new tensor, written into `out` (write_out). (A ufunc's out= is dispatched
    in dispatch_ufunc.)"""
    if isinstance(np_func, np.ufunc):
        return impl
    np_pos = _out_position(np_func)
    if np_pos is None:
        return impl
    impl_pos = _out_position(impl)
    name = np_func.__name__

    @functools.wraps(impl)
    def call(*args, **kwargs):
        out = kwargs.pop("out", None)
        if 0 <= np_pos < len(args):
            out, args = args[np_pos], args[:np_pos] + ((None,) if impl_pos == np_pos else ()) + args[np_pos + 1:]
        result = impl(*args, **kwargs)
        return result if out is None else write_out(name, result, out, args)
    return call


def write_out(name, result, out, inputs):
    """numpy's `out=`: the result written into `out` and `out` returned. Into a tensor, a
    recorded in-place write (out's history and gradient follow); into a plain numpy array
    only a result no gradient needs (else refused, and a trace runs again with numpy's
    builders making tensors, so that `out = np.empty(n)` is one)."""
    Tensor = tensor_cls()
    if isinstance(out, tuple) and len(out) == 1:
        out = out[0]
    if not isinstance(out, (Tensor, np.ndarray)):
        raise TypeError(f"numpy.{name}: out must be an array, got {type(out).__name__}")
    shape, into = tuple(np.shape(result)), tuple(out.shape)
    try:
        fits = np.broadcast_shapes(shape, into) == into
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"numpy.{name}: the result has shape {shape}, which does not fit out= of shape {into}")
    if isinstance(out, Tensor):
        out[...] = result
        return out
    if isinstance(result, Tensor):
        _refuse_plain_out(name, (result, inputs))
        result = result._data
    out[...] = result
    return out


_TENSOR = []


def tensor_cls():
    # tensor.py imports this package: the class is looked up once, on first use
    if not _TENSOR:
        from ..tensor import Tensor
        _TENSOR.append(Tensor)
    return _TENSOR[0]


def needs_grad(obj):
    """Does any tensor inside obj (nested lists/tuples/dicts) require grad?"""
    Tensor = tensor_cls()
    if isinstance(obj, Tensor):
        return obj._requires_grad
    if isinstance(obj, (list, tuple)):
        return any(needs_grad(x) for x in obj)
    if isinstance(obj, dict):
        return any(needs_grad(x) for x in obj.values())
    return False


def _traced(obj, tracer):
    Tensor = tensor_cls()
    if isinstance(obj, Tensor):
        return tracer.traced(obj)
    if isinstance(obj, (list, tuple)):
        return any(_traced(x, tracer) for x in obj)
    if isinstance(obj, dict):
        return any(_traced(x, tracer) for x in obj.values())
    return False


def unwrap(obj):
    Tensor = tensor_cls()
    if isinstance(obj, Tensor):
        return obj._data
    if isinstance(obj, list):
        return [unwrap(x) for x in obj]
    if isinstance(obj, tuple):
        return tuple(unwrap(x) for x in obj)
    if isinstance(obj, dict):
        return {k: unwrap(v) for k, v in obj.items()}
    return obj


def wrap(obj):
    Tensor = tensor_cls()
    if isinstance(obj, np.ndarray):
        return Tensor._make(obj)
    if isinstance(obj, tuple):
        return tuple(wrap(x) for x in obj)
    if isinstance(obj, list):
        return [wrap(x) for x in obj]
    return obj


def run_without_gradient(fn, name, args, kwargs):
    """Run a numpy function with no srcgrad rule on plain data; refuse if a gradient
    would be dropped."""
    from ..autograd.mode import is_grad_enabled
    from ..autograd.recording import TRACER
    if TRACER[0] is not None and (_traced(args, TRACER[0]) or _traced(kwargs, TRACER[0])):
        from ..trace import TraceError
        from ..utils.locations import describe_loc, user_loc
        where = describe_loc(user_loc(1))
        raise TraceError(f"numpy.{name} has no srcgrad rule, so inside a compiled function its result "
                         f"would be frozen into the generated code{f' ({where})' if where else ''}; use "
                         f"differentiable operations, or pass the value in as an argument outside argnums")
    if is_grad_enabled() and (needs_grad(args) or needs_grad(kwargs)):
        raise NoRuleError(
            f"numpy.{name} has no derivative rule in srcgrad, and one of its arguments requires grad. "
            f"Rewrite it with differentiable operations, compute it under srcgrad.no_grad() (or on "
            f"x.detach()) if no gradient should flow through it, or give it a rule (see srcgrad.ops).")
    return wrap(fn(*unwrap(args), **unwrap(kwargs)))


#: numpy's own modules written in numpy over arrays of any kind, run on tensors as they
#: are: numpy.polynomial (`Polynomial(c)(x)`, `chebval(x, c)`, `polyvander(x, 3)`,
#: `polyval2d(x, y, c)` of traced values), its conversions (np.asanyarray) and builders
#: (np.empty) treated as the user's code (numpy/builders.py)
ARRAY_CODE_DIRS = (os.path.join(os.path.dirname(os.path.abspath(np.__file__)), "polynomial") + os.sep,)


def dispatch_function(func, args, kwargs):
    impl = HANDLED.get(func)
    if impl is None:
        python = getattr(func, "_implementation", None)  # (numpy's own, under its dispatcher)
        code = getattr(python, "__code__", None)
        if code is not None and code.co_filename.startswith(ARRAY_CODE_DIRS):
            return python(*args, **kwargs)
        return run_without_gradient(func, _qualname(func), args, kwargs)
    return impl(*args, **kwargs)


def dispatch_ufunc(ufunc, method, inputs, kwargs):
    impl = UFUNCS.get(ufunc.__name__) if method == "__call__" else None
    if impl is not None and not kwargs:  # (the common case: `np.exp(x)`)
        return impl(*inputs)
    if method == "at" and ufunc.__name__ in ("add", "subtract") and len(inputs) in (2, 3):
        from .misc import add_at  # np.add.at(a, indices, b): a scatter-add, in place
        return add_at(*inputs, negate=ufunc.__name__ == "subtract")
    rule = _method_rules().get((ufunc.__name__, method)) if method in ("accumulate", "reduce", "reduceat") else None
    if rule is not None and 1 <= len(inputs) <= 2 and set(kwargs) <= ({"axis", "keepdims"} if method == "reduce"
                                                                      else {"axis"}):
        return rule(*inputs, **kwargs)
    binary = UFUNCS.get(ufunc.__name__) if ufunc.nin == 2 else None
    if method == "outer" and binary is not None and len(inputs) == 2 and not kwargs:
        return _outer(binary, *inputs)
    outs = kwargs.get("out") or ()
    if any(not isinstance(o, tensor_cls()) for o in outs):
        _refuse_plain_out(ufunc.__name__, inputs)
    if method == "__call__" and impl is not None and len(outs) == ufunc.nout and set(kwargs) <= {"out", "where"}:
        return _into(impl, inputs, outs, kwargs.get("where", True))
    if impl is None or kwargs.get("out") is not None or kwargs.get("where", True) is not True:
        name = ufunc.__name__ + ("" if method == "__call__" else "." + method)
        return run_without_gradient(getattr(ufunc, method), name, inputs, kwargs)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("casting", "order", "subok")}
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"numpy.{ufunc.__name__}: keyword arguments {sorted(kwargs)} are not supported")
    out = impl(*inputs)
    if dtype is None:
        return out
    return tuple(o.astype(dtype) for o in out) if isinstance(out, tuple) else out.astype(dtype)


def _outer(binary, a, b):
    """ufunc.outer(a, b): a's axes, then b's: `a[..., None, None] * b`."""
    from .shape import _tensor
    a = _tensor(a)
    return binary(a.reshape(tuple(a.shape) + (1,) * np.ndim(b)), b)


def _into(impl, inputs, outs, where):
    """`np.multiply(a, b, out=c)` with c a tensor: the result written into c in place (a
    recorded write, so c's history and gradient follow), and c returned; with `where=`,
    only where the mask holds, c keeping its values elsewhere (as numpy). A ufunc with
    several outputs (np.modf, np.divmod) writes each into its own, and returns them all."""
    from .elementwise import where as select
    results = impl(*inputs)
    results = results if len(outs) > 1 else (results,)
    for result, out in zip(results, outs):
        if where is not True:
            result = select(where, result, out)
        out[...] = result
    return tuple(outs) if len(outs) > 1 else outs[0]


def _reduceat(x, indices, axis=0):
    """np.add.reduceat: sums of x[indices[i]:indices[i + 1]] along `axis` (the last to the
    end; a single entry x[indices[i]] where the next index is not larger), stacked."""
    from . import reductions as R
    from .shape import _tensor, stack
    x = _tensor(x)
    idx = [int(i) for i in np.asarray(indices).ravel()]
    n, axis = x.shape[axis], axis % x.ndim
    parts = []
    for k, i in enumerate(idx):
        if not 0 <= i < n:
            raise IndexError(f"add.reduceat: index {i} out of bounds for axis {axis} of size {n}")
        stop = idx[k + 1] if k + 1 < len(idx) else n
        lead = (slice(None),) * axis
        parts.append(R.sum(x[lead + (slice(i, stop),)], axis=axis) if stop > i else x[lead + (i,)])
    return stack(parts, axis=axis)


@functools.lru_cache(maxsize=None)
def _method_rules():
    """ufunc methods that are other rules: np.add.accumulate is cumsum, np.maximum.reduce is
    max, np.maximum.accumulate the running maximum."""
    from . import reductions as R
    return {
        ("add", "accumulate"): lambda x, axis=0: R.cumsum(x, axis=axis),
        ("multiply", "accumulate"): lambda x, axis=0: R.cumprod(x, axis=axis),
        ("maximum", "accumulate"): lambda x, axis=0: R.running_extreme(x, axis, "maximum.accumulate"),
        ("minimum", "accumulate"): lambda x, axis=0: R.running_extreme(x, axis, "minimum.accumulate"),
        ("add", "reduce"): lambda x, axis=0, keepdims=False: R.sum(x, axis=axis, keepdims=keepdims),
        ("multiply", "reduce"): lambda x, axis=0, keepdims=False: R.prod(x, axis=axis, keepdims=keepdims),
        ("maximum", "reduce"): lambda x, axis=0, keepdims=False: R.amax(x, axis=axis, keepdims=keepdims),
        ("minimum", "reduce"): lambda x, axis=0, keepdims=False: R.amin(x, axis=axis, keepdims=keepdims),
        ("logaddexp", "reduce"): lambda x, axis=0, keepdims=False: R.logsumexp(x, axis=axis, keepdims=keepdims),
        ("logaddexp2", "reduce"): lambda x, axis=0, keepdims=False:
            R.logsumexp(x * np.log(2.0), axis=axis, keepdims=keepdims) / np.log(2.0),
        ("add", "reduceat"): _reduceat,
        ("logaddexp", "accumulate"): lambda x, axis=0: _log_cumsum_exp(x, axis, 1.0),
        ("logaddexp2", "accumulate"): lambda x, axis=0: _log_cumsum_exp(x, axis, np.log(2.0)),
    }


def _log_cumsum_exp(x, axis, scale):
    """np.logaddexp.accumulate (scale 1) and logaddexp2's (scale ln 2): the running
    log(sum(exp)), its exponentials shifted by the slice's largest entry (a constant: the
    shift cancels in the derivative) so that they neither overflow nor all underflow."""
    import sys
    from . import reductions as R
    from .shape import _tensor
    E = sys.modules[__package__ + ".elementwise"]  # (the submodule: numpy's names shadow it)
    x = _tensor(x)
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    t = x * scale if scale != 1.0 else x
    m = R.amax(t.detach(), axis=axis, keepdims=True)
    m = E.where(E.isfinite(m), m, 0.0)
    r = E.log(R.cumsum(E.exp(t - m), axis=axis)) + m
    return r / scale if scale != 1.0 else r


def _refuse_plain_out(name, inputs):
    """`out *= x`, `np.add(a, x, out=out)` with `out` a plain numpy array and x a tensor
    that is traced or requires grad: the result would lose its gradient."""
    from ..autograd.mode import is_grad_enabled
    from ..autograd.recording import TRACER, numpy_code
    from ..utils.locations import describe_loc, user_loc
    tracer = TRACER[0]
    if (tracer is not None and _traced(inputs, tracer)) or (is_grad_enabled() and needs_grad(inputs)):
        from ..trace import TraceError
        where = describe_loc(user_loc(3))
        err = TraceError(
            f"numpy.{name} writes into a plain numpy array (out=, or an in-place operator like `out *= x`)"
            f"{f' {where}' if where else ''}: the result would lose its gradient. Write `out = out * x` "
            f"(a new array), or make `out` from a tensor (`np.zeros_like(x)`).")
        # (run again with numpy's builders making tensors: traced, or numpy code op by op)
        err.needs_builders = tracer is not None or numpy_code()
        raise err


def _qualname(func):
    mod = getattr(func, "__module__", "") or ""
    name = getattr(func, "__name__", repr(func))
    return f"{mod.replace('numpy.', '').replace('numpy', '')}.{name}".lstrip(".") if "linalg" in mod or "fft" in mod else name
