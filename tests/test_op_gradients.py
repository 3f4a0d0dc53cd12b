"""Every differentiable op reachable from the Tensor API, checked against finite differences.

Each case is a function `f` of one or more tensors plus the shapes (and value domains) of
its inputs. The loss is a random projection `(f(*xs) * w).sum()`; its gradient from the
compiled backward must match central finite differences in float64. Every case also runs
with both compiler switches off (the reference per-op chain-rule backward), and in float32
(where the gradients must stay float32).
"""
import numpy as np
import pytest

import srcgrad
from srcgrad.autograd.function import NODE
from srcgrad.autograd import engine, interpreted

# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
EPS = 1e-6
RTOL = 1e-6

CONFIGS = {  # (fuse, simplify, interpreted)
    "default": (True, True, False),
    "reference": (False, False, False),
    # each structure's backward run node by node by the ops' numpy implementations, as a
    # structure new op by op is (autograd/interpreted.py)
    "interpreted": (True, True, True),
}


@pytest.fixture(params=list(CONFIGS), ids=list(CONFIGS))
def config(request):
    """Run a test with the compiler switches set, restoring them afterwards."""
    fuse, simplify, interpret = CONFIGS[request.param]
    old = (srcgrad.config.fuse_elementwise, srcgrad.config.simplify)
    srcgrad.config.fuse_elementwise, srcgrad.config.simplify = fuse, simplify
    try:
        if interpret:
            engine.clear_cache()  # (a structure compiled already would run compiled)
            with interpreted.interpreting():
                yield request.param
        else:
            yield request.param
    finally:
        srcgrad.config.fuse_elementwise, srcgrad.config.simplify = old


def sample(shape, domain, rng, dtype=np.float64):
    """Random data of `shape` in a domain where every op of the case is smooth."""
    if domain == "pos":                      # log, sqrt, pow bases
        a = rng.uniform(0.5, 2.0, size=shape)
    elif domain == "away":                   # relu, abs, sign, norm-1, divisors: no kinks/poles
        a = rng.uniform(0.3, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    else:
        a = rng.uniform(-1.5, 1.5, size=shape)
    return np.asarray(a, dtype=dtype)


def forward(f, arrays):
    """f evaluated on plain (non-recording) tensors; the result as a float64 array."""
    with srcgrad.no_grad():
        out = f(*[srcgrad.tensor(a) for a in arrays])
    return np.asarray(out._data, dtype=np.float64)


def numeric_grads(f, arrays, w, eps=EPS):
    """Central finite differences of sum(f(*arrays) * w) with respect to each array."""
    grads = []
    for k, a in enumerate(arrays):
        g = np.zeros(a.shape, np.float64)
        for idx in np.ndindex(a.shape):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (np.sum(forward(f, plus) * w) - np.sum(forward(f, minus) * w)) / (2 * eps)
        grads.append(g)
    return grads


def compiled_grads(f, arrays, w):
    """Gradients of sum(f(*xs) * w) from srcgrad's backward; also returns the output."""
    xs = [srcgrad.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    loss = (out * srcgrad.tensor(np.asarray(w, dtype=out.dtype))).sum()
    loss.backward()
    return [x.grad for x in xs], out


def assert_close(actual, expected, rtol=RTOL, what=""):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def check_case(case, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    arrays = [sample(shape, dom, rng) for shape, dom in zip(case.shapes, case.domains)]
    out_shape = forward(case.fn, arrays).shape
    w = rng.standard_normal(out_shape)
    expected = numeric_grads(case.fn, arrays, w)
    if dtype == np.float64:
        grads, out = compiled_grads(case.fn, arrays, w)
        assert out.dtype == np.float64
        for k, (g, e) in enumerate(zip(grads, expected)):
            assert g is not None, f"{case.name}: no gradient for input {k}"
            assert g.dtype == np.float64, f"{case.name}: grad {k} is {g.dtype}"
            assert g.shape == arrays[k].shape
            assert_close(g._data, e, what=f"{case.name}: grad of input {k}")
    else:
        grads, out = compiled_grads(case.fn, [a.astype(dtype) for a in arrays], w)
        assert out.dtype == dtype, f"{case.name}: output is {out.dtype}"
        for k, (g, e) in enumerate(zip(grads, expected)):
            assert g is not None, f"{case.name}: no gradient for input {k}"
            assert g.dtype == dtype, f"{case.name}: grad {k} is {g.dtype}, input was {np.dtype(dtype)}"
            assert g.shape == arrays[k].shape
            assert_close(g._data, e, rtol=2e-3, what=f"{case.name}: {np.dtype(dtype)} grad of input {k}")


# ---------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------
class Case:
    def __init__(self, name, fn, shapes, domains=None):
        self.name = name
        self.fn = fn
        self.shapes = [tuple(s) for s in shapes]
        self.domains = list(domains) if domains is not None else ["any"] * len(shapes)

    def __repr__(self):
        return self.name


CASES = []


def case(name, fn, *shapes, domains=None):
    CASES.append(Case(name, fn, shapes, domains))


def _s(shape):
    return "x".join(map(str, shape)) or "scalar"


SHAPES = [(), (4,), (2, 3), (2, 3, 4)]

BROADCAST_PAIRS = [
    ((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)),
    ((2, 1), (1, 3)), ((2, 3, 4), (3, 1)), ((4, 1, 3), (2, 1)), ((2, 3), ()), ((), (2, 3)),
    ((1,), (2, 3)),
]

# -- binary arithmetic, tensor with tensor (both operands get gradients) ----------------
BINARY = {
    "add": (lambda a, b: a + b, ("any", "any")),
    "sub": (lambda a, b: a - b, ("any", "any")),
    "mul": (lambda a, b: a * b, ("any", "any")),
    "div": (lambda a, b: a / b, ("any", "away")),
    "pow": (lambda a, b: a ** b, ("pos", "any")),
}
for opname, (fn, doms) in BINARY.items():
    for sa, sb in BROADCAST_PAIRS:
        case(f"{opname}[{_s(sa)},{_s(sb)}]", fn, sa, sb, domains=doms)

# the method spellings and the functional forms go through the same entries
case("Tensor.add", lambda a, b: a.add(b), (2, 3), (3,))
case("Tensor.sub", lambda a, b: a.sub(b), (2, 3), (3,))
case("Tensor.mul", lambda a, b: a.mul(b), (2, 3), (3,))
case("Tensor.div", lambda a, b: a.div(b), (2, 3), (3,), domains=("any", "away"))
case("Tensor.pow", lambda a, b: a.pow(b), (2, 3), (3,), domains=("pos", "any"))
case("same-operand-add", lambda a: a + a, (2, 3))
case("same-operand-mul", lambda a: a * a, (2, 3))
case("same-operand-div", lambda a: a / a * a, (2, 3), domains=("away",))
case("same-operand-pow", lambda a: a ** a, (2, 3), domains=("pos",))

# -- binary arithmetic with a Python scalar on either side ------------------------------
SCALAR = {
    "x+2.5": (lambda x: x + 2.5, "any"),
    "2.5+x": (lambda x: 2.5 + x, "any"),
    "x+2": (lambda x: x + 2, "any"),
    "x-2": (lambda x: x - 2, "any"),
    "2-x": (lambda x: 2 - x, "any"),
    "x*3": (lambda x: x * 3, "any"),
    "-0.5*x": (lambda x: -0.5 * x, "any"),
    "x/4": (lambda x: x / 4, "any"),
    "x/3": (lambda x: x / 3, "any"),
    "2/x": (lambda x: 2 / x, "away"),
    "x**2": (lambda x: x ** 2, "any"),
    "x**3": (lambda x: x ** 3, "any"),
    "x**2.0": (lambda x: x ** 2.0, "any"),
    "x**0.5": (lambda x: x ** 0.5, "pos"),
    "x**-1.5": (lambda x: x ** -1.5, "pos"),
    "x**-1": (lambda x: x ** -1, "away"),
    "x**0": (lambda x: x ** 0 + x, "any"),
    "x**1": (lambda x: x ** 1, "any"),
    "x**0.3": (lambda x: x ** 0.3, "pos"),
    "2**x": (lambda x: 2 ** x, "any"),
    "0.5**x": (lambda x: 0.5 ** x, "any"),
    "-x": (lambda x: -x, "any"),
    "--x": (lambda x: -(-x), "any"),
    "x.neg": (lambda x: x.neg(), "any"),
    "+x": (lambda x: +x * 1.0, "any"),
}
for label, (fn, dom) in SCALAR.items():
    for shape in SHAPES:
        case(f"{label}[{_s(shape)}]", fn, shape, domains=(dom,))

# -- unary functions ----------------------------------------------------------------------
UNARY = {
    "exp": (lambda x: x.exp(), "any"),
    "log": (lambda x: x.log(), "pos"),
    "sqrt": (lambda x: x.sqrt(), "pos"),
    "sin": (lambda x: x.sin(), "any"),
    "cos": (lambda x: x.cos(), "any"),
    "tanh": (lambda x: x.tanh(), "any"),
    "sigmoid": (lambda x: x.sigmoid(), "any"),
    "relu": (lambda x: x.relu(), "away"),
    "abs": (lambda x: x.abs(), "away"),
    "sign": (lambda x: x.sign() * 1.0, "away"),
    "srcgrad.exp": (lambda x: srcgrad.exp(x), "any"),
    "srcgrad.log": (lambda x: srcgrad.log(x), "pos"),
    "srcgrad.sqrt": (lambda x: srcgrad.sqrt(x), "pos"),
    "srcgrad.sin": (lambda x: srcgrad.sin(x), "any"),
    "srcgrad.cos": (lambda x: srcgrad.cos(x), "any"),
    "srcgrad.tanh": (lambda x: srcgrad.tanh(x), "any"),
    "srcgrad.sigmoid": (lambda x: srcgrad.sigmoid(x), "any"),
    "srcgrad.relu": (lambda x: srcgrad.relu(x), "away"),
    "srcgrad.abs": (lambda x: srcgrad.abs(x), "away"),
    "abs()": (lambda x: abs(x), "away"),
    "np.exp": (lambda x: np.exp(x), "any"),
    "np.tanh": (lambda x: np.tanh(x), "any"),
}
for label, (fn, dom) in UNARY.items():
    for shape in SHAPES if not label.startswith(("srcgrad.", "np.", "abs()")) else [(2, 3)]:
        case(f"{label}[{_s(shape)}]", fn, shape, domains=(dom,))

# compositions the derivative rules must chain correctly (also exercise saved-value reuse)
case("tanh(tanh)", lambda x: x.tanh().tanh(), (2, 3))
case("exp*tanh", lambda x: x.exp() * x.tanh(), (2, 3))
case("sigmoid(x)*x", lambda x: x.sigmoid() * x, (2, 3))
case("log(sqrt)", lambda x: x.sqrt().log(), (2, 3), domains=("pos",))
case("1/sqrt", lambda x: 1 / x.sqrt(), (2, 3), domains=("pos",))
case("exp(-x*x)", lambda x: (-(x * x)).exp(), (2, 3))
case("sin*cos", lambda x: x.sin() * x.cos(), (2, 3))
case("relu(x)*x", lambda x: x.relu() * x, (2, 3), domains=("away",))
case("abs(x)**1.5", lambda x: x.abs() ** 1.5, (2, 3), domains=("away",))

# -- matmul -------------------------------------------------------------------------------
MATMUL = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((1, 3), (3, 1)),
    ((2, 2, 3), (2, 3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (3, 3, 4)),
    ((2, 3, 4), (4,)), ((4,), (2, 4, 3)), ((3, 1, 2, 3), (1, 2, 3, 2)),
]
for sa, sb in MATMUL:
    case(f"matmul[{_s(sa)},{_s(sb)}]", lambda a, b: a @ b, sa, sb)
case("Tensor.mm", lambda a, b: a.mm(b), (2, 3), (3, 4))
case("Tensor.matmul", lambda a, b: a.matmul(b), (2, 3), (3, 4))
case("Tensor.dot", lambda a, b: a.dot(b), (3,), (3,))
case("srcgrad.matmul", lambda a, b: srcgrad.matmul(a, b), (2, 2, 3), (3,))
case("x@x.T", lambda a: a @ a.T, (2, 3))
case("x.T@x", lambda a: a.T @ a, (2, 3))
case("v@v", lambda a: a @ a, (3,))
case("tanh(x@W)@V", lambda x, W, V: (x @ W).tanh() @ V, (2, 3), (3, 4), (4, 2))

# -- reductions ---------------------------------------------------------------------------
for red in ("sum", "mean"):
    for shape in SHAPES:
        dims = [None, 0, -1, (0, 1), (0, -1), (0, 1, 2), (2, 0)] if shape else [None]
        for dim in dims:
            if dim is not None and max(d % len(shape) for d in np.atleast_1d(dim)) >= len(shape):
                continue
            if dim is not None and len(set(d % len(shape) for d in np.atleast_1d(dim))) < len(np.atleast_1d(dim)):
                continue
            for keepdim in (False, True):
                fn = (lambda red, dim, keepdim: lambda x: getattr(x, red)(dim, keepdim))(red, dim, keepdim)
                case(f"{red}[{_s(shape)},dim={dim},keepdim={keepdim}]", fn, shape)
case("sum(dim=kw)", lambda x: x.sum(dim=1), (2, 3, 4))
case("mean(axis=,keepdims=)", lambda x: x.mean(axis=(0, 2), keepdims=True), (2, 3, 4))
case("srcgrad.sum", lambda x: srcgrad.sum(x, 1, True), (2, 3))
case("srcgrad.mean", lambda x: srcgrad.mean(x, (0, 1)), (2, 3, 4))
case("sum-of-sum", lambda x: x.sum(0).sum(0), (2, 3, 4))
case("x-mean(x)", lambda x: x - x.mean(-1, True), (2, 3))
case("softmax-like", lambda x: x.exp() / x.exp().sum(-1, True), (2, 3))

# -- norm -----------------------------------------------------------------------------------
for p in ("fro", 2, 1):
    for shape in [(4,), (2, 3), (2, 3, 4)]:
        dims = [None, 0, -1] + ([(0, 1)] if len(shape) >= 2 else [])
        for dim in dims:
            for keepdim in (False, True):
                if dim is None and keepdim:
                    continue
                fn = (lambda p, dim, keepdim: lambda x: x.norm(p, dim, keepdim))(p, dim, keepdim)
                case(f"norm[p={p},{_s(shape)},dim={dim},keepdim={keepdim}]", fn, shape, domains=("away",))
case("norm()", lambda x: x.norm(), (2, 3), domains=("away",))
case("norm(2.0)", lambda x: x.norm(2.0, 1), (2, 3), domains=("away",))
case("srcgrad.norm", lambda x: srcgrad.norm(x, 1, 0), (2, 3), domains=("away",))
case("x/norm(x)", lambda x: x / x.norm(dim=-1, keepdim=True), (2, 3), domains=("away",))

# -- reshape / view -----------------------------------------------------------------------
RESHAPES = [
    ((2, 3, 4), (6, 4)), ((2, 3, 4), (-1,)), ((2, 3, 4), (4, -1)), ((2, 3, 4), (2, 12)),
    ((2, 3, 4), (24, 1)), ((6,), (2, 3)), ((6,), (3, -1)), ((), (1,)), ((), (1, 1)), ((1,), ()),
    ((2, 3), (3, 2)),
]
for sa, sb in RESHAPES:
    case(f"reshape[{_s(sa)}->{sb}]", (lambda sb: lambda x: x.reshape(sb))(sb), sa)
    case(f"view[{_s(sa)}->{sb}]", (lambda sb: lambda x: x.view(*sb))(sb), sa)
case("flatten", lambda x: x.flatten(), (2, 3, 4))
case("reshape-then-mul", lambda x: x.reshape(3, 2) * x.reshape(3, 2)[0], (2, 3))
case("reshape(same shape)", lambda x: x.reshape(2, 3) * 2, (2, 3))

# -- transpose / .T / permute ---------------------------------------------------------------
case("transpose(0,1)", lambda x: x.transpose(0, 1), (2, 3))
case("transpose(0,2)", lambda x: x.transpose(0, 2), (2, 3, 4))
case("transpose(-1,-2)", lambda x: x.transpose(-1, -2), (2, 3, 4))
case(".T[2d]", lambda x: x.T, (2, 3))
case(".T[3d]", lambda x: x.T, (2, 3, 4))
case(".T[1d]", lambda x: x.T * 1.0, (4,))
case(".t()", lambda x: x.t(), (2, 3))
case(".mT", lambda x: x.mT, (2, 3, 4))
case("permute(2,0,1)", lambda x: x.permute(2, 0, 1), (2, 3, 4))
case("permute((1,2,0))", lambda x: x.permute((1, 2, 0)), (2, 3, 4))
case("permute(-1,0,1)", lambda x: x.permute(-1, 0, 1), (2, 3, 4))
case("x.T*x.T", lambda x: x.T * x.T.exp(), (2, 3))
case("x+x.T", lambda x: x + x.T, (3, 3))

# -- unsqueeze / squeeze / expand -----------------------------------------------------------
case("unsqueeze(0)", lambda x: x.unsqueeze(0), (2, 3))
case("unsqueeze(-1)", lambda x: x.unsqueeze(-1), (2, 3))
case("unsqueeze(1)", lambda x: x.unsqueeze(1), (2, 3))
case("unsqueeze[scalar]", lambda x: x.unsqueeze(0), ())
case("squeeze()", lambda x: x.squeeze(), (2, 1, 3, 1))
case("squeeze(1)", lambda x: x.squeeze(1), (2, 1, 3))
case("squeeze(-1)", lambda x: x.squeeze(-1), (2, 3, 1))
case("squeeze(no-op dim)", lambda x: x.squeeze(0) * 1.0, (2, 3))
case("expand(2,3,4)", lambda x: x.expand(2, 3, 4), (3, 1))
case("expand(-1,4)", lambda x: x.expand(-1, 4), (3, 1))
case("expand((2,3))", lambda x: x.expand((2, 3)), (3,))
case("expand[scalar]", lambda x: x.expand(2, 2), ())
case("expand(same)", lambda x: x.expand(2, 3) * 1.0, (2, 3))
case("broadcast_to", lambda x: x.broadcast_to((4, 2, 3)), (2, 1))
case("expand-then-exp", lambda x: x.expand(3, 4).exp(), (3, 1))
case("unsqueeze-matmul", lambda x, y: (x.unsqueeze(-1) * y.unsqueeze(0)).sum(1), (2, 3), (3, 4))

# -- basic indexing -------------------------------------------------------------------------
INDEXES = [
    ("[0]", lambda x: x[0]),
    ("[-1]", lambda x: x[-1]),
    ("[1:]", lambda x: x[1:]),
    ("[::2]", lambda x: x[::2]),
    ("[::-1]", lambda x: x[::-1]),
    ("[::-2]", lambda x: x[::-2]),
    ("[3:0:-2]", lambda x: x[3:0:-2]),
    ("[None]", lambda x: x[None]),
    ("[...]", lambda x: x[...]),
    ("[..., 1]", lambda x: x[..., 1]),
    ("[..., None]", lambda x: x[..., None]),
    ("[:, None, 1:3]", lambda x: x[:, None, 1:3]),
    ("[-1, ::-2]", lambda x: x[-1, ::-2]),
    ("[1, 2]", lambda x: x[1, 2]),
    ("[0:3:2, ..., -1]", lambda x: x[0:3:2, ..., -1]),
    ("[1, ..., ::-1]", lambda x: x[1, ..., ::-1]),
    ("[:, 1]", lambda x: x[:, 1]),
    ("[None, :, None]", lambda x: x[None, :, None]),
    ("[1:2]", lambda x: x[1:2]),
    ("[10:]", lambda x: x[10:] * 1.0),
    ("[-2:-1]", lambda x: x[-2:-1]),
]
for label, fn in INDEXES:
    for shape in [(4, 3), (4, 3, 2)]:
        case(f"getitem{label}[{_s(shape)}]", fn, shape)
case("getitem[0][1d]", lambda x: x[0], (4,))
case("getitem[::-1][1d]", lambda x: x[::-1], (4,))
case("getitem[...][scalar]", lambda x: x[...] * 1.0, ())
case("getitem[None][scalar]", lambda x: x[None], ())
case("rows-combined", lambda x: x[0] * x[1] + x[-1], (3, 4))
case("iterate", lambda x: sum(r * (i + 1) for i, r in enumerate(x)), (3, 2))

# -- where --------------------------------------------------------------------------------
case("where(x>0,x,y)", lambda x, y: srcgrad.where(x > 0, x, y), (2, 3), (2, 3), domains=("away", "any"))
case("where(x>0,x,y)[bcast]", lambda x, y: srcgrad.where(x > 0, x, y), (2, 3), (3,), domains=("away", "any"))
case("where(y>0,x,y)[bcast]", lambda x, y: srcgrad.where(y > 0, x, y), (3,), (2, 3), domains=("any", "away"))
case("where(c[1d],x,y)", lambda x, y: srcgrad.where(y[0] > 0, x, y), (2, 3), (2, 3), domains=("any", "away"))
case("where(x>0,x,0.5)", lambda x: srcgrad.where(x > 0, x * x, 0.5), (2, 3), domains=("away",))
case("where(x<0,2.0,y)", lambda x: srcgrad.where(x < 0, 2.0, x.exp()), (2, 3), domains=("away",))
case("where[scalar]", lambda x, y: srcgrad.where(x > 0, x, y), (), (), domains=("away", "any"))
case("where[3d]", lambda x, y: srcgrad.where(x > y, x.sin(), y.cos()), (2, 3, 4), (3, 4),
     domains=("away", "away"))
case("where(numpy cond)", lambda x: srcgrad.where(np.array([True, False, True]), x, -x), (2, 3))
case("where(same)", lambda x: srcgrad.where(x > 0, x, x) * 1.0, (2, 3), domains=("away",))
case("where-both-x", lambda x: srcgrad.where(x >= 0, x, x * 2), (2, 3), domains=("away",))

# -- a few longer chains mixing kinds of ops ------------------------------------------------
case("mlp", lambda x, W, b: ((x @ W + b).relu() ** 2).mean(0), (4, 3), (3, 2), (2,),
     domains=("away", "away", "away"))
case("layernorm", lambda x: (x - x.mean(-1, True)) / ((x - x.mean(-1, True)) ** 2 + 1).mean(-1, True).sqrt(),
     (2, 5))
case("attention-ish", lambda q, k: (q @ k.transpose(-1, -2) / 2).exp().sum(-1), (2, 3, 4), (2, 5, 4))
case("index-reduce-transpose", lambda x: x[:, ::-1].T.sum(0, True) * x[:, 0], (3, 4))
case("tutorial", lambda x: (3 * (x - 2) ** 2).mean(), (2, 2))

IDS = [c.name for c in CASES]
assert len(set(IDS)) == len(IDS), "duplicate case names"


# ---------------------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_finite_differences(case, config):
    check_case(case)


FLOAT32_CASES = [c for c in CASES if c.name.startswith(
    ("add[", "mul[", "div[", "pow[", "x**", "2**", "x/", "2/", "exp[", "log[", "sqrt[", "sin[", "tanh[",
     "sigmoid[", "relu[", "abs[", "matmul[", "sum[", "mean[", "norm[", "reshape[", "transpose", "permute",
     "expand", "getitem", "where", "mlp", "layernorm", "attention", "tutorial", "softmax"))]


@pytest.mark.parametrize("case", FLOAT32_CASES, ids=[c.name for c in FLOAT32_CASES])
def test_float32_inputs_give_float32_grads(case, config):
    check_case(case, dtype=np.float32)


#: the Tensor-API ops this file is about (the numpy-surface ops have tests of their own)
COVERED_OPS = {"add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "sqrt", "sin", "cos",
               "tanh", "sigmoid", "relu", "abs", "sign", "sum", "mean", "norm", "reshape", "transpose",
               "broadcast_to", "getitem", "where", "cast"}


def test_every_differentiable_op_is_covered():
    """Each op of the Tensor API's table entries appears in some case of the table."""
    used = set()
    saved = (srcgrad.config.fuse_elementwise, srcgrad.config.simplify)
    for c in CASES:
        rng = np.random.default_rng(0)
        xs = [srcgrad.tensor(sample(s, d, rng), requires_grad=True) for s, d in zip(c.shapes, c.domains)]
        out = c.fn(*xs)
        stack = [out.grad_fn] if out.grad_fn is not None else []
        seen = set()
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen or not hasattr(fn, "op"):
                continue
            seen.add(id(fn))
            used.add(fn.op.name)
            # (srcgrad's own edges: next_functions shows PyTorch's, which skip the ops
            # inside a call PyTorch computes as one node)
            stack.extend(e[1][0] for e in fn.edges if isinstance(e, tuple) and e[0] == NODE)
    assert (srcgrad.config.fuse_elementwise, srcgrad.config.simplify) == saved
    table = {name for name, op in srcgrad.ops.all_ops().items() if op.differentiable}
    assert COVERED_OPS <= table, f"ops this file expects are gone: {sorted(COVERED_OPS - table)}"
    missing = COVERED_OPS - used - {"cast"}   # cast has the dedicated tests below
    assert not missing, f"differentiable ops without a gradient case: {sorted(missing)}"


# -- casting ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES, ids=_s)
def test_double_cast_grad_is_float32(shape, config):
    rng = np.random.default_rng(1)
    a = sample(shape, "any", rng, np.float32)
    w = rng.standard_normal(shape)
    x = srcgrad.tensor(a, requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64
    (y * srcgrad.tensor(w) * y).sum().backward()
    assert x.grad.dtype == np.float32
    assert_close(x.grad._data, 2 * a.astype(np.float64) * w, rtol=1e-6, what="d/dx sum(w*x.double()**2)")


@pytest.mark.parametrize("cast", ["double", "to", "float"])
def test_cast_chain_grads(cast, config):
    """f32 -> f64 -> f32 casts in a chain: each gradient is cast back to its input's dtype."""
    rng = np.random.default_rng(2)
    a = sample((2, 3), "any", rng)
    w = rng.standard_normal((2, 3))
    x = srcgrad.tensor(a, requires_grad=True)            # float64
    if cast == "double":
        y = x.float().double()                           # through float32 and back
    elif cast == "to":
        y = x.to(srcgrad.float32).to(srcgrad.float64)
    else:
        y = x.float() * 1.0
    out = (y.exp() * srcgrad.tensor(w, dtype=y.dtype)).sum()
    out.backward()
    assert x.grad.dtype == np.float64
    ref = np.exp(a.astype(np.float32).astype(np.float64)) * w
    assert_close(x.grad._data, ref, rtol=1e-5, what=cast)


def test_double_of_float64_is_identity_for_grad(config):
    case_ = Case("double-noop", lambda x: x.double() * 2, [(2, 3)])
    check_case(case_)


def test_int_data_meeting_float_grad():
    """An integer constant in a float expression: only the float tensor gets a gradient."""
    x = srcgrad.tensor([1.0, 2.0, 3.0], dtype=srcgrad.float64, requires_grad=True)
    k = srcgrad.tensor([1, 2, 3])
    (x * k + k / x).sum().backward()
    assert x.grad.dtype == np.float64
    xs = np.array([1.0, 2.0, 3.0])
    assert_close(x.grad._data, np.array([1, 2, 3]) - np.array([1, 2, 3]) / xs ** 2)


# -- the same gradients, compiled and reference ---------------------------------------------
@pytest.mark.parametrize("case", [c for c in CASES if len(c.shapes) <= 3][::7],
                         ids=[c.name for c in CASES if len(c.shapes) <= 3][::7])
def test_reference_and_compiled_agree_exactly_enough(case):
    """The fused+simplified backward and the per-op chain rule agree to rounding."""
    rng = np.random.default_rng(3)
    arrays = [sample(s, d, rng) for s, d in zip(case.shapes, case.domains)]
    w = rng.standard_normal(forward(case.fn, arrays).shape)
    results = {}
    old = (srcgrad.config.fuse_elementwise, srcgrad.config.simplify)
    try:
        for label, (fuse, simp) in [("default", (True, True)), ("reference", (False, False)),
                                    ("fuse-only", (True, False)), ("simplify-only", (False, True))]:
            srcgrad.config.fuse_elementwise, srcgrad.config.simplify = fuse, simp
            grads, _ = compiled_grads(case.fn, arrays, w)
            results[label] = [g._data for g in grads]
    finally:
        srcgrad.config.fuse_elementwise, srcgrad.config.simplify = old
    for label, grads in results.items():
        for g, r in zip(grads, results["reference"]):
            assert_close(g, r, rtol=1e-10, what=f"{case.name}: {label} vs reference")


def test_config_is_part_of_cache_key():
    """Switching the config compiles a different function for the same structure."""
    old = (srcgrad.config.fuse_elementwise, srcgrad.config.simplify)
    try:
        sources = {}
        for fuse, simp in [(True, True), (False, False)]:
            srcgrad.config.fuse_elementwise, srcgrad.config.simplify = fuse, simp
            x = srcgrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
            out = (x.exp() * x.sin() + 1).sum()
            out.backward()
            sources[(fuse, simp)] = engine.last_compiled().source
        assert sources[(True, True)] != sources[(False, False)]
    finally:
        srcgrad.config.fuse_elementwise, srcgrad.config.simplify = old


def test_a_write_to_a_place_twice_keeps_the_last_value_and_its_gradient():
    # numpy keeps the last of the values written to one place: the others have no gradient
    def f(x, v):
        y = x.copy()
        y[[1, 1]] += v
        return np.sum(y * np.array([1.0, 10.0, 100.0]))

    def g(x, v, idx):
        y = x.copy()
        y[idx] = v
        return np.sum(y * np.array([1.0, 10.0, 100.0]))
    x, v = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.25])
    gx, gv = srcgrad.grad(f, argnums=(0, 1))(x, v)
    np.testing.assert_allclose(gx, [1, 10, 100])
    np.testing.assert_allclose(gv, [0, 10])
    grad_g = srcgrad.grad(g, argnums=(0, 1))
    for idx, want_x, want_v in (([0, 0], [0, 10, 100], [0, 1]), ([2, 0], [0, 10, 0], [100, 1]),
                                ([1, 1], [1, 0, 100], [0, 10])):  # (same compiled code, new contents)
        gx, gv = grad_g(x, v, np.array(idx))
        np.testing.assert_allclose(gx, want_x)
        np.testing.assert_allclose(gv, want_v)
    t = srcgrad.tensor(x, requires_grad=True)
    w = srcgrad.tensor(v, requires_grad=True)
    y = t.clone()
    y[srcgrad.tensor([1, 1])] = w
    (y * srcgrad.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [0, 10])


@pytest.mark.parametrize("f, args, argnums", [
    (lambda x: np.sum(x * np.arange(3)), (np.array([1.5, 2.5, 3.5]),), 0),                    # int64 gradient
    (lambda x: np.sum(x * np.array([True, False, True])), (np.array([1.5, 2.5, 3.5]),), 0),  # bool gradient
    (lambda x: np.sum(x * np.array([True, False, True])), (np.array([1.5, 2.5, 3.5], np.float32),), 0),
    (lambda x, y: np.sum(x * y), (np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0])), (0, 1)),
])
def test_a_gradient_has_its_arguments_dtype(f, args, argnums):
    # (a kernel that only passes on a constant or another argument returned that one's dtype)
    grads = srcgrad.grad(f, argnums=argnums)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    for k, gr in zip(nums, grads):
        assert gr.dtype == args[k].dtype


_M1 = np.array([True, True, False, False])
_M2 = np.array([True, False, True, False])


@pytest.mark.parametrize("f", [
    lambda x: np.sum(x * _M1) + np.sum(x * _M2),                       # d/dx = m1 + m2: numbers, not `or`
    lambda x: np.sum(x * (x > 0)) + np.sum(x * (x > -0.5)),            # masks computed from x
    lambda x: np.sum(x * (x > 0) * 3 - x * (x > -0.5) * 2),
    lambda x: np.sum(x * _M1 * _M2 - x * _M1),
    lambda x: np.sum(x * (x > 0.26)) + np.sum(x * (x > -0.05)) + np.sum(np.sin(x)),  # (m1 + m2 + cos x)
], ids=["constant masks", "traced masks", "scaled", "difference", "with a float term"])
def test_gradients_that_are_sums_of_boolean_masks(f):
    x = np.array([0.5, -0.3, 0.2, -0.7])
    eps = 1e-7
    want = np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(4)])
    np.testing.assert_allclose(srcgrad.grad(f)(x), want, atol=1e-8)
    np.testing.assert_allclose(srcgrad.vjp(f, x)[1](1.0)[0], want, atol=1e-8)


def test_arithmetic_on_masks_and_narrow_integers_keeps_numpys_dtypes():
    """The user's own `m1 + m2` of masks is numpy's `or`, and uint8 arithmetic wraps: such
    a node is computed by numpy on its own, never as a formula of numbers."""
    def masks(x):
        m = (x > 0) + (x > 0.3)
        return np.sum(x * m)

    def wraps(x):
        a = (x * 100).astype(np.uint8)
        b = (x * 90).astype(np.uint8)
        return np.sum(x * (a + b))

    def derivative_sum(x):  # (d/dx = a + b, numbers: 300, not uint8's 44)
        a = np.array([200, 1], np.uint8)
        b = np.array([100, 1], np.uint8)
        return np.sum(x * a) + np.sum(x * b)
    for f, x, want in [(masks, np.array([0.5, 0.1, -0.2]), [1.0, 1.0, 0.0]),
                       (wraps, np.array([1.5, 2.0]), [29.0, 124.0]),
                       (derivative_sum, np.array([0.5, -0.3]), [300.0, 2.0])]:
        value, grad = srcgrad.value_and_grad(f)(x)
        assert value == pytest.approx(f(x))
        np.testing.assert_allclose(grad, want)
        np.testing.assert_allclose(srcgrad.vjp(f, x)[1](1.0)[0], want)
