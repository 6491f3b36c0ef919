import numpy as np
import pyarrow.parquet as pq
import pytest

from scope.errors import DataError
from scope.lightcurves import ztf_ids
from scope.lightcurves.sources import ZTFArchiveSource
from tests.conftest import DR5_FILE


def test_real_dr5_file_round_trips(dr5_archive):
    src = ZTFArchiveSource(dr5_archive)
    assert src.quadrants(202) == [(16, 2)]
    ids = src.ids_in_quadrant(202, 16, 2)
    assert len(ids) == 3003
    raw = pq.read_table(DR5_FILE).to_pandas()
    assert set(ids) == set(raw["objectid"])
    batch = src.lightcurves(ids)
    assert len(batch) == 3003
    assert np.array_equal(batch.ids, ids)  # request order kept
    assert batch.t.dtype == np.float64
    raw = raw.set_index("objectid")
    for i in (0, 1, 1000, 3002):
        row = raw.loc[batch.ids[i]]
        obj = batch.object(i)
        np.testing.assert_allclose(obj["t"], np.asarray(row["hmjd"], dtype=np.float64) + 2400000.5)
        np.testing.assert_allclose(obj["m"], np.asarray(row["mag"], dtype=np.float64))
        np.testing.assert_array_equal(obj["flags"], row["catflags"])
        assert obj["field"] == 202 and obj["ccd"] == 16 and obj["quad"] == 2 and obj["band"] == 1
    assert batch.lengths().sum() == raw["nepochs"].sum()


def test_catflags_honoured_and_minobs(dr5_archive):
    src = ZTFArchiveSource(dr5_archive)
    raw = pq.read_table(DR5_FILE).to_pandas()
    ids20 = src.ids_in_quadrant(202, 16, 2, minobs=20)
    assert len(ids20) == int((raw["nepochs"] >= 20).sum())
    batch = src.lightcurves(ids20[:200])
    flagged = int((batch.flags != 0).sum())
    clean = batch.trim(clean_flags=True)
    assert flagged > 0
    assert len(clean.t) == len(batch.t) - flagged and (clean.flags == 0).all()


def test_paging_and_unknown_ids(dr5_archive):
    src = ZTFArchiveSource(dr5_archive)
    all_ids = src.ids_in_quadrant(202, 16, 2)
    pages = [src.ids_in_quadrant(202, 16, 2, skip=s, limit=1000) for s in range(0, 4000, 1000)]
    assert np.array_equal(np.concatenate(pages), all_ids)
    batch = src.lightcurves([all_ids[5], 202116299999999, all_ids[2]])
    assert batch.ids.tolist() == [all_ids[5], all_ids[2]]


def test_max_timestamp_trims_points(dr5_archive):
    src = ZTFArchiveSource(dr5_archive)
    ids = src.ids_in_quadrant(202, 16, 2, minobs=20)[:50]
    full = src.lightcurves(ids)
    cut = np.median(full.t)
    trimmed = src.lightcurves(ids, max_timestamp_hjd=cut)
    assert trimmed.t.max() <= cut
    assert len(trimmed.t) == int((full.t <= cut).sum())


def test_kowalski_id_scheme_and_near(dr5_archive):
    src = ZTFArchiveSource(dr5_archive, id_scheme="kowalski")
    ids = src.ids_in_quadrant(202, 16, 2)
    d = ztf_ids.decode_kowalski_id(ids[0])
    assert (int(d.field), int(d.rc), int(d.filter)) == (202, 61, 1)
    pos = src.positions(ids[:3])
    near = src.near(pos["ra"][0], pos["dec"][0], 5.0)
    assert near["_id"].iloc[0] == ids[0] and near["sep_arcsec"].iloc[0] < 0.01


def test_id_codecs_round_trip():
    oid = ztf_ids.encode_objectid(202, 1, 16, 2, 1)
    assert oid == 202116200000001
    kid = ztf_ids.objectid_to_kowalski(oid)
    assert kid == 10000000000000 + 202 * 10**9 + 61 * 10**7 + 1 * 10**6 + 1
    assert ztf_ids.kowalski_to_objectid(kid) == oid
    assert ztf_ids.decode_kowalski_id(10487361000071).ccd == 10


def test_missing_archive_folder(tmp_path):
    with pytest.raises(DataError, match="archive folder not found"):
        ZTFArchiveSource(tmp_path / "nope")
