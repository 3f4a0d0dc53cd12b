"""numpy kernels for the scipy.special functions PyTorch's own vocabulary needs (torch.lgamma,
torch.digamma, torch.polygamma, torch.erfinv and their derivatives) and numpy's own (np.i0,
whose derivative is i1), for when scipy is not installed: `special.scipy_special()` (symbolic/special.py) then gives `SPECIAL`, so that
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


# Cephes' Chebyshev coefficients for exp(-x) I1(x) / x on [0, 8] and exp(-x) sqrt(x) I1(x)
# on (8, inf) (i1.c; numpy's np.i0 is Cephes' i0.c, with the same two intervals)
_I1_A = (2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
         -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
         3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
         -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-9,
         9.38153738649577178388e-9, -4.44505912879632808065e-8, 2.00329475355213526229e-7,
         -8.56872026469545474066e-7, 3.47025130813767847674e-6, -1.32731636560394358279e-5,
         4.78156510755005422638e-5, -1.61760815825896745588e-4, 5.12285956168575772895e-4,
         -1.51357245063125314899e-3, 4.15642294431288815669e-3, -1.05640848946261981558e-2,
         2.47264490306265168283e-2, -5.29459812080949914269e-2, 1.02643658689847095384e-1,
         -1.76416518357834055153e-1, 2.52587186443633654823e-1)
_I1_B = (7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
         -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
         -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
         4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
         -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
         3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
         -3.83538038596423702205e-9, -2.63146884688951950684e-8, -2.51223623787020892529e-7,
         -3.88256480887769039346e-6, -1.10588938762623716291e-4, -9.76109749136146840777e-3,
         7.78576235018280120474e-1)


def _chbevl(y, coefficients):
    """Cephes' chbevl: the Chebyshev series (highest degree first, the constant term
    halved) at y in [-2, 2], by Clenshaw's recurrence."""
    b0 = np.zeros_like(y)
    b1 = np.zeros_like(y)
    b2 = b1
    for c in coefficients:
        b2, b1 = b1, b0
        b0 = y * b1 - b2 + c
    return 0.5 * (b0 - b2)


def i0(x):
    """The modified Bessel function of the first kind of order 0: numpy's np.i0 (Cephes'
    Chebyshev series, as scipy's)."""
    a, dtype = _float_in(x)
    with np.errstate(all="ignore"):
        out = np.i0(a)
    return _result(out, dtype, x)


def i1(x):
    """The modified Bessel function of the first kind of order 1 (i0's derivative): odd,
    Cephes' series in |x| on [0, 8] and (8, inf), as scipy's."""
    a, dtype = _float_in(x)
    z = np.abs(a)
    with np.errstate(all="ignore"):
        small = _chbevl(np.minimum(z, 8.0) / 2 - 2, _I1_A) * z * np.exp(z)
        big = np.maximum(z, 8.0)
        large = np.exp(z) * _chbevl(32 / big - 2, _I1_B) / np.sqrt(big)
        out = np.where(z <= 8, small, large)
        out = np.where(a < 0, -out, out)
    return _result(out, dtype, x)


class _Special:
    """The namespace generated code calls `special`: these kernels; any other scipy.special
    function needs scipy itself."""
    gammaln = staticmethod(gammaln)
    psi = staticmethod(psi)
    polygamma = staticmethod(polygamma)
    erfinv = staticmethod(erfinv)
    i0 = staticmethod(i0)
    i1 = staticmethod(i1)

    def __getattr__(self, name):
        raise ImportError(f"scipy.special.{name}: this srcgrad code calls scipy.special functions: install "
                          f"scipy (pip install scipy)")


SPECIAL = _Special()
