"""Custom derivative rules: JAX's `custom_vjp`, PyTorch's `autograd.Function`, and new
elementwise primitives given by a sympy formula.

One mechanism serves both rule styles. The user's forward runs (and is recorded) as
usual; its outputs then pass through one `custom` node — the identity on values — whose
derivative rule is the user's backward, traced into IR on the spot (`inline`). Gradients
therefore never flow through the forward's own ops, the backward is ordinary IR (fused,
printed, differentiated again), and the rule appears by name in the IR.
"""
from __future__ import annotations

import ast
import functools

import numpy as np

from .autograd.recording import apply
from .codegen import astbuild as A
from .ops.registry import Op, register

# -- tracing a Python function of tensors into an existing graph --------------------------


def inline(graph, fn, values, what):
    """Run fn on tensors standing for `values` (IR Values of `graph`), recording, and
    re-emit what it computed into `graph`. Returns fn's outputs as Values (None kept).

    The stand-ins hold zeros: a rule must not take data-dependent Python decisions."""
    from .autograd.engine import Walk, record_graph
    from .tensor import Tensor
    from .trace import tracing
    with tracing() as tracer, np.errstate(all="ignore"):
        stand_ins = []
        for v in values:
            t = Tensor._make(np.zeros(v.shape, v.dtype))
            tracer.add_input(t)
            stand_ins.append(t)
        result = fn(*stand_ins)
        if tracer.guards:
            raise TypeError(f"{what}: a custom derivative rule took a data-dependent decision "
                            f"(bool()/float() of a tensor); rules must be straight-line code")
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    traced = [o for o in outs if isinstance(o, Tensor) and (o.grad_fn is not None or tracer.is_input(o))]
    walk = Walk(traced + stand_ins)
    sub, vals = record_graph(walk)
    mapping = {}
    for t, v in zip(stand_ins, values):
        i = walk.value_of(t)
        if i is not None:
            mapping[vals[i].id] = v
    for i, d in enumerate(walk.values):
        if d[0] == "const":  # an array the rule made itself: a constant of the graph
            _, fn_, j = d
            mapping[vals[i].id] = constant(graph, fn_.saved[j][0])
    for n in sub.nodes:
        ins = [mapping[x.id] if hasattr(x, "id") else x for x in n.inputs]
        res = graph.emit(n.op, ins, **n.attrs)
        res = res if isinstance(res, tuple) else (res,)
        for o, r in zip(n.outputs, res):
            mapping[o.id] = r
    out_values = []
    for o in outs:
        if o is None:
            out_values.append(None)
        elif isinstance(o, Tensor) and walk.value_of(o) is not None:
            out_values.append(mapping[vals[walk.value_of(o)].id])
        else:
            arr = o._data if isinstance(o, Tensor) else np.asarray(o)
            out_values.append(constant(graph, arr))
    return out_values


def _const_impl(data, dtype, shape):
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _const_emit(args, attrs, node):
    arr = _const_impl(attrs["data"], attrs["dtype"], attrs["shape"])
    if arr.size == 1:
        return A.npcall("full", A.literal(tuple(arr.shape)), A.num(arr.item()), A.dtype_expr(arr.dtype))
    return A.npcall("array", A.literal(arr.tolist()), A.dtype_expr(arr.dtype))


register(Op("constant", "special", _const_impl,
            infer=lambda inputs, attrs: [(tuple(attrs["shape"]), np.dtype(attrs["dtype"]))],
            vjp=lambda node, gs: [], emit=_const_emit,
            fmt_attrs=lambda attrs: f"{np.dtype(attrs['dtype']).name}{list(attrs['shape'])}"))


def constant(graph, arr):
    """A constant array as a node (its bytes are an attribute, so it is data, not code)."""
    arr = np.ascontiguousarray(arr)
    return graph.emit("constant", [], data=arr.tobytes(), dtype=arr.dtype.str, shape=tuple(arr.shape))


# -- the custom node ---------------------------------------------------------------------


def _custom_infer(inputs, attrs):
    return [(x.shape, x.dtype) for x in inputs[:attrs["n_out"]]]


def _custom_impl(*arrays, name, n_out, n_in, rule, saved_out=()):
    out = arrays[:n_out]
    return out[0] if n_out == 1 else tuple(out)


def _custom_vjp(node, gs):
    """Inputs: forward outputs (n_out), differentiable arguments (n_in), saved values.
    The user's rule maps (saved values, cotangents) to one cotangent per argument."""
    a = node.attrs
    n_out, n_in = a["n_out"], a["n_in"]
    saved = list(node.inputs[n_out + n_in:])
    for k, j in enumerate(a.get("saved_out", ())):
        if j is not None:
            saved[k] = node.outputs[j]
    graph = next(g for g in gs if g is not None).graph
    gs = [g if g is not None else graph.filled(0, o) for g, o in zip(gs, node.outputs)]
    if hasattr(a["rule"], "emit_ir"):
        grads = a["rule"].emit_ir(graph, saved, gs)
    else:
        grads = inline(graph, lambda *vs: a["rule"](vs[:len(saved)], vs[len(saved):]), list(saved) + gs,
                       a["name"])
    if len(grads) != n_in:
        raise TypeError(f"{a['name']}: the backward rule returned {len(grads)} gradients for {n_in} inputs")
    result = [None] * n_out
    for x, gx in zip(node.inputs[n_out:n_out + n_in], grads):
        if gx is not None and gx.shape != x.shape:
            gx = gx.sum_to(x.shape) if len(gx.shape) >= len(x.shape) else gx.broadcast_to(x.shape)
        result.append(None if gx is None else gx.cast(x.dtype))
    return result + [None] * len(saved)



def _custom_emit(args, attrs, node):
    n = attrs["n_out"]
    return args[0] if n == 1 else __import__("ast").Tuple(elts=list(args[:n]), ctx=__import__("ast").Load())


register(Op("custom", "special", _custom_impl, infer=_custom_infer, vjp=_custom_vjp, emit=_custom_emit,
            fmt_attrs=lambda attrs: f"{attrs['name']}", torch_name="CustomBackward0"))


def through_rule(name, outputs, inputs, saved, rule):
    """Pass `outputs` (tensors) through a `custom` node whose derivative is `rule`."""
    from .tensor import Tensor
    outputs = list(outputs)
    ins = [x for x in inputs]
    # a saved output is the node's output in the backward (differentiable again through
    # this node, as PyTorch's saved outputs are)
    saved_out = tuple(next((j for j, o in enumerate(outputs) if s is o), None) for s in saved)
    saved = [s if isinstance(s, Tensor) else np.asarray(s) for s in saved]
    attrs = dict(name=name, n_out=len(outputs), n_in=len(ins), rule=rule)
    if any(j is not None for j in saved_out):
        attrs["saved_out"] = saved_out
    res = apply(_custom_op(), outputs + ins + saved, attrs)
    return res if isinstance(res, tuple) else (res,)


class Rule:
    """A derivative rule as a node attribute: callable, and equal to another rule when it
    is the same user function with the same settings (so cache keys stay stable across
    calls, as a fresh closure per call would not be)."""

    def __init__(self, call, *identity):
        self.call = call
        self.identity = identity
        try:
            hash(identity)
        except TypeError:
            self.identity = tuple(id(x) for x in identity)

    def __call__(self, saved, gs):
        return self.call(saved, gs)

    def __eq__(self, other):
        return isinstance(other, Rule) and self.identity == other.identity

    def __hash__(self):
        return hash(self.identity)

    def __repr__(self):
        return f"<rule {self.identity[0]!r}>"


def _custom_op():
    from .ops import get
    return get("custom")


# -- JAX style ---------------------------------------------------------------------------


class custom_vjp:
    """`@custom_vjp` on f(*args); then `f.defvjp(fwd, bwd)` with fwd(*args) -> (out,
    residuals) and bwd(residuals, g) -> one cotangent per argument (None for none)."""

    def __init__(self, fn):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.fwd = None
        self.bwd = None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd
        return self

    def __call__(self, *args):
        from .tensor import Tensor
        if self.fwd is None:
            raise TypeError(f"{self.__name__}: call defvjp(fwd, bwd) before using it")
        if not any(isinstance(a, Tensor) for a in args):
            return self.fn(*args)
        out, residuals = self.fwd(*args)
        single = not isinstance(out, (tuple, list))
        outs = [out] if single else list(out)
        res = list(residuals) if isinstance(residuals, (tuple, list)) else [residuals]
        tensors = [a if isinstance(a, Tensor) else np.asarray(a) for a in args]
        bwd = self.bwd

        packed = isinstance(residuals, (tuple, list))

        def rule(saved, gs):
            g = gs[0] if single else tuple(gs)
            r = bwd(tuple(saved) if packed else saved[0], g)
            return list(r) if isinstance(r, (tuple, list)) else [r]
        result = through_rule(self.__name__, outs, tensors, res, Rule(rule, bwd, single, packed))
        return result[0] if single else tuple(result)


# -- PyTorch style -------------------------------------------------------------------------


class FunctionCtx:
    def __init__(self):
        self.saved_tensors = ()
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        self.saved_tensors = tuple(tensors)

    def mark_dirty(self, *tensors):
        """These inputs were written in place by forward, which returns them: the tensor
        returned is the input itself, its history now this node (PyTorch's)."""
        self.dirty = tuple(tensors)

    def set_materialize_grads(self, value):
        """Accepted; an output without a gradient still passes zeros to backward (which a
        backward written to expect None for it computes with alike)."""
        self.materialize_grads = bool(value)

    def mark_non_differentiable(self, *tensors):
        """These outputs get no gradient: they come out detached (grad_fn None), as do
        integer outputs (PyTorch's)."""
        self.non_differentiable = tuple(tensors)


class Function:
    """PyTorch's `torch.autograd.Function`: subclass with static `forward(ctx, *args)` and
    `backward(ctx, *grads)`; call `MyFn.apply(*args)`. Tensors for backward go through
    `ctx.save_for_backward`; other attributes set on ctx in forward are available too."""

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's other style: forward(*args) without ctx, and this fills ctx."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        from .tensor import Tensor
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        from .autograd.mode import no_grad
        with no_grad():  # (forward's ops are not recorded: this node is their derivative)
            if cls.setup_context is not Function.setup_context:  # (forward takes no ctx)
                out = cls.forward(*args)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args)
        single = not isinstance(out, (tuple, list))
        outs = [out] if single else list(out)
        saved = list(ctx.saved_tensors)
        tensors = [a if isinstance(a, Tensor) else np.asarray(a, dtype=np.float64)
                   if isinstance(a, (float, np.ndarray)) else a for a in args]
        diff_args = [a for a in tensors if isinstance(a, (Tensor, np.ndarray))]
        positions = [k for k, a in enumerate(tensors) if isinstance(a, (Tensor, np.ndarray))]
        fixed = getattr(ctx, "non_differentiable", ())
        dirty = getattr(ctx, "dirty", ())
        for t in dirty:
            if isinstance(t, Tensor) and t.grad_fn is None and t.requires_grad:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        attrs = {k: v for k, v in vars(ctx).items()
                 if k not in ("saved_tensors", "needs_input_grad", "non_differentiable", "dirty")}
        shapes = [np.shape(a._data if isinstance(a, Tensor) else a) for a in tensors]

        def rule(saved_vals, gs):
            c = FunctionCtx()
            c.saved_tensors = tuple(saved_vals)
            c.needs_input_grad = ctx.needs_input_grad
            vars(c).update(attrs)
            gs = list(gs)  # (an output without a gradient still gets one: zeros, as PyTorch's)
            gs = [gs.pop(0) if k in live else Tensor._make(np.zeros(np.shape(o._data), o._data.dtype))
                  for k, o in enumerate(outs)]
            r = cls.backward(c, *gs)
            r = list(r) if isinstance(r, (tuple, list)) else [r]
            if len(r) != len(args):
                raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of "
                                   f"gradients (expected {len(args)}, got {len(r)})")
            for k, gr in enumerate(r):  # (a gradient may broadcast to its input's shape, summed)
                shape = getattr(gr, "shape", None)
                if shape is not None and k in positions and not _sums_to(tuple(shape), shapes[k]):
                    raise RuntimeError(f"Function {cls.__name__}Backward returned an invalid gradient at "
                                       f"index {k} - got {list(shape)} but expected shape compatible "
                                       f"with {list(shapes[k])}")
            return [r[k] for k in positions]
        frozen = tuple(sorted((k, v) for k, v in attrs.items()))
        differentiable = [o for o in outs if not (isinstance(o, Tensor) and (
            any(o is t for t in fixed) or o.dtype.kind not in "fc"))]
        live = {k for k, o in enumerate(outs) if any(o is d for d in differentiable)}
        result = list(through_rule(cls.__name__, differentiable, diff_args, saved,
                                   Rule(rule, cls, frozen, ctx.needs_input_grad, tuple(positions)))
                      ) if differentiable else []
        result = [result.pop(0) if k in live else o.detach() if isinstance(o, Tensor) else o
                  for k, o in enumerate(outs)]
        for k, o in enumerate(outs):  # (an input written in place comes back as itself)
            if any(o is t for t in dirty) and result[k] is not o:
                o.grad_fn, o._output_nr = result[k].grad_fn, result[k]._output_nr
                o._requires_grad = result[k]._requires_grad
                o._vc.bump()
                result[k] = o
        return result[0] if single else tuple(result)


def _sums_to(shape, target):
    """Whether a gradient of `shape` is one of `target` or broadcasts to it (summed back)."""
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


# -- a new elementwise primitive from a sympy formula --------------------------------------


def register_elementwise(name, formula, impl=None):
    """Add an elementwise op given by a sympy formula: `formula(*symbols) -> expression`.

    Its derivative is sympy's; it fuses with its neighbours; `impl` (numpy) defaults to
    the formula printed as numpy. Returns a function applying it to tensors/arrays."""
    from .ops.elementwise import _infer, elementwise
    if impl is None:
        import inspect as _inspect
        from .codegen.kernels import kernel_function
        from .symbolic.kernel import canon_symbol
        n = len(_inspect.signature(formula).parameters)
        expr = formula(*[canon_symbol(i) for i in range(n)])

        def impl(*arrays):
            shape = np.broadcast_shapes(*[np.shape(a) for a in arrays])
            dtype = np.result_type(*arrays)
            return kernel_function((expr,), ((shape, dtype),),
                                   tuple((np.shape(a), np.asarray(a).dtype) for a in arrays))(*arrays)[0]
    op = elementwise(name, formula, impl, infer=_infer, torch_name=f"{name.capitalize()}Backward0")

    def apply_op(*args):
        from .numpy.elementwise import elementwise as run
        return run(name, *args)
    apply_op.__name__ = name
    apply_op.op = op
    return apply_op


# -- calling another generated function ----------------------------------------------------


def _call_infer(inputs, attrs):
    return [(tuple(s), np.dtype(d)) for s, d in attrs["avals"]]


def _call_impl(*arrays, fn, name, avals):
    out = fn(*arrays)
    return tuple(out) if len(avals) > 1 else out[0]


def _call_emit(args, attrs, node):
    call = A.call(attrs["name"], *args)
    if len(attrs["avals"]) == 1:  # generated functions return a tuple, of one here
        return ast.Subscript(value=call, slice=A.num(0), ctx=ast.Load())
    return call


# `call`: run a generated function (by its registered name) — how the backward of a
# srcgrad.compile'd function appears inside the backward of the code that calls it.
register(Op("call", "special", _call_impl, infer=_call_infer, vjp=None, emit=_call_emit,
            fmt_attrs=lambda attrs: attrs["name"], torch_name="CompiledBackward0"))


class CallRule:
    """A rule that emits one `call` of an already generated VJP function."""

    def __init__(self, name, fn, grad_avals, positions):
        self.name, self.fn, self.grad_avals, self.positions = name, fn, grad_avals, positions

    def emit_ir(self, graph, saved, gs):
        outs = graph.emit("call", list(saved) + list(gs), fn=self.fn, name=self.name,
                          avals=tuple(self.grad_avals))
        outs = outs if isinstance(outs, tuple) else (outs,)
        return [outs[k] for k in self.positions]

    def __eq__(self, other):
        return isinstance(other, CallRule) and other.fn is self.fn and other.positions == self.positions

    def __hash__(self):
        return hash((id(self.fn), self.positions))
