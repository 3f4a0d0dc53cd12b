"""The Poisson distribution with mean mu (k: counts, data)."""
from ... import numpy as np
from .. import special


def logpmf(k, mu, loc=0):
    k = k - loc
    return special.xlogy(k, mu) - special.gammaln(k + 1) - mu


def pmf(k, mu, loc=0):
    return np.exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0):
    """P(K <= k) = Q(floor(k) + 1, mu), the upper regularised incomplete gamma function."""
    return special.gammaincc(np.floor(k - loc) + 1, mu)


def __getattr__(name):  # (rvs, ppf, mean, ...: scipy's, on data)
    from ._scipy_names import scipy_attribute
    return scipy_attribute("poisson", name)
