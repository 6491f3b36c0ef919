"""Reading and writing tables (Parquet, HDF5, CSV) with their metadata, atomically.

Metadata lives in ``DataFrame.attrs`` and is kept the way the reference SCoPe keeps it, so files
move freely between the two: Parquet stores it as JSON under the Arrow schema metadata key
``scope``; HDF5 stores it as the storer attribute ``metadata`` of key ``df``; CSV has none.

Array-valued columns survive every format. ``dmdt`` (one 26x26 histogram per row) comes back as
an object column of 2-D float arrays: Parquet keeps nested lists, HDF5 keeps a separate key
``dmdt`` (an ``(n, 26*26)`` frame, as the reference keeps training sets), CSV a JSON string.
Other nested columns (e.g. ``coordinates``) round-trip through JSON in CSV and HDF5.

Every write goes to a temporary file in the destination folder and is renamed into place, so a
crash never leaves a half-written file under the final name; :func:`remove_stale_temps` clears
the temporary files a killed process left behind.

Parquet files written here carry a CRC checksum on every data page, and every parquet read of the
project (:func:`read_parquet`) verifies them: a page damaged after writing is refused by name
instead of decoding into nonsense values.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from scope.errors import DataError

log = logging.getLogger(__name__)

PARQUET_META_KEY = b"scope"
HDF_META_ATTR = "metadata"
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".h5": "hdf", ".hdf5": "hdf", ".hdf": "hdf",
            ".csv": "csv"}
ARRAY_COLUMNS = ("dmdt",)
#: Written into every parquet file (page CRCs) and checked by every read (see :func:`read_parquet`).
PARQUET_WRITE_OPTIONS = {"write_page_checksum": True}


def table_format(path: str | os.PathLike) -> str:
    """Return ``'parquet'``, ``'hdf'`` or ``'csv'`` for a path, or raise :class:`DataError`."""
    suffix = Path(path).suffix.lower()
    try:
        return SUFFIXES[suffix]
    except KeyError:
        raise DataError(
            f"unsupported table format '{suffix or '(none)'}' for {path}: use .parquet, .h5 or .csv"
        ) from None


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **open_kwargs) -> Iterator[Any]:
    """Open a temporary file beside ``path`` and move it into place when the block succeeds."""
    final = Path(path)
    _ensure_dir(final.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.chmod(tmp, _default_mode())
    try:
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for writers that need a file name."""
    final = Path(path)
    _ensure_dir(final.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=f".tmp{final.suffix}", dir=final.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as HDFStore want to create the file themselves
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def temp_files_of(path: str | os.PathLike) -> list[Path]:
    """Temporary files :func:`atomic_write` / :func:`atomic_path` may have left beside ``path``."""
    final = Path(path)
    if not final.parent.is_dir():
        return []
    prefix = f".{final.name}."
    return sorted(p for p in final.parent.iterdir()
                  if p.name.startswith(prefix) and (p.name.endswith(".tmp") or p.name.endswith(f".tmp{final.suffix}")))


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files a killed writer of ``path`` left behind; return what was removed.

    Call it before writing ``path`` again (only one process should write a given file).
    """
    removed = []
    for tmp in temp_files_of(path):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    if removed:
        log.info("removed %d temporary file(s) left by an interrupted run beside %s", len(removed), path)
    return removed


def _default_mode() -> int:
    """Permissions a plain ``open()`` would give (mkstemp makes files private)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def ensure_writable_dir(folder: str | os.PathLike, *, create: bool = True) -> Path:
    """Create ``folder`` if needed and check that files can be written in it.

    Commands call this for every output folder *before* any work starts, so a read-only or
    unusable destination is reported at once rather than after hours of computation.

    With ``create=False`` nothing is created: the folder, or its nearest existing parent, is
    probed (for checks made before it is known that anything will be written).

    Raises
    ------
    DataError
        When the folder cannot be created or written to (the message names it).
    """
    folder = Path(folder)
    if not create:
        probe = folder.absolute()
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            raise DataError(f"output folder {folder} cannot be created: {probe} is not a folder")
        ensure_writable_dir(probe)
        return folder
    _ensure_dir(folder)
    try:  # os.access can say yes on read-only mounts and for root; a real probe cannot lie
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".scope-write-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DataError(f"output folder is not writable: {folder} ({exc.strerror})") from None
    return folder


def _ensure_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create output folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise DataError(f"output folder is not writable: {folder}")


def update_json(path: str | os.PathLike, update: Callable[[dict], dict | None]) -> dict:
    """Read-modify-write a JSON file under an exclusive lock (safe for concurrent jobs).

    ``update`` receives the current content (``{}`` when absent) and may modify it in place or
    return a new dict. The result is written atomically and returned.
    """
    final = Path(path)
    _ensure_dir(final.parent)
    lock_path = final.with_name(f".{final.name}.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            # writers create their temporary file only while holding the lock: any found now is an orphan
            remove_stale_temps(final)
            current: dict = {}
            if final.exists():
                try:
                    current = json.loads(final.read_text() or "{}")
                except json.JSONDecodeError as exc:
                    raise DataError(f"{final} is not valid JSON: {exc.msg}") from None
            result = update(current)
            if result is None:
                result = current
            with atomic_write(final, "w") as fh:
                json.dump(result, fh, indent=2, default=_json_default)
            return result
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# ----------------------------------------------------------------------------------------------
def write_table(df: pd.DataFrame, path: str | os.PathLike, *, key: str = "df",
                hdf_keys: tuple[str, ...] = ()) -> Path:
    """Write ``df`` (and ``df.attrs``) to ``path`` atomically; format from the extension.

    Parameters
    ----------
    df : pandas.DataFrame
    path : path-like
        ``.parquet``, ``.h5``/``.hdf5`` or ``.csv``.
    key : str
        HDF5 key of the main table (default ``"df"``, as the reference).
    hdf_keys : tuple of str
        HDF5 only: columns stored under a key of their own instead of inside the main table, as
        the reference keeps ``coordinates`` in training sets (read back as a column).

    Returns
    -------
    pathlib.Path
        The written path.
    """
    path = Path(path)
    fmt = table_format(path)
    if fmt == "parquet":
        _write_parquet(df, path)
    elif fmt == "hdf":
        _write_hdf(df, path, key, hdf_keys)
    else:
        _write_csv(df, path)
    return path


def read_table(path: str | os.PathLike, columns: list[str] | None = None, *, key: str = "df") -> pd.DataFrame:
    """Read a table written by :func:`write_table` or by the reference SCoPe.

    ``df.attrs`` is restored from the file's metadata where the format keeps it; ``dmdt`` comes
    back as an object column of 2-D arrays.
    """
    path = Path(path)
    fmt = table_format(path)
    if not path.exists():
        raise DataError(f"file not found: {path}")
    try:
        if fmt == "parquet":
            return _read_parquet(path, columns)
        if fmt == "hdf":
            return _read_hdf(path, columns, key)
        return _read_csv(path, columns)
    except DataError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None


def _attrs_json(df: pd.DataFrame) -> str:
    return json.dumps(dict(df.attrs), default=_json_default)


def _to_nested_lists(col: pd.Series) -> list:
    return [None if _is_missing(v) else np.asarray(v, dtype=float).tolist() for v in col]


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return False


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = df.copy()
    out.attrs = {}
    for name in ARRAY_COLUMNS:
        if name in out.columns:
            out[name] = _to_nested_lists(out[name])
    table = pa.Table.from_pandas(out, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[PARQUET_META_KEY] = _attrs_json(df).encode()
    table = table.replace_schema_metadata(meta)
    write_parquet(table, path)


def write_parquet(table, path: str | os.PathLike, **kwargs) -> Path:
    """Write an Arrow table to ``path`` atomically, with page checksums (extra pyarrow options allowed)."""
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **{**PARQUET_WRITE_OPTIONS, **kwargs})
    return Path(path)


def read_parquet(path: str | os.PathLike, columns: list[str] | None = None, filters=None):
    """Read a parquet file as an Arrow table, verifying page checksums where the file has them.

    Raises
    ------
    DataError
        When the file cannot be read or a page fails its checksum (the message names the file).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=columns, filters=filters, page_checksum_verification=True)
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except (OSError, pa.ArrowException) as exc:
        hint = " (the file is damaged: restore or regenerate it)" if "checksum" in str(exc).lower() else ""
        raise DataError(f"cannot read {path}: {exc}{hint}") from None


def parquet_attrs(path: str | os.PathLike) -> dict:
    """``df.attrs`` stored in a parquet file's metadata (``{}`` when it has none), without reading data.

    Raises
    ------
    DataError
        When the file cannot be read as parquet (the message names it).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    try:
        return json.loads(meta[PARQUET_META_KEY]) if PARQUET_META_KEY in meta else {}
    except json.JSONDecodeError:
        raise DataError(f"{path}: its scope metadata is not valid JSON") from None


def _read_parquet(path: Path, columns: list[str] | None) -> pd.DataFrame:
    table = read_parquet(path, columns=columns)
    meta = table.schema.metadata or {}
    df = table.to_pandas()
    for name in ARRAY_COLUMNS:
        if name in df.columns:
            df[name] = _stack_rows(df[name])
    if PARQUET_META_KEY in meta:
        df.attrs = json.loads(meta[PARQUET_META_KEY])
    else:
        log.debug("no scope metadata in %s", path)
    return df


def _stack_rows(col: pd.Series) -> pd.Series:
    """Turn nested lists / arrays of arrays into one 2-D float array per row."""
    values = []
    for v in col:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            values.append(None)
        elif isinstance(v, str):
            values.append(np.asarray(json.loads(v), dtype=float))
        else:
            arr = np.asarray([np.asarray(r, dtype=float) for r in v]) if len(v) and not np.isscalar(v[0]) \
                else np.asarray(v, dtype=float)
            values.append(arr)
    out = pd.Series(values, index=col.index, dtype=object, name=col.name)
    return out


def _nested_columns(df: pd.DataFrame) -> list[str]:
    names = []
    for name in df.columns:
        if name in ARRAY_COLUMNS:
            continue
        col = df[name]
        if col.dtype == object:
            first = next((v for v in col if v is not None and not (isinstance(v, float) and np.isnan(v))), None)
            if isinstance(first, (dict, list, tuple, np.ndarray)):
                names.append(name)
    return names


def _jsonify(col: pd.Series) -> pd.Series:
    return pd.Series([None if _is_missing(v) else json.dumps(v, default=_json_default) for v in col],
                     index=col.index, dtype=object, name=col.name)


def _write_hdf(df: pd.DataFrame, path: Path, key: str, hdf_keys: tuple[str, ...] = ()) -> None:
    out = df.copy()
    out.attrs = {}
    dmdt = out.pop("dmdt") if "dmdt" in out.columns else None
    own = {name: out.pop(name) for name in hdf_keys if name in out.columns and name != "dmdt"}
    nested = _nested_columns(out)
    for name in nested:
        out[name] = _jsonify(out[name])
    # The fixed HDF5 format holds NumPy dtypes only: nullable integers travel as float64
    # (NaN for missing) and are restored from the list recorded beside the table.
    nullable = [name for name in out.columns if isinstance(out[name].dtype, pd.api.extensions.ExtensionDtype)
                and pd.api.types.is_integer_dtype(out[name].dtype)]
    for name in nullable:
        col = out[name]
        out[name] = col.astype("int64") if not col.isna().any() else col.astype("float64")
    # PyTables cannot store pandas' string dtype; plain objects are fine
    for name in out.columns:
        if pd.api.types.is_string_dtype(out[name].dtype) and out[name].dtype != object:
            out[name] = out[name].astype(object)
    with atomic_path(path) as tmp:
        with pd.HDFStore(tmp, mode="w") as store:
            store.put(key, out, track_times=False)
            store.get_storer(key).attrs.metadata = dict(df.attrs)
            store.get_storer(key).attrs.scope_json_columns = nested
            store.get_storer(key).attrs.scope_nullable_int = nullable
            for name, col in own.items():
                import warnings

                with warnings.catch_warnings():  # object columns are pickled, as the reference's were
                    warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
                    store.put(name, col.astype(object), track_times=False)
            if dmdt is not None:
                flat = np.stack([
                    np.zeros(676) if _is_missing(v) else np.asarray(v, dtype=float).ravel() for v in dmdt
                ]) if len(dmdt) else np.zeros((0, 676))
                store.put("dmdt", pd.DataFrame(flat, index=out.index), track_times=False)


def _read_hdf(path: Path, columns: list[str] | None, key: str) -> pd.DataFrame:
    with pd.HDFStore(path, mode="r") as store:
        keys = [k.lstrip("/") for k in store.keys()]
        if key not in keys:
            if not keys:
                raise DataError(f"{path} holds no tables")
            key = keys[0]  # id files and foreign tables use other key names
        df = store.get(key)
        storer = store.get_storer(key)
        attrs = getattr(storer.attrs, HDF_META_ATTR, None)
        nested = getattr(storer.attrs, "scope_json_columns", None) or []
        nullable = getattr(storer.attrs, "scope_nullable_int", None) or []
        if "dmdt" in keys and key != "dmdt":
            flat = store.get("dmdt").to_numpy(dtype=float)
            side = int(round(np.sqrt(flat.shape[1]))) if flat.size else 26
            df["dmdt"] = pd.Series(list(flat.reshape(len(flat), side, side)), index=df.index, dtype=object)
        if "coordinates" in keys and "coordinates" not in df.columns and key != "coordinates":
            df["coordinates"] = store.get("coordinates")
    if isinstance(df, pd.Series):
        df = df.to_frame()
    for name in nested:
        if name in df.columns:
            df[name] = [None if v is None else json.loads(v) for v in df[name]]
    for name in nullable:
        if name in df.columns:
            df[name] = df[name].astype("Int64")
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise DataError(f"{path} lacks columns: {', '.join(missing)}")
        df = df[columns]
    df.attrs = dict(attrs) if attrs else {}
    return df


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    out.attrs = {}
    for name in list(ARRAY_COLUMNS) + _nested_columns(out):
        if name in out.columns:
            out[name] = _jsonify(out[name].map(lambda v: None if _is_missing(v) else np.asarray(v).tolist()
                                               if isinstance(v, np.ndarray) else v))
    with atomic_write(path, "w", newline="") as fh:
        out.to_csv(fh, index=False)


def _read_csv(path: Path, columns: list[str] | None) -> pd.DataFrame:
    df = pd.read_csv(path, usecols=columns)
    for name in ARRAY_COLUMNS:
        if name in df.columns:
            df[name] = _stack_rows(df[name].astype(object).where(df[name].notna(), None))
    return df
