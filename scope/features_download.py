"""get-features: download precomputed features for the ids that get-quad-ids wrote.

Reads ``<base>/ids/field_<F>/`` (the same base folder get-quad-ids writes to; the reference
looked one folder up by mistake) and writes ``<base>/features/field_<F>/``::

    field_<F>[_<suffix>]_iter_<i>.parquet            (--whole-field)
    ccd_<CC>_quad_<Q>[_<suffix>]_iter_<i>.parquet    (per CCD/quadrant)

each holding at most ``max_sources`` rows (+ a ``.csv`` twin with ``write_csv``), with the
reference's metadata keys ``features_download_dateTime_utc``, ``features_ztf_dataRelease`` and
``features_imputed``.

Resuming is exact: ids already present in the output files are skipped (``restart`` removes the
old files and starts over), and every file is written atomically, so a run killed at any point
and started again ends with exactly one row per id. Ids whose queries still fail after the
client's retries are collected, listed in ``<prefix>_failed_ids.txt`` and reported in one
:class:`~scope.errors.QueryError` at the end; the other ids are written.

Features come from a Kowalski catalog (:class:`KowalskiFeatures`) or a local parquet file or
folder (:class:`LocalFeatures`), which behave the same.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Protocol, Sequence

import numpy as np
import pandas as pd

from scope import idfiles
from scope.errors import DataError, QueryError, ServiceUnavailable
from scope.tables import atomic_write, read_table, write_table

log = logging.getLogger(__name__)

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DMDT_SHAPE = (26, 26)


# ------------------------------------------------------------------------------------------------
# where features come from
class FeatureProvider(Protocol):
    """A features catalog.

    Attributes
    ----------
    catalog : str
        Name recorded in metadata (its last ``_`` token is the data release, e.g. ``DR16``).
    """

    catalog: str

    def fetch(self, ids: np.ndarray, columns: Sequence[str] | None) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows of ``ids`` (``columns`` plus ``_id``; all columns when None) and the ids whose
        queries failed after retries. Ids absent from the catalog are simply absent."""


class KowalskiFeatures:
    """Features from a Kowalski ``ZTF_source_features_*`` catalog, ``limit_per_query`` ids a query.

    Chunks run in parallel on the client's thread pool.
    """

    def __init__(self, client, catalog: str, limit_per_query: int = 1000):
        self.client = client
        self.catalog = catalog
        self.limit_per_query = max(1, int(limit_per_query))

    def fetch(self, ids, columns):
        from scope.services.kowalski import LostIdsError

        projection = None if columns is None else {**{c: 1 for c in columns}, "_id": 1}
        try:
            docs = self.client.find_by_ids(self.catalog, ids, projection, chunk_size=self.limit_per_query)
            lost = np.zeros(0, np.int64)
        except LostIdsError as exc:
            log.warning("%s", exc)
            docs, lost = exc.documents, exc.lost_ids
        return pd.DataFrame.from_records(docs) if docs else pd.DataFrame({"_id": np.zeros(0, np.int64)}), lost


class LocalFeatures:
    """Features from a local parquet file, or a folder of them (``<catalog>.parquet`` if present,
    else every ``*.parquet`` in it).

    Parameters
    ----------
    path : path-like
    catalog : str, optional
        Name for the metadata (default: the file or folder name without extension).
    """

    def __init__(self, path, catalog: str | None = None):
        path = Path(path)
        if not path.exists():
            raise DataError(f"features file or folder not found: {path}")
        if path.is_dir():
            named = path / f"{catalog}.parquet" if catalog else None
            files = [named] if named is not None and named.exists() else sorted(
                p for p in path.glob("*.parquet") if not p.name.startswith("."))
            if not files:
                raise DataError(f"no parquet files in features folder {path}")
        else:
            files = [path]
        self.files = files
        self.catalog = catalog or path.stem

    def fetch(self, ids, columns):
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.dataset as ds

        dataset = ds.dataset([str(f) for f in self.files], format="parquet")
        names = dataset.schema.names
        if "_id" not in names:
            raise DataError(f"features table {self.files[0]} has no _id column")
        cols = None
        if columns is not None:
            missing = [c for c in columns if c not in names]
            if missing:
                log.warning("features table lacks requested columns: %s", ", ".join(missing))
            cols = ["_id"] + [c for c in columns if c in names and c != "_id"]
        table = dataset.to_table(columns=cols, filter=pc.field("_id").isin(pa.array(np.asarray(ids, np.int64))))
        df = table.to_pandas()
        return df, np.zeros(0, np.int64)


# ------------------------------------------------------------------------------------------------
@dataclass
class FeaturesRequest:
    """What get-features should download (see ``docs/get-features.md``)."""

    field: int
    ccds: Sequence[int] = tuple(range(1, 17))
    quads: Sequence[int] = tuple(range(1, 5))
    whole_field: bool = False
    max_sources: int = 100000
    start: int | None = None
    end: int | None = None
    restart: bool = False
    write_results: bool = True
    write_csv: bool = False
    column_list: Sequence[str] | None = None
    suffix: str | None = None
    impute: bool = False
    self_impute: bool = True
    period_suffix: object = ...  # ... = the config's features.info.period_suffix


@dataclass
class Target:
    """One id file and the output files it feeds."""

    label: str
    id_path: Path
    out_dir: Path
    stem: str

    def iter_path(self, i: int, ext: str = ".parquet") -> Path:
        return self.out_dir / f"{self.stem}_iter_{i}{ext}"

    def existing(self) -> list[tuple[int, Path]]:
        """``(iteration, path)`` of the parquet files already written for this target."""
        pattern = re.compile(rf"^{re.escape(self.stem)}_iter_(\d+)\.parquet$")
        found = []
        if self.out_dir.is_dir():
            for p in self.out_dir.iterdir():
                m = pattern.match(p.name)
                if m:
                    found.append((int(m.group(1)), p))
        return sorted(found)


@dataclass
class DownloadSummary:
    """What a run did."""

    files: list[Path] = field(default_factory=list)
    rows: int = 0
    skipped: int = 0
    not_found: int = 0
    lost: list[int] = field(default_factory=list)
    frames: list[pd.DataFrame] = field(default_factory=list)


def features_dir(base: Path, field_: int) -> Path:
    """``<base>/features/field_<F>``."""
    return Path(base) / "features" / f"field_{int(field_)}"


def targets(base: Path, req: FeaturesRequest) -> list[Target]:
    """Id files to read and output stems, whole-field or per CCD/quadrant."""
    sfx = f"_{req.suffix}" if req.suffix else ""
    out = features_dir(base, req.field)
    if req.whole_field:
        return [Target(f"field {req.field}", idfiles.field_h5_path(base, req.field), out,
                       f"field_{req.field}{sfx}")]
    return [Target(f"field {req.field} ccd {c} quad {q}", idfiles.quad_h5_path(base, req.field, c, q), out,
                   f"ccd_{int(c):02d}_quad_{int(q)}{sfx}") for c in req.ccds for q in req.quads]


def existing_ids(target: Target) -> set[int]:
    """``_id`` s already written for ``target``."""
    from scope.tables import read_parquet

    ids: set[int] = set()
    for _, path in target.existing():
        try:
            ids.update(int(v) for v in read_parquet(path, columns=["_id"]).column("_id").to_pylist())
        except Exception as exc:  # noqa: BLE001 - a foreign or damaged file: say which
            raise DataError(f"cannot read _id from existing output {path}: {exc}; remove it or use --restart") \
                from None
    return ids


# ------------------------------------------------------------------------------------------------
# shaping a downloaded table
def order_rows(df: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """One row per id, in request order (duplicates from the catalog dropped)."""
    if df.empty:
        return df
    df = df.drop_duplicates(subset="_id", keep="first")
    pos = pd.Series(np.arange(len(ids)), index=pd.Index(np.asarray(ids, np.int64)))
    pos = pos[~pos.index.duplicated()]
    rank = pos.reindex(df["_id"].astype(np.int64).to_numpy()).to_numpy()
    df = df.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
    cols = ["_id"] + [c for c in df.columns if c != "_id"]
    return df[cols]


def stack_dmdt(df: pd.DataFrame) -> pd.DataFrame:
    """``dmdt`` as one 26x26 float array per row (missing stays None)."""
    if "dmdt" not in df.columns:
        return df
    values = []
    for v in df["dmdt"]:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            values.append(None)
            continue
        arr = np.asarray([np.asarray(r, dtype=float) for r in v]) if len(v) and not np.isscalar(v[0]) \
            else np.asarray(v, dtype=float)
        values.append(arr.reshape(DMDT_SHAPE) if arr.size == DMDT_SHAPE[0] * DMDT_SHAPE[1] else arr)
    df = df.copy()
    df["dmdt"] = pd.Series(values, index=df.index, dtype=object)
    return df


def cast_dtypes(df: pd.DataFrame, cfg: Mapping, period_suffix=..., *, report_missing: bool = True) -> pd.DataFrame:
    """Cast columns to the config's feature dtypes; columns the table lacks are reported, not fatal."""
    from scope.schema import feature_dtypes, feature_names

    dtypes = {}
    for feature_set in ("phenomenological", "ontological"):
        try:
            dtypes.update(feature_dtypes(cfg, feature_set, period_suffix))
        except Exception:  # noqa: BLE001 - a config without that set simply has no dtypes for it
            continue
    out = df.copy()
    for col, dtype in dtypes.items():
        if col not in out.columns or dtype in (None, "object"):
            continue
        try:
            out[col] = _cast(out[col], str(dtype))
        except (ValueError, TypeError) as exc:
            log.warning("column %s not cast to %s: %s", col, dtype, exc)
    if report_missing:
        try:
            wanted = feature_names(cfg, "ontological", period_suffix)
        except Exception:  # noqa: BLE001
            wanted = []
        missing = [c for c in wanted if c not in out.columns]
        if missing:
            shown = ", ".join(missing[:8]) + (f", ... ({len(missing)} in all)" if len(missing) > 8 else "")
            log.warning("downloaded features lack %d configured feature column(s): %s", len(missing), shown)
    return out


def _cast(col: pd.Series, dtype: str) -> pd.Series:
    if dtype in ("str", "string"):
        return col.astype("string")
    if dtype in ("int64", "int32", "int"):
        numeric = pd.to_numeric(col, errors="raise")
        # NaN cannot live in a plain int column: keep the values with the nullable type
        return numeric.astype("Int64") if numeric.isna().any() else numeric.astype(dtype)
    if dtype == "Int64":
        return pd.to_numeric(col, errors="raise").astype("Int64")
    if dtype.startswith("float"):
        return pd.to_numeric(col, errors="raise").astype(dtype)
    if dtype == "bool":
        return col.astype("boolean")
    return col.astype(dtype)


def data_release(catalog: str) -> str:
    """``ZTF_source_features_DR16`` -> ``DR16`` (the reference's rule: the last ``_`` token)."""
    return str(catalog).split("_")[-1]


def finish_table(df: pd.DataFrame, ids: np.ndarray, cfg: Mapping, req: FeaturesRequest, catalog: str,
                 reference: pd.DataFrame | None) -> pd.DataFrame:
    """Order rows, cast dtypes, stack dmdt, impute, and set the metadata attributes."""
    df = order_rows(df, ids)
    df = cast_dtypes(df, cfg, req.period_suffix, report_missing=req.column_list is None and not df.empty)
    df = stack_dmdt(df)
    if req.impute and not df.empty:
        from scope.imputation import impute_features

        df = impute_features(df, cfg, period_suffix=req.period_suffix, reference=reference)
    df.attrs = {
        "features_download_dateTime_utc": dt.datetime.now(dt.timezone.utc).strftime(DATETIME_FORMAT),
        "features_ztf_dataRelease": data_release(catalog),
        "features_imputed": bool(req.impute),
    }
    return df


def training_reference(cfg) -> pd.DataFrame:
    """The training set named by ``training.dataset`` (for ``--no-self-impute``)."""
    path = cfg.resolve_path(cfg.get_path("training.dataset")) if hasattr(cfg, "resolve_path") else None
    if path is None or not Path(path).exists():
        raise DataError(f"--no-self-impute needs the training set named by training.dataset; not found: {path}")
    return read_table(path)


# ------------------------------------------------------------------------------------------------
def download_features(cfg, req: FeaturesRequest, provider: FeatureProvider, base: Path, *,
                      progress: bool = True) -> DownloadSummary:
    """Download the features of every id in the request's id files.

    Parameters
    ----------
    cfg : scope.config.Config
    req : FeaturesRequest
    provider : FeatureProvider
    base : pathlib.Path
        Base folder holding ``ids/`` and receiving ``features/``.
    progress : bool
        Show a progress bar per id file.

    Returns
    -------
    DownloadSummary

    Raises
    ------
    DataError
        No id file exists for the request.
    ServiceUnavailable
        The features service went away (partial results stay written; rerun to resume).
    QueryError
        Some ids could not be downloaded after retries; they are named and listed in
        ``<stem>_failed_ids.txt`` next to the outputs, everything else is written.
    """
    from tqdm.auto import tqdm

    if req.max_sources <= 0:
        raise DataError(f"--max-sources must be positive, got {req.max_sources}")
    todo_targets = targets(base, req)
    present = [t for t in todo_targets if t.id_path.exists()]
    if not present:
        where = todo_targets[0].id_path if len(todo_targets) == 1 else idfiles.ids_dir(base, req.field)
        raise DataError(f"no id files for field {req.field} at {where}: run get-quad-ids first "
                        f"(with the same base folder{' and --whole-field' if req.whole_field else ''})")
    for t in todo_targets:
        if not t.id_path.exists():
            log.info("no id file %s; skipping %s", t.id_path.name, t.label)
    reference = training_reference(cfg) if req.impute and not req.self_impute else None
    summary = DownloadSummary()
    failures: list[tuple[Target, np.ndarray]] = []
    for target in present:
        ids = idfiles.read_ids(target.id_path)
        ids = ids[req.start:req.end]
        ids = np.asarray(list(dict.fromkeys(ids.tolist())), dtype=np.int64)
        if req.restart:
            _remove_outputs(target)
        _remove_stale_temporaries(target)
        done = existing_ids(target) if req.write_results else set()
        todo = np.asarray([i for i in ids.tolist() if i not in done], dtype=np.int64)
        summary.skipped += len(ids) - len(todo)
        if len(ids) != len(todo):
            log.info("%s: %d of %d ids already downloaded; %d to go", target.label, len(ids) - len(todo),
                     len(ids), len(todo))
        next_iter = max((i for i, _ in target.existing()), default=-1) + 1
        lost_here: list[np.ndarray] = []
        bar = tqdm(total=len(todo), desc=target.label, unit="id", disable=not progress or len(todo) == 0,
                   leave=False)
        try:
            for k in range(0, len(todo), req.max_sources):
                part = todo[k:k + req.max_sources]
                try:
                    df, lost = provider.fetch(part, list(req.column_list) if req.column_list else None)
                except ServiceUnavailable as exc:
                    raise ServiceUnavailable(f"{exc}; {summary.rows} rows were written before; rerun to resume") \
                        from None
                if len(lost):
                    lost_here.append(np.asarray(lost, np.int64))
                if "_id" not in df.columns:
                    raise DataError(f"features from {provider.catalog} lack the _id column")
                got = set(int(v) for v in df["_id"]) if len(df) else set()
                summary.not_found += sum(1 for i in part.tolist() if i not in got) - len(lost)
                df = finish_table(df, part, cfg, req, provider.catalog, reference)
                bar.update(len(part))
                if df.empty:
                    continue
                summary.rows += len(df)
                if req.write_results:
                    if req.write_csv:
                        write_table(df, target.iter_path(next_iter, ".csv"))
                    # parquet last: its presence is what resuming trusts
                    path = write_table(df, target.iter_path(next_iter))
                    summary.files.append(path)
                    log.debug("wrote %d rows to %s", len(df), path)
                    next_iter += 1
                else:
                    summary.frames.append(df)
        finally:
            bar.close()
        if lost_here:
            failures.append((target, np.concatenate(lost_here)))
    if summary.not_found:
        log.warning("%d ids were not found in %s", summary.not_found, provider.catalog)
    if failures:
        _report_failures(failures, summary, provider.catalog, write=req.write_results)
    return summary


def _remove_stale_temporaries(target: Target) -> None:
    """Hidden half-written files left by a run that was killed (never read, only clutter)."""
    if not target.out_dir.is_dir():
        return
    pattern = re.compile(rf"^\.{re.escape(target.stem)}_iter_\d+\.(parquet|csv)\..+\.tmp")
    for p in target.out_dir.iterdir():
        if pattern.match(p.name):
            log.debug("removing unfinished file %s", p)
            p.unlink(missing_ok=True)


def _remove_outputs(target: Target) -> None:
    for _, path in target.existing():
        path.unlink()
        csv = path.with_suffix(".csv")
        if csv.exists():
            csv.unlink()
        log.info("--restart: removed %s", path)
    failed = target.out_dir / f"{target.stem}_failed_ids.txt"
    if failed.exists():
        failed.unlink()


def _report_failures(failures, summary: DownloadSummary, catalog: str, *, write: bool) -> None:
    from scope.services.kowalski import format_ids

    all_lost = np.concatenate([ids for _, ids in failures])
    summary.lost = all_lost.tolist()
    lists = []
    if write:
        for target, ids in failures:
            path = target.out_dir / f"{target.stem}_failed_ids.txt"
            with atomic_write(path, "w") as fh:
                fh.writelines(f"{int(i)}\n" for i in ids)
            lists.append(str(path))
    where = f"; listed in {', '.join(lists)}" if lists else ""
    raise QueryError(f"{len(all_lost)} ids could not be downloaded from {catalog} after retries: "
                     f"{format_ids(all_lost)}{where}; rerun the same command to fetch them "
                     f"({summary.rows} rows were written)")
