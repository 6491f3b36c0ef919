"""create-training-script lines are accepted by scope-train exactly; assemble-training-stats."""

from __future__ import annotations

import os
import shlex

import pandas as pd

from tools.assemble_training_stats import main as assemble_main
from tools.create_training_script import main as script_main
from tools.scope_train import build_parser
from tools.scope_train import main as train_main


def _lines(path):
    return [ln for ln in path.read_text().splitlines() if ln.startswith("scope-train")]


def test_every_line_parses_and_one_trains(project, training_file, capsys):
    folder, cfg = project
    rc = script_main(["--filename", "train_xgb.sh", "--algorithm", "xgb", "--min-count", "50",
                      "--path-dataset", training_file.name,
                      "--add-keywords", "--save --skip-cv --group new_experiment --test-size 0.2"])
    assert rc == 0
    script = folder / "train_xgb.sh"
    text = script.read_text().splitlines()
    assert text[0] == "#!/bin/bash" and text[1] == "# Phenomenological" and "# Ontological" in text
    assert os.access(script, os.X_OK)
    lines = _lines(script)
    tags = [shlex.split(ln)[2] for ln in lines]
    # classes of the synthetic set with >= 50 positives, phenomenological first, config order
    # the synthetic set's classes with >= 50 positives: phenomenological first, in config order
    assert tags == ["vnv", "pnp", "saw", "longt", "i", "fla", "e", "ea", "bis", "lpv", "puls", "rrlyr"]
    parser = build_parser()
    for line in lines:
        tokens = shlex.split(line)
        assert tokens[0] == "scope-train"
        args = parser.parse_args(tokens[1:])  # strict: an unknown option would exit
        assert args.path_dataset == training_file.name and args.algorithm == "xgb"
        assert args.period_suffix == "ELS_ECE_EAOV" and args.group == "new_experiment" and args.save
    # run the rrlyr line for real
    line = next(ln for ln in lines if " rrlyr " in ln)
    assert train_main(shlex.split(line)[1:]) == 0
    assert list((folder / "models_xgb" / "new_experiment" / "rrlyr").glob("rrlyr.*.json"))


def test_no_class_reaching_min_count_writes_nothing_and_says_why(project, training_file, capsys):
    folder, cfg = project
    assert script_main(["--filename", "s.sh", "--min-count", "350", "--path-dataset", str(training_file)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err  # the warning about classes without labels, then the error
    assert err[-1].startswith("create-training-script: error: no training line to write")
    assert "no class reaches --min-count 350 positives (most: vnv" in err[-1]
    assert not (folder / "s.sh").exists()


def test_existing_file_is_kept(project, training_file, capsys):
    folder, cfg = project
    (folder / "s.sh").write_text("# mine\n")
    rc = script_main(["--filename", "s.sh", "--path-dataset", str(training_file)])
    assert rc == 1 and "s.sh already exists" in capsys.readouterr().err
    assert (folder / "s.sh").read_text() == "# mine\n"


def test_label_values_outside_0_1_are_refused(project, training_file, capsys):
    from scope.tables import read_table, write_table

    folder, cfg = project
    df = read_table(training_file)
    df.loc[:4, "periodic"] = 75.0  # percent instead of a probability
    write_table(df, folder / "pct.parquet")
    assert script_main(["--filename", "s.sh", "--min-count", "10", "--path-dataset", "pct.parquet"]) == 1
    err = capsys.readouterr().err
    assert "label values outside [0, 1]" in err and "'periodic' (5, e.g. 75)" in err
    assert not (folder / "s.sh").exists()
    rc = train_main(["--tag", "pnp", "--algorithm", "xgb", "--path-dataset", "pct.parquet", "--skip-cv"])
    err = capsys.readouterr().err
    assert rc == 1 and "label values outside [0, 1]" in err and "'periodic' (5, e.g. 75)" in err


def test_classes_without_label_columns_are_named_once(project, training_file, capsys):
    folder, cfg = project
    assert script_main(["--filename", "s.sh", "--min-count", "50", "--path-dataset", str(training_file)]) == 0
    err = capsys.readouterr().err.splitlines()
    warned = [ln for ln in err if "no label column" in ln]
    assert len(warned) == 1 and "agn ('AGN')" in warned[0]
    assert len(err) <= 3, err  # a summary, not one line per class


def test_pre_trained_group_and_train_all(project, training_file):
    folder, cfg = project
    assert train_main(["--tag", "pnp", "--algorithm", "xgb", "--path-dataset", str(training_file), "--skip-cv",
                       "--save", "--group", "old"]) == 0
    model = next((folder / "models_xgb" / "old" / "pnp").glob("pnp.*[0-9].json"))
    script_main(["--filename", "a.sh", "--algorithm", "xgb", "--min-count", "50",
                 "--path-dataset", str(training_file), "--pre-trained-group-name", "old"])
    lines = _lines(folder / "a.sh")
    assert len(lines) == 1 and f"--pre-trained-model models_xgb/old/pnp/{model.name}" in lines[0]
    script_main(["--filename", "b.sh", "--algorithm", "xgb", "--min-count", "50", "--period-suffix", "None",
                 "--path-dataset", str(training_file), "--pre-trained-group-name", "old", "--train-all"])
    lines = _lines(folder / "b.sh")
    assert len(lines) > 3 and sum("--pre-trained-model" in ln for ln in lines) == 1
    assert all("--period-suffix None" in ln for ln in lines)
    # the continued line runs
    pnp_line = next(ln for ln in _lines(folder / "a.sh"))
    assert train_main(shlex.split(pnp_line)[1:] + ["--save"]) == 0


def test_assemble_training_stats(project, training_file, capsys):
    folder, cfg = project
    for tag in ("vnv", "pnp"):
        assert train_main(["--tag", tag, "--algorithm", "xgb", "--path-dataset", str(training_file),
                           "--skip-cv", "--save", "--group", "g"]) == 0
    (folder / "models_xgb" / "g" / "sweeps").mkdir()  # not a class: ignored
    (folder / "models_xgb" / "g" / "empty").mkdir()  # no model: reported, not a crash
    assert assemble_main(["--group-name", "g", "--algorithm", "xgb", "--set-name", "test"]) == 0
    table = pd.read_csv(folder / "xgb_stats" / "g_test_stats.csv")
    assert sorted(table["tag"]) == ["pnp", "vnv"] and (table["roc_auc"] > 0.9).all()
    assert len(list((folder / "xgb_stats").glob("*_stats.json"))) == 2
    assert len(list((folder / "xgb_feature_importance").glob("*_impvars.json"))) == 2
    assert assemble_main(["--group-name", "nope", "--algorithm", "xgb"]) == 1
