"""An element read through a chain of indexes reads the element itself.

`A[i][j]`, `A[1:][0][1]`, `minor = A[1:, cols]; minor[0, 0]`: each index makes an
intermediate array (a view, or a copy for a list of columns), and the backward of each
one scatters into zeros of its whole shape — for a determinant by minors, one small
array per minor in each direction, alive together until the call returns. When the
last index of the chain picks one element with integers, and every index before it is
known while compiling (integers, slices, index arrays the trace made itself from Python
lists), that element is one fixed place of the chain's first array: the read becomes
`A[2, 1]`, its backward `grad_A[2, 1] += g`, and the intermediates die unless something
else reads them.

The place is found by numpy itself, so its indexing rules (slices, negative integers,
`None`, `...`, broadcast index arrays) need no second implementation here: the chain's
indexes are applied to the first array's coordinates, one array per axis, each a
broadcast view of a range (no memory of the first array's size: a view stays a view, and
an index array gathers only what it selects).
"""
import numpy as np

from .graph import Value


def compose_element_reads(graph, constants):
    """Rewrite, in place, each element read of graph.nodes whose input comes from a chain
    of known indexes into one read of the chain's first array (a traced function's
    recording: no intermediate there has a gradient of its own to keep). `constants`:
    (Value, array) pairs of the arrays the graph reads as constants; only read-only ones
    count as known (an array the trace made itself, not one a user may change between
    calls). Returns the number of reads rewritten."""
    known = {v.id: a for v, a in constants if isinstance(a, np.ndarray) and not a.flags.writeable}
    coordinates = {}  # value id -> (the chain's first array, per axis of it: v's coordinates)
    done = 0
    for n in graph.nodes:
        if n.op.name != "getitem" or not _is_element(n):
            continue
        found = _coordinates(n.inputs[0], known, coordinates)
        if found is None:
            continue
        base, coords = found
        index = n.attrs["index"]
        n.inputs = [base]
        n.attrs = dict(n.attrs, index=tuple(int(c[index]) for c in coords))
        done += 1
    return done


def _is_element(n):
    """Whether the node reads one element with integers, one per axis."""
    index = n.attrs["index"]
    return len(n.inputs) == 1 and len(index) == n.inputs[0].ndim \
        and all(type(i) is int for i in index)


def _coordinates(v, known, memo):
    """(the chain's first array, per axis of it the coordinates of v's elements), or None
    when v is not read from another array through known indexes."""
    from ..ops.indexing import numpy_index
    chain = []  # the indexing nodes from v up, while each is known
    while v.id not in memo:
        n = v.node
        if n is None or n.op.name != "getitem" \
                or not all(isinstance(x, Value) and x.id in known for x in n.inputs[1:]):
            memo[v.id] = None
            break
        chain.append(v)
        v = n.inputs[0]
    found = memo.get(v.id)
    if found is None and chain:
        found = (v, [np.broadcast_to(np.arange(size).reshape((size,) + (1,) * (v.ndim - 1 - d)), v.shape)
                     for d, size in enumerate(v.shape)])
    for w in reversed(chain):  # (from the first array down)
        if found is not None:
            n = w.node
            key = numpy_index(n.attrs["index"], [known[x.id] for x in n.inputs[1:]])
            found = (found[0], [c[key] for c in found[1]])
        memo[w.id] = found
    return found
