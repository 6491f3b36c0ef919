"""--doSpecificIDs --skipCloseSources reads the sources a previous run saved (reference §4.1, §5.5)."""

import json

import pandas as pd
import pytest

from tests.generation.conftest import FAST_GRID
from tools import generate_features

FAST = ["--doCPU", *FAST_GRID]


def _features(work):
    return pd.read_parquet(work / "generated_features" / "specific_ids" / "gen_features_specific_ids.parquet")


def test_saved_close_source_list_is_read_back(work):
    truth = pd.read_parquet(work / "ztf_archive" / "truth.parquet")
    chosen = pd.concat([truth[truth.near_bright_star].head(2), truth[~truth.near_bright_star & (truth.n_good >= 100)].head(5)])
    pd.DataFrame({"ztf_id": chosen["_id"], "fritz_name": [f"obj{i}" for i in range(len(chosen))]}).to_parquet(
        work / "list.parquet")
    assert generate_features.main(["--doSpecificIDs", "--fg-dataset", "list.parquet", *FAST]) == 0
    saved = work / "generated_features" / "specific_ids_dropCloseSources.json"
    kept = json.loads(saved.read_text())
    assert len(kept) == 5 and set(map(int, kept)) == set(chosen["_id"][2:])
    first = _features(work)

    # the saved list is what the second run reads: edit it and the run follows the edit
    smaller = dict(list(kept.items())[:3])
    saved.write_text(json.dumps(smaller))
    assert generate_features.main(["--doSpecificIDs", "--skipCloseSources", *FAST]) == 0
    second = _features(work)
    assert sorted(second["_id"].astype(int)) == sorted(map(int, smaller))
    assert set(second["fritz_name"]) == {smaller[k]["fritz_name"] for k in smaller}
    same = first.set_index("_id").loc[second["_id"]]
    pd.testing.assert_series_equal(same["ra"].reset_index(drop=True), second["ra"], check_names=False)


def test_missing_saved_list_is_a_clear_error(work, capsys):
    assert generate_features.main(["--doSpecificIDs", "--skipCloseSources", *FAST]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "specific_ids_dropCloseSources.json not found" in err[0] and "--fg-dataset" in err[0]


def test_explicit_dataset_wins_over_the_saved_list(work):
    truth = pd.read_parquet(work / "ztf_archive" / "truth.parquet")
    chosen = truth[truth.n_good >= 100].head(4)
    pd.DataFrame({"ztf_id": chosen["_id"]}).to_parquet(work / "list.parquet")
    (work / "generated_features").mkdir()
    (work / "generated_features" / "specific_ids_dropCloseSources.json").write_text("{}")
    assert generate_features.main(["--doSpecificIDs", "--skipCloseSources", "--fg-dataset", "list.parquet",
                                   *FAST]) == 0
    assert sorted(_features(work)["_id"].astype(int)) == sorted(chosen["_id"])
