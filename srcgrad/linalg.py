"""srcgrad.linalg: PyTorch's `torch.linalg` namespace over srcgrad tensors.

    import srcgrad as torch
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    x = torch.linalg.solve(A, b)            # b: (n,) or a batch of vectors (..., n)

Code written against torch.linalg should run unchanged with `import srcgrad as torch`,
eagerly and inside functions compiled by `srcgrad.grad` & co. Nothing here differentiates:
each function translates PyTorch's signature (`dim`, `keepdim`, keyword-only options,
PyTorch's rule for vector right-hand sides, named-tuple results) onto srcgrad.numpy.linalg
and the products/reductions/shape functions of srcgrad.numpy, whose ops carry the
derivative rules, so gradients are those documented there (they follow PyTorch's). What
PyTorch has and numpy.linalg lacks (QR of a wide matrix with a gradient, svd's
full_matrices with a gradient, solve_triangular, lstsq, tensorsolve) is a few lines of
those same functions.

PyTorch's input rules are kept: float-only functions refuse integer tensors (numpy would
compute in float64), the LAPACK-backed ones take float32/float64 only, a solver's two
operands must have one dtype, and bad shapes raise a RuntimeError naming the function and
the shapes. A failed factorization (singular, not positive-definite) raises
`srcgrad.linalg.LinAlgError`, a RuntimeError like torch.linalg.LinAlgError (and also
numpy's LinAlgError). `out=` is not supported (results are new tensors).

Where srcgrad differs from PyTorch (see each function):
- qr (mode='complete' with more rows than columns), lstsq, pinv with atol, and
  matrix_norm/norm with ord 2/-2/'nuc' follow srcgrad.numpy.linalg: lstsq and pinv(atol=)
  need a full-rank matrix (a rank-deficient one raises NotImplementedError; lstsq's
  `rank` is therefore min(m, n)); complete QR of a tall matrix has a gradient (PyTorch
  refuses one), exact for what reads R and Q's first n columns, and for Q's other columns
  the one that turns them no more than those n columns require.
- svd(full_matrices=True) of a non-square matrix: U's (or Vh's) columns beyond min(m, n)
  carry no gradient, as in PyTorch. Inside a compiled function they are an orthonormal
  basis of the complement found by QR, which may differ from LAPACK's (any is valid).
- solve_triangular is a general solve of the triangle (O(n^3), LU): a zero on the diagonal
  raises LinAlgError where PyTorch returns inf/nan. inv_ex raises for a singular matrix
  whatever check_errors says (its info is always 0).
- eigh's gradient for A is PyTorch's (symmetric); srcgrad.numpy.linalg.eigh's is numpy's
  (in the triangle it reads): the two agree on every symmetric perturbation.
- hermitian=True (pinv, matrix_rank) is taken as a promise: pinv reads the whole matrix.
- matmul, as srcgrad.matmul, multiplies a float tensor by an integer one (in the float
  dtype), where PyTorch refuses; multi_dot and cross refuse mixed dtypes with PyTorch's
  messages. cross needs equal numbers of dimensions, as PyTorch's.
- svd's `driver=` (CUDA-only in PyTorch), lu/ldl/householder_product/cond/... are not
  provided (a clear AttributeError names them).
"""
import functools as _functools
import math as _math
from collections import namedtuple as _namedtuple

import numpy as _np

from . import _dtype
from .autograd.recording import OpError as _OpError
from .autograd.recording import TRACER as _TRACER
from .autograd.recording import named as _named
from .functional import _t as _as_tensor
from .functional import maximum as _maximum
from .numpy import linalg as _nla
from .numpy import products as _products
from .numpy import reductions as _reductions
from .numpy.shape import concatenate as _concatenate
from .numpy.shape import diagonal as _diagonal
from .numpy.shape import moveaxis as _moveaxis
from .numpy.shape import tril as _tril
from .numpy.shape import triu as _triu
from .numpy.linalg import EighResult, QRResult, SlogdetResult, SVDResult
from .surface import dtype_error as _dtype_error
from .surface import dtype_name as _dtype_name
from .surface import same_dtype as _same

__all__ = ["LinAlgError", "norm", "vector_norm", "matrix_norm", "det", "slogdet", "inv", "inv_ex",
           "solve", "solve_triangular", "lstsq", "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "cond",
           "pinv", "matrix_power", "matrix_rank", "multi_dot", "cross", "vecdot", "matmul", "diagonal",
           "tensorinv", "tensorsolve", "matrix_exp", "vander", "EighResult", "QRResult", "SlogdetResult", "SVDResult",
           "InvExResult", "LstsqResult"]

# PyTorch's result types (torch.return_types.linalg_*); the others are srcgrad.numpy.linalg's,
# whose field names are PyTorch's too (sign/logabsdet, eigenvalues/eigenvectors, Q/R, U/S/Vh)
InvExResult = _namedtuple("linalg_inv_ex", ["inverse", "info"])
LstsqResult = _namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


class LinAlgError(_OpError, _np.linalg.LinAlgError):
    """A factorization failed on the data (singular, not positive-definite, no convergence).
    A RuntimeError like torch.linalg.LinAlgError, and numpy's LinAlgError."""


# ---------------------------------------------------------------------------------------
# argument checks (PyTorch's rules, and messages naming the function and the shapes)
# ---------------------------------------------------------------------------------------
def _reports(name):
    """Report a failed factorization inside the wrapped function as LinAlgError naming
    linalg.<name>. The op table raises it as an OpError whose context is numpy's
    LinAlgError; other errors pass unchanged."""
    def decorate(fn):
        @_functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except LinAlgError:
                raise
            except (_OpError, _np.linalg.LinAlgError) as e:
                if not isinstance(e, _np.linalg.LinAlgError) and \
                        not isinstance(e.__context__, _np.linalg.LinAlgError):
                    raise
                raise LinAlgError(f"linalg.{name}: {str(e).removeprefix(name + ': ')}") from e
        return wrapper
    return decorate


def _no_out(out, name):
    if out is not None:
        raise NotImplementedError(f"linalg.{name}: out= is not supported by srcgrad (results are new tensors)")


#: the dtypes LAPACK computes in (an op without a complex rule refuses complex data that
#: needs a gradient when it is recorded: ops/complex.py)
_LAPACK_DTYPES = (_np.float32, _np.float64, _np.complex64, _np.complex128)


def _float(name, x, what="A", lapack=True):
    """x as a tensor; integer data is refused as in PyTorch (numpy would compute in float64),
    and LAPACK-backed functions take float32/float64 only."""
    x = _as_tensor(x)
    if x.dtype.kind in "biu":  # (PyTorch's words: always "input")
        raise _dtype_error(f"linalg.{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype_name(x.dtype)}")
    ok = x.dtype in _LAPACK_DTYPES if lapack else x.dtype.kind in "fc"
    if not ok:
        kinds = "a float32, float64, complex64 or complex128" if lapack else "a floating-point or complex"
        raise RuntimeError(f"linalg.{name}: expected {kinds} tensor as {what}, got {x.dtype} "
                           f"(shape {tuple(x.shape)})")
    return x


def _same_dtype(name, a, b, names=("A", "B")):
    if a.dtype != b.dtype:
        raise _dtype_error(f"linalg.{name}: Expected {names[0]} and {names[1]} to have the same dtype, but found "
                           f"{names[0]} of type {_dtype_name(a.dtype)} and {names[1]} of type "
                           f"{_dtype_name(b.dtype)} instead")


def _matrices(name, a, what="A"):
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{name}: {what} must have at least 2 dimensions, got shape {tuple(a.shape)}")


def _square(name, a):
    _matrices(name, a)
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be a batch of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices (shape {tuple(a.shape)})")


def _batch(name, a, b):
    """The broadcast batch shape of two stacks of matrices."""
    try:
        return _np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.{name}: the batch dimensions of A {tuple(a.shape)} and B {tuple(b.shape)} do not "
                           f"broadcast") from None


def _is_vector_rhs(a, b):
    """PyTorch's rule: B is a (batch of) vector(s) if it is 1-D, or has A's shape without
    its last dimension. (numpy 2 takes only 1-D B as a vector.)"""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def _traced(t):
    return _TRACER[0] is not None and _TRACER[0].traced(t)


def _const(array):
    from .tensor import Tensor
    return Tensor._make(_np.array(array))   # a copy: never a view of another tensor's data


# ---------------------------------------------------------------------------------------
# norms
# ---------------------------------------------------------------------------------------
def _norm_input(name, x, dtype):
    if dtype is None and _as_tensor(x).dtype.kind == "c":  # (norms of moduli, or of singular values)
        return _as_tensor(x)
    x = _float(name, x, "input", lapack=False)
    if dtype is not None:
        dt = _dtype.resolve(dtype)
        if dt.kind != "f" or _np.promote_types(x.dtype, dt) != dt:
            raise RuntimeError(f"linalg.{name}: the dtype of the input ({x.dtype}) should be convertible "
                               f"without narrowing to the specified dtype ({dt})")
        x = x.to(dt)
    return x


def _dims(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _vector_ord(name, ord):
    if isinstance(ord, bool) or not isinstance(ord, (int, float, _np.integer, _np.floating)):
        raise TypeError(f"linalg.{name}: ord must be a number for a vector norm, got {ord!r}")


def _matrix_ord(name, ord):
    if isinstance(ord, str):
        ok = ord in ("fro", "nuc")
    else:
        ok = not isinstance(ord, bool) and isinstance(ord, (int, float, _np.integer, _np.floating)) and \
            ord in (1, -1, 2, -2, _math.inf, -_math.inf)
    if not ok:
        raise RuntimeError(f"linalg.{name}: order {ord!r} is not supported for matrices (expected one of "
                           f"'fro', 'nuc', 1, -1, 2, -2, inf, -inf)")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ord-norm of x's entries over dim (all of them if None), any number of dims, of
    any order: (sum |x|^ord)^(1/ord), the count of nonzero entries for 0 (no gradient),
    max/min |x| for +-inf (the gradient shared by ties). The gradient is PyTorch's: 0 where
    the norm is 0 and, for ord < 1, at zero entries (where the slope is infinite)."""
    _no_out(out, "vector_norm")
    _vector_ord("vector_norm", ord)
    x = _norm_input("vector_norm", x, dtype)
    if ord == 0:  # the count of nonzero entries: a zero gradient (the other branch is never taken)
        from .functional import where
        count = _reductions.vector_norm(x, axis=_dims(dim), keepdims=keepdim, ord=0)
        r = where(count >= 0, count, _reductions.vector_norm(x, axis=_dims(dim), keepdims=keepdim, ord=1))
    elif ord in (1, 2, _math.inf, -_math.inf):
        r = _reductions.vector_norm(x, axis=_dims(dim), keepdims=keepdim, ord=ord)
    else:
        r = _p_norm(x, float(ord), _dims(dim), keepdim)
    return _named(r, "LinalgVectorNormBackward0", inputs=(x,))


def _p_norm(x, p, dim=None, keepdim=False):
    """(sum |x|^p)^(1/p) over dim (None: all entries) for a finite p other than 0, with
    PyTorch's gradient: 0 where the norm is 0, and for p < 1 at zero entries (selects keep
    the infinite slopes there out of the chain rule)."""
    from .functional import where
    a = x.abs()
    dims = None if dim is None else (dim,) if isinstance(dim, (int, _np.integer)) else tuple(dim)
    if dims is not None and (x.ndim == 0 or dims == ()):  # (dim=(): every entry, as PyTorch)
        dims = None
    zero = a == 0
    if p < 0:  # a zero entry makes the norm 0 (|0|^p = inf), with a zero gradient
        powers = where(zero, _math.inf, where(zero, 1.0, a) ** p)
    elif p < 1:
        powers = where(zero, 0.0, where(zero, 1.0, a) ** p)
    else:
        powers = a ** p
    s = powers.sum(dims, keepdim) if dims is not None else powers.sum()
    if dims is None and keepdim:
        s = s.reshape((1,) * x.ndim)
    if p < 0:
        return s ** (1.0 / p)
    empty = s == 0
    return where(empty, 0.0, where(empty, 1.0, s) ** (1.0 / p))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """A matrix norm ('fro', 'nuc', +-1, +-2, +-inf) over the two dimensions in dim."""
    _no_out(out, "matrix_norm")
    _matrix_ord("matrix_norm", ord)
    A = _norm_input("matrix_norm", A, dtype)
    _matrices("matrix_norm", A)
    dim = _dims(dim)
    if not isinstance(dim, tuple) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple, got {dim!r}")
    return _reductions.linalg_norm(A, ord, axis=dim, keepdims=keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """A vector norm (dim an int, or A 1-D), a matrix norm (dim a pair, or A 2-D), or, with
    ord and dim both None, the 2-norm of all entries."""
    _no_out(out, "norm")
    matrix = (dim is None and ord is not None and _as_tensor(A).ndim == 2) or \
        (isinstance(dim, (tuple, list)) and len(dim) == 2)
    A = _norm_input("matrix_norm" if matrix else "vector_norm", A, dtype)  # (PyTorch's name in errors)
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim)
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: if dim is not given but ord is, the input must be 1-D or 2-D, "
                               f"got shape {tuple(A.shape)}")
        dim = (0,) if A.ndim == 1 else (0, 1)
    dim = (dim,) if isinstance(dim, (int, _np.integer)) else _dims(dim)
    if len(dim) == 1:
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim)
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim)
    raise RuntimeError(f"linalg.norm: dim must be an int or a pair of ints, got {dim!r}")


# ---------------------------------------------------------------------------------------
# determinants and inverses
# ---------------------------------------------------------------------------------------
@_reports("det")
def det(A, *, out=None):
    """Determinant of a (batch of) square matrices."""
    _no_out(out, "det")
    A = _float("det", A)
    _square("det", A)
    return _nla.det(A)


@_reports("slogdet")
def slogdet(A, *, out=None):
    """(sign, logabsdet) of det(A); the gradient flows through logabsdet (and through a
    complex sign, det / |det|, as PyTorch's)."""
    _no_out(out, "slogdet")
    A = _float("slogdet", A)
    _square("slogdet", A)
    sign, logabsdet = _nla.slogdet(A)
    # (PyTorch's real sign has no gradient: it is piecewise constant)
    return SlogdetResult(sign if sign.dtype.kind == "c" else sign.detach(), logabsdet)


@_reports("inv")
def inv(A, *, out=None):
    """Inverse of a (batch of) square matrices."""
    _no_out(out, "inv")
    A = _float("inv", A)
    _square("inv", A)
    return _nla.inv(A)


def inv_ex(A, *, check_errors=False, out=None):
    """(inverse, info). A singular matrix raises LinAlgError whatever check_errors says
    (PyTorch returns info > 0 instead), so info is always 0 (int32, one per matrix)."""
    _no_out(out, "inv_ex")
    A = _float("inv_ex", A)
    _square("inv_ex", A)
    return InvExResult(_reports("inv_ex")(_nla.inv)(A), _const(_np.zeros(A.shape[:-2], _np.int32)))


# ---------------------------------------------------------------------------------------
# solvers
# ---------------------------------------------------------------------------------------
def _operands(name, A, B):
    A, B = _float(name, A, "A"), _as_tensor(B)
    _same_dtype(name, A, B)  # (before B's own check, as PyTorch)
    return A, _float(name, B, "B")


@_reports("solve")
def solve(A, B, *, left=True, out=None):
    """X with A X = B (left=False: X A = B). B is a vector, a batch of vectors (shape
    A.shape[:-1]) or a batch of matrices; batch dimensions broadcast."""
    _no_out(out, "solve")
    A, B = _operands("solve", A, B)
    _square("solve", A)
    n = A.shape[-1]
    if _is_vector_rhs(A, B):
        if not left:
            raise RuntimeError("linalg.solve: vector broadcasting of B is not supported for left=False "
                               f"(shapes {tuple(A.shape)} and {tuple(B.shape)})")
        if B.shape[-1] != n:
            raise RuntimeError(f"linalg.solve: incompatible shapes of A and B for the equation AX = B "
                               f"({tuple(A.shape)} and {tuple(B.shape)})")
        return _nla.solve(A, B.unsqueeze(-1)).squeeze(-1)
    _matrices("solve", B, "B")
    if B.shape[-2 if left else -1] != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve: incompatible shapes of A and B for the equation {eq} "
                           f"({tuple(A.shape)} and {tuple(B.shape)})")
    _batch("solve", A, B)
    if left:
        return _nla.solve(A, B)
    return _nla.solve(A.mT, B.mT).mT   # X A = B  <=>  A^T X^T = B^T


@_reports("solve_triangular")
def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (left=False: X A = B) for triangular A, reading only its upper or lower
    triangle (and not its diagonal if unitriangular), like PyTorch; the gradient for A is
    on that triangle. Computed as a general solve of the triangle (srcgrad has no
    triangular-solve op): O(n^3), and a zero diagonal entry raises LinAlgError."""
    _no_out(out, "solve_triangular")
    A, B = _operands("solve_triangular", A, B)
    _square("solve_triangular", A)
    _matrices("solve_triangular", B, "B")
    n = A.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.solve_triangular: incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({tuple(A.shape)} and {tuple(B.shape)})")
    _batch("solve_triangular", A, B)
    if unitriangular:
        eye = _const(_np.eye(n, dtype=A.dtype))
        T = (_triu(A, 1) if upper else _tril(A, -1)) + eye
    else:
        T = _triu(A) if upper else _tril(A)
    return _nla.solve(T, B) if left else _nla.solve(T.mT, B.mT).mT


@_reports("lstsq")
def lstsq(A, B, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values) of min ||A X - B||, through the
    pseudo-inverse: A must have full rank (a rank-deficient one raises
    NotImplementedError, see pinv), so rank is min(m, n). As PyTorch's CPU drivers:
    residuals (the squared column norms of A X - B) only for m > n and driver other than
    'gelsy' (the default), rank for all but 'gels', singular values for 'gelsd'/'gelss';
    the others are empty."""
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"linalg.lstsq: driver must be one of 'gels', 'gelsy', 'gelsd', 'gelss', got {driver!r}")
    driver = driver or "gelsy"
    A, B = _operands("lstsq", A, B)
    _matrices("lstsq", A)
    m, n = A.shape[-2:]
    vector = _is_vector_rhs(A, B)
    Bm = B.unsqueeze(-1) if vector else B
    _matrices("lstsq", Bm, "B")
    if Bm.shape[-2] != m:
        raise RuntimeError(f"linalg.lstsq: A and B must have the same number of rows, got shapes {tuple(A.shape)} "
                           f"and {tuple(B.shape)}")
    batch = _batch("lstsq", A, Bm)
    _nla._full_rank_check(A, rcond, "linalg.lstsq")  # (so that rank is min(m, n))
    X = _nla.pinv(A, rtol=rcond) @ Bm
    empty = _const(_np.zeros((0,), A.dtype))
    residuals = empty
    if m > n and driver != "gelsy":
        r = A @ X - Bm
        residuals = (r * r).sum(-2)   # (..., k), also for a vector B (PyTorch's k = 1)
    rank = (_const(_np.zeros((0,), _np.int64)) if driver == "gels"
            else _const(_np.full(batch, min(m, n), _np.int64)))
    # PyTorch's singular_values have no gradient (its residuals do)
    sv = svdvals(A.detach()) if driver in ("gelsd", "gelss") else empty
    return LstsqResult(X.squeeze(-1) if vector else X, residuals, rank, sv)


# ---------------------------------------------------------------------------------------
# factorizations
# ---------------------------------------------------------------------------------------
@_reports("cholesky")
def cholesky(A, *, upper=False, out=None):
    """L with A = L L^T (upper=True: U = L^T), reading A's lower triangle."""
    _no_out(out, "cholesky")
    A = _float("cholesky", A)
    _square("cholesky", A)
    return _nla.symmetric_cholesky(A, upper=upper)


@_reports("qr")
def qr(A, mode="reduced", *, out=None):
    """(Q, R). mode 'reduced' (Q: (m, k), R: (k, n), k = min(m, n)), 'complete' (Q: (m, m),
    R: (m, n); no gradient for m > n) or 'r' (Q empty, R reduced)."""
    _no_out(out, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"linalg.qr: unrecognized mode {mode!r}; expected 'reduced', 'complete' or 'r'")
    A = _float("qr", A)
    _matrices("qr", A)
    m, n = A.shape[-2:]
    q, r = _nla.qr(A, mode="complete" if mode == "complete" and m > n else "reduced")
    if mode == "r":
        return QRResult(_const(_np.zeros((0,), A.dtype)), r)
    return QRResult(q, r)


def _uplo(name, UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.{name}: expected UPLO to be 'L' or 'U', got {UPLO!r}")


@_reports("eigh")
def eigh(A, UPLO="L", *, out=None):
    """(eigenvalues, eigenvectors) of a symmetric matrix, ascending, reading the UPLO
    triangle. The eigenvectors' gradient needs distinct eigenvalues."""
    _no_out(out, "eigh")
    _uplo("eigh", UPLO)
    A = _float("eigh", A)
    _square("eigh", A)
    return _nla.symmetric_eigh(A, UPLO)


@_reports("eig")
def eig(A, *, out=None):
    """(eigenvalues, eigenvectors) of a general square matrix, complex (unit eigenvectors).
    Their gradient needs distinct eigenvalues and a loss that does not depend on the
    eigenvectors' phases."""
    _no_out(out, "eig")
    A = _as_tensor(A)
    _square("eig", A)
    return _nla.complex_eig(A)


@_reports("eigvals")
def eigvals(A, *, out=None):
    return eig(A, out=out).eigenvalues


@_reports("eigvalsh")
def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) of a symmetric matrix, reading the UPLO triangle."""
    _no_out(out, "eigvalsh")
    _uplo("eigvalsh", UPLO)
    A = _float("eigvalsh", A)
    _square("eigvalsh", A)
    return _nla.symmetric_eigh(A, UPLO).eigenvalues


def _no_driver(name, driver):
    if driver is not None:
        raise RuntimeError(f"linalg.{name}: driver= is only supported by PyTorch on CUDA; srcgrad runs "
                           f"numpy's (LAPACK's gesdd), got driver={driver!r}")


@_reports("svd")
def svd(A, full_matrices=True, *, driver=None, out=None):
    """(U, S, Vh), singular values descending. full_matrices=True (PyTorch's default) for a
    non-square matrix: the columns of U (rows of Vh) beyond min(m, n) get no gradient, as
    in PyTorch; eagerly they are LAPACK's, inside a compiled function an orthonormal basis
    of the complement found by QR (a valid SVD too, possibly other columns). The gradient
    of U and Vh needs distinct, nonzero singular values."""
    _no_out(out, "svd")
    _no_driver("svd", driver)
    A = _float("svd", A)
    _matrices("svd", A)
    u, s, vh = _nla.svd(A, full_matrices=False)
    m, n = A.shape[-2:]
    if not full_matrices or m == n:
        return SVDResult(u, s, vh)
    if m > n:
        u = _concatenate([u, _complement(A, u, 0)], axis=-1)
    else:
        vh = _concatenate([vh, _complement(A, vh.mT, 1).mT], axis=-2)
    return SVDResult(u, s, vh)


def _complement(A, basis, which):
    """Orthonormal columns completing basis's (m, k) columns to an (m, m) orthogonal
    matrix, with no gradient (as PyTorch's, which narrows them away). Eagerly LAPACK's
    (numpy's full SVD of A: `which` 0 for U, 1 for Vh); in a compiled function, where a
    value computed from A's data would be frozen into the code, the last columns of the
    Q of [basis, I] (recorded ops: the generated code recomputes them)."""
    m, k = basis.shape[-2:]
    if not _traced(A):
        full = _np.linalg.svd(A._data, full_matrices=True)[2 * which]
        return _const(full[..., k:] if which == 0 else _np.swapaxes(full[..., k:, :], -1, -2))
    b = basis.detach()
    eye = _const(_np.broadcast_to(_np.eye(m, dtype=b.dtype), b.shape[:-2] + (m, m)))
    q, _ = _nla.qr(_concatenate([b, eye], axis=-1))
    return q[..., k:]


@_reports("svdvals")
def svdvals(A, *, driver=None, out=None):
    """Singular values, descending (shape (..., min(m, n)))."""
    _no_out(out, "svdvals")
    _no_driver("svdvals", driver)
    A = _float("svdvals", A)
    _matrices("svdvals", A)
    return _nla.svd(A, compute_uv=False)


def cond(A, p=None, *, out=None):
    """The condition number of A in the norm p: the ratio of its extreme singular values
    (p None, 2 or -2), else matrix_norm(A, p) * matrix_norm(inv(A), p)."""
    _no_out(out, "cond")
    if p in (None, 2, -2):
        s = svdvals(A)
        return _named(s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0], "SqueezeBackward1")
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


# ---------------------------------------------------------------------------------------
# pseudo-inverse, rank, powers
# ---------------------------------------------------------------------------------------
@_reports("pinv")
def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """Moore-Penrose pseudo-inverse (srcgrad.numpy.linalg.pinv: numpy's, with the gradient
    of a matrix whose rank stays the same near it). With atol, a matrix with a singular
    value at or below max(atol, rtol * largest) raises NotImplementedError. atol and rtol
    are numbers; rcond is PyTorch's older name for rtol. hermitian=True is accepted and the
    whole matrix is read (the same result for a symmetric one)."""
    _no_out(out, "pinv")
    if rcond is not None:
        if rtol is not None:
            raise TypeError("linalg.pinv: give rcond or rtol, not both")
        rtol = rcond
    for tol in (atol, rtol):
        if tol is not None and not isinstance(tol, (int, float, _np.integer, _np.floating)):
            raise NotImplementedError(f"linalg.pinv: atol and rtol must be numbers in srcgrad, got {tol!r}")
    A = _float("pinv", A)
    _matrices("pinv", A)
    if atol:
        # srcgrad.numpy.linalg.pinv tests full rank with a relative tolerance only: the
        # absolute one is tested here (a guard inside a compiled function)
        rank = matrix_rank(A, atol=atol, rtol=rtol)
        if bool((rank < min(A.shape[-2:])).any()):
            raise NotImplementedError(f"linalg.pinv: the matrix (shape {tuple(A.shape)}) is rank deficient for "
                                      f"atol={atol}, rtol={rtol}; only the pseudo-inverse of a full-rank "
                                      f"matrix is supported")
        rtol = 0.0
    return _nla.pinv(A, rtol=rtol)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """The number of singular values above max(atol, rtol * largest) (int64, one per
    matrix); rtol defaults to eps * max(m, n) when atol and rtol are both None. tol is
    PyTorch's older name for atol. No gradient (an integer)."""
    _no_out(out, "matrix_rank")
    if tol is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg.matrix_rank: give tol or atol/rtol, not both")
        atol, rtol = tol, 0.0
    A = _float("matrix_rank", A)
    _matrices("matrix_rank", A)
    if hermitian:
        _square("matrix_rank", A)
    m, n = A.shape[-2:]
    if rtol is None:
        rtol = _np.finfo(A.dtype).eps * max(m, n) if atol is None else 0.0
    a = A.detach()
    s = _nla.eigvalsh(a).abs() if hermitian else _nla.svd(a, compute_uv=False)
    if s.shape[-1] == 0:
        return _const(_np.zeros(s.shape[:-1], _np.int64))
    smax = s.amax(-1, keepdim=True)
    tol = smax * (rtol.unsqueeze(-1) if hasattr(rtol, "unsqueeze") else rtol)
    if atol is not None:
        at = atol.unsqueeze(-1) if hasattr(atol, "unsqueeze") else atol
        tol = _maximum(tol, at)
    return (s > tol).sum(-1).long()


def matrix_power(A, n, *, out=None):
    """A @ A @ ... (n times); n = 0 gives the identity, n < 0 powers of the inverse (float
    input only). Integer matrices are fine for n >= 0, as in PyTorch."""
    _no_out(out, "matrix_power")
    A = _as_tensor(A)
    _square("matrix_power", A)
    if isinstance(n, bool) or not isinstance(n, (int, _np.integer)):
        raise TypeError(f"linalg.matrix_power: n must be an integer, got {n!r}")
    if n < 0:
        A = _float("matrix_power", A)
    return _reports("matrix_power")(_nla.matrix_power)(A, int(n))


def tensorinv(A, ind=2, *, out=None):
    """The inverse of A read as a linear map from its first `ind` dimensions to the rest:
    shape A.shape[ind:] + A.shape[:ind]."""
    _no_out(out, "tensorinv")
    A = _float("tensorinv", A)
    if not isinstance(ind, (int, _np.integer)) or ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: expected a strictly positive integer ind, got {ind!r}")
    rows, cols = A.shape[:ind], A.shape[ind:]
    p = _math.prod(rows)
    if p != _math.prod(cols):
        raise RuntimeError(f"linalg.tensorinv: prod(A.shape[:ind]) must equal prod(A.shape[ind:]), got "
                           f"shape {tuple(A.shape)} with ind={ind}")
    return _reports("tensorinv")(_nla.inv)(A.reshape(p, p)).reshape(cols + rows)


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) = B: A's dimensions in dims are moved to the end
    first, and X has shape A.shape[B.ndim:]."""
    _no_out(out, "tensorsolve")
    A, B = _operands("tensorsolve", A, B)
    if dims is not None:
        dims = (dims,) if isinstance(dims, (int, _np.integer)) else tuple(dims)
        A = _moveaxis(A, dims, tuple(range(A.ndim - len(dims), A.ndim)))
    result_shape = A.shape[B.ndim:]
    p = _math.prod(result_shape)
    if _math.prod(A.shape[:B.ndim]) != p or _math.prod(B.shape) != p:
        raise RuntimeError(f"linalg.tensorsolve: A (shape {tuple(A.shape)}, after moving dims) must have as many "
                           f"entries in its first B.ndim dimensions as in the rest and as B (shape {tuple(B.shape)})")
    return _reports("tensorsolve")(_nla.solve)(A.reshape(p, p), B.reshape(p)).reshape(result_shape)


# ---------------------------------------------------------------------------------------
# products and views
# ---------------------------------------------------------------------------------------
def multi_dot(tensors, *, out=None):
    """A chain of matrix products in the cheapest order; the first tensor may be a row
    vector and the last a column vector (1-D)."""
    _no_out(out, "multi_dot")
    ts = [_as_tensor(t) for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"linalg.multi_dot: expected at least 2 tensors, got {len(ts)}")
    for k, t in enumerate(ts):
        if t.ndim != 2 and not (t.ndim == 1 and k in (0, len(ts) - 1)):
            end = " (or 1-D)" if k in (0, len(ts) - 1) else ""
            raise RuntimeError(f"linalg.multi_dot: tensor {k} must be 2-D{end}, got shape {tuple(t.shape)}")
    for k, t in enumerate(ts[1:], start=1):
        _same("multi_dot", ts[0], t, k=k)
    for k in range(len(ts) - 1):
        a, b = ts[k], ts[k + 1]
        if a.shape[-1] != b.shape[0]:
            raise RuntimeError(f"linalg.multi_dot: tensors {k} and {k + 1} with shapes {tuple(a.shape)} and {tuple(b.shape)} "
                               f"cannot be multiplied")
    return _nla.multi_dot(ts)


def cross(input, other, *, dim=-1, out=None):  # noqa: A002  (PyTorch's argument names)
    """The cross product of 3-vectors along dim, broadcasting the other dimensions."""
    _no_out(out, "cross")
    a, b = _as_tensor(input), _as_tensor(other)
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    if not -a.ndim <= dim < a.ndim:
        raise IndexError(f"linalg.cross: dim {dim} is out of range for shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3, got shapes {tuple(a.shape)} "
                           f"and {tuple(b.shape)}")
    _same("bmm", a, b)
    return _products.cross(a, b, axis=dim)


def vecdot(x, y, *, dim=-1, out=None):
    """sum(x * y, dim) (real data: conj(x) is x), broadcasting."""
    _no_out(out, "vecdot")
    x, y = _float("vecdot", x, "x", lapack=False), _as_tensor(y)
    _same_dtype("vecdot", x, y, ("x", "y"))
    try:
        shape = _np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise RuntimeError(f"linalg.vecdot: shapes {tuple(x.shape)} and {tuple(y.shape)} do not broadcast") from None
    if not -len(shape) <= dim < len(shape):
        raise IndexError(f"linalg.vecdot: dim {dim} is out of range for shapes {tuple(x.shape)} and {tuple(y.shape)}")
    return (x * y).sum(dim)


def matmul(input, other, *, out=None):  # noqa: A002
    """torch.matmul (srcgrad.matmul)."""
    _no_out(out, "matmul")
    from .functional import matmul as _matmul
    return _matmul(input, other)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal (offset above it if > 0) of the matrices in dims dim1, dim2, as the last
    dimension: a view, as in PyTorch (written through)."""
    A = _as_tensor(A)
    _matrices("diagonal", A)
    return _diagonal(A, offset, dim1, dim2)


# ---------------------------------------------------------------------------------------
# functions of matrices, Vandermonde matrices
# ---------------------------------------------------------------------------------------
def matrix_exp(A):
    """exp(A) of a (batch of) square matrices: scaling and squaring with a Padé
    approximant (ops/matrix_exp.py). The gradient is exact (the upper-right block of the
    exponential of [[A^T, G], [0, A^T]], PyTorch's rule), second derivatives too."""
    A = _as_tensor(A)
    if A.dtype.kind in "biu":
        raise _dtype_error(f"linalg.matrix_exp: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype_name(A.dtype)}")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_exp: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    from . import ops
    from .autograd.recording import apply
    return apply(ops.get("matrix_exp"), [A], {})


def vander(x, *, N=None):
    """The Vandermonde matrix of the last dimension of x: columns x^0, x^1, ..., x^(N-1)
    (N = x.shape[-1] by default), as ones and the running products of x (PyTorch's
    cumprod, whose gradient is exact at zeros)."""
    x = _as_tensor(x)
    if x.ndim == 0:
        raise RuntimeError("N must be greater than 1.")
    n = x.shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    from .numpy.shape import torch_cat
    column = x.unsqueeze(-1)
    ones = _const(_np.ones(column.shape, dtype=x.dtype))
    return torch_cat([ones, column.expand(*column.shape[:-1], n - 1).cumprod(-1)], -1)


# torch.linalg names srcgrad does not provide: a clear error instead of a bare AttributeError
_MISSING = {
    **{name: "no srcgrad op" for name in ("lu", "lu_factor", "lu_factor_ex", "lu_solve", "ldl_factor",
                                          "ldl_factor_ex", "ldl_solve", "householder_product", "cond",
                                          "cholesky_ex", "solve_ex")},
}


def __getattr__(name):
    if name in _MISSING:
        raise AttributeError(f"srcgrad.linalg has no {name} (torch.linalg.{name}): {_MISSING[name]}")
    raise AttributeError(f"module 'srcgrad.linalg' has no attribute {name!r}")
