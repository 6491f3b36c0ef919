"""The trial-frequency grid of the period search (reference spec §4.7).

One grid serves a whole run. It is uniform in frequency, ``f_k = fmin + k * df`` for
``k = 0 .. nf - 1`` (cycles/day, float64), built from the longest baseline ``B`` of the light
curves searched: ``fmin = 2 / B``, ``df = 1 / (samples_per_peak * B)`` and
``nf = ceil((fmax - fmin) / df)``. Removing the terrestrial alias bands does not renumber the
grid: what is left is a list of contiguous index segments, so kernels iterate over plain integer
ranges with an incremental phase, and a frequency is always recomputed from its grid index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from scope.errors import ConfigError, DataError

#: Frequency bands (cycles/day, closed intervals) dropped by ``remove_terrestrial``.
TERRESTRIAL_BANDS: tuple[tuple[float, float, str], ...] = (
    (0.0025, 0.003, "1 yr"),
    (0.00125, 0.0015, "2 yr"),
    (0.000833, 0.001, "3 yr"),
    (0.000625, 0.00075, "4 yr"),
    (0.0005, 0.0006, "5 yr"),
    (0.005, 0.006, "0.5 yr"),
    (0.03, 0.04, "~30 d (lunar)"),
    (3.95, 4.05, "0.25 d"),
    (2.95, 3.05, "0.33 d"),
    (1.95, 2.05, "0.5 d"),
    (0.95, 1.05, "1 d"),
    (0.48, 0.52, "2 d"),
    (0.32, 0.34, "3 d"),
)


@dataclass(frozen=True)
class FrequencyGrid:
    """A uniform frequency grid, possibly with bands removed.

    Attributes
    ----------
    fmin : float
        First trial frequency (cycles/day).
    df : float
        Frequency step (cycles/day).
    nf : int
        Number of grid points before band removal.
    segments : ndarray of int64, shape (n_segments, 2)
        Half-open ``[start, stop)`` index ranges that are searched.
    params : dict
        How the grid was built (``baseline``, ``max_freq``, ``samples_per_peak``, ...).
    """

    fmin: float
    df: float
    nf: int
    segments: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def n_kept(self) -> int:
        """Number of trial frequencies actually searched."""
        return int(np.sum(self.segments[:, 1] - self.segments[:, 0])) if len(self.segments) else 0

    @property
    def fmax(self) -> float:
        """Largest grid frequency (before band removal)."""
        return self.fmin + (self.nf - 1) * self.df

    @property
    def samples_per_peak(self) -> float:
        """Grid points per ``1 / baseline`` (1 when unknown)."""
        return float(self.params.get("samples_per_peak", 1.0))

    @property
    def peak_width_bins(self) -> int:
        """Grid steps across one periodogram peak (``samples_per_peak``), at least 1.

        Used as the minimum separation of distinct peaks.
        """
        return max(1, int(round(self.samples_per_peak)))

    def indices(self) -> np.ndarray:
        """Grid indices of the searched frequencies, ascending (int64)."""
        if not len(self.segments):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in self.segments])

    kept_indices = indices

    def frequencies(self) -> np.ndarray:
        """The searched frequencies (cycles/day), ascending, float64."""
        return self.frequency(self.indices())

    def frequency(self, index) -> np.ndarray:
        """Frequency of grid index ``index`` (array-like; negative indices give NaN)."""
        index = np.asarray(index)
        freq = self.fmin + index.astype(np.float64) * self.df
        return np.where(index >= 0, freq, np.nan)

    def period(self, index) -> np.ndarray:
        """Period (days) of grid index ``index`` (negative indices give NaN)."""
        return 1.0 / self.frequency(index)

    def as_dict(self) -> dict:
        """JSON-friendly description for metadata."""
        return {"fmin": float(self.fmin), "df": float(self.df), "nf": int(self.nf), "n_kept": self.n_kept,
                "segments": self.segments.tolist(), **self.params}

    to_dict = as_dict


def baseline_of(t: np.ndarray, offsets: np.ndarray) -> float:
    """Longest time span ``max(t) - min(t)`` over ragged light curves (0.0 when none).

    Parameters
    ----------
    t : ndarray of float64
        Concatenated times.
    offsets : ndarray of int64, shape (n + 1,)
        Light curve ``i`` owns ``t[offsets[i]:offsets[i + 1]]``.

    Returns
    -------
    float
        Days.
    """
    t = np.asarray(t, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64)
    nonempty = np.diff(offsets) > 0
    if not nonempty.any():
        return 0.0
    # reduceat over the starts of non-empty light curves: each run ends where the next starts,
    # which is right because empty light curves own no points in between
    starts = offsets[:-1][nonempty]
    return float(np.max(np.maximum.reduceat(t, starts) - np.minimum.reduceat(t, starts)))


def make_grid(baseline_days: float, *, max_freq: float = 48.0, samples_per_peak: float = 10.0,
              scale_min_period: bool = False, min_cadence_minutes: float = 30.0,
              remove_terrestrial: bool = False, bands=TERRESTRIAL_BANDS) -> FrequencyGrid:
    """Build the trial-frequency grid of the reference (§4.7).

    Parameters
    ----------
    baseline_days : float
        Longest light-curve baseline ``B`` of the run (days); see :func:`baseline_of`.
    max_freq : float
        Highest frequency (cycles/day) unless ``scale_min_period``.
    samples_per_peak : float
        Oversampling: ``df = 1 / (samples_per_peak * B)``.
    scale_min_period : bool
        If True the top frequency is the Nyquist frequency of the minimum cadence,
        ``720 / min_cadence_minutes`` (``--doScaleMinPeriod``).
    min_cadence_minutes : float
        Used only with ``scale_min_period``.
    remove_terrestrial : bool
        Drop the frequencies inside ``bands`` (closed intervals; ``--doRemoveTerrestrial``).
    bands : sequence of (lo, hi[, label])
        Bands to drop; default :data:`TERRESTRIAL_BANDS`.

    Returns
    -------
    FrequencyGrid

    Raises
    ------
    DataError
        If the baseline is not positive or the grid would be empty.
    ConfigError
        If ``samples_per_peak``, ``max_freq`` or ``min_cadence_minutes`` is not positive.
    """
    baseline_days = float(baseline_days)
    if not (np.isfinite(baseline_days) and baseline_days > 0):
        raise DataError(f"cannot build a frequency grid from a baseline of {baseline_days} days")
    if not samples_per_peak or samples_per_peak <= 0:
        raise ConfigError(f"samples_per_peak must be positive, got {samples_per_peak}")
    fmin = 2.0 / baseline_days
    if scale_min_period:
        if not min_cadence_minutes or min_cadence_minutes <= 0:
            raise ConfigError("min_cadence_minutes must be positive with scale_min_period")
        fmax = 720.0 / min_cadence_minutes
    else:
        if not max_freq or max_freq <= 0:
            raise ConfigError(f"max_freq must be positive, got {max_freq}")
        fmax = float(max_freq)
    df = 1.0 / (samples_per_peak * baseline_days)
    nf = int(math.ceil((fmax - fmin) / df))
    if nf <= 0:
        raise DataError(f"empty frequency grid: fmin = 2/baseline = {fmin:.6g} c/d is not below fmax = {fmax:.6g} c/d")
    keep = np.ones(nf, dtype=bool)
    if remove_terrestrial:
        freq = fmin + np.arange(nf, dtype=np.float64) * df
        for band in bands:
            keep &= ~((freq >= band[0]) & (freq <= band[1]))
    segments = _segments(keep)
    if not len(segments):
        raise DataError("every trial frequency was removed from the grid")
    params = {"baseline": baseline_days, "max_freq": float(fmax), "samples_per_peak": float(samples_per_peak),
              "scale_min_period": bool(scale_min_period), "min_cadence_minutes": float(min_cadence_minutes),
              "remove_terrestrial": bool(remove_terrestrial)}
    return FrequencyGrid(fmin=fmin, df=df, nf=nf, segments=segments, params=params)


def _segments(keep: np.ndarray) -> np.ndarray:
    """Half-open index ranges of the True runs of ``keep``."""
    padded = np.concatenate([[False], keep, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return edges.reshape(-1, 2).astype(np.int64)
