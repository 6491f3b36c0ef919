"""Helpers shared by the Fritz commands: file formats, taxonomy mappers, resumable part files."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Iterable, Mapping

from scope.errors import DataError
from scope.tables import atomic_write

log = logging.getLogger(__name__)

FORMATS = {"parquet": ".parquet", "pq": ".parquet", "h5": ".h5", "hdf5": ".h5", "hdf": ".h5", "csv": ".csv"}
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def normalize_format(fmt: str) -> str:
    """``parquet``/``.Parquet``/``h5``/``HDF5``/``csv`` -> ``.parquet``/``.h5``/``.csv``."""
    key = str(fmt or "").strip().lower().lstrip(".")
    if key not in FORMATS:
        raise DataError(f"output format must be parquet, h5 or csv, got '{fmt}'")
    return FORMATS[key]


def output_path(folder: Path, filename: str, fmt: str) -> Path:
    """``folder/filename`` with the format's extension, unless ``filename`` names one itself."""
    name = Path(filename)
    if name.suffix.lower().lstrip(".") in FORMATS:
        return Path(folder) / (name.stem + normalize_format(name.suffix))
    return Path(folder) / (name.name + normalize_format(fmt))


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime(DATETIME_FORMAT)


def code_version() -> str:
    import scope

    return getattr(scope, "__version__", "unknown")


def resolve_mapper(name: str | os.PathLike | None, cfg=None, default: str = "golden_dataset_mapper.json") -> Path:
    """Find a taxonomy mapper: an existing path, else that file name in the current folder, the
    config's folder, or the mappers shipped with SCoPe (``fritz_mapper.json``,
    ``DNN_AL_mapper.json``, ``XGB_AL_mapper.json``, ``golden_dataset_mapper.json``)."""
    from importlib import resources

    name = Path(name or default)
    if name.exists():
        return name
    candidates = [Path.cwd() / name.name]
    if cfg is not None and getattr(cfg, "base_dir", None):
        candidates.append(Path(cfg.base_dir) / name.name)
    packaged = resources.files("scope").joinpath("data", name.name)
    for p in candidates:
        if p.exists():
            return p
    if packaged.is_file():
        return Path(str(packaged))
    raise DataError(f"taxonomy mapper not found: {name} (looked in the current folder, the config's folder and "
                    f"the mappers shipped with SCoPe)")


def load_taxonomy_map(name: str | os.PathLike | None, cfg=None) -> dict[str, dict]:
    """The mapper ``{column: {fritz_label, taxonomy_id}}`` without its ``"None"`` entries."""
    from scope.training.training_set import load_mapper

    path = resolve_mapper(name, cfg)
    mapper = load_mapper(path)
    out = {}
    for key, entry in mapper.items():
        if str(entry.get("fritz_label")) == "None":
            continue
        try:
            out[key] = {"fritz_label": str(entry["fritz_label"]), "taxonomy_id": int(entry["taxonomy_id"])}
        except (KeyError, TypeError, ValueError):
            raise DataError(f"taxonomy mapper {path}: entry '{key}' needs an integer taxonomy_id") from None
    log.debug("taxonomy mapper %s: %d classes", path, len(out))
    return out


def fingerprint(**parts: Any) -> str:
    """A short stable hash of settings (for knowing whether saved progress belongs to this run)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_fingerprint(path: Path) -> str:
    """Size, modification time and a hash of the first MiB: enough to notice a changed input."""
    st = Path(path).stat()
    with open(path, "rb") as fh:
        head = hashlib.sha256(fh.read(1 << 20)).hexdigest()[:16]
    return f"{st.st_size}-{int(st.st_mtime)}-{head}"


class PartStore:
    """Finished pieces of a long download, one JSON file each, in a hidden folder.

    A rerun with the same ``key`` reuses the pieces; another key (changed inputs or options)
    starts over. :meth:`finish` removes the folder once the final output is written.
    """

    def __init__(self, folder: Path, key: str, *, restart: bool = False):
        self.folder = Path(folder)
        self.key = key
        state = self.folder / "state.json"
        if self.folder.exists():
            try:
                old = json.loads(state.read_text())["key"]
            except (OSError, ValueError, KeyError):
                old = None
            if restart or old != key:
                if old is not None and not restart:
                    log.info("earlier partial download in %s was for other settings; starting over", self.folder)
                shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        if not state.exists():
            with atomic_write(state) as fh:
                json.dump({"key": key}, fh)

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def has(self, name: str) -> bool:
        return self._path(name).exists()

    def get(self, name: str) -> Any:
        return json.loads(self._path(name).read_text())

    def put(self, name: str, value: Any) -> None:
        with atomic_write(self._path(name)) as fh:
            json.dump(value, fh, default=_json_default)

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json") if p.name != "state.json")

    def finish(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} in a progress file")


def chunks(seq: Iterable, size: int):
    """Consecutive lists of at most ``size`` items."""
    batch = []
    for item in seq:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def map_columns(mapper: Mapping[str, Mapping]) -> dict[str, str]:
    """Fritz label -> local column (the first column naming that label wins)."""
    out: dict[str, str] = {}
    for column, entry in mapper.items():
        out.setdefault(entry["fritz_label"], column)
    return out
