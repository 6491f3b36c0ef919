"""Without the ``train`` extra (no xgboost, no tensorflow) inference commands say so in one line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scope.tables import write_table
from tests.inference.synthetic import feature_table

REPO = Path(__file__).resolve().parents[2]


def _block(monkeypatch, *names):
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)  # an import of it now fails as if not installed


def test_run_inference_without_xgboost(project, monkeypatch, capsys):
    from tools.run_inference import main

    work, cfg = project
    write_table(feature_table(cfg, n=10), work / "f.parquet")
    _block(monkeypatch, "xgboost")
    rc = main(["--group-name", "experiment", "--xgb-model", "--features-file", "f.parquet", "--field", "301"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and len(err.splitlines()) == 1, err
    assert "'xgboost', which is not installed" in err and 'pip install "scope-ztf[train]"' in err
    assert not (work / "preds_xgb").exists()


def test_run_inference_without_tensorflow(project, dnn_models, monkeypatch, capsys):
    import shutil

    from tools.run_inference import main

    work, cfg = project
    shutil.copytree(dnn_models[0] / "models_dnn", work / "models_dnn")
    write_table(feature_table(cfg, n=10), work / "f.parquet")
    _block(monkeypatch, "tensorflow", "keras")
    rc = main(["--group-name", "experiment", "--algorithm", "dnn", "--features-file", "f.parquet", "--field", "301"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and len(err.splitlines()) == 1, err
    assert "'tensorflow', which is not installed" in err and "scope-ztf[train]" in err


def test_run_scope_local_without_xgboost_stops_before_any_work(project, monkeypatch, capsys):
    from tools.run_scope_local import main

    work, cfg = project
    (work / "objects.csv").write_text("ztf_id\n10301011000001\n")
    _block(monkeypatch, "xgboost")
    rc = main(["--path-dataset", "objects.csv", "--algorithms", "xgb", "--group-names", "experiment", "--doCPU"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and len(err.splitlines()) == 1, err
    assert "scope-ztf[train]" in err
    assert not list(work.glob("scope_local_*")) and not list(work.glob("generated_features_*"))


def test_documented_example_with_two_groups_for_one_algorithm(project, caplog):
    """The user docs' first run-scope-local line names two groups for one algorithm: as the
    reference, groups pair with algorithms in order and the extra one is left out (with a warning)."""
    from scope.inference.local import LocalOptions, _models

    work, cfg = project
    models = _models(cfg, LocalOptions(path_dataset="x.csv", algorithms=["xgb"],
                                       group_names=["experiment", "nobalance_DR16_DNN_stats"]))
    assert [m.column for m in models] == ["vnv_xgb", "pnp_xgb"]
    assert "nobalance_DR16_DNN_stats not used" in caplog.text and "xgb -> experiment" in caplog.text


@pytest.mark.slow
def test_run_scope_local_in_a_python_without_the_train_extra(project, tmp_path):
    """A real interpreter whose import system knows no xgboost or tensorflow (only the features extra)."""
    work, cfg = project
    (work / "objects.csv").write_text("ztf_id\n10301011000001\n")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent("""
        import sys
        class _NoTrainExtra:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("xgboost", "tensorflow", "keras"):
                    raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        sys.meta_path.insert(0, _NoTrainExtra())
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    proc = subprocess.run([sys.executable, "-m", "tools.run_scope_local", "--path-dataset", "objects.csv",
                           "--algorithms", "xgb", "dnn", "--group-names", "experiment", "--doCPU"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "'xgboost', which is not installed" in lines[0] and "scope-ztf[train]" in lines[0]
