"""Small demo skies for the generate-features tests."""

from __future__ import annotations

import pytest

from tools.scope_demo_data import main as demo_main


def make_demo(folder, *flags):
    assert demo_main(["--output-dir", str(folder), "-q", *flags]) == 0
    return folder


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory):
    """One quadrant (field 301, CCD 1, quad 1) of 40 objects in g and r."""
    return make_demo(tmp_path_factory.mktemp("small_demo"), "--ccds", "1", "--quads", "1", "--n-per-quad", "40",
                     "--seed", "3")


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
