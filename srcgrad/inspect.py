"""Looking at what srcgrad made: the recorded IR and the generated backward source."""
from .autograd.engine import Walk, compiled_backward, record_graph, _user_names


def _compiled_for(t):
    from .tensor import Tensor
    if not isinstance(t, Tensor) or not t.requires_grad:
        raise ValueError("inspect needs a tensor that requires grad (the output of a recorded run)")
    walk = Walk([t])
    wrt = [i for i, d in enumerate(walk.values) if d[0] == "leaf"]
    return compiled_backward(walk, [walk.value_of(t)], wrt)


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
