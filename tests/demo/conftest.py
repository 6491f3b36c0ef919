"""A tiny demo sky shared by the demo tests (generated once per session)."""

from __future__ import annotations

import pytest

#: 2 quadrants x 15 objects: enough for every variable class to appear at least once
TINY_FLAGS = ["--ccds", "3", "--quads", "1", "2", "--n-per-quad", "15", "--seed", "7", "-q"]


def make_tiny(folder, *extra):
    from tools.scope_demo_data import main

    rc = main(["--output-dir", str(folder), *TINY_FLAGS, *extra])
    assert rc == 0
    return folder


@pytest.fixture(scope="session")
def run_tiny():
    """``run_tiny(folder, *extra_flags)``: write a tiny demo into ``folder``."""
    return make_tiny


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory):
    """Folder holding a tiny demo (field 301, CCD 3, quadrants 1-2, g and r)."""
    return make_tiny(tmp_path_factory.mktemp("tiny_demo"))
