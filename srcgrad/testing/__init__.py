"""Testing helpers: is this gradient right?"""
from .gradcheck import GradcheckError, gradcheck, numerical_grad

__all__ = ["GradcheckError", "gradcheck", "numerical_grad"]
