"""numpy's reductions over tensors (srcgrad/numpy/reductions.py, srcgrad/ops/reduction.py).

Every function is checked three ways: values against numpy (or a numpy reference for the
scipy-style functions), gradients against central finite differences in float64
(`srcgrad.testing.gradcheck`), and in float32, where the gradient must stay float32 and
agree with the float64 one. Calls go through `srcgrad.numpy` and through plain numpy on
tensors (`np.max(t)`, dispatched by `__array_function__`). Zeros in products, ties in
extrema, large inputs to logsumexp/softmax and second derivatives have tests of their own.
"""
import types
import zlib

import numpy as np
import pytest

import srcgrad
from srcgrad.trace import TraceError
import srcgrad.numpy as snp
from srcgrad.testing import gradcheck
from numeric import numeric_grad

RNG = np.random.default_rng(1234)


def data(shape, domain="any", seed=None):
    rng = RNG if seed is None else np.random.default_rng(seed)
    if domain == "pos":
        x = rng.uniform(0.5, 1.5, size=shape)
    elif domain == "away":  # |x| bounded away from 0 and distinct: no kinks, no ties
        x = rng.uniform(0.3, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    else:
        x = rng.uniform(-1.5, 1.5, size=shape)
    return np.asarray(x, dtype=np.float64)


def _ref_logsumexp(a, axis=None, b=None, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    s = np.sum(np.exp(a - m) * (1 if b is None else b), axis=axis, keepdims=True)
    r = np.log(s) + m
    return r if keepdims else np.squeeze(r, axis=axis) if axis is not None else r.reshape(())


def _ref_softmax(a, axis=None):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _ref_log_softmax(a, axis=None):
    s = a - np.max(a, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


# numpy plus the scipy.special functions srcgrad.numpy adds: the reference namespace
REF = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
REF.logsumexp, REF.softmax, REF.log_softmax = _ref_logsumexp, _ref_softmax, _ref_log_softmax


def as_array(t):
    return t.detach().numpy() if isinstance(t, srcgrad.Tensor) else np.asarray(t)


def check(fn, x, *, values=True, full=True):
    """fn(M, x) with M = numpy on arrays (reference), srcgrad.numpy on tensors: values,
    float64 gradient against finite differences, float32 gradient dtype and agreement."""
    if values:
        want = fn(REF, x)
        got = fn(snp, srcgrad.tensor(x))
        np.testing.assert_allclose(as_array(got), want, rtol=1e-10, atol=1e-12)
        assert as_array(got).shape == np.shape(want)
    g64 = gradcheck(lambda t: fn(snp, t), x, full_limit=64 if full else 0)[0]
    t32 = srcgrad.tensor(x.astype(np.float32), requires_grad=True)
    out = fn(snp, t32)
    assert out.dtype == np.float32, out.dtype
    out.backward(srcgrad.tensor(np.ones(out.shape, np.float32)))
    t64 = srcgrad.tensor(x, requires_grad=True)
    fn(snp, t64).sum().backward()
    assert t32.grad.dtype == np.float32 and t32.grad.shape == x.shape
    np.testing.assert_allclose(t32.grad.numpy(), t64.grad.numpy(), rtol=2e-3, atol=2e-4)
    return g64


# ---------------------------------------------------------------------------------------
# one table of cases: (id, fn(M, x), shape, domain)
# ---------------------------------------------------------------------------------------
SHAPES_AXES = [  # (shape, axis) pairs covering scalar, vector, matrix, 3-D, negative and tuple axes
    ((), None), ((5,), None), ((5,), 0), ((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((3, 4), (0, 1)),
    ((2, 3, 4), 1), ((2, 3, 4), (0, 2)), ((2, 3, 4), -2),
]

CASES = []
for _shape, _axis in SHAPES_AXES:
    for _keep in (False, True):
        _tag = f"{_shape}-axis{_axis}-keep{int(_keep)}"
        CASES += [
            (f"sum-{_tag}", lambda M, x, a=_axis, k=_keep: M.sum(x, axis=a, keepdims=k), _shape, "any"),
            (f"mean-{_tag}", lambda M, x, a=_axis, k=_keep: M.mean(x, axis=a, keepdims=k), _shape, "any"),
            (f"prod-{_tag}", lambda M, x, a=_axis, k=_keep: M.prod(x, axis=a, keepdims=k), _shape, "away"),
            (f"max-{_tag}", lambda M, x, a=_axis, k=_keep: M.max(x, axis=a, keepdims=k), _shape, "any"),
            (f"amin-{_tag}", lambda M, x, a=_axis, k=_keep: M.amin(x, axis=a, keepdims=k), _shape, "any"),
            (f"logsumexp-{_tag}", lambda M, x, a=_axis, k=_keep: M.logsumexp(x, axis=a, keepdims=k), _shape, "any"),
        ]
        if _shape:  # a single entry has no spread: var's gradient of a constant
            CASES += [
                (f"var-{_tag}", lambda M, x, a=_axis, k=_keep: M.var(x, axis=a, keepdims=k), _shape, "any"),
                (f"std-ddof1-{_tag}", lambda M, x, a=_axis, k=_keep: M.std(x, axis=a, ddof=1, keepdims=k),
                 _shape, "any"),
                (f"ptp-{_tag}", lambda M, x, a=_axis, k=_keep: M.ptp(x, axis=a, keepdims=k), _shape, "any"),
            ]
    if _axis is None or isinstance(_axis, int):
        CASES += [
            (f"softmax-{_shape}-axis{_axis}", lambda M, x, a=_axis: M.softmax(x, axis=a), _shape, "any"),
            (f"log_softmax-{_shape}-axis{_axis}", lambda M, x, a=_axis: M.log_softmax(x, axis=a), _shape, "any"),
        ]
    if _shape and (_axis is None or isinstance(_axis, int)):
        CASES += [
            (f"cumsum-{_shape}-axis{_axis}", lambda M, x, a=_axis: M.cumsum(x, axis=a), _shape, "any"),
            (f"cumprod-{_shape}-axis{_axis}", lambda M, x, a=_axis: M.cumprod(x, axis=a), _shape, "away"),
        ]

CASES += [
    ("sum-initial", lambda M, x: M.sum(x, axis=1, initial=2.5), (3, 4), "any"),
    ("prod-initial", lambda M, x: M.prod(x, axis=1, initial=2.0), (3, 4), "away"),
    ("max-initial", lambda M, x: M.max(x, axis=0, initial=0.2), (3, 4), "away"),
    ("var-ddof2", lambda M, x: M.var(x, axis=1, ddof=2), (3, 5), "any"),
    ("std-3d-axes", lambda M, x: M.std(x, axis=(0, 2)), (2, 3, 4), "any"),
    ("average-none", lambda M, x: M.average(x), (3, 4), "any"),
    ("average-axis", lambda M, x: M.average(x, axis=1), (3, 4), "any"),
    ("average-weights-same", lambda M, x: M.average(x, axis=0, weights=np.arange(1.0, 13.0, dtype=x.dtype).reshape(3, 4)),
     (3, 4), "any"),
    ("average-weights-1d", lambda M, x: M.average(x, axis=1, weights=np.array([1.0, 2.0, 0.5, 3.0], x.dtype)),
     (3, 4), "any"),
    ("average-weights-axes", lambda M, x: M.average(x, axis=(2, 0), weights=np.arange(1.0, 9.0, dtype=x.dtype).reshape(4, 2)),
     (2, 3, 4), "any"),
    ("average-keepdims", lambda M, x: M.average(x, axis=1, weights=np.array([1.0, 2.0, 3.0], x.dtype), keepdims=True),
     (2, 3, 4), "any"),
    ("trace", lambda M, x: M.trace(x), (4, 4), "any"),
    ("trace-offset", lambda M, x: M.trace(x, 1), (3, 5), "any"),
    ("trace-offset-neg", lambda M, x: M.trace(x, -1), (4, 3), "any"),
    ("trace-3d-axes", lambda M, x: M.trace(x, 0, 2, 0), (3, 2, 4), "any"),
    ("logsumexp-b", lambda M, x: M.logsumexp(x, axis=1, b=np.array([0.5, 1.0, 2.0, 3.0], x.dtype)), (3, 4), "any"),
    ("cumsum-3d-last", lambda M, x: M.cumsum(x, axis=-1), (2, 3, 4), "any"),
    ("cumprod-3d-mid", lambda M, x: M.cumprod(x, axis=1), (2, 3, 4), "away"),
    ("cumprod-long", lambda M, x: M.cumprod(x, axis=0), (9,), "pos"),
]

# norms: vectors (ord 1, 2, inf, -inf, None, 0, p), matrices (fro, 1, -1, inf, -inf, 2, -2, nuc)
for _ord in (None, 1, 2, np.inf, -np.inf, 3, 0.5):
    CASES.append((f"norm-vec-{_ord}", lambda M, x, o=_ord: M.linalg.norm(x, o), (6,), "away"))
    CASES.append((f"norm-axis1-{_ord}", lambda M, x, o=_ord: M.linalg.norm(x, o, axis=1), (3, 4), "away"))
    CASES.append((f"norm-axis0-keep-{_ord}", lambda M, x, o=_ord: M.linalg.norm(x, o, axis=0, keepdims=True),
                  (3, 4), "away"))
for _ord in (None, "fro", 1, -1, np.inf, -np.inf, 2, -2, "nuc"):
    CASES.append((f"norm-mat-{_ord}", lambda M, x, o=_ord: M.linalg.norm(x, o), (3, 4), "away"))
    CASES.append((f"norm-mat3d-{_ord}", lambda M, x, o=_ord: M.linalg.norm(x, o, axis=(2, 0), keepdims=True),
                  (3, 2, 4), "away"))
CASES += [
    ("norm-3d-flat", lambda M, x: M.linalg.norm(x), (2, 3, 4), "away"),
    ("norm-3d-keep", lambda M, x: M.linalg.norm(x, keepdims=True), (2, 3, 4), "away"),
    ("vector_norm-3d", lambda M, x: M.linalg.vector_norm(x, ord=np.inf, axis=(0, 1)), (2, 3, 4), "away"),
    ("matrix_norm-batch", lambda M, x: M.linalg.matrix_norm(x, ord=1), (2, 3, 4), "away"),
]


@pytest.mark.parametrize("name,fn,shape,domain", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients(name, fn, shape, domain):
    x = data(shape, domain, seed=zlib.crc32(name.encode()))
    check(fn, x, full=int(np.prod(shape, dtype=np.int64)) <= 24)


# ---------------------------------------------------------------------------------------
# plain numpy on tensors: __array_function__ dispatch
# ---------------------------------------------------------------------------------------
DISPATCHED = [
    ("sum", lambda x: np.sum(x, axis=0)),
    ("mean", lambda x: np.mean(x, axis=(0, 1), keepdims=True)),
    ("prod", lambda x: np.prod(x, axis=-1)),
    ("max", lambda x: np.max(x, axis=1, keepdims=True)),
    ("amax", lambda x: np.amax(x)),
    ("min", lambda x: np.min(x, axis=2)),
    ("amin", lambda x: np.amin(x, axis=(0, 2))),
    ("var", lambda x: np.var(x, axis=1)),
    ("std-ddof", lambda x: np.std(x, ddof=1)),
    ("cumsum", lambda x: np.cumsum(x, axis=1)),
    ("cumsum-flat", lambda x: np.cumsum(x)),
    ("cumprod", lambda x: np.cumprod(x, axis=2)),
    ("ptp", lambda x: np.ptp(x, axis=0)),
    ("average", lambda x: np.average(x, axis=1, weights=np.array([1.0, 2.0, 3.0]))),
    ("trace", lambda x: np.trace(x, axis1=1, axis2=2)),
    ("norm", lambda x: np.linalg.norm(x, axis=(1, 2))),
    ("norm-inf", lambda x: np.linalg.norm(x, np.inf, axis=0)),
    ("norm-mat1", lambda x: np.linalg.norm(x[0], 1)),
]


@pytest.mark.parametrize("name,fn", DISPATCHED, ids=[d[0] for d in DISPATCHED])
def test_numpy_dispatch(name, fn):
    x = data((2, 3, 4), "away", seed=7)
    t = srcgrad.tensor(x, requires_grad=True)
    out = fn(t)
    assert isinstance(out, srcgrad.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.detach().numpy(), fn(x), rtol=1e-12)
    gradcheck(fn, x)


def test_tensor_numpy_style_methods():
    x = data((3, 4), "away", seed=3)
    t = srcgrad.tensor(x)
    np.testing.assert_allclose(t.sum(axis=0).numpy(), x.sum(axis=0))
    np.testing.assert_allclose(t.max(axis=1, keepdims=True).numpy(), x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(t.min(axis=0).numpy(), x.min(axis=0))
    np.testing.assert_allclose(t.std(ddof=0).numpy(), x.std())
    np.testing.assert_allclose(t.var(axis=1, ddof=1).numpy(), x.var(axis=1, ddof=1))
    np.testing.assert_allclose(t.prod(axis=1).numpy(), x.prod(axis=1))
    np.testing.assert_allclose(t.cumsum(axis=0).numpy(), x.cumsum(axis=0))
    np.testing.assert_allclose(t.cumsum().numpy(), x.cumsum())  # numpy's method flattens
    np.testing.assert_allclose(t.cumprod(axis=1).numpy(), x.cumprod(axis=1))
    np.testing.assert_allclose(t.argmax(axis=1).numpy(), x.argmax(axis=1))
    np.testing.assert_allclose(t.trace(1).numpy(), x.trace(1))
    assert bool(t.any()) and not bool((t > 10).any()) and bool((t > -10).all(axis=0).all())


# ---------------------------------------------------------------------------------------
# products with zeros: exact gradients, first and second order
# ---------------------------------------------------------------------------------------
def others_product(x):
    """d prod(x) / d x_i = product of the other entries, by brute force."""
    return np.array([np.prod(np.delete(x, i)) for i in range(x.size)])


@pytest.mark.parametrize("zeros", [(), (2,), (0, 3), (1, 2, 4), (0, 1, 2, 3, 4)])
def test_prod_gradient_with_zeros(zeros):
    x = np.array([1.5, -2.0, 0.7, 3.0, -0.4])
    x[list(zeros)] = 0.0
    t = srcgrad.tensor(x, requires_grad=True)
    np.prod(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), others_product(x), rtol=1e-15, atol=0)
    assert np.isfinite(t.grad.numpy()).all()


def test_prod_zeros_along_axes():
    x = data((3, 4, 2), "away", seed=11)
    x[0, 1, 0] = 0.0
    x[1, 0, 1] = x[1, 2, 1] = 0.0
    x[2, :, 0] = 0.0
    for axis in (None, 0, 1, 2, (0, 2), (1, 0)):
        for keep in (False, True):
            check(lambda M, v, a=axis, k=keep: M.prod(v, axis=a, keepdims=k), x)


def test_cumprod_gradient_with_zeros():
    for zeros in [(1,), (1, 3), (0, 4), (4,)]:
        x = np.array([1.5, -2.0, 0.7, 3.0, -0.4])
        x[list(zeros)] = 0.0
        g = check(lambda M, v: M.cumprod(v), x)
        # brute force: d(sum_i w_i y_i)/dx_j with the gradcheck's cotangent is checked there;
        # here the plain sum: sum over i >= j of the products of x[:i+1] without x_j
        t = srcgrad.tensor(x, requires_grad=True)
        np.cumprod(t).sum().backward()
        want = [sum(np.prod(np.delete(x[:i + 1], j)) for i in range(j, x.size)) for j in range(x.size)]
        np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-14)
        assert g.shape == x.shape
    x = data((3, 5), "away", seed=5)
    x[0, 2] = x[2, 0] = x[2, 3] = 0.0
    check(lambda M, v: M.cumprod(v, axis=1), x)
    check(lambda M, v: M.cumprod(v, axis=0), x.T.copy())


def second_order(f, x, eps=1e-6, seed=0):
    """Gradient of <grad f(x), w> (double backward) against finite differences of grad f."""
    w = np.random.default_rng(seed).standard_normal(x.shape)

    def first(v):
        t = srcgrad.tensor(v, requires_grad=True)
        (g,) = srcgrad.autograd.grad(f(t), [t], create_graph=True)
        return t, g

    t, g = first(x)
    (g * srcgrad.tensor(w)).sum().backward()
    num = np.zeros_like(x)
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[i] += eps
        xm.flat[i] -= eps
        num.flat[i] = np.sum((first(xp)[1].detach().numpy() - first(xm)[1].detach().numpy()) * w) / (2 * eps)
    np.testing.assert_allclose(t.grad.numpy(), num, rtol=1e-5, atol=1e-6)


def _with_zeros(shape, where):
    x = data(shape, "away", seed=21)
    for i in where:
        x[i] = 0.0
    return x


@pytest.mark.parametrize("name,f,x", [
    ("prod-one-zero", lambda t: np.prod(t, axis=1).sum(), _with_zeros((3, 4), [(0, 1)])),
    ("prod-zeros", lambda t: (np.prod(t, axis=0) ** 2).sum(), _with_zeros((3, 4), [(0, 1), (2, 1), (1, 3)])),
    ("prod-all", lambda t: np.prod(t), _with_zeros((5,), [(2,)])),
    ("cumprod-zeros", lambda t: (np.cumprod(t, axis=1) ** 2).sum(), _with_zeros((3, 4), [(0, 1), (1, 0), (1, 2)])),
    ("cumsum", lambda t: (np.cumsum(t, axis=0) ** 3).sum(), data((3, 4), seed=2)),
    ("max", lambda t: (np.max(t, axis=0) ** 2).sum(), data((3, 4), seed=3)),
    ("logsumexp", lambda t: snp.logsumexp(t * t, axis=1).sum(), data((3, 4), seed=4)),
    ("softmax", lambda t: (snp.softmax(t, axis=0) ** 2).sum(), data((3, 4), seed=5)),
    ("log_softmax", lambda t: (snp.log_softmax(t, axis=1) * t).sum(), data((3, 4), seed=6)),
    ("var", lambda t: (np.var(t, axis=1) ** 2).sum(), data((3, 4), seed=7)),
    ("std", lambda t: np.std(t, ddof=1), data((3, 4), seed=8)),
    ("norm-inf", lambda t: np.linalg.norm(t * t, np.inf), data((3, 4), "away", seed=9)),
    ("max-dim", lambda t: (t.max(1).values ** 3).sum(), data((3, 4), seed=10)),
])
def test_second_order(name, f, x):
    second_order(f, x)


def test_hessian_of_prod_with_a_zero():
    x = np.array([1.0, 0.0, 3.0, 2.0])
    h = srcgrad.hessian(lambda t: np.prod(t))(x)
    want = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            if i != j:
                want[i, j] = np.prod(np.delete(x, [i, j]))
    np.testing.assert_array_equal(np.asarray(h), want)


# ---------------------------------------------------------------------------------------
# extrema: ties and PyTorch's (values, indices)
# ---------------------------------------------------------------------------------------
def test_max_ties_split_evenly():
    x = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, -1.0]])
    t = srcgrad.tensor(x, requires_grad=True)
    np.max(t, axis=1).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    t = srcgrad.tensor(x, requires_grad=True)
    np.min(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), [[0, 0, 0, 0], [0, 0, 0, 1]])
    t = srcgrad.tensor(x, requires_grad=True)
    t.max().backward()  # over everything: ties share, as PyTorch's max()
    np.testing.assert_allclose(t.grad.numpy(), [[0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    t = srcgrad.tensor(x.astype(np.float32), requires_grad=True)
    t.amax(1).sum().backward()
    assert t.grad.dtype == np.float32
    np.testing.assert_allclose(t.grad.numpy(), [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0]], rtol=1e-6)


def test_torch_max_with_dim_returns_values_and_indices():
    x = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 4.0, 5.0, -1.0], [0.0, -2.0, 7.0, 7.0]])
    t = srcgrad.tensor(x, requires_grad=True)
    res = t.max(1)
    values, indices = res
    assert res.values is values and res.indices is indices
    np.testing.assert_array_equal(values.detach().numpy(), [3, 5, 7])
    np.testing.assert_array_equal(indices.numpy(), [1, 0, 2])
    assert indices.dtype == np.int64 and not indices.requires_grad
    values.sum().backward()  # only the returned (first) index gets the gradient
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]])

    t = srcgrad.tensor(x, requires_grad=True)
    values, indices = srcgrad.min(t, 0, keepdim=True)
    assert values.shape == (1, 4) and indices.shape == (1, 4)
    np.testing.assert_array_equal(indices.numpy(), [[2, 2, 0, 1]])
    (values * srcgrad.tensor([[1.0, 2.0, 3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 0, 3, 0], [0, 0, 0, 4], [1, 2, 0, 0]])

    for dim in (0, -1, 2):
        x3 = data((2, 3, 4), seed=dim + 30)
        gradcheck(lambda v, d=dim: v.max(d).values, x3)
        gradcheck(lambda v, d=dim: v.min(d, keepdim=True)[0], x3)
        np.testing.assert_array_equal(srcgrad.tensor(x3).max(dim).indices.numpy(), x3.argmax(dim))

    s = srcgrad.tensor(2.5, requires_grad=True)
    v, i = s.max(0)
    assert v.shape == () and i.item() == 0
    np.testing.assert_allclose(srcgrad.max(srcgrad.tensor([1.0, 4.0]), srcgrad.tensor([3.0, 2.0])).numpy(),
                               [3.0, 4.0])


def test_arg_functions_are_integer_tensors_without_gradient():
    x = data((3, 4, 5), seed=12)
    t = srcgrad.tensor(x, requires_grad=True)
    for axis in (None, 0, 1, -1):
        for keep in (False, True):
            for f in (np.argmax, np.argmin):
                r = f(t, axis=axis, keepdims=keep)
                np.testing.assert_array_equal(r.numpy(), f(x, axis=axis, keepdims=keep))
                assert r.dtype.kind == "i" and not r.requires_grad
    np.testing.assert_array_equal(snp.argsort(t, axis=1).numpy(), np.argsort(x, axis=1))
    np.testing.assert_array_equal(t.argmax(1).numpy(), x.argmax(1))
    np.testing.assert_array_equal(t.argmin(dim=0, keepdim=True).numpy(), x.argmin(0)[None])
    np.testing.assert_array_equal(srcgrad.argmax(t).numpy(), x.argmax())
    assert srcgrad.tensor(3.0).argmax().item() == 0


def test_counts_and_truth_tests():
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, -3.0]])
    t = srcgrad.tensor(x, requires_grad=True)
    for axis in (None, 0, 1, (0, 1)):
        for keep in (False, True):
            np.testing.assert_array_equal(np.count_nonzero(t, axis=axis, keepdims=keep).numpy(),
                                          np.count_nonzero(x, axis=axis, keepdims=keep))
            np.testing.assert_array_equal(np.any(t, axis=axis, keepdims=keep).numpy(),
                                          np.any(x, axis=axis, keepdims=keep))
            np.testing.assert_array_equal(np.all(t > -5, axis=axis, keepdims=keep).numpy(),
                                          np.all(x > -5, axis=axis, keepdims=keep))
    assert np.any(t).dtype == np.bool_ and not np.all(t).requires_grad
    assert int(t.count_nonzero()) == 3


# ---------------------------------------------------------------------------------------
# statistics and PyTorch's spellings
# ---------------------------------------------------------------------------------------
def test_var_std_conventions():
    x = data((4, 5), seed=13)
    t = srcgrad.tensor(x)
    # PyTorch's methods: unbiased by default; numpy's functions: ddof=0 by default
    np.testing.assert_allclose(t.var().numpy(), x.var(ddof=1))
    np.testing.assert_allclose(t.std(1).numpy(), x.std(1, ddof=1))
    np.testing.assert_allclose(t.var(1, unbiased=False).numpy(), x.var(1))
    np.testing.assert_allclose(t.var(False).numpy(), x.var())  # legacy var(unbiased)
    np.testing.assert_allclose(t.std(0, correction=2, keepdim=True).numpy(), x.std(0, ddof=2, keepdims=True))
    np.testing.assert_allclose(t.std(ddof=0).numpy(), x.std())
    np.testing.assert_allclose(np.var(t).numpy(), x.var())
    np.testing.assert_allclose(np.std(t, ddof=1).numpy(), x.std(ddof=1))
    np.testing.assert_allclose(np.var(t, axis=0, correction=1).numpy(), x.var(axis=0, ddof=1))
    np.testing.assert_allclose(srcgrad.std(t, (0, 1)).numpy(), x.std(ddof=1))
    gradcheck(lambda v: v.var(0), x)
    gradcheck(lambda v: srcgrad.var(v, 1, correction=0), x)


def test_torch_methods_and_functions():
    x = data((3, 4), seed=14)
    t = srcgrad.tensor(x)
    np.testing.assert_allclose(t.prod(1).numpy(), x.prod(1))
    np.testing.assert_allclose(srcgrad.prod(t, 0, keepdim=True).numpy(), x.prod(0, keepdims=True))
    np.testing.assert_allclose(t.cumsum(1).numpy(), x.cumsum(1))
    np.testing.assert_allclose(srcgrad.cumprod(t, -1).numpy(), x.cumprod(-1))
    np.testing.assert_allclose(t.amax(1).numpy(), x.max(1))
    np.testing.assert_allclose(t.amin((0, 1)).numpy(), x.min())
    np.testing.assert_allclose(srcgrad.amax(t).numpy(), x.max())
    np.testing.assert_allclose(t.logsumexp(1).numpy(), _ref_logsumexp(x, 1))
    np.testing.assert_allclose(srcgrad.logsumexp(t, 0, keepdim=True).numpy(), _ref_logsumexp(x, 0, keepdims=True))
    np.testing.assert_allclose(t.softmax(1).numpy(), _ref_softmax(x, 1))
    np.testing.assert_allclose(srcgrad.softmax(t, 0).numpy(), _ref_softmax(x, 0))
    np.testing.assert_allclose(srcgrad.log_softmax(t, -1).numpy(), _ref_log_softmax(x, -1))
    np.testing.assert_allclose(t.log_softmax(dim=0).numpy(), _ref_log_softmax(x, 0))
    assert t.softmax(1, dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="dim"):
        t.softmax()
    gradcheck(lambda v: v.logsumexp(1), x)
    gradcheck(lambda v: v.softmax(0), x)
    gradcheck(lambda v: v.log_softmax(1), x)
    gradcheck(lambda v: v.prod(0), x)
    gradcheck(lambda v: v.cumsum(0), x)
    gradcheck(lambda v: v.cumprod(1), x)
    gradcheck(lambda v: v.amin(0), x)


def test_nansum():
    x = np.array([[1.0, np.nan, 2.0], [np.nan, 3.0, 4.0]])
    t = srcgrad.tensor(x, requires_grad=True)
    r = t.nansum(1)
    np.testing.assert_allclose(r.detach().numpy(), np.nansum(x, 1))
    r.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[1, 0, 1], [0, 1, 1]])
    np.testing.assert_allclose(np.nansum(srcgrad.tensor(x), axis=0).numpy(), np.nansum(x, axis=0))


def test_cumulative_sum_and_prod():
    x = data((3, 4), "away", seed=20)
    for f in (np.cumulative_sum, np.cumulative_prod):
        for kw in ({"axis": 1}, {"axis": 0, "include_initial": True}):
            np.testing.assert_allclose(f(srcgrad.tensor(x), **kw).numpy(), f(x, **kw))
            gradcheck(lambda v, f=f, kw=kw: f(v, **kw), x)


def test_average_returned_and_weight_gradients():
    x = data((3, 4), seed=15)
    w = data((4,), "pos", seed=16)
    avg, scale = np.average(srcgrad.tensor(x), axis=1, weights=w, returned=True)
    want_avg, want_scale = np.average(x, axis=1, weights=w, returned=True)
    np.testing.assert_allclose(avg.numpy(), want_avg)
    np.testing.assert_allclose(scale.numpy(), want_scale)
    avg, scale = snp.average(x, axis=0, returned=True)
    np.testing.assert_allclose(scale.numpy(), np.average(x, axis=0, returned=True)[1])
    gradcheck(lambda a, b: snp.average(a, axis=1, weights=b), x, w)
    with pytest.raises(TypeError, match="axis must be specified"):
        snp.average(x, weights=w)
    with pytest.raises(ValueError, match="shape of weights"):
        snp.average(x, axis=0, weights=w)


# ---------------------------------------------------------------------------------------
# numerics: large inputs, infinities
# ---------------------------------------------------------------------------------------
def test_logsumexp_and_softmax_are_stable():
    x = np.array([[1000.0, 1000.0, -1000.0], [-1e4, -1e4 + 1.0, -1e4 - 2.0]])
    t = srcgrad.tensor(x, requires_grad=True)
    r = snp.logsumexp(t, axis=1)
    np.testing.assert_allclose(r.detach().numpy(), _ref_logsumexp(x, 1))
    r.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), _ref_softmax(x, 1))
    s = snp.softmax(srcgrad.tensor(x), axis=1).numpy()
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s, _ref_softmax(x, 1))
    ls = snp.log_softmax(srcgrad.tensor(x), axis=1).numpy()
    np.testing.assert_allclose(ls, _ref_log_softmax(x, 1))
    assert np.isfinite(ls).all()  # log(softmax) would give -inf at -1000 - 1000
    f32 = srcgrad.tensor(x.astype(np.float32), requires_grad=True)
    snp.logsumexp(f32).backward()
    assert f32.grad.dtype == np.float32 and np.isfinite(f32.grad.numpy()).all()
    # every entry -inf: the sum is 0 and the log -inf, as scipy
    with np.errstate(divide="ignore"):
        neg = snp.logsumexp(srcgrad.tensor([[-np.inf, -np.inf], [0.0, -np.inf]]), axis=1).numpy()
    np.testing.assert_array_equal(neg, [-np.inf, 0.0])
    assert snp.logsumexp(srcgrad.tensor([1.0, np.inf])).item() == np.inf


def test_norm_gradient_at_zero_and_errors():
    t = srcgrad.tensor(np.zeros(3), requires_grad=True)
    np.linalg.norm(t).backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0, 0, 0])  # PyTorch's subgradient, not NaN
    x = data((3, 4), seed=17)
    with pytest.raises(ValueError, match="'fro'"):
        snp.linalg.norm(x[0], "fro")  # numpy: no Frobenius norm for vectors
    with pytest.raises(ValueError, match="matrices"):
        snp.linalg.norm(x, 3)
    with pytest.raises(ValueError, match="improper number of dimensions"):
        snp.linalg.norm(np.ones((2, 2, 2)), 1)
    np.testing.assert_allclose(snp.linalg.norm(x[0], 0).numpy(), 4.0)
    np.testing.assert_allclose(snp.linalg.norm(np.arange(6).reshape(2, 3)).numpy(), np.linalg.norm(np.arange(6)))


# ---------------------------------------------------------------------------------------
# dtypes and errors
# ---------------------------------------------------------------------------------------
def test_result_dtypes_follow_numpy():
    i32 = np.arange(1, 7, dtype=np.int32).reshape(2, 3)
    for f in (np.sum, np.prod, np.cumsum, np.cumprod, np.mean, np.var, np.std, np.max, np.ptp):
        got = f(srcgrad.tensor(i32), axis=0)
        assert got.dtype == f(i32, axis=0).dtype, f
        np.testing.assert_allclose(got.numpy(), f(i32, axis=0))
    b = np.array([True, False, True])
    assert np.sum(srcgrad.tensor(b)).dtype == np.sum(b).dtype
    assert np.sum(srcgrad.tensor(i32), dtype=np.float32).dtype == np.float32
    assert np.mean(srcgrad.tensor(i32.astype(np.float32)), axis=1).dtype == np.float32
    assert np.linalg.norm(srcgrad.tensor(i32)).dtype == np.float64


def test_errors_name_the_function():
    t = srcgrad.tensor(data((3, 4), seed=18), requires_grad=True)
    with pytest.raises(ValueError, match="zero-size array to reduction operation max"):
        np.max(srcgrad.tensor(np.zeros((0, 3))))
    np.testing.assert_array_equal(np.max(srcgrad.tensor(np.zeros((0, 3))), axis=0, initial=-1.0).numpy(),
                                  [-1.0, -1.0, -1.0])
    with pytest.raises(np.exceptions.AxisError, match="sum"):
        np.sum(t, axis=2)
    with pytest.raises(np.exceptions.AxisError, match="cumsum"):
        np.cumsum(t, axis=-3)
    with pytest.raises(TraceError, match="writes into a plain numpy array"):
        np.sum(t, axis=0, out=np.zeros(4))  # (the result needs a gradient a plain array cannot keep)
    with pytest.raises(ValueError, match=r"numpy.sum: the result has shape \(4,\), which does not fit out= of "
                                         r"shape \(3,\)"):
        np.sum(t, axis=0, out=srcgrad.zeros(3, dtype=srcgrad.float64))
    with pytest.raises(ValueError, match="to use a where mask one has to specify 'initial'"):
        np.max(t, where=np.ones((3, 4), bool))
    with pytest.raises(TypeError, match="where= must be a boolean mask"):
        np.sum(t, where=np.ones((3, 4)))
    with pytest.raises(ValueError, match="ddof and correction"):
        np.var(t, ddof=1, correction=1)


# ---------------------------------------------------------------------------------------
# compiled code and compiled functions
# ---------------------------------------------------------------------------------------
def test_backward_source_of_cumprod_is_numpy_without_division():
    t = srcgrad.tensor(data((3, 4), "away", seed=19), requires_grad=True)
    y = np.cumprod(t, axis=1)
    src = srcgrad.inspect.backward_source(y)
    assert "for " in src and "/" not in src.split("def backward")[1]
    compile(src, "<check>", "exec")


def test_traced_function_recomputes_indices_and_shifts():
    """Inside srcgrad.grad the argmax and the logsumexp shift are ops of the generated
    function, so new data gives new indices — never the ones seen while tracing. (torch.max
    spelled as the function: inside a compiled function the method is numpy's.)"""
    def f(v):
        values, _ = srcgrad.max(v, 1)
        return (values * snp.logsumexp(v, axis=1)).sum() + np.prod(v) + np.std(v) + np.max(v)

    g = srcgrad.grad(f)
    for seed in (1, 2, 3):
        x = data((3, 4), seed=seed)
        t = srcgrad.tensor(x, requires_grad=True)
        f(t).backward()
        np.testing.assert_allclose(g(x), t.grad.numpy(), rtol=1e-12)


def test_compiled_hvp_of_scans_matches_double_backward():
    """hvp compiles the second derivative of cumprod/prod into generated code (both
    directions of linear_scan, shifts with fills): it must match the op-by-op one."""
    x = _with_zeros((2, 4), [(0, 1), (1, 3)])
    v = np.random.default_rng(3).standard_normal(x.shape)

    def f(t):
        return (np.cumprod(t, axis=1) ** 2).sum() + np.prod(t, axis=0).sum() + (np.cumsum(t, 0) ** 3).sum()

    hv = srcgrad.hvp(f)(x, v)
    assert "for " in srcgrad.hvp(f).source(x, v)
    t = srcgrad.tensor(x, requires_grad=True)
    (g,) = srcgrad.autograd.grad(f(t), [t], create_graph=True)
    (g * srcgrad.tensor(v)).sum().backward()
    np.testing.assert_allclose(np.asarray(hv), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_reference_backward_agrees():
    """The per-op reference backward (no fusion, no simplification) gives the same gradients."""
    old = (srcgrad.config.fuse_elementwise, srcgrad.config.simplify)
    srcgrad.config.fuse_elementwise = srcgrad.config.simplify = False
    try:
        x = _with_zeros((3, 4), [(0, 1), (1, 2)])
        for fn in (lambda v: np.prod(v, axis=1), lambda v: np.cumprod(v, axis=1), lambda v: np.max(v, axis=0),
                   lambda v: snp.softmax(v, axis=1), lambda v: np.std(v, axis=0)):
            gradcheck(fn, x)
    finally:
        srcgrad.config.fuse_elementwise, srcgrad.config.simplify = old


def test_ufunc_methods_that_are_other_rules():
    """np.maximum.accumulate (a running maximum: max drawdown) reads x where the maximum so
    far was attained; np.add.accumulate is cumsum, np.maximum.reduce is max."""
    x = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])

    def drawdown(p):
        peak = np.maximum.accumulate(p)
        return np.max((peak - p) / peak)

    def others(p):
        return (np.sum(np.minimum.accumulate(p) * np.arange(6.0)) + np.add.reduce(p ** 2)
                + np.sum(np.add.accumulate(p)) + np.maximum.reduce(p) + np.sum(np.multiply.accumulate(p[:3])))
    for f in (drawdown, others):
        value, grad = srcgrad.value_and_grad(f)(x)
        assert value == pytest.approx(f(x))
        fd = [(f(x + 1e-6 * e) - f(x - 1e-6 * e)) / 2e-6 for e in np.eye(6)]
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    M = np.array([[1.0, 3.0], [2.0, 1.0], [0.5, 4.0]])
    w = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(srcgrad.grad(lambda m: np.sum(np.maximum.accumulate(m, axis=0) * w))(M),
                                  [[0.0, 4.0], [6.0, 0.0], [0.0, 5.0]])


# ---------------------------------------------------------------------------------------
# where= masks (entries left out count as the reduction's identity; no gradient) and mean=
# ---------------------------------------------------------------------------------------
MASK = np.array([[True, False, True, True], [False, True, True, False], [True, True, False, True]])
WHERE_CASES = [
    ("sum", lambda M, x: M.sum(x, where=MASK)),
    ("sum-axis1", lambda M, x: M.sum(x, axis=1, where=MASK)),
    ("sum-row-mask", lambda M, x: M.sum(x, axis=0, keepdims=True, where=MASK[0])),
    ("mean", lambda M, x: M.mean(x, where=MASK)),
    ("mean-axis0", lambda M, x: M.mean(x, axis=0, where=MASK)),
    ("prod-axis1", lambda M, x: M.prod(x, axis=1, where=MASK)),
    ("max-initial", lambda M, x: M.max(x, axis=1, where=MASK, initial=-5.0)),
    ("min-initial", lambda M, x: M.min(x, axis=0, where=MASK, initial=5.0)),
    ("var-axis1", lambda M, x: M.var(x, axis=1, where=MASK)),
    ("std-ddof1", lambda M, x: M.std(x, ddof=1, where=MASK)),
    ("var-mean", lambda M, x: M.var(x, axis=1, mean=M.mean(x, axis=1, keepdims=True))),
    ("var-mean-where", lambda M, x: M.var(x, axis=0, where=MASK, mean=M.mean(x, axis=0, keepdims=True, where=MASK))),
    ("nanmean", lambda M, x: M.nanmean(x, axis=1, where=MASK)),
    ("nanvar", lambda M, x: M.nanvar(x, where=MASK)),
]


@pytest.mark.parametrize("fn", [f for _, f in WHERE_CASES], ids=[n for n, _ in WHERE_CASES])
def test_where_masks_and_a_given_mean(fn):
    check(fn, data((3, 4), "away", seed=31))


def test_where_mask_any_all_and_in_a_compiled_function():
    x = data((3, 4), seed=32)
    np.testing.assert_array_equal(np.any(srcgrad.tensor(x > 0), axis=1, where=MASK).numpy(),
                                  np.any(x > 0, axis=1, where=MASK))
    np.testing.assert_array_equal(np.all(srcgrad.tensor(x > 0), axis=0, where=MASK).numpy(),
                                  np.all(x > 0, axis=0, where=MASK))

    def f(x):  # the mask computed from the data, as a traced condition
        m = x > -0.5
        return np.sum(np.sin(x), where=m) + np.mean(x ** 2, axis=0, where=m).sum()
    value, grad = srcgrad.value_and_grad(f)(x)
    m = x > -0.5
    assert value == pytest.approx(f(x))
    np.testing.assert_allclose(grad, np.where(m, np.cos(x), 0) + np.where(m, 2 * x, 0) / m.sum(axis=0), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# ufunc methods and out= (numpy/_dispatch.py)
# ---------------------------------------------------------------------------------------
Y3 = np.array([0.3, -1.2, 0.7])
UFUNC_METHOD_CASES = [
    ("multiply.outer", lambda M, x: np.multiply.outer(x, Y3.astype(x.dtype))),
    ("subtract.outer", lambda M, x: np.subtract.outer(Y3.astype(x.dtype), x)),
    ("logaddexp.reduce", lambda M, x: np.logaddexp.reduce(x, axis=1)),
    ("logaddexp.reduce-axis0", lambda M, x: np.logaddexp.reduce(x)),
    ("logaddexp2.reduce", lambda M, x: np.logaddexp2.reduce(x, axis=1)),
    ("add.reduceat", lambda M, x: np.add.reduceat(x, [0, 2, 2, 3], axis=1)),
    ("add.reduceat-axis0", lambda M, x: np.add.reduceat(x, [1, 2])),
    ("add.reduce-keepdims", lambda M, x: np.add.reduce(x, axis=0, keepdims=True)),
    ("multiply.reduce-keepdims", lambda M, x: np.multiply.reduce(x, axis=1, keepdims=True)),
    ("maximum.reduce-keepdims", lambda M, x: np.maximum.reduce(x, axis=None, keepdims=True)),
    ("logaddexp.reduce-keepdims", lambda M, x: np.logaddexp.reduce(x, axis=1, keepdims=True)),
    ("logaddexp.accumulate", lambda M, x: np.logaddexp.accumulate(x)),
    ("logaddexp.accumulate-axis1", lambda M, x: np.logaddexp.accumulate(x * 30, axis=1)),
    ("logaddexp2.accumulate", lambda M, x: np.logaddexp2.accumulate(x, axis=1)),
]


@pytest.mark.parametrize("fn", [f for _, f in UFUNC_METHOD_CASES], ids=[n for n, _ in UFUNC_METHOD_CASES])
def test_ufunc_methods(fn):
    check(fn, data((3, 4), seed=33))


def test_out_is_a_tensor_written_in_place():
    x = data((3, 4), seed=34)
    t = srcgrad.tensor(x, requires_grad=True)
    c = srcgrad.ones(3, 4, dtype=srcgrad.float64)
    assert np.add(t, 1.0, out=c, where=x > 0) is c
    c.sum().backward()
    np.testing.assert_array_equal(c.detach().numpy(), np.where(x > 0, x + 1, 1))
    np.testing.assert_array_equal(t.grad.numpy(), (x > 0).astype(float))

    def f(x):  # inside a compiled function: the written array carries the gradient
        c = np.zeros_like(x)
        np.multiply(x, x, out=c)
        d = np.ones_like(x)
        np.add(c, x, out=d, where=x > 0)
        return np.sum(d * c)
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x))
    np.testing.assert_allclose(grad, np.where(x > 0, 4 * x ** 3 + 3 * x ** 2, 2 * x), rtol=1e-12)


#: numpy functions given `out=` (by keyword or by position): the result written into it
OUT_CASES = [
    ("sum", lambda x, o: np.sum(x, axis=0, out=o), (4,)),
    ("sum-positional", lambda x, o: np.sum(x, 1, None, o), (3,)),
    ("mean", lambda x, o: np.mean(x, axis=1, out=o), (3,)),
    ("max", lambda x, o: np.max(x, axis=0, out=o), (4,)),
    ("cumsum", lambda x, o: np.cumsum(x, axis=1, out=o), (3, 4)),
    ("std", lambda x, o: np.std(x, axis=0, out=o), (4,)),
    ("median", lambda x, o: np.median(x, axis=1, out=o), (3,)),
    ("clip", lambda x, o: np.clip(x, -0.5, 0.5, out=o), (3, 4)),
    ("clip-positional", lambda x, o: np.clip(x, -0.5, 0.5, o), (3, 4)),
    ("round", lambda x, o: np.round(x * 10, 0, out=o), (3, 4)),
    ("dot", lambda x, o: np.dot(x, x.T, out=o), (3, 3)),
    ("outer", lambda x, o: np.outer(x[0], x[1], out=o), (4, 4)),
    ("concatenate", lambda x, o: np.concatenate([x, x ** 2], axis=0, out=o), (6, 4)),
    ("trace", lambda x, o: np.trace(x, out=o), ()),
    ("take", lambda x, o: np.take(x, [0, 2], axis=1, out=o), (3, 2)),
]


@pytest.mark.parametrize("fn,shape", [(f, s) for _, f, s in OUT_CASES], ids=[n for n, _, _ in OUT_CASES])
def test_out_of_a_function_is_written(fn, shape):
    x = data((3, 4), seed=35)

    def f(x):  # (out made by numpy's builder: a tensor inside a compiled function)
        o = np.empty(shape)
        r = fn(x, o)
        return np.sum(np.sin(o) * r)

    def expected(x):
        o = np.empty(shape)
        return fn(x, o), o

    r, o = expected(x)
    assert r is o or np.shares_memory(r, o)  # (numpy's own: what is returned is out)
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x))
    np.testing.assert_allclose(grad, numeric_grad(f, x), rtol=1e-5, atol=1e-6)


def test_out_of_a_function_eagerly():
    t = srcgrad.tensor(data((3, 4), seed=36), requires_grad=True)
    o = srcgrad.zeros(4, dtype=srcgrad.float64)
    assert np.sum(t ** 2, axis=0, out=o) is o  # (a recorded write: out carries the gradient)
    o.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), 2 * t.detach().numpy())
    plain = np.zeros(4)  # no gradient needed: a plain array takes the values
    assert np.sum(t.detach(), axis=0, out=plain) is plain
    np.testing.assert_allclose(plain, t.detach().numpy().sum(axis=0))


@pytest.mark.parametrize("method,shape", [("sum", ()), ("mean", ()), ("max", ()), ("min", ()), ("any", ()),
                                          ("all", ())], ids=str)
def test_array_methods_write_out(method, shape):
    """`x.sum(out=o)` in numpy code: o holds the result (it was ignored: o stayed zero)."""
    x = data((5,), seed=37)

    def f(x):
        o = np.zeros(shape, bool if method in ("any", "all") else float)
        r = getattr(x > 0 if method in ("any", "all") else x, method)(out=o)
        return np.sum(np.asarray(o, float) * x) + 0 * np.sum(np.asarray(r, float))
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x), rel=1e-12)
    np.testing.assert_allclose(grad, numeric_grad(f, x), rtol=1e-6, atol=1e-8)


def test_ndarray_clip_writes_out():
    def f(x):
        v = x.copy()
        v.clip(-0.6, 0.6, out=v)
        return np.sum(v ** 2)
    x = np.array([0.5, -0.9, 0.2])
    value, grad = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x))
    np.testing.assert_allclose(grad, [1.0, 0.0, 0.4])
