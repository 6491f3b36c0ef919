"""Kowalski client: the real ``penquins`` library under SCoPe's service rules.

:class:`KowalskiClient` holds one ``penquins.Kowalski`` connection per configured instance,
opened on first use (never at import). It adds what the reference lacked:

* a query goes to the instance whose catalog list names its catalog; a cone or near search over
  catalogs living on different instances is split and the answers merged;
* failed requests (HTTP 429/5xx, refused or dropped connections, time-outs) are retried with
  exponential backoff, then raise a :class:`~scope.errors.ServiceError` subclass - a lost query
  is never dropped silently, and chunked look-ups report the ids they lost
  (:class:`LostIdsError`);
* batches run on a bounded thread pool and come back in request order;
* a refused token is a one-line :class:`~scope.errors.AuthError`, a server that is down a
  one-line :class:`~scope.errors.ServiceUnavailable`; tokens never appear in logs or messages.

Replies are decoded from MongoDB Extended JSON by penquins (``NaN`` arrives as ``float('nan')``).
penquins' own retries are switched off (``max_retries=0``) so that the policy lives in one place
(:mod:`scope.services.http`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from scope.errors import AuthError, ConfigError, QueryError, ServiceError, ServiceUnavailable
from scope.services import kowalski_payloads as kp
from scope.services.http import (Outcome, RetryPolicy, TransientFailure, call_with_retries, classify_exception,
                                 one_line, register_secret, run_bounded)

log = logging.getLogger(__name__)

#: reference instance names whose host defaults to ``<name>.caltech.edu`` when none is configured
LEGACY_INSTANCES = ("kowalski", "gloria", "melman")
_AUTH_MESSAGES = ("token is invalid", "token has expired", "unauthorized", "authentication failed",
                  "wrong credentials")
# Server-side errors that another attempt may cure (query time limits, a replica re-electing).
_TRANSIENT_MESSAGES = ("executiontimeout", "exceeded time limit", "networktimeout", "autoreconnect",
                       "notprimary", "serverselectiontimeout")
_SPEC_KEYS = ("protocol", "host", "port", "token", "username", "password")


class LostIdsError(QueryError):
    """Some ids could not be fetched after all retries.

    Attributes
    ----------
    lost_ids : numpy.ndarray
        The ids whose queries failed.
    documents : list of dict
        Documents of the chunks that did succeed (so callers may keep partial work).
    """

    def __init__(self, message: str, lost_ids: Iterable[int], documents: list | None = None):
        super().__init__(message)
        self.lost_ids = np.asarray(list(lost_ids), dtype=np.int64)
        self.documents = documents or []


class BatchQueryError(QueryError):
    """Some queries of a batch failed after all retries.

    Attributes
    ----------
    outcomes : list of Outcome
        One per query, in request order.
    """

    def __init__(self, message: str, outcomes: list[Outcome]):
        super().__init__(message)
        self.outcomes = outcomes

    @property
    def failed(self) -> list[int]:
        """Positions of the failed queries."""
        return [i for i, o in enumerate(self.outcomes) if not o.ok]


def format_ids(ids: Iterable[int], shown: int = 10) -> str:
    """``"1, 2, 3, ... (1000 ids)"``: ids for a one-line message."""
    ids = [int(i) for i in ids]
    head = ", ".join(str(i) for i in ids[:shown])
    return head if len(ids) <= shown else f"{head}, ... ({len(ids)} ids)"


def _is_auth_message(message: str) -> bool:
    m = message.lower()
    return any(s in m for s in _AUTH_MESSAGES)


def _is_transient_message(message: str) -> bool:
    m = message.lower().replace(" ", "")
    return any(s.replace(" ", "") in m for s in _TRANSIENT_MESSAGES)


class KowalskiClient:
    """Queries against one or several Kowalski instances.

    Parameters
    ----------
    instances : mapping
        ``{name: {host, protocol, port, token | username + password}}``. Hosts are full host
        names. Each instance needs a token or a username and password.
    timeout : float
        Seconds per request.
    policy : RetryPolicy, optional
        Retries and backoff (default: 3 retries from 1 s).
    max_threads : int
        Requests in flight at once in batches.
    positions_per_query : int
        Positions per cone/near request (keeps bodies well under Kowalski's 1 MiB limit).

    Notes
    -----
    Connections open on the first query. ``with KowalskiClient(...) as k:`` closes them.
    """

    def __init__(self, instances: Mapping[str, Mapping], *, timeout: float = 300.0,
                 policy: RetryPolicy | None = None, max_threads: int = 4, positions_per_query: int = 500):
        if not instances:
            raise ConfigError("no Kowalski instance configured: set kowalski.instances.<name> in config.yaml")
        self.specs: dict[str, dict] = {}
        for name, spec in instances.items():
            spec = {k: v for k, v in dict(spec or {}).items() if k in _SPEC_KEYS and v is not None}
            if not spec.get("host"):
                raise ConfigError(f"kowalski.instances.{name}.host is missing")
            if not spec.get("token") and not (spec.get("username") and spec.get("password")):
                raise ConfigError(f"Kowalski instance '{name}' needs a token or a username and password "
                                  f"(kowalski.instances.{name}, or ${token_variable(name)})")
            register_secret(spec.get("token"))
            register_secret(spec.get("password"))
            spec.setdefault("protocol", "https")
            spec.setdefault("port", 443)
            self.specs[str(name)] = spec
        self.timeout = float(timeout)
        self.policy = policy or RetryPolicy()
        self.max_threads = max(1, int(max_threads))
        self.positions_per_query = max(1, int(positions_per_query))
        self._conns: dict[str, Any] = {}
        self._catalogs: dict[str, list[str]] = {}
        self._down: dict[str, ServiceError] = {}
        self._lock = threading.Lock()

    # -- connection --------------------------------------------------------------------------
    def url(self, name: str) -> str:
        """``protocol://host:port`` of an instance (no credentials)."""
        s = self.specs[name]
        return f"{s['protocol']}://{s['host']}:{s['port']}"

    def __repr__(self) -> str:
        return f"KowalskiClient({', '.join(f'{n}={self.url(n)}' for n in self.specs)})"

    def connect(self) -> "KowalskiClient":
        """Open every instance (idempotent).

        An instance that cannot be reached is left out with a warning as long as another one
        answers; a refused credential is always an error.

        Raises
        ------
        AuthError
            An instance refused its token or password.
        ServiceUnavailable
            No instance could be reached.
        """
        with self._lock:
            if self._conns or self._down:
                return self
            for name in self.specs:
                try:
                    self._conns[name], self._catalogs[name] = self._open(name)
                except ServiceUnavailable as exc:
                    self._down[name] = exc
            if not self._conns:
                errors = list(self._down.values())
                self._down.clear()  # let a later call try again
                raise errors[0] if len(errors) == 1 else ServiceUnavailable(
                    "no Kowalski instance could be reached: " + "; ".join(str(e) for e in errors))
            for name, exc in self._down.items():
                log.warning("Kowalski instance '%s' left out: %s", name, exc)
        return self

    def _open(self, name: str):
        from penquins import Kowalski

        spec = self.specs[name]
        what = f"connecting to Kowalski instance '{name}' at {self.url(name)}"

        def attempt():
            try:
                return Kowalski(instances={name: dict(spec, timeout=self.timeout)}, timeout=self.timeout,
                                max_retries=0, pool_maxsize=max(10, self.max_threads),
                                pool_connections=max(10, self.max_threads), verbose=False)
            except ValueError as exc:
                cause = exc.__context__ or exc
                failure = classify_exception(cause)
                if failure is not None:
                    raise failure from None
                text = str(cause)
                if _is_auth_message(text):
                    raise AuthError(one_line(f"Kowalski instance '{name}' at {self.url(name)} refused the "
                                             f"username/password: check kowalski.instances.{name}")) from None
                raise ServiceError(one_line(f"{what} failed: {text}")) from None

        log.debug("%s", what)
        conn = call_with_retries(attempt, self.policy, what=what)
        catalogs = list(conn.instances[name].get("catalogs") or [])
        if not catalogs:
            # penquins swallows an error reply to its catalog listing: ask again to learn why
            catalogs = self._send(conn, name, kp.info(), what=f"listing catalogs of '{name}'") or []
            conn.instances[name]["catalogs"] = list(catalogs)  # penquins checks its own copy
        log.debug("Kowalski instance '%s' lists %d catalogs", name, len(catalogs))
        return conn, [str(c) for c in catalogs]

    def catalogs(self) -> dict[str, list[str]]:
        """Catalog names per reachable instance."""
        self.connect()
        return {n: list(c) for n, c in self._catalogs.items()}

    def instance_for(self, catalog: str) -> str:
        """The first instance (in config order) that lists ``catalog``.

        Raises
        ------
        QueryError
            No reachable instance has it.
        """
        self.connect()
        for name in self.specs:
            if catalog in self._catalogs.get(name, ()):
                return name
        if self._down:
            down = "; ".join(f"{n}: {e}" for n, e in self._down.items())
            raise ServiceUnavailable(one_line(f"catalog {catalog} is not on any reachable Kowalski instance "
                                              f"(unreachable: {down})"))
        listing = ", ".join(f"{n} ({len(c)} catalogs)" for n, c in self._catalogs.items())
        raise QueryError(f"catalog {catalog} is not available on any Kowalski instance ({listing})")

    def close(self) -> None:
        """Close every open session."""
        with self._lock:
            for conn in self._conns.values():
                try:
                    conn.close_all()
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass
            self._conns.clear()
            self._catalogs.clear()
            self._down.clear()

    def __enter__(self) -> "KowalskiClient":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    # -- single queries ----------------------------------------------------------------------
    def _route(self, payload: Mapping, name: str | None) -> str:
        if name is not None:
            self.connect()
            if name not in self._conns:
                if name in self._down:
                    raise self._down[name]
                raise ConfigError(f"unknown Kowalski instance '{name}' (configured: {', '.join(self.specs)})")
            return name
        catalogs = kp.catalogs_of(payload)
        if not catalogs:
            self.connect()
            return next(iter(self._conns))
        names = {self.instance_for(c) for c in catalogs}
        if len(names) > 1:
            raise QueryError(f"catalogs {', '.join(catalogs)} live on different instances; "
                             "use cone_search/near, which split such queries")
        return names.pop()

    def _send(self, conn, name: str, payload: Mapping, *, what: str) -> Any:
        def attempt():
            try:
                reply = conn.query(query=payload, name=name)
            except Exception as exc:  # noqa: BLE001 - classified below
                failure = classify_exception(exc)
                if failure is not None:
                    raise failure from None
                if isinstance(exc, ValueError):
                    raise QueryError(one_line(f"{what} refused by penquins: {exc}")) from None
                raise
            response = reply.get(name) if isinstance(reply, Mapping) else None
            if not isinstance(response, Mapping):
                raise TransientFailure("empty reply")
            if response.get("status") == "success":
                return response.get("data")
            message = str(response.get("message") or "no message")
            if _is_auth_message(message):
                raise AuthError(one_line(
                    f"Kowalski instance '{name}' at {self.url(name)} refused the token ({message}): check "
                    f"kowalski.instances.{name}.token or ${token_variable(name)}"))
            if _is_transient_message(message):
                raise TransientFailure(message)
            raise QueryError(one_line(f"{what} failed: {message}"))

        return call_with_retries(attempt, self.policy, what=what)

    def query(self, payload: Mapping, *, name: str | None = None) -> Any:
        """Send one payload (see :mod:`scope.services.kowalski_payloads`) and return its ``data``.

        Raises
        ------
        AuthError, ServiceUnavailable, QueryError
        """
        target = self._route(payload, name)
        what = _describe(payload, target)
        log.debug("%s", what)
        return self._send(self._conns[target], target, payload, what=what)

    def query_outcomes(self, payloads: Sequence[Mapping], *, name: str | None = None) -> list[Outcome]:
        """Send payloads in parallel (bounded); one :class:`Outcome` per payload, in order."""
        self.connect()
        return run_bounded(lambda p: self.query(p, name=name), payloads, self.max_threads)

    def query_batch(self, payloads: Sequence[Mapping], *, name: str | None = None) -> list[Any]:
        """Like :meth:`query_outcomes` but returns the data and raises if any query failed.

        Raises
        ------
        AuthError
            A credential was refused.
        BatchQueryError
            Some queries failed after retries (``.outcomes`` keeps the successful ones).
        """
        outcomes = self.query_outcomes(payloads, name=name)
        _raise_for_outcomes(outcomes)
        return [o.value for o in outcomes]

    # -- conveniences ------------------------------------------------------------------------
    def find(self, catalog: str, filter: Mapping | None = None, projection: Mapping | None = None,  # noqa: A002
             **kwargs) -> list[dict]:
        """Documents of ``catalog`` matching ``filter`` (kwargs: skip, limit, sort, max_time_ms)."""
        return list(self.query(kp.find(catalog, filter, projection, **kwargs)) or [])

    def find_one(self, catalog: str, filter: Mapping | None = None) -> dict | None:  # noqa: A002
        """One whole document or ``None``."""
        return self.query(kp.find_one(catalog, filter))

    def count_documents(self, catalog: str, filter: Mapping | None = None) -> int:  # noqa: A002
        """Number of documents matching ``filter``."""
        return int(self.query(kp.count_documents(catalog, filter)) or 0)

    def find_by_ids(self, catalog: str, ids: Iterable[int], projection: Mapping | None = None, *,
                    chunk_size: int = 1000, extra_filter: Mapping | None = None) -> list[dict]:
        """Documents whose ``_id`` is in ``ids``, fetched in parallel chunks of ``chunk_size``.

        Ids absent from the catalog are simply absent from the result.

        Raises
        ------
        LostIdsError
            Some chunks failed after retries; the message names their ids, ``.documents`` holds
            what the other chunks returned.
        """
        ids = np.unique(np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), dtype=np.int64))
        if len(ids) == 0:
            return []
        chunk_size = max(1, int(chunk_size))
        chunks = [ids[i:i + chunk_size] for i in range(0, len(ids), chunk_size)]
        payloads = [kp.find(catalog, {**kp.ids_filter(c), **dict(extra_filter or {})}, projection)
                    for c in chunks]
        outcomes = self.query_outcomes(payloads)
        docs = [d for o in outcomes if o.ok for d in (o.value or [])]
        failed = [i for i, o in enumerate(outcomes) if not o.ok]
        if failed:
            _raise_auth(outcomes)
            lost = np.concatenate([chunks[i] for i in failed])
            cause = outcomes[failed[0]].error
            raise LostIdsError(one_line(
                f"{len(lost)} of {len(ids)} ids could not be fetched from {catalog} ({cause}); lost ids: "
                f"{format_ids(lost)}", 600), lost, docs)
        return docs

    def cone_search(self, ra: Sequence[float], dec: Sequence[float], radius_arcsec: float,
                    catalogs: Mapping[str, Mapping | None] | Iterable[str], *, limit: int | None = None,
                    near: bool = False) -> dict[str, list[list[dict]]]:
        """Matches around each position: ``{catalog: [docs of position 0, docs of position 1, ...]}``.

        Positions go in chunks of ``positions_per_query`` under opaque keys, so any object name
        round-trips; catalogs on different instances are queried separately and merged.

        Parameters
        ----------
        ra, dec : sequences of float
            Degrees.
        radius_arcsec : float
        catalogs : mapping or iterable
            ``{catalog: {"filter": ..., "projection": ...}}`` or just names.
        limit : int, optional
            Matches per position per catalog.
        near : bool
            Use ``near`` (results sorted by distance) instead of ``cone_search``.

        Raises
        ------
        BatchQueryError
            A chunk failed after retries (its positions are named).
        """
        ra = np.atleast_1d(np.asarray(ra, dtype=float))
        dec = np.atleast_1d(np.asarray(dec, dtype=float))
        specs = {c: spec for c, spec in (catalogs.items() if isinstance(catalogs, Mapping)
                                         else ((c, None) for c in catalogs))}
        groups: dict[str, dict] = {}
        for catalog, spec in specs.items():
            groups.setdefault(self.instance_for(catalog), {})[catalog] = spec
        step = self.positions_per_query
        jobs = []
        for name, cats in groups.items():
            for start in range(0, len(ra), step):
                r, d = ra[start:start + step], dec[start:start + step]
                payload = (kp.near(r, d, radius_arcsec, cats, limit=limit) if near
                           else kp.cone_search(r, d, radius_arcsec, cats, limit=limit))
                jobs.append((name, start, len(r), payload))
        outcomes = run_bounded(lambda job: self.query(job[3], name=job[0]), jobs, self.max_threads)
        failed = [j for j, o in zip(jobs, outcomes) if not o.ok]
        if failed:
            _raise_auth(outcomes)
            first = next(o.error for o in outcomes if not o.ok)
            where = ", ".join(f"positions {s}-{s + n - 1}" for _, s, n, _ in failed[:5])
            raise BatchQueryError(one_line(f"{'near' if near else 'cone'} search on "
                                           f"{', '.join(specs)} failed for {where} ({first})"), outcomes)
        out: dict[str, list[list[dict]]] = {c: [[] for _ in range(len(ra))] for c in specs}
        for (name, start, n, _), o in zip(jobs, outcomes):
            for catalog, rows in kp.decode_matches(o.value, n).items():
                if catalog in out:
                    out[catalog][start:start + n] = rows
        return out


def _describe(payload: Mapping, name: str) -> str:
    catalogs = kp.catalogs_of(payload)
    on = f" on {', '.join(catalogs)}" if catalogs else ""
    return f"Kowalski {payload.get('query_type', 'query')}{on} ({name})"


def _raise_auth(outcomes: Sequence[Outcome]) -> None:
    for o in outcomes:
        if isinstance(o.error, AuthError):
            raise o.error


def _raise_for_outcomes(outcomes: Sequence[Outcome]) -> None:
    failed = [i for i, o in enumerate(outcomes) if not o.ok]
    if not failed:
        return
    _raise_auth(outcomes)
    errors = [outcomes[i].error for i in failed]
    if all(isinstance(e, ServiceUnavailable) for e in errors) and len(failed) == len(outcomes):
        raise errors[0]
    raise BatchQueryError(one_line(f"{len(failed)} of {len(outcomes)} Kowalski queries failed after retries "
                                   f"(queries #{', #'.join(str(i) for i in failed[:10])}): {errors[0]}"),
                          list(outcomes))


# ------------------------------------------------------------------------------------------------
def token_variable(name: str) -> str:
    """Environment variable that overrides an instance's token (``KOWALSKI_<NAME>_TOKEN``)."""
    return f"KOWALSKI_{str(name).upper()}_TOKEN"


def instance_specs(cfg: Mapping) -> dict[str, dict]:
    """Instances with credentials from ``kowalski.instances``, with protocol/port defaults applied.

    Raises
    ------
    ConfigError
        An instance lacks a host (other than the reference names kowalski, gloria and melman,
        whose host defaults to ``<name>.caltech.edu``).
    """
    section = cfg.get("kowalski") or {}
    out: dict[str, dict] = {}
    for name, spec in (section.get("instances") or {}).items():
        spec = dict(spec or {})
        if not spec.get("token") and not (spec.get("username") and spec.get("password")):
            log.debug("Kowalski instance '%s' has no credentials; skipped", name)
            continue
        if not spec.get("host"):
            if name not in LEGACY_INSTANCES:
                raise ConfigError(f"kowalski.instances.{name}.host is missing (give the full host name)")
            spec["host"] = f"{name}.caltech.edu"
        spec.setdefault("protocol", section.get("protocol", "https"))
        spec.setdefault("port", section.get("port", 443))
        if spec.get("protocol") is None:
            spec["protocol"] = section.get("protocol", "https")
        if spec.get("port") is None:
            spec["port"] = section.get("port", 443)
        out[str(name)] = spec
    return out


def client_from_config(cfg: Mapping) -> KowalskiClient:
    """A :class:`KowalskiClient` for every configured instance that has credentials.

    Uses ``kowalski.timeout``, ``kowalski.max_retries``, ``kowalski.backoff_seconds`` and
    ``kowalski.max_threads``. Nothing connects until the first query.

    Raises
    ------
    ConfigError
        No instance has credentials.
    """
    section = cfg.get("kowalski") or {}
    specs = instance_specs(cfg)
    if not specs:
        raise ConfigError("no Kowalski instance has credentials: set kowalski.instances.<name>.token (or "
                          "username and password) in config.yaml, or $KOWALSKI_<NAME>_TOKEN")
    return KowalskiClient(specs, timeout=float(section.get("timeout", 300)),
                          policy=RetryPolicy.from_config(section),
                          max_threads=int(section.get("max_threads", 4)))


__all__ = ["KowalskiClient", "LostIdsError", "BatchQueryError", "client_from_config", "instance_specs",
           "token_variable", "format_ids"]
