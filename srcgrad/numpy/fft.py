"""numpy.fft over tensors: every transform is the `fft` op (ops/fft.py) with numpy's
lengths, axes and normalisation resolved; the shifts are rolls.

    np.fft.fft(t), np.fft.rfft2(t, s=...), np.fft.fftshift(t)    (through __array_function__)
    srcgrad.numpy.fft.fft(t)                                       (the same functions)
"""
import numpy as np

from .. import ops as _ops
from ..autograd.recording import apply
from ._dispatch import implements, tensor_cls

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn",
           "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq"]

fftfreq, rfftfreq = np.fft.fftfreq, np.fft.rfftfreq  # (of sizes, not data)


def _tensor(x):
    Tensor = tensor_cls()
    if isinstance(x, Tensor):
        return x
    data = np.asarray(x)
    return Tensor._make(data if data.dtype.kind in "fc" else data.astype(np.float64))


def _norm(norm, name):
    if norm is None:
        return "backward"
    if norm not in ("backward", "ortho", "forward"):
        raise ValueError(f'{name}: invalid norm value {norm!r}; should be "backward", "ortho" or "forward"')
    return norm


def _transform(kind, name, a, s, axes, norm, out):
    """numpy's rules for s and axes: axes default to the last len(s) (or all) axes; s to the
    input's lengths there (for irfft, 2 * (m - 1) along the last one)."""
    x = _tensor(a)
    if kind in ("rfft",) and x.dtype.kind == "c":
        raise TypeError(f"{name}: the input must be real, got {x.dtype}")
    if axes is None:
        axes = tuple(range(x.ndim - len(s), x.ndim)) if s is not None else tuple(range(x.ndim))
    axes = tuple(int(a) % x.ndim if -x.ndim <= int(a) < x.ndim else _bad_axis(name, a, x.ndim) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: repeated axes {axes} are not supported")
    if s is None:
        s = [x.shape[a] for a in axes]
        if kind == "irfft":
            s[-1] = 2 * (x.shape[axes[-1]] - 1)
    s = tuple(int(n) for n in s)
    if len(s) != len(axes):
        raise ValueError(f"{name}: shape and axes have different lengths ({len(s)} and {len(axes)})")
    if any(n < 1 for n in s):
        raise ValueError(f"{name}: invalid number of data points {s} specified")
    if x.dtype.kind != "c" and kind in ("fft", "ifft", "irfft"):
        x = x._cast_const(np.result_type(x.dtype, np.complex64))
    return apply(_ops.get("fft"), [x], {"kind": kind, "s": s, "axes": axes, "norm": _norm(norm, name)})


def _bad_axis(name, axis, ndim):
    raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for array of dimension {ndim}")


def _one_axis(kind, name):
    def transform(a, n=None, axis=-1, norm=None, out=None):
        return _transform(kind, name, a, None if n is None else (n,), (axis,), norm, out)
    transform.__name__ = name
    transform.__doc__ = f"numpy.fft.{name} over tensors (op `fft`, kind {kind})."
    return implements(getattr(np.fft, name))(transform)


def _many_axes(kind, name, default_axes=None):
    def transform(a, s=None, axes=default_axes, norm=None, out=None):
        return _transform(kind, name, a, s, axes, norm, out)
    transform.__name__ = name
    transform.__doc__ = f"numpy.fft.{name} over tensors (op `fft`, kind {kind})."
    return implements(getattr(np.fft, name))(transform)


fft = _one_axis("fft", "fft")
ifft = _one_axis("ifft", "ifft")
rfft = _one_axis("rfft", "rfft")
irfft = _one_axis("irfft", "irfft")
fft2 = _many_axes("fft", "fft2", (-2, -1))
ifft2 = _many_axes("ifft", "ifft2", (-2, -1))
rfft2 = _many_axes("rfft", "rfft2", (-2, -1))
irfft2 = _many_axes("irfft", "irfft2", (-2, -1))
fftn = _many_axes("fft", "fftn")
ifftn = _many_axes("ifft", "ifftn")
rfftn = _many_axes("rfft", "rfftn")
irfftn = _many_axes("irfft", "irfftn")


def _shift(name, sign):
    def shift(x, axes=None):
        from .shape import roll
        t = _tensor(x)
        axes = tuple(range(t.ndim)) if axes is None else (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
        return roll(t, [sign * (t.shape[a] // 2) for a in axes], axes)
    shift.__name__ = name
    shift.__doc__ = f"numpy.fft.{name}: a roll by half of each axis (its gradient rolls back)."
    return implements(getattr(np.fft, name))(shift)


fftshift = _shift("fftshift", 1)
ifftshift = _shift("ifftshift", -1)
