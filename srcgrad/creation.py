"""Constructors: tensor, zeros, ones, randn, arange, ... and the legacy typed tensors."""
import numpy as np

from . import _dtype
from .tensor import Tensor, _size_args

_rng = [np.random.default_rng(67280421310721)]


def manual_seed(seed):
    """Seed the generator behind randn/rand/randint (returns the seed, like a Generator)."""
    _rng[0] = np.random.default_rng(int(seed))
    return int(seed)


def _infer_dtype(data):
    """PyTorch's inference: Python floats → the default dtype, ints → int64, bools → bool;
    numpy arrays keep their dtype."""
    if isinstance(data, (np.ndarray, np.generic)):
        return data.dtype  # numpy data keeps its dtype, scalars included (as PyTorch)
    arr = np.asarray(data)
    if arr.dtype.kind == "c":  # Python complex numbers: the complex dtype of the default float one
        if any(isinstance(x, (np.generic, np.ndarray)) for x in _flat(data if isinstance(data, (list, tuple))
                                                                      else [data])):
            return arr.dtype
        return np.result_type(_dtype.get_default_dtype(), np.complex64)
    if arr.dtype.kind not in "fiu":
        return arr.dtype
    if isinstance(data, (list, tuple)):  # numpy scalars in a list keep their dtypes, which
        kinds = set()                     # promote with the Python numbers' (as PyTorch's)
        for x in _flat(data):
            kinds.add(x.dtype if isinstance(x, (np.generic, np.ndarray)) else
                      _dtype.get_default_dtype() if isinstance(x, float) else
                      np.dtype(np.bool_) if isinstance(x, bool) else np.dtype(np.int64))
        if any(isinstance(x, (np.generic, np.ndarray)) for x in _flat(data)):
            return np.result_type(*kinds)
    if arr.dtype.kind == "f":
        return _dtype.get_default_dtype()
    return np.dtype(np.int64)


def _finish(data, requires_grad):
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor holding a copy of `data`."""
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = np.array([_plain(x) for x in data])
    dtype = _dtype.resolve(dtype) or _infer_dtype(data)
    return _finish(np.array(data, dtype=dtype), requires_grad)


def _flat(x):
    if isinstance(x, (list, tuple)):
        for y in x:
            yield from _flat(y)
    else:
        yield x


def _plain(x):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return [_plain(y) for y in x]
    return x


def as_tensor(data, dtype=None):
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _dtype.resolve(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == _dtype.resolve(dtype)):
        return Tensor._make(data)
    return tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing the array's memory."""
    return Tensor._make(np.asarray(array))


class _TypedMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype


class _Typed(metaclass=_TypedMeta):
    dtype = None

    def __new__(cls, *args, requires_grad=False):
        return Tensor(*args, dtype=cls.dtype, requires_grad=requires_grad)


class FloatTensor(_Typed):
    """Legacy constructor: float32 data, or zeros of the given sizes."""
    dtype = np.dtype(np.float32)


class DoubleTensor(_Typed):
    dtype = np.dtype(np.float64)


class LongTensor(_Typed):
    dtype = np.dtype(np.int64)


class IntTensor(_Typed):
    dtype = np.dtype(np.int32)


class BoolTensor(_Typed):
    dtype = np.dtype(np.bool_)


def _dt(dtype):
    return _dtype.resolve(dtype) or _dtype.get_default_dtype()


def zeros(*size, dtype=None, requires_grad=False):
    return _finish(np.zeros(_size_args(size), _dt(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _finish(np.ones(_size_args(size), _dt(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _finish(np.zeros(_size_args(size), _dt(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = _infer_dtype(fill_value)
    return _finish(np.full(_size_args((size,)), fill_value, _dtype.resolve(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=_dt(dtype)), requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None):
    return _finish(_rng[0].standard_normal(_size_args(size)).astype(_dt(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None):
    return _finish(_rng[0].random(_size_args(size)).astype(_dt(dtype)), requires_grad)


def randint(low, high=None, size=(), dtype=None, requires_grad=False, **kwargs):
    """randint(high, size) or randint(low, high, size), as PyTorch."""
    if isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    return _finish(_rng[0].integers(low, high, size=tuple(size)).astype(_dtype.resolve(dtype) or np.int64),
                   requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Like PyTorch: int64 for integer arguments, the default float dtype otherwise."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else _dtype.get_default_dtype()
    return _finish(np.arange(start, end, step, dtype=_dtype.resolve(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _finish(np.linspace(start, end, steps, dtype=_dt(dtype)), requires_grad)


def _like(fn):
    def like(t, dtype=None, requires_grad=False):
        arr = t._data if isinstance(t, Tensor) else np.asarray(t)
        return _finish(fn(arr, _dtype.resolve(dtype) or arr.dtype), requires_grad)
    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like = _like(lambda a, d: np.zeros(a.shape, d))
ones_like = _like(lambda a, d: np.ones(a.shape, d))
zeros_like.__name__, ones_like.__name__ = "zeros_like", "ones_like"


def full_like(t, fill_value, dtype=None, requires_grad=False):
    arr = t._data if isinstance(t, Tensor) else np.asarray(t)
    return _finish(np.full(arr.shape, fill_value, _dtype.resolve(dtype) or arr.dtype), requires_grad)


def randn_like(t, dtype=None, requires_grad=False):
    arr = t._data if isinstance(t, Tensor) else np.asarray(t)
    return _finish(_rng[0].standard_normal(arr.shape).astype(_dtype.resolve(dtype) or arr.dtype), requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    arr = t._data if isinstance(t, Tensor) else np.asarray(t)
    return _finish(_rng[0].random(arr.shape).astype(_dtype.resolve(dtype) or arr.dtype), requires_grad)
