"""Small demo skies and shared helpers for the generate-features tests."""

from __future__ import annotations

import shutil

import pytest

from tools.scope_demo_data import main as demo_main

#: A coarse frequency grid: fast, and enough to test the plumbing.
FAST_GRID = ["--max-freq", "10", "--samples-per-peak", "2", "--top-n-periods", "5", "--Ncore", "1"]
#: The quadrant of ``small_demo``.
QUAD = ["--field", "301", "--ccd", "1", "--quad", "1"]


def make_demo(folder, *flags):
    assert demo_main(["--output-dir", str(folder), "-q", *flags]) == 0
    return folder


def copy_demo(demo, folder, monkeypatch):
    """A private copy of a demo sky as the working directory (the session's demo stays untouched)."""
    shutil.copytree(demo, folder)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("SCOPE_CONFIG", raising=False)
    return folder


def feature_file(work, field=301, ccd=1, quad=1, filename="gen_features"):
    """Where a one-quadrant run writes its features."""
    return work / "generated_features" / f"field_{field}" / f"{filename}_field_{field}_ccd_{ccd}_quad_{quad}.parquet"


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory):
    """One quadrant (field 301, CCD 1, quad 1) of 40 objects in g and r."""
    return make_demo(tmp_path_factory.mktemp("small_demo"), "--ccds", "1", "--quads", "1", "--n-per-quad", "40",
                     "--seed", "3")


@pytest.fixture
def work(small_demo, tmp_path, monkeypatch):
    """A copy of ``small_demo`` as the working directory."""
    return copy_demo(small_demo, tmp_path / "work", monkeypatch)


@pytest.fixture(scope="session")
def periodic_demo(tmp_path_factory):
    """A quadrant where every object varies (for period recovery)."""
    return make_demo(tmp_path_factory.mktemp("periodic_demo"), "--ccds", "2", "--quads", "3", "--n-per-quad", "60",
                     "--variable-fraction", "1.0", "--seed", "11")


@pytest.fixture(scope="session")
def field_demo(tmp_path_factory):
    """Field 301 with CCDs 1 and 3, quadrants 1-2 (CCD 2 unpopulated), 25 objects per quadrant."""
    return make_demo(tmp_path_factory.mktemp("field_demo"), "--ccds", "1", "3", "--quads", "1", "2",
                     "--n-per-quad", "25", "--seed", "5")
