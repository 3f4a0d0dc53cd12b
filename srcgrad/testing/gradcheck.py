"""gradcheck: srcgrad's gradients against central finite differences.

    from srcgrad.testing import gradcheck
    gradcheck(lambda x, W: np.tanh(x @ W), x, W)          # every float argument
    gradcheck(loss, W, b, X, y, argnums=(0, 1))           # X and y held constant
    gradcheck(f, x, order=2)                              # first and second derivatives
    gradcheck(f, x, traced=True)                          # the decorators' code path too

`f` receives srcgrad tensors for the differentiated arguments (and for constant arrays;
other constants as given) and returns a tensor, or a tuple/list of them. Outputs are
contracted with random cotangents, so one backward yields a random projection of the
whole Jacobian. It is compared with central differences in float64, whatever the
inputs' dtype:

- along `directions` random input directions (two function evaluations each, any size);
- entry by entry when the differentiated inputs have at most `full_limit` elements.

The analytic gradient must also keep each input's shape and dtype. A failure raises
`GradcheckError` (an AssertionError) naming the argument, the index of the largest
difference and both values. `order=2` also checks second derivatives: srcgrad's
Hessian-vector product (double backward with create_graph=True) against central
differences of srcgrad's first gradient, along a random direction, and column by
column for small inputs.

Importing this module never imports hypothesis (see srcgrad.testing.strategies).
"""
import contextlib
import inspect

import numpy as np

#: default (atol, rtol) by the lowest precision among the differentiated inputs
DEFAULT_TOLERANCES = {np.dtype(np.float64): (1e-5, 1e-4), np.dtype(np.float32): (1e-4, 1e-3),
                      np.dtype(np.float16): (1e-2, 1e-2)}
#: after a failed projection, an argument of at most this many elements is checked entry by
#: entry to find the index of the error
LOCALIZE_LIMIT = 1024


class GradcheckError(AssertionError):
    pass


# ---------------------------------------------------------------------------------------
# the public helpers kept from the first version
# ---------------------------------------------------------------------------------------
def _call(f, arrays):
    import srcgrad
    with srcgrad.no_grad():
        out = f(*[srcgrad.tensor(a) for a in arrays])
    return np.asarray(out._data if isinstance(out, srcgrad.Tensor) else out, dtype=np.float64)


def numerical_grad(f, arrays, cotangent, eps=1e-6):
    """d <cotangent, f(arrays)> / d arrays by central differences, in float64."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for k, a in enumerate(arrays):
        g = np.zeros_like(a)
        for i in range(a.size):
            orig = a.flat[i]
            a.flat[i] = orig + eps
            plus = np.sum(_call(f, arrays) * cotangent)
            a.flat[i] = orig - eps
            minus = np.sum(_call(f, arrays) * cotangent)
            a.flat[i] = orig
            g.flat[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


# ---------------------------------------------------------------------------------------
# gradcheck
# ---------------------------------------------------------------------------------------
def gradcheck(f, *args, eps=1e-6, atol=None, rtol=None, argnums=None, order=1, seed=0,
              full_limit=64, directions=2, traced=False):
    """Assert that srcgrad differentiates `f` correctly at `args`.

    args: numpy arrays, Python/numpy floats, srcgrad tensors, or any other constant.
    argnums: an int or a tuple of the arguments to differentiate; by default every float
      argument (float arrays, floats, float tensors). The others are passed as constants
      (arrays as tensors that do not require grad).
    order: 1 checks gradients; 2 checks gradients and second derivatives.
    atol, rtol: per-entry tolerance |srcgrad - finite differences| <= atol + rtol * |fd|;
      by default 1e-5/1e-4 for float64 inputs, 1e-4/1e-3 when one is float32.
    eps: the central-difference step (always taken in float64).
    full_limit: inputs with at most this many elements in all are checked entry by entry.
    directions: random projections checked (each costs two evaluations of f).
    traced: also check the compiled decorator path (srcgrad.value_and_grad, and
      srcgrad.hvp when order=2) on the same contraction of f; f must then be traceable
      and compute the same value traced as eagerly.
    seed: seeds the random cotangents and directions.

    Returns srcgrad's gradients of <cotangent, f(args)>, one numpy array per
    differentiated argument (for a scalar f the cotangent is 1: f's gradient). Raises
    GradcheckError (an AssertionError) on a mismatch."""
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    p = _Problem(f, args, argnums, eps)
    if atol is None or rtol is None:
        worst = min((a.dtype for a in p.arrays), key=lambda d: d.itemsize)
        da, dr = DEFAULT_TOLERANCES.get(worst, DEFAULT_TOLERANCES[np.dtype(np.float64)])
        atol = da if atol is None else atol
        rtol = dr if rtol is None else rtol
    p.atol, p.rtol = atol, rtol
    rng = np.random.default_rng(seed)
    p.cots = _cotangents(p, rng)
    dirs = [[rng.standard_normal(a.shape) for a in p.arrays] for _ in range(directions)]
    small = p.size <= full_limit

    analytic = p.eager_grad()
    _check_avals(p, analytic, "gradient")
    if small:
        _compare(p, analytic, p.numeric_grad(), "gradient")
    for d in dirs:
        _check_projection(p, analytic, d, "gradient")
    if traced:
        tg = p.traced_grad()
        _check_avals(p, tg, "gradient (traced, srcgrad.value_and_grad)")
        if small:
            _compare(p, tg, p.numeric_grad(), "gradient (traced, srcgrad.value_and_grad)")
        for d in dirs:
            _check_projection(p, tg, d, "gradient (traced, srcgrad.value_and_grad)")
    if order == 2:
        _check_second_order(p, rng, small, traced)
    return analytic


class _Problem:
    """f, its arguments split into differentiated inputs and constants, and evaluations."""

    def __init__(self, f, args, argnums, eps):
        self.f, self.args, self.eps = f, list(args), eps
        self.argnums = _argnums(self.args, argnums)
        self.arrays = [_float_array(self.args[i], i) for i in self.argnums]
        self.names = _arg_names(f, len(self.args))
        self.size = sum(a.size for a in self.arrays)
        self._numeric = None
        self._directional = {}

    def where(self, k):
        i = self.argnums[k]
        name = self.names[i]
        return f"argument {i}" + (f" (`{name}`)" if name else "")

    def call(self, inputs):
        """f with these tensors in the differentiated positions; outputs as a flat list."""
        import srcgrad
        full = []
        it = iter(inputs)
        chosen = set(self.argnums)
        for i, a in enumerate(self.args):
            if i in chosen:
                full.append(next(it))
            elif isinstance(a, np.ndarray):
                full.append(srcgrad.tensor(a))
            else:
                full.append(a)
        return _flat_outputs(self.f(*full))

    def value(self, arrays, mass=False):
        """<cotangents, f(arrays)> in float64, without recording (and with mass, also the
        sum of the absolute values of its terms)."""
        import srcgrad
        with srcgrad.no_grad():
            outs = self.call([srcgrad.tensor(np.asarray(a, np.float64)) for a in arrays])
        total = size = 0.0
        for o, c in zip(outs, self.cots):
            if c is not None:
                terms = np.asarray(_data(o), np.float64) * c
                total += float(np.sum(terms))
                size += float(np.sum(np.abs(terms)))
        return (total, size) if mass else total

    def directional(self, direction):
        """d/dt <cotangents, f(x + t direction)> at t = 0, by central differences."""
        key = tuple(id(d) for d in direction)
        if key in self._directional:
            return self._directional[key][1]
        plus = [a.astype(np.float64) + self.eps * d for a, d in zip(self.arrays, direction)]
        minus = [a.astype(np.float64) - self.eps * d for a, d in zip(self.arrays, direction)]
        result = (self.value(plus) - self.value(minus)) / (2 * self.eps)
        self._directional[key] = (direction, result)  # keeps the ids alive
        return result

    def numeric_grad(self, only=None):
        """The gradient entry by entry (of the arguments in `only`, default all)."""
        if only is None and self._numeric is not None:
            return self._numeric
        base = [a.astype(np.float64) for a in self.arrays]
        out = []
        for k, a in enumerate(base):
            if only is not None and k not in only:
                out.append(None)
                continue
            g = np.zeros(a.shape)
            for i in range(a.size):
                orig = a.flat[i]
                a.flat[i] = orig + self.eps
                plus = self.value(base)
                a.flat[i] = orig - self.eps
                minus = self.value(base)
                a.flat[i] = orig
                g.flat[i] = (plus - minus) / (2 * self.eps)
            out.append(g)
        if only is None:
            self._numeric = out
        return out

    def _loss(self, xs):
        import srcgrad
        outs = self.call(xs)
        terms = [(o * srcgrad.tensor(c.astype(o.dtype))).sum() for o, c in zip(outs, self.cots)
                 if c is not None and isinstance(o, srcgrad.Tensor) and o.requires_grad]
        if not terms:
            return None
        loss = terms[0]
        for t in terms[1:]:
            loss = loss + t
        return loss

    def eager_grad(self):
        """srcgrad's gradient through Tensor.backward(), in the inputs' own dtypes."""
        import srcgrad
        from srcgrad.autograd.engine import run_backward
        xs = [srcgrad.tensor(a, requires_grad=True) for a in self.arrays]
        loss = self._loss(xs)
        if loss is not None:  # (into xs only: a module's parameters the function reads keep their .grad)
            run_backward([loss], [None], inputs=xs, allow_unused=True)
        return [np.zeros(a.shape, a.dtype) if x.grad is None else np.array(x.grad.detach().numpy())
                for a, x in zip(self.arrays, xs)]

    def grad_at(self, arrays):
        """srcgrad's gradient (autograd.grad) at other values of the inputs, in float64."""
        import srcgrad
        xs = [srcgrad.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
        loss = self._loss(xs)
        if loss is None:
            return [np.zeros(np.shape(a)) for a in arrays]
        gs = srcgrad.autograd.grad([loss], xs, allow_unused=True)
        return [np.zeros(np.shape(a)) if g is None else np.asarray(g.detach().numpy(), np.float64)
                for a, g in zip(arrays, gs)]

    def eager_hvp(self, vs):
        """srcgrad's Hessian-vector product: grad of <grad(x), v> with create_graph=True."""
        import srcgrad
        xs = [srcgrad.tensor(a, requires_grad=True) for a in self.arrays]
        zeros = [np.zeros(a.shape, a.dtype) for a in self.arrays]
        loss = self._loss(xs)
        if loss is None:
            return zeros
        gs = srcgrad.autograd.grad([loss], xs, create_graph=True, allow_unused=True)
        terms = [(g * srcgrad.tensor(v.astype(g.dtype))).sum() for g, v in zip(gs, vs)
                 if g is not None and g.requires_grad]
        if not terms:
            return zeros
        h = terms[0]
        for t in terms[1:]:
            h = h + t
        hv = srcgrad.autograd.grad([h], xs, allow_unused=True)
        return [z if g is None else np.array(g.detach().numpy()) for z, g in zip(zeros, hv)]

    # -- the decorators' path --------------------------------------------------------------
    def _contracted(self):
        from srcgrad import Tensor
        f, cots = self.f, self.cots

        def contracted(*args):
            total = 0.0
            for o, c in zip(_flat_outputs(f(*args)), cots):
                if c is not None and isinstance(o, Tensor):
                    total = total + (o * c.astype(o.dtype)).sum()
            return total
        contracted.__qualname__ = contracted.__name__ = getattr(f, "__name__", "f").replace("<lambda>", "f")
        return contracted

    def _traced_args(self, values=None):
        args = list(self.args)
        for k, i in enumerate(self.argnums):
            v = self.arrays[k] if values is None else values[k]
            args[i] = float(v) if isinstance(self.args[i], (float, int)) else v
        return args

    def traced_grad(self):
        """srcgrad.value_and_grad of the contraction; its value must be the eager one (a
        function that computes something else when traced is reported as such, not as a
        wrong gradient)."""
        import srcgrad
        with _no_disk_cache():
            value, g = srcgrad.value_and_grad(self._contracted(), argnums=tuple(self.argnums))(
                *self._traced_args())
        eager, size = self.value(self.arrays, mass=True)
        value = float(np.asarray(_leaf_array(value)))  # (a tensor if f read tensors that require grad)
        if not abs(value - eager) <= self.atol + self.rtol * size:
            raise GradcheckError(
                f"f computes another value when traced: <cotangent, f(args)> is {value!r} under "
                f"srcgrad.value_and_grad and {eager!r} run eagerly, so its traced gradient cannot "
                f"be checked against finite differences of the eager f (numpy-style methods such as "
                f"x.var() follow numpy inside decorated functions, PyTorch outside)")
        return [_leaf_array(x) for x in g]

    def traced_hvp(self, k, v):
        import srcgrad
        i = self.argnums[k]
        v = float(v) if isinstance(self.args[i], (float, int)) else v.astype(self.arrays[k].dtype)
        with _no_disk_cache():
            hv = srcgrad.hvp(self._contracted(), argnums=i)(*self._traced_args(), v)
        return _leaf_array(hv)


@contextlib.contextmanager
def _no_disk_cache():
    """Compile the wrapper gradcheck builds in memory only: its code is the same for
    every f, so it must never be looked up in srcgrad's disk cache."""
    from srcgrad import config
    old = config.cache_dir
    config.cache_dir = False
    try:
        yield
    finally:
        config.cache_dir = old


def _leaf_array(x):
    from srcgrad import Tensor
    if isinstance(x, Tensor):
        return np.array(x.detach().numpy())
    return np.asarray(x)


def _data(o):
    from srcgrad import Tensor
    return o.detach().numpy() if isinstance(o, Tensor) else o


def _flat_outputs(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in _flat_outputs(x)]
    return [out]


def _argnums(args, argnums):
    n = len(args)
    if argnums is None:
        nums = [i for i, a in enumerate(args) if _is_float(a)]
        if not nums:
            raise ValueError("gradcheck: no float argument to differentiate (pass float arrays, "
                             "floats, or argnums=...)")
        return nums
    nums = [argnums] if isinstance(argnums, int) else list(argnums)
    out = []
    for i in nums:
        if not isinstance(i, (int, np.integer)) or not -n <= i < n:
            raise ValueError(f"gradcheck: argnums {argnums!r} is out of range for {n} arguments")
        i = int(i) % n
        if i in out:
            raise ValueError(f"gradcheck: argument {i} appears twice in argnums")
        out.append(i)
    return out


def _is_float(a):
    from srcgrad import Tensor
    if isinstance(a, bool):
        return False
    if isinstance(a, float):
        return True
    if isinstance(a, Tensor):
        return a.dtype.kind == "f"
    if isinstance(a, (np.ndarray, np.generic)):
        return a.dtype.kind == "f"
    return False


def _float_array(a, i):
    from srcgrad import Tensor
    if isinstance(a, Tensor):
        a = a.detach().numpy()
    if isinstance(a, (bool, np.bool_)):
        raise TypeError(f"gradcheck: argument {i} is a bool; only float data can be differentiated")
    if isinstance(a, (int, float)):
        return np.array(a, dtype=np.float64)
    arr = np.array(a)
    if arr.dtype.kind != "f":
        raise TypeError(f"gradcheck: argument {i} has {arr.dtype} data; only float data can be "
                        f"differentiated (leave it out of argnums to hold it constant)")
    return arr


def _arg_names(f, n):
    names = [None] * n
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return names
    for k, prm in enumerate(params[:n]):
        if prm.kind in (prm.VAR_POSITIONAL, prm.VAR_KEYWORD, prm.KEYWORD_ONLY):
            break
        names[k] = prm.name
    return names


def _cotangents(p, rng):
    """One random cotangent per float output (None for outputs that have no gradient)."""
    import srcgrad
    with srcgrad.no_grad():
        outs = p.call([srcgrad.tensor(a) for a in p.arrays])
    cots = []
    for o in outs:
        arr = np.asarray(_data(o))
        cots.append(rng.standard_normal(arr.shape) if arr.dtype.kind == "f" else None)
    if len(outs) == 1 and cots[0] is not None and cots[0].ndim == 0:
        cots[0] = np.float64(1.0)  # a scalar f: its gradient itself comes back
        p.note = ""
    else:
        p.note = " [values are derivatives of <random cotangent, f(args)>]"
    return cots


# ---------------------------------------------------------------------------------------
# comparisons and their messages
# ---------------------------------------------------------------------------------------
def _index(arr, flat):
    return tuple(int(j) for j in np.unravel_index(flat, arr.shape)) if arr.ndim else ()


def _check_avals(p, grads, what):
    for k, (g, a) in enumerate(zip(grads, p.arrays)):
        g = np.asarray(g)
        if g.shape != a.shape or g.dtype != a.dtype:
            raise GradcheckError(f"{what} of {p.where(k)} has shape {tuple(g.shape)} and dtype {g.dtype}; "
                                 f"the argument has shape {tuple(a.shape)} and dtype {a.dtype}")


def _compare(p, analytic, numeric, what, reference="finite differences"):
    """Entry by entry; raises at the largest difference among the entries out of tolerance."""
    failures = []
    for k, (g, n) in enumerate(zip(analytic, numeric)):
        if n is None:
            continue
        g64 = np.asarray(g, np.float64)
        bad = ~np.isclose(g64, n, atol=p.atol, rtol=p.rtol)
        if bad.any():
            diff = np.abs(g64 - n)
            diff = np.where(np.isnan(diff), np.inf, diff)
            flat = int(np.argmax(np.where(bad, diff, -1.0)))
            failures.append((float(diff.flat[flat]), k, flat, g64, n, int(bad.sum())))
    if not failures:
        return
    failures.sort(key=lambda t: -t[0])
    d, k, flat, g64, n, count = failures[0]
    i = _index(g64, flat)
    msg = (f"{what} of {p.where(k)} is wrong at index {i}: srcgrad {float(g64.flat[flat])!r}, "
           f"{reference} {float(n.flat[flat])!r} (largest difference {d:.3g}; {count} of {g64.size} "
           f"entries differ beyond atol={p.atol:g} + rtol={p.rtol:g} * |expected|)")
    others = [f"{p.where(k2)} ({c2} of {g2.size} entries)" for _, k2, _, g2, _, c2 in failures[1:]]
    if others:
        msg += "; also wrong: " + ", ".join(others)
    raise GradcheckError(msg + p.note)


def _projection_error(p, g64s, d, num):
    """(srcgrad's projection, its tolerance, |difference|). Rounding errors of the entries
    are independent, so they add up like a random walk: the tolerance takes the entry
    tolerances in quadrature (3 sigma), which keeps a systematic error, adding up
    linearly, visible among many entries."""
    ana = sum(float(np.sum(g * dk)) for g, dk in zip(g64s, d))
    dn = np.sqrt(sum(float(np.sum(dk * dk)) for dk in d))
    gd = np.sqrt(sum(float(np.sum((g * dk) ** 2)) for g, dk in zip(g64s, d)))
    tol = p.atol * max(dn, 1.0) + 3 * p.rtol * gd
    err = abs(ana - num)
    return ana, tol, (err if err == err else np.inf)


def _check_projection(p, analytic, direction, what):
    g64s = [np.asarray(g, np.float64) for g in analytic]
    num = p.directional(direction)
    ana, tol, err = _projection_error(p, g64s, direction, num)
    if err <= tol:
        return
    # find the argument, then the entry
    culprit, where_num, where_ana, where_err, where_tol = None, num, ana, err, tol
    if len(p.arrays) > 1:
        best = -np.inf
        for k in range(len(p.arrays)):
            dk = [d if j == k else np.zeros_like(d) for j, d in enumerate(direction)]
            nk = p.directional(dk)
            ak, tk, ek = _projection_error(p, g64s, dk, nk)
            if ek - tk > best:
                best, culprit, where_num, where_ana, where_err, where_tol = ek - tk, k, nk, ak, ek, tk
    else:
        culprit = 0
    if p.arrays[culprit].size <= LOCALIZE_LIMIT:
        numeric = p.numeric_grad(only={culprit})
        _compare(p, analytic, numeric, what)
    raise GradcheckError(
        f"{what} of {p.where(culprit)} is wrong along a random direction: srcgrad "
        f"{where_ana!r}, finite differences {where_num!r} (difference {where_err:.3g}, allowed "
        f"{where_tol:.3g}); the argument has {p.arrays[culprit].size} entries"
        + ("" if p.arrays[culprit].size <= LOCALIZE_LIMIT else
           f", more than LOCALIZE_LIMIT={LOCALIZE_LIMIT} to compare one by one") + p.note)


# ---------------------------------------------------------------------------------------
# second order
# ---------------------------------------------------------------------------------------
def _fd_hvp(p, vs):
    """Central differences of srcgrad's (first-order) gradient along vs, in float64."""
    base = [a.astype(np.float64) for a in p.arrays]
    plus = p.grad_at([a + p.eps * v for a, v in zip(base, vs)])
    minus = p.grad_at([a - p.eps * v for a, v in zip(base, vs)])
    return [(gp - gm) / (2 * p.eps) for gp, gm in zip(plus, minus)]


def _check_hvp(p, hv, vs, what, only=None):
    """hv (one array per argument, None where not computed) against differences of the
    gradient along vs. The absolute tolerance scales with |v|."""
    num = _fd_hvp(p, vs)
    if only is not None:
        num = [n if k == only else None for k, n in enumerate(num)]
    scale = float(np.sqrt(sum(float(np.sum(v * v)) for v in vs)))
    saved = p.atol
    p.atol = saved * max(scale, 1.0)
    try:
        _compare(p, hv, num, what, reference="finite differences of the gradient")
    finally:
        p.atol = saved


def _check_second_order(p, rng, small, traced):
    what = "Hessian-vector product (double backward, random direction)"
    vs = [rng.standard_normal(a.shape) for a in p.arrays]
    hv = p.eager_hvp(vs)
    _check_avals(p, hv, what)
    if small:
        _check_full_hessian(p)
    _check_hvp(p, hv, vs, what)
    if traced:
        twhat = "Hessian-vector product (traced srcgrad.hvp, random direction)"
        for k, a in enumerate(p.arrays):
            hvk = p.traced_hvp(k, vs[k])
            if hvk.shape != a.shape or hvk.dtype != a.dtype:
                raise GradcheckError(f"{twhat} of {p.where(k)} has shape {tuple(hvk.shape)} and dtype "
                                     f"{hvk.dtype}; the argument has shape {tuple(a.shape)} and dtype {a.dtype}")
            vk = [v if j == k else np.zeros_like(v) for j, v in enumerate(vs)]
            _check_hvp(p, [hvk if j == k else None for j in range(len(p.arrays))], vk, twhat, only=k)


def _check_full_hessian(p):
    """Column by column: srcgrad's Hessian against differences of its gradient."""
    cols = [(k, flat) for k, a in enumerate(p.arrays) for flat in range(a.size)]
    n = len(cols)
    H = np.zeros((n, n))
    N = np.zeros((n, n))
    for j, (k, flat) in enumerate(cols):
        vs = [np.zeros(a.shape) for a in p.arrays]
        vs[k].flat[flat] = 1.0
        hv = p.eager_hvp(vs)
        num = _fd_hvp(p, vs)
        H[:, j] = np.concatenate([np.asarray(h, np.float64).ravel() for h in hv])
        N[:, j] = np.concatenate([x.ravel() for x in num])
    bad = ~np.isclose(H, N, atol=p.atol, rtol=p.rtol)
    if not bad.any():
        return
    diff = np.abs(H - N)
    diff = np.where(np.isnan(diff), np.inf, diff)
    r, c = np.unravel_index(int(np.argmax(np.where(bad, diff, -1.0))), H.shape)

    def entry(j):
        k, flat = cols[j]
        return f"{p.where(k)} index {_index(p.arrays[k], flat)}"
    raise GradcheckError(
        f"second derivative d2/d[{entry(r)}] d[{entry(c)}] (double backward) is wrong: srcgrad "
        f"{float(H[r, c])!r}, finite differences of the gradient {float(N[r, c])!r} (largest "
        f"difference {float(diff[r, c]):.3g}; {int(bad.sum())} of {bad.size} Hessian entries differ "
        f"beyond atol={p.atol:g} + rtol={p.rtol:g} * |expected|)" + p.note)


# ---------------------------------------------------------------------------------------
# assert_grad_close
# ---------------------------------------------------------------------------------------
def assert_grad_close(actual, expected, rtol=1e-5, atol=1e-8, check_dtype=False, equal_nan=True):
    """Assert that two gradients (possibly nested dicts / lists / tuples of arrays, floats
    or srcgrad tensors) agree: same structure and shapes, and every entry within
    atol + rtol * |expected|. The message names the path of the first mismatching leaf
    (e.g. `['W'][1]`), the index of its largest difference and both values."""
    _assert_close(actual, expected, "", rtol, atol, check_dtype, equal_nan)


def _path(path):
    return path or "(top level)"


def _is_leaf(x):
    from srcgrad import Tensor
    return x is None or isinstance(x, (Tensor, np.ndarray, np.generic, int, float, bool))


def _leaf(x):
    from srcgrad import Tensor
    if isinstance(x, Tensor):
        return np.asarray(x.detach().numpy())
    return np.asarray(x)


def _assert_close(actual, expected, path, rtol, atol, check_dtype, equal_nan):
    from collections.abc import Mapping
    if isinstance(expected, Mapping) or isinstance(actual, Mapping):
        if not (isinstance(expected, Mapping) and isinstance(actual, Mapping)):
            raise AssertionError(f"at {_path(path)}: actual is a {type(actual).__name__}, expected a "
                                 f"{type(expected).__name__}")
        if set(actual) != set(expected):
            missing = [k for k in expected if k not in actual]
            extra = [k for k in actual if k not in expected]
            raise AssertionError(f"at {_path(path)}: keys differ (missing {missing}, unexpected {extra})")
        for key in expected:
            _assert_close(actual[key], expected[key], f"{path}[{key!r}]", rtol, atol, check_dtype, equal_nan)
        return
    seq = (list, tuple)
    if isinstance(expected, seq) or isinstance(actual, seq):
        if not (isinstance(expected, seq) and isinstance(actual, seq)):
            raise AssertionError(f"at {_path(path)}: actual is a {type(actual).__name__}, expected a "
                                 f"{type(expected).__name__}")
        if len(actual) != len(expected):
            raise AssertionError(f"at {_path(path)}: actual has {len(actual)} items, expected "
                                 f"{len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _assert_close(a, e, f"{path}[{i}]", rtol, atol, check_dtype, equal_nan)
        return
    for x, which in ((actual, "actual"), (expected, "expected")):
        if not _is_leaf(x):
            raise AssertionError(f"at {_path(path)}: {which} is a {type(x).__name__}, not an array, "
                                 f"number, tensor or container of them")
    if actual is None or expected is None:
        if actual is not expected:
            raise AssertionError(f"at {_path(path)}: actual is {actual!r:.60}, expected {expected!r:.60}")
        return
    a, e = _leaf(actual), _leaf(expected)
    if a.shape != e.shape:
        raise AssertionError(f"at {_path(path)}: actual has shape {tuple(a.shape)}, expected {tuple(e.shape)}")
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(f"at {_path(path)}: actual has dtype {a.dtype}, expected {e.dtype}")
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    bad = ~np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not bad.any():
        return
    diff = np.abs(a64 - e64)
    diff = np.where(np.isnan(diff), np.inf, diff)
    flat = int(np.argmax(np.where(bad, diff, -1.0)))
    i = _index(a, flat)
    where = f"{_path(path)}" + (f", index {i}" if a.ndim else "")
    raise AssertionError(
        f"gradients differ at {where}: actual {float(a64.flat[flat])!r}, expected "
        f"{float(e64.flat[flat])!r} (largest difference {float(diff.flat[flat]):.3g}; {int(bad.sum())} "
        f"of {a.size} entries differ beyond atol={atol:g} + rtol={rtol:g} * |expected|)")
