"""scipy.signal's convolutions over tensors: `from srcgrad.scipy import signal`.

Every one is an FFT convolution (srcgrad/numpy/fft.py): the product of the inputs'
transforms at the full output length, transformed back and cut to the mode's shape, so
its gradient is the same few transforms (scipy's direct method gives the same values up
to rounding). Other names are scipy's own, on data.
"""
from .. import numpy as np

__all__ = ["fftconvolve", "convolve", "correlate", "convolve2d", "correlate2d", "oaconvolve"]


def _modes(mode, name):
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"{name}: acceptable mode flags are 'valid', 'same', or 'full', got {mode!r}")


def fftconvolve(in1, in2, mode="full", axes=None):
    """The convolution of in1 and in2 over `axes` (all of them by default; the other axes
    broadcast), cut to mode: 'full', 'same' (centred, in1's shape) or 'valid'."""
    _modes(mode, "fftconvolve")
    a, b = np.asarray(in1), np.asarray(in2)
    if a.ndim != b.ndim:
        raise ValueError(f"fftconvolve: in1 and in2 should have the same dimensionality, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a.size == 0 or b.size == 0:
        raise ValueError("fftconvolve: in1 and in2 must not be empty")
    axes = tuple(range(a.ndim)) if axes is None else \
        tuple(x % a.ndim for x in ((axes,) if isinstance(axes, int) else axes))
    if mode == "valid" and not (all(a.shape[x] >= b.shape[x] for x in axes)
                                or all(b.shape[x] >= a.shape[x] for x in axes)):
        raise ValueError("fftconvolve: for 'valid' mode, one must be at least as large as the other in every "
                         f"dimension (shapes {tuple(a.shape)} and {tuple(b.shape)})")
    full = [a.shape[x] + b.shape[x] - 1 for x in axes]
    if np.iscomplexobj(a) or np.iscomplexobj(b):
        out = np.fft.ifftn(np.fft.fftn(a, full, axes) * np.fft.fftn(b, full, axes), full, axes)
    else:
        out = np.fft.irfftn(np.fft.rfftn(a, full, axes) * np.fft.rfftn(b, full, axes), full, axes)
    if mode == "full":
        return out
    keep = {x: (a.shape[x] if mode == "same" else abs(a.shape[x] - b.shape[x]) + 1) for x in axes}
    index = []
    for x in range(out.ndim):
        if x in keep:
            start = (out.shape[x] - keep[x]) // 2
            index.append(slice(start, start + keep[x]))
        else:
            index.append(slice(None))
    return out[tuple(index)]


def convolve(in1, in2, mode="full", method="auto"):
    """scipy.signal.convolve over every axis (method is scipy's choice of algorithm: the
    values agree up to rounding)."""
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"convolve: acceptable method flags are 'auto', 'direct', or 'fft', got {method!r}")
    return fftconvolve(in1, in2, mode)


oaconvolve = fftconvolve


def _flipped_conj(x):
    x = np.asarray(x)
    x = x[(slice(None, None, -1),) * x.ndim]
    return np.conj(x) if np.iscomplexobj(x) else x


def correlate(in1, in2, mode="full", method="auto"):
    """The cross-correlation: in1 convolved with in2 reversed and conjugated."""
    return convolve(in1, _flipped_conj(in2), mode, method)


def _two_d(name, in1, in2, boundary, fillvalue):
    if np.ndim(in1) != 2 or np.ndim(in2) != 2:
        raise ValueError(f"{name}: in1 and in2 should be 2-D, got {np.ndim(in1)}-D and {np.ndim(in2)}-D")
    if boundary != "fill" or fillvalue != 0:
        raise NotImplementedError(f"{name}: only boundary='fill' with fillvalue=0 is supported")


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    _two_d("convolve2d", in1, in2, boundary, fillvalue)
    return fftconvolve(in1, in2, mode)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """As scipy's: its 'same' output starts at in2's half size (rounded up) into the full
    correlation, and 'valid' with in2 the larger is correlate2d(in2, in1) reversed."""
    _two_d("correlate2d", in1, in2, boundary, fillvalue)
    _modes(mode, "correlate2d")
    a, b = np.asarray(in1), np.asarray(in2)
    bigger = all(n >= m for n, m in zip(b.shape, a.shape))
    if mode == "valid" and bigger and not all(n >= m for n, m in zip(a.shape, b.shape)):
        return correlate2d(b, a, "valid")[::-1, ::-1]
    full = fftconvolve(a, _flipped_conj(b), "full")
    if mode == "full":
        return full
    if mode == "same":
        return full[b.shape[0] // 2:b.shape[0] // 2 + a.shape[0], b.shape[1] // 2:b.shape[1] // 2 + a.shape[1]]
    if not all(n >= m for n, m in zip(a.shape, b.shape)):
        raise ValueError("correlate2d: for 'valid' mode, one must be at least as large as the other in every "
                         f"dimension (shapes {tuple(a.shape)} and {tuple(b.shape)})")
    return full[b.shape[0] - 1:a.shape[0], b.shape[1] - 1:a.shape[1]]


def __getattr__(name):  # (windows, filters, ...: scipy's, on data)
    if name.startswith("__"):
        raise AttributeError(name)
    import scipy.signal
    return getattr(scipy.signal, name)
