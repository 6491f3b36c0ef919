"""Shared test fixtures: real data from ../shared/data, tiny archives, config files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import logging

import pytest

pytest_plugins = ["tests.loopback.kowalski_fixtures"]

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("WANDB_MODE", "disabled")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SCOPE_SHARED_DATA", REPO.parent / "shared" / "data"))
DR5_FILE = SHARED_DATA / "ztf_dr5_field202_rc61_zg.parquet"


def pytest_collection_modifyitems(config, items):
    import importlib.util

    has_gpu = False
    if importlib.util.find_spec("cupy") is not None:
        try:
            import cupy

            has_gpu = bool(cupy.cuda.is_available())
        except Exception:  # any CUDA failure means: no usable GPU
            has_gpu = False
    if has_gpu or os.environ.get("SCOPE_REQUIRE_GPU") == "1":
        return
    skip = pytest.mark.skip(reason="no GPU (set SCOPE_REQUIRE_GPU=1 to fail instead)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder missing: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def dr5_archive(tmp_path, shared_data) -> Path:
    """An archive folder holding the real DR5 file under its original (non-canonical) name."""
    root = tmp_path / "archive"
    root.mkdir()
    shutil.copy(DR5_FILE, root / DR5_FILE.name)
    return root


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A clean working directory as CWD, with SCOPE_CONFIG unset."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCOPE_CONFIG", raising=False)
    return tmp_path


def write_config(folder: Path, text: str) -> Path:
    path = Path(folder) / "config.yaml"
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _restore_scope_logging():
    """Commands reconfigure the ``scope``/``tools`` loggers (no propagation); undo it after each
    test so later tests' ``caplog`` still sees library records."""
    saved = {name: (lg.handlers[:], lg.level, lg.propagate)
             for name in ("scope", "tools") for lg in [logging.getLogger(name)]}
    yield
    for name, (handlers, level, propagate) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
