"""dtypes: numpy's dtype objects under PyTorch's names, and the default float dtype."""
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
