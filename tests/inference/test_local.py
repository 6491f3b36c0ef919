"""run-scope-local: every input object gets predictions or a named reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scope.tables import read_table
from tests.loopback.kowalski_fixtures import demo_catalogs, kowalski_config, kowalski_server  # noqa: F401
from tools.run_scope_local import main

FAST = ["--max-freq", "10", "--samples-per-peak", "2", "--top-n-periods", "3", "--Ncore", "1"]


def _check_every_object(results: pd.DataFrame, names: list[str], columns: list[str]) -> dict:
    """Each input object: predictions (finite scores) or a non-empty reason on each of its rows."""
    assert sorted(set(results["row"])) == list(range(len(names)))
    by_row = {}
    for row, part in results.groupby("row"):
        assert part["obj_id"].tolist() == [names[row]] * len(part)
        for rec in part.itertuples(index=False):
            if rec.status == "predicted":
                assert all(np.isfinite(getattr(rec, c)) for c in columns)
            else:
                assert isinstance(rec.status, str) and len(rec.status) > 10
        by_row[row] = part
    return by_row


def test_per_object_lightcurve_file_from_alerce(project, real_data, capsys):
    work, cfg = project
    lc = pd.read_parquet(real_data / "alerce_periodic_lightcurves.parquet")
    lc["oid"] = lc["oid"].replace({"ZTF17aaasltt": "my_star_1", "ZTF18aawalsv": "cep_2_b"})
    pd.DataFrame({"id": lc["oid"], "time": lc["mjd"], "mag": lc["magpsf_corr"], "magerr": lc["sigmapsf_corr"],
                  "band": lc["fid"].map({1: "g", 2: "r"})}).to_csv(work / "lightcurves.csv", index=False)
    names = list(lc["oid"].unique()) + ["not_in_the_files"]
    pd.DataFrame({"obj_id": names}).to_csv(work / "objects.csv", index=False)
    rc = main(["--path-dataset", "objects.csv", "--lightcurve-files", "lightcurves.csv", "--algorithms", "xgb",
               "--group-names", "experiment", "--skipCloseSources", "--min-n-lc-points", "20", "--write-csv",
               *FAST])
    assert rc == 0
    captured = capsys.readouterr()
    stamp = captured.out.strip().splitlines()[-1]
    assert len(stamp) == 15 and stamp[8] == "_"
    folder = work / f"scope_local_{stamp}"
    results = read_table(folder / "predictions.parquet")
    assert (folder / "predictions.csv").exists() and (folder / "sources.parquet").exists()
    by_row = _check_every_object(results, names, ["vnv_xgb", "pnp_xgb"])
    predicted = {names[r] for r, part in by_row.items() if (part["status"] == "predicted").any()}
    assert len(predicted) >= 20 and {"my_star_1", "cep_2_b"} <= predicted  # names with "_" survive
    assert by_row[len(names) - 1]["status"].tolist() == ["no light curve named 'not_in_the_files' in the light-curve "
                                                         "files"]
    short = results[results["status"].str.startswith("light curve rejected")]
    assert len(short) and short["status"].str.contains("fewer than 20 points").all()
    # the intermediate products are where the reference put them, time-stamped
    assert (work / f"generated_features_{stamp}" / "specific_ids" /
            f"gen_features_{stamp}_specific_ids.parquet").exists()
    preds = read_table(work / "preds_xgb" / f"field_{stamp}_specific_ids" / f"field_{stamp}_specific_ids.parquet")
    assert {"my_star_1", "cep_2_b"} <= set(preds["obj_id"])
    assert "objects, " in captured.err and "with predictions" in captured.err


@pytest.fixture(scope="module")
def demo_sky(tmp_path_factory):
    """One demo quadrant (12 objects in g and r; object 7 sits next to a bright star)."""
    from tools.scope_demo_data import main as demo

    root = tmp_path_factory.mktemp("local_demo")
    assert demo(["--output-dir", str(root), "--ccds", "1", "--quads", "1", "--n-per-quad", "12", "--seed", "3",
                 "--no-config", "--quiet"]) == 0
    return root, demo_catalogs(root)


def test_radec_list_against_loopback_kowalski(project, demo_sky, kowalski_server, kowalski_config, capsys):
    work, _ = project
    root, docs = demo_sky
    server = kowalski_server(docs)
    kowalski_config({"loop": server}, extra={"training": {"xgboost": {"other_training_params": {"num_boost_round": 30}}}})
    truth = pd.read_parquet(root / "ztf_archive" / "truth.parquet").drop_duplicates("ra").reset_index(drop=True)
    bright = truth[truth["near_bright_star"]].head(1)
    plain = truth[~truth["near_bright_star"]].head(3)
    chosen = pd.concat([plain, bright], ignore_index=True)
    names = [f"obj_{k}" for k in range(len(chosen))] + ["empty_sky"]
    pd.DataFrame({"ra": [*chosen["ra"], chosen["ra"].iat[0] + 0.5], "dec": [*chosen["dec"], chosen["dec"].iat[0]],
                  "obj_id": names}).to_csv(work / "radec.csv", index=False)
    rc = main(["--path-dataset", "radec.csv", "--algorithms", "xgb", "--group-names", "experiment", *FAST])
    assert rc == 0, capsys.readouterr().err
    stamp = capsys.readouterr().out.strip().splitlines()[-1]
    results = read_table(work / f"scope_local_{stamp}" / "predictions.parquet")
    by_row = _check_every_object(results, names, ["vnv_xgb", "pnp_xgb"])
    for row in range(len(plain)):  # both bands found by the cone search, both scored
        part = by_row[row]
        assert len(part) == 2 and (part["status"] == "predicted").all()
        assert part["sep_arcsec"].max() < 2.0 and set(part["filter"]) == {1, 2}
    if len(bright):
        assert by_row[len(plain)]["status"].str.contains("bright Gaia star").all()
    assert by_row[len(names) - 1]["status"].tolist()[0].startswith("no light curve within 2 arcsec")
    assert server.queries("cone_search") or server.queries("near")


def test_object_list_columns_and_names(tmp_path):
    from scope.errors import DataError
    from scope.inference.local_input import position_name, read_object_list

    (tmp_path / "a.csv").write_text("RA,Dec.,name\n10.5,-5.25,obj_1\n20,30,\n")
    objs = read_object_list(tmp_path / "a.csv")
    assert objs.has_positions and not objs.has_ids
    assert objs.table["obj_id"].tolist() == ["obj_1", position_name(20, 30)]
    (tmp_path / "b.csv").write_text("ztfid\n10301062000001\n10301062000002\n")
    objs = read_object_list(tmp_path / "b.csv")
    assert objs.table["ztf_id"].tolist() == [10301062000001, 10301062000002]
    assert objs.table["obj_id"].tolist() == ["ZTF_10301062000001", "ZTF_10301062000002"]
    (tmp_path / "c.csv").write_text("ra\n1\n")
    with pytest.raises(DataError, match="no Dec column"):
        read_object_list(tmp_path / "c.csv")
    (tmp_path / "d.csv").write_text("foo\n1\n")
    with pytest.raises(DataError, match="needs ZTF ids"):
        read_object_list(tmp_path / "d.csv")


@pytest.mark.parametrize("ra, dec, name", [
    (0.0, 0.0, "ZTFJ000000.00+000000.0"),
    (359.99999999, -0.00000001, "ZTFJ000000.00-000000.0"),
    (15.0 * (1 + 2 / 60 + 59.999 / 3600), 10 + 20 / 60 + 59.99 / 3600, "ZTFJ010300.00+102100.0"),
    (101.2875, -16.716111, "ZTFJ064509.00-164258.0"),
])
def test_position_names_never_show_sixty(ra, dec, name):
    from scope.inference.local_input import position_name

    assert position_name(ra, dec) == name


def test_help_works(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])  # the reference's parser crashed here
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "--path-dataset" in out and "--doCPU" in out and "--lightcurve-files" in out
