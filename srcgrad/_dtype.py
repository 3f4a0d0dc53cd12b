"""dtypes: numpy's dtype objects under PyTorch's names, the default float dtype, and
PyTorch's promotion rule."""
import builtins

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001  (torch.bool)
complex64 = cfloat = np.dtype(np.complex64)
complex128 = cdouble = np.dtype(np.complex128)

_default = [float32]


def get_default_dtype():
    return _default[0]


def set_default_dtype(dtype):
    """The dtype of float data created without an explicit dtype (float32 unless changed)."""
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, got {d.name}")
    _default[0] = d


def resolve(dtype):
    """A user's dtype argument (numpy dtype, type, string, torch-style name) → np.dtype."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        dtype = dtype.replace("torch.", "")
    return np.dtype(dtype)


def is_float(dtype):
    return np.dtype(dtype).kind == "f"


# -- PyTorch's type promotion (torch.result_type) -------------------------------------------
# Categories rank bool < integer < float < complex. Operands are grouped by priority: tensors
# with dimensions, then 0-d tensors, then Python numbers. A lower-priority group decides the
# dtype only when its category is higher (`float32 vector * float64 0-d` stays float32, an
# integer vector times 1.5 is of the default float dtype). numpy (NEP 50) ranks a 0-d array
# as any other array and widens integers met by floats to float64, so eager tensors promote
# here, while numpy code inside a compiled function keeps numpy's own rule.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _promote_types(a, b):
    """PyTorch's promoteTypes: the higher category wins; within one, numpy's widening."""
    if a is None or a == b:
        return b
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher, lower):
    """A higher-priority group's dtype, unless a lower-priority one is of a higher category."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    ch, cl = _CATEGORY[higher.kind], _CATEGORY[lower.kind]
    if ch == 3 or ch >= 2 and cl < 3:
        return higher
    if cl == 3:
        return np.result_type(higher, np.complex64) if ch == 2 else lower
    if ch == 0 or cl == 2:
        return _promote_types(higher, lower)
    return higher


def torch_result_type(operands):
    """The dtype PyTorch gives an op of `operands` (arrays or Python numbers)."""
    dims = zero = number = None
    for x in operands:
        d = getattr(x, "dtype", None)
        if d is not None and hasattr(x, "ndim"):
            if x.ndim:
                dims = _promote_types(dims, d)
            else:
                zero = _promote_types(zero, d)
            continue
        if isinstance(x, (builtins.bool, np.bool_)):
            d = bool
        elif isinstance(x, (builtins.int, np.integer)):
            d = int64
        elif isinstance(x, complex):
            d = np.dtype(np.complex128 if _default[0] == float64 else np.complex64)
        else:
            d = _default[0]
        number = _promote_types(number, d)
    return _combine(dims, _combine(zero, number))
