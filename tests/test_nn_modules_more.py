"""srcgrad.nn's convolution, normalization, pooling, padding, activation, loss and distance
modules.

Each module against a numpy reference written out here, its parameters and buffers (names,
shapes, state_dict keys), its repr (the strings below were printed by PyTorch 2.13 for the
same constructor calls), its initialisation, and its gradients with respect to the input
and to its own parameters by finite differences. (The same modules were also compared
with torch.nn's, weights copied across, outside the suite: PyTorch is not a test
dependency.)
"""
import math
import re
import warnings

import numpy as np
import pytest

import srcgrad
import srcgrad.nn as nn
import srcgrad.nn.init as init
from srcgrad.testing import gradcheck

RNG = np.random.default_rng(7)
X1 = RNG.standard_normal((2, 4, 7))        # (N, C, L)
X2 = RNG.standard_normal((2, 4, 5, 6))     # (N, C, H, W)
X3 = RNG.standard_normal((1, 2, 3, 4, 3))  # (N, C, D, H, W)
XA = np.array([[0.7, -1.3, 2.2, -0.2, 5.1, -0.45], [3.4, -4.1, 0.35, -2.6, 6.8, 1.2],
               [1.6, -0.65, 4.6, 0.15, -7.3, 0.8]])  # (away from every activation's kinks)


def _np(t):
    return t.detach().numpy()


def _with_params(m):
    """m(*inputs) as a function of the inputs and then m's own parameters (swapped into its
    parameter dict for the call), and the parameters' values: gradcheck differentiates
    the module's forward with respect to its weights this way."""
    names = [n for n, p in m._parameters.items() if p is not None]
    values = [_np(m._parameters[n]).astype(np.float64) for n in names]

    def f(*args):
        inputs, params = args[:len(args) - len(names)], args[len(args) - len(names):]
        saved = dict(m._parameters)
        m._parameters.update(zip(names, params))
        try:
            return m(*inputs)
        finally:
            m._parameters.update(saved)
    return f, values


def _set(m, **values):
    """Load float64 values into m's parameters (the rest of its state kept)."""
    m.double()
    sd = {k: _np(v) for k, v in m.state_dict().items()}
    sd.update(values)
    m.load_state_dict(sd)
    return m


# -- repr text ---------------------------------------------------------------------------------
REPRS = [
    (lambda: nn.Conv1d(3, 8, 3), "Conv1d(3, 8, kernel_size=(3,), stride=(1,))"),
    (lambda: nn.Conv1d(3, 8, 3, stride=2, padding=1, dilation=2, groups=1, bias=False),
     "Conv1d(3, 8, kernel_size=(3,), stride=(2,), padding=(1,), dilation=(2,), bias=False)"),
    (lambda: nn.Conv2d(3, 8, 3, stride=2), "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2))"),
    (lambda: nn.Conv2d(4, 8, (3, 5), padding="same", groups=2, padding_mode="reflect"),
     "Conv2d(4, 8, kernel_size=(3, 5), stride=(1, 1), padding=same, groups=2, padding_mode=reflect)"),
    (lambda: nn.Conv2d(4, 8, 3, padding="valid"), "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=valid)"),
    (lambda: nn.Conv2d(4, 8, 3, padding=(1, 2), dilation=(1, 2), padding_mode="circular"),
     "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 2), dilation=(1, 2), padding_mode=circular)"),
    (lambda: nn.Conv2d(4, 8, 3, padding_mode="replicate"),
     "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding_mode=replicate)"),
    (lambda: nn.Conv3d(2, 4, 3, stride=(1, 2, 1), padding=1),
     "Conv3d(2, 4, kernel_size=(3, 3, 3), stride=(1, 2, 1), padding=(1, 1, 1))"),
    (lambda: nn.Conv3d(2, 4, (1, 2, 3)), "Conv3d(2, 4, kernel_size=(1, 2, 3), stride=(1, 1, 1))"),
    (lambda: nn.BatchNorm1d(5), "BatchNorm1d(5, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"),
    (lambda: nn.BatchNorm2d(5, eps=1e-3, momentum=None, affine=False, track_running_stats=False),
     "BatchNorm2d(5, eps=0.001, momentum=None, affine=False, bias=False, track_running_stats=False)"),
    (lambda: nn.BatchNorm3d(5, momentum=0.2),
     "BatchNorm3d(5, eps=1e-05, momentum=0.2, affine=True, bias=True, track_running_stats=True)"),
    (lambda: nn.GroupNorm(2, 4), "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"),
    (lambda: nn.GroupNorm(2, 4, eps=1e-3, affine=False), "GroupNorm(2, 4, eps=0.001, affine=False, bias=False)"),
    (lambda: nn.MaxPool1d(2), "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
    (lambda: nn.MaxPool1d(3, 2, 1, 2, True, True),
     "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)"),
    (lambda: nn.MaxPool2d((2, 3), stride=(1, 2), padding=1, ceil_mode=True),
     "MaxPool2d(kernel_size=(2, 3), stride=(1, 2), padding=1, dilation=1, ceil_mode=True)"),
    (lambda: nn.AvgPool1d(2), "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"),
    (lambda: nn.AvgPool1d(3, 2, 1, True, False), "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))"),
    (lambda: nn.AvgPool2d(2), "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
    (lambda: nn.AvgPool2d((2, 3), 1, 1, True, False, 3), "AvgPool2d(kernel_size=(2, 3), stride=1, padding=1)"),
    (lambda: nn.Unflatten(1, (2, 3)), "Unflatten(dim=1, unflattened_size=(2, 3))"),
    (lambda: nn.Unflatten(-1, [2, 3]), "Unflatten(dim=-1, unflattened_size=[2, 3])"),
    (lambda: nn.ZeroPad2d(1), "ZeroPad2d((1, 1, 1, 1))"),
    (lambda: nn.ZeroPad2d((1, 2, 3, 4)), "ZeroPad2d((1, 2, 3, 4))"),
    (lambda: nn.ZeroPad1d(2), "ZeroPad1d((2, 2))"),
    (lambda: nn.ConstantPad1d(2, 3.5), "ConstantPad1d(padding=(2, 2), value=3.5)"),
    (lambda: nn.ConstantPad2d((1, 0, 2, 3), 2), "ConstantPad2d(padding=(1, 0, 2, 3), value=2)"),
    (lambda: nn.ConstantPad3d(1, 0.5), "ConstantPad3d(padding=(1, 1, 1, 1, 1, 1), value=0.5)"),
    (lambda: nn.ReflectionPad2d((1, 1, 2, 0)), "ReflectionPad2d((1, 1, 2, 0))"),
    (lambda: nn.ReplicationPad1d(1), "ReplicationPad1d((1, 1))"),
    (lambda: nn.CircularPad3d(1), "CircularPad3d((1, 1, 1, 1, 1, 1))"),
    (lambda: nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (lambda: nn.Hardtanh(-2, 3, True), "Hardtanh(min_val=-2, max_val=3, inplace=True)"),
    (lambda: nn.ReLU6(), "ReLU6()"), (lambda: nn.ReLU6(True), "ReLU6(inplace=True)"),
    (lambda: nn.SELU(), "SELU()"), (lambda: nn.SELU(True), "SELU(inplace=True)"),
    (lambda: nn.CELU(), "CELU(alpha=1.0)"), (lambda: nn.CELU(0.5, True), "CELU(alpha=0.5, inplace=True)"),
    (lambda: nn.Mish(True), "Mish(inplace=True)"),
    (lambda: nn.Hardsigmoid(True), "Hardsigmoid()"), (lambda: nn.Hardswish(True), "Hardswish()"),
    (lambda: nn.LogSigmoid(), "LogSigmoid()"), (lambda: nn.Softsign(), "Softsign()"),
    (lambda: nn.Softmin(), "Softmin(dim=None)"), (lambda: nn.Softmin(1), "Softmin(dim=1)"),
    (lambda: nn.Softshrink(), "Softshrink(0.5)"), (lambda: nn.Hardshrink(1), "Hardshrink(1)"),
    (lambda: nn.Tanhshrink(), "Tanhshrink()"),
    (lambda: nn.Threshold(0.1, 20), "Threshold(threshold=0.1, value=20)"),
    (lambda: nn.Threshold(0.1, 20.0, True), "Threshold(threshold=0.1, value=20.0, inplace=True)"),
    (lambda: nn.PReLU(), "PReLU(num_parameters=1)"), (lambda: nn.PReLU(3, 0.1), "PReLU(num_parameters=3)"),
    (lambda: nn.GLU(), "GLU(dim=-1)"), (lambda: nn.GLU(1), "GLU(dim=1)"),
    (lambda: nn.RReLU(), "RReLU(lower=0.125, upper=0.3333333333333333)"),
    (lambda: nn.RReLU(0.1, 0.3, True), "RReLU(lower=0.1, upper=0.3, inplace=True)"),
    (lambda: nn.Softmax2d(), "Softmax2d()"),
    (lambda: nn.PoissonNLLLoss(False, True, eps=1e-6, reduction="sum"), "PoissonNLLLoss()"),
    (lambda: nn.MarginRankingLoss(0.5), "MarginRankingLoss()"), (lambda: nn.SoftMarginLoss(), "SoftMarginLoss()"),
    (lambda: nn.HingeEmbeddingLoss(2.0), "HingeEmbeddingLoss()"),
    (lambda: nn.CosineSimilarity(0, 1e-6), "CosineSimilarity()"),
    (lambda: nn.PairwiseDistance(1, 1e-3, True), "PairwiseDistance()"),
]


@pytest.mark.parametrize("make, text", REPRS, ids=[t for _, t in REPRS])
def test_repr_is_pytorchs(make, text):
    assert repr(make()) == text


def test_repr_inside_a_sequential():
    seq = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(), nn.MaxPool2d(2))
    assert repr(seq) == (
        "Sequential(\n"
        "  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)\n"
        "  (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n"
        "  (2): ReLU6()\n"
        "  (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
        ")")
    assert list(seq.state_dict()) == ["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                      "1.num_batches_tracked"]


# -- convolution ----------------------------------------------------------------------------------
_NP_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _np_conv(x, w, b, stride, pads, dilation, groups, mode="zeros"):
    """Cross-correlation over the spatial dims by a loop over output positions; pads:
    (left, right) per spatial dim, filled as padding_mode says."""
    d = w.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + list(pads), mode=_NP_MODES[mode])
    o, cg, k = w.shape[0], w.shape[1], w.shape[2:]
    size = [(xp.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(d)]
    out = np.zeros((x.shape[0], o, *size))
    for oc in range(o):
        g = oc // (o // groups)
        for pos in np.ndindex(*size):
            window = tuple(slice(p * s, p * s + dl * (kk - 1) + 1, dl) for p, s, dl, kk in zip(pos, stride, dilation, k))
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + window]
            out[(slice(None), oc) + pos] = (patch * w[oc]).sum(tuple(range(1, d + 2))) + (0 if b is None else b[oc])
    return out


CONV_CASES = [  # (class, x, args, kwargs, stride, pads, dilation, groups, padding mode)
    (nn.Conv1d, X1, (4, 6, 3), {}, (1,), [(0, 0)], (1,), 1, "zeros"),
    (nn.Conv1d, X1, (4, 6, 3), dict(stride=2, padding=2, dilation=2, groups=2, bias=False), (2,), [(2, 2)], (2,), 2,
     "zeros"),
    (nn.Conv1d, X1, (4, 2, 4), dict(padding="same", padding_mode="reflect"), (1,), [(1, 2)], (1,), 1, "reflect"),
    (nn.Conv1d, X1[0], (4, 2, 3), dict(padding=1, padding_mode="circular"), (1,), [(1, 1)], (1,), 1, "circular"),
    (nn.Conv2d, X2, (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2), (2, 1),
     [(1, 1), (2, 2)], (2, 1), 2, "zeros"),
    (nn.Conv2d, X2, (4, 2, (3, 4)), dict(padding="same", dilation=(1, 2)), (1, 1), [(1, 1), (3, 3)], (1, 2), 1,
     "zeros"),
    (nn.Conv2d, X2, (4, 2, 3), dict(padding="valid"), (1, 1), [(0, 0), (0, 0)], (1, 1), 1, "zeros"),
    (nn.Conv2d, X2, (4, 2, 3), dict(padding=(1, 2), padding_mode="replicate"), (1, 1), [(1, 1), (2, 2)], (1, 1), 1,
     "replicate"),
    (nn.Conv3d, X3, (2, 2, 2), dict(stride=(1, 2, 1), padding=1), (1, 2, 1), [(1, 1)] * 3, (1, 1, 1), 1, "zeros"),
    (nn.Conv3d, X3[0], (2, 4, (2, 3, 1)), dict(padding="same", groups=2, padding_mode="reflect"), (1, 1, 1),
     [(0, 1), (1, 1), (0, 0)], (1, 1, 1), 2, "reflect"),
]


@pytest.mark.parametrize("cls, x, args, kwargs, stride, pads, dilation, groups, mode", CONV_CASES)
def test_conv_against_loops(cls, x, args, kwargs, stride, pads, dilation, groups, mode):
    srcgrad.manual_seed(0)
    m = cls(*args, **kwargs).double()
    w = _np(m.weight)
    b = None if m.bias is None else _np(m.bias)
    batched = x.ndim == w.ndim
    y = m(srcgrad.tensor(x))
    expected = _np_conv(x if batched else x[None], w, b, stride, pads, dilation, groups, mode)
    np.testing.assert_allclose(_np(y), expected if batched else expected[0], rtol=1e-12, atol=1e-12)
    f, params = _with_params(m)
    gradcheck(f, (x if batched else x[None])[:1, :, :4], *params)


def test_conv_parameters_and_state_dict():
    m = nn.Conv2d(4, 6, (3, 2), groups=2)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == [("weight", (6, 2, 3, 2)), ("bias", (6,))]
    assert list(m.state_dict()) == ["weight", "bias"] and list(m.buffers()) == []
    assert m.weight.dtype == np.float32 and m.weight.requires_grad
    assert (m.kernel_size, m.stride, m.padding, m.dilation) == ((3, 2), (1, 1), (0, 0), (1, 1))
    assert [n for n, _ in nn.Conv3d(2, 2, 1, bias=False, dtype=srcgrad.float64).named_parameters()] == ["weight"]
    assert nn.Conv1d(2, 2, 1, dtype=srcgrad.float64).weight.dtype == np.float64
    y = m(srcgrad.randn(3, 4, 5, 5))
    assert y.shape == (3, 6, 3, 4)
    y.sum().backward()
    assert m.weight.grad.shape == (6, 2, 3, 2) and m.bias.grad.shape == (6,)


def test_conv_initialisation_is_pytorchs_from_srcgrads_generator():
    srcgrad.manual_seed(11)
    m = nn.Conv2d(6, 40, (3, 5), groups=2)
    srcgrad.manual_seed(11)  # the same draws, in the same order, by hand
    w, b = srcgrad.empty(40, 3, 3, 5), srcgrad.empty(40)
    init.kaiming_uniform_(w, a=math.sqrt(5))
    bound = 1 / math.sqrt(3 * 3 * 5)  # fan_in = in_channels / groups * kernel elements
    init.uniform_(b, -bound, bound)
    np.testing.assert_array_equal(_np(m.weight), _np(w))
    np.testing.assert_array_equal(_np(m.bias), _np(b))
    weights = _np(m.weight)  # U(-bound, bound): kaiming_uniform with a = sqrt(5) has that bound
    assert np.abs(weights).max() <= bound and np.abs(weights).max() > 0.95 * bound
    assert abs(weights.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(_np(m.bias)).max() <= bound
    srcgrad.manual_seed(12)
    assert not np.array_equal(_np(nn.Conv2d(6, 40, (3, 5), groups=2).weight), weights)


def test_conv_argument_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv1d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv1d(4, 4, 3, padding="full")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv1d(4, 4, 3, padding_mode="mirror")


# -- batch norm -------------------------------------------------------------------------------------
def _np_bn_train(x, w, b, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axes), x.var(axes)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return y * w.reshape(shape) + b.reshape(shape), mean, x.var(axes, ddof=1)


@pytest.mark.parametrize("cls, x", [(nn.BatchNorm1d, X1[:, :, 0]), (nn.BatchNorm1d, X1), (nn.BatchNorm2d, X2),
                                    (nn.BatchNorm3d, X3)])
def test_batch_norm_train_then_eval(cls, x):
    c = x.shape[1]
    w, b = np.linspace(0.5, 2.0, c), np.linspace(-1.0, 1.0, c)
    m = _set(cls(c), weight=w, bias=b)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert [(n, tuple(t.shape), str(t.dtype)) for n, t in m.named_buffers()] == [
        ("running_mean", (c,), "float64"), ("running_var", (c,), "float64"), ("num_batches_tracked", (), "int64")]
    y = m(srcgrad.tensor(x))  # training: the batch's statistics, the running ones updated
    expected, mean, unbiased = _np_bn_train(x, w, b)
    np.testing.assert_allclose(_np(y), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(m.running_mean), 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(_np(m.running_var), 0.9 + 0.1 * unbiased, rtol=1e-12)
    assert m.num_batches_tracked.item() == 1
    m.eval()  # evaluation: the running statistics, which stay as they are
    x2 = x * 2 + 1
    shape = (1, -1) + (1,) * (x.ndim - 2)
    rm, rv = _np(m.running_mean).copy(), _np(m.running_var).copy()
    expected = (x2 - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + 1e-5) * w.reshape(shape) + b.reshape(shape)
    np.testing.assert_allclose(_np(m(srcgrad.tensor(x2))), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(_np(m.running_mean), rm)
    assert m.num_batches_tracked.item() == 1
    f, params = _with_params(m)
    gradcheck(f, x, *params)
    f, params = _with_params(m.train())
    gradcheck(f, x, *params)


def test_batch_norm_momentum_none_is_the_cumulative_average():
    m = nn.BatchNorm2d(3, momentum=None).double()
    means, variances = [], []
    for k in range(3):
        x = RNG.standard_normal((4, 3, 2, 2)) * (k + 1) + k
        m(srcgrad.tensor(x))
        means.append(x.mean((0, 2, 3)))
        variances.append(x.var((0, 2, 3), ddof=1))
    np.testing.assert_allclose(_np(m.running_mean), np.mean(means, 0), rtol=1e-12)
    np.testing.assert_allclose(_np(m.running_var), np.mean(variances, 0), rtol=1e-12)
    assert m.num_batches_tracked.item() == 3
    m.reset_running_stats()
    assert _np(m.running_mean).tolist() == [0, 0, 0] and _np(m.running_var).tolist() == [1, 1, 1]
    assert m.num_batches_tracked.item() == 0


def test_batch_norm_momentum_and_eps():
    m = nn.BatchNorm1d(4, eps=0.5, momentum=0.3, affine=False).double()
    assert list(m.parameters()) == [] and list(m.state_dict()) == ["running_mean", "running_var",
                                                                    "num_batches_tracked"]
    x = X1.transpose(0, 2, 1).reshape(-1, 4)
    y = m(srcgrad.tensor(x))
    np.testing.assert_allclose(_np(y), (x - x.mean(0)) / np.sqrt(x.var(0) + 0.5), rtol=1e-12)
    np.testing.assert_allclose(_np(m.running_mean), 0.3 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(_np(m.running_var), 0.7 + 0.3 * x.var(0, ddof=1), rtol=1e-12)


def test_batch_norm_without_running_stats_uses_the_batch_in_eval_mode_too():
    m = nn.BatchNorm2d(4, track_running_stats=False, bias=False).double()
    assert m.running_mean is None and m.num_batches_tracked is None
    assert list(m.state_dict()) == ["weight"] and m.bias is None
    m.eval()
    expected, _, _ = _np_bn_train(X2, np.ones(4), np.zeros(4))
    np.testing.assert_allclose(_np(m(srcgrad.tensor(X2))), expected, rtol=1e-10, atol=1e-12)


def test_batch_norm_with_tracking_switched_off_later_keeps_its_buffers():
    m = nn.BatchNorm1d(4).double()
    m(srcgrad.tensor(X1))
    mean, var = _np(m.running_mean).copy(), _np(m.running_var).copy()
    m.track_running_stats = False  # training: batch statistics, the buffers left alone
    expected, _, _ = _np_bn_train(3 * X1, np.ones(4), np.zeros(4))
    np.testing.assert_allclose(_np(m(srcgrad.tensor(3 * X1))), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(_np(m.running_mean), mean)
    np.testing.assert_array_equal(_np(m.running_var), var)
    assert m.num_batches_tracked.item() == 1
    m.eval()  # evaluation: the buffers exist, so they are used
    np.testing.assert_allclose(_np(m(srcgrad.tensor(X1))), (X1 - mean[:, None]) / np.sqrt(var[:, None] + 1e-5),
                               rtol=1e-10, atol=1e-12)


def test_batch_norm_state_dict_and_dtypes():
    m = nn.BatchNorm1d(3)
    assert [str(t.dtype) for t in m.state_dict().values()] == ["float32"] * 4 + ["int64"]
    assert m.double().num_batches_tracked.dtype == np.int64  # only floating point state is cast
    sd = {"weight": np.full(3, 2.0), "bias": np.zeros(3), "running_mean": np.ones(3), "running_var": np.full(3, 4.0),
          "num_batches_tracked": np.array(5)}
    m.load_state_dict(sd)
    assert m.num_batches_tracked.item() == 5
    x = np.array([[1.0, 3.0, 5.0]])
    np.testing.assert_allclose(_np(m.eval()(srcgrad.tensor(x))), 2 * (x - 1) / np.sqrt(4 + 1e-5), rtol=1e-12)


@pytest.mark.parametrize("cls, x, text", [(nn.BatchNorm1d, X2, "expected 2D or 3D input (got 4D input)"),
                                          (nn.BatchNorm2d, X1, "expected 4D input (got 3D input)"),
                                          (nn.BatchNorm3d, X2, "expected 5D input (got 4D input)")])
def test_batch_norm_input_dimension_errors(cls, x, text):
    with pytest.raises(ValueError, match=re.escape(text)):
        cls(4)(srcgrad.tensor(x))


# -- group norm --------------------------------------------------------------------------------------
@pytest.mark.parametrize("groups, x", [(2, X2), (1, X1), (4, X1)])
def test_group_norm(groups, x):
    c = x.shape[1]
    w, b = np.linspace(0.5, 2.0, c), np.linspace(-1.0, 1.0, c)
    m = _set(nn.GroupNorm(groups, c), weight=w, bias=b)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == [("weight", (c,)), ("bias", (c,))]
    g = x.reshape(x.shape[0], groups, -1)
    normed = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + 1e-5)).reshape(x.shape)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    np.testing.assert_allclose(_np(m(srcgrad.tensor(x))), normed * w.reshape(shape) + b.reshape(shape), rtol=1e-10,
                               atol=1e-12)
    f, params = _with_params(m)
    gradcheck(f, x[:1], *params)


def test_group_norm_options():
    m = nn.GroupNorm(2, 4, eps=0.5, affine=False)
    assert m.weight is None and m.bias is None and list(m.state_dict()) == []
    g = X2.reshape(2, 2, -1)
    expected = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + 0.5)).reshape(X2.shape)
    np.testing.assert_allclose(_np(m(srcgrad.tensor(X2))), expected, rtol=1e-12)
    assert [_np(p).tolist() for p in nn.GroupNorm(2, 4).parameters()] == [[1.0] * 4, [0.0] * 4]
    with pytest.raises(ValueError, match=re.escape("num_channels (5) must be divisible by num_groups (2)")):
        nn.GroupNorm(2, 5)


# -- pooling ----------------------------------------------------------------------------------------
def _np_pool1d(x, k, s, p, kind, dilation=1, ceil_mode=False, count_include_pad=True):
    """Pooling along the last dim by a loop over PyTorch's windows."""
    n = x.shape[-1]
    span = n + 2 * p - dilation * (k - 1) - 1
    o = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    xp = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(p, p + k * dilation)], constant_values=-np.inf if kind == "max" else 0)
    out = []
    for i in range(o):
        win = xp[..., i * s:i * s + dilation * (k - 1) + 1:dilation]
        if kind == "max":
            out.append(win.max(-1))
        else:
            start, end = i * s - p, min(i * s - p + k, n + p)
            count = end - start if count_include_pad else min(end, n) - max(start, 0)
            out.append(win.sum(-1) / count)
    return np.stack(out, -1)


def test_max_pool_1d_and_2d():
    m = nn.MaxPool1d(3, 3, 1, 2, ceil_mode=True)
    y = m(srcgrad.tensor(X1))
    assert y.shape == (2, 4, 3) and nn.MaxPool1d(3, 3, 1, 2)(srcgrad.tensor(X1)).shape == (2, 4, 2)
    np.testing.assert_array_equal(_np(y), _np_pool1d(X1, 3, 3, 1, "max", 2, True))
    gradcheck(m, X1[:1])
    m2 = nn.MaxPool2d((2, 3), stride=(1, 2), padding=1)
    rows = _np_pool1d(X2.swapaxes(2, 3), 2, 1, 1, "max").swapaxes(2, 3)  # max over a box = max of maxes
    np.testing.assert_array_equal(_np(m2(srcgrad.tensor(X2))), _np_pool1d(rows, 3, 2, 1, "max"))
    gradcheck(m2, X2[:1, :2])
    assert nn.MaxPool2d(2)(srcgrad.tensor(X2[0])).shape == (4, 2, 3)  # unbatched
    values, index = nn.MaxPool1d(2, return_indices=True)(srcgrad.tensor([[[1.0, 3.0, 5.0, 0.0, 2.0, 4.0]]]))
    assert _np(values).tolist() == [[[3.0, 5.0, 4.0]]] and _np(index).tolist() == [[[1, 2, 5]]]


def test_avg_pool_1d_and_2d():
    m = nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(_np(m(srcgrad.tensor(X1))), _np_pool1d(X1, 3, 2, 1, "avg", 1, True, False),
                               rtol=1e-12)
    gradcheck(m, X1[:1])
    m2 = nn.AvgPool2d((2, 3), stride=(2, 1), padding=(1, 0))
    rows = _np_pool1d(X2.swapaxes(2, 3), 2, 2, 1, "avg").swapaxes(2, 3)
    np.testing.assert_allclose(_np(m2(srcgrad.tensor(X2))), _np_pool1d(rows, 3, 1, 0, "avg"), rtol=1e-12)
    gradcheck(m2, X2[:1, :2])
    m3 = nn.AvgPool2d(2, divisor_override=3)
    np.testing.assert_allclose(_np(m3(srcgrad.tensor(X2))), X2[:, :, :4].reshape(2, 4, 2, 2, 3, 2).sum((3, 5)) / 3,
                               rtol=1e-12)


# -- shapes and padding ------------------------------------------------------------------------------
def test_unflatten():
    x = srcgrad.tensor(X1)
    assert nn.Unflatten(2, (7, 1))(x).shape == (2, 4, 7, 1)
    assert nn.Unflatten(1, [2, -1])(x).shape == (2, 2, 2, 7)
    np.testing.assert_array_equal(_np(nn.Sequential(nn.Flatten(), nn.Unflatten(1, (4, 7)))(x)), X1)
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 4)
    with pytest.raises(TypeError, match="found element of type float at pos 1"):
        nn.Unflatten(1, (2, 2.0))


PAD_CASES = [
    (lambda: nn.ZeroPad1d(2), X1, [(2, 2)], "constant", 0.0),
    (lambda: nn.ZeroPad2d((1, 2, 0, 3)), X2, [(0, 3), (1, 2)], "constant", 0.0),
    (lambda: nn.ZeroPad3d(1), X3, [(1, 1)] * 3, "constant", 0.0),
    (lambda: nn.ConstantPad1d((1, 2), 3.5), X1, [(1, 2)], "constant", 3.5),
    (lambda: nn.ConstantPad2d(1, -1.0), X2, [(1, 1), (1, 1)], "constant", -1.0),
    (lambda: nn.ConstantPad3d((1, 0, 0, 2, 1, 1), 0.5), X3, [(1, 1), (0, 2), (1, 0)], "constant", 0.5),
    (lambda: nn.ReflectionPad1d(2), X1, [(2, 2)], "reflect", None),
    (lambda: nn.ReflectionPad2d((1, 1, 2, 0)), X2, [(2, 0), (1, 1)], "reflect", None),
    (lambda: nn.ReflectionPad3d(1), X3, [(1, 1)] * 3, "reflect", None),
    (lambda: nn.ReplicationPad1d((0, 3)), X1, [(0, 3)], "edge", None),
    (lambda: nn.ReplicationPad2d(2), X2, [(2, 2), (2, 2)], "edge", None),
    (lambda: nn.ReplicationPad3d((1, 0, 2, 1, 0, 1)), X3, [(0, 1), (2, 1), (1, 0)], "edge", None),
    (lambda: nn.CircularPad1d(1), X1[0], [(1, 1)], "wrap", None),
    (lambda: nn.CircularPad2d((2, 1, 1, 0)), X2, [(1, 0), (2, 1)], "wrap", None),
    (lambda: nn.CircularPad3d(1), X3, [(1, 1)] * 3, "wrap", None),
]


@pytest.mark.parametrize("make, x, widths, mode, value", PAD_CASES)
def test_padding_modules(make, x, widths, mode, value):
    m = make()
    widths = [(0, 0)] * (x.ndim - len(widths)) + widths
    kwargs = {"constant_values": value} if mode == "constant" else {}
    np.testing.assert_array_equal(_np(m(srcgrad.tensor(x))), np.pad(x, widths, mode=mode, **kwargs))
    gradcheck(m, x[:1] if x.ndim > 2 else x)


def test_circular_pad_checks_the_input_dims():
    with pytest.raises(ValueError, match=re.escape("expected 3D or 4D input (got 5D input)")):
        nn.CircularPad2d(1)(srcgrad.tensor(X3))


# -- activations ------------------------------------------------------------------------------------
_SA, _SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


ACTIVATIONS = [
    (lambda: nn.Hardtanh(), lambda x: np.clip(x, -1, 1)),
    (lambda: nn.Hardtanh(-2.5, 3), lambda x: np.clip(x, -2.5, 3)),
    (lambda: nn.ReLU6(), lambda x: np.clip(x, 0, 6)),
    (lambda: nn.SELU(), lambda x: _SS * np.where(x > 0, x, _SA * np.expm1(np.minimum(x, 0)))),
    (lambda: nn.CELU(0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0) / 0.5))),
    (lambda: nn.Mish(), lambda x: x * np.tanh(np.logaddexp(0, x))),
    (lambda: nn.Hardsigmoid(), lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    (lambda: nn.Hardswish(), lambda x: x * np.clip(x + 3, 0, 6) / 6),
    (lambda: nn.LogSigmoid(), lambda x: -np.logaddexp(0, -x)),
    (lambda: nn.Softsign(), lambda x: x / (1 + np.abs(x))),
    (lambda: nn.Softmin(1), lambda x: _np_softmax(-x, 1)),
    (lambda: nn.Softmin(dim=0), lambda x: _np_softmax(-x, 0)),
    (lambda: nn.Softshrink(), lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    (lambda: nn.Softshrink(1.5), lambda x: np.sign(x) * np.maximum(np.abs(x) - 1.5, 0)),
    (lambda: nn.Hardshrink(), lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    (lambda: nn.Hardshrink(1.0), lambda x: np.where(np.abs(x) > 1.0, x, 0)),
    (lambda: nn.Tanhshrink(), lambda x: x - np.tanh(x)),
    (lambda: nn.Threshold(0.5, -7.0), lambda x: np.where(x > 0.5, x, -7.0)),
    (lambda: nn.GLU(), lambda x: x[:, :3] / (1 + np.exp(-x[:, 3:]))),
    (lambda: nn.RReLU().eval(), lambda x: np.where(x > 0, x, x * (1 / 8 + 1 / 3) / 2)),
    (lambda: nn.Softmax2d(), lambda x: _np_softmax(x, 0)),
]


@pytest.mark.parametrize("make, ref", ACTIVATIONS, ids=[f"{i}" for i in range(len(ACTIVATIONS))])
def test_activation_values_and_gradients(make, ref):
    m = make()
    assert list(m.parameters()) == [] and list(m.state_dict()) == []
    x = XA if not isinstance(m, nn.Softmax2d) else XA.reshape(3, 2, 3)
    np.testing.assert_allclose(_np(m(srcgrad.tensor(x))), ref(x), rtol=1e-12, atol=1e-14)
    gradcheck(m, x)


def test_glu_halves_the_given_dim():
    m = nn.GLU(0)
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        m(srcgrad.tensor(XA))  # 3 rows
    x = XA[:2]
    np.testing.assert_allclose(_np(m(srcgrad.tensor(x))), x[:1] / (1 + np.exp(-x[1:])), rtol=1e-12)
    gradcheck(m, x)


@pytest.mark.parametrize("make", [lambda: nn.Hardtanh(-2.0, 2.0, True), lambda: nn.ReLU6(True), lambda: nn.SELU(True),
                                  lambda: nn.CELU(inplace=True), lambda: nn.Mish(True), lambda: nn.Hardsigmoid(True),
                                  lambda: nn.Hardswish(True), lambda: nn.Threshold(0.1, 2.0, True),
                                  lambda: nn.RReLU(inplace=True).eval()])
def test_inplace_activations_write_into_their_input(make):
    m = make()
    m.inplace = False
    expected = _np(m(srcgrad.tensor(XA)))
    m.inplace = True
    x = srcgrad.tensor(XA.copy())
    y = m(x)
    assert y is x
    np.testing.assert_allclose(_np(x), expected, rtol=1e-12)


def test_hardtanh_arguments():
    with pytest.raises(AssertionError, match=re.escape("max_val (1) must be greater than min_val (1)")):
        nn.Hardtanh(1, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = nn.Hardtanh(min_value=-3.0, max_value=4.0)
    assert (m.min_val, m.max_val) == (-3.0, 4.0)
    assert [w.category for w in caught] == [FutureWarning, FutureWarning]


def test_softmax2d_checks_the_input_dims():
    np.testing.assert_allclose(_np(nn.Softmax2d()(srcgrad.tensor(X2))), _np_softmax(X2, 1), rtol=1e-12)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        nn.Softmax2d()(srcgrad.tensor(XA))


def test_rrelu_draws_its_slopes_while_training():
    m = nn.RReLU(0.1, 0.3)
    srcgrad.manual_seed(5)
    y = _np(m(srcgrad.tensor(-np.ones(2000))))
    assert -0.3 <= y.min() and y.max() <= -0.1 and abs(y.mean() + 0.2) < 0.01 and y.std() > 0.05
    srcgrad.manual_seed(5)
    np.testing.assert_array_equal(_np(m(srcgrad.tensor(-np.ones(2000)))), y)
    assert _np(m.eval()(srcgrad.tensor(-np.ones(3)))).tolist() == [-0.2] * 3


def test_prelu():
    m = nn.PReLU()
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == [("weight", (1,))]
    assert list(m.state_dict()) == ["weight"] and _np(m.weight).tolist() == [0.25]
    np.testing.assert_allclose(_np(m(srcgrad.tensor(XA))), np.where(XA > 0, XA, 0.25 * XA), rtol=1e-6)
    slopes = np.array([0.1, -0.2, 0.3])
    m3 = _set(nn.PReLU(3, init=0.5), weight=slopes)
    x = XA.reshape(2, 3, 3)  # channels on dim 1
    np.testing.assert_allclose(_np(m3(srcgrad.tensor(x))), np.where(x > 0, x, slopes.reshape(3, 1) * x), rtol=1e-12)
    f, params = _with_params(m3)
    gradcheck(f, x, *params)
    m3(srcgrad.tensor(x)).sum().backward()  # the registered parameter gets its gradient
    np.testing.assert_allclose(_np(m3.weight.grad), np.where(x > 0, 0, x).sum((0, 2)), rtol=1e-12)
    assert _np(nn.PReLU(3, init=0.5).weight).tolist() == [0.5] * 3


# -- losses and distances --------------------------------------------------------------------------------
P = XA[:, :4] / 2
T = np.array([[0.0, 1.0, 3.0, 2.0], [1.0, 0.0, 5.0, 1.0], [4.0, 2.0, 0.0, 1.0]])
Y = np.array([[1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, 1.0]])


def _stirling(t):
    ts = np.where(t > 1, t, 2.0)
    return np.where(t > 1, ts * np.log(ts) - ts + 0.5 * np.log(2 * np.pi * ts), 0.0)


LOSSES = [
    (lambda: nn.PoissonNLLLoss(), (P, T), lambda x, t: (np.exp(x) - t * x).mean()),
    (lambda: nn.PoissonNLLLoss(log_input=False, eps=1e-3, reduction="sum"), (np.abs(P) + 0.1, T),
     lambda x, t: (x - t * np.log(x + 1e-3)).sum()),
    (lambda: nn.PoissonNLLLoss(full=True, reduction="none"), (P, T), lambda x, t: np.exp(x) - t * x + _stirling(t)),
    (lambda: nn.MarginRankingLoss(), (P, T / 3, Y), lambda a, b, y: np.maximum(0, -y * (a - b)).mean()),
    (lambda: nn.MarginRankingLoss(0.5, reduction="none"), (P, T / 3, Y),
     lambda a, b, y: np.maximum(0, -y * (a - b) + 0.5)),
    (lambda: nn.SoftMarginLoss(), (P, Y), lambda x, y: np.log1p(np.exp(-y * x)).mean()),
    (lambda: nn.SoftMarginLoss(reduction="sum"), (P, Y), lambda x, y: np.log1p(np.exp(-y * x)).sum()),
    (lambda: nn.HingeEmbeddingLoss(), (P, Y), lambda x, y: np.where(y == 1, x, np.maximum(0, 1 - x)).mean()),
    (lambda: nn.HingeEmbeddingLoss(0.3, reduction="none"), (P, Y), lambda x, y: np.where(y == 1, x, np.maximum(0, 0.3 - x))),
    (lambda: nn.CosineSimilarity(), (P, T / 3),
     lambda a, b: (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1), 1e-8) / np.linalg.norm(b, axis=1)),
    (lambda: nn.CosineSimilarity(dim=0), (P, T / 3),
     lambda a, b: (a * b).sum(0) / np.linalg.norm(a, axis=0) / np.linalg.norm(b, axis=0)),
    (lambda: nn.CosineSimilarity(1, eps=0.5), (P / 4, T / 3),  # (each norm at least eps)
     lambda a, b: (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1), 0.5) / np.linalg.norm(b, axis=1)),
    (lambda: nn.PairwiseDistance(), (P, T / 3), lambda a, b: np.linalg.norm(a - b + 1e-6, axis=-1)),
    (lambda: nn.PairwiseDistance(p=1, eps=1e-3, keepdim=True), (P, T / 3),
     lambda a, b: np.abs(a - b + 1e-3).sum(-1, keepdims=True)),
    (lambda: nn.PairwiseDistance(3.0), (P, T / 3), lambda a, b: (np.abs(a - b + 1e-6) ** 3).sum(-1) ** (1 / 3)),
]


@pytest.mark.parametrize("make, inputs, ref", LOSSES, ids=[f"{i}" for i in range(len(LOSSES))])
def test_losses_and_distances(make, inputs, ref):
    m = make()
    assert list(m.state_dict()) == []
    np.testing.assert_allclose(_np(m(*[srcgrad.tensor(a) for a in inputs])), ref(*inputs), rtol=1e-12, atol=1e-14)
    if isinstance(m, nn.CosineSimilarity) and m.eps > 1e-3:
        return  # a norm clamped to eps: PyTorch's gradient ignores the clamp, finite differences do not
    n_diff = 1 if isinstance(m, (nn.PoissonNLLLoss, nn.SoftMarginLoss, nn.HingeEmbeddingLoss)) else 2
    gradcheck(m, *inputs, argnums=tuple(range(n_diff)))


def test_loss_options_are_kept():
    m = nn.PoissonNLLLoss(False, True, eps=1e-6, reduction="sum")
    assert (m.log_input, m.full, m.eps, m.reduction) == (False, True, 1e-6, "sum")
    assert nn.MarginRankingLoss(0.5).margin == 0.5 and nn.HingeEmbeddingLoss().margin == 1.0
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert nn.SoftMarginLoss(size_average=False).reduction == "sum"
    assert nn.PairwiseDistance(1).norm == 1 and nn.CosineSimilarity().dim == 1
