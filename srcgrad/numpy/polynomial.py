"""numpy.polynomial's value functions on tensors: numpy's own code, one test changed.

`polyval(x, c)` and its kin (chebval, legval, hermval, hermeval, lagval, polyvalfromroots)
evaluate every polynomial of c's columns at every x when c has more than one axis, by
reshaping c only `if isinstance(x, np.ndarray)`. A tensor standing for the user's array
would be taken for a scalar there, and c's columns broadcast against x's values: a wrong
result, with no error. While srcgrad runs a user's numpy-style function (`numpy_code()`,
entered by traces and by the op-by-op runs), these functions run numpy's own source with
that test written `np.ndim(x) > 0`, which is the same for numpy's arrays and scalars (a
0-d array's reshape adds no axis). Their code objects are swapped, so every reference to
them (`from numpy.polynomial.polynomial import polyval`, polyval2d's call) sees it.

The rest of numpy.polynomial runs on tensors as it is (numpy/_dispatch.ARRAY_CODE_DIRS).
A numpy whose source differs keeps its functions (and the test tells).
"""
import ast
import inspect
import textwrap

import numpy as np

_TEST = "isinstance(x, np.ndarray)"
_FUNCTIONS = (("polynomial", "polyval"), ("polynomial", "polyvalfromroots"), ("chebyshev", "chebval"),
              ("legendre", "legval"), ("hermite", "hermval"), ("hermite_e", "hermeval"), ("laguerre", "lagval"))


def _rewritten(fn):
    """fn's code compiled from its source with _TEST rewritten (same file and lines, so
    tracebacks read numpy's file), or None where the source is not as expected."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    if source.count(_TEST) != 1 or not source.startswith("def "):
        return None
    tree = ast.parse(source.replace(_TEST, "np.ndim(x) > 0"))
    ast.increment_lineno(tree, fn.__code__.co_firstlineno - 1)
    namespace = {}
    exec(compile(tree, fn.__code__.co_filename, "exec"), dict(fn.__globals__), namespace)
    code = namespace[fn.__name__].__code__
    return code if code.co_freevars == fn.__code__.co_freevars else None


def _swaps():
    import importlib
    found = []
    for module, name in _FUNCTIONS:
        fn = getattr(importlib.import_module("numpy.polynomial." + module), name, None)
        code = _rewritten(fn) if fn is not None else None
        if code is not None:
            found.append((fn, fn.__code__, code))
    return found


_SWAPS = None
_DEPTH = [0]


class tensors_as_arrays:
    """Context manager (re-entrant): the value functions take a tensor for an array."""

    def __enter__(self):
        global _SWAPS
        if _DEPTH[0] == 0:
            if _SWAPS is None:
                _SWAPS = _swaps()
            for fn, _, code in _SWAPS:
                fn.__code__ = code
        _DEPTH[0] += 1
        return self

    def __exit__(self, *exc):
        _DEPTH[0] -= 1
        if _DEPTH[0] == 0:
            for fn, original, _ in _SWAPS:
                fn.__code__ = original
        return False
