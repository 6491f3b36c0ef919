"""What photometry can physically look like, and refusing files that mostly does not.

A magnitude of 1e-22 or an epoch in 1970 is not a measurement: it is what a damaged file decodes
to (a parquet page corrupted under an intact footer reads "successfully"). Single implausible
epochs are dropped and counted by the cleaning step (:func:`scope.features.clean.clean_lightcurves`
with ``mag_range`` / ``time_window``); a light-curve file in which most epochs are implausible
is refused as corrupt, naming it, before any feature is computed from it.

The bounds come from the config (``feature_generation.plausible_mag_range``,
``feature_generation.survey_window_hjd``, ``feature_generation.corrupt_file_fraction``); nothing
here has defaults of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from scope.errors import ConfigError, DataError
from scope.features.clean import within_bounds


@dataclass(frozen=True)
class Plausibility:
    """Bounds of plausible photometry.

    Attributes
    ----------
    mag_range : (float, float) or None
        Plausible magnitudes, inclusive.
    time_window : (float or None, float or None) or None
        Survey window in HJD, inclusive (None: open end).
    corrupt_fraction : float or None
        A file whose share of implausible epochs exceeds this is refused (None: never).
    """

    mag_range: tuple | None = None
    time_window: tuple | None = None
    corrupt_fraction: float | None = None

    @classmethod
    def from_config(cls, cfg: Mapping) -> "Plausibility":
        """The bounds under ``feature_generation`` (validated)."""
        fg = (cfg or {}).get("feature_generation") or {}
        mag = _pair(fg.get("plausible_mag_range"), "feature_generation.plausible_mag_range")
        window = _pair(fg.get("survey_window_hjd"), "feature_generation.survey_window_hjd")
        frac = fg.get("corrupt_file_fraction")
        if frac is not None and not (isinstance(frac, (int, float)) and 0 < float(frac) <= 1):
            raise ConfigError(f"feature_generation.corrupt_file_fraction must be in (0, 1], got {frac!r}")
        return cls(mag_range=mag, time_window=window, corrupt_fraction=None if frac is None else float(frac))

    def implausible(self, t: np.ndarray, m: np.ndarray) -> np.ndarray:
        """True for epochs with a non-finite or out-of-range magnitude or time."""
        t = np.asarray(t, dtype=np.float64)
        m = np.asarray(m, dtype=np.float64)
        ok = within_bounds(m, self.mag_range) & within_bounds(t, self.time_window)
        return ~(ok & np.isfinite(t) & np.isfinite(m))

    def check_file(self, path, t: np.ndarray, m: np.ndarray) -> None:
        """Raise :class:`DataError` naming ``path`` when most of its epochs are implausible."""
        if self.corrupt_fraction is None or not len(t):
            return
        bad = self.implausible(t, m)
        share = float(bad.mean())
        if share > self.corrupt_fraction:
            example = _example(np.asarray(t, float)[bad], np.asarray(m, float)[bad])
            raise DataError(
                f"{path} looks corrupt: {share:.0%} of its {len(t)} epochs are implausible "
                f"(magnitudes outside {_fmt(self.mag_range, 'g')} or times outside {_fmt(self.time_window, '.1f')} HJD, "
                f"e.g. {example}); restore or re-download the file")


def _pair(value, name: str):
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(f"{name} must be a pair [low, high], got {value!r}")
    lo, hi = value
    for v in (lo, hi):
        if v is not None and not isinstance(v, (int, float)):
            raise ConfigError(f"{name} must hold numbers (or null for an open end), got {value!r}")
    if lo is not None and hi is not None and not lo < hi:
        raise ConfigError(f"{name} must have low < high, got {value!r}")
    return (None if lo is None else float(lo), None if hi is None else float(hi))


def _fmt(bounds, spec: str) -> str:
    if bounds is None:
        return "(any)"
    lo, hi = bounds
    return f"[{'-inf' if lo is None else format(lo, spec)}, {'inf' if hi is None else format(hi, spec)}]"


def _example(t: np.ndarray, m: np.ndarray) -> str:
    return f"mag {m[0]:.3g} at HJD {t[0]:.2f}" if len(m) else "n/a"
