"""Short, jaxpr-style names for shapes and dtypes: `f32[2,2]`, `i64[]`, `bool[3]`."""
import numpy as np

_SHORT = {"float16": "f16", "float32": "f32", "float64": "f64", "int8": "i8", "int16": "i16",
          "int32": "i32", "int64": "i64", "uint8": "u8", "bool": "bool", "complex64": "c64",
          "complex128": "c128"}


def short_dtype(dtype):
    name = np.dtype(dtype).name
    return _SHORT.get(name, name)


def fmt_aval(shape, dtype):
    if np.dtype(dtype) == object:  # a loop's saved history: one array per iteration
        return "history"
    return f"{short_dtype(dtype)}[{','.join(str(d) for d in shape)}]"
