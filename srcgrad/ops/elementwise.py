"""Elementwise primitives: each is a scalar sympy formula broadcast over arrays.

No elementwise op has a hand-written derivative here: the backward of every one of
them (and of every fused region of them) is `sympy.diff` of its formula
(`symbolic.kernel.elementwise_vjp`). Where sympy's own derivative would be unsafe the
formula uses a function from `symbolic.functions` that carries a safe `fdiff`.
"""
import ast

import numpy as np
import sympy as sp

from ..codegen import astbuild as A
from ..symbolic import functions as F
from .registry import Op, ShapeError, broadcast_shapes, register, result_dtype, shape_of


def _vjp(node, gs):
    from ..symbolic.kernel import elementwise_vjp
    return elementwise_vjp(node, gs)


def _infer(inputs, attrs):
    shape = broadcast_shapes(*[shape_of(x) for x in inputs])
    return [(shape, result_dtype(inputs))]


def _infer_float(inputs, attrs):
    (shape, dtype), = _infer(inputs, attrs)
    return [(shape, dtype if dtype.kind in "fc" else np.dtype(np.float64))]


def elementwise(name, formula, impl, infer=_infer, torch_name=None):
    return register(Op(name, "elementwise", impl, infer=infer, vjp=_vjp, formula=formula,
                       torch_name=torch_name))


# -- arithmetic -------------------------------------------------------------------------
elementwise("add", lambda a, b: a + b, np.add)
def _number(x):
    """Whether an op's input is a Python number (PyTorch names `2 - x` RsubBackward1)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


elementwise("sub", lambda a, b: a - b, np.subtract,
            torch_name=lambda attrs, ins=(): "RsubBackward1" if ins and _number(ins[0]) else "SubBackward0")
elementwise("mul", lambda a, b: a * b, np.multiply)
elementwise("div", lambda a, b: a / b, np.true_divide, infer=_infer_float,  # (`2 / x`: x.reciprocal() * 2)
            torch_name=lambda attrs, ins=(): "MulBackward0" if ins and _number(ins[0]) else "DivBackward0")
elementwise("pow", lambda a, b: a ** b, np.power,  # x ** 2, x ** t, 2 ** x
            torch_name=lambda attrs, ins=(): "PowBackward2" if ins and _number(ins[0]) else
            "PowBackward0" if len(ins) < 2 or _number(ins[1]) else "PowBackward1")
elementwise("neg", lambda a: -a, np.negative)

# -- transcendental ---------------------------------------------------------------------
elementwise("exp", F.exp, np.exp, infer=_infer_float)
elementwise("log", sp.log, np.log, infer=_infer_float)
elementwise("sqrt", sp.sqrt, np.sqrt, infer=_infer_float)
elementwise("std_sqrt", F.sqrt0, np.sqrt, infer=_infer_float, torch_name="SqrtBackward0")  # np.std
elementwise("sin", sp.sin, np.sin, infer=_infer_float)
elementwise("cos", sp.cos, np.cos, infer=_infer_float)
elementwise("tanh", sp.tanh, np.tanh, infer=_infer_float)


def _sigmoid(x):
    # exp(-logaddexp(0, -x)) = 1 / (1 + exp(-x)) without overflow in either tail
    return np.exp(-np.logaddexp(0, -x))


elementwise("sigmoid", F.sigmoid, _sigmoid, infer=_infer_float)
elementwise("relu", F.relu, lambda x: np.maximum(x, 0))
def _infer_abs(inputs, attrs):
    (shape, dtype), = _infer(inputs, attrs)
    return [(shape, np.dtype(dtype.char.lower()) if dtype.kind == "c" else dtype)]  # (|z| is real)


elementwise("abs", F.abs_, np.abs, infer=_infer_abs)
elementwise("sign", F.sgn, np.sign)


def _where_infer(inputs, attrs):
    c, a, b = inputs
    shape = broadcast_shapes(shape_of(c), shape_of(a), shape_of(b))
    return [(shape, result_dtype([a, b]))]


elementwise("where", F.where, np.where, infer=_where_infer)


def _bcast_infer(inputs, attrs):
    (x,) = inputs
    try:
        np.broadcast_shapes(shape_of(x), attrs["shape"])
    except ValueError:
        raise ShapeError(f"cannot broadcast shape {shape_of(x)} to {attrs['shape']}") from None
    if broadcast_shapes(shape_of(x), attrs["shape"]) != tuple(attrs["shape"]):
        raise ShapeError(f"cannot broadcast shape {shape_of(x)} to {attrs['shape']}")
    return [(tuple(attrs["shape"]), result_dtype([x]))]


# Inside a fused kernel a broadcast is the identity: the kernel's declared output shape
# carries it, and the code generator broadcasts only where the result would be smaller.
elementwise("broadcast_to", lambda a, shape: a, lambda x, shape: np.broadcast_to(x, shape),
            infer=_bcast_infer, torch_name="ExpandBackward0")


# -- elementwise functions with no gradient: comparisons, integer-valued or boolean results --
def _nondiff_infer(bool_result):
    def infer(inputs, attrs):
        shape = broadcast_shapes(*[shape_of(x) for x in inputs])
        return [(shape, np.dtype(bool) if bool_result else result_dtype(inputs))]
    return infer


def nondifferentiable(name, np_func, bool_result=False, emit=None):
    """Register an elementwise op without a derivative; written as `np.<func>(...)` unless
    `emit` says otherwise."""
    register(Op(name, "compare", np_func, infer=_nondiff_infer(bool_result), differentiable=False,
                emit=emit or (lambda args, attrs, node: A.npcall(np_func.__name__, *args))))


def comparison(name, impl, astop):
    nondifferentiable(name, impl, bool_result=True,
                      emit=lambda args, attrs, node: ast.Compare(left=args[0], ops=[astop()],
                                                                 comparators=[args[1]]))


comparison("lt", np.less, ast.Lt)
comparison("le", np.less_equal, ast.LtE)
comparison("gt", np.greater, ast.Gt)
comparison("ge", np.greater_equal, ast.GtE)
comparison("eq", np.equal, ast.Eq)
comparison("ne", np.not_equal, ast.NotEq)


# -- dtype conversion: not fused, since a kernel has one dtype ---------------------------
def _cast_infer(inputs, attrs):
    return [(shape_of(inputs[0]), np.dtype(attrs["dtype"]))]


def _cast_vjp(node, gs):
    (g,) = gs
    x = node.inputs[0]
    return [g.cast(x.dtype) if x.dtype.kind in "fc" else None]


def _cast_impl(x, dtype):
    if np.asarray(x).dtype.kind == "c" and np.dtype(dtype).kind != "c":  # (the real part, said so)
        x = np.real(x)
    return x.astype(dtype)


def _cast_emit(args, attrs, node):
    x = args[0]
    if node.inputs[0].dtype.kind == "c" and np.dtype(attrs["dtype"]).kind != "c":
        x = A.npcall("real", x)
    return A.method(x, "astype", A.dtype_expr(attrs["dtype"]))


register(Op("cast", "special", _cast_impl, infer=_cast_infer, vjp=_cast_vjp, torch_name="ToCopyBackward0",
            emit=_cast_emit))


# -- numpy's wider elementwise vocabulary (issue: the numpy surface) ------------------
def _np_erf(x):
    import math
    x = np.asarray(x)
    out = np.asarray(np.frompyfunc(math.erf, 1, 1)(x))  # (a 0-d input gives a Python float)
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64)


#: PyTorch's node where numpy's name differs (torch.asin, torch.log1p, ...)
_TORCH_NAMES = {"arcsin": "AsinBackward0", "arccos": "AcosBackward0", "arctan": "AtanBackward0",
                "arcsinh": "AsinhBackward0", "arccosh": "AcoshBackward0", "arctanh": "AtanhBackward0",
                "arctan2": "Atan2Backward0", "log1p": "Log1PBackward0", "deg2rad": "Deg2RadBackward0",
                "rad2deg": "Rad2DegBackward0"}

for _name, _formula, _impl in [
        ("exp2", F.exp2, np.exp2), ("expm1", F.expm1, np.expm1), ("log2", F.log2, np.log2),
        ("log10", F.log10, np.log10), ("log1p", F.log1p, np.log1p), ("cbrt", F.cbrt, np.cbrt),
        ("reciprocal", lambda a: 1 / a, lambda x: 1 / x), ("tan", sp.tan, np.tan),
        ("arcsin", sp.asin, np.arcsin), ("arccos", sp.acos, np.arccos), ("arctan", sp.atan, np.arctan),
        ("sinh", sp.sinh, np.sinh), ("cosh", sp.cosh, np.cosh), ("arcsinh", sp.asinh, np.arcsinh),
        ("arccosh", sp.acosh, np.arccosh), ("arctanh", sp.atanh, np.arctanh), ("sinc", F.sinc, np.sinc),
        ("deg2rad", lambda a: a * sp.pi / 180, np.deg2rad), ("rad2deg", lambda a: a * 180 / sp.pi, np.rad2deg),
        ("softplus", F.softplus, lambda x: np.logaddexp(0, x)), ("erf", F.erf, _np_erf),
        ("logaddexp", F.logaddexp, np.logaddexp), ("logaddexp2", F.logaddexp2, np.logaddexp2),
        ("arctan2", F.arctan2, np.arctan2), ("hypot", F.hypot, np.hypot)]:
    elementwise(_name, _formula, _impl, infer=_infer_float, torch_name=_TORCH_NAMES.get(_name))

elementwise("square", lambda a: a ** 2, np.square, torch_name="PowBackward0")
elementwise("maximum", F.maximum, np.maximum)
elementwise("minimum", F.minimum, np.minimum)
elementwise("fmax", F.fmax, np.fmax)
elementwise("fmin", F.fmin, np.fmin)
elementwise("mod", F.mod, np.remainder,
            torch_name=lambda attrs, ins=(): "RemainderBackward0" if len(ins) > 1 and _number(ins[1])
            else "RemainderBackward1")
elementwise("nan_to_num", F.nan_to_num, np.nan_to_num)


def _clip_infer(inputs, attrs):
    x, lo, hi = inputs
    return [(broadcast_shapes(shape_of(x), shape_of(lo), shape_of(hi)), result_dtype([x, lo, hi]))]


elementwise("clip", F.clip, np.clip, infer=_clip_infer)


for _f in (np.floor, np.ceil, np.rint, np.trunc):
    nondifferentiable(_f.__name__, _f)
nondifferentiable("round", np.round)
nondifferentiable("floor_divide", np.floor_divide)  # (Tensor's `//`)
for _f in (np.invert, np.bitwise_and, np.bitwise_or, np.bitwise_xor):  # (~ & | ^ on integers)
    nondifferentiable(_f.__name__, _f)
for _f in (np.isnan, np.isfinite, np.isinf, np.signbit, np.logical_not, np.logical_and,
           np.logical_or, np.logical_xor):
    nondifferentiable(_f.__name__, _f, bool_result=True)
