"""The Kowalski client driving the real penquins library against the loopback server."""

import json
import logging
import math
import urllib.error
import urllib.request

import numpy as np
import pytest
from penquins import Kowalski

from scope.config import load_config
from scope.errors import AuthError, ConfigError, QueryError, ServiceUnavailable
from scope.services import kowalski_payloads as kp
from scope.services.http import RetryPolicy
from scope.services.kowalski import (BatchQueryError, KowalskiClient, LostIdsError, client_from_config,
                                     instance_specs)
from tests.loopback.kowalski_docs import catalog_documents, source_document
from tests.loopback.kowalski_server import free_port, mentions_id, query_type_is

SRC = "ZTF_sources_20240515"
BASE_ID = 10245362000000


def _sources(n=20):
    return [source_document(BASE_ID + i, 10.0 + i * 1e-3, -20.0, 2458320.5 + np.arange(5.0), np.full(5, 18.0),
                            np.full(5, 0.05)) for i in range(n)]


def _client(server, **kw):
    kw.setdefault("policy", RetryPolicy(2, 0.001))
    return KowalskiClient({"loop": server.instance_spec(kw.pop("token", None))}, timeout=kw.pop("timeout", 5), **kw)


def test_penquins_itself_talks_to_the_loopback(kowalski_server):
    server = kowalski_server({SRC: _sources(3)})
    k = Kowalski(protocol="http", host="127.0.0.1", port=server.port, token=server.token, max_retries=0, timeout=5)
    assert k.get_catalogs() == [SRC]
    reply = k.query(query=kp.find(SRC, {"_id": BASE_ID}, {"_id": 1, "nobs": 1}))
    assert reply == {"default": {"status": "success", "message": "Successfully executed query",
                                 "data": [{"_id": BASE_ID, "nobs": 5}]}}
    # Kowalski's name mangling that our opaque keys avoid
    raw = k.query(query={"query_type": "cone_search", "query": {
        "object_coordinates": {"radec": {"ZTF_J1.5": [10.0, -20.0]}, "cone_search_radius": 1,
                               "cone_search_unit": "arcsec"},
        "catalogs": {SRC: {"filter": {}, "projection": {"_id": 1}}}}})
    assert list(raw["default"]["data"][SRC]) == ["ZTF_J1_5"]


def test_queries_helpers_and_nan_decoding(kowalski_server):
    docs = _sources(5)
    docs[2]["meanmag"] = float("nan")
    server = kowalski_server({SRC: docs})
    c = _client(server)
    assert c.catalogs() == {"loop": [SRC]}
    found = c.find(SRC, {"nobs": {"$gte": 5}}, {"_id": 1, "meanmag": 1}, sort=[("_id", -1)], limit=3)
    assert [d["_id"] for d in found] == [BASE_ID + 4, BASE_ID + 3, BASE_ID + 2]
    assert math.isnan(found[2]["meanmag"])
    assert c.count_documents(SRC, {"field": {"$eq": 245}}) == 5
    one = c.find_one(SRC, {"_id": BASE_ID + 1})
    assert one["matchid"] == 1 and len(one["data"]) == 5  # find_one: whole document
    assert c.query(kp.aggregate(SRC, [{"$match": {"ccd": 10}}, {"$count": "n"}])) == [{"n": 5}]
    # the wire really carries the extended-JSON wrapper that penquins decoded above
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/queries",
                                 data=json.dumps(kp.find(SRC, {"_id": BASE_ID + 2}, {"meanmag": 1})).encode(),
                                 headers={"Authorization": server.token, "Content-Type": "application/json"})
    assert '{"$numberDouble": "NaN"}' in urllib.request.urlopen(req).read().decode()


def test_batch_results_come_back_in_request_order(kowalski_server):
    server = kowalski_server({SRC: _sources(8)})
    server.add_fault("slow", delay=0.3, when=mentions_id(BASE_ID))  # the first query finishes last
    c = _client(server, max_threads=4)
    payloads = [kp.find(SRC, kp.ids_filter([BASE_ID + i]), {"_id": 1}) for i in range(8)]
    results = c.query_batch(payloads)
    assert [r[0]["_id"] for r in results] == [BASE_ID + i for i in range(8)]
    done = [e["body"]["query"]["filter"]["_id"]["$in"][0] for e in server.queries("find")]
    assert done[-1] == BASE_ID  # really completed out of order on the server side


@pytest.mark.parametrize("kind, kw", [("status", {"status": 500}), ("status", {"status": 429}),
                                      ("status", {"status": 503, "json_body": True}), ("drop", {})])
def test_transient_failures_are_retried(kowalski_server, caplog, kind, kw):
    server = kowalski_server({SRC: _sources(3)})
    c = _client(server, policy=RetryPolicy(3, 0.001))
    c.connect()
    fault = server.add_fault(kind, times=2, when=query_type_is("find"), **kw)
    with caplog.at_level(logging.WARNING):
        assert len(c.find(SRC, {})) == 3
    assert fault.hits == 2
    assert caplog.text.count("retry") == 2 and "retry 2 of 3 in 0.002 s" in caplog.text


def test_slow_reply_past_timeout_is_retried_then_unavailable(kowalski_server):
    server = kowalski_server({SRC: _sources(2)})
    c = _client(server, timeout=0.2, policy=RetryPolicy(1, 0.001))
    c.connect()
    server.add_fault("slow", delay=0.6, when=query_type_is("find"))
    with pytest.raises(ServiceUnavailable, match="failed after 2 attempts: request timed out"):
        c.find(SRC, {})


def test_one_failing_query_in_a_batch_names_the_lost_ids(kowalski_server):
    server = kowalski_server({SRC: _sources(10)})
    c = _client(server, policy=RetryPolicy(2, 0.001))
    fault = server.add_fault("status", status=500, when=mentions_id(BASE_ID + 7))
    with pytest.raises(LostIdsError) as err:
        c.find_by_ids(SRC, [BASE_ID + i for i in range(10)], {"_id": 1}, chunk_size=3)
    e = err.value
    assert sorted(e.lost_ids.tolist()) == [BASE_ID + 6, BASE_ID + 7, BASE_ID + 8]
    assert str(BASE_ID + 7) in str(e) and "HTTP 500" in str(e) and "\n" not in str(e)
    assert sorted(d["_id"] for d in e.documents) == [BASE_ID + i for i in (0, 1, 2, 3, 4, 5, 9)]
    assert fault.hits == 3  # first attempt + 2 retries
    # a transient failure of the same query recovers
    server.clear_faults()
    server.add_fault("status", status=500, times=1, when=mentions_id(BASE_ID + 7))
    assert len(c.find_by_ids(SRC, [BASE_ID + i for i in range(10)], {"_id": 1}, chunk_size=3)) == 10


def test_query_batch_failure_keeps_successful_outcomes(kowalski_server):
    server = kowalski_server({SRC: _sources(4)})
    c = _client(server, policy=RetryPolicy(0, 0))
    server.add_fault("status", status=502, when=mentions_id(BASE_ID + 1))
    with pytest.raises(BatchQueryError, match=r"1 of 4 Kowalski queries failed.*#1") as err:
        c.query_batch([kp.find(SRC, kp.ids_filter([BASE_ID + i])) for i in range(4)])
    assert err.value.failed == [1] and err.value.outcomes[2].value[0]["_id"] == BASE_ID + 2


def test_server_errors_are_query_errors_without_retry(kowalski_server):
    server = kowalski_server({SRC: _sources(2)})
    c = _client(server)
    with pytest.raises(QueryError, match="Kowalski find on .* failed: ValueError: unknown operator: \\$regexx"):
        c.find(SRC, {"ra": {"$regexx": "1"}})
    assert len(server.queries("find")) == 1


def test_unknown_catalog_is_refused_before_the_wire(kowalski_server):
    server = kowalski_server({SRC: _sources(1)})
    c = _client(server)
    with pytest.raises(QueryError, match="catalog Nope is not available on any Kowalski instance"):
        c.find("Nope", {})


def test_bad_token_is_one_line_auth_error_without_the_token(kowalski_server, caplog):
    server = kowalski_server({SRC: _sources(1)})
    bad = "not-a-valid-token-1234567"
    c = _client(server, token=bad)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(AuthError) as err:
            c.find(SRC, {})
    msg = str(err.value)
    assert "refused the token (token is invalid)" in msg and "\n" not in msg
    assert bad not in msg and bad not in caplog.text


def test_username_password_login(kowalski_server):
    server = kowalski_server({SRC: _sources(1)}, users={"alice": "wonderland-pw"})
    good = KowalskiClient({"k": {"host": "127.0.0.1", "protocol": "http", "port": server.port,
                                 "username": "alice", "password": "wonderland-pw"}}, timeout=5)
    assert good.count_documents(SRC) == 1
    bad = KowalskiClient({"k": {"host": "127.0.0.1", "protocol": "http", "port": server.port,
                                "username": "alice", "password": "guess-pw"}}, timeout=5)
    with pytest.raises(AuthError, match="refused the username/password") as err:
        bad.catalogs()
    assert "guess-pw" not in str(err.value)


def test_server_down_is_one_line_unavailable():
    c = KowalskiClient({"k": {"host": "127.0.0.1", "protocol": "http", "port": free_port(),
                              "token": "down-token-abcdef"}}, timeout=2, policy=RetryPolicy(1, 0.001))
    with pytest.raises(ServiceUnavailable) as err:
        c.find(SRC, {})
    msg = str(err.value)
    assert "connection refused" in msg and "Kowalski instance 'k'" in msg and "\n" not in msg
    assert "down-token-abcdef" not in msg


def test_routing_and_split_cone_search_over_two_instances(kowalski_server):
    gaia = catalog_documents(__import__("pandas").DataFrame(
        {"_id": [1, 2], "ra": [10.0, 10.0005], "dec": [-20.0, -20.0], "phot_g_mean_mag": [12.0, 15.0]}))
    a = kowalski_server({SRC: _sources(3)})
    b = kowalski_server({"Gaia_EDR3": gaia})
    c = KowalskiClient({"a": a.instance_spec(), "b": b.instance_spec()}, timeout=5)
    assert c.instance_for(SRC) == "a" and c.instance_for("Gaia_EDR3") == "b"
    out = c.cone_search([10.0, 50.0], [-20.0, 0.0], 2.0, {SRC: {"projection": {"_id": 1}},
                                                          "Gaia_EDR3": {"projection": {"_id": 1}}})
    assert [d["_id"] for d in out[SRC][0]] == [BASE_ID]
    assert sorted(d["_id"] for d in out["Gaia_EDR3"][0]) == [1, 2]
    assert out[SRC][1] == [] and out["Gaia_EDR3"][1] == []
    assert len(a.queries("cone_search")) == 1 and len(b.queries("cone_search")) == 1
    near = c.cone_search([10.0004], [-20.0], 5.0, ["Gaia_EDR3"], limit=1, near=True)
    assert [d["_id"] for d in near["Gaia_EDR3"][0]] == [2]


def test_one_instance_down_leaves_the_others_usable(kowalski_server, caplog):
    a = kowalski_server({SRC: _sources(2)})
    c = KowalskiClient({"gone": {"host": "127.0.0.1", "protocol": "http", "port": free_port(), "token": "t0k3n-gone"},
                        "a": a.instance_spec()}, timeout=2, policy=RetryPolicy(0, 0))
    with caplog.at_level(logging.WARNING):
        assert c.count_documents(SRC) == 2
    assert "Kowalski instance 'gone' left out" in caplog.text
    with pytest.raises(ServiceUnavailable, match="Gaia_EDR3 is not on any reachable Kowalski instance"):
        c.instance_for("Gaia_EDR3")


def test_positions_chunked_under_body_limit(kowalski_server):
    server = kowalski_server({SRC: _sources(2)})
    c = _client(server, positions_per_query=100)
    ra = np.full(250, 10.0)
    dec = np.full(250, -20.0)
    out = c.cone_search(ra, dec, 1.0, {SRC: {"projection": {"_id": 1}}})
    assert len(out[SRC]) == 250 and all([d["_id"] for d in m] == [BASE_ID] for m in out[SRC])
    assert len(server.queries("cone_search")) == 3


def test_nothing_connects_until_first_query():
    c = KowalskiClient({"k": {"host": "127.0.0.1", "protocol": "http", "port": free_port(), "token": "lazy-token"}})
    assert "lazy-token" not in repr(c)  # constructing is free and quiet


# -- configuration ---------------------------------------------------------------------------------
def _cfg(tmp_path, text, env=None):
    p = tmp_path / "config.yaml"
    p.write_text(text)
    return load_config(p, env=env or {})


def test_client_from_config_env_tokens_and_defaults(tmp_path):
    cfg = _cfg(tmp_path, "kowalski:\n  instances:\n    melman: {port: 8443}\n    local: {host: k.example.org, "
                         "token: tok-local-1}\n    empty: {host: x.example.org}\n  max_retries: 1\n",
               env={"KOWALSKI_MELMAN_TOKEN": "tok-env-melman", "GLORIA_INSTANCE_TOKEN": "tok-legacy-gloria"})
    specs = instance_specs(cfg)
    assert set(specs) == {"melman", "local", "gloria"}
    assert specs["melman"] == {"port": 8443, "token": "tok-env-melman", "host": "melman.caltech.edu",
                               "protocol": "https"}
    assert specs["gloria"]["host"] == "gloria.caltech.edu" and specs["local"]["port"] == 443
    client = client_from_config(cfg)
    assert client.policy.max_retries == 1
    assert "tok-" not in repr(client)


def test_client_from_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no Kowalski instance has credentials"):
        client_from_config(_cfg(tmp_path, "kowalski:\n  instances:\n    a: {host: h}\n"))
    with pytest.raises(ConfigError, match="kowalski.instances.mine.host is missing"):
        client_from_config(_cfg(tmp_path, "kowalski:\n  instances:\n    mine: {token: abcdefg}\n"))


def test_catalog_listing_error_at_construction_is_asked_again(kowalski_server):
    # penquins swallows an error reply to its catalog listing and would then refuse every query
    server = kowalski_server({SRC: _sources(2)})
    server.add_fault("status", status=400, json_body=True, times=1, when=query_type_is("info"))
    c = _client(server)
    assert c.count_documents(SRC) == 2
    assert len(server.queries("info")) == 2


def test_oversized_body_gets_plain_413_and_a_clear_error(kowalski_server):
    server = kowalski_server({SRC: _sources(1)})
    big = kp.find(SRC, {"_id": {"$in": list(range(10**13, 10**13 + 80000))}})
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/queries", data=json.dumps(big).encode(),
                                 headers={"Authorization": server.token})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 413 and err.value.read() == b"Request Entity Too Large"
    c = _client(server, policy=RetryPolicy(0, 0))
    with pytest.raises(QueryError, match="reply is not JSON"):
        c.query(big)
