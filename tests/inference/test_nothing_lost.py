"""run-inference never loses predictions: partial runs write their own files, bad inputs write nothing."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scope.tables import read_table, write_table
from tests.inference.synthetic import SUFFIX, feature_table
from tools.run_inference import main

GEN = Path("generated_features")
FIELD = GEN / "field_301"
GROUP = ["--group-name", "experiment", "--algorithm", "xgb", "--feature-directory", "generated_features"]
PREDS = Path("preds_xgb") / "field_301"


def _gen_file(ccd, quad):
    return FIELD / f"gen_features_field_301_ccd_{ccd}_quad_{quad}.parquet"


def _two_quadrants(cfg):
    write_table(feature_table(cfg, n=45, seed=2, ccd=2, quad=3), _gen_file(2, 3))
    write_table(feature_table(cfg, n=30, seed=3, ccd=5, quad=1, first_id=1000), _gen_file(5, 1))


def _run(*args):
    return main(["--no-progress", *GROUP, *args])


def test_one_feature_file_never_replaces_the_field(project, capsys):
    work, cfg = project
    _two_quadrants(cfg)
    assert _run("--field", "301", "--whole-field") == 0
    field = read_table(PREDS / "field_301.parquet")
    assert len(field) == 75 and field.attrs["coverage"]["complete"] is True
    # the command: one quadrant's file, the field's number
    assert _run("--features-file", str(_gen_file(5, 1)), "--field", "301") == 0
    pd.testing.assert_frame_equal(read_table(PREDS / "field_301.parquet"), field)
    part = read_table(PREDS / "ccd_05_quad_1.parquet")
    assert len(part) == 30 and part.attrs["coverage"]["complete"] is False
    assert part.attrs["coverage"]["scope"] == "quadrant" and part.attrs["coverage"]["field_feature_files"] == 2
    assert "(part of the field)" in capsys.readouterr().err
    # meta.json keeps the field's total, not the part's
    import json

    assert json.loads((PREDS / "meta.json").read_text())["total"] == 75
    # a file of another name is a part too, named after the file
    other = Path("elsewhere") / "my_sources.parquet"
    write_table(feature_table(cfg, n=12, seed=9, first_id=5000), other)
    assert _run("--features-file", str(other), "--field", "301") == 0
    assert len(read_table(PREDS / "part_my_sources.parquet")) == 12
    assert len(read_table(PREDS / "field_301.parquet")) == 75
    # naming exactly the field's files is the whole field
    assert _run("--features-file", str(_gen_file(2, 3)), str(_gen_file(5, 1)), "--field", "301") == 0
    assert read_table(PREDS / "field_301.parquet")["_id"].tolist() == field["_id"].tolist()


def test_parts_covering_the_field_assemble_it(project, tmp_path):
    work, cfg = project
    _two_quadrants(cfg)
    assert _run("--field", "301", "--whole-field", "--output-dir", str(tmp_path / "reference")) == 0
    whole = read_table(tmp_path / "reference" / PREDS / "field_301.parquet")
    assert _run("--field", "301", "--ccd", "2", "--quad", "3") == 0
    assert not (PREDS / "field_301.parquet").exists()  # half the field: no field file
    assert _run("--field", "301", "--ccd", "5", "--quad", "1") == 0
    assembled = read_table(PREDS / "field_301.parquet")
    assert assembled.attrs["coverage"]["scope"] == "assembled" and assembled.attrs["coverage"]["complete"]
    assert [p["name"] for p in assembled.attrs["coverage"]["parts"]] == ["ccd_02_quad_3.parquet",
                                                                           "ccd_05_quad_1.parquet"]
    cols = ["_id", "ra", "dec", "period", "field", "ccd", "quad", "vnv_xgb", "pnp_xgb"]
    pd.testing.assert_frame_equal(assembled[cols], whole[cols])
    # a changed feature file makes its part stale: the field is not reassembled from it
    ft = feature_table(cfg, n=45, seed=22, ccd=2, quad=3)
    write_table(ft, _gen_file(2, 3))
    os.utime(_gen_file(2, 3), ns=(time.time_ns() + 10**9,) * 2)
    assert _run("--field", "301", "--ccd", "5", "--quad", "1") == 0
    assert read_table(PREDS / "field_301.parquet").attrs["coverage"]["parts"] == assembled.attrs["coverage"]["parts"]
    assert _run("--field", "301", "--ccd", "2", "--quad", "3") == 0
    rebuilt = read_table(PREDS / "field_301.parquet")
    part = read_table(PREDS / "ccd_02_quad_3.parquet")
    assert rebuilt["_id"].iloc[:45].tolist() == part["_id"].tolist() == ft["_id"].astype(int).tolist()
    np.testing.assert_allclose(rebuilt["vnv_xgb"].iloc[:45], part["vnv_xgb"])


def test_parts_do_not_replace_a_whole_field_run_without_overwrite(project):
    work, cfg = project
    _two_quadrants(cfg)
    assert _run("--field", "301", "--whole-field") == 0
    before = (PREDS / "field_301.parquet").stat().st_mtime_ns
    assert _run("--field", "301", "--ccd", "2", "--quad", "3") == 0
    assert _run("--field", "301", "--ccd", "5", "--quad", "1") == 0
    assert (PREDS / "field_301.parquet").stat().st_mtime_ns == before
    assert read_table(PREDS / "field_301.parquet").attrs["coverage"]["scope"] == "field"
    assert _run("--field", "301", "--ccd", "5", "--quad", "1", "--overwrite") == 0
    assert read_table(PREDS / "field_301.parquet").attrs["coverage"]["scope"] == "assembled"


def test_a_run_on_fewer_files_keeps_the_field_file(project, capsys):
    work, cfg = project
    _two_quadrants(cfg)
    assert _run("--field", "301", "--whole-field") == 0
    field = read_table(PREDS / "field_301.parquet")
    shutil.move(_gen_file(5, 1), work / "moved.parquet")  # e.g. a quadrant being regenerated
    capsys.readouterr()
    assert _run("--field", "301", "--whole-field") == 1
    err = capsys.readouterr().err
    assert "holds predictions from 2 feature file(s)" in err and "--overwrite" in err
    assert len(err.strip().splitlines()) == 1
    pd.testing.assert_frame_equal(read_table(PREDS / "field_301.parquet"), field)
    assert _run("--field", "301", "--whole-field", "--overwrite") == 0
    assert len(read_table(PREDS / "field_301.parquet")) == 45


def test_files_without_a_coverage_record_are_protected_by_row_count(project, capsys):
    work, cfg = project
    _two_quadrants(cfg)
    # predictions written by the reference release: no record of their feature files
    legacy = pd.DataFrame({"_id": np.arange(200), "vnv_xgb": 0.5})
    write_table(legacy, PREDS / "field_301.parquet")
    assert _run("--field", "301", "--whole-field") == 1
    assert "holds 200 rows and this run's feature files have 75" in capsys.readouterr().err
    assert len(read_table(PREDS / "field_301.parquet")) == 200


def test_text_valued_feature_column_is_refused_by_name(project, capsys):
    work, cfg = project
    ft = feature_table(cfg, n=20)
    ft["stetson_j"] = ft["stetson_j"].map(lambda v: f"{v:.3f}")  # text, as a broken export writes it
    write_table(ft, _gen_file(2, 3))
    capsys.readouterr()
    assert _run("--field", "301", "--whole-field") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "not numbers: stetson_j (text)" in err and "vnv_xgb" in err
    assert not (work / PREDS).exists() or not list((work / PREDS).glob("*.parquet"))


def test_text_column_in_a_csv_feature_file_is_refused(project, capsys):
    work, cfg = project
    ft = feature_table(cfg, n=10).drop(columns=["dmdt"])
    ft["wstd"] = ft["wstd"].astype(object)
    ft.loc[2, "wstd"] = "bad"
    ft.to_csv(work / "f.csv", index=False)
    assert _run("--features-file", "f.csv", "--field", "301") == 1
    assert "wstd (text)" in capsys.readouterr().err


def test_nothing_scored_exits_non_zero_and_writes_nothing(project, capsys):
    work, cfg = project
    _two_quadrants(cfg)
    assert _run("--field", "301", "--whole-field") == 0
    field = read_table(PREDS / "field_301.parquet")
    ft = feature_table(cfg, n=45, seed=2, ccd=2, quad=3)
    ft["wstd"] = np.nan  # numeric, but never filled: no model can score any source
    write_table(ft, _gen_file(2, 3))
    write_table(feature_table(cfg, n=30, seed=3, ccd=5, quad=1, first_id=1000).assign(wstd=np.nan), _gen_file(5, 1))
    assert _run("--field", "301", "--whole-field", "--flag-ids") == 1
    err = capsys.readouterr().err
    assert "nothing could be scored by vnv_xgb (missing: wstd in 75)" in err and "pnp_xgb" in err
    pd.testing.assert_frame_equal(read_table(PREDS / "field_301.parquet"), field)
    assert not (PREDS / "field_301_flagged.json").exists()
    assert not list(PREDS.glob(".*.tmp"))


def test_empty_feature_file_scores_nothing(project, capsys):
    work, cfg = project
    write_table(feature_table(cfg, n=5).iloc[:0], _gen_file(2, 3))
    assert _run("--field", "301", "--whole-field") == 1
    assert "nothing to score" in capsys.readouterr().err
    assert not (PREDS / "field_301.parquet").exists()


def test_read_only_output_folder_is_refused_before_any_work(project, read_only_dir, capsys):
    work, cfg = project
    ft = feature_table(cfg, n=20).drop(columns=["wstd"])  # would fail the schema check later
    write_table(ft, _gen_file(2, 3))
    assert _run("--field", "301", "--whole-field", "--output-dir", str(read_only_dir)) == 1
    err = capsys.readouterr().err
    assert "output folder" in err and str(read_only_dir) in err and "missing columns" not in err


def test_leftovers_of_a_killed_run_are_removed_by_the_next(project):
    work, cfg = project
    _two_quadrants(cfg)
    PREDS.mkdir(parents=True)
    stale = [PREDS / ".field_301.parquet.k1ll3d.tmp", PREDS / ".field_301.csv.x9y8z7.tmp",
             PREDS / ".ccd_01_quad_1.parquet.q1w2e3.tmp"]
    for p in stale:
        p.write_bytes(b"PAR1 half a file")
    live = PREDS / ".ccd_07_quad_2.parquet.l1v3r.tmp"  # a run in progress holds its lock
    live.write_bytes(b"PAR1 being written")
    fd = os.open(live, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert _run("--field", "301", "--whole-field", "--write-csv") == 0
        assert not any(p.exists() for p in stale)
        assert live.exists()
    finally:
        os.close(fd)
    assert sorted(p.name for p in PREDS.iterdir() if p.name.endswith(".tmp")) == [live.name]


@pytest.mark.slow
def test_really_killed_run_then_rerun(project):
    work, cfg = project
    big = pd.concat([feature_table(cfg, n=400, seed=s, first_id=1000 * s) for s in range(1, 6)], ignore_index=True)
    write_table(big, _gen_file(2, 3))
    cmd = [sys.executable, "-m", "tools.run_inference", "--no-progress", *GROUP, "--field", "301", "--whole-field",
           "--batch-size", "1"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list(PREDS.glob(".field_301.parquet.*.tmp")):
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(PREDS.glob(".field_301.parquet.*.tmp")), "the run ended before it could be killed"
    assert not (PREDS / "field_301.parquet").exists()
    assert _run("--field", "301", "--whole-field") == 0
    assert not list(PREDS.glob(".*.tmp"))
    assert len(read_table(PREDS / "field_301.parquet")) == 2000


def test_a_named_source_list_is_its_own_complete_field(project):
    work, cfg = project
    write_table(feature_table(cfg, n=8), work / "my_list.parquet")
    assert _run("--features-file", "my_list.parquet", "--field", "my_list") == 0
    preds = read_table(Path("preds_xgb") / "field_my_list" / "field_my_list.parquet")
    assert len(preds) == 8 and preds.attrs["coverage"]["complete"] is True
    assert preds.attrs["coverage"]["scope"] == "source_list"
