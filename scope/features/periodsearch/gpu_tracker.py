"""Streaming reduction of periodogram chunks to peaks, on the device (CUDA kernels).

The score kernels write one chunk of the grid (``rows x chunk`` scores) into a device buffer;
:func:`tracker_kernels`' ``track`` kernel then folds that chunk into per-light-curve state that
lives on the device between chunks, and ``finish`` turns the state into the kernel outputs of
:mod:`.cpu` (summary, distinct peaks, raw highest bins). One thread follows one light curve
through the chunk in frequency order, with exactly the rules of :mod:`._tracker` (first finite
value as the moment shift, strict ``>`` for the best bin, distinct peaks with the ``sep`` rule,
raw bins above the running threshold), so the peaks equal the CPU backend's for equal scores.
Memory per light curve is ``O(n_peaks + n_raw)``; nothing the size of the grid leaves the
device.

State layout (device arrays, one row per light curve): ``fst`` float64 ``(n, 8)`` and ``ist``
int64 ``(n, 10)``, columns named below; ``pk_idx``/``pk_val`` ``(n, max(1, n_peaks))`` and
``raw_idx``/``raw_val`` ``(n, max(1, n_raw))``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda
from numba.extending import register_jitable

F_SHIFT, F_S1, F_S2, F_BEST, F_PREV, F_PKTHR, F_RAWTHR, F_COUNT = range(8)
I_BEST, I_PREV, I_RISING, I_PKN, I_PKMIN, I_LAST_SLOT, I_LAST_IDX, I_RAWN, I_RAWMIN, I_HAVEPREV = range(10)
N_FST = 8
N_IST = 10

_NAN = float("nan")
_INF = float("inf")


def initial_state(n: int, n_peaks: int, n_raw: int) -> dict[str, np.ndarray]:
    """Host arrays of the empty state of ``n`` light curves."""
    fst = np.zeros((n, N_FST))
    fst[:, [F_BEST, F_PREV, F_PKTHR, F_RAWTHR]] = -np.inf
    fst[:, F_SHIFT] = np.nan
    ist = np.zeros((n, N_IST), dtype=np.int64)
    ist[:, [I_BEST, I_PREV, I_LAST_SLOT, I_LAST_IDX]] = -1
    return {
        "fst": fst,
        "ist": ist,
        "pk_idx": np.full((n, max(1, n_peaks)), -1, np.int64),
        "pk_val": np.full((n, max(1, n_peaks)), -np.inf),
        "raw_idx": np.full((n, max(1, n_raw)), -1, np.int64),
        "raw_val": np.full((n, max(1, n_raw)), -np.inf),
    }


def tracker_kernels(jit):
    """Build the ``track`` and ``finish`` kernels for a ``jit`` decorator.

    ``track[blocks, threads](scores, k0, nk, new_segment, sep, n_peaks, n_raw, fst, ist, pk_idx,
    pk_val, raw_idx, raw_val)`` folds ``scores[row, :nk]`` (grid indices ``k0 ..``) into the state;
    ``new_segment`` is 1 when ``k0`` starts a run of kept frequencies. ``finish[...](fst, ist,
    pk_idx, pk_val, raw_idx, raw_val, n_peaks, n_raw, summary)`` sorts the buffers and writes the
    summary ``(mean, std, count, best index, best score)``.
    """

    @register_jitable
    def min_slot(vals, idxs, row, n):
        # the weakest entry; among equal values the highest grid index goes first
        slot = 0
        v = vals[row, 0]
        for j in range(1, n):
            if vals[row, j] < v or (vals[row, j] == v and idxs[row, j] > idxs[row, slot]):
                v = vals[row, j]
                slot = j
        return slot

    @register_jitable
    def refresh_threshold(fst, ist, vals, idxs, row, cap, n_col, min_col, thr_col):
        # once the buffer is full, its weakest entry is the bar a newcomer must clear
        if ist[row, n_col] == cap:
            ist[row, min_col] = min_slot(vals, idxs, row, cap)
            fst[row, thr_col] = vals[row, ist[row, min_col]]

    @register_jitable
    def insert_peak(fst, ist, pk_idx, pk_val, row, idx, val, sep, cap):
        last = ist[row, I_LAST_SLOT]
        if last >= 0 and pk_idx[row, last] == ist[row, I_LAST_IDX] and idx - ist[row, I_LAST_IDX] < sep:
            # the same peak as the last one accepted: keep the higher
            if val > pk_val[row, last]:
                pk_val[row, last] = val
                pk_idx[row, last] = idx
                ist[row, I_LAST_IDX] = idx
                refresh_threshold(fst, ist, pk_val, pk_idx, row, cap, I_PKN, I_PKMIN, F_PKTHR)
            return
        n = ist[row, I_PKN]
        if n < cap:
            slot = n
            ist[row, I_PKN] = n + 1
        else:
            if val <= fst[row, F_PKTHR]:
                return
            slot = ist[row, I_PKMIN]
        pk_idx[row, slot] = idx
        pk_val[row, slot] = val
        ist[row, I_LAST_SLOT] = slot
        ist[row, I_LAST_IDX] = idx
        refresh_threshold(fst, ist, pk_val, pk_idx, row, cap, I_PKN, I_PKMIN, F_PKTHR)

    @register_jitable
    def insert_raw(fst, ist, raw_idx, raw_val, row, idx, val, cap):
        n = ist[row, I_RAWN]
        if n < cap:
            slot = n
            ist[row, I_RAWN] = n + 1
        else:
            slot = ist[row, I_RAWMIN]
        raw_idx[row, slot] = idx
        raw_val[row, slot] = val
        refresh_threshold(fst, ist, raw_val, raw_idx, row, cap, I_RAWN, I_RAWMIN, F_RAWTHR)

    @jit
    def track(scores, k0, nk, new_segment, sep, n_peaks, n_raw, fst, ist, pk_idx, pk_val, raw_idx, raw_val):
        row = cuda.grid(1)
        if row >= scores.shape[0]:
            return
        shift = fst[row, F_SHIFT]
        s1 = fst[row, F_S1]
        s2 = fst[row, F_S2]
        cnt = fst[row, F_COUNT]
        best = fst[row, F_BEST]
        best_i = ist[row, I_BEST]
        prev = fst[row, F_PREV]
        prev_i = ist[row, I_PREV]
        rising = ist[row, I_RISING]
        have_prev = ist[row, I_HAVEPREV]
        if new_segment:
            # the first bin of a run of kept frequencies is never a peak
            rising = 0
            have_prev = 0
        pk_thr = fst[row, F_PKTHR]
        raw_thr = fst[row, F_RAWTHR] if n_raw > 0 else _INF
        for j in range(nk):
            v = scores[row, j]
            if not math.isfinite(v):
                have_prev = 0
                rising = 0
                continue
            if shift != shift:  # the first finite value of the light curve fixes the shift
                shift = v
            d = v - shift
            s1 += d
            s2 += d * d
            cnt += 1.0
            k = k0 + j
            if v > best:
                best = v
                best_i = k
            if n_peaks > 0:
                if have_prev and rising and prev >= v and prev > pk_thr:
                    insert_peak(fst, ist, pk_idx, pk_val, row, prev_i, prev, sep, n_peaks)
                    pk_thr = fst[row, F_PKTHR]
                rising = 1 if (have_prev and v > prev) else 0
                prev = v
                prev_i = k
                have_prev = 1
            if v > raw_thr:
                insert_raw(fst, ist, raw_idx, raw_val, row, k, v, n_raw)
                raw_thr = fst[row, F_RAWTHR]
        fst[row, F_SHIFT] = shift
        fst[row, F_S1] = s1
        fst[row, F_S2] = s2
        fst[row, F_COUNT] = cnt
        fst[row, F_BEST] = best
        ist[row, I_BEST] = best_i
        fst[row, F_PREV] = prev
        ist[row, I_PREV] = prev_i
        ist[row, I_RISING] = rising
        ist[row, I_HAVEPREV] = have_prev

    @register_jitable
    def sort_desc(idx, val, row, n):
        # insertion sort (n is small); ties keep the lower frequency first
        for a in range(1, n):
            v = val[row, a]
            i = idx[row, a]
            b = a - 1
            while b >= 0 and (val[row, b] < v or (val[row, b] == v and idx[row, b] > i)):
                val[row, b + 1] = val[row, b]
                idx[row, b + 1] = idx[row, b]
                b -= 1
            val[row, b + 1] = v
            idx[row, b + 1] = i

    @jit
    def finish(fst, ist, pk_idx, pk_val, raw_idx, raw_val, n_peaks, n_raw, summary):
        row = cuda.grid(1)
        if row >= summary.shape[0]:
            return
        cnt = fst[row, F_COUNT]
        if cnt > 0:
            m1 = fst[row, F_S1] / cnt
            var = fst[row, F_S2] / cnt - m1 * m1
            summary[row, 0] = fst[row, F_SHIFT] + m1
            summary[row, 1] = math.sqrt(var) if var > 0 else 0.0
        else:
            summary[row, 0] = _NAN
            summary[row, 1] = _NAN
        summary[row, 2] = cnt
        npk = ist[row, I_PKN]
        nraw = ist[row, I_RAWN]
        sort_desc(pk_idx, pk_val, row, npk)
        sort_desc(raw_idx, raw_val, row, nraw)
        if npk > 0:
            summary[row, 3] = pk_idx[row, 0]
            summary[row, 4] = pk_val[row, 0]
        else:
            summary[row, 3] = ist[row, I_BEST]
            summary[row, 4] = fst[row, F_BEST] if ist[row, I_BEST] >= 0 else _NAN
        for j in range(npk, n_peaks):
            pk_idx[row, j] = -1
            pk_val[row, j] = _NAN
        for j in range(nraw, n_raw):
            raw_idx[row, j] = -1
            raw_val[row, j] = _NAN

    return track, finish
