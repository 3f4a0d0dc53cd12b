"""Compiler switches for tests: the large-array thresholds, set together, and a pass
switched off (the reference a rewrite is checked against)."""
import srcgrad


class thresholds:
    """Every large-array threshold of the compiler set to `size` elements (the reference,
    out of reach; or 1, so that the smallest program takes every large-array form)."""
    SETTINGS = srcgrad.config.THRESHOLDS

    def __init__(self, size):
        self.size = size

    def __enter__(self):
        import importlib
        self.modules = [importlib.import_module(m) for m, _ in self.SETTINGS]
        self.saved = [getattr(m, a) for m, (_, a) in zip(self.modules, self.SETTINGS)]
        for m, (_, a) in zip(self.modules, self.SETTINGS):
            setattr(m, a, self.size)
        srcgrad.autograd.engine.clear_cache()

    def __exit__(self, *exc):
        for m, (_, a), v in zip(self.modules, self.SETTINGS, self.saved):
            setattr(m, a, v)
        srcgrad.autograd.engine.clear_cache()


def value_and_grad_without(pass_name, f, args, **kw):
    """srcgrad.value_and_grad(f, **kw)(*args) with the pass `pass_name` (a function that
    srcgrad.compiler calls) switched off, compiled afresh."""
    from srcgrad import compiler
    saved = getattr(compiler, pass_name)
    setattr(compiler, pass_name, lambda graph: 0)
    try:
        srcgrad.autograd.engine.clear_cache()
        return srcgrad.value_and_grad(f, **kw)(*args)
    finally:
        setattr(compiler, pass_name, saved)
        srcgrad.autograd.engine.clear_cache()
