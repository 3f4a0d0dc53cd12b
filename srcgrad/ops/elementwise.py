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
elementwise("sub", lambda a, b: a - b, np.subtract)
elementwise("mul", lambda a, b: a * b, np.multiply)
elementwise("div", lambda a, b: a / b, np.true_divide, infer=_infer_float)
elementwise("pow", lambda a, b: a ** b, np.power)
elementwise("neg", lambda a: -a, np.negative)

# -- transcendental ---------------------------------------------------------------------
elementwise("exp", sp.exp, np.exp, infer=_infer_float)
elementwise("log", sp.log, np.log, infer=_infer_float)
elementwise("sqrt", sp.sqrt, np.sqrt, infer=_infer_float)
elementwise("sin", sp.sin, np.sin, infer=_infer_float)
elementwise("cos", sp.cos, np.cos, infer=_infer_float)
elementwise("tanh", sp.tanh, np.tanh, infer=_infer_float)


def _sigmoid(x):
    # exp(-logaddexp(0, -x)) = 1 / (1 + exp(-x)) without overflow in either tail
    return np.exp(-np.logaddexp(0, -x))


elementwise("sigmoid", F.sigmoid, _sigmoid, infer=_infer_float)
elementwise("relu", F.relu, lambda x: np.maximum(x, 0))
elementwise("abs", F.abs_, np.abs)
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


# -- comparisons: boolean results, no gradient -------------------------------------------
def _cmp_infer(inputs, attrs):
    return [(broadcast_shapes(*[shape_of(x) for x in inputs]), np.dtype(bool))]


def comparison(name, impl, astop):
    register(Op(name, "compare", impl, infer=_cmp_infer, differentiable=False,
                emit=lambda args, attrs, node: ast.Compare(left=args[0], ops=[astop()],
                                                           comparators=[args[1]])))


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


register(Op("cast", "special", lambda x, dtype: x.astype(dtype), infer=_cast_infer,
            vjp=_cast_vjp, torch_name="ToCopyBackward0",
            emit=lambda args, attrs, node: A.method(args[0], "astype", A.dtype_expr(attrs["dtype"]))))
