"""Grad modes: no_grad, enable_grad, set_grad_enabled (context managers and decorators)."""
import functools
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def _set(flag):
    _state.enabled = bool(flag)


class _Scope:
    """Sets the grad mode inside a `with` block (or a decorated function)."""

    def __init__(self, flag):
        self.flag = bool(flag)

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self.flag)
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        flag = self.flag

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _Scope(flag):
                return fn(*args, **kwargs)
        return wrapper


class _NoParamScope(_Scope):
    """Also a decorator without parentheses, like PyTorch's: `@no_grad` as `@no_grad()`."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {orig_func!r}")
        return cls()(orig_func)


class no_grad(_NoParamScope):
    """Operations inside record no graph; their results do not require grad."""

    def __init__(self):
        super().__init__(False)


class inference_mode(_Scope):
    """PyTorch's inference_mode(mode=True): no_grad for what srcgrad records (its tensors
    carry no separate inference flag). `@inference_mode` and `@inference_mode()` decorate."""

    def __new__(cls, mode=True):
        if callable(mode):  # (used bare, as a decorator)
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        super().__init__(False)
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = is_grad_enabled()
        if self.mode:  # (inference_mode(False) leaves the grad mode as it is)
            _set(False)
        return self

    def __call__(self, fn):
        scope = self

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(scope.mode):
                return fn(*args, **kwargs)
        return wrapper


class enable_grad(_NoParamScope):
    def __init__(self):
        super().__init__(True)


class set_grad_enabled(_Scope):
    """Like PyTorch: takes effect when called; `with` / decorator use restores afterwards."""

    def __init__(self, mode):
        super().__init__(mode)
        self._prev = is_grad_enabled()
        _set(self.flag)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set(self._prev)  # used as a decorator: only the decorated calls change mode
        return super().__call__(fn)
