"""Synthetic feature tables and tiny trained models for the inference tests.

Sources have a latent type (constant star, pulsator, eclipsing binary); a handful of features
separate the types, the rest are noise, so tiny models learn them in a few rounds. Tables come in
the shapes inference reads: training sets (labels + features + dmdt + ztf_id) and generate-features
output (``_id, ra, dec, field, ccd, quad, filter``, features, ``dmdt``, cross-match ids).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SUFFIX = "ELS_ECE_EAOV"
TYPES = ("const", "puls", "ecl")
LABELS = {"const": {"non-variable": 1.0}, "puls": {"variable": 1.0, "periodic": 1.0},
          "ecl": {"variable": 1.0, "periodic": 1.0, "eclipsing": 1.0}}
CENTRES = {  # type -> feature base name -> (mean, sigma)
    "const": {"wstd": (0.02, 0.01), "norm_excess_var": (0.0, 0.02), "stetson_j": (0.2, 0.3), "f1_power": (0.1, 0.05)},
    "puls": {"wstd": (0.3, 0.08), "norm_excess_var": (0.5, 0.2), "stetson_j": (8.0, 2.0), "f1_power": (0.8, 0.1)},
    "ecl": {"wstd": (0.2, 0.08), "norm_excess_var": (0.3, 0.15), "stetson_j": (5.0, 2.0), "f1_power": (0.6, 0.1)},
}


def feature_columns(cfg, suffix: str | None = SUFFIX) -> list[str]:
    """Every included feature of both sets (ontological first), periodic ones suffixed."""
    from scope.schema import feature_names

    names = feature_names(cfg, "ontological", suffix)
    return names + [n for n in feature_names(cfg, "phenomenological", suffix) if n not in names]


def _base(name: str, suffix: str | None) -> str:
    return name[: -len(suffix) - 1] if suffix and name.endswith("_" + suffix) else name


def make_rows(cfg, n: int, seed: int = 0, suffix: str | None = SUFFIX) -> tuple[pd.DataFrame, np.ndarray]:
    """Feature columns and latent types of ``n`` synthetic sources."""
    rng = np.random.default_rng(seed)
    types = rng.choice(TYPES, size=n, p=(0.5, 0.25, 0.25))
    data = {}
    for name in feature_columns(cfg, suffix):
        col = rng.normal(0.0, 1.0, n)
        base = _base(name, suffix)
        for t in TYPES:
            if base in CENTRES[t]:
                mu, sigma = CENTRES[t][base]
                sel = types == t
                col[sel] = rng.normal(mu, sigma, sel.sum())
        data[name] = col
    df = pd.DataFrame(data)
    df["n_ztf_alerts"] = rng.poisson(1, n).astype(np.int64)
    df["mean_ztf_alert_braai"] = rng.uniform(0, 1, n)
    df["dmdt"] = [_dmdt(rng, t) for t in types]
    return df, types


def _dmdt(rng, t: str) -> np.ndarray:
    dm = np.arange(26) - 12.5
    width = 1.5 if t == "const" else 5.0
    grid = np.exp(-0.5 * (dm[:, None] / width) ** 2) * np.exp(-np.arange(26)[None, :] / 10.0)
    grid = grid + rng.uniform(0, 0.05, grid.shape)
    return grid / grid.max()


def training_set(cfg, n: int = 400, seed: int = 0, suffix: str | None = SUFFIX) -> pd.DataFrame:
    """A training set in the reference format."""
    df, types = make_rows(cfg, n, seed, suffix)
    for lab in ("variable", "non-variable", "periodic", "eclipsing"):
        df[lab] = [LABELS[t].get(lab, 0.0) for t in types]
    df["ztf_id"] = 10**13 + 301 * 10**9 + np.arange(n, dtype=np.int64)
    return df


def feature_table(cfg, n: int = 50, seed: int = 1, field: int = 301, ccd: int = 2, quad: int = 3,
                  suffix: str | None = SUFFIX, first_id: int = 0) -> pd.DataFrame:
    """A generate-features style table (with the latent type in ``truth``, which inference ignores)."""
    df, types = make_rows(cfg, n, seed, suffix)
    rng = np.random.default_rng(seed + 100)
    rc = (ccd - 1) * 4 + (quad - 1)
    head = pd.DataFrame({
        "_id": pd.array(10**13 + field * 10**9 + rc * 10**7 + 2 * 10**6 + first_id + np.arange(n), dtype="Int64"),
        "ra": rng.uniform(10, 20, n), "dec": rng.uniform(-30, -20, n),
        "field": field, "ccd": ccd, "quad": quad, "filter": 2,
    })
    out = pd.concat([head, df], axis=1)
    out[f"period_{suffix}" if suffix else "period"] = rng.uniform(0.1, 10, n)
    gaia = rng.integers(1, 10**15, n)
    gaia[::5] = 0
    out["Gaia_EDR3___id"] = pd.array(np.where(gaia == 0, None, gaia), dtype="Int64")
    out["AllWISE___id"] = pd.array(rng.integers(1, 10**12, n), dtype="Int64")
    out["PS1_DR1___id"] = pd.array(rng.integers(1, 10**17, n), dtype="Int64")
    out["truth"] = types
    out.attrs = {"scope_code_version": "test", "feature_generation_start_dateTime_utc": "2024-01-01 00:00:00"}
    return out


def train_models(cfg, folder: Path, dataset: Path, *, xgb_tags=("vnv", "pnp"), dnn_tags=("vnv",),
                 group: str = "experiment", suffix=SUFFIX) -> dict:
    """Train tiny models with the training library; returns ``{(alg, tag): model path}``."""
    from scope.training.train import train

    out = {}
    for tag in xgb_tags:
        r = train(cfg, tag, algorithm="xgb", path_dataset=dataset, group=group, models_dir=folder,
                  period_suffix=suffix, save=True, skip_cv=True)
        out[("xgb", tag)] = r.model_path
    for tag in dnn_tags:
        r = train(cfg, tag, algorithm="dnn", path_dataset=dataset, group=group, models_dir=folder,
                  period_suffix=suffix, save=True, epochs=1, weights_only=True)
        out[("dnn", tag)] = r.model_path
    return out
