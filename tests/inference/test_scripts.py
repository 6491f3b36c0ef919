"""create-inference-script: the generated get_all_preds script runs as written."""

from __future__ import annotations

import os
import subprocess
import sys

from scope.tables import read_table, write_table
from tests.inference.synthetic import feature_table
from tools.create_inference_script import main


def _bash(script, *args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "SCOPE_CONFIG"}
    return subprocess.run(["bash", str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_generated_script_runs_for_a_field_from_anywhere(project, tmp_path):
    work, cfg = project
    (work / "models_xgb" / "experiment" / "sweeps").mkdir()  # not a class: skipped
    write_table(feature_table(cfg, n=25), work / "generated_features" / "field_301" /
                "gen_features_field_301_ccd_2_quad_3.parquet")
    assert main(["--group-name", "experiment", "--algorithm", "xgb", "--feature-directory", "generated_features",
                 "--use-custom-python", "--path-to-python", sys.executable, "--write-csv"]) == 0
    script = work / "get_all_preds_xgb.sh"
    text = script.read_text()
    assert text.startswith("#!/bin/bash\n# Call script followed by field number")
    assert os.access(script, os.X_OK)
    assert 'echo "xgb inference"' in text and "--model-class-names vnv pnp" in text
    assert "models_xgb/experiment/vnv/vnv." in text and str(work) not in text  # relative, portable paths
    assert "-m tools.run_inference" in text and "--xgb-model" in text and '--field "$1"' in text
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _bash(script, "301", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "xgb inference" in done.stdout and "done" in done.stdout
    preds = read_table(work / "preds_xgb" / "field_301" / "field_301.parquet")
    assert len(preds) == 25 and list(preds.columns[-2:]) == ["vnv_xgb", "pnp_xgb"]
    assert (work / "preds_xgb" / "field_301" / "field_301.csv").exists()
    # no field: usage and a non-zero exit; a failing inference fails the script
    assert _bash(script, cwd=elsewhere).returncode == 2
    failed = _bash(script, "302", cwd=elsewhere)
    assert failed.returncode != 0 and "done" not in failed.stdout


def test_script_for_source_lists_and_no_secrets(project, monkeypatch, capsys):
    work, cfg = project
    (work / "config.yaml").write_text((work / "config.yaml").read_text() + """
kowalski:
  instances:
    kowalski: {host: localhost, token: s3cr3t-token-value}
""")
    monkeypatch.setenv("FRITZ_TOKEN", "another-s3cret")
    ft = feature_table(cfg, n=6)
    ft.insert(1, "fritz_name", [f"src_{i}" for i in range(6)])
    write_table(ft, work / "generated_features" / "specific_ids" / "gen_features_specific_ids.parquet")
    assert main(["--group-name", "experiment", "--algorithm", "xgb", "--feature-directory", "generated_features",
                 "--use-custom-python", "--config-path", "config.yaml", "--filename", "scripts/preds.sh"]) == 0
    script = work / "scripts" / "preds.sh"
    text = script.read_text()
    assert "s3cr3t" not in text and "another-s3cret" not in text
    assert 'cd "$(dirname "$0")"/..' in text
    assert " models_xgb/experiment/pnp/pnp." in text and "--config-path config.yaml" in text
    done = _bash(script, "specific_ids", cwd=work)
    assert done.returncode == 0, done.stderr
    # the script runs in the project folder, wherever it is called from
    preds = read_table(work / "preds_xgb" / "field_specific_ids" / "field_specific_ids.parquet")
    assert preds["obj_id"].tolist() == [f"src_{i}" for i in range(6)]
    # an existing script is not replaced without --overwrite
    assert main(["--group-name", "experiment", "--algorithm", "xgb", "--filename", "scripts/preds.sh"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["--group-name", "experiment", "--algorithm", "xgb", "--filename", "scripts/preds.sh",
                 "--overwrite"]) == 0


def test_script_output_is_one_message_per_line_without_warnings_about_its_own_flags(project, tmp_path):
    from tests.inference.synthetic import training_set
    from tools.scope_train import main as train_main

    work, cfg = project
    write_table(training_set(cfg), work / "training_set.parquet")
    # a model trained with another scaling than the --scale-features the script passes (min_max)
    assert train_main(["--tag", "vnv", "--algorithm", "xgb", "--path-dataset", "training_set.parquet", "--skip-cv",
                       "--save", "--scale-features", "median_std", "-q"]) == 0
    write_table(feature_table(cfg, n=25), work / "generated_features" / "field_301" /
                "gen_features_field_301_ccd_2_quad_3.parquet")
    assert main(["--group-name", "experiment", "--algorithm", "xgb", "--feature-directory", "generated_features",
                 "--use-custom-python", "--path-to-python", sys.executable]) == 0
    done = _bash(work / "get_all_preds_xgb.sh", "301", cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["xgb inference", "Running inference of 2 xgb model(s) on 301...", "done"]
    assert "--scale-features" not in done.stderr and "warning" not in done.stderr.lower(), done.stderr
