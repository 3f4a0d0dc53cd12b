"""srcgrad.scipy: scipy's namespaces over srcgrad tensors, as srcgrad.numpy is numpy's.

    from srcgrad.scipy import linalg, signal, special, stats

scipy.special's ufuncs already work on tensors when called from scipy itself (through
`__array_ufunc__`); these modules add the functions scipy writes in Python, which
convert their arguments to plain arrays (polygamma, logsumexp, the distributions'
densities). scipy is needed only to run scipy.special's functions, not to import these.
"""
from . import linalg, signal, special, stats  # noqa: F401
