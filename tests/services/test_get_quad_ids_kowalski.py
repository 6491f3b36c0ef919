"""get-quad-ids through Kowalski (penquins + loopback) writes the same files as on the local archive."""

import json
from pathlib import Path

import numpy as np
import pytest

from scope.catalogs.kowalski import KowalskiCatalogs
from scope.catalogs.local import LocalCatalogs
from scope.idfiles import read_ids
from scope.services.kowalski import KowalskiClient
from tests.loopback.kowalski_fixtures import SOURCES, demo_catalogs
from tools import get_quad_ids

FIELD = 301


@pytest.fixture(scope="module")
def demo_sky(tmp_path_factory):
    """A small demo field (two CCDs x two quadrants, g and r) written once for the module."""
    from tools.scope_demo_data import main

    root = tmp_path_factory.mktemp("demo")
    assert main(["--output-dir", str(root), "--field", str(FIELD), "--ccds", "1", "3", "--quads", "1", "4",
                 "--n-per-quad", "40", "--years", "1", "--no-config", "--quiet"]) == 0
    everything = demo_catalogs(root)
    docs = everything.pop(SOURCES)
    return root, docs, everything


@pytest.fixture
def both(demo_sky, workdir, kowalski_server, kowalski_config):
    root, docs, catalogs = demo_sky
    server = kowalski_server({SOURCES: docs, **catalogs})
    kowalski_config({"loop": server}, extra={"data": {"archive_path": str(root / "ztf_archive"),
                                                      "catalogs_path": str(root / "catalogs")}})
    return workdir, server


def _files(folder: Path) -> dict:
    out = {}
    for p in sorted(folder.iterdir()):
        out[p.name] = read_ids(p).tolist() if p.suffix in (".h5", ".csv") else None
    return out


def _run_both(workdir, args):
    assert get_quad_ids.main(args + ["--source", "archive", "--id-scheme", "kowalski",
                                     "--output-dir", str(workdir / "local")]) == 0
    assert get_quad_ids.main(args + ["--source", "kowalski", "--catalog", SOURCES,
                                     "--output-dir", str(workdir / "kowalski")]) == 0
    local = workdir / "local" / "ids" / f"field_{FIELD}"
    remote = workdir / "kowalski" / "ids" / f"field_{FIELD}"
    return local, remote


@pytest.mark.parametrize("args", [
    ["--multi-quads", "--minobs", "5", "--limit", "25"],
    ["--whole-field", "--minobs", "0"],
    ["--ccd", "3", "--quad", "4", "--skip", "10", "--limit", "30", "--minobs", "1"],
    ["--multi-quads", "--ccd-range", "1", "2", "--quad-range", "4", "--minobs", "10"],
], ids=["multi-quads-paged", "whole-field", "single-quad", "ranges"])
def test_identical_id_files(both, args):
    workdir, server = both
    local, remote = _run_both(workdir, ["--field", str(FIELD)] + args)
    lf, rf = _files(local), _files(remote)
    assert lf == rf and any(v for v in lf.values())
    ml = json.loads((local / "meta.json").read_text())
    mr = json.loads((remote / "meta.json").read_text())
    ml.pop("catalog"), mr.pop("catalog")
    assert ml == mr
    ids = [i for v in lf.values() if v for i in v]
    assert all(10**13 <= i < 2 * 10**13 for i in ids)  # Kowalski _id form
    if "--limit" in args and "--multi-quads" in args:
        assert len(server.queries("find")) > 64  # quadrant probes plus more than one page


def test_ancillary_catalogs_agree_on_the_demo_field(demo_sky, kowalski_server):
    root, docs, catalogs = demo_sky
    server = kowalski_server(catalogs)
    remote = KowalskiCatalogs(KowalskiClient({"k": server.instance_spec()}, timeout=5))
    local = LocalCatalogs(root / "catalogs")
    src = [d for d in docs[:25]]
    ra = np.array([d["ra"] for d in src])
    dec = np.array([d["dec"] for d in src])
    for catalog, cols in [("Gaia_EDR3", ["phot_g_mean_mag", "parallax"]), ("AllWISE", ["w1mpro"]),
                          ("PS1_DR1", ["gMeanPSFMag"]), ("ZTF_alerts", ["braai"])]:
        a = remote.cone(catalog, ra, dec, 3.0, columns=cols)
        b = local.cone(catalog, ra, dec, 3.0, columns=cols)
        assert list(a.columns) == list(b.columns), catalog
        assert a["query_index"].tolist() == b["query_index"].tolist(), catalog
        assert a["_id"].tolist() == b["_id"].tolist(), catalog
        for c in cols:
            assert np.allclose(a[c].to_numpy(float), b[c].to_numpy(float), equal_nan=True), (catalog, c)
