"""scope-train and the script generators without the ``train`` extra."""

from __future__ import annotations

import sys

from tools.create_inference_script import main as inference_script_main
from tools.create_training_script import main as training_script_main
from tools.scope_train import main as train_main


def _block(monkeypatch, *names):
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def test_scope_train_without_xgboost_or_tensorflow(project, training_file, monkeypatch, capsys):
    _block(monkeypatch, "xgboost", "tensorflow", "keras")
    for alg, package in (("xgb", "xgboost"), ("dnn", "tensorflow")):
        rc = train_main(["--tag", "vnv", "--algorithm", alg, "--path-dataset", str(training_file), "--save"])
        err = capsys.readouterr().err.strip()
        assert rc == 1 and len(err.splitlines()) == 1, err
        assert f"'{package}', which is not installed" in err and 'pip install "scope-ztf[train]"' in err
    assert not (project[0] / "models_xgb").exists() and not (project[0] / "models_dnn").exists()


def test_script_generators_warn_once_and_still_write(project, training_file, monkeypatch, capsys):
    folder, cfg = project
    assert train_main(["--tag", "vnv", "--algorithm", "xgb", "--path-dataset", str(training_file), "--skip-cv",
                       "--save"]) == 0
    capsys.readouterr()
    _block(monkeypatch, "xgboost")
    assert training_script_main(["--algorithm", "xgb", "--min-count", "50", "--path-dataset",
                                 str(training_file)]) == 0
    err = capsys.readouterr().err
    assert err.count("'xgboost', which is not installed here") == 1 and "scope-ztf[train]" in err
    assert inference_script_main(["--algorithm", "xgb", "--group-name", "experiment"]) == 0
    assert "the run-inference lines need the Python package 'xgboost'" in capsys.readouterr().err
    assert (folder / "train_script.sh").exists() and (folder / "get_all_preds_xgb.sh").exists()
