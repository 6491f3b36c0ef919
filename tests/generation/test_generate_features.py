import numpy as np
import pandas as pd
import pytest

from scope.generation import compute as compute_mod
from scope.tables import read_table
from tests.generation.conftest import FAST_GRID, copy_demo, feature_file as _out
from tools import generate_features


def _copy(demo, tmp_path, monkeypatch):
    return copy_demo(demo, tmp_path / "work", monkeypatch)


def _die_on_call(monkeypatch, n: int) -> None:
    """Make the n-th batch computation raise KeyboardInterrupt, like a run killed mid-way."""
    original = compute_mod.FeatureComputer.compute
    calls = {"n": 0}

    def dying(self, k, **kw):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return original(self, k, **kw)

    monkeypatch.setattr(compute_mod.FeatureComputer, "compute", dying)


def test_quadrant_run_writes_reference_layout(small_demo, tmp_path, monkeypatch, caplog):
    work = _copy(small_demo, tmp_path, monkeypatch)
    rc = generate_features.main(["--field", "301", "--ccd", "1", "--quad", "1", "--doCPU", *FAST_GRID])
    assert rc == 0
    df = read_table(_out(work))
    truth = pd.read_parquet(work / "ztf_archive" / "truth.parquet")
    quad = truth[(truth.ccd == 1) & (truth.quad == 1)]
    assert 0 < len(df) <= len(quad)
    assert list(df.columns[:9]) == ["_id", "radec_geojson", "ra", "dec", "field", "ccd", "quad", "filter", "n"]
    for col in ["period_ELS_ECE_EAOV", "significance_ELS_ECE_EAOV", "period_LS", "period_CE", "period_AOV",
                "f1_power_ELS_ECE_EAOV", "f1_relphi4_ELS_ECE_EAOV", "dmdt", "n_ztf_alerts", "mean_ztf_alert_braai",
                "Gaia_EDR3___id", "AllWISE__w1mpro", "PS1_DR1__gMeanPSFMag", "stetson_k", "sw"]:
        assert col in df.columns, col
    assert str(df["_id"].dtype) == "Int64" and str(df["Gaia_EDR3___id"].dtype) == "Int64"
    assert df["dmdt"].iloc[0].shape == (26, 26)
    assert (df["field"] == 301).all() and (df["ccd"] == 1).all() and (df["quad"] == 1).all()
    assert df["_id"].is_unique
    # bright-star neighbours are excluded
    near = set(quad.loc[quad.near_bright_star, "_id"])
    assert not near & set(df["_id"].astype(int))
    attrs = df.attrs
    for key in ("scope_code_version", "feature_generation_start_dateTime_utc", "feature_generation_end_dateTime_utc",
                "ZTF_source_catalog", "ZTF_alerts_catalog", "Gaia_catalog"):
        assert key in attrs
    meta = (work / "generated_features" / "meta.json").read_text()
    assert "(301, 1, 1)" in meta
    assert not list((work / "generated_features" / "field_301").glob(".*parts"))


def test_kill_and_resume_gives_identical_file(small_demo, tmp_path, monkeypatch):
    args = ["--field", "301", "--ccd", "1", "--quad", "1", "--doCPU", "--period-batch-size", "12", *FAST_GRID]
    ref_work = _copy(small_demo, tmp_path / "a", monkeypatch)
    assert generate_features.main(args) == 0
    reference = read_table(_out(ref_work))

    work = _copy(small_demo, tmp_path / "b", monkeypatch)
    original = compute_mod.FeatureComputer.compute
    _die_on_call(monkeypatch, 3)
    assert generate_features.main(args) == 130
    assert not _out(work).exists()
    parts = list((work / "generated_features" / "field_301").glob(".*parts/part_*.parquet"))
    assert len(parts) == 2
    monkeypatch.setattr(compute_mod.FeatureComputer, "compute", original)
    resumed_calls = {"n": 0}

    def counting(self, k, **kw):
        resumed_calls["n"] += 1
        return original(self, k, **kw)

    monkeypatch.setattr(compute_mod.FeatureComputer, "compute", counting)
    assert generate_features.main(args) == 0
    result = read_table(_out(work))
    n_batches = int(np.ceil(len(reference) / 12))
    assert resumed_calls["n"] == n_batches - 2
    pd.testing.assert_frame_equal(result.drop(columns=["dmdt", "radec_geojson"]),
                                  reference.drop(columns=["dmdt", "radec_geojson"]))
    for a, b in zip(result["dmdt"], reference["dmdt"]):
        np.testing.assert_array_equal(a, b)


def test_changed_parameters_do_not_resume(small_demo, tmp_path, monkeypatch):
    work = _copy(small_demo, tmp_path, monkeypatch)
    args = ["--field", "301", "--ccd", "1", "--quad", "1", "--doCPU", "--period-batch-size", "12", *FAST_GRID]
    original = compute_mod.FeatureComputer.compute
    _die_on_call(monkeypatch, 2)
    assert generate_features.main(args) == 130
    monkeypatch.setattr(compute_mod.FeatureComputer, "compute", original)
    changed = [a if a != "10" else "8" for a in args]  # another --max-freq
    assert generate_features.main(changed) == 0
    df = read_table(_out(work))
    assert df.attrs["parameters"]["max_freq"] == 8.0


def test_without_cpu_or_gpu_period_is_one(small_demo, tmp_path, monkeypatch):
    work = _copy(small_demo, tmp_path, monkeypatch)
    assert generate_features.main(["--field", "301", "--ccd", "1", "--quad", "1", "--skipCloseSources"]) == 0
    df = read_table(_out(work))
    assert (df["period_Ones"] == 1.0).all() and (df["significance_Ones"] == 1.0).all()


def test_gpu_without_gpu_is_a_clear_error(small_demo, tmp_path, monkeypatch, capsys):
    _copy(small_demo, tmp_path, monkeypatch)
    assert generate_features.main(["--field", "301", "--ccd", "1", "--quad", "1", "--doGPU", *FAST_GRID]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no GPU backend available" in err[0]


def test_quadrant_whose_light_curves_all_fail_cleaning_writes_an_empty_file(small_demo, tmp_path, monkeypatch,
                                                                              capsys):
    # the selection is not empty, the cleaning drops everything: a complete (empty) result, as the reference
    work = _copy(small_demo, tmp_path, monkeypatch)
    assert generate_features.main(["--field", "301", "--ccd", "1", "--quad", "1", "--doCPU", "--skipCloseSources",
                                   "--min-cadence-minutes", "100000", *FAST_GRID]) == 0
    assert len(read_table(_out(work))) == 0
    assert "fewer than 50 points after cleaning" in capsys.readouterr().err


def test_batch_size_changes_no_number(small_demo, tmp_path, monkeypatch):
    # batches and the progress chunks inside them split light curves only: every number stays
    args = ["--field", "301", "--ccd", "1", "--quad", "1", "--doCPU", "--skipCloseSources", *FAST_GRID]
    a = _copy(small_demo, tmp_path / "a", monkeypatch)
    assert generate_features.main([*args, "--period-batch-size", "7"]) == 0
    one = read_table(_out(a))
    b = _copy(small_demo, tmp_path / "b", monkeypatch)
    assert generate_features.main(args) == 0
    other = read_table(_out(b))
    pd.testing.assert_frame_equal(one.drop(columns=["dmdt"]), other.drop(columns=["dmdt"]))
    for x, y in zip(one["dmdt"], other["dmdt"]):
        np.testing.assert_array_equal(x, y)


def test_specific_ids_mode(small_demo, tmp_path, monkeypatch):
    work = _copy(small_demo, tmp_path, monkeypatch)
    truth = pd.read_parquet(work / "ztf_archive" / "truth.parquet")
    chosen = truth[~truth.near_bright_star & (truth.n_good >= 100)].head(6)
    pd.DataFrame({"ztf_id": chosen["_id"], "fritz_name": [f"src_{i}.a_b" for i in range(6)]}).to_parquet(
        work / "list.parquet")
    assert generate_features.main(["--doSpecificIDs", "--fg-dataset", "list.parquet", "--doCPU", *FAST_GRID]) == 0
    df = read_table(work / "generated_features" / "specific_ids" / "gen_features_specific_ids.parquet")
    assert sorted(df["_id"].astype(int)) == sorted(chosen["_id"])
    assert set(df["fritz_name"]) == {f"src_{i}.a_b" for i in range(6)}
    assert (df["ccd"].to_numpy() == chosen.set_index("_id").loc[df["_id"].astype(int), "ccd"].to_numpy()).all()
    assert (work / "generated_features" / "specific_ids_dropCloseSources.json").exists()


@pytest.mark.slow
def test_nested_period_recovers_demo_truth(periodic_demo, tmp_path, monkeypatch):
    work = _copy(periodic_demo, tmp_path, monkeypatch)
    assert generate_features.main(["--field", "301", "--ccd", "2", "--quad", "3", "--doCPU", "--skipCloseSources",
                                   "--Ncore", "2", "--min-n-lc-points", "50"]) == 0
    df = read_table(_out(work, 301, 2, 3)).set_index("_id")
    truth = pd.read_parquet(work / "ztf_archive" / "truth.parquet").set_index("_id")
    periodic = truth[truth["period"].notna() & (truth["n_good"] >= 100)]
    periodic = periodic[periodic.index.isin(df.index.astype(int))]
    assert len(periodic) >= 20
    found = df.loc[periodic.index, "period_ELS_ECE_EAOV"].to_numpy(float)
    true = periodic["period"].to_numpy(float)
    baseline = df.attrs["period_search"]["grid"]["baseline"]
    ok = np.zeros(len(true), bool)
    for k in (1.0, 0.5, 2.0):
        # within 1% in frequency, or within half a resolution element 1/(2 B) for long periods
        # (a 400-day Mira over a 3-year baseline cannot be pinned to 1%)
        ok |= np.abs(1 / found - 1 / (true * k)) <= np.maximum(0.01 / (true * k), 0.5 / baseline)
    assert ok.mean() >= 0.9, (ok.mean(), periodic.assign(found=found)[~ok][["class", "period", "found"]])
