"""Shared test fixtures: the small real data files in tests/data, tiny archives, config files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import logging

import pytest

pytest_plugins = ["tests.loopback.kowalski_fixtures", "tests.loopback.skyportal_fixtures"]

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("WANDB_MODE", "disabled")

REPO = Path(__file__).resolve().parents[1]
# Real ZTF files and reference-release models the tests read; they live in the repository (see its README).
REAL_DATA = REPO / "tests" / "data"
DR5_FILE = REAL_DATA / "ztf_dr5_field202_rc61_zg.parquet"


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
        if item.get_closest_marker("gpu") is not None:  # a marker, not any name containing "gpu"
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _needs_slurm(request):
    """Tests marked ``slurm`` need the test cluster (``source .ci/slurm.sh``): skipped without one,
    failed when ``SCOPE_REQUIRE_SLURM=1`` (``.ci/run`` sets it after starting the cluster)."""
    if request.node.get_closest_marker("slurm") is None:
        return
    from tests.hpc.helpers import slurm_reachable

    if slurm_reachable():
        return
    if os.environ.get("SCOPE_REQUIRE_SLURM") == "1":
        pytest.fail("SCOPE_REQUIRE_SLURM=1 but no Slurm cluster answers (source .ci/slurm.sh)")
    pytest.skip("no Slurm cluster (source .ci/slurm.sh to start the test cluster)")


@pytest.fixture
def real_data() -> Path:
    """The repository's folder of small real data files (never skipped: they are part of the repo)."""
    return REAL_DATA


@pytest.fixture
def dr5_archive(tmp_path, real_data) -> Path:
    """An archive folder holding the real DR5 file under its original (non-canonical) name."""
    root = tmp_path / "archive"
    root.mkdir()
    shutil.copy(DR5_FILE, root / DR5_FILE.name)
    return root


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nobody can write into, root included (chmod for users, the immutable flag for root)."""
    import subprocess

    folder = tmp_path / "read_only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a read-only folder as root here (chattr +i refused)")
    yield folder
    subprocess.run(["chattr", "-i", str(folder)], capture_output=True)


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
