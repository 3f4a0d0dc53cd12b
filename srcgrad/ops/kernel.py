"""`ew`: a fused elementwise kernel — several scalar sympy formulas over the same inputs.

The fusion pass turns every region of elementwise ops into one `ew` node; the backward
of an `ew` node is another `ew` node (its formulas differentiated by sympy), so fused
code can be differentiated again. attrs: `exprs` (sympy expressions over the symbols
a0, a1, ... standing for the inputs, one per output) and `avals` ((shape, dtype) per
output: a kernel may broadcast beyond its inputs' shapes), and optionally `names`
((formula, user's name) of intermediates, for the code generator's temporaries).
"""
import numpy as np

from .registry import Op, register


def _impl(*arrays, exprs, avals, names=()):
    from ..codegen.kernels import kernel_function
    fn = kernel_function(exprs, avals, tuple((a.shape, a.dtype) for a in arrays))
    # (a select computes both of its branches: the one not taken may divide by 0 where it is
    # not used, which numpy would report; generated functions run so too, see transforms._run)
    with np.errstate(all="ignore"):
        out = fn(*arrays)
    return out if len(exprs) > 1 else out[0]


def _vjp(node, gs):
    from ..symbolic.kernel import elementwise_vjp
    return elementwise_vjp(node, gs)


def _fmt(attrs):
    return "; ".join(str(e) for e in attrs["exprs"])


def _formula(*args, exprs, avals, names=()):
    from ..symbolic.kernel import substitute
    return substitute(exprs, args)


def _torch_name(attrs, shapes):
    """A fused kernel run as one node (a create_graph backward runs them so) is named after
    the last operation of its formula, as PyTorch's node for that step is (`2 * x * g`:
    MulBackward0); FusedBackward0 where that is not one PyTorch op."""
    exprs = attrs.get("exprs", ())
    if len(exprs) != 1:
        return "FusedBackward0"
    import sympy as sp
    e = exprs[0]
    if e.is_Mul:
        return "DivBackward0" if any(f.is_Pow and f.exp == -1 and not f.base.is_number for f in e.args) \
            else "MulBackward0"
    if e.is_Add:
        return "AddBackward0"
    if e.is_Pow:
        return "PowBackward0"
    heads = {sp.exp: "ExpBackward0", sp.log: "LogBackward0", sp.sin: "SinBackward0", sp.cos: "CosBackward0",
             sp.tanh: "TanhBackward0", sp.tan: "TanBackward0"}
    return heads.get(e.func, "FusedBackward0")


register(Op("ew", "elementwise", _impl, infer=lambda inputs, attrs: list(attrs["avals"]),
            vjp=_vjp, formula=_formula, fmt_attrs=_fmt, torch_name=_torch_name))
