"""PyTorch's wider vocabulary over srcgrad's numpy surface.

Most of PyTorch's functions are a numpy function under another name or signature
(`torch.remainder` is `np.remainder`, `torch.diff(x, dim=1)` is `np.diff(x, axis=1)`,
`torch.topk` is a sort and a slice). Each entry here is that translation, written once:
it is both the top-level function (`srcgrad.hypot(a, b)`) and, where PyTorch has one, the
Tensor method (`a.hypot(b)`). The derivatives come from the numpy functions' rules (one op
table); nothing here has a derivative of its own.

In-place forms (`x.exp_()`, `x.clamp_(0, 1)`) are the out-of-place function written back
into x (`Tensor._write_back`), with PyTorch's semantics: x takes the result's history.
"""
import builtins
import collections
import math

import numpy as np

from . import _dtype
from . import numpy as snp
from .autograd.recording import keeps_no_tensor, not_a_view
from .tensor import Tensor, _as_operand, _promote, alpha_node

__all__ = []
_METHODS = {}


def _t(x):
    if isinstance(x, Tensor):
        return x
    from .creation import tensor
    return tensor(x)


def torch_function(*names, method=True):
    """Register fn as srcgrad.<name> (and the Tensor method <name>, unless method=False or
    Tensor already has one) for each name. (The names become this module's globals: code
    here calls Python's own any/all/max/min/abs as builtins.<name>.)"""
    def register(fn):
        for name in names:
            globals()[name] = fn
            __all__.append(name)
            if method:
                _METHODS[name] = fn
        return fn
    return register


def _axis(dim):
    return None if dim is None else tuple(dim) if isinstance(dim, (list, tuple)) else dim


# -- PyTorch's dtype rules -------------------------------------------------------------------------
# Where PyTorch refuses operands of different dtypes (a matrix product, a scatter) or a
# dtype its kernel lacks (gelu of integers), eager torch-style code raises its exception with
# its message, followed by the user's line. Numpy-style code (a function traced by
# srcgrad.grad & co) keeps numpy's promotion: the checks apply outside it only.

#: PyTorch's dtype names: its scalar type names (Float), and the C++ types (float) some
#: messages print
_SCALAR_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long", "int32": "Int",
                 "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                 "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_C_NAMES = {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}

#: PyTorch's messages for operands that must share a dtype: {x}/{y} are the two dtypes' scalar
#: names, {cx}/{cy} their C++ names
SAME_DTYPE = {
    "mm": "expected m1 and m2 to have the same dtype, but got: {cx} != {cy}",
    "bmm": "expected scalar type {x} but found {y}",  # (also einsum, cross, cdist, convolutions)
    "dot": "dot : expected both vectors to have same dtype, but found {x} and {y}",
    "mv": "addmv input tensors must have the same dtype, but got {y}, {x}, and {y}",  # (matrix, vector)
    "inner": "both inputs should have same dtype",
    "addmm self": "self and mat2 must have the same dtype, but got {x} and {y}",
    "addmm mat1": "mat1 and mat2 must have the same dtype, but got {x} and {y}",
    "scatter": "scatter(): Expected self.dtype to be equal to src.dtype",
    "index_add": "index_add_(): self ({x}) and source ({y}) must have the same scalar type",
    "index_copy": "index_copy_(): self and source expected to have the same dtype, but got (self) {x} and "
                  "(source) {y}",
    "put": "put_(): self and source expected to have the same dtype, but got self.dtype = {x} and "
           "source.dtype = {y}",
    "index_put": "Index put requires the source and destination dtypes match, got {x} for the destination "
                 "and {y} for the source.",
    "masked_scatter": "masked_scatter: expected self and source to have same dtypes but got{x} and {y}",
    "lerp end": "expected dtype {cx} for `end` but got dtype {cy}",
    "lerp weight": "expected dtype {cx} for `weight` but got dtype {cy}",
    "complex": "Expected object of scalar type {x} but got scalar type {y} for second argument",
    "binary_cross_entropy": "Found dtype {y} but expected {x}",
    "conv bias": "Input type ({cx}) and bias type ({cy}) should be the same",
    "multi_dot": "multi_dot(): all tensors must have be the same dtype but tensor 0 is {cx} and tensor {k} {cy}",
}


def dtype_name(dtype, c=False):
    """PyTorch's name of a dtype in its messages: `Float`, or (c=True) the C++ type `float`."""
    name = np.dtype(dtype).name
    return (_C_NAMES if c else _SCALAR_NAMES).get(name, name)


def dtype_error(message, kind=RuntimeError):
    """PyTorch's exception for a dtype it refuses: its message, then the user's line."""
    from .utils.locations import describe_loc, user_loc
    where = describe_loc(user_loc(1))
    return kind(f"{message} ({where})" if where else message)


def torch_dtype_rules():
    """Whether PyTorch's dtype rules apply: in eager torch-style code, not in numpy code."""
    from .autograd.recording import numpy_code
    return not numpy_code()


def _dtype_or_none(x):
    return x.dtype if isinstance(x, (Tensor, np.ndarray)) else None


def same_dtype(rule, x, y, **names):
    """Raise PyTorch's error `SAME_DTYPE[rule]` (a message template) unless tensors x and y
    have one dtype. Numbers (and None) pass."""
    dx, dy = _dtype_or_none(x), _dtype_or_none(y)
    if dx is None or dy is None or dx == dy or not torch_dtype_rules():
        return
    template = SAME_DTYPE.get(rule, rule)
    raise dtype_error(template.format(x=dtype_name(dx), y=dtype_name(dy), cx=dtype_name(dx, True),
                                      cy=dtype_name(dy, True), **names))


def float_only(x, message=None, kernel=None, complex_ok=True):
    """Refuse an integer (or bool) tensor as PyTorch does: a RuntimeError with `message`
    ({x}: the dtype's name), or the NotImplementedError of a kernel that has no such dtype
    (`"GeluKernelImpl" not implemented for 'Long'`)."""
    d = _dtype_or_none(x)
    if d is None or d.kind in ("fc" if complex_ok else "f") or not torch_dtype_rules():
        return
    if kernel is not None:
        raise kernel_error(kernel, d)
    raise dtype_error(message.format(x=dtype_name(d)))


def kernel_error(kernel, dtype):
    """PyTorch's NotImplementedError of a kernel without this dtype."""
    return dtype_error(f'"{kernel}" not implemented for \'{dtype_name(dtype)}\'', NotImplementedError)


def matmul_rule(a, b):
    """The SAME_DTYPE rule of `a @ b`, as PyTorch dispatches it by the operands' dimensions
    (a dot, a matrix-vector product, a matrix product, or a batched one)."""
    if a.ndim == 1 and b.ndim == 1:
        return "dot"
    if b.ndim == 1:
        return "mv"
    if b.ndim == 2:
        return "mm"
    return "bmm"


def strict_matmul(a, b):
    """PyTorch's refusal of a matrix product of two dtypes (torch.mm, bmm, F.linear...)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.ndim and b.ndim:
        same_dtype(matmul_rule(a, b), a, b)


# -- elementwise ---------------------------------------------------------------------------
def _numpy_unary(np_name):
    def fn(input):  # noqa: A002
        return getattr(snp, np_name)(_t(input))
    fn.__name__ = np_name
    fn.__doc__ = f"Elementwise numpy.{np_name} (its derivative rule)."
    return fn


for _torch_names, _np_name in [(("isinf",), "isinf"), (("isposinf",), "isposinf"),
                               (("isneginf",), "isneginf"), (("trunc", "fix"), "trunc"),
                               (("asinh", "arcsinh"), "arcsinh"), (("acosh", "arccosh"), "arccosh"),
                               (("atanh", "arctanh"), "arctanh"),
                               (("signbit",), "signbit"), (("sinc",), "sinc"),
                               (("deg2rad",), "deg2rad"), (("rad2deg",), "rad2deg"),
                               (("absolute",), "abs"), (("negative",), "negative"),
                               (("isreal",), "isreal")]:
    torch_function(*_torch_names)(_numpy_unary(_np_name))


@torch_function("sgn")
def sgn(x):
    """torch.sgn: sign for real data (0 for NaN, as PyTorch's)."""
    return _t(x).sign()


@torch_function("frac")
def frac(input):  # noqa: A002
    """x - trunc(x): the fractional part, with x's sign (derivative 1)."""
    x = _t(input)
    float_only(x, kernel="frac_cpu")
    return x - snp.trunc(x)


@torch_function("erfc")
def erfc(input):  # noqa: A002
    return 1 - snp.erf(_t(input))


@torch_function("logit")
def logit(input, eps=None):  # noqa: A002
    """log(p / (1 - p)); with eps, p clamped to [eps, 1 - eps] first (PyTorch)."""
    p = _t(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return (p / (1 - p)).log()


@torch_function("xlogy")
def xlogy(input, other):  # noqa: A002
    """x * log(y), and 0 where x == 0 (even where y is 0 or inf); NaN where y is NaN."""
    x, y = _promote([_as_operand(input), _as_operand(other)], float_result=True)
    x, y = _t(x), _t(y)
    if x.dtype.kind != "f":  # (two numbers: the default float dtype)
        x = x.to(_dtype.get_default_dtype())
    safe_y = snp.where(x == 0, 1.0, y)
    return snp.where(x == 0, snp.where(snp.isnan(y), y, 0.0), x * snp.log(safe_y))


@torch_function("positive")
def positive(input):  # noqa: A002
    return input


@torch_function("nan_to_num")
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """NaN → nan, +inf → posinf, -inf → neginf (the dtype's largest finite values by
    default); the gradient passes where the input was finite."""
    x = _t(input)
    if nan == 0.0 and posinf is None and neginf is None:
        return snp.nan_to_num(x)
    info = np.finfo(x.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    finite = snp.nan_to_num(x)
    return snp.where(snp.isnan(x), nan, snp.where(snp.isposinf(x), hi, snp.where(snp.isneginf(x), lo, finite)))


def _numpy_binary(np_name):
    def fn(input, other):  # noqa: A002
        a, b = _promote([_as_operand(input), _as_operand(other)])
        return getattr(snp, np_name)(a, b)
    fn.__name__ = np_name
    fn.__doc__ = f"numpy.{np_name} with PyTorch's type promotion."
    return fn


for _torch_names, _np_name in [(("fmod",), "fmod"), (("remainder",), "remainder"),
                               (("hypot",), "hypot"), (("logaddexp",), "logaddexp"),
                               (("logaddexp2",), "logaddexp2"), (("copysign",), "copysign"),
                               (("fmax",), "fmax"), (("fmin",), "fmin"),
                               (("logical_xor",), "logical_xor"), (("float_power",), "float_power"),
                               (("eq",), "equal"), (("ne", "not_equal"), "not_equal"),
                               (("lt", "less"), "less"), (("le", "less_equal"), "less_equal"),
                               (("gt", "greater"), "greater"), (("ge", "greater_equal"), "greater_equal"),
                               (("mul", "multiply"), "multiply")]:
    torch_function(*_torch_names)(_numpy_binary(_np_name))


@torch_function("floor_divide")
def floor_divide(input, other):  # noqa: A002
    return _t(input) // other


_numpy_add, _numpy_subtract = _numpy_binary("add"), _numpy_binary("subtract")


@torch_function("add")
def add(input, other, *, alpha=1):  # noqa: A002
    if alpha == 1:
        return _numpy_add(input, other)
    return alpha_node(_numpy_add(input, keeps_no_tensor(alpha * _as_operand(other))), [input, other])


@torch_function("sub", "subtract")
def sub(input, other, *, alpha=1):  # noqa: A002
    from .tensor import refuse_bool_subtraction
    refuse_bool_subtraction(input, other)
    if alpha == 1:
        return _numpy_subtract(input, other)
    return alpha_node(_numpy_subtract(input, keeps_no_tensor(alpha * _as_operand(other))), [input, other])


@torch_function("rsub")
def rsub(input, other, *, alpha=1):  # noqa: A002
    """other - alpha * input."""
    return sub(other, input, alpha=alpha)


@torch_function("div", "divide", "true_divide")
def divide(input, other, *, rounding_mode=None):  # noqa: A002
    """input / other; rounding_mode "trunc" or "floor" rounds the quotient (no gradient)."""
    q = _t(input) / other if rounding_mode is None or _is_float(input, other) else None
    if rounding_mode is None:
        return q
    if rounding_mode == "floor":
        return _t(input) // other
    if rounding_mode == "trunc":
        if q is None:  # integers: C's division
            a, b = _promote([_as_operand(input), _as_operand(other)])
            return _t(snp.sign(a) * snp.sign(b) * (snp.abs(a) // snp.abs(b)))
        return snp.trunc(q)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                     f"'{rounding_mode}'")


def _is_float(*xs):
    return builtins.any(isinstance(x, float) or getattr(x, "dtype", np.dtype(int)).kind == "f" for x in xs)


@torch_function("isclose")
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    return snp.isclose(_t(input), other, rtol=rtol, atol=atol, equal_nan=equal_nan)


@torch_function("equal")
def equal(input, other):  # noqa: A002
    """True if both have the same shape and elements (a Python bool)."""
    a, b = _t(input), _t(other)
    return a.shape == b.shape and bool((a == b).all())


@torch_function("addcmul")
def addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002
    return input + value * (_t(tensor1) * tensor2)


@torch_function("addcdiv")
def addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002
    return input + value * (_t(tensor1) / tensor2)


@torch_function("clamp_min")
def clamp_min(input, min):  # noqa: A002
    return _t(input).clamp(min=min)


@torch_function("clamp_max")
def clamp_max(input, max):  # noqa: A002
    return _t(input).clamp(max=max)


# -- shape ---------------------------------------------------------------------------------
def _method_function(name):
    """srcgrad.<name>(x, ...) for a Tensor method x.<name>(...)."""
    def fn(input, *args, **kwargs):  # noqa: A002
        return getattr(_t(input), name)(*args, **kwargs)
    fn.__name__ = name
    fn.__doc__ = f"x.{name}(...) as a function (PyTorch's torch.{name})."
    return fn


for _name in ["permute", "chunk", "unbind", "movedim", "moveaxis", "swapaxes", "swapdims", "narrow",
              "diagonal", "repeat_interleave", "clone", "detach", "rot90", "fliplr", "flipud",
              "broadcast_to", "all", "any", "argsort", "count_nonzero", "nansum", "ravel", "numel",
              "pinverse", "slogdet", "logdet", "cholesky", "matrix_power", "take", "msort"]:
    if hasattr(Tensor, _name):
        torch_function(_name, method=False)(_method_function(_name))


@torch_function("nonzero")
def nonzero(input, *, as_tuple=False):  # noqa: A002
    return _t(input).nonzero(as_tuple=as_tuple)


@torch_function("argwhere")
def argwhere(input):  # noqa: A002
    """The (n, ndim) int64 positions of the nonzero elements."""
    return _t(input).nonzero()


@torch_function("view_as", method=True)
def view_as(input, other):  # noqa: A002
    return _t(input).view(*other.shape)


@torch_function("reshape_as", method=True)
def reshape_as(input, other):  # noqa: A002
    return _t(input).reshape(*other.shape)


@torch_function("expand_as", method=True)
def expand_as(input, other):  # noqa: A002
    return _t(input).expand(*other.shape)


@torch_function("broadcast_tensors")
def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*(t.shape for t in tensors))
    return tuple(_t(t).expand(*shape) for t in tensors)


@torch_function("broadcast_shapes", method=False)
def broadcast_shapes(*shapes):
    return tuple(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))


@torch_function("take_along_dim")
def take_along_dim(input, indices, dim=None):  # noqa: A002
    x = _t(input)
    if dim is None:
        return snp.take_along_axis(x.reshape(-1), _index(indices).reshape(-1), axis=0)
    return snp.take_along_axis(x, _index(indices), axis=dim)


def _index(i):
    return i if isinstance(i, Tensor) else np.asarray(i)


@torch_function("tensor_split")
def tensor_split(input, indices_or_sections, dim=0):  # noqa: A002
    s = indices_or_sections
    if isinstance(s, Tensor):
        s = s.tolist()
    return tuple(snp.array_split(_t(input), s, axis=dim))


@torch_function("hsplit")
def hsplit(input, indices_or_sections):  # noqa: A002
    return tuple(snp.hsplit(_t(input), indices_or_sections))


@torch_function("vsplit")
def vsplit(input, indices_or_sections):  # noqa: A002
    return tuple(snp.vsplit(_t(input), indices_or_sections))


@torch_function("dsplit")
def dsplit(input, indices_or_sections):  # noqa: A002
    return tuple(snp.dsplit(_t(input), indices_or_sections))


@torch_function("unflatten")
def unflatten(input, dim, sizes):  # noqa: A002
    x = _t(input)
    d = dim % x.ndim
    sizes = tuple(sizes)
    if -1 in sizes:
        known = math.prod(s for s in sizes if s != -1)
        sizes = tuple(x.shape[d] // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != x.shape[d]:
        raise RuntimeError(f"unflatten: provided sizes {sizes} don't multiply up to the size of dim "
                           f"{dim} ({x.shape[d]}) in the input tensor")
    return x.reshape(*x.shape[:d], *sizes, *x.shape[d + 1:])


@torch_function("select")
def select(input, dim, index):  # noqa: A002
    x = _t(input)
    d = dim % x.ndim
    return x[(slice(None),) * d + (index,)]


def _join(np_name):
    def fn(tensors, *, out=None):
        from .tensor import _into_out
        return _into_out(np_name, getattr(snp, np_name)([_t(t) for t in tensors]), out, None)
    fn.__name__ = np_name
    return fn


for _name in ["hstack", "vstack", "dstack", "column_stack", "row_stack"]:
    torch_function(_name, method=False)(_join(_name))


@torch_function("concat", "concatenate", method=False)
def concat(tensors, dim=0, *, axis=None, out=None):
    from .numpy.shape import torch_cat
    from .tensor import _into_out
    return _into_out("cat", torch_cat(tensors, dim if axis is None else axis), out, None)


def _atleast(np_name):
    def fn(*tensors):
        ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
        out = [getattr(snp, np_name)(_t(t)) for t in ts]
        return out[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)
    fn.__name__ = np_name
    return fn


for _name in ["atleast_1d", "atleast_2d", "atleast_3d"]:
    torch_function(_name, method=False)(_atleast(_name))


@torch_function("diag_embed")
def diag_embed(input, offset=0, dim1=-2, dim2=-1):  # noqa: A002
    """Each last-axis vector as the diagonal of a matrix (dims -2, -1 only)."""
    x = _t(input)
    if (dim1, dim2) not in ((-2, -1), (x.ndim - 1, x.ndim)):
        raise NotImplementedError("diag_embed: only dim1=-2, dim2=-1 are supported")
    n = x.shape[-1] + builtins.abs(offset)
    rows = np.arange(x.shape[-1]) + builtins.max(-offset, 0)
    cols = rows + offset
    out = snp.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
    out[..., rows, cols] = x
    return out


@torch_function("block_diag", method=False)
def block_diag(*tensors):
    ts = [_t(t) for t in tensors]
    ts = [t.reshape(1, -1) if t.ndim <= 1 and t.numel() else t for t in ts]
    rows = []
    widths = [t.shape[1] if t.ndim == 2 else 0 for t in ts]
    dtype = np.result_type(*(t.dtype for t in ts))
    for k, t in enumerate(ts):
        parts = []
        for j, w in enumerate(widths):
            parts.append(t.to(dtype) if j == k else snp.zeros((t.shape[0], w), dtype=dtype))
        rows.append(snp.concatenate(parts, axis=1))
    return snp.concatenate(rows, axis=0)


@torch_function("cartesian_prod", method=False)
def cartesian_prod(*tensors):
    grids = meshgrid(*tensors, indexing="ij")
    if len(grids) == 1:
        return grids[0]
    return snp.stack([g.reshape(-1) for g in grids], axis=1)


@torch_function("combinations", method=False)
def combinations(input, r=2, with_replacement=False):  # noqa: A002
    """The r-element combinations of a vector's entries, in itertools' order, as rows."""
    import itertools
    x = _t(input)
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    from .autograd.recording import named
    return named(x[idx], "StackBackward0", inputs=(x,)) if r else x[:0]


@torch_function("msort", method=True)
def msort(input):  # noqa: A002
    """The values sorted along the first dimension."""
    return _t(input).sort(0).values


@torch_function("diagflat", method=True)
def diagflat(input, offset=0):  # noqa: A002
    """The square matrix with the flattened input on its diagonal `offset`."""
    from .autograd.recording import named
    return named(snp.diag(_t(input).reshape(-1), offset), "DiagEmbedBackward0", inputs=(input,))


@torch_function("meshgrid", method=False)
def meshgrid(*tensors, indexing="ij"):
    """PyTorch's meshgrid: "ij" indexing by default (numpy's default is "xy")."""
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    return tuple(snp.meshgrid(*[_t(t) for t in ts], indexing=indexing))


def _indices_tensor(np_fn, row, col, offset):
    from .creation import tensor
    r, c = np_fn(row, offset, col)
    return tensor(np.stack([r, c]).astype(np.int64))


@torch_function("tril_indices", method=False)
def tril_indices(row, col, offset=0, **kwargs):
    return _indices_tensor(np.tril_indices, row, col, offset)


@torch_function("triu_indices", method=False)
def triu_indices(row, col, offset=0, **kwargs):
    return _indices_tensor(np.triu_indices, row, col, offset)


@torch_function("masked_select")
def masked_select(input, mask):  # noqa: A002
    x, m = _t(input), _t(mask)
    shape = np.broadcast_shapes(x.shape, m.shape)
    return x.expand(*shape)[m.expand(*shape)]


@torch_function("searchsorted", method=False)
def searchsorted(sorted_sequence, values, *, right=False, side=None, out_int32=False, sorter=None):
    side = side or ("right" if right else "left")
    s, v = _t(sorted_sequence), values if isinstance(values, Tensor) else np.asarray(values)
    dtype = np.int32 if out_int32 else np.int64
    if s.ndim <= 1:
        return _t(np.searchsorted(s.detach().numpy(), _data(v), side=side, sorter=sorter).astype(dtype))
    out = np.stack([np.searchsorted(row, vals, side=side) for row, vals in
                    zip(s.detach().numpy().reshape(-1, s.shape[-1]), _data(v).reshape(-1, v.shape[-1]))])
    return _t(out.reshape(v.shape).astype(dtype))


def _data(x):
    """The values of x, for a function that reads them in Python (unique, searchsorted, ...):
    refused for a traced value inside a compiled function, where they would be frozen."""
    if isinstance(x, Tensor):
        from .tensor import _escape
        _escape(x, "reading its values in Python (unique, searchsorted, mode, histc, ...)",
                "Use numpy's functions with srcgrad rules (np.sort, np.argsort, np.searchsorted).")
        return x._data
    return np.asarray(x)


@torch_function("bucketize", method=False)
def bucketize(input, boundaries, *, out_int32=False, right=False):  # noqa: A002
    return searchsorted(boundaries, input, side="right" if right else "left", out_int32=out_int32)


# -- scatter / index_add: writes of a copy, recorded (the gradient reaches both) ------------------
def _along(x, dim, index):
    """The index tuple addressing x[..., index[i, j, ...], ...] along dim (gather's)."""
    idx = _data(index).astype(np.int64)
    d = dim % idx.ndim
    grids = list(np.indices(idx.shape, sparse=True))
    grids[d] = idx
    return tuple(grids)


@torch_function("scatter")
def scatter(input, dim, index, src=None, *, value=None, reduce=None):  # noqa: A002
    """out = input with out[..., index[i, j], ...] = src[i, j] along dim (PyTorch's)."""
    if reduce is not None:
        return scatter_reduce(input, dim, index, src, {"add": "sum", "multiply": "prod"}[reduce])
    if isinstance(src, Tensor):
        same_dtype("scatter", input, src)
    out = _t(input).clone()
    idx = _along(out, dim, index)
    val = value if src is None else (_t(src)[tuple(slice(0, s) for s in _data(index).shape)]
                                     if isinstance(src, Tensor) else src)
    out[idx] = val
    return out


@torch_function("scatter_add")
def scatter_add(input, dim, index, src):  # noqa: A002
    same_dtype("scatter", input, src)
    idx = _along(input, dim, index)
    s = _t(src)[tuple(slice(0, n) for n in _data(index).shape)]
    return _add_at(_t(input), idx, s)


def _add_at(x, idx, values):
    """x with values added at idx (repeated positions accumulate), recorded."""
    from .numpy.misc import add_at
    out = x.clone()
    add_at(out, idx, values)
    return out


@torch_function("scatter_reduce")
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):  # noqa: A002
    if reduce != "sum":
        raise NotImplementedError(f"scatter_reduce: only reduce='sum' is supported, got {reduce!r}")
    same_dtype("scatter", input, src)
    x = _t(input) if include_self else _t(input) * 0
    return _add_at(x, _along(x, dim, index), _t(src)[tuple(slice(0, n) for n in _data(index).shape)])


@torch_function("index_add")
def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002
    same_dtype("index_add", input, source)
    x = _t(input)
    d = dim % x.ndim
    idx = (slice(None),) * d + (_data(index).astype(np.int64),)
    return _add_at(x, idx, source if alpha == 1 else alpha * _t(source))


@torch_function("index_put")
def index_put(input, indices, values, accumulate=False):  # noqa: A002
    """x[indices] = values (a tuple of index tensors, one per leading dim) on a copy;
    accumulate=True adds, duplicates included."""
    same_dtype("index_put", input, values)
    x = _t(input)
    idx = tuple(_data(i) for i in indices)
    if accumulate:
        return _add_at(x, idx, values)
    out = x.clone()
    out[idx] = values
    return out


@torch_function("put")
def put(input, index, source, accumulate=False):  # noqa: A002
    """input with source written (accumulate: added) at the flat positions `index`, as if
    input were 1-D (PyTorch's; negative positions count from the end)."""
    same_dtype("put", input, source)
    x = _t(input)
    idx = _data(index).reshape(-1).astype(np.int64)
    if idx.size and (idx.max(initial=0) >= x.numel() or idx.min(initial=0) < -x.numel()):
        raise IndexError(f"put_(): index out of range for a tensor of {x.numel()} elements")
    values = _t(source).reshape(-1)
    if accumulate:
        return _add_at(x.reshape(-1), (idx,), values).reshape(x.shape)
    out = x.reshape(-1).clone()
    out[idx] = values
    return out.reshape(x.shape)


@torch_function("index_copy")
def index_copy(input, dim, index, source):  # noqa: A002
    same_dtype("index_copy", input, source)
    return _index_write(input, dim, index, source)


def _index_write(input, dim, index, source):  # noqa: A002
    """A copy of input with source written at `index` along dim (in input's dtype)."""
    out = _t(input).clone()
    d = dim % out.ndim
    out[(slice(None),) * d + (_data(index).astype(np.int64),)] = source
    return out


@torch_function("index_fill")
def index_fill(input, dim, index, value):  # noqa: A002
    """A copy of input with value (a number or a 0-d tensor, cast to input's dtype) written
    at `index` along dim."""
    return _index_write(input, dim, index, value)


@torch_function("masked_scatter")
def masked_scatter(input, mask, source):  # noqa: A002
    """input (broadcast with mask) with source's first entries, in order, written where mask
    is True; the gradient reaches input where mask is False and those entries of source."""
    x, m, src = _t(input), _t(mask), _t(source)
    if torch_dtype_rules() and m.dtype != np.bool_:
        raise dtype_error(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                          f"{dtype_name(m.dtype)}")
    same_dtype("masked_scatter", x, src)
    shape = np.broadcast_shapes(x.shape, m.shape)
    m = m.expand(*shape)
    count = int(m.sum())  # (a guard inside a compiled function)
    if count > src.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    out = x.expand(*shape).clone()
    out[m] = src.reshape(-1)[:count]
    from .autograd.recording import named
    return named(out, "MaskedScatterBackward0", inputs=(x, src))


# -- reductions ----------------------------------------------------------------------------------
_ValuesIndices = collections.namedtuple("values_indices", ["values", "indices"])


@torch_function("topk")
def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """The k largest (or smallest) entries along dim and their positions; the gradient
    reaches the selected entries."""
    x = _t(input)
    if x.ndim == 0:
        return _ValuesIndices(x * 1, _t(np.zeros((), np.int64)))
    d = dim % x.ndim
    idx = x.argsort(d, descending=largest).narrow(d, 0, k)  # (an op: recomputed when compiled)
    return _ValuesIndices(snp.take_along_axis(x, idx, axis=d), idx)


@torch_function("kthvalue")
def kthvalue(input, k, dim=-1, keepdim=False):  # noqa: A002
    """The k-th smallest entry along dim and its position: PyTorch's results of their own
    (an in-place op on them is their node, not a write through the sorted values they were
    cut from)."""
    x = _t(input)
    v, i = topk(x, k, dim, largest=False)
    v, i = v.narrow(dim, k - 1, 1), i.narrow(dim, k - 1, 1)
    return _ValuesIndices(not_a_view(v if keepdim else v.squeeze(dim)), not_a_view(i if keepdim else i.squeeze(dim)))


@torch_function("median")
def median(input, dim=None, keepdim=False):  # noqa: A002
    """The lower of the two middle values (PyTorch's median, not numpy's mean of them);
    with dim, (values, indices)."""
    x = _t(input)
    if dim is None:  # (the gradient shared evenly by the entries equal to it, as PyTorch's)
        flat = x.reshape(-1)
        m = kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values
        if not m.requires_grad:
            return m
        ties = flat == m.detach()
        return (flat * ties).sum() / ties.sum()
    return kthvalue(x, (x.shape[dim] + 1) // 2, dim, keepdim)


@torch_function("nanmedian")
def nanmedian(input, dim=None, keepdim=False):  # noqa: A002
    x = _t(input)
    if dim is None:
        flat = x[~snp.isnan(x)] if bool(snp.isnan(x).any()) else x.reshape(-1)
        return median(flat)
    raise NotImplementedError("nanmedian with dim is not supported yet")


@torch_function("mode")
def mode(input, dim=-1, keepdim=False):  # noqa: A002
    """The most frequent value along dim (the smallest of ties) and an index of it."""
    x = _t(input)
    a = np.moveaxis(_data(x), dim, -1)
    vals = np.empty(a.shape[:-1], a.dtype)
    idx = np.empty(a.shape[:-1], np.int64)
    for pos in np.ndindex(*a.shape[:-1]):
        row = a[pos]
        u, c = np.unique(row, return_counts=True)
        v = u[np.argmax(c)]
        vals[pos], idx[pos] = v, np.nonzero(row == v)[0][-1]
    from .creation import tensor
    i = tensor(idx)
    d = dim % x.ndim
    values = snp.take_along_axis(x, np.expand_dims(idx, d), axis=d)
    return _ValuesIndices(values if keepdim else not_a_view(values.squeeze(d)), i.unsqueeze(d) if keepdim else i)


@torch_function("quantile")
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):  # noqa: A002
    _quantile_dtypes(input, q)
    return snp.quantile(_t(input), _data(q) if isinstance(q, Tensor) else q, axis=dim, keepdims=keepdim,
                        method=interpolation)


def _quantile_dtypes(input, q):  # noqa: A002
    d = _dtype_or_none(input)
    if d is not None and d not in (np.float32, np.float64) and torch_dtype_rules():
        raise dtype_error("quantile() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        same_dtype("quantile() q tensor must be same dtype as the input tensor", input, q)


@torch_function("nanquantile")
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):  # noqa: A002
    _quantile_dtypes(input, q)
    return snp.nanquantile(_t(input), _data(q) if isinstance(q, Tensor) else q, axis=dim,
                           keepdims=keepdim, method=interpolation)


@torch_function("nanmean")
def nanmean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    if dtype is None:
        float_only(input, "nanmean(): expected input to have floating point or complex dtype but got {x}")
    return snp.nanmean(_t(input), axis=_axis(dim), keepdims=keepdim)


def _cumulative_extreme(op_name):
    def fn(input, dim):  # noqa: A002
        x = _t(input)
        d = dim % builtins.max(x.ndim, 1)
        # the last position where the running extreme was attained (PyTorch's index), an op
        # (recomputed when compiled); the values are the entries there
        from .autograd.recording import apply
        from . import ops
        idx = apply(ops.get(op_name), [x.detach()], {"axis": d}).long()
        return _ValuesIndices(snp.take_along_axis(x, idx, axis=d), idx)
    return fn


torch_function("cummax")(_cumulative_extreme("cumargmax"))
torch_function("cummin")(_cumulative_extreme("cumargmin"))


@torch_function("logcumsumexp")
def logcumsumexp(input, dim):  # noqa: A002
    """log(cumsum(exp(x))) along dim, shifted by the maximum for stability."""
    x = _t(input)
    float_only(x, kernel="logcumsumexp_out_cpu")
    m = x.detach().amax(dim, keepdim=True)
    m = snp.where(snp.isfinite(m), m, 0.0)
    return (x - m).exp().cumsum(dim).log() + m


@torch_function("diff")
def diff(input, n=1, dim=-1, prepend=None, append=None):  # noqa: A002
    kw = {}
    if prepend is not None:
        kw["prepend"] = prepend
    if append is not None:
        kw["append"] = append
    return snp.diff(_t(input), n=n, axis=dim, **kw)


_UniqueResult = collections.namedtuple("unique", ["values", "inverse", "counts"])


@torch_function("unique")
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    x = _t(input)
    out = np.unique(_data(x), return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    from .creation import tensor
    if not (return_inverse or return_counts):
        return tensor(out)
    parts = [tensor(out[0])]
    if return_inverse:
        parts.append(tensor(out[1].reshape(x.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        parts.append(tensor(out[-1].astype(np.int64)))
    return tuple(parts)


@torch_function("unique_consecutive")
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    a = _data(_t(input)).reshape(-1) if dim is None else None
    if a is None:
        raise NotImplementedError("unique_consecutive with dim is not supported yet")
    keep = np.ones(a.shape, bool)
    keep[1:] = a[1:] != a[:-1]
    from .creation import tensor
    parts = [tensor(a[keep])]
    if return_inverse:
        parts.append(tensor((np.cumsum(keep) - 1).reshape(_t(input).shape)))
    if return_counts:
        parts.append(tensor(np.diff(np.append(np.nonzero(keep)[0], a.size)).astype(np.int64)))
    return parts[0] if len(parts) == 1 else tuple(parts)


@torch_function("std_mean")
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    x = _t(input)
    float_only(x, "std_mean only support floating point and complex dtypes")
    return x.std(dim, unbiased, keepdim, correction=correction), x.mean(dim, keepdim)


@torch_function("var_mean")
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    x = _t(input)
    float_only(x, "var_mean only support floating point and complex dtypes")
    return x.var(dim, unbiased, keepdim, correction=correction), x.mean(dim, keepdim)


@torch_function("cov")
def cov(input, *, correction=1, fweights=None, aweights=None):  # noqa: A002
    """Covariance of the rows (variables) over the columns (observations), as PyTorch."""
    return snp.cov(_observations(input), ddof=correction, fweights=fweights, aweights=aweights)


def _observations(input):  # noqa: A002
    """cov's and corrcoef's input: integers in the default float dtype, bool refused (PyTorch)."""
    x = _t(input)
    if x.dtype.kind in "biu" and torch_dtype_rules():
        if x.dtype == np.bool_:
            raise dtype_error("cov(): bool dtype is not supported for input")
        x = x.to(_dtype.get_default_dtype())
    return x


@torch_function("corrcoef")
def corrcoef(input):  # noqa: A002
    return snp.corrcoef(_observations(input))


@torch_function("cdist", method=False)
def cdist(x1, x2, p=2.0):
    """Pairwise p-norm distances between the rows of x1 and of x2 (batched)."""
    float_only(x1, "cdist only supports floating-point dtypes, X1 got: {x}", complex_ok=False)
    float_only(x2, "cdist only supports floating-point dtypes, X2 got: {x}", complex_ok=False)
    same_dtype("bmm", x1, x2)
    from .autograd.recording import named
    d = _t(x1)[..., :, None, :] - _t(x2)[..., None, :, :]
    # (norm's gradient at a zero distance is 0, as PyTorch's: not sqrt's inf * 0)
    return named(d.norm(p, dim=-1), "CdistBackward0", inputs=(x1, x2))


@torch_function("bincount")
def bincount(input, weights=None, minlength=0):  # noqa: A002
    return snp.bincount(input, weights=weights, minlength=minlength)


@torch_function("histc")
def histc(input, bins=100, min=0, max=0):  # noqa: A002
    float_only(input, kernel="histogram_cpu", complex_ok=False)
    a = _data(_t(input))
    lo, hi = (a.min(), a.max()) if min == max == 0 else (min, max)
    from .creation import tensor
    return tensor(np.histogram(a, bins=bins, range=(lo, hi))[0].astype(a.dtype))


# -- integration and distances -------------------------------------------------------------------
@torch_function("trapezoid", "trapz", method=False)
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along dim: sample points x (a tensor: 1-D along dim, or
    broadcasting with y), or a spacing dx (1 by default). Integer samples give the default
    float dtype; the gradient reaches y and x."""
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"trapezoid(): argument 'x' must be Tensor, not {type(x).__name__} (a spacing is dx=)")
    if x is not None and dx is not None:
        raise TypeError("trapezoid(): give either x or dx, not both")
    y = _t(y)
    d = dim % y.ndim
    n = y.shape[d]
    if x is not None and x.ndim == 1 and x.shape[0] != n:
        raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
    if n == 0:
        return y.sum(d) / 1
    pairs = y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)
    if x is None:
        return pairs.sum(d) * (1 if dx is None else dx) / 2
    if x.ndim == 1:
        steps = (x[1:] - x[:-1]).reshape((n - 1,) + (1,) * (y.ndim - 1 - d))
    else:
        steps = x.narrow(dim, 1, n - 1) - x.narrow(dim, 0, n - 1)
    return (steps * pairs).sum(d) / 2


@torch_function("pdist", method=False)
def pdist(input, p=2):  # noqa: A002
    """torch.nn.functional.pdist."""
    from .nn.functional import pdist
    return pdist(input, p)


@torch_function("cumulative_trapezoid", method=False)
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal rule along dim (one entry fewer than y there): sample points x
    (a tensor, 1-D along dim or broadcasting with y) or a spacing dx (1 by default), as
    PyTorch computes it: cumsum(dx / 2 * (left + right)), or cumsum(steps * (left + right)) / 2
    for sample points. Integer samples give the default float dtype."""
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"cumulative_trapezoid(): argument 'x' must be Tensor, not {type(x).__name__} (a spacing is dx=)")
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid(): give either x or dx, not both")
    y = _t(y)
    d = dim % builtins.max(y.ndim, 1)
    n = y.shape[d]
    if x is not None and x.ndim == 1 and x.shape[0] != n:
        raise RuntimeError("cumulative_trapezoid: There must be one `x` value for each sample point")
    pairs = y.narrow(d, 0, builtins.max(n - 1, 0)) + y.narrow(d, builtins.min(n, 1), builtins.max(n - 1, 0))
    if x is None:
        return ((1 if dx is None else dx) / 2 * pairs).cumsum(d)
    if x.ndim == 1:
        steps = (x[1:] - x[:-1]).reshape((n - 1,) + (1,) * (y.ndim - 1 - d))
    else:
        steps = x.narrow(dim, 1, n - 1) - x.narrow(dim, 0, n - 1)
    from .autograd.recording import named
    return named((steps * pairs).cumsum(d) / 2, "DivBackward1")


# -- session 14: more of PyTorch's functions -----------------------------------------------------
@torch_function("matrix_exp")
def matrix_exp(input):  # noqa: A002
    """torch.linalg.matrix_exp (torch.matrix_exp, Tensor.matrix_exp)."""
    from .linalg import matrix_exp
    return matrix_exp(input)


def _unfold(self, dimension, size, step):
    """Tensor.unfold: the windows of `size` entries every `step` along `dimension`, as a
    new last dimension (dimension's length becomes the number of windows): a view, as
    PyTorch's (read after a write into self it sees the write), whose gradient adds up
    where windows overlap (ops/shape.py `windows`). Writes into it are refused."""
    from .autograd.recording import named
    x = self
    nd = builtins.max(x.ndim, 1)
    if not -nd <= dimension < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dimension})")
    d = dimension % nd
    length = x.shape[d] if x.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if x.ndim == 0:
        return named(x.reshape(1), "UnfoldBackward0", inputs=(x,))
    from .autograd.recording import apply
    from .ops import get
    return apply(get("windows"), [x], {"axis": d, "size": int(size), "step": int(step)})


_METHODS["unfold"] = _unfold  # (a method only: torch.unfold does not exist)

_MinMax = collections.namedtuple("aminmax", ["min", "max"])


@torch_function("aminmax")
def aminmax(input, *, dim=None, keepdim=False):  # noqa: A002
    """(min, max) over dim (all entries if None); the gradient of each is amin's/amax's,
    shared evenly by tied entries, as PyTorch's."""
    from .autograd.recording import named
    x = _t(input)
    if dim is not None:
        nd = builtins.max(x.ndim, 1)
        if not -nd <= dim < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})")
    if (x.numel() if dim is None else (x.shape[dim % x.ndim] if x.ndim else 1)) == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    dims = tuple(range(x.ndim)) if dim is None else dim
    if x.ndim == 0:
        lo, hi = x * 1, x * 1
    else:
        lo, hi = x.amin(dims, keepdim), x.amax(dims, keepdim)
    return _MinMax(named(lo, "AminmaxBackward0", inputs=(x,)), named(hi, "AminmaxBackward0", inputs=(x,)))


def _scalar_text(v):
    """A number as PyTorch's messages print it (-1.0 as -1)."""
    return str(int(v)) if float(v).is_integer() else str(v)


@torch_function("renorm")
def renorm(input, p, dim, maxnorm):  # noqa: A002
    """Each slice along dim whose p-norm exceeds maxnorm, scaled to norm maxnorm:
    x * maxnorm / (norm + 1e-7) there, x elsewhere. The gradient flows through the norm too
    (PyTorch's renorm_backward is this derivative)."""
    from .autograd.recording import named
    from .linalg import vector_norm
    x = _t(input)
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {_scalar_text(maxnorm)}")
    if x.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    if not -x.ndim <= dim < x.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-x.ndim}, {x.ndim - 1}], but got {dim})")
    others = tuple(k for k in range(x.ndim) if k != dim % x.ndim)
    norm = vector_norm(x, p, others, True)
    factor = snp.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return named(x * factor.to(x.dtype), "RenormBackward0", inputs=(x,))


def _no_derivative(name):
    """A rule that raises PyTorch's error for a function without a derivative."""
    def rule(saved, gs):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return rule


@torch_function("heaviside")
def heaviside(input, values):  # noqa: A002
    """0 where input < 0, values where it is 0, 1 where it is > 0 (0 for NaN, as PyTorch's).
    PyTorch has no derivative for it: a backward through it raises PyTorch's error (its
    node is `NotImplemented`)."""
    from .autograd.mode import no_grad
    from .autograd.recording import named
    from .custom import Rule, through_rule
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    x = _t(input)
    if x.dtype != values.dtype:
        raise dtype_error("heaviside is not yet implemented for tensors with different dtypes.")
    with no_grad():
        y = snp.where(x == 0, values, (x > 0).to(x.dtype))
    needs = [t for t in (x, values) if t.requires_grad]
    if not needs or y.dtype.kind not in "fc":
        return y
    y, = through_rule("heaviside", [y], needs, [], Rule(_no_derivative("heaviside"), "heaviside"))
    return named(y, "NotImplemented")


@torch_function("vander", method=False)
def vander(x, N=None, increasing=False):  # noqa: N803  (PyTorch's argument name)
    """The Vandermonde matrix of a 1-D x: columns x^(N-1), ..., x, 1 (increasing: 1, x,
    ...), N = len(x) by default, in x's dtype promoted with int64 (PyTorch's)."""
    from .autograd.recording import named
    x = _t(x)
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = _dtype._promote_types(x.dtype, np.dtype(np.int64))
    if n <= 1:
        return _t(np.ones((x.shape[0], n), dtype))
    from .linalg import vander as linalg_vander
    v = linalg_vander(x.to(dtype) if x.dtype != dtype else x, N=n)
    return v.flip(1) if not increasing else named(v, "CopySlices")


# -- special functions (the op table's scipy.special ops; numpy kernels without scipy) -------------
def _special():
    from .numpy import special
    return special


@torch_function("lgamma")
def lgamma(input):  # noqa: A002
    """log |Gamma(x)| (integers in the default float dtype); its derivative is digamma."""
    return _special().gammaln(_t(input))


@torch_function("digamma")
def digamma(input):  # noqa: A002
    """d/dx log Gamma(x); its derivative is polygamma(1, x)."""
    return _special().digamma(_t(input))


@torch_function("polygamma", method=False)
def polygamma(n, input):  # noqa: A002
    """The n-th derivative of digamma (n an integer, no gradient)."""
    return _special().polygamma(n, _t(input))


@torch_function("erfinv")
def erfinv(input):  # noqa: A002
    """The inverse of erf on (-1, 1) (+-inf at +-1, NaN outside)."""
    return _special().erfinv(_t(input))


# -- products ------------------------------------------------------------------------------------
@torch_function("mv")
def mv(input, vec):  # noqa: A002
    same_dtype("mv", input, vec)
    return _t(input) @ vec


@torch_function("addmv")
def addmv(input, mat, vec, *, beta=1, alpha=1):  # noqa: A002
    dts = [_dtype_or_none(x) for x in (input, mat, vec)]
    if all(d is not None for d in dts) and len(set(dts)) > 1 and torch_dtype_rules():  # (dtype == None!)
        raise dtype_error(f"addmv input tensors must have the same dtype, but got {dtype_name(dts[0])}, "
                          f"{dtype_name(dts[1])}, and {dtype_name(dts[2])}")
    return beta * _t(input) + alpha * (_t(mat) @ vec)


@torch_function("addbmm")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    return beta * _t(input) + alpha * (_t(batch1) @ batch2).sum(0)


@torch_function("baddbmm")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    return beta * _t(input) + alpha * (_t(batch1) @ batch2)


@torch_function("addr")
def addr(input, vec1, vec2, *, beta=1, alpha=1):  # noqa: A002
    return beta * _t(input) + alpha * snp.outer(_t(vec1), vec2)


@torch_function("inner")
def inner(input, other):  # noqa: A002
    if getattr(input, "ndim", 0) and getattr(other, "ndim", 0):  # (a 0-d one multiplies: promoted)
        same_dtype("inner", input, other)
    return snp.inner(_t(input), other)


@torch_function("vdot")
def vdot(input, other):  # noqa: A002
    same_dtype("dot", input, other)
    return snp.vdot(_t(input), other)


@torch_function("tensordot", method=False)
def tensordot(a, b, dims=2):
    same_dtype("inner", a, b)
    return snp.tensordot(_t(a), b, axes=dims)


@torch_function("chain_matmul", method=False)
def chain_matmul(*matrices):
    return snp.linalg.multi_dot([_t(m) for m in matrices])


# -- creation and random -------------------------------------------------------------------------
def _creation():
    from . import creation
    return creation


@torch_function("empty_like", method=False)
def empty_like(input, *, dtype=None, requires_grad=False, **kwargs):  # noqa: A002
    return _creation().zeros_like(input, dtype=dtype, requires_grad=requires_grad)


@torch_function("randint_like", method=False)
def randint_like(input, low=0, high=None, *, dtype=None, requires_grad=False, **kwargs):  # noqa: A002
    if high is None:
        low, high = 0, low
    return _creation().randint(low, high, tuple(input.shape), dtype=dtype or input.dtype)


@torch_function("randperm", method=False)
def randperm(n, *, dtype=None, requires_grad=False, generator=None, **kwargs):
    from .creation import tensor
    return tensor(_creation()._rng[0].permutation(n).astype(_dtype.resolve(dtype) or np.int64))


@torch_function("normal", method=False)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False, **kwargs):
    """Samples of N(mean, std); mean and std may be tensors (broadcast)."""
    from .creation import tensor
    m, s = _data(mean), _data(std)
    shape = tuple(size) if size is not None else np.broadcast_shapes(m.shape, s.shape)
    dt = _dtype.resolve(dtype) or (m.dtype if m.dtype.kind == "f" and m.ndim else
                                   s.dtype if s.dtype.kind == "f" and s.ndim else _dtype.get_default_dtype())
    return tensor((m + s * _creation()._rng[0].standard_normal(shape)).astype(dt), requires_grad=requires_grad)


@torch_function("bernoulli")
def bernoulli(input, p=None, *, generator=None):  # noqa: A002
    from .creation import tensor
    probs = _data(input) if p is None else np.full(_t(input).shape, p)
    return tensor((_creation()._rng[0].random(probs.shape) < probs).astype(_t(input).dtype))


@torch_function("multinomial")
def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002
    from .creation import tensor
    probs = _data(input).astype(np.float64)
    rows = probs.reshape(-1, probs.shape[-1])
    rng = _creation()._rng[0]
    out = np.stack([rng.choice(row.size, num_samples, replace=replacement, p=row / row.sum())
                    for row in rows])
    return tensor(out.reshape(probs.shape[:-1] + (num_samples,)).astype(np.int64))


@torch_function("poisson")
def poisson(input, generator=None):  # noqa: A002
    from .creation import tensor
    return tensor(_creation()._rng[0].poisson(_data(input)).astype(_t(input).dtype))


@torch_function("logspace", method=False)
def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False, **kwargs):
    from .creation import tensor
    d = _dtype.resolve(dtype) or _dtype.get_default_dtype()
    return tensor(np.logspace(start, end, steps, base=base).astype(d), requires_grad=requires_grad)


# -- types ---------------------------------------------------------------------------------------
@torch_function("is_tensor", method=False)
def is_tensor(obj):
    return isinstance(obj, Tensor)


@torch_function("is_floating_point")
def is_floating_point(input):  # noqa: A002
    return input.dtype.kind == "f"


@torch_function("is_complex")
def is_complex(input):  # noqa: A002
    return input.dtype.kind == "c"


@torch_function("is_nonzero")
def is_nonzero(input):  # noqa: A002
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input)


@torch_function("result_type", method=False)
def result_type(tensor1, tensor2):
    return _dtype.torch_result_type([x._data if isinstance(x, Tensor) else x for x in (tensor1, tensor2)])


@torch_function("promote_types", method=False)
def promote_types(type1, type2):
    return _dtype._promote_types(np.dtype(type1), np.dtype(type2))


@torch_function("can_cast", method=False)
def can_cast(from_, to):
    """PyTorch's rule: no cast to a lower category (float → int, int → bool)."""
    order = _dtype._CATEGORY
    return order[np.dtype(from_).kind] <= order[np.dtype(to).kind]


@torch_function("finfo", method=False)
def finfo(type=None):  # noqa: A002
    """numpy's finfo, of the default dtype without an argument (PyTorch)."""
    return np.finfo(_dtype.get_default_dtype() if type is None else type)


iinfo = np.iinfo
__all__ += ["iinfo"]


# -- complex numbers (ops/complex.py) ---------------------------------------------------------
@torch_function("real", method=False)
def real(input):  # noqa: A002
    return snp.real(_t(input))


@torch_function("imag", method=False)
def imag(input):  # noqa: A002
    return snp.imag(_t(input))


@torch_function("angle")
def angle(input):  # noqa: A002
    """The argument; of real data 0 or pi, which in PyTorch still requires grad (a zero one)."""
    x = _t(input)
    a = snp.angle(x)
    if x.dtype.kind != "c" and x.requires_grad and not a.requires_grad:
        a = a + snp.sign(x) * 0  # (sign: finite at +-inf, a zero derivative)
    return a


@torch_function("conj_physical", "resolve_conj", "resolve_neg")
def conj_physical(input):  # noqa: A002
    """The conjugate (srcgrad has no lazy conjugate bit: resolving is the identity)."""
    x = _t(input)
    return snp.conjugate(x) if x.dtype.kind == "c" else x


@torch_function("complex", method=False)
def complex(real, imag):  # noqa: A002
    """real + i imag, of the complex dtype of their float dtype."""
    re, im = _t(real), _t(imag)
    _complex_parts(re, im)
    return re + im * (1j if re.dtype == np.float64 else np.complex64(1j))


@torch_function("polar", method=False)
def polar(abs, angle):  # noqa: A002
    """abs * (cos(angle) + i sin(angle))."""
    _complex_parts(_t(abs), _t(angle))
    return complex(_t(abs) * snp.cos(angle), _t(abs) * snp.sin(angle))


def _complex_parts(a, b):
    """PyTorch's rule for the two real tensors of a complex one: floats of one dtype."""
    if not torch_dtype_rules():
        return
    if a.dtype.kind != "f" or b.dtype.kind != "f":
        raise dtype_error(f"Expected both inputs to be Half, Float or Double tensors but got {dtype_name(a.dtype)} "
                          f"and {dtype_name(b.dtype)}")
    same_dtype("complex", a, b)


@torch_function("view_as_real", method=False)
def view_as_real(input):  # noqa: A002
    """A complex tensor as (..., 2) real pairs (a copy here, PyTorch's is a view)."""
    x = _t(input)
    if x.dtype.kind != "c":
        raise RuntimeError(f"view_as_real is only supported for complex tensors, got {x.dtype}")
    return snp.stack([snp.real(x), snp.imag(x)], axis=-1)


@torch_function("view_as_complex", method=False)
def view_as_complex(input):  # noqa: A002
    x = _t(input)
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError(f"Tensor must have a last dimension of size 2, got shape {tuple(x.shape)}")
    return complex(x[..., 0], x[..., 1])


def _attach_methods():
    for name, fn in _METHODS.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)


_attach_methods()


# -- in-place forms ------------------------------------------------------------------------------
#: methods whose in-place form `x.<name>_(...)` is `x[...] = x.<name>(...)`
_IN_PLACE = ["abs", "absolute", "neg", "negative", "exp", "exp2", "expm1", "log", "log1p", "log2", "log10",
             "sqrt", "rsqrt", "square", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan",
             "arcsin", "arccos", "arctan", "asinh", "acosh", "atanh", "atan2", "arctan2", "sigmoid", "relu",
             "erf", "erfc", "logit", "floor", "ceil", "round", "trunc", "fix", "frac", "sign", "sgn",
             "reciprocal", "pow", "float_power", "clamp", "clip", "clamp_min", "clamp_max", "masked_fill",
             "lerp", "addcmul", "addcdiv", "fmod", "remainder", "hypot", "copysign", "xlogy",
             "nan_to_num", "floor_divide", "index_fill", "index_add", "index_copy", "index_put", "scatter",
             "scatter_add", "scatter_reduce", "true_divide", "divide", "subtract", "multiply", "logical_not",
             "logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge",
             "greater", "less", "greater_equal", "less_equal", "not_equal", "fmax", "fmin", "maximum",
             "minimum", "cumsum", "cumprod", "deg2rad", "rad2deg", "sinc", "tril", "triu", "lgamma", "digamma",
             "erfinv", "masked_scatter", "put"]


def _in_place(name):
    def method(self, *args, **kwargs):
        return self._write_back(lambda x: getattr(x, name)(*args, **kwargs))
    method.__name__ = name + "_"
    method.__doc__ = f"In place: x[...] = x.{name}(...) (x takes the result's history)."
    return method


def _random_fill(sample):
    """An in-place random fill (`w.uniform_(-1, 1)`), as nn.init uses under no_grad."""
    def method(self, *args, **kwargs):
        values = np.asarray(sample(_creation()._rng[0], self.shape, *args, **kwargs)).astype(self.dtype)
        self._write_back(lambda x: Tensor._make(values))
        return self
    return method


def _uniform(rng, shape, a=0.0, b=1.0, generator=None):
    return rng.uniform(a, b, shape)


def _normal(rng, shape, mean=0.0, std=1.0, generator=None):
    return mean + std * rng.standard_normal(shape)


def _bernoulli(rng, shape, p=0.5, generator=None):
    return rng.random(shape) < _data(p)


def _exponential(rng, shape, lambd=1.0, generator=None):
    return rng.exponential(1.0 / lambd, shape)


def _random(rng, shape, from_=0, to=None, generator=None):
    if to is None:
        from_, to = 0, (from_ if from_ else 2 ** 24)
    return rng.integers(from_, to, shape)


def _fill_diagonal(self, fill_value, wrap=False):
    """Fill the main diagonal (of a matrix, or of all dims equal) with fill_value."""
    def compute(x):
        out = x.clone()
        n = builtins.min(x.shape)
        idx = np.arange(n)
        if wrap and x.ndim == 2 and x.shape[0] > x.shape[1] + 1:
            rows = np.arange(0, x.shape[0], x.shape[1] + 1)
            idx_rows = np.concatenate([r + np.arange(builtins.min(x.shape[1], x.shape[0] - r)) for r in rows])
            idx_cols = np.concatenate([np.arange(builtins.min(x.shape[1], x.shape[0] - r)) for r in rows])
            out[idx_rows, idx_cols] = fill_value
            return out
        out[(idx,) * x.ndim] = fill_value
        return out
    return self._write_back(compute)


def _attach_in_place():
    for name in _IN_PLACE:
        if hasattr(Tensor, name) and not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", _in_place(name))
    for name, sample in [("uniform_", _uniform), ("normal_", _normal), ("bernoulli_", _bernoulli),
                         ("exponential_", _exponential), ("random_", _random)]:
        setattr(Tensor, name, _random_fill(sample))
    Tensor.fill_diagonal_ = _fill_diagonal


_attach_in_place()

