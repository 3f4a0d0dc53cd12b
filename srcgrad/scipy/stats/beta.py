"""The beta distribution with shapes a and b on [loc, loc + scale]."""
from ... import numpy as np
from .. import special


def logpdf(x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    return special.xlogy(a - 1, y) + special.xlog1py(b - 1, -y) - special.betaln(a, b) - np.log(scale)


def pdf(x, a, b, loc=0.0, scale=1.0):
    return np.exp(logpdf(x, a, b, loc, scale))


def cdf(x, a, b, loc=0.0, scale=1.0):
    return special.betainc(a, b, (x - loc) / scale)


def __getattr__(name):  # (rvs, ppf, mean, ...: scipy's, on data)
    from ._scipy_names import scipy_attribute
    return scipy_attribute("beta", name)
