"""backward(): from recorded grad_fn nodes to one compiled Python function, and back.

1. Walk the recorded nodes from the roots (in recording order, deterministic) and number every
   value. The walk also yields a structural key: ops, attrs, shapes, dtypes, wiring,
   which leaves want gradients, where hooks sit. Data is never part of the key.
2. On a cache miss, rebuild the run as an IR graph, fuse its elementwise regions,
   differentiate it (ir/autodiff.py), fuse and simplify the backward, and generate one
   Python function for it. Compiling never depends on the data, so the function is
   cached under the key: a training loop compiles once.
3. Call the function with the saved arrays it needs (checking their version counters,
   so an in-place change after recording is an error, never a stale gradient), and
   accumulate the results into `.grad`. PyTorch's own errors (a second backward through
   freed nodes, a tensor its node kept changed in place) follow what its nodes would have
   kept, which saved.py decides.
"""
import operator

import numpy as np

from .. import config
from .. import ops as _ops
from ..compiler import backward_function, differentiate
from ..ir.graph import Graph, Node, Value
from ..utils.locations import format_loc_range
from . import interpreted
from .function import LEAF, NODE, Version
from .saved import FREED_MSG, check_kept_tensors, kept_a_tensor, modified_in_place, nodes_run
from .partial import leaves_done_before

_RECORDED = operator.attrgetter("seq")

CACHE_SIZE = 256
_cache = {}


def clear_cache():
    _cache.clear()


# ---------------------------------------------------------------------------------------
# 1. the walk
# ---------------------------------------------------------------------------------------
class Walk:
    """The recorded graph reachable from some roots, numbered canonically."""

    def __init__(self, roots, stops=()):
        """stops: tensors with history to take as leaves, not walking past them (an inner
        transform's copies of its arguments: what they were computed from is the outer
        derivative's business, and walking it made each inner call cost the whole run)."""
        self.stops = {(id(t.grad_fn), t._output_nr): t for t in stops if t.grad_fn is not None}
        self.fns = []          # in recording order (inputs' nodes first)
        self.values = []       # canonical index -> ('leaf', tensor) | ('const', fn, i) | ('out', fn, k)
        self.index = {}        # identity of a leaf or constant -> canonical index
        self.outputs_at = {}   # id(fn) -> canonical index of its first output (the others follow)
        self.node_refs = []    # per fn: tuple of canonical indices (or literals) of its inputs
        self.first_use = {}    # canonical index of a leaf -> (fn, input position) that first read it
        # the nodes the roots depend on, numbered in the order they were recorded: a
        # topological order, and the program's (a loop reads as a repeated segment)
        seen, found = set(), []
        for r in roots:
            fn = r.grad_fn
            if fn is not None and id(fn) not in seen:
                seen.add(id(fn))
                found.append(fn)
        stops = self.stops
        stack = list(found)
        while stack:
            for e in stack.pop().edges:
                if type(e) is tuple and e[0] == NODE:
                    child = e[1][0]
                    if stops and (id(child), e[1][1]) in stops:
                        continue
                    if id(child) not in seen:
                        seen.add(id(child))
                        found.append(child)
                        stack.append(child)
        found.sort(key=_RECORDED)
        for fn in found:
            self._number(fn)
        for r in roots:
            if r.grad_fn is None:
                self._value(("l", id(r)), ("leaf", r))

    def _value(self, ident, desc):
        i = self.index.get(ident)
        if i is None:
            i = self.index[ident] = len(self.values)
            self.values.append(desc)
        return i

    def _number(self, fn):
        refs = []
        outputs_at = self.outputs_at
        for i, e in enumerate(fn.edges):
            if type(e) is not tuple:
                refs.append(("lit", e))
                continue
            kind, ref = e
            if kind == NODE:
                stop = self.stops.get((id(ref[0]), ref[1])) if self.stops else None
                if stop is not None:  # (a leaf here: what it was computed from is not walked)
                    v = self._value(("l", id(stop)), ("leaf", stop))
                    self.first_use.setdefault(v, (fn, i))
                    refs.append(v)
                    continue
                refs.append(outputs_at[id(ref[0])] + ref[1])
            elif kind == LEAF:
                v = self._value(("l", id(ref)), ("leaf", ref))
                self.first_use.setdefault(v, (fn, i))
                refs.append(v)
            else:
                refs.append(self._value(("c", fn.input_info(i)[2]), ("const", fn, i)))
        self.node_refs.append(tuple(refs))
        self.fns.append(fn)
        values = self.values
        outputs_at[id(fn)] = len(values)  # (a node is numbered once: its outputs are new)
        for k in range(len(fn.outs)):
            values.append(("out", fn, k))

    def output_index(self, fn, k):
        """Canonical index of output k of a recorded node (KeyError if not in the graph)."""
        return self.outputs_at[id(fn)] + k

    def value_of(self, t, consts=True, naming=False):
        """Canonical index of a tensor's value (None if it is not in this graph).

        consts: a tensor without history may be a constant of the graph, found by its data;
        not for one to differentiate in (`v = x.detach()` shares x's data, and v's uses are
        no use of x). naming: only to name a value after a variable, which must not take a
        stale view again (nor raise, for one of split's views: Tensor._sync_view)."""
        fn = t._grad_fn if naming else t.grad_fn
        if fn is not None and not (self.stops and (id(fn), t._output_nr) in self.stops):
            at = self.outputs_at.get(id(fn))
            return None if at is None else at + t._output_nr
        i = self.index.get(("l", id(t)))
        return self.index.get(("c", (id(t._data), t._vc.v))) if i is None and consts else i

    def aval(self, i):
        d = self.values[i]
        if d[0] == "leaf":
            return d[1]._data.shape, d[1]._data.dtype
        if d[0] == "const":
            _, fn, j = d
            return fn.input_info(j)[:2]
        _, fn, k = d
        a = fn.outs[k][0]
        return a.shape, a.dtype

    @property
    def rewritten(self):
        """{canonical index: version} of the values written in place, through an alias
        autograd does not see (`y.detach().mul_(2)`, `y.data`), between being made and being
        read, each read at that one version: the backward reads them as they were read (a
        boundary of fusion, not recomputed from its inputs' formula), as PyTorch's saved
        tensors hold them."""
        return self._written_reads()[0]

    @property
    def read_stale(self):
        """Canonical indices of the outputs of nodes that read a value since written in
        place, where its data as read is gone (`y = c - x; c.exp_()`, `v.detach().mul_(2)`,
        `v.data.zero_()`): a boundary of fusion, so that the backward reads them as computed
        rather than formed again from the new data (PyTorch's saved `y`)."""
        return self._written_reads()[1]

    def _written_reads(self):
        """(rewritten, read_stale), from one pass over what each node read."""
        found = getattr(self, "_written", None)
        if found is None:
            seen, stale = {}, set()
            for fn, refs in zip(self.fns, self.node_refs):
                if fn.saved is None:
                    continue
                made_by_fn = range(self.outputs_at[id(fn)], self.outputs_at[id(fn)] + len(fn.outs))
                for j, r in enumerate(refs):
                    if type(r) is not int or fn.saved[j] is None:
                        continue
                    _, counter, read = fn.saved[j]
                    kind = self.values[r][0]
                    if counter.data_written > fn.seq:  # (written through `.data` since read)
                        stale.update(made_by_fn)
                    if kind == "out":
                        _, producer, k = self.values[r]
                        _, made_counter, made = producer.outs[k]
                        kept = producer.overwritten and k in producer.overwritten
                        if counter is made_counter and not any(o[1] is counter for o in fn.outs):
                            # (not the write itself)
                            if read != made:
                                seen.setdefault(r, set()).add(read)
                            if counter.v != read and not kept:
                                # written since, and its data as read is gone: what fn made is
                                # read as made, never formed again from it
                                stale.update(made_by_fn)
                        elif counter is made_counter and not kept:
                            # the write itself (`a += y`), whose old value is gone: its result
                            # is read as made, not formed again from the old value
                            stale.update(made_by_fn)
                    elif kind in ("const", "leaf") and counter.v != read:
                        # (a leaf written through an alias, `x.detach().mul_(2)`: what fn
                        # made from it is read as made; the leaf itself, where a gradient
                        # needs it, is PyTorch's error)
                        stale.update(made_by_fn)
            found = self._written = ({r: vs.pop() for r, vs in seen.items() if len(vs) == 1}, stale)
        return found

    def array(self, i):
        """(array, version counter, recorded version) of value i; raises if freed."""
        d = self.values[i]
        if d[0] == "leaf":
            t = d[1]
            use = self.first_use.get(i)
            if use is None:  # the root itself
                return t._data, t._vc, t._vc.v
            fn, j = use  # the leaf's array as its first consumer saw it
            if fn.saved is None:
                raise RuntimeError(FREED_MSG)
            return fn.saved[j]
        if d[0] == "const":
            _, fn, j = d
            if fn.saved is None:
                raise RuntimeError(FREED_MSG)
            return fn.saved[j]
        _, fn, k = d
        if fn.saved is None:
            raise RuntimeError(FREED_MSG)
        entry = fn.outs[k]
        if entry[1].v != entry[2] and fn.overwritten is not None and k in fn.overwritten:
            return fn.overwritten[k], Version(), 0  # (its data as computed, kept before a write)
        if i in self.rewritten:  # (as its readers read it)
            return entry[0], entry[1], self.rewritten[i]
        return entry


def _hooks_of(walk, i):
    d = walk.values[i]
    if d[0] == "leaf":
        return d[1]._hooks
    if d[0] == "out":
        _, fn, k = d
        return fn.pre_hooks.get(k) if fn.pre_hooks else None
    return None


def structural_key(walk, root_ids, wrt_ids, observe_ids, hooked):
    parts = []
    for i, d in enumerate(walk.values):
        if d[0] != "out":
            shape, dtype = walk.aval(i)
            parts.append((d[0], shape, dtype.str))
    for fn, refs in zip(walk.fns, walk.node_refs):
        parts.append((fn.key(), refs))
    return (tuple(parts), tuple(root_ids), tuple(wrt_ids), tuple(observe_ids), tuple(hooked), config.key(),
            tuple(sorted(walk.rewritten)), tuple(sorted(walk.read_stale)))


# ---------------------------------------------------------------------------------------
# 2. compiling
# ---------------------------------------------------------------------------------------
class Compiled:
    """A compiled backward: the function, its source and graphs, and how to call it."""

    def __init__(self, fn, source, forward, graph, params, n_wrt):
        self.fn = fn
        self.source = source
        self.forward = forward    # the recorded run as IR (before fusion)
        self.graph = graph        # the backward as IR (fused), as the function computes it
        self.params = params      # per argument: ("ct", root position) or ("v", canonical index)
        self.n_wrt = n_wrt


def record_graph(walk, names=None):
    """The recorded run as an IR graph, in program order (the walk's); returns (graph,
    canonical index -> Value)."""
    g = Graph("forward")
    vals = {}
    names = names or {}
    pairs = zip(walk.fns, walk.node_refs)
    checked = set()
    outputs_at, nodes = walk.outputs_at, g.nodes
    for fn, refs in pairs:
        ins = []
        for r in refs:
            if isinstance(r, tuple):      # ("lit", python scalar)
                ins.append(r[1])
            elif r in vals:
                ins.append(vals[r])
            else:                         # a leaf or constant, first seen here
                shape, dtype = walk.aval(r)
                v = vals[r] = g.add_input(shape, dtype, names.get(r))
                ins.append(v)
        # the op's shape rule is checked against numpy once per op and line; a loop
        # repeating them takes the types numpy gave as they are
        kind = (fn.op.name, fn.loc)
        at = outputs_at[id(fn)]
        if kind in checked:
            node = Node(fn.op, ins, fn.attrs, fn.loc)
            node.outputs = outputs = []
            for k, (a, _, _) in enumerate(fn.outs):
                o = vals[at + k] = Value.typed_as(g, a, node, k, names.get(at + k))
                outputs.append(o)
            nodes.append(node)
            continue
        checked.add(kind)
        outs = g.emit(fn.op, ins, loc=fn.loc, **fn.attrs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        for k, o in enumerate(outs):
            i = at + k
            shape, dtype = walk.aval(i)
            if o.shape != tuple(shape) or o.dtype != dtype:
                raise RuntimeError(
                    f"internal error: the shape rule of {fn.op.name!r} gives {tuple(o.shape)} {o.dtype}, "
                    f"numpy gave {tuple(shape)} {dtype} ({format_loc_range(fn.loc)})")
            o.name = names.get(i)
            vals[i] = o
    for i, d in enumerate(walk.values):  # a root that is a bare leaf
        if i not in vals:
            shape, dtype = walk.aval(i)
            vals[i] = g.add_input(shape, dtype, names.get(i))
    return g, vals


def compile_backward(walk, roots, wrt, observe, hooked, names, label, loops=False):
    """loops: re-roll the run's repeated segments (ir/reroll.py), so that a Python loop's
    backward is generated once, as a reverse `for` over the arrays each iteration saved."""
    from ..ir.reroll import Recorded, reroll
    forward, vals = record_graph(walk, names)
    forward.outputs = [vals[i] for i in roots]
    recorded = Recorded()
    if loops:  # (arrays computed without a gradient, `xs[t]`, may change per iteration)
        consts = {vals[i].id for i, d in enumerate(walk.values) if d[0] == "const"}
        reroll(forward, nested=False, recorded=recorded, varying=consts)
    forward_text = str(forward)
    g = forward
    cts = [g.add_input(v.shape, v.dtype, "grad_" + (v.name or "out")) for v in forward.outputs]
    # A hooked or retained value must stay a value of its own: fused into a kernel, its
    # gradient would never be formed (retain_grad) or would bypass its hook.
    n_fwd, wrt_grads, obs_grads = differentiate(
        g, list(forward.outputs), cts, [vals[i] for i in wrt], [vals[i] for i in observe],
        hooks={vals[i].id: slot for slot, i in enumerate(hooked)},
        boundaries={vals[i].id for i in list(hooked) + list(observe) + list(walk.rewritten) + list(walk.read_stale)})
    index_of = {v.id: i for i, v in vals.items()}
    candidates = [vals[i] for i in sorted(vals)]
    histories = {}  # a loop's saved history -> where each iteration's array was recorded
    for n in g.nodes[:n_fwd]:
        if n.op.name == "loop":
            candidates += n.outputs
            n_out = len(n.attrs["body"].outputs)
            for o in n.outputs[:n_out]:
                index_of[o.id] = index_of[recorded.last[o.id].id]
            for h, v in zip(n.outputs[n_out:], n.attrs["saves"]):
                histories[h.id] = (tuple(index_of[x.id] if hasattr(x, "id") else ("lit", x)
                                         for x in recorded.each[v.id]), v.shape, v.dtype)
    header = [f"backward of {label}, compiled by srcgrad from {len(walk.fns)} recorded ops"]
    fn, source, bwd, params = backward_function(
        g, n_fwd, cts, list(wrt_grads) + list(obs_grads), candidates, header,
        extra_params=("hooks",) if hooked else ())
    spec = [("ct", k) for k in range(len(cts))] + [
        ("h", histories[v.id]) if v.id in histories else ("v", index_of[v.id]) for v in params[len(cts):]]
    return Compiled(fn, source, forward_text, bwd, spec, len(wrt))


# ---------------------------------------------------------------------------------------
# 3. running
# ---------------------------------------------------------------------------------------
def _user_names(walk):
    """Names of the user's variables (locals first, then globals) for values of the walk."""
    from ..tensor import Tensor
    from ..utils.locations import user_frame
    f = user_frame(1)
    names = {}
    if f is None:
        return names
    for scope in (f.f_locals, f.f_globals):
        for name, obj in list(scope.items()):
            if isinstance(obj, Tensor) and not name.startswith("_"):
                i = walk.value_of(obj, naming=True)
                if i is not None and i not in names and name not in names.values():
                    names[i] = name
    return names


def _root_error(t, k):
    if t._volatile:
        return RuntimeError(
            f"element {k} of the tensors to differentiate was computed from a volatile input "
            f"(Variable(..., volatile=True)), so no graph was recorded for it, as under no_grad(). "
            f"Drop volatile=True on the inputs you need gradients through.")
    return RuntimeError(f"element {k} of tensors does not require grad and does not have a grad_fn")


def _root_grad(t, g, k):
    from ..tensor import Tensor
    if g is None:
        if t._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if t._data.dtype.kind == "c":
            raise RuntimeError("grad can be implicitly created only for real scalar outputs")
        return np.ones(t._data.shape, t._data.dtype)
    arr = g._data if isinstance(g, Tensor) else np.asarray(g)
    if arr.shape != t._data.shape:
        try:
            if np.broadcast_shapes(arr.shape, t._data.shape) != arr.shape:
                raise ValueError
            arr = _ops.get("sum_to").impl(arr, t._data.shape)
        except ValueError:
            raise RuntimeError(f"Mismatch in shape: grad_output[{k}] has a shape of {tuple(arr.shape)} and "
                               f"output[{k}] has a shape of {tuple(t._data.shape)}.") from None
    if arr.dtype != t._data.dtype:
        arr = arr.astype(t._data.dtype)
    return arr


def _check_version(walk, i, entry):
    arr, counter, version = entry
    if counter.v != version:
        d = walk.values[i]
        what = "a leaf" if d[0] == "leaf" else (
            f"output {d[2]} of {type(d[1]).__name__}" if d[0] == "out" else f"an input of {type(d[1]).__name__}")
        raise modified_in_place(arr, what, d[1].loc if d[0] != "leaf" else (), counter.v, version)
    return arr


def _hook_caller(hooks, dtype):
    from ..tensor import Tensor

    def call(arr):
        t = Tensor._make(arr)
        for h in list(hooks.values()):
            r = h(t)
            if r is not None:
                t = r if isinstance(r, Tensor) else Tensor._make(np.asarray(r))
        out = t._data
        return out if out.dtype == dtype else out.astype(dtype)
    return call


def compiled_backward(walk, root_ids, wrt, observe=(), hooked=(), create_graph=False, may_interpret=False):
    """The compiled backward for this structure: from the cache, or compiled now.
    may_interpret: a structure new op by op may instead run interpreted (its fn returns
    None where the compiled one must decide: autograd/interpreted.py)."""
    # loops are re-rolled unless the backward is run op by op (create_graph) or has to
    # reach single values of the run (hooks, retain_grad)
    loops = config.reroll and not create_graph and not observe and not hooked
    key = structural_key(walk, root_ids, wrt, observe, hooked) + (loops,)
    compiled = _cache.get(key)
    if compiled is None and may_interpret and not observe and not hooked and not create_graph \
            and interpreted.wanted(key):
        found = interpreted.interpreted_backward(walk, root_ids, wrt)  # (a structure new op by op)
        if found is not None:
            found.key = key
            return found
    if compiled is None:
        names = _user_names(walk)
        label = ", ".join(f"`{names[i]}`" if i in names else "the output" for i in root_ids)
        from ..trace import gc_paused
        with gc_paused():
            compiled = compile_backward(walk, root_ids, wrt, observe, hooked, names, label, loops)
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = compiled
    return compiled


def run_backward(roots, grad_roots, retain_graph=None, create_graph=False, inputs=None,
                 allow_unused=False, accumulate=True, stop_at_inputs=False):
    """The engine behind Tensor.backward, autograd.backward and autograd.grad.
    stop_at_inputs: the inputs (none computed from another) are walked as leaves."""
    from ..trace import gc_paused
    # (walking, keying and freeing a long recording allocates many small objects and no
    # garbage cycles: the cyclic collector would rescan the whole recording meanwhile)
    with gc_paused():
        return _run_backward(roots, grad_roots, retain_graph, create_graph, inputs, allow_unused, accumulate,
                             stop_at_inputs)


def _run_backward(roots, grad_roots, retain_graph, create_graph, inputs, allow_unused, accumulate,
                  stop_at_inputs=False):
    from ..tensor import Tensor
    if retain_graph is None:
        retain_graph = create_graph
    for k, t in enumerate(roots):
        if not isinstance(t, Tensor):
            raise TypeError(f"can only differentiate tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise _root_error(t, k)
    if len(grad_roots) != len(roots):
        raise RuntimeError(f"got {len(grad_roots)} gradients for {len(roots)} tensors")
    stops = ()
    if stop_at_inputs and inputs is not None and not any(any(t is r for r in roots) for t in inputs) and \
            not any(t.grad_fn is not None and t.grad_fn.pre_hooks for t in inputs):
        stops = inputs
    walk = Walk(roots, stops)
    root_ids = [walk.value_of(t) for t in roots]
    if inputs is not None:
        wrt = [walk.value_of(t, consts=False) if isinstance(t, Tensor) else None for t in inputs]
        for k, (t, i) in enumerate(zip(inputs, wrt)):
            if not isinstance(t, Tensor) or not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            if i is None and not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {k} appears to not have been used "
                                   f"in the graph. Set allow_unused=True if this is the desired behavior.")
    else:
        wrt = [i for i, d in enumerate(walk.values) if d[0] == "leaf"]
    used_wrt = [i for i in wrt if i is not None]
    ran = nodes_run(walk, used_wrt) if inputs is not None else walk.fns
    try:
        _check_kept(ran)
    except RuntimeError:  # (what PyTorch's engine had done by then)
        if not _partial[0]:
            _partial[0] = True
            try:
                _accumulate_before_failing(walk, root_ids, roots, grad_roots, ran, retain_graph, create_graph,
                                           leaves=accumulate and inputs is None)
            except RuntimeError:
                pass  # (the error to report is the first one)
            finally:
                _partial[0] = False
        raise
    observe = []  # retain_grad() values the backward reaches (autograd.grad's too, as PyTorch's)
    for fn in (walk.fns if inputs is None else ran):
        if fn.retains:
            for k, ref in sorted(fn.retains.items()):
                if ref() is not None:
                    observe.append(walk.output_index(fn, k))
    hooked = [i for i in range(len(walk.values)) if _hooks_of(walk, i)]
    compiled = compiled_backward(walk, root_ids, used_wrt, observe, hooked, create_graph, may_interpret=True)
    _last[0] = compiled

    ct_arrays = [_root_grad(t, g, k) for k, (t, g) in enumerate(zip(roots, grad_roots))]
    hook_fns = [_hook_caller(_hooks_of(walk, i), walk.aval(i)[1]) for i in hooked]
    if create_graph:
        outs = _interpret(compiled, walk, roots, grad_roots, ct_arrays, hooked)
        if not any(isinstance(g, Tensor) and g._requires_grad for g in grad_roots):
            outs[:compiled.n_wrt] = _connected(walk, used_wrt, outs[:compiled.n_wrt])
    else:
        args = _arguments(compiled, walk, ct_arrays)
        arg_ids = {id(a) for arg, (kind, _) in zip(args, compiled.params) if kind == "h" for a in arg}
        if hooked:
            args.append(tuple(hook_fns))
        with np.errstate(all="ignore"):
            outs = compiled.fn(*args)
        if outs is None:  # (interpreted, it met an infinite value: compiled semantics decide)
            compiled = _compiled_instead(compiled, walk, root_ids, used_wrt)
            args = _arguments(compiled, walk, ct_arrays)
            arg_ids = {id(a) for arg, (kind, _) in zip(args, compiled.params) if kind == "h" for a in arg}
            with np.errstate(all="ignore"):
                outs = compiled.fn(*args)
        arg_ids.update(id(a) for a in args)
        # (each gradient its own array: one array returned for two leaves, as `a + b` gives,
        # would make a later in-place accumulation into one change the other)
        owned = []
        for o, v in zip(outs, compiled.graph.outputs):
            if o is not None and (np.shape(o) != v.shape or np.asarray(o).dtype != v.dtype):
                o = np.broadcast_to(np.asarray(o, v.dtype), v.shape)  # (a gradient written as the number 0)
            owned.append(None if o is None else Tensor._make(_owned(o, arg_ids)))
            if o is not None:
                arg_ids.add(id(owned[-1]._data))
        outs = owned
    if not retain_graph:  # (a node PyTorch keeps nothing for stays usable, as there)
        for fn in ran:
            if kept_a_tensor(fn):
                fn.free()

    wrt_out = dict(zip(used_wrt, outs[:compiled.n_wrt]))
    for i, g in wrt_out.items():
        if g is None:  # reachable, but every path has a zero derivative (sign, floor...): zeros, as PyTorch
            shape, dtype = walk.aval(i)
            wrt_out[i] = Tensor._make(np.zeros(shape, dtype))
    for i, g in zip(observe, outs[compiled.n_wrt:]):
        _, fn, k = walk.values[i]
        t = fn.retains[k]()
        if t is not None:
            _accumulate_into(t, g if g is not None else Tensor._make(np.zeros(t.shape, t.dtype)), create_graph,
                             retained=True)
    if not accumulate:
        return [wrt_out.get(i) if i is not None else None for i in wrt]
    # (backward(inputs=[h]) may name an intermediate h: its .grad is filled, as PyTorch's)
    tensors = {i: t for i, t in zip(wrt, inputs)} if inputs is not None else {}
    for i in used_wrt:
        g = wrt_out[i]
        if g is not None:
            _accumulate_into(tensors[i] if i in tensors else walk.values[i][1], g, create_graph)
    return None


def prepared_backward(root, inputs):
    """The gradients of `inputs` (arrays, None where unused) for a cotangent of `root`, as
    a function of the cotangent: the recording walked and its backward compiled once, for
    many cotangents through one recording (a Jacobian's rows, vjp_fn called again), where
    autograd.grad walks and keys the recording at every call. Arrays recorded are checked
    for in-place changes at each call. None if hooks or retained gradients need the
    general path."""
    from ..trace import gc_paused
    with gc_paused():
        walk = Walk([root])
        wrt = [walk.value_of(t, consts=False) for t in inputs]
        used = [i for i in wrt if i is not None]
        ran = nodes_run(walk, used)
        _check_kept(ran)
        if any(fn.retains for fn in ran) or any(_hooks_of(walk, i) for i in range(len(walk.values))):
            return None
        root_ids = [walk.value_of(root)]
        with interpreted.interpreting():  # (a structure new to it runs interpreted at first)
            compiled = compiled_backward(walk, root_ids, used, may_interpret=True)
    _last[0] = compiled
    position = {i: k for k, i in enumerate(used)}
    avals = [walk.aval(i) for i in used]
    runs = 0

    def run(ct):
        nonlocal compiled, runs
        if isinstance(compiled, interpreted.Interpreted) and runs >= interpreted.COMPILE_AFTER:
            compiled = _last[0] = compiled_backward(walk, root_ids, used)  # (many cotangents: compiled)
        runs += 1
        with np.errstate(all="ignore"):
            outs = compiled.fn(*_arguments(compiled, walk, [ct]))
        if outs is None:  # (interpreted, it met an infinite value: compiled semantics decide)
            compiled = _compiled_instead(compiled, walk, root_ids, used)
            with np.errstate(all="ignore"):
                outs = compiled.fn(*_arguments(compiled, walk, [ct]))
        grads = []
        for (shape, dtype), o in zip(avals, outs[:compiled.n_wrt]):
            o = np.zeros(shape, dtype) if o is None else np.asarray(o, dtype)
            grads.append(np.array(np.broadcast_to(o, shape)))  # (an array of its own)
        return [None if i is None else grads[position[i]] for i in wrt]
    return run


def _compiled_instead(interpreted_run, walk, root_ids, wrt):
    """The compiled backward of a structure whose interpreted run met an infinite or NaN
    value (fused formulas decide there); it is compiled from now on."""
    interpreted.refuse(interpreted_run.key)
    compiled = _last[0] = compiled_backward(walk, root_ids, wrt)
    return compiled


def _check_kept(ran):
    """The nodes a backward runs still hold what they saved, unchanged since."""
    if any(fn.saved is None for fn in ran):
        raise RuntimeError(FREED_MSG)
    for fn in ran:
        check_kept_tensors(fn)


_partial = [False]  # (inside _accumulate_before_failing: no second emulation)


def _accumulate_before_failing(walk, root_ids, roots, grad_roots, ran, retain_graph, create_graph, leaves):
    """The gradients PyTorch's engine completes before it reaches a node that raises
    (partial.py): of the leaves (a backward's), and of the tensors that retain theirs."""
    failing = set()
    for fn in ran:
        try:
            if fn.saved is None:
                raise RuntimeError(FREED_MSG)
            check_kept_tensors(fn)
        except RuntimeError:
            failing.add(id(fn))
    done, reached = leaves_done_before(walk, root_ids, failing)
    targets = [walk.values[i][1] for i in done] if leaves else []
    for fn in reached:
        for k, ref in sorted((fn.retains or {}).items()):
            if ref() is not None:
                targets.append(ref())
    if targets:
        _run_backward(roots, grad_roots, retain_graph, create_graph, targets, allow_unused=True, accumulate=True)


def _arguments(compiled, walk, cts):
    """The compiled backward's arguments: cotangents, the recorded arrays it reads (checked
    for writes since), and re-rolled loops' histories."""
    return [cts[i] if kind == "ct" else _check_version(walk, i, walk.array(i)) if kind == "v"
            else _history(walk, *i) for kind, i in compiled.params]


def _history(walk, entries, shape, dtype):
    """A re-rolled loop's saved history: each iteration's recorded array (a carried
    value that started at a number starts at that number)."""
    return [_check_version(walk, e, walk.array(e)) if type(e) is int else np.full(shape, e[1], dtype)
            for e in entries]


_last = [None]


def last_compiled():
    """The Compiled object used by the most recent backward (for srcgrad.inspect)."""
    return _last[0]


def _owned(arr, arg_ids):
    """A gradient the user may keep and modify: an array of its own, never a view of, or
    alias to, an input or another gradient (a number, for a gradient that is 0, becomes an
    array)."""
    if not isinstance(arr, np.ndarray) or id(arr) in arg_ids or arr.base is not None or \
            not arr.flags.writeable:
        return np.array(arr, copy=True)
    return arr


def _accumulate_into(t, g, create_graph=False, retained=False):
    """t.grad += g, as PyTorch's AccumulateGrad (a leaf's) and retain_grad's hook do it. Under
    create_graph the first gradient is a copy of g (CopyBackwards, a retained one's
    CloneBackward0) and a later one the recorded sum; without, a retained gradient is the
    plain sum, and a leaf's is added into in place (one with history keeps it)."""
    from . import recording as _recording
    from .mode import no_grad
    if t.grad is None:
        if create_graph and g._requires_grad:
            g = g.clone()
            if not retained:
                _recording.named(g, "CopyBackwards")
        t.grad = g
    elif create_graph and (g._requires_grad or t.grad._requires_grad):
        t.grad = t.grad + g
    elif retained:
        with no_grad():
            t.grad = t.grad + g
    elif t.grad._requires_grad:
        with no_grad():
            t.grad.add_(g)
    else:
        np.add(t.grad._data, g._data, out=t.grad._data, casting="unsafe")
        t.grad._vc.bump()


def _interpret(compiled, walk, roots, grad_roots, ct_arrays, hooked):
    """create_graph=True: run the backward graph op by op on tensors, so that it is
    recorded too and can be differentiated again."""
    from ..tensor import Tensor
    from .recording import apply
    env = {}
    bwd = compiled.graph
    for v, (kind, i) in zip(bwd.inputs, compiled.params):
        if kind == "ct":
            g = grad_roots[i]
            if isinstance(g, Tensor) and g.dtype != v.dtype:  # (differentiably, in the output's dtype)
                g = g._cast_const(v.dtype)
            env[v.id] = g if isinstance(g, Tensor) else Tensor._make(ct_arrays[i])
        else:
            env[v.id] = _as_tensor(walk, i)
    hook_calls = {slot: _hooks_of(walk, i) for slot, i in enumerate(hooked)}
    for n in bwd.nodes:
        ins = [env[x.id] if hasattr(x, "id") else x for x in n.inputs]
        if n.op.name == "hook":
            t = ins[0]
            for h in list(hook_calls[n.attrs["slot"]].values()):
                r = h(t)
                if r is not None:
                    t = r
            outs = (t,)
        else:
            if n.op.name == "ew":  # an input only compared (a mask) is a constant there
                ins = [x.detach() if isinstance(x, Tensor) and k in _compared_only(compiled, n) else x
                       for k, x in enumerate(ins)]
            outs = apply(n.op, ins, n.attrs)
            outs = outs if isinstance(outs, tuple) else (outs,)
        for o, t in zip(n.outputs, outs):
            env[o.id] = t
    return [None if v is None else env[v.id] for v in bwd.outputs]


def _compared_only(compiled, n):
    """Inputs of a backward kernel its formulas read only in comparisons (`where(a0 < a1,
    ...)` reading a1): no derivative flows to them, so under create_graph they enter as
    constants, and a tensor read only there stays out of the new graph (its .grad None), as
    in PyTorch's backward, whose masks are not differentiated. Per node, computed once."""
    cache = compiled.__dict__.setdefault("_compared_only", {})
    found = cache.get(id(n))
    if found is None:
        exprs = n.attrs["exprs"]
        found = set()
        for k, x in enumerate(n.inputs):
            name = f"a{k}"
            if hasattr(x, "id") and any(s.name == name for e in exprs for s in e.free_symbols) and \
                    not any(_read_outside_comparisons(e, name) for e in exprs):
                found.add(k)
        cache[id(n)] = found
    return found


def _read_outside_comparisons(e, name):
    """Whether symbol `name` occurs in formula e other than inside a comparison (a sign() or
    floor() of it still counts: PyTorch's graph goes through those, with zero gradients)."""
    import sympy as sp
    if isinstance(e, sp.core.relational.Relational):
        return False
    if isinstance(e, sp.Symbol):
        return e.name == name
    return any(_read_outside_comparisons(a, name) for a in e.args)


#: ops whose backward reads no value that requires grad (a sum, a view, a selection by a
#: comparison): a gradient reaching an input only through them is a constant
_LINEAR = {"accumulate", "add", "amax", "amin", "broadcast_to", "cast", "clip", "concatenate", "constant",
           "copy", "cumsum", "deg2rad", "rad2deg", "einsum_embed", "getitem", "getitem_grad", "mean",
           "neg", "reshape", "roll", "setitem", "shift", "sub", "sum", "sum_to", "transpose", "where",
           "nan_to_num", "sign", "fmax", "fmin", "maximum", "minimum",
           "floor", "ceil", "rint", "trunc", "round", "floor_divide"}
#: steps whose PyTorch backward is zeros_like(grad): nothing below them reads a value
_ZERO_DERIVATIVE = {"floor", "ceil", "rint", "trunc", "round", "floor_divide", "sign"}
#: products: the gradient of one factor reads the others
_PRODUCTS = {"mul", "matmul", "einsum", "cross"}


def _reads_values(walk):
    """Per recorded value: whether the backward of some path from the roots to it reads a
    value that requires grad (PyTorch's backward formulas then record, so that under
    create_graph the gradient is a function of the inputs, even where srcgrad's simplified
    formula is a constant: `log(x) - log(x)`, or relu's mask)."""
    def requires(r):
        if type(r) is not int:
            return False
        d = walk.values[r]
        return d[1]._requires_grad if d[0] == "leaf" else d[0] == "out"
    flags = [False] * len(walk.values)
    for fn, refs in zip(reversed(walk.fns), reversed(walk.node_refs)):
        at = walk.outputs_at[id(fn)]
        below = any(flags[at:at + len(fn.outs)])
        name = fn.op.name
        if name in _ZERO_DERIVATIVE:  # (PyTorch's backward is zeros: it cuts the graph)
            continue
        for k, r in enumerate(refs):
            if type(r) is not int or flags[r]:
                continue
            if below:
                flags[r] = True
            elif name == "ew":  # a fused kernel (a backward's, recorded): its formula says
                flags[r] = _kernel_reads_values(fn.attrs["exprs"], k, [requires(o) for o in refs])
            elif (name not in _LINEAR or fn.as_pytorch == "reads its inputs") and (
                    (name not in _PRODUCTS and name != "div")
                    or any(requires(o) for j, o in enumerate(refs) if j != k)
                    or (name == "div" and k == 1)):
                flags[r] = True
    return flags


def _kernel_reads_values(exprs, k, requires):
    """Whether the derivative of a fused kernel's formulas in its input k reads an input
    that requires grad."""
    import sympy as sp
    reading = {f"a{j}" for j, req in enumerate(requires) if req}
    for e in exprs:
        sym = next((s for s in e.free_symbols if s.name == f"a{k}"), None)
        if sym is not None and any(s.name in reading for s in sp.diff(e, sym).free_symbols):
            return True
    return False


def _connected(walk, wrt, grads):
    """Gradients under create_graph (with constant cotangents), each a function of its input
    exactly where PyTorch's would be (see _reads_values): a constant one is joined to the
    input by a `where` that selects nothing from it (a zero derivative, exactly, even where
    the input is infinite); one that reads no such value (a fused kernel's other output) is
    detached."""
    from ..tensor import Tensor
    from .recording import apply
    flags = _reads_values(walk)
    out = list(grads)
    for n, (i, g) in enumerate(zip(wrt, grads)):
        if isinstance(g, Tensor) and g._requires_grad:
            if not flags[i]:
                out[n] = g.detach()
            continue
        if not flags[i]:
            continue
        shape, dtype = walk.aval(i)
        data = np.zeros(shape, dtype) if g is None else np.broadcast_to(
            np.asarray(g._data if isinstance(g, Tensor) else g, dtype), shape)
        x = _as_tensor(walk, i)
        out[n] = apply(_ops.get("where"), [np.zeros(shape, bool), x, data], {})
    return out


def _as_tensor(walk, i):
    """The recorded value i as a tensor connected to the recorded graph."""
    from ..tensor import Tensor
    d = walk.values[i]
    if d[0] == "leaf":
        return d[1]
    arr = _check_version(walk, i, walk.array(i))
    if d[0] == "const":
        return arr
    _, fn, k = d
    t = Tensor._make(arr, True)
    t.grad_fn, t._output_nr, t._vc = fn, k, fn.outs[k][1]
    return t
