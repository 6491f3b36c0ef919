"""gcn-cronjob against the loopback Fritz and the tiny demo sky, in this process."""

from __future__ import annotations

import json
import re

import pytest

from scope.gcn.runtime import EXIT_BUSY
from scope.hpc.ledger import LoopLock
from tests.gcn.conftest import RUN_FLAGS
from tests.loopback.skyportal_seed import GCN_DATEOBS, GRB_DATEOBS
from tests.loopback.skyportal_server import route_is


def _run(*extra) -> int:
    from tools.gcn_cronjob import main

    return main([*RUN_FLAGS, *extra])


def _summary(env) -> str:
    logs = sorted((env.dir / "gcn_logs").glob("gcn_cronjob_*.log"))
    assert logs, "no run log"
    lines = [ln for ln in logs[-1].read_text().splitlines() if "gcn-cronjob: " in ln and " events (" in ln]
    assert lines, logs[-1].read_text()[-2000:]
    return lines[-1]


def _log_lines(env) -> list[str]:
    logs = sorted((env.dir / "gcn_logs").glob("gcn_cronjob_*.log"))
    return logs[-1].read_text().splitlines()


def _checkpoint(env) -> dict:
    return json.loads(env.checkpoint.read_text())["sources"]


@pytest.mark.slow
def test_gw_and_grb_events_are_posted_to_their_groups_and_a_second_run_posts_nothing(gcn_env):
    env = gcn_env
    assert _run() == 0
    posted = env.posted()
    emgw, grb = env.seed.groups["emgw"], env.grb_group
    gw_posted = {o: v for o, v in posted.items() if o in env.gw_sources and v}
    grb_posted = {o: v for o, v in posted.items() if o in env.grb_sources and v}
    assert gw_posted and grb_posted, posted
    # every GW classification in the GW group only, every GRB one in the GRB group only (the reference
    # replaced its one group list for a GRB and appended to it for a GW: a GW after a GRB went to both)
    assert {g for v in gw_posted.values() for _, g in v} == {(emgw,)}
    assert {g for v in grb_posted.values() for _, g in v} == {(grb,)}
    # each source got its classes once, with 0.5 as threshold one of variable / non-variable at least
    for obj, classes in {**gw_posted, **grb_posted}.items():
        labels = [c for c, _ in classes]
        assert len(labels) == len(set(labels)) and {"variable", "non-variable"} & set(labels), (obj, labels)
        texts = [c["text"] for c in env.server.comments_of(obj)]
        assert any(t.endswith("time series") for t in texts) and len(texts) == len(set(texts))
    # the outputs of every step, in the reference's layout
    for d in (GCN_DATEOBS, GRB_DATEOBS):
        s = d.replace(":", "-")
        for rel in (f"fritzDownload/specific_ids_GCN_sources.{s}.parquet",
                    f"generated_features_GCN_sources/specific_ids/gen_gcn_features_{s}_specific_ids.parquet",
                    f"preds_dnn/field_{s}_specific_ids/field_{s}_specific_ids.parquet",
                    f"preds_xgb/field_{s}_specific_ids/field_{s}_specific_ids.parquet",
                    f"GCN_dnn/GCN_sources_{s}/GCN_sources_{s}.parquet", f"GCN_xgb/GCN_sources_{s}/GCN_sources_{s}.parquet",
                    f"GCN_dnn_xgb/{s}/merged_GCN_sources_{s}.parquet"):
            assert (env.dir / rel).exists(), rel
    sources = _checkpoint(env)
    assert set(sources) == {"gw", "grb"} and len(sources["gw"]) == 6 and len(sources["grb"]) == 4
    assert re.search(r"2 events \(2 done\), 10 new light curves, \d+ classifications posted", _summary(env))

    env.server.reset_log()
    assert _run() == 0
    assert env.writes() == []
    assert env.posted() == posted
    assert "2 events (2 up to date), 0 new light curves, 0 classifications posted" in _summary(env)


@pytest.mark.slow
def test_a_run_without_posting_then_a_posting_run_posts_once_and_computes_nothing_again(gcn_env):
    env = gcn_env
    assert _run("--doNotPost", "--dateobs", GCN_DATEOBS) == 0
    assert env.writes() == [] and not any(env.posted().values())
    assert not env.checkpoint.exists() or _checkpoint(env) == {}
    s = GCN_DATEOBS.replace(":", "-")
    features = env.dir / f"generated_features_GCN_sources/specific_ids/gen_gcn_features_{s}_specific_ids.parquet"
    preds = env.dir / f"preds_xgb/field_{s}_specific_ids/field_{s}_specific_ids.parquet"
    stamps = features.stat().st_mtime_ns, preds.stat().st_mtime_ns
    assert _run("--dateobs", GCN_DATEOBS) == 0
    assert (features.stat().st_mtime_ns, preds.stat().st_mtime_ns) == stamps  # nothing computed again
    posted = env.posted()
    assert any(posted.values())
    assert all(len(v) == len(set(v)) for v in posted.values())
    assert len(_checkpoint(env)["gw"]) == 6


def test_a_second_run_while_one_works_exits_at_once_and_touches_nothing(gcn_env, capsys):
    env = gcn_env
    lock = LoopLock(env.dir, "gcn_sources_checkpoint.json.lock")
    assert lock.acquire()
    try:
        env.server.reset_log()
        assert _run() == EXIT_BUSY
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert re.search(r"another run \(pid \d+\) is working on .*gcn_sources_checkpoint.json; this one exits", err)
    assert env.server.requests() == [] and not env.checkpoint.exists() and not (env.dir / "gcn_logs").exists()


@pytest.mark.slow
def test_a_fritz_outage_mid_run_fails_the_run_keeps_the_checkpoint_and_the_next_run_finishes(gcn_env):
    env = gcn_env
    grb_names = set(env.grb_sources)
    # Fritz stops accepting classifications once the GRB event's (the first, the newest) are being posted
    env.server.add_fault("status", status=503,
                         when=lambda where, body: where == "POST /api/classification" and any(
                             c.get("obj_id") in grb_names for c in (body or {}).get("classifications", [])))
    assert _run() == 1
    assert not any(v for o, v in env.posted().items() if o in grb_names)
    sources = _checkpoint(env)
    assert "grb" not in sources and len(sources["gw"]) == 6   # the GW event went on and was recorded
    line = next(ln for ln in _log_lines(env) if "post failed" in ln)
    assert f"GCN event {GRB_DATEOBS}" in line and "ZTF23grbaaaa" in line
    assert "1 done, 1 failed" in _summary(env)
    gw_before = {o: v for o, v in env.posted().items() if o not in grb_names}

    env.server.clear_faults()
    assert _run() == 0
    after = env.posted()
    assert any(after[o] for o in grb_names)
    assert {o: v for o, v in after.items() if o not in grb_names} == gw_before
    assert all(len(v) == len(set(v)) for v in after.values())
    assert len(_checkpoint(env)["grb"]) == 4


@pytest.mark.slow
def test_a_failed_download_fails_its_event_only(gcn_env):
    env = gcn_env
    # the first localization query (the GRB event's, the newest) fails every one of its 4 attempts
    env.server.add_fault("status", status=500, times=4, when=route_is("GET", r"/api/sources"))
    assert _run() == 1
    assert any("download failed" in ln and GRB_DATEOBS in ln for ln in _log_lines(env))
    sources = _checkpoint(env)
    assert "grb" not in sources and len(sources["gw"]) == 6
    assert "1 done, 1 failed" in _summary(env)


def test_timeout_stops_the_run_with_status_124_and_the_checkpoint_intact(gcn_env):
    env = gcn_env
    env.checkpoint.write_text(json.dumps({"start_dt": "2099-01-01T00:00:00", "sources": {"gw": [1]}}))
    before = env.checkpoint.read_text()
    env.server.add_fault("slow", delay=5.0, when=route_is("GET", r"/api/gcn_event.*"))
    assert _run("--timeout", "1s") == 124
    assert env.checkpoint.read_text() == before
    assert "--timeout reached" in _summary(env)
