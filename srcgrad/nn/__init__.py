"""PyTorch's `torch.nn.functional` vocabulary (functions only: srcgrad has no modules)."""
from . import functional  # noqa: F401
