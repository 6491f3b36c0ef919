"""Small helpers for ragged batches: time ordering (NumPy) and an in-place sort for numba code.

Sorting is done with NumPy outside the kernels and with a short heapsort inside them: numba's own
``np.sort``/``np.argsort`` take several seconds each to compile, which every fresh checkout and CI
run would pay again.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def object_index(offsets: np.ndarray) -> np.ndarray:
    """Light-curve number of every point of a ragged batch (int64)."""
    lengths = np.diff(offsets)
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)


def time_order(t: np.ndarray, offsets: np.ndarray) -> np.ndarray | None:
    """Permutation sorting every light curve by time (stable), or None if already sorted."""
    if len(t) < 2:
        return None
    step = np.diff(t)
    boundary = np.zeros(len(t) - 1, dtype=bool)
    inner = offsets[1:-1]
    inner = inner[(inner > 0) & (inner < len(t))]
    boundary[inner - 1] = True
    if np.all((step >= 0) | boundary | np.isnan(step)):
        return None
    return np.lexsort((t, object_index(offsets)))


def sorted_by_time(t, *arrays, offsets):
    """``t`` and the other per-point arrays ordered by time within each light curve."""
    order = time_order(t, offsets)
    if order is None:
        return (t, *arrays)
    return (t[order], *(a[order] for a in arrays))


@njit(cache=True, nogil=True)
def heapsort(a):
    """Sort a 1-d float array in place (ascending; NaNs are not expected)."""
    n = a.shape[0]
    for start in range(n // 2 - 1, -1, -1):
        _sift(a, start, n)
    for end in range(n - 1, 0, -1):
        tmp = a[0]
        a[0] = a[end]
        a[end] = tmp
        _sift(a, 0, end)


@njit(cache=True, nogil=True)
def _sift(a, root, end):
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and a[child] < a[child + 1]:
            child += 1
        if a[root] < a[child]:
            tmp = a[root]
            a[root] = a[child]
            a[child] = tmp
            root = child
        else:
            return
