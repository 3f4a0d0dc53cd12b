"""Reusing the memory of large arrays the generated function no longer reads.

For a large array, fresh memory costs more than the arithmetic done in it: the page
faults of a new 2 MB array take ~1 ms here, a whole-array addition ~0.2 ms. So an op
may compute its result into the memory of an array that has just been read for the
last time:

    Qxc = t5                       # t5 is not read again: its memory becomes Qxc's
    Qxc += t7
    grad_xc = np.matmul(t53, Lt, out=t7)   # t7 died earlier: the product is written there

Reuse is safe when three things hold, and the plan checks each:

* ownership: the array was made fresh by this very function (an arithmetic kernel, a
  matrix product, a scatter) — never an argument, a captured constant, a view, or a
  read-only broadcast;
* aliasing: a value and every value that may share memory with it (a reshape, a slice,
  a name bound to the same array, anything an op might return as a view) form one
  group, and the memory is reused only once the whole group has been read for the last
  time;
* escape: a group that is returned, read by a loop (it keeps histories), or passed to a
  hook (user code may hold on to the array) is never reused.

Where no dead array is at hand, a large value that never leaves the call is computed into
an array the function keeps from its previous call (codegen/scratch.py); such memory is
never handed to a value that leaves the call, directly or by an in-place take-over.

An op that writes into a copy of its first input (`t29 = t22.copy(); t29[:-1] += t28`:
a slice's gradient added, a value set at an index) takes a dying owned input over
instead, of any size (`t29 = t22`): the copy would cost time and, alive beside its
source, memory.

A loop's body is planned on its own, each iteration alike: what the body makes is owned,
what it carries in, saves or passes on is not taken.
"""
import ast
import math

from ..ir.graph import Value

#: arrays smaller than this (elements) are not tracked: small allocations are recycled by
#: the allocator itself, and the bookkeeping would only make the code longer
MIN_SIZE = 1 << 15

#: ops whose outputs are always new arrays (never views of their inputs)
_FRESH_OPS = {"matmul", "getitem_grad", "setitem", "accumulate", "concatenate"}

#: ops whose numpy function takes `out=`: with a dead array of the right shape and dtype
#: at hand, they write into it
OUT_FUNCTIONS = {"matmul": "matmul"}


def makes_fresh(op_name):
    """Whether the op's outputs are always new arrays, never views of its inputs."""
    return op_name in _FRESH_OPS


class BufferPlan:
    """Which arrays die where, for the nodes of one block, as the emitter walks them."""

    def __init__(self, nodes, keep, new_scratch=None, owned_inputs=()):
        """new_scratch(shape, dtype): the name of a new array kept between calls, or None
        (no pool: every large result not written into a dead array is fresh).
        owned_inputs: Values the block reads that are its own to overwrite once read (a
        loop's backward's carried cotangents: codegen/loops.py)."""
        self._parent = {}
        self.new_scratch = new_scratch
        self.scratch_backed = set()  # ids of values living in kept memory (and so do their takers)
        self.detached = detached_views(nodes, keep)  # views written as copies: their own memory
        for n in nodes:
            if id(n) not in self.detached:
                self._alias(n)
        self.last = {}      # group -> index of the last node reading it
        self.pinned = set()  # groups never reused
        for i, n in enumerate(nodes):
            pin = n.op.block is not None or n.op.name == "hook"
            for x in n.inputs:
                if isinstance(x, Value):
                    g = self.group(x.id)
                    self.last[g] = i
                    if pin:
                        self.pinned.add(g)
        self.kept = {self.group(v) for v in keep}
        self.pinned.update(self.kept)
        self.owned = {}     # value id -> (shape, dtype, name) of a large array this block made fresh
        for v, name in owned_inputs:
            self.owned[v.id] = (tuple(v.shape), v.dtype, name)
        self.free = []      # (shape, dtype, name, kept) of owned arrays no longer read
        self.taken = set()  # names of arrays whose memory a later value took over

    # -- aliasing ------------------------------------------------------------------------
    def group(self, vid):
        p = self._parent
        root = vid
        while p.get(root, root) != root:
            root = p[root]
        while p.get(vid, vid) != root:
            p[vid], vid = root, p[vid]
        return root

    def _union(self, a, b):
        ra, rb = self.group(a), self.group(b)
        if ra != rb:
            self._parent[ra] = rb

    def _alias(self, n):
        if n.op.name == "ew":
            # an output that is one of the inputs, or the same formula as another output,
            # is written as that name (codegen/emit.py): the same array
            seen = {}
            for k, (o, e, aval) in enumerate(zip(n.outputs, n.attrs["exprs"], n.attrs["avals"])):
                if e.is_Symbol:
                    self._union(o.id, n.inputs[int(str(e)[1:])].id)
                key = (e, tuple(aval[0]))
                if key in seen:
                    self._union(o.id, seen[key])
                seen.setdefault(key, o.id)
        elif n.op.name == "loop_grad":
            # a carried cotangent's last value may be the array it came in as (written in
            # place: codegen/loops.py); the other outputs are sums the loop makes, or one
            # of the cotangents
            a = n.attrs
            n_carry, cts = a["n_carry"], [x for x in n.inputs[:a["n_out"]] if isinstance(x, Value)]
            for k, o in zip(a["wrt"], n.outputs):
                x = n.inputs[k] if k < n_carry else None
                for c in ([x] if isinstance(x, Value) else cts if k < n_carry else ()):
                    self._union(o.id, c.id)
        elif not makes_fresh(n.op.name):
            # any other op may return (a view of) an input: its outputs and inputs are one
            # group (joined to the first input, in linear time: a loop has hundreds of each)
            ins = [x.id for x in n.inputs if isinstance(x, Value)]
            for vid in ins[1:] + [o.id for o in n.outputs] if ins else ():
                self._union(vid, ins[0])

    # -- walking the block ---------------------------------------------------------------
    def taken_over_copy(self, i, node, stmts, first_arg):
        """stmts (node i's statements) with an op's writable copy of its first input
        (`t29 = t22.copy()`) replaced by the input itself (`t29 = t22`) when that input
        dies here and is of the output's shape and dtype; and the ids taken over."""
        x = node.inputs[0] if node.inputs else None
        if not stmts or not isinstance(x, Value) or len(node.outputs) != 1 or x.id not in self.dying(i, node):
            return stmts, ()
        o = node.out
        if tuple(x.shape) != tuple(o.shape) or x.dtype != o.dtype:
            return stmts, ()
        first = stmts[0]
        copy = ast.Call(func=ast.Attribute(value=first_arg, attr="copy", ctx=ast.Load()), args=[], keywords=[])
        if not isinstance(first, ast.Assign) or ast.dump(first.value) != ast.dump(copy):
            return stmts, ()
        return [ast.Assign(targets=first.targets, value=first_arg, lineno=0)] + list(stmts[1:]), (x.id,)

    def scaled_in_place(self, i, node, stmts, args):
        """stmts (node i's statements; args: its inputs as code) with a dying input's one
        read `c * g` scaled in its own memory first (`g *= 0.2` then `t28[:-1] += g`): no
        temporary for the product."""
        from .kernels import IN_PLACE_SIZE
        dying = set(self.dying(i, node))
        names = {a.id for x, a in zip(node.inputs, args)
                 if isinstance(x, Value) and x.id in dying and isinstance(a, ast.Name) and x.dtype.kind == "f"
                 and math.prod(x.shape) >= IN_PLACE_SIZE}
        if not names:
            return stmts
        reads = {}
        for st in stmts:
            for m in ast.walk(st):
                if isinstance(m, ast.Name):
                    reads[m.id] = reads.get(m.id, 0) + 1
        out = []
        for st in stmts:
            v = getattr(st, "value", None)
            if isinstance(st, ast.AugAssign) and isinstance(v, ast.BinOp) and isinstance(v.op, ast.Mult) \
                    and isinstance(v.left, ast.Constant) and isinstance(v.right, ast.Name) \
                    and v.right.id in names and reads[v.right.id] == 1:
                g = v.right.id
                out.append(ast.AugAssign(target=ast.Name(id=g, ctx=ast.Store()), op=ast.Mult(), value=v.left))
                out.append(ast.AugAssign(target=st.target, op=st.op, value=ast.Name(id=g, ctx=ast.Load())))
            else:
                out.append(st)
        return out

    def dying(self, i, node):
        """Inputs of node i (the i-th of the block) whose memory node i may overwrite:
        owned, read for the last time here, and no other input sharing their memory."""
        groups = {}
        for x in node.inputs:
            if isinstance(x, Value):
                groups.setdefault(self.group(x.id), set()).add(x.id)
        leaves = any(self.group(o.id) in self.pinned for o in node.outputs)
        out = []
        for g, ids in groups.items():
            if len(ids) != 1 or g in self.pinned or self.last.get(g) != i:
                continue
            (vid,) = ids
            if vid in self.owned and not (leaves and vid in self.scratch_backed):
                out.append(vid)
        return out

    def dies_into(self, i, node):
        """Inputs of block op i (a loop, which reads its inputs by name: they are pinned)
        that are arrays of this block's own, read last there, no other input sharing their
        memory, and not read after the block: the loop may write into them."""
        groups = {}
        for x in node.inputs:
            if isinstance(x, Value):
                groups.setdefault(self.group(x.id), []).append(x.id)
        return [ids[0] for g, ids in groups.items()
                if len(ids) == 1 and g not in self.kept and self.last.get(g) == i and ids[0] in self.owned
                and ids[0] not in self.scratch_backed]

    def take_free(self, shape, dtype, value=None):
        """The name of a dead owned array of this shape and dtype, which the caller now
        overwrites to compute `value`; or None. Kept memory (scratch.py) only for a value
        that never leaves the call (`value` given and not pinned), and a new kept array
        when no dead one is at hand."""
        leaves = value is None or self.group(value.id) in self.pinned
        for k, (s, d, name, kept) in enumerate(self.free):
            if s == tuple(shape) and d == dtype and not (kept and leaves):
                del self.free[k]
                self.taken.add(name)
                if kept:
                    self.scratch_backed.add(value.id)
                return name
        if leaves or self.new_scratch is None or not large(value):
            return None
        self.scratch_backed.add(value.id)
        return self.new_scratch(tuple(shape), dtype)

    def after(self, i, node, fresh, used):
        """Node i was written. fresh: (output Value, name) computed into new (or reused)
        memory; used: ids of inputs whose memory node i took over."""
        took_kept = any(vid in self.scratch_backed for vid in used)
        for vid in used:
            entry = self.owned.pop(vid, None)
            if entry is not None:
                self.taken.add(entry[2])
        for x in node.inputs:
            if not isinstance(x, Value):
                continue
            g = self.group(x.id)
            if g in self.pinned or self.last.get(g) != i:
                continue
            for vid in [v for v in self.owned if self.group(v) == g]:
                entry = self.owned.pop(vid)
                if large_shape(entry[0], entry[1]):  # (small ones: the allocator recycles them)
                    self.free.append(entry + (vid in self.scratch_backed,))
        for o, name in fresh:
            if took_kept:  # (an output written over a kept input lives in kept memory)
                self.scratch_backed.add(o.id)
            if o.ndim >= 1:  # (of any size: an op's copy to write into may take it over)
                self.owned[o.id] = (tuple(o.shape), o.dtype, name)


def large(v):
    # (0-d results are numpy scalars, not arrays: there is no memory to write into)
    return large_shape(v.shape, v.dtype)


def large_shape(shape, dtype):
    return dtype.kind == "f" and len(shape) >= 1 and math.prod(shape) >= MIN_SIZE


#: a view at most this fraction of its base's size is copied when it outlives the base's
#: other reads (detached_views)
DETACH_FRACTION = 1 / 8


def detached_views(nodes, keep):
    """ids of the slicing nodes whose small result is better a copy: `t25 = t24[0:1].copy()`
    where t25 is read long after the last other read of t24, so that a numpy view of one
    number does not keep a large array alive until then (a backward body of an ODE
    solver holds four such arrays to the iteration's end). Only basic slices of an array
    made in this block, not read after it, of at least release.MIN_SIZE elements (what
    the generated code drops)."""
    from .release import MIN_SIZE as DROPPED_SIZE, VIEW_OPS
    last, made = {}, {}
    for i, n in enumerate(nodes):
        for x in n.inputs:
            if isinstance(x, Value):
                last.setdefault(x.id, []).append(i)
        for o in n.outputs:
            made[o.id] = n
    out = set()
    for i, n in enumerate(nodes):
        if n.op.name != "getitem" or len(n.outputs) != 1 or not isinstance(n.inputs[0], Value):
            continue
        o, base = n.out, n.inputs[0]
        producer = made.get(base.id)
        if o.ndim == 0 or producer is None or producer.op.name in VIEW_OPS or base.id in keep \
                or base.size < DROPPED_SIZE or o.size > base.size * DETACH_FRACTION \
                or any(x.ndim for x in n.inputs[1:] if isinstance(x, Value)):  # (an index array copies)
            continue
        others = [j for j in last.get(base.id, ()) if j != i]
        if o.id in keep or max(last.get(o.id, [i])) > max(others, default=i):
            out.add(id(n))
    return out
