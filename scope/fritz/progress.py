"""An append-only progress log: which rows of a long run are finished, surviving a kill.

One JSON object per line, flushed and synced as rows finish; the first line records the run's
key (input fingerprint + options). A rerun with the same key skips the rows already listed; a
different key, or ``restart``, starts a new log. A line cut short by a kill is ignored. Appending
costs the same for row 10 and row 10 million (rewriting a results file after every batch, as the
reference did, grows quadratically).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Iterable, Mapping

log = logging.getLogger(__name__)


class ProgressLog:
    """Rows finished by earlier attempts of the same run, and a handle to record more.

    Parameters
    ----------
    path : path-like
    key : str
        Identifies the run (see :func:`scope.fritz.common.fingerprint`).
    restart : bool
        Forget earlier progress.
    """

    def __init__(self, path, key: str, *, restart: bool = False):
        self.path = Path(path)
        self.key = key
        self.done: dict[int, dict] = {}
        if self.path.exists() and not restart and self._header_matches():
            self.done = self._read()
        else:
            if self.path.exists() and not restart:
                log.info("progress in %s belongs to another input or other options; starting over", self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "w", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key}) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        self._fh = open(self.path, "a", encoding="utf-8")

    def _header_matches(self) -> bool:
        try:
            with open(self.path, encoding="utf-8") as fh:
                return json.loads(fh.readline()).get("key") == self.key
        except (OSError, ValueError):
            return False

    def _read(self) -> dict[int, dict]:
        out: dict[int, dict] = {}
        with open(self.path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        try:
            header = json.loads(lines[0]) if lines else {}
        except ValueError:
            header = {}
        if header.get("key") != self.key:
            return {}
        for line in lines[1:]:
            try:
                entry = json.loads(line)
                out[int(entry["row"])] = entry
            except (ValueError, KeyError, TypeError):
                continue  # cut short by a kill
        return out

    def record(self, entries: Iterable[Mapping]) -> None:
        """Append finished rows (each a mapping with ``row``) and sync them to disk."""
        entries = list(entries)
        text = "".join(json.dumps(dict(e), default=str) + "\n" for e in entries)
        if not text:
            return
        self._fh.write(text)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        for e in entries:
            self.done[int(e["row"])] = dict(e)

    def close(self) -> None:
        self._fh.close()
