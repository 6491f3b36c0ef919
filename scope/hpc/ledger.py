"""The submission loop's record of what it submitted: job ids per work item, and a lock.

``<script folder>/jobs.json`` lists, for every work item (a quadrant-file row, a class tag, a field),
its attempts: the Slurm job id (``123_4`` for an array task), when it was submitted, the resources it
asked for, and the final state once Slurm reported one. Job *states* are never stored as truth: a
rerun asks Slurm about every attempt that had not ended. The file is rewritten atomically after
every change.

``jobs.lock`` is held (``flock``) by the loop that is running, so a second loop started by cron or by
hand while one is running does nothing instead of submitting the same work twice.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from scope.errors import DataError
from scope.tables import atomic_write

log = logging.getLogger(__name__)

VERSION = 1


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Attempt:
    """One submission (or one local run) of a work item."""

    job: str                      # Slurm job id, or "local"
    submitted: str
    state: str = "SUBMITTED"      # last state seen; final once ended
    ended: bool = False
    failed: bool = False          # ended without a verified output
    memory_gb: float | None = None
    time: str | None = None
    log_out: str | None = None
    log_err: str | None = None
    reason: str = ""

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != "" and v is not False}

    @classmethod
    def from_json(cls, data: dict) -> "Attempt":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class ItemRecord:
    """Everything the loop did for one work item."""

    attempts: list[Attempt] = field(default_factory=list)
    done: bool = False

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def failures(self) -> int:
        return sum(1 for a in self.attempts if a.failed)


class Ledger:
    """``jobs.json`` of one script folder (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / "jobs.json"
        self.items: dict[str, ItemRecord] = {}
        self.arrays: dict[str, dict] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read the submission record {self.path}: {exc}; move it away to start afresh "
                            "(jobs still queued would then be submitted again)") from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise DataError(f"{self.path} is not a submission record of this SCoPe version")
        for key, rec in (data.get("items") or {}).items():
            self.items[str(key)] = ItemRecord(attempts=[Attempt.from_json(a) for a in rec.get("attempts", [])],
                                              done=bool(rec.get("done")))
        self.arrays = {str(k): dict(v) for k, v in (data.get("arrays") or {}).items()}

    def record(self, key: str) -> ItemRecord:
        return self.items.setdefault(str(key), ItemRecord())

    def save(self) -> None:
        data = {"version": VERSION, "updated": now(),
                "items": {k: {"done": r.done, "attempts": [a.to_json() for a in r.attempts]}
                          for k, r in self.items.items()},
                "arrays": self.arrays}
        with atomic_write(self.path) as fh:
            json.dump(data, fh, indent=1, sort_keys=True)


class LoopLock:
    """An exclusive, non-blocking lock on ``jobs.lock`` (or ``name``) for the life of one loop.

    ``acquire()`` returns False (and names the holder's pid in :attr:`holder`) when another loop
    holds it. The lock goes with the process, so a killed loop never leaves it behind.
    """

    def __init__(self, folder: str | os.PathLike, name: str = "jobs.lock"):
        self.path = Path(folder) / name
        self._fh = None
        self.holder: str = ""

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            self.holder = fh.read().strip()
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "LoopLock":
        return self

    def __exit__(self, *exc) -> bool:
        self.release()
        return False
