"""A whole demo field through generate-features-slurm and generate-features-job-submission on the
real test cluster: one job killed mid-run is resubmitted, the files equal a serial run's file by
file, and a second run of the loop submits nothing."""

import json
import os
import subprocess
import threading
import time

import pandas as pd
import pytest

from scope.tables import read_table
from tests.hpc.helpers import copy_demo

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

# a coarse grid: the test is about the plumbing, the numbers are checked elsewhere
FEATURE_FLAGS = ["--doCPU", "--max-freq", "4", "--samples-per-peak", "2", "--Ncore", "1", "--min-n-lc-points", "30"]
QUADRANTS = [(3, 1), (3, 2), (5, 1), (5, 2)]


@pytest.fixture(scope="module")
def serial_features(demo_field, tmp_path_factory):
    """The field computed quadrant by quadrant in this process (the serial main job's way)."""
    from tools.generate_features import main

    folder = copy_demo(demo_field, tmp_path_factory.mktemp("serial") / "demo")
    old = os.getcwd()
    os.chdir(folder)
    try:
        for ccd, quad in QUADRANTS:
            assert main(["--field", "301", "--ccd", str(ccd), "--quad", str(quad), *FEATURE_FLAGS, "-q"]) == 0
    finally:
        os.chdir(old)
    return folder / "generated_features" / "field_301"


def _frames_equal(a, b):
    a, b = read_table(a), read_table(b)
    a.attrs, b.attrs = {}, {}
    pd.testing.assert_frame_equal(a, b)


def _kill_first_running(ledger_path, stop_at):
    """scancel the first array task seen RUNNING; returns its job id."""
    while time.time() < stop_at:
        if ledger_path.exists():
            try:
                items = json.loads(ledger_path.read_text())["items"]
            except ValueError:
                items = {}
            jobs = [r["attempts"][0]["job"] for r in items.values() if r.get("attempts")]
            if jobs:
                queue = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T"], capture_output=True, text=True).stdout
                running = [j for j, s in (line.split() for line in queue.splitlines()) if s == "RUNNING" and j in jobs]
                if running:
                    subprocess.run(["scancel", running[0]], check=True)
                    return running[0]
        time.sleep(0.2)
    return None


def test_field_through_slurm_equals_serial_with_a_killed_job(serial_features, demo_field, tmp_path, job_env,
                                                             monkeypatch, capsys):
    from tools.generate_features_job_submission import main as submit
    from tools.generate_features_slurm import main as generate

    project = copy_demo(demo_field, tmp_path / "demo")
    monkeypatch.chdir(project)
    assert generate(["--cluster-name", "plain", "--generateQuadrantFile", "--field-list", "301", "--count-sources",
                     "--gpus", "0", "--memory-GB", "1", "--time", "00:15:00", *FEATURE_FLAGS,
                     "--runParallel", "--max-instances", "2", "--wait-time-minutes", "0.02",
                     "--submit-interval-minutes", "0"]) == 0
    root = project / "generated_features"
    assert (root / "slurm" / "slurm.dat").read_text().splitlines() == [
        f"{i} 301 {c} {q}" for i, (c, q) in enumerate(QUADRANTS)]

    loop_args = ["--doSubmit", "--runParallel", "--max-instances", "2", "--wait-time-minutes", "0.02",
                 "--submit-interval-minutes", "0"]
    result = {}
    worker = threading.Thread(target=lambda: result.update(rc=submit(loop_args)))
    worker.start()
    killed = _kill_first_running(root / "slurm" / "jobs.json", time.time() + 120)
    worker.join(600)
    assert killed, "no job was seen running"
    log = capsys.readouterr().err
    assert result["rc"] == 0, log[-3000:]

    made = sorted(p.name for p in (root / "field_301").glob("*.parquet"))
    assert made == sorted(p.name for p in serial_features.glob("*.parquet")) and len(made) == 4
    for name in made:
        _frames_equal(root / "field_301" / name, serial_features / name)
    ledger = json.loads((root / "slurm" / "jobs.json").read_text())
    states = {k: [a["state"] for a in r["attempts"]] for k, r in ledger["items"].items()}
    assert sum(s == ["CANCELLED", "COMPLETED"] for s in states.values()) == 1, states
    assert all(s[-1] == "COMPLETED" for s in states.values())
    assert f"job {killed} CANCELLED" in log

    # a second run (cron, or by hand) finds everything done and submits nothing
    assert submit(loop_args) == 0
    log = capsys.readouterr().err
    assert "4 of 4 done" in log and "0 jobs submitted" in log
    assert json.loads((root / "slurm" / "jobs.json").read_text())["arrays"] == ledger["arrays"]
    # --doSubmitLoop asks no question (the reference called input() inside the batch job)
    assert submit(["--doSubmitLoop", "--runParallel", "--wait-time-minutes", "0.02"]) == 0
    assert "0 jobs submitted" in capsys.readouterr().err


def test_the_submission_script_runs_the_loop_as_a_job(serial_features, demo_field, tmp_path, job_env, monkeypatch):
    """sbatch slurm_submission.sub: the loop itself runs as a Slurm job and submits the quadrant jobs."""
    from tools.generate_features_slurm import main as generate

    project = copy_demo(demo_field, tmp_path / "demo")
    monkeypatch.chdir(project)
    assert generate(["--cluster-name", "plain", "--generateQuadrantFile", "--field-list", "301", "--gpus", "0",
                     "--memory-GB", "1", "--submit-memory-GB", "1", "--time", "00:15:00", *FEATURE_FLAGS,
                     "--runParallel", "--max-instances", "1", "--wait-time-minutes", "0.02",
                     "--submit-interval-minutes", "0"]) == 0
    root = project / "generated_features"
    proc = subprocess.run(["sbatch", "--wait", "--parsable", str(root / "slurm" / "slurm_submission.sub")],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    job = proc.stdout.strip()
    log = (root / "logs" / f"ztf_fg_submit_{job}.err").read_text()
    assert "4 of 4 done" in log and "gave up on" not in log
    for path in sorted(serial_features.glob("*.parquet")):
        _frames_equal(root / "field_301" / path.name, path)
