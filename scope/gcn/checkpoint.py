"""The light curves whose classifications were posted, per event type: ``gcn_sources_checkpoint.json``.

The reference's format::

    {"start_dt": "2024-01-05T12:00:00", "sources": {"gw": [ztf ids], "grb": [ztf ids]}}

A light curve is added only once its event's classifications were posted (the reference added it
when it was picked, before any work, so a failed run marked work as done). The whole checkpoint
starts over when ``start_dt`` is ``refresh_days`` or more in the past, in real elapsed days (the
reference compared ``timedelta.seconds``, the seconds within the last day, so it never refreshed).
Every change is written atomically; a file that cannot be read stops the run with one line rather
than being replaced.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Iterable

from scope.errors import DataError
from scope.tables import atomic_write

log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def utc_now() -> dt.datetime:
    """Now, as a naive UTC datetime (the checkpoint's time zone)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def age_days(start: dt.datetime, now: dt.datetime) -> float:
    """Elapsed days between two times, fractions included."""
    return (now - start).total_seconds() / 86400.0


class SourceCheckpoint:
    """What earlier runs posted; see the module docstring.

    Parameters
    ----------
    path : path-like
    refresh_days : float
        Start over when the checkpoint is at least this old.
    now : datetime, optional
        The current UTC time (for tests).
    """

    def __init__(self, path, *, refresh_days: float = 180.0, now: dt.datetime | None = None):
        self.path = Path(path)
        self.now = now or utc_now()
        self.refreshed = False
        self.start, self.sources = self.now, {}
        if self.path.exists():
            self.start, self.sources = self._read()
            age = age_days(self.start, self.now)
            if age >= float(refresh_days):
                log.info("checkpoint %s started %s, %.1f days ago (refresh after %g): starting over", self.path,
                         self.start.strftime(TIME_FORMAT), age, refresh_days)
                self.start, self.sources, self.refreshed = self.now, {}, True
                self.save()

    def _read(self) -> tuple[dt.datetime, dict[str, set[int]]]:
        try:
            data = json.loads(self.path.read_text())
            start = dt.datetime.strptime(str(data["start_dt"]), TIME_FORMAT)
            sources = {str(k): {int(i) for i in v} for k, v in (data.get("sources") or {}).items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataError(f"checkpoint {self.path} cannot be read ({type(exc).__name__}: {exc}); repair it, or "
                            "move it away to start over (sources already posted are not posted again)") from None
        return start, sources

    def done(self, key: str) -> set[int]:
        """Light curves already posted under ``key`` (an event type)."""
        return set(self.sources.get(key, set()))

    def add(self, key: str, ids: Iterable[int]) -> None:
        """Record light curves as posted under ``key`` and write the file."""
        ids = {int(i) for i in ids}
        if not ids - self.sources.get(key, set()):
            return
        self.sources.setdefault(key, set()).update(ids)
        self.save()

    def save(self) -> None:
        payload = {"start_dt": self.start.strftime(TIME_FORMAT),
                   "sources": {k: sorted(v) for k, v in sorted(self.sources.items())}}
        with atomic_write(self.path) as fh:
            json.dump(payload, fh, indent=1)
