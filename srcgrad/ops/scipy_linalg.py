"""scipy.linalg's matrix square root and Sylvester solver, as ops with adjoint rules.

Their forwards are scipy's own (`sqrtm`, `solve_sylvester`: a Schur decomposition numpy
lacks), imported when first called: a tensor reaches these ops only from code that called
scipy (srcgrad.scipy.linalg), and srcgrad does not depend on scipy. Generated code calls
them by name (codegen/loader.SHARED; `export` writes their source into the module).

Both rules are Sylvester solves, built from the `sylvester` op itself, so a backward can
be differentiated again:

* X = sylvester(A, B, Q) solves A X + X B = Q. Differentiating, A dX + dX B = dQ - dA X
  - X dB; for a cotangent G, Y = sylvester(A^T, B^T, G) gives Q's gradient Y, A's -Y X^T
  and B's -X^T Y.
* S = sqrtm(A) has S dS + dS S = dA, so A's gradient is sylvester(S^T, S^T, G).

Complex matrices take these rules between two conjugations (ops/complex.py HOLOMORPHIC).
"""
import numpy as np

from ..codegen import astbuild as A
from ..codegen.loader import share_helper
from .complex import HOLOMORPHIC
from .registry import Op, ShapeError, float_dtype, register, result_dtype


def sqrtm(a):
    """The principal square root of a square matrix (scipy.linalg.sqrtm). A real matrix
    whose root is complex (a negative eigenvalue) is refused rather than given a complex
    result its real gradient could not describe."""
    import scipy.linalg
    a = np.asarray(a)
    root = scipy.linalg.sqrtm(a)
    root = root[0] if isinstance(root, tuple) else root
    if a.dtype.kind != "c" and np.iscomplexobj(root):
        if np.abs(root.imag).max(initial=0.0) > 1e-12 * max(np.abs(root.real).max(initial=0.0), 1.0):
            raise np.linalg.LinAlgError("sqrtm: the principal square root of this real matrix is complex (it "
                                        "has a negative eigenvalue); pass a complex matrix for a complex root")
        root = root.real
    return root.astype(float_dtype(a.dtype), copy=False)


def sylvester(a, b, q):
    """X with a X + X b = q (scipy.linalg.solve_sylvester: Bartels-Stewart)."""
    import scipy.linalg
    return scipy.linalg.solve_sylvester(a, b, q)


share_helper("sqrtm", sqrtm)  # (generated code calls them by name: codegen/loader.py)
share_helper("sylvester", sylvester)


def _matrix(name, x):
    s = tuple(x.shape)
    if len(s) != 2:
        raise ShapeError(f"{name}: expected a matrix, got shape {s}")
    return s


def _sqrtm_infer(inputs, attrs):
    (a,) = inputs
    s = _matrix("sqrtm", a)
    if s[0] != s[1]:
        raise ShapeError(f"sqrtm: expected a square matrix, got shape {s}")
    return [(s, float_dtype(a.dtype))]


def _sqrtm_vjp(node, gs):
    (g,), s = gs, node.out
    return [g.graph.emit("sylvester", [s.mT, s.mT, g])]


def _sylvester_infer(inputs, attrs):
    a, b, q = inputs
    (m, m2), (n, n2), (qm, qn) = _matrix("solve_sylvester", a), _matrix("solve_sylvester", b), \
        _matrix("solve_sylvester", q)
    if m != m2 or n != n2 or (qm, qn) != (m, n):
        raise ShapeError(f"solve_sylvester: a (m, m), b (n, n) and q (m, n) expected, got shapes "
                         f"{(m, m2)}, {(n, n2)} and {(qm, qn)}")
    return [((m, n), float_dtype(result_dtype([a, b, q])))]


def _sylvester_vjp(node, gs):
    (g,), (a, b, q), x = gs, node.inputs, node.out
    y = g.graph.emit("sylvester", [a.mT, b.mT, g])
    return [-(y @ x.mT), -(x.mT @ y), y]


register(Op("sqrtm", "linalg", sqrtm, infer=_sqrtm_infer, vjp=_sqrtm_vjp,
            emit=lambda args, attrs, node: A.call("sqrtm", args[0])))
register(Op("sylvester", "linalg", sylvester, infer=_sylvester_infer, vjp=_sylvester_vjp,
            emit=lambda args, attrs, node: A.call("sylvester", *args)))
HOLOMORPHIC.update({"sqrtm", "sylvester"})
