"""gcn-cronjob as separate processes, as cron runs it: two at once, one killed while posting, the
documented crontab line."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO
from tests.gcn.conftest import RUN_FLAGS
from tests.loopback.skyportal_seed import GCN_DATEOBS, add_gcn_event_near

pytestmark = pytest.mark.slow

DOCS = REPO / "docs" / "gcn.md"
DOC_PROJECT = "/home/you/scope-gcn"
DOC_PYTHON = "/home/you/venvs/scope/bin/python"


def _env(**extra) -> dict:
    """What a job started by cron has: HOME, a bare PATH; plus this checkout on PYTHONPATH (the test's
    interpreter has SCoPe installed from another folder) and the test run's caches."""
    env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO),
           "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0", "WANDB_MODE": "disabled"}
    if os.environ.get("NUMBA_CACHE_DIR"):
        env["NUMBA_CACHE_DIR"] = os.environ["NUMBA_CACHE_DIR"]
    env.update(extra)
    return env


def _start(env, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scope.gcn", *RUN_FLAGS, *extra], cwd=env.dir, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_runs_started_together_one_works_and_the_other_exits_at_once(gcn_env):
    env = gcn_env
    procs = [_start(env, "--dateobs", GCN_DATEOBS), _start(env, "--dateobs", GCN_DATEOBS)]
    first_done = None
    while first_done is None:
        first_done = next((p for p in procs if p.poll() is not None), None)
        time.sleep(0.05)
    other = procs[1 - procs.index(first_done)]
    assert other.poll() is None, "the run that found the lock taken should end while the other still works"
    out, err = first_done.communicate()
    assert first_done.returncode == 75, err
    assert re.search(r"gcn-cronjob: another run \(pid \d+\) is working on .*gcn_sources_checkpoint\.json; this one "
                     r"exits", err)
    out, err = other.communicate(timeout=600)
    assert other.returncode == 0, err[-3000:]
    assert len(list((env.dir / "gcn_logs").glob("*.log"))) == 1  # the busy run wrote no log
    posted = env.posted()
    assert any(posted.values()) and all(len(v) == len(set(v)) for v in posted.values())


def test_a_run_killed_while_posting_is_finished_by_the_next_without_posting_twice(gcn_env):
    from tools.gcn_cronjob import main

    env = gcn_env
    # the first write to Fritz is held 3 s: the run is killed meanwhile, and the write lands after it died
    env.server.add_fault("slow", delay=3.0, times=1, when=lambda where, body: not where.startswith("GET "))
    proc = _start(env, "--dateobs", GCN_DATEOBS)
    deadline = time.monotonic() + 600
    while not [r for r in env.server.requests() if r["method"] != "GET"]:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.kill()
    proc.communicate()
    assert env.server.wait_idle(30)
    assert not env.checkpoint.exists() or "gw" not in json.loads(env.checkpoint.read_text())["sources"]
    s = GCN_DATEOBS.replace(":", "-")
    features = env.dir / f"generated_features_GCN_sources/specific_ids/gen_gcn_features_{s}_specific_ids.parquet"
    preds = env.dir / f"preds_dnn/field_{s}_specific_ids/field_{s}_specific_ids.parquet"
    stamps = features.stat().st_mtime_ns, preds.stat().st_mtime_ns

    assert main([*RUN_FLAGS, "--dateobs", GCN_DATEOBS]) == 0
    assert (features.stat().st_mtime_ns, preds.stat().st_mtime_ns) == stamps  # resumed after inference
    posted = env.posted()
    assert any(posted.values())
    for obj, classes in posted.items():
        assert len(classes) == len(set(classes)), (obj, classes)
        texts = [c["text"] for c in env.server.comments_of(obj)]
        origins = [a["origin"] for a in env.server.annotations_of(obj)]
        assert len(texts) == len(set(texts)) and len(origins) == len(set(origins)), obj
    assert len(json.loads(env.checkpoint.read_text())["sources"]["gw"]) == 6


def _crontab_command() -> str:
    text = DOCS.read_text()
    block = text.split("<!-- the crontab line", 1)[1].split("```", 2)[1]
    line = next(ln for ln in block.splitlines() if re.match(r"^[0-9*/,-]+( [0-9*/,-]+){4} ", ln))
    return line.split(None, 5)[5]


def test_the_documented_crontab_line_runs_as_written(gcn_env):
    env = gcn_env
    # an event of yesterday (the line looks back the default 7 days) on two demo stars
    dateobs = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    names = ["ZTF26recentaa", "ZTF26recentab"]
    add_gcn_event_near(env.server, env.seed.objects.iloc[[0, 1]], dateobs, tags=("GW",),
                       group_id=env.seed.groups["emgw"], names=names, radius_deg=1.0)
    command = _crontab_command()
    assert DOC_PROJECT in command and DOC_PYTHON in command
    command = command.replace(DOC_PROJECT, str(env.dir)).replace(DOC_PYTHON, sys.executable)
    proc = subprocess.run(["/bin/sh", "-c", command], cwd="/", env=_env(), capture_output=True, text=True,
                          timeout=900)
    out = (env.dir / "gcn_cron.out").read_text()
    assert proc.returncode == 0, out[-3000:]
    assert re.search(r"gcn-cronjob: 1 events \(1 done\), \d+ new light curves, [1-9]\d* classifications posted", out)
    emgw = env.seed.groups["emgw"]
    posted = [c for name in names for c in env.server.classifications_of(name) if c["author_name"] == "scope_bot"]
    assert posted and all(c["group_ids"] == {emgw} for c in posted)
    assert list((env.dir / "gcn_logs").glob("gcn_cronjob_*.log"))
