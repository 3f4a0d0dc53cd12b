"""scipy.special over tensors.

scipy.special's functions are mostly ufuncs, so `scipy.special.gammaln(t)` on a tensor
reaches srcgrad through `__array_ufunc__` like `np.exp(t)` does: each is registered
here under its ufunc name (scipy calls digamma `psi` and jn `jv`). The few that scipy
writes in Python (polygamma, multigammaln; logsumexp and softmax are in reductions.py)
convert their arguments with np.asarray, which a traced tensor refuses: they are here
to call as `srcgrad.scipy.special.polygamma` (srcgrad.scipy mirrors scipy's layout).

An argument with no derivative (a Bessel function's order, the incomplete gamma
function's shape) may be data, but not a value being differentiated: that is refused
here, at the user's line, before anything is recorded.
"""
from ..ops.scipy_special import OP_NAMES
from ..symbolic.special import NO_DERIVATIVE, scipy_special
from ._dispatch import NoRuleError, UFUNCS, needs_grad
from .elementwise import elementwise, log1p, where

__all__ = []


def _function(scipy_name):
    op = OP_NAMES[scipy_name]
    fixed = NO_DERIVATIVE[scipy_name]

    def fn(*args):
        for k in fixed:
            if k < len(args) and needs_grad(args[k]):
                from ..utils.locations import describe_loc, user_loc
                raise NoRuleError(
                    f"scipy.special.{scipy_name} has no derivative in its argument {k + 1} (of {len(args)}), "
                    f"which requires grad here {describe_loc(user_loc(1))}: pass it as data (x.detach(), or "
                    f"an argument not differentiated)")
        return elementwise(op, *args, float_result=True)
    fn.__name__ = op
    fn.__qualname__ = op
    fn.__doc__ = f"scipy.special.{scipy_name} over tensors (op `{op}`)."
    return fn


for _name in OP_NAMES:
    globals()[OP_NAMES[_name]] = UFUNCS[_name] = _function(_name)
    __all__.append(OP_NAMES[_name])
UFUNCS["_zeta"] = UFUNCS["zeta"]  # (scipy's zeta(s, q) calls the ufunc _zeta)
psi = digamma  # noqa: F821  (defined by the loop above)
jn = jv  # noqa: F821
__all__ += ["psi", "jn"]


def xlog1py(x, y):
    """x * log1p(y), 0 where x is 0 (whatever y is)."""
    return where(x == 0, 0.0, x * log1p(y))


def multigammaln(a, d):
    """log of the multivariate gamma function of dimension d (an int)."""
    import math
    d = int(d)
    if d < 1:
        raise ValueError(f"multigammaln: the dimension d must be a positive integer, got {d}")
    total = d * (d - 1) / 4 * math.log(math.pi)
    for j in range(d):
        total = total + gammaln(a - j / 2)  # noqa: F821
    return total


UFUNCS["xlog1py"] = xlog1py
__all__ += ["xlog1py", "multigammaln", "scipy_special"]
