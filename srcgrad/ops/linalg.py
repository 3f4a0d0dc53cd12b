"""Matrix products and linear algebra, with hand-written rules (sympy has no business with
these). Every rule builds its gradient from ops that have rules themselves (matmul,
solve, inv, einsum, elementwise), so backward passes can be differentiated again."""
import ast

import numpy as np

from ..codegen import astbuild as A
from ..codegen import layout
from ..codegen.loader import share_helper
from .registry import Op, ShapeError, broadcast_shapes, float_dtype, register, result_dtype


def _matmul_infer(inputs, attrs):
    a, b = inputs
    sa, sb = tuple(a.shape), tuple(b.shape)
    if not sa or not sb:
        raise ShapeError(f"matmul needs at least 1-D operands, got shapes {sa} and {sb}")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ShapeError(f"matmul: inner dimensions differ: shapes {sa} and {sb} ({ka} != {kb})")
    a2 = sa if len(sa) > 1 else (1,) + sa
    b2 = sb if len(sb) > 1 else sb + (1,)
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dimensions of shapes {sa} and {sb} do not broadcast") from None
    out = tuple(batch) + ((a2[-2],) if len(sa) > 1 else ()) + ((b2[-1],) if len(sb) > 1 else ())
    return [(out, result_dtype([a, b]))]


def _matmul_vjp(node, gs):
    (g,) = gs
    a, b = node.inputs
    if a.ndim == 1 and b.ndim == 1:          # dot product: elementwise rules, fusable
        return [g * b, g * a]
    if b.ndim == 1:                           # (..., n, k) @ (k,) -> (..., n)
        ga = g.reshape(g.shape + (1,)) * b
        if a.ndim == 2:                       # plain matrix-vector: gb = g @ a, no reshapes
            return [ga, g @ a]
        gb = (g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) @ a)
        return [ga.sum_to(a.shape), gb.reshape(gb.shape[:-2] + gb.shape[-1:]).sum_to(b.shape)]
    if a.ndim == 1:                           # (k,) @ (..., k, m) -> (..., m)
        if b.ndim == 2:                       # plain vector-matrix: ga = b @ g
            return [b @ g, a.reshape(a.shape + (1,)) * g.reshape((1,) + g.shape)]
        ga = b @ g.reshape(g.shape + (1,))
        gb = a.reshape(a.shape + (1,)) * g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        return [ga.reshape(ga.shape[:-1]).sum_to(a.shape), gb.sum_to(b.shape)]
    return [(g @ b.mT).sum_to(a.shape), (a.mT @ g).sum_to(b.shape)]


def _matmul_torch_name(attrs, inputs):
    """PyTorch 2.13's node for `a @ b`, from how its matmul reduces to dot/mv/mm/bmm: a
    batched product folds into a view (UnsafeViewBackward0), or copies an expanded batch
    (CloneBackward0) where the batch dimensions differ."""
    shapes = [np.shape(x) for x in inputs]
    if len(shapes) != 2:
        return "MmBackward0"
    (sa, sb), na, nb = shapes, len(shapes[0]), len(shapes[1])
    simple = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4", (2, 2): "MmBackward0"}
    if (na, nb) in simple:
        return simple[(na, nb)]
    if nb <= 2 or na == 1 or tuple(sa[:-2]) == tuple(sb[:-2]):
        return "UnsafeViewBackward0"
    return "CloneBackward0"


register(Op("matmul", "linalg", np.matmul, infer=_matmul_infer, vjp=_matmul_vjp,
            emit=lambda args, attrs, node: A.binop(args[0], ast.MatMult(), args[1]),
            torch_name=_matmul_torch_name))


# -- shared helpers -------------------------------------------------------------------------
def _square(name, x):
    s = tuple(x.shape)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ShapeError(f"{name}: expected a square matrix (or a stack of them), got shape {s}")
    return s


def _row(v):
    """(..., k) -> (..., 1, k): broadcasts as diag(v) applied from the right."""
    return v.reshape(v.shape[:-1] + (1, v.shape[-1]))


def _col(v):
    """(..., k) -> (..., k, 1): broadcasts as diag(v) applied from the left."""
    return v.reshape(v.shape + (1,))


def _tril(x, k=0):
    """Lower triangle of the last two axes (from diagonal k), as a product with a 0/1 mask."""
    n, m = x.shape[-2:]
    return x * x.graph.emit("tri", [], n=n, m=m, k=k, dtype=x.dtype)


def _eye(n, dtype, graph):
    return graph.emit("eye", [], n=n, dtype=np.dtype(dtype))


def _off_diagonal_reciprocal(d, eye):
    """1 / d off the diagonal and 0 on it; d's diagonal is exactly 0 (differences of a
    vector with itself), so shifting it by the identity never divides by 0 there, while a
    repeated eigen/singular value still gives inf off the diagonal, as in PyTorch."""
    return (1 - eye) / (d + eye)


def _solve(a, b):
    return a.graph.emit("solve", [a, b])


def _solve_right(x, r):
    """x @ r^-T, written as a solve so no inverse is formed."""
    return _solve(r, x.mT).mT


def _call(fn, *args, **kwargs):
    return A.call("np.linalg." + fn, *args, **{k: A.literal(v) for k, v in kwargs.items()})


def _tuple_of(expr):
    # numpy returns named tuples (EighResult, ...); a plain tuple keeps `a, b = ...` obvious
    return A.call("tuple", expr)


# -- constants: masks and identities used by derivative rules ----------------------------------
def _const_infer(shape_of_attrs):
    return lambda inputs, attrs: [(shape_of_attrs(attrs), np.dtype(attrs["dtype"]))]


register(Op("tri", "special", lambda n, m, k, dtype: np.tri(n, m, k, dtype=dtype),
            infer=_const_infer(lambda at: (at["n"], at["m"])), differentiable=False,
            emit=lambda args, attrs, node: A.npcall("tri", A.num(attrs["n"]), A.num(attrs["m"]),
                                                    A.num(attrs["k"]), dtype=A.dtype_expr(attrs["dtype"]))))
register(Op("eye", "special", lambda n, dtype: np.eye(n, dtype=dtype),
            infer=_const_infer(lambda at: (at["n"], at["n"])), differentiable=False,
            emit=lambda args, attrs, node: A.npcall("eye", A.num(attrs["n"]),
                                                    dtype=A.dtype_expr(attrs["dtype"]))))


# -- einsum ---------------------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def normalize_einsum(subscripts, shapes):
    """numpy's subscripts for operands of `shapes` -> explicit subscripts of letters only.

    Ellipses become fresh letters (right-aligned across operands, as numpy broadcasts
    them), the implicit output is made explicit (ellipsis labels, then the labels seen
    once, in alphabetical order), and an axis of size 1 broadcast against a longer one
    gets a letter of its own, summed away — the same numbers, with no broadcasting left,
    so each operand's gradient is again a plain einsum."""
    def fail(msg):
        raise ValueError(f"einsum: {msg} (subscripts {subscripts!r}, operand shapes "
                         + ", ".join(str(tuple(s)) for s in shapes) + ")")
    subs = subscripts.replace(" ", "")
    lhs, arrow, out = subs.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        fail(f"{len(ins)} operand subscripts for {len(shapes)} operands")
    for term in ins + ([out] if arrow else []):
        rest = term.replace("...", "", 1)
        if any(c not in _LETTERS for c in rest):
            fail(f"invalid subscript term {term!r}")
    used = set(subs)
    fresh = iter(c for c in _LETTERS if c not in used)

    def take():
        c = next(fresh, None)
        if c is None:
            fail("more than 52 distinct labels are needed")
        return c

    n_ell = []
    for term, shape in zip(ins, shapes):
        n_letters = len(term.replace("...", ""))
        if "..." in term:
            if len(shape) < n_letters:
                fail(f"operand of shape {tuple(shape)} has fewer dimensions than subscripts {term!r}")
            n_ell.append(len(shape) - n_letters)
        else:
            if len(shape) != n_letters:
                fail(f"operand of shape {tuple(shape)} does not have {n_letters} dimensions as "
                     f"subscripts {term!r} say")
            n_ell.append(0)
    ell = "".join(take() for _ in range(max(n_ell, default=0)))
    terms = [t.replace("...", ell[len(ell) - k:] if k else "") for t, k in zip(ins, n_ell)]
    if arrow:
        if "..." not in out and ell:
            fail("the output has no '...' for the dimensions an ellipsis covers")
        out = out.replace("...", ell)
        if len(set(out)) != len(out):
            fail(f"output subscript {out!r} repeats a label")
        missing = set(out) - set("".join(terms))
        if missing:
            fail(f"output label(s) {sorted(missing)} appear in no operand")
    else:
        counts = {}
        for c in "".join(ins).replace(".", ""):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1))
    sizes = {}
    for term, shape in zip(terms, shapes):
        for c, d in zip(term, shape):
            if sizes.get(c, 1) != 1 and d not in (1, sizes[c]):
                fail(f"label {c!r} has sizes {sizes[c]} and {d}")
            if d != 1 or c not in sizes:
                sizes[c] = d
    terms = ["".join(take() if d == 1 and sizes[c] != 1 else c for c, d in zip(term, shape))
             for term, shape in zip(terms, shapes)]
    return ",".join(terms) + "->" + out


def _einsum_parts(subscripts):
    lhs, out = subscripts.split("->")
    return lhs.split(","), out


def _einsum_impl(*operands, subscripts):
    return np.einsum(subscripts, *operands, optimize=_worth_optimizing(subscripts))


def _worth_optimizing(subscripts):
    """np.einsum's path search pays for itself with three operands or more, or with a
    contraction BLAS can do; for a product summed along axes ('knd,knd->kd') it only
    adds overhead."""
    ins, out = _einsum_parts(subscripts)
    if len(ins) > 2:
        return True
    if len(ins) < 2:
        return False
    a, b = set(ins[0]), set(ins[1])
    # a matrix product: a summed label in both, and each with labels of its own
    return any(c not in out for c in a & b) and bool(a - b) and bool(b - a)


def _einsum_infer(inputs, attrs):
    ins, out = _einsum_parts(attrs["subscripts"])
    sizes = {}
    for term, x in zip(ins, inputs):
        if len(term) != len(x.shape):
            raise ShapeError(f"einsum: subscripts {term!r} do not fit shape {tuple(x.shape)}")
        for c, d in zip(term, x.shape):
            if sizes.setdefault(c, d) != d:
                raise ShapeError(f"einsum {attrs['subscripts']!r}: label {c!r} has sizes {sizes[c]} and {d}")
    return [(tuple(sizes[c] for c in out), result_dtype(inputs))]


def _einsum_vjp(node, gs):
    """Operand k's gradient contracts the cotangent with the other operands onto k's
    labels: an einsum. Labels only operand k has were summed in the forward, so the
    gradient is constant along them (a broadcast); a label repeated in k (a diagonal)
    receives the gradient on that diagonal only (einsum_embed)."""
    (g,) = gs
    ins, out = _einsum_parts(node.attrs["subscripts"])
    active = g.graph.active
    grads = []
    for k, x in enumerate(node.inputs):
        if active is not None and x.id not in active:
            grads.append(None)
            continue
        term = ins[k]
        others = [(t, v) for j, (t, v) in enumerate(zip(ins, node.inputs)) if j != k]
        labels = "".join(dict.fromkeys(term))
        reachable = set(out).union(*[t for t, _ in others])
        kept = "".join(c for c in labels if c in reachable)
        if not others and sorted(kept) == sorted(out):
            gk = g if kept == out else g.transpose(tuple(out.index(c) for c in kept))
        else:
            spec = ",".join([out] + [t for t, _ in others]) + "->" + kept
            gk = g.graph.emit("einsum", [g] + [v for _, v in others], subscripts=spec)
        size = dict(zip(term, x.shape))
        if kept != labels:
            gk = gk.reshape(tuple(size[c] if c in reachable else 1 for c in labels))
            gk = gk.broadcast_to(tuple(size[c] for c in labels))
        if labels != term:
            gk = g.graph.emit("einsum_embed", [gk], subscripts=f"{labels}->{term}", shape=tuple(x.shape))
        grads.append(gk.cast(x.dtype))
    return grads


def _einsum_emit(args, attrs, node):
    kw = {"optimize": A.const(True)} if _worth_optimizing(attrs["subscripts"]) else {}
    return A.npcall("einsum", A.const(attrs["subscripts"]), *args, **kw)


def _einsum_torch_name(attrs, inputs):
    """PyTorch's einsum ends in a view of a bmm (ViewBackward0); of one operand it is a
    sum over the indices it drops (SumBackward1), else a permute (of a diagonal view)."""
    ins, out = _einsum_parts(attrs["subscripts"])
    if len(ins) == 1:
        return "PermuteBackward0" if set(ins[0]) == set(out) else "SumBackward1"
    return "ViewBackward0"


register(Op("einsum", "linalg", _einsum_impl, infer=_einsum_infer, vjp=_einsum_vjp, emit=_einsum_emit,
            fmt_attrs=lambda attrs: repr(attrs["subscripts"]), torch_name=_einsum_torch_name))


# einsum_embed: the adjoint of reading a diagonal with einsum ('ii->i'): writes x onto
# the diagonal of a zero array ('i->ii').
def _embed_impl(x, subscripts, shape):
    src, dst = subscripts.split("->")
    out = np.zeros(shape, x.dtype)
    np.einsum(f"{dst}->{src}", out)[...] = x   # einsum's diagonal of one operand is a writable view
    return out


def _embed_emit(args, attrs, node, target):
    src, dst = attrs["subscripts"].split("->")
    zeros = A.assign(target, layout.zeros(attrs["shape"], A.dtype_expr(node.out.dtype)))
    view = A.npcall("einsum", A.const(f"{dst}->{src}"), A.name(target))
    put = ast.Assign(targets=[ast.Subscript(value=view, slice=A.const(Ellipsis), ctx=ast.Store())],
                     value=args[0], lineno=0)
    return [zeros, put]


register(Op("einsum_embed", "linalg", _embed_impl,
            infer=lambda inputs, attrs: [(tuple(attrs["shape"]), inputs[0].dtype)],
            vjp=lambda node, gs: [gs[0].graph.emit(
                "einsum", [gs[0]], subscripts="->".join(reversed(node.attrs["subscripts"].split("->"))))],
            emit=_embed_emit, statement=True,
            fmt_attrs=lambda attrs: f"{attrs['subscripts']!r} shape={tuple(attrs['shape'])}",
            torch_name="DiagEmbedBackward0"))


# -- inverse, solve, determinants -------------------------------------------------------------
def _inv_infer(inputs, attrs):
    (a,) = inputs
    return [(_square("inv", a), float_dtype(a.dtype))]


def _inv_vjp(node, gs):
    ai_t = node.out.mT
    return [-(ai_t @ gs[0] @ ai_t)]


def _pinv_infer(inputs, attrs):
    (a,) = inputs
    if a.ndim < 2:
        raise ShapeError(f"pinv: expected a matrix (or a stack of them), got shape {tuple(a.shape)}")
    return [(a.shape[:-2] + (a.shape[-1], a.shape[-2]), float_dtype(a.dtype))]


def _pinv_vjp(node, gs):
    # d(A+) = -A+ dA A+ + A+ A+^T dA^T (I - A A+) + (I - A+ A) dA^T A+^T A+ where the rank is
    # locally constant (Golub & Pereyra), transposed into the gradient of A
    (g,) = gs
    (a,), (p,) = node.inputs, node.outputs
    pt = p.mT
    m, n = a.shape[-2:]
    left = _eye(m, a.dtype, a.graph) - a @ p     # I - A A+, (m, m)
    right = _eye(n, a.dtype, a.graph) - p @ a    # I - A+ A, (n, n)
    return [-(pt @ g @ pt) + left @ (g.mT @ (p @ pt)) + (pt @ p) @ (g.mT @ right)]


def _pinv(a, rtol, hermitian):
    return np.linalg.pinv(a, hermitian=hermitian) if rtol is None else \
        np.linalg.pinv(a, rtol=rtol, hermitian=hermitian)


register(Op("pinv", "linalg", _pinv, infer=_pinv_infer, vjp=_pinv_vjp,
            emit=lambda args, attrs, node: _call("pinv", args[0], **{k: v for k, v in attrs.items()
                                                                      if v is not None and v is not False}),
            torch_name="LinalgPinvBackward0"))
register(Op("inv", "linalg", np.linalg.inv, infer=_inv_infer, vjp=_inv_vjp,
            emit=lambda args, attrs, node: _call("inv", args[0]), torch_name="LinalgInvExBackward0"))


def _solve_infer(inputs, attrs):
    a, b = inputs
    n = _square("solve", a)[-1]
    if len(b.shape) != len(a.shape) or b.shape[-2] != n:
        raise ShapeError(f"solve: the right-hand side must have shape (..., {n}, k) with as many axes as "
                         f"the matrix; got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return [(batch + (n, b.shape[-1]), float_dtype(result_dtype([a, b])))]


def _solve_vjp(node, gs):
    (g,), (a, b), x = gs, node.inputs, node.out
    gb = _solve(a.mT, g)
    return [(-(gb @ x.mT)).sum_to(a.shape), gb.sum_to(b.shape)]


# Both operands always have the same number of axes (the frontend makes them so), which
# numpy 1 and 2 read alike: a stack of matrices on the right, never a stack of vectors.
register(Op("solve", "linalg", np.linalg.solve, infer=_solve_infer, vjp=_solve_vjp,
            emit=lambda args, attrs, node: _call("solve", args[0], args[1]),
            torch_name="LinalgSolveExBackward0"))


def _det_infer(inputs, attrs):
    (a,) = inputs
    return [(_square("det", a)[:-2], float_dtype(a.dtype))]


def _det_vjp(node, gs):
    # d det(A) = tr(adj(A) dA): the adjugate, det(A) A^-1 where A is invertible, and still
    # defined where it is not (a singular A of rank n - 1 has a nonzero gradient)
    (g,), a = gs, node.inputs[0]
    return [_col(_col(g)) * g.graph.emit("adjugate", [a]).mT]


register(Op("det", "linalg", np.linalg.det, infer=_det_infer, vjp=_det_vjp,
            emit=lambda args, attrs, node: _call("det", args[0]), torch_name="LinalgDetBackward0"))


def adjugate(a):
    """adj(A) = det(A) A^-1 of a square matrix or a stack of them (numpy arrays), also
    where A is singular: from the SVD A = U S V^H, adj(A) = det(U) det(V^H) V diag(p) U^H
    with p_i the product of the singular values other than s_i. The inverse gives it
    (faster) where every matrix of the stack is well conditioned (its error grows with the
    condition number: under 1e8, relative errors under ~1e-8); the SVD elsewhere."""
    a = np.asarray(a)
    try:
        with np.errstate(all="ignore"):
            inv = np.linalg.inv(a)
            condition = np.abs(a).sum(axis=-2).max(axis=-1) * np.abs(inv).sum(axis=-2).max(axis=-1)
            if np.all(condition < 1e8):
                return np.linalg.det(a)[..., None, None] * inv
    except np.linalg.LinAlgError:
        pass
    u, s, vh = np.linalg.svd(a)
    ones = np.ones(s.shape[:-1] + (1,), s.dtype)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(s, -1)[..., :-1]], axis=-1), axis=-1), -1)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    v = np.conj(np.swapaxes(vh, -1, -2))
    return sign[..., None, None] * ((v * (before * after)[..., None, :]) @ np.conj(np.swapaxes(u, -1, -2)))


share_helper("adjugate", adjugate)  # (generated code calls it by name: codegen/loader.py)


def _adjugate_infer(inputs, attrs):
    (a,) = inputs
    return [(_square("adjugate", a), float_dtype(a.dtype))]


def _adjugate_vjp(node, gs):
    """d adj(A) = det(A) (tr(A^-1 dA) A^-1 - A^-1 dA A^-1), where A is invertible (a second
    derivative of det at a singular matrix raises from the inverse)."""
    (g,), a = gs, node.inputs[0]
    graph = g.graph
    inv = graph.emit("inv", [a])
    det = _col(_col(graph.emit("det", [a])))
    inner = _col(_col((g * inv).sum(axis=(-2, -1))))
    return [det * (inner * inv.mT - inv.mT @ g @ inv.mT)]


register(Op("adjugate", "linalg", adjugate, infer=_adjugate_infer, vjp=_adjugate_vjp,
            emit=lambda args, attrs, node: A.call("adjugate", args[0])))


def _slogdet_infer(inputs, attrs):
    (a,) = inputs
    batch = _square("slogdet", a)[:-2]
    return [(batch, _vector_dtype(a.dtype)), (batch, _real_dtype(a.dtype))]


def _slogdet_vjp(node, gs):
    """d log|det A| = Re tr(A^-1 dA), whose adjoint is A^-H. A real sign is piecewise
    constant; a complex one, det / |det|, turns with Im tr(A^-1 dA): its cotangent adds
    i Im(g_sign conj(sign)) A^-H."""
    from .complex import conj
    gsign, g = gs
    sign = node.outputs[0]
    coeff = g
    if gsign is not None and sign.dtype.kind == "c":
        turn = sign.graph.emit("imag", [gsign * conj(sign)]) * 1j
        coeff = turn if coeff is None else coeff + turn
    if coeff is None:
        return [None]
    return [_col(_col(coeff)) * _mH(sign.graph.emit("inv", [node.inputs[0]]))]


register(Op("slogdet", "linalg", lambda a: tuple(np.linalg.slogdet(a)), infer=_slogdet_infer,
            vjp=_slogdet_vjp, nout=2, emit=lambda args, attrs, node: _tuple_of(_call("slogdet", args[0])),
            torch_name="LinalgSlogdetBackward0"))


# -- factorizations ---------------------------------------------------------------------------
def _cholesky_infer(inputs, attrs):
    (a,) = inputs
    return [(_square("cholesky", a), float_dtype(a.dtype))]


def _cholesky_vjp(node, gs):
    # PyTorch's rule: gA = L^-H sym(tril(L^H gL) with half its diagonal) L^-1, Hermitian;
    # or (numpy's function) in the lower triangle, the one cholesky reads: as eigh's
    # (conjugate transposes: the same rule for real and complex data)
    (g,), low = gs, node.out
    p = _mH(low) @ g
    x = 0.5 * (_tril(p) + _mH(_tril(p, -1)))
    y = _solve(_mH(low), x)
    ga = _mH(_solve(_mH(low), _mH(y)))
    if node.attrs.get("symmetric", True):
        return [ga]
    both = ga + _mH(ga)
    return [_tril(both) - 0.5 * both * _eye(low.shape[-1], _real_dtype(low.dtype), low.graph)]


register(Op("cholesky", "linalg", lambda a, symmetric=True: np.linalg.cholesky(a), infer=_cholesky_infer,
            vjp=_cholesky_vjp,
            emit=lambda args, attrs, node: _call("cholesky", args[0]),
            torch_name="LinalgCholeskyExBackward0"))


def _real_dtype(dtype):
    """The dtype of a complex dtype's parts (float data: float_dtype)."""
    dtype = np.dtype(dtype)
    return np.dtype(dtype.char.lower()) if dtype.kind == "c" else float_dtype(dtype)


def _vector_dtype(dtype):
    """The dtype of eigen/singular vectors: complex for complex data."""
    return np.dtype(dtype) if np.dtype(dtype).kind == "c" else float_dtype(dtype)


def _mH(x):
    """The conjugate transpose of a batch of matrices (the transpose of real ones)."""
    from .complex import conj
    return conj(x.mT)


def _eigh_infer(inputs, attrs):
    (a,) = inputs
    s = _square("eigh", a)
    return [(s[:-1], _real_dtype(a.dtype)), (s, _vector_dtype(a.dtype))]


def _eigh_vjp(node, gs):
    # gA = V (diag(gw) + F o (V^H gV)) V^H, F_ij = 1 / (w_j - w_i) off the diagonal; made
    # symmetric (Hermitian) as PyTorch's (A taken to be so), or (numpy's function) in the
    # one triangle eigh reads: an entry below the diagonal stands for both it and its mirror
    # (written with conjugate transposes: the same rule for real and complex data)
    gw, gv = gs
    w, v = node.outputs
    inner = None
    if gv is not None:
        f = _off_diagonal_reciprocal(_row(w) - _col(w), _eye(w.shape[-1], w.dtype, w.graph))
        inner = v @ (f * (_mH(v) @ gv))
    if gw is not None:
        scaled = v * _row(gw)
        inner = scaled if inner is None else inner + scaled
    g = inner @ _mH(v)
    if node.attrs.get("symmetric", True):
        return [0.5 * (g + _mH(g))]
    eye = _eye(w.shape[-1], w.dtype, w.graph)
    lower = _tril(g + _mH(g)) - 0.5 * (g + _mH(g)) * eye  # (the diagonal once)
    return [lower if node.attrs["UPLO"] == "L" else _mH(lower)]


register(Op("eigh", "linalg", lambda a, UPLO, symmetric=True: tuple(np.linalg.eigh(a, UPLO=UPLO)),
            infer=_eigh_infer,
            vjp=_eigh_vjp, nout=2,
            emit=lambda args, attrs, node: _tuple_of(_call("eigh", args[0], UPLO=attrs["UPLO"])),
            torch_name="LinalgEighBackward0"))


# -- eig: eigenvalues and (unit) eigenvectors of a general square matrix, always complex.
def _eig_infer(inputs, attrs):
    (a,) = inputs
    s = _square("eig", a)
    dt = np.result_type(a.dtype, np.complex64)
    return [(s[:-1], dt), (s, dt)]


def _eig_vjp(node, gs):
    """PyTorch's rule for unit eigenvectors (defined for a loss that does not depend on
    their phases): gA = V^-H (diag(gw) + (V^H gV - V^H V diag(Re(V^H gV))) / conj(E)) V^H,
    E_ij = w_j - w_i off the diagonal. A real input takes the real part (autodiff.py)."""
    from .complex import conj, real
    gw, gv = gs
    w, v = node.outputs
    vh = _mH(v)
    eye = _eye(w.shape[-1], _real_dtype(w.dtype), w.graph)
    inner = None
    if gv is not None:
        vhgv = vh @ gv
        diag_re = (real(vhgv) * eye).sum(axis=-1)
        inner = (vhgv - vh @ (v * _row(diag_re))) * (1 - eye) / (conj(_row(w) - _col(w)) + eye)
    if gw is not None:
        diag = eye * _row(gw)
        inner = diag if inner is None else inner + diag
    return [v.graph.emit("solve", [vh, inner @ vh])]


register(Op("eig", "linalg", lambda a: tuple(np.linalg.eig(a.astype(np.result_type(a.dtype, np.complex64)))),
            infer=_eig_infer, vjp=_eig_vjp, nout=2,
            emit=lambda args, attrs, node: _tuple_of(_call(
                "eig", args[0] if node.inputs[0].dtype.kind == "c" else
                A.method(args[0], "astype", A.dtype_expr(node.outputs[0].dtype)))),
            torch_name="LinalgEigBackward0"))


def _qr_infer(inputs, attrs):
    (a,) = inputs
    s = tuple(a.shape)
    if len(s) < 2:
        raise ShapeError(f"qr: expected a matrix (or a stack of them), got shape {s}")
    m, n = s[-2:]
    k = min(m, n)
    dt = float_dtype(a.dtype)
    return [(s[:-2] + (m, k), dt), (s[:-2] + (k, n), dt)]


def _qr_vjp(node, gs):
    """Reduced QR of a square or tall matrix (TensorFlow's rule):
    gA = Q gR + (gQ + Q (tril(skew(Q^T gQ) + skew(R gR^T)) - Q^T gQ)) R^-T."""
    gq, gr = gs
    a = node.inputs[0]
    q, r = node.outputs
    m, n = a.shape[-2:]
    if m < n:
        raise NotImplementedError(f"qr: the gradient of a wide matrix (shape {tuple(a.shape)}) is not "
                                  f"supported: its R is not invertible")
    skew = None
    if gq is not None:
        qdq = q.mT @ gq
        skew = qdq - qdq.mT
    if gr is not None:
        rdr = r @ gr.mT
        skew = rdr - rdr.mT if skew is None else skew + (rdr - rdr.mT)
    m_inner = _tril(skew)
    if gq is not None:
        m_inner = m_inner - qdq
    right = q @ m_inner
    if gq is not None:
        right = right + gq
    ga = _solve_right(right, r)
    return [ga if gr is None else q @ gr + ga]


register(Op("qr", "linalg", lambda a: tuple(np.linalg.qr(a)), infer=_qr_infer, vjp=_qr_vjp, nout=2,
            emit=lambda args, attrs, node: _tuple_of(_call("qr", args[0])), torch_name="LinalgQrBackward0"))


# -- the columns complete QR adds to a tall matrix's Q --------------------------------------
# An orthonormal basis of the complement of A's columns: LAPACK's choice, one of many, so
# it has no derivative of its own (numpy/linalg.py gives complete QR one by a composite).
def _qr_complement_infer(inputs, attrs):
    (a,) = inputs
    s = tuple(a.shape)
    if len(s) < 2 or s[-2] <= s[-1]:
        raise ShapeError(f"qr_complement: expected a tall matrix (or a stack of them), got shape {s}")
    return [(s[:-2] + (s[-2], s[-2] - s[-1]), float_dtype(a.dtype))]


def _qr_complement_emit(args, attrs, node):
    complete = ast.Subscript(value=_call("qr", args[0], mode="complete"), slice=A.num(0), ctx=ast.Load())
    n = node.inputs[0].shape[-1]
    cols = ast.Tuple(elts=[ast.Constant(value=Ellipsis), ast.Slice(lower=A.num(n))], ctx=ast.Load())
    return ast.Subscript(value=complete, slice=cols, ctx=ast.Load())


register(Op("qr_complement", "linalg", lambda a: np.linalg.qr(a, mode="complete")[0][..., a.shape[-1]:],
            infer=_qr_complement_infer, differentiable=False, emit=_qr_complement_emit))


def _svd_infer(inputs, attrs):
    (a,) = inputs
    s = tuple(a.shape)
    if len(s) < 2:
        raise ShapeError(f"svd: expected a matrix (or a stack of them), got shape {s}")
    m, n = s[-2:]
    k, dt, batch = min(m, n), _vector_dtype(a.dtype), s[:-2]
    return [(batch + (m, k), dt), (batch + (k,), _real_dtype(a.dtype)), (batch + (k, n), dt)]


def _svd_vjp(node, gs):
    """Reduced SVD (Townsend, "Differentiating the singular value decomposition"):
    gA = U [F o (U^H gU - gU^H U) S + diag(gS) + S F o (V^H gV - gV^H V)] V^H
         + (I - U U^H) gU S^-1 V^H + U S^-1 gV^H (I - V V^H),   F_ij = 1 / (s_j^2 - s_i^2);
    for complex data also + U [i Im(diag(U^H gU)) / S] V^H, the phase of each pair of
    singular vectors (a loss that does not depend on those phases is what is defined)."""
    gu, gsv, gvh = gs
    u, s, vh = node.outputs
    m, n = node.inputs[0].shape[-2:]
    k = s.shape[-1]
    inner = None

    def add(x):
        nonlocal inner
        inner = x if inner is None else inner + x

    eye, s_row, s_col = _eye(k, s.dtype, s.graph), _row(s), _col(s)
    if gu is not None or gvh is not None:
        s2 = s * s
        f = _off_diagonal_reciprocal(_row(s2) - _col(s2), eye)
    if gsv is not None:
        add(eye * _row(gsv))
    if gu is not None:
        utgu = _mH(u) @ gu
        add((f * (utgu - _mH(utgu))) * s_row)
        if u.dtype.kind == "c":
            add(eye * u.graph.emit("imag", [utgu]) / s_row * 1j)
    if gvh is not None:
        vtgv = vh @ _mH(gvh)          # V^H gV, with V = Vh^H and gV = gVh^H
        add(s_col * (f * (vtgv - _mH(vtgv))))
    ga = u @ inner @ vh
    if gu is not None and m > k:     # the part of gU outside U's column space
        ga = ga + ((gu - u @ utgu) / s_row) @ vh
    if gvh is not None and n > k:    # the part of gVh outside Vh's row space
        ga = ga + u @ ((gvh - (gvh @ _mH(vh)) @ vh) / s_col)
    return [ga]


register(Op("svd", "linalg", lambda a: tuple(np.linalg.svd(a, full_matrices=False)), infer=_svd_infer,
            vjp=_svd_vjp, nout=3,
            emit=lambda args, attrs, node: _tuple_of(_call("svd", args[0], full_matrices=False)),
            torch_name="LinalgSvdBackward0"))


# -- cross: the cross product of 3-vectors along the last axis, broadcast over the others.
# A primitive (not gathers of rotated copies) so that its gradient is two more cross
# products: d<g, a x b>/da = b x g and /db = g x a.
def _cross_infer(inputs, attrs):
    a, b = inputs
    if a.shape[-1:] != (3,) or b.shape[-1:] != (3,):
        raise ShapeError(f"cross: the last axis must have length 3, got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    return [(broadcast_shapes(a.shape, b.shape), result_dtype(inputs))]


def _cross_vjp(node, gs):
    (g,) = gs
    a, b = node.inputs
    active = g.graph.active
    ga = gb = None
    if active is None or a.id in active:
        ga = g.graph.emit("cross", [b, g]).sum_to(a.shape).cast(a.dtype)
    if active is None or b.id in active:
        gb = g.graph.emit("cross", [g, a]).sum_to(b.shape).cast(b.dtype)
    return [ga, gb]


def _cross_impl(a, b):
    a, b = np.asarray(a), np.asarray(b)
    a0, a1, a2, b0, b1, b2 = a[..., 0], a[..., 1], a[..., 2], b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


#: from this many elements on, a cross product is written component by component
CROSS_COMPONENTS_SIZE = 1 << 14


def _cross_emit(args, attrs, node):
    """`np.cross(a, b)`; for large arrays the textbook formula, component by component (as
    _cross_impl): np.cross moves axes and copies, and takes 6x as long on (n, 3) arrays."""
    a, b = args
    if node.out.size < CROSS_COMPONENTS_SIZE:
        return A.npcall("cross", a, b)

    def c(x, k):
        return ast.Subscript(value=x, slice=ast.Tuple(elts=[A.const(Ellipsis), A.num(k)], ctx=ast.Load()),
                             ctx=ast.Load())

    def term(i, j):  # a_i * b_j - a_j * b_i
        return A.binop(A.binop(c(a, i), ast.Mult(), c(b, j)), ast.Sub(), A.binop(c(a, j), ast.Mult(), c(b, i)))
    parts = ast.List(elts=[term(1, 2), term(2, 0), term(0, 1)], ctx=ast.Load())
    return layout.stack_last(parts, node.out.shape)


register(Op("cross", "linalg", _cross_impl, infer=_cross_infer, vjp=_cross_vjp,
            emit=_cross_emit, torch_name="LinalgCrossBackward0"))
