"""End to end on the demo field: demo sky -> generate-features -> training set -> XGB and DNN models.

The issue's acceptance bounds: on the held-out test split, vnv and pnp ROC AUC >= 0.95 and rrlyr
>= 0.9, for XGBoost and the DNN each. A broken link anywhere in the chain (features, labels, matching,
scaling, training) drops the AUC towards 0.5 and fails these tests.

Features are generated without a period-search backend (placeholder period columns, suffix ``Ones``)
so the chain runs in seconds; the suffix is read from the generated columns.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

BOUNDS = {"vnv": 0.95, "pnp": 0.95, "rrlyr": 0.9}
QUADS = ("1", "2", "3", "4")


@pytest.fixture(scope="module")
def demo_training_set(tmp_path_factory):
    import os

    from scope.tables import read_table
    from tools.build_training_set import main as build
    from tools.generate_features import main as generate
    from tools.scope_demo_data import main as demo

    folder = tmp_path_factory.mktemp("demo_training")
    old = os.getcwd()
    os.chdir(folder)
    saved_env = os.environ.pop("SCOPE_CONFIG", None)
    try:
        assert demo(["--output-dir", ".", "--ccds", "1", "--quads", *QUADS, "--n-per-quad", "250",
                     "--seed", "7"]) == 0
        for quad in QUADS:
            assert generate(["--field", "301", "--ccd", "1", "--quad", quad]) == 0
        assert build(["--labels", "labels.parquet", "--features", "generated_features",
                      "--output", "training_set.parquet"]) == 0
    finally:
        os.chdir(old)
        if saved_env is not None:
            os.environ["SCOPE_CONFIG"] = saved_env
    columns = read_table(folder / "training_set.parquet").columns
    suffix = next(c[len("f1_power_"):] for c in columns if c.startswith("f1_power_"))
    return folder, suffix


@pytest.mark.parametrize("algorithm", ["xgb", "dnn"])
@pytest.mark.parametrize("tag", sorted(BOUNDS))
def test_demo_models_reach_the_acceptance_bounds(demo_training_set, monkeypatch, algorithm, tag):
    from scope.config import load_config
    from scope.training.train import train

    folder, suffix = demo_training_set
    monkeypatch.chdir(folder)
    cfg = load_config(folder / "config.yaml")
    if algorithm == "xgb":
        extra = {"skip_cv": True}
    else:  # heavy-tailed features (chi2red, stetson_j): median/std scaling converges in fewer epochs
        extra = {"epochs": 30, "patience": 8, "batch_size": 32, "scale_features": "median_std"}
    result = train(cfg, tag, algorithm=algorithm, path_dataset=folder / "training_set.parquet",
                   period_suffix=suffix, random_state=42, **extra)
    auc = result.metrics["test"]["roc_auc"]
    assert auc >= BOUNDS[tag], f"{tag} {algorithm}: test ROC AUC {auc:.3f} < {BOUNDS[tag]}"
