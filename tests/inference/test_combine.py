"""combine-preds: DNN and XGB merged per field, light curves matched to sources, none dropped."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scope.tables import read_table, write_table
from tools.combine_preds import main

# light curve -> (Gaia, AllWISE, PS1) ids; 0 = no match
IDS = {
    1: (11, 21, 31),   # Gaia
    2: (11, 0, 0),     # same Gaia source, other band
    3: (0, 22, 32),    # AllWISE
    4: (0, 0, 33),     # PS1 only
    5: (0, 0, 0),      # nothing: kept under its own id
    6: (0, 0, 0),      # nothing, and only in the XGB table
}


def _preds(alg: str, ids, tags=("vnv", "pnp"), seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"_id": np.asarray(ids, dtype=np.int64)})
    for k, name in enumerate(("Gaia_EDR3___id", "AllWISE___id", "PS1_DR1___id")):
        df[name] = [IDS[i][k] for i in ids]
    df["ra"], df["dec"], df["period"] = 10.0 + df["_id"] * 1e-4, -20.0, 1.5
    df["field"], df["ccd"], df["quad"], df["filter"] = 301, 2, 3, 1
    for t in tags:
        df[f"{t}_{alg}"] = rng.uniform(0, 1, len(df)).astype(np.float32)
    return df


def _write(root, field=301, dnn_ids=(1, 2, 3, 4, 5), xgb_ids=(1, 2, 3, 4, 5, 6)):
    dnn = _preds("dnn", list(dnn_ids), seed=1)
    xgb = _preds("xgb", list(xgb_ids), seed=2)
    if dnn_ids:
        write_table(dnn, root / "preds_dnn" / f"field_{field}" / f"field_{field}.parquet")
    if xgb_ids:
        write_table(xgb, root / "preds_xgb" / f"field_{field}" / f"field_{field}.parquet")
    return dnn, xgb


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCOPE_CONFIG", raising=False)
    return tmp_path


def test_light_curves_matched_to_sources_and_none_dropped(work, capsys):
    dnn, xgb = _write(work)
    assert main(["--specific-field", "301", "--write-csv"]) == 0
    out = read_table(work / "preds_dnn_xgb" / "field_301.parquet")
    assert out["_id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert out["survey_id"].tolist() == ["Gaia_EDR3___11", "Gaia_EDR3___11", "AllWISE___22", "PS1_DR1___33",
                                         "ZTF___5", "ZTF___6"]
    assert list(out.columns[:2]) == ["_id", "survey_id"] and list(out.columns[-4:]) == ["vnv_dnn", "pnp_dnn",
                                                                                      "vnv_xgb", "pnp_xgb"]
    np.testing.assert_allclose(out["vnv_dnn"][:5], dnn["vnv_dnn"])
    np.testing.assert_allclose(out["pnp_xgb"], xgb["pnp_xgb"])
    assert np.isnan(out.loc[5, "vnv_dnn"]) and out.loc[5, "ra"] == pytest.approx(10.0006)  # from the XGB table
    assert (work / "preds_dnn_xgb" / "field_301.csv").exists()
    text = capsys.readouterr().err
    assert "2 without any of these ids kept under their own id" in text
    assert "1 light curves have xgb predictions only" in text


def test_merge_mode_aggregates_per_source(work):
    dnn, xgb = _write(work)
    assert main(["--merge-dnn-xgb", "--agg-method", "max", "--p-threshold", "0.5"]) == 0
    merged = read_table(work / "preds_dnn_xgb" / "merged_field_301.parquet").set_index("survey_id")
    assert sorted(merged.index) == ["AllWISE___22", "Gaia_EDR3___11", "PS1_DR1___33", "ZTF___5", "ZTF___6"]
    gaia = merged.loc["Gaia_EDR3___11"]
    assert gaia["n_lightcurves"] == 2 and list(gaia["lightcurve_ids"]) == [1, 2] and gaia["_id"] == 1
    expected = max(dnn.loc[:1, "vnv_dnn"].max(), xgb.loc[:1, "vnv_xgb"].max())
    assert gaia["vnv"] == pytest.approx(expected)
    assert merged.loc["ZTF___6", "vnv"] == pytest.approx(xgb.loc[5, "vnv_xgb"])
    meta = json.loads((work / "preds_dnn_xgb" / "merged_field_301_meta.json").read_text())
    for source, tags in meta.items():
        assert all(merged.loc[source, t] > 0.5 for t in tags)
    assert all(s in meta or (merged.loc[s, ["vnv", "pnp"]] <= 0.5).all() for s in merged.index)
    assert main(["--merge-dnn-xgb", "--agg-method", "mean", "--overwrite"]) == 0
    mean = read_table(work / "preds_dnn_xgb" / "merged_field_301.parquet").set_index("survey_id")
    both = np.concatenate([dnn.loc[:1, "pnp_dnn"], xgb.loc[:1, "pnp_xgb"]])
    assert mean.loc["Gaia_EDR3___11", "pnp"] == pytest.approx(both.mean(), rel=1e-6)


def test_fields_done_skipped_and_config_fields(work, capsys):
    from tests.conftest import write_config

    _write(work, 301)
    _write(work, 302, xgb_ids=())
    _write(work, 303)
    write_config(work, "inference:\n  fields_to_run: [301, 302, 304]\nfields_to_exclude: [302]\n")
    assert main(["--use-config-fields"]) == 0
    out = work / "preds_dnn_xgb"
    assert (out / "field_301.parquet").exists() and not (out / "field_302.parquet").exists()
    assert not (out / "field_303.parquet").exists()
    assert json.loads((out / "fields.json").read_text()) == [301, 302]
    assert "no predictions yet for configured field(s) 304" in capsys.readouterr().err
    assert main([]) == 0  # every field but the excluded one; 301 is already done
    assert (out / "field_303.parquet").exists() and not (out / "field_302.parquet").exists()
    assert "already combined" in capsys.readouterr().err
    assert json.loads((out / "fields.json").read_text()) == [301, 302, 303]
    # a field with one algorithm only is combined with what there is
    assert main(["--specific-field", "302"]) == 0
    only = read_table(out / "field_302.parquet")
    assert [c for c in only.columns if c.endswith(("_dnn", "_xgb"))] == ["vnv_dnn", "pnp_dnn"]


def test_option_conflicts_and_missing_predictions(work, capsys):
    _write(work)
    assert main(["--specific-field", "301", "--dateobs", "2024-01-01T00:00:00"]) == 1
    assert "only one of --specific-field and --dateobs" in capsys.readouterr().err
    assert main(["--specific-field", "999"]) == 1
    assert "no predictions for field_999" in capsys.readouterr().err
    assert main(["--specific-field", "301", "--doNotSave"]) == 0
    assert not (work / "preds_dnn_xgb").exists()


def test_gcn_source_lists_keyed_by_object_name(work):
    name = "GCN_sources_2024-01-01T00-00-00"
    for alg, seed in (("dnn", 1), ("xgb", 2)):
        df = _preds(alg, [1, 2, 5], seed=seed)
        df.insert(1, "obj_id", ["ZTF_a_1", "ZTF_a_1", "b_2"])
        write_table(df, work / f"preds_{alg}" / name / f"{name}.parquet")
    assert main(["--dateobs", "2024-01-01T00:00:00", "--merge-dnn-xgb"]) == 0
    merged = read_table(work / "preds_dnn_xgb" / f"merged_{name}.parquet")
    assert merged["obj_id"].tolist() == ["ZTF_a_1", "b_2"] and merged["n_lightcurves"].tolist() == [2, 1]
    meta = json.loads((work / "preds_dnn_xgb" / f"merged_{name}_meta.json").read_text())
    assert set(meta) <= {"ZTF_a_1", "b_2"}


def _mark(root, alg, field, complete, n_files=1, total=8):
    path = root / f"preds_{alg}" / f"field_{field}" / f"field_{field}.parquet"
    df = read_table(path)
    df.attrs["coverage"] = {"complete": complete, "scope": "field" if complete else "files", "field": str(field),
                            "feature_files": [{"path": f"/f/{k}.parquet", "name": f"{k}.parquet"}
                                              for k in range(total if complete else n_files)],
                            "field_feature_files": total}
    write_table(df, path)


def test_a_partial_table_is_never_merged_over_a_complete_one(work, capsys):
    _write(work, 301, dnn_ids=(1, 2, 3, 4, 5), xgb_ids=(1,))
    _mark(work, "dnn", 301, True)
    _mark(work, "xgb", 301, False)  # e.g. written by a run on one quadrant's file
    assert main(["--specific-field", "301"]) == 1
    err = capsys.readouterr().err
    assert "preds_xgb/field_301/field_301.parquet holds predictions for part of the field only (1 of 8" in err
    assert not (work / "preds_dnn_xgb" / "field_301.parquet").exists()


def test_partial_fields_are_refused_and_the_others_combined(work, capsys):
    _write(work, 301)
    _write(work, 302)
    _mark(work, "dnn", 301, True)
    _mark(work, "xgb", 301, True)
    _mark(work, "dnn", 302, False)
    assert main([]) == 1
    out = work / "preds_dnn_xgb"
    combined = read_table(out / "field_301.parquet")
    assert combined.attrs["coverage"]["xgb"]["complete"] is True
    assert not (out / "field_302.parquet").exists()
    assert "1 of 2 prediction set(s) not combined" in capsys.readouterr().err
    assert json.loads((out / "fields.json").read_text()) == [301]


def test_read_only_output_folder_is_refused_before_any_table_is_read(work, read_only_dir, capsys):
    _write(work)
    (work / "preds_xgb" / "field_301" / "field_301.parquet").write_bytes(b"not a parquet file")
    assert main(["--specific-field", "301", "--combined-preds-dirname", str(read_only_dir / "out")]) == 1
    err = capsys.readouterr().err
    assert "not writable" in err and str(read_only_dir) in err and "cannot read" not in err
