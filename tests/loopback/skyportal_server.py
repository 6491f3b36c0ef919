"""A loopback SkyPortal (Fritz): a real HTTP server on 127.0.0.1 speaking SkyPortal's REST API.

What it reproduces (``shared/reference/service-api-contracts.md`` section 1, checklist 1.8):

* token auth: ``Authorization: token <t>``; malformed or missing header -> 401 with SkyPortal's
  "Credentials malformed" text, unknown token -> 401 ``HTTP 401: Unauthorized``, expired user ->
  403, a token lacking the route's ACL -> 401;
* envelopes ``{"status", "data", "version"}`` / ``{"status": "error", "message", "data": {}}``,
  pretty-printed, ``NaN`` emitted as ``null``, timestamps with and without microseconds;
* query strings read last-value-wins (``group_ids=1&group_ids=2`` means 2), comma lists;
* pagination with the 500 cap and the 400 on an exactly-empty trailing page;
* an nginx-style rate limiter (token bucket keyed on the Authorization value, HTML 429, no
  ``Retry-After``), off unless configured;
* the routes of :mod:`tests.loopback.skyportal_state`, list-mode sources without classification
  groups/votes (the "fast" query; ``fast_list=False`` emulates older servers).

Faults (:meth:`LoopbackSkyPortal.add_fault`) reuse the loopback Kowalski's :class:`Fault`:
``status`` (an HTML error page, or JSON), ``slow`` / ``drop`` before the request is handled,
and ``slow_after`` / ``drop_after`` / ``status_after`` *after* it was handled (the write happened,
the client never hears about it, or hears a 5xx). Predicates get ``("POST /api/classification", body)``. Every request is logged
(:attr:`LoopbackSkyPortal.log`) so tests can count what a command sent.
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs, unquote, urlsplit

from tests.loopback.kowalski_server import Fault
from tests.loopback.threaded import ThreadedService
from tests.loopback.skyportal_state import VERSION, ApiError, SkyPortalState, User

FAULT_KINDS = ("status", "slow", "drop", "slow_after", "drop_after", "status_after")
_NGINX_PAGE = ("<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}"
               "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Temporarily Unavailable", 504: "Gateway Time-out", 413: "Request Entity Too Large"}
MALFORMED = 'HTTP 401: Unauthorized (Credentials malformed; expected form "Authorization: token abc123")'


def route_is(method: str, pattern: str) -> Callable[[str, Any], bool]:
    """Fault predicate: requests with this method whose path matches the regex ``pattern``."""
    rx = re.compile(pattern)
    return lambda where, body: where.split(" ", 1)[0] == method and bool(rx.fullmatch(where.split(" ", 1)[1]))


class TokenBucket:
    """nginx ``limit_req`` with ``burst`` and ``nodelay``: a request beyond the bucket is refused."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = float(rate), int(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        with self._lock:
            now = time.monotonic()
            tokens, last = self._buckets.get(key, (self.burst + 1.0, now))
            tokens = min(self.burst + 1.0, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True


def encode(payload: Any) -> str:
    """baselayer's ``to_json``: indent 2, non-finite floats as null."""
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, Mapping):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, set):
            return [clean(x) for x in sorted(v)]
        return v
    return json.dumps(clean(payload), indent=2)


class LoopbackSkyPortal(ThreadedService):
    """A SkyPortal server on ``127.0.0.1`` backed by :class:`SkyPortalState`.

    Parameters
    ----------
    port : int
        0 picks a free port.
    rate_limit : float, optional
        Requests per second per token before HTTP 429 (None: no limiter).
    burst : int
    fast_list : bool
        List-mode sources carry classifications without groups/votes (current SkyPortal).

    Attributes
    ----------
    state : SkyPortalState
    log : list of dict
        ``{"method", "path", "args", "body", "status", "token"}`` per request (token = user name).
    """

    def __init__(self, *, port: int = 0, rate_limit: float | None = None, burst: int = 10, fast_list: bool = True):
        self.state = SkyPortalState()
        self.fast_list = fast_list
        self.limiter = TokenBucket(rate_limit, burst) if rate_limit else None
        self.faults: list[Fault] = []
        self.log: list[dict] = []
        self._lock = threading.RLock()
        self._port = port
        self._httpd = None
        self._in_flight = 0

    # -- lifecycle ---------------------------------------------------------------------------
    thread_name = "loopback-skyportal"

    def _handler(self):
        return _make_handler(self)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def fritz_section(self, token: str, **extra) -> dict:
        """The ``fritz`` config section pointing at this server."""
        return {"protocol": "http", "host": "127.0.0.1", "port": self.port, "token": token, **extra}

    # -- users and limits --------------------------------------------------------------------
    def add_user(self, username: str, token: str, **kwargs) -> User:
        return self.state.add_user(username, token, **kwargs)

    def set_rate_limit(self, rate: float | None, burst: int = 10) -> None:
        self.limiter = TokenBucket(rate, burst) if rate else None

    # -- faults and the request log ------------------------------------------------------------
    def add_fault(self, kind: str, *, status: int = 500, delay: float = 0.0, times: int | None = None,
                  when: Callable[[str, Any], bool] | None = None, json_body: bool = False) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind}")
        fault = Fault(kind, status=status, delay=delay, times=times, when=when, json_body=json_body)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _take_fault(self, where: str, body: Any, phase: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.kind.endswith("_after") != (phase == "after"):
                    continue
                if fault.wants(where, body):
                    fault.hits += 1
                    return fault
        return None

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict]:
        """Logged requests, optionally of one method and/or a path matching a regex."""
        with self._lock:
            return [e for e in self.log if (method is None or e["method"] == method)
                    and (path is None or re.fullmatch(path, e["path"]))]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being handled (a killed client's last request may still be)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return True
            time.sleep(0.01)
        return False

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()

    # -- state shortcuts for tests -----------------------------------------------------------
    def classifications_of(self, obj_id: str) -> list[dict]:
        with self.state.lock:
            return [dict(c) for c in self.state.classifications.of(obj_id).values()]

    def annotations_of(self, obj_id: str) -> list[dict]:
        with self.state.lock:
            return [dict(a) for a in self.state.annotations.of(obj_id).values()]

    def comments_of(self, obj_id: str) -> list[dict]:
        with self.state.lock:
            return [dict(c) for c in self.state.comments.of(obj_id).values()]

    # -- dispatch ----------------------------------------------------------------------------
    def handle(self, method: str, path: str, args: Mapping[str, str], body: Any, user: User) -> tuple[int, Any]:
        """Run one authenticated request; returns ``(status, data)`` or raises :class:`ApiError`."""
        for rx_method, rx, acl, fn in _ROUTES:
            if rx_method != method:
                continue
            m = rx.fullmatch(path)
            if m is None:
                continue
            if acl and acl not in user.acls and not user.admin:
                raise ApiError("HTTP 401: Unauthorized", 401)
            with self.state.lock:
                return 200, fn(self, user, args, body, *[unquote(g) for g in m.groups()])
        raise ApiError(f"HTTP 404: Not Found ({method} {path})", 404)


# ------------------------------------------------------------------------------------------------
# route handlers: (server, user, args, body, *path groups) -> data
def _body(body) -> Mapping:
    if not isinstance(body, Mapping):
        raise ApiError("Please ensure posted data is of type application/json")
    return body


def _r_sources(srv, user, args, body):
    try:
        return srv.state.list_sources(user, args, fast_list=srv.fast_list)
    except ApiError as exc:
        if exc.message.startswith(("Cannot retrieve", "Page", "Invalid", "must specify", "Localization")):
            raise
        raise ApiError(f"Cannot retrieve sources: {exc.message}") from None


def _r_source(srv, user, args, body, obj_id):
    if not srv.state.readable(obj_id, user):
        raise ApiError("Source not found", 404)
    return srv.state.source_dict(obj_id, user, full=True,
                                 include_labellers=str(args.get("includeLabellers", "")).lower() in ("true", "t", "1",
                                                                                                     "yes"))


def _r_source_classifications(srv, user, args, body, obj_id):
    return [srv.state.classification_dict(c, groups=False, votes=True)
            for c in sorted(srv.state.classifications.of(obj_id).values(), key=lambda c: c["id"])
            if srv.state._classification_readable(c, user)]


def _r_delete_source_classifications(srv, user, args, body, obj_id):
    label = (body or {}).get("label", True) if isinstance(body, Mapping) else True
    srv.state.delete_source_classifications(obj_id, user, bool(label))
    return {}


def _r_post_classification(srv, user, args, body):
    body = _body(body)
    if "classifications" in body:
        ids = []
        for item in body["classifications"]:
            try:
                ids.append(srv.state.post_classification(user, item))
            except (ValueError, TypeError, KeyError) as exc:
                raise ApiError(f"Error posting classification: {exc}") from None  # earlier items stay
        return {"classification_ids": ids}
    try:
        return {"classification_id": srv.state.post_classification(user, body)}
    except (ValueError, TypeError, KeyError) as exc:
        raise ApiError(f"Error posting classification: {exc}") from None


def _r_get_classification(srv, user, args, body, cid):
    c = srv.state.classifications.get(int(cid))
    if c is None or not srv.state._classification_readable(c, user):
        raise ApiError(f"Cannot find classification with ID: {cid}.")
    return srv.state.classification_dict(c, groups=True, votes=True)


def _r_list_classifications(srv, user, args, body):
    per_page = min(int(args.get("numPerPage", 100)), 500)
    page = int(args.get("pageNumber", 1))
    rows = [c for c in sorted(srv.state.classifications.values(), key=lambda c: c["id"])
            if srv.state._classification_readable(c, user)]
    window = rows[(page - 1) * per_page: page * per_page]
    return {"classifications": [srv.state.classification_dict(c, groups=True, votes=False) for c in window],
            "totalMatches": len(rows)}


def _r_delete_classification(srv, user, args, body, cid):
    label = body.get("label", True) if isinstance(body, Mapping) else True
    srv.state.delete_classification(int(cid), user, bool(label))
    return {}


def _r_vote(srv, user, args, body, cid):
    body = _body(body)
    if "vote" not in body:
        raise ApiError("Missing required parameter: `vote`")
    if body["vote"] not in (1, -1):
        raise ApiError("Vote must be 1 or -1")
    c = srv.state.classifications.get(int(cid))
    if c is None:
        raise ApiError(f"Cannot find classification with ID: {cid}.")
    srv.state.vote(int(cid), user, body["vote"])
    srv.state.label(c["obj_id"], user, c["group_ids"])
    return {}


def _r_unvote(srv, user, args, body, cid):
    srv.state.votes.pop((int(cid), user.id), None)
    return {}


def _r_annotations(srv, user, args, body, obj_id):
    return srv.state.list_annotations(obj_id, user)


def _r_post_annotation(srv, user, args, body, obj_id):
    return srv.state.post_annotation(obj_id, user, _body(body))


def _r_put_annotation(srv, user, args, body, obj_id, aid):
    return srv.state.put_annotation(obj_id, int(aid), user, _body(body))


def _r_delete_annotation(srv, user, args, body, obj_id, aid):
    return srv.state.delete_annotation(obj_id, int(aid), user)


def _r_comments(srv, user, args, body, obj_id):
    return srv.state.list_comments(obj_id, user)


def _r_post_comment(srv, user, args, body, obj_id):
    return srv.state.post_comment(obj_id, user, _body(body))


def _r_instrument(srv, user, args, body):
    rows = list(srv.state.instruments.values())
    if args.get("name"):
        rows = [i for i in rows if i["name"].lower() == args["name"].lower()]
    return [dict(i) for i in rows]


def _r_groups(srv, user, args, body):
    mine = [srv.state.group_dict(g) for g in sorted(user.groups)]
    everyone = [srv.state.group_dict(g) for g in sorted(srv.state.groups)]
    if args.get("name"):
        return [g for g in everyone if g["name"] == args["name"]]
    key = lambda g: g["name"]  # noqa: E731
    return {"user_groups": sorted(mine, key=key), "user_accessible_groups": sorted(mine, key=key),
            "all_groups": sorted(everyone, key=key)}


def _r_group(srv, user, args, body, gid):
    if int(gid) not in srv.state.groups:
        raise ApiError(f"Cannot find Group with id {gid}")
    return srv.state.group_dict(int(gid))


def _r_taxonomies(srv, user, args, body):
    readable = srv.state.readable_groups(user)
    return [srv.state.taxonomy_dict(t) for t in srv.state.taxonomies.values()
            if user.admin or t["group_ids"] & readable]


def _r_taxonomy(srv, user, args, body, tid):
    t = srv.state.taxonomies.get(int(tid))
    if t is None or not (user.admin or t["group_ids"] & srv.state.readable_groups(user)):
        raise ApiError("Taxonomy does not exist or is not available to user.")
    return srv.state.taxonomy_dict(t)


def _r_gcn_events(srv, user, args, body):
    per_page = int(args.get("numPerPage", 10))
    page = int(args.get("pageNumber", 1))
    events = sorted(srv.state.gcn_events.values(), key=lambda e: e["dateobs"], reverse=True)
    if args.get("startDate"):
        events = [e for e in events if e["dateobs"] >= args["startDate"]]
    return {"events": [{k: e[k] for k in ("id", "dateobs", "tags", "aliases")}
                       for e in events[(page - 1) * per_page: page * per_page]], "totalMatches": len(events)}


def _r_gcn_event(srv, user, args, body, dateobs):
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?", dateobs):
        raise ApiError(f"Invalid dateobs: {dateobs}")
    event = srv.state.gcn_events.get(dateobs)
    if event is None:
        raise ApiError("GCN event not found", 404)
    return json.loads(json.dumps(event))


_ROUTES = [(m, re.compile(p), acl, fn) for m, p, acl, fn in [
    ("GET", r"/api/sources", None, _r_sources),
    ("POST", r"/api/sources", "Upload data", lambda s, u, a, b: s.state.post_source(u, _body(b))),
    ("GET", r"/api/sources/([^/]+)", None, _r_source),
    ("GET", r"/api/sources/([^/]+)/classifications", None, _r_source_classifications),
    ("DELETE", r"/api/sources/([^/]+)/classifications", None, _r_delete_source_classifications),
    ("GET", r"/api/sources/([^/]+)/annotations", None, _r_annotations),
    ("POST", r"/api/sources/([^/]+)/annotations", "Annotate", _r_post_annotation),
    ("PUT", r"/api/sources/([^/]+)/annotations/(\d+)", "Annotate", _r_put_annotation),
    ("DELETE", r"/api/sources/([^/]+)/annotations/(\d+)", "Annotate", _r_delete_annotation),
    ("GET", r"/api/sources/([^/]+)/comments", None, _r_comments),
    ("POST", r"/api/sources/([^/]+)/comments", "Comment", _r_post_comment),
    ("POST", r"/api/source_groups", "Upload data", lambda s, u, a, b: s.state.source_groups_post(u, _body(b))),
    ("GET", r"/api/instrument", None, _r_instrument),
    ("PUT", r"/api/photometry", "Upload data", lambda s, u, a, b: s.state.put_photometry(u, _body(b), upsert=True)),
    ("POST", r"/api/photometry", "Upload data",
     lambda s, u, a, b: s.state.put_photometry(u, _body(b), upsert=False)),
    ("POST", r"/api/classification", "Classify", _r_post_classification),
    ("GET", r"/api/classification", None, _r_list_classifications),
    ("GET", r"/api/classification/(\d+)", None, _r_get_classification),
    ("DELETE", r"/api/classification/(\d+)", "Classify", _r_delete_classification),
    ("POST", r"/api/classification/votes/(\d+)", None, _r_vote),
    ("DELETE", r"/api/classification/votes/(\d+)", None, _r_unvote),
    ("GET", r"/api/taxonomy", None, _r_taxonomies),
    ("GET", r"/api/taxonomy/(\d+)", None, _r_taxonomy),
    ("POST", r"/api/taxonomy", "Post taxonomy", lambda s, u, a, b: s.state.post_taxonomy(u, _body(b))),
    ("GET", r"/api/groups", None, _r_groups),
    ("GET", r"/api/groups/(\d+)", None, _r_group),
    ("GET", r"/api/gcn_event", None, _r_gcn_events),
    ("GET", r"/api/gcn_event/([^/]+)", None, _r_gcn_event),
]]


# ------------------------------------------------------------------------------------------------
def _make_handler(server: LoopbackSkyPortal):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"LoopbackSkyPortal/{VERSION}"
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):  # keep test output clean
            pass

        def _raw(self, status: int, raw: bytes, ctype: str):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def _envelope(self, status: int, data: Any = None, message: str | None = None):
            if status == 200:
                payload = {"status": "success", "data": {} if data is None else data, "version": VERSION}
            else:
                payload = {"status": "error", "message": message, "data": {}, "version": VERSION}
            self._raw(status, encode(payload).encode(), "application/json")

        def _html(self, status: int):
            self._raw(status, _NGINX_PAGE.format(code=status, reason=_REASONS.get(status, "Error")).encode(),
                      "text/html")

        def _drop(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _user(self) -> tuple[User | None, int, str]:
            header = self.headers.get("Authorization") or ""
            if not header.startswith("token "):
                return None, 401, MALFORMED
            uid = server.state.tokens.get(header[len("token "):].strip())
            if uid is None:
                return None, 401, "HTTP 401: Unauthorized"
            user = server.state.users[uid]
            if user.expired:
                return None, 403, "HTTP 403: Forbidden (User account expired)"
            return user, 200, ""

        def _serve(self):
            with server._lock:
                server._in_flight += 1
            try:
                self._handle()
            finally:
                with server._lock:
                    server._in_flight -= 1

        def _handle(self):
            parts = urlsplit(self.path)
            path = parts.path.rstrip("/") or "/"
            args = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}  # last wins
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = None
            bad_json = False
            if raw:
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    bad_json = True
            method = self.command
            entry = {"method": method, "path": path, "args": args, "body": body, "status": None, "token": None}
            with server._lock:
                server.log.append(entry)
            where = f"{method} {path}"
            fault = server._take_fault(where, body, "before")
            if fault is not None:
                if fault.kind == "slow":
                    time.sleep(fault.delay)
                elif fault.kind == "drop":
                    entry["status"] = -1
                    self._drop()
                    return
                else:
                    entry["status"] = fault.status
                    if fault.json_body:
                        self._envelope(fault.status, message="injected failure")
                    else:
                        self._html(fault.status)
                    return
            if server.limiter is not None and not server.limiter.allow(self.headers.get("Authorization") or ""):
                entry["status"] = 429
                self._html(429)
                return
            user, status, message = self._user()
            if user is None:
                entry["status"] = status
                self._envelope(status, message=message)
                return
            entry["token"] = user.username
            if bad_json or (method in ("POST", "PUT", "PATCH") and raw and not isinstance(body, Mapping)):
                entry["status"] = 400
                self._envelope(400, message="Please ensure posted data is of type application/json")
                return
            lookup = "GET" if method == "HEAD" else method
            try:
                status, data = server.handle(lookup, path, args, body, user)
                reply = (status, data, None)
            except ApiError as exc:
                reply = (exc.status, None, exc.message)
            entry["status"] = reply[0]
            after = server._take_fault(where, body, "after")
            if after is not None:
                if after.kind == "slow_after":
                    time.sleep(after.delay)
                elif after.kind == "status_after":  # handled, then a gateway error instead of the answer
                    self._html(after.status)
                    return
                else:
                    self._drop()
                    return
            if method == "HEAD" and reply[0] != 200:
                self._raw(reply[0], b"", "application/json")
                return
            self._envelope(reply[0], data=reply[1], message=reply[2])

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    return Handler


__all__ = ["LoopbackSkyPortal", "route_is", "encode", "MALFORMED"]
