"""torch.fft over srcgrad tensors: PyTorch's names and signatures (`dim=`) for numpy.fft's
transforms (srcgrad/numpy/fft.py, the `fft` op)."""
from .numpy import fft as _np_fft


def _t(x):
    from .creation import tensor
    from .tensor import Tensor
    return x if isinstance(x, Tensor) else tensor(x)


def _one(name):
    def transform(input, n=None, dim=-1, norm=None):  # noqa: A002
        return getattr(_np_fft, name)(_t(input), n=n, axis=dim, norm=norm)
    transform.__name__ = name
    transform.__doc__ = f"torch.fft.{name} (numpy.fft.{name} with dim for axis)."
    return transform


def _many(name, default_dim):
    def transform(input, s=None, dim=default_dim, norm=None):  # noqa: A002
        x = _t(input)
        axes = dim if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
        if axes is None and s is not None:
            axes = tuple(range(x.ndim - len(s), x.ndim))
        return getattr(_np_fft, name)(x, s=s, axes=axes, norm=norm)
    transform.__name__ = name
    transform.__doc__ = f"torch.fft.{name} (numpy.fft.{name} with dim for axes)."
    return transform


fft, ifft, rfft, irfft = (_one(n) for n in ("fft", "ifft", "rfft", "irfft"))
fft2, ifft2, rfft2, irfft2 = (_many(n, (-2, -1)) for n in ("fft2", "ifft2", "rfft2", "irfft2"))
fftn, ifftn, rfftn, irfftn = (_many(n, None) for n in ("fftn", "ifftn", "rfftn", "irfftn"))


def fftshift(input, dim=None):  # noqa: A002
    return _np_fft.fftshift(_t(input), axes=dim)


def ifftshift(input, dim=None):  # noqa: A002
    return _np_fft.ifftshift(_t(input), axes=dim)


def fftfreq(n, d=1.0, *, dtype=None):
    from .creation import tensor
    return tensor(_np_fft.fftfreq(n, d), dtype=dtype or _default_dtype())


def rfftfreq(n, d=1.0, *, dtype=None):
    from .creation import tensor
    return tensor(_np_fft.rfftfreq(n, d), dtype=dtype or _default_dtype())


def _default_dtype():
    from ._dtype import get_default_dtype
    return get_default_dtype()
