"""scope-download-classification against the loopback Fritz (and the loopback Kowalski)."""

import json
from importlib import resources

import numpy as np
import pandas as pd

from scope.tables import read_table
from tests.fritz.conftest import demo_features
from tools import scope_download_classification as dl

OUT = "fritzDownload"


def _sources_requests(server):
    return [e for e in server.requests("GET", r"/api/sources(/.*)?")]


def test_parse_mode_downloads_every_group_source_in_one_request_per_page(fritz_env):
    g = fritz_env.seed.groups
    assert dl.main(["--file", "parse", "--group-ids", str(g["training"]), str(g["al"])]) == 0
    df = read_table(fritz_env.dir / OUT / "parse_fritzDownload.parquet")
    assert list(df.columns) == ["obj_id", "ra", "dec", "classification", "probability", "sum_votes", "labellers",
                                "period_origin", "period"]
    assert sorted(df["obj_id"]) == sorted(fritz_env.seed.labelled + list(fritz_env.seed.active_learning))
    assert (df.loc[df["obj_id"].isin(fritz_env.seed.labelled), "labellers"] != "").all()
    assert (df["sum_votes"] == "").all()  # list results carry no votes; not claimed as zero
    reqs = _sources_requests(fritz_env.server)
    assert len(reqs) == 1 and reqs[0]["args"]["group_ids"] == f"{g['training']},{g['al']}"
    assert df.attrs["fritz_download_dateTime_utc"] and df.attrs["scope_code_version"]
    assert not list((fritz_env.dir / OUT).glob(".*parts"))


def test_merge_features_builds_a_training_set(fritz_env):
    demo_features(fritz_env.dir, fritz_env.dir / "features.parquet")
    g = fritz_env.seed.groups
    for flag, fmt in ((["--merge-features"], "parquet"), (["--merge-features", "True"], "h5")):
        assert dl.main(["--group-ids", str(g["training"]), *flag, "--features-file", "features.parquet",
                        "--get-ztf-filters", "--output-format", fmt]) == 0
    ts = read_table(fritz_env.dir / OUT / "merged_classifications_features.parquet")
    h5 = read_table(fritz_env.dir / OUT / "merged_classifications_features.h5")
    pd.testing.assert_frame_equal(h5.drop(columns=["dmdt", "labellers"]), ts.drop(columns=["dmdt", "labellers"]),
                                  check_like=True, check_dtype=False)
    assert h5["labellers"].tolist() == [";".join(v) for v in ts["labellers"]]  # lists in parquet, joined in HDF5
    golden = json.loads(resources.files("scope").joinpath("data", "golden_dataset_mapper.json").read_text())
    labels = [k for k, v in golden.items() if v["fritz_label"] != "None"]
    assert list(ts.columns[:3]) == ["obj_id", "ra", "dec"] and ts.columns[-1] == "ztf_id"
    assert list(ts.columns[3:3 + len(labels)]) == labels and ts.columns[3 + len(labels)] == "labellers"
    assert ts["dmdt"].iloc[0].shape == (26, 26) and set(ts["filter"]) == {1, 2}
    # each labelled object has two light curves (g, r): both rows, with the object's labels
    assert len(ts) == 2 * len(fritz_env.seed.labelled)
    demo_labels = pd.read_parquet(fritz_env.dir / "labels.parquet").set_index("ztf_id")
    objects = fritz_env.seed.objects.set_index("obj_id")
    for row in ts.itertuples():  # the scanners' labels of the object, as the demo made them
        lcs = [i for i in objects.loc[row.obj_id, "lightcurve_ids"] if i in demo_labels.index]
        for col in ("variable", "periodic", "AGN"):
            assert getattr(row, col) == demo_labels.loc[lcs, col].max()
    sources = read_table(fritz_env.dir / OUT / "sources_fritzDownload.h5")
    assert sources["labellers"].str.len().min() > 0  # joined user ids in HDF5
    assert len(sources) == len(fritz_env.seed.labelled)


def test_merge_features_false_means_false(fritz_env):
    g = fritz_env.seed.groups
    assert dl.main(["--group-ids", str(g["training"]), "--merge-features", "False"]) == 0
    assert not (fritz_env.dir / OUT / "merged_classifications_features.parquet").exists()


def test_a_light_curve_between_two_sources_goes_to_the_closer(fritz_env):
    from scope.fritz.download import merge_features
    from scope.fritz.features import LocalPositionalFeatures
    from scope.config import load_config
    from scope.tables import write_table

    feats = demo_features(fritz_env.dir)
    one = feats.iloc[[0]].assign(ra=10.0, dec=0.0)
    write_table(one, fritz_env.dir / "one.parquet")
    sources = pd.DataFrame({"obj_id": ["far", "near"], "ra": [10.0 + 1.5 / 3600, 10.0 - 0.5 / 3600],
                            "dec": [0.0, 0.0], "variable": [1.0, 0.0], "labellers": [None, None]})
    merged = merge_features(sources, LocalPositionalFeatures(fritz_env.dir / "one.parquet"), load_config())
    assert merged["obj_id"].tolist() == ["near"]


def test_file_mode_by_id_and_by_position(fritz_env):
    obj = fritz_env.seed.objects.set_index("obj_id")
    transients = [o for o in fritz_env.server.state.objs if o.startswith("ZTF23")]
    st = fritz_env.server.state
    labelled = [o for o in fritz_env.seed.labelled  # away from the seeded transients
                if min(abs(st.objs[o]["ra"] - st.objs[t]["ra"]) + abs(st.objs[o]["dec"] - st.objs[t]["dec"])
                       for t in transients) > 5 / 3600][:3]
    rows = pd.DataFrame({"obj_id": [labelled[0], "ZTFJ-unknown", None],
                         "ra": [np.nan, obj.loc[labelled[1], "ra"], obj.loc[labelled[2], "ra"] + 0.5 / 3600],
                         "dec": [np.nan, obj.loc[labelled[1], "dec"], obj.loc[labelled[2], "dec"]]})
    rows.to_csv(fritz_env.dir / "sample.csv", index=False)
    assert dl.main(["--file", "sample.csv", "--output-format", "csv"]) == 0
    out = read_table(fritz_env.dir / OUT / "sample_fritzDownload.csv")
    assert out["obj_id"].tolist() == labelled
    assert (out["classification"].str.len() > 0).all()
    assert str(out["sum_votes"][0]).startswith("1")  # a single-source reply carries votes
    assert fritz_env.server.requests("GET", "/api/sources")[0]["args"]["radius"] == str(2 / 3600)


def test_update_training_set_keeps_confirmed_labels(fritz_env):
    from scope.tables import write_table

    feats = demo_features(fritz_env.dir, fritz_env.dir / "features.parquet")
    g = fritz_env.seed.groups
    # an existing training set holding one light curve of an active-learning object under another name
    al = fritz_env.seed.objects.set_index("obj_id").loc[list(fritz_env.seed.active_learning)]
    old_lc = int(al["lightcurve_ids"].iloc[0][0])
    old = pd.DataFrame({"obj_id": ["OLDNAME"], "ra": [1.0], "dec": [1.0], "variable": [0.0], "non-variable": [1.0],
                        "ztf_id": [old_lc]})
    write_table(old, fritz_env.dir / "training_set.parquet")
    cfg = fritz_env.config()
    text = cfg.read_text() + "training:\n  dataset: training_set.parquet\n"
    cfg.write_text(text)
    assert dl.main(["--group-ids", str(g["al"]), "--merge-features", "--features-file", "features.parquet",
                    "--update-training-set", "--min-vote-diff", "1"]) == 0
    # votes are needed: each list-mode source was fetched singly
    assert len(fritz_env.server.requests("GET", r"/api/sources/.+")) == len(fritz_env.seed.active_learning)
    merged = read_table(fritz_env.dir / OUT / "updated_AL_merged_classifications_features.parquet")
    up = [o for o, v in fritz_env.seed.active_learning.items() if v > 0]
    down = [o for o, v in fritz_env.seed.active_learning.items() if v < 0]
    label = {o: "variable" if fritz_env.seed.objects.set_index("obj_id").loc[o, "cls"] != "nonvar" else "non-variable"
             for o in fritz_env.seed.active_learning}
    for o in up:
        assert (merged.loc[merged.obj_id == o, label[o]] == 0.8).all()
    for o in down:  # voted down: the ML label does not count
        assert (merged.loc[merged.obj_id == o, label[o]] == 0.0).all()
    updated = read_table(fritz_env.dir / "updated_AL_training_set.parquet")
    assert updated["ztf_id"].is_unique and old_lc in set(updated["ztf_id"])
    assert updated.loc[updated.ztf_id == old_lc, "obj_id"].item() == "OLDNAME"  # original name kept
    assert len(updated) == len(merged) + 1 - int(old_lc in set(merged["ztf_id"]))


def test_crash_resumes_without_refetching_pages(fritz_env):
    st = fritz_env.server.state
    g = fritz_env.seed.groups["training"]
    bot = st.users[1]
    for i in range(1200):  # three pages of 500
        st.add_obj(f"ZTFJX{i:05d}", 60 + i * 1e-3, 0.0)
        st.save(f"ZTFJX{i:05d}", g, bot)
    fritz_env.server.add_fault("status", status=503, when=lambda where, body: where == "GET /api/sources"
                               and len(fritz_env.server.requests("GET", "/api/sources")) >= 2)
    assert dl.main(["--group-ids", str(g)]) == 1
    assert len(list((fritz_env.dir / OUT).glob(".parse_fritzDownload.parts/page_*.json"))) == 1
    fritz_env.server.clear_faults()
    fritz_env.server.reset_log()
    assert dl.main(["--group-ids", str(g)]) == 0
    pages = sorted(int(e["args"]["pageNumber"]) for e in fritz_env.server.requests("GET", "/api/sources"))
    assert pages == [2, 3]
    df = read_table(fritz_env.dir / OUT / "parse_fritzDownload.parquet")
    assert len(df) == 1200 + len(fritz_env.seed.labelled) and df["obj_id"].is_unique


def test_kowalski_features(fritz_env, kowalski_server, kowalski_config):
    from tests.loopback.kowalski_docs import feature_documents

    feats = demo_features(fritz_env.dir)
    from scope.lightcurves import ztf_ids

    feats["_id"] = ztf_ids.objectid_to_kowalski(feats["_id"].to_numpy())
    feats["coordinates"] = [{"radec_geojson": {"type": "Point", "coordinates": [r - 180, d]}}
                            for r, d in zip(feats["ra"], feats["dec"])]
    server = kowalski_server({"ZTF_source_features_DR16": feature_documents(feats)})
    kowalski_config({"loop": server}, extra={"fritz": fritz_env.server.fritz_section(
        fritz_env.token, max_attempts=2, sleep_time=0.001, timeout=5, rate_limit=0)})
    g = fritz_env.seed.groups["training"]
    assert dl.main(["--group-ids", str(g), "--merge-features", "--impute-missing-features"]) == 0
    ts = read_table(fritz_env.dir / OUT / "merged_classifications_features.parquet")
    assert len(ts) == 2 * len(fritz_env.seed.labelled) and ts.attrs["features_ztf_dataRelease"] == "DR16"
    assert ts.attrs["features_imputed"] is True
    assert server.queries("cone_search") and server.queries("find")


def test_errors_are_one_line(fritz_env, capsys):
    assert dl.main(["--file", "parse"]) == 1
    assert "give --group-ids" in capsys.readouterr().err
    assert dl.main(["--file", "nope.csv"]) == 1
    assert dl.main(["--group-ids", "2", "--output-format", "xls"]) == 1
    err = capsys.readouterr().err
    assert "input file not found: nope.csv" in err and "parquet, h5 or csv" in err
    cfg = fritz_env.config()
    cfg.write_text(cfg.read_text().replace(fritz_env.token, "bad-token-000000"))
    assert dl.main(["--group-ids", "2"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "bad-token-000000" not in err and "Traceback" not in err


def test_older_servers_with_full_list_answers_need_no_single_reads(fritz_env, skyportal_server):
    from tests.loopback.skyportal_seed import seed_from_demo

    old = skyportal_server(fast_list=False)  # SkyPortal before mid-2024: votes and groups in list answers
    seed = seed_from_demo(old, fritz_env.dir, token=fritz_env.token)
    from tests.loopback.skyportal_fixtures import write_fritz_config

    write_fritz_config(old, seed.token, fritz_env.dir)
    demo_features(fritz_env.dir, fritz_env.dir / "features.parquet")
    cfg = fritz_env.dir / "config.yaml"
    cfg.write_text(cfg.read_text() + "training:\n  dataset: ts.parquet\n")
    from scope.tables import write_table

    write_table(pd.DataFrame({"obj_id": ["x"], "ztf_id": [1]}), fritz_env.dir / "ts.parquet")
    assert dl.main(["--group-ids", str(seed.groups["al"]), "--merge-features", "--features-file", "features.parquet",
                    "--update-training-set"]) == 0
    assert not old.requests("GET", r"/api/sources/.+")
    df = read_table(fritz_env.dir / OUT / "parse_fritzDownload.parquet")
    assert set(df["sum_votes"]) == {"1", "-1"}


def test_token_from_the_environment(fritz_env, monkeypatch):
    cfg = fritz_env.dir / "config.yaml"
    cfg.write_text(cfg.read_text().replace(fritz_env.token, "null"))
    assert dl.main(["--group-ids", "2"]) == 1
    monkeypatch.setenv("FRITZ_TOKEN", fritz_env.token)
    assert dl.main(["--group-ids", "2"]) == 0
