"""No line is printed twice: one logging handler per message, and a command does not restate its library's summary."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from scope import cli
from scope.tables import write_table


def _lines(captured) -> list[str]:
    return [line for line in (captured.out + captured.err).splitlines() if line.strip()]


def test_every_record_is_written_once_however_often_logging_is_set_up(capsys):
    cli.setup_logging()
    cli.setup_logging(verbose=1)
    logging.getLogger("scope.some.module").info("from the library")
    logging.getLogger("tools.some_command").info("from a command")
    logging.getLogger().warning("from elsewhere")  # not ours: the root logger's business
    assert _lines(capsys.readouterr()).count("from the library") == 1
    cli.setup_logging()
    logging.getLogger("tools.some_command").info("from a command")
    assert _lines(capsys.readouterr()).count("from a command") == 1


@pytest.fixture
def project(workdir):
    from tests.inference.synthetic import training_set

    (workdir / "config.yaml").write_text("training:\n  xgboost:\n    other_training_params:\n"
                                         "      num_boost_round: 10\n")
    from scope.config import load_config

    cfg = load_config(workdir / "config.yaml")
    write_table(training_set(cfg, n=200), workdir / "training_set.parquet")
    return workdir, cfg


def test_build_training_set_reports_unmatched_labels_once(project, capsys):
    from tools.build_training_set import main

    folder, _ = project
    rng = np.random.default_rng(0)
    ids = 10**13 + np.arange(20, dtype=np.int64)
    features = pd.DataFrame({"_id": ids, "ra": rng.uniform(10, 11, 20), "dec": rng.uniform(20, 21, 20),
                             "wstd": rng.normal(size=20)})
    write_table(features, folder / "features.parquet")
    pd.DataFrame({"id": [ids[0], ids[5], 7], "class": ["rrab", "ea", "ew"]}).to_csv(folder / "truth.csv", index=False)
    assert main(["--labels", "truth.csv", "--features", "features.parquet", "--output", "ts.parquet"]) == 0
    lines = _lines(capsys.readouterr())
    assert sum("1 of 3 labels" in line for line in lines) == 1, lines
    assert sum("ts.parquet" in line for line in lines) == 1, lines


def test_create_training_script_summarizes_once(project, capsys):
    from tools.create_training_script import main

    assert main(["--filename", "train.sh", "--min-count", "20", "--path-dataset", "training_set.parquet",
                 "--algorithm", "xgb"]) == 0
    lines = _lines(capsys.readouterr())
    assert sum("train.sh" in line for line in lines) == 1, lines


def test_scope_train_and_assemble_training_stats_summarize_once(project, capsys):
    from tools.assemble_training_stats import main as assemble
    from tools.scope_train import main as train

    assert train(["--tag", "vnv", "--algorithm", "xgb", "--path-dataset", "training_set.parquet", "--skip-cv",
                  "--save", "--plot"]) == 0
    lines = _lines(capsys.readouterr())
    assert sum("models_xgb/experiment/vnv/vnv." in line for line in lines) == 1, lines
    assert assemble(["--algorithm", "xgb"]) == 0
    lines = _lines(capsys.readouterr())
    assert sum("metrics of 1 classes" in line for line in lines) == 1, lines
    assert len(lines) == len(set(lines))
