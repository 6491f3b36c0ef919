"""Feature scaling: statistics, the affine transform they define, and its application.

Every scaled feature is transformed as ``x' = (x - shift) / scale``:

- ``min_max``: shift = min, scale = max - min;
- ``median_std``: shift = median, scale = std (population);
- ``none``: shift 0, scale 1.

A feature whose scale would be 0 (constant in the training split) or undefined (no finite
values) keeps shift 0 and scale 1, i.e. it passes through unchanged, as in the reference.

Statistics are computed on the **training split only** (the reference used all rows, leaking the
test set) and stored in the model card together with the shift/scale pairs, so inference applies
exactly the transform the model was trained with.
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from scope.errors import ConfigError, DataError

log = logging.getLogger(__name__)

STAT_KEYS = ("min", "max", "median", "mean", "std")


def compute_stats(df: pd.DataFrame, features: Sequence[str]) -> dict:
    """Per-feature ``{min, max, median, mean, std}`` over finite values (std with ddof=0)."""
    stats = {}
    for name in features:
        values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            stats[name] = {k: None for k in STAT_KEYS}
            continue
        stats[name] = {
            "min": float(values.min()), "max": float(values.max()),
            "median": float(np.median(values)), "mean": float(values.mean()),
            "std": float(values.std()),
        }
    return stats


def stats_from_config(cfg: Mapping, features: Sequence[str], period_suffix: str | None) -> dict:
    """Look up each feature's statistics in the config's ``feature_stats`` section.

    The section is keyed by un-suffixed names; a periodic feature ``f1_power_<suffix>`` finds
    the entry ``f1_power`` (the reference looked for the suffixed name and silently left
    periodic features unscaled).
    """
    table = cfg.get("feature_stats") or {}
    out = {}
    for name in features:
        entry = table.get(name)
        if entry is None and period_suffix and name.endswith(f"_{period_suffix}"):
            entry = table.get(name[: -len(period_suffix) - 1])
        if not isinstance(entry, Mapping):
            raise ConfigError(f"feature_stats has no entry for feature '{name}' (needed by --feature-stats config)")
        out[name] = {k: (None if entry.get(k) is None else float(entry[k])) for k in STAT_KEYS}
    return out


def scaling_params(stats: Mapping, method: str) -> dict:
    """Turn statistics into ``{feature: {"shift": a, "scale": b}}`` for ``method``."""
    params = {}
    for name, s in stats.items():
        shift, scale = 0.0, 1.0
        if method == "min_max" and s.get("min") is not None and s.get("max") is not None:
            if s["max"] - s["min"] > 0:
                shift, scale = s["min"], s["max"] - s["min"]
        elif method == "median_std" and s.get("median") is not None and s.get("std") is not None:
            if s["std"] > 0:
                shift, scale = s["median"], s["std"]
        elif method not in ("min_max", "median_std", "none"):
            raise ConfigError(f"unknown scaling method '{method}': use min_max, median_std or none")
        params[name] = {"shift": float(shift), "scale": float(scale)}
    return params


def apply_scaling(df: pd.DataFrame, features: Sequence[str], params: Mapping) -> pd.DataFrame:
    """Return a float64 frame of ``features`` scaled with ``params`` (from a model card).

    Raises
    ------
    DataError
        When a feature has no scaling entry (the card and the feature list disagree).
    """
    out = {}
    for name in features:
        if name not in params:
            raise DataError(f"no scaling parameters for feature '{name}'")
        p = params[name]
        values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        out[name] = (values - p["shift"]) / p["scale"]
    return pd.DataFrame(out, index=df.index)
