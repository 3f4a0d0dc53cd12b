"""The Dirichlet distribution over the simplex, concentrations alpha (last axis)."""
from ... import numpy as np
from .. import special


def logpdf(x, alpha):
    return (np.sum(special.xlogy(alpha - 1, x), axis=-1) + special.gammaln(np.sum(alpha, axis=-1))
            - np.sum(special.gammaln(alpha), axis=-1))


def pdf(x, alpha):
    return np.exp(logpdf(x, alpha))


def __getattr__(name):  # (rvs, ppf, mean, ...: scipy's, on data)
    from ._scipy_names import scipy_attribute
    return scipy_attribute("dirichlet", name)
