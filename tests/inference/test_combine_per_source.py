"""combine-preds --dateobs on select-fritz-sample's GCN tables: one row per Fritz source, no light-curve ids."""

from __future__ import annotations

import json

import pandas as pd

from scope.tables import read_table, write_table
from tools.combine_preds import main

NAME = "GCN_sources_2024-01-01T00-00-00"


def _sources(alg: str, scores: dict) -> pd.DataFrame:
    """What select-fritz-sample --select-top-n --doAllSources writes: obj_id, survey_id, position, scores."""
    return pd.DataFrame({"obj_id": ["ZTF24aaa", "ZTF24bbb", "ZTF24ccc"],
                         "survey_id": ["Gaia_EDR3___11", "AllWISE___22", "ZTF___301103100000005"],
                         "ra": [10.0, 10.1, 10.2], "dec": [-20.0, -20.1, -20.2], "period": [1.5, 0.3, None],
                         f"vnv_{alg}": scores["vnv"], f"nonvar_{alg}": [round(1 - v, 2) for v in scores["vnv"]]})


def test_per_source_tables_merge_on_the_fritz_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCOPE_CONFIG", raising=False)
    write_table(_sources("dnn", {"vnv": [0.9, 0.2, 0.6]}), tmp_path / "GCN_dnn" / NAME / f"{NAME}.parquet")
    write_table(_sources("xgb", {"vnv": [0.7, 0.4, 0.9]}), tmp_path / "GCN_xgb" / NAME / f"{NAME}.parquet")
    assert main(["--dateobs", "2024-01-01T00:00:00", "--merge-dnn-xgb", "--dnn-directory", "GCN_dnn",
                 "--xgb-directory", "GCN_xgb", "--combined-preds-dirname", "GCN_dnn_xgb/d", "--p-threshold",
                 "0.7"]) == 0
    out = tmp_path / "GCN_dnn_xgb" / "d"
    combined = read_table(out / f"{NAME}.parquet")
    assert combined["survey_id"].tolist() == ["Gaia_EDR3___11", "AllWISE___22", "ZTF___301103100000005"]
    merged = read_table(out / f"merged_{NAME}.parquet").set_index("obj_id")
    assert merged.loc["ZTF24aaa", "vnv"] == 0.8 and abs(merged.loc["ZTF24bbb", "nonvar"] - 0.7) < 1e-9
    assert merged.loc["ZTF24aaa", "ra"] == 10.0 and merged.loc["ZTF24bbb", "survey_id"] == "AllWISE___22"
    assert json.loads((out / f"merged_{NAME}_meta.json").read_text()) == {"ZTF24aaa": ["vnv"],
                                                                         "ZTF24ccc": ["vnv"]}
