"""Shape ops and basic indexing: views whose derivative rules move the cotangent back."""
import ast
from typing import NamedTuple

import numpy as np

from ..codegen import astbuild as A
from .registry import Op, ShapeError, register


# -- reshape / transpose --------------------------------------------------------------
def _reshape_infer(inputs, attrs):
    (x,) = inputs
    shape = tuple(attrs["shape"])
    if int(np.prod(shape, dtype=np.int64)) != int(np.prod(x.shape, dtype=np.int64)):
        raise ShapeError(f"cannot reshape an array of shape {x.shape} into shape {shape}")
    return [(shape, x.dtype)]


register(Op("reshape", "shape", lambda x, shape: np.reshape(x, shape), infer=_reshape_infer,
            vjp=lambda node, gs: [gs[0].reshape(node.inputs[0].shape)],
            emit=lambda args, attrs, node: A.method(args[0], "reshape", A.literal(tuple(attrs["shape"]))),
            torch_name="ViewBackward0"))


def _transpose_infer(inputs, attrs):
    (x,) = inputs
    perm = attrs["perm"]
    if sorted(perm) != list(range(len(x.shape))):
        raise ShapeError(f"axes {perm} are not a permutation of the {len(x.shape)} axes of shape {x.shape}")
    return [(tuple(x.shape[p] for p in perm), x.dtype)]


def _transpose_emit(args, attrs, node):
    perm = tuple(attrs["perm"])
    if perm == tuple(reversed(range(len(perm)))):
        return A.attr(args[0], "T")
    return A.npcall("transpose", args[0], A.literal(perm))


register(Op("transpose", "shape", lambda x, perm: np.transpose(x, perm), infer=_transpose_infer,
            vjp=lambda node, gs: [gs[0].transpose(tuple(np.argsort(node.attrs["perm"]).tolist()))],
            emit=_transpose_emit, torch_name="PermuteBackward0"))
