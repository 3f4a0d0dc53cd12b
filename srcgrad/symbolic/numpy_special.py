"""numpy kernels for the scipy.special functions PyTorch's own vocabulary needs (torch.lgamma,
torch.digamma, torch.polygamma, torch.erfinv and their derivatives), for when scipy is
not installed: `special.scipy_special()` (symbolic/special.py) then gives `SPECIAL`, so that
the op table's ops (gammaln, digamma, polygamma, erfinv) and the generated code that calls
`special.<name>` run unchanged. Values agree with scipy's to ~1e-13 (relative; most to
1e-15) in float64, at the poles and infinities too; float32 input gives float32, as
scipy's ufuncs (polygamma: float64, as scipy's).
"""
import math

import numpy as np

# Bernoulli numbers B_2, B_4, ..., B_20 (Euler-Maclaurin and the asymptotic series of digamma)
_B2K = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330]


def _float_in(x):
    """x as a float64 array, and the dtype scipy's ufunc returns for it (float32 for float32
    and float16, float64 otherwise)."""
    a = np.asarray(x)
    out = np.dtype(np.float32) if a.dtype in (np.float32, np.float16) else np.dtype(np.float64)
    return a.astype(np.float64), out


def _result(values, dtype, like):
    values = np.asarray(values, dtype=np.float64).astype(dtype, copy=False)
    return values if np.ndim(like) else dtype.type(values)


def _lgamma1(v):
    try:
        return math.lgamma(v)
    except ValueError:  # a pole (0, -1, -2, ...): +inf, as scipy
        return math.inf
    except OverflowError:
        return math.inf


_lgamma = np.frompyfunc(_lgamma1, 1, 1)


def gammaln(x):
    """log |Gamma(x)|."""
    a, dtype = _float_in(x)
    with np.errstate(all="ignore"):
        out = np.asarray(_lgamma(a), dtype=np.float64)
        out = np.where(a == -np.inf, np.inf, out)
    return _result(out, dtype, x)


def _cot_pi(x):
    """cot(pi x), of x less its nearest integer (exact): accurate near the poles too."""
    return 1 / np.tan(np.pi * (x - np.rint(x)))


def _digamma_positive(x):
    """psi(x) for x > 0: the recurrence up to x >= 10, then the asymptotic series."""
    x = np.array(x, dtype=np.float64)
    acc = np.zeros_like(x)
    small = x < 10
    while np.any(small):
        acc = np.where(small, acc - 1 / np.where(small, x, 1.0), acc)
        x = np.where(small, x + 1, x)
        small = x < 10
    inv2 = 1 / (x * x)
    series = np.zeros_like(x)
    power = np.ones_like(x)
    for k, b in enumerate(_B2K[:8], start=1):
        power = power * inv2
        series = series + b / (2 * k) * power
    return acc + np.log(x) - 0.5 / x - series


def psi(x):
    """digamma: d/dx log Gamma(x) (-inf at +0, +inf at -0, NaN at the negative integers)."""
    a, dtype = _float_in(x)
    with np.errstate(all="ignore"):
        pos = np.where(a > 0, a, 1.0)
        reflected = np.where(a <= 0, 1 - a, 1.0)  # psi(x) = psi(1 - x) - pi cot(pi x)
        out = np.where(a > 0, _digamma_positive(pos), _digamma_positive(reflected) - np.pi * _cot_pi(a))
        out = np.where((a <= 0) & (a == np.floor(a)), np.nan, out)
        out = np.where(a == 0, np.where(np.signbit(a), np.inf, -np.inf), out)
        out = np.where(a == np.inf, np.inf, out)
        out = np.where(np.isnan(a) | (a == -np.inf), np.nan, out)
    return _result(out, dtype, x)


def _hurwitz_zeta(s, q):
    """zeta(s, q) = sum_k (q + k)^-s for integer s >= 2 and q > 0 (Euler-Maclaurin)."""
    q = np.array(q, dtype=np.float64)
    acc = np.zeros_like(q)
    limit = 15.0 + s
    small = q < limit
    while np.any(small):
        acc = acc + np.where(small, np.where(small, q, 1.0) ** -s, 0.0)
        q = np.where(small, q + 1, q)
        small = q < limit
    tail = q ** (1 - s) / (s - 1) + 0.5 * q ** -s
    rising = float(s)  # s (s + 1) ... (s + 2k - 2)
    factorial = 2.0  # (2k)!
    power = q ** (-s - 1)
    for k, b in enumerate(_B2K, start=1):
        tail = tail + b / factorial * rising * power
        rising *= (s + 2 * k - 1) * (s + 2 * k)
        factorial *= (2 * k + 1) * (2 * k + 2)
        power = power / (q * q)
    return acc + tail


def _cot_derivative_polynomials(n):
    """P_n with d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x)) (coefficients, lowest first)."""
    p = np.array([0.0, 1.0])  # cot
    for _ in range(n):
        dp = np.polynomial.polynomial.polyder(p)
        p = -np.polynomial.polynomial.polymul(dp, [1.0, 0.0, 1.0])  # d cot/dx = -pi (1 + cot^2)
    return p


def _polygamma1(n, a):
    """polygamma(n, a) for one integer order n >= 1 over the float64 array a."""
    with np.errstate(all="ignore"):
        sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n + 1)
        scale = sign * math.factorial(n)
        pos = np.where(a > 0, a, 1.0)
        direct = scale * _hurwitz_zeta(n + 1, pos)
        # reflection: psi_n(x) = (-1)^n psi_n(1 - x) - pi^(n + 1) P_n(cot(pi x))
        ref = np.where(a <= 0, 1 - a, 1.0)
        cot = _cot_pi(np.where(a <= 0, a, 0.5))
        reflected = (-1.0) ** n * scale * _hurwitz_zeta(n + 1, ref) \
            - np.pi ** (n + 1) * np.polynomial.polynomial.polyval(cot, _cot_derivative_polynomials(n))
        out = np.where(a > 0, direct, reflected)
        pole = (a <= 0) & (a == np.floor(a))
        out = np.where(pole, sign * np.inf, out)
        out = np.where(a == np.inf, 0.0 * sign, out)
        out = np.where(a == -np.inf, sign * np.inf, out)
        out = np.where(np.isnan(a), np.nan, out)
    return out


def polygamma(n, x):
    """The n-th derivative of digamma (n = 0: digamma itself); float64, as scipy's."""
    n_arr, x_arr = np.broadcast_arrays(np.asarray(n), np.asarray(x, dtype=np.float64))
    if np.any(n_arr != np.floor(n_arr)) or np.any(n_arr < 0):
        raise ValueError("polygamma: the order n must be a non-negative integer")
    out = np.empty(x_arr.shape, dtype=np.float64)
    for order in np.unique(n_arr):
        where = n_arr == order
        values = np.asarray(psi(x_arr), dtype=np.float64) if order == 0 else _polygamma1(int(order), x_arr)
        out[where] = np.broadcast_to(values, x_arr.shape)[where]
    return out if out.ndim else np.float64(out)


_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def erfinv(x):
    """The inverse of erf: Giles' approximation refined by Newton steps on erf (|y| <= 1/2)
    or on erfc (|y| > 1/2, where 1 - |y| is exact); +-inf at +-1, NaN outside [-1, 1]."""
    y, dtype = _float_in(x)
    with np.errstate(all="ignore"):
        t = np.abs(y)
        inside = t < 1
        tt = np.where(inside, t, 0.5)
        w = -np.log((1 - tt) * (1 + tt))
        w1 = w - 2.5
        central = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            central = c + central * w1
        w2 = np.sqrt(w) - 3
        tail = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):
            tail = c + tail * w2
        z = np.where(w < 5, central, tail) * tt
        small = tt <= 0.5
        log_rest = np.log(np.where(small, 0.5, 1 - tt))  # (1 - tt exact for tt > 1/2)
        for _ in range(4):
            density = 2 / np.sqrt(np.pi) * np.exp(-z * z)
            # Newton on erf(z) = tt, or on log erfc(z) = log(1 - tt) in the tails
            tail_c = np.asarray(_erfc(np.where(small, 0.0, z)), dtype=np.float64)
            step = np.where(small, (np.asarray(_erf(z), dtype=np.float64) - tt) / density,
                            (log_rest - np.log(tail_c)) * tail_c / density)
            z = z - step
        out = np.where(inside, np.sign(y) * z, np.where(t == 1, np.sign(y) * np.inf, np.nan))
    return _result(out, dtype, x)


class _Special:
    """The namespace generated code calls `special`: these kernels; any other scipy.special
    function needs scipy itself."""
    gammaln = staticmethod(gammaln)
    psi = staticmethod(psi)
    polygamma = staticmethod(polygamma)
    erfinv = staticmethod(erfinv)

    def __getattr__(self, name):
        raise ImportError(f"scipy.special.{name}: this srcgrad code calls scipy.special functions: install "
                          f"scipy (pip install scipy)")


SPECIAL = _Special()
