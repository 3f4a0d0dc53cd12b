"""Student's t distribution with df degrees of freedom, shifted by loc and scaled."""
import math

from ... import numpy as np
from .. import special


def logpdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return (special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * np.log(df * math.pi)
            - np.log(scale) - (df + 1) / 2 * np.log1p(z ** 2 / df))


def pdf(x, df, loc=0.0, scale=1.0):
    return np.exp(logpdf(x, df, loc, scale))


def cdf(x, df, loc=0.0, scale=1.0):
    """1 - I(df / (df + z**2); df/2, 1/2) / 2 above the centre, its mirror below."""
    z = (x - loc) / scale
    tail = 0.5 * special.betainc(df / 2, 0.5, df / (df + z ** 2))
    return np.where(z > 0, 1 - tail, tail)


def logcdf(x, df, loc=0.0, scale=1.0):
    return np.log(cdf(x, df, loc, scale))


def __getattr__(name):  # (rvs, ppf, mean, ...: scipy's, on data)
    from ._scipy_names import scipy_attribute
    return scipy_attribute("t", name)
