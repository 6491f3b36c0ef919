"""Fritz (SkyPortal) client on the project's HTTP base.

:class:`FritzClient` sends ``Authorization: token <token>`` (the token is registered for
redaction and never logged), a time-out on every request, retries with exponential backoff and
jitter on HTTP 429 (SkyPortal's nginx limiter answers with an HTML page and no ``Retry-After``),
5xx, time-outs and dropped connections, and a client-side throttle matching Fritz's limiter
(5 requests/s, burst 10). Request bodies and query strings come from
:mod:`scope.services.fritz_payloads`; replies are checked for the SkyPortal envelope.

Writes that SkyPortal would apply twice (posting classifications) are sent with
``idempotent=False``: a failure after which the server may have acted raises
:class:`~scope.errors.WriteOutcomeUnknown` instead of being repeated, and callers look at the
source before posting again. Writes that are safe to repeat (saving a source, upserting
photometry, comments and annotations that SkyPortal de-duplicates) are retried, and the
"already there" answers of a retried write are treated as success.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator, Mapping, Sequence

from scope.errors import ConfigError, DataError, QueryError
from scope.services import fritz_payloads as fp
from scope.services.http import RetryPolicy, ServiceSession

log = logging.getLogger(__name__)

_NOT_FOUND = (404,)
_ALREADY = ("already exists", "already saved", "already present")


class FritzClient:
    """Calls to one Fritz (SkyPortal) instance.

    Parameters
    ----------
    base_url : str
        ``protocol://host[:port]``.
    token : str
        A SkyPortal API token.
    timeout : float
        Seconds per request.
    policy : RetryPolicy, optional
    rate_limit : float, optional
        Requests per second (None/0: no client-side throttle).
    burst : int

    Attributes
    ----------
    session : ServiceSession
        ``session.requests_sent`` counts every HTTP request, retries included.
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 60.0, policy: RetryPolicy | None = None,
                 rate_limit: float | None = 5.0, burst: int = 10):
        if not token:
            raise ConfigError("no Fritz token: set fritz.token in config.yaml or $FRITZ_TOKEN")
        self.base_url = base_url.rstrip("/")
        self.session = ServiceSession(self.base_url, token, auth_scheme="token", timeout=timeout,
                                      policy=policy or RetryPolicy(max_retries=9, backoff_seconds=1.0,
                                                                   max_backoff_seconds=60.0, jitter=0.25),
                                      name="Fritz", rate_limit=rate_limit, burst=burst)
        self._instrument_ids: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"FritzClient({self.base_url})"

    @property
    def requests_sent(self) -> int:
        return self.session.requests_sent

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "FritzClient":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    # -- plumbing ------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping | None = None) -> Any:
        """``GET`` and return ``data`` of the success envelope."""
        body = self.session.request("GET", path, params=dict(params or {}))
        return fp.envelope_data(body, f"Fritz GET {path}")

    def write(self, method: str, path: str, payload: Mapping | None = None, *, idempotent: bool = True,
              tolerate_already: bool = False) -> Any:
        """Send a JSON body and return ``data``.

        With ``tolerate_already``, a 400 saying the thing already exists (what a retried write
        that had in fact succeeded gets back) returns None instead of raising.
        """
        try:
            body = self.session.request(method, path, json=fp.plain(dict(payload or {})), idempotent=idempotent)
        except QueryError as exc:
            if tolerate_already and any(s in str(exc).lower() for s in _ALREADY):
                log.debug("%s %s: already done (%s)", method, path, exc)
                return None
            raise
        return fp.envelope_data(body, f"Fritz {method} {path}")

    # -- sources -------------------------------------------------------------------------------
    def source(self, obj_id: str, *, include_labellers: bool = False) -> dict | None:
        """One source with classification groups and votes; None when absent or unreadable."""
        # older SkyPortal versions answered an unknown source with 400 instead of 404
        reply = self.session.send("GET", f"/api/sources/{obj_id}", accept=(400, 404),
                                  params=fp.query(includeLabellers=include_labellers or None))
        if reply.status in (400, 404):
            return None
        data = fp.envelope_data(reply.body, f"Fritz GET /api/sources/{obj_id}")
        return data or None

    def sources(self, params: Mapping) -> dict:
        """One page of ``GET /api/sources``: ``{sources, totalMatches, pageNumber, numPerPage}``."""
        data = self.get("/api/sources", params)
        if not isinstance(data, Mapping) or "sources" not in data:
            raise QueryError("Fritz GET /api/sources: the reply has no 'sources'")
        return data

    def iter_source_pages(self, params: Mapping, *, start_page: int = 1) -> Iterator[tuple[int, int, list]]:
        """``(page, n_pages, sources)`` for every page from ``start_page``.

        The page count comes from the first reply's ``totalMatches`` and (capped) ``numPerPage``;
        no empty trailing page is requested.
        """
        page = max(1, int(start_page))
        n_pages = None
        while n_pages is None or page <= n_pages:
            data = self.sources({**params, "pageNumber": str(page)})
            per_page = int(data.get("numPerPage") or params.get("numPerPage") or fp.MAX_PER_PAGE)
            n_pages = fp.page_count(int(data.get("totalMatches") or 0), per_page)
            if page > n_pages and not data["sources"]:
                return
            yield page, n_pages, list(data["sources"])
            page += 1

    def sources_near(self, ra: float, dec: float, radius_arcsec: float) -> list[dict]:
        """Sources within ``radius_arcsec`` (list mode: classification groups/votes may be empty)."""
        out: list[dict] = []
        for _, _, sources in self.iter_source_pages({**fp.cone_query(ra, dec, radius_arcsec),
                                                     "numPerPage": str(fp.MAX_PER_PAGE)}):
            out += sources
        return out

    def save_source(self, obj_id: str, ra: float, dec: float, group_ids) -> dict:
        """Create the source, or save an existing one to ``group_ids`` (SkyPortal re-saves)."""
        return self.write("POST", "/api/sources", fp.source_payload(obj_id, ra, dec, group_ids)) or {}

    def invite(self, obj_id: str, group_ids) -> None:
        """Save an existing source to more groups."""
        self.write("POST", "/api/source_groups", fp.source_groups_payload(obj_id, group_ids), tolerate_already=True)

    # -- photometry ----------------------------------------------------------------------------
    def instrument_id(self, name: str = "ZTF") -> int:
        """Id of the instrument called ``name`` (cached)."""
        if name not in self._instrument_ids:
            data = self.get("/api/instrument", fp.query(name=name))
            matches = [i for i in (data or []) if str(i.get("name")) == name]
            if not matches:
                raise DataError(f"Fritz has no instrument named '{name}' (--instrument-name)")
            self._instrument_ids[name] = int(matches[0]["id"])
        return self._instrument_ids[name]

    def put_photometry(self, payload: Mapping) -> list[int]:
        """Upsert photometry (split into packets SkyPortal accepts); returns the point ids."""
        ids: list[int] = []
        for part in fp.split_photometry(payload):
            data = self.write("PUT", "/api/photometry", part) or {}
            ids += [int(i) for i in data.get("ids", [])]
        return ids

    # -- annotations ---------------------------------------------------------------------------
    def annotations(self, obj_id: str) -> list[dict]:
        return list(self.get(f"/api/sources/{obj_id}/annotations") or [])

    def post_annotation(self, obj_id: str, origin: str, data: Mapping, group_ids=None) -> int | None:
        """Post an annotation; None when one with that origin already exists."""
        out = self.write("POST", f"/api/sources/{obj_id}/annotations",
                         fp.annotation_payload(origin, data, group_ids), tolerate_already=True)
        return None if out is None else out.get("annotation_id")

    def update_annotation(self, obj_id: str, annotation_id: int, data: Mapping, origin: str) -> None:
        self.write("PUT", f"/api/sources/{obj_id}/annotations/{int(annotation_id)}",
                   fp.annotation_update_payload(data, origin))

    def delete_annotation(self, obj_id: str, annotation_id: int) -> None:
        self.write("DELETE", f"/api/sources/{obj_id}/annotations/{int(annotation_id)}")

    # -- classifications -----------------------------------------------------------------------
    def post_classifications(self, items: Sequence[Mapping]) -> list[int]:
        """Post classifications in one batch; returns their ids.

        Not retried after an ambiguous failure (:class:`~scope.errors.WriteOutcomeUnknown`).
        SkyPortal commits batch items one by one, so after a :class:`QueryError` the items
        before the failing one are stored.
        """
        if not items:
            return []
        data = self.write("POST", "/api/classification", {"classifications": list(items)}, idempotent=False) or {}
        return [int(i) for i in data.get("classification_ids", [])]

    def delete_classification(self, classification_id: int, *, label: bool = False) -> None:
        """Delete one classification (gone already counts as done)."""
        try:
            self.write("DELETE", f"/api/classification/{int(classification_id)}", {"label": bool(label)})
        except QueryError as exc:
            if "cannot find" not in str(exc).lower():
                raise

    def delete_source_classifications(self, obj_id: str, *, label: bool = False) -> None:
        """Delete every classification of a source that the token may delete."""
        self.write("DELETE", f"/api/sources/{obj_id}/classifications", {"label": bool(label)})

    # -- comments ------------------------------------------------------------------------------
    def comments(self, obj_id: str) -> list[dict]:
        return list(self.get(f"/api/sources/{obj_id}/comments") or [])

    def post_comment(self, obj_id: str, payload: Mapping) -> int | None:
        """Post a comment (SkyPortal answers an identical repeat with the existing id)."""
        data = self.write("POST", f"/api/sources/{obj_id}/comments", payload) or {}
        return data.get("comment_id")

    # -- other ---------------------------------------------------------------------------------
    def post_taxonomy(self, payload: Mapping) -> int:
        data = self.write("POST", "/api/taxonomy", payload) or {}
        return int(data["taxonomy_id"])

    def taxonomies(self) -> list[dict]:
        return list(self.get("/api/taxonomy") or [])

    def gcn_event(self, dateobs: str) -> dict | None:
        """The GCN event at ``dateobs``; None when Fritz has none."""
        reply = self.session.send("GET", f"/api/gcn_event/{dateobs}", accept=_NOT_FOUND)
        if reply.status in _NOT_FOUND:
            return None
        return fp.envelope_data(reply.body, f"Fritz GET /api/gcn_event/{dateobs}")

    def groups(self) -> dict:
        return self.get("/api/groups")


def fritz_url(section: Mapping) -> str:
    """``protocol://host[:port]`` from the ``fritz`` config section."""
    host = section.get("host")
    if not host:
        raise ConfigError("fritz.host is not set")
    port = section.get("port")
    return f"{section.get('protocol') or 'https'}://{host}" + (f":{int(port)}" if port else "")


def client_from_config(cfg: Mapping) -> FritzClient:
    """A :class:`FritzClient` from the ``fritz`` config section (token: ``fritz.token`` or
    ``$FRITZ_TOKEN``, applied by :func:`scope.config.load_config`).

    Raises
    ------
    ConfigError
        No token, or no host.
    """
    section = cfg.get("fritz") or {}
    if not section.get("token"):
        raise ConfigError("no Fritz token: set fritz.token in config.yaml or $FRITZ_TOKEN")
    attempts = max(1, int(section.get("max_attempts") or 1))
    policy = RetryPolicy(max_retries=attempts - 1, backoff_seconds=max(0.0, float(section.get("sleep_time") or 0)),
                         max_backoff_seconds=60.0, jitter=0.25)
    return FritzClient(fritz_url(section), str(section["token"]), timeout=float(section.get("timeout") or 60),
                       policy=policy, rate_limit=float(section.get("rate_limit") or 0),
                       burst=int(section.get("rate_burst") or 1))


__all__ = ["FritzClient", "client_from_config", "fritz_url"]
