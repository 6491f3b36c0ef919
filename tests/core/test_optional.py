"""Optional dependencies and output folders fail with one clear line, before any work."""

from __future__ import annotations

import sys

import pytest

from scope.errors import DataError, MissingDependency
from scope.optional import require
from scope.tables import ensure_writable_dir


def test_missing_optional_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "xgboost", None)  # an import of it now fails as if not installed
    with pytest.raises(MissingDependency, match=r'scope-ztf\[train\]') as err:
        require("xgboost")
    assert "xgboost" in str(err.value)


def test_present_package_is_returned():
    assert require("json").dumps([1]) == "[1]"


def test_output_folder_is_created(tmp_path):
    assert ensure_writable_dir(tmp_path / "a" / "b").is_dir()


def test_read_only_output_folder_is_refused(read_only_dir):
    with pytest.raises(DataError, match="not writable"):
        ensure_writable_dir(read_only_dir)
    with pytest.raises(DataError, match="cannot create"):
        ensure_writable_dir(read_only_dir / "sub")


def test_output_folder_probe_without_creating(tmp_path, read_only_dir):
    target = tmp_path / "x" / "y"
    assert ensure_writable_dir(target, create=False) == target and not (tmp_path / "x").exists()
    with pytest.raises(DataError, match="not writable"):
        ensure_writable_dir(read_only_dir / "sub" / "deeper", create=False)
    (tmp_path / "file").write_text("")
    with pytest.raises(DataError, match="is not a folder"):
        ensure_writable_dir(tmp_path / "file" / "sub", create=False)
