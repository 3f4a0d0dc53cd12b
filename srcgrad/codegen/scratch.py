"""Large arrays generated functions keep from one call to the next.

A fresh large array costs page faults (~1 ms per 2 MB here) before any arithmetic: the
allocator hands freed memory back to the system, and the next call faults it in again.
So a generated function takes the memory of its large intermediate results from a pool,
and gives it back when it returns:

    kept = scratch.take((25, 1000, 10), np.float64)
    ...
    t5 = np.multiply(t4, xc, out=kept)
    ...
    scratch.give(kept)
    return (value, grad_x)

Only values that never leave the call are computed there (codegen/buffers.py: never a
returned value, one sharing memory with it, one a loop or a hook keeps). A call that
raises does not give its arrays back (the next one takes new ones), and calls running at
the same time (threads, or a hook calling another generated function) each take arrays
of their own.

One pool serves every generated function of the process: functions that run one after
the other (bundle adjustment's three sweeps) share the same arrays instead of keeping
three sets. What it keeps is bounded: past twice the most that one call gave back, the
arrays given back longest ago are let go.
"""
import numpy as np

#: arrays kept per shape and dtype (what one call uses, of one shape, rarely exceeds it)
KEEP = 16


class Scratch:
    """A pool of arrays by shape, dtype and memory order."""

    __slots__ = ("_free", "_bytes", "_limit")

    def __init__(self):
        self._free = {}
        self._bytes = 0   # bytes of the arrays kept
        self._limit = 0   # twice the most one give() handed back

    def take(self, shape, dtype, order="C"):
        """An array of this shape, dtype and memory order (the function's layout:
        codegen/layout.py), kept from an earlier call or new."""
        dtype = np.dtype(dtype)
        if sum(d > 1 for d in shape) < 2:
            order = "C"  # (one array is both: as give() files it)
        free = self._free.get((shape, dtype, order))
        if free:
            a = free.pop()
            self._bytes -= a.nbytes
            return a
        return np.empty(shape, dtype, order=order)

    def give(self, *arrays):
        self._limit = max(self._limit, 2 * sum(a.nbytes for a in arrays))
        for a in arrays:
            order = "C" if a.flags.c_contiguous else "F"  # (the order it was taken in)
            key = (a.shape, a.dtype, order)
            free = self._free.pop(key, [])  # (re-inserted: the dict's order is the last use)
            if len(free) < KEEP:
                free.append(a)
                self._bytes += a.nbytes
            self._free[key] = free
        while self._bytes > self._limit:  # the shapes given back longest ago go first
            key = next(iter(self._free))
            for a in self._free.pop(key):
                self._bytes -= a.nbytes

    def kept_bytes(self):
        return self._bytes


#: the pool of every generated function
POOL = Scratch()
