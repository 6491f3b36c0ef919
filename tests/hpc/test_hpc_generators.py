"""Every generator passes its target command's flags through exactly (round trip through bash and
the target's own parser), writes nothing for unset options, and the reference layout."""

import shlex

import pytest

from scope.cli import build_parser

from tests.hpc.helpers import parsed, run_job_script, sample_argv, write_recorder

CLUSTER = ["--cluster-name", "plain"]
# options every command has (help, --config-path, --check-configs, logging): the generator handles them itself
COMMON = {a.dest for a in build_parser("x", "x")._actions}


@pytest.fixture
def recorder_bin(tmp_path):
    folder = tmp_path / "recorders"
    for name in ("generate-features", "scope-train", "run-inference", "combine-preds"):
        write_recorder(folder, name)
    return folder


def _job_script(workdir, *parts):
    return workdir.joinpath(*parts, "slurm", "slurm.sub")


# -- generate-features-slurm --------------------------------------------------------------------
def test_features_every_flag_round_trips(workdir, recorder_bin):
    from tools import generate_features, generate_features_slurm

    target = generate_features.get_parser()
    actions = [a for a in target._actions if a.option_strings]
    skip = COMMON | {"doGPU", "doSpecificIDs", "field", "ccd", "quad",
            "doQuadrantFile", "quadrant_file", "quadrant_index", "dirname", "output_dir"}
    given = ["--doCPU", *sample_argv(actions, skip=skip | {"doCPU"})]
    assert generate_features_slurm.main([*CLUSTER, *given, "--doQuadrantFile", "--quadrant-file", "q.dat",
                                         "--dirname", "feat dir", "--gpus", "0"]) == 0
    script = workdir / "feat dir" / "slurm" / "slurm.sub"
    [argv] = run_job_script(script, recorder_bin, workdir / "argv.json", QID="5")
    expected = parsed(target, [*given, "--dirname", "feat dir", "--doQuadrantFile", "--quadrant-file", "q.dat",
                               "--quadrant-index", "5"])
    assert parsed(target, argv) == expected
    # every generate-features option was given, and each reached the job
    assert {a.dest for a in actions} - skip - {"doCPU"} <= {k for k, v in expected.items()
                                                          if v != target.get_default(k)}


def test_features_unset_options_are_not_written(workdir, recorder_bin):
    from tools import generate_features, generate_features_slurm

    assert generate_features_slurm.main([*CLUSTER, "--doCPU", "--doQuadrantFile"]) == 0
    text = (workdir / "generated_features" / "slurm" / "slurm.sub").read_text()
    line = text.splitlines()[-1]
    assert "None" not in line and "--max-timestamp-hjd" not in line  # the reference wrote '--max-timestamp-hjd None'
    assert line == 'generate-features --doCPU --doQuadrantFile --quadrant-file slurm.dat --quadrant-index "$QID"'
    # each array task reads its own row (the reference hard-coded --quadrant-index 0)
    for qid in ("0", "3"):
        [argv] = run_job_script(workdir / "generated_features" / "slurm" / "slurm.sub", recorder_bin,
                                workdir / "argv.json", QID=qid)
        assert parsed(generate_features.get_parser(), argv)["quadrant_index"] == int(qid)


def test_features_layout_and_submission_line(workdir):
    from tools import generate_features_slurm

    assert generate_features_slurm.main([
        "--cluster-name", "Expanse", "--doGPU", "--doQuadrantFile", "--Ncore", "9", "--memory-GB", "91",
        "--mail-user", "someone@example.org", "--account-name", "abc123", "--max-instances", "7",
        "--wait-time-minutes", "2", "--submit-interval-minutes", "0.5", "--runParallel", "--user", "me",
        "--max-retries", "4"]) == 0
    root = workdir / "generated_features"
    job = (root / "slurm" / "slurm.sub").read_text().splitlines()
    assert job[:14] == [
        "#!/bin/bash", "#SBATCH --job-name=ztf_fg.job", f"#SBATCH --output={root}/logs/ztf_fg_%A_%a.out",
        f"#SBATCH --error={root}/logs/ztf_fg_%A_%a.err", f"#SBATCH --chdir={workdir}", "#SBATCH -p gpu-shared",
        "#SBATCH --nodes 1", "#SBATCH --ntasks-per-node 9", "#SBATCH --gpus 1", "#SBATCH --mem 91G",
        "#SBATCH --time=48:00:00", "#SBATCH --mail-type=ALL", "#SBATCH --mail-user=someone@example.org",
        "#SBATCH -A abc123"]
    assert job[14:18] == ["module purge", "module add gpu/0.15.4", "module add cuda", "source activate scope-env"]
    sub = (root / "slurm" / "slurm_submission.sub").read_text().splitlines()
    assert "#SBATCH -p shared" in sub and "#SBATCH --mem 16G" in sub and "module add slurm" in sub
    assert shlex.split(sub[-1]) == [
        "generate-features-job-submission", "--dirname", str(root), "--filename", "gen_features", "--doSubmit",
        "--runParallel", "--max-instances", "7", "--wait-time-minutes", "2", "--user", "me",
        "--submit-interval-minutes", "0.5", "--max-retries", "4"]
    assert (root / "logs").is_dir()


def test_features_single_quadrant_and_job_variables(workdir, recorder_bin):
    from tools import generate_features, generate_features_slurm

    assert generate_features_slurm.main([*CLUSTER, "--doCPU", "--field", "301", "--ccd", "2", "--quad", "4"]) == 0
    assert not (workdir / "generated_features" / "slurm" / "slurm_submission.sub").exists()
    [argv] = run_job_script(_job_script(workdir, "generated_features"), recorder_bin, workdir / "a.json")
    got = parsed(generate_features.get_parser(), argv)
    assert (got["field"], got["ccd"], got["quad"], got["doQuadrantFile"]) == (301, 2, 4, False)
    # a source-list batch per job: $IDX stays for the shell
    assert generate_features_slurm.main([*CLUSTER, "--doCPU", "--doSpecificIDs", "--fg-dataset",
                                         "lists/batch_$IDX.parquet", "--dirname", "ids"]) == 0
    [argv] = run_job_script(_job_script(workdir, "ids"), recorder_bin, workdir / "a.json", IDX="12")
    assert parsed(generate_features.get_parser(), argv)["fg_dataset"] == "lists/batch_12.parquet"


def test_features_refusals(workdir, capsys):
    from tools import generate_features_slurm

    assert generate_features_slurm.main([*CLUSTER, "--doQuadrantFile"]) == 1
    assert "give --doCPU or --doGPU" in capsys.readouterr().err
    assert generate_features_slurm.main([*CLUSTER, "--doCPU", "--doQuadrantFile", "--doSpecificIDs"]) == 1
    assert "choose one of --doQuadrantFile and --doSpecificIDs" in capsys.readouterr().err
    assert generate_features_slurm.main(["--cluster-name", "nowhere", "--doCPU"]) == 1
    assert "unknown cluster 'nowhere'" in capsys.readouterr().err
    assert generate_features_slurm.main([*CLUSTER, "--doCPU", "--time", "soon"]) == 1
    assert "'soon' is not a Slurm time" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        generate_features_slurm.main([*CLUSTER, "--doCPU", "--no-such-flag"])
    assert exc.value.code == 2


def test_features_read_only_folder(read_only_dir, monkeypatch, capsys):
    from tools import generate_features_slurm

    monkeypatch.chdir(read_only_dir)
    assert generate_features_slurm.main([*CLUSTER, "--doCPU", "--doQuadrantFile"]) == 1
    err = capsys.readouterr().err
    assert "generated_features" in err and ("cannot create output folder" in err or "not writable" in err)
    assert not any(read_only_dir.iterdir())


# -- train-algorithm-slurm ----------------------------------------------------------------------
TRAINING_SCRIPT = """#!/bin/bash
# Phenomenological
scope-train --tag vnv --algorithm xgb --path-dataset 'sets/training set.parquet' --group g1 --period-suffix ELS_ECE_EAOV --verbose --skip-cv --save --random-state 7
scope-train --tag pnp --algorithm XGB --path-dataset sets/other.parquet --group g2 --pre-trained-model models_xgb/g0/pnp/pnp.20240101_000000.json --balance None --float-convert-types 64 32 --callbacks early_stopping reduce_lr_on_plateau --no-dense-branch --amsgrad false --save
# Ontological
scope-train --tag rrlyr --algorithm xgb --path-dataset sets/other.parquet --threshold 0.8 --save
"""


def test_training_every_line_round_trips(workdir, recorder_bin):
    from tools import scope_train, train_algorithm_slurm

    (workdir / "train.sh").write_text(TRAINING_SCRIPT)
    assert train_algorithm_slurm.main([*CLUSTER, "--scriptname", "train.sh", "--max-instances", "3"]) == 0
    script = workdir / "xgb_training" / "slurm" / "slurm.sub"
    parser = scope_train.build_parser()
    for line in TRAINING_SCRIPT.splitlines():
        if not line.startswith("scope-train"):
            continue
        words = shlex.split(line)[1:]
        tag = words[words.index("--tag") + 1]
        [argv] = run_job_script(script, recorder_bin, workdir / "a.json", TID=tag)
        # group, algorithm and every other option of that class's own line (the reference dropped
        # --group/--algorithm and used the last line's options for every class)
        assert parsed(parser, argv) == parsed(parser, words)
    sub = shlex.split((workdir / "xgb_training" / "slurm" / "slurm_submission.sub").read_text().splitlines()[-1])
    assert sub[:5] == ["train-algorithm-job-submission", "--dirname", str(workdir / "xgb_training"), "--scriptname",
                       str(workdir / "train.sh")]
    assert sub[sub.index("--max-instances") + 1] == "3"
    assert "#SBATCH --job-name=train_xgb.job" in script.read_text()
    assert "#SBATCH --gpus" not in script.read_text()  # XGBoost needs no GPU


def test_training_shared_line_sweep_and_tag_file(workdir, recorder_bin):
    from tools import scope_train, train_algorithm_slurm

    lines = [f"scope-train --tag {t} --algorithm dnn --path-dataset ts.parquet --epochs 3 --save" for t in ("a", "b")]
    (workdir / "t.sh").write_text("\n".join(lines) + "\n")
    assert train_algorithm_slurm.main([*CLUSTER, "--scriptname", "t.sh", "--sweep", "--generateTrainingFile"]) == 0
    script = workdir / "dnn_training" / "slurm" / "slurm.sub"
    text = script.read_text()
    assert 'scope-train --tag "$TID"' in text and "case" not in text
    assert "#SBATCH --job-name=train_dnn_sweep.job" in text and "#SBATCH --gpus 1" in text
    assert (workdir / "dnn_training" / "slurm" / "slurm.dat").read_text() == "0 a\n1 b\n"
    # sbatch --array=0-1 slurm.sub without the loop: task 1 trains class b
    [argv] = run_job_script(script, recorder_bin, workdir / "a.json", SLURM_ARRAY_TASK_ID="1")
    got = parsed(scope_train.build_parser(), argv)
    assert got["tag"] == "b" and got["run_sweeps"] is True and got["epochs"] == 3


def test_training_script_errors_name_the_line(workdir, capsys):
    from tools import train_algorithm_slurm

    (workdir / "old.sh").write_text("scope-train --tag vnv --algorithm dnn --path_dataset x.parquet\n")
    assert train_algorithm_slurm.main([*CLUSTER, "--scriptname", "old.sh"]) == 1
    err = capsys.readouterr().err
    assert "old.sh line 1" in err and "--path_dataset" in err
    (workdir / "mixed.sh").write_text("scope-train --tag a --algorithm dnn\nscope-train --tag b --algorithm xgb\n")
    assert train_algorithm_slurm.main([*CLUSTER, "--scriptname", "mixed.sh"]) == 1
    assert "mixes algorithms dnn and xgb" in capsys.readouterr().err
    assert train_algorithm_slurm.main([*CLUSTER, "--scriptname", "missing.sh"]) == 1
    assert "training script not found" in capsys.readouterr().err


# -- run-inference-slurm ------------------------------------------------------------------------
def test_inference_every_flag_round_trips(workdir, recorder_bin):
    from tools import run_inference, run_inference_slurm

    target = run_inference.get_parser()
    actions = [a for a in target._actions if a.option_strings]
    skip = COMMON | {"algorithm", "field", "output_dir", "xgb_model"}
    given = sample_argv(actions, skip=skip)
    assert run_inference_slurm.main([*CLUSTER, *given, "--algorithm", "xgb", "--fields", "301", "302"]) == 0
    script = workdir / "xgb_inference" / "slurm" / "slurm.sub"
    [argv] = run_job_script(script, recorder_bin, workdir / "a.json", FID="302")
    assert parsed(target, argv) == parsed(target, [*given, "--algorithm", "xgb", "--field", "302"])
    sub = shlex.split((workdir / "xgb_inference" / "slurm" / "slurm_submission.sub").read_text().splitlines()[-1])
    assert sub[sub.index("--fields") + 1:] == ["301", "302"] and sub[sub.index("--algorithm") + 1] == "xgb"


def test_inference_script_mode(workdir, recorder_bin, capsys):
    from tools import run_inference_slurm

    assert run_inference_slurm.main([*CLUSTER, "--algorithm", "dnn"]) == 1
    assert "inference script not found" in capsys.readouterr().err
    write_recorder(workdir, "get_all_preds_dnn.sh")
    assert run_inference_slurm.main([*CLUSTER, "--algorithm", "dnn", "--gpus", "0"]) == 0
    text = (workdir / "dnn_inference" / "slurm" / "slurm.sub").read_text()
    assert text.splitlines()[-1] == f'{workdir / "get_all_preds_dnn.sh"} "$FID"'
    assert run_job_script(workdir / "dnn_inference" / "slurm" / "slurm.sub", recorder_bin, workdir / "a.json",
                          FID="296") == [["296"]]


# -- combine-preds-slurm ------------------------------------------------------------------------
def test_combine_every_flag_round_trips_and_unset_stay_unset(workdir, recorder_bin):
    from tools import combine_preds, combine_preds_slurm

    target = combine_preds.get_parser()
    actions = [a for a in target._actions if a.option_strings]
    given = sample_argv(actions, skip=COMMON)
    assert combine_preds_slurm.main([*CLUSTER, *given]) == 0
    script = workdir / "combine_preds" / "slurm" / "slurm.sub"
    [argv] = run_job_script(script, recorder_bin, workdir / "a.json")
    assert parsed(target, argv) == parsed(target, given)
    # the reference's example: only what is given (it wrote --specific-field None --dateobs None)
    assert combine_preds_slurm.main([*CLUSTER, "--use-config-fields", "--write-csv"]) == 0
    assert script.read_text().splitlines()[-1] == "combine-preds --use-config-fields --write-csv"
    assert "#SBATCH --mem 128G" in script.read_text() and "#SBATCH --gpus" not in script.read_text()
