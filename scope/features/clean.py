"""Light-curve cleaning before feature generation (spec §4.4, with the reference's gaps closed).

Per light curve, in this order:

1. keep points with ``catflags == 0`` (when flags are given);
2. keep points with finite time, magnitude and error and a positive error;
3. keep points whose magnitude lies in the plausible range ``mag_range`` (when given): values a
   survey cannot produce (0, 1e-22, 99, -5 ...) come from damaged files, not from the sky;
4. keep points inside the survey window ``time_window`` (when given);
5. drop points after ``max_timestamp_hjd`` (``t <= max`` is kept; the reference only filtered
   whole documents, so later epochs leaked in);
6. sort by time (stable);
7. duplicate times: keep ONE point per time, the one with the smallest error (the first in input
   order among equal errors);
8. greedy high-cadence thinning: keep the first point, then every point at least
   ``min_cadence_minutes`` after the last KEPT point (0 or None disables);
9. drop the light curve when fewer than ``min_n_points`` remain.

Times are never narrowed and never shifted here: cleaned arrays are float64 absolute HJD.

Every object keeps its slot: a dropped light curve has zero points in the output and a reason.
Every removed point is counted once, under the first step that removed it
(:attr:`CleanedLightCurves.epochs_removed`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from scope.errors import DataError

from ._ragged import object_index
from .periodsearch.prepare import check_ragged

#: Reason codes -> messages (``{min}`` and ``{n}`` are filled in).
_REASONS = {
    1: "no points",
    2: "all points flagged (catflags != 0)",
    3: "no valid points (non-finite values or errors <= 0)",
    4: "all points after max_timestamp_hjd",
    5: "fewer than {min} points after cleaning ({n})",
    6: "no point with a plausible magnitude",
    7: "no point inside the survey window",
}

#: Epoch-removal steps, in the order they are applied (keys of ``epochs_removed``).
EPOCH_STEPS = ("flagged (catflags != 0)", "non-finite or error <= 0", "implausible magnitude",
               "outside the survey window", "after max_timestamp_hjd", "duplicate time",
               "cadence thinning", "in light curves with too few points")


@dataclass
class CleanedLightCurves:
    """Output of :func:`clean_lightcurves`.

    Attributes
    ----------
    t, m, e : ndarray of float64
        Concatenated cleaned points (dropped light curves contribute none).
    offsets : ndarray of int64, shape (n + 1,)
        One slot per INPUT light curve.
    reasons : list of (str or None)
        Why each light curve was dropped; None for kept ones.
    index : ndarray of int64
        Input position of each output point (``m_clean = m_in[index]``), to carry other
        per-point columns along.
    codes : ndarray of int64, shape (n,)
        Reason codes: 0 kept, 1 no points, 2 all flagged, 3 no valid points, 4 all after
        ``max_timestamp_hjd``, 5 too few points, 6 no plausible magnitude, 7 none inside the
        survey window.
    epochs_removed : dict of str to int
        Points removed by each step (:data:`EPOCH_STEPS`, in order); every input point is
        either kept or counted under exactly one step.
    """

    t: np.ndarray
    m: np.ndarray
    e: np.ndarray
    offsets: np.ndarray
    reasons: list
    index: np.ndarray
    codes: np.ndarray
    epochs_removed: dict = None

    @property
    def kept(self) -> np.ndarray:
        """Boolean mask of light curves that survived."""
        return np.array([r is None for r in self.reasons], dtype=bool)

    def lengths(self) -> np.ndarray:
        """Points per light curve (0 for dropped ones)."""
        return np.diff(self.offsets)

    def select(self, which) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Ragged ``(t, m, e, offsets)`` of the light curves ``which`` (indices or mask)."""
        return subset_ragged(self.t, self.m, self.e, self.offsets, which)

    def drop_summary(self) -> dict[str, int]:
        """Count of dropped light curves per reason (the numbers in a reason are generalised)."""
        summary: dict[str, int] = {}
        for code, text in zip(self.codes, self.reasons):
            if text is None:
                continue
            key = text.rsplit(" (", 1)[0] if int(code) == 5 else text
            summary[key] = summary.get(key, 0) + 1
        return summary


def subset_ragged(t, m, e, offsets, which):
    """Select light curves from ragged arrays.

    Parameters
    ----------
    t, m, e : ndarray
        Concatenated per-point arrays.
    offsets : ndarray of int64, shape (n + 1,)
    which : array_like of int or bool
        Indices (in the order wanted) or a boolean mask of length n.

    Returns
    -------
    t, m, e, offsets : ndarrays of the selection
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    which = np.asarray(which)
    if which.dtype == bool:
        if len(which) != len(offsets) - 1:
            raise DataError(f"selection mask has {len(which)} entries for {len(offsets) - 1} light curves")
        which = np.flatnonzero(which)
    which = which.astype(np.int64)
    lengths = np.diff(offsets)[which]
    new_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    if len(which):
        idx = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in which]).astype(np.int64)
    else:
        idx = np.zeros(0, np.int64)
    return np.asarray(t)[idx], np.asarray(m)[idx], np.asarray(e)[idx], new_offsets


def clean_lightcurves(
    t,
    m,
    e,
    offsets,
    *,
    flags=None,
    max_timestamp_hjd: float | None = None,
    min_cadence_minutes: float | None = 30.0,
    min_n_points: int = 50,
    mag_range: tuple[float, float] | None = None,
    time_window: tuple[float | None, float | None] | None = None,
) -> CleanedLightCurves:
    """Clean a ragged batch of light curves (see the module docstring for the steps).

    Parameters
    ----------
    t, m, e : array_like of float64
        Concatenated absolute times (HJD), magnitudes and errors.
    offsets : array_like of int64, shape (n + 1,)
    flags : array_like of int, optional
        ZTF ``catflags`` per point; only 0 is kept. None keeps every point.
    max_timestamp_hjd : float, optional
        Keep points with ``t <= max_timestamp_hjd``.
    min_cadence_minutes : float, optional
        Greedy thinning interval (minutes); 0 or None disables thinning.
    min_n_points : int
        Minimum points a light curve needs after cleaning.
    mag_range : (float, float), optional
        Plausible magnitudes ``(lo, hi)``, inclusive; points outside are dropped. None keeps all.
    time_window : (float or None, float or None), optional
        Survey window ``(first, last)`` in HJD, inclusive (None: open end); points outside are
        dropped. None keeps all.

    Returns
    -------
    CleanedLightCurves
    """
    t, m, e, offsets = check_ragged(t, m, e, offsets)
    if flags is None:
        fl = np.zeros(len(t), dtype=np.int64)
    else:
        fl = np.ascontiguousarray(flags, dtype=np.int64)
        if fl.shape != t.shape:
            raise DataError(f"flags has {fl.shape} entries for {t.shape} points")
    tmax = np.inf if max_timestamp_hjd is None else float(max_timestamp_hjd)
    cadence = 0.0 if not min_cadence_minutes else float(min_cadence_minutes) / 1440.0
    if cadence < 0:
        raise DataError(f"min_cadence_minutes must not be negative, got {min_cadence_minutes}")
    n = len(offsets) - 1
    lc = object_index(offsets)
    unflagged = fl == 0
    valid = unflagged & np.isfinite(t) & np.isfinite(m) & np.isfinite(e) & (e > 0)
    plausible = valid & within_bounds(m, mag_range, "mag_range")
    in_window = plausible & within_bounds(t, time_window, "time_window")
    in_time = in_window & (t <= tmax)
    # candidates ordered by light curve, time, error, input position (lexsort: last key first)
    cand = np.flatnonzero(in_time)
    cand = cand[np.lexsort((cand, e[cand], t[cand], lc[cand]))]
    cand_offsets = np.searchsorted(lc[cand], np.arange(n + 1)).astype(np.int64)
    keep_idx = np.empty(len(cand), dtype=np.int64)
    new_offsets = np.zeros(n + 1, dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    skipped = np.zeros(2, dtype=np.int64)
    _thin(t, cand, cand_offsets, cadence, int(min_n_points), keep_idx, new_offsets, counts, skipped)
    codes = np.zeros(n, dtype=np.int64)
    lengths = np.diff(offsets)
    n_unflagged = np.bincount(lc[unflagged], minlength=n)
    n_valid = np.bincount(lc[valid], minlength=n)
    n_plausible = np.bincount(lc[plausible], minlength=n)
    n_window = np.bincount(lc[in_window], minlength=n)
    n_cand = np.diff(cand_offsets)
    too_few = counts < int(min_n_points)
    codes[too_few] = 5
    codes[n_cand == 0] = 4
    codes[n_window == 0] = 7
    codes[n_plausible == 0] = 6
    codes[n_valid == 0] = 3
    codes[n_unflagged == 0] = 2
    codes[lengths == 0] = 1
    idx = keep_idx[: new_offsets[-1]]
    reasons = [None if c == 0 else _REASONS[int(c)].format(min=int(min_n_points), n=int(k))
               for c, k in zip(codes, counts)]
    removed = [len(t) - int(unflagged.sum()), int(unflagged.sum() - valid.sum()),
               int(valid.sum() - plausible.sum()), int(plausible.sum() - in_window.sum()),
               int(in_window.sum() - in_time.sum()), int(skipped[0]), int(skipped[1]),
               int(counts[too_few].sum())]
    return CleanedLightCurves(t=t[idx], m=m[idx], e=e[idx], offsets=new_offsets, reasons=reasons,
                              index=idx, codes=codes, epochs_removed=dict(zip(EPOCH_STEPS, removed)))


def within_bounds(values: np.ndarray, bounds, name: str = "bounds") -> np.ndarray:
    """``lo <= values <= hi`` for ``bounds = (lo, hi)`` (either None: open end; NaN is outside).

    ``bounds`` None means no limit (all True); a malformed pair raises :class:`DataError`.
    """
    if bounds is None:
        return np.ones(len(values), dtype=bool)
    if len(bounds) != 2:
        raise DataError(f"{name} must be a pair (low, high), got {bounds!r}")
    lo = -np.inf if bounds[0] is None else float(bounds[0])
    hi = np.inf if bounds[1] is None else float(bounds[1])
    if not lo < hi:
        raise DataError(f"{name} must have low < high, got {bounds!r}")
    return (values >= lo) & (values <= hi)


@njit(cache=True, nogil=True)
def _thin(t, cand, cand_offsets, cadence, min_n, keep_idx, new_offsets, counts, skipped):
    """Duplicate times and greedy cadence thinning over time-ordered candidates.

    Within a group of equal times the first candidate is the one with the smallest error (the
    candidates arrive ordered by time, then error, then input position). ``skipped`` counts the
    points removed as duplicates (``[0]``) and by thinning (``[1]``).
    """
    pos = 0
    for r in range(cand_offsets.shape[0] - 1):
        a = cand_offsets[r]
        b = cand_offsets[r + 1]
        new_offsets[r] = pos
        start = pos
        last_t = -np.inf
        for j in range(a, b):
            i = cand[j]
            if j > a and t[i] == t[cand[j - 1]]:
                skipped[0] += 1
                continue  # a duplicate time: the better point came first
            if pos == start or t[i] - last_t >= cadence:
                keep_idx[pos] = i
                pos += 1
                last_t = t[i]
            else:
                skipped[1] += 1
        counts[r] = pos - start
        if pos - start < min_n:
            pos = start
        new_offsets[r + 1] = pos
