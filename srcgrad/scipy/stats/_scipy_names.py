"""A distribution module's other names (rvs, ppf, mean, ...) are scipy.stats' own: they
run on data, and refuse a traced tensor as numpy functions without a rule do."""


def scipy_attribute(distribution, name):
    if name.startswith("__"):
        raise AttributeError(name)
    import scipy.stats
    try:
        return getattr(getattr(scipy.stats, distribution), name)
    except AttributeError:
        raise AttributeError(f"srcgrad.scipy.stats.{distribution} (and scipy.stats.{distribution}) "
                             f"has no attribute {name!r}") from None
