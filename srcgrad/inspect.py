"""Looking at what srcgrad made: the recorded IR and the generated backward source."""
from .autograd.engine import Walk, record_graph, _user_names, compile_backward, _cache, structural_key


def _compiled_for(t):
    from .tensor import Tensor
    if not isinstance(t, Tensor) or not t.requires_grad:
        raise ValueError("inspect needs a tensor that requires grad (the output of a recorded run)")
    walk = Walk([t])
    root = walk.value_of(t)
    wrt = [i for i, d in enumerate(walk.values) if d[0] == "leaf"]
    key = structural_key(walk, [root], wrt, [], [])
    c = _cache.get(key)
    if c is None:
        names = _user_names(walk)
        label = f"`{names[root]}`" if root in names else "the output"
        c = _cache[key] = compile_backward(walk, [root], wrt, [], [], names, label)
    return c


def backward_source(t):
    """The generated Python source of `t.backward()` (compiled now if need be)."""
    return _compiled_for(t).source


def ir(t):
    """The recorded run that produced `t`, as IR text (one op per line)."""
    walk = Walk([t])
    g, vals = record_graph(walk, _user_names(walk))
    g.outputs = [vals[walk.value_of(t)]]
    return IRText(str(g))


def backward_ir(t):
    """The backward graph (after fusion) that the generated source computes."""
    return IRText(str(_compiled_for(t).graph))


class IRText(str):
    """A string that prints as itself in a REPL (no quotes)."""
    def __repr__(self):
        return str(self)
