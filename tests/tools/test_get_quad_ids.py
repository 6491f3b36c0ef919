import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from scope.idfiles import read_ids
from tests.conftest import DR5_FILE, write_config
from tools import get_quad_ids


@pytest.fixture
def split_archive(workdir, real_data):
    """The DR5 file split into three canonical quadrant files of a fake field 777."""
    import pyarrow as pa

    table = pq.read_table(DR5_FILE).drop_columns(["__index_level_0__"])
    root = workdir / "arch" / "0" / "field0777"
    root.mkdir(parents=True)
    n = table.num_rows
    for k, (ccd, quad) in enumerate([(1, 1), (1, 2), (3, 4)]):
        part = table.slice(k * n // 3, n // 3)
        seq = np.arange(part.num_rows, dtype=np.int64)
        oid = 777 * 10**12 + 1 * 10**11 + ccd * 10**9 + quad * 10**8 + seq
        part = part.set_column(part.schema.get_field_index("objectid"), "objectid", pa.array(oid))
        part = part.set_column(part.schema.get_field_index("fieldid"), "fieldid",
                               pa.array(np.full(part.num_rows, 777, np.int16)))
        part = part.set_column(part.schema.get_field_index("rcid"), "rcid",
                               pa.array(np.full(part.num_rows, (ccd - 1) * 4 + quad - 1, np.uint8)))
        pq.write_table(part, root / f"ztf_000777_zg_c{ccd:02d}_q{quad}_dr5.parquet")
    write_config(workdir, "data:\n  archive_path: arch\n")
    return workdir


def _meta(workdir):
    return json.loads((workdir / "ids" / "field_777" / "meta.json").read_text())


def test_single_quad_with_skip_limit(split_archive):
    assert get_quad_ids.main(["--field", "777", "--ccd", "1", "--quad", "2", "--minobs", "0",
                              "--skip", "10", "--limit", "25"]) == 0
    d = split_archive / "ids" / "field_777"
    ids = read_ids(d / "data_ccd_01_quad_2.h5")
    assert len(ids) == 25 and ids.dtype == np.int64
    assert read_ids(d / "data_ccd_1_quad_2_field_777.csv").tolist() == ids.tolist()
    assert _meta(split_archive)["total"] == 25


def test_multi_quads_keeps_every_page_and_minobs(split_archive):
    assert get_quad_ids.main(["--field", "777", "--multi-quads", "--minobs", "10", "--limit", "50"]) == 0
    d = split_archive / "ids" / "field_777"
    meta = _meta(split_archive)
    written = {p.name: len(read_ids(p)) for p in d.glob("*.h5")}
    assert set(written) == {"data_ccd_01_quad_1.h5", "data_ccd_01_quad_2.h5", "data_ccd_03_quad_4.h5"}
    assert meta["total"] == sum(written.values())
    assert meta["ccd"]["3"]["quad"]["4"] == written["data_ccd_03_quad_4.h5"]
    # more than one page per quadrant (limit 50), all kept
    table = pq.read_table(DR5_FILE).to_pandas()
    expected = int((table["nepochs"].iloc[2 * 1001: 3 * 1001] >= 10).sum())
    assert written["data_ccd_03_quad_4.h5"] == expected > 50


def test_whole_field_and_idempotent(split_archive):
    args = ["--field", "777", "--whole-field", "--minobs", "20"]
    assert get_quad_ids.main(args) == 0
    path = split_archive / "ids" / "field_777" / "field_777.h5"
    first = read_ids(path)
    meta1 = _meta(split_archive)
    assert get_quad_ids.main(args) == 0
    assert np.array_equal(read_ids(path), first) and _meta(split_archive) == meta1
    assert meta1["total"] == len(first) and first.dtype == np.int64
    assert len(np.unique(first)) == len(first)


def test_ccd_range_subset(split_archive):
    assert get_quad_ids.main(["--field", "777", "--multi-quads", "--ccd-range", "1", "2", "--quad-range", "2", "4",
                              "--minobs", "0"]) == 0
    meta = _meta(split_archive)
    assert list(meta["ccd"]) == ["1", "2"] and meta["ccd_range"] == [1, 2] and meta["quad_range"] == [2, 4]
    assert meta["total"] == 1001


@pytest.mark.parametrize("args, config, message", [
    (["--field", "999", "--whole-field"], "data:\n  archive_path: arch\n", "field 999 has no light curves"),
    (["--field", "777"], "data:\n  archive_path: nowhere\n", "archive folder not found"),
    (["--field", "777"], "data: {archive_path: [\n", "malformed YAML"),
    (["--field", "777", "--ccd-range", "3", "1"], "data:\n  archive_path: arch\n", "must lie within"),
])
def test_bad_inputs_give_one_line_errors(split_archive, capsys, args, config, message):
    write_config(split_archive, config)
    assert get_quad_ids.main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Traceback" not in err[0]


def test_unknown_flag_and_unwritable_output(split_archive, capsys):
    with pytest.raises(SystemExit) as exc:
        get_quad_ids.main(["--field", "777", "--bogus"])
    assert exc.value.code == 2
    blocker = split_archive / "blocker"
    blocker.write_text("x")
    assert get_quad_ids.main(["--field", "777", "--whole-field", "--output-dir", str(blocker / "x")]) == 1
    assert "cannot create output folder" in capsys.readouterr().err
