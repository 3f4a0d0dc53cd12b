"""gradcheck: srcgrad's gradient against central finite differences.

`f` takes tensors (one per input array) and returns a tensor. Non-scalar outputs are
contracted with a random cotangent, so one backward checks the whole Jacobian
against a random projection; inputs up to `full_limit` elements are also checked
coordinate by coordinate. Finite differences run in float64 whatever the inputs'
dtype, and the analytic gradient must keep each input's dtype and shape.
"""
import numpy as np


class GradcheckError(AssertionError):
    pass


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


def gradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0, full_limit=64):
    """Assert that srcgrad's gradient of f at `inputs` (numpy arrays) is right.

    Returns the analytic gradients (numpy arrays)."""
    import srcgrad
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a) for a in inputs]
    xs = [srcgrad.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    cot = rng.standard_normal(out.shape)
    if out.dtype == np.float32:
        cot = cot.astype(np.float32)
    (out * srcgrad.tensor(cot.astype(out.dtype))).sum().backward()
    analytic = []
    for k, (a, x) in enumerate(zip(arrays, xs)):
        if x.grad is None:
            g = np.zeros(a.shape, a.dtype)
        else:
            g = x.grad.numpy()
            if g.shape != a.shape or g.dtype != a.dtype:
                raise GradcheckError(f"gradient of input {k} has shape {g.shape} and dtype {g.dtype}; "
                                     f"the input has {a.shape} {a.dtype}")
        analytic.append(g)
    if sum(a.size for a in arrays) > full_limit:
        # projection check: one random direction per input
        dirs = [rng.standard_normal(a.shape) for a in arrays]
        num = _directional(f, arrays, dirs, cot, eps)
        ana = sum(float(np.sum(g.astype(np.float64) * d)) for g, d in zip(analytic, dirs))
        if not np.isclose(ana, num, atol=atol * 10, rtol=rtol * 10):
            raise GradcheckError(f"directional derivative: srcgrad {ana!r}, finite differences {num!r}")
        return analytic
    numeric = numerical_grad(f, arrays, cot, eps)
    for k, (g, n) in enumerate(zip(analytic, numeric)):
        g64 = g.astype(np.float64)
        bad = ~np.isclose(g64, n, atol=atol, rtol=rtol)
        if bad.any():
            diff = np.abs(g64 - n)
            i = np.unravel_index(np.argmax(np.where(bad, diff, -1)), g.shape) if g.ndim else ()
            raise GradcheckError(
                f"gradient of input {k} is wrong at index {tuple(int(j) for j in i)}: srcgrad "
                f"{float(g64[i])!r}, finite differences {float(n[i])!r} (largest difference {diff.max():.3g}; "
                f"{int(bad.sum())} of {bad.size} entries differ)")
    return analytic


def _directional(f, arrays, dirs, cot, eps):
    plus = [a.astype(np.float64) + eps * d for a, d in zip(arrays, dirs)]
    minus = [a.astype(np.float64) - eps * d for a, d in zip(arrays, dirs)]
    return float((np.sum(_call(f, plus) * cot) - np.sum(_call(f, minus) * cot)) / (2 * eps))
