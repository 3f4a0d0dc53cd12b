"""The op table. Importing this package registers every primitive."""
from .registry import (Op, ShapeError, all_ops, attrs_key, broadcast_shapes, float_dtype, get,
                       normalize_axis, register, result_dtype)
from . import elementwise, scipy_special, reduction, shape, indexing, joining  # noqa: F401  (registration)
from . import linalg, kernel, special, misc, loop, complex, fft, matrix_exp, scipy_linalg  # noqa: F401  (registration)

__all__ = ["Op", "ShapeError", "all_ops", "attrs_key", "broadcast_shapes", "float_dtype", "get",
           "normalize_axis", "register", "result_dtype"]
