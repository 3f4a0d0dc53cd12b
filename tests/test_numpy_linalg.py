"""Products and linear algebra of the numpy surface: values against numpy, gradients against
finite differences (float64 and float32), second derivatives, dispatch, errors."""
import numpy as np
import pytest

import srcgrad
import srcgrad.numpy as snp
from srcgrad.numpy._dispatch import NoRuleError
from srcgrad.testing import gradcheck

rng = np.random.default_rng(1234)


def central_differences(f, a, eps=1e-6):
    """The gradient of scalar f at a by central differences, entry by entry."""
    num = np.zeros_like(a)
    for k in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[k] = eps
        num[k] = (f(a + e) - f(a - e)) / (2 * eps)
    return num


def r(*shape):
    return rng.standard_normal(shape)


def well_conditioned(*shape):
    n = shape[-1]
    return r(*shape) + n * np.eye(n)


def spd(*shape):
    a = r(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def orthogonal(n):
    return np.linalg.qr(r(n, n))[0]


def symmetric_distinct(n):
    """Symmetric, eigenvalues 1.5 apart: eigenvectors well defined, even in float32."""
    q = orthogonal(n)
    return q @ np.diag(1.5 * np.arange(1, n + 1) - 0.3 * n) @ q.T


def distinct_singular(m, n):
    k = min(m, n)
    return orthogonal(m)[:, :k] @ np.diag(np.arange(k, 0, -1) + 0.5) @ orthogonal(n)[:k, :]


def sym(a):
    return (a + a.mT) / 2


def weights(*shape):
    return np.arange(1, int(np.prod(shape)) + 1, dtype=np.float64).reshape(shape) / np.prod(shape)


# Each case: name, f(m, *xs) written against a numpy-like module m, input arrays. f runs as
# numpy itself (m=np on arrays), through srcgrad.numpy (m=snp on tensors) and through numpy's
# dispatch (m=np on tensors). Losses on eigen/singular vectors are sign-invariant.
W43, W33, W34 = weights(4, 3), weights(3, 3), weights(3, 4)


def weighted(x, w):
    return x * w.astype(x.dtype)  # keeps float32 float32
CASES = [
    # products
    ("dot vv", lambda m, a, b: m.dot(a, b), [r(4), r(4)]),
    ("dot mm", lambda m, a, b: m.dot(a, b), [r(2, 3), r(3, 4)]),
    ("dot mv", lambda m, a, b: m.dot(a, b), [r(2, 3), r(3)]),
    ("dot vm", lambda m, a, b: m.dot(a, b), [r(3), r(3, 4)]),
    ("dot scalar", lambda m, a, b: m.dot(a, b), [np.array(1.7), r(2, 3)]),
    ("dot nd-1d", lambda m, a, b: m.dot(a, b), [r(2, 3, 4), r(4)]),
    ("dot nd-md", lambda m, a, b: m.dot(a, b), [r(2, 2, 3), r(2, 3, 2)]),
    ("dot 1d-nd", lambda m, a, b: m.dot(a, b), [r(3), r(2, 3, 2)]),
    ("matmul batched", lambda m, a, b: m.matmul(a, b), [r(2, 1, 2, 3), r(3, 3, 2)]),
    ("matmul vec", lambda m, a, b: m.matmul(a, b), [r(3), r(2, 3, 2)]),
    ("inner", lambda m, a, b: m.inner(a, b), [r(2, 3), r(4, 3)]),
    ("inner vv", lambda m, a, b: m.inner(a, b), [r(5), r(5)]),
    ("outer", lambda m, a, b: m.outer(a, b), [r(2, 3), r(4)]),
    ("vdot", lambda m, a, b: m.vdot(a, b), [r(2, 3), r(6)]),
    ("tensordot int", lambda m, a, b: m.tensordot(a, b), [r(2, 3, 4), r(3, 4, 2)]),
    ("tensordot 0", lambda m, a, b: m.tensordot(a, b, 0), [r(2, 3), r(3)]),
    ("tensordot pairs", lambda m, a, b: m.tensordot(a, b, axes=([1, 0], [0, 2])), [r(2, 3, 4), r(3, 2, 2)]),
    ("tensordot ints", lambda m, a, b: m.tensordot(a, b, axes=(-1, 0)), [r(2, 3), r(3, 2)]),
    ("kron mm", lambda m, a, b: m.kron(a, b), [r(2, 3), r(3, 2)]),
    ("kron vm", lambda m, a, b: m.kron(a, b), [r(3), r(2, 2)]),
    ("cross", lambda m, a, b: m.cross(a, b), [r(2, 3), r(3)]),
    ("cross axis", lambda m, a, b: m.cross(a, b, axis=0), [r(3, 2), r(3, 2)]),
    ("cross axisc", lambda m, a, b: m.cross(a, b, axisa=0, axisb=-1, axisc=0), [r(3, 2), r(2, 3)]),
    # einsum
    ("einsum matmul", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [r(2, 3), r(3, 4)]),
    ("einsum implicit", lambda m, a, b: m.einsum("ij,jk", a, b), [r(2, 3), r(3, 4)]),
    ("einsum implicit order", lambda m, a, b: m.einsum("cb,bA", a, b), [r(2, 3), r(3, 4)]),
    ("einsum transpose", lambda m, a: m.einsum("ij->ji", a), [r(2, 3)]),
    ("einsum sum", lambda m, a: m.einsum("ijk->j", a), [r(2, 3, 2)]),
    ("einsum trace", lambda m, a: m.einsum("ii->", a), [r(3, 3)]),
    ("einsum trace implicit", lambda m, a: m.einsum("ii", a), [r(3, 3)]),
    ("einsum diagonal", lambda m, a: m.einsum("ii->i", a), [r(3, 3)]),
    ("einsum partial diagonal", lambda m, a, b: m.einsum("iji,j->ij", a, b), [r(3, 2, 3), r(2)]),
    ("einsum batch", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [r(2, 2, 3), r(2, 3, 2)]),
    ("einsum ellipsis", lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b), [r(2, 1, 2, 3), r(3, 3, 2)]),
    ("einsum ellipsis implicit", lambda m, a, b: m.einsum("...ij,jk", a, b), [r(2, 2, 3), r(3, 2)]),
    ("einsum size-1 broadcast", lambda m, a, b: m.einsum("ij,j->i", a, b), [r(2, 3), r(1)]),
    ("einsum own label", lambda m, a, b: m.einsum("ij,k->ik", a, b), [r(2, 3), r(4)]),
    ("einsum outer", lambda m, a, b: m.einsum("i,j", a, b), [r(2), r(3)]),
    ("einsum three", lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c), [r(2, 3), r(3, 2), r(2, 2)]),
    ("einsum bilinear", lambda m, a, b, c: m.einsum("i,ij,j", a, b, c), [r(3), r(3, 4), r(4)]),
    ("einsum sublist", lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]), [r(2, 3), r(3, 2)]),
    # linalg
    ("inv", lambda m, a: m.linalg.inv(a), [well_conditioned(3, 3)]),
    ("inv batched", lambda m, a: m.linalg.inv(a), [well_conditioned(2, 3, 3)]),
    ("solve vector", lambda m, a, b: m.linalg.solve(a, b), [well_conditioned(3, 3), r(3)]),
    ("solve matrix", lambda m, a, b: m.linalg.solve(a, b), [well_conditioned(3, 3), r(3, 2)]),
    ("solve batched", lambda m, a, b: m.linalg.solve(a, b), [well_conditioned(2, 3, 3), r(3, 2)]),
    ("solve batched b", lambda m, a, b: m.linalg.solve(a, b), [well_conditioned(3, 3), r(2, 3, 2)]),
    ("det", lambda m, a: m.linalg.det(a), [r(3, 3)]),
    ("det batched", lambda m, a: m.linalg.det(a), [r(2, 2, 2)]),
    ("slogdet", lambda m, a: m.linalg.slogdet(a)[1], [r(3, 3)]),
    ("slogdet batched", lambda m, a: m.linalg.slogdet(a).logabsdet, [r(2, 3, 3)]),
    ("cholesky", lambda m, a: m.linalg.cholesky(sym(a)), [spd(3, 3)]),
    ("cholesky batched", lambda m, a: m.linalg.cholesky(sym(a)), [spd(2, 3, 3)]),
    ("eigh values", lambda m, a: m.linalg.eigh(sym(a))[0], [symmetric_distinct(4)]),
    ("eigh vectors", lambda m, a: weighted(m.linalg.eigh(sym(a))[1] ** 2, W33), [symmetric_distinct(3)]),
    ("eigh both", lambda m, a: (lambda w, v: (v * w[..., None, :]) @ v.mT)(*m.linalg.eigh(sym(a))),
     [symmetric_distinct(3)]),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(sym(a)), [symmetric_distinct(3)]),
    ("qr tall Q", lambda m, a: m.linalg.qr(a)[0], [r(4, 3)]),
    ("qr tall R", lambda m, a: m.linalg.qr(a)[1], [r(4, 3)]),
    ("qr square", lambda m, a: m.linalg.qr(a).Q * 2 + m.linalg.qr(a).R, [r(3, 3)]),
    ("qr batched", lambda m, a: m.linalg.qr(a)[0] @ m.linalg.qr(a)[1].mT, [r(2, 3, 2)]),
    ("qr mode r", lambda m, a: m.linalg.qr(a, mode="r"), [r(4, 2)]),
    ("qr complete tall R", lambda m, a: m.linalg.qr(a, mode="complete")[1], [r(5, 3)]),
    ("qr complete tall Q1", lambda m, a: m.linalg.qr(a, mode="complete")[0][..., :2], [r(2, 4, 2)]),
    ("svd values", lambda m, a: m.linalg.svd(a, compute_uv=False), [r(4, 3)]),
    ("svd U", lambda m, a: weighted(m.linalg.svd(a, full_matrices=False)[0] ** 2, W43), [distinct_singular(4, 3)]),
    ("svd Vh", lambda m, a: weighted(m.linalg.svd(a, full_matrices=False)[2] ** 2, W34), [distinct_singular(3, 4)]),
    ("svd U wide", lambda m, a: weighted(m.linalg.svd(a, full_matrices=False).U ** 2, W33), [distinct_singular(3, 4)]),
    ("svd Vh tall", lambda m, a: weighted(m.linalg.svd(a, full_matrices=False).Vh ** 2, W33), [distinct_singular(4, 3)]),
    ("svd square", lambda m, a: (lambda u, s, vh: (u * s[..., None, :] ** 2) @ vh)(*m.linalg.svd(a)),
     [distinct_singular(3, 3)]),
    ("svd batched", lambda m, a: m.linalg.svd(a, full_matrices=False)[0] ** 2, [r(2, 3, 2)]),
    ("pinv tall", lambda m, a: m.linalg.pinv(a), [r(4, 3)]),
    ("pinv wide", lambda m, a: m.linalg.pinv(a), [r(2, 4)]),
    ("matrix_power 3", lambda m, a: m.linalg.matrix_power(a, 3), [r(3, 3) / 2]),
    ("matrix_power 1", lambda m, a: m.linalg.matrix_power(a, 1), [r(2, 2)]),
    ("matrix_power -2", lambda m, a: m.linalg.matrix_power(a, -2), [well_conditioned(3, 3)]),
    ("cond", lambda m, a: m.linalg.cond(a), [distinct_singular(3, 3)]),
    ("cond tall -2", lambda m, a: m.linalg.cond(a, -2), [distinct_singular(4, 3)]),
    ("cond fro", lambda m, a: m.linalg.cond(a, "fro"), [well_conditioned(3, 3)]),
    ("cond 1 batched", lambda m, a: m.linalg.cond(a, 1), [well_conditioned(2, 3, 3)]),
    ("tensorsolve", lambda m, a, b: m.linalg.tensorsolve(a, b), [well_conditioned(6, 6).reshape(2, 3, 6), r(2, 3)]),
    ("tensorsolve axes", lambda m, a, b: m.linalg.tensorsolve(a, b, axes=(0,)),
     [well_conditioned(6, 6).reshape(6, 2, 3), r(2, 3)]),
    ("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [r(2, 3), r(3, 4), r(4, 2)]),
    ("multi_dot vectors", lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]),
     [r(3), r(3, 4), r(4, 2), r(2)]),
]
IDS = [c[0] for c in CASES]


def _tensors(arrays, dtype=None, requires_grad=False):
    return [srcgrad.tensor(a if dtype is None else a.astype(dtype), requires_grad=requires_grad)
            for a in arrays]


@pytest.mark.parametrize("name,f,arrays", CASES, ids=IDS)
def test_values_match_numpy(name, f, arrays):
    expected = np.asarray(f(np, *arrays))
    for module in (snp, np):  # srcgrad.numpy, and numpy dispatching to srcgrad
        out = f(module, *_tensors(arrays))
        assert isinstance(out, srcgrad.Tensor), (name, module.__name__)
        assert out.shape == expected.shape and out.dtype == expected.dtype
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name,f,arrays", CASES, ids=IDS)
def test_gradients_float64(name, f, arrays):
    gradcheck(lambda *xs: f(snp, *xs), *arrays)


@pytest.mark.parametrize("name,f,arrays", CASES, ids=IDS)
def test_gradients_float32_through_numpy_dispatch(name, f, arrays):
    arrays = [a.astype(np.float32) for a in arrays]
    out = f(np, *_tensors(arrays))
    assert out.dtype == np.float32, name
    # gradcheck asserts each gradient keeps its input's dtype (float32)
    gradcheck(lambda *xs: f(np, *xs), *arrays, atol=2e-3, rtol=2e-3)


# -- second derivatives: Hessian-vector products against differences of the gradient ------
def _scalar_loss(f, m, xs):
    out = f(m, *xs)
    # squared, so that linear maps (einsum, kron, ...) have a second derivative to check
    return (out * out * srcgrad.tensor(weights(*out.shape))).sum()


def _grads(f, arrays):
    xs = _tensors(arrays, requires_grad=True)
    return [g.detach().numpy() for g in srcgrad.autograd.grad(_scalar_loss(f, snp, xs), xs)]


def check_second_order(f, arrays, eps=1e-5, tol=1e-5):
    xs = _tensors(arrays, requires_grad=True)
    gs = srcgrad.autograd.grad(_scalar_loss(f, snp, xs), xs, create_graph=True)
    vs = [r(*a.shape) for a in arrays]
    proj = sum((g * srcgrad.tensor(v)).sum() for g, v in zip(gs, vs))
    hv = srcgrad.autograd.grad(proj, xs, allow_unused=True)
    for _ in range(2):
        us = [r(*a.shape) for a in arrays]
        plus = _grads(f, [a + eps * u for a, u in zip(arrays, us)])
        minus = _grads(f, [a - eps * u for a, u in zip(arrays, us)])
        numeric = sum(float(np.sum((p - q) / (2 * eps) * v)) for p, q, v in zip(plus, minus, vs))
        analytic = sum(float(np.sum(h.detach().numpy() * u)) for h, u in zip(hv, us) if h is not None)
        assert np.isclose(analytic, numeric, rtol=tol * 10, atol=tol), (analytic, numeric)


SECOND_ORDER = ["inv", "inv batched", "solve vector", "solve batched", "det", "det batched", "slogdet",
                "cholesky", "eigh values", "eigh vectors", "svd values", "svd U", "qr tall R", "pinv tall",
                "einsum trace", "einsum diagonal", "einsum partial diagonal", "einsum three",
                "einsum size-1 broadcast", "einsum own label", "dot nd-md", "kron mm", "cross",
                "matrix_power -2"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_order(name):
    _, f, arrays = CASES[IDS.index(name)]
    check_second_order(f, arrays)


def test_hessian_of_log_det_is_minus_inverse_sandwich():
    # d2 log|det A| [E, F] = -tr(A^-1 E A^-1 F)
    a = well_conditioned(3, 3)
    x = srcgrad.tensor(a, requires_grad=True)
    (g,) = srcgrad.autograd.grad(np.linalg.slogdet(x)[1], [x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.linalg.inv(a).T, rtol=1e-10)
    e = r(3, 3)
    (h,) = srcgrad.autograd.grad((g * srcgrad.tensor(e)).sum(), [x])
    ai = np.linalg.inv(a)
    np.testing.assert_allclose(h.numpy(), -(ai @ e @ ai).T, rtol=1e-8, atol=1e-10)


# -- generated code ---------------------------------------------------------------------------
def test_einsum_backward_is_einsum_in_generated_code():
    a = srcgrad.tensor(r(3, 3, 2), requires_grad=True)
    b = srcgrad.tensor(r(2), requires_grad=True)
    out = snp.einsum("iij,j->ij", a, b).sum()
    out.backward()
    src = srcgrad.inspect.backward_source(out)
    assert "np.einsum('ij,iij->j'" in src            # b's gradient
    assert "np.einsum('iij->ij', grad_a)[...] =" in src   # a's gradient, on the diagonal
    expected_a = np.zeros((3, 3, 2))
    for i in range(3):
        expected_a[i, i] = b.detach().numpy()
    np.testing.assert_allclose(a.grad.numpy(), expected_a)


def test_linalg_backward_source_uses_numpy_linalg():
    a = srcgrad.tensor(well_conditioned(3, 3), requires_grad=True)
    b = srcgrad.tensor(r(3, 2), requires_grad=True)
    out = np.linalg.solve(a, b).sum()
    out.backward()
    assert "np.linalg.solve(" in srcgrad.inspect.backward_source(out)


def test_multi_output_op_codegen_unpacks_a_tuple():
    from srcgrad.codegen.emit import generate
    from srcgrad.ir.graph import Graph
    g = Graph("f")
    x = g.add_input((3, 3), np.float64, "x")
    sign, logabsdet = g.emit("slogdet", [x])
    source, _ = generate(g, "f", [x], [logabsdet])
    assert "= tuple(np.linalg.slogdet(x))" in source
    ns = {"np": np}
    exec(source, ns)
    a = well_conditioned(3, 3)
    assert np.isclose(ns["f"](a)[0], np.linalg.slogdet(a)[1])


# -- namespaces, results, Tensor methods ---------------------------------------------------------
def test_namespaces_and_result_types():
    a = srcgrad.tensor(symmetric_distinct(3))
    assert snp.linalg.inv is snp.linalg.inv and callable(snp.einsum) and callable(snp.kron)
    res = np.linalg.eigh(a)
    assert res.eigenvalues is res[0] and res.eigenvectors.shape == (3, 3)
    assert np.linalg.svd(a).S.shape == (3,)
    assert np.linalg.qr(a).R.shape == (3, 3)
    assert np.linalg.slogdet(a).sign.item() in (-1.0, 1.0)
    # numpy.linalg names without a rule still work on data that needs no gradient
    assert snp.linalg.diagonal(a).shape == (3,)
    with pytest.raises(NoRuleError, match="linalg.diagonal"):
        snp.linalg.diagonal(srcgrad.tensor(r(3, 3), requires_grad=True))
    with pytest.raises(NoRuleError, match="linalg.diagonal"):
        np.linalg.diagonal(srcgrad.tensor(r(3, 3), requires_grad=True))
    assert np.linalg.eig(a).eigenvalues.dtype == np.linalg.eig(a.numpy())[0].dtype  # (real eigenvalues: real)


def test_torch_style_methods_and_einsum():
    a, b = r(3), r(4)
    ta, tb = srcgrad.tensor(a, requires_grad=True), srcgrad.tensor(b)
    np.testing.assert_allclose(ta.outer(tb).detach().numpy(), np.outer(a, b))
    np.testing.assert_allclose(ta.ger(tb).detach().numpy(), np.outer(a, b))
    m = well_conditioned(3, 3)
    tm = srcgrad.tensor(m, requires_grad=True)
    np.testing.assert_allclose(tm.inverse().detach().numpy(), np.linalg.inv(m))
    np.testing.assert_allclose(tm.det().item(), np.linalg.det(m))
    np.testing.assert_allclose(tm.logdet().item(), np.log(np.linalg.det(m)))
    np.testing.assert_allclose(tm.matrix_power(2).detach().numpy(), m @ m)
    s = spd(3, 3)
    np.testing.assert_allclose(srcgrad.tensor(s).cholesky().numpy(), np.linalg.cholesky(s))
    np.testing.assert_allclose(srcgrad.tensor(s).cholesky(upper=True).numpy(), np.linalg.cholesky(s).T)
    np.testing.assert_allclose(srcgrad.tensor(r(2, 3)).kron(srcgrad.tensor(np.eye(2))).shape, (4, 6))
    x, y = r(2, 3), r(2, 3)
    np.testing.assert_allclose(srcgrad.tensor(x).cross(srcgrad.tensor(y)).numpy(), np.cross(x, y))
    p, q = r(2, 3), r(3, 4)
    out = srcgrad.einsum("ij,jk->ik", [srcgrad.tensor(p), srcgrad.tensor(q)])
    np.testing.assert_allclose(out.numpy(), p @ q)
    out = srcgrad.einsum("ij,jk->ik", srcgrad.tensor(p), srcgrad.tensor(q))
    np.testing.assert_allclose(out.numpy(), p @ q)
    ta.outer(tb).sum().backward()
    np.testing.assert_allclose(ta.grad.numpy(), np.full(3, b.sum()))


@pytest.mark.skipif(not hasattr(np.linalg, "vecdot"), reason="numpy < 2 has no array-API linalg names")
def test_array_api_names_in_linalg():
    a, b = r(2, 3), r(2, 3)
    ta, tb = srcgrad.tensor(a, requires_grad=True), srcgrad.tensor(b)
    checks = [
        (np.linalg.vecdot(ta, tb), np.linalg.vecdot(a, b)),
        (np.vecdot(ta, tb), np.vecdot(a, b)),
        (snp.vecdot(ta, tb, axis=0), np.vecdot(a, b, axis=0)),
        (np.linalg.matrix_transpose(ta), a.T),
        (np.linalg.svdvals(ta), np.linalg.svdvals(a)),
        (np.linalg.outer(ta[0], tb[1]), np.outer(a[0], b[1])),
        (np.linalg.cross(ta, tb), np.cross(a, b)),
        (np.linalg.tensordot(ta, tb, axes=([0, 1], [0, 1])), np.tensordot(a, b, axes=([0, 1], [0, 1]))),
        (np.linalg.matmul(ta, tb.mT), a @ b.T),
    ]
    for got, want in checks:
        assert got.requires_grad
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12)
    gradcheck(lambda x, y: np.linalg.vecdot(x, y), a, b)
    gradcheck(lambda x: np.linalg.svdvals(x), a)


def test_tensor_cross_defaults_to_the_first_axis_of_size_3():
    a, b = r(3, 4), r(3, 4)
    np.testing.assert_allclose(srcgrad.tensor(a).cross(srcgrad.tensor(b)).numpy(), np.cross(a, b, axis=0))


def test_dtypes_follow_numpy():
    i = np.arange(4).reshape(2, 2)
    ti = srcgrad.tensor(i)
    assert np.dot(ti, ti).dtype == np.int64
    np.testing.assert_array_equal(np.dot(ti, ti).numpy(), i @ i)
    assert np.linalg.inv(srcgrad.tensor(i + 3 * np.eye(2, dtype=int))).dtype == np.float64
    f32 = srcgrad.tensor(r(2, 2).astype(np.float32), requires_grad=True)
    assert np.matmul(f32, ti).dtype == np.float32   # integer data meeting float data becomes float
    assert np.einsum("ij,jk", f32, ti).dtype == np.float32
    assert np.linalg.solve(f32, srcgrad.tensor(r(2))).dtype == np.float64   # float32 with float64


def test_plain_inputs_and_lists():
    np.testing.assert_allclose(snp.dot([1.0, 2.0], [3.0, 4.0]).item(), 11.0)
    np.testing.assert_allclose(snp.linalg.det([[1.0, 2.0], [3.0, 4.0]]).item(), -2.0)
    out = snp.einsum("i,i", np.arange(3.0), srcgrad.tensor([1.0, 2.0, 3.0], requires_grad=True))
    assert out.item() == 8.0 and out.requires_grad


def test_matrix_power_zero_is_identity():
    t = srcgrad.tensor(r(2, 3, 3), requires_grad=True)
    np.testing.assert_array_equal(np.linalg.matrix_power(t, 0).numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)))


# -- errors and unsupported cases -----------------------------------------------------------------
def test_shape_errors_name_the_op_and_shapes():
    a, b = srcgrad.tensor(r(2, 3)), srcgrad.tensor(r(4, 5))
    with pytest.raises(ValueError, match=r"dot: shapes \(2, 3\) and \(4, 5\) not aligned"):
        np.dot(a, b)
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        np.matmul(a, b)
    with pytest.raises(ValueError, match=r"einsum: label 'j' has sizes 3 and 4"):
        np.einsum("ij,jk", a, b)
    with pytest.raises(ValueError, match=r"einsum: .*repeats a label"):
        snp.einsum("ij->ii", a)
    with pytest.raises(ValueError, match=r"einsum: .*no '\.\.\.'"):
        snp.einsum("...i->i", srcgrad.tensor(r(2, 3)))
    with pytest.raises(ValueError, match="tensordot: shape-mismatch"):
        np.tensordot(a, b, axes=([1], [0]))
    with pytest.raises(np.linalg.LinAlgError, match=r"inv: .*square.*\(2, 3\)"):
        np.linalg.inv(a)
    with pytest.raises(ValueError, match=r"solve: .*\(4, 5\)"):
        np.linalg.solve(srcgrad.tensor(np.eye(3)), b)
    with pytest.raises(ValueError, match="cross: incompatible dimensions"):
        np.cross(srcgrad.tensor(r(4)), srcgrad.tensor(r(4)))
    with pytest.raises(ValueError, match="vdot: vectors have different lengths"):
        np.vdot(a, b)
    with pytest.raises(ValueError, match="inv: Singular matrix"):
        np.linalg.inv(srcgrad.tensor(np.ones((2, 2))))


def test_unsupported_cases_raise():
    wide = srcgrad.tensor(r(2, 4), requires_grad=True)
    with pytest.raises(NoRuleError, match="full_matrices"):
        np.linalg.svd(wide)   # numpy's default full_matrices=True: U is not determined by A
    # without a gradient to lose, numpy's answers are returned
    u, s, vh = np.linalg.svd(wide.detach())
    assert u.shape == (2, 2) and vh.shape == (4, 4)
    assert np.linalg.qr(wide.detach()).Q.shape == (2, 2)
    assert np.linalg.qr(srcgrad.tensor(r(4, 2)), mode="complete")[0].shape == (4, 4)


def test_complete_qr_of_a_tall_matrix_is_differentiable_where_it_is_determined():
    """Q's extra columns Q2 are one orthonormal basis of the complement of A's columns
    among many: what reads R and Q's first columns, or Q2 through Q2 Q2^T = I - Q1 Q1^T,
    has its exact gradient; the values are numpy's."""
    a = r(5, 3)
    q, rr = np.linalg.qr(srcgrad.tensor(a), mode="complete")
    q0, r0 = np.linalg.qr(a, mode="complete")
    np.testing.assert_allclose(q.numpy(), q0, atol=1e-12)
    np.testing.assert_allclose(rr.numpy(), r0, atol=1e-12)
    weights = np.arange(25.0).reshape(5, 5)
    gradcheck(lambda m: np.sum((np.linalg.qr(m, mode="complete")[0][:, 3:] @
                                np.linalg.qr(m, mode="complete")[0][:, 3:].T) * weights), a)
    grad = srcgrad.grad(lambda m: np.sum(np.sin(np.linalg.qr(m, mode="complete")[1])) +
                        np.sum(np.linalg.qr(m, mode="complete")[0][:, :3] ** 3))
    gradcheck(lambda m: np.sum(np.sin(np.linalg.qr(m, mode="complete")[1])) +
              np.sum(np.linalg.qr(m, mode="complete")[0][:, :3] ** 3), a)
    assert "mode='complete'" in grad.source(a)  # (the generated code computes Q2 each call)


def test_qr_of_a_wide_matrix_is_differentiable():
    """A = [X, Y], X square: Q R1 = X, and R = [R1, Q^T Y] (the factors LAPACK returns)."""
    a = r(2, 4)
    q, rr = np.linalg.qr(srcgrad.tensor(a))
    q0, r0 = np.linalg.qr(a)
    np.testing.assert_allclose(q.numpy(), q0, atol=1e-12)
    np.testing.assert_allclose(rr.numpy(), r0, atol=1e-12)
    gradcheck(lambda m: np.sum(np.linalg.qr(m)[1] * np.arange(8.0).reshape(2, 4)) +
              np.sum(np.linalg.qr(m)[0] ** 3), a)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_gradient_is_in_the_triangle_numpy_reads(uplo):
    # numpy's eigh of a full (not symmetric) matrix reads one triangle: its derivative in
    # the other is 0, and finite differences in any direction agree; PyTorch's
    # torch.linalg.eigh gives the symmetric gradient instead (A taken to be symmetric)
    a = symmetric_distinct(4) + 0.3 * np.triu(r(4, 4), 1)
    w = r(4)
    f = lambda m: np.sum(np.linalg.eigvalsh(m, UPLO=uplo) * w)
    g = srcgrad.grad(f)(a)
    other = np.triu(g, 1) if uplo == "L" else np.tril(g, -1)
    assert not other.any()
    h, d = 1e-6, r(4, 4)
    assert np.isclose(np.sum(g * d), (f(a + h * d) - f(a - h * d)) / (2 * h), rtol=1e-5)
    t = srcgrad.tensor(a, requires_grad=True)
    (srcgrad.linalg.eigvalsh(t, UPLO=uplo) * srcgrad.tensor(w)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), t.grad.numpy().T)
    np.testing.assert_allclose(np.tril(t.grad.numpy()) + np.triu(t.grad.numpy(), 1).T,
                               g if uplo == "L" else g.T, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_pinv_of_a_rank_deficient_matrix_has_the_fixed_rank_gradient(shape):
    # rank 2 whatever the shape: numpy drops the zero singular values, and the gradient is
    # that of matrices of the same rank (HIPS autograd's test_pinv, fun_low_rank)
    rng = np.random.default_rng(1)
    b = rng.standard_normal(shape[:-1] + (2,))
    w = rng.standard_normal(shape[:-2] + (shape[-2], shape[-2]))
    f = lambda x: np.sum(np.linalg.pinv(x @ np.swapaxes(x, -1, -2)) * w)
    g = srcgrad.grad(f)(b)
    h, d = 1e-6, rng.standard_normal(b.shape)
    assert np.isclose(np.sum(g * d), (f(b + h * d) - f(b - h * d)) / (2 * h), rtol=1e-6)
    np.testing.assert_allclose(srcgrad.numpy.linalg.pinv(srcgrad.tensor(b)).numpy(), np.linalg.pinv(b))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_reads_one_triangle_and_its_gradient_is_there(upper):
    # numpy's cholesky reads the lower (upper=True: upper) triangle only: the gradient in
    # the other is 0, and the entries read stand for their mirrors too
    a = np.array([[2.0, 0.3, 0.1], [0.5, 1.5, 0.2], [0.4, 0.6, 1.8]])  # not symmetric
    w = np.arange(9.0).reshape(3, 3)
    f = lambda a: np.sum(np.linalg.cholesky(a, upper=upper) * w)  # noqa: E731
    v, g = srcgrad.value_and_grad(f)(a)
    assert v == pytest.approx(f(a), rel=1e-13)
    np.testing.assert_allclose(g, central_differences(f, a), atol=1e-7)
    # PyTorch's torch.linalg.cholesky keeps the symmetric gradient
    t = srcgrad.tensor(a, requires_grad=True)
    (srcgrad.linalg.cholesky(t) * srcgrad.tensor(w)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), t.grad.numpy().T)


def test_lstsq_returns_numpys_four_values_and_differentiates_x_and_the_residuals():
    rng = np.random.default_rng(0)
    A, b, B = rng.standard_normal((6, 3)), rng.standard_normal(6), rng.standard_normal((6, 2))
    for rhs in (b, B, b[:2]):
        a = A if rhs.shape[0] == 6 else A[:2]
        got, want = snp.linalg.lstsq(a, rhs, rcond=None), np.linalg.lstsq(a, rhs, rcond=None)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), w, atol=1e-12)

    def f(A, b):
        x, res, rank, s = np.linalg.lstsq(A, b, rcond=None)
        return np.sum(x ** 2) + res[0]
    gA, gb = srcgrad.grad(f, argnums=(0, 1))(A, b)
    eps = 1e-6
    for i in [(0, 0), (3, 2), (5, 1)]:
        E = np.zeros_like(A)
        E[i] = eps
        assert gA[i] == pytest.approx((f(A + E, b) - f(A - E, b)) / (2 * eps), rel=1e-6, abs=1e-8)


def test_lstsq_singular_values_and_rank_are_computed_by_each_call():
    # they were constants of the first call's data: stale values, a zero gradient
    b = np.ones(4)
    vg = srcgrad.value_and_grad(lambda a: np.linalg.lstsq(a, b)[3].sum())
    rng = np.random.default_rng(0)
    for _ in range(2):
        a = rng.normal(size=(4, 3))
        value, grad = vg(a)
        u, s, vt = np.linalg.svd(a, full_matrices=False)
        np.testing.assert_allclose(value, s.sum())
        np.testing.assert_allclose(grad, u @ vt, atol=1e-12)

    def f(a):
        x, res, rank, s = np.linalg.lstsq(a, b)
        return x.sum() + float(rank) + res.sum()
    vr = srcgrad.value_and_grad(f)
    a = rng.normal(size=(4, 3))
    np.testing.assert_allclose(vr(a)[0], f(a))
    a[:, 2] = a[:, 0]  # rank 2: another variant (no residuals)
    np.testing.assert_allclose(vr(a)[0], f(a))


def test_hermitian_pinv_reads_the_lower_triangle_as_numpy_does():
    A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 5.0]])

    def f(a):
        return np.linalg.pinv(a, hermitian=True)[0, 1] + np.linalg.pinv(a, hermitian=True)[2, 0] ** 2
    g = srcgrad.grad(f)(A)
    np.testing.assert_allclose(g, central_differences(f, A), atol=1e-8)
    assert np.all(g[np.triu_indices(3, 1)] == 0)


SINGULAR = [np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, 1.0, 2.0]]),   # rank 2: a nonzero gradient
            np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]),   # rank 1: zero
            np.array([[1.0, 2.0], [2.0, 4.0 + 1e-12]])]                      # (nearly: the SVD's side)


@pytest.mark.parametrize("a", SINGULAR, ids=["rank-2", "rank-1", "nearly"])
def test_det_gradient_at_a_singular_matrix_is_the_adjugate(a):
    def f(a):
        return np.linalg.det(a * 2) + 1
    adjugate = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(2 * a, j, 0), i, 1))
                          for j in range(len(a))] for i in range(len(a))]) if len(a) > 2 else \
        np.array([[2 * a[1, 1], -2 * a[0, 1]], [-2 * a[1, 0], 2 * a[0, 0]]])
    value, grad = srcgrad.value_and_grad(f)(a)
    assert value == pytest.approx(f(a), abs=1e-12)
    np.testing.assert_allclose(grad, 2 * adjugate.T, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(grad, central_differences(f, a), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(srcgrad.vjp(f, a)[1](1.0)[0], grad, rtol=1e-9, atol=1e-9)


def test_det_gradient_of_a_stack_with_singular_matrices():
    stack = np.stack([SINGULAR[0], np.eye(3) + 0.1, SINGULAR[1]])

    def f(a):
        return np.sum(np.linalg.det(a) * np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(srcgrad.grad(f)(stack), central_differences(f, stack), rtol=1e-6, atol=1e-6)


def test_a_singular_matrix_in_compiled_code_raises_linalg_error_naming_the_line():
    def f(a):
        return np.sum(np.linalg.inv(a * 2)) + 1
    g = srcgrad.value_and_grad(f)
    g(np.eye(3) + 0.1)  # (compiled for an invertible matrix, then called with a singular one)
    with pytest.raises(np.linalg.LinAlgError, match=r"inv: Singular matrix .*\n.*test_numpy_linalg.py:\d+: return"):
        g(SINGULAR[0])


def test_exported_det_gradient_carries_the_adjugate(tmp_path):
    def f(a):
        return np.linalg.det(a) ** 2
    g = srcgrad.value_and_grad(f)
    assert "adjugate(" in g.source(np.eye(3) + 0.1)
    name = srcgrad.export(g, str(tmp_path / "det_mod.py"), np.eye(3) + 0.1)
    source = open(tmp_path / "det_mod.py").read()
    assert "srcgrad" not in source.split('"""', 2)[2]  # (numpy only: the adjugate's source is in it)
    ns = {}
    exec(compile(source, "det_mod", "exec"), ns)
    for a in (np.eye(3) + 0.2, SINGULAR[0] + 1e-3):
        np.testing.assert_allclose(ns[name](a)[1], g(a)[1], rtol=1e-10)
