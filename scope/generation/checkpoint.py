"""Resumable runs: finished batches are kept as part files under a key that hashes the inputs."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from scope.tables import atomic_write, read_table, write_table

log = logging.getLogger(__name__)


def run_key(ids: np.ndarray, params: dict) -> str:
    """SHA-256 of the ordered ids and the parameters that change results."""
    h = hashlib.sha256()
    h.update(np.asarray(ids, dtype=np.int64).tobytes())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    return h.hexdigest()


class Checkpoint:
    """Part files and a manifest in one folder.

    Parameters
    ----------
    folder : path-like
        Where parts live (created on first save).
    key : str
        :func:`run_key` of this run. Parts written under another key are discarded.
    """

    def __init__(self, folder: Path, key: str):
        self.folder = Path(folder)
        self.key = key
        self.manifest = self.folder / "manifest.json"

    def done(self, restart: bool = False) -> set[int]:
        """Indices of batches already finished by an earlier run with the same key."""
        if restart:
            self.clear()
            return set()
        for tmp in self.folder.glob(".*.tmp*") if self.folder.is_dir() else []:
            tmp.unlink(missing_ok=True)  # a part or manifest whose writer was killed
        if not self.manifest.exists():
            return set()
        try:
            meta = json.loads(self.manifest.read_text())
        except json.JSONDecodeError:
            log.warning("unreadable checkpoint manifest %s; starting over", self.manifest)
            self.clear()
            return set()
        if meta.get("key") != self.key:
            log.warning("checkpoint in %s belongs to other inputs or parameters; starting over", self.folder)
            self.clear()
            return set()
        return {int(k) for k in meta.get("done", []) if (self.folder / f"part_{int(k):05d}.parquet").exists()}

    def save(self, index: int, part: pd.DataFrame, done: set[int]) -> None:
        """Write batch ``index`` and record it as finished (part first, then the manifest)."""
        write_table(part, self.folder / f"part_{index:05d}.parquet")
        done.add(index)
        with atomic_write(self.manifest) as fh:
            json.dump({"key": self.key, "done": sorted(done)}, fh)

    def load(self, index: int) -> pd.DataFrame:
        return read_table(self.folder / f"part_{index:05d}.parquet")

    def clear(self) -> None:
        if self.folder.exists():
            shutil.rmtree(self.folder)
