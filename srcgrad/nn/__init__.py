"""PyTorch's `torch.nn`: the functional vocabulary (functional.py), the Module layer over it
(modules.py), parameter initialisation (init.py) and utilities (utils.py)."""
from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
