"""Differential testing: random programs, three ways of getting their gradient.

hypothesis draws small programs — DAGs of elementwise unary/binary ops with
broadcasting, reductions over random axes, reshapes, transposes, slicing and matmuls —
over random shapes. For each, the gradient of a random projection of its results is
computed by the compiled backward (default config: fused, simplified), by the reference
backward (both compiler switches off: one kernel per op, plain chain rule), and by
central finite differences in float64. All three must agree.

Values stay in safe domains by construction (log and sqrt read x*x + 1, divisors are
y*y + 1, exponents are squashed by tanh). Ops with kinks (relu, abs, sign, where) are
included; when an input of one of them lands within finite-difference reach of its
kink, only the compiled-vs-reference comparison is made.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import srcgrad
from thresholds import thresholds as _thresholds

EPS = 1e-6
KINK_MARGIN = 1e-4

# ---------------------------------------------------------------------------------------
# the op vocabulary: name -> function of srcgrad tensors. `kinks` collects, during a run,
# the distance of each kink op's argument from its kink.
# ---------------------------------------------------------------------------------------


def _kink(kinks, t):
    if kinks is not None and t.numel():
        kinks.append(float(np.min(np.abs(np.asarray(t._data, dtype=np.float64)))))


UNARY = {
    "neg": lambda x, k: -x,
    "exp": lambda x, k: (x * 0.5).exp(),
    "log": lambda x, k: (x * x + 1).log(),
    "sqrt": lambda x, k: (x * x + 1).sqrt(),
    "tanh": lambda x, k: x.tanh(),
    "sin": lambda x, k: x.sin(),
    "cos": lambda x, k: x.cos(),
    "sigmoid": lambda x, k: x.sigmoid(),
    "square": lambda x, k: x * x,
    "cube": lambda x, k: x ** 3,
    "pow2.0": lambda x, k: x ** 2.0,
    "recip": lambda x, k: 1 / (x * x + 1),
    "affine": lambda x, k: 2.5 * x - 1,
    "div3": lambda x, k: x / 3,
    "rsub": lambda x, k: 1 - x,
    "rpow": lambda x, k: 2 ** x.tanh(),
    "relu": lambda x, k: (_kink(k, x), x.relu())[1],
    "abs": lambda x, k: (_kink(k, x), x.abs())[1],
    "sign*x": lambda x, k: (_kink(k, x), x.sign() * x)[1],
}

BINARY = {
    "add": lambda a, b, k: a + b,
    "sub": lambda a, b, k: a - b,
    "mul": lambda a, b, k: a * b,
    "div": lambda a, b, k: a / (b * b + 1),
    "pow": lambda a, b, k: (a * a + 1) ** b.tanh(),
    "where": lambda a, b, k: (_kink(k, a - b), srcgrad.where(a > b, a, b * 2))[1],
    "mix": lambda a, b, k: a.tanh() * b + b.sigmoid(),
}


def _reduce(name, axis, keepdim):
    def f(x, k):
        return getattr(x, name)(axis, keepdim) if axis is not None else getattr(x, name)()
    return f


# ---------------------------------------------------------------------------------------
# programs
# ---------------------------------------------------------------------------------------
class Program:
    """inputs: shapes; steps: (label, fn, operand indices); values are numbered inputs
    first, then one per step. The loss projects every value no step reads."""

    def __init__(self, inputs, steps, shapes):
        self.inputs = inputs
        self.steps = steps
        self.shapes = shapes

    def sinks(self):
        read = {i for _, _, args in self.steps for i in args}
        n = len(self.inputs) + len(self.steps)
        return [i for i in range(len(self.inputs), n) if i not in read] or [n - 1]

    def run(self, xs, kinks=None):
        vals = list(xs)
        for _, fn, args in self.steps:
            vals.append(fn(*[vals[i] for i in args], kinks))
        return [vals[i] for i in self.sinks()]

    def __repr__(self):
        n = len(self.inputs)
        lines = [f"x{i}: {s}" for i, s in enumerate(self.inputs)]
        for k, (label, _, args) in enumerate(self.steps):
            lines.append(f"v{n + k} = {label}({', '.join(f'v{a}' for a in args)})  -> {self.shapes[n + k]}")
        return "Program(" + "; ".join(lines) + f"; loss over {self.sinks()})"


def _broadcast(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _matmul_shape(a, b):
    if not a or not b:
        return None
    ka, kb = a[-1], (b[0] if len(b) == 1 else b[-2])
    if ka != kb:
        return None
    a2 = a if len(a) > 1 else (1,) + a
    b2 = b if len(b) > 1 else b + (1,)
    batch = _broadcast(a2[:-2], b2[:-2])
    if batch is None:
        return None
    return batch + ((a2[-2],) if len(a) > 1 else ()) + ((b2[-1],) if len(b) > 1 else ())


dims = st.integers(1, 3)


@st.composite
def programs(draw, max_steps=7, dims=dims, min_rank=0):
    # inputs: suffixes of one base shape with some axes set to 1, so that they broadcast
    base = tuple(draw(st.lists(dims, min_size=min_rank, max_size=3)))
    n_in = draw(st.integers(1, 3))
    inputs = []
    for _ in range(n_in):
        nd = draw(st.integers(0, len(base)))
        shape = tuple(1 if draw(st.booleans()) and draw(st.booleans()) else d for d in base[len(base) - nd:])
        inputs.append(shape)
    shapes = list(inputs)
    steps = []
    n_steps = draw(st.integers(min(3, max_steps), max_steps))
    for _ in range(n_steps):
        kind = draw(st.sampled_from(["unary", "unary", "binary", "binary", "reduce", "reshape",
                                     "transpose", "index", "matmul", "expand", "norm"]))
        i = draw(st.integers(0, len(shapes) - 1))
        s = shapes[i]
        step = None
        if kind == "binary":
            partners = [j for j, t in enumerate(shapes) if _broadcast(s, t) is not None]
            j = draw(st.sampled_from(partners))
            name = draw(st.sampled_from(sorted(BINARY)))
            step = (name, BINARY[name], (i, j), _broadcast(s, shapes[j]))
        elif kind == "reduce":
            name = draw(st.sampled_from(["sum", "mean"]))
            if s and draw(st.booleans()):
                axes = draw(st.lists(st.integers(-len(s), len(s) - 1), min_size=1, max_size=len(s),
                                     unique_by=lambda a: a % len(s)))
                axis = axes[0] if len(axes) == 1 and draw(st.booleans()) else tuple(axes)
                keep = draw(st.booleans())
                ax = {a % len(s) for a in np.atleast_1d(axis)}
                out = tuple(1 if d in ax else n for d, n in enumerate(s) if keep or d not in ax)
                step = (f"{name}[{axis},{keep}]", _reduce(name, axis, keep), (i,), out)
            else:
                step = (f"{name}[]", _reduce(name, None, False), (i,), ())
        elif kind == "reshape":
            size = int(np.prod(s, dtype=np.int64))
            options = [(size,), (-1,), (1,) + s, s + (1,), s[::-1], tuple(d for d in s if d != 1)]
            target = draw(st.sampled_from(options))
            out = tuple(size if d == -1 else d for d in target)
            if int(np.prod(out, dtype=np.int64)) == size:
                step = (f"reshape{target}", (lambda t: lambda x, k: x.reshape(t))(target), (i,), out)
        elif kind == "expand":
            n = draw(dims)
            if 1 in s and draw(st.booleans()):  # grow an axis of length 1 in place
                ax = s.index(1)
                out = s[:ax] + (n,) + s[ax + 1:]
            else:
                out = (n,) + s
            step = (f"expand{out}", (lambda o: lambda x, k: x.expand(*o))(out), (i,), out)
        elif kind == "norm" and s:
            p = draw(st.sampled_from([2, 1]))
            dim = draw(st.sampled_from([None] + list(range(-len(s), len(s)))))
            keep = dim is not None and draw(st.booleans())
            out = () if dim is None else tuple(1 if d == dim % len(s) else n for d, n in enumerate(s)
                                               if keep or d != dim % len(s))

            def norm(x, k, p=p, dim=dim, keep=keep):
                if p == 1:
                    _kink(k, x)
                return x.norm(p, dim, keep)
            step = (f"norm[p={p},dim={dim},keep={keep}]", norm, (i,), out)
        elif kind == "transpose" and len(s) >= 2:
            perm = tuple(draw(st.permutations(range(len(s)))))
            if draw(st.booleans()):
                step = ("T", lambda x, k: x.T, (i,), s[::-1])
            else:
                step = (f"permute{perm}", (lambda p: lambda x, k: x.permute(*p))(perm), (i,),
                        tuple(s[p] for p in perm))
        elif kind == "index" and s:
            options = {"[::-1]": (lambda x, k: x[::-1], s),
                       "[0]": (lambda x, k: x[0], s[1:]),
                       "[-1:]": (lambda x, k: x[-1:], (1,) + s[1:]),
                       "[None]": (lambda x, k: x[None], (1,) + s),
                       "[..., ::2]": (lambda x, k: x[..., ::2], s[:-1] + ((s[-1] + 1) // 2,))}
            label = draw(st.sampled_from(sorted(options)))
            fn, out = options[label]
            step = (label, fn, (i,), out)
        elif kind == "matmul" and s:
            partners = [j for j, t in enumerate(shapes) if _matmul_shape(s, t) is not None]
            if partners and draw(st.booleans()):
                j = draw(st.sampled_from(partners))
                step = ("matmul", lambda a, b, k: a @ b, (i, j), _matmul_shape(s, shapes[j]))
            else:  # a new weight input of a fitting shape
                k_ = s[-1]
                batch = draw(st.sampled_from([1, s[-3]])) if len(s) >= 3 else draw(dims)
                w = draw(st.sampled_from([(k_,), (k_, draw(dims)), (batch, k_, draw(dims))]))
                inputs.append(w)
                shapes.insert(len(inputs) - 1, w)
                # values after the inputs moved up by one: renumber the steps' operands
                steps = [(lab, fn, tuple(a + 1 if a >= len(inputs) - 1 else a for a in args), out)
                         for lab, fn, args, out in steps]
                i = i + 1 if i >= len(inputs) - 1 else i
                step = ("matmul", lambda a, b, k: a @ b, (i, len(inputs) - 1), _matmul_shape(s, w))
        if step is None:  # the kind did not apply to this value: a unary op instead
            name = draw(st.sampled_from(sorted(UNARY)))
            step = (name, UNARY[name], (i,), s)
        label, fn, args, out = step
        steps.append((label, fn, args, out))
        shapes.append(tuple(out))
    return Program(inputs, [(lab, fn, args) for lab, fn, args, _ in steps], shapes)


# ---------------------------------------------------------------------------------------
# the three gradients
# ---------------------------------------------------------------------------------------
def _loss(outs, ws):
    total = None
    for o, w in zip(outs, ws):
        term = (o * srcgrad.tensor(w)).sum()
        total = term if total is None else total + term
    return total


def compiled(program, arrays, ws, fuse, simplify):
    old = (srcgrad.config.fuse_elementwise, srcgrad.config.simplify)
    srcgrad.config.fuse_elementwise, srcgrad.config.simplify = fuse, simplify
    try:
        xs = [srcgrad.tensor(a, requires_grad=True) for a in arrays]
        kinks = []
        outs = program.run(xs, kinks)
        for o, a in zip(outs, program.sinks()):
            assert o.shape == program.shapes[a], f"shape bookkeeping: {o.shape} vs {program.shapes[a]}"
        loss = _loss(outs, ws)
        loss.backward()
        grads = [None if x.grad is None else x.grad._data for x in xs]
        for g, a in zip(grads, arrays):
            assert g is None or (g.shape == a.shape and g.dtype == a.dtype)
        return grads, min(kinks, default=np.inf), float(loss.item())
    finally:
        srcgrad.config.fuse_elementwise, srcgrad.config.simplify = old


def finite_differences(program, arrays, ws):
    def loss(arrs):
        with srcgrad.no_grad():
            outs = program.run([srcgrad.tensor(a) for a in arrs])
            return sum(float(np.sum(np.asarray(o._data, np.float64) * w)) for o, w in zip(outs, ws))
    grads = []
    for k, a in enumerate(arrays):
        g = np.zeros(a.shape)
        for idx in np.ndindex(a.shape):
            p = [x.copy() for x in arrays]
            m = [x.copy() for x in arrays]
            p[k][idx] += EPS
            m[k][idx] -= EPS
            g[idx] = (loss(p) - loss(m)) / (2 * EPS)
        grads.append(g)
    return grads


def _close(a, b, rtol):
    a = np.zeros(()) if a is None else a
    b = np.zeros(()) if b is None else b
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)), float(np.max(np.abs(a), initial=0.0)))
    return np.allclose(a, b, rtol=rtol, atol=rtol * scale)


@settings(max_examples=min(30, settings.default.max_examples), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=programs(), seed=st.integers(0, 2 ** 32 - 1))
def test_compiled_reference_and_finite_differences_agree(program, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.5, 1.5, size=s) for s in program.inputs]
    ws = [rng.standard_normal(program.shapes[i]) for i in program.sinks()]

    fast, margin, loss_fast = compiled(program, arrays, ws, True, True)
    ref, margin_ref, loss_ref = compiled(program, arrays, ws, False, False)
    assert margin == margin_ref
    assert np.isclose(loss_fast, loss_ref, rtol=1e-12, atol=1e-12), program
    for k, (g, r) in enumerate(zip(fast, ref)):
        assert (g is None) == (r is None), f"input {k}: only one config gave a gradient\n{program}"
        assert _close(g, r, 1e-9), f"input {k}: compiled {g} vs reference {r}\n{program}"
    if margin > KINK_MARGIN:
        num = finite_differences(program, arrays, ws)
        for k, (g, n) in enumerate(zip(fast, num)):
            assert _close(g, n, 1e-5), f"input {k}: compiled {g} vs finite differences {n}\n{program}"


@settings(max_examples=min(15, settings.default.max_examples), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=programs(max_steps=5), seed=st.integers(0, 2 ** 32 - 1),
       switches=st.sampled_from([(True, False), (False, True)]))
def test_each_switch_alone_agrees_with_reference(program, seed, switches):
    """Fusion without simplification, and simplification without fusion, are correct too."""
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.5, 1.5, size=s) for s in program.inputs]
    ws = [rng.standard_normal(program.shapes[i]) for i in program.sinks()]
    mixed, _, _ = compiled(program, arrays, ws, *switches)
    ref, _, _ = compiled(program, arrays, ws, False, False)
    for k, (g, r) in enumerate(zip(mixed, ref)):
        assert (g is None) == (r is None)
        assert _close(g, r, 1e-9), f"input {k} with switches {switches}: {g} vs {r}\n{program}"


@settings(max_examples=min(10, settings.default.max_examples), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=programs(max_steps=5), seed=st.integers(0, 2 ** 32 - 1))
def test_recompiling_with_new_data_reuses_the_function(program, seed):
    """The same program on new data hits the compile cache and still gets it right."""
    from srcgrad.autograd import engine
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal(program.shapes[i]) for i in program.sinks()]
    first = [rng.uniform(-1.5, 1.5, size=s) for s in program.inputs]
    second = [rng.uniform(-1.5, 1.5, size=s) for s in program.inputs]
    compiled(program, first, ws, True, True)
    fn = engine.last_compiled()
    g2, _, _ = compiled(program, second, ws, True, True)
    assert engine.last_compiled() is fn
    engine.clear_cache()
    g2_fresh, _, _ = compiled(program, second, ws, True, True)
    assert engine.last_compiled() is not fn
    for a, b in zip(g2, g2_fresh):
        assert (a is None) == (b is None)
        assert a is None or np.array_equal(a, b)


@pytest.mark.parametrize("seed", range(3))
def test_float32_programs_keep_float32(seed):
    """A fixed mixed program in float32: gradients are float32 and near the float64 ones."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1.5, 1.5, size=(2, 3))
    b = rng.uniform(-1.5, 1.5, size=(3,))
    W = rng.uniform(-1.5, 1.5, size=(3, 4))

    def f(x, y, w):
        h = (x * y + 1).tanh() @ w
        return (srcgrad.where(h > 0, h, h * 0.1).sigmoid() / ((x * x).sum(-1, True) + 1)).mean(0)

    grads = {}
    for dt in (np.float64, np.float32):
        xs = [srcgrad.tensor(v.astype(dt), requires_grad=True) for v in (a, b, W)]
        out = f(*xs)
        assert out.dtype == dt
        (out * srcgrad.tensor(np.arange(4, dtype=dt))).sum().backward()
        for x in xs:
            assert x.grad.dtype == dt
        grads[dt] = [x.grad._data for x in xs]
    for g32, g64 in zip(grads[np.float32], grads[np.float64]):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------
# programs hypothesis found bugs with, kept as fixed regression cases
# ---------------------------------------------------------------------------------------
def _regression_kernel_outputs_of_two_shapes(x0, x1):
    # one forward kernel computes v4 (shape (2,)) and v9 (shape ()) from x1: the parts of
    # x1's gradient from each must be summed back to x1's shape apart
    v2 = x1.abs()
    return [v2 + x0, v2.abs()]


def _regression_saved_broadcast_value(x0):
    # v1 and its broadcast v3 have the same formula in the kernel: the derivative of the
    # scalar v2 must read v1, not the broadcast copy
    v1 = x0.abs()
    return [v1.abs(), v1.expand(2)]


def _regression_fusion_cycle(x0, x1):
    # the backward of this program once fused into kernels that read each other
    return [x0.abs(), x0.abs(), x1 + x0[0], x0.abs(), x0.abs(), x0 + x1]


REGRESSIONS = [
    (_regression_kernel_outputs_of_two_shapes, [(2,), ()]),
    (_regression_saved_broadcast_value, [()]),
    (_regression_fusion_cycle, [(1,), ()]),
]


@pytest.mark.parametrize("fn, shapes", REGRESSIONS, ids=[f.__name__[12:] for f, _ in REGRESSIONS])
def test_regressions(fn, shapes):
    rng = np.random.default_rng(0)
    arrays = [np.array(rng.uniform(0.3, 1.5, size=s) * rng.choice([-1, 1], size=s)) for s in shapes]
    program = Program(shapes, [], [])
    program.run = lambda xs, kinks=None: fn(*xs)
    with srcgrad.no_grad():
        outs = fn(*[srcgrad.tensor(a) for a in arrays])
    ws = [rng.standard_normal(o.shape) for o in outs]
    num = finite_differences(program, arrays, ws)
    for fuse, simplify in [(True, True), (False, False), (True, False), (False, True)]:
        old = (srcgrad.config.fuse_elementwise, srcgrad.config.simplify)
        srcgrad.config.fuse_elementwise, srcgrad.config.simplify = fuse, simplify
        try:
            xs = [srcgrad.tensor(a, requires_grad=True) for a in arrays]
            _loss(fn(*xs), ws).backward()
        finally:
            srcgrad.config.fuse_elementwise, srcgrad.config.simplify = old
        for k, (x, n) in enumerate(zip(xs, num)):
            assert _close(x.grad._data, n, 1e-6), f"input {k}, switches {(fuse, simplify)}: {x.grad} vs {n}"


# ---------------------------------------------------------------------------------------
# large arrays: the code generator's large-array forms (kernels computed in place, sums of
# products as einsum, short sums as einsum) against the plain forms
# ---------------------------------------------------------------------------------------
large_dims = st.sampled_from([3, 180, 200])


def _plain_code():
    return _thresholds(1 << 62)


@settings(max_examples=min(20, settings.default.max_examples), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=programs(max_steps=6, dims=large_dims, min_rank=2), seed=st.integers(0, 2 ** 32 - 1))
def test_large_array_code_agrees_with_the_plain_code(program, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.5, 1.5, size=s) for s in program.inputs]
    ws = [rng.standard_normal(program.shapes[i]) for i in program.sinks()]
    srcgrad.autograd.engine.clear_cache()
    fast, _, loss_fast = compiled(program, arrays, ws, True, True)
    with _plain_code():
        plain, _, loss_plain = compiled(program, arrays, ws, True, True)
    assert np.isclose(loss_fast, loss_plain, rtol=1e-10, atol=1e-10), program
    for g, r in zip(fast, plain):
        assert _close(g, r, 1e-9), program


# ---------------------------------------------------------------------------------------
# memory reuse (codegen/buffers.py) and subformulas shared between forward and backward
# (ir/share.py), forced onto every array: the generated function must give the plain
# code's values, leave its arguments alone, and give the same again on a second call
# ---------------------------------------------------------------------------------------
def _traced(program, arrays, ws):
    def loss(*xs):
        return _loss(program.run(list(xs)), ws)
    f = srcgrad.value_and_grad(loss, argnums=tuple(range(len(arrays))))
    value, grads = f(*arrays)
    return f, float(value), [np.array(g) for g in grads]


@settings(max_examples=min(40, settings.default.max_examples), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=programs(max_steps=8), seed=st.integers(0, 2 ** 32 - 1))
def test_memory_reuse_everywhere_agrees_with_the_plain_code(program, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.5, 1.5, size=s) for s in program.inputs]
    copies = [a.copy() for a in arrays]
    ws = [rng.standard_normal(program.shapes[i]) for i in program.sinks()]
    with _plain_code():
        _, loss_plain, plain = _traced(program, arrays, ws)
        eager_plain, _, _ = compiled(program, arrays, ws, True, True)
    with _thresholds(1):
        f, loss_fast, fast = _traced(program, arrays, ws)
        again = f(*arrays)
        eager_fast, _, _ = compiled(program, arrays, ws, True, True)
    for a, c in zip(arrays, copies):
        assert np.array_equal(a, c), "the generated code wrote into an argument"
    assert np.isclose(loss_fast, loss_plain, rtol=1e-10, atol=1e-10), program
    assert float(again[0]) == loss_fast
    for g, r, g2 in zip(fast, plain, again[1]):
        assert _close(g, r, 1e-9), program
        assert np.array_equal(g, g2), "a second call gave another gradient"
    for g, r in zip(eager_fast, eager_plain):
        assert _close(g, r, 1e-9), program


@settings(max_examples=min(20, settings.default.max_examples), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=programs(max_steps=6), seed=st.integers(0, 2 ** 32 - 1), mode=st.sampled_from(["hessian", "compile"]))
def test_hessians_and_compiled_functions_with_every_large_array_form(program, seed, mode):
    """hessian differentiates the generated backward again, and srcgrad.compile generates
    a forward and then a VJP from one graph: both with every large-array form forced on,
    against the plain code."""
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.5, 1.5, size=s) for s in program.inputs]
    ws = [rng.standard_normal(program.shapes[i]) for i in program.sinks()]

    def loss(*xs):
        return _loss(program.run(list(xs)), ws)

    def run():
        if mode == "hessian":
            return [srcgrad.hessian(loss, argnums=0)(*arrays)]
        ts = [srcgrad.tensor(a, requires_grad=True) for a in arrays]
        out = srcgrad.compile(loss)(*ts)
        out.backward()
        return [out.detach().numpy()] + [np.zeros(()) if t.grad is None else t.grad.numpy() for t in ts]
    with _plain_code():
        ref = run()
    with _thresholds(1):
        got = run()
    for a, b in zip(got, ref):
        assert _close(a, b, 1e-9), program


def test_regression_a_broadcast_output_is_not_shared_as_its_formula():
    """A kernel output broadcast beyond its formula's shape (`np.broadcast_to(s, (1,))`)
    once stood for that formula in a kernel of the formula's own shape (ir/share.py),
    in a Hessian with every large-array form forced on."""
    steps = [("sigmoid", UNARY["sigmoid"], [0]), ("abs", UNARY["abs"], [0]), ("abs", UNARY["abs"], [0]),
             ("abs", UNARY["abs"], [1]), ("expand", lambda x, k: x.expand(1), [1])]
    program = Program([()], steps, [(), (), (), (), (), (1,)])
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(-1.5, 1.5, size=s) for s in program.inputs]
    ws = [rng.standard_normal(program.shapes[i]) for i in program.sinks()]

    def loss(*xs):
        return _loss(program.run(list(xs)), ws)
    with _plain_code():
        plain = srcgrad.hessian(loss)(*arrays)
    with _thresholds(1):
        forced = srcgrad.hessian(loss)(*arrays)
    np.testing.assert_allclose(forced, plain, rtol=1e-12)
