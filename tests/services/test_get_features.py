"""get-features end to end: real penquins client, loopback Kowalski, files on disk."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scope.quadids import write_field_ids, write_quad_ids
from scope.tables import read_table
from tests.loopback.kowalski_docs import feature_documents
from tests.loopback.kowalski_fixtures import FEATURES, synthetic_features
from tests.loopback.kowalski_server import free_port, mentions_id, query_type_is
from tools import get_features

FIELD = 301
QUADS = {(1, 2): 100, (2, 3): 150}
REPO = Path(__file__).resolve().parents[2]


def _ids(ccd, quad, n):
    from scope.lightcurves.ztf_ids import encode_kowalski_id

    return encode_kowalski_id(FIELD, 2, ccd, quad, np.arange(n) * 3 + 1).astype(np.int64)


@pytest.fixture(scope="module")
def features_data():
    """Ids per quadrant and a features catalog lacking two of them (built once: it is the slow part)."""
    per_quad = {k: _ids(*k, n) for k, n in QUADS.items()}
    all_ids = np.concatenate(list(per_quad.values()))
    absent = [int(all_ids[5]), int(all_ids[160])]
    table = synthetic_features(all_ids[~np.isin(all_ids, absent)], seed=1)
    return per_quad, all_ids, absent, table, feature_documents(table)


@pytest.fixture
def setup(features_data, workdir, kowalski_server, kowalski_config):
    """Id files as get-quad-ids writes them, the loopback serving the features, a config."""
    per_quad, all_ids, absent, table, docs = features_data
    for (ccd, quad), ids in per_quad.items():
        write_quad_ids(workdir, FIELD, ccd, quad, ids)
    write_field_ids(workdir, FIELD, per_quad)
    server = kowalski_server({FEATURES: docs})
    kowalski_config({"loop": server})
    return {"dir": workdir, "ids": all_ids, "per_quad": per_quad, "absent": absent, "table": table.copy(),
            "server": server}


def _out(workdir):
    return workdir / "features" / f"field_{FIELD}"


def _read_all(paths):
    return pd.concat([read_table(p) for p in sorted(paths)], ignore_index=True)


def test_whole_field_files_metadata_and_dtypes(setup):
    assert get_features.main(["--field", str(FIELD), "--whole-field", "--max-sources", "100",
                              "--limit-per-query", "30"]) == 0
    files = sorted(_out(setup["dir"]).glob("*.parquet"))
    assert [p.name for p in files] == [f"field_{FIELD}_iter_{i}.parquet" for i in range(3)]
    df = _read_all(files)
    expected = [i for i in setup["ids"].tolist() if i not in setup["absent"]]
    assert df["_id"].tolist() == expected  # id-file order, one row each, absent ids absent
    assert list(df.columns)[0] == "_id"
    first = read_table(files[0])
    assert len(first) == 100 - 1  # one absent id falls in the first slice of 100
    assert set(first.attrs) == {"features_download_dateTime_utc", "features_ztf_dataRelease", "features_imputed"}
    assert first.attrs["features_ztf_dataRelease"] == "DR16" and first.attrs["features_imputed"] is False
    pd.Timestamp(first.attrs["features_download_dateTime_utc"])  # parses
    assert first["dmdt"].iloc[0].shape == (26, 26)
    assert str(first["n_ztf_alerts"].dtype) == "int64" and str(first["AllWISE___id"].dtype) == "Int64"
    assert first["AllWISE__w1mpro"].isna().any()  # not imputed
    assert max(len(e["body"]["query"]["filter"]["_id"]["$in"]) for e in setup["server"].queries("find")) == 30


def test_quadrant_ranges_suffix_csv_and_columns(setup):
    assert get_features.main(["--field", str(FIELD), "--ccd-range", "1", "2", "--quad-range", "2", "3",
                              "--suffix", "mine", "--write-csv", "--column-list", "median", "f1_power_ELS_ECE_EAOV",
                              "dmdt"]) == 0
    out = _out(setup["dir"])
    names = sorted(p.name for p in out.iterdir())
    assert names == ["ccd_01_quad_2_mine_iter_0.csv", "ccd_01_quad_2_mine_iter_0.parquet",
                     "ccd_02_quad_3_mine_iter_0.csv", "ccd_02_quad_3_mine_iter_0.parquet"]
    df = read_table(out / "ccd_02_quad_3_mine_iter_0.parquet")
    assert list(df.columns) == ["_id", "median", "f1_power_ELS_ECE_EAOV", "dmdt"]
    assert df["_id"].tolist() == [i for i in setup["per_quad"][(2, 3)].tolist() if i not in setup["absent"]]
    csv = read_table(out / "ccd_02_quad_3_mine_iter_0.csv")
    assert np.allclose(csv["median"], df["median"]) and csv["dmdt"].iloc[0].shape == (26, 26)


def test_resume_skips_written_ids_and_restart_redoes(setup, caplog):
    args = ["--field", str(FIELD), "--whole-field", "--max-sources", "60"]
    assert get_features.main(args + ["--end", "130"]) == 0
    out = _out(setup["dir"])
    assert len(list(out.glob("*.parquet"))) == 3
    n_queries = len(setup["server"].queries("find"))
    assert get_features.main(args) == 0
    df = _read_all(out.glob("*.parquet"))
    assert df["_id"].is_unique and len(df) == len(setup["ids"]) - 2
    new = setup["server"].queries("find")[n_queries:]
    asked = {int(i) for e in new for i in e["body"]["query"]["filter"]["_id"]["$in"]}
    assert asked == set(setup["ids"][130:].tolist()) | {setup["absent"][0]}  # done ids are not asked again
    # a third run has nothing to do
    files_before = sorted(p.name for p in out.glob("*.parquet"))
    assert get_features.main(args) == 0
    assert sorted(p.name for p in out.glob("*.parquet")) == files_before
    assert get_features.main(args + ["--restart", "--max-sources", "1000"]) == 0
    assert [p.name for p in out.glob("*.parquet")] == [f"field_{FIELD}_iter_0.parquet"]
    assert read_table(out / f"field_{FIELD}_iter_0.parquet")["_id"].is_unique


def test_failing_chunk_is_retried_then_reported_and_recovered(setup, capsys):
    server = setup["server"]
    lost = int(setup["ids"][42])
    fault = server.add_fault("status", status=500, when=mentions_id(lost))
    rc = get_features.main(["--field", str(FIELD), "--whole-field", "--limit-per-query", "25"])
    err = capsys.readouterr().err
    assert rc == 1
    line = [l for l in err.splitlines() if "error:" in l]
    assert len(line) == 1 and "25 ids could not be downloaded" in line[0]
    # the chunk of ids 25-49 failed: the message names its ids (the first ten, then the file)
    assert all(str(i) in line[0] for i in setup["ids"][25:35]) and "(25 ids)" in line[0]
    assert "Traceback" not in err
    assert fault.hits == 3  # 1 + max_retries (2)
    failed = (_out(setup["dir"]) / f"field_{FIELD}_failed_ids.txt").read_text().split()
    assert len(failed) == 25 and str(lost) in failed
    written = _read_all(_out(setup["dir"]).glob("*.parquet"))
    assert len(written) == len(setup["ids"]) - 2 - 25 and lost not in written["_id"].tolist()
    server.clear_faults()
    assert get_features.main(["--field", str(FIELD), "--whole-field", "--limit-per-query", "25"]) == 0
    final = _read_all(_out(setup["dir"]).glob("*.parquet"))
    assert final["_id"].is_unique and len(final) == len(setup["ids"]) - 2 and lost in final["_id"].tolist()


@pytest.mark.parametrize("status", [429, 500])
def test_rate_limit_and_server_errors_are_retried(setup, status, capsys):
    fault = setup["server"].add_fault("status", status=status, times=2, when=query_type_is("find"))
    assert get_features.main(["--field", str(FIELD), "--whole-field"]) == 0
    assert fault.hits == 2
    assert "retry 2 of 2" in capsys.readouterr().err


def test_imputation_self_and_from_training_set(setup, kowalski_config):
    out = _out(setup["dir"])
    assert get_features.main(["--field", str(FIELD), "--whole-field", "--impute-missing-features"]) == 0
    df = read_table(out / f"field_{FIELD}_iter_0.parquet")
    assert df.attrs["features_imputed"] is True
    for col in ("AllWISE__w1mpro", "AllWISE__w1sigmpro", "Gaia_EDR3__parallax", "PS1_DR1__gMeanPSFMag"):
        assert not df[col].isna().any(), col
    # --no-self-impute: medians come from the training set
    training = setup["table"].copy()
    training["AllWISE__w1sigmpro"] = 123.0
    training.drop(columns=["dmdt"]).to_parquet(setup["dir"] / "train.parquet")
    kowalski_config({"loop": setup["server"]}, extra={"training": {"dataset": "train.parquet"}})
    assert get_features.main(["--field", str(FIELD), "--whole-field", "--impute-missing-features",
                              "--no-self-impute", "--suffix", "ts"]) == 0
    ts = read_table(out / f"field_{FIELD}_ts_iter_0.parquet")
    was_missing = setup["table"].set_index("_id").loc[ts["_id"], "AllWISE__w1sigmpro"].isna().to_numpy()
    assert was_missing.any() and (ts["AllWISE__w1sigmpro"].to_numpy()[was_missing] == 123.0).all()


def test_local_features_file_gives_the_same_rows(setup):
    assert get_features.main(["--field", str(FIELD), "--whole-field"]) == 0
    remote = read_table(_out(setup["dir"]) / f"field_{FIELD}_iter_0.parquet")
    path = setup["dir"] / "ZTF_source_features_DR16.parquet"
    table = setup["table"].copy()
    table["dmdt"] = [m.tolist() for m in table["dmdt"]]
    table.to_parquet(path)
    assert get_features.main(["--field", str(FIELD), "--whole-field", "--features-file", str(path),
                              "--suffix", "local"]) == 0
    local = read_table(_out(setup["dir"]) / f"field_{FIELD}_local_iter_0.parquet")
    assert local.attrs["features_ztf_dataRelease"] == "DR16"
    assert local["_id"].tolist() == remote["_id"].tolist()
    common = [c for c in remote.columns if c not in ("coordinates", "dmdt")]
    pd.testing.assert_frame_equal(local[common], remote[common], check_dtype=False)
    assert np.allclose(np.stack(local["dmdt"]), np.stack(remote["dmdt"]))


def test_no_write_results_and_missing_id_files(setup, capsys):
    assert get_features.main(["--field", str(FIELD), "--whole-field", "--no-write-results"]) == 0
    assert not _out(setup["dir"]).exists()
    assert get_features.main(["--field", "999", "--whole-field"]) == 1
    err = capsys.readouterr().err
    assert "run get-quad-ids first" in err and "ids/field_999/field_999.h5" in err


def test_bad_token_one_line_and_no_token_anywhere(setup, kowalski_config, capsys, caplog):
    bad = "bad-token-value-0123456789"
    kowalski_config({"loop": {"host": "127.0.0.1", "protocol": "http", "port": setup["server"].port,
                              "token": bad}})
    rc = get_features.main(["--field", str(FIELD), "--whole-field", "--verbose", "2"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    lines = [l for l in err.splitlines() if "error:" in l]
    assert len(lines) == 1 and "refused the token" in lines[0]
    assert bad not in err and bad not in caplog.text
    # the good token never leaks either, in a successful verbose run's logs or outputs
    kowalski_config({"loop": setup["server"]})
    assert get_features.main(["--field", str(FIELD), "--whole-field", "--verbose", "2", "--write-csv"]) == 0
    err = capsys.readouterr().err
    good = setup["server"].token
    assert "POST" in err or "Kowalski find" in err  # debug logging was on
    assert good not in err and good not in caplog.text
    for path in setup["dir"].rglob("*"):
        if path.is_file() and path.name != "config.yaml":
            data = path.read_bytes()
            assert good.encode() not in data and bad.encode() not in data, path


def test_server_down_is_one_line(setup, kowalski_config, capsys):
    kowalski_config({"loop": {"host": "127.0.0.1", "protocol": "http", "port": free_port(),
                              "token": "some-token-abcdef"}}, max_retries=1)
    rc = get_features.main(["--field", str(FIELD), "--whole-field"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    lines = [l for l in err.splitlines() if "error:" in l]
    assert len(lines) == 1 and "connection refused" in lines[0] and "some-token-abcdef" not in err


def test_killed_mid_run_then_resumed_gives_one_row_per_id(setup):
    """A real kill -9 of a running get-features, then a resume."""
    server = setup["server"]
    # every query after the first two is slow, so the process is surely mid-run when killed
    server.add_fault("slow", delay=0.4, when=lambda path, body: path == "/api/queries"
                     and isinstance(body, dict) and body.get("query_type") == "find"
                     and len(server.queries("find")) >= 2)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("SCOPE_CONFIG", None)
    cmd = [sys.executable, "-c", "import sys; from tools.get_features import main; sys.exit(main(sys.argv[1:]))",
           "--field", str(FIELD), "--whole-field", "--max-sources", "20", "--limit-per-query", "10", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=setup["dir"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    out = _out(setup["dir"])
    deadline = time.time() + 60
    try:
        while time.time() < deadline and len(list(out.glob(f"field_{FIELD}_iter_*.parquet"))) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    partial = list(out.glob(f"field_{FIELD}_iter_*.parquet"))
    assert 2 <= len(partial) < 13  # killed part-way through 13 files
    # a file being written at the kill stays a hidden temporary, never a final name
    assert all(p.name.startswith(".") for p in out.iterdir() if p not in partial)
    server.clear_faults()
    assert get_features.main(["--field", str(FIELD), "--whole-field", "--max-sources", "20"]) == 0
    df = _read_all(out.glob(f"field_{FIELD}_iter_*.parquet"))
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # unfinished files cleaned up
    assert df["_id"].is_unique
    assert sorted(df["_id"].tolist()) == sorted(i for i in setup["ids"].tolist() if i not in setup["absent"])
