"""The op table: one entry per primitive.

An `Op` carries everything every layer needs to know about a primitive — the numpy
forward (`impl`), the shape/dtype rule (`infer`), the derivative rule (`vjp`, which
builds IR), and how it is written in generated code (`emit`, or a sympy `formula` for
elementwise ops). Eager execution, recording, the backward builder, fusion and the
code generator all read the same entry; adding an op is adding one entry.
"""
from __future__ import annotations

import numpy as np

_TABLE: dict[str, "Op"] = {}

#: op kinds. Elementwise ops are fused into sympy kernels; the rest keep their own rules.
KINDS = ("elementwise", "compare", "reduction", "shape", "linalg", "index", "special")


class Op:
    def __init__(self, name, kind, impl, *, infer=None, vjp=None, formula=None, emit=None,
                 differentiable=True, torch_name=None, nout=1, fmt_attrs=None, statement=False):
        assert kind in KINDS, kind
        self.name = name
        self.kind = kind
        self.impl = impl
        self._infer = infer
        self.vjp = vjp
        self.formula = formula
        self.emit = emit
        self.differentiable = differentiable
        self.torch_name = torch_name or "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        self.nout = nout
        self._fmt_attrs = fmt_attrs
        self.statement = statement  # emit() returns statements rather than one expression
        self.inplace_impl = None    # impl(out_array, *rest) writing into its first input, if cheaper
        self.side_effect = False    # kept by dead-code elimination even with no output read
        self.block = None           # block(node, emitter, indent) -> source lines: ops that
                                    # write a block of code (a loop), see codegen/loops.py

    @property
    def elementwise(self):
        return self.kind == "elementwise"

    def infer(self, inputs, attrs):
        """[(shape, dtype)] of the outputs, from input Values/literals and attrs."""
        if self._infer is not None:
            return self._infer(inputs, attrs)
        raise NotImplementedError(f"op {self.name!r} has no shape rule")

    def format_attrs(self, attrs):
        if self._fmt_attrs is not None:
            return self._fmt_attrs(attrs)
        return " ".join(f"{k}={_fmt_attr(v)}" for k, v in attrs.items())

    def __repr__(self):
        return f"<op {self.name}>"


def _fmt_attr(v):
    if isinstance(v, np.dtype):
        return v.name
    return repr(v)


def register(op: Op) -> Op:
    if op.name in _TABLE:
        raise ValueError(f"op {op.name!r} is already registered")
    _TABLE[op.name] = op
    return op


def get(name: str) -> Op:
    try:
        return _TABLE[name]
    except KeyError:
        raise KeyError(f"srcgrad has no op named {name!r}") from None


def all_ops():
    return dict(_TABLE)


def attrs_key(attrs):
    """A hashable, order-independent key for an attrs dict (part of cache keys)."""
    if not attrs:
        return ()
    return tuple(sorted((k, _hashable(v)) for k, v in attrs.items()))


def _hashable(v):
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, np.dtype):
        return ("dtype", v.str)
    if isinstance(v, float):
        return ("f", v)  # keep 2 and 2.0 apart
    return v


# -- helpers shared by the op definitions ---------------------------------------------

class ShapeError(ValueError):
    """Raised by a shape rule: the op cannot take inputs of these shapes."""


def normalize_axis(axis, ndim):
    """None, an int or a sequence → None or a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise ShapeError(f"axis {a} is out of range for an array of {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ShapeError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


def broadcast_shapes(*shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError("operands could not be broadcast together with shapes "
                         + " and ".join(str(tuple(s)) for s in shapes)) from None


def shape_of(x):
    return x.shape if hasattr(x, "shape") else ()


def result_dtype(inputs):
    """numpy's promotion, with Python scalars weak (NumPy 2 rules)."""
    args = [x.dtype if hasattr(x, "dtype") else x for x in inputs]
    return np.result_type(*args)


def float_dtype(dtype):
    """The dtype a gradient of `dtype` data would have (ints promote to float64)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)
