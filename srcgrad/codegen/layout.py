"""Memory layout of generated code: tall, thin arrays are computed column by column.

Code vectorised over many rows of a few columns (points (n, 3), cameras (n, 11)) slices
columns (`cam[:, 3:6]`) and broadcasts per-row numbers (`X / theta`, theta (n, 1)). On
row-major (C-ordered) arrays numpy then runs its inner loop over the 2 or 3 elements of
a row: 4-10x slower than over a whole column (bundle adjustment's gradient spends half its
time there). A generated function whose arguments include such an array therefore takes a
column-major (Fortran-ordered) copy of it in its first lines; numpy's ufuncs keep their
operands' layout ("K" order), so every array computed from it is column-major too, and the
functions that build arrays (`np.stack`, `np.concatenate`, `np.zeros`) are written to
build column-major ones (`np.stack([...]).T`). The values are the same either way.
"""
import ast
from contextlib import contextmanager

from . import astbuild as A
from .source import COMMENT_COLUMN

#: an argument is "tall and thin": 2-d, at least this many rows ...
MIN_ROWS = 4096
#: ... and at most this many columns (a row is one object's few coordinates)
MAX_COLUMNS = 16

#: the layout of the function being generated (read by the emitters of stack & co)
_COLUMNS = [False]


def tall_and_thin(v):
    return len(v.shape) == 2 and v.shape[0] >= MIN_ROWS and 2 <= v.shape[1] <= MAX_COLUMNS \
        and v.dtype.kind == "f"


def column_major_params(nodes, params):
    """The arguments to take column-major copies of: tall, thin ones that elementwise code
    reads (directly or through a slice); an argument only multiplied (matmul, einsum)
    keeps its layout."""
    wanted = {p.id for p in params if tall_and_thin(p)}
    if not wanted:
        return []
    read = set()
    sliced = {}
    for n in nodes:
        for x in n.inputs:
            xid = getattr(x, "id", None)
            if xid is None:
                continue
            src = sliced.get(xid, xid)
            if src not in wanted:
                continue
            if n.op.name == "getitem" and len(n.inputs) == 1:
                sliced[n.out.id] = src
            elif n.op.name == "ew":
                read.add(src)
    return [p for p in params if p.id in read]


@contextmanager
def columns(active):
    """Generate code with column-major arrays (see the module's docstring) while active."""
    before = _COLUMNS[0]
    _COLUMNS[0] = active
    try:
        yield
    finally:
        _COLUMNS[0] = before


def column_major(shape):
    """Whether an array of this shape built by the code being generated is column-major."""
    return _COLUMNS[0] and len(shape) == 2


def stack_last(parts, shape):
    """`np.stack(parts, axis=-1)`, of the given result shape, in the function's layout."""
    if column_major(shape):
        return ast.Attribute(value=A.npcall("stack", parts), attr="T", ctx=ast.Load())
    return A.npcall("stack", parts, axis=A.num(-1))


def prologue(names):
    """The lines taking column-major copies of the arguments `names`."""
    return [f"    {n} = np.asfortranarray({n})".ljust(COMMENT_COLUMN) + "  # column-major: see codegen/layout.py"
            for n in names]


def _T(x):
    return ast.Attribute(value=x, attr="T", ctx=ast.Load())


def zeros(shape, dtype):
    """`np.zeros(shape, dtype)` in the function's layout (dtype: an expression)."""
    if column_major(shape):
        return A.npcall("zeros", A.literal(tuple(shape)), dtype, order=A.const("F"))
    return A.npcall("zeros", A.literal(tuple(shape)), dtype)


def concatenate(parts, axis, shape):
    """`np.concatenate(parts, axis)` in the function's layout: columns side by side are the
    transposes' rows one after another."""
    if column_major(shape) and axis % 2 == 1:
        return _T(A.npcall("concatenate", ast.Tuple(elts=[_T(p) for p in parts], ctx=ast.Load())))
    return A.npcall("concatenate", ast.Tuple(elts=list(parts), ctx=ast.Load()), axis=A.literal(axis))
