"""The chi-squared distribution with df degrees of freedom: gamma with a = df/2, scale 2."""
from . import gamma


def logpdf(x, df, loc=0.0, scale=1.0):
    return gamma.logpdf(x, df / 2, loc, 2 * scale)


def pdf(x, df, loc=0.0, scale=1.0):
    return gamma.pdf(x, df / 2, loc, 2 * scale)


def cdf(x, df, loc=0.0, scale=1.0):
    return gamma.cdf(x, df / 2, loc, 2 * scale)


def __getattr__(name):  # (rvs, ppf, mean, ...: scipy's, on data)
    from ._scipy_names import scipy_attribute
    return scipy_attribute("chi2", name)
