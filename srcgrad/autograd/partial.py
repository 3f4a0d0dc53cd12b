"""What PyTorch's engine had done when a node of a backward raised.

srcgrad checks a whole backward before running it (a freed node, a kept tensor changed in
place: saved.py), and then runs it as one compiled function. PyTorch's engine runs node by
node and raises at the first node that fails: the leaves whose gradients were complete
before then already hold them. A program that catches the error sees those gradients
(`out.backward(); out.backward()` accumulates a second time into the leaves reached
through nodes that keep no tensor), so srcgrad accumulates the same ones.

The engine's order on one device: a node runs once every gradient flowing into it has
arrived; among ready nodes, AccumulateGrad first, then the most recently recorded node
(its `sequence_nr`; srcgrad's is `fn.seq`).
"""
import heapq


def leaves_done_before(walk, root_ids, failing):
    """(leaves, nodes): canonical indices of the leaves whose AccumulateGrad PyTorch's
    engine runs before it reaches a node in `failing` (a set of node ids), and the nodes
    it reached, that one included (their retained outputs have their gradients: a
    tensor's hooks run before its node)."""
    values = walk.values
    refs_of = {id(fn): refs for fn, refs in zip(walk.fns, walk.node_refs)}

    def target(r):  # the node an edge to value r leads to: a node, a leaf's index, or None
        if type(r) is not int:
            return None
        d = values[r]
        if d[0] == "out":
            return d[1]
        if d[0] == "leaf" and d[1]._requires_grad:
            return r
        return None

    pending = {}
    for fn in walk.fns:
        for r in refs_of[id(fn)]:
            t = target(r)
            if t is not None:
                key = t if type(t) is int else id(t)
                pending[key] = pending.get(key, 0) + 1
    ready = []

    def arrive(t):
        key = t if type(t) is int else id(t)
        pending[key] -= 1
        if pending[key] == 0:
            # AccumulateGrad first; then the latest recorded node (heapq pops the smallest)
            heapq.heappush(ready, (0, key, t) if type(t) is int else (1, -t.seq, t))

    for r in root_ids:  # (the graph root sends each root its gradient)
        t = target(r)
        if t is not None:
            key = t if type(t) is int else id(t)
            pending[key] = pending.get(key, 0) + 1
            arrive(t)
    done, reached = [], []
    while ready:
        _, _, t = heapq.heappop(ready)
        if type(t) is int:
            done.append(t)
            continue
        reached.append(t)
        if id(t) in failing:
            break
        for r in refs_of[id(t)]:
            u = target(r)
            if u is not None:
                arrive(u)
    return done, reached
