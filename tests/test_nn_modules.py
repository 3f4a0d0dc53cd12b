"""srcgrad.nn's modules, srcgrad.nn.init, nn.utils and srcgrad.optim.

Registration and state_dict round trips, PyTorch's repr text, optimizer steps checked
against the update formulas written out in numpy, schedulers against their closed forms,
and a small regression trained end to end. (Agreement with torch.optim itself, step by
step over whole training runs, was checked outside the suite: PyTorch is not a test
dependency.)
"""
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import srcgrad
import srcgrad.nn.functional as F
import srcgrad.nn.init as init
import srcgrad.optim as optim
from srcgrad.nn import (CrossEntropyLoss, Dropout, Embedding, Flatten, Identity, LayerNorm, Linear, Module,
                        ModuleDict, ModuleList, MSELoss, Parameter, ReLU, Sequential, Softmax, Tanh)
from srcgrad.nn.utils import clip_grad_norm_, clip_grad_value_


class Block(Module):
    """A module with a parameter, two buffers, a submodule and a plain attribute."""

    def __init__(self):
        super().__init__()
        self.scale = Parameter(srcgrad.ones(3))
        self.register_buffer("running", srcgrad.zeros(3))
        self.register_buffer("scratch", srcgrad.zeros(2), persistent=False)
        self.lin = Linear(3, 2)
        self.note = srcgrad.zeros(1)  # a plain tensor attribute: not registered

    def forward(self, x):
        return self.lin(x * self.scale + self.running)


def _grad(p, values):
    p.grad = srcgrad.tensor(np.asarray(values, dtype=p.dtype))


# -- Parameter and Module registration ------------------------------------------------------------
def test_parameter_is_a_tensor_sharing_storage_with_its_repr():
    t = srcgrad.tensor([1.0, 2.0])
    p = Parameter(t)
    assert isinstance(p, srcgrad.Tensor) and p.requires_grad and p.is_leaf
    with srcgrad.no_grad():
        t.add_(1.0)  # Parameter(t) shares t's storage, as PyTorch's
    assert p.tolist() == [2.0, 3.0]
    assert repr(Parameter(srcgrad.tensor([1.0, 2.0]))) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(Parameter(srcgrad.tensor([1.0]), requires_grad=False)) == "Parameter containing:\ntensor([1.])"
    assert type(p * 2) is srcgrad.Tensor  # results of operations are plain tensors
    with pytest.raises(RuntimeError):
        Parameter(srcgrad.tensor([1, 2]))  # integer data cannot require grad


def test_registration_of_parameters_buffers_and_submodules():
    b = Block()
    assert [n for n, _ in b.named_parameters()] == ["scale", "lin.weight", "lin.bias"]
    assert [n for n, _ in b.named_buffers()] == ["running", "scratch"]
    assert list(b.state_dict()) == ["scale", "running", "lin.weight", "lin.bias"]  # not the non-persistent one
    assert [n for n, _ in b.named_modules()] == ["", "lin"]
    assert list(b.children()) == [b.lin]
    assert "note" not in dict(b.named_buffers()) and isinstance(b.note, srcgrad.Tensor)
    with pytest.raises(TypeError, match="parameter 'scale'"):
        b.scale = srcgrad.ones(3)  # a plain tensor cannot replace a parameter
    b.scale = None
    assert [n for n, _ in b.named_parameters()] == ["lin.weight", "lin.bias"]
    del b.lin
    assert list(b.children()) == [] and list(b.parameters()) == []
    with pytest.raises(AttributeError):
        b.lin


def test_shared_parameters_are_listed_once():
    lin = Linear(2, 2)
    seq = Sequential(lin, ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    tied = Sequential(Linear(2, 2), Linear(2, 2))
    tied[1].weight = tied[0].weight  # weight tying: one parameter in two modules
    assert [n for n, _ in tied.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_assigning_before_init_fails():
    class Bad(Module):
        def __init__(self):
            self.w = Parameter(srcgrad.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_state_dict_round_trip():
    srcgrad.manual_seed(1)
    a = Block()
    srcgrad.manual_seed(2)
    b = Block()
    x = srcgrad.randn(4, 3)
    assert not np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    with srcgrad.no_grad():
        a.running.add_(0.5)
    weight = b.lin.weight
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.lin.weight is weight  # copied into the existing parameter
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    # numpy arrays load too; the state_dict's tensors share the parameters' storage
    sd = a.state_dict()
    b.load_state_dict({k: v.numpy() * 2 for k, v in sd.items()})
    np.testing.assert_array_equal(b.lin.bias.detach().numpy(), 2 * a.lin.bias.detach().numpy())
    with srcgrad.no_grad():
        a.lin.bias.zero_()
    assert not sd["lin.bias"].numpy().any()


def test_load_state_dict_strictness_and_shape_errors():
    b = Block()
    sd = b.state_dict()
    del sd["scale"]
    sd["extra"] = srcgrad.zeros(1)
    with pytest.raises(RuntimeError, match='Missing key.*"scale".*\n.*Unexpected key.*"extra"'):
        b.load_state_dict(sd)
    result = b.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == ["extra"]
    sd = b.state_dict()
    sd["lin.weight"] = srcgrad.zeros(3, 2)
    with pytest.raises(RuntimeError, match="size mismatch for lin.weight"):
        b.load_state_dict(sd)


def test_repr_text_matches_pytorch():
    model = Sequential(Linear(2, 3), ReLU(), Sequential(Tanh(), Dropout(0.2)),
                       ModuleList([ReLU(), ReLU(), Linear(3, 3, bias=False)]), ModuleDict({"id": Identity()}),
                       LayerNorm(3), Embedding(4, 3, padding_idx=0), Softmax(dim=1), Flatten(), MSELoss())
    assert repr(model) == """Sequential(
  (0): Linear(in_features=2, out_features=3, bias=True)
  (1): ReLU()
  (2): Sequential(
    (0): Tanh()
    (1): Dropout(p=0.2, inplace=False)
  )
  (3): ModuleList(
    (0-1): 2 x ReLU()
    (2): Linear(in_features=3, out_features=3, bias=False)
  )
  (4): ModuleDict(
    (id): Identity()
  )
  (5): LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)
  (6): Embedding(4, 3, padding_idx=0)
  (7): Softmax(dim=1)
  (8): Flatten(start_dim=1, end_dim=-1)
  (9): MSELoss()
)"""
    assert repr(Block()) == "Block(\n  (lin): Linear(in_features=3, out_features=2, bias=True)\n)"


# -- containers ------------------------------------------------------------------------------------
def test_sequential_indexing_and_forward():
    l1, l2 = Linear(3, 4), Linear(4, 2)
    seq = Sequential(l1, ReLU(), l2)
    assert len(seq) == 3 and seq[0] is l1 and seq[-1] is l2 and list(seq)[1] is seq[1]
    assert isinstance(seq[:2], Sequential) and len(seq[:2]) == 2 and seq[:2][0] is l1
    with pytest.raises(IndexError):
        seq[3]
    x = srcgrad.randn(5, 3)
    np.testing.assert_allclose(seq(x).detach().numpy(), l2(F.relu(l1(x))).detach().numpy())
    seq.append(Tanh())
    del seq[1]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Tanh"]
    assert list(seq._modules) == ["0", "1", "2"]  # renumbered, as PyTorch
    named = Sequential(OrderedDict([("enc", l1), ("act", ReLU())]))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"] and named.enc is l1


def test_module_list_and_dict():
    ml = ModuleList([Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.insert(0, Tanh())
    ml += [ReLU()]
    assert [type(m).__name__ for m in ml] == ["Tanh", "Linear", "Linear", "Linear", "ReLU"]
    assert list(ml.state_dict())[:2] == ["1.weight", "1.bias"]
    md = ModuleDict({"a": Linear(1, 1)})
    md["b"] = ReLU()
    assert list(md) == ["a", "b"] and "b" in md and len(md) == 2
    assert list(md.state_dict()) == ["a.weight", "a.bias"]
    assert md.pop("a") is not None and list(md.keys()) == ["b"]


# -- modes, gradients, dtypes ----------------------------------------------------------------------
def test_train_eval_switches_dropout():
    model = Sequential(Identity(), Sequential(Dropout(0.5)))
    drop = model[1][0]
    x = srcgrad.ones(200, 50)
    srcgrad.manual_seed(0)
    y = model(x).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}  # dropped, or kept and scaled by 1 / (1 - p)
    assert 0.4 < (y == 0).mean() < 0.6
    assert model.eval() is model and not drop.training and not model.training
    np.testing.assert_array_equal(model(x).numpy(), x.numpy())
    model.train()
    assert drop.training and (model(x).numpy() == 0).any()


def test_zero_grad_apply_and_requires_grad():
    lin = Linear(3, 2)
    lin(srcgrad.randn(4, 3)).sum().backward()
    assert lin.weight.grad is not None
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is not None and not lin.weight.grad.numpy().any()
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None
    seen = []
    Sequential(Linear(1, 1), Sequential(ReLU())).apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]  # children first
    lin.requires_grad_(False)
    assert not any(p.requires_grad for p in lin.parameters())


def test_to_dtype_keeps_the_parameter_objects():
    b = Block()
    b.register_buffer("count", srcgrad.tensor([3]))
    w = b.lin.weight
    opt = optim.SGD(b.parameters(), lr=0.1)
    assert b.double() is b and b.lin.weight is w
    assert w.dtype == np.float64 and b.running.dtype == np.float64
    assert b.count.dtype == np.int64  # only floating point data is cast
    assert opt.param_groups[0]["params"][1] is w
    assert b.to(srcgrad.float32).lin.weight.dtype == np.float32 and b.to("cpu") is b


def test_forward_hooks():
    lin = Linear(2, 2)
    handle = lin.register_forward_hook(lambda m, args, out: out * 0)
    assert not lin(srcgrad.ones(1, 2)).detach().numpy().any()
    handle.remove()
    assert lin(srcgrad.ones(1, 2)).detach().numpy().any()


# -- layers -----------------------------------------------------------------------------------------
def test_linear_init_is_reproducible_with_manual_seed():
    srcgrad.manual_seed(123)
    a = Linear(50, 40)
    srcgrad.manual_seed(123)
    b = Linear(50, 40)
    c = Linear(50, 40)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    np.testing.assert_array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())
    assert not np.array_equal(b.weight.detach().numpy(), c.weight.detach().numpy())
    bound = 1 / math.sqrt(50)  # kaiming_uniform(a=sqrt(5)) gives U(±1/sqrt(fan_in)), as the bias
    for p in (a.weight, a.bias):
        v = p.detach().numpy()
        assert v.min() >= -bound and v.max() <= bound and v.max() > 0.9 * bound and v.min() < -0.9 * bound
    assert a.weight.dtype == srcgrad.get_default_dtype()
    assert Linear(2, 3, dtype=srcgrad.float64).weight.dtype == np.float64


def test_embedding_and_layer_norm():
    emb = Embedding(5, 3, padding_idx=-1)
    assert emb.padding_idx == 4 and not emb.weight.detach().numpy()[4].any()
    idx = srcgrad.tensor([[0, 4], [2, 2]])
    out = emb(idx)
    np.testing.assert_array_equal(out.detach().numpy(), emb.weight.detach().numpy()[[[0, 4], [2, 2]]])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 0], [1, 0, 2, 0, 0])  # padding row: no grad
    ln = LayerNorm(4)
    x = srcgrad.randn(3, 4) * 5 + 2
    y = ln(x).detach().numpy()
    np.testing.assert_allclose(y.mean(1), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(1), 1, rtol=1e-3)


def test_losses_delegate_with_their_options():
    x = srcgrad.tensor([[0.5, -1.2, 2.0], [-0.3, 0.8, -2.5]])
    target = srcgrad.tensor([2, 0])
    weight = srcgrad.tensor([1.0, 2.0, 3.0])
    loss = CrossEntropyLoss(weight=weight, reduction="sum")
    assert list(loss.state_dict()) == ["weight"]  # registered as a buffer, as PyTorch
    expected = F.cross_entropy(x, target, weight=weight, reduction="sum").item()
    assert loss(x, target).item() == pytest.approx(expected)
    assert expected != pytest.approx(F.cross_entropy(x, target).item())
    y = srcgrad.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    assert MSELoss()(x, y).item() == pytest.approx(((x.numpy() - y.numpy()) ** 2).mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert MSELoss(size_average=False).reduction == "sum"  # PyTorch's legacy flags


# -- init --------------------------------------------------------------------------------------------
def test_init_functions():
    t = srcgrad.zeros(30, 20, requires_grad=True)
    assert init.constant_(t, 0.25) is t and (t.detach().numpy() == 0.25).all() and t.requires_grad
    init.ones_(t)
    assert (t.detach().numpy() == 1).all()
    init.eye_(t)
    np.testing.assert_array_equal(t.detach().numpy(), np.eye(30, 20))
    srcgrad.manual_seed(0)
    init.xavier_uniform_(t, gain=2.0)
    a = 2.0 * math.sqrt(6 / 50)
    assert np.abs(t.detach().numpy()).max() <= a and np.abs(t.detach().numpy()).max() > 0.9 * a
    init.kaiming_uniform_(t, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 20)
    assert np.abs(t.detach().numpy()).max() <= bound and np.abs(t.detach().numpy()).max() > 0.9 * bound
    init.normal_(t, 3.0, 0.1)
    assert abs(t.detach().numpy().mean() - 3.0) < 0.02
    init.zeros_(t)
    assert not t.detach().numpy().any()
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(srcgrad.zeros(3))


# -- nn.utils --------------------------------------------------------------------------------------
def test_clip_grad_norm_and_value():
    p, q = Parameter(srcgrad.zeros(2)), Parameter(srcgrad.zeros(1))
    _grad(p, [3.0, 0.0])
    _grad(q, [4.0])
    total = clip_grad_norm_([p, q], 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [3 / (5 + 1e-6), 0], rtol=1e-6)
    np.testing.assert_allclose(q.grad.numpy(), [4 / (5 + 1e-6)], rtol=1e-6)
    assert clip_grad_norm_([p, q], 10.0).item() == pytest.approx(1.0, rel=1e-5)  # under the bound: unchanged
    np.testing.assert_allclose(q.grad.numpy(), [4 / (5 + 1e-6)], rtol=1e-6)
    _grad(p, [-3.0, 0.5])
    clip_grad_value_(p, 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, 0.5])
    from srcgrad.nn.utils import clip_grad_norm_ as same  # the nn.utils namespace
    assert same is clip_grad_norm_


# -- optimizers: steps against the formulas written out in numpy ------------------------------------
P0 = np.array([1.0, -2.0, 0.5])
G1 = np.array([0.3, -0.1, 0.8])
G2 = np.array([-0.5, 0.4, 0.2])


def _two_steps(opt_cls, **kwargs):
    p = Parameter(srcgrad.tensor(P0.copy()))
    opt = opt_cls([p], **kwargs)
    values = []
    for g in (G1, G2):
        _grad(p, g)
        opt.step()
        values.append(p.detach().numpy().copy())
    return p, opt, values


def test_sgd_momentum_dampening_weight_decay():
    lr, mu, damp, wd = 0.1, 0.9, 0.2, 0.01
    p, opt, (p1, p2) = _two_steps(optim.SGD, lr=lr, momentum=mu, dampening=damp, weight_decay=wd)
    d1 = G1 + wd * P0
    buf = d1.copy()  # the buffer starts at the first gradient (no dampening then)
    e1 = P0 - lr * buf
    d2 = G2 + wd * e1
    buf = mu * buf + (1 - damp) * d2
    e2 = e1 - lr * buf
    np.testing.assert_allclose(p1, e1, rtol=1e-14)
    np.testing.assert_allclose(p2, e2, rtol=1e-14)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), buf, rtol=1e-14)


def test_sgd_nesterov_and_maximize():
    lr, mu = 0.1, 0.9
    _, _, (p1, p2) = _two_steps(optim.SGD, lr=lr, momentum=mu, nesterov=True)
    buf = G1.copy()
    e1 = P0 - lr * (G1 + mu * buf)
    buf = mu * buf + G2
    e2 = e1 - lr * (G2 + mu * buf)
    np.testing.assert_allclose(p1, e1, rtol=1e-14)
    np.testing.assert_allclose(p2, e2, rtol=1e-14)
    _, _, (m1, _) = _two_steps(optim.SGD, lr=lr, maximize=True)
    np.testing.assert_allclose(m1, P0 + lr * G1, rtol=1e-14)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([Parameter(srcgrad.zeros(1))], lr=0.1, nesterov=True)


def _adam_reference(lr, b1, b2, eps, wd=0.0, decoupled=False, amsgrad=False):
    p, m, v, vmax, out = P0.copy(), np.zeros(3), np.zeros(3), np.zeros(3), []
    for t, g in enumerate((G1, G2), start=1):
        if decoupled:
            p = p * (1 - lr * wd)
        elif wd:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vhat = (vmax if amsgrad else v) / (1 - b2 ** t)
        p = p - lr / (1 - b1 ** t) * m / (np.sqrt(vhat) + eps)
        out.append(p)
    return out, m, v


@pytest.mark.parametrize("cls, kwargs, ref", [
    (optim.Adam, dict(lr=0.1), dict()),
    (optim.Adam, dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1, amsgrad=True),
     dict(wd=0.1, amsgrad=True)),
    (optim.AdamW, dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1), dict(wd=0.1, decoupled=True)),
])
def test_adam_two_steps(cls, kwargs, ref):
    b1, b2 = kwargs.get("betas", (0.9, 0.999))
    expected, m, v = _adam_reference(kwargs["lr"], b1, b2, kwargs.get("eps", 1e-8), **ref)
    p, opt, values = _two_steps(cls, **kwargs)
    np.testing.assert_allclose(values[0], expected[0], rtol=1e-12)
    np.testing.assert_allclose(values[1], expected[1], rtol=1e-12)
    state = opt.state[p]
    assert float(state["step"]) == 2.0
    np.testing.assert_allclose(state["exp_avg"].numpy(), m, rtol=1e-12)
    np.testing.assert_allclose(state["exp_avg_sq"].numpy(), v, rtol=1e-12)


def test_rmsprop_and_adagrad_two_steps():
    lr, alpha, eps, mu = 0.01, 0.9, 1e-8, 0.5
    _, _, (p1, p2) = _two_steps(optim.RMSprop, lr=lr, alpha=alpha, eps=eps, momentum=mu, centered=True)
    p, sq, ga, buf = P0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    expected = []
    for g in (G1, G2):
        sq = alpha * sq + (1 - alpha) * g * g
        ga = alpha * ga + (1 - alpha) * g
        buf = mu * buf + g / (np.sqrt(sq - ga * ga) + eps)
        p = p - lr * buf
        expected.append(p)
    np.testing.assert_allclose(p1, expected[0], rtol=1e-12)
    np.testing.assert_allclose(p2, expected[1], rtol=1e-12)

    lr, decay, acc0 = 0.1, 0.5, 0.1
    _, _, (p1, p2) = _two_steps(optim.Adagrad, lr=lr, lr_decay=decay, initial_accumulator_value=acc0)
    s1 = acc0 + G1 ** 2
    e1 = P0 - lr * G1 / (np.sqrt(s1) + 1e-10)
    s2 = s1 + G2 ** 2
    e2 = e1 - lr / (1 + decay) * G2 / (np.sqrt(s2) + 1e-10)
    np.testing.assert_allclose(p1, e1, rtol=1e-12)
    np.testing.assert_allclose(p2, e2, rtol=1e-12)


def test_float32_parameters_stay_float32():
    p = Parameter(srcgrad.tensor(P0.astype(np.float32)))
    opt = optim.Adam([p], lr=0.1)
    _grad(p, G1)
    opt.step()
    assert p.dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(p.detach().numpy(), P0 - 0.1 * np.sign(G1), rtol=1e-5)  # Adam's first step


def test_param_groups_zero_grad_and_closure():
    a, b = Parameter(srcgrad.ones(2)), Parameter(srcgrad.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 1.0
    _grad(a, [1.0, 1.0])
    _grad(b, [1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), 0.9)
    np.testing.assert_allclose(b.detach().numpy(), 0.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    c = Parameter(srcgrad.ones(1))
    opt.add_param_group({"params": [c]})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0

    def closure():
        opt.zero_grad()
        loss = (c ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 1.0
    np.testing.assert_allclose(c.detach().numpy(), [0.8])
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])


def test_optimizer_state_dict_resumes_the_same_trajectory():
    def run(split):
        p = Parameter(srcgrad.tensor(P0.copy()))
        opt = optim.Adam([p], lr=0.1, amsgrad=True)
        for i, g in enumerate((G1, G2, G1, G2)):
            if i == split:  # a fresh optimizer, loaded from the old one's state_dict
                sd = opt.state_dict()
                opt = optim.Adam([p], lr=0.5)
                opt.load_state_dict(sd)
            _grad(p, g)
            opt.step()
        return p.detach().numpy(), opt

    straight, _ = run(None)
    resumed, opt = run(2)
    np.testing.assert_array_equal(straight, resumed)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["amsgrad"]
    assert "Parameter Group 0\n    amsgrad: True\n    betas: (0.9, 0.999)" in repr(opt)


# -- schedulers ----------------------------------------------------------------------------------
def _lrs(make_scheduler, n=12, lr=1.0):
    opt = optim.SGD([Parameter(srcgrad.zeros(1))], lr=lr)
    sched = make_scheduler(opt)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def test_schedulers_follow_their_closed_forms():
    from srcgrad.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, LambdaLR, StepLR
    np.testing.assert_allclose(_lrs(lambda o: StepLR(o, step_size=3, gamma=0.5)),
                               [0.5 ** (e // 3) for e in range(13)], rtol=1e-12)
    np.testing.assert_allclose(_lrs(lambda o: ExponentialLR(o, gamma=0.9)), [0.9 ** e for e in range(13)], rtol=1e-12)
    np.testing.assert_allclose(_lrs(lambda o: LambdaLR(o, lambda e: 1 / (e + 1)), lr=2.0),
                               [2 / (e + 1) for e in range(13)], rtol=1e-12)
    # past T_max the cosine comes back up (period 2 T_max), as PyTorch's
    np.testing.assert_allclose(_lrs(lambda o: CosineAnnealingLR(o, T_max=5, eta_min=0.1)),
                               [0.1 + 0.9 * (1 + math.cos(math.pi * e / 5)) / 2 for e in range(13)], rtol=1e-9)
    np.testing.assert_allclose(_lrs(lambda o: optim.lr_scheduler.MultiStepLR(o, [2, 5], 0.1), n=6),
                               [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01], rtol=1e-12)


# -- end to end ----------------------------------------------------------------------------------------
def test_regression_trained_with_sgd():
    srcgrad.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3))
    y = np.sin(x @ np.array([[1.0], [-2.0], [0.5]])) + 0.3
    xt, yt = srcgrad.tensor(x, dtype=srcgrad.float32), srcgrad.tensor(y, dtype=srcgrad.float32)
    model = Sequential(Linear(3, 32), Tanh(), Linear(32, 1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=150, gamma=0.5)
    loss_fn = MSELoss()
    first = None
    for _ in range(300):
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        sched.step()
        first = loss.item() if first is None else first
    assert first > 0.3 and loss.item() < 0.01
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)


def test_reduce_lr_on_plateau_follows_pytorchs_schedule():
    torch = srcgrad
    # (the lrs PyTorch 2.13's ReduceLROnPlateau gives for these metrics)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.96, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76]
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2)
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(round(opt.param_groups[0]["lr"], 8))
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.01, 0.001, 0.001,
                   0.001, 0.0001]
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=2, factor=0.5, min_lr=0.3)
    for m in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]:
        sched.step(m)
    assert sched.get_last_lr() == [0.3]


def test_a_full_backward_hook_sees_the_calls_gradients_and_may_replace_grad_input():
    # (the values PyTorch 2.13 gives for this call)
    lin = srcgrad.nn.Linear(3, 2).double()
    with srcgrad.no_grad():
        lin.weight.copy_(srcgrad.tensor([[0.1, 0.2, 0.3], [-0.4, 0.5, 0.6]], dtype=srcgrad.float64))
        lin.bias.zero_()
    seen = []

    def hook(module, grad_input, grad_output):
        seen.append((module, [g.numpy().copy() for g in grad_input], [g.numpy().copy() for g in grad_output]))
        return (grad_input[0] * 2,)
    handle = lin.register_full_backward_hook(hook)
    x = srcgrad.tensor([[1.0, 2.0, 3.0]], dtype=srcgrad.float64, requires_grad=True)
    (lin(x) ** 2).sum().backward()
    assert seen[0][0] is lin
    np.testing.assert_allclose(seen[0][1][0], [[-1.64, 2.96, 3.72]])
    np.testing.assert_allclose(seen[0][2][0], [[2.8, 4.8]])
    np.testing.assert_allclose(x.grad.numpy(), [[-3.28, 5.92, 7.44]])
    np.testing.assert_allclose(lin.weight.grad.numpy(), [[2.8, 5.6, 8.4], [4.8, 9.6, 14.4]])
    handle.remove()
    calls = []
    lin.register_full_backward_hook(lambda m, gi, go: calls.append(gi))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        lin(srcgrad.tensor([[1.0, 2.0, 3.0]], dtype=srcgrad.float64)).sum().backward()
    assert calls == [(None,)]
