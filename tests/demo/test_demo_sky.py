"""The demo sky as the rest of SCoPe sees it: files, schema, truth, labels, catalogs, cadence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scope.demo import CLASS_LABELS, CLASSES, allocate_counts
from scope.demo.brightstars import near_bright_star
from scope.demo.geometry import separation_arcsec
from scope.lightcurves import ztf_ids

FIELD = 301
CCD = 3
QUADS = (1, 2)
N_PER_QUAD = 15


def _archive_files(root: Path) -> list[Path]:
    return sorted((root / "ztf_archive" / "0" / "field0301").glob("*.parquet"))


def _truth(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / "ztf_archive" / "truth.parquet")


def _objects(root: Path) -> pd.DataFrame:
    """One truth row per physical object (g and r rows share the position)."""
    t = _truth(root)
    t = t.assign(number=t["_id"] % 10**8)
    return t.sort_values("band").drop_duplicates(["ccd", "quad", "number"])


def test_one_file_per_field_filter_ccd_quad(tiny_demo):
    names = [p.name for p in _archive_files(tiny_demo)]
    assert names == sorted(f"ztf_000301_z{b}_c03_q{q}_drdemo.parquet" for b in "gr" for q in QUADS)


def test_schema_matches_public_dr5_except_float64_hmjd(tiny_demo, real_data):
    dr5 = pq.read_schema(real_data / "ztf_dr5_field202_rc61_zg.parquet")
    expected = pa.schema([f for f in dr5 if f.name != "__index_level_0__"])
    expected = expected.set(expected.get_field_index("hmjd"), pa.field("hmjd", pa.list_(pa.float64())))
    for path in _archive_files(tiny_demo):
        assert pq.read_schema(path).remove_metadata().equals(expected.remove_metadata()), path.name


def test_rows_encode_field_filter_ccd_quad(tiny_demo):
    positions = {}
    for path in _archive_files(tiny_demo):
        df = pq.read_table(path).to_pandas()
        band = 1 if "_zg_" in path.name else 2
        quad = int(path.name.split("_q")[1][0])
        decoded = ztf_ids.decode_objectid(df["objectid"].to_numpy())
        assert (decoded.field == FIELD).all() and (decoded.filter == band).all()
        assert (decoded.ccd == CCD).all() and (decoded.quad == quad).all()
        assert (df["rcid"] == (CCD - 1) * 4 + quad - 1).all() and (df["fieldid"] == FIELD).all()
        assert df["objectid"].is_monotonic_increasing
        assert (df["nepochs"] == df["hmjd"].map(len)).all()
        for col in ("mag", "magerr", "clrcoeff", "catflags"):
            assert (df[col].map(len) == df["nepochs"]).all()
        for oid, ra, dec in zip(decoded.number, df["objra"], df["objdec"]):
            positions.setdefault((quad, oid), set()).add((ra, dec))
    # the same star in g and r: same object number, same position
    assert all(len(p) == 1 for p in positions.values())
    assert sum(len(p) for p in positions.values()) == len(positions)


def test_same_seed_same_files_other_seed_differs(tiny_demo, run_tiny, tmp_path):
    again = run_tiny(tmp_path / "again")
    for a, b in zip(_archive_files(tiny_demo), _archive_files(again)):
        assert pq.read_table(a).equals(pq.read_table(b)), a.name
    for rel in ["ztf_archive/truth.parquet", "labels.parquet", "catalogs/Gaia_EDR3.parquet",
                "catalogs/AllWISE.parquet", "catalogs/PS1_DR1.parquet", "catalogs/ZTF_alerts.parquet"]:
        pd.testing.assert_frame_equal(pd.read_parquet(tiny_demo / rel), pd.read_parquet(again / rel))

    other = run_tiny(tmp_path / "other", "--seed", "8")
    assert not pq.read_table(_archive_files(tiny_demo)[0]).equals(pq.read_table(_archive_files(other)[0]))


def test_class_counts_are_exact(tiny_demo):
    counts = _objects(tiny_demo)["class"].value_counts().to_dict()
    expected = {k: v for k, v in allocate_counts(len(QUADS) * N_PER_QUAD, 0.43).items() if v}
    assert counts == expected
    assert set(counts) == set(CLASSES)  # every class shows up even in a 30-object demo
    assert counts["nonvar"] > len(QUADS) * N_PER_QUAD / 2


def test_truth_columns_and_periods(tiny_demo):
    t = _truth(tiny_demo)
    assert list(t.columns) == ["_id", "ra", "dec", "field", "ccd", "quad", "band", "class", "period",
                               "amplitude", "mean_mag", "n_good", "near_bright_star", "labelled"]
    assert t["_id"].is_unique
    periodic = t["class"].map(lambda c: CLASSES[c].periodic)
    assert t.loc[periodic, "period"].notna().all() and t.loc[~periodic, "period"].isna().all()
    ranges = {"rrab": (0.45, 0.8), "rrc": (0.25, 0.4), "dscu": (0.03, 0.2), "cep": (2, 40), "ea": (1, 10),
              "eb": (0.5, 3), "ew": (0.25, 0.5), "mira": (100, 500)}
    for cls, (lo, hi) in ranges.items():
        p = t.loc[t["class"] == cls, "period"]
        assert ((p >= lo) & (p <= hi)).all(), cls
    assert (t.loc[t["class"] == "nonvar", "amplitude"] == 0).all()
    assert (t.loc[t["class"] != "nonvar", "amplitude"] > 0).all()
    assert t["mean_mag"].between(13.0, 23.0).all()


def test_truth_matches_archive(tiny_demo):
    t = _truth(tiny_demo).set_index("_id")
    seen = 0
    for path in _archive_files(tiny_demo):
        df = pq.read_table(path).to_pandas()
        for oid, ra, dec, flags in zip(df["objectid"], df["objra"], df["objdec"], df["catflags"]):
            row = t.loc[oid]
            assert row["n_good"] == int(np.sum(np.asarray(flags) == 0))
            assert row["ra"] == pytest.approx(float(ra), abs=1e-9) and row["dec"] == pytest.approx(float(dec), abs=1e-9)
            seen += 1
    assert seen == len(t)


def test_labels_follow_class_mapping(tiny_demo):
    t = _truth(tiny_demo)
    labels = pd.read_parquet(tiny_demo / "labels.parquet")
    assert list(labels.columns[:3]) == ["ztf_id", "ra", "dec"]
    labelled = t[t["labelled"]]
    assert labels["ztf_id"].tolist() == labelled["_id"].tolist()
    assert labelled["class"].eq("nonvar").sum() == t["class"].eq("nonvar").sum()  # non-variables always labelled
    assert (~t["labelled"]).sum() < 0.3 * (t["class"] != "nonvar").sum()  # most variables show
    t = labelled
    names = list(labels.columns[3:])
    golden = json.loads((Path(__file__).resolve().parents[2] / "golden_dataset_mapper.json").read_text())
    assert set(names) <= set(golden)
    assert all(labels[n].dtype == np.float64 for n in names)
    for cls, row in zip(t["class"], labels[names].to_numpy()):
        assert {n for n, v in zip(names, row) if v == 1.0} == set(CLASS_LABELS[cls])
        assert set(np.unique(row)) <= {0.0, 1.0}


def test_catalogs_sorted_and_consistent_with_positions(tiny_demo):
    cats = {name: pd.read_parquet(tiny_demo / "catalogs" / f"{name}.parquet")
            for name in ("Gaia_EDR3", "AllWISE", "PS1_DR1", "ZTF_alerts")}
    assert {"phot_g_mean_mag", "bp_rp", "parallax", "pmra_error", "astrometric_excess_noise",
            "phot_bp_rp_excess_factor"} <= set(cats["Gaia_EDR3"].columns)
    assert {"w1mpro", "w4sigmpro", "ph_qual"} <= set(cats["AllWISE"].columns)
    assert {"gMeanPSFMag", "yMeanPSFMagErr", "qualityFlag"} <= set(cats["PS1_DR1"].columns)
    assert list(cats["ZTF_alerts"].columns) == ["_id", "objectId", "ra", "dec", "braai"]
    for name, df in cats.items():
        assert df["dec"].is_monotonic_increasing, name
        assert df["_id"].is_unique and df["_id"].dtype == np.int64, name

    obj = _objects(tiny_demo)
    gaia = cats["Gaia_EDR3"]
    sep = separation_arcsec(obj["ra"].to_numpy()[:, None], obj["dec"].to_numpy()[:, None],
                            gaia["ra"].to_numpy()[None, :], gaia["dec"].to_numpy()[None, :])
    nearest = sep.min(axis=1)
    assert np.mean(nearest < 0.3) >= 0.8
    match = gaia.iloc[sep.argmin(axis=1)].assign(cls=obj["class"].to_numpy(), near=nearest)
    match = match[match["near"] < 0.5]
    agn = match[match["cls"] == "agn"]
    assert (np.abs(agn["parallax"]) < 5 * agn["parallax_error"]).all()
    flare = match[match["cls"] == "flare"]
    assert (flare["parallax"] > 1.0).all()  # nearby M dwarfs
    mira = match[match["cls"] == "mira"]
    assert (mira["bp_rp"] > 2.0).all()

    wise = cats["AllWISE"]
    wsep = separation_arcsec(obj["ra"].to_numpy()[:, None], obj["dec"].to_numpy()[:, None],
                             wise["ra"].to_numpy()[None, :], wise["dec"].to_numpy()[None, :])
    wm = wise.iloc[wsep.argmin(axis=1)].assign(cls=obj["class"].to_numpy(), near=wsep.min(axis=1))
    wm = wm[wm["near"] < 1.0]
    colour = wm["w1mpro"] - wm["w2mpro"]
    assert (colour[wm["cls"] == "agn"] > 0.6).all()
    assert colour[wm["cls"] == "nonvar"].median() < 0.2


def test_alerts_favour_large_amplitude_variables(tiny_demo):
    alerts = pd.read_parquet(tiny_demo / "catalogs" / "ZTF_alerts.parquet")
    obj = _objects(tiny_demo)
    sep = separation_arcsec(obj["ra"].to_numpy()[:, None], obj["dec"].to_numpy()[:, None],
                            alerts["ra"].to_numpy()[None, :], alerts["dec"].to_numpy()[None, :])
    n_alerts = pd.Series((sep < 2.0).sum(axis=1), index=obj["class"].to_numpy())
    assert n_alerts["mira"].min() > n_alerts["nonvar"].max()
    assert n_alerts.groupby(level=0).mean()["rrab"] > 5 * max(n_alerts["nonvar"].mean(), 0.1)


def test_bright_star_truth_agrees_with_exclusion_rule(tiny_demo):
    obj = _objects(tiny_demo)
    gaia = pd.read_parquet(tiny_demo / "catalogs" / "Gaia_EDR3.parquet")
    assert (gaia["phot_g_mean_mag"] < 13).any()
    flagged = obj["near_bright_star"].to_numpy()
    assert flagged.any() and not flagged.all()
    again = near_bright_star(obj["ra"], obj["dec"], gaia["ra"], gaia["dec"], gaia["phot_g_mean_mag"], gaia["bp_rp"])
    np.testing.assert_array_equal(again, flagged)
    # g and r rows of one object agree
    t = _truth(tiny_demo)
    assert t.groupby(t["_id"] % 10**8 + t["quad"] * 10**8)["near_bright_star"].nunique().max() == 1


def test_cadence_is_ztf_like(tiny_demo):
    frames = [pq.read_table(p).to_pandas() for p in _archive_files(tiny_demo)]
    archive = pd.concat(frames, ignore_index=True)
    night_sets = {}
    for _, row in archive.iterrows():
        t = np.asarray(row["hmjd"])
        assert np.all(np.diff(t) > 0)
        same_night = np.diff(t) < 0.5
        assert np.all(np.diff(t)[same_night] >= 30.0 / 1440.0 - 1e-9)
        night_sets.setdefault(row["filterid"], set()).update(np.floor(t).astype(int).tolist())
    all_t = np.unique(np.concatenate(archive["hmjd"].to_numpy()))
    assert all_t.max() - all_t.min() > 2.5 * 365
    assert np.sum(np.diff(all_t) > 60) >= 2  # seasonal gaps
    g, r = night_sets[1], night_sets[2]
    assert 0.45 <= len(g & r) / len(g | r) <= 0.75
    good = _truth(tiny_demo)["n_good"]
    assert 100 <= good.median() <= 400 and good.max() <= 450


def test_flags_outliers_and_errors_are_ztf_like(tiny_demo):
    archive = pd.concat([pq.read_table(p).to_pandas() for p in _archive_files(tiny_demo)], ignore_index=True)
    flags = np.concatenate(archive["catflags"].to_numpy())
    assert 0.005 < np.mean(flags != 0) < 0.10
    mag = np.concatenate(archive["mag"].to_numpy())[flags == 0]
    err = np.concatenate(archive["magerr"].to_numpy())[flags == 0]
    assert err.min() >= 0.011
    medians = [np.median(err[(mag >= lo) & (mag < lo + 1)]) for lo in (15, 17, 19)]
    assert medians[0] < medians[1] < medians[2]
    assert medians[0] < 0.03 and 0.05 < medians[2] < 0.2
    assert 13.0 < np.percentile(mag, 1) and np.percentile(mag, 99) < 21.5


def test_archive_reader_sees_the_demo(tiny_demo):
    from scope.config import load_config
    from scope.lightcurves.sources import open_source

    cfg = load_config(tiny_demo / "config.yaml")
    source = open_source(cfg)
    assert source.quadrants(FIELD) == [(CCD, q) for q in QUADS]
    t = _truth(tiny_demo)
    ids = source.ids_in_quadrant(FIELD, CCD, 1)
    np.testing.assert_array_equal(ids, np.sort(t.loc[t["quad"] == 1, "_id"].to_numpy()))
    batch = source.lightcurves(ids[:3])
    first = pq.read_table(_archive_files(tiny_demo)[0]).to_pandas().set_index("objectid")
    i = list(batch.ids).index(ids[0])
    t0, _, _ = batch.get(i)
    np.testing.assert_array_equal(t0, np.asarray(first.loc[ids[0], "hmjd"]) + 2400000.5)


def test_unlabelled_variables_hardly_vary(tiny_demo):
    """Variables left out of labels.parquet are those whose variability hides in the noise."""
    t = _truth(tiny_demo)
    hidden = t[~t["labelled"]]
    shown = t[t["labelled"] & (t["class"] != "nonvar")]
    assert (hidden["class"] != "nonvar").all()
    if len(hidden):
        assert hidden["amplitude"].median() < shown["amplitude"].median()
