"""Measuring one workload with one tool: load it, check its gradient, time it.

Used by benchmarks/run.py (one subprocess per workload and tool) and by
tests/test_benchmarks.py (the gradient checks at the tiny size).

Tools:
    srcgrad   srcgrad.value_and_grad of the workload's numpy objectives, unmodified
    torch     PyTorch eager: the workload's torch_objectives, torch.autograd.grad
    autograd  HIPS autograd: the same numpy code with `np` rebound to autograd.numpy
    jax       jax.jit(jax.value_and_grad(...)): the same code with `np` rebound to jax.numpy
              (without jit when the code takes Python decisions on traced values)
"""
from __future__ import annotations

import importlib.util
import os
import statistics
import time
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD_DIR = os.path.join(HERE, "workloads")
TOOLS = ["srcgrad", "torch", "autograd", "jax"]


# -- workloads ---------------------------------------------------------------------------
def load_workload(name, np_module=None):
    """A fresh copy of benchmarks/workloads/<name>.py; with np_module, its `np` global
    rebound, so every function of the copy computes with that module instead."""
    path = os.path.join(WORKLOAD_DIR, name + ".py")
    tag = "numpy" if np_module is None else np_module.__name__.replace(".", "_")
    spec = importlib.util.spec_from_file_location(f"srcgrad_bench_{name}_{tag}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if np_module is not None:
        mod.np = np_module
    return mod


def objectives(mod):
    return list(getattr(mod, "OBJECTIVES", [mod.forward]))


def objective_args(mod, inputs):
    fn = getattr(mod, "objective_args", None)
    return tuple(inputs) if fn is None else tuple(fn(*inputs))


# -- tools -------------------------------------------------------------------------------
class Tool:
    """How one AD tool differentiates a workload: its objectives, their compiled
    value_and_grad, its array type."""
    name = "?"
    note = ""

    def objectives(self, name):
        return objectives(load_workload(name))

    def convert(self, inputs):
        return inputs

    def value_and_grad(self, fn, argnums):
        raise NotImplementedError

    def block(self, results):
        return results

    def to_numpy(self, x):
        return np.asarray(x)


class Srcgrad(Tool):
    name = "srcgrad"

    def __init__(self):
        import srcgrad  # run.py sets SRCGRAD_CACHE=0: the first call is never a disk-cache hit
        self.srcgrad = srcgrad
        self.transformed = []

    def value_and_grad(self, fn, argnums):
        f = self.srcgrad.value_and_grad(fn, argnums=argnums)
        self.transformed.append(f)
        return f

    def source_lines(self, args):
        return sum(len(f.source(*args).splitlines()) for f in self.transformed)

    def kept_bytes(self):
        """Bytes of the arrays the generated functions keep between calls (srcgrad's
        codegen/scratch.py): allocated by an earlier call, so a warm call's tracemalloc
        peak does not see them, though the call uses them."""
        pools = {}  # (one pool may serve every function: count it once)
        for f in self.transformed:
            for variants in f._variants.values():
                for v in variants:
                    pool = getattr(v.fn, "__globals__", {}).get("scratch")
                    if pool is not None:
                        pools[id(pool)] = pool
        return sum(sum(a.nbytes for arrays in pool._free.values() for a in arrays) for pool in pools.values())

    def sources(self, args):
        return [str(f.source(*args)) for f in self.transformed]


class Torch(Tool):
    name = "torch"

    def __init__(self):
        import torch
        torch.set_num_threads(1)
        self.torch = torch

    def objectives(self, name):
        mod = load_workload(name)
        if not hasattr(mod, "torch_objectives"):
            raise NotImplementedError(f"{name} has no PyTorch version")
        return mod.torch_objectives(self.torch)

    def convert(self, inputs):
        return tuple(self.torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in inputs)

    def value_and_grad(self, fn, argnums):
        torch = self.torch

        def vg(*args):
            args = list(args)
            for i in argnums:
                args[i] = args[i].detach().requires_grad_()
            out = fn(*args)
            grads = torch.autograd.grad(out, [args[i] for i in argnums], allow_unused=True)
            grads = tuple(torch.zeros_like(args[i]) if g is None else g for i, g in zip(argnums, grads))
            return out.detach(), grads
        return vg

    def to_numpy(self, x):
        return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


class Autograd(Tool):
    name = "autograd"

    def __init__(self):
        import autograd
        import autograd.numpy
        self.autograd = autograd

    def objectives(self, name):
        mod = load_workload(name, self.autograd.numpy)
        if "autograd" not in getattr(mod, "PEERS", ("autograd", "jax")):
            raise NotImplementedError(f"{name} does not run under HIPS autograd")
        return objectives(mod)

    def value_and_grad(self, fn, argnums):
        vg = self.autograd.value_and_grad(fn, argnum=tuple(argnums))

        def call(*args):
            value, grads = vg(*args)
            return value, tuple(grads)
        return call


class Jax(Tool):
    name = "jax"

    def __init__(self):
        import jax
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        import jax.numpy as jnp
        self.jax, self.jnp = jax, jnp

    def objectives(self, name):
        mod = load_workload(name, self.jnp)
        if "jax" not in getattr(mod, "PEERS", ("autograd", "jax")):
            raise NotImplementedError(f"{name} does not run under JAX")
        return objectives(mod)

    def convert(self, inputs):
        return tuple(self.jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in inputs)

    def value_and_grad(self, fn, argnums):
        jax = self.jax
        vg = jax.value_and_grad(fn, argnums=tuple(argnums))
        state = {}

        def call(*args):
            f = state.get("f")
            if f is None:
                static = tuple(i for i, a in enumerate(args) if not hasattr(a, "shape"))
                jitted = jax.jit(vg, static_argnums=static)
                try:
                    out = jitted(*args)
                    state["f"] = jitted
                    return out
                except (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                        jax.errors.TracerIntegerConversionError):
                    self.note = "no jit: Python decisions on traced values"
                    state["f"] = f = vg
            return f(*args)
        return call

    def block(self, results):
        return self.jax.block_until_ready(results)


def make_tool(name):
    return {"srcgrad": Srcgrad, "torch": Torch, "autograd": Autograd, "jax": Jax}[name]()


def tool_available(name):
    mod = {"srcgrad": "srcgrad", "torch": "torch", "autograd": "autograd", "jax": "jax"}[name]
    return importlib.util.find_spec(mod) is not None


class Prepared:
    """A workload ready to differentiate with one tool."""

    def __init__(self, name, tool, size):
        self.name, self.tool, self.size = name, tool, size
        self.mod = load_workload(name)
        self.argnums = tuple(self.mod.ARGNUMS)
        self.inputs = self.mod.make_inputs(size)
        self.native = tool.convert(self.inputs)
        self.grad_fns = [tool.value_and_grad(f, self.argnums) for f in tool.objectives(name)]

    def gradient(self):
        """One derivative of the workload: objective arguments (in the tool's arrays),
        then every objective's (value, gradients)."""
        args = objective_args(self.mod, self.native)
        return self.tool.block([g(*args) for g in self.grad_fns])

    def forward(self):
        return self.mod.forward(*self.inputs)

    def check(self, results, **kw):
        """Each objective's gradient against central finite differences of the workload's
        numpy objective; returns the worst error relative to its tolerance (<= 1 passes)."""
        args = objective_args(self.mod, self.inputs)
        worst = 0.0
        for fn, (value, grads) in zip(objectives(self.mod), results):
            grads = [self.tool.to_numpy(g) for g in grads]
            worst = max(worst, check_gradient(fn, args, self.argnums, grads, **kw))
        return worst


# -- checking ----------------------------------------------------------------------------
class GradientMismatch(AssertionError):
    pass


def check_gradient(fn, args, argnums, grads, ndirs=3, eps=1e-6, rtol=1e-5, seed=1):
    """Directional derivatives of scalar fn at args, along `ndirs` random directions in the
    arguments `argnums`, by central differences, against <grads, direction>. Raises
    GradientMismatch on a disagreement; returns max(error / tolerance) otherwise."""
    rng = np.random.default_rng(seed)
    f0 = float(fn(*args))
    if len(grads) != len(argnums):
        raise GradientMismatch(f"{len(grads)} gradients for argnums {argnums}")
    for i, g in zip(argnums, grads):
        if np.shape(g) != np.shape(args[i]):
            raise GradientMismatch(f"gradient of argument {i} has shape {np.shape(g)}, "
                                   f"the argument {np.shape(args[i])}")
    worst = 0.0
    for _ in range(ndirs):
        dirs = {i: rng.standard_normal(np.shape(args[i])) for i in argnums}

        def at(t):
            moved = list(args)
            for i in argnums:
                moved[i] = args[i] + t * dirs[i]
            return float(fn(*moved))
        numeric = (at(eps) - at(-eps)) / (2 * eps)
        terms = [np.asarray(g, dtype=np.float64) * dirs[i] for i, g in zip(argnums, grads)]
        analytic = float(sum(np.sum(t) for t in terms))
        scale = float(sum(np.sum(np.abs(t)) for t in terms))
        tol = rtol * scale + 1e-13 * (abs(f0) + 1) / eps
        err = abs(analytic - numeric)
        if not np.isfinite(analytic) or err > tol:
            raise GradientMismatch(f"{getattr(fn, '__name__', 'objective')}: directional derivative "
                                   f"{analytic!r}, finite differences {numeric!r} (tolerance {tol:.3g})")
        worst = max(worst, err / tol if tol > 0 else 0.0)
    return worst


# -- timing ------------------------------------------------------------------------------
def time_calls(fn, min_time=0.5, min_calls=3):
    """Median wall time of warm calls of fn, calling it for at least min_time seconds
    (and min_calls times). Returns (median seconds, number of calls)."""
    times = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        times.append(t1 - t0)
        if t1 - start >= min_time and len(times) >= min_calls:
            return statistics.median(times), len(times)


#: above this many generated lines the memory column is skipped: under tracemalloc, CPython
#: finds the current line of every allocation by scanning the code object's line table, so
#: one traced call of an n-line function costs O(n^2) (an lstm at c=1024: ~13 minutes)
MEMORY_LINE_LIMIT = 20000


def peak_memory(fn):
    """Peak bytes allocated (and traced by tracemalloc, which sees numpy's buffers) while fn
    runs, counting what it returns."""
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


# -- one cell ----------------------------------------------------------------------------
def first_call(name, size, emit):
    """Only srcgrad's first gradient call in this process (the disk cache as configured by
    the environment: run.py times a second process with a warm cache this way)."""
    prepared = Prepared(name, make_tool("srcgrad"), size)
    t0 = time.perf_counter()
    prepared.gradient()
    emit("first_call", time.perf_counter() - t0)


def measure(name, tool_name, size, emit, min_time=0.5, profile=None):
    """Measure workload `name` with `tool_name` at `size`, calling emit(key, value) as each
    number becomes known (so that a time limit still leaves the earlier ones)."""
    tool = make_tool(tool_name)
    if tool_name == "srcgrad":
        mod = load_workload(name)
        inputs = mod.make_inputs(size)
        F, n = time_calls(lambda: mod.forward(*inputs), min_time)
        emit("F", F)
        emit("F_calls", n)
    prepared = Prepared(name, tool, size)
    t0 = time.perf_counter()
    if profile is not None:
        results = profile.runcall(prepared.gradient)
    else:
        results = prepared.gradient()
    emit("first_call", time.perf_counter() - t0)
    if tool.note:
        emit("note", tool.note)
    try:
        emit("check", prepared.check(results))
    except GradientMismatch as e:
        emit("check_error", str(e))
    G, n = time_calls(prepared.gradient, min_time)
    emit("G", G)
    emit("G_calls", n)
    if tool_name == "srcgrad":
        args = objective_args(prepared.mod, prepared.native)
        lines = tool.source_lines(args)
        emit("lines", lines)
        if lines <= MEMORY_LINE_LIMIT:
            memory(prepared, tool, emit)
        else:
            emit("mem_skipped", f"generated function of {lines} lines: tracemalloc looks up the "
                                f"line number of every allocation, linear in the function's length")
    elif tool_name == "autograd":  # (numpy underneath: tracemalloc sees its tape too)
        memory(prepared, tool, emit)
    return prepared


def memory(prepared, tool, emit):
    """Peak memory of a gradient call and of the numpy forward."""
    emit("mem_F", peak_memory(prepared.forward))
    emit("mem_G", peak_memory(prepared.gradient) + getattr(tool, "kept_bytes", lambda: 0)())
    # the arguments are in memory during either call: with them, the ratio is how much
    # more memory the process needs to take the gradient
    emit("mem_args", sum(getattr(a, "nbytes", 0) for a in prepared.inputs))
