"""numpy's array builders inside a traced function: `np.zeros(n)` and friends make tensors.

Ordinary numpy code builds arrays and fills them in (`out = np.zeros(n); out[i] = x[i] ** 2`,
`R = np.eye(3); R[0, 1] = theta`, `np.array([x[0], 2 * x[1]])`). numpy dispatches neither
the builders (they take no array) nor a store into a plain array to srcgrad, so the value
would be converted to a number and its gradient lost. A trace that runs into such a store
(TraceError.needs_builders) therefore runs the function again with the builders it calls
making srcgrad tensors (srcgrad.numpy's zeros, eye, array, ...): the stores are recorded,
and the generated code builds the same arrays. (The function runs twice in that first
trace, as it does when a guard fails; one that needs nothing of the kind keeps numpy's
arrays, so a constant it caches stays a numpy array.)

Only calls from the user's code are redirected: numpy's and srcgrad's own code (and any
library under site-packages) keep numpy's functions. `np.array`/`np.asarray` are redirected
for objects holding a tensor, and `np.array` of numbers makes a tensor too (the user's code
may store traced values into it, as into np.zeros's). The numpy module
attributes are swapped for the duration of that trace, and so are the names the user's own
modules bound to them (`from numpy import zeros`, a module re-exporting numpy's names); a
builder imported under another name (`from numpy import zeros as z`) keeps numpy's
function, and its store is refused, with a hint.
"""
import functools
import linecache
import os
import re
import sys
import sysconfig

import numpy as np

from ._dispatch import ARRAY_CODE_DIRS as _ARRAY_CODE_DIRS
from . import shape as _  # noqa: F401  (the submodule; its name is shadowed by np.shape's rule)

_shape = sys.modules[__package__ + ".shape"]

_BUILDERS = ("zeros", "ones", "empty", "full", "eye", "identity",
             "zeros_like", "ones_like", "empty_like", "full_like")
_CONVERTERS = ("array", "asarray", "asanyarray", "asarray_chkfinite", "ascontiguousarray", "asfortranarray")

_LIBRARY_DIRS = tuple(
    {os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,  # srcgrad
     os.path.dirname(os.path.abspath(np.__file__)) + os.sep}
    | {os.path.abspath(sysconfig.get_paths()[k]) + os.sep for k in ("stdlib", "purelib", "platlib")
       if sysconfig.get_paths().get(k)})

#: functions of an array-like that numpy code often hands a list (`np.sum([a, b])`,
#: `np.mean([f(x) for ...])`): numpy converts the list without asking srcgrad, so a list
#: holding tensors is made one tensor first
_TAKES_SEQUENCE = ("sum", "mean", "prod", "max", "min", "amax", "amin", "std", "var", "median",
                   "average", "cumsum", "cumprod", "argmax", "argmin", "sort", "diff", "ptp",
                   "nansum", "nanmean", "nanmax", "nanmin", "linspace", "dot", "outer", "inner")

_ORIGINAL = {name: getattr(np, name) for name in _BUILDERS + _CONVERTERS + _TAKES_SEQUENCE}
_DEPTH = [0]


def _from_user_code(name):
    """Whether the caller of the redirected function `name` is the user's code: the nearest
    Python frame is outside the libraries (or in numpy's array code: _dispatch.ARRAY_CODE_DIRS),
    and the call it is
    making is a call of `name`. (A C extension calling numpy, as numpy.random's
    `np.empty`, leaves no frame of its own: the nearest frame is then the user's
    `npr.randn(3)`, a call of another name.)"""
    frame = sys._getframe(2)
    code = frame.f_code
    if code.co_filename.startswith(_LIBRARY_DIRS) and not code.co_filename.startswith(_ARRAY_CODE_DIRS):
        return False
    called = _called_name(frame)
    return called == name if called is not None else name in code.co_names


def _called_name(frame):
    """The name of the function the frame's current call calls, read from the source span
    of the call (`np.zeros(...)` -> "zeros"); None when the span is unknown."""
    try:
        line, end_line, col, end_col = list(frame.f_code.co_positions())[frame.f_lasti // 2]
    except (AttributeError, IndexError, ValueError):
        return None
    if None in (line, end_line, col, end_col):
        return None
    text = linecache.getline(frame.f_code.co_filename, line)
    m = _CALLEE.match(text[col:] if line != end_line else text[col:end_col])
    return m.group(1) if m else None


_CALLEE = re.compile(r"\s*(?:[\w.]+\.)?(\w+)\s*\(")


def _builder(name):
    original, traced = _ORIGINAL[name], getattr(_shape, name)

    def build(*args, **kwargs):
        if _from_user_code(name) and kwargs.get("like") is None:
            return traced(*args, **kwargs)
        return original(*args, **kwargs)
    build.__name__, build.__doc__ = name, original.__doc__
    return build


def _converter(name):
    original, traced = _ORIGINAL[name], getattr(_shape, name)

    def convert(obj, *args, **kwargs):
        if type(obj) is np.ndarray and name != "array":  # (the common case, and numpy's own calls)
            return original(obj, *args, **kwargs)
        if (_shape._is_tensor(obj) or _shape._contains_tensor(obj)) and _from_user_code(name):
            return traced(obj, *args, **kwargs)
        out = original(obj, *args, **kwargs)
        if name == "array" and type(out) is np.ndarray and out.dtype.kind in "biufc" and kwargs.get("like") is None \
                and _from_user_code(name):
            # an array of numbers the user's code builds (`w = np.array([1.0, 2.0])`, a copy of
            # a plain one) may be filled with traced values later: a tensor, as np.zeros's
            return _shape.tensor_cls()._make(out)
        return out
    convert.__name__, convert.__doc__ = name, original.__doc__
    return convert


def _sequence_taker(name, original=None):
    original = original or _ORIGINAL[name]

    def take(*args, **kwargs):
        if any(isinstance(a, (list, tuple)) and _shape._contains_tensor(a) for a in args[:2]) \
                and _from_user_code(name):
            args = tuple(_shape.array(a) if isinstance(a, (list, tuple)) and _shape._contains_tensor(a) else a
                         for a in args[:2]) + args[2:]
        return original(*args, **kwargs)
    take.__name__, take.__doc__ = name, original.__doc__
    return take


#: the same, in numpy.linalg
_LINALG_TAKES_SEQUENCE = ("norm",)
_LINALG_ORIGINAL = {name: getattr(np.linalg, name) for name in _LINALG_TAKES_SEQUENCE}

_REDIRECTED = {name: _builder(name) for name in _BUILDERS}
_REDIRECTED.update({name: _sequence_taker(name) for name in _TAKES_SEQUENCE})
_REDIRECTED.update({name: _converter(name) for name in _CONVERTERS})
_LINALG_REDIRECTED = {name: _sequence_taker(name, fn) for name, fn in _LINALG_ORIGINAL.items()}


# -- library functions that convert their arguments: srcgrad's versions -------------------
#: functions numpy code calls from libraries that convert their arguments with np.asarray
#: (which a traced tensor refuses): while redirected, a call of one from the user's code
#: with a tensor among its arguments runs srcgrad's version (srcgrad/scipy/) instead.
#: (module, object in it or None, names, the srcgrad module with the same names)
_STATS = {"norm": ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"), "t": ("logpdf", "pdf", "cdf", "logcdf"),
          "gamma": ("logpdf", "pdf", "cdf"), "chi2": ("logpdf", "pdf", "cdf"), "beta": ("logpdf", "pdf", "cdf"),
          "poisson": ("logpmf", "pmf", "cdf"), "dirichlet": ("logpdf", "pdf"),
          "multivariate_normal": ("logpdf", "pdf", "entropy")}
_LIBRARY = (
    ("scipy.special", None, ("logsumexp", "softmax", "log_softmax", "polygamma", "multigammaln"),
     "srcgrad.scipy.special"),
    ("scipy.linalg", None, ("cholesky", "cho_factor", "cho_solve", "solve_triangular", "solve", "inv", "det",
                            "eigh", "svd", "lstsq", "pinv", "norm", "qr", "solve_banded", "solve_sylvester",
                            "sqrtm", "expm"),
     "srcgrad.scipy.linalg"),
    ("scipy.signal", None, ("convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d", "correlate2d"),
     "srcgrad.scipy.signal"),
    *[("scipy.stats", dist, methods, f"srcgrad.scipy.stats.{dist}") for dist, methods in _STATS.items()],
)


def _library_function(name, original, ours):
    def call(*args, **kwargs):
        if (any(_shape._is_tensor(a) or isinstance(a, (list, tuple)) and _shape._contains_tensor(a)
                for a in (*args, *kwargs.values()))) and _from_user_code(name):
            import importlib
            return getattr(importlib.import_module(ours), name)(*args, **kwargs)
        return original(*args, **kwargs)
    call.__name__, call.__doc__ = name, getattr(original, "__doc__", None)
    return call


def _library_redirects():
    """[(object, name, original, redirect, was it the object's own attribute)] for the
    libraries the process has imported (scipy is never imported here), and Python's math
    (numpy/pymath.py)."""
    from .pymath import NAMES
    found = []
    for module, obj_name, names, ours in _LIBRARY + (("math", None, NAMES, "srcgrad.numpy.pymath"),):
        mod = sys.modules.get(module)
        obj = mod if mod is None or obj_name is None else getattr(mod, obj_name, None)
        if obj is None:
            continue
        own = getattr(obj, "__dict__", {})
        for name in names:
            original = getattr(obj, name, None)
            if original is not None:
                found.append((obj, name, original, _library_function(name, original, ours), name in own))
    return found


class redirected:
    """Context manager: numpy's builders make tensors for the user's code while active
    (re-entrant: a trace nested in another keeps the redirection until the outer one ends)."""

    def __enter__(self):
        if _DEPTH[0] == 0:
            for name, fn in _REDIRECTED.items():
                setattr(np, name, fn)
            for name, fn in _LINALG_REDIRECTED.items():
                setattr(np.linalg, name, fn)
            _LIBRARY_PATCHED[:] = _library_redirects()
            for obj, name, original, redirect, own in _LIBRARY_PATCHED:
                setattr(obj, name, redirect)
            _PATCHED[:] = _user_bindings()
            for namespace, key, name in _PATCHED:
                namespace[key] = _REDIRECTED[name] if isinstance(name, str) else name[1]
            np.vectorize.__call__ = _vectorize_call
            _CONCATENATOR.__getitem__ = _concatenator_getitem
        _DEPTH[0] += 1
        return self

    def __exit__(self, *exc):
        _DEPTH[0] -= 1
        if _DEPTH[0] == 0:
            for name, fn in _ORIGINAL.items():
                setattr(np, name, fn)
            for name, fn in _LINALG_ORIGINAL.items():
                setattr(np.linalg, name, fn)
            for namespace, key, name in _PATCHED:
                redirect, original = (_REDIRECTED[name], _ORIGINAL[name]) if isinstance(name, str) else name[1:]
                if namespace.get(key) is redirect:
                    namespace[key] = original
            _PATCHED.clear()
            for obj, name, original, redirect, own in _LIBRARY_PATCHED:
                if own:
                    setattr(obj, name, original)
                else:  # (a method of the object's class: the instance's attribute goes)
                    delattr(obj, name)
            _LIBRARY_PATCHED.clear()
            np.vectorize.__call__ = _VECTORIZE_CALL
            _CONCATENATOR.__getitem__ = _CONCATENATOR_GETITEM
        return False


#: (module namespace, name, numpy's function name or (name, redirect, original)) rebound
#: while redirected; (object, name, original, redirect, own) for library functions
_PATCHED = []
_LIBRARY_PATCHED = []
_BY_ID = {id(fn): name for name, fn in _ORIGINAL.items()}


def _user_bindings():
    """The names user modules (not numpy's, srcgrad's or an installed library's) bound to
    numpy's builders or to the library functions redirected: (namespace, key, numpy's
    name or (name, redirect, original)), for the same name only (the call's name is how a
    redirect tells the user's call, _from_user_code)."""
    library = {id(original): (name, redirect, original)
               for obj, name, original, redirect, own in _LIBRARY_PATCHED if own}
    found = []
    for mod in list(sys.modules.values()):
        file = getattr(mod, "__file__", None)
        if mod is np or (file is None and getattr(mod, "__name__", None) != "__main__") \
                or file is not None and _in_library(file):
            continue
        namespace = getattr(mod, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            name = _BY_ID.get(id(value))
            if name == key and value is _ORIGINAL[name]:
                found.append((namespace, key, name))
            entry = library.get(id(value))
            if entry is not None and entry[0] == key and value is entry[2]:
                found.append((namespace, key, entry))
    return found


@functools.lru_cache(maxsize=4096)
def _in_library(file):
    """Whether a module's file is numpy's, srcgrad's or an installed library's (asked of
    every loaded module at each redirection: cached)."""
    return os.path.abspath(file).startswith(_LIBRARY_DIRS)


# -- np.vectorize of a traced array: the Python function, element by element -------------
#: a vectorized call over more elements than this refuses (each runs the function once)
VECTORIZE_MAX = 4096
_VECTORIZE_CALL = np.vectorize.__call__


def _vectorize_call(self, *args, **kwargs):
    """np.vectorize(f)(x) where x is traced: numpy would convert x to a plain array (its
    values frozen into the generated code); instead f runs on each element (a 0-d tensor),
    its branches guards as any, and the results are stacked in x's broadcast shape."""
    if not any(_shape._is_tensor(a) for a in args) or kwargs or self.signature is not None \
            or self.excluded:
        return _VECTORIZE_CALL(self, *args, **kwargs)
    arrays = _shape.broadcast_arrays(*[a if _shape._is_tensor(a) else np.asarray(a) for a in args])
    shape = arrays[0].shape
    size = int(np.prod(shape, dtype=np.int64))
    if size > VECTORIZE_MAX:
        raise ValueError(f"np.vectorize over {size} elements of a traced array: the function would run "
                         f"once per element (at most {VECTORIZE_MAX}); write it with array operations "
                         f"(np.where for a branch)")
    flat = [a.reshape(-1) for a in arrays]
    results = [self.pyfunc(*(f[i] for f in flat)) for i in range(size)]
    if results and isinstance(results[0], tuple):  # (several outputs)
        return tuple(_stacked([r[k] for r in results], shape, self.otypes, k) for k in range(len(results[0])))
    return _stacked(results, shape, self.otypes, 0)


def _stacked(values, shape, otypes, k):
    dtype = np.dtype(otypes[k]) if otypes else None
    out = _shape.array(values, dtype=dtype) if values else _shape.array(np.zeros(0, dtype or np.float64))
    return out.reshape(shape)


# -- np.r_[...] and np.c_[...] of traced values ----------------------------------------------
_CONCATENATOR = type(np.r_).__mro__[1]  # numpy's AxisConcatenator (r_ and c_ are instances)
_CONCATENATOR_GETITEM = _CONCATENATOR.__getitem__


def _concatenator_getitem(self, key):
    """np.r_[x, y] / np.c_[x, y] holding traced values: numpy would convert them to plain
    arrays; joined here as numpy joins them (each item at least `ndmin`-d, a 1-d one a
    column for c_), when every item is an array, a number or a slice (a range, as numpy
    makes it); string directives stay numpy's."""
    items = key if isinstance(key, tuple) else (key,)
    if not any(_shape._is_tensor(k) for k in items) or not all(
            _shape._is_tensor(k) or isinstance(k, (np.ndarray, int, float, np.generic, slice)) for k in items):
        return _CONCATENATOR_GETITEM(self, key)
    parts = []
    for k in items:
        if isinstance(k, slice):
            k = _CONCATENATOR_GETITEM(self, (k,))  # (numpy's range for it, alone)
        a = k if _shape._is_tensor(k) else _shape.asarray(np.asarray(k))
        if a.ndim < self.ndmin:
            shape = a.shape + (1,) * (self.ndmin - a.ndim) if self.trans1d == 0 and a.ndim \
                else (1,) * (self.ndmin - a.ndim) + a.shape
            a = a.reshape(shape)
        parts.append(a)
    return _shape.concatenate(parts, axis=self.axis)
