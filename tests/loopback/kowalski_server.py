"""A loopback Kowalski: a real HTTP server on 127.0.0.1 speaking Kowalski's wire protocol.

What it implements (see ``shared/reference/service-api-contracts.md`` section 2):

* ``POST /api/auth`` (username/password -> HS256 JWT; 401 ``Unauthorized`` on bad credentials;
  400 for a missing field or an unsupported ``penquins.__version__``);
* ``GET /`` authenticated ping;
* ``POST /api/queries`` with ``info`` (``catalog_names``, ``catalog_info``, ``index_info``,
  ``db_info``), ``find``, ``find_one`` (no projection), ``count_documents``,
  ``estimated_document_count``, ``aggregate`` (``$match``, ``$project``, ``$sort``, ``$skip``,
  ``$limit``, ``$count``, ``$group`` by a field with ``$sum``), ``cone_search`` (exact spherical
  cone on ``coordinates.radec_geojson`` with longitude = RA - 180, unsorted) and ``near``
  (sorted by distance, ``distance_units`` default ``rad``), with Kowalski's object-name rule
  (``.`` -> ``_``) and per-object ``skip``/``limit``;
* auth rules: no header -> 401 ``Unauthorized``; bad token -> 400 ``token is invalid``;
* errors as 400 ``{"status": "error", "message": "<ExceptionName>: <text>"}``; unknown routes
  404; a 1 MiB body cap answered with a plain-text 413;
* replies in MongoDB relaxed Extended JSON (``NaN`` -> ``{"$numberDouble": "NaN"}``).

Faults can be injected (:meth:`LoopbackKowalski.add_fault`): HTTP error statuses (500, 429 ...),
slow replies, dropped connections, each for a number of times and optionally only for requests
matching a predicate (e.g. one query inside a batch, :func:`mentions_id`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Iterable, Mapping

import numpy as np
from bson.json_util import RELAXED_JSON_OPTIONS, dumps

from tests.loopback import mongo
from tests.loopback.threaded import QuietServer, ThreadedService

MAX_BODY = 1024 ** 2
PROTECTED = ("users", "filters", "queries")
QUERY_TYPES = ("cone_search", "count_documents", "estimated_document_count", "find", "find_one", "aggregate",
               "info", "near", "drop", "skymap")
INFO_COMMANDS = ("catalog_names", "catalog_info", "index_info", "db_info")
UNITS_TO_RAD = {"arcsec": math.pi / 180 / 3600, "arcmin": math.pi / 180 / 60, "deg": math.pi / 180, "rad": 1.0}
SUPPORTED_PENQUINS = tuple(f"2.{minor}.{patch}" for minor in range(5) for patch in range(3))


# ------------------------------------------------------------------------------------------------
# JWT (HS256) with the standard library
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_jwt(claims: Mapping, secret: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(dict(claims), separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(sig)}"


def check_jwt(token: str, secret: str) -> dict | None:
    try:
        header, body, sig = token.split(".")
        want = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, _unb64(sig)):
            return None
        return json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None


# ------------------------------------------------------------------------------------------------
# faults
@dataclass
class Fault:
    """One injected misbehaviour.

    Attributes
    ----------
    kind : {"status", "slow", "drop"}
    status : int
        HTTP status for ``kind="status"`` (body: plain text, or JSON when ``json_body``).
    delay : float
        Seconds to wait before answering normally (``kind="slow"``).
    times : int or None
        How many matching requests it affects (None = all).
    when : callable, optional
        ``when(path, body) -> bool`` selects requests (body is the decoded JSON or None).
    """

    kind: str
    status: int = 500
    delay: float = 0.0
    times: int | None = None
    when: Callable[[str, Any], bool] | None = None
    json_body: bool = False
    retry_after: str | None = None
    hits: int = 0

    def wants(self, path: str, body: Any) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.when is not None and not self.when(path, body):
            return False
        return True


def mentions_id(_id: int) -> Callable[[str, Any], bool]:
    """Fault predicate: a query whose filter names ``_id`` (e.g. in ``_id.$in``)."""
    def when(path, body):
        try:
            flt = body["query"]["filter"]["_id"]
        except (KeyError, TypeError):
            return False
        if isinstance(flt, Mapping):
            return int(_id) in [int(v) for v in flt.get("$in", [])] or flt.get("$eq") == int(_id)
        return flt == int(_id)
    return when


def query_type_is(*types: str) -> Callable[[str, Any], bool]:
    """Fault predicate: queries of these types."""
    return lambda path, body: isinstance(body, Mapping) and body.get("query_type") in types


# ------------------------------------------------------------------------------------------------
class Collection:
    """Documents of one catalog with an ``_id`` index and cached sky positions."""

    def __init__(self, docs: Iterable[Mapping] = ()):
        self.docs: list[dict] = []
        self.by_id: dict[Any, dict] = {}
        self._radec: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._eq: dict[str, dict] = {}
        self._pos: dict[int, int] = {}
        self.extend(docs)

    def extend(self, docs: Iterable[Mapping]) -> None:
        for d in docs:
            d = dict(d)
            if "_id" in d and d["_id"] in self.by_id:
                raise ValueError(f"duplicate _id {d['_id']}")
            self._pos[id(d)] = len(self.docs)
            self.docs.append(d)
            if "_id" in d:
                self.by_id[d["_id"]] = d
        self._radec = None
        self._eq = {}

    def candidates(self, filt: Mapping) -> list[dict]:
        """Documents that may match: narrowed by the ``_id`` index or by equality indexes on
        top-level scalar fields (``{"field": {"$eq": 202}}``), else every document."""
        filt = filt or {}
        cond = filt.get("_id", mongo._MISSING)
        if isinstance(cond, Mapping) and set(cond) == {"$in"} and isinstance(cond["$in"], list):
            hits = {id(d): d for d in (self.by_id.get(v) for v in cond["$in"]) if d is not None}
            return sorted(hits.values(), key=lambda d: self._pos[id(d)])
        if cond is not mongo._MISSING and not isinstance(cond, Mapping):
            d = self.by_id.get(cond)
            return [d] if d is not None else []
        chosen: set[int] | None = None
        for key, value in filt.items():
            if key.startswith("$") or "." in key:
                continue
            if isinstance(value, Mapping):
                if set(value) != {"$eq"}:
                    continue
                value = value["$eq"]
            if isinstance(value, (Mapping, list)):
                continue
            positions = self._equality_index(key).get(_hashable(value), set())
            chosen = set(positions) if chosen is None else chosen & positions
        if chosen is None:
            return self.docs
        return [self.docs[i] for i in sorted(chosen)]

    def _equality_index(self, key: str) -> dict:
        if key not in self._eq:
            index: dict = {}
            for i, d in enumerate(self.docs):
                if key in d and not isinstance(d[key], (Mapping, list)):
                    index.setdefault(_hashable(d[key]), set()).add(i)
            self._eq[key] = index
        return self._eq[key]

    def radec(self):
        """``(ra, dec, index)`` arrays of documents that have ``coordinates.radec_geojson``."""
        if self._radec is None:
            ra, dec, idx = [], [], []
            for i, d in enumerate(self.docs):
                try:
                    lon, lat = d["coordinates"]["radec_geojson"]["coordinates"]
                except (KeyError, TypeError, ValueError):
                    continue
                ra.append(float(lon) + 180.0)
                dec.append(float(lat))
                idx.append(i)
            self._radec = (np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float)),
                           np.asarray(idx, dtype=np.int64))
        return self._radec


def _hashable(value):
    # 202 and 202.0 are equal in MongoDB; True is not 1
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _find(coll: Collection, filt, projection, kwargs) -> list:
    docs = [d for d in coll.candidates(filt or {}) if mongo.matches(d, filt)]
    docs = mongo.sort_docs(docs, kwargs.get("sort"))
    docs = mongo.window(docs, kwargs.get("skip"), kwargs.get("limit"))
    return [mongo.project(d, projection) for d in docs]


def _as_mapping(value, what: str) -> dict:
    if value is None:
        return {}
    if isinstance(value, str):  # Kowalski also accepts Python-literal strings
        import ast
        value = ast.literal_eval(value)
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a dict")
    return dict(value)


def _parse_radec(radec) -> list[tuple[str, float, float]]:
    if isinstance(radec, Mapping):
        return [(str(k).replace(".", "_"), float(v[0]), float(v[1])) for k, v in radec.items()]
    if isinstance(radec, list):
        return [(str([r, d]).replace(".", "_"), float(r), float(d)) for r, d in radec]
    if isinstance(radec, str):
        parts = radec.split()
        if len(parts) != 2:
            raise ValueError("unrecognized radec string")
        r, d = float(parts[0]), float(parts[1])
        return [(str([r, d]).replace(".", "_"), r, d)]
    raise ValueError("unsupported radec form")


def _separations(ra_rad: float, dec_rad: float, coll: Collection):
    ra, dec, idx = coll.radec()
    s = (np.sin((dec - dec_rad) / 2) ** 2 + np.cos(dec) * np.cos(dec_rad) * np.sin((ra - ra_rad) / 2) ** 2)
    return 2 * np.arcsin(np.sqrt(np.clip(s, 0, 1))), idx


class LoopbackKowalski(ThreadedService):
    """A Kowalski server on ``127.0.0.1`` backed by in-memory collections.

    Parameters
    ----------
    catalogs : mapping
        ``{catalog name: iterable of documents}``.
    users : mapping
        ``{username: password}`` accepted by ``/api/auth``.
    port : int
        0 picks a free port.

    Attributes
    ----------
    token : str
        A valid JWT for the first user (what tests put in config).
    log : list of dict
        Every request: ``{"path", "query_type", "catalogs", "status", "body"}``.
    """

    def __init__(self, catalogs: Mapping[str, Iterable[Mapping]] | None = None, *,
                 users: Mapping[str, str] | None = None, port: int = 0):
        self.collections: dict[str, Collection] = {n: Collection(d) for n, d in (catalogs or {}).items()}
        self.users = dict(users or {"admin": "admin-password"})
        self.secret = secrets.token_hex(16)
        self.token = make_jwt({"user_id": next(iter(self.users)), "created_at": "2024-01-01T00:00:00+00:00"},
                              self.secret)
        self.faults: list[Fault] = []
        self.log: list[dict] = []
        self._lock = threading.RLock()  # fault predicates may read the log while faults are checked
        self._port = port
        self._httpd: QuietServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    thread_name = "loopback-kowalski"

    def _handler(self):
        return _make_handler(self)

    def instance_spec(self, token: str | None = None) -> dict:
        """``{host, protocol, port, token}`` for ``kowalski.instances.<name>``."""
        return {"host": self.host, "protocol": "http", "port": self.port, "token": token or self.token}

    # -- data --------------------------------------------------------------------------------
    def add_catalog(self, name: str, docs: Iterable[Mapping]) -> None:
        with self._lock:
            self.collections.setdefault(name, Collection()).extend(docs)

    # -- faults ------------------------------------------------------------------------------
    def add_fault(self, kind: str, *, status: int = 500, delay: float = 0.0, times: int | None = None,
                  when: Callable[[str, Any], bool] | None = None, json_body: bool = False,
                  retry_after: str | None = None) -> Fault:
        """Inject a fault (see :class:`Fault`); returns it so tests can read ``hits``."""
        if kind not in ("status", "slow", "drop"):
            raise ValueError(f"unknown fault kind {kind}")
        fault = Fault(kind, status=status, delay=delay, times=times, when=when, json_body=json_body,
                      retry_after=retry_after)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _take_fault(self, path: str, body: Any) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.wants(path, body):
                    fault.hits += 1
                    return fault
        return None

    def queries(self, query_type: str | None = None) -> list[dict]:
        """Logged ``/api/queries`` requests (optionally of one type)."""
        with self._lock:
            return [e for e in self.log if e["path"] == "/api/queries"
                    and (query_type is None or e["query_type"] == query_type)]

    # -- query execution ---------------------------------------------------------------------
    def execute(self, body: Mapping) -> Any:
        """Run a ``/api/queries`` body and return ``data`` (raises on invalid queries)."""
        qtype = body.get("query_type")
        if qtype not in QUERY_TYPES:
            raise KeyError(f"query_type {qtype} not in {QUERY_TYPES}")
        query = _as_mapping(body.get("query"), "query")
        kwargs = _as_mapping(body.get("kwargs"), "kwargs")
        if "max_time_ms" in kwargs and int(kwargs["max_time_ms"]) < 1:
            raise ValueError("max_time_ms must be int >= 1")
        for cat in ([query["catalog"]] if "catalog" in query else []) + list(query.get("catalogs", {}) or {}):
            if cat in PROTECTED:
                raise ValueError("Protected collection")
        return getattr(self, f"_q_{qtype}")(query, kwargs)

    def _coll(self, name: str) -> Collection:
        return self.collections.get(name) or Collection()

    def _q_info(self, query, kwargs):
        command = query.get("command")
        if command not in INFO_COMMANDS:
            raise KeyError(f"command {command} not in {INFO_COMMANDS}")
        if command == "catalog_names":
            return sorted((c for c in self.collections if c not in PROTECTED), reverse=True)
        if command == "catalog_info":
            return {"ns": f"kowalski.{query['catalog']}", "count": len(self._coll(query["catalog"]).docs)}
        if command == "index_info":
            return {"_id_": {"v": 2, "key": [["_id", 1]]}}
        return {"db": "kowalski", "collections": len(self.collections)}

    def _q_find(self, query, kwargs):
        if "filter" not in query:
            raise KeyError("filter")
        return _find(self._coll(query["catalog"]), _as_mapping(query["filter"], "filter"),
                     _as_mapping(query.get("projection"), "projection"), kwargs)

    def _q_find_one(self, query, kwargs):
        if "filter" not in query:
            raise KeyError("filter")
        docs = _find(self._coll(query["catalog"]), _as_mapping(query["filter"], "filter"), None, {"limit": 1})
        return docs[0] if docs else None

    def _q_count_documents(self, query, kwargs):
        if "filter" not in query:
            raise KeyError("filter")
        filt = _as_mapping(query["filter"], "filter")
        coll = self._coll(query["catalog"])
        return sum(1 for d in coll.candidates(filt) if mongo.matches(d, filt))

    def _q_estimated_document_count(self, query, kwargs):
        return len(self._coll(query["catalog"]).docs)

    def _q_aggregate(self, query, kwargs):
        pipeline = query.get("pipeline")
        if not pipeline:
            raise ValueError("pipeline must be a non-empty list")
        docs = list(self._coll(query["catalog"]).docs)
        for stage in pipeline:
            (op, arg), = stage.items()
            if op in ("$unionWith", "$out", "$merge"):
                raise ValueError(f"Forbidden pipeline stage {op}")
            if op == "$match":
                docs = [d for d in docs if mongo.matches(d, arg)]
            elif op == "$project":
                docs = [mongo.project(d, arg) for d in docs]
            elif op == "$sort":
                docs = mongo.sort_docs(docs, list(arg.items()))
            elif op == "$skip":
                docs = docs[int(arg):]
            elif op == "$limit":
                docs = docs[:int(arg)]
            elif op == "$count":
                docs = [{arg: len(docs)}]
            elif op == "$group":
                docs = _group(docs, arg)
            else:
                raise ValueError(f"stage {op} not supported by the loopback server")
        return docs

    def _cone_like(self, radec, radius_rad, min_rad, catalogs, kwargs, *, sort_by_distance):
        objects = _parse_radec(radec)
        out: dict[str, dict[str, list]] = {}
        for cat, spec in (catalogs or {}).items():
            spec = _as_mapping(spec, "catalog spec")
            filt = _as_mapping(spec.get("filter"), "filter")
            proj = _as_mapping(spec.get("projection"), "projection")
            coll = self._coll(cat)
            out[cat] = {}
            for name, ra, dec in objects:
                sep, idx = _separations(math.radians(ra), math.radians(dec), coll)
                ok = (sep <= radius_rad) & (sep >= min_rad)
                hits = idx[ok]
                if sort_by_distance:
                    hits = hits[np.argsort(sep[ok], kind="stable")]
                docs = [coll.docs[i] for i in hits]
                docs = [d for d in docs if mongo.matches(d, filt)]
                docs = mongo.sort_docs(docs, kwargs.get("sort"))
                docs = mongo.window(docs, kwargs.get("skip"), kwargs.get("limit"))
                out[cat][name] = [mongo.project(d, proj) for d in docs]
        return out

    def _q_cone_search(self, query, kwargs):
        oc = _as_mapping(query.get("object_coordinates"), "object_coordinates")
        unit = oc.get("cone_search_unit", "arcsec")
        if unit not in UNITS_TO_RAD:
            raise Exception("Angular units not in ('arcsec', 'arcmin', 'deg', 'rad')")
        radius = float(oc["cone_search_radius"]) * UNITS_TO_RAD[unit]
        return self._cone_like(oc["radec"], radius, 0.0, query.get("catalogs"), kwargs, sort_by_distance=False)

    def _q_near(self, query, kwargs):
        unit = query.get("distance_units", "rad")
        if unit not in UNITS_TO_RAD:
            raise Exception("Angular units not in ('arcsec', 'arcmin', 'deg', 'rad')")
        # Kowalski's default max_distance is 1 arcmin in radians, then read in distance_units
        max_d = float(query.get("max_distance", math.radians(1 / 60))) * UNITS_TO_RAD[unit]
        min_d = float(query.get("min_distance", 0)) * UNITS_TO_RAD[unit]
        return self._cone_like(query["radec"], max_d, min_d, query.get("catalogs"), kwargs, sort_by_distance=True)

    def _q_drop(self, query, kwargs):
        raise ValueError("drop is not supported by the loopback server")

    def _q_skymap(self, query, kwargs):
        raise ValueError("skymap is not supported by the loopback server")


def _group(docs, spec):
    key = spec["_id"]
    groups: dict = {}
    for d in docs:
        if isinstance(key, str) and key.startswith("$"):
            vals = mongo.resolve(d, key[1:])
            k = vals[0] if vals else None
        elif isinstance(key, Mapping):
            k = tuple((n, (mongo.resolve(d, v[1:]) or [None])[0]) for n, v in key.items())
        else:
            k = key
        g = groups.setdefault(k, {"_id": dict(k) if isinstance(k, tuple) else k})
        for out_name, acc in spec.items():
            if out_name == "_id":
                continue
            (op, arg), = acc.items()
            if op != "$sum":
                raise ValueError(f"accumulator {op} not supported by the loopback server")
            inc = arg if isinstance(arg, (int, float)) else (mongo.resolve(d, arg[1:]) or [0])[0]
            g[out_name] = g.get(out_name, 0) + inc
    return list(groups.values())


def _make_handler(server: LoopbackKowalski):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "LoopbackKowalski/3.0.0"
        disable_nagle_algorithm = True  # headers and body go out as separate writes

        def log_message(self, fmt, *args):  # keep test output clean
            pass

        # -- plumbing ----------------------------------------------------------------------
        def _send(self, status: int, payload: Any = None, text: str | None = None, headers=None):
            if text is not None:
                raw, ctype = text.encode(), "text/plain; charset=utf-8"
            else:
                raw, ctype = relaxed_json(payload).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _error(self, status: int, message: str):
            self._send(status, {"status": "error", "message": message})

        def _read_body(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if length > MAX_BODY:
                return None, True
            try:
                return (json.loads(raw) if raw else None), False
            except json.JSONDecodeError:
                return ValueError("body is not JSON"), False

        def _apply_fault(self, path: str, body: Any) -> bool:
            fault = server._take_fault(path, body)
            if fault is None:
                return False
            if fault.kind == "slow":
                time.sleep(fault.delay)
                return False
            if fault.kind == "drop":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return True
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
            if fault.json_body:
                self._send(fault.status, {"status": "error", "message": "injected failure"}, headers=headers)
            else:
                self._send(fault.status, text=f"{fault.status} injected failure", headers=headers)
            return True

        def _authorized(self) -> tuple[bool, int, str]:
            header = self.headers.get("Authorization")
            if not header:
                return False, 401, "Unauthorized"
            token = header.split()[1] if "bearer" in header.lower() and len(header.split()) > 1 else header
            if check_jwt(token.strip(), server.secret) is None:
                return False, 400, "token is invalid"
            return True, 200, ""

        def _record(self, path, body, status):
            entry = {"path": path, "status": status, "body": body, "query_type": None, "catalogs": []}
            if isinstance(body, Mapping):
                entry["query_type"] = body.get("query_type")
                q = body.get("query") if isinstance(body.get("query"), Mapping) else {}
                entry["catalogs"] = ([q["catalog"]] if "catalog" in q else []) + list(q.get("catalogs") or {})
            with server._lock:
                server.log.append(entry)

        # -- routes ------------------------------------------------------------------------
        def do_GET(self):
            if self._apply_fault(self.path, None):
                self._record(self.path, None, -1)
                return
            if self.path.rstrip("/") != "":
                self._record(self.path, None, 404)
                self._error(404, "Not Found")
                return
            ok, status, message = self._authorized()
            self._record("/", None, status)
            if not ok:
                self._error(status, message)
                return
            self._send(200, {"status": "success", "message": "greetings from Kowalski!"})

        def do_POST(self):
            path = self.path.split("?")[0].rstrip("/")
            body, too_big = self._read_body()
            if too_big:
                self._record(path, None, 413)
                self._send(413, text="Request Entity Too Large")
                return
            if self._apply_fault(path, body):
                self._record(path, body, -1)
                return
            if path == "/api/auth":
                self._auth(body)
            elif path == "/api/queries":
                self._queries(body)
            else:
                self._record(path, body, 404)
                self._error(404, "Not Found")

        def _auth(self, body):
            body = body if isinstance(body, Mapping) else {}
            if not body.get("username"):
                self._error(400, "missing username")
                return
            if not body.get("password"):
                self._error(400, "missing password")
                return
            version = body.get("penquins.__version__")
            if version is not None and version not in SUPPORTED_PENQUINS:
                self._error(400, f"unsupported version of penquins: {version}")
                return
            if server.users.get(body["username"]) != body["password"]:
                self._record("/api/auth", None, 401)
                self._error(401, "Unauthorized")
                return
            token = make_jwt({"user_id": body["username"],
                              "created_at": dt.datetime.now(dt.timezone.utc).isoformat()}, server.secret)
            self._record("/api/auth", None, 200)
            self._send(200, {"status": "success", "token": token})

        def _queries(self, body):
            ok, status, message = self._authorized()
            if not ok:
                self._record("/api/queries", body, status)
                self._error(status, message)
                return
            if isinstance(body, Exception) or not isinstance(body, Mapping):
                self._record("/api/queries", None, 400)
                self._error(400, "ValueError: body is not a JSON object")
                return
            try:
                data = server.execute(body)
            except Exception as exc:  # noqa: BLE001 - Kowalski reports every failure as 400
                self._record("/api/queries", body, 400)
                self._error(400, f"{type(exc).__name__}: {exc}")
                return
            self._record("/api/queries", body, 200)
            self._send(200, {"status": "success", "message": "Successfully executed query", "data": data})

    return Handler


# a JSON string literal (left alone) or a bare non-finite number token (wrapped)
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|-Infinity|Infinity|NaN')


def relaxed_json(payload: Any) -> str:
    """MongoDB relaxed Extended JSON, as Kowalski sends it (``NaN`` -> ``{"$numberDouble": "NaN"}``).

    The standard-library encoder does the bulk (fast for large documents); non-finite numbers are
    then wrapped. Values it cannot encode (dates, ObjectIds) go through ``bson.json_util``.
    """
    try:
        text = json.dumps(payload, allow_nan=True)
    except TypeError:
        return dumps(payload, json_options=RELAXED_JSON_OPTIONS)
    return _TOKENS.sub(lambda m: m.group(0) if m.group(0)[0] == '"' else '{"$numberDouble": "%s"}' % m.group(0),
                       text)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for 'server down' tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


__all__ = ["LoopbackKowalski", "Fault", "mentions_id", "query_type_is", "free_port", "make_jwt", "check_jwt"]
