import logging
import threading
import time

import pytest

from scope.errors import AuthError, DataError, QueryError, ServiceUnavailable
from scope.services import http
from scope.services.http import (RedactingFilter, RetryPolicy, ServiceSession, TransientFailure, call_with_retries,
                                 redact, register_secret, run_bounded)
from tests.loopback.kowalski_server import free_port


def test_redact_registered_secret_jwt_and_headers():
    register_secret("s3cr3t-value-123")
    text = ("token s3cr3t-value-123 and eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiYSJ9.c2lnbmF0dXJl and "
            "{'Authorization': 'abcdefgh'}")
    out = redact(text)
    assert "s3cr3t-value-123" not in out and "eyJhbGciOiJIUzI1NiJ9" not in out and "abcdefgh" not in out
    assert out.count("***") == 3


def test_redacting_filter_cleans_records_from_any_logger(caplog):
    register_secret("another-secret-xyz")
    handler = logging.StreamHandler()
    records = []
    handler.emit = records.append
    handler.addFilter(RedactingFilter())
    lg = logging.getLogger("some.library")
    lg.addHandler(handler)
    try:
        lg.warning("header was %s", "another-secret-xyz")
    finally:
        lg.removeHandler(handler)
    assert records and "another-secret-xyz" not in records[0].getMessage()


def test_policy_doubles_and_caps():
    p = RetryPolicy(max_retries=5, backoff_seconds=0.5, max_backoff_seconds=3)
    assert [p.delay(i) for i in range(5)] == [0.5, 1.0, 2.0, 3, 3]
    assert RetryPolicy.from_config({"max_retries": 2, "backoff_seconds": 0.1}) == RetryPolicy(2, 0.1)


def test_call_with_retries_backs_off_then_succeeds(caplog):
    calls, waits = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise TransientFailure("HTTP 503")
        return "ok"

    with caplog.at_level(logging.WARNING, logger="scope.services.http"):
        assert call_with_retries(flaky, RetryPolicy(3, 0.25), what="demo", sleep=waits.append) == "ok"
    assert waits == [0.25, 0.5]
    assert "retry 1 of 3" in caplog.text and "HTTP 503" in caplog.text


@pytest.mark.parametrize("unreachable, cls", [(True, ServiceUnavailable), (False, QueryError)])
def test_call_with_retries_gives_up_with_domain_error(unreachable, cls):
    waits = []

    def broken():
        raise TransientFailure("connection refused", unreachable=unreachable)

    with pytest.raises(cls, match=r"demo failed after 3 attempts: connection refused"):
        call_with_retries(broken, RetryPolicy(2, 0.01), what="demo", sleep=waits.append)
    assert len(waits) == 2


def test_non_transient_errors_are_not_retried():
    calls = []

    def bad():
        calls.append(1)
        raise DataError("bad input")

    with pytest.raises(DataError):
        call_with_retries(bad, RetryPolicy(5, 0.01), what="demo", sleep=lambda s: None)
    assert len(calls) == 1


def test_run_bounded_keeps_order_and_limits_threads():
    active, peak, lock = [0], [0], threading.Lock()

    def work(i):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02 * (5 - i % 5))  # later items finish first
        with lock:
            active[0] -= 1
        if i == 3:
            raise QueryError("item 3 failed")
        return i * 10

    outcomes = run_bounded(work, range(10), max_workers=3)
    assert [o.value for o in outcomes if o.ok] == [i * 10 for i in range(10) if i != 3]
    assert not outcomes[3].ok and "item 3" in str(outcomes[3].error)
    assert peak[0] <= 3


def test_run_bounded_reraises_bugs():
    with pytest.raises(ZeroDivisionError):
        run_bounded(lambda i: 1 / i, [1, 0, 2], max_workers=2)


# -- ServiceSession against a real local HTTP server (the loopback Kowalski's GET / ping) -----------
def test_service_session_retries_429_and_5xx(kowalski_server):
    server = kowalski_server({})
    server.add_fault("status", status=429, times=1, retry_after="0")
    server.add_fault("status", status=502, times=1)
    s = ServiceSession(f"http://127.0.0.1:{server.port}", server.token, auth_scheme="Bearer",
                       policy=RetryPolicy(3, 0.001), name="Loopback")
    assert s.request("GET", "/") == {"status": "success", "message": "greetings from Kowalski!"}
    assert len(server.log) == 3


def test_service_session_auth_and_down(kowalski_server):
    server = kowalski_server({})
    s = ServiceSession(f"http://127.0.0.1:{server.port}", None, policy=RetryPolicy(1, 0.001), name="Loopback")
    with pytest.raises(AuthError, match="Loopback refused the credentials"):
        s.request("GET", "/")
    with pytest.raises(QueryError, match="HTTP 404"):
        ServiceSession(f"http://127.0.0.1:{server.port}", server.token, auth_scheme="",
                       policy=RetryPolicy(0, 0)).request("GET", "/nope")
    down = ServiceSession(f"http://127.0.0.1:{free_port()}", "tok-secret-1", policy=RetryPolicy(1, 0.001))
    with pytest.raises(ServiceUnavailable, match="connection refused") as err:
        down.request("GET", "/")
    assert "tok-secret-1" not in str(err.value) and "\n" not in str(err.value)


def test_classify_exception_ignores_programming_errors():
    assert http.classify_exception(KeyError("x")) is None
