"""Generic graph passes: dead-code elimination and a stable topological order."""
import heapq

from .graph import Value


def live_nodes(nodes, outputs, available=()):
    """The nodes needed to compute `outputs`, in their original order.

    Values whose id is in `available` are taken as given (not recomputed)."""
    avail = set(available)
    needed = {v.id for v in outputs if isinstance(v, Value)}
    keep = []
    for n in reversed(nodes):
        if has_effect(n) or any(o.id in needed and o.id not in avail for o in n.outputs):
            keep.append(n)
            for x in n.inputs:
                if isinstance(x, Value):
                    needed.add(x.id)
    keep.reverse()
    return keep


def rewrite_each(graph, rewrite):
    """Replace each node n of graph.nodes by the list rewrite(n) returns (None: keep n).
    Returns how many nodes were replaced."""
    nodes, done = [], 0
    for n in graph.nodes:
        new = rewrite(n)
        if new is None:
            nodes.append(n)
        else:
            nodes.extend(new)
            done += 1
    graph.nodes = nodes
    return done


def summed_axes(n):
    """The axes of its input that a `sum` or `sum_to` node adds up (sum_to: the leading
    axes, and those the target shape has as 1)."""
    x = n.inputs[0]
    if n.op.name == "sum":
        axis = n.attrs["axis"]
        return frozenset(range(x.ndim)) if axis is None else frozenset(a % x.ndim for a in axis)
    target = tuple(n.attrs["shape"])
    lead = x.ndim - len(target)
    return frozenset(range(lead)) | {lead + d for d, s in enumerate(target) if s == 1 and x.shape[lead + d] != 1}


def through_views(v, ops=("reshape",)):
    """The value v is a view of (through nodes of `ops`), or v itself."""
    while isinstance(v, Value) and v.node is not None and v.node.op.name in ops:
        v = v.node.inputs[0]
    return v


def has_effect(n):
    """Kept even when nothing reads it: a guard, a hook, or a loop whose body has one."""
    return n.op.side_effect or n.attrs.get("side_effect", False)


def toposort(nodes, position):
    """Order `nodes` so that producers come first, ties broken by `position[node]`."""
    producer = {}
    for n in nodes:
        for o in n.outputs:
            producer[o.id] = n
    deps = {id(n): set() for n in nodes}
    users = {id(n): [] for n in nodes}
    for n in nodes:
        for x in n.inputs:
            if isinstance(x, Value) and x.id in producer:
                p = producer[x.id]
                if p is not n and id(p) not in deps[id(n)]:
                    deps[id(n)].add(id(p))
                    users[id(p)].append(n)
    tiebreak = {id(n): i for i, n in enumerate(nodes)}
    ready = [(position[id(n)], i, n) for i, n in enumerate(nodes) if not deps[id(n)]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, _, n = heapq.heappop(ready)
        order.append(n)
        for u in users[id(n)]:
            d = deps[id(u)]
            d.discard(id(n))
            if not d:
                heapq.heappush(ready, (position[id(u)], tiebreak[id(u)], u))
    if len(order) != len(nodes):
        raise RuntimeError("internal error: the graph has a cycle")
    return order


def prune_kernel_outputs(nodes, outputs):
    """`nodes` with each multi-output `ew` kernel computing only the outputs something
    reads (after DCE). A pruned kernel is a new node: the graph the nodes came from keeps
    its own (it may be differentiated or generated again), and its Values keep their
    `node` and `index` there."""
    from .graph import Node
    used = {v.id for v in outputs if isinstance(v, Value)}
    for n in nodes:
        used.update(x.id for x in n.inputs if isinstance(x, Value))
    pruned = []
    for n in nodes:
        if n.op.name != "ew" or all(o.id in used for o in n.outputs):
            pruned.append(n)
            continue
        keep = [k for k, o in enumerate(n.outputs) if o.id in used]
        m = Node(n.op, n.inputs, dict(n.attrs, exprs=tuple(n.attrs["exprs"][k] for k in keep),
                                      avals=tuple(n.attrs["avals"][k] for k in keep)), n.loc)
        m.outputs = [n.outputs[k] for k in keep]
        pruned.append(m)
    return pruned
