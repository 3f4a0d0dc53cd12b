"""scipy.linalg over tensors: `from srcgrad.scipy import linalg` (scipy's signatures).

Written with srcgrad.numpy.linalg's ops, so every gradient is theirs: a triangular solve
is a solve with the triangle (its gradient stays in that triangle, the one scipy reads),
a Cholesky factor numpy's (scipy's default is the upper one). Other names are scipy's
own, on data.
"""
from .. import numpy as np
from ..numpy import linalg as _nla

__all__ = ["cholesky", "cho_factor", "cho_solve", "solve_triangular", "solve", "inv", "det", "eigh", "svd",
           "lstsq", "pinv", "norm", "qr", "solve_banded", "solve_sylvester", "sqrtm", "expm"]


def _triangle(a, lower, unit_diagonal=False):
    a = np.asarray(a)
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        eye = np.eye(a.shape[-1], dtype=a.dtype)
        t = t * (1 - eye) + eye
    return t


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor, upper (a = U^H U) unless lower, from that triangle of a (the
    one scipy reads, so that is where the gradient goes)."""
    return _nla.cholesky(np.asarray(a), upper=not lower)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower): the factor in the triangle `lower` says, zeros in the other (scipy
    leaves whatever was there; nothing reads it)."""
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """x with a x = b, from cho_factor's (c, lower)."""
    c, lower = c_and_lower
    c = _triangle(c, lower)
    low, up = (c, _nla.conj_transpose(c)) if lower else (_nla.conj_transpose(c), c)
    return np.linalg.solve(up, np.linalg.solve(low, b))


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True):
    """x with op(T) x = b, T the `lower` (or upper) triangle of a (ones on its diagonal
    with unit_diagonal); op is none (trans 0 / 'N'), the transpose (1 / 'T') or the
    conjugate transpose (2 / 'C')."""
    t = _triangle(a, lower, unit_diagonal)
    trans = {"N": 0, "T": 1, "C": 2}.get(trans, trans)
    if trans == 1:
        t = np.swapaxes(t, -1, -2)
    elif trans == 2:
        t = _nla.conj_transpose(t)
    elif trans != 0:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    return np.linalg.solve(t, b)


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True, assume_a=None,
          transposed=False):
    if transposed:
        a = np.swapaxes(np.asarray(a), -1, -2)
    if assume_a in ("pos", "positive definite", "sym", "symmetric", "her", "hermitian"):
        # (scipy reads one triangle for these: the `lower` one, mirrored; a Hermitian one
        # conjugated, with the real part of its diagonal)
        t = _triangle(a, lower)
        eye = np.eye(t.shape[-1])
        strict = t * (1 - eye)
        if assume_a in ("sym", "symmetric"):
            a = t + np.swapaxes(strict, -1, -2)
        else:
            a = strict + _nla.conj_transpose(strict) + np.real(t) * eye
    return np.linalg.solve(a, b)


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """The solve of the banded matrix scipy stores as `ab` (`a[i, j] = ab[u + i - j, j]`),
    written into a dense matrix: the gradient reaches the stored band only."""
    low, up = (int(k) for k in l_and_u)
    ab = np.asarray(ab)
    rows, n = ab.shape[-2], ab.shape[-1]
    if rows != low + up + 1:
        raise ValueError(f"solve_banded: invalid values for the number of lower and upper diagonals: "
                         f"l+u+1 ({low + up + 1}) does not equal ab.shape[0] ({rows})")
    i, j = [], []
    for col in range(n):
        for row in range(max(0, col - up), min(n, col + low + 1)):
            i.append(up + row - col)
            j.append(col)
    band = ab[i, j]  # (each stored entry once, in the order of the dense positions below)
    dense_rows = [j[k] + i[k] - up for k in range(len(i))]
    a = np.zeros((n, n), dtype=band.dtype)
    a[dense_rows, j] = band
    return np.linalg.solve(a, b)


def solve_sylvester(a, b, q):
    """X with a X + X b = q: scipy's solver (Bartels-Stewart), an op whose gradient is
    another Sylvester solve (ops/scipy_linalg.py), differentiable again."""
    return _nla._op("sylvester", [_nla._float_tensor(a), _nla._float_tensor(b), _nla._float_tensor(q)])


def sqrtm(A, disp=True, blocksize=64):
    """The principal square root (scipy's), whose gradient solves the Sylvester equation
    S X + X S = G (ops/scipy_linalg.py). A real matrix with a complex root is refused."""
    if not disp:
        raise NotImplementedError("srcgrad.scipy.linalg.sqrtm: disp=False (the error estimate) is not supported")
    return _nla._op("sqrtm", [_nla._float_tensor(A)])


def expm(A):
    """exp(A): the matrix exponential op (ops/matrix_exp.py), with its exact gradient."""
    from ..linalg import matrix_exp
    return matrix_exp(A)


def inv(a, overwrite_a=False, check_finite=True):
    return np.linalg.inv(a)


def det(a, overwrite_a=False, check_finite=True):
    return np.linalg.det(a)


def eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
         type=1, check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):  # noqa: A002
    """The standard problem (b None) of the `lower` triangle of a."""
    if b is not None or subset_by_index is not None or subset_by_value is not None:
        raise NotImplementedError("srcgrad.scipy.linalg.eigh: only the standard problem of the whole spectrum")
    w, v = _nla.eigh(a, UPLO="L" if lower else "U")
    return w if eigvals_only else (w, v)


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True, lapack_driver="gesdd"):
    return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)


def lstsq(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True, lapack_driver=None):
    """(x, residues, rank, s) as scipy gives them (numpy's with rcond=cond)."""
    return np.linalg.lstsq(a, b, rcond=cond)


def pinv(a, *, atol=None, rtol=None, return_rank=False, check_finite=True):
    p = np.linalg.pinv(a) if rtol is None else np.linalg.pinv(a, rcond=rtol)
    return (p, np.linalg.matrix_rank(np.asarray(a).detach())) if return_rank else p


def norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
    return np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims)


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """mode 'full' (numpy's 'complete': see srcgrad.numpy.linalg.qr for the gradient of a
    tall matrix's), 'economic' (numpy's 'reduced') or 'r' (R alone, of full's shape)."""
    if pivoting:
        raise NotImplementedError("srcgrad.scipy.linalg.qr: pivoting is not supported")
    numpy_mode = {"economic": "reduced", "full": "complete", "r": "complete"}.get(mode)
    if numpy_mode is None:
        raise ValueError(f"qr: mode must be 'full', 'economic' or 'r', got {mode!r}")
    out = np.linalg.qr(a, mode=numpy_mode)
    return (out[1],) if mode == "r" else tuple(out)


def __getattr__(name):  # (lu, logm, ...: scipy's, on data)
    if name.startswith("__"):
        raise AttributeError(name)
    import scipy.linalg
    return getattr(scipy.linalg, name)
