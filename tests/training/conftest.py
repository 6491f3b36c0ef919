"""Fixtures of the training tests: a small synthetic training set with realistic separations.

Each synthetic source has a latent type (non-variable, RR Lyrae, eclipsing binary, long-period
variable, irregular variable). Features are noise around type-dependent centres on the features
that separate those types in real ZTF data (scatter, excess variance, Stetson J, periodogram power,
period, amplitude, skewness, Gaia colour), so classifiers must learn to tell them apart but can
do so well. ``dmdt`` histograms are broader in dm for variables.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SUFFIX = "ELS_ECE_EAOV"
TYPES = ("nonvar", "rrlyr", "ecl", "lpv", "irr")
# label columns set to 1 for each latent type (the golden-set hierarchy, simplified)
TYPE_LABELS = {
    "nonvar": ["non-variable"],
    "rrlyr": ["variable", "periodic", "pulsator", "RR Lyrae", "sawtooth"],
    "ecl": ["variable", "periodic", "eclipsing", "binary star", "EA"],
    "lpv": ["variable", "periodic", "long timescale", "LPV"],
    "irr": ["variable", "irregular", "flaring"],
}
LABELS = sorted({lab for labs in TYPE_LABELS.values() for lab in labs})
# type -> {feature: (mean, sigma)} for the separating features; the rest are pure noise
CENTRES = {
    "nonvar": {"wstd": (0.02, 0.01), "norm_excess_var": (0.0, 0.02), "stetson_j": (0.2, 0.4),
               "chi2red": (1.0, 0.3), f"f1_power_{SUFFIX}": (0.1, 0.08), f"period_{SUFFIX}": (3.0, 2.0),
               f"f1_amp_{SUFFIX}": (0.01, 0.01), "skew": (0.0, 0.3), "Gaia_EDR3__phot_bp_mean_mag": (16.5, 1.0)},
    "rrlyr": {"wstd": (0.3, 0.08), "norm_excess_var": (0.5, 0.2), "stetson_j": (8.0, 3.0),
              "chi2red": (40.0, 15.0), f"f1_power_{SUFFIX}": (0.8, 0.1), f"period_{SUFFIX}": (0.55, 0.1),
              f"f1_amp_{SUFFIX}": (0.4, 0.1), "skew": (-0.6, 0.3), "Gaia_EDR3__phot_bp_mean_mag": (16.0, 1.0)},
    "ecl": {"wstd": (0.2, 0.08), "norm_excess_var": (0.3, 0.15), "stetson_j": (5.0, 2.5),
            "chi2red": (25.0, 12.0), f"f1_power_{SUFFIX}": (0.6, 0.15), f"period_{SUFFIX}": (1.5, 1.0),
            f"f1_amp_{SUFFIX}": (0.2, 0.1), "skew": (1.2, 0.4), "Gaia_EDR3__phot_bp_mean_mag": (15.5, 1.0)},
    "lpv": {"wstd": (0.8, 0.3), "norm_excess_var": (1.5, 0.5), "stetson_j": (20.0, 6.0),
            "chi2red": (200.0, 80.0), f"f1_power_{SUFFIX}": (0.7, 0.15), f"period_{SUFFIX}": (250.0, 80.0),
            f"f1_amp_{SUFFIX}": (1.0, 0.3), "skew": (0.1, 0.3), "Gaia_EDR3__phot_bp_mean_mag": (14.5, 1.0)},
    "irr": {"wstd": (0.25, 0.1), "norm_excess_var": (0.4, 0.2), "stetson_j": (4.0, 2.5),
            "chi2red": (20.0, 10.0), f"f1_power_{SUFFIX}": (0.25, 0.1), f"period_{SUFFIX}": (10.0, 8.0),
            f"f1_amp_{SUFFIX}": (0.15, 0.1), "skew": (-0.2, 0.8), "Gaia_EDR3__phot_bp_mean_mag": (17.0, 1.0)},
}


def all_feature_names(cfg) -> list[str]:
    from scope.schema import feature_names

    names = feature_names(cfg, "ontological", SUFFIX)
    return names + [n for n in feature_names(cfg, "phenomenological", SUFFIX) if n not in names]


def make_training_set(cfg, n: int = 600, seed: int = 0, fractions=(0.45, 0.15, 0.15, 0.1, 0.15),
                      dmdt: bool = True) -> pd.DataFrame:
    """A synthetic training set in the reference format (labels, features, dmdt, ztf_id last)."""
    rng = np.random.default_rng(seed)
    types = rng.choice(TYPES, size=n, p=fractions)
    features = all_feature_names(cfg)
    data = {}
    for name in features:
        col = rng.normal(0.0, 1.0, n)
        for t in TYPES:
            if name in CENTRES[t]:
                mu, sigma = CENTRES[t][name]
                sel = types == t
                col[sel] = rng.normal(mu, sigma, sel.sum())
        data[name] = col
    df = pd.DataFrame(data)
    df["n_ztf_alerts"] = rng.poisson(2, n).astype(np.int64)
    for lab in LABELS:
        df[lab] = 0.0
    for t, labs in TYPE_LABELS.items():
        for lab in labs:
            df.loc[types == t, lab] = 1.0
    # golden-set style uncertain votes: some 0.75 (still positive) and 0.5 (ambiguous)
    var_rows = np.flatnonzero(types != "nonvar")
    df.loc[var_rows[:10], "variable"] = 0.75
    df.loc[var_rows[10:16], "variable"] = 0.5
    df["latent_type"] = types
    if dmdt:
        df["dmdt"] = [_dmdt(rng, t) for t in types]
    df["ra"] = rng.uniform(0, 360, n)
    df["dec"] = rng.uniform(-20, 80, n)
    df["ztf_id"] = (10**13 + 301 * 10**9 + rng.permutation(n)).astype(np.int64)
    return df


def _dmdt(rng, t: str) -> np.ndarray:
    dm = np.arange(26) - 12.5
    dt = np.arange(26)
    width = 1.5 if t == "nonvar" else 5.0
    grid = np.exp(-0.5 * (dm[:, None] / width) ** 2) * np.exp(-dt[None, :] / 10.0)
    grid += rng.uniform(0, 0.05, grid.shape)
    return (grid / grid.max()).astype(float)


FAST_CONFIG = """
training:
  dnn:
    epochs: 4
    batch_size: 32
    patience: 3
  xgboost:
    other_training_params:
      num_boost_round: 60
      nfold: 3
"""


@pytest.fixture
def synthetic():
    """The synthetic training-set maker, ``synthetic(cfg, n=600, seed=0, ...)``."""
    return make_training_set


@pytest.fixture
def fast_config():
    """Text of the fast training config the ``project`` fixture writes."""
    return FAST_CONFIG


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with a fast config, as the current directory; returns (folder, cfg)."""
    from scope.config import load_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCOPE_CONFIG", raising=False)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    (tmp_path / "config.yaml").write_text(FAST_CONFIG)
    return tmp_path, load_config(tmp_path / "config.yaml")


@pytest.fixture
def training_file(project):
    """A synthetic training set written as parquet in the project folder."""
    from scope.tables import write_table

    folder, cfg = project
    df = make_training_set(cfg)
    path = folder / "training_set.parquet"
    write_table(df, path)
    return path
