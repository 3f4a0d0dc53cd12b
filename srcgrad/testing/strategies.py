"""hypothesis strategies for gradient tests: arrays, tensors, shapes, dtypes, op domains.

    from hypothesis import given
    from srcgrad.testing import gradcheck, strategies as sgs

    @given(x=sgs.arrays(shape=sgs.shapes(max_dims=2), domain="log"))
    def test_log(x):
        gradcheck(lambda t: t.log(), x)

This is the only module of srcgrad that imports hypothesis (a test dependency:
`pip install srcgrad[test]`).

Domains keep values where central differences are reliable: away from the edges of an
op's domain (log, sqrt, arcsin...), from kinks (abs, relu at 0) and from jumps (floor at
integers, round at half-integers). `domain(name)` looks an op up in `DOMAINS`.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:  # pragma: no cover - exercised without hypothesis installed
    raise ImportError("srcgrad.testing.strategies needs hypothesis: pip install hypothesis "
                      "(or srcgrad[test])") from e

__all__ = ["DOMAINS", "Domain", "arrays", "broadcastable_shapes", "domain", "dtypes", "elements",
           "matmul_shapes", "shapes", "tensors"]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@dataclasses.dataclass(frozen=True)
class Domain:
    """Values in [low, high], at least `margin` away from every point of `kinks` (and, with
    `period`, from every kink shifted by a multiple of the period)."""
    low: float
    high: float
    kinks: tuple = ()
    period: float | None = None
    margin: float = 0.05

    def contains(self, x):
        x = float(x)
        if not (self.low <= x <= self.high) or math.isnan(x):
            return False
        for k in self.kinks:
            dist = abs(x - k)
            if self.period:
                dist = dist % self.period
                dist = min(dist, self.period - dist)
            if dist < self.margin:
                return False
        return True


REAL = Domain(-3.0, 3.0)
POSITIVE = Domain(0.1, 5.0)
UNIT = Domain(-0.9, 0.9)
NONZERO = Domain(-3.0, 3.0, kinks=(0.0,), margin=0.1)
AT_ZERO = Domain(-3.0, 3.0, kinks=(0.0,))

#: op name -> the values its (first, or for divide/power the constrained) argument takes
DOMAINS = {
    "real": REAL, "positive": POSITIVE, "unit": UNIT, "nonzero": NONZERO,
    # logarithms and roots: positive, away from 0
    "log": POSITIVE, "log2": POSITIVE, "log10": POSITIVE, "sqrt": POSITIVE, "rsqrt": POSITIVE,
    "log1p": Domain(-0.9, 5.0),
    "power": POSITIVE, "pow": POSITIVE,             # the base of x ** y with a float y
    # poles: away from them
    "reciprocal": NONZERO, "divide": NONZERO, "true_divide": NONZERO, "div": NONZERO,
    "tan": Domain(-1.2, 1.2),
    # inverse trigonometric / hyperbolic: inside their open intervals
    "arcsin": UNIT, "arccos": UNIT, "arctanh": UNIT, "asin": UNIT, "acos": UNIT, "atanh": UNIT,
    "arccosh": Domain(1.1, 5.0), "acosh": Domain(1.1, 5.0),
    # kinks and jumps
    "abs": AT_ZERO, "absolute": AT_ZERO, "relu": AT_ZERO, "sign": AT_ZERO,
    "floor": Domain(-3.0, 3.0, kinks=(0.0,), period=1.0), "ceil": Domain(-3.0, 3.0, kinks=(0.0,), period=1.0),
    "trunc": Domain(-3.0, 3.0, kinks=(0.0,), period=1.0),
    "round": Domain(-3.0, 3.0, kinks=(0.5,), period=1.0), "rint": Domain(-3.0, 3.0, kinks=(0.5,), period=1.0),
    # smooth on the whole line (bounded so that exp and friends stay moderate)
    **{name: REAL for name in (
        "exp", "exp2", "expm1", "sin", "cos", "sinh", "cosh", "tanh", "arctan", "atan", "arcsinh",
        "asinh", "sigmoid", "softplus", "erf", "square", "negative", "neg", "logaddexp", "hypot",
        "sinc", "add", "subtract", "multiply", "sum", "mean", "logsumexp", "softmax", "log_softmax",
        "cumsum", "cumprod", "prod", "matmul", "dot")},
}


def domain(op):
    """The Domain of an op by name (see DOMAINS), or a Domain / (low, high) pair as given."""
    if isinstance(op, Domain):
        return op
    if isinstance(op, tuple) and len(op) == 2:
        return Domain(float(op[0]), float(op[1]))
    try:
        return DOMAINS[op]
    except KeyError:
        raise KeyError(f"no domain for {op!r}: use one of {sorted(DOMAINS)}, a (low, high) pair "
                       f"or a Domain") from None


def dtypes():
    """float32 or float64 (numpy dtypes)."""
    return st.sampled_from(FLOAT_DTYPES)


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes, from () up to max_dims dimensions of 1..max_side."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Pairs (shape_a, shape_b) that broadcast together (numpy's rules)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side
                                             ).map(lambda b: tuple(b.input_shapes))


def matmul_shapes(max_side=4, batch=False):
    """Pairs ((n, k), (k, m)) for a matrix product; with batch, a leading batch axis too."""
    side = st.integers(1, max_side)

    def pair(n, k, m, b):
        return ((b, n, k), (b, k, m)) if batch else ((n, k), (k, m))
    return st.builds(pair, side, side, side, side)


def _bound(x, dtype, up):
    """x as a bound hypothesis accepts for this dtype, rounded inwards."""
    if dtype == np.float64:
        return float(x)
    y = np.float32(x)
    if (up and float(y) < x) or (not up and float(y) > x):
        y = np.nextafter(y, np.float32(np.inf if up else -np.inf))
    return float(y)


def elements(op="real", dtype=np.float64):
    """Floats (of dtype's width) in an op's domain."""
    d = domain(op)
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"elements: float32 or float64, not {dtype}")
    s = st.floats(_bound(d.low, dtype, True), _bound(d.high, dtype, False), allow_nan=False,
                  allow_infinity=False, allow_subnormal=False, width=8 * dtype.itemsize)
    if d.kinks:
        s = s.filter(d.contains)
    return s


def _draw(draw, x):
    return draw(x) if isinstance(x, st.SearchStrategy) else x


@st.composite
def arrays(draw, dtype=None, shape=None, domain="real"):
    """numpy arrays: dtype and shape are values or strategies (default: dtypes(), shapes());
    domain is an op name, (low, high) or a Domain."""
    dt = np.dtype(_draw(draw, dtypes() if dtype is None else dtype))
    sh = _draw(draw, shapes() if shape is None else shape)
    sh = (sh,) if isinstance(sh, int) else tuple(sh)
    return draw(hnp.arrays(dt, sh, elements=elements(domain, dt)))


@st.composite
def tensors(draw, dtype=None, shape=None, domain="real", requires_grad=False):
    """srcgrad tensors, drawn like arrays()."""
    import srcgrad
    return srcgrad.tensor(draw(arrays(dtype, shape, domain)), requires_grad=requires_grad)
