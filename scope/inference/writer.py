"""Streaming writers of prediction files: parquet (+ CSV) and the flagged-ids JSON.

Rows are appended batch by batch, so memory stays bounded whatever the field size. Everything is
written to hidden temporary files beside the targets and renamed into place on :meth:`close`
(an interrupted run leaves the previous file untouched). The parquet file carries the
reference's metadata convention: JSON of ``DataFrame.attrs`` under the schema key ``scope``
(readable with :func:`scope.tables.read_table`).

A writer holds an exclusive ``flock`` on each of its temporary files while it lives, so a later
run can tell the leftovers of a killed run (nobody holds their lock) from the files of a run in
progress, and :func:`remove_stale_temps` deletes only the former.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


#: temporary files of these writers: ``.<target name>.<random>.tmp`` for prediction tables, their
#: CSV twins and flagged-id lists (other atomic writes use other patterns and are left alone)
_TEMP_RE = re.compile(r"^\.(?P<target>.+(?:\.parquet|\.csv|_flagged\.json))\.[^.]+\.tmp$")


class _Temp:
    """A hidden temporary file beside ``path``, locked for as long as this object lives."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.fd = fd
        self.path = Path(tmp)

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)  # closing the descriptor drops the lock
            self.fd = None

    def publish(self, final: Path) -> None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.path, 0o666 & ~umask)
        if final.exists():
            log.info("replacing %s", final)
        os.replace(self.path, final)
        self.release()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        self.release()


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete the temporary files that killed runs left in ``folder``; return them.

    A temporary file whose lock can be taken belongs to no living writer. Files of writers still
    running (another job writing into the same folder) are locked and kept.
    """
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for p in sorted(folder.iterdir()):
        if not _TEMP_RE.match(p.name) or not p.is_file():
            continue
        try:
            fd = os.open(p, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a live writer holds it
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
        finally:
            os.close(fd)
    if removed:
        log.info("removed %d temporary file(s) left by an interrupted run in %s: %s", len(removed), folder,
                 ", ".join(p.name for p in removed))
    return removed


class PredictionWriter:
    """Append prediction rows to ``<name>.parquet`` (and ``<name>.csv``).

    Parameters
    ----------
    path : path-like
        The parquet file to produce.
    schema : sequence of (name, pyarrow type)
        Columns in order.
    write_csv : bool
        Also produce the ``.csv`` twin.
    """

    def __init__(self, path: str | Path, schema: Sequence[tuple], *, write_csv: bool = False):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.csv_path = self.path.with_suffix(".csv") if write_csv else None
        self.schema = pa.schema(list(schema))
        self.rows = 0
        self._tmp = _Temp(self.path)
        # store_schema=False: the key-value metadata added at close then reads back as schema metadata
        self._writer = pq.ParquetWriter(self._tmp.path, self.schema, store_schema=False)
        self._csv_tmp = _Temp(self.csv_path) if self.csv_path else None
        self._csv = open(self._csv_tmp.path, "w", newline="") if self._csv_tmp else None

    def write(self, df: pd.DataFrame) -> None:
        """Append the rows of ``df`` (columns as in the schema; missing ones become null)."""
        import pyarrow as pa

        arrays = []
        for fld in self.schema:
            if fld.name in df.columns:
                values = df[fld.name]
                arrays.append(pa.array(values.to_numpy(dtype=object) if fld.type == pa.string() else values,
                                       type=fld.type, from_pandas=True))
            else:
                arrays.append(pa.nulls(len(df), type=fld.type))
        self.write_arrow(pa.Table.from_arrays(arrays, schema=self.schema))

    def write_arrow(self, table) -> None:
        """Append a ``pyarrow.Table`` that has the writer's schema."""
        table = table.cast(self.schema)
        self._writer.write_table(table)
        if self._csv is not None:
            table.to_pandas().to_csv(self._csv, header=self.rows == 0, index=False)
        self.rows += table.num_rows

    def close(self, metadata: Mapping) -> Path:
        """Finish both files with ``metadata`` and move them into place."""
        if self._csv is not None and self.rows == 0:
            pd.DataFrame(columns=self.schema.names).to_csv(self._csv, index=False)
        self._writer.add_key_value_metadata({"scope": json.dumps(dict(metadata), default=_json_default)})
        self._writer.close()
        self._tmp.publish(self.path)
        if self._csv is not None:
            self._csv.close()
            self._csv_tmp.publish(self.csv_path)
        return self.path

    def abort(self) -> None:
        """Drop the temporary files (the targets are left as they were)."""
        with contextlib.suppress(Exception):
            self._writer.close()
        if self._csv is not None:
            with contextlib.suppress(Exception):
                self._csv.close()
        for tmp in (self._tmp, self._csv_tmp):
            if tmp is not None:
                tmp.discard()


class FlagWriter:
    """``<name>_flagged.json``: ``{"<_id>": [features missing before imputation], ...}``.

    Only sources with at least one missing model feature are listed (the reference listed every
    source, and kept the whole dict in memory).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.count = 0
        self._tmp = _Temp(self.path)
        self._fh = open(self._tmp.path, "w")
        self._fh.write("{")

    def add(self, ids: np.ndarray, missing: np.ndarray, names: Sequence[str]) -> None:
        """Record the rows of boolean matrix ``missing`` (rows x ``names``) that have any True."""
        rows = np.flatnonzero(missing.any(axis=1)) if missing.size else np.zeros(0, dtype=int)
        names = list(names)
        for r in rows:
            cols = [names[j] for j in np.flatnonzero(missing[r])]
            self._fh.write(("," if self.count else "") + "\n  " + json.dumps(str(int(ids[r]))) + ": "
                           + json.dumps(cols))
            self.count += 1

    def close(self) -> Path:
        self._fh.write("\n}\n" if self.count else "}\n")
        self._fh.close()
        self._tmp.publish(self.path)
        return self.path

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._fh.close()
        self._tmp.discard()


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
