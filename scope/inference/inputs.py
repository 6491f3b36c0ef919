"""Feature files for inference: where they are, and reading them in bounded-memory row batches.

Locations follow the reference (``BASE`` = ``feature_generation.path_to_features`` or the CWD)::

    <BASE>/<feature_directory>/specific_ids/<prefix>_<field>.parquet         field names a source list
    <BASE>/<feature_directory>/field_<F>/                                     --whole-field
    <BASE>/features/field_<F>/ccd_<CC>_quad_<Q>[...].parquet                  get-features, one quadrant
    <BASE>/<feature_directory>/field_<F>/<prefix>_field_<F>_ccd_<C>_quad_<Q>.parquet   generate-features

Parquet files are streamed with pyarrow (only the needed columns, ``batch_size`` rows at a time),
so a field of millions of sources never sits in memory at once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError

log = logging.getLogger(__name__)

GET_FEATURES_DIR = "features"
DMDT_SIDE = 26


def is_specific_ids(field: str | int) -> bool:
    """True for a source-list "field" (``specific_ids``, ``<dateobs>_specific_ids`` ...)."""
    return not _is_int(field) and "specific_ids" in str(field)


def _is_int(value) -> bool:
    try:
        int(str(value))
    except ValueError:
        return False
    return True


def _visible_parquet(folder: Path, pattern: str = "*.parquet") -> list[Path]:
    # hidden names are temporary files of atomic writes and checkpoint folders
    return sorted(p for p in folder.glob(pattern) if p.is_file() and not p.name.startswith("."))


def locate_feature_files(base: str | Path, feature_directory: str, field: str | int, *, ccd: int = 1, quad: int = 1,
                         whole_field: bool = False, prefix: str = "gen_features") -> list[Path]:
    """The feature files of a field, a quadrant or a source list.

    Raises
    ------
    DataError
        When nothing is there; the message names the path or pattern looked for.
    """
    root = Path(base) / feature_directory
    if is_specific_ids(field):
        path = root / "specific_ids" / f"{prefix}_{field}.parquet"
        if not path.exists():
            raise DataError(f"no feature file {path} (generate-features --doSpecificIDs writes it)")
        return [path]
    if not _is_int(field):
        raise DataError(f"field must be a number or end in 'specific_ids', got '{field}'")
    field = int(field)
    folder = root / f"field_{field}"
    if not folder.is_dir():
        raise DataError(f"no feature folder {folder}: run get-features or generate-features for field {field} "
                        "first, or check --feature-directory and feature_generation.path_to_features")
    if whole_field:
        if feature_directory == GET_FEATURES_DIR:
            # get-features writes either whole-field files or per-quadrant files; never read both
            files = _visible_parquet(folder, f"field_{field}*.parquet") or _visible_parquet(folder, "ccd_*.parquet")
        else:
            files = _visible_parquet(folder, f"{prefix}_field_{field}_*.parquet")
        if not files:
            found = ", ".join(p.name for p in _visible_parquet(folder)) or "no parquet files"
            raise DataError(f"no feature files for field {field} in {folder} (found: {found}); "
                            "check --feature-file-prefix")
        return files
    if feature_directory == GET_FEATURES_DIR:
        files = _visible_parquet(folder, f"ccd_{int(ccd):02d}_quad_{int(quad)}*.parquet")
        if not files:
            raise DataError(f"no feature files ccd_{int(ccd):02d}_quad_{int(quad)}*.parquet in {folder}")
        return files
    path = folder / f"{prefix}_field_{field}_ccd_{int(ccd)}_quad_{int(quad)}.parquet"
    if not path.exists():
        raise DataError(f"no feature file {path}")
    return [path]


# ---------------------------------------------------------------------------------------------
def file_columns(path: Path) -> list[str]:
    """Column names of a feature file without reading its rows."""
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    from scope.tables import read_table

    return list(read_table(path).columns)


def file_column_kinds(path: Path) -> dict[str, str]:
    """``{column: kind}`` of a feature file, kind one of ``numeric``, ``null`` (no values at all),
    ``text`` or ``other`` (lists, structs, dates ...); parquet files are judged by their schema."""
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = {}
        for fld in pq.read_schema(path):
            t = fld.type
            if pa.types.is_null(t):
                out[fld.name] = "null"
            elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) \
                    or pa.types.is_decimal(t):
                out[fld.name] = "numeric"
            elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
                out[fld.name] = "text"
            else:
                out[fld.name] = "other"
        return out
    from scope.tables import read_table

    df = read_table(path)
    out = {}
    for name in df.columns:
        col = df[name]
        if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
            out[name] = "numeric"
            continue
        values = col.dropna()
        if not len(values):
            out[name] = "null"
        elif pd.to_numeric(values, errors="coerce").notna().all():
            out[name] = "numeric"
        else:
            out[name] = "text" if all(isinstance(v, str) for v in values) else "other"
    return out


def file_rows(path: Path) -> int:
    """Row count of a parquet file from its footer (0 when unknown)."""
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return 0


def file_metadata(path: Path) -> dict:
    """The ``scope`` metadata (``DataFrame.attrs``) of a parquet file (features or predictions),
    without its rows; ``{}`` when it has none."""
    import json

    if Path(path).suffix.lower() not in (".parquet", ".pq"):
        return {}
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    raw = meta.get(b"scope")
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {}


def iter_batches(path: Path, columns: Sequence[str], batch_size: int) -> Iterator[tuple[pd.DataFrame, np.ndarray | None]]:
    """Yield ``(frame, dmdt)`` for consecutive row batches of one feature file.

    ``frame`` holds the requested scalar columns that exist in the file; ``dmdt`` is a
    ``(n, 26, 26, 1)`` float32 array when ``"dmdt"`` was requested and exists (missing rows are
    zeros, counted in the frame's ``attrs["dmdt_missing"]``), else ``None``.
    """
    path = Path(path)
    if path.suffix.lower() not in (".parquet", ".pq"):
        yield from _iter_small_table(path, columns, batch_size)
        return
    import pyarrow.parquet as pq

    # pre_buffer (pyarrow's default) keeps every row group it has read cached until the file is
    # closed: memory would grow with the file instead of staying at one batch
    pf = pq.ParquetFile(path, pre_buffer=False)
    present = set(pf.schema_arrow.names)
    wanted = [c for c in dict.fromkeys(columns) if c in present]
    if pf.metadata.num_rows == 0 or not wanted:
        return
    for batch in pf.iter_batches(batch_size=int(batch_size), columns=wanted):
        dmdt = None
        if "dmdt" in batch.schema.names:
            dmdt, n_missing = dmdt_from_arrow(batch.column(batch.schema.get_field_index("dmdt")))
            batch = batch.drop_columns(["dmdt"])
        else:
            n_missing = 0
        frame = batch.to_pandas()
        frame.attrs["dmdt_missing"] = n_missing
        yield frame, dmdt


def _iter_small_table(path: Path, columns: Sequence[str], batch_size: int):
    """CSV/HDF5 feature files (small, read whole, then cut into batches)."""
    from scope.tables import read_table

    df = read_table(path)
    wanted = [c for c in dict.fromkeys(columns) if c in df.columns]
    for start in range(0, len(df), int(batch_size)):
        part = df.iloc[start:start + int(batch_size)]
        dmdt, n_missing = None, 0
        if "dmdt" in wanted:
            dmdt, n_missing = dmdt_from_objects(part["dmdt"])
        frame = part[[c for c in wanted if c != "dmdt"]].reset_index(drop=True)
        frame.attrs["dmdt_missing"] = n_missing
        yield frame, dmdt


def dmdt_from_arrow(column) -> tuple[np.ndarray, int]:
    """A ``list<list<double>>`` column of 26x26 histograms as ``(n, 26, 26, 1)`` float32.

    The common case (no missing rows, every row 26x26) is one flat copy; anything else falls
    back to a per-row conversion. Missing rows become zeros (as the reference) and are counted.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(column)
    side = DMDT_SIDE
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    try:
        if column.null_count == 0 and n:
            outer = pc.list_value_length(column)
            inner = column.flatten()
            if (pc.min(outer).as_py() == side and pc.max(outer).as_py() == side and inner.null_count == 0):
                lengths = pc.list_value_length(inner)
                if pc.min(lengths).as_py() == side and pc.max(lengths).as_py() == side:
                    flat = np.asarray(inner.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
                    return flat.reshape(n, side, side, 1), 0
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, AttributeError, TypeError):
        pass
    return dmdt_from_objects(column.to_pylist())


def dmdt_from_objects(values) -> tuple[np.ndarray, int]:
    """Per-row conversion of dm-dt histograms (nested lists, arrays, JSON strings, missing)."""
    import json

    values = list(values)
    out = np.zeros((len(values), DMDT_SIDE, DMDT_SIDE, 1), dtype=np.float32)
    missing = 0
    for i, v in enumerate(values):
        if isinstance(v, str):
            v = json.loads(v)
        if v is None or (np.isscalar(v) and not isinstance(v, str)):
            missing += 1
            continue
        arr = np.asarray([np.asarray(r, dtype=np.float32) for r in v], dtype=np.float32) \
            if len(v) and not np.isscalar(v[0]) else np.asarray(v, dtype=np.float32)
        if arr.size != DMDT_SIDE * DMDT_SIDE:
            raise DataError(f"dmdt entry at row {i} has {arr.size} values, expected {DMDT_SIDE}x{DMDT_SIDE}")
        out[i] = arr.reshape(DMDT_SIDE, DMDT_SIDE, 1)
    return out, missing

