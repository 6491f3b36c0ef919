"""Fixtures of the inference tests: tiny models trained once per session, project folders."""

from __future__ import annotations

import shutil

import pytest

from tests.inference.synthetic import train_models, training_set

CONFIG = """
training:
  xgboost:
    other_training_params:
      num_boost_round: 30
"""


def _session_project(tmp_path_factory, name: str, **train_kw):
    from scope.config import load_config
    from scope.tables import write_table

    folder = tmp_path_factory.mktemp(name)
    (folder / "config.yaml").write_text(CONFIG)
    cfg = load_config(folder / "config.yaml")
    dataset = folder / "training_set.parquet"
    write_table(training_set(cfg), dataset)
    models = train_models(cfg, folder, dataset, **train_kw)
    return folder, models


@pytest.fixture(scope="session")
def xgb_models(tmp_path_factory):
    """A folder with ``models_xgb/experiment/{vnv,pnp}`` trained on a synthetic set; ``(folder, paths)``."""
    return _session_project(tmp_path_factory, "xgb_models", dnn_tags=())


@pytest.fixture(scope="session")
def dnn_models(tmp_path_factory):
    """A folder with ``models_dnn/experiment/vnv`` (one epoch); ``(folder, paths)``."""
    return _session_project(tmp_path_factory, "dnn_models", xgb_tags=())


@pytest.fixture
def project(tmp_path, monkeypatch, xgb_models):
    """A working folder (the CWD) with the test config and the session's XGB models copied in."""
    from scope.config import load_config

    folder, _ = xgb_models
    work = tmp_path / "project"
    work.mkdir()
    shutil.copytree(folder / "models_xgb", work / "models_xgb")
    (work / "config.yaml").write_text(CONFIG)
    monkeypatch.chdir(work)
    monkeypatch.delenv("SCOPE_CONFIG", raising=False)
    return work, load_config(work / "config.yaml")
