"""Ops behind srcgrad.numpy.misc that a composite cannot express well.

`searchsorted`: insertion positions in a sorted 1-D array — integer results, no gradient.
An op of its own (like `argsort`) so that a compiled (traced) function recomputes the
positions from its arguments instead of freezing them, in O(len(v) log len(a)) rather
than the O(len(v) len(a)) of comparing every pair. `np.interp`, `np.digitize` and
`np.searchsorted` are built on it.
"""
import numpy as np

from ..codegen import astbuild as A
from .registry import Op, ShapeError, register, shape_of


def _searchsorted_infer(inputs, attrs):
    a, v = inputs
    if len(shape_of(a)) != 1:
        raise ShapeError(f"searchsorted: the sorted array must be 1-D, got shape {tuple(shape_of(a))}")
    if attrs["side"] not in ("left", "right"):
        raise ShapeError(f"searchsorted: side must be 'left' or 'right', got {attrs['side']!r}")
    return [(tuple(shape_of(v)), np.dtype(np.intp))]


register(Op("searchsorted", "index", lambda a, v, side: np.asarray(np.searchsorted(a, v, side=side)),
            infer=_searchsorted_infer, differentiable=False, torch_name="SearchsortedBackward0",
            emit=lambda args, attrs, node: A.npcall("searchsorted", args[0], args[1],
                                                    side=A.const(attrs["side"]))))
