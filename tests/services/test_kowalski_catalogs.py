"""KowalskiCatalogs gives the same cone-search tables as LocalCatalogs on the same data."""

import numpy as np
import pandas as pd
import pytest

from scope.catalogs.kowalski import KowalskiCatalogs, flatten
from scope.catalogs.local import LocalCatalogs
from scope.services.http import RetryPolicy
from scope.services.kowalski import BatchQueryError, KowalskiClient
from tests.loopback.kowalski_docs import catalogs_from_folder
from tests.loopback.kowalski_server import query_type_is


@pytest.fixture
def catalogs_folder(tmp_path):
    rng = np.random.default_rng(3)
    n = 400
    ra = 150.0 + rng.uniform(-0.05, 0.05, n)
    dec = 2.0 + rng.uniform(-0.05, 0.05, n)
    gaia = pd.DataFrame({"_id": np.arange(n, dtype=np.int64) + 10**15, "ra": ra, "dec": dec,
                         "phot_g_mean_mag": rng.uniform(10, 20, n), "parallax": rng.normal(1, 1, n)})
    gaia.loc[5, "parallax"] = np.nan
    alerts = pd.DataFrame({"_id": np.arange(50, dtype=np.int64), "ra": ra[:50], "dec": dec[:50],
                           "classifications.braai": rng.uniform(0, 1, 50)})
    folder = tmp_path / "catalogs"
    folder.mkdir()
    gaia.to_parquet(folder / "Gaia_EDR3.parquet")
    alerts.to_parquet(folder / "ZTF_alerts.parquet")
    return folder, ra, dec


@pytest.fixture
def both(catalogs_folder, kowalski_server):
    folder, ra, dec = catalogs_folder
    server = kowalski_server(catalogs_from_folder(folder))
    client = KowalskiClient({"k": server.instance_spec()}, timeout=5, policy=RetryPolicy(1, 0.001),
                            positions_per_query=7)
    return KowalskiCatalogs(client), LocalCatalogs(folder), ra, dec, server


def _same(a: pd.DataFrame, b: pd.DataFrame):
    assert list(a.columns) == list(b.columns)
    assert a["query_index"].tolist() == b["query_index"].tolist()
    assert a["_id"].tolist() == b["_id"].tolist()
    assert np.allclose(a["sep_arcsec"], b["sep_arcsec"], atol=1e-6)
    for c in a.columns[3:]:
        assert np.allclose(a[c].to_numpy(float), b[c].to_numpy(float), equal_nan=True), c


def test_cone_matches_local(both):
    remote, local, ra, dec, server = both
    qra, qdec = ra[:20] + 1e-4, dec[:20]
    cols = ["phot_g_mean_mag", "parallax"]
    _same(remote.cone("Gaia_EDR3", qra, qdec, 30.0, columns=cols), local.cone("Gaia_EDR3", qra, qdec, 30.0, columns=cols))
    assert len(server.queries("cone_search")) == 3  # 20 positions, 7 per query


def test_filters_and_nested_columns(both):
    remote, local, ra, dec, _ = both
    kw = dict(columns=["phot_g_mean_mag"], filters={"phot_g_mean_mag": ("lt", 13.0)})
    got = remote.cone("Gaia_EDR3", ra[:30], dec[:30], 120.0, **kw)
    assert len(got) and (got["phot_g_mean_mag"] < 13).all()
    _same(got, local.cone("Gaia_EDR3", ra[:30], dec[:30], 120.0, **kw))
    braai = remote.cone("ZTF_alerts", ra[:5], dec[:5], 2.0, columns=["classifications.braai"])
    _same(braai, local.cone("ZTF_alerts", ra[:5], dec[:5], 2.0, columns=["classifications.braai"]))


def test_no_matches_and_nan_positions(both):
    remote, _, _, _, server = both
    out = remote.cone("Gaia_EDR3", [10.0, np.nan], [-40.0, 1.0], 2.0, columns=["parallax"])
    assert out.empty and list(out.columns) == ["query_index", "sep_arcsec", "_id", "ra", "dec", "parallax"]


def test_collection_names_come_from_config(catalogs_folder, kowalski_server):
    folder, ra, dec = catalogs_folder
    docs = catalogs_from_folder(folder)
    server = kowalski_server({"Gaia_DR3_custom": docs["Gaia_EDR3"]})
    cats = KowalskiCatalogs(KowalskiClient({"k": server.instance_spec()}, timeout=5),
                            {"kowalski": {"collections": {"gaia": "Gaia_DR3_custom"}}})
    assert len(cats.cone("Gaia_EDR3", ra[:1], dec[:1], 1.0)) >= 1


def test_failed_cone_is_reported(both):
    remote, _, ra, dec, server = both
    server.add_fault("status", status=500, when=query_type_is("cone_search"))
    with pytest.raises(BatchQueryError, match="failed for positions 0-6, positions 7-9 .*HTTP 500"):
        remote.cone("Gaia_EDR3", ra[:10], dec[:10], 5.0)


def test_flatten():
    assert flatten({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": 3}) == {"a.b": 1, "a.c.d": [1, 2], "e": 3}
