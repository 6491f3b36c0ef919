"""Per-light-curve preparation shared by every period-search backend (reference spec §4.8).

For each light curve of a ragged batch:

* times become ``t - t_min`` in float64 (the epoch ``t_min`` is kept), so nothing downstream ever
  sees absolute HJD and nothing is narrowed;
* magnitudes are rescaled to ``y = (m - min) / (max - min)`` in ``[0, 1]``;
* errors are rescaled by the same factor and turned into weights ``w = 1 / sigma_y**2``. The
  reference rescales magnitudes but passes the *unscaled* errors to FPW, MHF and BLS, which makes
  MHF's model choice depend on the amplitude; scaling both is the consistent choice.

Points are sorted by time when a light curve is not already sorted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from scope.errors import DataError

from .._ragged import sorted_by_time

#: Errors below this are clamped before dividing (as the reference's current backend does).
MIN_ERROR = 1e-30


@dataclass
class PreparedBatch:
    """Ragged arrays ready for the period-search kernels.

    Attributes
    ----------
    t : ndarray of float64
        Time since each light curve's first point (days).
    y : ndarray of float64
        Magnitudes rescaled to [0, 1] per light curve.
    w : ndarray of float64
        Weights ``1 / sigma_y**2`` for the rescaled magnitudes.
    offsets : ndarray of int64, shape (n + 1,)
    epoch : ndarray of float64, shape (n,)
        The subtracted ``t_min`` (NaN for empty light curves).
    scale : ndarray of float64, shape (n,)
        ``max(m) - min(m)`` (0 for constant or empty light curves).
    """

    t: np.ndarray
    y: np.ndarray
    w: np.ndarray
    offsets: np.ndarray
    epoch: np.ndarray
    scale: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> np.ndarray:
        """Number of points per light curve."""
        return np.diff(self.offsets)


def check_ragged(t, m, e, offsets):
    """Validate and convert ragged inputs to contiguous float64/int64 arrays.

    Raises
    ------
    DataError
        If the arrays do not describe a ragged batch.
    """
    t = np.ascontiguousarray(t, dtype=np.float64)
    m = np.ascontiguousarray(m, dtype=np.float64)
    e = np.ascontiguousarray(e, dtype=np.float64)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    if t.ndim != 1 or m.shape != t.shape or e.shape != t.shape:
        raise DataError(f"t, m and e must be 1-d arrays of one length; got {t.shape}, {m.shape}, {e.shape}")
    if offsets.ndim != 1 or len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != len(t):
        raise DataError("offsets must start at 0 and end at the number of points")
    if len(offsets) > 1 and np.any(np.diff(offsets) < 0):
        raise DataError("offsets must be non-decreasing")
    return t, m, e, offsets


def prepare_batch(t, m, e, offsets) -> PreparedBatch:
    """Make times relative, rescale magnitudes and weights (see module docstring).

    Parameters
    ----------
    t, m, e : array_like of float64
        Concatenated absolute times (days), magnitudes and errors.
    offsets : array_like of int64, shape (n + 1,)

    Returns
    -------
    PreparedBatch
    """
    t, m, e, offsets = check_ragged(t, m, e, offsets)
    t, m, e = sorted_by_time(t, m, e, offsets=offsets)
    tr = np.empty_like(t)
    y = np.empty_like(m)
    w = np.empty_like(e)
    n = len(offsets) - 1
    epoch = np.empty(n)
    scale = np.empty(n)
    _prepare(t, m, e, offsets, tr, y, w, epoch, scale)
    return PreparedBatch(tr, y, w, offsets, epoch, scale)


@njit(cache=True, nogil=True)
def _prepare(t, m, e, offsets, tr, y, w, epoch, scale):
    for r in range(offsets.shape[0] - 1):
        a = offsets[r]
        b = offsets[r + 1]
        if b <= a:
            epoch[r] = np.nan
            scale[r] = 0.0
            continue
        t0 = t[a]
        lo = np.inf
        hi = -np.inf
        for i in range(a, b):
            v = m[i]
            if v < lo:
                lo = v
            if v > hi:
                hi = v
        span = hi - lo
        epoch[r] = t0
        scale[r] = span
        inv = 1.0 / span if span > 0 else 0.0
        for j in range(a, b):
            tr[j] = t[j] - t0
            y[j] = (m[j] - lo) * inv
            sig = e[j]
            if not sig > MIN_ERROR:
                sig = MIN_ERROR
            sy = sig * inv if span > 0 else sig
            w[j] = 1.0 / (sy * sy)
