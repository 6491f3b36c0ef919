"""scope-build-training-set: labels + feature files -> training set in the reference layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tools.build_training_set import main


@pytest.fixture
def features(project):
    """Two generated-features files (id column _id) with positions and dmdt."""
    from scope.tables import write_table

    folder, cfg = project
    rng = np.random.default_rng(0)
    n = 40
    df = pd.DataFrame({"_id": 10**13 + np.arange(n, dtype=np.int64), "ra": rng.uniform(10, 11, n),
                       "dec": rng.uniform(20, 21, n), "wstd": rng.normal(size=n), "period_LS": rng.uniform(0.1, 9, n)})
    df["dmdt"] = [rng.uniform(size=(26, 26)) for _ in range(n)]
    (folder / "features").mkdir()
    write_table(df.iloc[:25], folder / "features" / "field_301_a.parquet")
    write_table(df.iloc[25:], folder / "features" / "field_301_b.parquet")
    return df


def test_build_by_id_with_class_names(project, features, capsys):
    from scope.tables import read_table

    folder, cfg = project
    labels = pd.DataFrame({"id": [features["_id"][0], features["_id"][30], 42], "class": ["rrab", "EW;flare", "ea"]})
    labels.to_csv(folder / "truth.csv", index=False)
    assert main(["--labels", "truth.csv", "--features", "features", "--output", "ts.parquet"]) == 0
    err = capsys.readouterr().err
    assert err.count("1 of 3 labels found no features") == 1  # said once, not three times
    ts = read_table(folder / "ts.parquet")
    assert list(ts.columns)[-1] == "ztf_id" and ts["ztf_id"].tolist() == [features["_id"][0], features["_id"][30]]
    row = ts.iloc[0]
    # the class and every implied parent label
    for lab in ("RR Lyrae ab", "RR Lyrae", "pulsator", "periodic", "variable", "sawtooth"):
        assert row[lab] == 1.0, lab
    assert row["non-variable"] == 0.0 and row["EA"] == 0.0
    assert ts.iloc[1][["EW", "eclipsing", "flaring", "irregular", "variable"]].tolist() == [1.0] * 5
    assert "CV" in ts.columns and "None" not in ts.columns  # every mapper label column is present
    assert ts["dmdt"].iloc[0].shape == (26, 26) and ts["wstd"].iloc[1] == features["wstd"][30]
    assert ts.attrs["match"] == "id" and ts.attrs["n_unmatched"] == 1


def test_build_by_position_with_label_columns(project, features):
    from scope.tables import read_table

    folder, cfg = project
    target = features.iloc[[3, 7]]
    offset = 0.5 / 3600  # half an arcsecond in dec
    labels = pd.DataFrame({"obj_id": ["ZTFJ1", "ZTFJ2", "ZTFJ3"],
                           "ra": [target["ra"].iloc[0], target["ra"].iloc[1], 200.0],
                           "dec": [target["dec"].iloc[0] + offset, target["dec"].iloc[1], 0.0],
                           "variable": [1.0, 0.25, 1.0], "RR Lyrae": [0.75, 0.0, 0.0]})
    labels.to_parquet(folder / "fritz.parquet")
    assert main(["--labels", "fritz.parquet", "--features", "features/field_301_a.parquet",
                 "features/field_301_b.parquet", "--output", "ts.h5", "--radius-arcsec", "1"]) == 0
    ts = read_table(folder / "ts.h5")
    assert ts["obj_id"].tolist() == ["ZTFJ1", "ZTFJ2"] and list(ts.columns)[:3] == ["obj_id", "ra", "dec"]
    assert ts["ztf_id"].tolist() == target["_id"].tolist()
    assert ts["variable"].tolist() == [1.0, 0.25] and ts["RR Lyrae"].tolist() == [0.75, 0.0]
    assert ts.attrs["match"] == "position"
    # a tighter radius loses the first (0.5" away) source
    assert main(["--labels", "fritz.parquet", "--features", "features", "--output", "t2.parquet",
                 "--radius-arcsec", "0.3"]) == 0
    assert read_table(folder / "t2.parquet")["obj_id"].tolist() == ["ZTFJ2"]


def test_unknown_class_names_and_missing_inputs_are_errors(project, features, capsys):
    folder, cfg = project
    pd.DataFrame({"id": [features["_id"][0]], "class": ["unicorn"]}).to_csv(folder / "t.csv", index=False)
    assert main(["--labels", "t.csv", "--features", "features", "--output", "ts.parquet"]) == 1
    assert "unknown class name(s) in the labels: 'unicorn'" in capsys.readouterr().err
    (folder / "map.json").write_text('{"unicorn": "variable"}')
    assert main(["--labels", "t.csv", "--features", "features", "--output", "ts.parquet",
                 "--class-map", "map.json"]) == 0
    pd.DataFrame({"x": [1]}).to_csv(folder / "bad.csv", index=False)
    assert main(["--labels", "bad.csv", "--features", "features", "--output", "o.parquet"]) == 1
    assert "neither label columns" in capsys.readouterr().err
    assert main(["--labels", "t.csv", "--features", "nowhere", "--output", "o.parquet"]) == 1


def test_built_set_trains(project, synthetic):
    """The builder's output (labels from class names) is a training set scope-train accepts."""
    from scope.tables import write_table
    from scope.training.train import train

    folder, cfg = project
    df = synthetic(cfg)
    names = {"nonvar": "nonvar", "rrlyr": "rrab", "ecl": "ea", "lpv": "mira", "irr": "flare"}
    truth = pd.DataFrame({"id": df["ztf_id"], "class": df["latent_type"].map(names)})
    write_table(truth, folder / "truth.parquet")
    from scope.training.training_set import find_mapper, label_columns, load_mapper

    label_cols = [c for c in df.columns if c in label_columns(load_mapper(find_mapper()))]
    feats = df.drop(columns=label_cols + ["latent_type"]).rename(columns={"ztf_id": "_id"})
    write_table(feats, folder / "features.parquet")
    assert main(["--labels", "truth.parquet", "--features", "features.parquet", "--output", "built.parquet"]) == 0
    for tag in ("vnv", "rrlyr"):
        r = train(cfg, tag, algorithm="xgb", path_dataset=folder / "built.parquet", skip_cv=True)
        assert r.metrics["test"]["roc_auc"] >= 0.9


def test_label_values_outside_0_1_are_refused_by_column_and_count(project, features, capsys):
    folder, cfg = project
    labels = pd.DataFrame({"ztf_id": features["_id"][:4], "variable": [1.0, 2.0, 0.5, 100.0],
                           "RR Lyrae": [0.0, -1.0, 1.0, 0.0], "EW": [0.0, 0.0, 1.0, np.nan]})
    labels.to_csv(folder / "t.csv", index=False)
    assert main(["--labels", "t.csv", "--features", "features", "--output", "ts.parquet"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "outside [0, 1]" in err and "'variable' (2, e.g. 2)" in err and "'RR Lyrae' (1, e.g. -1)" in err
    assert "EW" not in err and not (folder / "ts.parquet").exists()


def test_unknown_label_columns_are_named_in_a_warning(project, features, capsys):
    from scope.tables import read_table

    folder, cfg = project
    labels = pd.DataFrame({"ztf_id": features["_id"][:3], "variable": [1.0, 0.0, 1.0],
                           "RR lyrae": [1.0, 0.0, 0.0],      # misspelt: would silently be "not RR Lyrae"
                           "is_weird": [0.0, 1.0, 0.0],       # a probability-like column of no label
                           "mag": [15.2, 17.9, 19.0]})        # a plain value column: not a label
    labels.to_csv(folder / "t.csv", index=False)
    assert main(["--labels", "t.csv", "--features", "features", "--output", "ts.parquet"]) == 0
    warned = [ln for ln in capsys.readouterr().err.splitlines() if "not used" in ln]
    assert len(warned) == 1
    assert "'RR lyrae' (did you mean 'RR Lyrae'?)" in warned[0] and "'is_weird'" in warned[0]
    assert "mag" not in warned[0]
    assert read_table(folder / "ts.parquet")["RR Lyrae"].tolist() == [0.0, 0.0, 0.0]


def test_hdf5_training_set_carries_coordinates_like_the_reference(project, features):
    from scope.tables import read_table

    folder, cfg = project
    labels = pd.DataFrame({"ztf_id": features["_id"][:5], "variable": [1.0, 0.0, 1.0, 0.0, 1.0]})
    labels.to_csv(folder / "t.csv", index=False)
    assert main(["--labels", "t.csv", "--features", "features", "--output", "ts.h5"]) == 0
    with pd.HDFStore(folder / "ts.h5", mode="r") as store:
        assert sorted(store.keys()) == ["/coordinates", "/df", "/dmdt"]
        coords = store.get("coordinates")
        assert "coordinates" not in store.get("df").columns
    lon, lat = coords.iloc[2]["radec_geojson"]["coordinates"]
    assert lon == pytest.approx(features["ra"][2] - 180.0) and lat == pytest.approx(features["dec"][2])
    assert coords.iloc[2]["radec_geojson"]["type"] == "Point"
    ts = read_table(folder / "ts.h5")
    assert ts["coordinates"].iloc[0]["radec_geojson"]["coordinates"][1] == pytest.approx(features["dec"][0])
    # parquet keeps the same column
    assert main(["--labels", "t.csv", "--features", "features", "--output", "ts.parquet"]) == 0
    assert read_table(folder / "ts.parquet")["coordinates"].iloc[0]["radec_geojson"]["type"] == "Point"
