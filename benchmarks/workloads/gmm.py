"""Gaussian mixture model: the log posterior of GradBench's corrected GMM specification.

Parameters: alphas (k,) (log mixture weights, unnormalised), means (k, d), and icf
(k, d + d(d-1)/2): per component, d log-diagonal entries q then the strictly-lower
entries l of a lower-triangular Q, column by column. The precision matrix of
component k is Q_k Q_k^T (the corrected spec: ADBench had it transposed), and a
Wishart(gamma, m) prior is put on the precision matrices (not the covariances):

    log p = sum_i logsumexp_k(alpha_k + sum(q_k) - |Q_k^T (x_i - mu_k)|^2 / 2)
            - n logsumexp(alpha) - n d log(2 pi) / 2
            + sum_k [ -gamma^2/2 |Q_k|_F^2 + m sum(q_k) ] + k (C - log Gamma_d((d+m+1)/2))

Gradient in alphas, means and icf; x is data. Written from the mathematics (GradBench's
spec and ADBench's data layout), vectorised over components and points.
"""
import functools
import math

import numpy
import numpy as np

SIZES = {
    "tiny": dict(n=7, d=3, k=2),
    "small": dict(n=200, d=5, k=5),
    "full": dict(n=1000, d=10, k=25),
}
ARGNUMS = (0, 1, 2)
GAMMA = 1.0
WISHART_M = 0


def make_inputs(size):
    p = SIZES[size]
    n, d, k = p["n"], p["d"], p["k"]
    rng = np.random.default_rng(0)
    alphas = rng.standard_normal(k)
    means = rng.random((k, d))
    icf = 0.5 * rng.standard_normal((k, d + d * (d - 1) // 2))
    x = rng.standard_normal((n, d))
    return alphas, means, icf, x


@functools.lru_cache(maxsize=None)
def _lower_selector(d):
    """(d(d-1)/2, d*d) 0/1 matrix: l @ S puts l's entries below the diagonal, column by column."""
    S = numpy.zeros((d * (d - 1) // 2, d, d))   # a constant: plain numpy whatever `np` is
    j = 0
    for col in range(d):
        for row in range(col + 1, d):
            S[j, row, col] = 1.0
            j += 1
    return S.reshape(-1, d * d)


def _log_multigamma(a, p):
    return 0.25 * p * (p - 1) * math.log(math.pi) + sum(math.lgamma(a + 0.5 * (1 - j))
                                                        for j in range(1, p + 1))


def logsumexp(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)


def forward(alphas, means, icf, x):
    n, d = x.shape
    k = alphas.shape[0]
    q = icf[:, :d]
    l = icf[:, d:]
    qdiag = np.exp(q)
    sum_qs = np.sum(q, axis=1)
    L = (l @ _lower_selector(d)).reshape(k, d, d)          # strictly lower part of Q
    xc = x[None, :, :] - means[:, None, :]                 # (k, n, d)
    # rows of Q_k^T (x_i - mu_k): (x_i - mu_k)^T Q_k
    Qxc = qdiag[:, None, :] * xc + xc @ L
    sqsum = np.sum(Qxc * Qxc, axis=2)                     # (k, n)
    inner = alphas[:, None] + sum_qs[:, None] - 0.5 * sqsum
    slse = np.sum(logsumexp(inner, axis=0))
    const = -n * d * 0.5 * math.log(2 * math.pi)
    # Wishart(gamma, m) prior on each precision Q Q^T: |Q|_F^2 = sum(qdiag^2) + sum(l^2)
    nw = d + WISHART_M + 1
    frob = np.sum(qdiag * qdiag) + np.sum(l * l)
    c = nw * d * (math.log(GAMMA) - 0.5 * math.log(2)) - _log_multigamma(0.5 * nw, d)
    prior = -0.5 * GAMMA * GAMMA * frob + WISHART_M * np.sum(sum_qs) + k * c
    return const + slse - n * logsumexp(alphas, axis=0) + prior


def torch_objectives(torch):
    def gmm(alphas, means, icf, x):
        n, d = x.shape
        k = alphas.shape[0]
        q = icf[:, :d]
        l = icf[:, d:]
        qdiag = torch.exp(q)
        sum_qs = q.sum(dim=1)
        L = (l @ torch.from_numpy(_lower_selector(d))).reshape(k, d, d)
        xc = x[None, :, :] - means[:, None, :]
        Qxc = qdiag[:, None, :] * xc + xc @ L
        sqsum = (Qxc * Qxc).sum(dim=2)
        inner = alphas[:, None] + sum_qs[:, None] - 0.5 * sqsum
        slse = torch.logsumexp(inner, dim=0).sum()
        const = -n * d * 0.5 * math.log(2 * math.pi)
        nw = d + WISHART_M + 1
        frob = (qdiag * qdiag).sum() + (l * l).sum()
        c = nw * d * (math.log(GAMMA) - 0.5 * math.log(2)) - _log_multigamma(0.5 * nw, d)
        prior = -0.5 * GAMMA * GAMMA * frob + WISHART_M * sum_qs.sum() + k * c
        return const + slse - n * torch.logsumexp(alphas, dim=0) + prior
    return [gmm]
