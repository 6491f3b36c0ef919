"""The Slurm commands: registered under the reference's names, every documented flag in --help,
clear one-line refusals; the feature loop's items (fields, sizes) without a cluster."""

import importlib
import json
import tomllib

import pytest

from tests.hpc.helpers import REPO

COMMANDS = {
    "generate-features-slurm": ["--job-name", "--cluster-name", "--partition-type", "--submit-partition-type",
                                "--nodes", "--gpus", "--memory-GB", "--submit-memory-GB", "--time", "--mail-user",
                                "--account-name", "--python-env-name", "--generateQuadrantFile", "--field-list",
                                "--max-instances", "--wait-time-minutes", "--doSubmitLoop", "--runParallel",
                                "--user", "--submit-interval-minutes", "--count-sources",
                                # and generate-features' own flags
                                "--doCPU", "--doGPU", "--quadrant-file", "--max-timestamp-hjd", "--fg-dataset"],
    "generate-features-job-submission": ["--dirname", "--filename", "--filetype", "--doSubmit", "--max-instances",
                                         "--wait-time-minutes", "--doSubmitLoop", "--runParallel", "--user",
                                         "--reset-running", "--submit-interval-minutes", "--max-retries", "--once"],
    "check-quads-for-sources": ["--fields", "--catalog", "--count-sources", "--minobs", "--save", "--filename"],
    "train-algorithm-slurm": ["--scriptname", "--dirname", "--job-name", "--cluster-name", "--partition-type",
                              "--submit-partition-type", "--nodes", "--Ncore", "--submit-nodes", "--submit-Ncore",
                              "--gpus", "--memory-GB", "--submit-memory-GB", "--time", "--mail-user",
                              "--account-name", "--python-env-name", "--user", "--generateTrainingFile",
                              "--max-instances", "--wait-time-minutes", "--submit-interval-seconds", "--sweep"],
    "train-algorithm-job-submission": ["--dirname", "--scriptname", "--filetype", "--user", "--max-instances",
                                       "--wait-time-minutes", "--submit-interval-seconds", "--sweep",
                                       "--reset-running", "--group-name"],
    "run-inference-slurm": ["--scriptname", "--dirname", "--job-name", "--cluster-name", "--partition-type",
                            "--submit-partition-type", "--nodes", "--Ncore", "--submit-nodes", "--submit-Ncore",
                            "--gpus", "--memory-GB", "--submit-memory-GB", "--time", "--mail-user",
                            "--account-name", "--python-env-name", "--user", "--algorithm", "--max-instances",
                            # and run-inference's own flags
                            "--group-name", "--paths-models", "--whole-field", "--flag-ids"],
    "run-inference-job-submission": ["--dirname", "--filetype", "--user", "--algorithm", "--max-instances",
                                     "--fields"],
    "combine-preds-slurm": ["--dirname", "--job-name", "--cluster-name", "--partition-type", "--nodes", "--Ncore",
                            "--memory-GB", "--time", "--mail-user", "--account-name", "--python-env-name",
                            "--path-to-preds", "--combined-preds-dirname", "--specific-field", "--use-config-fields",
                            "--dateobs", "--merge-dnn-xgb", "--dnn-directory", "--xgb-directory", "--doNotSave",
                            "--write-csv", "--agg-method", "--p-threshold", "--submit"],
}


def _entry(name):
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, func = scripts[name].split(":")
    return getattr(importlib.import_module(module), func)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_registered_with_every_documented_flag(name, capsys):
    main = _entry(name)
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: {name}")
    missing = [flag for flag in COMMANDS[name] if flag not in text]
    assert not missing, missing
    with pytest.raises(SystemExit) as exc:
        main(["--no-such-flag"])
    assert exc.value.code == 2


def test_loops_refuse_clearly_without_their_scripts(workdir, capsys):
    for name, argv in [("generate-features-job-submission", ["--doSubmit"]),
                       ("train-algorithm-job-submission", []),
                       ("run-inference-job-submission", ["--fields", "301"])]:
        assert _entry(name)(argv) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"{name}: error: job script not found") and "\n" not in err


def _feature_run(workdir, rows):
    from tools import generate_features_slurm

    assert generate_features_slurm.main(["--cluster-name", "plain", "--doCPU", "--doQuadrantFile", "-q",
                                         "--memory-GB", "4", "--time", "02:00:00"]) == 0
    slurm = workdir / "generated_features" / "slurm"
    (slurm / "slurm.dat").write_text("".join(f"{i} {f} {c} {q}\n" for i, (f, c, q) in enumerate(rows)))
    return slurm


def test_feature_loop_fields_and_status(workdir, capsys):
    from tools import generate_features_job_submission as loop

    _feature_run(workdir, [(301, 1, 1), (301, 1, 2), (302, 3, 4)])
    out = workdir / "generated_features" / "field_301"
    out.mkdir(parents=True)
    import pandas as pd

    pd.DataFrame({"a": [1]}).to_parquet(out / "gen_features_field_301_ccd_1_quad_1.parquet")
    (out / "gen_features_field_301_ccd_1_quad_2.parquet").write_text("half a file")  # unreadable: not done
    # no --doSubmit: status only (no Slurm needed), nothing submitted
    assert loop.main([]) == 0
    assert "1 of 3 done, 0 running, 0 pending, 0 failed (to retry), 0 gave up, 2 to submit" in capsys.readouterr().err
    assert loop.main(["--fields", "302"]) == 0
    assert "0 of 1 done" in capsys.readouterr().err
    (workdir / "config.yaml").write_text("feature_generation:\n  fields_to_run: [301]\nfields_to_exclude: [302]\n")
    assert loop.main([]) == 0
    assert "1 of 2 done" in capsys.readouterr().err
    (workdir / "config.yaml").write_text("feature_generation:\n  fields_to_run: [555]\n")
    assert loop.main([]) == 1
    assert "no row of" in capsys.readouterr().err
    (workdir / "generated_features" / "slurm" / "slurm.dat").write_text("0 301 17 1\n")
    (workdir / "config.yaml").unlink()
    assert loop.main([]) == 1
    assert "CCD 17 / quadrant 1 out of range" in capsys.readouterr().err


def test_jobs_sized_by_quadrant(workdir):
    from scope.config import load_config
    from scope.hpc.features import feature_items, size_job

    assert size_job(None, 0.1, 1.0, 4, "02:00:00") == (None, None)
    assert size_job(1000, 0.1, 1.0, 4, "02:00:00") == (None, None)           # below the script's floor
    assert size_job(100_000, 0.1, 1.0, 4, "02:00:00") == (16.0, "28:00:00")  # 1 + 9.8 GB -> 16; 27.8 h -> 28
    assert size_job(100_000, 0.1, 1.0, 4, "UNLIMITED") == (16.0, None)
    slurm = _feature_run(workdir, [(301, 1, 1), (301, 1, 2)])
    (slurm / "slurm_counts.json").write_text(json.dumps({"301": {"1": {"1": 10, "2": 200_000}}}))
    items = feature_items(load_config(), workdir / "generated_features", "gen_features", slurm / "slurm.dat",
                          counts_file=slurm / "slurm_counts.json", memory_per_source_mb=0.05,
                          seconds_per_source=0.5, floor_memory_gb=4, floor_time="02:00:00")
    assert [(i.key, i.memory_gb, i.time) for i in items] == [("0", None, None), ("1", 16.0, "28:00:00")]
