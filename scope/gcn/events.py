"""The GCN events a run works on: one ``--dateobs``, or every event of the last ``--daysAgo`` days."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from scope.errors import DataError, QueryError
from scope.gcn.checkpoint import utc_now
from scope.services import fritz_payloads as fp

log = logging.getLogger(__name__)

PER_PAGE = 100
MAX_PAGES = 1000  # a guard against a server that never stops paging


@dataclass(frozen=True)
class GcnEvent:
    """One event as Fritz lists it."""

    dateobs: str
    tags: tuple[str, ...]
    aliases: tuple[str, ...] = ()

    @property
    def save_name(self) -> str:
        """The dateobs in file names (``:`` -> ``-``), as the reference's files."""
        return self.dateobs.replace(":", "-")

    def describe(self) -> str:
        alias = f" ({self.aliases[0]})" if self.aliases else ""
        return f"{self.dateobs}{alias}"


def _texts(values) -> tuple[str, ...]:
    out = []
    for v in values or []:
        text = v.get("text") if isinstance(v, dict) else v  # some SkyPortal versions list tag objects
        if text is not None:
            out.append(str(text))
    return tuple(out)


def _event(data: dict) -> GcnEvent:
    dateobs = str(data.get("dateobs") or "")
    parsed = fp.parse_timestamp(dateobs)
    if parsed is None:
        raise QueryError(f"Fritz listed a GCN event without a readable dateobs: {dateobs!r}")
    # kept as Fritz spells it: the localization query must name the event's own dateobs
    return GcnEvent(dateobs, _texts(data.get("tags")), _texts(data.get("aliases")))


def event_at(client, dateobs: str) -> GcnEvent:
    """The event at ``dateobs``.

    Raises
    ------
    DataError
        ``dateobs`` is not a time, or Fritz has no event then.
    """
    if fp.parse_timestamp(dateobs) is None:
        raise DataError(f"--dateobs must look like 2023-05-21T05:30:43, got '{dateobs}'")
    data = client.gcn_event(dateobs)
    if data is None:
        raise DataError(f"Fritz has no GCN event at {dateobs}")
    return _event(data)


def recent_events(client, days_ago: float, *, now: dt.datetime | None = None) -> list[GcnEvent]:
    """Every event since ``days_ago`` days before ``now``, newest first, each once."""
    start = (now or utc_now()) - dt.timedelta(days=float(days_ago))
    params = {"startDate": start.strftime("%Y-%m-%dT%H:%M:%S"), "numPerPage": PER_PAGE}
    seen: dict[str, GcnEvent] = {}
    page, total = 1, None
    while page <= MAX_PAGES:
        data = client.get("/api/gcn_event", {**params, "pageNumber": page})
        if not isinstance(data, dict) or "events" not in data:
            raise QueryError("Fritz GET /api/gcn_event: the reply has no 'events'")
        events = list(data["events"] or [])
        total = int(data.get("totalMatches") or 0) if total is None else total
        for e in events:
            event = _event(e)
            seen.setdefault(event.dateobs, event)
        if not events or page * PER_PAGE >= total:
            break
        page += 1
    return sorted(seen.values(), key=lambda e: e.dateobs, reverse=True)
