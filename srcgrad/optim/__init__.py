"""`srcgrad.optim`: PyTorch's optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) and the
common learning-rate schedulers (`srcgrad.optim.lr_scheduler`).

Each update is PyTorch's own formula, operation for operation in the same order (its
single-tensor code path), so that a model trained here follows the same trajectory as
under torch.optim. The arithmetic is numpy's on the parameters' arrays, outside autograd;
the new values are written into the parameters in place (the same objects, their version
counters bumped, as PyTorch's in-place updates under no_grad).
"""
import collections
import copy
import itertools
import warnings

import numpy as np

from ..autograd import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _arr(t):
    return t._data


def _write(p, values):
    """Store values into parameter p in place (called under no_grad: unrecorded)."""
    p.copy_(values)


def _lerp(start, end, weight):
    """start + weight (end - start), with PyTorch's two formulas (the exact one near each end)."""
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _scalar_state(value=0.0):
    # PyTorch keeps `step` as a float32 0-d tensor in the state
    return Tensor._make(np.array(value, np.float32))


def _zeros_like(p):
    return Tensor._make(np.zeros_like(_arr(p)))


def _check(ok, message):
    if not ok:
        raise ValueError(message)


def _ignored_options(name, differentiable=False, **_):
    """foreach/fused/capturable only choose PyTorch's kernels: accepted, without effect."""
    if differentiable:
        raise NotImplementedError(f"{name}(differentiable=True): srcgrad's optimizers update outside autograd")


class Optimizer:
    """Base class: holds param_groups (dicts of 'params' and options) and per-parameter state.

    Subclasses implement `_update(p, grad, state, group)`, which reads numpy arrays and
    writes the parameter with `_write`."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = collections.defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters, with its own options (the defaults fill the rest)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:  # named parameters: [(name, tensor), ...], as model.named_parameters() gives
            params = [p[1] for p in params]
            param_group["param_names"] = names
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error", stacklevel=3)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    p.grad.zero_()

    def step(self, closure=None):
        """One update of every parameter that has a .grad; closure() (re-evaluating the
        loss, with gradients) is called first if given, and its value returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    # (state is kept only once an update puts something in it: plain SGD has none)
                    state = self.state[p] if p in self.state else {}
                    self._update(p, _arr(p.grad), state, group)
                    if state and p not in self.state:
                        self.state[p] = state
        return loss

    def _update(self, p, grad, state, group):
        raise NotImplementedError

    # -- state_dict: parameters as their positions, as PyTorch's -----------------------------------
    def state_dict(self):
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take the state and options of state_dict (from an optimizer over parameters of
        the same shapes, in the same order); state tensors are copied, cast to the
        parameters' dtypes (except 'step')."""
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(itertools.chain.from_iterable(s["params"] for s in saved_groups),
                          itertools.chain.from_iterable(g["params"] for g in self.param_groups)))

        def cast(param, value, key=None):
            if isinstance(value, Tensor):
                arr = _arr(value)
                if key != "step" and arr.dtype.kind == "f" and param.dtype.kind == "f":
                    arr = arr.astype(param.dtype)
                return Tensor._make(arr.copy())
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            return copy.deepcopy(value)

        state = collections.defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v)
            else:
                state[k] = v
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups

    def __repr__(self):
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (PyTorch's form: the buffer starts
    at the first gradient), dampening, Nesterov momentum and weight decay."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, **options):
        _ignored_options("SGD", **options)
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(not nesterov or (momentum > 0 and dampening == 0),
               "Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _update(self, p, grad, state, group):
        param = _arr(p)
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * param
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = Tensor._make(np.array(g, copy=True))
            else:
                b = _arr(buf)
                b *= momentum
                b += (1 - group["dampening"]) * g
            g = g + momentum * _arr(buf) if group["nesterov"] else _arr(buf)
        _write(p, param + (-group["lr"]) * g)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction; weight_decay adds wd·θ to the gradient, or
    with decoupled_weight_decay=True (AdamW) shrinks θ by (1 - lr·wd) first."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False, **options):
        _ignored_options(type(self).__name__, **options)
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, p, grad, state, group):
        if not state:
            state["step"] = _scalar_state()
            state["exp_avg"] = _zeros_like(p)
            state["exp_avg_sq"] = _zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = _zeros_like(p)
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        g = -grad if group["maximize"] else grad
        step_t = _arr(state["step"])
        step_t += 1
        step = float(step_t)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                _write(p, _arr(p) * (1 - lr * wd))
            else:
                g = g + wd * _arr(p)
        m, v = _arr(state["exp_avg"]), _arr(state["exp_avg_sq"])
        m[...] = _lerp(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if group["amsgrad"]:
            vmax = _arr(state["max_exp_avg_sq"])
            np.maximum(vmax, v, out=vmax)
            denom = np.sqrt(vmax) / bias_correction2_sqrt + eps
        else:
            denom = np.sqrt(v) / bias_correction2_sqrt + eps
        _write(p, _arr(p) + (-step_size) * m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ(1 - lr·wd) before the
    Adam step; weight_decay defaults to 1e-2."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, **options):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, **options)


class RMSprop(Optimizer):
    """RMSprop: divides the gradient by a running RMS of gradients (optionally centered,
    with momentum)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False, **options):
        _ignored_options("RMSprop", **options)
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(alpha >= 0.0, f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _update(self, p, grad, state, group):
        if not state:
            state["step"] = _scalar_state()
            state["square_avg"] = _zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = _zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = _zeros_like(p)
        alpha, eps = group["alpha"], group["eps"]
        g = -grad if group["maximize"] else grad
        _arr(state["step"])[...] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * _arr(p)
        square_avg = _arr(state["square_avg"])
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = _arr(state["grad_avg"])
            grad_avg[...] = _lerp(grad_avg, g, 1 - alpha)
            avg = np.sqrt(square_avg + (-1) * grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += eps
        if group["momentum"] > 0:
            buf = _arr(state["momentum_buffer"])
            buf *= group["momentum"]
            buf += g / avg
            _write(p, _arr(p) + (-group["lr"]) * buf)
        else:
            _write(p, _arr(p) + (-group["lr"]) * g / avg)


class Adagrad(Optimizer):
    """Adagrad: divides the gradient by the root of the sum of all squared gradients so far."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False, **options):
        _ignored_options("Adagrad", **options)
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(lr_decay >= 0.0, f"Invalid lr_decay value: {lr_decay}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(initial_accumulator_value >= 0.0,
               f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        # PyTorch creates Adagrad's state at construction
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = _scalar_state()
                self.state[p]["sum"] = Tensor._make(np.full_like(_arr(p), group["initial_accumulator_value"]))

    def _update(self, p, grad, state, group):
        step_t = _arr(state["step"])
        step_t += 1
        step = float(step_t)
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * _arr(p)
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum = _arr(state["sum"])
        state_sum += 1 * g * g
        std = np.sqrt(state_sum) + group["eps"]
        _write(p, _arr(p) + (-clr) * g / std)


from . import lr_scheduler  # noqa: E402  (the schedulers read Optimizer)
