"""Source text → live function, with the source registered in `linecache`.

Registering the text under the function's filename is what lets tracebacks, `pdb` and
`inspect.getsource` show the generated lines, exactly as the user would read them.
"""
import itertools
import linecache
import math

import numpy

_counter = itertools.count(1)

#: callables `listener(label, source, filename)`, told about every function srcgrad
#: generates (before it is compiled) — for tools such as srcgrad's pytest plugin
listeners = []

#: functions generated code may call by name (a compiled function's backward, called from
#: another backward that uses it); bound into every generated module
SHARED = {}


def load_function(source, fn_name, label, namespace=None):
    """Compile `source` (which defines `fn_name`) and return the function.

    The namespace binds `np` once, at load time: generated code reaches numpy only
    through that name, so another array module could be bound in its place."""
    filename = f"<srcgrad:{label}#{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    for listener in listeners or ():
        listener(label, source, filename)
    code = compile(source, filename, "exec")
    ns = {"np": numpy, "math": math, **SHARED}
    if namespace:
        ns.update(namespace)
    exec(code, ns)
    fn = ns[fn_name]
    fn.__srcgrad_source__ = source
    return fn
