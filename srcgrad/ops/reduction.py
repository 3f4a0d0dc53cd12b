"""Reductions and scans: hand-written derivative rules that emit IR (broadcasts back over
the reduced axes; shifts, flips and linear recurrences along a scanned one)."""
import ast

import numpy as np

from ..codegen import astbuild as A
from ..ir.graph import Value
from .indexing import Slice, index_ast, numpy_index
from .registry import Op, ShapeError, register, result_dtype


def _reduced_shape(shape, axis, keepdims):
    if axis is None:
        return tuple(1 for _ in shape) if keepdims else ()
    if keepdims:
        return tuple(1 if i in axis else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axis)


def _kept(g, x, axis, keepdims):
    """Reshape a reduction's cotangent so it broadcasts against the input."""
    if keepdims or axis is None:
        return g
    return g.reshape(_reduced_shape(x.shape, axis, True))


def _reduce_kwargs(args, attrs):
    kw = {}
    if attrs["axis"] is not None:
        ax = attrs["axis"]
        kw["axis"] = A.literal(ax[0] if len(ax) == 1 else ax)
    if attrs["keepdims"]:
        kw["keepdims"] = A.const(True)
    return kw


#: a float sum over this many elements or more, adding at most SHORT_SUM of them into each
#: result, is written as einsum: numpy's pairwise `sum` along a short axis is 3-5x slower
#: (for so few terms both add them in the same order)
EINSUM_SUM_SIZE = 1 << 14
SHORT_SUM = 16


def _einsum_sum(arg, x, axes, out_shape):
    """`np.einsum('abc->ac', x)` (reshaped to out_shape) for a large sum of short runs, or
    None."""
    import string
    axes = range(len(x.shape)) if axes is None else axes
    if x.dtype.kind != "f" or x.size < EINSUM_SUM_SIZE or _count(x.shape, axes) > SHORT_SUM:
        return None
    labels = string.ascii_letters[:len(x.shape)]
    kept = "".join(c for d, c in enumerate(labels) if d not in set(axes))
    e = A.npcall("einsum", A.const(f"{labels}->{kept}"), arg)
    kept_shape = tuple(n for d, n in enumerate(x.shape) if d not in set(axes))
    return e if tuple(out_shape) == kept_shape else A.method(e, "reshape", A.literal(tuple(out_shape)))


def summed(arg, x, **kwargs):
    """`x.sum(...)`: the method skips np.sum's Python-level argument handling (3.3 us for
    np.sum of 14 numbers here, 1.2 us for the method: in a loop over small vectors, a fifth
    of the time). np.sum for a 0-d value, which may be a Python number at run time."""
    if isinstance(x, Value) and len(x.shape) >= 1:
        return A.method(arg, "sum", **kwargs)
    return A.npcall("sum", arg, **kwargs)


def _sum_emit(args, attrs, node):
    fast = _einsum_sum(args[0], node.inputs[0], attrs["axis"], node.out.shape)
    return fast if fast is not None else summed(args[0], node.inputs[0], **_reduce_kwargs(args, attrs))


def _count(shape, axis):
    axes = range(len(shape)) if axis is None else axis
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _infer_reduce(float_result):
    def infer(inputs, attrs):
        (x,) = inputs
        shape = _reduced_shape(x.shape, attrs["axis"], attrs["keepdims"])
        return [(shape, _accumulated_dtype(x.dtype, float_result))]
    return infer


def _sum_vjp(node, gs):
    (g,), x = gs, node.inputs[0]
    return [_kept(g, x, node.attrs["axis"], node.attrs["keepdims"]).broadcast_to(x.shape)]


def _mean_vjp(node, gs):
    (g,), x = gs, node.inputs[0]
    n = _count(x.shape, node.attrs["axis"])
    return [(_kept(g, x, node.attrs["axis"], node.attrs["keepdims"]) / n).broadcast_to(x.shape)]


register(Op("sum", "reduction", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
            infer=_infer_reduce(False), vjp=_sum_vjp,
            emit=_sum_emit))
def _mean_emit(args, attrs, node):
    """`np.sum(x) / n` for float32/64: what np.mean computes (the same pairwise sum, one
    true division), without its ~3 us of Python-level argument handling per call."""
    x = node.inputs[0]
    if x.dtype not in (np.float32, np.float64):
        return A.npcall("mean", args[0], **_reduce_kwargs(args, attrs))
    total = _sum_emit(args, attrs, node)
    return ast.BinOp(total, ast.Div(), A.const(_count(x.shape, attrs["axis"])))


register(Op("mean", "reduction", lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
            infer=_infer_reduce(True), vjp=_mean_vjp, emit=_mean_emit))


# -- sum_to: undo broadcasting (the derivative of broadcast_to) --------------------------
def _sum_to_axes(src, dst):
    lead = len(src) - len(dst)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(dst) if d == 1 and src[lead + i] != 1)
    return lead, axes


def _sum_to_impl(x, shape):
    lead, axes = _sum_to_axes(x.shape, shape)
    return np.sum(x, axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)


def _sum_to_infer(inputs, attrs):
    (x,) = inputs
    shape = tuple(attrs["shape"])
    if len(shape) > len(x.shape) or np.broadcast_shapes(shape, x.shape) != tuple(x.shape):
        raise ShapeError(f"cannot sum shape {tuple(x.shape)} down to {shape}")
    return [(shape, x.dtype)]


def _sum_to_emit(args, attrs, node):
    x = node.inputs[0]
    shape = tuple(attrs["shape"])
    lead, axes = _sum_to_axes(x.shape, shape)
    fast = _einsum_sum(args[0], x, axes, shape)
    if fast is not None:
        return fast
    keep = [a for a in axes if a >= lead]
    if not keep:  # only leading axes: a plain sum gives the shape already
        return summed(args[0], x, axis=A.literal(axes[0] if len(axes) == 1 else axes))
    if lead == 0:
        return summed(args[0], x, axis=A.literal(axes[0] if len(axes) == 1 else axes), keepdims=A.const(True))
    total = summed(args[0], x, axis=A.literal(axes), keepdims=A.const(True))
    return A.method(total, "reshape", A.literal(shape))


register(Op("sum_to", "reduction", _sum_to_impl, infer=_sum_to_infer,
            vjp=lambda node, gs: [gs[0].broadcast_to(node.inputs[0].shape)],
            emit=_sum_to_emit, torch_name="SumBackward1"))


# -- norm ---------------------------------------------------------------------------------
def _norm_impl(x, ord, axis, keepdims):
    if ord in (None, 2, "fro"):
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    raise NotImplementedError(f"norm of order {ord!r} is not supported yet")


def _norm_vjp(node, gs):
    (g,), x, n = gs, node.inputs[0], node.out
    axis, keepdims, ord = node.attrs["axis"], node.attrs["keepdims"], node.attrs["ord"]
    g = _kept(g, x, axis, keepdims)
    if ord == 1:
        return [g * x.graph.emit("sign", [x])]
    n = _kept(n, x, axis, keepdims)
    # d|x| = x / |x|, and 0 (not NaN) where the norm is 0, as PyTorch does
    safe = x.graph.emit("where", [x.graph.emit("eq", [n, 0]), 0, g / n])
    return [x * safe]


def _norm_emit(args, attrs, node):
    # written exactly as the forward computes it, for every shape and axis
    kw = _reduce_kwargs(args, attrs)
    v = node.inputs[0]
    if attrs["ord"] == 1:
        return summed(A.npcall("abs", args[0]), v, **kw)
    x = args[0]
    return A.npcall("sqrt", summed(A.binop(x, ast.Mult(), x), v, **kw))


register(Op("norm", "reduction", _norm_impl, infer=_infer_reduce(True), vjp=_norm_vjp,
            emit=_norm_emit, torch_name="NormBackward1"))


# == the numpy surface: extrema, products, scans, index reductions =========================
def _accumulated_dtype(x_dtype, float_result):
    """numpy's result dtype of sum/prod/cumsum: small integers and bools widen to 64 bits."""
    dtype = np.dtype(x_dtype)
    if float_result and dtype.kind not in "fc":
        return np.dtype(np.float64)
    if dtype.kind == "b" or (dtype.kind == "i" and dtype.itemsize < 8):
        return np.dtype(np.int64)
    if dtype.kind == "u" and dtype.itemsize < 8:
        return np.dtype(np.uint64)
    return dtype


def _extreme_infer(inputs, attrs):
    (x,) = inputs
    reduced = range(len(x.shape)) if attrs["axis"] is None else attrs["axis"]
    if any(x.shape[a] == 0 for a in reduced):
        raise ShapeError(f"zero-size array (shape {tuple(x.shape)}) has no identity for this reduction")
    return [(_reduced_shape(x.shape, attrs["axis"], attrs["keepdims"]), x.dtype)]


# -- amax / amin: ties share the gradient evenly ----------------------------------------
def _extreme_vjp(node, gs):
    """d max: the cotangent split evenly among the entries equal to the result (JAX's and
    HIPS autograd's rule for np.max, PyTorch's for amax and for max() over everything)."""
    (g,), x = gs, node.inputs[0]
    axis, keepdims = node.attrs["axis"], node.attrs["keepdims"]
    graph, m = g.graph, _kept(node.out, x, axis, keepdims)
    hit = graph.emit("eq", [x, m])
    if x.dtype.kind == "f":  # (a NaN maximum is the NaN entries': they get the gradient, as PyTorch's)
        both = graph.emit("logical_and", [graph.emit("isnan", [x]), graph.emit("isnan", [m])])
        hit = graph.emit("logical_or", [hit, both])
    hit = hit.cast(g.dtype)
    count = hit.sum(axis, keepdims=True)
    return [_kept(g, x, axis, keepdims) / count * hit]


def _np_reduction(np_name):
    """impl and emit of an op that is numpy's `np_name(x, axis=, keepdims=)`."""
    f = getattr(np, np_name)

    def impl(x, axis, keepdims):
        return np.asarray(f(x, axis=axis, keepdims=keepdims))

    def emit(args, attrs, node):
        return A.npcall(np_name, args[0], **_reduce_kwargs(args, attrs))
    return impl, emit


for _name, _np_name in (("amax", "max"), ("amin", "min")):
    _impl, _emit = _np_reduction(_np_name)
    register(Op(_name, "reduction", _impl, infer=_extreme_infer, vjp=_extreme_vjp, emit=_emit,
                torch_name=_name.capitalize() + "Backward0"))


# -- shift: move data along an axis, filling the vacated places with a constant ----------
def _shift_slices(n, axis, offset):
    """(destination, source) index templates of a shift by `offset` along `axis` (length n)."""
    keep = (Slice(None, None, None),) * axis
    if offset >= 0:
        return keep + (Slice(offset, None, None),), keep + (Slice(None, n - offset, None),)
    return keep + (Slice(None, n + offset, None),), keep + (Slice(-offset, None, None),)


def _shift_impl(x, axis, offset, fill):
    out = np.full(x.shape, fill, dtype=x.dtype)
    n = x.shape[axis]
    if abs(offset) < n:
        dst, src = _shift_slices(n, axis, offset)
        out[numpy_index(dst, ())] = x[numpy_index(src, ())]
    return out


def _shift_infer(inputs, attrs):
    (x,) = inputs
    if not 0 <= attrs["axis"] < len(x.shape):
        raise ShapeError(f"shift: axis {attrs['axis']} is out of range for shape {tuple(x.shape)}")
    return [(tuple(x.shape), x.dtype)]


def _shift_emit(args, attrs, node, target):
    x = node.inputs[0]
    axis, offset = attrs["axis"], attrs["offset"]
    n = x.shape[axis]
    full = A.assign(target, A.npcall("full", A.literal(tuple(x.shape)), A.literal(attrs["fill"]),
                                     A.dtype_expr(x.dtype)))
    if abs(offset) >= n:
        return [full]
    dst, src = _shift_slices(n, axis, offset)
    put = ast.Assign(targets=[ast.Subscript(value=A.name(target), slice=index_ast(dst, []), ctx=ast.Store())],
                     value=ast.Subscript(value=args[0], slice=index_ast(src, []), ctx=ast.Load()), lineno=0)
    return [full, put]


register(Op("shift", "shape", _shift_impl, infer=_shift_infer, emit=_shift_emit, statement=True,
            vjp=lambda node, gs: [gs[0].graph.emit("shift", [gs[0]], axis=node.attrs["axis"],
                                                   offset=-node.attrs["offset"], fill=0.0)],
            torch_name="ShiftBackward0"))


def _shift(v, axis, offset, fill):
    return v.graph.emit("shift", [v], axis=axis, offset=offset, fill=float(fill))


def _flip(v, axis):
    return v.graph.emit("getitem", [v], index=(Slice(None, None, None),) * axis + (Slice(None, None, -1),))


# -- linear_scan: out[j] = g[j] + a[j] * out[j -+ 1], the first-order linear recurrence ---
# It carries the derivative of cumprod without dividing by the data (exact with zeros),
# and its own derivative is the same recurrence run the other way, so every order is exact.
def _linear_scan_impl(g, a, axis, reverse):
    out = np.array(g, dtype=np.result_type(g, a))
    s, c = np.moveaxis(out, axis, 0), np.moveaxis(a, axis, 0)
    step = 1 if reverse else -1
    for j in (range(s.shape[0] - 2, -1, -1) if reverse else range(1, s.shape[0])):
        s[j] += c[j] * s[j + step]
    return out


def _linear_scan_infer(inputs, attrs):
    g, a = inputs
    if tuple(g.shape) != tuple(a.shape) or not 0 <= attrs["axis"] < len(g.shape):
        raise ShapeError(f"linear_scan: shapes {tuple(g.shape)} and {tuple(a.shape)} along axis {attrs['axis']}")
    return [(tuple(g.shape), result_dtype([g, a]))]


def _linear_scan_vjp(node, gs):
    (h,), (g, a) = gs, node.inputs
    axis, reverse = node.attrs["axis"], node.attrs["reverse"]
    step = 1 if reverse else -1
    # the adjoint recurrence runs the other way, with the coefficients moved one place along
    lam = h.graph.emit("linear_scan", [h, _shift(a, axis, step, 0.0)], axis=axis, reverse=not reverse)
    ga = lam * _shift(node.out, axis, -step, 0.0)
    return [lam.cast(g.dtype), ga.cast(a.dtype)]


def _linear_scan_emit(args, attrs, node, target):
    axis, reverse = attrs["axis"], attrs["reverse"]
    n = node.out.shape[axis]
    j, coef = target + "__j", target + "__a"

    def at(arr, k):
        item = A.name(j) if k == 0 else A.binop(A.name(j), ast.Add() if k > 0 else ast.Sub(), A.num(abs(k)))
        elts = [ast.Slice(lower=None, upper=None, step=None)] * axis + [item]
        return ast.Subscript(value=arr, slice=elts[0] if len(elts) == 1 else ast.Tuple(elts=elts, ctx=ast.Load()),
                             ctx=ast.Load())

    step = 1 if reverse else -1
    first = A.assign(target, A.npcall("array", args[0], dtype=A.dtype_expr(node.out.dtype)))
    if n < 2:
        return [first]
    steps = (A.num(n - 2), A.num(-1), A.num(-1)) if reverse else (A.num(1), A.num(n))
    if isinstance(args[1], ast.Name):
        coef = args[1].id
    else:  # an inline expression (a view): evaluated once, not once per step
        setup = A.assign(coef, args[1])
    update = ast.AugAssign(target=_store(at(A.name(target), 0)), op=ast.Add(),
                           value=A.binop(at(A.name(coef), 0), ast.Mult(), at(A.name(target), step)))
    loop = ast.For(target=A.store(j), iter=A.call("range", *steps), body=[update], orelse=[], lineno=0)
    return [first, loop] if isinstance(args[1], ast.Name) else [first, setup, loop]


def _store(subscript):
    subscript.ctx = ast.Store()
    return subscript


register(Op("linear_scan", "reduction", _linear_scan_impl, infer=_linear_scan_infer, vjp=_linear_scan_vjp,
            emit=_linear_scan_emit, statement=True, torch_name="LinearScanBackward0"))


# -- cumsum / cumprod ---------------------------------------------------------------------
def _scan_infer(inputs, attrs):
    (x,) = inputs
    if not 0 <= attrs["axis"] < len(x.shape):
        raise ShapeError(f"axis {attrs['axis']} is out of range for shape {tuple(x.shape)}")
    return [(tuple(x.shape), _accumulated_dtype(x.dtype, False))]


def _cumsum_vjp(node, gs):
    (g,), axis = gs, node.attrs["axis"]
    return [_flip(g.graph.emit("cumsum", [_flip(g, axis)], axis=axis), axis)]


def _cumprod_vjp(node, gs):
    """d x_j of sum_i g_i y_i = (prod_{k<j} x_k) * S_j, S_j = g_j + x_{j+1} S_{j+1}: no
    division, so zeros in x (one or several) give the exact gradient."""
    (g,), x, axis = gs, node.inputs[0], node.attrs["axis"]
    before = _shift(node.out, axis, 1, 1.0)            # exclusive cumulative product
    after = g.graph.emit("linear_scan", [g, _shift(x, axis, -1, 0.0)], axis=axis, reverse=True)
    return [before * after]


def _np_scan(np_name):
    f = getattr(np, np_name)

    def impl(x, axis):
        return f(x, axis=axis)

    def emit(args, attrs, node):
        return A.npcall(np_name, args[0], axis=A.num(attrs["axis"]))
    return impl, emit


for _name, _vjp in (("cumsum", _cumsum_vjp), ("cumprod", _cumprod_vjp)):
    _impl, _emit = _np_scan(_name)
    register(Op(_name, "reduction", _impl, infer=_scan_infer, vjp=_vjp, emit=_emit,
                torch_name=_name.capitalize() + "Backward0"))


# -- prod ---------------------------------------------------------------------------------
def _product_of_others(x, axis):
    """For each entry, the product of the other entries over `axis` (reduced axes): the
    exclusive cumulative products from both ends, so zeros need no special case."""
    axes = tuple(range(x.ndim)) if axis is None else tuple(axis)
    if len(axes) == 1:
        return _others_along(x, axes[0])
    # several axes: moved to the end and flattened into one
    rest = tuple(i for i in range(x.ndim) if i not in axes)
    perm = rest + axes
    v = x.transpose(perm) if perm != tuple(range(x.ndim)) else x
    moved = v.shape
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    v = v.reshape(tuple(x.shape[i] for i in rest) + (n,))
    others = _others_along(v, v.ndim - 1).reshape(moved)
    return others.transpose(tuple(np.argsort(perm).tolist())) if perm != tuple(range(x.ndim)) else others


def _others_along(v, axis):
    left = _shift(v.graph.emit("cumprod", [v], axis=axis), axis, 1, 1.0)
    right = _flip(_shift(v.graph.emit("cumprod", [_flip(v, axis)], axis=axis), axis, 1, 1.0), axis)
    return left * right


def _prod_vjp(node, gs):
    (g,), x = gs, node.inputs[0]
    axis, keepdims = node.attrs["axis"], node.attrs["keepdims"]
    if x.ndim == 0:
        return [g]
    return [_kept(g, x, axis, keepdims) * _product_of_others(x, axis)]


def _prod_infer(inputs, attrs):
    (x,) = inputs
    return [(_reduced_shape(x.shape, attrs["axis"], attrs["keepdims"]), _accumulated_dtype(x.dtype, False))]


register(Op("prod", "reduction", lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
            infer=_prod_infer, vjp=_prod_vjp,
            emit=lambda args, attrs, node: A.npcall("prod", args[0], **_reduce_kwargs(args, attrs))))


# -- reductions to integers and booleans: no gradient -----------------------------------
# Ops of their own (not numpy calls on the data) so that a compiled function recomputes
# them from its arguments.
def _arg_infer(inputs, attrs):
    (x,) = inputs
    axis = attrs["axis"]
    if (x.size if axis is None else x.shape[axis]) == 0:
        raise ShapeError(f"attempt to get argmax/argmin of an empty sequence (shape {tuple(x.shape)})")
    if axis is None:
        shape = (1,) * len(x.shape) if attrs["keepdims"] else ()
    else:
        shape = _reduced_shape(x.shape, (axis,), attrs["keepdims"])
    return [(shape, np.dtype(np.intp))]


def _arg_emit(name):
    def emit(args, attrs, node):
        kw = {}
        if attrs["axis"] is not None:
            kw["axis"] = A.num(attrs["axis"])
        if attrs["keepdims"]:
            kw["keepdims"] = A.const(True)
        return A.npcall(name, args[0], **kw)
    return emit


for _name in ("argmax", "argmin"):
    register(Op(_name, "reduction", _np_reduction(_name)[0], infer=_arg_infer, emit=_arg_emit(_name),
                differentiable=False))


def _test_infer(dtype):
    def infer(inputs, attrs):
        (x,) = inputs
        return [(_reduced_shape(x.shape, attrs["axis"], attrs["keepdims"]), np.dtype(dtype))]
    return infer


for _name, _dt in (("count_nonzero", np.intp), ("any", np.bool_), ("all", np.bool_)):
    _impl, _emit = _np_reduction(_name)
    register(Op(_name, "reduction", _impl, infer=_test_infer(_dt), emit=_emit, differentiable=False))


# -- running extremes: where the maximum (minimum) so far was attained ---------------------------
# np.maximum.accumulate(x) is x read at these positions, so its gradient goes to the entry
# that holds the running maximum (the latest of equal ones). One numpy expression:
#   np.maximum.accumulate(np.where(x == np.maximum.accumulate(x), positions, 0))
def _cumarg_impl(fn):
    def impl(x, axis):
        positions = np.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - axis - 1))
        return np.maximum.accumulate(np.where(x == fn.accumulate(x, axis=axis), positions, 0), axis=axis)
    return impl


def _cumarg_emit(fn):
    def emit(args, attrs, node):
        x, axis = args[0], attrs["axis"]
        n, ndim = node.inputs[0].shape[axis], len(node.inputs[0].shape)
        positions = A.npcall("arange", A.num(n))
        if ndim - axis - 1:
            positions = A.method(positions, "reshape", A.literal((-1,) + (1,) * (ndim - axis - 1)))
        running = A.call(A.attr(A.attr(A.name("np"), fn), "accumulate"), x, axis=A.num(axis))
        hit = ast.Compare(left=x, ops=[ast.Eq()], comparators=[running])
        return A.call(A.attr(A.attr(A.name("np"), "maximum"), "accumulate"),
                      A.npcall("where", hit, positions, A.num(0)), axis=A.num(axis))
    return emit


for _name, _fn in (("cumargmax", "maximum"), ("cumargmin", "minimum")):
    register(Op(_name, "reduction", _cumarg_impl(getattr(np, _fn)), emit=_cumarg_emit(_fn), differentiable=False,
                infer=lambda inputs, attrs: [(tuple(inputs[0].shape), np.dtype(np.intp))]))
