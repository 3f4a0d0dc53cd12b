"""Matrix products, with hand-written rules (sympy has no business with these)."""
import ast

import numpy as np

from ..codegen import astbuild as A
from .registry import Op, ShapeError, register, result_dtype


def _matmul_infer(inputs, attrs):
    a, b = inputs
    sa, sb = tuple(a.shape), tuple(b.shape)
    if not sa or not sb:
        raise ShapeError(f"matmul needs at least 1-D operands, got shapes {sa} and {sb}")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ShapeError(f"matmul: inner dimensions differ: shapes {sa} and {sb} ({ka} != {kb})")
    a2 = sa if len(sa) > 1 else (1,) + sa
    b2 = sb if len(sb) > 1 else sb + (1,)
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dimensions of shapes {sa} and {sb} do not broadcast") from None
    out = tuple(batch) + ((a2[-2],) if len(sa) > 1 else ()) + ((b2[-1],) if len(sb) > 1 else ())
    return [(out, result_dtype([a, b]))]


def _matmul_vjp(node, gs):
    (g,) = gs
    a, b = node.inputs
    if a.ndim == 1 and b.ndim == 1:          # dot product: elementwise rules, fusable
        return [g * b, g * a]
    if b.ndim == 1:                           # (..., n, k) @ (k,) -> (..., n)
        ga = g.reshape(g.shape + (1,)) * b
        gb = (g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) @ a)
        return [ga.sum_to(a.shape), gb.reshape(gb.shape[:-2] + gb.shape[-1:]).sum_to(b.shape)]
    if a.ndim == 1:                           # (k,) @ (..., k, m) -> (..., m)
        ga = b @ g.reshape(g.shape + (1,))
        gb = a.reshape(a.shape + (1,)) * g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        return [ga.reshape(ga.shape[:-1]).sum_to(a.shape), gb.sum_to(b.shape)]
    return [(g @ b.mT).sum_to(a.shape), (a.mT @ g).sum_to(b.shape)]


register(Op("matmul", "linalg", np.matmul, infer=_matmul_infer, vjp=_matmul_vjp,
            emit=lambda args, attrs, node: A.binop(args[0], ast.MatMult(), args[1]),
            torch_name="MmBackward0"))
