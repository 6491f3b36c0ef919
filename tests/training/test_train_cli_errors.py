"""scope-train refuses bad input with one-line errors naming the class or column."""

from __future__ import annotations

import numpy as np
import pytest

from tools.scope_train import build_parser, main


def _run(capsys, *args):
    rc = main(list(args))
    err = capsys.readouterr().err.strip()
    return rc, err


def test_unknown_flag_is_an_argparse_error(project, training_file, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--tag", "vnv", "--path_dataset", str(training_file)])  # the reference's underscore typo
    assert exc.value.code == 2
    assert "unrecognized arguments: --path_dataset" in capsys.readouterr().err


def test_too_few_positives_names_the_class(project, training_file, capsys):
    from scope.tables import read_table, write_table

    df = read_table(training_file)
    df["RR Lyrae"] = 0.0
    df.loc[:2, "RR Lyrae"] = 1.0
    write_table(df, "few.parquet")
    rc, err = _run(capsys, "--tag", "rrlyr", "--algorithm", "xgb", "--path-dataset", "few.parquet")
    assert rc == 1 and len(err.splitlines()) == 1
    assert "class 'rrlyr' has only 3 positive examples ('RR Lyrae' > 0.7)" in err


def test_missing_label_column_names_it(project, training_file, capsys):
    rc, err = _run(capsys, "--tag", "agn", "--algorithm", "xgb", "--path-dataset", str(training_file))
    assert rc == 1 and len(err.splitlines()) == 1
    assert "no label column 'AGN' (needed by class 'agn')" in err


def test_missing_feature_names_it(project, training_file, capsys):
    from scope.tables import read_table, write_table

    df = read_table(training_file).drop(columns=["stetson_j"])
    write_table(df, "less.parquet")
    rc, err = _run(capsys, "--tag", "vnv", "--algorithm", "xgb", "--path-dataset", "less.parquet")
    assert rc == 1 and len(err.splitlines()) == 1
    assert "'stetson_j' needed by class 'vnv'" in err
    # a wrong period suffix: every periodic feature is missing, and the message says which suffix
    rc, err = _run(capsys, "--tag", "vnv", "--algorithm", "xgb", "--path-dataset", str(training_file),
                   "--period-suffix", "LS")
    assert rc == 1 and "'f1_BIC_LS'" in err and "period suffix 'LS'" in err  # the first periodic feature


def test_non_numeric_feature_names_it(project, training_file, capsys):
    from scope.tables import read_table, write_table

    df = read_table(training_file)
    df["skew"] = np.where(np.arange(len(df)) % 7 == 0, "n/a", df["skew"].astype(str))
    write_table(df, "text.parquet")
    rc, err = _run(capsys, "--tag", "vnv", "--algorithm", "xgb", "--path-dataset", "text.parquet")
    assert rc == 1 and len(err.splitlines()) == 1
    assert "feature column 'skew'" in err and "not numeric" in err


def test_missing_dataset_and_unknown_tag(project, capsys):
    rc, err = _run(capsys, "--tag", "vnv", "--path-dataset", "nowhere.parquet")
    assert rc == 1 and "training set not found: nowhere.parquet" in err
    rc, err = _run(capsys, "--tag", "zzz", "--path-dataset", "nowhere.parquet")
    assert rc == 1 and "unknown class tag 'zzz'" in err


def test_reference_style_flags_parse():
    args = build_parser().parse_args(
        "--tag vnv --path-dataset d.csv --batch-size 64 --epochs 100 --verbose 1 "
        "--pre-trained-model models/experiment/vnv/vnv.20221117_001502.h5 --balance None "
        "--float-convert-types 64 32 --callbacks early_stopping --conv-branch --gpu 1".split())
    assert args.verbose == 1 and args.balance == "none" and args.float_convert_types == [64, 32]
    assert args.conv_branch is True and args.gpu == 1 and args.callbacks == ["early_stopping"]
    assert build_parser().parse_args(["--tag", "x"]).save is None  # absent flags defer to the config
