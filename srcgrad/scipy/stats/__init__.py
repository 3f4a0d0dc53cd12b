"""scipy.stats' densities over srcgrad tensors: `from srcgrad.scipy.stats import norm`.

    norm.logpdf(x, loc, scale)   t.cdf(x, df)   multivariate_normal.logpdf(x, mean, cov)

Each distribution is a module of functions with scipy's signatures (pdf, logpdf, cdf,
logcdf, sf, logsf where scipy has them), written with srcgrad.numpy and
srcgrad.scipy.special, so every argument that has a derivative gets one: x, loc, scale
and shape parameters (not a shape inside an incomplete gamma or beta function: the cdfs
of gamma, beta, chi2, t and poisson differentiate in x, loc and scale only).
"""
from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t  # noqa: F401
