"""A best-period choice from the candidates the period search already found (no second search).

:func:`choose_best_period` takes a :class:`.results.PeriodSearchResult` (any mix of LS, CE,
AOV, FPW, MHF, BLS, nested) and, per light curve:

1. **pools the candidates**: the :data:`.results.CANDIDATES_PER_ALGORITHM` strongest distinct
   peaks of every algorithm (frequencies closer than half a peak width ``0.5 / T`` are one
   candidate, remembering each algorithm's rank there), plus half and twice every candidate
   frequency (P <-> 2P, the eclipsing-binary and harmonic confusions). Daily aliases
   (``f +- k/day``, solar and sidereal) are themselves peaks of the periodograms, so the true
   frequency and its aliases compete in the pool on their merits;
2. **scores each candidate** by how much a Fourier series at that frequency explains: the BIC
   gain ``N ln(chi2_line / chi2_K) - 2K ln N`` of a straight line plus the best ``K <= 5``
   harmonics over the line alone (the noise level is estimated from the data, so errors
   mis-estimated by a constant factor change nothing), divided by the largest gain of the pool,
   plus :data:`CONSENSUS_WEIGHT` times ``sum over algorithms of 1 / (1 + rank)`` (how many
   algorithms found that frequency, and how high). The best :data:`N_REFINE` are refined to a
   sixteenth of the grid step before the final comparison (on long baselines half a grid step is
   a phase drift that decides between a period and its alias);
3. **decides between P and 2P** for the winner, the eclipsing-binary question, two ways: a series
   at ``f/2`` with ``2K`` harmonics contains the one at ``f`` with ``K`` (its even harmonics), and
   its odd harmonics describe a difference between the halves of the longer cycle; and, for a
   light curve that folds into a dip on a flat level (narrow eclipses, which few harmonics
   cannot follow), the dip's depth in even and odd cycles is compared directly. ``2P`` is taken
   when the odd harmonics are significant (BIC margin :data:`ODD_MIN_GAIN`) and carry at least
   :data:`ODD_FRACTION` of the explained variance, or when the two depths differ by more than
   :data:`DIP_Z` standard errors (unequal minima);
4. **reports a significance**: ``-log10`` of the false-alarm probability of the final model,
   ``FAP = 1 - (1 - p)^M``, with ``p`` the F-test tail probability of the K-harmonic fit against
   the line and ``M = TRIALS_FACTOR (f_max - f_min) T`` (independent frequencies of the grid, times
   :data:`TRIALS_FACTOR` for the harmonic models, refinements and half periods tried; the factor
   is set so that white noise gives significance > 1 about 10 % of the time and > 2 about 1 %,
   checked in the tests and ``bench/``). Correlated noise makes it optimistic.

Weights are the inverse variances of the rescaled magnitudes (:mod:`.prepare`).

Cost: about ``(pool + 70) x N x 50`` floating-point operations per light curve (pools of 60-200
candidates): a few milliseconds at N = 300 (``bench/``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._threads import run_chunks
from .cpu import chol_chi2
from .prepare import PreparedBatch
from .results import NESTED_SUFFIX, AlgorithmResult, PeriodSearchResult

#: Column suffix of the best-period columns (``period_BEST``, ``significance_BEST``).
BEST_SUFFIX = "BEST"
#: Harmonics tried per candidate (the best K by BIC is used).
MAX_HARMONICS = 5
#: Weight of the cross-algorithm agreement in the score (fit quality is scaled to 1).
CONSENSUS_WEIGHT = 0.2
#: Candidates refined around their frequency before the final comparison.
N_REFINE = 8
#: Share of the explained variance the odd harmonics of 2P need before 2P is chosen.
ODD_FRACTION = 0.1
#: BIC margin the odd harmonics of 2P need (natural-log likelihood units).
ODD_MIN_GAIN = 6.0
#: Multiplier of the grid's independent frequencies in the false-alarm probability.
TRIALS_FACTOR = 10.0

#: Finest phase binning of the step-function model (then halved twice).
_BINS = 32
_BIN_LEVELS = 3
#: A dip (faint excursion this many times the bright one) whose depth differs between even and
#: odd cycles by this many standard errors is two unequal eclipses at half the period.
DIP_RATIO = 2.0
DIP_Z = 4.0


def choose_best_period(prep: PreparedBatch, result: PeriodSearchResult, *, n_threads: int | None = None,
                       max_harmonics: int = MAX_HARMONICS) -> AlgorithmResult:
    """The best period of every light curve from the candidates in ``result``.

    Parameters
    ----------
    prep : PreparedBatch
        The prepared light curves the search ran on (:func:`.prepare.prepare_batch`).
    result : PeriodSearchResult
        Output of :func:`.search.find_periods` for ``prep``: its algorithms' candidate peaks
        (``AlgorithmResult.candidate_periods``, always filled by the search) are the pool; the
        nested period, when present, joins it.
    n_threads : int, optional
        Threads (``None``: numba's setting, capped at the available CPUs).
    max_harmonics : int
        Largest number of harmonics fitted per candidate.

    Returns
    -------
    AlgorithmResult
        ``suffix`` :data:`BEST_SUFFIX`; ``period`` (days, NaN when nothing was found),
        ``significance`` = ``-log10`` false-alarm probability (0 = a fit as good as noise gives,
        capped at 300), ``statistic`` = the fit's BIC gain over a straight line, ``pdot`` = 0.
        No top-N columns.
    """
    n = len(prep)
    grid = result.grid
    cand_f, cand_rank = _candidate_table(result, n)
    span_f = max(grid.fmax - grid.fmin, grid.df)
    out_f = np.full(n, np.nan)
    out_gain = np.full(n, np.nan)
    out_k = np.zeros(n, np.int64)
    out_chi = np.full((n, 2), np.nan)
    kmax = max(1, int(max_harmonics))
    if n and cand_f.shape[1]:
        # read at call time, so the module constants can be tuned without recompiling
        fpar = np.array([CONSENSUS_WEIGHT, ODD_FRACTION, ODD_MIN_GAIN, DIP_RATIO, DIP_Z])

        def work(a, b):
            _best_range(prep.t, prep.y, prep.w, prep.offsets, cand_f, cand_rank, float(grid.df), kmax,
                        N_REFINE, fpar, a, b, out_f, out_gain, out_k, out_chi)

        run_chunks(work, n, n_threads, chunk=1 if n < 256 else 16)
    sig = _significance(out_chi[:, 0], out_chi[:, 1], out_k, prep.lengths(), span_f, prep)
    ok = np.isfinite(out_f) & (out_f > 0)
    period = np.where(ok, 1.0 / np.where(ok, out_f, 1.0), np.nan)
    return AlgorithmResult(
        name=BEST_SUFFIX, base="BEST", suffix=BEST_SUFFIX, period=period, significance=np.where(ok, sig, np.nan),
        pdot=np.zeros(n), statistic=np.where(ok, out_gain, np.nan), top_periods=np.zeros((n, 0)),
        top_significances=np.zeros((n, 0)),
    )


def _candidate_table(result: PeriodSearchResult, n: int):
    """``(freqs, ranks)`` of shape (n, C): every algorithm's candidates side by side.

    ``ranks[:, j]`` is ``rank * 16 + algorithm number`` (the kernel needs both, packed).
    """
    freqs, ranks = [], []
    a = 0
    for suffix, res in result.algorithms.items():
        if suffix == NESTED_SUFFIX or res.base == "NESTED":
            periods = res.period[:, None]
        elif res.candidate_periods is not None and res.candidate_periods.shape[1]:
            periods = res.candidate_periods
        else:
            periods = res.period[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(np.isfinite(periods) & (periods > 0), 1.0 / periods, np.nan)
        freqs.append(f)
        ranks.append(np.broadcast_to(np.arange(f.shape[1], dtype=np.int64) * 16 + min(a, 15), f.shape))
        a += 1
    if not freqs:
        return np.zeros((n, 0)), np.zeros((n, 0), np.int64)
    return np.ascontiguousarray(np.hstack(freqs)), np.ascontiguousarray(np.hstack(ranks))


def _significance(chi0, chik, k, lengths, span_f, prep):
    """``-log10`` false-alarm probability of the K-harmonic fits (see the module docstring)."""
    from scipy import stats

    n = lengths.astype(np.float64)
    dof1 = 2.0 * k
    dof2 = n - 2.0 * k - 2.0
    ok = np.isfinite(chi0) & np.isfinite(chik) & (chik > 0) & (dof1 > 0) & (dof2 > 0)
    out = np.zeros(len(n))
    if not ok.any():
        return out
    fstat = ((chi0[ok] - chik[ok]) / dof1[ok]) / (chik[ok] / dof2[ok])
    log_p = stats.f.logsf(np.maximum(fstat, 0.0), dof1[ok], dof2[ok])  # natural log
    span_t = np.array([prep.t[prep.offsets[i + 1] - 1] - prep.t[prep.offsets[i]] if lengths[i] else 0.0
                       for i in np.flatnonzero(ok)])
    trials = np.maximum(1.0, TRIALS_FACTOR * span_f * span_t)
    # FAP = 1 - (1 - p)^M, evaluated without cancellation: -expm1(M log1p(-p))
    p = np.exp(log_p)
    with np.errstate(divide="ignore"):
        fap = -np.expm1(trials * np.log1p(-np.minimum(p, 1 - 1e-16)))
        small = trials * p < 1e-8
        log10_fap = np.where(small, (np.log(trials) + log_p) / np.log(10.0), np.log10(np.maximum(fap, 1e-300)))
    out[ok] = np.clip(-log10_fap, 0.0, 300.0) + 0.0  # + 0.0: no negative zeros
    return out


# ----------------------------------------------------------------------------------------------
# numba kernels
# ----------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, error_model="numpy")
def _detrend(t, y, w, r):
    """``r = y - (a + b t)``, the weighted straight-line fit removed; returns its chi-square."""
    sw = 0.0
    st = 0.0
    sy = 0.0
    stt = 0.0
    sty = 0.0
    for i in range(t.shape[0]):
        sw += w[i]
        st += w[i] * t[i]
        sy += w[i] * y[i]
        stt += w[i] * t[i] * t[i]
        sty += w[i] * t[i] * y[i]
    den = sw * stt - st * st
    b = (sw * sty - st * sy) / den if den > 1e-300 * max(1.0, sw * stt) else 0.0
    a = (sy - b * st) / sw
    chi0 = 0.0
    for i in range(t.shape[0]):
        r[i] = y[i] - a - b * t[i]
    # chi2 of the constant (the line is already out of r)
    mean = 0.0
    for i in range(t.shape[0]):
        mean += w[i] * r[i]
    mean /= sw
    for i in range(t.shape[0]):
        chi0 += w[i] * (r[i] - mean) ** 2
    return chi0


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp", "nsz"})
def _harmonic_chi2(t, r, w, f, kmax, g, rhs, x, chi2):
    """``chi2[k]`` of a straight line plus ``k`` harmonics of ``f`` fitted to ``r`` (k = 0..kmax).

    The line is fitted jointly (a trend removed first would take part of a long period with it).
    Weighted normal equations, then :func:`.cpu.chol_chi2` (a Cholesky factor grown one
    parameter at a time), so every ``k`` comes from one pass over the points. Models whose matrix
    is singular get ``inf``.
    """
    size = 2 + 2 * kmax
    n = t.shape[0]
    span = t[n - 1] - t[0]
    inv_span = 1.0 / span if span > 0 else 0.0
    g[:size, :size] = 0.0
    rhs[:size] = 0.0
    yy = 0.0
    for i in range(n):
        ph = t[i] * f
        ph = 2.0 * math.pi * (ph - math.floor(ph))
        c1 = math.cos(ph)
        s1 = math.sin(ph)
        x[0] = 1.0
        x[1] = (t[i] - t[0]) * inv_span
        ck = c1
        sk = s1
        for k in range(kmax):
            x[2 + 2 * k] = ck
            x[3 + 2 * k] = sk
            cn = ck * c1 - sk * s1
            sk = sk * c1 + ck * s1
            ck = cn
        wi = w[i]
        wr = wi * r[i]
        yy += wr * r[i]
        for p in range(size):
            rhs[p] += wr * x[p]
            wx = wi * x[p]
            for q in range(p + 1):
                g[p, q] += wx * x[q]
    chol_chi2(g, rhs, yy, size, chi2)


@njit(cache=True, nogil=True, error_model="numpy")
def _bin_sums(t, r, w, f, nb, sw, swr):
    """Weights and weighted residuals per phase bin at ``f`` (``nb`` bins); returns ``sum w r^2``."""
    sw[:nb] = 0.0
    swr[:nb] = 0.0
    yy = 0.0
    for i in range(t.shape[0]):
        ph = t[i] * f
        b = int((ph - math.floor(ph)) * nb)
        if b >= nb:
            b = nb - 1
        sw[b] += w[i]
        swr[b] += w[i] * r[i]
        yy += w[i] * r[i] * r[i]
    return yy


@njit(cache=True, nogil=True, error_model="numpy")
def _binned_chi2(t, r, w, f, nb, sw, swr, out):
    """``out[j]`` = chi2 of the phase-bin means with ``nb >> j`` bins (``nb`` a power of two).

    Bin ``b`` of ``nb`` bins at ``f`` is bins ``b`` and ``b + nb`` of ``2 nb`` bins at ``f/2``
    (the same phases), so the two models are nested, as the harmonic ones are.
    """
    yy = _bin_sums(t, r, w, f, nb, sw, swr)
    m = nb
    for j in range(out.shape[0]):
        acc = 0.0
        for b in range(m):
            if sw[b] > 0:
                acc += swr[b] * swr[b] / sw[b]
        out[j] = max(yy - acc, 0.0)
        for b in range(m // 2):
            sw[b] = sw[2 * b] + sw[2 * b + 1]
            swr[b] = swr[2 * b] + swr[2 * b + 1]
        m //= 2


@njit(cache=True, nogil=True, error_model="numpy")
def _bin_gain(chib, chi0, n, nb):
    """Best ``N ln(chi0 / chi2_B) - (B - 1) ln N`` over B = nb, nb/2, ... (at least 3 points a bin)."""
    best = -np.inf
    best_b = 0
    ln_n = math.log(n)
    m = nb
    for j in range(chib.shape[0]):
        if 3 * m <= n and chib[j] > 0:
            gb = n * math.log(chi0 / chib[j]) - (m - 1.0) * ln_n
            if gb > best:
                best = gb
                best_b = m
        m //= 2
    return best, best_b


@njit(cache=True, nogil=True, error_model="numpy")
def _gain(chi2, chi0, n, kmax):
    """Best ``N ln(chi0 / chi2_K) - 2K ln N`` over K = 1..kmax (at most ~N/3 parameters)."""
    best = -np.inf
    best_k = 0
    ln_n = math.log(n)
    for k in range(1, kmax + 1):
        if 2 * k + 2 > n - 2:
            break
        c = chi2[k]
        if c > 0 and c < np.inf:
            gk = n * math.log(chi0 / c) - 2.0 * k * ln_n
        elif c == 0:
            gk = 1e300
        else:
            continue
        if gk > best:
            best = gk
            best_k = k
    return best, best_k


@njit(cache=True, nogil=True, error_model="numpy")
def _unequal_dips(t, r, w, f, n, sw, swr, min_z, ratio):
    """Whether the dip of the light curve folded at ``f`` differs between even and odd cycles.

    An eclipsing binary folded at half its period lays the primary and the secondary eclipse on
    top of each other: one dip, but its points split by cycle parity (which is folding at twice
    the period) have different depths. Applied only when the fold looks like a dip on a level
    (the faint excursion of the phase-bin means at least ``ratio`` times the bright one; pulsators
    rise to a sharp bright maximum instead). Returns True when the two depths differ by more than
    ``min_z`` standard errors (each from its points' scatter).
    """
    nb = 32
    while nb > 8 and 5 * nb > n:
        nb //= 2
    if 5 * nb > n:
        return False
    _bin_sums(t, r, w, f, nb, sw, swr)
    k = 0
    lo = np.inf
    hi = -np.inf
    hi_bin = 0
    prof = np.empty(nb)
    for b in range(nb):
        if sw[b] > 0:
            prof[k] = swr[b] / sw[b]
            if prof[k] > hi:
                hi = prof[k]
                hi_bin = b
            lo = min(lo, prof[k])
            k += 1
    if k < 6:
        return False
    srt = prof[:k].copy()
    for i in range(1, k):  # insertion sort: k <= 32
        v = srt[i]
        j = i - 1
        while j >= 0 and srt[j] > v:
            srt[j + 1] = srt[j]
            j -= 1
        srt[j + 1] = v
    med = 0.5 * (srt[(k - 1) // 2] + srt[k // 2])
    faint = hi - med  # magnitudes grow fainter
    bright = med - lo
    if not (faint > ratio * bright):
        return False
    # the dip: around the faintest bin, out to where the profile falls below half depth
    half_width = 0.5
    for d in range(1, nb // 2):
        up = (hi_bin + d) % nb
        down = (hi_bin - d) % nb
        below = True
        for bb in (up, down):
            if sw[bb] > 0 and swr[bb] / sw[bb] > med + 0.5 * faint:
                below = False
        if below:
            half_width = d / nb
            break
    centre = (hi_bin + 0.5) / nb
    # points in the dip, by cycle parity, as departures from the folded profile (so the dip's
    # own shape adds no scatter)
    s0 = 0.0
    q0 = 0.0
    c0 = 0.0
    s1 = 0.0
    q1 = 0.0
    c1 = 0.0
    for i in range(t.shape[0]):
        ph = t[i] * f
        x = ph - centre + 0.5
        cyc = math.floor(x)
        if abs(x - cyc - 0.5) < half_width:
            b = int((ph - math.floor(ph)) * nb)
            if b >= nb:
                b = nb - 1
            d = r[i] - swr[b] / sw[b]
            if int(cyc) % 2 == 0:
                s0 += d
                q0 += d * d
                c0 += 1.0
            else:
                s1 += d
                q1 += d * d
                c1 += 1.0
    if c0 < 3 or c1 < 3:
        return False
    m0 = s0 / c0
    m1 = s1 / c1
    v0 = max(q0 / c0 - m0 * m0, 0.0) * c0 / (c0 - 1.0)
    v1 = max(q1 / c1 - m1 * m1, 0.0) * c1 / (c1 - 1.0)
    se = math.sqrt(v0 / c0 + v1 / c1)
    return abs(m0 - m1) > min_z * se if se > 0 else m0 != m1


@njit(cache=True, nogil=True, error_model="numpy")
def _score(t, y, w, f, kmax, chi0, g, rhs, x, chi2):
    """BIC gain at ``f`` of the best Fourier series (a line plus K <= kmax harmonics)."""
    _harmonic_chi2(t, y, w, f, kmax, g, rhs, x, chi2)
    return _gain(chi2, chi0, t.shape[0], kmax)[0]


@njit(cache=True, nogil=True)
def _argsort_small(values, descending):
    """Indices sorting ``values`` (NaN last; ties keep index order): insertion sort, small arrays.

    numba's own argsort costs seconds of compilation; pools hold at most a few hundred values.
    """
    n = values.shape[0]
    idx = np.arange(n)
    for i in range(1, n):
        j = idx[i]
        v = values[j]
        k = i - 1
        while k >= 0:
            u = values[idx[k]]
            if v != v:
                break  # NaN goes after everything
            later = (u != u) or (v > u if descending else v < u)
            if not later:
                break
            idx[k + 1] = idx[k]
            k -= 1
        idx[k + 1] = j
    return idx


@njit(cache=True, nogil=True, error_model="numpy")
def _best_one(t, y, w, cand_f, cand_rank, df, kmax, n_refine, fpar, out):
    """Best frequency of one light curve; ``out`` = (f, gain, K, chi2_0, chi2_K).

    ``fpar`` = (consensus weight, odd share, odd BIC margin, dip ratio, dip z).
    """
    lam = fpar[0]
    odd_frac = fpar[1]
    odd_gain = fpar[2]
    dip_ratio = fpar[3]
    dip_z = fpar[4]
    n = t.shape[0]
    out[:] = np.nan
    out[2] = 0.0
    if n < 6:
        return
    span = t[n - 1] - t[0]
    if not span > 0:
        return
    r = np.empty(n)
    chi0 = _detrend(t, y, w, r)
    if not chi0 > 0:
        return
    size = 2 + 2 * (2 * kmax)
    g = np.zeros((size, size))
    rhs = np.zeros(size)
    x = np.zeros(size)
    chi2 = np.empty(2 * kmax + 1)
    nbins = _BINS
    n_lev = _BIN_LEVELS
    sw = np.zeros(2 * nbins)
    swr = np.zeros(2 * nbins)
    chib = np.empty(n_lev + 1)
    # -- the pool: base candidates merged within half a peak width, then their halves / doubles
    tol = 0.5 / span
    fmin_ok = 1.0 / span
    m = cand_f.shape[0]
    order = _argsort_small(cand_f, False)
    n_alg = 16
    pool = np.empty(3 * m)
    ranks = np.full((3 * m, n_alg), 99, np.int64)
    n_pool = 0
    for jj in range(m):
        j = order[jj]
        f = cand_f[j]
        if not (f >= fmin_ok):
            continue
        alg = cand_rank[j] % 16
        rk = cand_rank[j] // 16
        if n_pool and f - pool[n_pool - 1] <= tol:
            p = n_pool - 1
        else:
            p = n_pool
            pool[p] = f
            n_pool += 1
        if rk < ranks[p, alg]:
            ranks[p, alg] = rk
    n_base = n_pool
    for p in range(n_base):
        for mult in (0.5, 2.0):
            f = pool[p] * mult
            if not (f >= fmin_ok):
                continue
            dup = False
            for q in range(n_pool):
                if abs(pool[q] - f) <= tol:
                    dup = True
                    break
            if not dup:
                pool[n_pool] = f
                n_pool += 1
    if n_pool == 0:
        return
    # -- score every candidate at its own frequency
    gains = np.empty(n_pool)
    consensus = np.zeros(n_pool)
    for p in range(n_pool):
        gains[p] = _score(t, y, w, pool[p], kmax, chi0, g, rhs, x, chi2)
        for a in range(n_alg):
            if ranks[p, a] < 99:
                consensus[p] += 1.0 / (1.0 + ranks[p, a])
    gmax = -np.inf
    for p in range(n_pool):
        if gains[p] > gmax:
            gmax = gains[p]
    if not (gmax > 0):
        gmax = 1.0
    score = np.empty(n_pool)
    for p in range(n_pool):
        score[p] = gains[p] / gmax + lam * consensus[p] if gains[p] > -np.inf else -np.inf
    # -- refine the best few: a coarse then a fine scan of +-1 grid step
    top = _argsort_small(score, True)
    n_top = min(n_refine, n_pool)
    for jj in range(n_top):
        p = top[jj]
        if score[p] == -np.inf:
            continue
        best_f = pool[p]
        best_g = gains[p]
        for half, step in ((1.0, 0.25), (0.25, 0.0625)):
            centre = best_f
            k_steps = int(round(half / step))
            for s in range(-k_steps, k_steps + 1):
                if s == 0:
                    continue
                f = centre + s * step * df
                if not (f >= fmin_ok):
                    continue
                gs = _score(t, y, w, f, kmax, chi0, g, rhs, x, chi2)
                if gs > best_g:
                    best_g = gs
                    best_f = f
        pool[p] = best_f
        gains[p] = best_g
    gmax = -np.inf
    for jj in range(n_top):
        gmax = max(gmax, gains[top[jj]])
    if not (gmax > 0):
        gmax = 1.0
    win = -1
    win_score = -np.inf
    for jj in range(n_top):
        p = top[jj]
        if gains[p] == -np.inf:
            continue
        sc = gains[p] / gmax + lam * consensus[p]
        # ties: the lower frequency
        if sc > win_score or (sc == win_score and pool[p] < pool[win]):
            win_score = sc
            win = p
    if win < 0:
        return
    f_best = pool[win]
    _harmonic_chi2(t, y, w, f_best, kmax, g, rhs, x, chi2)
    gain_best, k_best = _gain(chi2, chi0, n, kmax)
    if k_best == 0:
        return
    chi_k = chi2[k_best]
    # -- P or 2P: what f/2 adds to the model at f describes unequal halves of the longer cycle,
    # seen by the Fourier series (its odd harmonics) or by the phase bins (for narrow eclipses)
    f_half = 0.5 * f_best
    if f_half >= fmin_ok:
        ln_n = math.log(n)
        switch = False
        if 4 * k_best + 2 <= n - 2:
            _harmonic_chi2(t, y, w, f_half, 2 * k_best, g, rhs, x, chi2)
            chi_h = chi2[2 * k_best]
            if chi_h > 0 and chi_h < chi_k:
                odd = n * math.log(chi_k / chi_h) - 2.0 * k_best * ln_n
                share = (chi_k - chi_h) / (chi0 - chi_h) if chi0 > chi_h else 0.0
                switch = odd > odd_gain and share > odd_frac
        if not switch:
            _binned_chi2(t, r, w, f_best, nbins, sw, swr, chib[:n_lev])
            b_best = _bin_gain(chib[:n_lev], chi0, n, nbins)[1]
            if b_best > 0 and 6 * b_best <= n:
                chi_b = chib[int(round(math.log2(nbins / b_best)))]
                _binned_chi2(t, r, w, f_half, 2 * b_best, sw, swr, chib[:1])
                chi_bh = chib[0]
                if chi_bh > 0 and chi_bh < chi_b:
                    odd = n * math.log(chi_b / chi_bh) - b_best * ln_n
                    share = (chi_b - chi_bh) / (chi0 - chi_bh) if chi0 > chi_bh else 0.0
                    switch = odd > odd_gain and share > odd_frac
        if not switch and dip_z > 0:
            switch = _unequal_dips(t, r, w, f_best, n, sw, swr, dip_z, dip_ratio)
        if switch:
            f_best = f_half
            if 4 * k_best + 2 <= n - 2:
                _harmonic_chi2(t, y, w, f_half, 2 * k_best, g, rhs, x, chi2)
                k_best = 2 * k_best
            else:
                _harmonic_chi2(t, y, w, f_half, kmax, g, rhs, x, chi2)
                k_best = _gain(chi2, chi0, n, kmax)[1]
            if k_best == 0:
                return
            chi_k = chi2[k_best]
            gain_best = n * math.log(chi0 / chi_k) - 2.0 * k_best * ln_n if chi_k > 0 else gain_best
    out[0] = f_best
    out[1] = gain_best
    out[2] = k_best
    out[3] = chi0
    out[4] = chi_k


@njit(cache=True, nogil=True)
def _best_range(t, y, w, offsets, cand_f, cand_rank, df, kmax, n_refine, fpar, r0, r1,
                out_f, out_gain, out_k, out_chi):
    res = np.empty(5)
    for i in range(r0, r1):
        a = offsets[i]
        b = offsets[i + 1]
        _best_one(t[a:b], y[a:b], w[a:b], cand_f[i], cand_rank[i], df, kmax, n_refine, fpar, res)
        out_f[i] = res[0]
        out_gain[i] = res[1]
        out_k[i] = int(res[2])
        out_chi[i, 0] = res[3]
        out_chi[i, 1] = res[4]
