"""One process for all (or a range of) quadrants of a field: the same files as separate runs, resumable."""

import numpy as np
import pandas as pd
import pytest

from scope.generation import compute as compute_mod
from scope.tables import read_table
from tests.generation.conftest import FAST_GRID, copy_demo, feature_file
from tools import generate_features

FAST = ["--field", "301", "--doCPU", *FAST_GRID, "--period-batch-size", "20"]
QUADS = [(1, 1), (1, 2), (3, 1), (3, 2)]


def _same(a, b):
    pd.testing.assert_frame_equal(a.drop(columns=["dmdt"]), b.drop(columns=["dmdt"]))
    for x, y in zip(a["dmdt"], b["dmdt"]):
        np.testing.assert_array_equal(x, y)
    stamps = ("feature_generation_start_dateTime_utc", "feature_generation_end_dateTime_utc")
    assert {k: v for k, v in a.attrs.items() if k not in stamps} == {k: v for k, v in b.attrs.items() if k not in stamps}


@pytest.fixture(scope="module")
def separate(field_demo, tmp_path_factory):
    """The four quadrant files written by four separate one-quadrant runs."""
    mp = pytest.MonkeyPatch()
    work = copy_demo(field_demo, tmp_path_factory.mktemp("separate") / "work", mp)
    for ccd, quad in QUADS:
        assert generate_features.main([*FAST, "--ccd", str(ccd), "--quad", str(quad)]) == 0
    frames = {q: read_table(feature_file(work, 301, *q)) for q in QUADS}
    meta = (work / "generated_features" / "meta.json").read_text()
    mp.undo()
    return frames, meta


def test_whole_field_writes_what_separate_runs_write(field_demo, separate, tmp_path, monkeypatch, capsys):
    work = copy_demo(field_demo, tmp_path / "work", monkeypatch)
    assert generate_features.main([*FAST, "--whole-field"]) == 0
    frames, meta = separate
    for q in QUADS:
        _same(read_table(feature_file(work, 301, *q)), frames[q])
    import json

    assert json.loads((work / "generated_features" / "meta.json").read_text()).keys() == json.loads(meta).keys()
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("generate-features: field 301, 4 quadrants (4 computed)")
    assert f"{sum(len(f) for f in frames.values())} written" in line


def test_ranges_select_quadrants(field_demo, separate, tmp_path, monkeypatch):
    work = copy_demo(field_demo, tmp_path / "work", monkeypatch)
    assert generate_features.main([*FAST, "--ccd-range", "3", "16", "--quad-range", "2"]) == 0
    written = sorted(p.name for p in (work / "generated_features" / "field_301").glob("*.parquet"))
    assert written == ["gen_features_field_301_ccd_3_quad_2.parquet"]
    _same(read_table(feature_file(work, 301, 3, 2)), separate[0][(3, 2)])


def test_a_killed_field_run_resumes_without_redoing_finished_work(field_demo, separate, tmp_path, monkeypatch,
                                                                   capsys):
    work = copy_demo(field_demo, tmp_path / "work", monkeypatch)
    original = compute_mod.FeatureComputer.compute
    calls = []

    def where(self):
        return int(self.lightcurves.ccd[0]), int(self.lightcurves.quad[0])

    def dying(self, k, **kw):
        if (where(self), k) == ((1, 2), 1):  # killed in the second batch of the second quadrant
            raise KeyboardInterrupt
        return original(self, k, **kw)

    def counting(self, k, **kw):
        calls.append((where(self), k))
        return original(self, k, **kw)

    args = [*FAST, "--whole-field"]
    monkeypatch.setattr(compute_mod.FeatureComputer, "compute", dying)
    assert generate_features.main(args) == 130
    assert [q for q in QUADS if feature_file(work, 301, *q).exists()] == [(1, 1)]
    monkeypatch.setattr(compute_mod.FeatureComputer, "compute", counting)
    capsys.readouterr()
    assert generate_features.main(args) == 0
    # quadrant (1, 1) is not computed again, (1, 2) resumes at its second batch
    assert not [c for c in calls if c[0] == (1, 1)]
    assert [k for q, k in calls if q == (1, 2)][0] == 1
    assert {q for q, _ in calls} == {(1, 2), (3, 1), (3, 2)}
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "(3 computed, 1 already done)" in line, line
    for q in QUADS:
        _same(read_table(feature_file(work, 301, *q)), separate[0][q])


def test_changed_parameters_recompute_finished_quadrants(field_demo, tmp_path, monkeypatch, capsys):
    work = copy_demo(field_demo, tmp_path / "work", monkeypatch)
    assert generate_features.main([*FAST, "--ccd-range", "1", "--quad-range", "1"]) == 0
    capsys.readouterr()
    assert generate_features.main([*FAST, "--ccd-range", "1", "--quad-range", "1", "--max-freq", "8"]) == 0
    assert "(1 computed)" in capsys.readouterr().err
    assert read_table(feature_file(work, 301, 1, 1)).attrs["parameters"]["max_freq"] == 8.0


@pytest.mark.parametrize("flags, message", [
    (["--ccd-range", "0", "3"], "--ccd-range must lie within 1..16"),
    (["--quad-range", "2", "5"], "--quad-range must lie within 1..4"),
    (["--ccd-range", "4", "2"], "increasing"),
    (["--whole-field", "--ccd", "1"], "either --ccd/--quad"),
    (["--whole-field", "--doSpecificIDs"], "cannot be combined"),
    (["--ccd-range", "5", "8"], "no light curves in CCDs 5-8"),
    (["--whole-field", "--min-n-lc-points", "100000"], "at least 100000 epochs"),
])
def test_bad_ranges_are_refused(field_demo, tmp_path, monkeypatch, capsys, flags, message):
    work = copy_demo(field_demo, tmp_path / "work", monkeypatch)
    assert generate_features.main([*FAST, *flags]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (work / "generated_features").exists()


def test_progress_moves_within_a_batch(field_demo, tmp_path, monkeypatch):
    from scope.config import load_config
    from scope.generation import GenerateOptions, RunSummary
    from scope.generation.compute import FeatureComputer
    from scope.generation.run import fetch_and_clean
    from scope.lightcurves.sources import open_source

    copy_demo(field_demo, tmp_path / "work", monkeypatch)
    source = open_source(load_config())
    ids = source.ids_in_quadrant(301, 1, 1, minobs=50)
    opts = GenerateOptions(max_freq=10, samples_per_peak=2, top_n_periods=5, n_threads=1, period_batch_size=1000)
    batch = fetch_and_clean(source, ids, opts, RunSummary())
    steps = []
    FeatureComputer(opts, batch).compute(0, progress=steps.append)
    assert sum(steps) == len(batch) and len(steps) >= 3 and max(steps) <= 16, steps


def test_changed_light_curves_recompute_finished_quadrants(field_demo, tmp_path, monkeypatch, capsys):
    import pyarrow.parquet as pq

    work = copy_demo(field_demo, tmp_path / "work", monkeypatch)
    args = [*FAST, "--ccd-range", "1", "--quad-range", "1"]
    assert generate_features.main(args) == 0
    before = len(read_table(feature_file(work, 301, 1, 1)))
    for path in (work / "ztf_archive").rglob("ztf_000301_z?_c01_q1_*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.slice(0, table.num_rows - 3), path)  # the archive lost three objects per band
    capsys.readouterr()
    assert generate_features.main(args) == 0
    assert "(1 computed)" in capsys.readouterr().err
    assert len(read_table(feature_file(work, 301, 1, 1))) < before
