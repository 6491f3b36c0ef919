"""dm-dt histograms (spec §4.10): every pair of points, binned in (magnitude, time) differences.

For each pair i < j of the time-sorted light curve, ``dt = t_j - t_i >= 0`` and ``dm = m_j - m_i``
(later minus earlier: positive means fainter later). Pairs are counted in a 2-D histogram over
the given edges with NumPy ``histogram2d`` conventions (bins closed on the left, the last bin
closed on both sides, pairs outside the edges dropped), stored with **rows = dm bins and columns
= dt bins** and L2 (Frobenius) normalised; an empty histogram stays all zeros.

Time is O(N^2) per light curve, extra memory O(1) (no array of pair differences is built).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scope.errors import DataError

from ._ragged import sorted_by_time
from ._threads import run_chunks
from .periodsearch.prepare import check_ragged

#: Default magnitude-difference edges (27 edges, mag).
DM_EDGES = np.array([-8, -4.5, -3, -2.5, -2, -1.5, -1.25, -0.75, -0.5, -0.3, -0.2, -0.1, -0.05, 0, 0.05,
                     0.1, 0.2, 0.3, 0.5, 0.75, 1.25, 1.5, 2, 2.5, 3, 4.5, 8], dtype=np.float64)
#: Default time-difference edges (27 edges, days).
DT_EDGES = np.array([0.0, 4.0 / 145.0, 0.04, 0.08, 0.12, 0.3, 0.75, 1, 1.5, 2.5, 3.5, 4.5, 5.5, 7, 10, 20,
                     30, 45, 60, 90, 120, 180, 240, 360, 500, 650, 2000], dtype=np.float64)


def _edges(values, name):
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 1 or len(arr) < 2 or not np.all(np.isfinite(arr)) or np.any(np.diff(arr) <= 0):
        raise DataError(f"{name} must be at least two finite, strictly increasing bin edges")
    return arr


def dmdt_histograms(t, m, offsets, *, dm_edges=None, dt_edges=None, n_threads: int | None = None) -> np.ndarray:
    """L2-normalised dm-dt histograms of a ragged batch.

    Parameters
    ----------
    t, m : array_like of float64
        Concatenated times (days) and magnitudes.
    offsets : array_like of int64, shape (n + 1,)
    dm_edges, dt_edges : array_like, optional
        Bin edges; default :data:`DM_EDGES` and :data:`DT_EDGES` (the config's ``dmdt_ints``).
    n_threads : int, optional
        Threads (``None``: numba's setting, capped at the available CPUs).

    Returns
    -------
    ndarray of float64, shape (n, len(dm_edges) - 1, len(dt_edges) - 1)
    """
    dm_e = _edges(DM_EDGES if dm_edges is None else dm_edges, "dm_edges")
    dt_e = _edges(DT_EDGES if dt_edges is None else dt_edges, "dt_edges")
    t, m, _, offsets = check_ragged(t, m, np.ones_like(np.asarray(m, dtype=np.float64)), offsets)
    t, m = sorted_by_time(t, m, offsets=offsets)
    out = np.zeros((len(offsets) - 1, len(dm_e) - 1, len(dt_e) - 1))
    run_chunks(lambda a, b: _dmdt_range(t, m, offsets, dm_e, dt_e, a, b, out), len(offsets) - 1, n_threads)
    return out


@njit(cache=True, nogil=True)
def _bin_of(x, edges):
    """histogram2d bin of ``x`` (-1 outside): closed on the left, last bin closed on the right."""
    nb = edges.shape[0] - 1
    if x < edges[0] or x > edges[nb] or x != x:
        return -1
    if x == edges[nb]:
        return nb - 1
    lo = 0
    hi = nb
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if x >= edges[mid]:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def dmdt_one(t, m, dm_edges, dt_edges, hist):
    """Histogram of one time-sorted light curve into ``hist`` (zeroed here), L2-normalised."""
    hist[:, :] = 0.0
    n = t.shape[0]
    n_dt = dt_edges.shape[0] - 1
    for a in range(n - 1):
        ta = t[a]
        ma = m[a]
        kt = 0
        for b in range(a + 1, n):
            dt = t[b] - ta
            # dt grows with b (sorted times): advance the dt bin instead of searching
            while kt < n_dt and dt >= dt_edges[kt + 1] and not (kt == n_dt - 1 and dt == dt_edges[n_dt]):
                kt += 1
            if dt < dt_edges[0]:
                continue
            if kt >= n_dt:
                break
            km = _bin_of(m[b] - ma, dm_edges)
            if km >= 0:
                hist[km, kt] += 1.0
    norm = 0.0
    for i in range(hist.shape[0]):
        for j in range(hist.shape[1]):
            norm += hist[i, j] * hist[i, j]
    if norm > 0:
        norm = np.sqrt(norm)
        for i in range(hist.shape[0]):
            for j in range(hist.shape[1]):
                hist[i, j] /= norm


@njit(cache=True, nogil=True)
def _dmdt_range(t, m, offsets, dm_edges, dt_edges, r0, r1, out):
    for r in range(r0, r1):
        a = offsets[r]
        b = offsets[r + 1]
        dmdt_one(t[a:b], m[a:b], dm_edges, dt_edges, out[r])
