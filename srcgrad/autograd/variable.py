"""`Variable`: the pre-0.4 PyTorch wrapper the seed tutorial uses. It makes a tensor.

`Variable(t, requires_grad=True)` is a new leaf sharing t's data (integer data becomes
the default float dtype, since an integer has no gradient). `volatile=True` is the old
inference mode: nothing computed from such a tensor records a graph, as under no_grad().
"""
import numpy as np

from .. import _dtype


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from ..tensor import Tensor
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    def __new__(cls, data, requires_grad=False, volatile=False):
        from ..tensor import Tensor
        arr = data._data if isinstance(data, Tensor) else np.asarray(data)
        if requires_grad and arr.dtype.kind not in "fc":
            arr = arr.astype(_dtype.get_default_dtype())
        t = Tensor._make(arr)
        if isinstance(data, Tensor) and arr is data._data:
            t._vc = data._vc
        if volatile:
            t._volatile = True
        elif requires_grad:
            t.requires_grad = True
        return t
