"""Ops that call back into Python while a backward runs."""
import ast

import numpy as np

from ..codegen import astbuild as A
from .registry import Op, get, register


def _no_eager(*args, **kwargs):
    raise RuntimeError("a hook node is run by the autograd engine, not by eager code")


# `hook`: pass a gradient through the user's tensor hooks (which may replace it).
# Generated code calls `hooks[slot](grad)`; the hooks tuple is an argument of the function.
register(Op("hook", "special", _no_eager,
            infer=lambda inputs, attrs: [(inputs[0].shape, inputs[0].dtype)],
            vjp=None, differentiable=False,
            emit=lambda args, attrs, node: A.call(
                ast.Subscript(value=A.name("hooks"), slice=A.num(attrs["slot"]),
                                            ctx=ast.Load()), args[0])))


# `stop_gradient`: the value, cut from differentiation. What `.detach()` and `.data`
# record while a function is traced, so that a decision taken on them is still a
# recorded (and guarded) function of the arguments.
register(Op("stop_gradient", "special", lambda x: x,
            infer=lambda inputs, attrs: [(inputs[0].shape, inputs[0].dtype)],
            vjp=None, differentiable=False, torch_name="DetachBackward0",
            emit=lambda args, attrs, node: args[0]))


class GuardFailed(Exception):
    """Raised by generated code when a decision taken while tracing comes out differently."""


#: how far (in units of the dtype's epsilon, relative) a float read by the recording may
#: be computed by the generated code and still be the recorded one
GUARD_ULPS = 16


def _guard_emit(args, attrs, node, target):
    """`if <decision differs>: raise GuardFailed(k)`."""
    x, kind, expected = args[0], attrs["kind"], attrs["expected"]
    if kind == "bool":
        test = ast.UnaryOp(op=ast.Not(), operand=x) if expected else x
    elif kind == "array":  # (an integer or boolean array numpy took the values of)
        test = ast.UnaryOp(op=ast.Not(), operand=A.npcall("array_equal", x, A.literal(expected)))
    elif isinstance(expected, float) and expected != expected:  # NaN is never == NaN
        test = ast.UnaryOp(op=ast.Not(), operand=A.npcall("isnan", x))
    elif isinstance(expected, float) and expected not in (0.0, float("inf"), float("-inf")) \
            and node.inputs[0].dtype.kind == "f":
        # a float the recording read (float(x), x.item()): the generated code may compute
        # it in another order (a fused, simplified formula) and land a few ulps away, which
        # is the same decision; the recorded value stands in for it
        tol = GUARD_ULPS * float(np.finfo(node.inputs[0].dtype).eps) * abs(expected)
        diff = A.call("abs", A.binop(x, ast.Sub(), A.literal(expected)))
        test = ast.Compare(left=diff, ops=[ast.Gt()], comparators=[A.num(float(f"{tol:.3g}"))])
    else:
        test = ast.Compare(left=x, ops=[ast.NotEq()], comparators=[A.literal(expected)])
    fail = ast.Raise(exc=A.call("GuardFailed", A.num(attrs["index"])), cause=None)
    return [ast.If(test=test, body=[fail], orelse=[])]


# `guard`: a data-dependent Python decision (bool(), float(), int(), .item()) taken while
# tracing. Generated code re-checks it; a different outcome means another code path.
register(Op("guard", "special", lambda x, kind, expected, index: None,
            infer=lambda inputs, attrs: [], vjp=None, differentiable=False, statement=True,
            emit=_guard_emit, fmt_attrs=lambda attrs: f"{attrs['kind']} == {attrs['expected']!r}"))
get("guard").side_effect = True


def _raises_emit(args, attrs, node, target):
    """`try: <the op> / except LinAlgError: pass / else: raise GuardFailed(k)`."""
    call = get(attrs["op"]).emit(args, dict(attrs["op_attrs"]), node)
    error = A.attr(A.attr(A.name("np"), "linalg"), "LinAlgError")
    fail = ast.Raise(exc=A.call("GuardFailed", A.num(attrs["index"])), cause=None)
    return [ast.Try(body=[ast.Expr(value=call)],
                    handlers=[ast.ExceptHandler(type=error, name=None, body=[ast.Pass()])],
                    orelse=[fail], finalbody=[])]


# `raises`: an op that raised numpy's LinAlgError while tracing, which the user's code
# caught (`try: L = np.linalg.cholesky(S) / except LinAlgError: ...`): the code that
# follows is that of the `except` branch, so the generated code checks that the op still
# raises. (A variant traced where the op succeeded stops at its error: transforms._run.)
register(Op("raises", "special", lambda *args, **attrs: None,
            infer=lambda inputs, attrs: [], vjp=None, differentiable=False, statement=True,
            emit=_raises_emit, fmt_attrs=lambda attrs: f"{attrs['op']} raises LinAlgError"))
get("raises").side_effect = True
