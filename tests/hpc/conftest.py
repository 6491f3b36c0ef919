"""Fixtures of the Slurm tests: the test cluster, console-script wrappers, tiny demo skies.

Tests marked ``slurm`` drive scripts through the real ``sbatch`` of the single-node cluster that
``.ci/slurm.sh`` starts (``source .ci/slurm.sh``); without one they are skipped, or fail when
``SCOPE_REQUIRE_SLURM=1`` (``.ci/run`` sets it after starting the cluster): see tests/conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hpc.helpers import COMMANDS, REPO, make_demo, write_wrappers


@pytest.fixture(scope="session")
def command_bin(tmp_path_factory) -> Path:
    """A folder of wrappers for the console scripts that generated scripts call."""
    return write_wrappers(tmp_path_factory.mktemp("bin"), COMMANDS)


@pytest.fixture
def job_env(monkeypatch, command_bin):
    """The environment jobs inherit (sbatch exports it): the wrappers first on PATH, this checkout
    importable, quiet TensorFlow, no wandb, the numba cache shared with this process."""
    monkeypatch.setenv("PATH", f"{command_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("PYTHONPATH", f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}".rstrip(os.pathsep))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.delenv("SCOPE_CONFIG", raising=False)
    for name in ("QID", "TID", "FID", "SCOPE_TASK_LIST"):
        monkeypatch.delenv(name, raising=False)
    return command_bin


@pytest.fixture(scope="session")
def demo_field(tmp_path_factory) -> Path:
    """A demo field (301) of 2 CCDs x 2 quadrants, 12 objects each, 2 years: the test survey."""
    return make_demo(tmp_path_factory.mktemp("demo_field"), "--ccds", "3", "5", "--quads", "1", "2", "--n-per-quad",
                     "12", "--years", "2", "--seed", "11")


