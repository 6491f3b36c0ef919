"""The config's feature lists are in the reference's order: card-less reference models get their inputs.

The reference trained its models (which carry no feature names) on the included features of its
config lists, in list order. ``tests/data/legacy-models`` holds such a model with the reference's own
inputs and scores; a feature table whose columns are named in the reference's order must reproduce
those scores through run-inference with our default config. Models trained here carry a model card
with their own feature order, so a change of the config's order never changes their predictions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scope.tables import read_table, write_table
from tests.conftest import REAL_DATA
from tests.core.reference_lists import REFERENCE_PHENOMENOLOGICAL

LEGACY = REAL_DATA / "legacy-models"
SUFFIX = "ELS_ECE_EAOV"
PERIODIC = {n for n in REFERENCE_PHENOMENOLOGICAL if n.startswith("f1_")}
# the phenomenological order of this SCoPe's config before it followed the reference's
EARLIER_ORDER = [
    "median", "wmean", "chi2red", "roms", "wstd", "norm_peak_to_peak_amp", "norm_excess_var", "median_abs_dev",
    "iqr", "i60r", "i70r", "i80r", "i90r", "skew", "smallkurt", "inv_vonneumannratio", "welch_i", "stetson_j",
    "stetson_k", "ad", "sw", "f1_power", "f1_BIC", "f1_a", "f1_b", "f1_amp", "f1_phi0", "f1_relamp1",
    "f1_relamp2", "f1_relamp3", "f1_relamp4", "f1_relphi1", "f1_relphi2", "f1_relphi3", "f1_relphi4"]


def _column(name: str) -> str:
    return f"{name}_{SUFFIX}" if name in PERIODIC else name


@pytest.fixture
def work(workdir):
    for f in LEGACY.iterdir():
        shutil.copy(f, workdir / f.name)
    return workdir


def _reference_table(folder: Path) -> Path:
    """The reference's inputs as a feature table: column j is the reference's j-th feature, stored in
    another physical order so that only the names can line them up."""
    io = np.load(LEGACY / "vnv_reference_io.npz")
    named = pd.DataFrame(io["features"].astype(float), columns=[_column(n) for n in REFERENCE_PHENOMENOLOGICAL])
    df = named[list(reversed(named.columns))]
    df.insert(0, "_id", 10**13 + np.arange(len(df)))
    df["dmdt"] = list(io["dmdt"][..., 0].astype(float))
    return write_table(df, folder / "reference_features.parquet")


def _predictions(folder: Path, algorithm: str) -> pd.DataFrame:
    files = sorted((folder / f"preds_{algorithm}").rglob("*.parquet"))
    assert len(files) == 1, files
    return read_table(files[0])


def test_default_feature_lists_follow_the_reference_order():
    from scope.config import load_config
    from scope.schema import feature_names

    cfg = load_config(env={})
    assert feature_names(cfg, "phenomenological", None) == REFERENCE_PHENOMENOLOGICAL
    onto = feature_names(cfg, "ontological", None)
    assert onto[:3] == ["ad", "chi2red", "f1_BIC"] and onto[-1] == "PS1_DR1__zMeanPSFMagErr"


def test_card_less_reference_xgb_model_scores_a_reference_ordered_table(work):
    from tools.run_inference import main

    table = _reference_table(work)
    rc = main(["--no-progress", "--paths-models", "vnv.20240101_000000.json", "--model-class-names", "vnv",
               "--features-file", str(table), "--field", "0", "--scale-features", "none"])
    assert rc == 0
    expected = np.load(LEGACY / "vnv_reference_io.npz")["xgb_scores"]
    np.testing.assert_allclose(_predictions(work, "xgb")["vnv_xgb"], expected, atol=1e-5)


@pytest.mark.slow
def test_card_less_reference_dnn_model_scores_a_reference_ordered_table(work):
    from tools.run_inference import main

    table = _reference_table(work)
    rc = main(["--no-progress", "--paths-models", "vnv.20240101_000000.h5", "--features-file", str(table),
               "--field", "0", "--scale-features", "none", "--float-convert-types", "64", "64"])
    assert rc == 0
    expected = np.load(LEGACY / "vnv_reference_io.npz")["scores"].ravel()
    np.testing.assert_allclose(_predictions(work, "dnn")["vnv_dnn"], expected, atol=1e-5)


def test_a_model_trained_with_the_earlier_order_keeps_its_predictions(workdir):
    """Its card records the order it was trained with; the config's new order does not matter."""
    import yaml

    from scope.config import load_config, load_defaults
    from scope.training.model_card import find_latest_model, load_model_card
    from tests.inference.synthetic import feature_table, training_set
    from tools.run_inference import main as run_inference
    from tools.scope_train import main as scope_train

    defaults = load_defaults()["features"]["phenomenological"]
    earlier = {n: defaults[n] for n in EARLIER_ORDER} | {n: s for n, s in defaults.items() if n not in EARLIER_ORDER}
    fast = {"training": {"xgboost": {"other_training_params": {"num_boost_round": 20}}}}
    (workdir / "earlier.yaml").write_text(yaml.safe_dump(fast | {"features": {"phenomenological": earlier}},
                                                         sort_keys=False))
    (workdir / "config.yaml").write_text(yaml.safe_dump(fast))
    cfg = load_config(workdir / "config.yaml")
    write_table(training_set(cfg, n=300), workdir / "training_set.parquet")
    assert scope_train(["--config-path", "earlier.yaml", "--tag", "vnv", "--algorithm", "xgb", "--path-dataset",
                        "training_set.parquet", "--skip-cv", "--save", "--random-state", "3"]) == 0
    model = find_latest_model(workdir, "experiment", "vnv", "xgb")
    card = load_model_card(model)
    assert card["features"] == [_column(n) for n in EARLIER_ORDER]
    write_table(feature_table(cfg, n=40), workdir / "features.parquet")
    scores = {}
    for config in ("earlier.yaml", "config.yaml"):  # the order it was trained with, then today's
        shutil.rmtree(workdir / "preds_xgb", ignore_errors=True)
        assert run_inference(["--no-progress", "--config-path", config, "--paths-models", str(model),
                              "--features-file", "features.parquet", "--field", "301"]) == 0
        scores[config] = _predictions(workdir, "xgb")["vnv_xgb"].to_numpy()
    np.testing.assert_array_equal(scores["earlier.yaml"], scores["config.yaml"])
    assert scores["config.yaml"].std() > 0.1  # real predictions, not a constant
