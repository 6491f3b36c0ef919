"""KowalskiSource (through penquins and the loopback) against the local archive it was built from."""

import numpy as np
import pytest

from scope.lightcurves.sources.base import LightCurveSource
from scope.lightcurves.sources.kowalski import KowalskiSource, documents_to_batch
from scope.lightcurves.sources.ztf_archive import ZTFArchiveSource
from scope.services.http import RetryPolicy
from scope.services.kowalski import KowalskiClient, LostIdsError
from tests.loopback.kowalski_docs import source_document, sources_from_archive
from tests.loopback.kowalski_server import mentions_id

SRC = "ZTF_sources_20240515"


@pytest.fixture(scope="module")
def dr5_docs(tmp_path_factory):
    from tests.conftest import DR5_FILE
    import shutil

    root = tmp_path_factory.mktemp("dr5") / "archive"
    root.mkdir()
    shutil.copy(DR5_FILE, root / DR5_FILE.name)
    return root, sources_from_archive(root)


@pytest.fixture
def pair(dr5_docs, kowalski_server):
    root, docs = dr5_docs
    server = kowalski_server({SRC: docs})
    client = KowalskiClient({"loop": server.instance_spec()}, timeout=10, policy=RetryPolicy(1, 0.001))
    return KowalskiSource(client, SRC, page_size=300), ZTFArchiveSource(root, id_scheme="kowalski"), server


def test_protocol_and_quadrants(pair):
    ks, arch, _ = pair
    assert isinstance(ks, LightCurveSource) and ks.name == "kowalski" and ks.catalog == SRC
    assert ks.quadrants(202) == arch.quadrants(202) == [(16, 2)]
    assert ks.quadrants(203) == []


@pytest.mark.parametrize("minobs, skip, limit", [(0, 0, None), (20, 0, None), (5, 100, 450), (1, 2990, 50)])
def test_ids_match_the_archive(pair, minobs, skip, limit):
    ks, arch, server = pair
    got = ks.ids_in_quadrant(202, 16, 2, minobs=minobs, skip=skip, limit=limit)
    want = arch.ids_in_quadrant(202, 16, 2, minobs=minobs, skip=skip, limit=limit)
    assert got.dtype == np.int64 and np.array_equal(got, want)
    assert np.all(np.diff(got) > 0)
    finds = server.queries("find")
    assert all(e["body"]["kwargs"]["sort"] == [["_id", 1]] for e in finds)
    if minobs:
        assert finds[-1]["body"]["query"]["filter"]["nobs"] == {"$gte": minobs}


def test_lightcurves_and_positions_match_the_archive(pair):
    ks, arch, _ = pair
    ids = arch.ids_in_quadrant(202, 16, 2, minobs=15)[:120]
    wanted = np.concatenate([ids[::-1], [10202611999999]])  # request order + an unknown id
    got = ks.lightcurves(wanted, max_timestamp_hjd=2459180.0)
    want = arch.lightcurves(wanted, max_timestamp_hjd=2459180.0)
    assert np.array_equal(got.ids, ids[::-1]) and np.array_equal(got.ids, want.ids)
    assert np.array_equal(got.offsets, want.offsets)
    assert np.allclose(got.t, want.t, atol=1e-5, rtol=0)
    assert got.t.max() <= 2459180.0 < ks.lightcurves(wanted).t.max()
    assert np.allclose(got.m, want.m, atol=1e-5, equal_nan=True) and np.array_equal(got.flags, want.flags)
    for name in ("band", "field", "ccd", "quad"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    assert np.allclose(got.ra, want.ra) and np.allclose(got.dec, want.dec)
    pos = ks.positions(wanted)
    assert pos["_id"].tolist() == arch.positions(wanted)["_id"].tolist() == ids[::-1].tolist()


def test_near_matches_the_archive(pair):
    ks, arch, _ = pair
    pos = arch.positions(arch.ids_in_quadrant(202, 16, 2)[:1])
    ra, dec = float(pos["ra"][0]), float(pos["dec"][0])
    got, want = ks.near(ra, dec, 60.0), arch.near(ra, dec, 60.0)
    assert len(got) > 1 and got["_id"].tolist() == want["_id"].tolist()
    assert np.allclose(got["sep_arcsec"], want["sep_arcsec"], atol=1e-6)
    assert ks.near(ra, dec, 60.0, limit=1)["_id"].tolist() == want["_id"].tolist()[:1]


def test_epochs_are_trimmed_client_side(kowalski_server):
    # Kowalski returns every epoch of a matching document; we must drop the late / proprietary ones
    doc = source_document(10245362000005, 10.0, -20.0, [2459950.0, 2459951.0, 2459952.0, 2459953.0],
                          [18.0, 18.1, 18.2, 18.3], [0.1] * 4, catflags=[0, 512, 0, 0], programid=[1, 3, 2, 1])
    server = kowalski_server({SRC: [doc]})
    ks = KowalskiSource(KowalskiClient({"l": server.instance_spec()}, timeout=5), SRC)
    full = ks.lightcurves([10245362000005])
    assert full.lengths().tolist() == [4] and full.flags.tolist() == [0, 512, 0, 0]
    trimmed = ks.lightcurves([10245362000005], max_timestamp_hjd=2459951.5, programids=[1, 2])
    assert trimmed.t.tolist() == [2459950.0] and trimmed.programid.tolist() == [1]
    late = ks.lightcurves([10245362000005], max_timestamp_hjd=2459000.0)
    assert late.ids.tolist() == [10245362000005] and late.lengths().tolist() == [0]  # like the archive


def test_failed_chunk_names_its_ids(kowalski_server):
    docs = [source_document(10245362000000 + i, 10.0, -20.0, [2459000.0], [18.0], [0.1]) for i in range(6)]
    server = kowalski_server({SRC: docs})
    ks = KowalskiSource(KowalskiClient({"l": server.instance_spec()}, timeout=5, policy=RetryPolicy(1, 0.001)),
                        SRC, chunk_size=2)
    server.add_fault("status", status=503, when=mentions_id(10245362000003))
    with pytest.raises(LostIdsError, match="10245362000002, 10245362000003"):
        ks.lightcurves([10245362000000 + i for i in range(6)])


def test_documents_to_batch_sorts_epochs_and_fills_location():
    batch = documents_to_batch([{"_id": 10487361000071, "ra": 1.0, "dec": 2.0,
                                 "data": [{"hjd": 5.0, "mag": 1.0, "magerr": 0.1, "catflags": 0, "programid": 2},
                                          {"hjd": 4.0, "mag": 2.0, "magerr": 0.2}]}])
    assert batch.t.tolist() == [4.0, 5.0] and batch.m.tolist() == [2.0, 1.0]
    assert (batch.field[0], batch.ccd[0], batch.quad[0], batch.band[0]) == (487, 10, 1, 1)
    assert batch.programid.tolist() == [0, 2]
