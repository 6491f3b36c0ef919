"""Empty or impossible selections: one line, a non-zero exit, no file (as get-quad-ids)."""

import pandas as pd
import pytest

from tests.generation.conftest import FAST_GRID
from tools import generate_features

FAST = ["--doCPU", *FAST_GRID]


def _refused(capsys, argv, *needles):
    assert generate_features.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    for needle in needles:
        assert needle in err[0], err[0]
    return err[0]


def _nothing_written(work):
    return not (work / "generated_features").exists()


@pytest.mark.parametrize("where, needles", [
    (["--field", "301", "--ccd", "17", "--quad", "1"], ["CCD 17", "1-16"]),
    (["--field", "301", "--ccd", "1", "--quad", "5"], ["quadrant 5", "1-4"]),
    (["--field", "301", "--ccd", "17", "--quad", "5"], ["CCD 17", "quadrant 5"]),
    (["--field", "0", "--ccd", "1", "--quad", "1"], ["field 0"]),
    (["--field", "999", "--ccd", "1", "--quad", "1"], ["field 999 has no light curves"]),
    (["--field", "301", "--ccd", "3", "--quad", "1"], ["CCD 3, quadrant 1 has no light curves"]),
    (["--field", "301", "--ccd", "1", "--quad", "1", "--min-n-lc-points", "100000"], ["at least 100000 epochs"]),
])
def test_impossible_or_empty_quadrant(work, capsys, where, needles):
    _refused(capsys, [*where, *FAST], *needles)
    assert _nothing_written(work)


def test_quadrant_file_rows_are_checked(work, capsys):
    slurm = work / "generated_features" / "slurm"
    slurm.mkdir(parents=True)
    (slurm / "slurm.dat").write_text("0 301 1 1\n1 301 17 1\n2 301 one 1\n")
    _refused(capsys, ["--doQuadrantFile", "--quadrant-index", "1", *FAST], "CCD 17", "row 1")
    _refused(capsys, ["--doQuadrantFile", "--quadrant-index", "2", *FAST], "four integers", "row 2")
    _refused(capsys, ["--doQuadrantFile", "--quadrant-index", "3", *FAST], "quadrant index 3 is outside")
    assert sorted(p.name for p in (work / "generated_features").iterdir()) == ["slurm"]


def test_empty_source_list(work, capsys):
    pd.DataFrame({"ztf_id": pd.Series([], dtype="int64")}).to_parquet(work / "empty.parquet")
    _refused(capsys, ["--doSpecificIDs", "--fg-dataset", "empty.parquet", "--skipCloseSources", *FAST],
             "holds no sources")
    assert _nothing_written(work)


def test_source_list_without_any_light_curve(work, capsys):
    # ids of a quadrant the archive does not have
    pd.DataFrame({"ztf_id": [301103100000001, 301103100000002], "ra": [10.0, 10.1],
                  "dec": [20.0, 20.1]}).to_parquet(work / "absent.parquet")
    _refused(capsys, ["--doSpecificIDs", "--fg-dataset", "absent.parquet", "--skipCloseSources", *FAST],
             "none of the 2 sources has a light curve")
    assert _nothing_written(work)
