"""Complex numbers: which ops differentiate complex data, and how.

srcgrad follows PyTorch's convention. The gradient of a real loss L in z = x + iy is
dL/dx + i dL/dy, and an op's vector-Jacobian product is the adjoint of its derivative
for the real inner product Re(sum(conj(a) * b)). A real input's gradient is the real
part of what reaches it (ir/autodiff.py).

Most ops need no complex rule of their own:

* a structural op (a reshape, an index, a sum, an addition) moves cotangents without
  multiplying them by data: its rule holds as it is;
* a holomorphic op (exp, a product, matmul, solve, det) has its real rule with the
  derivative conjugated, `g * conj(f'(z))`, which is conj(real_rule(conj(g))): the real
  rule, applied between two conjugations.

The others have rules here (abs, and conj, real, imag, angle, registered here), and any
op not listed refuses complex data that needs a gradient when it is recorded, naming
itself and the user's line. Complex values are never fused into kernels
(ir/fusion.py): a kernel's formulas are simplified over real symbols.
"""
import numpy as np

from ..codegen import astbuild as A
from ..ir.graph import Value
from .registry import Op, register, shape_of

#: ops whose rule moves cotangents without reading data (real coefficients)
STRUCTURAL = {
    "add", "sub", "neg", "broadcast_to", "where", "sum", "mean", "sum_to", "cumsum", "amax", "amin",
    "concatenate", "copy", "reshape", "roll", "shift", "transpose",
    "getitem", "getitem_grad", "setitem", "accumulate", "cast", "stop_gradient", "hook", "constant",
    "diagonal", "diagonal_grad",
}
#: ops whose real rule, between two conjugations, is their complex one
HOLOMORPHIC = {
    "mul", "div", "pow", "exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh",
    "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "exp2", "expm1", "log2", "log10",
    "log1p", "reciprocal", "square", "ew", "prod", "cumprod", "matmul", "einsum", "inv", "solve", "det",
    "adjugate", "erf_complex",
}
#: ops with a rule of their own for complex inputs
OWN = {"abs", "sign", "conj", "real", "imag", "angle"}
#: ops whose rules are adjoints for complex data already: the transforms (ops/fft.py), a
#: loop (its body is differentiated with these rules), user rules (they get PyTorch's
#: cotangents as PyTorch's do)
ADJOINT = {"fft", "loop", "custom", "call", "svd", "eigh", "eig", "cholesky", "slogdet"}


def supports_complex(op):
    ok = _SUPPORTS.get(op.name)
    if ok is None:
        ok = _SUPPORTS[op.name] = op.name in STRUCTURAL or op.name in HOLOMORPHIC or op.name in OWN \
            or op.name in ADJOINT or op.kind == "compare" or not op.differentiable
    return ok


_SUPPORTS = {}


def involves_complex(node):
    return any(getattr(x, "dtype", None) is not None and x.dtype.kind == "c" for x in node.inputs) or \
        any(o.dtype.kind == "c" for o in node.outputs) or \
        any(isinstance(x, complex) for x in node.inputs)


def complex_vjp(node, gs):
    """The vector-Jacobian product of a node that reads or makes complex values."""
    name = node.op.name
    if name == "ew":  # (a complex value's kernel is one op: fusion leaves it alone)
        name = _kernel_of(node) or name
    if name in OWN:
        return _OWN_RULES[name](node, gs)
    if name not in HOLOMORPHIC:
        return node.op.vjp(node, gs)
    if node.op.name == "ew" and len(node.outputs) == 1:
        return _kernel_vjp(node, gs[0])
    gs = [None if g is None else conj(g) for g in gs]
    return [None if g is None else conj(g) for g in node.op.vjp(node, gs)]


def _kernel_vjp(node, g):
    """A holomorphic kernel f's rule, written directly: g * conj(df/dx_i), with the
    conjugate taken of f's inputs and numbers (conj(cos(z)) is cos(conj(z)) for a function
    with real coefficients), so a product by a number reads `g * (1-2j)`, with no
    conjugation at run time."""
    import sympy as sp

    from ..symbolic.kernel import canon_symbol, safe_diff
    from .registry import broadcast_shapes, result_dtype
    if g is None:
        return [None] * len(node.inputs)
    (e,) = node.attrs["exprs"]
    graph, active = g.graph, g.graph.active
    n = len(node.inputs)
    conjugated = {canon_symbol(k): canon_symbol(k + 1) for k in range(n)}  # (input k is read as input k + 1)
    position = {canon_symbol(k + 1): k for k in range(n)}
    grads = []
    for i, x in enumerate(node.inputs):
        s = canon_symbol(i)
        if not isinstance(x, Value) or x.dtype.kind not in "fc" or (active is not None and x.id not in active) \
                or s not in e.free_symbols:
            grads.append(None)
            continue
        d = safe_diff(e, s)
        if d == 0:
            grads.append(None)
            continue
        d = d.xreplace(conjugated).xreplace({sp.I: -sp.I})
        read = sorted(d.free_symbols, key=position.__getitem__)
        inputs = [g] + [conj(node.inputs[position[sym]]) for sym in read]
        formula = (canon_symbol(0) * d).xreplace({sym: canon_symbol(k + 1) for k, sym in enumerate(read)})
        shape = broadcast_shapes(*[v.shape for v in inputs])
        out = graph.emit("ew", inputs, exprs=(formula,), avals=((shape, result_dtype(inputs)),))
        grads.append(out.sum_to(x.shape))
    return grads


def _kernel_of(node):
    """The op of a one-op kernel whose rule is not the kernel's formula's: abs or sign."""
    from ..symbolic import functions as F
    exprs = node.attrs["exprs"]
    if len(exprs) == 1 and exprs[0].func in (F.abs_, F.sgn) and exprs[0].args[0].is_Symbol:
        return "abs" if exprs[0].func is F.abs_ else "sign"
    return None


def conj(v):
    """conj(v) as a node (v itself when v is real, and u when v is conj(u))."""
    if v.dtype.kind != "c":
        return v
    if v.node is not None and v.node.op.name == "conj":
        return v.node.inputs[0]
    if v.node is not None and v.node.op.name == "cast" and v.node.inputs[0].dtype.kind != "c":
        return v  # (real data made complex)
    return v.graph.emit("conj", [v])


def real(v):
    return v.graph.emit("real", [v]) if v.dtype.kind == "c" else v


# -- the rules of their own ----------------------------------------------------------------
def _abs_vjp(node, gs):
    """|z|: g * z / |z|, 0 at 0 (as PyTorch)."""
    (g,), z, r = gs, node.inputs[0], node.outputs[0]
    zero = r.graph.emit("eq", [r, 0])
    unit = z / r.graph.emit("where", [zero, 1.0, r])
    return [g * r.graph.emit("where", [zero, 0.0, unit])]


def _conj_vjp(node, gs):
    return [conj(gs[0])]


def _real_vjp(node, gs):
    return [real(gs[0])]


def _imag_vjp(node, gs):
    """Im(z): the adjoint of dz -> Im(dz) is g -> i g."""
    return [real(gs[0]) * 1j]


def _angle_vjp(node, gs):
    """arg(z): d arg = Im(dz / z), whose adjoint is g -> i g z / |z|^2 (0 at 0)."""
    (g,), z = gs, node.inputs[0]
    if z.dtype.kind != "c":
        return [None]
    r2 = real(z * conj(z))
    zero = z.graph.emit("eq", [r2, 0])
    return [real(g) * z.graph.emit("where", [zero, 0.0, z / z.graph.emit("where", [zero, 1.0, r2])]) * 1j]


def _sign_vjp(node, gs):
    """z / |z| is piecewise constant in modulus, and PyTorch's sgn takes it as constant."""
    return [None] * len(node.inputs)


_OWN_RULES = {"abs": _abs_vjp, "sign": _sign_vjp, "conj": _conj_vjp, "real": _real_vjp, "imag": _imag_vjp,
              "angle": _angle_vjp}


# -- the ops ---------------------------------------------------------------------------------
def _same(inputs, attrs):
    return [(shape_of(inputs[0]), inputs[0].dtype)]


def _real_part(inputs, attrs):
    d = inputs[0].dtype
    return [(shape_of(inputs[0]), np.dtype(d.char.lower()) if d.kind == "c" else d)]


for _name, _fn, _infer, _torch in (("conj", np.conj, _same, "ConjBackward0"),
                                   ("real", np.real, _real_part, "RealBackward0"),
                                   ("imag", np.imag, _real_part, "ImagBackward0"),
                                   ("angle", np.angle, _real_part, "AngleBackward0")):
    register(Op(_name, "special", _fn, infer=_infer, torch_name=_torch,
                vjp=lambda node, gs: complex_vjp(node, gs),
                emit=lambda args, attrs, node, fn=_fn.__name__: A.npcall(fn, args[0])))
