"""srcgrad.linalg, PyTorch's torch.linalg namespace: values against numpy.linalg (float64 and
float32, batched), gradients against central finite differences (float64), PyTorch's
signatures and rules (named-tuple fields, vector right-hand sides, full_matrices, dtype
checks, error messages), and the same functions inside a function compiled by srcgrad.grad."""
import math

import numpy as np
import pytest

import srcgrad
import srcgrad.linalg as L
from srcgrad.testing import gradcheck

rng = np.random.default_rng(2024)


def r(*shape):
    return rng.standard_normal(shape)


def well_conditioned(*shape):
    return r(*shape) + shape[-1] * np.eye(shape[-1])


def spd(*shape):
    a = r(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def symmetric_distinct(*shape):
    """Symmetric, eigenvalues 1.5 apart: eigenvectors are well defined."""
    n = shape[-1]
    q = np.linalg.qr(r(*shape))[0]
    return (q * (1.5 * np.arange(1, n + 1) - 0.3 * n)) @ np.swapaxes(q, -1, -2)


def distinct_singular(m, n, batch=()):
    k = min(m, n)
    u = np.linalg.qr(r(*batch, m, m))[0][..., :k]
    v = np.linalg.qr(r(*batch, n, n))[0][..., :k, :]
    return (u * (np.arange(k, 0, -1) + 0.5)) @ v


def mT(x):
    return np.swapaxes(x, -1, -2)


def sym(x):
    """(x + x^T) / 2 for tensors and arrays: eigh and cholesky read one triangle, so their
    inputs are made symmetric, and finite differences see a function of every entry."""
    return (x + (x.mT if isinstance(x, srcgrad.Tensor) else mT(x))) / 2


def canon(v, rows=False):
    """Eigen/singular vectors with the sign that makes the first row (column for rows=True)
    positive: a function of the matrix, so values and differences are comparable. The sign
    is a constant (detached), as it is locally."""
    if isinstance(v, srcgrad.Tensor):
        s = (v[..., :, :1] if rows else v[..., :1, :]).sign().detach()
    else:
        s = np.sign(v[..., :, :1] if rows else v[..., :1, :])
    return v * s


def canon_svd(u, s, vh):
    """(U, S, Vh) with the signs fixed by U's first row (Vh's rows follow U's columns)."""
    k = s.shape[-1]
    sg = (u[..., :1, :k].sign().detach() if isinstance(u, srcgrad.Tensor) else np.sign(u[..., :1, :k]))
    return u[..., :, :k] * sg, s, vh[..., :k, :] * (sg.mT if isinstance(sg, srcgrad.Tensor) else mT(sg))


def lstsq_ref(a, b):
    """numpy's lstsq over a batch (numpy's takes one matrix)."""
    if a.ndim == 2:
        return np.linalg.lstsq(a, b, rcond=None)[0]
    return np.stack([lstsq_ref(x, y) for x, y in zip(a, b)])


INF = math.inf

# id, f(L, *xs) with srcgrad.linalg as L, the reference with numpy on the arrays, arrays,
# whether f has a gradient to check
CASES = [
    # norms
    ("norm all entries", lambda L, a: L.norm(a), lambda a: np.linalg.norm(a), [r(2, 3, 4)], True),
    ("norm dim keepdim", lambda L, a: L.norm(a, dim=1, keepdim=True),
     lambda a: np.linalg.norm(a, axis=1, keepdims=True), [r(2, 3, 4)], True),
    ("norm ord inf matrix", lambda L, a: L.norm(a, ord=INF), lambda a: np.linalg.norm(a, INF), [r(3, 4)], True),
    ("norm ord 1 vector", lambda L, a: L.norm(a, ord=1), lambda a: np.abs(a).sum(), [r(5)], True),
    ("norm nuc dims", lambda L, a: L.norm(a, ord="nuc", dim=(0, 2)),
     lambda a: np.linalg.norm(a, "nuc", axis=(0, 2)), [r(3, 2, 4)], True),
    ("vector_norm p=3 dims", lambda L, a: L.vector_norm(a, 3, dim=(0, 2)),
     lambda a: (np.abs(a) ** 3).sum(axis=(0, 2)) ** (1 / 3), [r(2, 3, 4)], True),
    ("vector_norm keepdim all", lambda L, a: L.vector_norm(a, keepdim=True),
     lambda a: np.sqrt((a * a).sum()).reshape(1, 1), [r(2, 3)], True),
    ("vector_norm -inf", lambda L, a: L.vector_norm(a, -INF, dim=-1), lambda a: np.abs(a).min(-1), [r(2, 3)], True),
    ("matrix_norm fro batch", lambda L, a: L.matrix_norm(a), lambda a: np.sqrt((a * a).sum((-2, -1))),
     [r(2, 3, 4)], True),
    ("matrix_norm 2 batch", lambda L, a: L.matrix_norm(a, ord=2), lambda a: np.linalg.norm(a, 2, axis=(-2, -1)),
     [distinct_singular(3, 4, (2,))], True),
    ("matrix_norm 1 dims keepdim", lambda L, a: L.matrix_norm(a, 1, dim=(0, 2), keepdim=True),
     lambda a: np.linalg.norm(a, 1, axis=(0, 2), keepdims=True), [r(3, 2, 4)], True),
    # determinants and inverses
    ("det batch", lambda L, a: L.det(a), np.linalg.det, [well_conditioned(2, 3, 3)], True),
    ("slogdet", lambda L, a: tuple(L.slogdet(a)), lambda a: tuple(np.linalg.slogdet(a)), [r(2, 3, 3)], True),
    ("inv batch", lambda L, a: L.inv(a), np.linalg.inv, [well_conditioned(2, 3, 3)], True),
    ("inv_ex", lambda L, a: L.inv_ex(a).inverse, np.linalg.inv, [well_conditioned(3, 3)], True),
    # solvers
    ("solve matrix", lambda L, a, b: L.solve(a, b), np.linalg.solve, [well_conditioned(3, 3), r(3, 2)], True),
    ("solve vector", lambda L, a, b: L.solve(a, b), np.linalg.solve, [well_conditioned(3, 3), r(3)], True),
    ("solve batch of vectors", lambda L, a, b: L.solve(a, b),
     lambda a, b: np.linalg.solve(a, b[..., None])[..., 0], [well_conditioned(2, 3, 3), r(2, 3)], True),
    ("solve broadcast", lambda L, a, b: L.solve(a, b), np.linalg.solve,
     [well_conditioned(2, 1, 3, 3), r(4, 3, 2)], True),
    ("solve left=False", lambda L, a, b: L.solve(a, b, left=False),
     lambda a, b: mT(np.linalg.solve(mT(a), mT(b))), [well_conditioned(2, 3, 3), r(2, 4, 3)], True),
    ("solve_triangular upper", lambda L, a, b: L.solve_triangular(a, b, upper=True),
     lambda a, b: np.linalg.solve(np.triu(a), b), [well_conditioned(3, 3), r(3, 2)], True),
    ("solve_triangular lower right", lambda L, a, b: L.solve_triangular(a, b, upper=False, left=False),
     lambda a, b: mT(np.linalg.solve(mT(np.tril(a)), mT(b))), [well_conditioned(2, 3, 3), r(2, 4, 3)], True),
    ("solve_triangular unitriangular", lambda L, a, b: L.solve_triangular(a, b, upper=False, unitriangular=True),
     lambda a, b: np.linalg.solve(np.tril(a, -1) + np.eye(3), b), [r(3, 3), r(3, 2)], True),
    ("lstsq tall", lambda L, a, b: L.lstsq(a, b).solution, lstsq_ref, [r(5, 3), r(5, 2)], True),
    ("lstsq wide", lambda L, a, b: L.lstsq(a, b).solution, lstsq_ref, [r(3, 5), r(3, 2)], True),
    ("lstsq batch of vectors", lambda L, a, b: L.lstsq(a, b).solution, lstsq_ref, [r(2, 5, 3), r(2, 5)], True),
    ("tensorinv", lambda L, a: L.tensorinv(a, ind=2), lambda a: np.linalg.tensorinv(a, ind=2),
     [well_conditioned(6, 6).reshape(2, 3, 6)], True),
    ("tensorsolve dims", lambda L, a, b: L.tensorsolve(a, b, dims=(0,)),
     lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)),
     [well_conditioned(6, 6).reshape(3, 2, 6).transpose(2, 0, 1).copy(), r(3, 2)], True),
    # factorizations
    ("cholesky", lambda L, a: L.cholesky(sym(a)), lambda a: np.linalg.cholesky(sym(a)), [spd(2, 3, 3)], True),
    ("cholesky upper", lambda L, a: L.cholesky(sym(a), upper=True), lambda a: mT(np.linalg.cholesky(sym(a))),
     [spd(3, 3)], True),
    ("qr tall batch", lambda L, a: tuple(L.qr(a)), lambda a: tuple(np.linalg.qr(a)), [r(2, 4, 3)], True),
    ("qr wide", lambda L, a: tuple(L.qr(a)), lambda a: tuple(np.linalg.qr(a)), [r(2, 3, 5)], True),
    ("qr complete square", lambda L, a: tuple(L.qr(a, mode="complete")),
     lambda a: tuple(np.linalg.qr(a, mode="complete")), [r(3, 3)], True),
    ("qr r", lambda L, a: L.qr(a, mode="r").R, lambda a: np.linalg.qr(a, mode="r"), [r(4, 3)], True),
    ("eigh", lambda L, a: (L.eigh(sym(a)).eigenvalues, canon(L.eigh(sym(a)).eigenvectors)),
     lambda a: (np.linalg.eigh(sym(a))[0], canon(np.linalg.eigh(sym(a))[1])), [symmetric_distinct(2, 3, 3)], True),
    ("eigh upper", lambda L, a: canon(L.eigh(sym(a), UPLO="U").eigenvectors),
     lambda a: canon(np.linalg.eigh(sym(a), UPLO="U")[1]), [symmetric_distinct(3, 3)], True),
    ("eigvalsh batch", lambda L, a: L.eigvalsh(sym(a)), lambda a: np.linalg.eigvalsh(sym(a)),
     [symmetric_distinct(2, 3, 3)], True),
    ("svd square", lambda L, a: canon_svd(*L.svd(a)), lambda a: canon_svd(*np.linalg.svd(a)),
     [distinct_singular(3, 3)], True),
    ("svd reduced tall batch", lambda L, a: canon_svd(*L.svd(a, full_matrices=False)),
     lambda a: canon_svd(*np.linalg.svd(a, full_matrices=False)), [distinct_singular(4, 3, (2,))], True),
    ("svd full wide (first rows)", lambda L, a: canon_svd(*L.svd(a)), lambda a: canon_svd(*np.linalg.svd(a)),
     [distinct_singular(2, 4)], True),
    ("svdvals", lambda L, a: L.svdvals(a), lambda a: np.linalg.svd(a, compute_uv=False),
     [distinct_singular(3, 4, (2,))], True),
    ("pinv tall", lambda L, a: L.pinv(a), np.linalg.pinv, [r(4, 3)], True),
    ("pinv wide batch", lambda L, a: L.pinv(a), np.linalg.pinv, [r(2, 2, 4)], True),
    ("matrix_power 3", lambda L, a: L.matrix_power(a, 3), lambda a: np.linalg.matrix_power(a, 3),
     [r(2, 3, 3)], True),
    ("matrix_power -2", lambda L, a: L.matrix_power(a, -2), lambda a: np.linalg.matrix_power(a, -2),
     [well_conditioned(3, 3)], True),
    ("matrix_power 0", lambda L, a: L.matrix_power(a, 0), lambda a: np.broadcast_to(np.eye(3), a.shape),
     [r(2, 3, 3)], False),
    # products and views
    ("multi_dot", lambda L, a, b, c: L.multi_dot([a, b, c]), lambda a, b, c: np.linalg.multi_dot([a, b, c]),
     [r(2, 3), r(3, 4), r(4, 2)], True),
    ("multi_dot vectors", lambda L, a, b, c: L.multi_dot([a, b, c]), lambda a, b, c: np.linalg.multi_dot([a, b, c]),
     [r(3), r(3, 4), r(4)], True),
    ("cross", lambda L, a, b: L.cross(a, b), np.cross, [r(2, 3), r(2, 3)], True),
    ("cross dim=0 broadcast", lambda L, a, b: L.cross(a, b, dim=0), lambda a, b: np.cross(a, b, axis=0),
     [r(3, 1), r(3, 4)], True),
    ("vecdot broadcast", lambda L, a, b: L.vecdot(a, b), lambda a, b: (a * b).sum(-1), [r(2, 3), r(3)], True),
    ("vecdot dim=0", lambda L, a, b: L.vecdot(a, b, dim=0), lambda a, b: (a * b).sum(0), [r(3, 2), r(3, 2)], True),
    ("matmul", lambda L, a, b: L.matmul(a, b), np.matmul, [r(2, 3, 4), r(4)], True),
    ("diagonal offset", lambda L, a: L.diagonal(a, offset=1), lambda a: np.diagonal(a, 1, -2, -1),
     [r(2, 3, 4)], True),
    ("diagonal dims", lambda L, a: L.diagonal(a, offset=-1, dim1=0, dim2=2), lambda a: np.diagonal(a, -1, 0, 2),
     [r(3, 2, 4)], True),
]
IDS = [c[0] for c in CASES]


def _outputs(x):
    return list(x) if isinstance(x, tuple) else [x]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,f,ref,arrays,_", CASES, ids=IDS)
def test_values_shapes_dtypes_match_numpy(name, f, ref, arrays, _, dtype):
    xs = [a.astype(dtype) for a in arrays]
    got = _outputs(f(L, *[srcgrad.tensor(x) for x in xs]))
    want = _outputs(ref(*[x.astype(np.float64) for x in xs]))
    assert len(got) == len(want)
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-4)
    for g, w in zip(got, want):
        assert isinstance(g, srcgrad.Tensor)
        assert g.shape == np.shape(w)
        assert g.dtype == dtype   # float32 stays float32 (numpy's float64 reference aside)
        np.testing.assert_allclose(g.numpy(), w, **tol)


@pytest.mark.parametrize("name,f,ref,arrays,has_grad", CASES, ids=IDS)
def test_gradients_match_finite_differences(name, f, ref, arrays, has_grad):
    if not has_grad:
        out = f(L, *[srcgrad.tensor(a, requires_grad=True) for a in arrays])
        assert not out.requires_grad
        return
    gradcheck(lambda *xs: f(L, *xs), *arrays, directions=1)


@pytest.mark.parametrize("name", ["det batch", "solve batch of vectors", "qr wide", "svd reduced tall batch",
                                  "cholesky", "lstsq tall", "matrix_norm 2 batch"])
def test_gradients_float32(name):
    _, f, _, arrays, _ = CASES[IDS.index(name)]
    # gradcheck also asserts that each gradient keeps its input's dtype (float32)
    gradcheck(lambda *xs: f(L, *xs), *[a.astype(np.float32) for a in arrays], atol=3e-3, rtol=3e-3,
              full_limit=0, directions=2)


# -- result types ---------------------------------------------------------------------------
def test_named_tuple_fields():
    a = srcgrad.tensor(symmetric_distinct(3, 3))
    fields = [
        (L.slogdet(a), ("sign", "logabsdet")),
        (L.eigh(a), ("eigenvalues", "eigenvectors")),
        (L.qr(a), ("Q", "R")),
        (L.svd(a), ("U", "S", "Vh")),
        (L.inv_ex(a), ("inverse", "info")),
        (L.lstsq(a, a), ("solution", "residuals", "rank", "singular_values")),
    ]
    for res, names in fields:
        assert res._fields == names
        assert all(getattr(res, n) is res[i] for i, n in enumerate(names))
    assert L.inv_ex(srcgrad.tensor(well_conditioned(2, 3, 3))).info.dtype == np.int32
    np.testing.assert_array_equal(L.inv_ex(srcgrad.tensor(well_conditioned(2, 3, 3))).info.numpy(), [0, 0])
    sign, logabsdet = L.slogdet(srcgrad.tensor(-np.eye(3)))
    assert sign.item() == -1.0 and logabsdet.item() == 0.0


def test_lstsq_outputs_follow_the_driver():
    a, b = r(2, 5, 3), r(2, 5, 2)
    ta, tb = srcgrad.tensor(a), srcgrad.tensor(b)
    x = lstsq_ref(a, b)
    default = L.lstsq(ta, tb)           # PyTorch's CPU default 'gelsy': rank only
    assert default.residuals.shape == (0,) and default.singular_values.shape == (0,)
    np.testing.assert_array_equal(default.rank.numpy(), [3, 3])
    assert default.rank.dtype == np.int64
    full = L.lstsq(ta, tb, driver="gelsd")
    np.testing.assert_allclose(full.solution.numpy(), x, rtol=1e-10)
    np.testing.assert_allclose(full.residuals.numpy(), ((a @ x - b) ** 2).sum(-2), rtol=1e-10)
    np.testing.assert_allclose(full.singular_values.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-10)
    assert L.lstsq(ta, tb, driver="gels").rank.shape == (0,)
    assert L.lstsq(srcgrad.tensor(r(3, 5)), srcgrad.tensor(r(3, 2)), driver="gelsd").residuals.shape == (0,)
    # the residuals have a gradient (as PyTorch's); the singular values do not
    gradcheck(lambda a, b: L.lstsq(a, b, driver="gelss").residuals, a[0], b[0])
    assert not L.lstsq(srcgrad.tensor(a, requires_grad=True), tb, driver="gelsd").singular_values.requires_grad


# -- PyTorch's rules --------------------------------------------------------------------------
def test_solve_reads_a_batch_of_vectors_as_pytorch_does():
    # B of shape A.shape[:-1] is a batch of vectors in PyTorch (numpy 2 would take (2, 3) as
    # one 2x3 matrix and fail); a matrix B whose shape merely fits stays a matrix
    a = well_conditioned(2, 3, 3)
    b = r(2, 3)
    x = L.solve(srcgrad.tensor(a), srcgrad.tensor(b))
    assert x.shape == (2, 3)
    np.testing.assert_allclose(np.einsum("bij,bj->bi", a, x.numpy()), b, atol=1e-12)
    m = r(3, 3)
    np.testing.assert_allclose(L.solve(srcgrad.tensor(a), srcgrad.tensor(m)).numpy(), np.linalg.solve(a, m))


def test_solve_triangular_reads_one_triangle():
    a, b = well_conditioned(3, 3), r(3, 2)
    garbage = a + 100 * np.tril(r(3, 3), -1)   # only the strictly lower part changes
    x = L.solve_triangular(srcgrad.tensor(garbage), srcgrad.tensor(b), upper=True)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(np.triu(a), b), rtol=1e-10)
    ta = srcgrad.tensor(garbage, requires_grad=True)
    L.solve_triangular(ta, srcgrad.tensor(b), upper=True).sum().backward()
    assert np.all(np.tril(ta.grad.numpy(), -1) == 0) and np.all(np.diag(ta.grad.numpy()) != 0)


def test_svd_full_matrices_is_the_default():
    for shape in [(4, 2), (2, 2, 4)]:
        a = r(*shape)
        ta = srcgrad.tensor(a, requires_grad=True)
        u, s, vh = L.svd(ta)
        m, n = shape[-2:]
        assert u.shape == shape[:-2] + (m, m) and vh.shape == shape[:-2] + (n, n) and s.shape == shape[:-2] + (2,)
        for q in (u.detach().numpy(), vh.detach().numpy()):
            np.testing.assert_allclose(mT(q) @ q, np.broadcast_to(np.eye(q.shape[-1]), q.shape), atol=1e-12)
        k = min(m, n)
        usv = (u[..., :, :k] * s.unsqueeze(-2)) @ vh[..., :k, :]
        np.testing.assert_allclose(usv.detach().numpy(), a, atol=1e-12)
        # the columns of U (rows of Vh) beyond min(m, n) carry no gradient, as in PyTorch;
        # the first min(m, n) do
        extra, first = (u[..., :, k:], u[..., :, :k]) if m > n else (vh[..., k:, :], vh[..., :k, :])
        (g_extra,) = srcgrad.autograd.grad((extra * r(*extra.shape)).sum(), [ta], retain_graph=True)
        (g_first,) = srcgrad.autograd.grad((first * r(*first.shape)).sum(), [ta])
        assert np.all(g_extra.numpy() == 0) and np.all(np.abs(g_first.numpy()) > 0)


def test_qr_modes():
    a = r(4, 3)
    q, rr = L.qr(srcgrad.tensor(a), mode="complete")
    assert q.shape == (4, 4) and rr.shape == (4, 3)
    np.testing.assert_allclose(q.numpy() @ rr.numpy(), a, atol=1e-12)
    q, rr = L.qr(srcgrad.tensor(a), mode="r")
    assert q.shape == (0,) and rr.shape == (3, 3)
    # a wide matrix: Q R = A, Q orthogonal, R upper triangular, with a gradient
    w = srcgrad.tensor(r(3, 5), requires_grad=True)
    q, rr = L.qr(w)
    assert q.shape == (3, 3) and rr.shape == (3, 5) and rr.requires_grad
    np.testing.assert_allclose((q @ rr).detach().numpy(), w.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(np.tril(rr.detach().numpy(), -1), 0, atol=1e-14)


def test_norm_chooses_vector_or_matrix_norms_as_pytorch():
    a = r(3, 4)
    ta, ta32 = srcgrad.tensor(a), srcgrad.tensor(a.astype(np.float32))
    np.testing.assert_allclose(L.norm(ta, ord=2).item(), np.linalg.norm(a, 2))          # spectral
    np.testing.assert_allclose(L.norm(ta, ord=2, dim=1).numpy(), np.linalg.norm(a, axis=1))
    np.testing.assert_allclose(L.norm(ta).item(), np.sqrt((a * a).sum()))
    assert L.vector_norm(ta, 0).item() == 12.0
    # dtype= computes in that dtype (float32 data, float64 norm)
    wide = L.vector_norm(ta32, dtype=srcgrad.float64)
    assert wide.dtype == np.float64
    np.testing.assert_allclose(wide.numpy(), np.linalg.norm(a.astype(np.float32).astype(np.float64)), rtol=1e-15)


def test_matrix_rank():
    low = r(2, 5, 2) @ r(2, 2, 4)    # rank 2, 5x4
    t = srcgrad.tensor(low)
    np.testing.assert_array_equal(L.matrix_rank(t).numpy(), [2, 2])
    assert L.matrix_rank(t).dtype == np.int64
    a = np.diag([3.0, 1.0, 1e-3])
    np.testing.assert_array_equal(L.matrix_rank(srcgrad.tensor(a), atol=0.5).numpy(), 2)
    np.testing.assert_array_equal(L.matrix_rank(srcgrad.tensor(a), rtol=0.1).numpy(), 2)
    np.testing.assert_array_equal(L.matrix_rank(srcgrad.tensor(a), tol=1e-4).numpy(), 3)
    np.testing.assert_array_equal(L.matrix_rank(srcgrad.tensor(-a), hermitian=True).numpy(), 3)
    assert not L.matrix_rank(srcgrad.tensor(a, requires_grad=True)).requires_grad


def test_pinv_tolerances_follow_pytorch():
    a = np.diag([1e20, 1.0])
    # atol alone sets rtol to 0 (PyTorch's rule): the relatively tiny singular value stays
    np.testing.assert_allclose(L.pinv(t(a), atol=0.5).numpy(), np.diag([1e-20, 1.0]), rtol=1e-12)
    np.testing.assert_allclose(L.pinv(t(a), rcond=1e-25).numpy(), np.diag([1e-20, 1.0]), rtol=1e-12)
    # the default rtol (eps * max(m, n)) drops it, as numpy's and PyTorch's
    np.testing.assert_allclose(L.pinv(t(a)).numpy(), np.diag([1e-20, 0.0]), rtol=1e-12)
    s = spd(3, 3)
    np.testing.assert_allclose(L.pinv(t(s), hermitian=True).numpy(), np.linalg.inv(s), rtol=1e-10)


def test_slogdet_sign_has_no_gradient():
    sign, logabsdet = L.slogdet(srcgrad.tensor(well_conditioned(3, 3), requires_grad=True))
    assert not sign.requires_grad and logabsdet.requires_grad


def test_integer_matrices_where_pytorch_takes_them():
    i = np.arange(4).reshape(2, 2)
    ti = srcgrad.tensor(i)
    assert L.matrix_power(ti, 3).dtype == np.int64
    np.testing.assert_array_equal(L.matrix_power(ti, 3).numpy(), i @ i @ i)
    np.testing.assert_array_equal(L.multi_dot([ti, ti]).numpy(), i @ i)
    np.testing.assert_array_equal(L.cross(srcgrad.tensor([1, 0, 0]), srcgrad.tensor([0, 1, 0])).numpy(), [0, 0, 1])
    np.testing.assert_array_equal(L.diagonal(ti).numpy(), [0, 3])


# -- errors -----------------------------------------------------------------------------------------
def t(a, dtype=None):
    return srcgrad.tensor(np.asarray(a, dtype=dtype))


ERRORS = [
    (lambda: L.det(t(np.ones((2, 3)))), RuntimeError, r"linalg\.det: .*square.*2 by 3.*\(2, 3\)"),
    (lambda: L.inv(t(np.ones(3))), RuntimeError, r"linalg\.inv: .*at least 2 dimensions.*\(3,\)"),
    (lambda: L.det(t(np.eye(2), np.int64)), RuntimeError,
     r"^linalg\.det: Expected a floating point or complex tensor as input\. Got Long"),
    (lambda: L.vector_norm(t([1, 2])), RuntimeError,
     r"^linalg\.vector_norm: Expected a floating point or complex tensor as input\. Got Long"),
    (lambda: L.svd(t(np.eye(2), np.float16)), RuntimeError, r"linalg\.svd: .*float32, float64, complex64 or complex128.*float16"),
    (lambda: L.inv(t(np.ones((2, 2)))), L.LinAlgError, r"linalg\.inv: Singular matrix"),
    (lambda: L.cholesky(t(-np.eye(2))), L.LinAlgError, r"linalg\.cholesky: .*not positive definite"),
    (lambda: L.solve(t(np.eye(3)), t(np.ones((4, 2)))), RuntimeError,
     r"linalg\.solve: incompatible.*\(3, 3\).*\(4, 2\)"),
    (lambda: L.solve(t(np.eye(3), np.float32), t(np.ones(3))), RuntimeError,
     r"^linalg\.solve: Expected A and B to have the same dtype, but found A of type Float and B of type Double"),
    (lambda: L.solve(t(np.ones((2, 3, 3))), t(np.ones((4, 3, 1)))), RuntimeError,
     r"batch dimensions.*\(2, 3, 3\).*\(4, 3, 1\)"),
    (lambda: L.inv(t(np.eye(2)), out=t(np.eye(2))), NotImplementedError, r"linalg\.inv: out= is not supported"),
    (lambda: L.norm(t(np.ones((2, 2, 2))), ord=2), RuntimeError, r"linalg\.norm: .*1-D or 2-D.*\(2, 2, 2\)"),
    (lambda: L.vector_norm(t(np.ones(3)), ord="fro"), TypeError, r"linalg\.vector_norm: ord must be a number"),
    (lambda: L.matrix_norm(t(np.ones((3, 3))), ord=3), RuntimeError, r"linalg\.matrix_norm: order 3"),
    (lambda: L.matrix_norm(t(np.ones(3))), RuntimeError, r"linalg\.matrix_norm: .*at least 2 dimensions"),
    (lambda: L.eigh(t(np.eye(2)), UPLO="X"), RuntimeError, r"linalg\.eigh: .*UPLO"),
    (lambda: L.qr(t(np.eye(2)), mode="raw"), RuntimeError, r"linalg\.qr: unrecognized mode 'raw'"),
    (lambda: L.svd(t(np.eye(2)), driver="gesvd"), RuntimeError, r"linalg\.svd: driver="),
    (lambda: L.cross(t(np.ones(4)), t(np.ones(4))), RuntimeError, r"linalg\.cross: .*length 3.*\(4,\)"),
    (lambda: L.cross(t(np.ones(3)), t(np.ones((2, 3)))), RuntimeError, r"linalg\.cross: .*same number of dimensions"),
    (lambda: L.multi_dot([t(np.ones((2, 2)))]), RuntimeError, r"linalg\.multi_dot: expected at least 2"),
    (lambda: L.multi_dot([t(np.ones((2, 3))), t(np.ones((4, 3)))]), RuntimeError,
     r"tensors 0 and 1 .*\(2, 3\).*\(4, 3\)"),
    (lambda: L.matrix_power(t(np.ones((2, 3))), 2), RuntimeError, r"linalg\.matrix_power: .*2 by 3"),
    (lambda: L.matrix_power(t(np.eye(2)), 1.5), TypeError, r"linalg\.matrix_power: n must be an integer"),
    (lambda: L.pinv(t(np.diag([1.0, 1e-3])), atol=1e-2), NotImplementedError, r"linalg\.pinv: .*rank deficient"),
    (lambda: L.lstsq(t(np.ones((3, 2))), t(np.ones((4, 1)))), RuntimeError,
     r"linalg\.lstsq: .*rows.*\(3, 2\).*\(4, 1\)"),
    (lambda: L.lstsq(t(np.ones((3, 2))), t(np.ones((3, 1))), driver="x"), RuntimeError, r"linalg\.lstsq: driver"),
    (lambda: L.solve_triangular(t(np.eye(2)), t(np.ones(2)), upper=True), RuntimeError, r"B must have at least 2"),
    (lambda: L.tensorinv(t(np.ones((2, 3, 4))), ind=1), RuntimeError, r"linalg\.tensorinv: .*\(2, 3, 4\)"),
    (lambda: L.vecdot(t(np.ones(3)), t(np.ones(4))), RuntimeError, r"linalg\.vecdot: .*\(3,\).*\(4,\)"),
    (lambda: L.diagonal(t(np.ones(3))), RuntimeError, r"linalg\.diagonal: .*\(3,\)"),
    (lambda: L.lu, AttributeError, r"srcgrad\.linalg has no lu "),
]


@pytest.mark.parametrize("call,exc,match", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors_name_the_function_and_the_shapes(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_linalg_error_is_pytorch_and_numpy_catchable():
    # torch.linalg.LinAlgError is a RuntimeError; numpy code catches numpy's LinAlgError
    for cls in (L.LinAlgError, RuntimeError, np.linalg.LinAlgError):
        with pytest.raises(cls, match="linalg.solve: Singular matrix"):
            L.solve(t(np.ones((2, 2))), t(np.ones(2)))


# -- inside srcgrad.grad -----------------------------------------------------------------------------
def _traced_loss(a, b):
    """A function of numpy arrays using srcgrad.linalg on the tensors srcgrad.grad passes in."""
    x = L.solve(a, b)                                  # a batch of vectors
    sign, logabsdet = L.slogdet(a)
    q, rr = L.qr(a[..., :2, :])                        # wide
    u, s, vh = L.svd(a[..., :, :2])                    # full_matrices=True, tall
    return ((x * x).sum() + logabsdet.sum() + L.vector_norm(rr, dim=-1).sum() + (s * s).sum()
            + L.matrix_norm(L.inv(a)).sum() + L.vecdot(x, b).sum() + (u[..., :, :2] ** 2 * b[..., :1, None]).sum())


def test_inside_srcgrad_grad():
    a, b = well_conditioned(2, 3, 3), r(2, 3)
    # traced=True: srcgrad.value_and_grad's compiled gradient against finite differences too
    gradcheck(_traced_loss, a, b, traced=True, full_limit=0, directions=3)
    ga, gb = srcgrad.grad(_traced_loss, argnums=(0, 1))(a, b)
    ta, tb = srcgrad.tensor(a, requires_grad=True), srcgrad.tensor(b, requires_grad=True)
    _traced_loss(ta, tb).backward()
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


def _svd_and_rank(a):
    u, s, vh = L.svd(a)
    return u, s, L.matrix_rank(a)


def test_svd_full_matrices_inside_compiled_functions():
    # inside a compiled function U's extra columns come from recorded ops (a QR of [U, I]),
    # not from data frozen into the code: other data gives its own, still orthogonal, U
    compiled = srcgrad.compile(_svd_and_rank)
    for a in (r(2, 4, 2), r(2, 4, 2)):
        u, s, rank = (x.detach().numpy() for x in compiled(a))
        assert u.shape == (2, 4, 4)
        np.testing.assert_allclose(mT(u) @ u, np.broadcast_to(np.eye(4), u.shape), atol=1e-12)
        np.testing.assert_allclose(np.abs(u[..., :2]), np.abs(np.linalg.svd(a)[0][..., :2]), atol=1e-12)
        np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False), rtol=1e-12)
        np.testing.assert_array_equal(rank, [2, 2])
    g = srcgrad.grad(lambda a: (L.svd(a).S ** 2).sum())(a)
    np.testing.assert_allclose(g, 2 * a, rtol=1e-10)   # d sum(s^2) / dA = 2A
