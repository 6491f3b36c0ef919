"""On-the-fly reduction of a periodogram to what the features need (numba helpers).

Kernels compute the statistic for a block of consecutive trial frequencies and hand the block to
:func:`consume_block`, which updates, for one light curve:

* running sums for the mean and standard deviation of the statistic over the whole grid
  (shifted by the first value, so the variance does not suffer from cancellation);
* the global best bin (``argmax``);
* the ``n_peaks`` strongest *distinct* peaks: interior local maxima, where a candidate closer than
  ``sep`` bins to the last accepted peak replaces it only if it is higher;
* the ``n_raw`` highest raw bins (the nested LS/CE candidates of the reference).

Values are "scores": larger is better. Callers negate statistics where smaller is better (CE).
Nothing here is ever as large as the grid; memory per light curve is ``O(n_peaks + n_raw)``.

State layout (per light curve)
------------------------------
``fst`` float64[8]: shift, sum, sum of squares, best score, previous score, peak threshold,
raw threshold, count.
``ist`` int64[12]: best index, previous index, previous-was-rising flag, number of peaks,
slot of the weakest peak, slot of the last accepted peak, index of the last accepted peak,
number of raw bins, slot of the weakest raw bin, have-previous flag.
"""

from __future__ import annotations

import numpy as np
from numba import njit

F_SHIFT, F_S1, F_S2, F_BEST, F_PREV, F_PKTHR, F_RAWTHR, F_COUNT = range(8)
I_BEST, I_PREV, I_RISING, I_PKN, I_PKMIN, I_LAST_SLOT, I_LAST_IDX, I_RAWN, I_RAWMIN, I_HAVEPREV = range(10)

N_FST = 8
N_IST = 12


@njit(cache=True, nogil=True)
def init_state(fst, ist, pk_idx, pk_val, raw_idx, raw_val):
    """Reset the state arrays of one light curve."""
    fst[:] = 0.0
    fst[F_BEST] = -np.inf
    fst[F_PREV] = -np.inf
    fst[F_PKTHR] = -np.inf
    fst[F_RAWTHR] = -np.inf
    fst[F_SHIFT] = np.nan
    ist[:] = 0
    ist[I_BEST] = -1
    ist[I_PREV] = -1
    ist[I_LAST_SLOT] = -1
    ist[I_LAST_IDX] = -1
    pk_idx[:] = -1
    pk_val[:] = -np.inf
    raw_idx[:] = -1
    raw_val[:] = -np.inf


@njit(cache=True, nogil=True)
def start_segment(ist):
    """Forget the previous bin: the first bin of a run of kept frequencies is never a peak."""
    ist[I_HAVEPREV] = 0
    ist[I_RISING] = 0


@njit(cache=True, nogil=True)
def _min_slot(vals, idxs, n):
    # the weakest entry; among equal values the highest grid index goes first, so that ties are
    # resolved in favour of the lower frequency, as a stable sort would
    slot = 0
    v = vals[0]
    for j in range(1, n):
        if vals[j] < v or (vals[j] == v and idxs[j] > idxs[slot]):
            v = vals[j]
            slot = j
    return slot


@njit(cache=True, nogil=True)
def _insert_peak(fst, ist, pk_idx, pk_val, idx, val, sep):
    """Offer a local maximum; keeps the ``len(pk_idx)`` strongest distinct peaks."""
    cap = pk_idx.shape[0]
    last = ist[I_LAST_SLOT]
    if last >= 0 and pk_idx[last] == ist[I_LAST_IDX] and idx - ist[I_LAST_IDX] < sep:
        # same peak as the last one accepted (its side lobe or a noisy top): keep the higher
        if val > pk_val[last]:
            pk_val[last] = val
            pk_idx[last] = idx
            ist[I_LAST_IDX] = idx
            if ist[I_PKN] == cap:
                ist[I_PKMIN] = _min_slot(pk_val, pk_idx, cap)
                fst[F_PKTHR] = pk_val[ist[I_PKMIN]]
        return
    n = ist[I_PKN]
    if n < cap:
        slot = n
        ist[I_PKN] = n + 1
    else:
        if val <= fst[F_PKTHR]:
            return
        slot = ist[I_PKMIN]
    pk_idx[slot] = idx
    pk_val[slot] = val
    ist[I_LAST_SLOT] = slot
    ist[I_LAST_IDX] = idx
    if ist[I_PKN] == cap:
        ist[I_PKMIN] = _min_slot(pk_val, pk_idx, cap)
        fst[F_PKTHR] = pk_val[ist[I_PKMIN]]


@njit(cache=True, nogil=True)
def _insert_raw(fst, ist, raw_idx, raw_val, idx, val):
    cap = raw_idx.shape[0]
    n = ist[I_RAWN]
    if n < cap:
        slot = n
        ist[I_RAWN] = n + 1
    else:
        slot = ist[I_RAWMIN]
    raw_idx[slot] = idx
    raw_val[slot] = val
    if ist[I_RAWN] == cap:
        ist[I_RAWMIN] = _min_slot(raw_val, raw_idx, cap)
        fst[F_RAWTHR] = raw_val[ist[I_RAWMIN]]


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "arcp", "nsz"})
def _block_moments(vals, nk, shift):
    """Sum, sum of squares (about ``shift``), count and maximum of the finite values of a block."""
    s1 = 0.0
    s2 = 0.0
    cnt = 0.0
    mx = -np.inf
    for j in range(nk):
        v = vals[j]
        if v - v == 0.0:  # finite (inf - inf and NaN - NaN are NaN)
            d = v - shift
            s1 += d
            s2 += d * d
            cnt += 1.0
            mx = max(mx, v)
    return s1, s2, cnt, mx


@njit(cache=True, nogil=True)
def consume_block(vals, k0, nk, fst, ist, pk_idx, pk_val, raw_idx, raw_val, sep):
    """Fold scores ``vals[:nk]`` of grid indices ``k0 .. k0+nk-1`` into the state.

    Non-finite scores are skipped (they count neither in the statistics nor as peaks). A block
    whose every value is finite and no higher than the best score, the weakest kept peak and the
    weakest kept raw bin (the usual case once the buffers are full) cannot change anything but
    the "previous value" state, so it is folded in without the per-value loop.
    """
    shift = fst[F_SHIFT]
    if shift != shift:  # the first finite value of the light curve fixes the shift
        for j in range(nk):
            if np.isfinite(vals[j]):
                shift = vals[j]
                fst[F_SHIFT] = shift
                break
    bmax = np.inf
    bc = 0.0
    if shift == shift:
        b1, b2, bc, bmax = _block_moments(vals, nk, shift)
        fst[F_S1] += b1
        fst[F_S2] += b2
        fst[F_COUNT] += bc
    best = fst[F_BEST]
    best_i = ist[I_BEST]
    prev = fst[F_PREV]
    prev_i = ist[I_PREV]
    rising = ist[I_RISING]
    have_prev = ist[I_HAVEPREV]
    want_peaks = pk_idx.shape[0] > 0
    want_raw = raw_idx.shape[0] > 0
    pk_thr = fst[F_PKTHR]
    raw_thr = fst[F_RAWTHR] if want_raw else np.inf
    if (bc == nk and nk > 0 and bmax <= best and bmax <= raw_thr
            and (not want_peaks or (bmax <= pk_thr and not (have_prev and rising and prev > pk_thr)))):
        if want_peaks:
            last = vals[nk - 1]
            before = vals[nk - 2] if nk >= 2 else prev
            ist[I_RISING] = 1 if ((nk >= 2 or have_prev) and last > before) else 0
            fst[F_PREV] = last
            ist[I_PREV] = k0 + nk - 1
            ist[I_HAVEPREV] = 1
        return
    for j in range(nk):
        v = vals[j]
        if not np.isfinite(v):
            have_prev = 0
            rising = 0
            continue
        k = k0 + j
        if v > best:
            best = v
            best_i = k
        if want_peaks:
            if have_prev and rising and prev >= v and prev > pk_thr:
                _insert_peak(fst, ist, pk_idx, pk_val, prev_i, prev, sep)
                pk_thr = fst[F_PKTHR]
            rising = 1 if (have_prev and v > prev) else 0
            prev = v
            prev_i = k
            have_prev = 1
        if v > raw_thr:
            _insert_raw(fst, ist, raw_idx, raw_val, k, v)
            raw_thr = fst[F_RAWTHR]
    fst[F_BEST] = best
    ist[I_BEST] = best_i
    fst[F_PREV] = prev
    ist[I_PREV] = prev_i
    ist[I_RISING] = rising
    ist[I_HAVEPREV] = have_prev


@njit(cache=True, nogil=True)
def finish(fst, ist, pk_idx, pk_val, raw_idx, raw_val, out_summary):
    """Sort the peak and raw buffers (best first) and write the summary.

    ``out_summary`` (float64[5]) receives: mean score, std of score (ddof 0), number of finite
    bins, best grid index (the strongest distinct peak, or the global best bin when there is no
    interior peak; -1 when nothing was finite) and the score there.
    """
    cnt = fst[F_COUNT]
    if cnt > 0:
        m1 = fst[F_S1] / cnt
        var = fst[F_S2] / cnt - m1 * m1
        out_summary[0] = fst[F_SHIFT] + m1
        out_summary[1] = np.sqrt(var) if var > 0 else 0.0
    else:
        out_summary[0] = np.nan
        out_summary[1] = np.nan
    out_summary[2] = cnt
    _sort_desc(pk_idx, pk_val, ist[I_PKN])
    _sort_desc(raw_idx, raw_val, ist[I_RAWN])
    if ist[I_PKN] > 0:
        out_summary[3] = pk_idx[0]
        out_summary[4] = pk_val[0]
    else:
        out_summary[3] = ist[I_BEST]
        out_summary[4] = fst[F_BEST] if ist[I_BEST] >= 0 else np.nan
    # mark unused slots
    for j in range(ist[I_PKN], pk_idx.shape[0]):
        pk_idx[j] = -1
        pk_val[j] = np.nan
    for j in range(ist[I_RAWN], raw_idx.shape[0]):
        raw_idx[j] = -1
        raw_val[j] = np.nan


@njit(cache=True, nogil=True)
def _sort_desc(idx, val, n):
    # insertion sort: n is small (top-N); ties keep the lower frequency first
    for a in range(1, n):
        v = val[a]
        i = idx[a]
        b = a - 1
        while b >= 0 and (val[b] < v or (val[b] == v and idx[b] > i)):
            val[b + 1] = val[b]
            idx[b + 1] = idx[b]
            b -= 1
        val[b + 1] = v
        idx[b + 1] = i
