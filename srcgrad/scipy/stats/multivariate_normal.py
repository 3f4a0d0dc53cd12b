"""The multivariate normal distribution N(mean, cov), x's last axis the dimension."""
import math

from ... import numpy as np


def _log_det_and_solve(cov, d, allow_singular):
    """(log pseudo-determinant of cov, its rank, a function applying its (pseudo-)inverse
    to the columns of a matrix). A singular covariance (allow_singular) keeps the
    eigenvalues above scipy's cutoff: the density lives on their span."""
    if not allow_singular:
        sign, logdet = np.linalg.slogdet(cov)
        return logdet, d, (lambda cols: np.linalg.solve(cov, cols))
    w, v = np.linalg.eigh(cov)
    keep = w > 1e6 * 2.220446049250313e-16 * np.max(np.abs(w))
    safe = np.where(keep, w, 1.0)
    inv_w = np.where(keep, 1 / safe, 0.0)
    logdet = np.sum(np.where(keep, np.log(safe), 0.0))
    rank = np.sum(np.where(keep, 1.0, 0.0))  # (a float: an int tensor times a float would be float32)
    return logdet, rank, (lambda cols: (v * inv_w) @ (v.T @ cols))


def logpdf(x, mean=None, cov=1, allow_singular=False):
    x = np.asarray(x)
    d = x.shape[-1]
    diff = x if mean is None else x - mean
    cov = np.asarray(cov) * np.eye(d) if np.ndim(cov) < 2 else cov
    rows = np.reshape(diff, (-1, d))
    logdet, rank, solve = _log_det_and_solve(cov, d, allow_singular)
    maha = np.sum(rows * solve(rows.T).T, axis=-1)
    out = -0.5 * (rank * math.log(2 * math.pi) + logdet + maha)
    return np.reshape(out, diff.shape[:-1])


def pdf(x, mean=None, cov=1, allow_singular=False):
    return np.exp(logpdf(x, mean, cov, allow_singular))


def entropy(mean=None, cov=1):
    cov = np.asarray(cov)
    d = cov.shape[-1] if np.ndim(cov) else 1
    sign, logdet = np.linalg.slogdet(cov if np.ndim(cov) == 2 else cov * np.eye(d))
    return 0.5 * d * (1 + math.log(2 * math.pi)) + 0.5 * logdet


def __getattr__(name):  # (rvs, ppf, mean, ...: scipy's, on data)
    from ._scipy_names import scipy_attribute
    return scipy_attribute("multivariate_normal", name)
