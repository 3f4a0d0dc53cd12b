"""Printing tensors the way PyTorch does: `tensor([[1., 2.], [3., 4.]], requires_grad=True)`."""
import numpy as np

from ._dtype import get_default_dtype


def _float_formatter(data):
    finite = data[np.isfinite(data)] if data.size else data
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    amax = float(np.abs(finite).max())  # (as Python floats: 1e8 is no float16)
    nonzero = np.abs(finite[finite != 0])
    amin = float(nonzero.min()) if nonzero.size else 0.0
    ints = np.all(finite == np.round(finite))
    if ints and amax < 1e8:
        return lambda v: _special(v) or f"{v:.0f}."
    if amax >= 1e8 or (amin and amin < 1e-4) or (amin and amax / amin > 1000):
        return lambda v: _special(v) or f"{v:.4e}"
    return lambda v: _special(v) or f"{v:.4f}"


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def format_tensor(t):
    data = t._data
    extras = []
    if data.dtype.kind == "f":
        fmt = _float_formatter(data)
        width = max((len(fmt(v)) for v in data.flat), default=0)
        pad = fmt
        fmt = lambda v: pad(v).rjust(width)  # noqa: E731  (columns line up, as in PyTorch)
        body = np.array2string(data, separator=", ", prefix="tensor(", formatter={"float_kind": fmt},
                               threshold=1000, edgeitems=3, max_line_width=80)
        if data.dtype != get_default_dtype():
            extras.append(f"dtype=torch.{data.dtype.name}")  # (PyTorch's text, as printed there)
    elif data.dtype.kind == "c":
        # real and imaginary parts each formatted as PyTorch formats floats, each column
        # lined up: `4.0724+4.3063j`, `1.+2.j`
        re_fmt, im_fmt = _float_formatter(data.real), _float_formatter(data.imag)
        re_width = max((len(re_fmt(v)) for v in data.real.flat), default=0)
        im_width = max((len(im_fmt(abs(v))) for v in data.imag.flat), default=0)

        def fmt(v):
            sign = "-" if np.signbit(v.imag) else "+"
            return re_fmt(v.real).rjust(re_width) + sign + im_fmt(abs(v.imag)).ljust(im_width) + "j"
        body = np.array2string(data, separator=", ", prefix="tensor(", formatter={"complex_kind": fmt},
                               threshold=1000, edgeitems=3, max_line_width=80)
        if data.dtype != np.result_type(get_default_dtype(), np.complex64):
            extras.append(f"dtype=torch.{data.dtype.name}")
    else:
        # (booleans line up as PyTorch's: padded to `False` only when one is printed)
        width = 5 if data.dtype.kind == "b" and not data.all() else 4
        body = np.array2string(data, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3,
                               max_line_width=80, formatter={"bool": lambda b: str(bool(b)).rjust(width)})
        if data.dtype.kind != "b" and data.dtype != np.int64:
            extras.append(f"dtype=torch.{data.dtype.name}")
    if data.size == 0 and data.ndim != 1:
        extras.insert(0, f"size={tuple(data.shape)}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
