"""Decorators: compiled value-and-gradient functions of the user's own code.

    @srcgrad.value_and_grad(argnums=(0, 1))
    def loss(W, b, X, y): ...

The first call traces the function (trace.py) and compiles forward and backward into
ONE generated Python function of the arguments (compiler.py). Later calls run only that
function while its guards hold: argument structure, shapes, dtypes and static values
select the cache entry; data-dependent decisions are re-checked inside the generated
code, and a failed check records and compiles another variant beside the others.
"""
from __future__ import annotations

import functools
import hashlib
import warnings
import weakref

import numpy as np

from . import config
from .autograd import recording as _recording
from .autograd.engine import Walk, record_graph
from .codegen.diskcache import _data_value, _plain
from .numpy._dispatch import tensor_cls
from .compiler import differentiate, program_function
from .ir.graph import Node
from .ir.cse import eliminate_common
from .ir.index_chains import compose_element_reads
from .ir.passes import live_nodes
from .ops import get as _get_op
from .ops.special import GuardFailed
from .autograd.interpreted import interpreting
from .trace import (Leaf, TraceError, call_capturing_locals, flatten, gc_paused, leaf_specs, tracing,
                    unflatten)

#: variants compiled per argument signature before srcgrad warns that a guard keeps failing
MAX_VARIANTS = 8


class Variant:
    """One compiled code path: the generated function and what it was compiled for."""

    def __init__(self, fn, source, forward_ir, program, guards, out_spec, aux_spec, n_aux=0,
                 constants=(), fn_name="", wrt_names=()):
        self.fn = fn
        self.source = source
        self.forward_ir = forward_ir
        self.program = program        # the generated function's graph (None when loaded from disk)
        self.guards = guards          # [(description, location)] in generated order
        self.out_spec = out_spec
        self.aux_spec = aux_spec
        self.n_aux = n_aux            # outputs: value, n_aux aux leaves, then the gradients
        self.constants = constants    # [(name, array)] captured arrays read as module globals
        self.constant_ids = frozenset(id(a) for _, a in constants)  # (never returned as they are)
        self.fn_name = fn_name
        self.wrt_names = list(wrt_names)
        self.calls = 0


class Transformed:
    """A user's function under grad / value_and_grad: call it, or inspect what it runs."""

    def __init__(self, fn, argnums, has_aux, mode):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.argnums = argnums
        self.has_aux = has_aux
        self.mode = mode  # "grad" or "value_and_grad"
        self._variants = {}
        self._last = {}        # signature -> the variant that ran last (tried first)
        self._argnums_of = {}  # number of arguments -> the argnums as positions
        self._op_by_op = set()  # keys with too many variants: differentiated op by op (warned once)
        self._environments = {}  # key without the environment -> the environments seen
        self._uncompiled = set()  # keys run op by op, always: the function draws random numbers,
                                  # differentiates what an inner grad returned, or reads names
                                  # whose values keep changing

    def __repr__(self):
        return f"<srcgrad.{self.mode} of {getattr(self.fn, '__qualname__', self.fn)}>"

    # -- calling ------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if kwargs:
            args = self._positional(args, kwargs)
        if self.mode != "compile" and _differentiated_further(args):
            return self._call_differentiably(args)
        given = args
        args, arrays, key = self._split(args)
        try:
            v, flat = self._find(args, arrays, key)
        except _ReadsOuterGraph as e:
            if self.mode in ("grad", "value_and_grad") and not e.args[0] and not _differentiated_further(given):
                # (an inner grad of a value an inner grad made: arrays out, as from compiled
                # code, and no trace attempted again for these arguments)
                self._uncompiled.add(key)
                return self._call_op_by_op(args, key)
            return self._call_differentiably(given)  # (as given: hvp's v is still the last one)
        except _KeepsChanging:
            return self._call_op_by_op(args, key, v=given[-1] if self.mode == "hvp" else None)
        return self._unpack(v, args, flat, key)

    def _positional(self, args, kwargs):
        """Keyword arguments bound to their positions in the function's signature (argnums
        count positions there, as in JAX)."""
        import inspect
        try:
            bound = inspect.signature(self.fn).bind(*args, **kwargs)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{self.mode}: {e}") from None
        bound.apply_defaults()
        if bound.kwargs:
            raise TypeError(f"{self.mode}: keyword-only arguments ({', '.join(bound.kwargs)}) are not "
                            f"supported; pass them positionally or bind them with functools.partial")
        return bound.args

    def _call_differentiably(self, args):
        """The transform as ops on tensors, so that its result can be differentiated
        again: inside another transform (`grad(grad(f))`), on tensors that require grad,
        or for a function reading such a tensor from outside. The function runs eagerly
        and its derivative is taken with create_graph. Each differentiated argument is
        a fresh copy, so the derivative is in that argument only, even where the
        function also reads the tensor passed in."""
        from .autograd.mode import enable_grad
        if self.mode == "hvp":
            args, v = args[:-1], args[-1]
        nums = sorted(self._argnums(len(args)))
        with enable_grad():
            out, aux, wrt, specs = self._run_op_by_op(args, nums, nested=True)
            grads = _grads_or_zeros(out, wrt, None, nested=True)
            if self.mode == "hvp":
                grads = _grads_or_zeros(_dot(grads, v), wrt, None, nested=True)
        it = iter(grads)
        outs = {n: unflatten(spec, iter([next(it) for _ in leaf_specs(spec)])) for n, spec in zip(nums, specs)}
        g = self._in_argnums_order(outs, len(args))
        if self.mode in ("grad", "hvp"):
            return (g, aux) if self.has_aux else g
        return ((out, aux), g) if self.has_aux else (out, g)

    def _find(self, args, arrays, key, need_program=False):
        """The variant whose guards hold for these arrays, and its outputs: from memory,
        else from the disk cache, else recorded and compiled now."""
        variants = self._variants.setdefault(key, [])
        if key in self._uncompiled and not need_program:
            raise _KeepsChanging()
        if not variants and not need_program:
            # what the function reads by name keeps changing (a global array rebound per
            # call): after MAX_VARIANTS environments, op by op rather than a compile per call
            envs = self._environments.setdefault(key[:3], set())
            envs.add(key[3])
            if len(envs) > MAX_VARIANTS and self.mode in ("grad", "value_and_grad"):
                if key[:3] not in self._op_by_op:
                    self._op_by_op.add(key[:3])
                    warnings.warn(f"{self}: the values it reads by name (globals, closures) changed "
                                  f"{len(envs)} times; compiled code bakes them in, so calls now run "
                                  f"op by op. Pass what changes as arguments to have it compiled.",
                                  stacklevel=3)
                self._uncompiled.add(key)
                raise _KeepsChanging()
        # the variant that ran last is tried first: a variant rejects a call only when one of
        # its guards fails, which can be far into its code (a loop's last iteration)
        last = self._last.get(key)
        for v in ([last] if last is not None else []) + [v for v in variants if v is not last]:
            if need_program and v.program is None:
                continue
            flat = _run(v, arrays)
            if flat is not None:
                self._last[key] = v
                return v, flat
        if not need_program:
            stored = self._load_from_disk(key)
            variants.extend(stored)  # (all of them: the disk is read once per key)
            for v in stored:
                flat = _run(v, arrays)
                if flat is not None:
                    self._last[key] = v
                    return v, flat
            if len(variants) >= MAX_VARIANTS and self.mode in ("grad", "value_and_grad"):
                if key not in self._op_by_op:
                    self._op_by_op.add(key)
                    warnings.warn(self._explain(variants) + ". Arguments no variant takes are now "
                                  "differentiated op by op, without compiling a variant per call.",
                                  stacklevel=3)
                raise _KeepsChanging()
        rng = _Randomness(self.fn, args)
        with gc_paused():
            v = self._trace(args, arrays, key)
        if rng.drawn() and not need_program:
            # compiled, the draws would be constants: every call would return this one's
            rng.restore()  # (this call draws as plain numpy would, op by op)
            if not self.__dict__.get("_warned_random"):
                self._warned_random = True
                warnings.warn(f"{self}: the function draws random numbers (numpy's or Python's random "
                              f"generator); it runs op by op at every call, for new draws each "
                              f"time, rather than as compiled code, where they would be frozen. "
                              f"Pass the random arrays as arguments to have it compiled.", stacklevel=3)
            self._uncompiled.add(key)
            raise _KeepsChanging()
        flat = _run(v, arrays)
        if flat is None:
            # a value a decision read (float(np.max(yh - y))) came out of a fused,
            # simplified formula on the other side of the decision: compile op by op
            with gc_paused(), _op_by_op():
                v = self._trace(args, arrays, key)
            flat = _run(v, arrays)
        if flat is None:
            _raise_linalg_failure(self, v, arrays)
            raise TraceError(f"{self}: the code just compiled rejects the arguments it was compiled "
                             f"for (a decision changed between recording and running?)")
        variants.append(v)
        self._store_to_disk(key, v)
        return v, flat

    def _run_op_by_op(self, args, nums, nested):
        """The function run on tensors to differentiate in args[n] (n in nums): (its scalar
        output as a tensor, its aux, those tensors, per n its structure)."""
        from .tensor import Tensor
        targs, inputs, specs = _inputs_to_differentiate(args, nums, nested=nested, what=self.mode)
        result = _run_numpy_code(self.fn, targs)
        out, aux = result if self.has_aux else (result, None)
        _refuse_boolean(out, self.mode)
        if not isinstance(out, Tensor):
            out = Tensor._make(np.asarray(out, dtype=np.float64))
        if out._data.size != 1:
            raise TypeError(f"{self.mode}: the function must return a scalar, got shape {tuple(out.shape)}")
        return out, aux, [t for ts in inputs for t in ts], specs

    def _call_op_by_op(self, args, key, v=None):
        """The function run op by op, and its backward compiled from that recording (keyed by
        the ops, never by data): for a function whose data-dependent decisions change from
        call to call (a float() of the data, a trip count), where a variant per call would
        never pay for its compilation. hvp's vector is `v`."""
        import types
        from .autograd.mode import enable_grad
        from .tensor import Tensor
        hvp = self.mode == "hvp"
        # (a structure new op by op runs interpreted, until it comes back: autograd/interpreted.py)
        with enable_grad(), interpreting():
            out, aux, wrt, _ = self._run_op_by_op(args, sorted(self._argnums(len(args))), nested=hvp)
            grads = _grads_or_zeros(out, wrt, None, nested=hvp)
            if hvp:  # (the gradient of <grad, v>)
                grads = _grads_or_zeros(_dot(grads, v), wrt, None)
        aux_spec, aux_leaves = None, []
        if self.has_aux:
            aux_spec = flatten(aux, aux_leaves, dynamic_floats=False, objects=True)
            aux_leaves = [x._data if isinstance(x, Tensor) else np.asarray(x) for x in aux_leaves]
        flat = [out._data.reshape(())] + aux_leaves + list(grads)
        return self._unpack(types.SimpleNamespace(aux_spec=aux_spec, out_spec=None), args, flat, key)

    # -- the disk cache ---------------------------------------------------------------------
    def _disk(self):
        # (the identity holds the values the function reads: one per environment)
        env = self._environment()
        if getattr(self, "_disk_env", _MISSING) != env:
            from .codegen.diskcache import DiskCache, function_identity
            # (the environment's numbers and data are part of the identity; objects are
            # pinned down by the identity's own rules, their ids mean nothing on disk)
            ident = function_identity(self.fn, self.mode, self.argnums, self.has_aux,
                                      tuple(_on_disk(e) for e in env))
            cache = DiskCache(ident) if ident is not None else None
            self._disk_cache = cache if cache is not None and cache.enabled else None
            self._disk_env = env
            if not hasattr(self, "_disk_loaded"):
                self._disk_loaded = set()
        return self._disk_cache

    def _load_from_disk(self, key):
        from .codegen.diskcache import array_from_record, array_hash, code_from_record
        from .codegen.loader import load_function
        cache = self._disk()
        sig = _json_signature(key)
        if cache is None or sig is None or key in self._disk_loaded:
            return []
        self._disk_loaded.add(key)
        scopes = _scopes(self.fn)
        out = []
        for rec in cache.load(sig):
            try:
                consts = []
                for name, digest in rec["constants"]:
                    if isinstance(digest, dict):  # an array the function made itself, kept by value
                        consts.append((name, array_from_record(digest)))
                        continue
                    arr = next((sc[name] for sc in scopes if isinstance(sc.get(name), np.ndarray)), None)
                    if arr is None or array_hash(arr) != digest:
                        raise KeyError(name)
                    consts.append((name, arr))
                namespace = {"GuardFailed": GuardFailed, **dict(consts)}
                code = code_from_record(rec.get("code"))
                fn = load_function(rec["source"], rec["fn_name"], rec["fn_name"], namespace, code)
                out.append(Variant(fn, rec["source"], rec["forward_ir"], None,
                                   [tuple(g) for g in rec["guards"]], None, None, 0, consts,
                                   rec["fn_name"], rec["wrt_names"]))
            except (KeyError, TypeError, ValueError, SyntaxError, EOFError):
                continue  # a captured array changed, or an entry of another shape: record anew
        return out

    def _store_to_disk(self, key, v):
        from .codegen.diskcache import array_hash, array_record, code_record
        cache = self._disk()
        sig = _json_signature(key)
        if cache is None or sig is None or self.has_aux:
            return
        scopes = _scopes(self.fn)
        consts = []
        for name, arr in v.constants:
            # an array the function reaches by name (globals, closure) is found again and
            # checked by its hash; one it made itself (a literal, a helper's result) is
            # baked into the code as in memory, so it is kept by value (numbers only)
            if any(sc.get(name) is arr for sc in scopes):
                consts.append([name, array_hash(arr)])
                continue
            record = array_record(arr)
            if record is None:
                return
            consts.append([name, record])
        cache.store(sig, {"source": v.source, "fn_name": v.fn_name, "guards": [list(g) for g in v.guards],
                          "wrt_names": v.wrt_names, "forward_ir": v.forward_ir, "constants": consts,
                          "code": code_record(v.fn.__srcgrad_code__)})

    def _split(self, args):
        """(the function's own arguments, all arrays passed to the generated code, cache key)."""
        if self.mode != "hvp":
            arrays, key = self._signature(args)
            return args, arrays, key
        if len(args) < 2:
            raise TypeError("hvp(f)(*args, v): pass the arguments of f, then the vector v")
        args, v = args[:-1], args[-1]
        arrays, key = self._signature(args)
        tangent, primal = [], []
        vspec = flatten(v, tangent, dynamic_floats=True)
        xspec = flatten(args[self._single_argnum(len(args))], primal, dynamic_floats=True)
        if not _same_structure(vspec, xspec) or [np.shape(t) for t in tangent] != [np.shape(p) for p in primal]:
            raise TypeError("hvp: v must have the structure and shapes of the argument differentiated")
        # (an array, a float or a tensor alike: v is data in the argument's dtype)
        tangent = [np.asarray(t, dtype=np.asarray(p).dtype) for t, p in zip(tangent, primal)]
        return args, arrays + tangent, key

    def _in_argnums_order(self, by_position, nargs):
        """The gradient for argnums=k, or a tuple in the order argnums lists them (as JAX)."""
        if isinstance(self.argnums, int):
            return by_position[self.argnums % nargs]
        return tuple(by_position[n % nargs] for n in self.argnums)

    def _single_argnum(self, nargs):
        nums = self._argnums(nargs)
        if len(nums) != 1:
            raise TypeError(f"{self.mode} takes a single argnum")
        return next(iter(nums))

    def _signature(self, args):
        argnums = self._argnums(len(args))
        arrays, specs = [], []
        for i, a in enumerate(args):
            spec = flatten(a, arrays, dynamic_floats=True)
            specs.append((i in argnums, spec))
        avals = tuple((a.shape, a.dtype.str) for a in arrays)
        env = self._environment()
        objects = []
        _static_objects(tuple(specs), objects)
        if objects:  # (`loss(params, x)` with params an object: its attributes as read)
            env += tuple(_env_value(o, self._env_reads[1] | _method_names(type(o))) for o in objects)
        return arrays, (tuple(specs), avals, config.key(), env)

    def _environment(self):
        """What the function reads by name that a trace bakes into the compiled code: its
        globals and closure cells (and those of the functions it calls by name), as values
        (numbers, small dicts and lists by their contents) or identities (functions,
        arrays, objects). Part of the key: `SCALE = 3.0` between two calls compiles again
        rather than returning the first value's results."""
        found = self.__dict__.get("_env_reads")
        if found is None:
            found = self._env_reads = _environment_reads(self.fn)
        reads, names = found
        return tuple(_env_value(space.get(name, _MISSING) if kind == 0 else _cell(space) if kind == 1
                                else space, names)
                     for space, name, kind in reads)

    def _argnums(self, nargs):
        cached = self._argnums_of.get(nargs)
        if cached is not None:
            return cached
        nums = (self.argnums,) if isinstance(self.argnums, int) else tuple(self.argnums)
        for n in nums:
            if not -nargs <= n < nargs:
                raise TypeError(f"{self.mode}: argnums {self.argnums} is out of range for "
                                f"{nargs} positional arguments")
        result = self._argnums_of[nargs] = frozenset(n % nargs for n in nums)
        return result

    def _unpack(self, v, args, flat, key=None):
        value = flat[0]
        n_aux = len(leaf_specs(v.aux_spec)) if v.aux_spec is not None else 0
        aux = unflatten(v.aux_spec, iter(flat[1:1 + n_aux])) if v.aux_spec is not None else None
        grads = iter(flat[1 + n_aux:])
        argnums = self._argnums(len(args))
        # the arguments' structures, as the cache key holds them (else flattened again)
        specs = [spec for _, spec in key[0]] if key is not None else [_spec_of(a) for a in args]
        outs = {}
        for i in sorted(argnums):
            leaves = [_like(spec, next(grads)) for spec in leaf_specs(specs[i])]
            outs[i] = unflatten(specs[i], iter(leaves))
        g = self._in_argnums_order(outs, len(args))
        value = _like_value(v.out_spec, value)
        if self.mode in ("grad", "hvp"):
            return (g, aux) if self.has_aux else g
        return ((value, aux), g) if self.has_aux else (value, g)

    # -- tracing and compiling ------------------------------------------------------------
    def _record_call(self, args, arrays):
        """Run the function on tensors standing for its arguments, under a tracer.
        Returns (tensors of all array leaves, those differentiated, the result, the
        function's locals, guards, the tracer). A function that stores traced values into
        arrays numpy built (`out = np.zeros(n); out[i] = x[i]`) runs again with numpy's
        builders making tensors (numpy/builders.py); others keep numpy's own arrays."""
        snapshot = False
        try:
            return self._record_call_once(args, arrays, builders=False)
        except TraceError as e:
            if not e.needs_builders:
                raise
            snapshot = e.needs_snapshot
        try:
            return self._record_call_once(args, arrays, builders=True, snapshot=snapshot)
        except TraceError as e:
            if snapshot or not e.needs_snapshot:
                raise
        return self._record_call_once(args, arrays, builders=True, snapshot=True)

    def _record_call_once(self, args, arrays, builders, snapshot=False):
        from .tensor import Tensor
        argnums = self._argnums(len(args))
        with tracing() as tracer:
            tracer.builders = builders
            leaves = iter(arrays)
            targs, wrt_tensors, params = [], [], []
            for i, a in enumerate(args):
                spec = flatten(a, [], dynamic_floats=True)
                tl = []
                for _ in leaf_specs(spec):
                    arr = next(leaves)
                    t = Tensor._make(arr)
                    if i in argnums:
                        if arr.dtype.kind not in "fc":
                            raise TypeError(f"{self.mode}: argument {i} has integer/boolean data "
                                            f"({arr.dtype}); only float arguments can be differentiated")
                        t._requires_grad = True
                        wrt_tensors.append(t)
                    tracer.add_input(t)
                    params.append(t)
                    tl.append(t)
                targs.append(unflatten(spec, iter(tl)))
            result, local_vars = call_capturing_locals(self.fn, targs, {}, builders, snapshot)
            return params, wrt_tensors, result, local_vars, list(tracer.guards), tracer

    def _trace(self, args, arrays, key):
        from .tensor import Tensor
        params, wrt_tensors, result, local_vars, guards, tracer = self._record_call(args, arrays)
        tangents = [(a.shape, a.dtype) for a in arrays[len(params):]]
        out, aux = (result if self.has_aux else (result, None))
        if self.has_aux and not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(f"{self.mode}(has_aux=True): the function must return (value, aux)")
        _refuse_boolean(out, self.mode)
        if not isinstance(out, Tensor):
            out = Tensor._make(np.asarray(out, dtype=np.float64))
        if out._data.size != 1:
            raise TypeError(f"{self.mode}: the function must return a scalar, got shape {tuple(out.shape)} "
                            f"(use srcgrad.vjp or srcgrad.jacobian for other outputs)")
        aux_leaves = []
        aux_spec = None
        if self.has_aux:
            aux_spec = flatten(aux, aux_leaves, dynamic_floats=False, objects=True)
            aux_leaves = [x if isinstance(x, Tensor) else Tensor._make(np.asarray(x)) for x in aux_leaves]
        return self._compile(params, wrt_tensors, out, aux_leaves, aux_spec, guards, local_vars, tangents,
                             tracer)

    def _record_run(self, params, outs, guards, local_vars, tracer):
        """The traced run as a graph of the arguments: (graph, argument Values, output
        Values, captured constants [(Value, array)], guard descriptions). An output not
        computed from the arguments is a captured constant.

        tracer: the Tracer of the run. The graph's nodes, guards included, follow the
        program's own order (tracer.order), so a loop reads as a repeated segment."""
        from .tensor import Tensor
        guarded = [x for t, *_ in guards for x in (t if isinstance(t, tuple) else (t,)) if isinstance(x, Tensor)]
        walk = Walk([o for o in outs if o.grad_fn is not None] + guarded + params)
        names = _names(walk, local_vars, params, self.fn)
        order = tracer.order
        foreign = [d[1] for d in walk.values if d[0] == "leaf" and not tracer.is_input(d[1]) and d[1]._requires_grad]
        if foreign or not all(id(fn) in order for fn in walk.fns):
            # a tensor from outside that requires grad, or a leaf an inner transform made
            # (what an inner grad returned depends on it): run differentiably
            inner = {id(t) for t in tracer.inner_leaves}
            raise _ReadsOuterGraph(any(id(t) not in inner for t in foreign))
        g, vals = record_graph(walk, names)  # (in program order: the walk's)

        def value(t):
            i = walk.value_of(t)
            return None if i is None else vals[i]
        # an argument the function never read is still a parameter
        param_vals = [value(t) or g.add_input(t._data.shape, t._data.dtype) for t in params]
        consts = [(v, _const_array(walk, i, tracer)) for i, v in vals.items()
                  if walk.values[i][0] == "const" and v.node is None]
        _name_constants(consts, local_vars, self.fn)
        node_order = [order[id(fn)] for fn in walk.fns]  # (ascending: the walk is in recording order)
        guard_descr = _insert_guards(g, guards, value, node_order)
        out_vals = []
        for t in outs:
            v = value(t)
            if v is None:
                v = g.add_input(t._data.shape, t._data.dtype)
                consts.append((v, t._data))
            out_vals.append(v)
        g.outputs = list(out_vals)
        if compose_element_reads(g, consts):  # (A[i][j] reads A[i, j]: before the loops are found,
            g.nodes = live_nodes(g.nodes, g.outputs)  # and without the dead A[i] in each iteration)
        if config.reroll and self.mode != "hvp":  # (a loop's backward has no rule of its own yet)
            from .ir.reroll import reroll
            reroll(g, consts)  # (may add captured arrays: per-iteration index lists, stacked)
        # one node per distinct computation before fusion decides what to keep: a value the
        # run computed twice (det by minors: each minor once per path to it) is one value,
        # read twice, rather than two single-use subformulas fused into two kernels
        eliminate_common(g)
        out_vals = list(g.outputs)
        return g, param_vals, out_vals, consts, guard_descr

    def _compile(self, params, wrt_tensors, out, aux, aux_spec, guards, local_vars, tangents, tracer):
        param_ids = {id(t): k for k, t in enumerate(params)}
        g, param_vals, out_vals, consts, guard_descr = self._record_run(params, [out] + list(aux), guards,
                                                                       local_vars, tracer)
        out_v, aux_v = out_vals[0], out_vals[1:]
        forward_ir = str(g)
        wrt = [param_vals[param_ids[id(t)]] for t in wrt_tensors]
        n_fwd, grads, _ = differentiate(g, [out_v], ["ones"], wrt, one_function=True)
        grads = [gr if gr is not None else g.filled(0, w) for gr, w in zip(grads, wrt)]
        if self.mode == "hvp":
            # reverse over reverse: differentiate <grad, v> — the backward is IR, so it can be
            vs = [g.add_input(shape, dtype, "v" if len(tangents) == 1 else f"v{k}")
                  for k, (shape, dtype) in enumerate(tangents)]
            param_vals = param_vals + vs
            dot = None
            for gr, v in zip(grads, vs):
                term = (gr * v).sum()
                dot = term if dot is None else dot + term
            g.outputs = [out_v, dot]
            _, grads, _ = differentiate(g, [dot], ["ones"], wrt, one_function=True)
            grads = [gr if gr is not None else g.filled(0, w) for gr, w in zip(grads, wrt)]
        outputs = [out_v] + aux_v + grads
        import re
        fname = (re.sub(r"\W", "", getattr(self.fn, "__name__", "")) or "f") + "_" + self.mode
        header = [f"{self.mode} of {getattr(self.fn, '__qualname__', 'f')}"
                  + (f" ({_where(self.fn)})" if _where(self.fn) else "")]
        header.append("arguments: " + ", ".join(f"{p.name or '?'} {_aval(p)}" for p in param_vals))
        header += _guard_lines(guard_descr)
        fn, source, prog = program_function(g, param_vals, outputs, fname, header, consts)
        read = {x.id for n in prog.nodes for x in n.inputs if hasattr(x, "id")} | {v.id for v in outputs}
        consts = [(v, arr) for v, arr in consts if v.id in read]  # (a re-rolled loop reads stacks)
        return Variant(fn, source, forward_ir, prog, guard_descr, None, aux_spec, len(aux_v),
                       [(v.name, arr) for v, arr in consts], fname, [w.name for w in wrt])

    # -- inspection ------------------------------------------------------------------------
    def _variant_for(self, args, kwargs=None):
        if kwargs:  # (bound as a call binds them)
            args = self._positional(args, kwargs)
        args, arrays, key = self._split(args)
        return self._find(args, arrays, key, need_program=True)[0]

    def source(self, *args, **kwargs):
        """The generated Python source that runs for these arguments."""
        return _Text(self._variant_for(args, kwargs).source)

    def ir(self, *args, **kwargs):
        """The recorded forward run for these arguments, as IR text."""
        return _Text(self._variant_for(args, kwargs).forward_ir)

    def program_ir(self, *args, **kwargs):
        """The whole program (forward, guards, backward) as the generated code computes it."""
        return _Text(str(self._variant_for(args, kwargs).program))

    def formula(self, *args, **kwargs):
        """The gradient as sympy expressions of the arguments, one per differentiated array
        (elementwise in it); a value computed by a non-elementwise op (a matmul, a
        reduction) stands as a symbol named after it. `.latex()` and `print()` render them."""
        from .ir.formula import gradient_formulas
        saved, config.reroll = config.reroll, False  # a closed form reads the loop unrolled
        try:
            v = self._variant_for(args, kwargs)
        finally:
            config.reroll = saved
        grads = v.program.outputs[1 + v.n_aux:]
        return gradient_formulas(v.program, grads, v.wrt_names)

    def export(self, path, *args, **kwargs):
        """Write the generated code for these arguments as a standalone module (numpy
        only, no srcgrad import); see srcgrad.export."""
        from .export import export_variant
        return export_variant(self._variant_for(args, kwargs), path)

    def cache_info(self):
        """One line per compiled variant: its argument signature, guards and call count."""
        lines = []
        for (specs, avals, *_), variants in self._variants.items():
            sig = ", ".join(f"{np.dtype(d).name}{list(s)}" for s, d in avals)
            for k, v in enumerate(variants):
                guards = _runs([f"{d} at {loc}" for d, loc in v.guards]) or "no data-dependent guards"
                lines.append(f"({sig}) variant {k + 1}: {v.calls} calls; {guards}")
        return _Text("\n".join(lines))

    def _explain(self, variants):
        last = variants[-1]
        return (f"{self}: {len(variants)} variants compiled for the same argument shapes; a "
                f"data-dependent decision keeps changing between calls. The latest variant's "
                f"guards: " + _runs([f"{d} at {loc}" for d, loc in last.guards]))


def _raise_linalg_failure(transformed, v, arrays):
    """If the variant fails on these arrays with numpy's LinAlgError (the gradient of det at
    a singular matrix reads its inverse), raise it, saying where in the generated code and
    in the user's code."""
    try:
        with np.errstate(all="ignore"):
            v.fn(*arrays)
    except np.linalg.LinAlgError as e:
        tb, line = e.__traceback__, None
        while tb is not None:
            if tb.tb_frame.f_code is v.fn.__code__:
                line = tb.tb_lineno
            tb = tb.tb_next
        text = v.source.splitlines()[line - 1].strip() if line and line <= len(v.source.splitlines()) else ""
        code, _, where = text.partition("  # ")
        raise np.linalg.LinAlgError(
            f"{transformed}: {e} in the compiled code, at `{code.strip()}`"
            + (f" (for {where.strip()})" if where else "") + ": its value or derivative is not defined "
            f"at these arguments (the derivative of det or slogdet reads the inverse; inv and solve "
            f"need an invertible matrix)") from None
    except Exception:
        return


def _run(v, arrays):
    """The variant's outputs for these arrays, or None if one of its guards fails. Each
    output is an array of its own, which the caller may change in place: never an
    argument, a captured constant (`grad_a = const0`), a view, or another output."""
    try:
        with np.errstate(all="ignore"):
            flat = v.fn(*arrays)
    except (GuardFailed, np.linalg.LinAlgError):
        # (an op that succeeded while tracing raised: the function may catch that, and
        # take another path; the trace it runs next says)
        return None
    v.calls += 1
    taken = {id(a) for a in arrays}
    consts = v.constant_ids
    owned = []
    for o in flat:
        if type(o) is np.ndarray:
            i = id(o)
            if i in taken or i in consts or o.base is not None or not o.flags.writeable:
                o = o.copy()
                i = id(o)
            taken.add(i)
        owned.append(o)
    return owned


def _scopes(fn):
    """Where a function finds names: its closure cells, then its globals."""
    code = getattr(fn, "__code__", None)
    closure = getattr(fn, "__closure__", None) or ()
    cells = {}
    if code is not None:
        cells = {n: c.cell_contents for n, c in zip(code.co_freevars, closure) if _cell_has(c)}
    return [cells, getattr(fn, "__globals__", {})]


_MISSING = object()
_FunctionType = type(_scopes)
_ModuleType = type(np)
_PLAIN_TYPES = {bool, int, float, str, type(None)}


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return _MISSING


def _environment_reads(fn, depth=3):
    """What fn reads by name, as (namespace, name, 0) for each global its code names,
    (cell, None, 1) for each closure cell, and (object, None, 2) for a bound method's
    object; through the functions of the user's own code it calls by name, `depth` calls
    deep. With them, the attribute names its code (and the methods of the user's classes
    it reaches) may read, for `_env_value(v, names)`: `settings.SCALE`, `Cfg.scale`,
    `self.W`, `net.layer.W`. Names of library modules and classes, and of library
    functions, are left out: what they are is fixed."""
    import types
    from .codegen.diskcache import _users_module
    import sys
    reads, seen, todo, names = [], set(), [(fn, 0)], set()

    def users(v):
        owner = v if isinstance(v, (types.ModuleType, type)) else type(v)
        module = owner if isinstance(owner, types.ModuleType) else sys.modules.get(owner.__module__)
        return _users_module(module)

    def methods(cls):  # (`self.step(x)` reads what step reads)
        for klass in getattr(cls, "__mro__", ())[:-1]:
            if users(klass):
                for m in vars(klass).values():
                    m = getattr(m, "__func__", m)
                    if isinstance(m, types.FunctionType):
                        todo.append((m, depth))
    self_ = getattr(fn, "__self__", None)
    if self_ is not None and not isinstance(self_, types.ModuleType):
        reads.append((self_, None, 2))
        methods(type(self_))
    while todo:
        f, level = todo.pop()
        code = getattr(f, "__code__", None)
        if code is None or id(code) in seen:
            continue
        seen.add(id(code))
        names.update(_code_names(code))
        g = getattr(f, "__globals__", {})
        for name in _code_names(code):
            if name not in g:
                continue
            v = g[name]
            if isinstance(v, (types.ModuleType, type)):
                if users(v):  # (its attributes may change: `settings.SCALE = 3.0`)
                    reads.append((g, name, 0))
                    if isinstance(v, type):
                        methods(v)
                continue
            if callable(v) and not isinstance(v, types.FunctionType) and not users(v):
                continue
            reads.append((g, name, 0))
            if isinstance(v, types.FunctionType) and level < depth and \
                    _users_module(sys.modules.get(v.__module__)):
                todo.append((v, level + 1))
            elif users(v):
                methods(type(v))
        for cell in getattr(f, "__closure__", None) or ():
            reads.append((cell, None, 1))
            v = _cell(cell)
            if isinstance(v, types.FunctionType) and level < depth:
                todo.append((v, level + 1))
            elif v is not _MISSING and users(v):
                methods(v if isinstance(v, type) else type(v))
    unique = {(id(space), name, kind): (space, name, kind) for space, name, kind in reads}
    return list(unique.values()), frozenset(names)


def _code_names(code):
    """The names a code object reads, its nested code's too (comprehensions, lambdas)."""
    out = list(code.co_names)
    for c in code.co_consts:
        if hasattr(c, "co_names"):
            out += _code_names(c)
    return out


def _env_value(v, names=(), depth=3):
    """A read value as the key holds it: plain values and small data by their contents,
    arrays and tensors by contents (small) or identity and a sample (large), functions by
    their code; an object's (module's, class's) attributes of `names`, `depth` levels deep,
    read from its namespace (no property or __getattr__ runs)."""
    if type(v) in _PLAIN_TYPES:  # (the common case, first: called per read per call)
        return v
    if _plain(v):
        return v
    if isinstance(v, np.ndarray):  # (baked in as a constant: a small one by its contents, as
        # a new array may take a freed one's id; a large one by identity, shape, dtype and
        # a sample of its entries)
        if v.size <= _HASHED_SIZE:
            return ("array", v.shape, v.dtype.str, _stable_hash(v))
        return ("large array", id(v), v.shape, v.dtype.str, _stable_hash(v.reshape(-1)[::v.size // 64]))
    if type(v) is _FunctionType:  # (by its code and defaults, not its id: a new function
        # takes a freed one's memory at once; what it reads by name is read as the caller's)
        return ("function", v.__code__, tuple(_env_value(d) for d in v.__defaults__ or ()))
    if isinstance(v, tensor_cls()):  # (its data, and its version: changed in place)
        return ("tensor", _env_value(v._data), v._vc.v, v.requires_grad)
    if isinstance(v, (dict, list, tuple)):
        if isinstance(v, (list, tuple)) and 64 < len(v) <= _HASHED_LIST and type(v[0]) in (float, int, bool):
            a = np.asarray(v)  # (a long list of numbers, `COEF = [...]`: by its contents, as an array)
            if a.dtype.kind in "biuf":
                return ("numbers", type(v).__name__, a.shape, a.dtype.str, _stable_hash(a))
        data = _data_value(v, budget=256)
        if data is not None:
            return data
        if depth and len(v) <= 64:  # (`layers = [Layer(), Layer()]`, `params = {"W": tensor}`)
            items = v.items() if isinstance(v, dict) else enumerate(v)
            return (type(v).__name__,) + tuple((k if _plain(k) else id(k), _env_value(x, names, depth - 1))
                                               for k, x in items)
        return ("object", id(v), len(v))
    space = getattr(v, "__dict__", None)
    if depth and names and space is not None and hasattr(space, "keys"):  # (a class's: a mappingproxy)
        found = {}
        if not isinstance(v, (type, _ModuleType)):  # (class attributes: `scale = 2.0` in the body)
            for klass in type(v).__mro__[-2::-1]:  # (the base first: a subclass overrides it)
                d = vars(klass)
                for name in d.keys() & names:
                    found[name] = d[name]
        for name in space.keys() & names:
            found[name] = space[name]
        attrs = frozenset((name, _env_value(x, names, depth - 1)) for name, x in found.items()
                          if not (isinstance(x, (type, _ModuleType)) or hasattr(x, "__get__")))
        # (methods, properties, classes and modules are left out: fixed, or code to run)
        return ("object", id(v), type(v), attrs)
    return ("object", id(v), type(v))


def _on_disk(e):
    """An environment entry as the disk key holds it: an object's id means nothing in
    another process (a large array keeps its shape, dtype and sample)."""
    if not isinstance(e, tuple) or not e:
        return e
    if e[0] == "large array":
        return ("array",) + e[2:]
    if e[0] == "object":  # (its attributes read: id and type stay here)
        return ("object",) + tuple(sorted((name, repr(_on_disk(x))) for name, x in e[3])) if len(e) > 3 else "object"
    if e[0] == "function":  # (its code: in the identity's own rules)
        return ("function",) + tuple(_on_disk(d) for d in e[2])
    if e[0] == "tensor":
        return ("tensor", _on_disk(e[1]), e[3])
    if e[0] in ("list", "tuple", "dict"):
        return (e[0],) + tuple((k if _plain(k) else "object", _on_disk(x)) for k, x in e[1:])
    return e


#: arrays read by name up to this size are keyed by their contents
_HASHED_SIZE = 1024
#: and lists of numbers up to this length
_HASHED_LIST = 8192


def _stable_hash(a):
    """A hash of an array's bytes that is the same in every process (the disk key holds it)."""
    return hashlib.blake2b(np.ascontiguousarray(a).tobytes(), digest_size=8).hexdigest()


def _json_signature(key):
    """The cache key as JSON data, or None if a static argument is not plain data."""
    specs, avals, cfg, _ = key  # (the environment: the disk cache keys it by value, diskcache.py)

    def conv(spec):
        if isinstance(spec, Leaf):
            return ["leaf", spec.kind]
        kind = spec[0]
        if kind == "static":
            v = spec[2]
            if v is None or isinstance(v, (bool, int, float, str)):
                return ["static", type(v).__name__, v]
            raise TypeError
        if kind == "namedtuple":
            return [kind, f"{spec[1].__module__}.{spec[1].__qualname__}", [conv(c) for c in spec[2]]]
        if kind == "dict":
            if not all(isinstance(k, str) for k in spec[1]):
                raise TypeError
            return [kind, list(spec[1]), [conv(c) for c in spec[2]]]
        return [kind, spec[1], [conv(c) for c in spec[2]]]
    try:
        return [[[bool(d), conv(sp_)] for d, sp_ in specs], [[list(sh), dt] for sh, dt in avals], list(cfg)]
    except TypeError:
        return None


def _spec_of(arg):
    return flatten(arg, [], dynamic_floats=True)


def _same_structure(a, b):
    """Two flatten() structures alike, whatever kind of array each leaf is."""
    if isinstance(a, Leaf) or isinstance(b, Leaf):
        return isinstance(a, Leaf) and isinstance(b, Leaf)
    if a[0] != b[0] or a[0] == "static":
        return a == b
    return a[1] == b[1] and len(a[2]) == len(b[2]) and all(_same_structure(x, y) for x, y in zip(a[2], b[2]))


class _op_by_op:
    """Compile without elementwise fusion and simplification: each op as numpy computes it."""

    def __enter__(self):
        self.saved = config.fuse_elementwise, config.simplify
        config.fuse_elementwise = config.simplify = False

    def __exit__(self, *exc):
        config.fuse_elementwise, config.simplify = self.saved
        return False


def _refuse_boolean(out, mode):
    """A boolean result (np.allclose, x > 0) has no derivative: an error, not zeros."""
    data = getattr(out, "_data", out)
    if isinstance(data, (bool, np.bool_)) or (isinstance(data, np.ndarray) and data.dtype == np.bool_):
        raise TypeError(f"{mode}: the function returned a boolean, which has no derivative; "
                        f"return a float (e.g. the quantity the comparison tests)")
    if isinstance(data, complex) or getattr(data, "dtype", None) is not None and data.dtype.kind == "c":
        # (as JAX and PyTorch: a gradient is of a real value; srcgrad's convention, ops/complex.py)
        raise TypeError(f"{mode}: the function returned a complex value; take the gradient of a real "
                        f"one (np.real(f), np.abs(f) ** 2), or use srcgrad.vjp with a complex cotangent")


class _Randomness:
    """The state of numpy's global random generator, and of the generators a function
    reads from its globals and closure (`rng = np.random.default_rng(0)` at module level),
    to tell whether a run drew from them."""

    def __init__(self, fn, args=()):
        import random
        self.generators = _generators(fn, args)
        self.states = [self._state(g) for g in self.generators]
        self.global_state = np.random.get_state()
        self.python_state = random.getstate()  # (Python's own `random.gauss(0, 1)` too)

    @staticmethod
    def _state(g):
        return g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state()

    def drawn(self):
        import random
        if any(self._state(g) != s if isinstance(g, np.random.Generator) else not _same_state(self._state(g), s)
               for g, s in zip(self.generators, self.states)):
            return True
        return not _same_state(np.random.get_state(), self.global_state) or random.getstate() != self.python_state

    def restore(self):
        import random
        random.setstate(self.python_state)
        np.random.set_state(self.global_state)
        for g, s in zip(self.generators, self.states):
            if isinstance(g, np.random.Generator):
                g.bit_generator.state = s
            else:
                g.set_state(s)


def _same_state(a, b):
    return a[0] == b[0] and a[2:] == b[2:] and np.array_equal(a[1], b[1])


def _generators(fn, args=()):
    """The random generators fn can reach: read by name, or through what it reads (the
    attributes its code names of objects, modules and classes, dict and list entries,
    `self.rng` of a bound method, an object passed in), three levels deep."""
    import types
    reads, names = _environment_reads(fn)
    roots = [space.get(name) if kind == 0 else _cell(space) if kind == 1 else space for space, name, kind in reads]
    found, seen = [], set()

    def walk(v, depth):
        if id(v) in seen or v is None or type(v) in _PLAIN_TYPES or isinstance(v, np.ndarray):
            return
        seen.add(id(v))
        if isinstance(v, (np.random.Generator, np.random.RandomState)):
            found.append(v)
        elif depth == 0 or isinstance(v, types.FunctionType):
            return
        elif isinstance(v, dict):
            for x in list(v.values())[:64]:
                walk(x, depth - 1)
        elif isinstance(v, (list, tuple)):
            for x in v[:64]:
                walk(x, depth - 1)
        elif isinstance(getattr(v, "__dict__", None), dict) or isinstance(v, type):
            space = vars(v)
            for name in space.keys() & names:
                walk(space[name], depth - 1)
    for v in list(roots) + list(args):
        walk(v, 3)
    return found


@functools.lru_cache(maxsize=None)
def _method_names(cls):
    """The names the methods of a class of the user's code read (`self.W` in __call__)."""
    import sys
    from .codegen.diskcache import _users_module
    names = set()
    for klass in cls.__mro__[:-1]:
        if _users_module(sys.modules.get(klass.__module__)):
            for m in vars(klass).values():
                code = getattr(getattr(m, "__func__", m), "__code__", None)
                if code is not None:
                    names.update(_code_names(code))
    return frozenset(names)


def _static_objects(spec, out):
    """The objects with attributes among a structure's static leaves (held by identity in
    the key: their attributes may change between calls)."""
    if isinstance(spec, tuple):
        if len(spec) == 3 and spec[0] == "static":
            if hasattr(spec[2], "__dict__") and not isinstance(spec[2], (type, _ModuleType)) \
                    and not hasattr(spec[2], "__get__"):  # (not a function, method or class)
                out.append(spec[2])
            return
        for x in spec:
            _static_objects(x, out)


def _dot(grads, v):
    """<grads, v> as a tensor: hvp's scalar, whose gradient is the Hessian times v."""
    from .tensor import Tensor
    vs = []
    flatten(v, vs, dynamic_floats=True, objects=True)
    return sum((g * (x if isinstance(x, Tensor) else Tensor._make(np.asarray(x, g.dtype)))).sum()
               for g, x in zip(grads, vs))


class _KeepsChanging(Exception):
    """Too many variants for these argument types: differentiate op by op."""


class _ReadsOuterGraph(Exception):
    """The traced function read a tensor recorded outside it that requires grad."""


def _differentiated_further(args):
    """Whether a transform's result must stay differentiable: it runs inside another
    transform's trace, or is given tensors that require grad. (On every call: arrays and
    numbers are let through first.)"""
    if _recording.TRACER[0] is not None:
        return True
    for a in args:
        if type(a) is np.ndarray or type(a) is float or type(a) is int:
            continue
        from .tensor import Tensor
        leaves = []
        flatten(a, leaves, dynamic_floats=True, objects=True)
        if any(isinstance(x, Tensor) and x._requires_grad for x in leaves):
            return True
    return False


def _like(spec, arr):
    """A gradient in the type its argument came in (numpy in, numpy out)."""
    if spec.kind == "ndarray":
        return _owned(arr)
    if spec.kind == "tensor":
        from .tensor import Tensor
        return Tensor._make(np.array(arr))
    if spec.kind == "float":
        return float(arr)
    if spec.kind == "complex":
        return complex(arr)
    if spec.kind == "generic":
        return arr.dtype.type(arr)
    return _owned(arr)


def _like_value(spec, arr):
    a = np.asarray(arr)
    if a.ndim == 0 and a.dtype.kind in "fc":
        return float(a) if a.dtype.kind == "f" else complex(a)
    return a


def _owned(arr):
    arr = np.asarray(arr)
    if arr.base is not None or not arr.flags.writeable:
        return np.array(arr)
    return arr


def _const_array(walk, i, tracer):
    """A captured array as the recorded op read it (not as a later in-place op left it)."""
    _, fn, j = walk.values[i]
    arr, counter, version = fn.saved[j]
    return tracer.captured(arr, version, counter.v)



def _aval(v):
    from .ir.types import fmt_aval
    return fmt_aval(v.shape, v.dtype)


def _where(fn):
    code = getattr(fn, "__code__", None)
    if code is None:
        return ""
    import os
    return f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}"


def _names(walk, local_vars, params, fn):
    """User names for recorded values: the function's parameters and locals."""
    from .tensor import Tensor
    names = {}
    taken = set()

    def give(i, name):
        if i is not None and i not in names and name not in taken:
            names[i] = name
            taken.add(name)
    for name, obj in local_vars.items():
        if isinstance(obj, Tensor) and not name.startswith("_"):
            give(walk.value_of(obj), name)
    for k, t in enumerate(params):
        i = walk.value_of(t)
        if i is not None and i not in names:
            give(i, f"arg{k}")
    return names


def _name_constants(consts, local_vars, fn):
    """Captured arrays are read as module globals: name them after the user's variables."""
    by_id = {}
    scopes = [local_vars]
    closure = getattr(fn, "__closure__", None) or ()
    code = getattr(fn, "__code__", None)
    if code is not None:
        scopes.append({n: c.cell_contents for n, c in zip(code.co_freevars, closure)
                       if _cell_has(c)})
    scopes.append(getattr(fn, "__globals__", {}))
    for scope in scopes:
        for name, obj in list(scope.items()):
            if isinstance(obj, np.ndarray) and not name.startswith("_"):
                by_id.setdefault(id(obj), name)
    for k, (v, arr) in enumerate(consts):
        v.name = by_id.get(id(arr), f"const{k}")


def _cell_has(cell):
    try:
        cell.cell_contents
        return True
    except ValueError:
        return False


def _insert_guards(g, guards, value, node_order=None):
    """Put each guard node where the program took its decision: after the last node
    recorded before it (node_order: when each of g's nodes was recorded, ascending), or
    else right after the node that computes its value."""
    import bisect
    from .ir.graph import Value
    from .tensor import Tensor
    from .utils.locations import format_loc_range, source_line
    op = _get_op("guard")
    descr = []
    position = {id(n): k for k, n in enumerate(g.nodes)}
    placed = []
    for k, (t, kind, expected, loc, when) in enumerate(guards):
        if kind == "raises":  # (t: the inputs of the op that raised)
            vs = [value(x) if isinstance(x, Tensor) else x for x in t]
            node = Node(_get_op("raises"), vs, dict(op=expected[0], op_attrs=expected[1], index=k), loc)
            after = max([position.get(id(x.node), -1) for x in vs if isinstance(x, Value) and x.node is not None],
                        default=-1)
            if node_order is not None:
                after = max(after, bisect.bisect_left(node_order, when) - 1)
            placed.append((after, k, node))
            descr.append((f"{expected[0]}(...) raises LinAlgError", format_loc_range(loc)))
            continue
        v = value(t)
        if v is None:
            raise TraceError("internal error: a guarded value is missing from the recorded graph")
        expected = bool(expected) if kind == "bool" else expected
        node = Node(op, [v], dict(kind=kind, expected=expected, index=k), loc)
        after = position.get(id(v.node), -1) if v.node is not None else -1
        if node_order is not None:
            after = max(after, bisect.bisect_left(node_order, when) - 1)
        placed.append((after, k, node))
        what = v.name or _condition_text(source_line(loc)) or f"%{v.id}"
        descr.append((f"({what}) is {expected}" if kind == "bool" else f"({what}) == {expected!r}",
                      format_loc_range(loc)))
    nodes = []
    placed.sort(key=lambda p: (p[0], p[1]))
    j = 0
    for k, n in enumerate([None] + g.nodes):
        if n is not None:
            nodes.append(n)
        while j < len(placed) and placed[j][0] == k - 1:
            nodes.append(placed[j][2])
            j += 1
    nodes.extend(p[2] for p in placed[j:])
    g.nodes = nodes
    return descr


def _guard_lines(descr):
    """Header lines for the guards; a loop's guard checked at every iteration reads
    `guards 3-11: (norm(y) < 1000) is True`."""
    out, k = [], 0
    while k < len(descr):
        j = k
        while j + 1 < len(descr) and descr[j + 1] == descr[k]:
            j += 1
        d, loc = descr[k]
        label = f"guard {k}" if j == k else f"guards {k}-{j}"
        out.append(f"{label}: {d}" + (f"  ({loc})" if loc else ""))
        k = j + 1
    return out


def _condition_text(line):
    """`while norm(y) < 1000:` → `norm(y) < 1000`."""
    import re
    return re.sub(r"^(while|if|elif|assert)\s+|:\s*$", "", line.strip()).strip()


def _runs(descriptions):
    """Collapse repeats: a loop's guard recorded 9 times reads `... is True (x8), ... is False`."""
    out = []
    for d in descriptions:
        if out and out[-1][0] == d:
            out[-1][1] += 1
        else:
            out.append([d, 1])
    return "; ".join(d + (f" (x{n})" if n > 1 else "") for d, n in out)


class _Text(str):
    def __repr__(self):
        return str(self)


def _decorator(mode):
    def transform(fn=None, argnums=0, has_aux=False):
        if fn is None:
            return lambda f: Transformed(f, argnums, has_aux, mode)
        if isinstance(fn, (int, tuple, list)) and not callable(fn):
            nums = fn
            return lambda f: Transformed(f, nums, has_aux, mode)
        return Transformed(fn, argnums, has_aux, mode)
    transform.__name__ = mode
    return transform


grad = _decorator("grad")
grad.__doc__ = """grad(f, argnums=0, has_aux=False): the gradient of scalar-valued f, compiled.

Usable as `@grad`, `@grad(argnums=(0, 2))` or `grad(f)`. Gradients come back in the
structure and type of their arguments (numpy in, numpy out)."""
value_and_grad = _decorator("value_and_grad")
value_and_grad.__doc__ = """value_and_grad(f, argnums=0, has_aux=False): (f(...), gradient), compiled."""


hvp = _decorator("hvp")
hvp.__doc__ = """hvp(f, argnums=0): a compiled function (*args, v) -> (Hessian of f) @ v.

Second order by differentiating the generated backward IR again (reverse over reverse),
never by finite differences."""


def hessian(f, argnums=0):
    """hessian(f)(*args): the Hessian of scalar f in one argument, shape x.shape + x.shape.

    One compiled Hessian-vector product, applied to each basis vector."""
    product = hvp(f, argnums=argnums)

    @functools.wraps(f)
    def hess(*args):
        from .numpy import stack
        from .tensor import Tensor
        k = product._single_argnum(len(args))
        nested = _differentiated_further(args)  # (rows are tensors, differentiable again)
        a = args[k]._data if isinstance(args[k], Tensor) else np.asarray(args[k])
        x = np.asarray(a, dtype=np.result_type(a.dtype, np.float32))
        rows = []
        for i in range(x.size):
            e = np.zeros(x.size, x.dtype)
            e[i] = 1
            row = product(*args, e.reshape(x.shape))
            rows.append(row if nested else np.asarray(row))
        return (stack if nested else np.stack)(rows).reshape(x.shape + x.shape)
    hess.hvp = product
    hess.source = product.source
    return hess


# -- vjp and jacobian: one recorded run, its compiled backward applied per cotangent --------
def _record(f, args, argnums):
    """Run f eagerly on tensors; (output tensor(s), input tensors for argnums, their specs,
    whether the results must stay differentiable). Nested in another derivative (given
    tensors that require grad, or inside a trace), an argument is a recorded copy of the
    tensor passed in, so the derivative is in the argument only and can be differentiated
    again; else a fresh leaf."""
    from .tensor import Tensor
    nested = _differentiated_further(args)
    nargs = len(args)
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    nums = [n % nargs for n in nums]
    targs, inputs, specs = _inputs_to_differentiate(args, nums, nested)
    out = _run_numpy_code(f, targs)
    if not isinstance(out, Tensor):  # a constant: its derivative is zero
        out = Tensor._make(np.array(out, dtype=np.result_type(np.asarray(out).dtype, np.float64)))
    return out, nums, inputs, specs, nested


def _run_numpy_code(f, args):
    """f(*args), the user's numpy-style function run op by op, with numpy's semantics for
    tensors (recording.numpy_semantics). One that stores a value being differentiated into
    an array numpy built (`out = np.zeros(n); out[i] = x[i]`) runs again with numpy's
    builders making tensors, as a trace does (numpy/builders.py)."""
    from .autograd.constants import ChangedConstant, watching
    from .numpy.builders import redirected
    # (the recording's nodes and version counters refer to each other: with the cyclic
    # collector on, it rescans the growing recording again and again, 2/3 of the time of
    # a loop of small ops; a trace pauses it alike)
    with _recording.numpy_semantics(), gc_paused():
        if _recording.TRACER[0] is not None:  # (inside a trace, the trace runs it again)
            return f(*args)
        modes = ((False, False), (True, False), (True, True))
        start = _numpy_code_mode(f)
        for k, (builders, snapshot) in enumerate(modes[start:], start):
            try:
                with watching(snapshot) as watch:
                    if builders:
                        with redirected():
                            out = f(*args)
                    else:
                        out = f(*args)
                watch.check()
                if k != start:
                    _remember_numpy_code_mode(f, k)
                return out
            except ChangedConstant:  # (an array an op read was then changed: copies of them)
                if snapshot:
                    raise
            except (TraceError, ValueError, TypeError) as e:
                cause = e if isinstance(e, TraceError) else e.__cause__
                if builders or not (isinstance(cause, TraceError) and cause.needs_builders):
                    raise


#: function -> the mode (position in _run_numpy_code's modes) its last op-by-op run needed:
#: the next run starts there, rather than running the function again to find out
_NUMPY_CODE_MODES = weakref.WeakKeyDictionary()


def _numpy_code_mode(f):
    """(Keyed by the user's function: vjp runs a new wrapper of it per call. Any mode
    computes the same result, so a wrong guess costs only time.)"""
    try:
        return _NUMPY_CODE_MODES.get(getattr(f, "__wrapped__", f), 0)
    except TypeError:  # (not weakly referable)
        return 0


def _remember_numpy_code_mode(f, k):
    try:
        _NUMPY_CODE_MODES[getattr(f, "__wrapped__", f)] = k
    except TypeError:
        pass


def _inputs_to_differentiate(args, nums, nested, what="argument"):
    """args with the leaves of args[n] (n in nums) replaced by tensors to differentiate in:
    (new args, per n its tensors, per n its structure). A tensor that requires grad or is
    traced becomes a recorded copy when `nested` (the derivative is then in this argument
    only, and can be differentiated again); anything else, a fresh leaf."""
    from .autograd.recording import apply
    from .creation import tensor as _tensor
    from .tensor import Tensor
    targs, inputs, specs = list(args), [], []
    for n in nums:
        arrays = []
        spec = flatten(args[n], arrays, dynamic_floats=True, objects=True)
        ts = []
        for a in arrays:
            data = a._data if isinstance(a, Tensor) else np.asarray(a)
            if data.dtype.kind not in "fc":
                raise TypeError(f"{what}: argument {n} has integer/boolean data ({data.dtype}); only float "
                                f"arguments can be differentiated")
            tracer = _recording.TRACER[0]
            if nested and isinstance(a, Tensor) and (a._requires_grad or tracer is not None and tracer.traced(a)):
                t = apply(_get_op("copy"), [a], {})
                t._requires_grad = True
            else:  # (a constant tensor too: `np.array([0.0, 8.0])` a trace made one)
                t = _tensor(data, requires_grad=True)
                if tracer is not None:  # (an inner transform's own leaf, inside a trace)
                    tracer.inner_leaves.append(t)
            ts.append(t)
        inputs.append(ts)
        specs.append(spec)
        targs[n] = unflatten(spec, iter(ts))
    return targs, inputs, specs


def _grads_or_zeros(out, flat, ct, nested=False):
    """Gradients of <ct, out> in `flat` (zeros where none flows, or out is a constant):
    arrays, or tensors that can be differentiated again if `nested`. ct None: out is a
    scalar."""
    from .tensor import Tensor
    from .autograd.engine import run_backward
    if not out._requires_grad:
        grads = [None] * len(flat)
    else:  # (flat: the transform's own tensors, none computed from another: walked as leaves)
        grads = run_backward([out], [ct], retain_graph=True, create_graph=nested, inputs=flat,
                             allow_unused=True, accumulate=False, stop_at_inputs=True)
    zeros = [np.zeros(t.shape, t.dtype) for t in flat]
    if nested:
        return [Tensor._make(z) if g is None else g for g, z in zip(grads, zeros)]
    return [z if g is None else g._data for g, z in zip(grads, zeros)]


def _grads_function(out, flat, nested):
    """ct -> the gradients of <ct, out> in the tensors `flat` (zeros where unused): the
    backward compiled and wired once for all cotangents, unless nested (create_graph)."""
    from .autograd.engine import prepared_backward
    run = None if nested or not out._requires_grad else prepared_backward(out, flat)
    if run is None:
        return lambda ct: _grads_or_zeros(out, flat, ct, nested)
    return lambda ct: [np.zeros(t.shape, t.dtype) if g is None else g for g, t in zip(run(ct), flat)]


def vjp(f, *primals):
    """(f(*primals), vjp_fn): vjp_fn(cotangent) is the gradient of <cotangent, f> with
    respect to every primal, in their structure. The backward is compiled once and
    reused for each cotangent."""
    from .tensor import Tensor
    parts = []  # a tuple or list of outputs: their shapes (they are differentiated as one vector)

    @functools.wraps(f)  # (its __wrapped__ is f: what _run_numpy_code remembers a mode for)
    def joined(*args):
        result = f(*args)
        if not isinstance(result, (tuple, list)):
            return result
        parts.append((type(result), [np.shape(r) for r in result]))
        return np.concatenate([np.ravel(r) for r in result]) if result else np.zeros(0)
    out, nums, inputs, specs, nested = _record(joined, primals, tuple(range(len(primals))))
    flat_inputs = [t for ts in inputs for t in ts]

    grads_of = _grads_function(out, flat_inputs, nested)

    def vjp_fn(cotangent):
        if parts:
            cotangent = _joined_cotangent(cotangent, parts[-1], nested)
        ct = cotangent if nested and isinstance(cotangent, Tensor) else \
            np.asarray(cotangent._data if isinstance(cotangent, Tensor) else cotangent, dtype=out.dtype)
        if tuple(ct.shape) != tuple(out.shape):
            raise ValueError(f"vjp: cotangent of shape {tuple(ct.shape)} for an output of shape {tuple(out.shape)}")
        it = iter(grads_of(ct))
        result = []
        for spec, ts in zip(specs, inputs):
            leaves = [g if nested else _like(l, g) for l, g in zip(leaf_specs(spec), [next(it) for _ in ts])]
            result.append(unflatten(spec, iter(leaves)))
        return tuple(result)
    value = out if nested else _owned(out._data)
    if parts:  # (back into the function's structure)
        kind, shapes = parts[-1]
        ends = np.cumsum([int(np.prod(sh, dtype=np.int64)) for sh in shapes])
        value = kind(value[e - int(np.prod(sh, dtype=np.int64)):e].reshape(sh) for e, sh in zip(ends, shapes))
    return value, vjp_fn


def _joined_cotangent(cotangent, part, nested):
    """A cotangent in the structure of a function's tuple of outputs, as the one vector
    vjp differentiates."""
    from .tensor import Tensor
    kind, shapes = part
    if not isinstance(cotangent, (tuple, list)) or len(cotangent) != len(shapes):
        raise ValueError(f"vjp: the function returns {len(shapes)} outputs: give a cotangent for each, in a "
                         f"{kind.__name__}")
    for c, sh in zip(cotangent, shapes):
        if np.shape(c) != tuple(sh):
            raise ValueError(f"vjp: cotangent of shape {np.shape(c)} for an output of shape {tuple(sh)}")
    if nested and any(isinstance(c, Tensor) for c in cotangent):
        from .numpy import concatenate, ravel
        return concatenate([ravel(c) for c in cotangent])
    return np.concatenate([np.ravel(c._data if isinstance(c, Tensor) else c) for c in cotangent])


def jacobian(f, argnums=0):
    """jacobian(f)(*args): d f / d args[argnums], of shape f(x).shape + x.shape (a tuple
    of them for several argnums). One compiled backward, applied per output element."""
    @functools.wraps(f)
    def jac(*args):
        from .numpy import stack
        out, nums, inputs, specs, nested = _record(f, args, argnums)
        flat = [t for ts in inputs for t in ts]
        rows = [[] for _ in flat]
        grads_of = _grads_function(out, flat, nested)
        for i in range(max(out._data.size, 1)):
            e = np.zeros(out._data.size, out.dtype)
            e[i] = 1
            for k, g in enumerate(grads_of(e.reshape(out.shape))):
                rows[k].append(g)
        blocks = [(stack if nested else np.stack)(r).reshape(out.shape + t.shape) for r, t in zip(rows, flat)]
        it = iter(blocks)
        result = [unflatten(spec, iter([next(it) for _ in leaf_specs(spec)])) for spec in specs]
        return result[0] if isinstance(argnums, int) else tuple(result)
    return jac


# -- srcgrad.compile: a compiled forward whose outputs carry a compiled backward ------------
class CompiledFunction(Transformed):
    """`srcgrad.compile(f)`: calls run f's generated forward; when an argument is a tensor
    that requires grad, the outputs are tensors whose backward is f's generated VJP
    (one `call` inside the caller's compiled backward)."""

    def __init__(self, fn):
        super().__init__(fn, (), False, "compile")

    def _argnums(self, nargs):
        return set()

    def _trace(self, args, arrays, key):
        from .tensor import Tensor
        params, _, result, local_vars, guards, tracer = self._record_call(args, arrays)
        outs = []
        out_spec = flatten(result, outs, dynamic_floats=False, objects=True)
        outs = [o if isinstance(o, Tensor) else Tensor._make(np.asarray(o)) for o in outs]
        return self._compile_program(params, outs, out_spec, guards, local_vars, tracer)

    def _compile_program(self, params, outs, out_spec, guards, local_vars, tracer):
        import re
        from .codegen.loader import SHARED
        from .ir.fusion import fuse
        g, param_vals, out_vals, consts, guard_descr = self._record_run(params, outs, guards, local_vars, tracer)
        forward_ir = str(g)
        base = re.sub(r"\W", "", getattr(self.fn, "__name__", "")) or "f"
        header = [f"compiled forward of {getattr(self.fn, '__qualname__', base)}"
                  + (f" ({_where(self.fn)})" if _where(self.fn) else "")]
        header += _guard_lines(guard_descr)
        fuse(g, keep_costly=True)
        fn, source, prog = program_function(g, param_vals, out_vals, base + "_forward", header, consts)
        # the VJP: all float arguments, a cotangent per output; the forward is recomputed
        floats = [k for k, p in enumerate(param_vals) if p.dtype.kind in "fc"]
        cts = [g.add_input(v.shape, v.dtype, "grad_" + (v.name or f"out{k}")) for k, v in enumerate(out_vals)]
        _, grads, _ = differentiate(g, out_vals, cts, [param_vals[k] for k in floats], one_function=True)
        grads = [gr if gr is not None else g.filled(0, param_vals[k]) for gr, k in zip(grads, floats)]
        vjp_name = f"{base}_vjp_{len(SHARED)}"
        vjp_fn, vjp_source, _ = program_function(g, param_vals + cts, grads, vjp_name,
                                                 [f"backward of the compiled {base}"], consts)
        SHARED[vjp_name] = vjp_fn
        v = Variant(fn, source, forward_ir, prog, guard_descr, out_spec, None, 0,
                    [(x.name, arr) for x, arr in consts], base + "_forward")
        v.vjp = (vjp_name, vjp_fn, vjp_source, floats, [(gr.shape, gr.dtype) for gr in grads])
        return v

    def _store_to_disk(self, key, v):
        return  # the backward is a second function: not persisted yet

    def _call_op_by_op(self, args, key, v=None):
        """The function itself (it draws random numbers: compiled, they would be frozen)."""
        return _run_numpy_code(self.fn, list(args))

    def _load_from_disk(self, key):
        return []

    def _unpack(self, v, args, flat, key=None):
        from .autograd.mode import is_grad_enabled
        from .custom import CallRule, through_rule
        from .tensor import Tensor
        outs = [Tensor._make(np.asarray(a)) for a in flat]
        leaves = []
        for a in args:
            flatten(a, leaves, dynamic_floats=True, objects=True)
        diff = [k for k, x in enumerate(leaves) if isinstance(x, Tensor) and x.requires_grad]
        if diff and is_grad_enabled():
            vjp_name, vjp_fn, _, floats, avals = v.vjp
            positions = tuple(floats.index(k) for k in diff)
            saved = [x if isinstance(x, Tensor) else np.asarray(x) for x in leaves]
            outs = list(through_rule(getattr(self.fn, "__name__", "compiled"), outs,
                                     [leaves[k] for k in diff], saved,
                                     CallRule(vjp_name, vjp_fn, avals, positions)))
        return unflatten(v.out_spec, iter(outs))

    def backward_source(self, *args):
        """The generated backward (VJP) used for these arguments."""
        return _Text(self._variant_for(args).vjp[2])


def compile(fn):  # noqa: A001  (srcgrad.compile, like torch.compile)
    """srcgrad.compile(f): f's forward as generated code; tensor outputs support
    .backward() through f's generated backward."""
    return CompiledFunction(fn)
