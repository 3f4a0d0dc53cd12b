"""Large arrays a generated function keeps from one call to the next.

A fresh large array costs page faults (~1 ms per 2 MB here) before any arithmetic: the
allocator hands freed memory back to the system, and the next call faults it in again.
So a generated function takes the memory of its large intermediate results from a pool
of its own, and gives it back when it returns:

    kept = scratch.take((25, 1000, 10), np.float64)
    ...
    t5 = np.multiply(t4, xc, out=kept)
    ...
    scratch.give(kept)
    return (value, grad_x)

Only values that never leave the call are computed there (codegen/buffers.py: never a
returned value, one sharing memory with it, one a loop or a hook keeps). A call that
raises does not give its arrays back (the next one takes new ones), and calls running at
the same time (threads) each take arrays of their own.
"""
import numpy as np

#: arrays kept per shape and dtype (a function holds at most what one call used)
KEEP = 8


class Scratch:
    """The pool of one generated function."""

    __slots__ = ("_free",)

    def __init__(self):
        self._free = {}

    def take(self, shape, dtype, order="C"):
        """An array of this shape, dtype and memory order (the function's layout:
        codegen/layout.py), kept from an earlier call or new."""
        dtype = np.dtype(dtype)
        if sum(d > 1 for d in shape) < 2:
            order = "C"  # (one array is both: as give() files it)
        free = self._free.get((shape, dtype, order))
        return free.pop() if free else np.empty(shape, dtype, order=order)

    def give(self, *arrays):
        for a in arrays:
            order = "C" if a.flags.c_contiguous else "F"  # (the order it was taken in)
            free = self._free.setdefault((a.shape, a.dtype, order), [])
            if len(free) < KEEP:
                free.append(a)
