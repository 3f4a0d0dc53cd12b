"""scipy.special over tensors: `from srcgrad.scipy import special`.

Every function differentiates in its float arguments (see srcgrad/symbolic/special.py
for the derivatives; an order or a shape parameter has none, and refuses a tensor that
requires grad). expit, logit, erf, erfc, ndtr, log_expit, xlogy, entr, logsumexp,
softmax and log_softmax are written with numpy's functions (no scipy needed for them).
"""
from ..numpy.elementwise import _entr as entr, _erfc as erfc, _log_expit as log_expit  # noqa: F401
from ..numpy.elementwise import _logit as logit, _ndtr as ndtr, _xlogy as xlogy  # noqa: F401
from ..numpy.elementwise import erf, expit  # noqa: F401
from ..numpy.reductions import log_softmax, logsumexp, softmax  # noqa: F401
from ..numpy.special import *  # noqa: F401,F403
from ..numpy.special import polygamma  # noqa: F401


def __getattr__(name):  # (comb, factorial, ...: scipy's, on data)
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(scipy_special(), name)
