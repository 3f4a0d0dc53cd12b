"""Tiny constructors for Python `ast` nodes, so emitters read like the code they build."""
import ast
import math


def name(s):
    return ast.Name(id=s, ctx=ast.Load())


def store(s):
    return ast.Name(id=s, ctx=ast.Store())


def const(v):
    return ast.Constant(value=v)


def num(v):
    """A numeric literal; negatives as unary minus so precedence prints right."""
    if isinstance(v, float) and not math.isfinite(v):
        if math.isnan(v):
            return attr(name("np"), "nan")
        inf = attr(name("np"), "inf")
        return inf if v > 0 else neg(inf)
    if isinstance(v, complex):  # (an imaginary literal: 2j; complex numbers print as sums)
        return ast.Constant(value=v)
    if v < 0:
        return neg(ast.Constant(value=-v))
    return ast.Constant(value=v)


def literal(v):
    """Any literal attribute value: numbers, tuples, None, bools, strings."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return const(v)
    if isinstance(v, (int, float)):
        return num(v)
    if isinstance(v, tuple):
        return ast.Tuple(elts=[literal(x) for x in v], ctx=ast.Load())
    if isinstance(v, list):
        return ast.List(elts=[literal(x) for x in v], ctx=ast.Load())
    raise TypeError(f"cannot write {v!r} as a literal")


def attr(value, a):
    return ast.Attribute(value=value, attr=a, ctx=ast.Load())


def call(func, *args, **kwargs):
    if isinstance(func, str):
        parts = func.split(".")
        func = name(parts[0])
        for p in parts[1:]:
            func = attr(func, p)
    return ast.Call(func=func, args=list(args),
                    keywords=[ast.keyword(arg=k, value=v) for k, v in kwargs.items()])


def npcall(fn, *args, **kwargs):
    return call("np." + fn, *args, **kwargs)


def method(obj, meth, *args, **kwargs):
    return call(attr(obj, meth), *args, **kwargs)


def binop(a, op, b):
    return ast.BinOp(left=a, op=op, right=b)


def div(a, b):
    return binop(a, ast.Div(), b)


def neg(a):
    return ast.UnaryOp(op=ast.USub(), operand=a)


def assign(target, value):
    targets = [store(target)] if isinstance(target, str) else [target]
    return ast.Assign(targets=targets, value=value, lineno=0)


def dtype_expr(dtype):
    """`np.float32` for a numpy dtype."""
    return attr(name("np"), dtype.name if dtype.name != "bool" else "bool_")
