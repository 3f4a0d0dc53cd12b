"""Complex numbers (ops/complex.py): gradients in PyTorch's convention, dL/dx + i dL/dy
for a real loss L of z = x + iy, checked against central differences along the real and
the imaginary direction of every entry; eagerly, in generated code, and to second order."""
import numpy as np
import pytest

import srcgrad
import srcgrad.numpy as snp
from numeric import numeric_grad

RNG = np.random.default_rng(7)
Z = RNG.normal(size=3) + 1j * RNG.normal(size=3) + 1.5      # (away from branch cuts and zeros)
M = RNG.normal(size=(3, 3)) + 1j * RNG.normal(size=(3, 3)) + 2 * np.eye(3)


# real losses of complex arguments: each reaches some ops' complex rules
LOSSES = {
    "holomorphic elementwise": lambda z: np.sum(np.abs(np.exp(z) * np.sin(z) / (1 + z ** 2))),
    "logs and roots": lambda z: np.sum(np.real(np.log(z) * np.sqrt(z) + np.log1p(z) - np.log10(z))),
    "hyperbolic and inverse": lambda z: np.sum(np.imag(np.tanh(z) + np.arcsinh(z) + np.cosh(z) * np.arctan(z))),
    "parts and conjugate": lambda z: np.sum(np.real(z) ** 2 * np.imag(z) + np.real(z * np.conj(z) * z)),
    "angle": lambda z: np.sum(np.angle(z) * np.abs(z)),
    "literals": lambda z: np.sum(np.real((2 - 3j) * z + 1j * z ** 2) + np.abs(z + 0.5j)),
    "reductions": lambda z: np.abs(np.sum(z) * np.prod(z)) + np.real(np.mean(z * z)) + np.abs(np.cumsum(z)[-1]),
    "statistics and norms": lambda z: np.std(z) + np.var(z * 2) + np.linalg.norm(z) + np.linalg.norm(z, 1),
    "indexing": lambda z: np.abs(z[0] * z[2]) + np.sum(np.real(z[::-1] * z))
                          + np.abs(np.concatenate([z, z[:1]]) ** 2).sum(),
    "products": lambda z: np.real(np.vdot(z, z)) + np.abs(np.outer(z, z) @ z).sum() + np.abs(np.dot(z, z)),
    "linear algebra": lambda z: np.abs(np.linalg.det(M + np.outer(z, z))) + np.sum(np.abs(np.linalg.solve(M, z))) +
                                np.sum(np.real(np.linalg.inv(M + np.diag(z)))),
    "einsum": lambda z: np.abs(np.einsum("i,ij,j->", z, M, np.conj(z))),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradient_of_a_real_loss_of_complex_values(name):
    f = LOSSES[name]
    want = numeric_grad(f, Z)
    got = srcgrad.grad(f)(Z)
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(srcgrad.grad(f)(Z * 1.1), numeric_grad(f, Z * 1.1), rtol=1e-6, atol=1e-7)
    t = srcgrad.tensor(Z, requires_grad=True)   # the same, eagerly
    f(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-6, atol=1e-7)


def test_real_arguments_through_complex_values_get_real_gradients():
    def f(x):
        w = np.exp(1j * x) * (2 - 1j) + x[::-1] * 1j
        return np.sum(np.abs(w) ** 2) + np.real(np.sum(np.exp(2j * x)))
    x = np.array([0.3, -1.2, 2.0])
    g = srcgrad.grad(f)(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, np.real(numeric_grad(lambda z: f(np.real(z)), x)), rtol=1e-6)
    t = srcgrad.tensor(x.astype(np.float32), requires_grad=True)
    (t * 2j).imag.sum().backward()
    assert t.grad.dtype == np.float32 and np.allclose(t.grad.numpy(), 2.0)


def test_vjp_is_the_adjoint_for_complex_cotangents():
    """<vjp(g), dz> = <g, J dz> for the real inner product Re(sum(conj(a) * b))."""
    def f(z):
        return np.sin(z) * z[::-1] + np.conj(z) * 2
    out, back = srcgrad.vjp(f, Z)
    g = RNG.normal(size=3) + 1j * RNG.normal(size=3)
    dz = RNG.normal(size=3) + 1j * RNG.normal(size=3)
    (vjp,) = back(g)
    jvp = (f(Z + 1e-6 * dz) - f(Z - 1e-6 * dz)) / 2e-6
    assert np.real(np.vdot(vjp, dz)) == pytest.approx(np.real(np.vdot(g, jvp)), rel=1e-6)


def test_second_derivatives_of_a_real_loss():
    f = LOSSES["holomorphic elementwise"]
    g = srcgrad.grad(f)
    direction = np.array([1.0, 1j, 0.5 - 0.5j])
    numeric = (g(Z + 1e-5 * direction) - g(Z - 1e-5 * direction)) / 2e-5
    # second order by differentiating the gradient again: d/dt <Re of grad, e> along `direction`
    for k in range(3):
        e = np.eye(3)[k]
        h = srcgrad.grad(lambda z: np.real(np.vdot(e, srcgrad.grad(f)(z))))(Z)
        assert np.real(np.vdot(h, direction)) == pytest.approx(np.real(numeric[k]), rel=1e-4, abs=1e-6)


def test_generated_code_reads_as_complex_arithmetic():
    """A holomorphic kernel's rule is g * conj(f'), with the conjugate taken of the
    numbers and inputs f' reads: a product by a number conjugates nothing at run time."""
    g = srcgrad.grad(lambda z: np.sum(np.real((1 + 2j) * z) + np.abs(z) ** 2))
    src = g.source(Z)
    assert "(1.0+2.0j)" in src and "(1.0-2.0j)" in src and "np.conjugate" not in src, src
    np.testing.assert_allclose(g(Z), (1 - 2j) + 2 * Z)
    src = srcgrad.grad(lambda z: np.sum(np.abs(np.sin(z)))).source(Z)
    assert src.count("np.conjugate(") == 1, src  # (z's, read by cos: conj(cos z) = cos(conj z))


def test_a_complex_output_has_no_gradient_but_a_vjp():
    with pytest.raises(TypeError, match="complex value"):
        srcgrad.grad(lambda z: np.sum(z ** 2))(Z)
    t = srcgrad.tensor(Z, requires_grad=True)
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        (t ** 2).sum().backward()
    (t ** 2).sum().backward(srcgrad.tensor(1.0 + 0j))
    np.testing.assert_allclose(t.grad.numpy(), np.conj(2 * Z))


def test_python_complex_arguments_and_results_keep_their_type():
    g = srcgrad.grad(lambda z: np.abs(z) ** 2)
    out = g(1.5 - 2j)
    assert isinstance(out, complex) and out == pytest.approx(3 - 4j)


def test_ops_without_a_complex_rule_refuse_naming_the_op():
    z = srcgrad.tensor(Z, requires_grad=True)
    with pytest.raises(TypeError, match="maximum: .*complex values"):
        snp.maximum(z, 1.0)
    with pytest.raises(TypeError, match="qr: .*complex values"):
        np.linalg.qr(srcgrad.tensor(M, requires_grad=True))


def test_pytorch_complex_vocabulary_matches_pytorch():
    """Numbers from PyTorch 2.13 for the same programs (tests must not need torch)."""
    x = srcgrad.tensor([1.0, 2.0, 3.0, 4.0, 0.5], requires_grad=True)
    y = srcgrad.fft.rfft(x)
    assert y.grad_fn.name() == "FftR2CBackward0" and y.dtype == np.complex64
    (y.abs() ** 2 * srcgrad.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.2812, 20.3090, 27.2188, 44.1910, 1.0], atol=1e-4)
    x = srcgrad.tensor([1.0, 2.0, 3.0, 4.0, 0.5], requires_grad=True)
    z = srcgrad.fft.fft(x, n=7)
    (z.real * srcgrad.arange(7.0) + z.imag ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [21.0, 10.5, 17.5, 21.0, -28.0], atol=1e-4)
    x = srcgrad.tensor([[1.0, 2.0, 3.0], [4.0, 0.5, -1.0]], requires_grad=True)
    v = srcgrad.fft.irfft(srcgrad.fft.rfft(x) * (1 + 0.5j), n=5)
    (v * srcgrad.arange(5.0)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.6882, 0.5309, 3.7809]] * 2, atol=1e-4)
    a = srcgrad.tensor([1.0, 2.0], requires_grad=True)
    b = srcgrad.tensor([0.5, -1.0], requires_grad=True)
    c = srcgrad.complex(a, b)
    assert c.dtype == srcgrad.complex64
    (srcgrad.view_as_real(c * c * 1j) ** 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [5.0, 40.0])
    np.testing.assert_allclose(b.grad.numpy(), [2.5, -20.0])
    z = srcgrad.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    (z.angle() * z.abs() + (z * z.conj()).real + srcgrad.exp(z).imag).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [4.07243144 + 4.30627313j, -10.89040815 + 9.90269167j])
    np.testing.assert_allclose(srcgrad.view_as_complex(srcgrad.tensor([[1.0, 2.0]])).numpy(), [1 + 2j])
    np.testing.assert_allclose(srcgrad.polar(srcgrad.tensor([2.0]), srcgrad.tensor([0.5])).numpy(),
                               [2 * np.exp(0.5j)], rtol=1e-6)


def test_a_loop_over_complex_values_is_rerolled_and_differentiated():
    def f(z, n):
        w = z
        for _ in range(n):
            w = w * (0.5 + 0.1j) + np.sin(w) * 0.3j
        return np.sum(np.abs(w) ** 2)
    g = srcgrad.grad(f)
    for n in (12, 5):
        np.testing.assert_allclose(g(Z / 3, n), numeric_grad(lambda z: f(z, n), Z / 3), rtol=1e-6, atol=1e-9)
    assert "for i in range(12)" in g.source(Z / 3, 12)


def test_compiled_forward_of_complex_values_backward():
    c = srcgrad.compile(lambda z: np.sum(np.abs(np.fft.fft(z) * 1j) ** 2))
    for _ in range(2):
        t = srcgrad.tensor(Z, requires_grad=True)
        c(t).backward()
        np.testing.assert_allclose(t.grad.numpy(), 2 * 3 * Z)  # (Parseval: |fft z|^2 sums to n |z|^2)


W3 = RNG.normal(size=(3, 3))
SPECTRAL = {  # losses that do not depend on the phases of singular / eigen vectors
    "singular values": lambda a: np.sum(np.linalg.svd(a, compute_uv=False) ** 2 * np.arange(1, 4)),
    "moduli of singular vectors": lambda a: (lambda u, s, vh: np.sum(np.abs(u) ** 2 * W3) + np.sum(np.abs(vh) * W3)
                                             + np.sum(s))(*np.linalg.svd(a, full_matrices=False)),
    "tall: U Vh": lambda a: (lambda u, s, vh: np.sum(np.abs(u @ vh) ** 2 * WIDE.T))(
        *np.linalg.svd(np.concatenate([a, a[:1] * 2j]), full_matrices=False)),
    "wide: U Vh": lambda a: (lambda u, s, vh: np.sum(np.abs(u @ vh) ** 2 * WIDE))(
        *np.linalg.svd(np.concatenate([a, a[:, :1] * 2j], axis=1), full_matrices=False)),
    "nuclear norm": lambda a: np.linalg.norm(a, "nuc"),
    "eigh": lambda h: (lambda w, v: np.sum(w * np.arange(3)) + np.sum(np.abs(v) ** 2 * W3))(
        *np.linalg.eigh(h + np.conj(h.T))),
    "eigvalsh of one triangle": lambda h: np.sum(np.linalg.eigvalsh(h, UPLO="L") ** 2 * np.arange(1, 4)),
}
WIDE = RNG.normal(size=(3, 4))


@pytest.mark.parametrize("name", sorted(SPECTRAL))
def test_svd_and_eigh_of_complex_matrices(name):
    f = SPECTRAL[name]
    np.testing.assert_allclose(srcgrad.grad(f)(M), numeric_grad(f, M), rtol=1e-5, atol=1e-6)
    t = srcgrad.tensor(M, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), numeric_grad(f, M), rtol=1e-5, atol=1e-6)


A_REAL = RNG.normal(size=(3, 3))
EIG = {  # (loss, matrix): losses that do not depend on the eigenvectors' phases
    "eigenvalues of a real matrix": (lambda a: np.sum(np.abs(np.linalg.eigvals(a)) ** 2 * np.arange(1, 4)), A_REAL),
    "moduli of eigenvectors": (lambda a: (lambda w, v: np.sum(np.abs(v) * W3) + np.sum(np.real(w)))(
        *np.linalg.eig(a)), A_REAL),
    "complex matrix": (lambda a: (lambda w, v: np.sum(np.abs(v) ** 2 * W3) + np.sum(np.imag(w) * np.arange(3)))(
        *np.linalg.eig(a)), M),
    "real eigenvalues stay real, as numpy's": (lambda a: np.sum(np.linalg.eigvals(a) ** 2), A_REAL + A_REAL.T),
}


@pytest.mark.parametrize("name", sorted(EIG))
def test_eig_of_general_matrices(name):
    f, a = EIG[name]
    np.testing.assert_allclose(srcgrad.grad(f)(a), numeric_grad(f, a), rtol=1e-5, atol=1e-6)
    assert srcgrad.numpy.linalg.eigvals(a).dtype == np.linalg.eigvals(a).dtype


def test_torch_linalg_eig_is_always_complex():
    t = srcgrad.tensor(A_REAL + A_REAL.T, requires_grad=True)
    w, v = srcgrad.linalg.eig(t)
    assert w.dtype == np.complex128 and w.grad_fn.name() == "LinalgEigBackward0"
    (w.abs() ** 2).sum().backward()
    assert t.grad.dtype == np.float64
    np.testing.assert_allclose(t.grad.numpy(), numeric_grad(lambda a: np.sum(np.abs(np.linalg.eigvals(a)) ** 2),
                                                            A_REAL + A_REAL.T), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["Tensor.norm", "vector_norm 3", "matrix_norm nuc", "matrix_norm 2", "norm fro"])
def test_pytorch_norms_of_complex_tensors(name):
    f = {"Tensor.norm": lambda t: t.norm(), "vector_norm 3": lambda t: srcgrad.linalg.vector_norm(t, 3),
         "matrix_norm nuc": lambda t: srcgrad.linalg.matrix_norm(t, "nuc"),
         "matrix_norm 2": lambda t: srcgrad.linalg.matrix_norm(t, 2),
         "norm fro": lambda t: srcgrad.linalg.norm(t)}[name]
    t = srcgrad.tensor(M, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), numeric_grad(lambda a: f(srcgrad.tensor(a)).item(), M),
                               rtol=1e-5, atol=1e-6)


def test_tensors_of_python_complex_numbers_take_the_default_complex_dtype():
    """As PyTorch: complex64 beside the default float32, complex128 beside float64."""
    assert srcgrad.tensor([1 + 2j, 3.0]).dtype == np.complex64 and srcgrad.tensor(1j).dtype == np.complex64
    assert srcgrad.tensor(np.array([1j])).dtype == np.complex128  # (numpy data keeps its dtype)
    saved = srcgrad.get_default_dtype()
    try:
        srcgrad.set_default_dtype(srcgrad.float64)
        assert srcgrad.tensor([1j]).dtype == np.complex128
    finally:
        srcgrad.set_default_dtype(saved)


def test_cholesky_of_hermitian_matrices():
    """numpy's: the gradient in the lower triangle numpy reads (the diagonal's imaginary
    part is not read); torch.linalg's: PyTorch's Hermitian one, checked along Hermitian
    directions."""
    B = RNG.normal(size=(3, 3)) + 1j * RNG.normal(size=(3, 3))
    H = B @ B.conj().T + 3 * np.eye(3)
    f = lambda a: np.sum(np.abs(np.linalg.cholesky(a)) ** 2 * W3) + np.sum(np.real(np.linalg.cholesky(a)) * W3.T)  # noqa
    g = srcgrad.grad(f)(H)
    np.testing.assert_allclose(g, numeric_grad(f, H), rtol=1e-6, atol=1e-8)
    assert np.all(np.triu(g, 1) == 0)
    if "upper" in str(__import__("inspect").signature(np.linalg.cholesky)):  # (numpy 2: U = L^H)
        f = lambda a: np.sum(np.imag(np.linalg.cholesky(a, upper=True)) * W3)  # noqa: E731
        np.testing.assert_allclose(srcgrad.grad(f)(H), numeric_grad(f, H), rtol=1e-6, atol=1e-8)
    t = srcgrad.tensor(H, requires_grad=True)
    low = srcgrad.linalg.cholesky(t)
    (low.abs() ** 2 * srcgrad.tensor(W3)).sum().backward()
    D = RNG.normal(size=(3, 3)) + 1j * RNG.normal(size=(3, 3))
    D = D + D.conj().T
    loss = lambda a: np.sum(np.abs(np.linalg.cholesky(a)) ** 2 * W3)  # noqa: E731
    along = (loss(H + 1e-6 * D) - loss(H - 1e-6 * D)) / 2e-6
    assert np.real(np.vdot(t.grad.numpy(), D)) == pytest.approx(along, rel=1e-6)


def test_slogdet_of_complex_matrices_differentiates_the_sign_too():
    """d log|det| = Re tr(A^-1 dA); a complex sign det/|det| turns with Im tr(A^-1 dA)
    (PyTorch's rule, whose numbers these are)."""
    for f in (lambda a: np.linalg.slogdet(a)[1], lambda a: np.real(np.linalg.slogdet(a)[0] * (0.3 - 0.7j)),
              lambda a: (lambda s, logabs: np.imag(s) * logabs)(*np.linalg.slogdet(a))):
        np.testing.assert_allclose(srcgrad.grad(f)(M), numeric_grad(f, M), rtol=1e-6, atol=1e-8)
    rng = np.random.default_rng(0)
    m = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)) + 2 * np.eye(3)
    t = srcgrad.tensor(m, requires_grad=True)
    sign, logabs = srcgrad.linalg.slogdet(t)
    (logabs + sign.real).backward()
    np.testing.assert_allclose(t.grad.numpy()[0], [0.4847 - 0.1699j, 0.0219 - 0.2653j, -0.6521 + 0.2408j], atol=1e-4)


def test_complex_tensors_print_as_pytorchs():
    """(PyTorch 2.13's text for the same tensors)"""
    assert repr(srcgrad.tensor([1 + 2j, 3 - 1j])) == "tensor([1.+2.j, 3.-1.j])"
    assert repr(srcgrad.tensor([4.07243144 + 4.30627313j, -10.89040815 + 9.90269167j], dtype=srcgrad.complex128)) \
        == "tensor([  4.0724+4.3063j, -10.8904+9.9027j], dtype=torch.complex128)"
    assert repr(srcgrad.tensor([[0.5 + 1e-5j, 2 - 3j], [1j, -1]])) == (
        "tensor([[ 0.5000+1.0000e-05j,  2.0000-3.0000e+00j],\n"
        "        [ 0.0000+1.0000e+00j, -1.0000+0.0000e+00j]])")
    assert repr(srcgrad.tensor([1e9 + 1j])) == "tensor([1.0000e+09+1.j])"
