"""run-inference: outputs in the reference layout, schema checks, batching, imputation, legacy models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scope.tables import read_table, write_table
from tests.inference.synthetic import SUFFIX, feature_table
from tools.run_inference import main

GEN = Path("generated_features")
LEGACY = Path(__file__).resolve().parents[1] / "data" / "legacy-models"


def _gen_file(field=301, ccd=2, quad=3):
    return GEN / f"field_{field}" / f"gen_features_field_{field}_ccd_{ccd}_quad_{quad}.parquet"


def _run(*args):
    return main(["--no-progress", *args])


def test_group_inference_writes_reference_layout(project):
    work, cfg = project
    ft = feature_table(cfg, n=60)
    ft.loc[3, "wstd"] = np.nan  # no imputation strategy: cannot be scored
    write_table(ft, _gen_file())
    rc = _run("--group-name", "experiment", "--algorithm", "xgb", "--field", "301", "--whole-field",
              "--feature-directory", "generated_features", "--flag-ids", "--write-csv")
    assert rc == 0
    out = work / "preds_xgb" / "field_301"
    preds = read_table(out / "field_301.parquet")
    assert list(preds.columns) == ["_id", "Gaia_EDR3___id", "AllWISE___id", "PS1_DR1___id", "ra", "dec", "period",
                                   "field", "ccd", "quad", "filter", "vnv_xgb", "pnp_xgb"]
    assert preds["_id"].tolist() == ft["_id"].astype(int).tolist()
    assert preds["period"].tolist() == ft[f"period_{SUFFIX}"].tolist()
    assert (preds["Gaia_EDR3___id"].iloc[::5] == 0).all()  # missing survey ids become 0, as the reference
    assert np.isnan(preds.loc[3, "vnv_xgb"]) and preds.drop(index=3)["vnv_xgb"].notna().all()
    # the models learned something: variable types score higher than constant stars
    var = ft["truth"] != "const"
    assert preds.loc[var, "vnv_xgb"].mean() > preds.loc[~var & preds["vnv_xgb"].notna(), "vnv_xgb"].mean() + 0.2
    csv = pd.read_csv(out / "field_301.csv")
    assert csv["_id"].tolist() == preds["_id"].tolist()
    assert json.loads((out / "field_301_flagged.json").read_text()) == {str(int(ft.loc[3, "_id"])): ["wstd"]}
    meta = json.loads((out / "meta.json").read_text())
    assert meta["field"] == 301 and meta["total"] == 60 and len(meta["xgb_models"]) == 2
    attrs = preds.attrs
    assert len(attrs["feature_files"]) == 1 and attrs["feature_files"][0].endswith(str(_gen_file()))
    assert [m["tag"] for m in attrs["models"]] == ["vnv", "pnp"] and attrs["models"][0]["timestamp"]
    assert attrs["unscored"] == {"vnv_xgb": 1, "pnp_xgb": 1}
    assert attrs["scope_code_version"] == "test"  # the feature file's metadata is carried along
    assert "inference_dateTime_utc" in attrs and attrs["float_type"] == "float32"
    # a rerun keeps each model once in meta.json (the reference appended duplicates)
    assert _run("--group-name", "experiment", "--algorithm", "xgb", "--field", "301", "--whole-field",
                "--feature-directory", "generated_features") == 0
    assert len(json.loads((out / "meta.json").read_text())["xgb_models"]) == 2


def test_schema_mismatch_is_one_line_naming_the_columns(project, capsys):
    work, cfg = project
    ft = feature_table(cfg, n=20).drop(columns=["stetson_k", "wstd"])
    ft = ft.rename(columns={c: c.replace(SUFFIX, "LS") for c in ft.columns if c.endswith(SUFFIX)})
    write_table(ft, _gen_file())
    rc = _run("--group-name", "experiment", "--algorithm", "xgb", "--field", "301", "--whole-field",
              "--feature-directory", "generated_features")
    assert rc != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "missing columns" in err and "wstd" in err and "stetson_k" in err and f"f1_power_{SUFFIX}" in err
    assert "extra columns with another period suffix (LS)" in err and "f1_power_LS" in err
    assert "vnv_xgb" in err and "pnp_xgb" in err
    assert not (work / "preds_xgb" / "field_301" / "field_301.parquet").exists()


def test_batches_give_the_same_scores_as_one_pass(project):
    work, cfg = project
    write_table(feature_table(cfg, n=45, seed=2, ccd=2, quad=3), _gen_file(ccd=2, quad=3))
    write_table(feature_table(cfg, n=30, seed=3, ccd=5, quad=1, first_id=1000), _gen_file(ccd=5, quad=1))
    args = ["--group-name", "experiment", "--algorithm", "xgb", "--field", "301", "--whole-field",
            "--feature-directory", "generated_features"]
    assert _run(*args, "--batch-size", "7") == 0
    small = read_table(work / "preds_xgb" / "field_301" / "field_301.parquet")
    assert _run(*args, "--batch-size", "100000") == 0
    big = read_table(work / "preds_xgb" / "field_301" / "field_301.parquet")
    assert len(small) == 75 and small["_id"].is_unique
    pd.testing.assert_frame_equal(small, big)
    # one quadrant only: its own output file
    assert _run("--group-name", "experiment", "--algorithm", "xgb", "--field", "301", "--ccd", "5", "--quad", "1",
                "--feature-directory", "generated_features", "--float-convert-types", "64", "64") == 0
    quad = read_table(work / "preds_xgb" / "field_301" / "ccd_05_quad_1.parquet")
    assert len(quad) == 30 and quad.attrs["float_type"] == "float64"
    np.testing.assert_allclose(quad["vnv_xgb"], big.set_index("_id").loc[quad["_id"], "vnv_xgb"], atol=1e-6)


def test_missing_values_are_imputed_per_config_strategy(project):
    from scope.inference import InferenceOptions, load_model_spec, run_inference
    from scope.training.model_card import find_latest_model

    work, cfg = project
    ft = feature_table(cfg, n=30)
    ft.loc[0, "n_ztf_alerts"] = np.nan  # strategy zero
    ft.loc[1, "Gaia_EDR3__phot_g_mean_mag"] = np.nan  # strategy regress
    ft.loc[2, "wstd"] = np.nan  # strategy None: stays missing
    path = work / "f.parquet"
    write_table(ft, path)
    spec = load_model_spec(cfg, find_latest_model(work, "experiment", "vnv", "xgb"))
    # an "ontological" view of the same model: the imputed columns take part
    spec.features = spec.features + ["n_ztf_alerts", "Gaia_EDR3__phot_g_mean_mag"]
    spec.scaling["params"].update({"n_ztf_alerts": {"shift": 0, "scale": 1},
                                   "Gaia_EDR3__phot_g_mean_mag": {"shift": 0, "scale": 1}})
    spec._predict = lambda X, D: X[:, -2] * 1000 + X[:, -1]
    summary = run_inference(cfg, [spec], InferenceOptions(field="0", features_files=[path], progress=False))
    out = read_table(summary.outputs["xgb"])
    assert out.loc[0, "vnv_xgb"] == pytest.approx(ft.loc[0, "Gaia_EDR3__phot_g_mean_mag"], rel=1e-6)
    assert np.isfinite(out.loc[1, "vnv_xgb"]) and out.loc[1, "vnv_xgb"] != 0
    assert np.isnan(out.loc[2, "vnv_xgb"]) and summary.unscored == {"vnv_xgb": 1}


def test_source_list_features_keep_object_names(project):
    work, cfg = project
    ft = feature_table(cfg, n=5)
    ft.insert(1, "fritz_name", ["obj_1", "my_star_2", "ZTF18abc", "a.b_c", "x"])
    write_table(ft, GEN / "specific_ids" / "gen_features_specific_ids.parquet")
    assert _run("--group-name", "experiment", "--algorithm", "xgb", "--specific-ids",
                "--feature-directory", "generated_features") == 0
    preds = read_table(work / "preds_xgb" / "field_specific_ids" / "field_specific_ids.parquet")
    assert preds["obj_id"].tolist() == ["obj_1", "my_star_2", "ZTF18abc", "a.b_c", "x"]


def test_get_features_layout_whole_field(project):
    work, cfg = project
    folder = Path("features") / "field_301"
    write_table(feature_table(cfg, n=10, seed=4), folder / "field_301_iter_0.parquet")
    write_table(feature_table(cfg, n=8, seed=5, first_id=100), folder / "field_301_iter_1.parquet")
    assert _run("--group-name", "experiment", "--xgb-model", "--field", "301", "--whole-field") == 0
    assert len(read_table(work / "preds_xgb" / "field_301" / "field_301.parquet")) == 18


def test_explicit_models_and_their_cards(project, capsys):
    from scope.training.model_card import find_latest_model

    work, cfg = project
    write_table(feature_table(cfg, n=10), _gen_file())
    vnv = find_latest_model(work, "experiment", "vnv", "xgb")
    pnp = find_latest_model(work, "experiment", "pnp", "xgb")
    common = ["--field", "301", "--whole-field", "--feature-directory", "generated_features"]
    assert _run("--paths-models", str(pnp), str(vnv), "--model-class-names", "pnp", "vnv", *common) == 0
    preds = read_table(work / "preds_xgb" / "field_301" / "field_301.parquet")
    assert list(preds.columns[-2:]) == ["pnp_xgb", "vnv_xgb"]
    # names in the wrong order are caught by the cards
    assert _run("--paths-models", str(pnp), str(vnv), "--model-class-names", "vnv", "pnp", *common) == 1
    assert "trained for class 'pnp', not 'vnv'" in capsys.readouterr().err
    assert _run("--paths-models", str(vnv), "--algorithm", "dnn", *common) == 1
    assert _run("--group-name", "nope", "--xgb-model", *common) == 1
    assert "no model group folder" in capsys.readouterr().err
    assert _run("--group-name", "experiment", "--xgb-model", "--field", "999", "--whole-field") == 1
    assert "no feature folder" in capsys.readouterr().err


def _legacy_features(tmp: Path, cfg) -> Path:
    from scope.schema import feature_names

    io = np.load(LEGACY / "vnv_reference_io.npz")
    df = pd.DataFrame(io["features"].astype(float), columns=feature_names(cfg, "phenomenological"))
    df.insert(0, "_id", 10**13 + np.arange(len(df)))
    df["dmdt"] = list(io["dmdt"][..., 0].astype(float))
    return write_table(df, tmp / "legacy_features.parquet")


def _legacy_copy(tmp: Path, suffix: str) -> Path:
    for f in LEGACY.iterdir():
        shutil.copy(f, tmp / f.name)
    return tmp / f"vnv.20240101_000000{suffix}"


def test_reference_release_xgb_model_without_card(project, caplog):
    work, cfg = project
    model = _legacy_copy(work, ".json")
    feats = _legacy_features(work, cfg)
    assert _run("--paths-models", str(model), "--model-class-names", "vnv", "--features-file", str(feats),
                "--field", "0", "--scale-features", "none") == 0
    preds = read_table(work / "preds_xgb" / "field_0" / "part_legacy_features.parquet")  # one file: a part
    np.testing.assert_allclose(preds["vnv_xgb"], np.load(work / "vnv_reference_io.npz")["xgb_scores"], atol=1e-5)
    # without --scale-features none, card-less models need training-set statistics
    assert _run("--paths-models", str(model), "--features-file", str(feats), "--field", "0") == 1


@pytest.mark.slow
def test_reference_release_dnn_model_and_a_dnn_group(project, dnn_models, capsys):
    work, cfg = project
    model = _legacy_copy(work, ".h5")
    feats = _legacy_features(work, cfg)
    assert _run("--paths-models", str(model), "--features-file", str(feats), "--field", "0",
                "--scale-features", "none", "--float-convert-types", "64", "64") == 0
    preds = read_table(work / "preds_dnn" / "field_0" / "part_legacy_features.parquet")  # one file: a part
    np.testing.assert_allclose(preds["vnv_dnn"], np.load(work / "vnv_reference_io.npz")["scores"].ravel(), atol=1e-5)
    # both algorithms of a project in one pass over the features
    shutil.copytree(dnn_models[0] / "models_dnn", work / "models_dnn")
    write_table(feature_table(cfg, n=40), _gen_file())
    assert _run("--group-name", "experiment", "--algorithm", "dnn", "xgb", "--field", "301", "--whole-field",
                "--feature-directory", "generated_features") == 0
    dnn = read_table(work / "preds_dnn" / "field_301" / "field_301.parquet")
    xgb = read_table(work / "preds_xgb" / "field_301" / "field_301.parquet")
    assert dnn.columns[-1] == "vnv_dnn" and list(xgb.columns[-2:]) == ["vnv_xgb", "pnp_xgb"]
    assert dnn["_id"].tolist() == xgb["_id"].tolist() and dnn["vnv_dnn"].between(0, 1).all()
    # a DNN with a conv branch needs the dm-dt histograms
    write_table(feature_table(cfg, n=5).drop(columns=["dmdt"]), _gen_file())
    assert _run("--group-name", "experiment", "--field", "301", "--whole-field",
                "--feature-directory", "generated_features") == 1
    assert "missing columns: dmdt" in capsys.readouterr().err
