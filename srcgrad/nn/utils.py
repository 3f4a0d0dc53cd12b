"""PyTorch's `torch.nn.utils`: gradient clipping and parameter/vector conversion."""
import numpy as np

from .. import _dtype
from ..autograd import no_grad
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _arr(t):
    """The numpy array behind a tensor (its storage: writes go through)."""
    return t._data


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients in place so that their joint norm is at most max_norm; returns
    the norm before clipping (PyTorch's: grads *= min(1, max_norm / (norm + 1e-6)))."""
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return Tensor._make(np.array(0.0, _dtype.get_default_dtype()))
    norms = [np.linalg.norm(_arr(g).ravel(), norm_type) for g in grads]
    total = np.linalg.norm(np.array(norms, np.result_type(*[_arr(g) for g in grads])), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           "so it cannot be clipped. To disable this error and scale the gradients by the "
                           "non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = min(max_norm / (float(total) + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            g.mul_(coef)
    return Tensor._make(np.asarray(total))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.copy_(np.clip(_arr(g), -clip_value, clip_value))


def parameters_to_vector(parameters):
    """The parameters' values, flattened and concatenated (a new tensor)."""
    return Tensor._make(np.concatenate([_arr(p).ravel() for p in parameters]))


def vector_to_parameters(vec, parameters):
    """Write consecutive slices of vec into the parameters, in place."""
    src = _arr(vec) if isinstance(vec, Tensor) else np.asarray(vec)
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(src[offset:offset + n].reshape(p.shape))
            offset += n
