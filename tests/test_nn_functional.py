"""srcgrad.nn.functional: PyTorch's functional layers, checked against finite differences."""
import numpy as np
import pytest

import srcgrad
import srcgrad.nn.functional as F
from srcgrad.testing import gradcheck

X = np.array([[0.5, -1.2, 2.0], [-0.3, 0.8, -2.5]])
T = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])


@pytest.mark.parametrize("name, f", [
    ("relu", lambda x: F.relu(x)), ("relu6", lambda x: F.relu6(x * 4)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1)), ("elu", lambda x: F.elu(x)),
    ("gelu", lambda x: F.gelu(x)), ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
    ("silu", lambda x: F.silu(x)), ("softplus", lambda x: F.softplus(x, beta=2.0)),
    ("softmax", lambda x: F.softmax(x, dim=1)), ("log_softmax", lambda x: F.log_softmax(x, dim=0)),
    ("linear", lambda x: F.linear(x, x.t() @ x, x[0])),
    ("mse", lambda x: F.mse_loss(x, T)), ("l1", lambda x: F.l1_loss(x, T, reduction="sum")),
    ("bce_logits", lambda x: F.binary_cross_entropy_with_logits(x, T)),
    ("cross_entropy_idx", lambda x: F.cross_entropy(x, srcgrad.tensor([2, 0]))),
    ("cross_entropy_prob", lambda x: F.cross_entropy(x, T)),
    ("nll", lambda x: F.nll_loss(F.log_softmax(x, 1), srcgrad.tensor([1, 2]))),
])
def test_functional_gradients(name, f):
    gradcheck(f, X)


def test_values_match_the_definitions():
    x = srcgrad.tensor(X)
    np.testing.assert_allclose(F.cross_entropy(x, srcgrad.tensor([2, 0])).item(),
                               np.mean([-np.log(np.exp(X[0]) / np.exp(X[0]).sum())[2],
                                        -np.log(np.exp(X[1]) / np.exp(X[1]).sum())[0]]))
    np.testing.assert_allclose(F.leaky_relu(x, 0.1).numpy(), np.where(X > 0, X, 0.1 * X))


# ---------------------------------------------------------------------------------------
# numpy references
# ---------------------------------------------------------------------------------------
XA = np.array([[0.7, -1.3, 2.2, -0.2], [3.4, -4.1, 0.35, -2.6], [1.6, -0.65, 4.6, 0.15]])
TA = np.array([[0.2, -0.9, 1.1, 0.3], [3.0, -2.4, 1.9, -2.5], [0.1, 0.4, 4.0, -1.2]])
CA = np.array([0.3, -1.1, 0.8])  # per-channel vector (dim 1 of a (2, 3, ...) input)


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _np_log_softmax(x, axis):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _np_ce(x, y, w=None, ignore=-100, ls=0.0, reduction="mean"):
    """PyTorch's cross entropy by its definition, classes on axis 1 of x."""
    x = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    y = y.reshape(-1)
    c = x.shape[1]
    w = np.ones(c) if w is None else w
    logp = _np_log_softmax(x, 1)
    keep = y != ignore
    ys = np.where(keep, y, 0)
    nll = np.where(keep, -w[ys] * logp[np.arange(len(ys)), ys], 0)
    smooth = np.where(keep, -(w * logp).sum(1), 0)
    loss = (1 - ls) * nll + ls / c * smooth
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / np.where(keep, w[ys], 0).sum()
    return loss


def _np_conv2d(x, w, b, stride, padding, dilation, groups):
    """Direct loops over output positions (cross-correlation)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for oc in range(o):
        g = oc // (o // groups)
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                           j * sw:j * sw + dw * (kw - 1) + 1:dw]
                out[:, oc, i, j] = (patch * w[oc]).sum((1, 2, 3)) + (0 if b is None else b[oc])
    return out


def _np_pool2d(x, k, s, p, kind, ceil_mode=False, count_include_pad=True):
    """max/avg pooling by loops over PyTorch's windows (clipped to the padded input)."""
    n, c, h, w = x.shape

    def size(length):
        o = (length + 2 * p - k + ((s - 1) if ceil_mode else 0)) // s + 1
        return o - 1 if ceil_mode and (o - 1) * s >= length + p else o
    out = np.zeros((n, c, size(h), size(w)))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            h0, w0 = i * s - p, j * s - p
            h1, w1 = min(h0 + k, h + p), min(w0 + k, w + p)
            win = x[:, :, max(h0, 0):min(h1, h), max(w0, 0):min(w1, w)]
            if kind == "max":
                out[:, :, i, j] = win.max((2, 3))
            else:
                count = (h1 - h0) * (w1 - w0) if count_include_pad else win.shape[2] * win.shape[3]
                out[:, :, i, j] = win.sum((2, 3)) / count
    return out


# ---------------------------------------------------------------------------------------
# values against the definitions
# ---------------------------------------------------------------------------------------
_SA, _SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

VALUE_CASES = [
    ("hardtanh", lambda x: F.hardtanh(x, -2.0, 1.5), lambda x: np.clip(x, -2.0, 1.5)),
    ("relu6", lambda x: F.relu6(x * 2), lambda x: np.clip(x * 2, 0, 6)),
    ("hardsigmoid", lambda x: F.hardsigmoid(x), lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    ("hardswish", lambda x: F.hardswish(x), lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("selu", lambda x: F.selu(x), lambda x: _SS * np.where(x > 0, x, _SA * np.expm1(np.minimum(x, 0)))),
    ("celu", lambda x: F.celu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0) / 0.5))),
    ("mish", lambda x: F.mish(x), lambda x: x * np.tanh(np.logaddexp(0, x))),
    ("logsigmoid", lambda x: F.logsigmoid(x), lambda x: -np.logaddexp(0, -x)),
    ("softsign", lambda x: F.softsign(x), lambda x: x / (1 + np.abs(x))),
    ("softshrink", lambda x: F.softshrink(x, 0.4), lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.4, 0)),
    ("hardshrink", lambda x: F.hardshrink(x, 0.4), lambda x: np.where(np.abs(x) > 0.4, x, 0)),
    ("tanhshrink", lambda x: F.tanhshrink(x), lambda x: x - np.tanh(x)),
    ("threshold", lambda x: F.threshold(x, 0.5, -7.0), lambda x: np.where(x > 0.5, x, -7.0)),
    ("rrelu_eval", lambda x: F.rrelu(x), lambda x: np.where(x > 0, x, x * (1 / 8 + 1 / 3) / 2)),
    ("prelu", lambda x: F.prelu(x, srcgrad.tensor([0.1, 0.2, 0.3, 0.4], dtype=srcgrad.float64)),
     lambda x: np.where(x > 0, x, np.array([0.1, 0.2, 0.3, 0.4]) * x)),
    ("softmin", lambda x: F.softmin(x, 1), lambda x: _np_softmax(-x, 1)),
    ("glu", lambda x: F.glu(x, 1), lambda x: x[:, :2] * _sig(x[:, 2:])),
    ("softplus_threshold", lambda x: F.softplus(x, 2.0, 3.0),
     lambda x: np.where(2 * x > 3, x, np.logaddexp(0, 2 * x) / 2)),
    ("normalize", lambda x: F.normalize(x), lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)),
    ("normalize_p3_dim0", lambda x: F.normalize(x, 3, 0),
     lambda x: x / (np.abs(x) ** 3).sum(0, keepdims=True) ** (1 / 3)),
    ("cosine_similarity", lambda x: F.cosine_similarity(x, x[::-1] * 1.0),
     lambda x: (x * x[::-1]).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(x[::-1], axis=1)),
    ("pairwise_distance", lambda x: F.pairwise_distance(x, TA, p=1.5),
     lambda x: (np.abs(x - TA + 1e-6) ** 1.5).sum(-1) ** (1 / 1.5)),
    ("layer_norm", lambda x: F.layer_norm(x, (4,), eps=1e-3),
     lambda x: (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-3)),
    ("smooth_l1", lambda x: F.smooth_l1_loss(x, TA, reduction="none", beta=0.5),
     lambda x: np.where(np.abs(x - TA) < 0.5, 0.5 * (x - TA) ** 2 / 0.5, np.abs(x - TA) - 0.25)),
    ("huber", lambda x: F.huber_loss(x, TA, reduction="sum", delta=0.5),
     lambda x: np.where(np.abs(x - TA) < 0.5, 0.5 * (x - TA) ** 2, 0.5 * (np.abs(x - TA) - 0.25)).sum()),
    ("mse_weight", lambda x: F.mse_loss(x, TA, weight=srcgrad.tensor(np.abs(TA))),
     lambda x: ((x - TA) ** 2 * np.abs(TA)).sum() / np.abs(TA).sum()),
    ("bce", lambda x: F.binary_cross_entropy(x.sigmoid(), srcgrad.tensor(_sig(TA)), srcgrad.tensor(CA[:, None])),
     lambda x: -(CA[:, None] * (_sig(TA) * np.log(_sig(x)) + (1 - _sig(TA)) * np.log(1 - _sig(x)))).mean()),
    ("bce_logits_weights",
     lambda x: F.binary_cross_entropy_with_logits(x, srcgrad.tensor(_sig(TA)), weight=srcgrad.tensor(CA[:, None]),
                                                  pos_weight=srcgrad.tensor([1.0, 2.0, 0.5, 3.0]), reduction="none"),
     lambda x: -CA[:, None] * (np.array([1.0, 2.0, 0.5, 3.0]) * _sig(TA) * np.log(_sig(x))
                               + (1 - _sig(TA)) * np.log(1 - _sig(x)))),
    ("kl_batchmean", lambda x: F.kl_div(F.log_softmax(x, 1), srcgrad.tensor(np.eye(4)[[0, 2, 3]] * 0.7 + 0.075),
                                        reduction="batchmean"),
     lambda x: ((np.eye(4)[[0, 2, 3]] * 0.7 + 0.075) * (np.log(np.eye(4)[[0, 2, 3]] * 0.7 + 0.075)
                                                        - _np_log_softmax(x, 1))).sum() / 3),
    ("kl_zero_target", lambda x: F.kl_div(x, srcgrad.tensor(np.abs(TA) * (TA > 0)), reduction="sum"),
     lambda x: (np.where(TA > 0, np.abs(TA) * np.log(np.where(TA > 0, np.abs(TA), 1)), 0) - np.abs(TA) * (TA > 0) * x).sum()),
    ("kl_log_target", lambda x: F.kl_div(x, srcgrad.tensor(TA), reduction="none", log_target=True),
     lambda x: np.exp(TA) * (TA - x)),
    ("poisson_full", lambda x: F.poisson_nll_loss(x, srcgrad.tensor(np.abs(TA)), full=True, reduction="none"),
     lambda x: np.exp(x) - np.abs(TA) * x + np.where(np.abs(TA) > 1, np.abs(TA) * np.log(np.abs(TA)) - np.abs(TA)
                                                     + 0.5 * np.log(2 * np.pi * np.abs(TA)), 0)),
    ("poisson_no_log", lambda x: F.poisson_nll_loss(x.exp(), srcgrad.tensor(np.abs(TA)), log_input=False),
     lambda x: (np.exp(x) - np.abs(TA) * np.log(np.exp(x) + 1e-8)).mean()),
    ("margin_ranking", lambda x: F.margin_ranking_loss(x, srcgrad.tensor(TA), srcgrad.tensor(np.sign(TA)), 0.2, reduction="sum"),
     lambda x: np.maximum(0, -np.sign(TA) * (x - TA) + 0.2).sum()),
    ("soft_margin", lambda x: F.soft_margin_loss(x, srcgrad.tensor(np.sign(TA))),
     lambda x: np.log1p(np.exp(-np.sign(TA) * x)).mean()),
    ("sdpa_causal", lambda x: F.scaled_dot_product_attention(x, x * 0.5, x[:, ::-1] * 1.0, is_causal=True),
     lambda x: _np_softmax(np.where(np.tril(np.ones((3, 3), bool)), x @ (x * 0.5).T / 2, -np.inf), 1) @ x[:, ::-1]),
]


@pytest.mark.parametrize("name, f, ref", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_values_against_numpy_and_gradients_against_finite_differences(name, f, ref):
    np.testing.assert_allclose(f(srcgrad.tensor(XA)).numpy(), ref(XA), rtol=1e-10, atol=1e-12)
    gradcheck(f, XA)


@pytest.mark.parametrize("name, f, ref", VALUE_CASES[:14], ids=[c[0] for c in VALUE_CASES[:14]])
def test_activations_keep_float32(name, f, ref):
    y = f(srcgrad.tensor(XA.astype(np.float32)))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ref(XA), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------
# kinks: PyTorch's one-sided choices
# ---------------------------------------------------------------------------------------
KINKS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0])


@pytest.mark.parametrize("name, f, expected", [
    ("hardtanh", lambda x: F.hardtanh(x), [0, 0, 1, 1, 1, 0, 0, 0]),
    ("relu6", lambda x: F.relu6(x), [0, 0, 0, 0, 1, 1, 1, 0]),
    ("relu", lambda x: F.relu(x), [0, 0, 0, 0, 1, 1, 1, 1]),
    ("hardsigmoid", lambda x: F.hardsigmoid(x), [0] + [1 / 6] * 5 + [0, 0]),
    ("hardswish", lambda x: F.hardswish(x), [0, 1 / 6, 1 / 3, 0.5, 2 / 3, 5 / 6, 1, 1]),
    ("softshrink", lambda x: F.softshrink(x), [1, 1, 0, 0, 0, 1, 1, 1]),
    ("hardshrink", lambda x: F.hardshrink(x), [1, 1, 0, 0, 0, 1, 1, 1]),
    ("threshold", lambda x: F.threshold(x, 0.5, 2.0), [0, 0, 0, 0, 0, 1, 1, 1]),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), [0.1] * 4 + [1] * 4),
    ("elu_at_0", lambda x: F.elu(x, 2.0), list(2 * np.exp(KINKS[:4])) + [1] * 4),
    ("selu_at_0", lambda x: F.selu(x), list(_SS * _SA * np.exp(KINKS[:4])) + [_SS] * 4),
    ("celu_at_0", lambda x: F.celu(x, 2.0), list(np.exp(KINKS[:4] / 2)) + [1] * 4),
    ("prelu_at_0", lambda x: F.prelu(x, srcgrad.tensor([0.25])), [0.25] * 4 + [1] * 4),
    ("softplus_threshold", lambda x: F.softplus(x, 2.0, 2.0), list(_sig(2 * KINKS[:6])) + [1, 1]),
])
def test_gradients_at_the_kinks_are_pytorchs(name, f, expected):
    x = srcgrad.tensor(KINKS, requires_grad=True)
    f(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-15)


def test_softplus_threshold_returns_the_input_itself_beyond_it():
    """The bug: softplus ignored threshold (log1p(exp(20.5)) is not 20.5 in float64)."""
    x = srcgrad.tensor(np.array([20.5, 19.5, 10.0]), requires_grad=True)
    y = F.softplus(x)
    assert y.detach().numpy()[0] == 20.5 and y.detach().numpy()[1] == np.logaddexp(0, 19.5)
    assert F.softplus(x, beta=2.0).detach().numpy()[2] != 10.0  # beta * x = 20: not above 20
    assert F.softplus(x, beta=2.0, threshold=19.0).detach().numpy()[2] == 10.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, _sig(19.5), _sig(10.0)], rtol=1e-15)


C3 = np.array([1.0, 2.0, 3.0])


# (one function per case: srcgrad.grad reuses the code compiled for a code location)
def _relu6_loss(x): return (F.relu6(x) * C3).sum()
def _leaky_loss(x): return (F.leaky_relu(x, 0.1) * C3).sum()
def _elu_loss(x): return (F.elu(x) * C3).sum()
def _hardswish_loss(x): return (F.hardswish(x) * C3).sum()


@pytest.mark.parametrize("loss, slope", [
    (_relu6_loss, lambda x: ((x > 0) & (x < 6)) * 1.0), (_leaky_loss, lambda x: np.where(x > 0, 1.0, 0.1)),
    (_elu_loss, lambda x: np.where(x > 0, 1.0, np.exp(x))),
    (_hardswish_loss, lambda x: np.where(x <= -3, 0, np.where(x >= 3, 1, x / 3 + 0.5)))])
def test_frozen_masks_regression_compiled_functions_recompute_the_kinks(loss, slope):
    """relu6/leaky_relu/elu read the recorded values to choose their branch: a compiled
    function then reused the first call's mask for every later input."""
    g = srcgrad.grad(loss)
    for x in (np.array([1.0, 2.0, 4.0]), np.array([-1.0, 5.0, -4.0]), np.array([0.5, 7.0, 2.5])):
        np.testing.assert_allclose(g(x), slope(x) * C3)


# ---------------------------------------------------------------------------------------
# softmax dtype and implicit dim
# ---------------------------------------------------------------------------------------
def test_softmax_and_log_softmax_take_dtype():
    x = srcgrad.tensor(XA.astype(np.float32), requires_grad=True)
    for f, ref in [(F.softmax, _np_softmax), (F.log_softmax, _np_log_softmax), (F.softmin, lambda v, a: _np_softmax(-v, a))]:
        y = f(x, 1, dtype=srcgrad.float64)
        assert y.dtype == np.float64
        np.testing.assert_allclose(y.detach().numpy(), ref(XA.astype(np.float32).astype(np.float64), 1), rtol=1e-13)
    F.log_softmax(x, 0, dtype=srcgrad.float64).sum().backward()
    assert x.grad.dtype == np.float32
    gradcheck(lambda v: F.log_softmax(v, 0, dtype=srcgrad.float64), XA)


def test_softmax_implicit_dim_is_pytorchs():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmax(srcgrad.tensor(XA))
    np.testing.assert_allclose(y.numpy(), _np_softmax(XA, 1))
    with pytest.warns(UserWarning):
        y = F.log_softmax(srcgrad.tensor(XA[None]))  # 3-d: dim 0
    np.testing.assert_allclose(y.numpy(), np.zeros((1, 3, 4)), atol=1e-15)


# ---------------------------------------------------------------------------------------
# cross_entropy and nll_loss
# ---------------------------------------------------------------------------------------
Y = np.array([2, -100, 0])
WC = np.array([0.5, 2.0, 1.5, 0.7])
X4 = np.random.default_rng(7).standard_normal((2, 4, 3, 2))
Y4 = np.array([[[0, 3], [-100, 1], [2, 2]], [[1, 1], [3, -100], [0, 2]]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ls", [0.0, 0.25])
def test_cross_entropy_weight_ignore_index_label_smoothing(reduction, ls):
    f = lambda x: F.cross_entropy(x, srcgrad.tensor(Y), weight=srcgrad.tensor(WC), reduction=reduction,  # noqa: E731
                                  label_smoothing=ls)
    np.testing.assert_allclose(f(srcgrad.tensor(XA)).numpy(), _np_ce(XA, Y, WC, ls=ls, reduction=reduction), rtol=1e-12)
    gradcheck(f, XA)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_over_extra_dims(reduction):
    ce = lambda x: F.cross_entropy(x, srcgrad.tensor(Y4), weight=srcgrad.tensor(WC), reduction=reduction,  # noqa: E731
                                   label_smoothing=0.1)
    expected = _np_ce(X4, Y4, WC, ls=0.1, reduction=reduction)
    if reduction == "none":
        expected = expected.reshape(2, 3, 2)
    np.testing.assert_allclose(ce(srcgrad.tensor(X4)).numpy(), expected, rtol=1e-12)
    gradcheck(ce, X4)
    nll = lambda x: F.nll_loss(x, srcgrad.tensor(Y4), weight=srcgrad.tensor(WC), reduction=reduction)  # noqa: E731
    logp = _np_log_softmax(X4, 1)
    np.testing.assert_allclose(nll(srcgrad.tensor(logp)).numpy(), _np_ce(X4, Y4, WC, reduction=reduction).reshape(
        np.shape(expected)), rtol=1e-12)
    gradcheck(nll, X4)


def test_ignore_index_divides_by_the_kept_weights_and_gives_no_gradient():
    x = srcgrad.tensor(XA, requires_grad=True)
    loss = F.nll_loss(x, srcgrad.tensor([3, 1, 3]), weight=srcgrad.tensor(WC), ignore_index=1)
    assert loss.item() == pytest.approx(-(XA[0, 3] + XA[2, 3]) * 0.7 / 1.4)
    loss.backward()
    expected = np.zeros_like(XA)
    expected[[0, 2], 3] = -0.5
    np.testing.assert_allclose(x.grad.numpy(), expected)
    with np.errstate(all="raise"):  # every target ignored: 0 / 0 as PyTorch, without a warning
        assert np.isnan(F.cross_entropy(srcgrad.tensor(XA[:2]), srcgrad.tensor([-100, -100])).item())


def test_unbatched_and_probability_targets():
    x = srcgrad.tensor(XA[1])
    assert F.cross_entropy(x, srcgrad.tensor(3), reduction="none").shape == ()
    assert F.cross_entropy(x, srcgrad.tensor(3)).item() == pytest.approx(-_np_log_softmax(XA[1], 0)[3])
    p = _np_softmax(TA, 1)
    f = lambda v, t: F.cross_entropy(v, t, weight=srcgrad.tensor(WC), label_smoothing=0.2)  # noqa: E731
    q = p * 0.8 + 0.05
    assert f(srcgrad.tensor(XA), srcgrad.tensor(p)).item() == pytest.approx(
        -(_np_log_softmax(XA, 1) * q * WC).sum() / 3, rel=1e-12)
    gradcheck(f, XA, p)  # the target's gradient too
    with pytest.raises(RuntimeError, match="ignore_index"):
        F.cross_entropy(srcgrad.tensor(XA), srcgrad.tensor(p), ignore_index=1)
    with pytest.raises(IndexError, match="out of bounds"):
        F.nll_loss(srcgrad.tensor(XA), srcgrad.tensor([0, 4, 1]))


def test_ignore_index_is_recomputed_by_a_compiled_function():
    g = srcgrad.grad(lambda x, t: F.cross_entropy(x, t), argnums=0)
    for y in (np.array([1, -100, 2]), np.array([-100, 0, 2])):
        keep = y != -100
        expected = _np_softmax(XA, 1) - np.eye(4)[np.where(keep, y, 0)]
        np.testing.assert_allclose(g(XA, y), np.where(keep[:, None], expected, 0) / keep.sum(), rtol=1e-12)


def test_legacy_size_average_and_reduce():
    x = srcgrad.tensor(XA)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert F.mse_loss(x, TA, size_average=False).item() == pytest.approx(((XA - TA) ** 2).sum())
    with pytest.warns(UserWarning):
        assert F.l1_loss(x, TA, reduce=False).shape == XA.shape
    with pytest.raises(ValueError, match="not a valid value"):
        F.mse_loss(x, TA, reduction="avg")


# ---------------------------------------------------------------------------------------
# losses with weights, and their gradients
# ---------------------------------------------------------------------------------------
P01 = _sig(XA)


@pytest.mark.parametrize("name, f, args", [
    ("bce", lambda x, t: F.binary_cross_entropy(x, t, weight=srcgrad.tensor(CA[:, None])), (P01, _sig(TA))),
    ("bce_logits_w_pw", lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, weight=srcgrad.tensor(CA[:, None]), pos_weight=srcgrad.tensor([1.0, 2.0, 0.5, 3.0]), reduction="sum"),
     (XA, _sig(TA))),
    ("kl_log_target", lambda x, t: F.kl_div(x, t, reduction="batchmean", log_target=True), (XA, TA)),
    ("kl", lambda x, t: F.kl_div(x, t, reduction="sum"), (XA, P01)),
    ("poisson", lambda x: F.poisson_nll_loss(x, srcgrad.tensor(np.abs(TA)), full=True), (XA,)),
    ("huber_weight", lambda x, w: F.huber_loss(x, srcgrad.tensor(TA), weight=w, delta=0.7), (XA, np.abs(TA))),
    ("l1_weight", lambda x, w: F.l1_loss(x, srcgrad.tensor(TA), weight=w), (XA, np.abs(TA))),
    ("smooth_l1_beta0", lambda x: F.smooth_l1_loss(x, srcgrad.tensor(TA), beta=0.0), (XA,)),
    ("margin_ranking", lambda a, b: F.margin_ranking_loss(a, b, srcgrad.tensor(np.sign(TA)), 0.3), (XA, TA)),
])
def test_loss_gradients(name, f, args):
    gradcheck(f, *args)


def test_binary_cross_entropy_clamps_the_log_at_minus_100():
    x = srcgrad.tensor([0.0, 1.0, 1e-60, 0.5], dtype=srcgrad.float64)
    t = srcgrad.tensor([1.0, 0.0, 1.0, 0.5], dtype=srcgrad.float64)
    np.testing.assert_allclose(F.binary_cross_entropy(x, t, reduction="none").numpy(),
                               [100.0, 100.0, 100.0, np.log(2)], rtol=1e-12)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(srcgrad.tensor([1.5]), srcgrad.tensor([1.0]))


# ---------------------------------------------------------------------------------------
# dropout and randomness
# ---------------------------------------------------------------------------------------
def test_dropout():
    x = srcgrad.tensor(np.full((100, 100), 2.0), requires_grad=True)
    assert F.dropout(x, 0.3, training=False) is x and F.dropout(x, 0.0) is x
    srcgrad.manual_seed(3)
    y = F.dropout(x, 0.3)  # training=True is the default, as PyTorch
    srcgrad.manual_seed(3)
    assert np.array_equal(F.dropout(x, 0.3).detach().numpy(), y.detach().numpy())
    kept = y.detach().numpy() != 0
    assert 0.66 < kept.mean() < 0.74
    np.testing.assert_allclose(y.detach().numpy()[kept], 2.0 / 0.7)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7)
    assert not F.dropout(x, 1.0).detach().numpy().any()
    assert F.dropout(srcgrad.tensor(np.ones(3, np.float32)), 0.5).dtype == np.float32
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_rrelu_training_and_gumbel_softmax_use_srcgrads_generator():
    srcgrad.manual_seed(0)
    x = srcgrad.tensor(-np.ones(2000), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and abs(slopes.mean() - 0.2) < 0.01
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)
    logits = srcgrad.tensor(np.log(np.tile([0.2, 0.8], (4000, 1))), requires_grad=True)
    g = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert set(np.unique(g.detach().numpy())) == {0.0, 1.0} and 0.77 < g.detach().numpy()[:, 1].mean() < 0.83
    (g * srcgrad.tensor([1.0, -1.0])).sum().backward()  # straight-through: the soft sample's gradient
    assert np.isfinite(logits.grad.numpy()).all() and np.abs(logits.grad.numpy()).sum() > 0


# ---------------------------------------------------------------------------------------
# normalization layers
# ---------------------------------------------------------------------------------------
XB = np.random.default_rng(8).standard_normal((2, 3, 2, 2))


def test_norms_of_order_below_one_mask_the_infinite_slopes_at_zero_entries():
    x = np.array([[0.0, 1.0, 4.0], [2.0, 0.0, 0.5]])
    c = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    xt = srcgrad.tensor(x, requires_grad=True)
    y = F.normalize(xt, p=0.5)
    s = np.sqrt(np.abs(x)).sum(1, keepdims=True)
    np.testing.assert_allclose(y.detach().numpy(), x / s ** 2, rtol=1e-12)
    (y * srcgrad.tensor(c)).sum().backward()
    dn = np.where(x == 0, 0, s / np.sqrt(np.where(x == 0, 1, x)))  # d norm / dx, 0 at the zero entries
    np.testing.assert_allclose(xt.grad.numpy(), c / s ** 2 - (c * x).sum(1, keepdims=True) / s ** 4 * dn, rtol=1e-12)


def test_layer_and_group_norm():
    w, b = np.array([1.5, -0.5, 2.0]), np.array([0.1, 0.2, -0.3])
    gradcheck(lambda x, w, b: F.layer_norm(x, (4,), w, b), XA, np.array([1.5, -0.5, 2.0, 1.0]), CA[:1].repeat(4))
    gn = F.group_norm(srcgrad.tensor(XB.reshape(2, 3, 4)), 3, srcgrad.tensor(w), srcgrad.tensor(b)).numpy()
    m, v = XB.reshape(2, 3, 4).mean(2, keepdims=True), XB.reshape(2, 3, 4).var(2, keepdims=True)
    np.testing.assert_allclose(gn, (XB.reshape(2, 3, 4) - m) / np.sqrt(v + 1e-5) * w[:, None] + b[:, None], rtol=1e-12)
    gradcheck(lambda x, w, b: F.group_norm(x, 1, w, b), XB, w, b)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(srcgrad.tensor(XA), (3,))


def test_batch_norm_training_updates_the_running_statistics():
    rm, rv = srcgrad.tensor(np.array([0.0, 1.0, 2.0])), srcgrad.tensor(np.array([1.0, 2.0, 3.0]))
    y = F.batch_norm(srcgrad.tensor(XB), rm, rv, srcgrad.tensor(CA), None, training=True, momentum=0.2)
    mean, var = XB.mean((0, 2, 3)), XB.var((0, 2, 3))
    np.testing.assert_allclose(y.numpy(), (XB - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5)
                               * CA[:, None, None], rtol=1e-12)
    np.testing.assert_allclose(rm.numpy(), 0.8 * np.array([0.0, 1.0, 2.0]) + 0.2 * mean, rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.8 * np.array([1.0, 2.0, 3.0]) + 0.2 * var * 8 / 7, rtol=1e-12)
    y = F.batch_norm(srcgrad.tensor(XB), rm, rv, None, srcgrad.tensor(CA))  # evaluation: the running ones
    np.testing.assert_allclose(y.numpy(), (XB - rm.numpy()[:, None, None]) / np.sqrt(rv.numpy()[:, None, None] + 1e-5)
                               + CA[:, None, None], rtol=1e-12)
    gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), XB, CA, CA[::-1].copy())
    gradcheck(lambda x: F.batch_norm(x, srcgrad.tensor(CA), srcgrad.tensor(np.array([1.0, 2.0, 3.0]))), XB)
    with pytest.raises(ValueError, match="more than 1 value"):
        F.batch_norm(srcgrad.tensor(XA[:1]), None, None, training=True)


# ---------------------------------------------------------------------------------------
# embedding, one_hot, pad
# ---------------------------------------------------------------------------------------
def test_embedding_padding_idx_gets_no_gradient():
    idx = np.array([[0, 2], [2, 1]])
    w = srcgrad.tensor(XA, requires_grad=True)
    out = F.embedding(srcgrad.tensor(idx), w, padding_idx=2)
    np.testing.assert_array_equal(out.detach().numpy(), XA[idx])
    cot = np.arange(8.0).reshape(2, 2, 2).repeat(2, -1)
    (out * srcgrad.tensor(cot)).sum().backward()
    expected = np.zeros_like(XA)
    np.add.at(expected, idx, cot)
    expected[2] = 0
    np.testing.assert_allclose(w.grad.numpy(), expected)
    gradcheck(lambda w: F.embedding(srcgrad.tensor(idx), w), XA)
    with pytest.raises(IndexError):
        F.embedding(srcgrad.tensor([3]), w)


def test_embedding_max_norm_renormalizes_the_rows_read():
    w = srcgrad.tensor(XA.copy())
    out = F.embedding(srcgrad.tensor([1, 1]), w, max_norm=2.0)
    row = XA[1] * 2.0 / (np.linalg.norm(XA[1]) + 1e-7)
    np.testing.assert_allclose(w.numpy(), np.vstack([XA[0], row, XA[2]]), rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), [row, row], rtol=1e-12)


def test_one_hot():
    y = F.one_hot(srcgrad.tensor([[0, 3], [1, 1]]))
    assert y.dtype == np.int64 and y.shape == (2, 2, 4)
    np.testing.assert_array_equal(y.numpy(), np.eye(4, dtype=np.int64)[[[0, 3], [1, 1]]])
    assert F.one_hot(srcgrad.tensor([1]), 5).shape == (1, 5)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(srcgrad.tensor([1, 5]), 5)


@pytest.mark.parametrize("mode, np_mode", [("constant", "constant"), ("reflect", "reflect"),
                                           ("replicate", "edge"), ("circular", "wrap")])
def test_pad_modes(mode, np_mode):
    x = XB.reshape(2, 3, 4)
    y = F.pad(srcgrad.tensor(x), (2, 1, 1, 0), mode=mode)
    np.testing.assert_array_equal(y.numpy(), np.pad(x, ((0, 0), (1, 0), (2, 1)), mode=np_mode))
    gradcheck(lambda v: F.pad(v, (2, 1, 1, 0), mode=mode), x)


def test_pad_constant_value_and_negative_widths_crop():
    y = F.pad(srcgrad.tensor(XA), (1, -2, -1, 2), value=-5.0)
    np.testing.assert_array_equal(y.numpy(), np.pad(XA[1:, :2], ((0, 2), (1, 0)), constant_values=-5.0))
    gradcheck(lambda v: F.pad(v, (1, -2, -1, 2), value=-5.0), XA)


# ---------------------------------------------------------------------------------------
# convolution and pooling
# ---------------------------------------------------------------------------------------
XC = np.random.default_rng(9).standard_normal((2, 4, 5, 6))
WK = np.random.default_rng(10).standard_normal((4, 4, 3, 2))


@pytest.mark.parametrize("stride, padding, dilation, groups", [
    ((1, 1), (0, 0), (1, 1), 1), ((2, 1), (1, 2), (1, 1), 2), ((1, 2), (2, 0), (2, 1), 1), ((2, 2), (1, 1), (1, 2), 4)])
def test_conv2d_against_loops(stride, padding, dilation, groups):
    w = WK[:, :4 // groups]
    b = np.array([0.1, -0.2, 0.3, 0.4])
    y = F.conv2d(srcgrad.tensor(XC), srcgrad.tensor(w), srcgrad.tensor(b), stride, padding, dilation, groups)
    np.testing.assert_allclose(y.numpy(), _np_conv2d(XC, w, b, stride, padding, dilation, groups), rtol=1e-12,
                               atol=1e-12)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), XC[:1, :, :4], w, b)


def test_conv1d_same_padding_and_unbatched():
    x, w = XC[:, :, 0], WK[:, :, :, 0]  # (2, 4, 6), (4, 4, 3)
    y = F.conv1d(srcgrad.tensor(x), srcgrad.tensor(w), padding="same", dilation=2)
    assert y.shape == (2, 4, 6)
    np.testing.assert_allclose(y.numpy(), _np_conv2d(x[:, :, None], w[:, :, None], None, (1, 1), (0, 2), (1, 2), 1)[:, :, 0],
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.conv1d(srcgrad.tensor(x[0]), srcgrad.tensor(w), stride=2).numpy(),
                               _np_conv2d(x[:1, :, None], w[:, :, None], None, (1, 2), (0, 0), (1, 1), 1)[0, :, 0],
                               rtol=1e-12, atol=1e-12)
    gradcheck(lambda x, w: F.conv1d(x, w, padding="same"), x[:1], w[:2])
    even = np.ones((1, 1, 4))  # total padding 3: PyTorch puts 1 on the left, 2 on the right
    np.testing.assert_array_equal(F.conv1d(srcgrad.tensor(np.arange(5.0)[None, None]), srcgrad.tensor(even),
                                           padding="same").numpy(), [[[3.0, 6.0, 10.0, 9.0, 7.0]]])


@pytest.mark.parametrize("k, s, p, ceil_mode, count_include_pad", [
    (2, 2, 0, False, True), (3, 2, 1, False, True), (3, 2, 1, True, False), (2, 2, 1, True, True), (3, 1, 1, False, False),
    (2, 2, 0, True, True)])  # (the last: a ceil_mode window past the input, its divisor clipped)
def test_pools_against_loops(k, s, p, ceil_mode, count_include_pad):
    x = srcgrad.tensor(XC)
    np.testing.assert_allclose(F.max_pool2d(x, k, s, p, ceil_mode=ceil_mode).numpy(),
                               _np_pool2d(XC, k, s, p, "max", ceil_mode), rtol=1e-12)
    np.testing.assert_allclose(F.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad).numpy(),
                               _np_pool2d(XC, k, s, p, "avg", ceil_mode, count_include_pad), rtol=1e-12)
    gradcheck(lambda v: F.max_pool2d(v, k, s, p, ceil_mode=ceil_mode), XC[:1, :2])
    gradcheck(lambda v: F.avg_pool2d(v, k, s, p, ceil_mode, count_include_pad), XC[:1, :2])


def test_max_pool_gives_the_gradient_to_the_first_maximum_and_its_index():
    x = srcgrad.tensor([[[1.0, 3.0, 3.0, 0.0, 5.0]]], requires_grad=True)
    y, idx = F.max_pool1d(x, 2, 1, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), [[[1, 1, 2, 4]]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[0.0, 2.0, 1.0, 0.0, 1.0]]])
    _, idx = F.max_pool2d(srcgrad.tensor(XC), 3, 2, 1, return_indices=True)
    expected = XC.reshape(2, 4, -1)[np.arange(2)[:, None, None], np.arange(4)[None, :, None],
                                    idx.numpy().reshape(2, 4, -1)]
    np.testing.assert_array_equal(expected.reshape(idx.shape), _np_pool2d(XC, 3, 2, 1, "max"))


def test_scaled_dot_product_attention_masks():
    rng = np.random.default_rng(11)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 2))
    mask = rng.random((3, 5)) > 0.4
    mask[:, 0] = True
    scores = q @ k.transpose(0, 2, 1) * 0.7
    expected = _np_softmax(np.where(mask, scores, -np.inf), -1) @ v
    f = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=srcgrad.tensor(mask), scale=0.7)  # noqa: E731
    np.testing.assert_allclose(f(srcgrad.tensor(q), srcgrad.tensor(k), srcgrad.tensor(v)).numpy(), expected, rtol=1e-12)
    gradcheck(f, q, k, v)
    bias = rng.standard_normal((3, 5))
    gradcheck(lambda q, b: F.scaled_dot_product_attention(q, srcgrad.tensor(k), srcgrad.tensor(v), attn_mask=b), q, bias)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_nll_loss_gradient_keeps_its_input_under_create_graph(reduction):
    # PyTorch's NllLossBackward takes the input: the gradient is a function of it (with a
    # zero derivative), and a second backward through it is no error
    x = srcgrad.tensor([[0.2, -0.3, 0.5], [1.0, 0.1, -0.2]], requires_grad=True)
    (g,) = srcgrad.autograd.grad(F.nll_loss(x, srcgrad.tensor([2, 0]), reduction=reduction).sum(), [x],
                                 create_graph=True)
    assert g.requires_grad
    (h,) = srcgrad.autograd.grad((g * g).sum(), [x])
    np.testing.assert_array_equal(h.numpy(), np.zeros((2, 3)))


def test_losses_that_keep_one_operands_dtype_as_pytorch():
    # PyTorch 2.13: huber, soft margin and hinge embedding losses compute in the input's
    # dtype, BCE with logits in the target's; the others promote (checked against it)
    a = srcgrad.tensor([0.5, 1.0], dtype=srcgrad.float32)
    b = srcgrad.tensor([0.2, 0.9], dtype=srcgrad.float64)
    y = srcgrad.tensor([1.0, -1.0], dtype=srcgrad.float64)
    assert F.binary_cross_entropy_with_logits(a, b).dtype == srcgrad.float64
    assert F.binary_cross_entropy_with_logits(b, a).dtype == srcgrad.float32
    assert F.huber_loss(a, b).dtype == srcgrad.float32 and F.huber_loss(b, a).dtype == srcgrad.float64
    assert F.soft_margin_loss(a, y).dtype == srcgrad.float32
    assert F.hinge_embedding_loss(a, y).dtype == srcgrad.float32
    assert F.mse_loss(a, b).dtype == srcgrad.float64


def test_hinge_embedding_loss_values_and_gradient():
    x = np.array([0.3, 1.7, -0.4, 0.9])
    y = srcgrad.tensor([1.0, -1.0, -1.0, 0.0])  # (a target neither 1 nor -1 gets both terms)
    want = np.mean([0.3, 0.0, 1.4, 0.9 + 0.1])
    assert F.hinge_embedding_loss(srcgrad.tensor(x), y, margin=1.0).item() == pytest.approx(want)
    gradcheck(lambda x: F.hinge_embedding_loss(x, y, margin=1.0, reduction="sum"), x)


@pytest.mark.parametrize("f", [lambda x: F.avg_pool1d(x[None], 2), lambda x: F.max_pool1d(x[None], 2),
                               lambda x: F.pad(x[None], (2, 1), mode="reflect"), lambda x: F.softshrink(x, 0.5),
                               lambda x: F.pad(x[None], (1, 2), mode="replicate"), lambda x: F.hardshrink(x, 0.5)])
def test_a_first_gradient_of_a_pooling_or_padding_is_connected_to_its_input_as_in_pytorch(f):
    # (PyTorch's backward of these reads the input: under create_graph the gradient
    # requires grad, and a second backward through it gives zeros)
    x = srcgrad.tensor(np.arange(12.0).reshape(3, 4) / 7 - 0.8, requires_grad=True)
    g, = srcgrad.autograd.grad((f(x) * 1.5).sum(), x, create_graph=True)
    assert g.requires_grad
    (g.sin() * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))
