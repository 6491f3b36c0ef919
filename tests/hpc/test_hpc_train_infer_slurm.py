"""The main job's training, inference and combining steps through their Slurm generators and loops on
the real test cluster give the same models' predictions as the serial steps (create-training-script ->
bash train_xgb.sh -> create-inference-script -> ./get_all_preds_xgb.sh 301 -> combine-preds)."""

import subprocess
import sys
import time

import pandas as pd
import pytest

from scope.tables import read_table, write_table
from tests.inference.synthetic import feature_table, training_set

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

CONFIG = "training:\n  xgboost:\n    other_training_params:\n      num_boost_round: 30\n"
LOOP = ["--wait-time-minutes", "0.02", "--submit-interval-seconds", "0"]
RESOURCES = ["--cluster-name", "plain", "--Ncore", "1", "--memory-GB", "2", "--time", "00:15:00"]


def _project(folder):
    from scope.config import load_config

    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(CONFIG)
    cfg = load_config(folder / "config.yaml")
    write_table(training_set(cfg, n=300), folder / "training_set.parquet")
    for quad in (1, 2):
        write_table(feature_table(cfg, n=40, seed=quad, ccd=2, quad=quad, first_id=100 * quad),
                    folder / "generated_features" / "field_301" / f"gen_features_field_301_ccd_2_quad_{quad}.parquet")
    return folder


def _run(argv, cwd):
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def _wait_for(job_id, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True).stdout
        state = next((kv.split("=", 1)[1] for kv in out.split() if kv.startswith("JobState=")), "")
        if state and state not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING"):
            return state
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


def _same_table(a, b):
    a, b = read_table(a), read_table(b)
    a.attrs, b.attrs = {}, {}
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-6)


def test_training_inference_and_combining_through_slurm(tmp_path, job_env):
    serial, slurm = _project(tmp_path / "serial"), _project(tmp_path / "slurm")
    for folder in (serial, slurm):
        _run(["create-training-script", "--algorithm", "xgb", "--filename", "train_xgb.sh", "--min-count", "100",
              "--path-dataset", "training_set.parquet", "--period-suffix", "ELS_ECE_EAOV",
              "--add-keywords", "--skip-cv --save --random-state 7"], folder)
    tags = [line.split()[2] for line in (serial / "train_xgb.sh").read_text().splitlines()
            if line.startswith("scope-train")]
    assert len(tags) >= 2

    # serial: the main job's way
    _run(["bash", "train_xgb.sh"], serial)
    _run(["create-inference-script", "--group-name", "experiment", "--algorithm", "xgb",
          "--feature-directory", "generated_features"], serial)
    _run(["./get_all_preds_xgb.sh", "301"], serial)
    _run(["combine-preds", "--specific-field", "301"], serial)

    # Slurm: generator, then its submission loop (throttled to one job at a time for inference)
    py_m = [sys.executable, "-m"]
    _run([*py_m, "tools.train_algorithm_slurm", "--scriptname", "train_xgb.sh", *RESOURCES, "--max-instances", "2",
          *LOOP], slurm)
    _run([*py_m, "tools.train_algorithm_job_submission", "--dirname", "xgb_training", "--scriptname",
          "train_xgb.sh", "--max-instances", "2", *LOOP], slurm)
    for tag in tags:
        assert list((slurm / "models_xgb" / "experiment" / tag).glob(f"{tag}.*.json")), tag
    _run(["create-inference-script", "--group-name", "experiment", "--algorithm", "xgb",
          "--feature-directory", "generated_features"], slurm)
    _run([*py_m, "tools.run_inference_slurm", "--algorithm", "xgb", "--fields", "301", *RESOURCES], slurm)
    loop = _run([*py_m, "tools.run_inference_job_submission", "--dirname", "xgb_inference", "--algorithm", "xgb",
                 "--fields", "301", "--max-instances", "1", *LOOP], slurm)
    assert "1 of 1 done" in loop.stderr
    _same_table(slurm / "preds_xgb" / "field_301" / "field_301.parquet",
                serial / "preds_xgb" / "field_301" / "field_301.parquet")

    job = _run([*py_m, "tools.combine_preds_slurm", "--specific-field", "301", "--cluster-name", "plain",
                "--memory-GB", "2", "--submit"], slurm).stdout.split()[-1]
    assert _wait_for(job) == "COMPLETED"
    _same_table(slurm / "preds_dnn_xgb" / "field_301.parquet", serial / "preds_dnn_xgb" / "field_301.parquet")

    # reruns submit nothing
    again = _run([*py_m, "tools.train_algorithm_job_submission", "--dirname", "xgb_training", "--scriptname",
                  "train_xgb.sh", *LOOP], slurm)
    assert f"{len(tags)} of {len(tags)} done" in again.stderr and "0 jobs submitted" in again.stderr
