"""The normal distribution N(loc, scale**2)."""
import math

from ... import numpy as np
from .. import special

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return -z ** 2 / 2 - np.log(scale) - _LOG_SQRT_2PI


def pdf(x, loc=0.0, scale=1.0):
    return np.exp(logpdf(x, loc, scale))


def cdf(x, loc=0.0, scale=1.0):
    return special.ndtr((x - loc) / scale)


def logcdf(x, loc=0.0, scale=1.0):
    return special.log_ndtr((x - loc) / scale)


def sf(x, loc=0.0, scale=1.0):
    return special.ndtr((loc - x) / scale)


def logsf(x, loc=0.0, scale=1.0):
    return special.log_ndtr((loc - x) / scale)


def __getattr__(name):  # (rvs, ppf, mean, ...: scipy's, on data)
    from ._scipy_names import scipy_attribute
    return scipy_attribute("norm", name)
