"""check-quads-for-sources and --generateQuadrantFile, on the local archive and on Kowalski (loopback)."""

import json
from collections import Counter

import pyarrow.parquet as pq
import pytest
import yaml

from scope.lightcurves import ztf_ids
from tests.loopback.kowalski_fixtures import SOURCES, demo_catalogs
from tools import check_quads_for_sources, generate_features_slurm

MINOBS = 30


def _truth(root, minobs):
    """Light curves with >= minobs epochs per (ccd, quad), read straight from the archive files."""
    counts = Counter()
    for path in (root / "ztf_archive").rglob("ztf_*.parquet"):
        t = pq.read_table(path, columns=["rcid", "nepochs"]).to_pandas()
        for rc, n in zip(t["rcid"], t["nepochs"]):
            if n >= minobs:
                counts[ztf_ids.ccd_quad_from_rc(int(rc))] += 1
    return counts


@pytest.fixture
def archive_config(workdir, demo_field):
    cfg = {"data": {"source": "archive", "archive_path": str(demo_field / "ztf_archive"),
                    "catalogs_path": str(demo_field / "catalogs")}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg))
    return workdir


@pytest.fixture
def kowalski_setup(workdir, demo_field, kowalski_server, kowalski_config):
    server = kowalski_server(demo_catalogs(demo_field))
    kowalski_config({"loop": server}, extra={"data": {"archive_path": str(demo_field / "ztf_archive"),
                                                      "catalogs_path": str(demo_field / "catalogs")}})
    return server


def test_counts_on_the_archive(archive_config, demo_field):
    assert check_quads_for_sources.main(["--fields", "301", "302", "--count-sources", "--minobs", str(MINOBS),
                                         "--save"]) == 0
    saved = json.loads((archive_config / "catalog_completeness.json").read_text())
    truth = _truth(demo_field, MINOBS)
    assert saved["302"] == {}  # scanned, empty
    assert saved == {"302": {}, "301": {str(c): {str(q): truth[(c, q)] for (cc, q) in sorted(truth) if cc == c}
                             for c in sorted({c for c, _ in truth})}}
    assert check_quads_for_sources.main(["--save", "--filename", "plain"]) == 0  # default: the archive's fields
    assert json.loads((archive_config / "plain.json").read_text()) == {"301": {"3": [1, 2], "5": [1, 2]}}


def test_kowalski_gives_the_same_counts(kowalski_setup, workdir):
    args = ["--fields", "301", "302", "--count-sources", "--minobs", str(MINOBS), "--save"]
    assert check_quads_for_sources.main([*args, "--source", "archive", "--filename", "local"]) == 0
    n_before = len(kowalski_setup.queries())
    assert check_quads_for_sources.main([*args, "--source", "kowalski", "--catalog", SOURCES,
                                         "--filename", "remote"]) == 0
    local = json.loads((workdir / "local.json").read_text())
    assert json.loads((workdir / "remote.json").read_text()) == local and local["301"]
    # field 302 is empty: one probe, no per-quadrant counts
    assert len(kowalski_setup.queries("count_documents")) == 64
    # a rerun with --save asks only for the fields the file lacks: one probe of field 303
    n_mid = len(kowalski_setup.queries())
    assert check_quads_for_sources.main([*args, "--fields", "301", "302", "303", "--source", "kowalski",
                                         "--catalog", SOURCES, "--filename", "remote"]) == 0
    new = [q["body"] for q in kowalski_setup.queries()[n_mid:] if q["body"]["query_type"] != "info"]
    assert [q["query"]["filter"] for q in new] == [{"field": {"$eq": 303}}] and n_mid > n_before


def test_quadrant_file_from_the_archive_honours_the_field_list(archive_config, demo_field, capsys):
    base = ["--cluster-name", "plain", "--doCPU", "--generateQuadrantFile", "--count-sources",
            "--min-n-lc-points", str(MINOBS)]
    assert generate_features_slurm.main([*base, "--field-list", "301", "302"]) == 0
    slurm = archive_config / "generated_features" / "slurm"
    assert (slurm / "slurm.dat").read_text() == "0 301 3 1\n1 301 3 2\n2 301 5 1\n3 301 5 2\n"
    counts = json.loads((slurm / "slurm_counts.json").read_text())
    truth = _truth(demo_field, MINOBS)
    assert counts["301"]["5"]["2"] == truth[(5, 2)]
    assert "--quadrant-index \"$QID\"" in (slurm / "slurm.sub").read_text()
    assert generate_features_slurm.main([*base, "--field-list", "999", "--dirname", "none"]) == 1
    assert "no quadrant of fields 999 holds light curves" in capsys.readouterr().err
    assert not (archive_config / "none" / "slurm" / "slurm.dat").exists()


def test_quadrant_file_from_kowalski_matches_the_archive(kowalski_setup, workdir):
    base = ["--cluster-name", "plain", "--doCPU", "--generateQuadrantFile", "--field-list", "301"]
    assert generate_features_slurm.main([*base, "--source", "archive", "--dirname", "local"]) == 0
    assert generate_features_slurm.main([*base, "--source", "kowalski", "--source-catalog", SOURCES,
                                         "--dirname", "remote"]) == 0
    local = (workdir / "local" / "slurm" / "slurm.dat").read_text()
    assert (workdir / "remote" / "slurm" / "slurm.dat").read_text() == local and local
