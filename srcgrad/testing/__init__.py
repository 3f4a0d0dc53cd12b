"""Testing helpers: is this gradient right?

    from srcgrad.testing import gradcheck, assert_grad_close

`srcgrad.testing.strategies` has hypothesis strategies (it imports hypothesis; nothing
else here does), and `srcgrad.testing.plugin` is the pytest plugin, registered through
the `pytest11` entry point.
"""
from .gradcheck import GradcheckError, assert_grad_close, gradcheck, numerical_grad

__all__ = ["GradcheckError", "assert_grad_close", "gradcheck", "numerical_grad"]
