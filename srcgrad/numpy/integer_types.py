"""numpy's integer types as casts: `np.int64(x)` of a tensor is `x.astype(np.int64)`.

numpy's own `np.int64(a)` converts its argument through `__array__`, which a traced tensor
refuses (its values would be frozen into the generated code). With these, a cast to
integers in a function written against `srcgrad.numpy` (`inds = np.int64(W[:, -1])`)
is recorded like `astype`, with a zero derivative. They are subclasses of numpy's types:
as a dtype (`np.zeros(3, np.int64)`, `a.dtype == np.int64`) they are numpy's.
"""
import numpy as _np

__all__ = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "intp", "int_"]


def _cast_type(base):
    def __new__(cls, *args, **kwargs):
        from ..tensor import Tensor
        if len(args) == 1 and not kwargs and isinstance(args[0], Tensor):
            return args[0].astype(base)
        return base(*args, **kwargs)
    return type(base.__name__, (base,), {
        "__new__": __new__, "__module__": __name__,
        "__doc__": f"numpy.{base.__name__}; called on a tensor, the recorded cast `x.astype({base.__name__})`."})


int8, int16, int32, int64 = (_cast_type(t) for t in (_np.int8, _np.int16, _np.int32, _np.int64))
uint8, uint16, uint32, uint64 = (_cast_type(t) for t in (_np.uint8, _np.uint16, _np.uint32, _np.uint64))
intp = int64 if _np.intp is _np.int64 else _cast_type(_np.intp)
int_ = int64 if _np.int_ is _np.int64 else _cast_type(_np.int_)
