"""Plain numpy arrays a numpy-style function reads, then changes in place.

An op on a traced value and a plain numpy array (`w * x`) keeps the array itself: the
compiled code captures it, and an op-by-op backward reads it. numpy code may change the
array afterwards (`w[0] = 10`, `buf += 1`) without srcgrad seeing the write, and the
captured array would then hold its new values where the op read the old ones: a wrong
result, with no error. So while srcgrad runs such a function (`watching`), each array an
op reads is noted as it was (a copy, or a digest of a large one); when the function
returns, one whose data changed makes the run start again keeping a copy of every array
an op reads (`snapshot`), with numpy's builders making tensors (numpy/builders.py), so
that an array the function builds and fills is recorded as it goes.
"""
import hashlib

import numpy as np

#: arrays up to this many bytes are compared with a copy; larger ones by a digest
_COPY_BYTES = 1 << 16

#: the active watch (the outermost run's: a nested run reads through it)
ACTIVE = [None]


class ChangedConstant(Exception):
    """An array an op read changed before the function returned (handled by the runs
    above: the function runs again with snapshot=True)."""


class watching:
    """`with watching(snapshot) as watch:` around a run of the user's function; then
    `watch.check()` raises ChangedConstant if an array read was changed in place."""

    def __init__(self, snapshot=False):
        self.snapshot = snapshot
        self.seen = {}  # id -> (array, copy or digest)

    def __enter__(self):
        self.outer = ACTIVE[0]
        if self.outer is None:
            ACTIVE[0] = self
        return self

    def __exit__(self, *exc):
        if self.outer is None:
            ACTIVE[0] = None
        return False

    def read(self, arr):
        """The array an op keeps for `arr`, which it read now: arr itself, or (snapshot) a
        copy; noted, the first time, to check later."""
        if self.snapshot:
            return arr.copy()
        if id(arr) not in self.seen and arr.dtype != object:
            self.seen[id(arr)] = (arr, arr.copy() if arr.nbytes <= _COPY_BYTES else _digest(arr))
        return arr

    def check(self):
        if self.outer is not None:  # (the outermost run checks)
            return
        for arr, kept in self.seen.values():
            same = np.array_equal(arr, kept, equal_nan=arr.dtype.kind in "fc") if isinstance(kept, np.ndarray) \
                else _digest(arr) == kept
            if not same:
                raise ChangedConstant()


def read(arr):
    """What an op keeps of a plain array it read (see watching.read)."""
    watch = ACTIVE[0]
    return arr if watch is None else watch.read(arr)


def _digest(arr):
    return arr.shape, hashlib.blake2b(np.ascontiguousarray(arr).reshape(-1).view(np.uint8)).digest()
