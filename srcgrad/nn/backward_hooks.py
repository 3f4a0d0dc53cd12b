"""`Module.register_full_backward_hook`: hook(module, grad_input, grad_output) once the
gradients of the call's tensor inputs are known; a returned tuple replaces them.

Built on tensor hooks, which the generated backward calls as it runs: each output gets a
hook that keeps its gradient (grad_output), and each input that requires grad passes
through a view of its own, whose gradient is this call's share of the input's. The
module's hooks run when the last of those arrives; what they return replaces it (the
earlier inputs' gradients, for a module of several tensor inputs, have gone on by then).
When no input requires grad, they run at the outputs, with None for every input, as
PyTorch's do (with its warning)."""
import warnings

from ..autograd.mode import is_grad_enabled
from ..tensor import Tensor


def hooked_call(module, args, forward):
    """forward(*args) with the module's full backward hooks wired around it."""
    if not is_grad_enabled():
        return forward(*args)
    positions = [k for k, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    state = {"grad_output": None, "grad_input": [None] * len(args), "pending": set(positions)}

    def run_hooks():
        grad_input = tuple(state["grad_input"])
        for hook in list(module._full_backward_hooks.values()):
            result = hook(module, grad_input, state["grad_output"])
            if result is not None:
                grad_input = tuple(result)
        return grad_input

    def at_input(k):
        def hook(g):
            state["grad_input"][k] = g
            state["pending"].discard(k)
            if not state["pending"]:
                return run_hooks()[k]
            return None
        return hook
    args = list(args)
    for k in positions:
        args[k] = args[k].view_as(args[k])
        args[k].register_hook(at_input(k))
    out = forward(*args)
    outs = out if isinstance(out, tuple) else (out,)
    keep = [k for k, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
    grads = [None] * len(outs)

    def at_output(k):
        def hook(g):
            grads[k] = g
            state["grad_output"] = tuple(grads)
            if not positions and all(grads[j] is not None for j in keep):
                warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                              "outputs since no inputs require gradients.", UserWarning, stacklevel=2)
                run_hooks()
            return None
        return hook
    for k in keep:
        outs[k].register_hook(at_output(k))
    return out
