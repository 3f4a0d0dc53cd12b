"""Where in the *user's* code something happened.

Every recorded op remembers the first stack frame outside the srcgrad package, so that
generated code, IR listings and error messages can point at the user's line.
"""
import linecache
import os
import sys

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _numpy_dir():
    import numpy
    return os.path.dirname(os.path.abspath(numpy.__file__)) + os.sep


#: code that is never the user's: srcgrad's, and numpy's own Python code (np.apply_along_axis,
#: np.linalg's wrappers), which calls back into tensors on the user's behalf
_NOT_USERS = (_PKG_DIR, _numpy_dir())


def user_frame(depth=2):
    """The innermost frame whose code lives outside srcgrad and numpy (None if there is none)."""
    f = sys._getframe(depth)
    while f is not None and f.f_code.co_filename.startswith(_NOT_USERS):
        f = f.f_back
    return f


def user_loc(depth=2):
    """`((filename, lineno),)` of the user's current line, or `()`."""
    f = sys._getframe(depth)
    while f is not None and f.f_code.co_filename.startswith(_NOT_USERS):
        f = f.f_back
    return () if f is None else ((f.f_code.co_filename, f.f_lineno),)


def merge_locs(*locs):
    """Union of several location tuples, sorted and without repeats."""
    seen = []
    for loc in locs:
        for item in loc:
            if item not in seen:
                seen.append(item)
    return tuple(sorted(seen))


def format_loc_range(loc):
    """`file.py:36-38` (basename, line range per file) for a location tuple."""
    if not loc:
        return ""
    by_file = {}
    for fname, line in loc:
        by_file.setdefault(fname, []).append(line)
    parts = []
    for fname, lines in by_file.items():
        lo, hi = min(lines), max(lines)
        base = os.path.basename(fname)
        parts.append(f"{base}:{lo}" if lo == hi else f"{base}:{lo}-{hi}")
    return ", ".join(parts)


def source_line(loc):
    """The text of the user's line for a location tuple (last entry), stripped."""
    if not loc:
        return ""
    fname, line = loc[-1]
    return linecache.getline(fname, line).strip()


def describe_loc(loc):
    """`at file.py:12: z = x * w` — for error messages."""
    if not loc:
        return ""
    fname, line = loc[-1]
    text = source_line(loc)
    where = f"{fname}:{line}"
    return f"at {where}" + (f": {text}" if text else "")
