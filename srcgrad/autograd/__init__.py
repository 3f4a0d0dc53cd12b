"""PyTorch's autograd surface: Variable, backward, grad, grad modes.

The graph is recorded eagerly as grad_fn nodes (function.py); backward compiles it into
generated Python (engine.py).
"""
from .function import AccumulateGrad, BackwardNode
from .mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .variable import Variable
from . import functional  # noqa: E402  (torch.autograd.functional: jacobian, hessian, vjp, ...)
from .functional import (GradcheckError, detect_anomaly, gradcheck, gradgradcheck,
                         is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly)


def _seq(x):
    from ..tensor import Tensor
    if x is None:
        return None
    return [x] if isinstance(x, Tensor) else list(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaves) into the leaves' `.grad`."""
    from .engine import run_backward
    tensors = _seq(tensors)
    grads = _seq(grad_tensors) if grad_tensors is not None else [None] * len(tensors)
    run_backward(tensors, grads, retain_graph, create_graph, inputs=_seq(inputs))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """d(outputs)/d(inputs) contracted with grad_outputs, returned (not accumulated).
    materialize_grads: zeros, not None, for inputs the outputs do not depend on."""
    from .engine import run_backward
    if is_grads_batched:
        raise NotImplementedError("autograd.grad: is_grads_batched=True is not supported; "
                                  "call grad once per cotangent")
    outputs, inputs = _seq(outputs), _seq(inputs)
    grads = _seq(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    result = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                          allow_unused=bool(allow_unused or materialize_grads), accumulate=False)
    if materialize_grads:
        from ..creation import zeros_like
        result = [zeros_like(x) if g is None else g for g, x in zip(result, inputs)]
    return tuple(result)


def __getattr__(name):
    # Function lives with the other custom rules (srcgrad/custom.py); imported lazily
    # because custom.py builds on the tensor layer, which imports this package
    if name == "Function":
        from ..custom import Function
        return Function
    if name == "FunctionCtx":
        from ..custom import FunctionCtx
        return FunctionCtx
    raise AttributeError(f"module 'srcgrad.autograd' has no attribute {name!r}")


__all__ = ["AccumulateGrad", "Function", "BackwardNode", "GradcheckError", "Variable", "backward",
           "detect_anomaly", "enable_grad", "functional", "grad", "gradcheck", "gradgradcheck",
           "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "is_grad_enabled", "no_grad", "inference_mode",
           "set_detect_anomaly", "set_grad_enabled"]
