"""scope-upload-classification against the loopback Fritz: what it posts, and that it never posts twice."""

import collections
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scope.tables import read_table, write_table
from tests.fritz.conftest import predictions
from tests.loopback.skyportal_server import route_is
from tools import scope_upload_classification as up

REPO = Path(__file__).resolve().parents[2]
UPLOAD = ["--file", "preds.parquet", "--taxonomy-map", "XGB_AL_mapper.json", "--classification", "read"]


def forget(server, obj_ids):
    """Remove sources (and what hangs on them) from the loopback Fritz."""
    for o in list(obj_ids):
        server.state.remove_obj(o)


def copies(server, origin="SCoPe"):
    """Counts of (source, classification, groups), annotation origins and comment texts."""
    st = server.state
    cls = collections.Counter((c["obj_id"], c["classification"], frozenset(c["group_ids"]))
                              for c in st.classifications.values() if c["origin"] == origin)
    ann = collections.Counter((a["obj_id"], a["origin"]) for a in st.annotations.values())
    com = collections.Counter((c["obj_id"], c["text"]) for c in st.comments.values())
    return cls, ann, com


def exactly_once(server):
    cls, ann, com = copies(server)
    assert cls and max(cls.values()) == 1, [k for k, v in cls.items() if v > 1][:3]
    assert max(ann.values()) == 1 and (not com or max(com.values()) == 1)


@pytest.fixture
def preds(fritz_env):
    df = predictions(fritz_env.dir)
    write_table(df, fritz_env.dir / "preds.parquet")
    return df


def group(fritz_env):
    return str(fritz_env.seed.groups["upload"])


def test_new_sources_get_photometry_period_and_classifications_once(fritz_env, preds):
    server = fritz_env.server
    forget(server, list(server.state.objs))  # an empty Fritz: every source is new
    server.reset_log()
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--p-threshold", "0.5", "--write-obj-id"]) == 0
    st = server.state
    n_objects = preds.assign(star=preds["_id"] % 10**11).loc[preds[["vnv_xgb", "pnp_xgb", "rrab_xgb"]].max(axis=1)
                                                            >= 0.5, "star"].nunique()
    created = [o for o in st.objs if o.startswith("ZTFJ")]
    assert len(created) == n_objects
    for o in created:
        assert st.obj_groups(o) == [int(group(fritz_env))]
        phot = [p for p in st.photometry.values() if p["obj_id"] == o]
        assert phot and {p["filter"] for p in phot} <= {"ztfg", "ztfr"}
        assert all(c["probability"] >= 0.5 and c["ml"] and c["origin"] == "SCoPe" for c in server.classifications_of(o))
        assert not [v for (cid, _), v in st.votes.items() if st.classifications[cid]["obj_id"] == o]  # no up-votes
    exactly_once(server)
    periods = [a for a in st.annotations.values() if a["origin"] == "uploadedperiod"]
    assert periods and all(a["data"]["period"] > 0 for a in periods)
    # the second light curve of a star costs nothing: ~4 requests per source plus a batch per 10 rows
    n_rows = len(preds)
    assert len(server.log) <= 4 * n_objects + n_rows // 10 + 3
    out = read_table(fritz_env.dir / "fritzUpload" / "preds_fritzUpload.parquet")
    assert out["obj_id"].notna().sum() >= n_objects and set(out["obj_id"].dropna()) <= set(created)
    results = read_table(fritz_env.dir / "fritzUpload" / "preds_fritzUpload_results.parquet")
    assert len(results) == n_rows and set(results["status"]) <= {"uploaded", "nothing above threshold"}

    # a second run of the same upload sends nothing at all
    server.reset_log()
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--p-threshold", "0.5", "--write-obj-id"]) == 0
    assert server.log == []
    # ... and checking everything against Fritz again posts nothing new
    before = copies(server)
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--p-threshold", "0.5", "--restart", "--skip-phot"]) == 0
    assert copies(server) == before
    assert {e["method"] for e in server.log} == {"GET"}


def test_existing_sources_are_saved_to_the_group_and_keep_their_labels(fritz_env, preds):
    server = fritz_env.server
    labelled = fritz_env.seed.labelled
    before = {o: len(server.classifications_of(o)) for o in labelled}
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--skip-phot"]) == 0
    st = server.state
    assert not [o for o in st.objs if o not in before and o.startswith("ZTFJ") and o not in
                fritz_env.seed.active_learning]  # nothing new created
    for o in labelled:
        assert int(group(fritz_env)) in st.obj_groups(o)
        assert len(server.classifications_of(o)) > before[o]
    assert not server.requests("PUT", "/api/photometry")  # --skip-phot: existing sources only
    exactly_once(server)


def test_replace_classifications(fritz_env, preds):
    server = fritz_env.server
    g = group(fritz_env)
    seeded = {c["id"] for c in server.state.classifications.values()}  # in other groups: never touched
    assert up.main([*UPLOAD, "--group-ids", g, "--skip-phot", "--stop", "9"]) == 0
    first = {c["id"] for c in server.state.classifications.values()} - seeded
    preds[["vnv_xgb", "pnp_xgb", "rrab_xgb"]] = 0.99
    write_table(preds, fritz_env.dir / "preds.parquet")
    assert up.main([*UPLOAD, "--group-ids", g, "--skip-phot", "--stop", "9", "--replace-classifications"]) == 0
    mine = [c for c in server.state.classifications.values() if c["id"] not in seeded]
    assert mine and not {c["id"] for c in mine} & first and {c["probability"] for c in mine} == {0.99}
    assert seeded <= set(server.state.classifications)  # labels in other groups stay
    exactly_once(server)


def test_comments_plots_and_survey_ids(fritz_env, preds):
    server = fritz_env.server
    preds["Gaia_EDR3___id"] = np.arange(len(preds)) + 1000
    preds["AllWISE___id"] = 0
    star = preds["_id"] % 10**11
    write_table(preds[star.isin(star.unique()[:3])], fritz_env.dir / "preds.parquet")  # 3 stars, g and r
    args = [*UPLOAD, "--group-ids", group(fritz_env), "--skip-phot", "--comment", "SCoPe says hi",
            "--post-phot-as-comment", "--post-phasefolded-phot", "--post-survey-id"]
    assert up.main(args) == 0
    objs = {c["obj_id"] for c in server.state.comments.values()}
    for o in objs:
        texts = [c["text"] for c in server.comments_of(o)]
        assert "SCoPe says hi" in texts and any(t.endswith("time series") for t in texts)
        att = [c for c in server.comments_of(o) if c["attachment_bytes"]]
        assert att and all(c["attachment_bytes"].startswith(b"\x89PNG") for c in att)
        sid = [a for a in server.annotations_of(o) if a["origin"] == "SCoPe_xmatch"]
        assert len(sid) == 1 and str(sid[0]["data"]["survey_id"]).startswith("Gaia_EDR3___10")
    assert list((fritz_env.dir / "fritzUpload" / "phot_plots").glob("*.png"))
    # both bands of a star share the source: its second survey id is added to the same annotation
    two = [a for a in server.state.annotations.values() if a["origin"] == "SCoPe_xmatch" and len(a["data"]) == 2]
    assert two and set(two[0]["data"]) == {"survey_id", "survey_id_2"}
    assert up.main([*args, "--restart"]) == 0
    exactly_once(server)


def test_match_ids_and_existing_obj_ids(fritz_env, preds):
    server = fritz_env.server
    st = server.state
    target = fritz_env.seed.labelled[0]
    row = fritz_env.seed.objects.set_index("obj_id").loc[target]
    # a second, newer ZTFJ source at the same place: by default the newest wins, --match-ids picks the named one
    twin = "ZTFJ" + target[4:-1] + "9"
    st.add_obj(twin, row.ra, row.dec)
    st.save(twin, fritz_env.seed.groups["training"], st.users[1])
    st.post_annotation(target, st.users[1], {"origin": "SCoPe_xmatch", "data": {"survey_id": "Gaia_EDR3___42"}})
    one = pd.DataFrame({"ra": [row.ra], "dec": [row.dec], "period": [0.5], "vnv_xgb": [0.9],
                        "survey_id": ["Gaia_EDR3___42"]})
    write_table(one, fritz_env.dir / "preds.parquet")
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--skip-phot"]) == 0
    assert server.classifications_of(twin) and not [c for c in server.classifications_of(target)
                                                    if c["origin"] == "SCoPe"]
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--skip-phot", "--match-ids", "--restart"]) == 0
    assert [c for c in server.classifications_of(target) if c["origin"] == "SCoPe"]
    # GCN style: rows name their Fritz source
    gcn = next(iter(fritz_env.seed.gcn_sources))
    write_table(pd.DataFrame({"obj_id": [gcn], "ra": [np.nan], "dec": [np.nan], "vnv_xgb": [0.95]}),
                fritz_env.dir / "preds.parquet")
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--skip-phot", "--use-existing-obj-id"]) == 0
    assert [c["classification"] for c in server.classifications_of(gcn)] == ["variable"]
    assert int(group(fritz_env)) in st.obj_groups(gcn)


def test_429_storm_5xx_mid_batch_and_timeouts(fritz_env, preds):
    server = fritz_env.server
    forget(server, list(server.state.objs))
    fritz_env.config(timeout=1, max_attempts=6)
    server.add_fault("status", status=429, times=12,
                     when=lambda w, b: w.startswith("GET") and len(server.log) % 3 == 0)  # a storm of limits
    # the first batch is stored, then the gateway answers 502; the second is stored but the answer never comes
    server.add_fault("status_after", status=502, times=1, when=route_is("POST", "/api/classification"))
    server.add_fault("slow_after", delay=2.5, times=1, when=route_is("POST", "/api/classification"))
    server.add_fault("status", status=503, times=2, when=route_is("PUT", "/api/photometry"))
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--p-threshold", "0.3"]) == 0
    assert sum(1 for e in server.log if e["status"] == 429) == 12
    exactly_once(server)
    rows = preds[preds[["vnv_xgb", "pnp_xgb", "rrab_xgb"]].max(axis=1) >= 0.3]
    assert sum(copies(server)[0].values()) == _expected_classifications(rows, 0.3)


def _expected_classifications(rows, thr):
    star = rows["_id"] % 10**11
    best = rows.assign(star=star).groupby("star")[["vnv_xgb", "pnp_xgb", "rrab_xgb"]].max()
    return int((best >= thr).to_numpy().sum())


def test_a_refused_item_does_not_hold_back_the_others(fritz_env, preds, tmp_path):
    import json

    server = fritz_env.server
    mapper = json.loads((REPO / "scope" / "data" / "XGB_AL_mapper.json").read_text())
    mapper["pnp_xgb"]["fritz_label"] = "not a class"  # Fritz will refuse it
    (fritz_env.dir / "bad_mapper.json").write_text(json.dumps(mapper))
    preds.loc[:, ["vnv_xgb", "pnp_xgb", "rrab_xgb"]] = 0.9
    write_table(preds.head(4), fritz_env.dir / "preds.parquet")
    args = ["--file", "preds.parquet", "--taxonomy-map", "bad_mapper.json", "--group-ids", group(fritz_env),
            "--skip-phot"]
    assert up.main(args) == 1
    results = read_table(fritz_env.dir / "fritzUpload" / "preds_fritzUpload_results.parquet")
    assert (results["status"] == "failed").all() and results["message"].str.contains("allowed classes").all()
    cls = copies(server)[0]
    assert {k[1] for k in cls} == {mapper["vnv_xgb"]["fritz_label"], mapper["rrab_xgb"]["fritz_label"]}
    assert max(cls.values()) == 1


def test_killed_mid_upload_then_rerun_leaves_one_copy_of_everything(fritz_env, preds):
    server = fritz_env.server
    forget(server, list(server.state.objs))
    # every classification batch after the first is slow, so the kill lands mid-upload
    server.add_fault("slow", delay=0.6, when=lambda w, b: w == "POST /api/classification"
                     and len(server.requests("POST", "/api/classification")) >= 2)
    args = [*UPLOAD, "--group-ids", group(fritz_env), "--comment", "from SCoPe", "--batch-rows", "4", "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("SCOPE_CONFIG", None)
    cmd = [sys.executable, "-c", "import sys; from tools.scope_upload_classification import main; "
                                 "sys.exit(main(sys.argv[1:]))", *args]
    proc = subprocess.Popen(cmd, cwd=fritz_env.dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    try:
        while time.time() < deadline and len(server.requests("POST", "/api/classification")) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait()
    log = fritz_env.dir / "fritzUpload" / "preds_fritzUpload_log.jsonl"
    done = len(log.read_text().splitlines()) - 1
    assert 0 < done < len(preds)  # killed part-way
    server.clear_faults()
    assert server.wait_idle()  # a request sent just before the kill may still be stored: rerun after it
    assert up.main(args) == 0
    exactly_once(server)
    cls, ann, com = copies(server)
    assert sum(cls.values()) == _expected_classifications(preds, 1e-9)
    assert len(com) == len([o for o in server.state.objs if o.startswith("ZTFJ")])


def test_the_token_never_leaks(fritz_env, preds, capsys, caplog):
    server = fritz_env.server
    forget(server, list(server.state.objs)[:4])
    server.add_fault("status", status=500, times=2)
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--verbose", "2", "--write-obj-id", "--stop", "7",
                    "--post-phot-as-comment", "--result-format", "csv"]) == 0
    err = capsys.readouterr().err
    assert "Fritz" in err and "HTTP 500" in err  # debug logging was on and the failures were logged
    token = fritz_env.token
    assert token not in err and token not in caplog.text
    for path in fritz_env.dir.rglob("*"):
        if path.is_file() and path.name != "config.yaml":
            assert token.encode() not in path.read_bytes(), path
    bad = "fritz-bad-token-abcdef123456"
    cfg = fritz_env.config()
    cfg.write_text(cfg.read_text().replace(token, bad))
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--restart"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err and bad not in err and len([l for l in err.splitlines() if "error:" in l]) == 1


def test_bad_inputs_are_one_line_errors(fritz_env, preds, capsys):
    g = group(fritz_env)
    assert up.main(["--file", "nope.parquet", "--group-ids", g]) == 1
    assert up.main([*UPLOAD, "--group-ids", g, "--classification", "vnv_xgb", "not_a_class"]) == 1
    assert up.main([*UPLOAD, "--group-ids", g, "--start", "500"]) == 1
    assert up.main([*UPLOAD, "--group-ids", g, "--result-format", "xlsx"]) == 1
    err = capsys.readouterr().err
    assert "input file not found: nope.parquet" in err and "not_a_class" in err and "select no rows" in err
    assert "parquet, h5 or csv" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        up.main([*UPLOAD, "--group-ids", g, "--no-such-flag"])


def test_older_servers_need_no_single_reads(fritz_env, preds):
    fritz_env.server.fast_list = False  # classification groups in list answers, as before mid-2024
    assert up.main([*UPLOAD, "--group-ids", group(fritz_env), "--skip-phot", "--stop", "9"]) == 0
    assert not fritz_env.server.requests("GET", r"/api/sources/.+")
    exactly_once(fritz_env.server)
