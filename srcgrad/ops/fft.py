"""Discrete Fourier transforms: one op, `fft`, for numpy.fft's fftn, ifftn, rfftn, irfftn.

attrs: kind ("fft", "ifft", "rfft", "irfft"), s (the transform's length along each axis:
the input is cut or padded with zeros to it first, as numpy does), axes, norm (numpy's
"backward", "ortho" or "forward").

Each rule is the adjoint of its transform for the real inner product Re(sum(conj(a) b))
(ops/complex.py), written with the transforms themselves:

* fft and ifft are linear: the adjoint of a transform is the inverse transform with the
  dual normalisation ("backward" <-> "forward", "ortho" <-> "ortho"), then the input's
  cut or padding undone;
* rfft keeps the first s//2 + 1 frequencies of a real input's fft: its adjoint pads the
  cotangent with zeros back to s, transforms it back, and the input, being real, takes
  the real part;
* irfft reads each frequency k, 0 < k < s/2, twice (it stands for its mirror image too),
  the others once: its adjoint is the rfft of the cotangent, those frequencies doubled.
"""
import numpy as np

from ..codegen import astbuild as A
from .registry import Op, register

_NUMPY = {"fft": np.fft.fftn, "ifft": np.fft.ifftn, "rfft": np.fft.rfftn, "irfft": np.fft.irfftn}
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_INVERSE = {"fft": "ifft", "ifft": "fft"}


def _impl(x, kind, s, axes, norm):
    return _NUMPY[kind](x, s=s, axes=axes, norm=norm)


def transformed_dtype(dtype, kind):
    """The dtype numpy's transform gives data of `dtype` (numpy 2 keeps single precision)."""
    probe = np.ones(2, dtype)
    if kind == "irfft":
        return np.fft.irfft(probe.astype(np.result_type(dtype, np.complex64))).dtype
    return np.fft.fft(probe).dtype


def out_shape(shape, kind, s, axes):
    shape = list(shape)
    for n, a in zip(s, axes):
        shape[a] = n
    if kind == "rfft":
        shape[axes[-1]] = s[-1] // 2 + 1
    return tuple(shape)


def _infer(inputs, attrs):
    x = inputs[0]
    return [(out_shape(x.shape, attrs["kind"], attrs["s"], attrs["axes"]), transformed_dtype(x.dtype, attrs["kind"]))]


def _resized(g, shape, axes):
    """g cut or padded with zeros, along `axes`, to `shape`."""
    cut = tuple(slice(0, min(n, m)) for n, m in zip(g.shape, shape))
    if any(n > m for n, m in zip(g.shape, shape)):
        g = g.graph.emit("getitem", [g], index=tuple(_slice(c) for c in cut))
    if any(n < m for n, m in zip(g.shape, shape)):
        g = g.graph.emit("getitem_grad", [g], index=tuple(_slice(slice(0, n)) for n in g.shape), shape=tuple(shape))
    return g


def _slice(sl):
    from .indexing import Slice
    return Slice(sl.start, sl.stop, sl.step)


def _vjp(node, gs):
    (g,), x = gs, node.inputs[0]
    kind, s, axes, norm = node.attrs["kind"], node.attrs["s"], node.attrs["axes"], node.attrs["norm"]
    dual = _DUAL[norm]
    if kind in _INVERSE:
        back = g.graph.emit("fft", [g], kind=_INVERSE[kind], s=tuple(g.shape[a] for a in axes), axes=axes, norm=dual)
        return [_resized(back, x.shape, axes)]
    if kind == "rfft":
        full = list(g.shape)
        full[axes[-1]] = s[-1]
        g = _resized(g, tuple(full), axes)
        back = g.graph.emit("fft", [g], kind="ifft", s=tuple(s), axes=axes, norm=dual)
        return [_resized(back, x.shape, axes)]
    # irfft
    back = g.graph.emit("fft", [g], kind="rfft", s=tuple(s), axes=axes, norm=dual)
    n, m = s[-1], s[-1] // 2 + 1
    twice = np.full(m, 2.0, np.dtype(g.dtype))
    twice[0] = 1.0
    if n % 2 == 0:
        twice[-1] = 1.0
    twice = twice.reshape((m,) + (1,) * (len(back.shape) - 1 - axes[-1]))
    from ..custom import constant
    back = back * constant(g.graph, twice)
    return [_resized(back, x.shape, axes)]


def _emit(args, attrs, node):
    """np.fft.<kind>(x, n, axis) for one axis, else np.fft.<kind>n(x, s, axes); numpy's
    defaults left out."""
    kind, s, axes, norm = attrs["kind"], attrs["s"], attrs["axes"], attrs["norm"]
    x = node.inputs[0]
    kwargs = {}
    if len(axes) == 1:
        name = kind
        if s[0] != (x.shape[axes[0]] if kind != "irfft" else 2 * (x.shape[axes[0]] - 1)):
            kwargs["n"] = A.num(s[0])
        if axes[0] != x.ndim - 1:
            kwargs["axis"] = A.num(axes[0])
    else:
        name = kind + "n"
        kwargs["s"] = A.literal(tuple(s))
        kwargs["axes"] = A.literal(tuple(axes))
    if norm != "backward":
        kwargs["norm"] = A.const(norm)
    return A.call(A.attr(A.attr(A.name("np"), "fft"), name), args[0], **kwargs)


register(Op("fft", "linalg", _impl, infer=_infer, vjp=_vjp, emit=_emit,
            torch_name=lambda attrs, ins=(): {"fft": "FftC2CBackward0", "ifft": "FftC2CBackward0",
                                              "rfft": "FftR2CBackward0", "irfft": "FftC2RBackward0"}[attrs["kind"]],
            fmt_attrs=lambda attrs: f"{attrs['kind']} s={tuple(attrs['s'])} axes={tuple(attrs['axes'])}"
                                    + ("" if attrs["norm"] == "backward" else f" norm={attrs['norm']}")))
