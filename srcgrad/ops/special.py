"""Ops that call back into Python while a backward runs."""
import ast

from ..codegen import astbuild as A
from .registry import Op, register


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
