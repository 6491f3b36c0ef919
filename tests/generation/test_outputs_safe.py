"""Nothing lost: unwritable folders found before any work, leftovers of killed runs cleared, no partial
run replacing a complete feature file."""

import pytest

from scope.generation import compute as compute_mod
from scope.lightcurves.sources import ztf_archive
from scope.tables import read_table
from tests.generation.conftest import FAST_GRID, QUAD, feature_file
from tools import generate_features

ARGS = [*QUAD, "--doCPU", *FAST_GRID, "--skipCloseSources"]


def test_read_only_output_folder_is_refused_before_any_light_curve_is_read(work, read_only_dir, monkeypatch, capsys):
    def no_fetch(*args, **kwargs):
        raise AssertionError("light curves were fetched before the output folder was checked")

    monkeypatch.setattr(ztf_archive.ZTFArchiveSource, "lightcurves", no_fetch)
    assert generate_features.main([*ARGS, "--output-dir", str(read_only_dir)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(read_only_dir) in err[0], err
    assert "not writable" in err[0] or "cannot create output folder" in err[0], err


def test_read_only_checkpoint_folder_is_refused_before_any_work(work, read_only_dir, monkeypatch, capsys):
    monkeypatch.setattr(ztf_archive.ZTFArchiveSource, "lightcurves",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError("fetched")))
    assert generate_features.main([*ARGS, "--checkpoint-dir", str(read_only_dir / "parts")]) == 1
    assert "read_only" in capsys.readouterr().err


def test_temporary_files_of_a_killed_run_are_removed_by_the_next(work):
    out = feature_file(work)
    out.parent.mkdir(parents=True)
    leftover = out.parent / f".{out.name}.a1b2c3.tmp.parquet"
    leftover.write_bytes(b"half a parquet file")
    parts = out.parent / f".{out.stem}.parts"
    parts.mkdir()
    stale_part = parts / ".part_00000.parquet.zz.tmp.parquet"
    stale_part.write_bytes(b"half")
    assert generate_features.main(ARGS) == 0
    assert not leftover.exists() and not stale_part.exists()
    assert not parts.exists()
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


def test_a_partial_run_never_replaces_a_complete_file(work, capsys):
    from scope.tables import parquet_attrs

    assert generate_features.main(ARGS) == 0
    complete = read_table(feature_file(work))
    before = feature_file(work).read_bytes()
    assert generate_features.main([*ARGS, "--stop-early", "--query-size-limit", "5"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "refusing to replace the complete feature file" in err
    assert feature_file(work).read_bytes() == before and len(complete) > 5
    # a partial file is marked as such and may be replaced by another partial or a complete run
    other = [*ARGS, "--filename", "trial"]
    assert generate_features.main([*other, "--stop-early", "--query-size-limit", "5"]) == 0
    trial = feature_file(work, filename="trial")
    assert parquet_attrs(trial)["partial"] is True
    assert generate_features.main([*other, "--stop-early", "--query-size-limit", "6"]) == 0
    assert generate_features.main(other) == 0
    assert parquet_attrs(trial)["partial"] is False and len(read_table(trial)) == len(complete)


def test_a_killed_run_leaves_the_complete_file_in_place(work, monkeypatch):
    assert generate_features.main(ARGS) == 0
    before = feature_file(work).read_bytes()

    def killed(self, k, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(compute_mod.FeatureComputer, "compute", killed)
    assert generate_features.main([*ARGS, "--max-freq", "8"]) == 130
    assert feature_file(work).read_bytes() == before
