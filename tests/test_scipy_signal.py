"""srcgrad.scipy.signal: convolutions as FFT products, equal to scipy.signal's in every
mode, differentiated in both inputs (real and complex); plain scipy.signal calls in a
differentiated function run as srcgrad's. (scipy is optional: these tests skip without it.)"""
import numpy as np
import pytest

import srcgrad
from numeric import numeric_grad
from srcgrad.scipy import signal as S
from srcgrad.testing import gradcheck

ss = pytest.importorskip("scipy.signal")

RNG = np.random.default_rng(0)
SHAPES = [((7,), (3,)), ((3,), (7,)), ((5, 6), (2, 3)), ((2, 3), (5, 6)), ((4, 5), (4, 2)), ((3, 3), (3, 3))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("complex_data", [False, True])
def test_values_are_scipys_in_every_mode(shapes, complex_data):
    a = RNG.normal(size=shapes[0]) + (1j * RNG.normal(size=shapes[0]) if complex_data else 0)
    b = RNG.normal(size=shapes[1]) + (1j * RNG.normal(size=shapes[1]) if complex_data else 0)
    names = ["convolve", "correlate", "fftconvolve"] + (["convolve2d", "correlate2d"] if len(shapes[0]) == 2 else [])
    for name in names:
        for mode in ("full", "same", "valid"):
            try:
                want = getattr(ss, name)(a, b, mode=mode)
            except ValueError:
                with pytest.raises(ValueError):
                    getattr(S, name)(a, b, mode=mode)
                continue
            got = np.asarray(getattr(S, name)(a, b, mode=mode))
            assert got.shape == want.shape, (name, mode)
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=f"{name} {mode}")


@pytest.mark.parametrize("name", ["convolve", "correlate", "correlate2d"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_gradients_in_both_inputs(name, mode):
    a, b = RNG.normal(size=(5, 4)), RNG.normal(size=(2, 3))
    w = RNG.normal(size=np.shape(getattr(ss, name)(a, b, mode=mode)))
    assert gradcheck(lambda x, k: np.sum(getattr(S, name)(x, k, mode=mode) * w), a, b)
    z = a + 1j * RNG.normal(size=a.shape)
    f = lambda x: np.sum(np.abs(getattr(S, name)(x, b, mode=mode) * w) ** 2)  # noqa: E731
    np.testing.assert_allclose(srcgrad.grad(f)(z), numeric_grad(f, z), rtol=1e-6, atol=1e-8)


def test_plain_scipy_signal_calls_are_differentiated(tmp_path, monkeypatch):
    (tmp_path / "user_signal_mod.py").write_text(
        "import numpy as np\n"
        "from scipy import signal\n"
        "from scipy.signal import fftconvolve\n"
        "def smooth(x, k):\n"
        "    return np.sum(signal.convolve(x, k, mode='same') ** 2) + np.sum(fftconvolve(x, k[::-1]))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import user_signal_mod as u
    x, k = RNG.normal(size=20), np.array([0.25, 0.5, 0.25])
    np.testing.assert_allclose(srcgrad.grad(u.smooth)(x, k), numeric_grad(lambda v: u.smooth(v, k), x), rtol=1e-6)
    assert u.fftconvolve is ss.fftconvolve and u.signal.convolve is ss.convolve
