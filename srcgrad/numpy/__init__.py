"""srcgrad.numpy: numpy's namespace over srcgrad tensors.

    import srcgrad.numpy as np

Functions with a derivative rule record into the run like tensor methods do (the same
implementations serve `np.exp(t)` on a tensor through `__array_function__`/
`__array_ufunc__`). Every other numpy name is numpy's own: it runs on data that needs
no gradient and refuses, naming itself, when a gradient would be lost.
"""
import functools as _functools

import numpy as _np

from ._dispatch import HANDLED, NoRuleError, run_without_gradient
from .elementwise import *  # noqa: F401,F403
from .elementwise import abs, round, where  # noqa: F401  (names star-import skips or shadows)
from .shape import *  # noqa: F401,F403
from .products import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .misc import *  # noqa: F401,F403
from .integer_types import *  # noqa: F401,F403
from . import special as _special  # noqa: F401  (scipy.special's ufuncs reach tensors: special.py)
from . import linalg  # noqa: F401  (np.linalg.inv, ...)
from . import fft  # noqa: F401  (np.fft.fft, ...)


def __getattr__(name):
    attr = getattr(_np, name)
    impl = HANDLED.get(attr) if callable(attr) else None
    if impl is not None:  # a rule reached through __array_function__ (np.rollaxis)
        globals()[name] = impl
        return impl
    if callable(attr) and not isinstance(attr, type):
        @_functools.wraps(attr)
        def no_rule(*args, **kwargs):
            return run_without_gradient(attr, name, args, kwargs)
        globals()[name] = no_rule
        return no_rule
    return attr
