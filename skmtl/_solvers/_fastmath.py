"""``exp``, ``log`` and ``log1p`` that numba can vectorise (SIMD).

numba calls libm's scalar ``exp``/``log`` for ``np.exp``/``np.log`` (about
3-5 ns each, and a loop with such a call is never vectorised), while
numpy's own ``np.exp`` on an array is SIMD (about 0.6 ns). The element-wise
work of the logistic loss (one exponential per labelled entry per
iteration) then costs as much as the matrix products. These versions are
branch-free polynomials (range reduction by powers of two, the exponent
read and written with bit casts), so a loop over entries that calls them
is vectorised by LLVM, and they are accurate to about one unit in the
last place (checked against mpmath in ``tests/test_fastmath.py``).

Domains: ``exp`` clamps its argument to ``[-708, 709]`` (beyond, the true
value under/overflows a normal float64: the result is the clamp's, within
1e-307 of the true value, or 8.2e307 for +inf); ``log`` is for positive
normal numbers; ``log1p`` for ``x >= -1/2``, ``log1p_unit`` (cheaper) for
``0 <= x <= 1``.

The kernels that call these inline them: numba's cache does not notice an
edit here, so delete the caches (``find skmtl -name '*.nb[ic]' -delete``)
after one.
"""

import numpy as np
from numba import njit, types
from numba.extending import intrinsic


@intrinsic
def _int_bits_as_float(typingctx, k):
    """Reinterpret an int64's bits as a float64 (no conversion)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@intrinsic
def _float_bits_as_int(typingctx, x):
    """Reinterpret a float64's bits as an int64 (no conversion)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return sig, codegen


_LOG2E = 1.4426950408889634
# ln 2 split so that k * _LN2_HI is exact for |k| < 2^11 (fdlibm's constants)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951


@njit(cache=True, inline="always", error_model="numpy")
def exp(x):
    """``e^x`` for a float64, within about 1 ulp; vectorisable."""
    x = min(max(x, -708.0), 709.0)  # (x must not be NaN)
    k = np.floor(x * _LOG2E + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO  # |r| <= ln(2) / 2
    # Taylor series to degree 13: remainder below 2e-18 relative on |r| <= 0.35
    q = 1.0 / 6227020800.0
    q = q * r + 1.0 / 479001600.0
    q = q * r + 1.0 / 39916800.0
    q = q * r + 1.0 / 3628800.0
    q = q * r + 1.0 / 362880.0
    q = q * r + 1.0 / 40320.0
    q = q * r + 1.0 / 5040.0
    q = q * r + 1.0 / 720.0
    q = q * r + 1.0 / 120.0
    q = q * r + 1.0 / 24.0
    q = q * r + 1.0 / 6.0
    q = q * r + 0.5
    q = q * r + 1.0
    q = q * r + 1.0
    return q * _int_bits_as_float((np.int64(k) + 1023) << 52)


@njit(cache=True, inline="always", error_model="numpy")
def _log_series(s):
    """``2 atanh(s) = log((1 + s) / (1 - s))`` for ``|s| <= 1/3``, as
    ``2 (s + s^3/3 + s^5/5 + ...)`` to a relative remainder below 3e-17."""
    z = s * s
    q = 1.0 / 35.0
    q = q * z + 1.0 / 33.0
    q = q * z + 1.0 / 31.0
    q = q * z + 1.0 / 29.0
    q = q * z + 1.0 / 27.0
    q = q * z + 1.0 / 25.0
    q = q * z + 1.0 / 23.0
    q = q * z + 1.0 / 21.0
    q = q * z + 1.0 / 19.0
    q = q * z + 1.0 / 17.0
    q = q * z + 1.0 / 15.0
    q = q * z + 1.0 / 13.0
    q = q * z + 1.0 / 11.0
    q = q * z + 1.0 / 9.0
    q = q * z + 1.0 / 7.0
    q = q * z + 1.0 / 5.0
    q = q * z + 1.0 / 3.0
    return 2.0 * (s + s * (z * q))


@njit(cache=True, inline="always", error_model="numpy")
def _log_series_short(s):
    """:func:`_log_series` for ``|s| <= 3 - 2 sqrt(2) = 0.1716`` (``log``'s
    reduced range): ten terms, relative remainder below 7e-19 (``z^11 /
    23``, ``z = s^2 <= 0.0295``), seven fewer than the general series."""
    z = s * s
    q = 1.0 / 21.0
    q = q * z + 1.0 / 19.0
    q = q * z + 1.0 / 17.0
    q = q * z + 1.0 / 15.0
    q = q * z + 1.0 / 13.0
    q = q * z + 1.0 / 11.0
    q = q * z + 1.0 / 9.0
    q = q * z + 1.0 / 7.0
    q = q * z + 1.0 / 5.0
    q = q * z + 1.0 / 3.0
    return 2.0 * (s + s * (z * q))


@njit(cache=True, inline="always", error_model="numpy")
def log1p_unit(x):
    """``log(1 + x)`` for ``0 <= x <= 1`` (exact ``x`` for tiny ``x``)."""
    return _log_series(x / (2.0 + x))


@njit(cache=True, inline="always", error_model="numpy")
def log1p(x):
    """``log(1 + x)`` for ``x >= -1/2`` (exact ``x`` for tiny ``x``)."""
    small = _log_series(x / (2.0 + x))  # |x / (2 + x)| <= 1/3 for x <= 1
    return small if x <= 1.0 else log(1.0 + x)


@njit(cache=True, inline="always", error_model="numpy")
def log(x):
    """``log(x)`` for a positive normal float64, within about 1 ulp."""
    bits = _float_bits_as_int(x)
    k = ((bits >> 52) & 0x7FF) - 1023
    m = _int_bits_as_float((bits & 0xFFFFFFFFFFFFF) | (np.int64(1023) << 52))
    big = m > _SQRT2  # m in [sqrt(2)/2, sqrt(2)]: |s| <= 0.172
    m = 0.5 * m if big else m
    k = k + 1 if big else k
    kf = np.float64(k)
    return kf * _LN2_HI + (_log_series_short((m - 1.0) / (m + 1.0)) + kf * _LN2_LO)
