"""PyTorch's `torch.autograd.functional` (jacobian, hessian, vjp, jvp, hvp, vhp) on srcgrad's
eager autograd, plus `gradcheck`, `gradgradcheck` and the anomaly-mode switches.

    import srcgrad.autograd.functional as AF
    out, g = AF.vjp(f, (x, y), v)              # (f(x, y), v^T J) in the structure of (x, y)
    J = AF.jacobian(f, (x, y))                 # tuple of tuples: J[i][j].shape == out_i.shape + in_j.shape

Why a module of its own: code written for PyTorch calls these with a tensor function and
tensor inputs, and expects PyTorch's conventions (a tuple in, a tuple out; results detached
unless create_graph=True; zeros, or an error under strict=True, where an output does not
depend on an input). srcgrad's JAX-style transforms (`srcgrad.jacobian(f, argnums)`,
`srcgrad.hessian`, `srcgrad.vjp`, `srcgrad.hvp`) take argnums, compile a traced function,
return numpy arrays and know neither tuples of outputs nor `strict`, so they cannot back
this API. Everything here is what PyTorch does too: `srcgrad.autograd.grad` called on a
function run eagerly, with create_graph=True for second order, and the double-backward
trick for forward-mode products (srcgrad has no forward-mode AD).

Cost: a Jacobian takes one backward per output element. The cotangent is a one-hot tensor
rather than PyTorch's `out.reshape(-1)[j]`: the same value, but the recorded graph (and so
srcgrad's cache key for the compiled backward) is the same for every row, so the backward
is compiled once and reused.
"""
import warnings

import numpy as np

from ..testing.gradcheck import GradcheckError as _SrcgradGradcheckError
from .mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---------------------------------------------------------------------------------------
# helpers, following torch/autograd/functional.py so that structures and errors match
# ---------------------------------------------------------------------------------------
def _Tensor():
    # imported late: this package is imported by the tensor layer itself
    from ..tensor import Tensor
    return Tensor


def _as_tuple(inp, arg_name, fn_name):
    """(whether inp was a tuple, inp as a tuple of tensors)."""
    Tensor = _Tensor()
    is_tuple = isinstance(inp, tuple)
    if not is_tuple:
        inp = (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                            f"Tensors but {where} has type {type(el)}.")
    return is_tuple, inp


def _tuple_postprocess(res, to_unpack):
    """Undo _as_tuple: to_unpack is one flag, or (outputs were a tuple, inputs were a tuple)
    for a nested result such as a Jacobian."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """New tensor objects for the inputs, so that uses of the very tensors passed in (which
    func may also capture from outside) are told apart from uses of the arguments. With
    create_graph, an input that requires grad becomes a view of itself, so that the results
    can be differentiated back to it; otherwise a detached leaf."""
    from .recording import unchanged_view
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(unchanged_view(inp))  # PyTorch's inp.view_as(inp)
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph):
    """Detach results (recursively through tuples) unless the caller asked for a graph."""
    if isinstance(inputs[0], _Tensor()):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if tuple(el_v.shape) != tuple(el_other.shape):
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {tuple(el_other.shape)} but got "
                               f"{tuple(el_v.shape)}.")


def _check_requires_grad(inputs, input_type, strict):
    """strict=True: every tensor in `inputs` must exist and require grad."""
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                               f"This is not allowed in strict mode.")
        if inp.requires_grad:
            continue
        if input_type == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is independent of "
                f"the input. This is not allowed in strict mode. You should ensure that your function is "
                f"thrice differentiable and that the hessian depends on the inputs.")
        if input_type == "jacobian":
            raise RuntimeError(
                f"While computing the hessian, found that the jacobian of the user-provided function with "
                f"respect to input {i} is independent of the input. This is not allowed in strict mode. "
                f"You should ensure that your function is twice differentiable and that the jacobian "
                f"depends on the inputs (this would be violated by a linear function for example).")
        if input_type == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the "
                f"user-provided function. This is not allowed in strict mode.")
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients. The outputs must be "
            f"computed in a differentiable manner from the input when running in strict mode.")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad that skips outputs which do not require grad (None for every input
    when none does) and gives None for inputs the outputs do not reach."""
    from . import grad
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    return grad([o for o, _ in kept], list(inputs), [g for _, g in kept], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


def _zeros_like(t, requires_grad=False):
    Tensor = _Tensor()
    z = Tensor._make(np.zeros(t.shape, t.dtype))
    return z.requires_grad_(True) if requires_grad else z


_STRICT_NONE = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed "
            "in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode gradients. "
                  "This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not "
                   "allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the "
                         "double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros (shaped like refs[i]) where a gradient is None, or strict-mode errors."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT_NONE[stage].format(i=i))
            g = _zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. "
                               f"This is not allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _v_or_default(v, against, is_against_tuple, create_graph, fn_name, what):
    """v as a tuple checked against `against`; None only allowed for one single-element
    tensor (PyTorch then uses 1, which autograd.grad supplies for a None cotangent)."""
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, against, is_against_tuple)
        return v
    if len(against) != 1 or against[0].numel() != 1:
        raise RuntimeError(f"The vector v can only be None if {what} a single Tensor with a single element.")
    return None


# ---------------------------------------------------------------------------------------
# products
# ---------------------------------------------------------------------------------------
def _call(func, inputs, create_graph, strict, name):
    """The inputs as a tuple ready to differentiate in, and func's outputs as a tuple
    (with whether each was one), its outputs checked to require grad under strict."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    return is_inputs_tuple, inputs, is_outputs_tuple, outputs


def _product(outputs, is_outputs_tuple, of, wrt, v, like, is_like_tuple, create_graph, strict, stage):
    """The common end of vjp, jvp, vhp and hvp: the gradient of `of` in `wrt` along v
    (recorded only under create_graph), zeros where it is None (shaped like `like`), and
    the outputs and result detached and unwrapped as PyTorch returns them."""
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(of, wrt, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, like, strict, create_graph, stage)
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_like_tuple)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T J): the vector-Jacobian product, shaped like `inputs`."""
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs = _call(func, inputs, create_graph, strict, "vjp")
        v = _v_or_default(v, outputs, is_outputs_tuple, create_graph, "vjp",
                          "the user-provided function returns")
    return _product(outputs, is_outputs_tuple, outputs, inputs, v, inputs, is_inputs_tuple, create_graph, strict, "back")


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), J v): the Jacobian-vector product, shaped like the outputs.

    By the double-backward trick: g -> J^T g is linear in g, so the gradient of
    <J^T g, v> with respect to g is J v, whatever g is (zeros here)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _v_or_default(v, inputs, is_inputs_tuple, create_graph, "jvp",
                          "the input to the user-provided function is")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        grad_outputs = tuple(_zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    return _product(outputs, is_outputs_tuple, grad_inputs, grad_outputs, v, outputs, is_outputs_tuple, create_graph, strict, "back_trick")


def _scalar_output(outputs, is_outputs_tuple, fn_name):
    if is_outputs_tuple or not isinstance(outputs[0], _Tensor()):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a "
                           f"single element")


def _gradient_of_scalar(func, inputs, v, create_graph, strict, name):
    """vhp's and hvp's common start (under enable_grad): the checked inputs and v, the
    function's single-element output, and its gradient with create_graph=True."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    v = _v_or_default(v, inputs, is_inputs_tuple, create_graph, name,
                      "the input to the user-provided function is")
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    _scalar_output(outputs, is_outputs_tuple, name)
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T H) for a function with one single-element output."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _gradient_of_scalar(
            func, inputs, v, create_graph, strict, "vhp")
    return _product(outputs, is_outputs_tuple, jac, inputs, v, inputs, is_inputs_tuple, create_graph, strict, "double_back")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), H v) for a function with one single-element output.

    As PyTorch computes it: the double-backward trick applied to the gradient (for a
    twice continuously differentiable function H is symmetric and this equals vhp)."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _gradient_of_scalar(
            func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(_zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
    return _product(outputs, is_outputs_tuple, double_back, grad_jac, v, inputs, is_inputs_tuple, create_graph, strict, "double_back_trick")


# ---------------------------------------------------------------------------------------
# Jacobian and Hessian
# ---------------------------------------------------------------------------------------
def _assemble(rows, shape, create_graph):
    """Stack per-element gradients into one tensor of `shape`; differentiably only when
    the caller wants a graph (otherwise the numpy data is enough)."""
    Tensor = _Tensor()
    if create_graph:
        from ..numpy.shape import torch_stack
        return torch_stack(list(rows), 0).reshape(shape)
    return Tensor._make(np.stack([r._data for r in rows]).reshape(shape))


def _jacobian_of_output(i, out, inputs, create_graph, strict):
    """d out / d inputs[k] for every k, shapes out.shape + inputs[k].shape, one backward
    per element of out."""
    Tensor = _Tensor()
    shapes = [tuple(out.shape) + tuple(inp.shape) for inp in inputs]
    n = out.numel()
    if n == 0 or not out.requires_grad:  # (strict mode already refused the latter)
        return tuple(Tensor._make(np.zeros(s, inp.dtype)) for s, inp in zip(shapes, inputs))
    rows = [[] for _ in inputs]
    for j in range(n):
        e = np.zeros(n, out.dtype)
        e[j] = 1
        vj = _autograd_grad((out,), inputs, (Tensor._make(e.reshape(out.shape)),), retain_graph=True,
                            create_graph=create_graph)
        for k, (g, inp) in enumerate(zip(vj, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                       f"{k}. This is not allowed in strict mode.")
                g = _zeros_like(inp)
            elif strict and create_graph and not g.requires_grad:
                # (PyTorch names the output's index here; the input's is the one that helps)
                raise RuntimeError(f"The jacobian of the user-provided function is independent of input "
                                   f"{k}. This is not allowed in strict mode when create_graph=True.")
            rows[k].append(g)
    return tuple(_assemble(r, s, create_graph) for r, s in zip(rows, shapes))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: a tensor of shape out.shape + in.shape, or tuples of
    them (a tuple per output if func returns a tuple, within it a tensor per input if
    inputs is a tuple).

    vectorize is accepted and changes nothing (srcgrad has no vmap; rows are computed one
    by one, and the compiled backward is reused). strategy="forward-mode" computes columns
    by the double-backward trick (srcgrad has no forward-mode AD): one per input element,
    with or without vectorize (PyTorch implements it only with vectorize=True)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If '
                             'your function has more outputs than inputs, "forward-mode" tends to be more '
                             'performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please '
                                      'either set `create_graph=False` or `strategy="reverse-mode"`.')
        return _jacobian_forward(func, inputs, strict)
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs = _call(func, inputs, create_graph, strict,
                                                                   "jacobian")
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                               "not supported together. Please either set `strict=False` or "
                               "`vectorize=False`.")
        jac = tuple(_jacobian_of_output(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
        jac = _grad_postprocess(jac, create_graph)
        return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_forward(func, inputs, strict):
    """strategy="forward-mode": column by column, J e_l as the gradient of <J^T g, e_l>
    with respect to g (the double-backward trick)."""
    from . import grad
    if strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
                           'are not supported together (yet). Please either set `strict=False` or '
                           '`strategy="reverse-mode"`.')
    Tensor = _Tensor()
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=False, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        live = [j for j, out in enumerate(outputs) if out.requires_grad]
        grad_outputs = {j: _zeros_like(outputs[j], requires_grad=True) for j in live}
        grad_inputs = _autograd_grad(tuple(outputs[j] for j in live), inputs,
                                     tuple(grad_outputs[j] for j in live), create_graph=True)
        jac = [[None] * len(inputs) for _ in outputs]
        for k, (inp, gi) in enumerate(zip(inputs, grad_inputs)):
            n = inp.numel()
            cols = [np.zeros((n,) + tuple(out.shape), out.dtype) for out in outputs]
            if gi is not None and gi.requires_grad:
                for col in range(n):
                    e = np.zeros(n, gi.dtype)
                    e[col] = 1
                    tangents = grad([gi], [grad_outputs[j] for j in live], [Tensor._make(e.reshape(gi.shape))],
                                    retain_graph=True, allow_unused=True)
                    for j, t in zip(live, tangents):
                        if t is not None:
                            cols[j][col] = t._data
            for j, out in enumerate(outputs):
                # the input's index ran first: move it behind the output's
                c = np.moveaxis(cols[j].reshape((n, -1)), 0, -1)
                jac[j][k] = Tensor._make(np.ascontiguousarray(c).reshape(tuple(out.shape) + tuple(inp.shape)))
    jac = tuple(tuple(row) for row in jac)
    return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a function with one single-element output: shape in.shape + in.shape,
    or a tuple of tuples H[i][j] of shape in_i.shape + in_j.shape for a tuple of inputs.

    The Jacobian of the (differentiable, create_graph=True) Jacobian, as in PyTorch."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, _Tensor()):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a "
                               "single element")
        return out.squeeze()

    def jac_func(*inp):
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


# ---------------------------------------------------------------------------------------
# gradcheck, gradgradcheck: PyTorch's signatures over srcgrad.testing.gradcheck
# ---------------------------------------------------------------------------------------
class GradcheckError(_SrcgradGradcheckError, RuntimeError):
    """Raised by gradcheck and gradgradcheck. PyTorch's is a RuntimeError, srcgrad.testing's
    an AssertionError: this one is both, so `except` clauses written for either catch it."""


def _as_tuple_any(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """True if srcgrad's gradients of func at inputs match central finite differences (in
    float64) with respect to every input tensor that requires grad; otherwise raises
    GradcheckError (or returns False with raise_exception=False).

    Backed by srcgrad.testing.gradcheck: outputs are contracted with random cotangents and
    the gradient is compared entry by entry (fast_mode=False), or along random input
    directions only (fast_mode=True). Gradient shapes and dtypes are always checked;
    srcgrad's backward is deterministic and never leaves a gradient undefined, so
    nondet_tol, check_undefined_grad, check_grad_dtypes and masked change nothing."""
    from ..testing.gradcheck import gradcheck as _check
    Tensor = _Tensor()
    for flag, name in ((check_batched_grad, "check_batched_grad"),
                       (check_batched_forward_grad, "check_batched_forward_grad"),
                       (check_forward_ad, "check_forward_ad")):
        if flag:
            raise NotImplementedError(f"gradcheck: {name}=True needs vmap or forward-mode AD, which srcgrad "
                                      f"does not have")
    if not check_backward_ad:
        return True  # nothing left to check
    tupled = _as_tuple_any(inputs)
    argnums = []
    for idx, inp in enumerate(tupled):
        if isinstance(inp, Tensor) and inp.requires_grad:
            if inp.dtype != np.float64:
                warnings.warn(f"Input #{idx} requires gradient and is not a double precision floating point "
                              f"or complex. This check will likely fail if all the inputs are not of double "
                              f"precision floating point or complex. ", stacklevel=2)
            argnums.append(idx)
    if not argnums:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of "
                         "them have requires_grad=True.")
    try:
        _check(func, *tupled, eps=eps, atol=atol, rtol=rtol, argnums=tuple(argnums),
               full_limit=0 if fast_mode else float("inf"))
    except _SrcgradGradcheckError as e:
        if not raise_exception:
            return False
        raise GradcheckError(str(e)) from None
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of func's backward: of (inputs, grad_outputs) -> d<grad_outputs, func>/d inputs
    (taken with create_graph=True), as PyTorch does. grad_outputs default to random
    tensors in [-1, 1) that require grad."""
    from . import grad
    Tensor = _Tensor()
    tupled_inputs = _as_tuple_any(inputs)
    if grad_outputs is None:
        with enable_grad():
            outs = [o for o in _as_tuple_any(func(*tupled_inputs)) if isinstance(o, Tensor) and o.requires_grad]
        rng = np.random.default_rng(0)
        tupled_grad_outputs = tuple(
            Tensor._make(rng.uniform(-1, 1, o.shape).astype(o.dtype if o.dtype.kind == "f" else np.float64),
                         True) for o in outs)
    else:
        tupled_grad_outputs = _as_tuple_any(grad_outputs)
    num_outputs = len(tupled_grad_outputs)
    diff_inputs = {i for i, x in enumerate(tupled_inputs) if isinstance(x, Tensor) and x.requires_grad}
    diff_grad_outputs = {i for i, x in enumerate(tupled_grad_outputs) if isinstance(x, Tensor) and x.requires_grad}

    def new_func(*args):
        # gradcheck calls this with fresh tensors (and under no_grad for its finite
        # differences): restore requires_grad where the caller had it, and record
        with enable_grad():
            input_args = tuple(_needing_grad(x) if i in diff_inputs else x
                               for i, x in enumerate(args[:len(args) - num_outputs]))
            outputs = [o for o in _as_tuple_any(func(*input_args)) if isinstance(o, Tensor) and o.requires_grad]
            gos = tuple(_needing_grad(x) if i in diff_grad_outputs else x
                        for i, x in enumerate(args[len(args) - num_outputs:]))
            wrt = [x for i, x in enumerate(input_args) if i in diff_inputs]
            grads = grad(outputs, wrt, list(gos), create_graph=True, allow_unused=True)
            return tuple(g for g in grads if g is not None)

    if not check_rev_over_rev:
        return True
    return gradcheck(new_func, tupled_inputs + tupled_grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, check_forward_ad=check_fwd_over_rev,
                     fast_mode=fast_mode, masked=masked)


def _needing_grad(x):
    """x itself if it already requires grad (a leaf gradcheck differentiates in), else a
    leaf on its data that does."""
    return x if x.requires_grad else x.detach().requires_grad_(True)


# ---------------------------------------------------------------------------------------
# anomaly mode
# ---------------------------------------------------------------------------------------
# What PyTorch's anomaly mode adds, srcgrad does always: every recorded op keeps the user's
# line (srcgrad/utils/locations.py), and errors of a backward name it (an input modified in
# place after it was saved: "... output 0 of ExpBackward0 (recorded at model.py:12)"); a
# custom Function's backward runs as ordinary Python, so its traceback reaches the user's
# code. What it does not do is check gradients for NaN op by op (PyTorch's check_nan): the
# flag is kept so that the engine can read it, and changes nothing yet.
_anomaly = {"enabled": False, "check_nan": True}


def is_anomaly_enabled():
    return _anomaly["enabled"]


def is_anomaly_check_nan_enabled():
    return _anomaly["check_nan"]


class detect_anomaly:
    """`with detect_anomaly():` accepted for PyTorch code; see the note above for what it
    changes in srcgrad (nothing: the user's lines are always recorded)."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self.prev = self.prev_check_nan = None

    def __enter__(self):
        self.prev, self.prev_check_nan = _anomaly["enabled"], _anomaly["check_nan"]
        _anomaly["enabled"], _anomaly["check_nan"] = True, self.check_nan
        return self

    def __exit__(self, *exc):
        _anomaly["enabled"], _anomaly["check_nan"] = self.prev, self.prev_check_nan
        return False


class set_detect_anomaly:
    """Like PyTorch: takes effect when called; used with `with`, restored afterwards."""

    def __init__(self, mode, check_nan=True):
        self.prev, self.prev_check_nan = _anomaly["enabled"], _anomaly["check_nan"]
        _anomaly["enabled"], _anomaly["check_nan"] = bool(mode), check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _anomaly["enabled"], _anomaly["check_nan"] = self.prev, self.prev_check_nan
        return False
