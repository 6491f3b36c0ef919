"""The Fritz client against the loopback SkyPortal, through real requests: retries, throttle, writes."""

import logging
import time

import pytest
import requests

from scope.errors import AuthError, QueryError, ServiceUnavailable, WriteOutcomeUnknown
from scope.services import fritz_payloads as fp
from scope.services.fritz import FritzClient, client_from_config
from scope.services.http import RetryPolicy
from tests.loopback.kowalski_server import free_port
from tests.loopback.skyportal_server import route_is
from tests.loopback.skyportal_state import ALL_ACLS

TOKEN = "fritz-token-client-test-0123456789"


@pytest.fixture
def sky(skyportal_server):
    server = skyportal_server()
    st = server.state
    g1, g2 = st.add_group("one"), st.add_group("two")
    bot = st.add_user("bot", TOKEN, acls=ALL_ACLS, groups=[g1, g2])
    st.add_user("reader", "reader-token-0123", acls=(), groups=[g1, g2])
    for i in range(7):
        oid = f"ZTFJ00000{i}.00+000000.0"
        st.add_obj(oid, 10 + i * 0.01, 0.0)
        st.save(oid, g1 if i < 4 else g2, bot)
    st.add_taxonomy("tax", "1", {"class": "Time series", "subclasses": [{"class": "variable"}]}, taxonomy_id=1017)
    st.add_instrument("ZTF")
    return server, g1, g2


def client(server, token=TOKEN, **kw):
    kw.setdefault("policy", RetryPolicy(max_retries=4, backoff_seconds=0.001))
    kw.setdefault("rate_limit", None)
    return FritzClient(server.url, token, timeout=kw.pop("timeout", 5), **kw)


def test_group_ids_go_as_one_comma_list(sky):
    server, g1, g2 = sky
    c = client(server)
    data = c.sources(fp.sources_query(group_ids=[g1, g2], per_page=100))
    assert data["totalMatches"] == 7
    assert server.requests("GET", "/api/sources")[-1]["args"]["group_ids"] == f"{g1},{g2}"
    # what the reference sent: repeated keys, of which SkyPortal reads only the last
    r = requests.get(f"{server.url}/api/sources", params={"group_ids": [g1, g2]},
                     headers={"Authorization": f"token {TOKEN}"})
    assert r.json()["data"]["totalMatches"] == 3


def test_pages_follow_the_capped_page_size_without_an_empty_tail(sky):
    server, g1, g2 = sky
    c = client(server)
    pages = list(c.iter_source_pages({"group_ids": f"{g1},{g2}", "numPerPage": "7"}))
    assert [(p, n, len(s)) for p, n, s in pages] == [(1, 1, 7)]  # 7 divides 7: no page 2 request
    assert len(server.requests("GET", "/api/sources")) == 1
    server.reset_log()
    pages = list(c.iter_source_pages({"numPerPage": "3"}, start_page=2))
    assert [(p, len(s)) for p, _, s in pages] == [(2, 3), (3, 1)]
    st = server.state
    for i in range(600):
        st.add_obj(f"X{i}", 20, 0)
        st.save(f"X{i}", g1, st.users[1])
    server.reset_log()
    counts = [len(s) for _, _, s in c.iter_source_pages({"group_ids": str(g1), "numPerPage": "1000"})]
    assert counts == [500, 104]  # SkyPortal caps numPerPage at 500; the client follows its answer


def test_429_storm_with_html_bodies_is_ridden_out(sky, caplog):
    server, g1, _ = sky
    server.add_fault("status", status=429, times=5, when=route_is("GET", "/api/sources"))
    c = client(server, policy=RetryPolicy(max_retries=6, backoff_seconds=0.001))
    with caplog.at_level(logging.WARNING, logger="scope.services.http"):
        assert c.sources({"group_ids": str(g1)})["totalMatches"] == 4
    assert [e["status"] for e in server.requests("GET", "/api/sources")] == [429] * 5 + [200]
    assert "HTTP 429" in caplog.text and TOKEN not in caplog.text


def test_real_rate_limiter_and_the_client_throttle(sky):
    server, g1, _ = sky
    server.set_rate_limit(20, burst=2)
    unthrottled = client(server, policy=RetryPolicy(max_retries=8, backoff_seconds=0.02))
    for _ in range(8):
        unthrottled.sources({"group_ids": str(g1)})
    assert any(e["status"] == 429 for e in server.log)  # hit the limiter, retried, all answered
    server.reset_log()
    time.sleep(0.3)
    throttled = client(server, rate_limit=15, burst=2)
    for _ in range(8):
        throttled.sources({"group_ids": str(g1)})
    assert [e["status"] for e in server.log] == [200] * 8  # never hit it


def test_5xx_and_timeouts_are_retried_for_reads(sky):
    server, _, _ = sky
    server.add_fault("status", status=502, times=1, when=route_is("GET", r"/api/sources/.*"))
    server.add_fault("slow", delay=1.5, times=1, when=route_is("GET", r"/api/sources/.*"))
    c = client(server, timeout=0.5)
    assert c.source("ZTFJ000000.00+000000.0")["id"] == "ZTFJ000000.00+000000.0"
    assert len(server.requests("GET", r"/api/sources/.*")) == 3


def test_a_write_without_a_definite_answer_is_not_repeated(sky):
    server, g1, _ = sky
    server.add_fault("slow_after", delay=1.5, times=1, when=route_is("POST", "/api/classification"))
    c = client(server, timeout=0.5)
    item = fp.classification_item("ZTFJ000000.00+000000.0", "variable", 1017, 0.9, group_ids=[g1])
    with pytest.raises(WriteOutcomeUnknown, match="may or may not"):
        c.post_classifications([item])
    assert len(server.requests("POST", "/api/classification")) == 1
    assert len(server.classifications_of("ZTFJ000000.00+000000.0")) == 1  # it did happen
    # a rate-limited write never reached the application: that one is retried
    server.add_fault("status", status=429, times=2, when=route_is("POST", "/api/classification"))
    assert len(c.post_classifications([item])) == 1
    assert len(server.classifications_of("ZTFJ000000.00+000000.0")) == 2


def test_absent_source_is_none_and_auth_errors_are_one_line(sky):
    server, g1, _ = sky
    assert client(server).source("ZTFJnope") is None
    with pytest.raises(AuthError, match="HTTP 401: Unauthorized") as err:
        client(server, token="wrong-token-abcdef").sources({})
    assert "wrong-token-abcdef" not in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(AuthError, match="401"):  # a token without the Classify ACL
        client(server, token="reader-token-0123").post_classifications(
            [fp.classification_item("ZTFJ000000.00+000000.0", "variable", 1017, 0.9, group_ids=[g1])])
    with pytest.raises(QueryError, match="not in the allowed classes"):
        client(server).post_classifications(
            [fp.classification_item("ZTFJ000000.00+000000.0", "EW", 1017, 0.9, group_ids=[g1])])


def test_server_down_is_service_unavailable():
    c = FritzClient(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=1,
                    policy=RetryPolicy(max_retries=1, backoff_seconds=0.001), rate_limit=None)
    with pytest.raises(ServiceUnavailable, match="connection refused") as err:
        c.sources({})
    assert TOKEN not in str(err.value)


def test_retried_writes_that_had_succeeded_count_as_done(sky):
    server, g1, g2 = sky
    c = client(server)
    oid = "ZTFJ000001.00+000000.0"
    server.add_fault("drop_after", times=1, when=route_is("POST", r"/api/sources/.*/annotations"))
    assert c.post_annotation(oid, "uploadedperiod", {"period": 0.5}, [g1]) is None  # retried: "already exists"
    assert len(server.annotations_of(oid)) == 1
    server.add_fault("drop_after", times=1, when=route_is("POST", r"/api/sources/.*/comments"))
    c.post_comment(oid, fp.comment_payload("hello", group_ids=[g1]))
    assert len(server.comments_of(oid)) == 1
    server.add_fault("drop_after", times=1, when=route_is("POST", "/api/source_groups"))
    c.invite(oid, [g2])  # retried: "already saved to group"
    assert server.state.saves[(oid, g2)]["active"] and len(server.requests("POST", "/api/source_groups")) == 2


def test_client_from_config_needs_a_token_and_uses_the_section(sky):
    from scope.errors import ConfigError

    server, _, _ = sky
    with pytest.raises(ConfigError, match="FRITZ_TOKEN"):
        client_from_config({"fritz": {"host": "x"}})
    c = client_from_config({"fritz": server.fritz_section(TOKEN, max_attempts=3, sleep_time=0.5, timeout=7,
                                                          rate_limit=4, rate_burst=3)})
    assert c.base_url == server.url and c.session.timeout == 7
    assert c.session.policy.max_retries == 2 and c.session.policy.backoff_seconds == 0.5
    assert c.session.limiter.rate == 4 and c.session.limiter.burst == 3
