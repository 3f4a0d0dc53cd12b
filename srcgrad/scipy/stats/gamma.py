"""The gamma distribution with shape a (scipy's parameterisation: loc and scale)."""
from ... import numpy as np
from .. import special


def logpdf(x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    return special.xlogy(a - 1, y) - y - special.gammaln(a) - np.log(scale)


def pdf(x, a, loc=0.0, scale=1.0):
    return np.exp(logpdf(x, a, loc, scale))


def cdf(x, a, loc=0.0, scale=1.0):
    return special.gammainc(a, (x - loc) / scale)


def __getattr__(name):  # (rvs, ppf, mean, ...: scipy's, on data)
    from ._scipy_names import scipy_attribute
    return scipy_attribute("gamma", name)
