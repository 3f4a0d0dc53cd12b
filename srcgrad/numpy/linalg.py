"""srcgrad.numpy.linalg: numpy.linalg over tensors.

    import srcgrad.numpy as np
    np.linalg.inv(t)          # also numpy's own np.linalg.inv(t), through __array_function__

Each function with a gradient is one op of the table (srcgrad/ops/linalg.py) or a
composite of them; derivative rules are written with ops that have rules themselves, so
second derivatives work too. Gradients follow PyTorch's, and assume what PyTorch's
assume: invertible matrices for inv/solve/det, symmetric input for cholesky, distinct
eigenvalues/singular values where vectors are differentiated, a rank that stays the same
for pinv; eigh's is in the one triangle numpy reads. Other names of numpy.linalg run on data that needs no gradient and
refuse, naming themselves, when a gradient would be lost.
"""
import functools as _functools
from collections import namedtuple as _namedtuple

import numpy as _np

from .. import ops as _ops
from ..autograd.recording import apply as _apply
from ._dispatch import implements as _implements
from ._dispatch import needs_grad as _needs_grad
from ._dispatch import run_without_gradient as _run_without_gradient
from ._dispatch import tensor_cls as _tensor_cls

# numpy's result types, so `res.eigenvalues` and `w, v = res` both work
EighResult = _namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
EigResult = _namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
QRResult = _namedtuple("QRResult", ["Q", "R"])
SlogdetResult = _namedtuple("SlogdetResult", ["sign", "logabsdet"])
SVDResult = _namedtuple("SVDResult", ["U", "S", "Vh"])


def _tensor(x):
    Tensor = _tensor_cls()
    if isinstance(x, Tensor):
        return x
    return Tensor._make(_np.asarray(x))


def _float_tensor(x):
    """numpy.linalg computes in floating point: integer input becomes float64."""
    x = _tensor(x)
    return x._cast_const(_np.float64) if x.dtype.kind in "iub" else x


def _common_float(a, b):
    a, b = _float_tensor(a), _float_tensor(b)
    dt = _np.result_type(a.dtype, b.dtype)
    return a._cast_const(dt), b._cast_const(dt)


def _matrices(name, a):
    if a.ndim < 2:
        raise _np.linalg.LinAlgError(f"{name}: {a.ndim}-dimensional array given. Array must be at least "
                                     f"two-dimensional (got shape {tuple(a.shape)})")


def _square(name, a):
    _matrices(name, a)
    if a.shape[-1] != a.shape[-2]:
        raise _np.linalg.LinAlgError(f"{name}: last 2 dimensions of the array must be square "
                                     f"(got shape {tuple(a.shape)})")


def _op(name, inputs, **attrs):
    return _apply(_ops.get(name), inputs, attrs)


@_implements(_np.linalg.inv)
def inv(a):
    a = _float_tensor(a)
    _square("inv", a)
    return _op("inv", [a])


@_implements(_np.linalg.solve)
def solve(a, b):
    """x with a @ x = b; b is a vector (1-D) or a stack of matrices, batches broadcast."""
    a, b = _common_float(a, b)
    _square("solve", a)
    if b.ndim == 1:
        return solve(a, b.reshape(b.shape + (1,))).reshape(a.shape[:-2] + b.shape)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"solve: the right-hand side of shape {tuple(b.shape)} does not fit the matrix of "
                         f"shape {tuple(a.shape)} (expected (..., {a.shape[-1]}) or (..., {a.shape[-1]}, k))")
    # same number of axes on both sides: unambiguous for numpy's gufunc (see the op)
    nd = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (nd - a.ndim) + a.shape)
    b = b.reshape((1,) * (nd - b.ndim) + b.shape)
    return _op("solve", [a, b])


@_implements(_np.linalg.det)
def det(a):
    a = _float_tensor(a)
    _square("det", a)
    return _op("det", [a])


@_implements(_np.linalg.slogdet)
def slogdet(a):
    """(sign, logabsdet); the gradient flows through logabsdet."""
    a = _float_tensor(a)
    _square("slogdet", a)
    return SlogdetResult(*_op("slogdet", [a]))


@_implements(_np.linalg.cholesky)
def cholesky(a, /, *, upper=False):
    """Lower factor L (a = L L^T), from the lower triangle of a; upper=True: the upper
    factor U (a = U^T U), from the upper triangle. The gradient is in that triangle only,
    as numpy reads it (PyTorch's torch.linalg.cholesky gives the symmetric one instead)."""
    return symmetric_cholesky(a, upper, symmetric_gradient=False)


def symmetric_cholesky(a, upper=False, symmetric_gradient=True):
    """cholesky; symmetric_gradient: PyTorch's gradient, for a matrix taken to be
    symmetric, and its factor from the lower triangle whatever `upper`."""
    a = _float_tensor(a)
    _square("cholesky", a)
    if upper and not symmetric_gradient:  # (the upper triangle is the lower one of a^H)
        return conj_transpose(_op("cholesky", [conj_transpose(a)], symmetric=False))
    low = _op("cholesky", [a], symmetric=bool(symmetric_gradient))
    return conj_transpose(low) if upper else low


def conj_transpose(x):
    """The conjugate transpose of (a batch of) matrices; the transpose of real ones."""
    return _op("conj", [x.mT]) if x.dtype.kind == "c" else x.mT


@_implements(_np.linalg.eigh)
def eigh(a, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix. The gradient of the
    eigenvectors needs distinct eigenvalues and a loss that does not depend on their signs.
    numpy reads the UPLO triangle only, and so does the gradient: it is 0 in the other
    (PyTorch's torch.linalg.eigh gives the symmetric one instead)."""
    return symmetric_eigh(a, UPLO, symmetric_gradient=False)


@_implements(_np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    return eigh(a, UPLO).eigenvalues


def symmetric_eigh(a, UPLO="L", symmetric_gradient=True):
    """eigh; symmetric_gradient: PyTorch's gradient, for a matrix taken to be symmetric."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    a = _float_tensor(a)
    _square("eigh", a)
    return EighResult(*_op("eigh", [a], UPLO=UPLO, symmetric=bool(symmetric_gradient)))


@_implements(_np.linalg.eig)
def eig(a):
    """Eigenvalues and unit eigenvectors of a general square matrix: complex, or real (as
    numpy gives them) when the input is real and every eigenvalue is (a decision on the
    data: guarded). The eigenvectors' gradient needs distinct eigenvalues and a loss that
    does not depend on their phases (PyTorch's rule)."""
    t = _float_tensor(a)
    w, v = complex_eig(t)
    if t.dtype.kind != "c" and bool((_op("imag", [w]) == 0).all()):
        w, v = _op("real", [w]), _op("real", [v])
    return EigResult(w, v)


@_implements(_np.linalg.eigvals)
def eigvals(a):
    return eig(a).eigenvalues


def complex_eig(a):
    """torch.linalg.eig: always complex."""
    t = _float_tensor(a)
    _square("eig", t)
    return EigResult(*_op("eig", [t]))


@_implements(_np.linalg.qr)
def qr(a, mode="reduced"):
    """Reduced QR (mode 'reduced', or 'r' for R alone), differentiable; mode 'complete' of a
    wide or square matrix is the same. Complete QR of a tall matrix adds to Q an orthonormal
    basis Q2 of the complement of A's columns (and zero rows to R): Q2 is not unique (any
    rotation of it would do), and its derivative is the one that turns it no more than
    Q1 = Q[..., :n] requires, dQ2 = -Q1 dQ1^T Q2 — exact for whatever reads R and Q1 alone.
    Mode 'raw' runs on data that needs no gradient."""
    if mode not in ("reduced", "r", "complete", "raw"):
        raise ValueError(f"qr: unrecognized mode {mode!r}")
    t = _float_tensor(a)
    _matrices("qr", t)
    m, n = t.shape[-2:]
    if mode == "raw":
        return _run_without_gradient(_np.linalg.qr, f"linalg.qr (mode={mode!r})", (t,), {"mode": mode})
    if mode == "complete" and m > n:
        from .shape import concatenate
        q1, r1 = _op("qr", [t])
        q2 = _op("qr_complement", [t])
        # (q2's value: I - Q1 Q1^T is the identity on it; its derivative: see above)
        q2 = q2 - q1 @ (q1.mT @ q2)
        zeros = _np.zeros(tuple(t.shape[:-2]) + (m - n, n), r1.dtype)
        return QRResult(concatenate([q1, q2], axis=-1), concatenate([r1, zeros], axis=-2))
    if m < n and _needs_grad(t):
        # A = [X, Y] with X square: Q R1 = X gives A's Q, and R = [R1, Q^T Y] (the factors
        # LAPACK computes), a composite of ops with rules (PyTorch's wide-QR derivative)
        from .shape import concatenate
        q, r1 = _op("qr", [t[..., :m]])
        r = concatenate([r1, q.mT @ t[..., m:]], axis=-1)
        return r if mode == "r" else QRResult(q, r)
    q, r = _op("qr", [t])
    return r if mode == "r" else QRResult(q, r)


@_implements(_np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """U, S, Vh. Differentiable for the reduced factors (full_matrices=False, or a square
    matrix); the gradient of U and Vh needs distinct, nonzero singular values and a loss
    that does not depend on the singular vectors' signs."""
    t = _float_tensor(a)
    _matrices("svd", t)
    m, n = t.shape[-2:]
    if hermitian or (full_matrices and compute_uv and m != n):
        why = "hermitian=True" if hermitian else "full_matrices=True for a non-square matrix"
        return _run_without_gradient(_np.linalg.svd, f"linalg.svd ({why})", (t,),
                                     {"full_matrices": full_matrices, "compute_uv": compute_uv,
                                      "hermitian": hermitian})
    u, s, vh = _op("svd", [t])
    return SVDResult(u, s, vh) if compute_uv else s


if hasattr(_np.linalg, "svdvals"):
    @_implements(_np.linalg.svdvals)
    def svdvals(x, /):
        return svd(x, compute_uv=False)


@_implements(_np.linalg.matrix_power)
def matrix_power(a, n):
    """a @ a @ ... (n times) by repeated squaring; n = 0 gives the identity, n < 0 powers
    of the inverse."""
    if not isinstance(n, (int, _np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power: exponent must be an integer, got {type(n).__name__}")
    a = _tensor(a)
    _square("matrix_power", a)
    n = int(n)
    if n == 0:
        eye = _np.broadcast_to(_np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()
        return _tensor_cls()._make(eye)
    if n < 0:
        a, n = inv(a), -n
    result, square = None, a
    while True:
        if n & 1:
            result = square if result is None else result @ square
        n >>= 1
        if not n:
            return result
        square = square @ square


def _full_rank_check(t, rcond, name):
    s = _np.linalg.svd(t._data, compute_uv=False)
    m, n = t.shape[-2:]
    # numpy's default cutoff is 1e-15; below max(m, n) * eps the rank is numerically unsure
    tol = max(1e-15, max(m, n) * _np.finfo(t.dtype).eps) if rcond is None else rcond
    if s.size and _np.any(s[..., -1] <= tol * s[..., 0]):
        raise NotImplementedError(f"{name}: the matrix (shape {tuple(t.shape)}) is rank deficient; only the "
                                  f"pseudo-inverse of a full-rank matrix is supported")


@_implements(_np.linalg.pinv)
def pinv(a, rcond=None, hermitian=False, **kwargs):
    """Moore-Penrose pseudo-inverse: numpy's (singular values at or below rtol times the
    largest are dropped). Its gradient is that of a matrix whose rank stays the same near
    it, as HIPS autograd's and PyTorch's; where a singular value crosses the cutoff the
    function jumps, and no derivative exists."""
    t = _float_tensor(a)
    _matrices("pinv", t)
    rtol = kwargs.pop("rtol", None)
    if kwargs:
        raise TypeError(f"pinv: unexpected keyword arguments {sorted(kwargs)}")
    if rcond is not None and rtol is not None:
        raise TypeError("pinv: give rcond or rtol, not both")
    rtol = rtol if rcond is None else rcond
    if hermitian:  # numpy reads the lower triangle only (through eigh): so does the gradient
        from .shape import swapaxes, tril
        t = tril(t) + swapaxes(tril(t, -1), -1, -2)
    return _op("pinv", [t], rtol=None if rtol is None else float(rtol), hermitian=bool(hermitian))


@_implements(_np.linalg.matrix_rank)
def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """The number of singular values above tol (numpy's default: the largest times
    max(M, N) * eps, or times rtol). An integer of the svd op's singular values (of
    eigvalsh's magnitudes when hermitian: numpy's own hermitian svd), so a compiled
    function recomputes it on every call; no gradient. A vector's rank is 1 unless it is
    all zeros: a Python int, as numpy's (in a compiled function, a guard)."""
    from .reductions import amax, count_nonzero
    if rtol is not None and tol is not None:
        raise ValueError("`tol` and `rtol` can't be both set.")
    t = _tensor(A)
    t = t.detach() if t.requires_grad or _traced(t) else t
    if t.ndim < 2:
        return int(not bool((t == 0).all()))
    t = _float_tensor(t)
    s = abs(eigvalsh(t)) if hermitian else svd(t, compute_uv=False)
    if tol is None:
        if rtol is None:
            rtol = max(t.shape[-2:]) * _np.finfo(s.dtype).eps
        else:
            rtol = _tensor(rtol)[..., None]
        if s.shape[-1] == 0:
            tol = _np.zeros(s.shape[:-1] + (1,), s.dtype)
        else:
            tol = amax(s, axis=-1, keepdims=True) * rtol
    else:
        tol = _tensor(tol)[..., None]
    return count_nonzero(s > tol, axis=-1)


def _traced(x):
    from ..autograd.recording import TRACER
    return TRACER[0] is not None and TRACER[0].traced(x)


@_implements(_np.linalg.trace)
def trace(x, /, *, offset=0, dtype=None):
    """numpy 2's linalg.trace: the trace over the last two axes."""
    from .reductions import trace as _trace
    return _trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


@_implements(_np.linalg.lstsq)
def lstsq(a, b, rcond=None):
    """numpy's (x, residuals, rank, singular values): x = pinv(a) b, the least-squares
    solution of minimum norm (singular values at or below rcond times the largest dropped;
    by default machine epsilon times max(m, n), numpy 2's). x and the residuals are
    differentiable where the rank stays the same; rank and singular values are data."""
    A = _float_tensor(a)
    B = _tensor(b)
    if A.ndim != 2:
        raise _np.linalg.LinAlgError(f"{A.ndim}-dimensional array given. Array must be two-dimensional")
    if B.ndim not in (1, 2) or B.shape[0] != A.shape[0]:
        raise _np.linalg.LinAlgError(f"lstsq: incompatible dimensions: a has shape {tuple(A.shape)}, "
                                     f"b has shape {tuple(B.shape)}")
    m, n = A.shape
    if rcond is None:
        rcond = _np.finfo(A.dtype).eps * max(m, n)
    s = svd(A, compute_uv=False)  # (computed by the code: a differentiable value, never a constant)
    # the rank decides the residuals' shape: in a compiled function, a guard (each rank
    # compiles a variant of its own, as a branch on data does)
    rank = int((s > rcond * s[0]).sum()) if s.size else 0
    x = pinv(A, rcond=rcond) @ B
    if rank == n and m > n:
        r = A @ x - B
        residuals = (r * r).sum(axis=0).reshape((-1,))
    else:
        residuals = _tensor(_np.zeros((0,), A.dtype))
    return x, residuals, _np.int32(rank), s


@_implements(_np.linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    """A chain of matrix products in the cheapest order (numpy's choice); the first array
    may be a row vector and the last a column vector (1-D)."""
    from .products import dot
    ts = [_tensor(x) for x in arrays]
    if len(ts) < 2:
        raise ValueError("multi_dot: expecting at least two arrays")
    first_1d, last_1d = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_1d:
        ts[0] = ts[0].reshape(1, -1)
    if last_1d:
        ts[-1] = ts[-1].reshape(-1, 1)
    for t in ts:
        if t.ndim != 2:
            raise ValueError(f"multi_dot: array of shape {tuple(t.shape)} is not 2-dimensional")
    order = _chain_order([t.shape[0] for t in ts] + [ts[-1].shape[1]])

    def product(i, j):
        if i == j:
            return ts[i]
        k = order[i][j]
        return dot(product(i, k), product(k + 1, j))
    result = product(0, len(ts) - 1)
    if first_1d and last_1d:
        return result.reshape(())
    if first_1d:
        return result.reshape(-1)
    return result.reshape(-1) if last_1d else result


def _chain_order(p):
    """The matrix-chain split points minimizing scalar multiplications (Cormen et al.)."""
    n = len(p) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


# the array API's names in numpy.linalg (numpy >= 2) that are products of the main namespace
def _alias(name, impl):
    f = getattr(_np.linalg, name, None)
    if f is not None:
        _implements(f)(impl)
        globals()[name] = impl


def _linalg_outer(x1, x2, /):
    from .products import outer as _outer
    if _tensor(x1).ndim != 1 or _tensor(x2).ndim != 1:
        raise ValueError("linalg.outer: both inputs must be 1-dimensional")
    return _outer(x1, x2)


def _linalg_cross(x1, x2, /, *, axis=-1):
    from .products import cross as _cross
    if _tensor(x1).shape[axis] != 3 or _tensor(x2).shape[axis] != 3:
        raise ValueError("linalg.cross: both inputs must have 3 elements along the axis")
    return _cross(x1, x2, axis=axis)


def _linalg_tensordot(x1, x2, /, *, axes=2):
    from .products import tensordot as _tensordot
    return _tensordot(x1, x2, axes=axes)


def _linalg_matmul(x1, x2, /):
    from .products import matmul as _matmul
    return _matmul(x1, x2)


def _linalg_vecdot(x1, x2, /, *, axis=-1):
    from .products import vecdot as _vecdot
    return _vecdot(x1, x2, axis=axis)


def _matrix_transpose(x, /):
    x = _tensor(x)
    _matrices("matrix_transpose", x)
    return x.mT


_alias("outer", _linalg_outer)
_alias("cross", _linalg_cross)
_alias("tensordot", _linalg_tensordot)
_alias("matmul", _linalg_matmul)
_alias("vecdot", _linalg_vecdot)
_alias("matrix_transpose", _matrix_transpose)

from .reductions import linalg_norm as norm, matrix_norm, vector_norm  # noqa: E402,F401  (reductions)


@_implements(_np.linalg.cond)
def cond(x, p=None):
    """The condition number: largest over smallest singular value (p None, 2; -2 the
    inverse), else norm(x, p) * norm(inv(x), p). Differentiable where the singular values
    involved are distinct (as svd's)."""
    t = _float_tensor(x)
    _matrices("cond", t)
    if p is None or p in (2, -2):
        s = svd(t, compute_uv=False)
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    _square("cond", t)
    return norm(t, p, axis=(-2, -1)) * norm(inv(t), p, axis=(-2, -1))


@_implements(_np.linalg.tensorsolve)
def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) = b: solve of a reshaped into a square matrix."""
    A, B = _float_tensor(a), _float_tensor(b)
    if axes is not None:
        from .shape import moveaxis
        axes = [ax % A.ndim for ax in (axes if isinstance(axes, (list, tuple)) else (axes,))]
        A = moveaxis(A, axes, list(range(A.ndim - len(axes), A.ndim)))
    shape = tuple(A.shape[B.ndim:])
    n = int(_np.prod(shape, dtype=_np.int64))
    if int(_np.prod(A.shape[:B.ndim], dtype=_np.int64)) != n:
        raise _np.linalg.LinAlgError("Input arrays must satisfy the requirement "
                                     "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    return solve(A.reshape(n, n), B.reshape(n)).reshape(shape)


@_implements(_np.linalg.tensorinv)
def tensorinv(a, ind=2):
    """The inverse of a as tensordot's operator: inv of a reshaped into a square matrix."""
    A = _float_tensor(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    rows = int(_np.prod(A.shape[ind:], dtype=_np.int64))
    return inv(A.reshape(rows, -1)).reshape(tuple(A.shape[ind:]) + tuple(A.shape[:ind]))


def __getattr__(name):
    """numpy.linalg's other names: run on data that needs no gradient, refuse otherwise."""
    attr = getattr(_np.linalg, name)
    if callable(attr) and not isinstance(attr, type):
        @_functools.wraps(attr)
        def no_rule(*args, **kwargs):
            return _run_without_gradient(attr, "linalg." + name, args, kwargs)
        globals()[name] = no_rule
        return no_rule
    return attr
