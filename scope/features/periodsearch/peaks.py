"""Peaks, significance, cross-algorithm agreement and the nested LS/CE -> AOV selection.

:func:`reduce_periodogram` is the readable NumPy counterpart of the on-the-fly reduction the
kernels do (:mod:`._tracker`); the two give identical peaks for the same periodogram.

Definitions
-----------
score
    The statistic oriented so that larger is better (``-H`` for conditional entropy).
significance
    ``|statistic - mean| / std`` over every searched frequency of that light curve (the
    reference's "stdmean" z-score).
distinct peaks
    Interior local maxima of the score inside each run of kept frequencies (``s[k-1] < s[k] >=
    s[k+1]``), taken in frequency order; a peak closer than ``sep`` grid points to the previously
    accepted one replaces it only if it is higher. The ``n`` strongest survive, best first. This
    is what makes top-N periods distinct, unlike the reference's adjacent bins of one peak.
best period
    The strongest distinct peak; the global best bin only when there is no interior peak (a
    monotonic periodogram), so an edge of the grid is never reported when a real peak exists.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Harmonic ratios tested by the agreement scores.
AGREEMENT_HARMONICS = (1.0, 0.5, 2.0, 1.0 / 3.0, 3.0)
#: Relative tolerance of a period match.
AGREEMENT_TOLERANCE = 0.05
#: Periods below this (days) never match anything.
AGREEMENT_MIN_PERIOD = 0.007

AGREEMENT_COLUMNS = (
    "n_agree_pairs",
    "n_total_pairs",
    "agree_score",
    "agree_strict",
    "agree_weighted",
    "best_agree_period",
    "best_consensus_period",
)


def reduce_periodogram(scores, indices, n_peaks: int, n_raw: int, sep: int) -> dict:
    """Reduce one full periodogram the way the kernels do on the fly.

    Parameters
    ----------
    scores : ndarray of float64
        Score (larger is better) at each searched frequency.
    indices : ndarray of int64
        Uniform-grid index of each score, ascending; a jump of more than 1 starts a new run.
    n_peaks, n_raw : int
        Number of distinct peaks and of raw highest bins to keep.
    sep : int
        Minimum separation (grid points) of distinct peaks.

    Returns
    -------
    dict
        ``mean``, ``std`` (ddof 0) and ``count`` of the finite scores; ``best_idx`` and
        ``best_val``; ``pk_idx``/``pk_val`` (n_peaks,) and ``raw_idx``/``raw_val`` (n_raw,), best
        first, padded with -1 / NaN.
    """
    scores = np.asarray(scores, dtype=np.float64)
    indices = np.asarray(indices, dtype=np.int64)
    finite = np.isfinite(scores)
    out = {
        "pk_idx": np.full(n_peaks, -1, np.int64),
        "pk_val": np.full(n_peaks, np.nan),
        "raw_idx": np.full(n_raw, -1, np.int64),
        "raw_val": np.full(n_raw, np.nan),
    }
    if not finite.any():
        out.update(mean=np.nan, std=np.nan, count=0, best_idx=-1, best_val=np.nan)
        return out
    fs = scores[finite]
    out.update(mean=float(fs.mean()), std=float(fs.std()), count=int(finite.sum()))

    peaks = _distinct_peaks(scores, indices, n_peaks, sep) if n_peaks > 0 else []
    for slot, (i, v) in enumerate(peaks):
        out["pk_idx"][slot] = i
        out["pk_val"][slot] = v
    if n_raw > 0:
        order = np.lexsort((indices[finite], -fs))[:n_raw]
        out["raw_idx"][: len(order)] = indices[finite][order]
        out["raw_val"][: len(order)] = fs[order]
    if peaks:
        out["best_idx"], out["best_val"] = peaks[0]
    else:
        k = int(np.flatnonzero(scores == np.max(fs))[0])
        out["best_idx"], out["best_val"] = int(indices[k]), float(scores[k])
    return out


def _distinct_peaks(scores, indices, n_peaks, sep):
    """Greedy distinct peaks (see module docstring), best first."""
    kept: list[list] = []  # [grid index, value] per slot, in slot order
    last_slot = -1
    for k in range(1, len(scores) - 1):
        left, mid, right = scores[k - 1], scores[k], scores[k + 1]
        contiguous = indices[k] - indices[k - 1] == 1 and indices[k + 1] - indices[k] == 1
        if not (contiguous and np.isfinite(left) and np.isfinite(mid) and np.isfinite(right)):
            continue
        if not (mid > left and mid >= right):
            continue
        idx = int(indices[k])
        if last_slot >= 0 and idx - kept[last_slot][0] < sep:
            if mid > kept[last_slot][1]:
                kept[last_slot] = [idx, float(mid)]
            continue
        if len(kept) < n_peaks:
            kept.append([idx, float(mid)])
            last_slot = len(kept) - 1
            continue
        # evict the weakest (ties: the highest frequency)
        weakest = min(range(len(kept)), key=lambda s: (kept[s][1], -kept[s][0]))
        if mid > kept[weakest][1]:
            kept[weakest] = [idx, float(mid)]
            last_slot = weakest
    kept.sort(key=lambda e: (-e[1], e[0]))
    return [(i, v) for i, v in kept]


def significance(values, mean, std):
    """``|values - mean| / std`` (NaN where ``std`` is 0 or not finite)."""
    values = np.asarray(values, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(values - mean) / std
    return np.where(std > 0, z, np.nan)


# --------------------------------------------------------------------------------------------
# agreement between algorithms
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _match(pa, pb, harmonics, tol, pmin):
    if not (pa >= pmin and pb >= pmin):  # also rejects NaN
        return False
    for h in harmonics:
        if abs(pa / (pb * h) - 1.0) < tol:
            return True
    return False


@njit(cache=True, nogil=True)
def _agreement_kernel(top, best, harmonics, tol, pmin, out_int, out_float):
    n_alg, n_lc, n_top = top.shape
    for r in range(n_lc):
        n_pairs = 0
        n_agree = 0
        n_strict = 0
        weighted = 0.0
        first_match = np.nan
        for a in range(n_alg):
            for b in range(a + 1, n_alg):
                n_pairs += 1
                if _match(best[a, r], best[b, r], harmonics, tol, pmin):
                    n_strict += 1
                any_match = False
                wmax = 0.0
                for i in range(n_top):
                    for j in range(n_top):
                        if _match(top[a, r, i], top[b, r, j], harmonics, tol, pmin):
                            if not any_match and first_match != first_match:
                                first_match = top[a, r, i]
                            any_match = True
                            wgt = 1.0 / ((i + 1.0) * (j + 1.0))
                            if wgt > wmax:
                                wmax = wgt
                if any_match:
                    n_agree += 1
                weighted += wmax
        # consensus: votes per (algorithm, rank) entry, merged into clusters of matching periods
        keys = np.empty(n_alg * n_top)
        weights = np.zeros(n_alg * n_top)
        n_clusters = 0
        for a in range(n_alg):
            for i in range(n_top):
                p = top[a, r, i]
                if not p >= pmin:
                    continue
                vote = 0.0
                for b in range(n_alg):
                    if b == a:
                        continue
                    for j in range(n_top):
                        if _match(p, top[b, r, j], harmonics, tol, pmin):
                            vote += 1.0 / ((i + 1.0) * (j + 1.0))
                            break
                placed = False
                for c in range(n_clusters):
                    if _match(p, keys[c], harmonics, tol, pmin):
                        weights[c] += vote
                        placed = True
                        break
                if not placed:
                    keys[n_clusters] = p
                    weights[n_clusters] = vote
                    n_clusters += 1
        consensus = np.nan
        top_weight = 0.0
        for c in range(n_clusters):
            if weights[c] > top_weight:
                top_weight = weights[c]
                consensus = keys[c]
        out_int[r, 0] = n_agree
        out_int[r, 1] = n_pairs
        if n_pairs > 0:
            out_float[r, 0] = n_agree / n_pairs
            out_float[r, 1] = n_strict / n_pairs
            out_float[r, 2] = weighted / n_pairs
        else:
            out_float[r, 0] = np.nan
            out_float[r, 1] = np.nan
            out_float[r, 2] = np.nan
        out_float[r, 3] = first_match
        out_float[r, 4] = consensus


def agreement_scores(top_periods, best_periods) -> dict[str, np.ndarray]:
    """Agreement of the period candidates of several algorithms (reference spec §4.8).

    Two periods match when ``|p_a / (p_b h) - 1| < 0.05`` for a harmonic ratio ``h`` in
    {1, 1/2, 2, 1/3, 3}; periods below 0.007 d never match.

    Parameters
    ----------
    top_periods : array_like, shape (n_algorithms, n, N)
        Top-N periods of each algorithm, best first, NaN padded.
    best_periods : array_like, shape (n_algorithms, n)
        Best period of each algorithm.

    Returns
    -------
    dict
        ``n_agree_pairs``, ``n_total_pairs`` (int64): pairs of algorithms with any top-N match,
        and ``A(A-1)/2``; ``agree_score`` = n_agree_pairs / n_total_pairs; ``agree_strict`` =
        fraction of pairs whose best periods match; ``agree_weighted`` = mean over pairs of the
        largest ``1/((i+1)(j+1))`` over matching ranks i, j (0 for no match);
        ``best_agree_period`` = the first matching period found (pairs in algorithm order, ranks
        ascending); ``best_consensus_period`` = the key period of the cluster with the largest
        accumulated vote (NaN if no votes). Fractions are NaN with fewer than two algorithms.
    """
    top = np.ascontiguousarray(top_periods, dtype=np.float64)
    best = np.ascontiguousarray(best_periods, dtype=np.float64)
    if top.ndim != 3 or best.shape != top.shape[:2]:
        raise ValueError("top_periods must be (A, n, N) and best_periods (A, n)")
    n = top.shape[1]
    out_int = np.zeros((n, 2), np.int64)
    out_float = np.full((n, 5), np.nan)
    if n:
        _agreement_kernel(top, best, np.array(AGREEMENT_HARMONICS), AGREEMENT_TOLERANCE,
                          AGREEMENT_MIN_PERIOD, out_int, out_float)
    return {
        "n_agree_pairs": out_int[:, 0],
        "n_total_pairs": out_int[:, 1],
        "agree_score": out_float[:, 0],
        "agree_strict": out_float[:, 1],
        "agree_weighted": out_float[:, 2],
        "best_agree_period": out_float[:, 3],
        "best_consensus_period": out_float[:, 4],
    }


# --------------------------------------------------------------------------------------------
# nested LS / CE -> AOV
# --------------------------------------------------------------------------------------------


def nested_candidates(ls_idx, ce_idx) -> np.ndarray:
    """Union of the LS and CE candidate grid indices per light curve, ascending, -1 padded.

    Parameters
    ----------
    ls_idx, ce_idx : ndarray of int64, shape (n, N)
        Candidate indices (-1 for none).

    Returns
    -------
    ndarray of int64, shape (n, 2N)
    """
    ls_idx = np.asarray(ls_idx, dtype=np.int64)
    ce_idx = np.asarray(ce_idx, dtype=np.int64)
    both = np.concatenate([ls_idx, ce_idx], axis=1)
    both = np.sort(np.where(both < 0, np.iinfo(np.int64).max, both), axis=1)
    # blank out repeats so each index appears once
    repeat = np.zeros_like(both, dtype=bool)
    repeat[:, 1:] = both[:, 1:] == both[:, :-1]
    both[repeat] = np.iinfo(np.int64).max
    both = np.sort(both, axis=1)
    both[both == np.iinfo(np.int64).max] = -1
    return both


def pick_nested(candidates, aov_values):
    """Choose the candidate with the largest AOV F (ties: the lowest index).

    Parameters
    ----------
    candidates : ndarray of int64, shape (n, K)
        Grid indices, ascending, -1 padded (:func:`nested_candidates`).
    aov_values : ndarray of float64, shape (n, K)
        AOV F at each candidate (NaN where none).

    Returns
    -------
    best_idx : ndarray of int64 (-1 when no candidate has a finite F)
    best_f : ndarray of float64 (the raw F value, the reference's nested "significance")
    """
    vals = np.where((candidates >= 0) & np.isfinite(aov_values), aov_values, -np.inf)
    col = np.argmax(vals, axis=1)
    rows = np.arange(len(candidates))
    ok = np.isfinite(vals[rows, col]) if len(candidates) else np.zeros(0, bool)
    best_idx = np.where(ok, candidates[rows, col], -1).astype(np.int64)
    best_f = np.where(ok, aov_values[rows, col], np.nan)
    return best_idx, best_f
