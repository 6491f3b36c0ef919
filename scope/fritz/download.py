"""scope-download-classification: labels from Fritz, optionally merged with features.

Two ways in:

* **parse mode** (``file="parse"``): every source saved to the given groups, 500 a page, oldest
  save first (so sources saved during the download only add pages at the end);
* **file mode**: a table with ``obj_id`` and/or ``ra``/``dec``; each row is looked up by id, or
  by position (2 arcsec, nearest source) when it has no id or the id is unknown.

Each source becomes one record in the reference's layout (``obj_id, ra, dec, classification,
probability, sum_votes, labellers, period_origin, period``, ``;``-joined like Fritz's web
export), written to ``<output_dir>/<name>_fritzDownload<ext>``. Finished pages (parse mode) or
blocks of 500 rows (file mode) are kept in a hidden part folder, so a crash resumes without
fetching them again; the folder goes once the command has written everything.

Current SkyPortal leaves votes out of list results, so when votes matter
(``--update-training-set``) each source is fetched singly; otherwise ``sum_votes`` stays empty
for list results rather than claiming zero votes.

With ``merge_features`` the records become a training set (reference spec section 4.1): label
columns from the taxonomy mapper, then the features of every light curve within 2 arcsec
(Kowalski's features catalog or local feature files), ``_id`` renamed ``ztf_id`` and moved last.
``update_training_set`` folds the result into the configured training set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.fritz import common
from scope.services import fritz_payloads as fp
from scope.tables import ensure_writable_dir, read_table, write_table

log = logging.getLogger(__name__)

RECORD_COLUMNS = ["obj_id", "ra", "dec", "classification", "probability", "sum_votes", "labellers",
                  "period_origin", "period"]
DOWNLOADED = ("classification", "probability", "period_origin", "period")
ROWS_PER_PART = 500


@dataclass
class DownloadOptions:
    """What scope-download-classification should do (see ``docs/fritz.md``)."""

    file: str = "parse"
    group_ids: Sequence[int] = ()
    start: int = 0
    merge_features: bool = False
    features_catalog: str | None = None
    features_limit: int = 1000
    features_file: str | None = None
    taxonomy_map: str = "golden_dataset_mapper.json"
    output_dir: str = "fritzDownload"
    output_filename: str = "merged_classifications_features"
    output_format: str = "parquet"
    get_ztf_filters: bool = False
    impute_missing_features: bool = False
    update_training_set: bool = False
    updated_training_set_prefix: str = "updated_AL"
    min_vote_diff: int = 1
    radius_arcsec: float = 2.0
    period_suffix: object = ...
    restart: bool = False


@dataclass
class DownloadSummary:
    n_sources: int = 0
    pages: int = 0
    pages_reused: int = 0
    rows_reused: int = 0
    not_found: int = 0
    n_rows: int = 0
    n_training_rows: int = 0
    files: list[Path] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
def download_classifications(cfg, opts: DownloadOptions, client, *, features=None,
                             progress: bool = True) -> DownloadSummary:
    """Run scope-download-classification (see the module docstring).

    Parameters
    ----------
    cfg : scope.config.Config
    opts : DownloadOptions
    client : scope.services.fritz.FritzClient
    features : positional features provider, optional
        Needed with ``merge_features`` (see :mod:`scope.fritz.features`).
    """
    ext = common.normalize_format(opts.output_format)
    out_dir = ensure_writable_dir(Path(opts.output_dir))
    mapper = common.load_taxonomy_map(opts.taxonomy_map, cfg) if opts.merge_features else None
    if opts.merge_features and features is None:
        raise DataError("--merge-features needs a features catalog or local feature files")
    summary = DownloadSummary()
    votes_needed = bool(opts.update_training_set)
    if str(opts.file).lower() == "parse":
        if not opts.group_ids:
            raise DataError("--file parse downloads the sources of groups: give --group-ids")
        name = "parse_fritzDownload" + (f"_continued_page_{opts.start}" if opts.start > 1 else "")
        store = common.PartStore(out_dir / f".{name}.parts",
                                 common.fingerprint(mode="parse", groups=list(opts.group_ids), start=opts.start,
                                                    votes=votes_needed), restart=opts.restart)
        records = _download_groups(client, opts, store, summary, votes_needed, progress)
    else:
        path = Path(opts.file)
        if not path.exists():
            raise DataError(f"input file not found: {path}")
        name = f"{path.stem}_fritzDownload" + (f"_continued_index_{opts.start}" if opts.start > 0 else "")
        store = common.PartStore(out_dir / f".{name}.parts",
                                 common.fingerprint(mode="file", file=common.file_fingerprint(path), start=opts.start,
                                                    votes=votes_needed), restart=opts.restart)
        records = _download_file(client, path, opts, store, summary, votes_needed, progress)
    records.attrs = {"scope_code_version": common.code_version(), "fritz_download_dateTime_utc": common.now_utc()}
    summary.n_sources = int(records["obj_id"].nunique()) if "obj_id" in records else 0
    summary.files.append(write_table(_flat(records, ext), out_dir / f"{name}{ext}"))

    if opts.merge_features:
        sources = sources_table(records, mapper, min_vote_diff=opts.min_vote_diff if opts.update_training_set else None)
        summary.files.append(write_table(_flat(sources, ext), out_dir / f"sources_{out_dir.name}{ext}"))
        merged = merge_features(sources, features, cfg, radius_arcsec=opts.radius_arcsec,
                                get_filters=opts.get_ztf_filters, impute=opts.impute_missing_features,
                                period_suffix=opts.period_suffix)
        merged.attrs = {**records.attrs, **merged.attrs}
        prefix = f"{opts.updated_training_set_prefix}_" if opts.update_training_set else ""
        target = common.output_path(out_dir, prefix + opts.output_filename, ext)
        summary.files.append(write_table(_flat(merged, ext), target))
        summary.n_rows = len(merged)
        if opts.update_training_set:
            path, n = update_training_set(cfg, merged, opts.updated_training_set_prefix)
            summary.files.append(path)
            summary.n_training_rows = n
    store.finish()
    return summary


def _flat(df: pd.DataFrame, ext: str) -> pd.DataFrame:
    """Lists of labellers stay lists in parquet; HDF5 and CSV get ``;``-joined strings."""
    if ext == ".parquet" or "labellers" not in df.columns or df["labellers"].map(lambda v: isinstance(v, str)).all():
        return df
    out = df.copy()
    out["labellers"] = [";".join(v) if isinstance(v, (list, tuple, np.ndarray)) else ("" if v is None else str(v))
                        for v in out["labellers"]]
    out.attrs = dict(df.attrs)
    return out


# ------------------------------------------------------------------------------------------------
def _records(client, sources: list[dict], votes_needed: bool) -> list[dict]:
    out = []
    for src in sources:
        if fp.lacks_nested_detail(src) and votes_needed:
            src = client.source(str(src["id"]), include_labellers=True) or src
        out.append(fp.source_record(src, votes_known=not fp.lacks_nested_detail(src)))
    return out


def _download_groups(client, opts, store, summary, votes_needed, progress) -> pd.DataFrame:
    from tqdm import tqdm

    params = fp.sources_query(group_ids=opts.group_ids, include_labellers=True)
    page = max(1, int(opts.start))
    n_pages = store.get("meta")["n_pages"] if store.has("meta") else None
    bar = None
    while n_pages is None or page <= n_pages:
        part = f"page_{page:06d}"
        if not store.has(part):
            data = client.sources({**params, "pageNumber": str(page)})
            per_page = int(data.get("numPerPage") or fp.MAX_PER_PAGE)
            n_pages = fp.page_count(int(data.get("totalMatches") or 0), per_page)
            store.put("meta", {"n_pages": n_pages})
            store.put(part, _records(client, list(data["sources"]), votes_needed))
            summary.pages += 1
        else:
            summary.pages_reused += 1
        if bar is None and progress and n_pages:
            bar = tqdm(total=max(0, n_pages - max(1, int(opts.start)) + 1), desc="Fritz pages", unit="page")
        if bar is not None:
            bar.update(1)
        page += 1
    if bar is not None:
        bar.close()
    rows = [r for name in store.names() if name.startswith("page_") for r in store.get(name)]
    df = pd.DataFrame(rows, columns=RECORD_COLUMNS)
    return df.drop_duplicates("obj_id").reset_index(drop=True)


def _download_file(client, path: Path, opts, store, summary, votes_needed, progress) -> pd.DataFrame:
    from tqdm import tqdm

    table = read_table(path)
    has_id = "obj_id" in table.columns
    has_pos = {"ra", "dec"} <= set(table.columns)
    if not has_id and not has_pos:
        raise DataError(f"{path} needs an obj_id column or ra and dec columns")
    table = table.iloc[max(0, int(opts.start)):].reset_index(drop=True)
    if all(c in table.columns for c in DOWNLOADED):
        log.info("%s already holds %s: taken as downloaded", path, ", ".join(DOWNLOADED))
        return table
    records: list[dict] = []
    n_parts = int(np.ceil(len(table) / ROWS_PER_PART))
    for k in tqdm(range(n_parts), desc="Fritz rows", unit=f"x{ROWS_PER_PART}", disable=not progress or n_parts < 2):
        part = f"rows_{k:06d}"
        if store.has(part):
            records += store.get(part)
            summary.rows_reused += min(ROWS_PER_PART, len(table) - k * ROWS_PER_PART)
            continue
        block = table.iloc[k * ROWS_PER_PART:(k + 1) * ROWS_PER_PART]
        got = [_lookup_row(client, row, has_id, has_pos, opts.radius_arcsec, votes_needed)
               for row in block.to_dict("records")]
        store.put(part, got)
        records += got
    summary.not_found = sum(1 for r in records if not r.get("found"))
    rec = pd.DataFrame(records)
    out = table.drop(columns=[c for c in RECORD_COLUMNS if c in table.columns and c not in ("obj_id", "ra", "dec")])
    out["obj_id"] = rec["obj_id"].to_numpy()
    for col in ("ra", "dec"):
        if col not in out.columns:
            out[col] = rec[col].to_numpy()
    for col in RECORD_COLUMNS[3:]:
        out[col] = rec[col].to_numpy()
    return out


def _lookup_row(client, row: dict, has_id: bool, has_pos: bool, radius: float, votes_needed: bool) -> dict:
    src = None
    obj_id = row.get("obj_id") if has_id else None
    if obj_id is not None and not fp.is_missing(obj_id):
        src = client.source(str(obj_id), include_labellers=True)
    if src is None and has_pos and not (fp.is_missing(row.get("ra")) or fp.is_missing(row.get("dec"))):
        near = client.sources_near(float(row["ra"]), float(row["dec"]), radius)
        if near:
            from scope.lightcurves.sources.base import angular_separation_arcsec

            sep = angular_separation_arcsec(float(row["ra"]), float(row["dec"]), [s["ra"] for s in near],
                                            [s["dec"] for s in near])
            src = near[int(np.argmin(sep))]
            if votes_needed and fp.lacks_nested_detail(src):
                src = client.source(str(src["id"]), include_labellers=True) or src
    if src is None:
        empty = {c: "" for c in RECORD_COLUMNS}
        empty.update(obj_id=None if obj_id is None or fp.is_missing(obj_id) else str(obj_id),
                     ra=fp.plain(row.get("ra")), dec=fp.plain(row.get("dec")), found=False)
        return empty
    return {**fp.source_record(src, votes_known=not fp.lacks_nested_detail(src)), "found": True}


# ------------------------------------------------------------------------------------------------
def sources_table(records: pd.DataFrame, mapper: dict, *, min_vote_diff: int | None = None) -> pd.DataFrame:
    """One row per source: ``obj_id, ra, dec``, a column per mapper label, ``labellers``.

    A label column holds the probability of the first classification with that Fritz label (0.0
    where absent). With ``min_vote_diff`` (active learning) only classifications whose net votes
    reach it count, and sources nobody voted on are left out.
    """
    label_to_column = common.map_columns(mapper)
    columns = list(dict.fromkeys(label_to_column.values()))
    recs = records.dropna(subset=["obj_id"]).drop_duplicates("obj_id").reset_index(drop=True)
    rows = []
    for rec in recs.to_dict("records"):
        if min_vote_diff is not None:
            sums = [int(s) for s in fp.split_field(rec.get("sum_votes")) if s not in ("", None)]
            if not sums or sum(abs(s) for s in sums) == 0:
                continue
        probs = fp.record_probabilities(rec, label_to_column, min_vote_diff=min_vote_diff)
        labellers = fp.split_field(rec.get("labellers"))
        rows.append({"obj_id": str(rec["obj_id"]), "ra": _float(rec.get("ra")), "dec": _float(rec.get("dec")),
                     **{c: probs.get(c, 0.0) for c in columns}, "labellers": labellers or None})
    return pd.DataFrame(rows, columns=["obj_id", "ra", "dec", *columns, "labellers"])


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def merge_features(sources: pd.DataFrame, provider, cfg, *, radius_arcsec: float = 2.0, get_filters: bool = False,
                   impute: bool = False, period_suffix=...) -> pd.DataFrame:
    """Sources joined to the features of their light curves (one row per source x light curve)."""
    from scope.features_download import cast_dtypes, data_release, stack_dmdt
    from scope.fritz.features import assign_closest

    ok = sources.dropna(subset=["ra", "dec"]).reset_index(drop=True)
    if len(ok) < len(sources):
        log.warning("%d sources have no position and get no features", len(sources) - len(ok))
    matches = assign_closest(provider.near(ok["ra"].to_numpy(), ok["dec"].to_numpy(), radius_arcsec))
    ids = matches["_id"].to_numpy(dtype=np.int64) if len(matches) else np.zeros(0, np.int64)
    feats, lost = provider.fetch(ids, None)
    if len(lost):
        raise DataError(f"features of {len(lost)} light curves could not be fetched from {provider.catalog}; "
                        "run again to retry")
    feats = feats.drop(columns=[c for c in ("ra", "dec", "obj_id", "ztf_id") if c in feats.columns])
    feats = cast_dtypes(feats, cfg, period_suffix, report_missing=False)
    feats = stack_dmdt(feats)
    pairs = matches[["query_index", "_id"]].astype({"_id": np.int64})
    if len(feats):
        feats = feats.assign(_id=feats["_id"].astype(np.int64))
    merged = ok.iloc[pairs["query_index"].to_numpy()].reset_index(drop=True)
    merged["_id"] = pairs["_id"].to_numpy()
    merged = merged.merge(feats, on="_id", how="inner")
    if get_filters and "filter" not in merged.columns and len(merged):
        from scope.lightcurves import ztf_ids

        merged["filter"] = [int(ztf_ids.decode_id(int(i)).filter) for i in merged["_id"]]
    merged = merged.rename(columns={"_id": "ztf_id"})
    merged = merged[[c for c in merged.columns if c != "ztf_id"] + ["ztf_id"]]
    n_without = int((~ok["obj_id"].isin(merged["obj_id"])).sum())
    if n_without:
        log.info("%d of %d sources have no light curve with features within %.3g arcsec", n_without, len(ok),
                 radius_arcsec)
    if impute and len(merged):
        from scope.imputation import impute_features

        merged = impute_features(merged, cfg, period_suffix=period_suffix)
    merged.attrs = {"features_download_dateTime_utc": common.now_utc(),
                    "features_ztf_dataRelease": data_release(provider.catalog), "features_imputed": bool(impute)}
    return merged.reset_index(drop=True)


def update_training_set(cfg, new_rows: pd.DataFrame, prefix: str) -> tuple[Path, int]:
    """Append ``new_rows`` to the configured training set and write ``<dir>/<prefix>_<name>``.

    A light curve already in the training set keeps its original ``obj_id`` and takes the new
    row's values (the scanners' latest verdict).
    """
    path = cfg.resolve_path(cfg.get_path("training.dataset"))
    if path is None or not Path(path).exists():
        raise DataError(f"--update-training-set needs the training set named by training.dataset; not found: {path}")
    old = read_table(path)
    if "ztf_id" not in old.columns:
        raise DataError(f"training set {path} has no ztf_id column")
    both = pd.concat([old, new_rows[[c for c in new_rows.columns if c in old.columns]]], ignore_index=True)
    first_names = both.drop_duplicates("ztf_id", keep="first").set_index("ztf_id")["obj_id"]
    updated = both.drop_duplicates("ztf_id", keep="last").reset_index(drop=True)
    updated["obj_id"] = updated["ztf_id"].map(first_names).to_numpy()
    updated.attrs = {**old.attrs, "updated_from_fritz_dateTime_utc": common.now_utc()}
    target = Path(path).parent / f"{prefix}_{Path(path).name}"
    write_table(updated, target)
    n_new = int((~new_rows["ztf_id"].isin(old["ztf_id"])).sum())
    log.info("training set: %d rows, %d new, %d updated -> %s", len(updated), n_new, len(new_rows) - n_new, target)
    return target, len(updated)
