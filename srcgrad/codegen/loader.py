"""Source text → live function, with the source registered in `linecache`.

Registering the text under the function's filename is what lets tracebacks, `pdb` and
`inspect.getsource` show the generated lines, exactly as the user would read them.
"""
import itertools
import linecache
import math
import re

import numpy

from .scratch import POOL

_counter = itertools.count(1)

#: callables `listener(label, source, filename)`, told about every function srcgrad
#: generates (before it is compiled) — for tools such as srcgrad's pytest plugin
listeners = []

#: functions generated code may call by name (a compiled function's backward, called from
#: another backward that uses it); bound into every generated module
SHARED = {}
#: the helpers among them that ops' code calls (expm, window_sums...): no generated variable
#: takes their names (codegen/emit.Namer)
HELPERS = set()


def share_helper(name, fn):
    """Bind `fn` under `name` in every generated module, for ops' emitted code to call."""
    SHARED[name] = fn
    HELPERS.add(name)


def load_function(source, fn_name, label, namespace=None, code=None):
    """Compile `source` (which defines `fn_name`) and return the function.

    The namespace binds `np` once, at load time: generated code reaches numpy only
    through that name, so another array module could be bound in its place.
    code: the module's code object compiled earlier from this very source (the disk
    cache keeps it, as Python keeps .pyc files: compiling a long function is most of
    loading it), given this process's file name here."""
    filename = f"<srcgrad:{label}#{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    for listener in listeners or ():
        listener(label, source, filename)
    code = compile(source, filename, "exec") if code is None else _renamed(code, filename)
    ns = {"np": numpy, "math": math, "scratch": POOL, **SHARED}  # (one pool for all: scratch.py)
    if uses_scipy_special(source):
        from ..symbolic.special import scipy_special
        ns["special"] = scipy_special()
    if namespace:
        ns.update(namespace)
    exec(code, ns)
    fn = ns[fn_name]
    fn.__srcgrad_source__ = source
    fn.__srcgrad_code__ = code
    return fn


def uses_scipy_special(source):
    """Whether generated source calls scipy.special's functions (`special.gammaln(x)`;
    not a user's name that ends so, `my_special.sum()`)."""
    return _SPECIAL_CALL.search(source) is not None


_SPECIAL_CALL = re.compile(r"(?<![\w.])special\.")


def _renamed(code, filename):
    consts = tuple(_renamed(c, filename) if isinstance(c, type(code)) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)
