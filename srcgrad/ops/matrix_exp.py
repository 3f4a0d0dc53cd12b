"""The matrix exponential, an op with an adjoint rule (torch.linalg.matrix_exp).

The forward is `expm` below: scaling and squaring with the [13/13] Padé approximant, or a
lower degree where the 1-norm allows (Higham 2005, as scipy's), per matrix of a batch.
Generated code calls it by name (it is bound into every generated module, and `export`
writes its source into the module), so it stays numpy only.

The derivative is exact, not the derivative of the approximant: for A and a cotangent G,
the vector-Jacobian product is the upper-right block of

    expm([[A^T, G],
          [0,   A^T]])

(Najfeld & Havel 1995; PyTorch's rule too, with A^H for complex A). That block matrix is
built from ops with rules (transpose, concatenate, a slice) and the matrix_exp op itself, so
the backward can be differentiated again: second derivatives are exact as well. For
complex matrices the real rule between two conjugations is this one with A^H (holomorphic).
"""
import numpy as np

from ..codegen import astbuild as A
from ..codegen.loader import share_helper
from .complex import HOLOMORPHIC
from .indexing import Slice
from .registry import Op, ShapeError, register


def expm(a):
    """exp(a) of a square matrix or a stack of them (numpy arrays): scaling and squaring
    with a Padé approximant of degree 3, 5, 7, 9 or 13 chosen from the 1-norm (Higham,
    "The scaling and squaring method for the matrix exponential revisited", 2005).
    float32 (complex64) matrices are computed in double precision and rounded back."""
    a = np.asarray(a)
    dtype = a.dtype if a.dtype.kind in "fc" else np.dtype(np.float64)
    work = np.complex128 if dtype.kind == "c" else np.float64
    stack = a.astype(work).reshape((-1,) + a.shape[-2:])
    out = np.empty_like(stack)
    n = a.shape[-1]
    eye = np.eye(n, dtype=work)
    # (theta_m, coefficients b_0..b_m) of the degree-m approximant, m = 3, 5, 7, 9
    lower = [(1.495585217958292e-2, (120.0, 60.0, 12.0, 1.0)),
             (2.539398330063230e-1, (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0)),
             (9.504178996162932e-1, (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0)),
             (2.097847961257068, (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0,
                                  2162160.0, 110880.0, 3960.0, 90.0, 1.0))]
    b = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
         129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0,
         960960.0, 16380.0, 182.0, 1.0)
    for k in range(stack.shape[0]):
        m = stack[k]
        norm = np.abs(m).sum(axis=0).max(initial=0.0)
        if not np.isfinite(norm):
            out[k] = np.nan
            continue
        squarings = 0
        for theta, c in lower:
            if norm <= theta:
                powers = [eye, m @ m]
                while 2 * len(powers) < len(c):
                    powers.append(powers[-1] @ powers[1])
                u = m @ sum(c[2 * j + 1] * powers[j] for j in range(len(c) // 2))
                v = sum(c[2 * j] * powers[j] for j in range(len(c) // 2))
                break
        else:
            squarings = max(0, int(np.ceil(np.log2(norm / 5.371920351148152))))
            m = m / 2.0 ** squarings
            a2 = m @ m
            a4 = a2 @ a2
            a6 = a4 @ a2
            u = m @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
            v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
        r = np.linalg.solve(v - u, v + u)
        for _ in range(squarings):
            r = r @ r
        out[k] = r
    return out.reshape(a.shape).astype(dtype, copy=False)


share_helper("expm", expm)  # (generated code calls it by name: codegen/loader.py)


def _infer(inputs, attrs):
    (a,) = inputs
    s = tuple(a.shape)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ShapeError(f"matrix_exp: expected a square matrix (or a stack of them), got shape {s}")
    dtype = a.dtype if a.dtype.kind in "fc" else np.dtype(np.float64)
    return [(s, dtype)]


def _vjp(node, gs):
    """The upper-right block of expm([[A^T, G], [0, A^T]])."""
    (g,), a = gs, node.inputs[0]
    graph, nd, n = g.graph, a.ndim, a.shape[-1]
    at = a.mT
    g = g.cast(at.dtype) if g.dtype.kind == at.dtype.kind else g
    top = graph.emit("concatenate", [at, g], axis=nd - 1)
    bottom = graph.emit("concatenate", [graph.filled(0, at), at], axis=nd - 1)
    e = graph.emit("matrix_exp", [graph.emit("concatenate", [top, bottom], axis=nd - 2)])
    whole = Slice(None, None, None)
    return [graph.emit("getitem", [e], index=(whole,) * (nd - 2) + (Slice(0, n, None), Slice(n, 2 * n, None)))]


register(Op("matrix_exp", "linalg", expm, infer=_infer, vjp=_vjp,
            emit=lambda args, attrs, node: A.call("expm", args[0]), torch_name="LinalgMatrixExpBackward0"))
HOLOMORPHIC.add("matrix_exp")
