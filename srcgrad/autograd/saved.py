"""PyTorch's saved tensors: which of its backward nodes keep which tensors.

srcgrad's compiled backward reads what its own simplified formulas need, which is not
always what PyTorch's node kept (relu's input rather than its result; nothing at all below
a zero derivative). PyTorch's errors follow what its nodes kept, so they are decided here,
from the op and how its inputs were obtained: a second backward through a freed node, and
a kept tensor changed in place since it was saved.
"""
from ..ops.indexing import Arg
from ..utils.locations import format_loc_range
from .function import CONST, NODE

FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors "
             "after they have already been freed). Saved intermediate values of the graph are freed "
             "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
             "backward through the graph a second time or if you need to access saved tensors after "
             "calling backward.")


def nodes_run(walk, wrt):
    """The nodes PyTorch's engine runs (and then frees) for a backward asked for some
    inputs: those on a path from the roots to one of them."""
    reach = set(wrt)
    ran = []
    for fn, refs in zip(walk.fns, walk.node_refs):  # (in recording order: a node after its inputs)
        if any(type(r) is int and r in reach for r in refs):
            ran.append(fn)
            at = walk.outputs_at[id(fn)]
            reach.update(range(at, at + len(fn.outs)))
    return ran


#: ops whose PyTorch backward node keeps no tensor (only sizes, dims, dtypes): a second
#: backward through them runs there without retain_graph. Every other node — `x * 2` too,
#: which keeps the number as a tensor — raises once freed, whether or not srcgrad's
#: compiled backward needs its values. Guards and hooks are srcgrad's own.
_KEEPS_NO_TENSOR = frozenset({
    "add", "sub", "neg", "broadcast_to", "sum", "sum_to", "mean", "cumsum", "concatenate", "copy",
    "reshape", "transpose", "roll", "shift", "cast", "ceil", "floor", "rint", "round", "trunc",
    "guard", "hook", "stop_gradient", "constant", "eye", "tri", "custom", "call"})


#: ops whose PyTorch node keeps its result for the backward (`exp`: its derivative is
#: itself), and those that keep every tensor input (`sin`, `maximum`); mul, div and matmul
#: keep one operand where the other requires grad. A kept tensor changed in place since
#: is an error there, even where srcgrad's own backward reads another value (relu's input,
#: not its result) or a recorded copy; srcgrad checks them alike.
_KEEPS_RESULT = frozenset({"exp", "tanh", "sigmoid", "relu", "sqrt", "std_sqrt", "reciprocal", "exp2", "expm1",
                           "inv", "cholesky"})
_KEEPS_INPUTS = frozenset({
    "log", "log1p", "log2", "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "arcsinh", "arccosh", "arctanh", "abs", "pow", "square", "clip", "erf", "arctan2", "maximum",
    "minimum", "fmax", "fmin", "hypot", "logaddexp", "logaddexp2", "softplus", "sinc", "cbrt",
    "amax", "amin", "prod", "norm", "cumprod", "det", "slogdet", "gammaln", "digamma", "polygamma"})
#: those of them whose node keeps its result too (`x.amax(1)`: the entries equal to it
#: get the gradient)
_KEEPS_INPUTS_AND_RESULT = frozenset({"amax", "amin", "prod", "norm", "cumprod", "det"})
_KEEPS_OTHER_OPERAND = frozenset({"mul", "matmul"})
#: PyTorch nodes that keep their result besides what their op's entry above says: a power
#: with a tensor exponent (`x ** t`, `2 ** t`)
_RESULT_KEPT_BY = frozenset({"PowBackward1", "PowBackward2"})


#: PyTorch's nodes for calls srcgrad records as several ops, and what they keep of the
#: call: its tensor arguments ("input"), its result, or both
_KEEPS_CALL = {
    "StdBackward0": "both", "VarBackward0": "input", "LogsumexpBackward0": "both", "MedianBackward0": "both",
    "LogcumsumexpBackward0": "both", "GeluBackward0": "input", "EluBackward0": "input", "CeluBackward0": "input",
    "LogSigmoidBackward0": "input", "HardsigmoidBackward0": "input", "SoftshrinkBackward0": "input",
    "NativeLayerNormBackward0": "input", "RsqrtBackward0": "result", "DistBackward0": "input",
}


def keep_call(t, name, args):
    """t was made by a call PyTorch computes as one node `name`: remember the tensors that
    node keeps, as they are now (check_kept_tensors compares their versions later)."""
    how = _KEEPS_CALL.get(name)
    fn = getattr(t, "grad_fn", None)
    if how is None or fn is None:
        return
    from ..tensor import Tensor
    kept = []
    if how != "result":
        for a in args:
            if isinstance(a, Tensor) and a.dtype.kind in "fc":
                what = f"output {a._output_nr} of {type(a.grad_fn).__name__}" if a.grad_fn is not None else "a leaf"
                kept.append((a._data, a._vc, a._vc.v, what, a.grad_fn.loc if a.grad_fn is not None else fn.loc))
    if how != "input":
        kept.append((t._data, t._vc, t._vc.v, f"output 0 of {name}", fn.loc))
    fn.kept_call = tuple(kept)


def check_kept_tensors(fn):
    """Raise PyTorch's error where its node for fn kept a tensor changed in place since."""
    name = fn.op.name
    if fn.as_pytorch == "keeps no tensor" or fn.numpy_semantics:
        return
    for arr, counter, version, what, loc in fn.kept_call:
        if counter.v != version:
            raise modified_in_place(arr, what, loc, counter.v, version)
    if fn.as_pytorch == "keeps its result" or name in _KEEPS_RESULT or \
            (name in _KEEPS_INPUTS_AND_RESULT and fn.as_pytorch is None) or type(fn).__name__ in _RESULT_KEPT_BY:
        for k, (arr, counter, version) in enumerate(fn.outs):
            if counter.v != version:
                raise modified_in_place(arr, f"output {k} of {type(fn).__name__}", fn.loc, counter.v, version)
        if name not in _KEEPS_INPUTS_AND_RESULT and type(fn).__name__ not in _RESULT_KEPT_BY:
            return
    kept = []
    if name in _KEEPS_INPUTS or fn.as_pytorch == "reads its inputs":
        kept = range(len(fn.edges))
    elif name in _KEEPS_OTHER_OPERAND or name == "div":
        grads = [type(e) is tuple and e[0] != CONST for e in fn.edges]
        kept = [i for i in range(len(fn.edges)) if grads[1 - i] or (name == "div" and i == 1)] \
            if len(fn.edges) == 2 else []
    for i in kept:
        entry, edge = fn.saved[i], fn.edges[i]
        if entry is not None and entry[1].v != entry[2]:
            what = f"output {edge[1][1]} of {type(edge[1][0]).__name__}" if edge[0] == NODE else "a leaf"
            raise modified_in_place(entry[0], what, edge[1][0].loc if edge[0] == NODE else fn.loc,
                                     entry[1].v, entry[2])


def modified_in_place(arr, what, loc, now, then):
    where = format_loc_range(loc)
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{arr.dtype.name} {list(arr.shape)}], which is {what}"
        + (f" (recorded at {where})" if where else "")
        + f", is at version {now}; expected version {then} instead.")


def reads_values(name):
    """Whether the backward of op `name` may read its inputs' values (numpy's semantics op
    by op keeps them as read: recording.keep_numpy_reads), and its result's."""
    return name not in _KEEPS_NO_TENSOR, name in _KEEPS_RESULT or name in _KEEPS_INPUTS_AND_RESULT


def kept_a_tensor(fn):
    name = fn.op.name
    if fn.as_pytorch == "keeps no tensor":  # (recording.keeps_no_tensor)
        return False
    if name == "getitem":  # an index array is kept; a basic index is not
        return any(isinstance(i, Arg) for i in fn.attrs["index"])
    return name not in _KEEPS_NO_TENSOR
