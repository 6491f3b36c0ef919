"""Small helpers for ragged batches: time ordering (NumPy) and an in-place sort for numba code.

Sorting is done with NumPy outside the kernels and with short sorts of our own inside them
(:func:`fast_sort`, :func:`heapsort`): numba's own ``np.sort``/``np.argsort`` take several seconds
each to compile, which every fresh checkout and CI run would pay again.
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


@njit(cache=True, nogil=True)
def _insertion(a, lo, hi):
    for i in range(lo + 1, hi + 1):
        v = a[i]
        j = i - 1
        while j >= lo and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@njit(cache=True, nogil=True)
def fast_sort(a):
    """Sort a 1-d float array in place (ascending; NaNs are not expected).

    Quicksort with a median-of-three pivot and insertion sort below 16 elements, about twice as
    fast as :func:`heapsort` on light-curve sized arrays; a partition that recurses too deep
    (adversarial input) is finished by heapsort, so the worst case stays ``O(n log n)``.
    """
    n = a.shape[0]
    if n <= 16:
        _insertion(a, 0, n - 1)
        return
    stack = np.empty(128, np.int64)
    stack[0] = 0
    stack[1] = n - 1
    stack[2] = 0
    top = 3
    limit = 1
    while (1 << limit) < n:
        limit += 1
    limit *= 2
    while top > 0:
        top -= 3
        lo = stack[top]
        hi = stack[top + 1]
        depth = stack[top + 2]
        while hi - lo >= 16:
            if depth > limit or top > 120:
                heapsort(a[lo:hi + 1])
                lo = hi
                break
            mid = (lo + hi) >> 1
            # median of three into a[mid], with a[lo] <= a[mid] <= a[hi]
            if a[mid] < a[lo]:
                a[mid], a[lo] = a[lo], a[mid]
            if a[hi] < a[lo]:
                a[hi], a[lo] = a[lo], a[hi]
            if a[hi] < a[mid]:
                a[hi], a[mid] = a[mid], a[hi]
            pivot = a[mid]
            i = lo
            j = hi
            while i <= j:
                while a[i] < pivot:
                    i += 1
                while a[j] > pivot:
                    j -= 1
                if i <= j:
                    a[i], a[j] = a[j], a[i]
                    i += 1
                    j -= 1
            depth += 1
            # push the larger part, keep working on the smaller one
            if j - lo > hi - i:
                stack[top] = lo
                stack[top + 1] = j
                stack[top + 2] = depth
                top += 3
                lo = i
            else:
                stack[top] = i
                stack[top + 1] = hi
                stack[top + 2] = depth
                top += 3
                hi = j
        if hi > lo:
            _insertion(a, lo, hi)
