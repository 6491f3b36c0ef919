"""The 22 basic light-curve statistics of the reference (spec §4.6), batched with numba.

Columns, in the reference order (:data:`STAT_NAMES`), for one light curve of N points with
magnitudes m, errors sigma, weights w = 1/sigma^2, weighted mean m_w and median m~ (percentiles P
use NumPy's linear interpolation):

==  =======================  ====================================================  =====
#   name                     definition                                            min N
==  =======================  ====================================================  =====
0   n                        N                                                     0
1   median                   m~                                                    1
2   wmean                    m_w = sum(w m) / sum(w)                               1
3   chi2red                  sum(w (m - m_w)^2) / (N - 1)                          2
4   roms                     sum(|m - m~| / sigma) / (N - 1)                       2
5   wstd                     sqrt(sum(w (m - m_w)^2) / sum(w))                     1
6   norm_peak_to_peak_amp    (max(m - s) - min(m + s)) / (max(m - s) + min(m + s))  1
7   norm_excess_var          sum((m - m_w)^2 - sigma^2) / (N m_w^2)                1
8   median_abs_dev           median(|m - m~|)                                      1
9   iqr                      P75 - P25 (a difference, as in the reference)         1
10  i60r                     P80 - P20                                             1
11  i70r                     P85 - P15                                             1
12  i80r                     P90 - P10                                             1
13  i90r                     P95 - P5                                              1
14  skew                     N/((N-1)(N-2)) sum(((m - m_w)/sigma)^3)               3
15  smallkurt                N(N+1)/((N-1)(N-2)(N-3)) sum(((m-m_w)/sigma)^4)       4
                             - 3(N-1)^2/((N-2)(N-3))
16  inv_vonneumannratio      1/eta, eta = sum(u_i (m_{i+1}-m_i)^2)/(sum(u_i) wstd^2), 2
                             u_i = (t_{i+1}-t_i)^-2 over pairs with dt > 0
17  welch_i                  sum(d_i d_{i+1}), d = sqrt(N/(N-1)) (m - m_w)/sigma   2
18  stetson_j                sum(sign(P_i) sqrt|P_i|), P_i = d_i d_{i+1}            2
19  stetson_k                (sum|d|/N) / sqrt(sum(d^2)/N)                         2
20  ad                       Anderson-Darling A^2 of m/sigma against a normal      2
                             with estimated mean and std (scipy.stats.anderson)
21  sw                       Shapiro-Wilk W of m/sigma (AS R94, scipy.stats.shapiro) 3
==  =======================  ====================================================  =====

Below its minimum N a statistic is NaN (the reference's current backend blanks all of them below 4
points; the release computed what it could). Statistics whose denominator vanishes (a constant
light curve) are NaN or inf as the formula gives. Errors are clamped to at least 1e-30 where
they divide. Points are taken in time order (sorted first when needed). Output is float64.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._normal import log_ndtr, ndtri
from ._ragged import fast_sort, sorted_by_time
from ._threads import run_chunks
from .periodsearch.prepare import check_ragged

#: Column names in reference order.
STAT_NAMES: tuple[str, ...] = (
    "n",
    "median",
    "wmean",
    "chi2red",
    "roms",
    "wstd",
    "norm_peak_to_peak_amp",
    "norm_excess_var",
    "median_abs_dev",
    "iqr",
    "i60r",
    "i70r",
    "i80r",
    "i90r",
    "skew",
    "smallkurt",
    "inv_vonneumannratio",
    "welch_i",
    "stetson_j",
    "stetson_k",
    "ad",
    "sw",
)

_MIN_ERROR = 1e-30

#: Shapiro-Wilk coefficients by number of points (they depend on n alone); filled on demand.
_SW_CACHE: dict[int, np.ndarray] = {}
#: Coefficients kept at most (float64 values; ~16 MB), beyond which the cache starts afresh.
_SW_CACHE_LIMIT = 2_000_000


def basic_stats(t, m, e, offsets, *, n_threads: int | None = None) -> np.ndarray:
    """Compute the 22 basic statistics for every light curve of a ragged batch.

    Parameters
    ----------
    t, m, e : array_like of float64
        Concatenated times (days; absolute or relative, only differences are used), magnitudes
        and errors.
    offsets : array_like of int64, shape (n + 1,)
    n_threads : int, optional
        Threads (``None``: numba's setting, capped at the available CPUs).

    Returns
    -------
    ndarray of float64, shape (n, 22)
        Columns in the order of :data:`STAT_NAMES`.
    """
    t, m, e, offsets = check_ragged(t, m, e, offsets)
    t, m, e = sorted_by_time(t, m, e, offsets=offsets)
    out = np.full((len(offsets) - 1, len(STAT_NAMES)), np.nan)
    coef, coef_at = _sw_table(np.diff(offsets))
    run_chunks(lambda a, b: _stats_range(t, m, e, offsets, coef, coef_at, a, b, out), len(offsets) - 1, n_threads)
    return out


def _sw_table(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shapiro-Wilk coefficients of every length in the batch, concatenated, and where each starts.

    Returns ``(coef, coef_at)``: light curve ``i`` of ``n >= 3`` points uses
    ``coef[coef_at[i] : coef_at[i] + n // 2]`` (``coef_at`` is -1 below 3 points).
    """
    sizes = np.unique(lengths[lengths >= 3])
    missing = [int(n) for n in sizes if int(n) not in _SW_CACHE]
    if missing and sum(v.size for v in _SW_CACHE.values()) + sum(n // 2 for n in missing) > _SW_CACHE_LIMIT:
        _SW_CACHE.clear()
    parts = []
    start = {}
    pos = 0
    for n in sizes.tolist():
        a = _SW_CACHE.get(n)
        if a is None:
            a = _sw_coefficients(n)
            _SW_CACHE[n] = a
        start[n] = pos
        parts.append(a)
        pos += len(a)
    coef = np.concatenate(parts) if parts else np.zeros(0)
    coef_at = np.array([start.get(int(n), -1) for n in lengths.tolist()], dtype=np.int64)
    return coef, coef_at


def stats_dict(values: np.ndarray) -> dict[str, np.ndarray]:
    """Split the ``(n, 22)`` output of :func:`basic_stats` into named columns."""
    return {name: values[:, k] for k, name in enumerate(STAT_NAMES)}


@njit(cache=True, nogil=True, error_model="numpy")
def _percentile_sorted(xs, q):
    # numpy's default "linear" method on sorted data
    n = xs.shape[0]
    pos = q / 100.0 * (n - 1)
    lo = int(math.floor(pos))
    if lo >= n - 1:
        return xs[n - 1]
    frac = pos - lo
    a = xs[lo]
    b = xs[lo + 1]
    diff = b - a
    if frac >= 0.5:
        return b - diff * (1.0 - frac)
    return a + diff * frac


@njit(cache=True, nogil=True, error_model="numpy")
def _anderson_darling_sorted(xs, cdf, sf):
    """A^2 of sorted ``xs`` against a normal with the sample mean and std (ddof 1).

    ``cdf``/``sf`` are work arrays. Each point costs one ``erfc``: the smaller of ``Phi(w)`` and
    ``1 - Phi(w)`` comes from it, the other as one minus it (no precision is lost: a number near 1
    has an absolute error of 1e-16, the same as its logarithm), and each pair of terms costs one
    logarithm of a product (two where the product would underflow).
    """
    n = xs.shape[0]
    mean = 0.0
    for i in range(n):
        mean += xs[i]
    mean /= n
    ss = 0.0
    for i in range(n):
        ss += (xs[i] - mean) ** 2
    sd = math.sqrt(ss / (n - 1))
    if not sd > 0:
        return np.nan
    for i in range(n):
        w = (xs[i] - mean) / sd
        if w < 0:
            c = 0.5 * math.erfc(-w * _SQRT1_2)
            cdf[i] = c
            sf[i] = 1.0 - c
        else:
            q = 0.5 * math.erfc(w * _SQRT1_2)
            sf[i] = q
            cdf[i] = 1.0 - q
    acc = 0.0
    for i in range(n):
        prod = cdf[i] * sf[n - 1 - i]
        if prod > 1e-290:
            term = math.log(prod)
        else:
            term = log_ndtr((xs[i] - mean) / sd) + log_ndtr(-(xs[n - 1 - i] - mean) / sd)
        acc += (2.0 * i + 1.0) * term
    return -n - acc / n


_C1 = np.array([0.0, 0.221157, -0.147981, -2.071190, 4.434685, -2.706056])
_C2 = np.array([0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633])
_SQRT1_2 = math.sqrt(0.5)


@njit(cache=True, nogil=True, error_model="numpy")
def _poly(c, x):
    acc = 0.0
    p = 1.0
    for k in range(c.shape[0]):
        acc += c[k] * p
        p *= x
    return acc


@njit(cache=True, nogil=True, error_model="numpy")
def _sw_coefficients(n):
    """Royston's AS R94 Shapiro-Wilk coefficients ``a_1 .. a_{n/2}`` for ``n >= 3`` points."""
    nn2 = n // 2
    a = np.zeros(nn2)
    if n == 3:
        a[0] = math.sqrt(0.5)
        return a
    an25 = n + 0.25
    mq = np.empty(nn2)
    summ2 = 0.0
    for i in range(nn2):
        mq[i] = ndtri((i + 1 - 0.375) / an25)
        summ2 += mq[i] * mq[i]
    summ2 *= 2.0
    ssumm2 = math.sqrt(summ2)
    rsn = 1.0 / math.sqrt(n)
    a1 = _poly(_C1, rsn) - mq[0] / ssumm2
    if n > 5:
        first = 2
        a2 = -mq[1] / ssumm2 + _poly(_C2, rsn)
        fac = math.sqrt((summ2 - 2.0 * mq[0] ** 2 - 2.0 * mq[1] ** 2) / (1.0 - 2.0 * a1 ** 2 - 2.0 * a2 ** 2))
        a[1] = a2
    else:
        first = 1
        fac = math.sqrt((summ2 - 2.0 * mq[0] ** 2) / (1.0 - 2.0 * a1 ** 2))
    a[0] = a1
    for i in range(first, nn2):
        a[i] = -mq[i] / fac
    return a


@njit(cache=True, nogil=True, error_model="numpy")
def _shapiro_wilk_sorted(xs, a):
    """Shapiro-Wilk W of sorted ``xs`` with coefficients ``a`` (:func:`_sw_coefficients`)."""
    n = xs.shape[0]
    if xs[n - 1] - xs[0] <= 0:
        return np.nan
    mean = 0.0
    for i in range(n):
        mean += xs[i]
    mean /= n
    ssq = 0.0
    for i in range(n):
        ssq += (xs[i] - mean) ** 2
    num = 0.0
    for i in range(n // 2):
        num += a[i] * (xs[n - 1 - i] - xs[i])
    w = num * num / ssq
    return min(w, 1.0)


@njit(cache=True, nogil=True, error_model="numpy")
def _median_abs_dev_sorted(ms, median):
    """Median of ``|m - median|`` from sorted ``m`` without sorting the deviations.

    Deviations below the median decrease along ``ms`` and those above increase, so merging the
    two runs outwards from the median yields them in order; only the middle ones are needed.
    """
    n = ms.shape[0]
    lo_rank = (n - 1) // 2
    p = 0
    while p < n and ms[p] < median:
        p += 1
    i = p - 1
    j = p
    a = 0.0
    b = 0.0
    for rank in range(lo_rank + 2):
        if rank >= n:
            break
        if j >= n or (i >= 0 and abs(ms[i] - median) <= abs(ms[j] - median)):
            v = abs(ms[i] - median)
            i -= 1
        else:
            v = abs(ms[j] - median)
            j += 1
        if rank == lo_rank:
            a = v
        elif rank == lo_rank + 1:
            b = v
    # numpy's "linear" 50th percentile of the sorted deviations, as _percentile_sorted does it
    pos = 0.5 * (n - 1)
    frac = pos - lo_rank
    if lo_rank >= n - 1:
        return a
    diff = b - a
    if frac >= 0.5:
        return b - diff * (1.0 - frac)
    return a + diff * frac


@njit(cache=True, nogil=True, error_model="numpy")
def stats_one(t, m, e, sw_coef, out):
    """All 22 statistics of one time-sorted light curve into ``out`` (float64[22], NaN-filled).

    ``sw_coef`` holds the Shapiro-Wilk coefficients for this number of points (ignored below 3).
    """
    n = m.shape[0]
    out[0] = n
    if n < 1:
        return
    mm = m
    tt = t
    ee = np.empty(n)
    for i in range(n):
        ee[i] = e[i] if e[i] > _MIN_ERROR else _MIN_ERROR
    ms = m.copy()
    fast_sort(ms)
    median = _percentile_sorted(ms, 50.0)
    sw = 0.0
    swm = 0.0
    for i in range(n):
        w = 1.0 / (ee[i] * ee[i])
        sw += w
        swm += w * mm[i]
    wmean = swm / sw
    chi = 0.0
    roms = 0.0
    excess = 0.0
    hi = -np.inf
    lo = np.inf
    for i in range(n):
        d = mm[i] - wmean
        chi += d * d / (ee[i] * ee[i])
        roms += abs(mm[i] - median) / ee[i]
        excess += d * d - ee[i] * ee[i]
        if mm[i] - ee[i] > hi:
            hi = mm[i] - ee[i]
        if mm[i] + ee[i] < lo:
            lo = mm[i] + ee[i]
    wstd = math.sqrt(chi / sw)
    out[1] = median
    out[2] = wmean
    out[5] = wstd
    out[6] = (hi - lo) / (hi + lo)
    out[7] = excess / (n * wmean * wmean)
    out[8] = _median_abs_dev_sorted(ms, median)
    out[9] = _percentile_sorted(ms, 75.0) - _percentile_sorted(ms, 25.0)
    out[10] = _percentile_sorted(ms, 80.0) - _percentile_sorted(ms, 20.0)
    out[11] = _percentile_sorted(ms, 85.0) - _percentile_sorted(ms, 15.0)
    out[12] = _percentile_sorted(ms, 90.0) - _percentile_sorted(ms, 10.0)
    out[13] = _percentile_sorted(ms, 95.0) - _percentile_sorted(ms, 5.0)
    if n < 2:
        return
    out[3] = chi / (n - 1)
    out[4] = roms / (n - 1)
    # time-ordered statistics
    su = 0.0
    sud = 0.0
    for i in range(n - 1):
        dt = tt[i + 1] - tt[i]
        if dt > 0:
            u = 1.0 / (dt * dt)
            su += u
            sud += u * (mm[i + 1] - mm[i]) ** 2
    eta = sud / (su * wstd * wstd)
    out[16] = 1.0 / eta
    scale = math.sqrt(n / (n - 1.0))
    sabs = 0.0
    ssq = 0.0
    welch = 0.0
    stj = 0.0
    s3 = 0.0
    s4 = 0.0
    zs = np.empty(n)
    d_prev = 0.0
    for i in range(n):
        r = (mm[i] - wmean) / ee[i]
        d = scale * r
        sabs += abs(d)
        ssq += d * d
        s3 += r * r * r
        s4 += r * r * r * r
        if i > 0:
            p = d_prev * d
            welch += p
            if p > 0:
                stj += math.sqrt(p)
            elif p < 0:
                stj -= math.sqrt(-p)
        d_prev = d
        zs[i] = mm[i] / ee[i]
    out[17] = welch
    out[18] = stj
    out[19] = (sabs / n) / math.sqrt(ssq / n)
    # A^2 and W both want the error-normalised magnitudes sorted: sort them once
    fast_sort(zs)
    work = np.empty(2 * n)
    out[20] = _anderson_darling_sorted(zs, work[:n], work[n:])
    if n >= 3:
        out[14] = n / ((n - 1.0) * (n - 2.0)) * s3
        out[21] = _shapiro_wilk_sorted(zs, sw_coef)
        if n >= 4:
            out[15] = (n * (n + 1.0) / ((n - 1.0) * (n - 2.0) * (n - 3.0)) * s4
                       - 3.0 * (n - 1.0) ** 2 / ((n - 2.0) * (n - 3.0)))


@njit(cache=True, nogil=True, error_model="numpy")
def _stats_range(t, m, e, offsets, coef, coef_at, r0, r1, out):
    empty = np.zeros(0)
    for r in range(r0, r1):
        a = offsets[r]
        b = offsets[r + 1]
        c = coef_at[r]
        sw_coef = coef[c:c + (b - a) // 2] if c >= 0 else empty
        stats_one(t[a:b], m[a:b], e[a:b], sw_coef, out[r])
