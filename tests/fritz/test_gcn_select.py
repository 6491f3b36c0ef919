"""scope-download-gcn-sources, select-fritz-sample and the deprecated scope-upload-disagreements."""

import json

import numpy as np
import pandas as pd
import pytest

from scope.tables import read_table, write_table
from tests.fritz.conftest import predictions
from tests.loopback.skyportal_seed import GCN_DATEOBS
from tools import scope_download_gcn_sources as gcn, select_fritz_sample as sel, scope_upload_disagreements as dis


def test_gcn_sources_feed_generate_features(fritz_env):
    assert gcn.main(["--dateobs", GCN_DATEOBS, "--group-ids", str(fritz_env.seed.groups["emgw"])]) == 0
    stem = fritz_env.dir / "fritzDownload" / f"specific_ids_GCN_sources.{GCN_DATEOBS.replace(':', '-')}"
    table = read_table(stem.with_suffix(stem.suffix + ".parquet"))
    assert set(table["fritz_name"]) == set(fritz_env.seed.gcn_sources)  # the late and the far one left out
    objects = fritz_env.seed.objects
    for name, (ra, dec) in fritz_env.seed.gcn_sources.items():  # each sits 0.2" from a demo star: its g and r
        sep = np.hypot((objects["ra"] - ra) * np.cos(np.radians(dec)), objects["dec"] - dec) * 3600
        want = set(objects.loc[sep.idxmin(), "lightcurve_ids"])
        assert set(table.loc[table.fritz_name == name, "ztf_id"]) == want
    assert table["ztf_id"].is_unique
    js = json.loads(stem.with_suffix(stem.suffix + ".json").read_text())
    assert set(js) == {str(i) for i in table["ztf_id"]} and all("radec_geojson" in v for v in js.values())
    req = fritz_env.server.requests("GET", "/api/sources")[0]["args"]
    assert req["startDate"] == GCN_DATEOBS and req["endDate"] == "2023-05-28T05:30:43"
    # generate-features --doSpecificIDs reads the file as written
    from scope.generation.selection import read_source_list

    ids = read_source_list(stem.with_suffix(stem.suffix + ".parquet"))
    assert sorted(ids["_id"]) == sorted(table["ztf_id"]) and ids["ra"].notna().all()
    assert set(ids["fritz_name"]) == set(fritz_env.seed.gcn_sources)


def test_gcn_unknown_event(fritz_env, capsys):
    assert gcn.main(["--dateobs", "2020-01-01T00:00:00"]) == 1
    assert "no GCN event at 2020-01-01T00:00:00" in capsys.readouterr().err
    assert gcn.main(["--dateobs", "soon"]) == 1


@pytest.fixture
def preds_dirs(fritz_env):
    df = predictions(fritz_env.dir, algorithm="dnn", tags=("vnv", "pnp", "rrab"))
    df["Gaia_EDR3___id"] = (df["_id"] % 10**11)  # one Gaia id per star: g and r consolidate
    df.loc[df.index[:2], "Gaia_EDR3___id"] = 0   # two light curves without any survey id
    for f, part in ((301, df.iloc[:40]), (302, df.iloc[40:])):
        write_table(part, fritz_env.dir / "preds_dnn" / f"field_{f}" / f"field_{f}.parquet")
    for tag in ("vnv", "pnp"):
        (fritz_env.dir / "models_dnn" / "experiment" / tag).mkdir(parents=True)
    return df


def test_select_sample_consolidates_across_fields_and_fills_quotas(fritz_env, preds_dirs):
    assert sel.main(["--min-class-examples", "5", "--probability-threshold", "0.6", "--write-csv",
                     "--write-consolidation-results"]) == 0
    out = fritz_env.dir / "AL_datasets_dnn" / "active_learning_set"
    picked = read_table(out / "active_learning_set.parquet")
    consol = read_table(out / "inference_results_consol.parquet")
    stars = preds_dirs.assign(star=preds_dirs["_id"] % 10**11)
    assert len(consol) == stars["star"].nunique()  # across both fields, light curves without ids kept
    meta = json.loads((out / "meta.json").read_text())
    assert set(meta) == {"vnv_dnn", "pnp_dnn", "nonvar_dnn"}
    assert all(5 <= v or v == (consol[k] >= 0.6).sum() for k, v in meta.items())
    assert picked["obj_id"].str.startswith("ZTFJ").all() and picked["obj_id"].is_unique
    assert (out / "active_learning_set.csv").exists()
    again = read_table(out / "active_learning_set.parquet")
    assert sel.main(["--min-class-examples", "5", "--probability-threshold", "0.6", "--read-consolidation-results"]) == 0
    pd.testing.assert_frame_equal(read_table(out / "active_learning_set.parquet"), again)  # seeded: same pick


def test_select_top_n(fritz_env, preds_dirs):
    assert sel.main(["--fields", "301", "302", "--select-top-n", "--min-class-examples", "3",
                     "--probability-threshold", "0.1", "--doNotSave"]) == 0
    assert not (fritz_env.dir / "AL_datasets_dnn" / "active_learning_set" / "active_learning_set.parquet").exists()
    from scope.fritz.select_sample import SampleOptions, select_fritz_sample
    from scope.config import load_config

    picked, _ = select_fritz_sample(load_config(), SampleOptions(select_top_n=True, min_class_examples=3,
                                                                 probability_threshold=0.1, do_not_save=True))
    assert len(picked) <= 9 and set(picked.columns) >= {"obj_id", "vnv_dnn", "pnp_dnn"}


def test_select_errors(fritz_env, capsys):
    assert sel.main([]) == 1
    assert "no predictions folder" in capsys.readouterr().err
    assert sel.main(["--algorithm", "svm"]) == 1


def test_upload_disagreements(fritz_env):
    df = predictions(fritz_env.dir, tags=())
    df["vnv_dnn"] = [0.99 if i % 3 == 0 else 0.5 for i in range(len(df))]
    df["vnv_xgb"] = [0.02 if i % 3 == 0 else 0.5 for i in range(len(df))]
    write_table(df, fritz_env.dir / "combined.parquet")
    train = df.iloc[[0]].rename(columns={"_id": "ztf_id"})
    write_table(train, fritz_env.dir / "train.parquet")
    g = fritz_env.seed.groups["upload"]
    assert dis.main(["-file", "train.parquet", "-id", str(g), "--predictions", "combined.parquet"]) == 0
    anns = [a for a in fritz_env.server.state.annotations.values() if a["origin"] == "ML_DR5_d15_v1"]
    stars = {int(i) % 10**11 for i in df.loc[df.index % 3 == 0, "_id"].iloc[1:]}
    assert 0 < len(anns) <= len(stars)
    assert all(a["data"]["vnv_dnn"] == 0.99 and g in fritz_env.server.state.obj_groups(a["obj_id"]) for a in anns)
    n = len(anns)
    assert dis.main(["-file", "train.parquet", "-id", str(g), "--predictions", "combined.parquet"]) == 0
    assert len([a for a in fritz_env.server.state.annotations.values() if a["origin"] == "ML_DR5_d15_v1"]) == n
