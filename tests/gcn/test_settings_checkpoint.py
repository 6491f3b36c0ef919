"""The pieces of gcn-cronjob on their own: event types and groups, the checkpoint, durations, event listing."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from scope.errors import ConfigError, DataError
from scope.gcn.checkpoint import TIME_FORMAT, SourceCheckpoint
from scope.gcn.events import recent_events
from scope.gcn.runtime import parse_duration
from scope.gcn.settings import default_groups, event_types, post_target

NOW = dt.datetime(2024, 6, 1, 12, 0, 0)


def _write(path, start: dt.datetime, sources):
    path.write_text(json.dumps({"start_dt": start.strftime(TIME_FORMAT), "sources": sources}))


@pytest.mark.parametrize("age_days, refreshed", [(181, True), (180, True), (179.9, False), (3, False)])
def test_the_checkpoint_starts_over_after_the_refresh_days_in_real_days(tmp_path, age_days, refreshed):
    # the reference compared timedelta.seconds (the seconds within the last day): never past 180 days
    path = tmp_path / "gcn_sources_checkpoint.json"
    _write(path, NOW - dt.timedelta(days=age_days), {"gw": [1, 2], "grb": [3]})
    cp = SourceCheckpoint(path, refresh_days=180, now=NOW)
    assert cp.refreshed is refreshed
    assert cp.done("gw") == (set() if refreshed else {1, 2})
    on_disk = json.loads(path.read_text())
    if refreshed:  # rewritten at once: started now, empty
        assert on_disk == {"start_dt": NOW.strftime(TIME_FORMAT), "sources": {}}


def test_fractional_refresh_days_count(tmp_path):
    path = tmp_path / "cp.json"
    _write(path, NOW - dt.timedelta(hours=13), {"gw": [1]})
    assert SourceCheckpoint(path, refresh_days=0.5, now=NOW).refreshed


def test_sources_are_added_and_written_atomically_in_the_reference_format(tmp_path):
    path = tmp_path / "cp.json"
    cp = SourceCheckpoint(path, now=NOW)
    assert not path.exists()  # nothing posted, nothing written
    cp.add("gw", [5, 3])
    cp.add("grb", [7])
    assert json.loads(path.read_text()) == {"start_dt": NOW.strftime(TIME_FORMAT),
                                            "sources": {"grb": [7], "gw": [3, 5]}}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left
    assert SourceCheckpoint(path, now=NOW + dt.timedelta(days=1)).done("gw") == {3, 5}


@pytest.mark.parametrize("text", ["{not json", json.dumps({"sources": {}}), json.dumps({"start_dt": "yesterday"})])
def test_an_unreadable_checkpoint_stops_the_run_and_is_kept(tmp_path, text):
    path = tmp_path / "cp.json"
    path.write_text(text)
    with pytest.raises(DataError, match=r"checkpoint .*cp\.json cannot be read"):
        SourceCheckpoint(path, now=NOW)
    assert path.read_text() == text


CFG = {"gcn": {"post_group_ids": [1544],
               "event_types": {"grb": {"tags": ["GRB", "Fermi"], "post_group_ids": [48]},
                               "gw": {"tags": ["GW"], "post_group_ids": [1544]}}}}


def test_each_event_gets_its_own_groups_whatever_came_before(tmp_path):
    cfg = copy.deepcopy(CFG)
    types, default = event_types(cfg), default_groups(cfg)
    sequence = [("GW", "BNS"), ("Fermi",), ("GW",), ("GRB", "Fermi"), ("GW",), ("AMON",)]
    targets = [post_target(tags, types, default) for tags in sequence]
    assert [(t.kind, t.group_ids) for t in targets] == [
        ("gw", (1544,)), ("grb", (48,)), ("gw", (1544,)), ("grb", (48,)), ("gw", (1544,)), ("other", (1544,))]
    assert cfg == CFG  # the configuration is data: nothing changed it


def test_post_group_ids_override_every_event_under_their_own_checkpoint_key():
    types, default = event_types(CFG), default_groups(CFG)
    t = post_target(("GW",), types, default, override=[7, 8])
    assert t.group_ids == (7, 8) and t.checkpoint_key == "gw:groups=7,8"
    assert post_target(("GW",), types, default, override=[1544]).checkpoint_key == "gw"


@pytest.mark.parametrize("entry, message", [
    ({"tags": ["GW"], "post_group_ids": [1], "groups": [2]}, "unknown key"),
    ({"tags": "GW", "post_group_ids": [1]}, "tags must be a list"),
    ({"tags": ["GW"], "post_group_ids": []}, "non-empty list"),
    ({"tags": ["GW"], "post_group_ids": ["emgw"]}, "integer Fritz group ids"),
])
def test_bad_event_types_are_named(entry, message):
    with pytest.raises(ConfigError, match=message):
        event_types({"gcn": {"event_types": {"gw": entry}}})


def test_the_config_takes_event_types_of_the_users_choice(workdir):
    from scope.config import load_config

    (workdir / "config.yaml").write_text("gcn:\n  event_types:\n    neutrino: {tags: [IceCube], post_group_ids: [9]}\n")
    cfg = load_config(workdir / "config.yaml")
    assert [t.name for t in event_types(cfg)] == ["grb", "gw", "neutrino"]
    (workdir / "config.yaml").write_text("gcn:\n  post_groups: [9]\n")
    with pytest.raises(ConfigError, match="gcn.post_groups"):
        load_config(workdir / "config.yaml")


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("110m", 6600), ("2h", 7200), ("1.5d", 129600),
                                           (None, None), ("", None)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5m", "2 weeks", "0"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ConfigError, match="--timeout"):
        parse_duration(text)


def test_events_of_the_last_days_come_from_every_page(skyportal_server):
    from scope.services.fritz import FritzClient
    from tests.loopback.skyportal_state import ALL_ACLS

    server = skyportal_server()
    server.add_user("bot", "tok", acls=ALL_ACLS)
    start = dt.datetime(2024, 1, 1)
    for k in range(205):
        server.state.add_gcn_event((start + dt.timedelta(hours=k)).strftime(TIME_FORMAT), ra=10, dec=0, radius_deg=1,
                                   tags=("GW",) if k % 2 else ("Fermi", "GRB"))
    client = FritzClient(server.url, "tok", rate_limit=None)
    events = recent_events(client, 7, now=start + dt.timedelta(hours=204, days=7) - dt.timedelta(hours=150))
    assert len(events) == 151 and events[0].dateobs == "2024-01-09T12:00:00"  # newest first
    assert [e.dateobs for e in events] == sorted({e.dateobs for e in events}, reverse=True)
    assert len(server.requests("GET", "/api/gcn_event")) == 2  # 100 per page
    assert events[0].save_name == "2024-01-09T12-00-00" and events[1].tags == ("GW",)
