"""numpy.fft on tensors (ops/fft.py): every transform, with numpy's lengths, axes and
normalisations, differentiated against central differences (real and complex inputs),
eagerly and in generated code, to second order."""
import numpy as np
import pytest

import srcgrad
from numeric import numeric_grad

RNG = np.random.default_rng(3)
X = RNG.normal(size=(4, 5))
Z = RNG.normal(size=(4, 5)) + 1j * RNG.normal(size=(4, 5))
WEIGHTS = RNG.normal(size=(8, 8))


def weigh(y):
    """A real loss reading every entry of y, real or complex, with its own weight."""
    w = WEIGHTS[tuple(slice(0, n) for n in y.shape)] if y.ndim == 2 else WEIGHTS[0, :y.shape[0]]
    return np.sum(np.abs(y * w + 0.3) ** 2) if np.iscomplexobj(y) else np.sum(np.sin(y) * w)


TRANSFORMS = {
    "fft": lambda x: np.fft.fft(x),
    "fft n=7 axis=0 ortho": lambda x: np.fft.fft(x, n=7, axis=0, norm="ortho"),
    "fft n=3 forward": lambda x: np.fft.fft(x, n=3, norm="forward"),
    "ifft": lambda x: np.fft.ifft(x),
    "ifft n=8 axis=0": lambda x: np.fft.ifft(x, n=8, axis=0),
    "fft2 s": lambda x: np.fft.fft2(x, s=(3, 6)),
    "ifft2": lambda x: np.fft.ifft2(x, norm="ortho"),
    "fftn": lambda x: np.fft.fftn(x),
    "ifftn axes": lambda x: np.fft.ifftn(x, axes=(0,)),
    "rfft": lambda x: np.fft.rfft(np.real(x)),
    "rfft n=8 forward": lambda x: np.fft.rfft(np.real(x), n=8, norm="forward"),
    "rfft axis=0": lambda x: np.fft.rfft(np.real(x), axis=0),
    "rfft2": lambda x: np.fft.rfft2(np.real(x)),
    "rfftn odd": lambda x: np.fft.rfftn(np.real(x), s=(3, 5), axes=(0, 1)),
    "irfft": lambda x: np.fft.irfft(x),
    "irfft n=7": lambda x: np.fft.irfft(x, n=7),
    "irfft ortho axis=0": lambda x: np.fft.irfft(x, axis=0, norm="ortho"),
    "irfft2": lambda x: np.fft.irfft2(x),
    "irfftn s": lambda x: np.fft.irfftn(x, s=(4, 7), axes=(0, 1)),
    "fftshift": lambda x: np.fft.fftshift(x),
    "ifftshift axes": lambda x: np.fft.ifftshift(x, axes=1),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@pytest.mark.parametrize("data", ["real", "complex"])
def test_transform_gradient(name, data):
    x = X if data == "real" else Z
    if data == "complex" and name.startswith("rfft"):
        pytest.skip("rfft takes real data")
    f = lambda t: weigh(TRANSFORMS[name](t))  # noqa: E731
    want = numeric_grad(f, x)
    got = srcgrad.grad(f)(x)
    assert got.dtype == x.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    t = srcgrad.tensor(x, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-6, atol=1e-6)


def test_values_and_dtypes_are_numpys():
    for name, fn in TRANSFORMS.items():
        for x in (X, Z, X.astype(np.float32)):
            if name.startswith("rfft") and np.iscomplexobj(x):
                continue
            ours = fn(srcgrad.tensor(x)).numpy()
            np.testing.assert_allclose(ours, fn(x), rtol=1e-5, atol=1e-6, err_msg=name)
            assert ours.dtype == fn(x).dtype, name


def test_a_spectral_filter_reads_as_numpy_code_and_has_second_derivatives():
    def smooth(x):
        spectrum = np.fft.rfft(x)
        spectrum[3:] = 0  # (a write into the spectrum: recorded, its gradient too)
        return np.sum(np.fft.irfft(spectrum, n=x.shape[0]) ** 2)
    x = RNG.normal(size=10)
    g = srcgrad.grad(smooth)
    np.testing.assert_allclose(g(x), numeric_grad(smooth, x), rtol=1e-6, atol=1e-8)
    src = g.source(x)
    assert "np.fft.rfft(x)" in src and "np.fft.irfft(" in src
    h = srcgrad.hessian(smooth)(x)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    np.testing.assert_allclose(h[0], numeric_grad(lambda y: g(y)[0], x), rtol=1e-5, atol=1e-7)


def test_bad_arguments_are_numpys_errors():
    t = srcgrad.tensor(X, requires_grad=True)
    with pytest.raises(ValueError, match="norm"):
        np.fft.fft(t, norm="sideways")
    with pytest.raises(ValueError, match="data points"):
        np.fft.fft(t, n=0)
    with pytest.raises(TypeError, match="real"):
        np.fft.rfft(srcgrad.tensor(Z))
