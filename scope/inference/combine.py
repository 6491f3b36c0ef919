"""combine-preds: merge DNN and XGBoost predictions per field and match light curves to sources.

A ZTF object observed in g and r (and in overlapping fields) has several light curves, hence
several prediction rows. Light curves are matched to one astrophysical source through their
cross-match ids, in priority order Gaia EDR3, then AllWISE, then PS1 DR1: the source key is
``survey_id = "<catalog>___<id>"`` (``Gaia_EDR3___123``). A light curve with none of them is kept
as a source of its own, ``survey_id = "ZTF___<_id>"``, and counted in the log (the reference
dropped them silently).

Outputs (under ``<preds root>/<combined dirname>/``, default ``preds_dnn_xgb/``)::

    field_<F>.parquet           one row per light curve: ids, survey_id, position, <tag>_dnn..., <tag>_xgb...
    merged_field_<F>.parquet    --merge-dnn-xgb: one row per source, <tag> = both algorithms and all its
                                light curves aggregated (mean or max)
    merged_field_<F>_meta.json  --merge-dnn-xgb: {source: [tags scoring above --p-threshold]}
    fields.json                 fields done, excluded or to do
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from scope.errors import ConfigError, DataError

log = logging.getLogger(__name__)

SURVEY_PRIORITY = ("Gaia_EDR3", "AllWISE", "PS1_DR1")
OWN_ID_PREFIX = "ZTF"
ALGORITHM_SUFFIXES = ("_dnn", "_xgb")
AGG_METHODS = ("mean", "max")
_FIELD_DIR = re.compile(r"^field_(\d+)$")


def survey_ids(df: pd.DataFrame) -> tuple[pd.Series, dict]:
    """The source key of each light curve and how many keys came from each catalog.

    Returns
    -------
    (pandas.Series, dict)
        ``survey_id`` strings and ``{"Gaia_EDR3": n, "AllWISE": n, "PS1_DR1": n, "none": n}``.
    """
    n = len(df)
    key = pd.Series([None] * n, index=df.index, dtype=object)
    todo = np.ones(n, dtype=bool)
    counts = {}
    for catalog in SURVEY_PRIORITY:
        col = f"{catalog}___id"
        if col not in df.columns:
            counts[catalog] = 0
            continue
        ids = pd.to_numeric(df[col], errors="coerce").fillna(0).astype(np.int64).to_numpy()
        use = todo & (ids != 0)
        key[use] = [f"{catalog}___{v}" for v in ids[use]]
        counts[catalog] = int(use.sum())
        todo &= ~use
    own = pd.to_numeric(df["_id"], errors="coerce").astype("Int64").to_numpy()
    key[todo] = [f"{OWN_ID_PREFIX}___{v}" for v in own[todo]]
    counts["none"] = int(todo.sum())
    return key, counts


def _is_score(col: str) -> bool:
    return col.endswith(ALGORITHM_SUFFIXES)


def merge_algorithms(dnn: pd.DataFrame | None, xgb: pd.DataFrame | None, key: str = "_id") -> tuple[pd.DataFrame, dict]:
    """One row per ``key`` with the score columns of both algorithms (outer join).

    Non-score columns (ids, position, period, location) come from the DNN table, filled from
    the XGBoost table for rows only it has. Returns the frame and ``{"dnn_only", "xgb_only"}``.
    """
    tables = [t for t in (dnn, xgb) if t is not None]
    if not tables:
        raise DataError("no predictions to combine")
    for t in tables:
        if key not in t.columns:
            raise DataError(f"prediction table lacks the key column {key}")
        if t[key].duplicated().any():
            raise DataError(f"prediction table has repeated {key} values ({int(t[key].duplicated().sum())})")
    base_cols = list(dict.fromkeys(c for t in tables for c in t.columns if not _is_score(c)))
    base = pd.concat([t[[c for c in base_cols if c in t.columns]] for t in tables], ignore_index=True)
    base = base.drop_duplicates(key, keep="first").reset_index(drop=True)
    out = base
    for t in tables:
        scores = [c for c in t.columns if _is_score(c) and c not in out.columns]
        out = out.merge(t[[key] + scores], on=key, how="left")
    counts = {"dnn_only": 0, "xgb_only": 0}
    if dnn is not None and xgb is not None:
        in_dnn, in_xgb = set(dnn[key]), set(xgb[key])
        counts = {"dnn_only": len(in_dnn - in_xgb), "xgb_only": len(in_xgb - in_dnn)}
    return out, counts


def with_survey_ids(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """``df`` with a ``survey_id`` column placed after the id columns.

    Tables consolidated per source already have one (select-fritz-sample's GCN files, one row per
    Fritz source and no light-curve ``_id``): it is kept, and only counted.
    """
    if "survey_id" in df.columns:
        prefixes = df["survey_id"].astype(str).str.split("___").str[0]
        counts = {c: int((prefixes == c).sum()) for c in SURVEY_PRIORITY}
        counts["none"] = int(len(df) - sum(counts.values()))
        return df.copy(), counts
    keys, counts = survey_ids(df)
    out = df.copy()
    pos = 2 if "obj_id" in out.columns and list(out.columns[:2]) == ["_id", "obj_id"] else 1
    out.insert(min(pos, len(out.columns)), "survey_id", keys.to_numpy())
    return out, counts


def aggregate_sources(df: pd.DataFrame, agg_method: str = "mean") -> pd.DataFrame:
    """One row per source: ``<tag>`` = aggregate of ``<tag>_dnn``/``<tag>_xgb`` over its light curves.

    Positions are averaged and the period is the median; ``n_lightcurves`` and ``lightcurve_ids``
    say which light curves went in.
    """
    if agg_method not in AGG_METHODS:
        raise ConfigError(f"--agg-method must be one of {', '.join(AGG_METHODS)}, got '{agg_method}'")
    groups = ["obj_id", "survey_id"] if "obj_id" in df.columns else ["survey_id"]
    scores = [c for c in df.columns if _is_score(c)]
    tags = list(dict.fromkeys(c.rsplit("_", 1)[0] for c in scores))
    ids_col = ["_id"] if "_id" in df.columns else []  # tables consolidated per source have none
    long = []
    for suffix in ALGORITHM_SUFFIXES:
        cols = [c for c in scores if c.endswith(suffix)]
        if not cols:
            continue
        part = df[groups + ids_col + [c for c in ("ra", "dec", "period", "field") if c in df.columns] + cols]
        long.append(part.rename(columns={c: c[: -len(suffix)] for c in cols}))
    stacked = pd.concat(long, ignore_index=True) if long else df[groups + ids_col].copy()
    for t in tags:
        if t not in stacked.columns:
            stacked[t] = np.nan
    grouped = stacked.groupby(groups, sort=True, dropna=False)
    out = grouped[tags].agg(agg_method) if tags else grouped.size().to_frame("n")[[]]
    extra = {}
    for c, how in (("ra", "mean"), ("dec", "mean"), ("period", "median"), ("field", "first")):
        if c in stacked.columns:
            extra[c] = grouped[c].agg(how)
    if ids_col:
        ids = grouped["_id"].agg(lambda s: sorted({int(v) for v in s}))
        head = pd.DataFrame({"_id": ids.map(lambda v: v[0]), "n_lightcurves": ids.map(len), "lightcurve_ids": ids,
                             **extra}, index=out.index)
    else:
        head = pd.DataFrame(extra, index=out.index)
    return pd.concat([head, out], axis=1).reset_index()


def above_threshold(merged: pd.DataFrame, p_threshold: float) -> dict:
    """``{source: [tags with score > p_threshold]}`` for sources with at least one such tag."""
    key = "obj_id" if "obj_id" in merged.columns else "survey_id"
    tags = [c for c in merged.columns if c not in {"obj_id", "survey_id", "_id", "n_lightcurves", "lightcurve_ids",
                                                   "ra", "dec", "period", "field"}]
    values = merged[tags].to_numpy(dtype=float) if tags else np.zeros((len(merged), 0))
    out = {}
    for k, row in zip(merged[key], values):
        hit = [t for t, v in zip(tags, row) if np.isfinite(v) and v > p_threshold]
        if hit:
            out[str(k)] = hit
    return out


# ---------------------------------------------------------------------------------------------
@dataclass
class CombineSummary:
    """What a combine-preds run did."""

    combined: list = field(default_factory=list)
    written: list = field(default_factory=list)
    skipped_done: list = field(default_factory=list)
    missing_algorithm: dict = field(default_factory=dict)
    no_survey_id: dict = field(default_factory=dict)
    frames: dict = field(default_factory=dict)
    refused: dict = field(default_factory=dict)

    def line(self) -> str:
        own = sum(self.no_survey_id.values())
        return (f"combine-preds: {len(self.combined)} field(s) combined, {len(self.skipped_done)} already done; "
                f"{own} light curve(s) without Gaia/AllWISE/PS1 id kept as their own sources"
                + (f"; written: {', '.join(str(p) for p in self.written)}" if self.written else ""))


def _field_number(name: str) -> int | None:
    m = _FIELD_DIR.match(name)
    return int(m.group(1)) if m else None


def _available(folder: Path) -> set[int]:
    if not folder.is_dir():
        return set()
    return {n for n in (_field_number(p.name) for p in folder.iterdir() if p.is_dir()) if n is not None}


def _config_fields(cfg: Mapping) -> tuple[list[int], list[int]]:
    to_run = [int(f) for f in (cfg.get_path("inference.fields_to_run") or [])]
    excluded = [int(f) for f in (cfg.get("fields_to_exclude") or [])]
    return [f for f in to_run if f not in excluded], excluded


def combine_preds(cfg: Mapping, *, path_to_preds: str | Path | None = None, combined_dirname: str = "preds_dnn_xgb",
                  specific_field: str | int | None = None, use_config_fields: bool = False, dateobs: str | None = None,
                  merge_dnn_xgb: bool = False, dnn_directory: str = "preds_dnn", xgb_directory: str = "preds_xgb",
                  save: bool = True, write_csv: bool = False, agg_method: str = "mean", p_threshold: float = 0.7,
                  overwrite: bool = False) -> CombineSummary:
    """Combine the DNN and XGBoost predictions of fields (or of a GCN source list).

    Parameters
    ----------
    cfg : scope.config.Config
    path_to_preds : path, optional
        Folder holding the prediction folders (default ``inference.path_to_preds`` or CWD).
    combined_dirname : str
        Output folder name.
    specific_field : str or int, optional
        Only this field (a number, or a name such as ``specific_ids``).
    use_config_fields : bool
        Only ``inference.fields_to_run`` minus ``fields_to_exclude``.
    dateobs : str, optional
        Combine ``GCN_sources_<dateobs>`` (``:`` become ``-``) instead of fields.
    merge_dnn_xgb : bool
        Also aggregate per source into ``merged_<name>.parquet`` and its meta JSON.
    save, write_csv : bool
        Write outputs; add CSV twins.
    agg_method : {"mean", "max"}
        How scores of a source's light curves and algorithms are aggregated.
    p_threshold : float
        Score above which a tag is listed for a source in the meta JSON.
    overwrite : bool
        Recombine fields whose combined file is newer than their predictions (otherwise skipped).
    """
    from scope.inference.apply import preds_root
    from scope.tables import write_table

    if specific_field is not None and dateobs:
        raise ConfigError("give only one of --specific-field and --dateobs")
    if use_config_fields and dateobs:
        raise ConfigError("give only one of --use-config-fields and --dateobs")
    if agg_method not in AGG_METHODS:
        raise ConfigError(f"--agg-method must be one of {', '.join(AGG_METHODS)}, got '{agg_method}'")
    root = preds_root(cfg, path_to_preds)
    dirs = {"dnn": root / dnn_directory, "xgb": root / xgb_directory}
    out_dir = root / combined_dirname
    summary = CombineSummary()

    excluded: list[int] = []
    if dateobs:
        names = [f"GCN_sources_{str(dateobs).replace(':', '-')}"]
    elif specific_field is not None:
        names = [f"field_{specific_field}"]
    else:
        available = sorted(_available(dirs["dnn"]) | _available(dirs["xgb"]))
        if use_config_fields:
            wanted, excluded = _config_fields(cfg)
            missing = [f for f in wanted if f not in available]
            if missing:
                log.warning("no predictions yet for configured field(s) %s", ", ".join(map(str, missing)))
            fields = [f for f in wanted if f in available]
        else:
            _, excluded = _config_fields(cfg)
            fields = [f for f in available if f not in excluded]
        names = [f"field_{f}" for f in fields]
        if not names:
            raise DataError(f"no field predictions in {dirs['dnn']} or {dirs['xgb']}")

    if save:
        from scope.tables import ensure_writable_dir

        ensure_writable_dir(out_dir, create=False)  # before any table is read
    todo = []
    refused: dict[str, str] = {}
    for name in names:
        inputs = {alg: d / name / f"{name}.parquet" for alg, d in dirs.items()}
        present = {alg: p for alg, p in inputs.items() if p.exists()}
        if not present:
            raise DataError(f"no predictions for {name}: looked for {inputs['dnn']} and {inputs['xgb']}")
        why = incomplete_inputs(present)
        if why:
            refused[name] = why
            log.error("%s not combined: %s", name, why)
            continue
        targets = [out_dir / f"{name}.parquet"] + ([out_dir / f"merged_{name}.parquet"] if merge_dnn_xgb else [])
        newest = max(p.stat().st_mtime for p in present.values())
        if save and not overwrite and all(t.exists() and t.stat().st_mtime >= newest for t in targets):
            summary.skipped_done.append(name)
            continue
        todo.append((name, present))
    if summary.skipped_done:
        log.info("already combined (newer than their predictions; --overwrite to redo): %s",
                 ", ".join(summary.skipped_done))
    if save and not dateobs and specific_field is None:
        done = [_field_number(n) for n in summary.skipped_done]
        listed = sorted({*(f for f in done if f is not None), *excluded,
                         *(f for f in (_field_number(n) for n, _ in todo) if f is not None)})
        from scope.tables import atomic_write

        with atomic_write(out_dir / "fields.json") as fh:
            json.dump(listed, fh)

    for name, present in todo:
        tables = {alg: _read(p) for alg, p in present.items()}
        # light curves are the rows of run-inference output; tables consolidated per object (the reference's
        # GCN files) have only obj_id
        key = "_id" if all("_id" in t.columns for t in tables.values()) else "obj_id"
        if len(present) == 1:
            only = next(iter(present))
            summary.missing_algorithm[name] = "xgb" if only == "dnn" else "dnn"
            log.warning("%s: no %s predictions; the combined table has %s columns only", name,
                        summary.missing_algorithm[name], only)
        combined, counts = merge_algorithms(tables.get("dnn"), tables.get("xgb"), key=key)
        for side, n in counts.items():
            if n:
                log.warning("%s: %d light curves have %s predictions only", name, n, side.replace("_only", ""))
        combined, sources = with_survey_ids(combined)
        summary.no_survey_id[name] = sources["none"]
        log.info("%s: %d light curves -> sources by Gaia %d, AllWISE %d, PS1 %d; %d without any of these ids kept "
                 "under their own id (survey_id ZTF___<_id>)", name, len(combined), sources["Gaia_EDR3"],
                 sources["AllWISE"], sources["PS1_DR1"], sources["none"])
        combined.attrs = {"combine_dateTime_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
                          "inputs": {alg: str(p) for alg, p in present.items()}, "survey_id_counts": sources,
                          "models": {alg: t.attrs.get("models") for alg, t in tables.items()},
                          "coverage": {alg: t.attrs.get("coverage") for alg, t in tables.items()}}
        summary.frames[name] = combined
        summary.combined.append(name)
        if save:
            summary.written.append(write_table(combined, out_dir / f"{name}.parquet"))
            if write_csv:
                summary.written.append(write_table(combined, out_dir / f"{name}.csv"))
        if merge_dnn_xgb:
            merged = aggregate_sources(combined, agg_method)
            merged.attrs = {**combined.attrs, "agg_method": agg_method, "p_threshold": p_threshold}
            summary.frames[f"merged_{name}"] = merged
            if save:
                from scope.tables import atomic_write

                summary.written.append(write_table(merged, out_dir / f"merged_{name}.parquet"))
                if write_csv:
                    summary.written.append(write_table(merged, out_dir / f"merged_{name}.csv"))
                meta_path = out_dir / f"merged_{name}_meta.json"
                with atomic_write(meta_path) as fh:
                    json.dump(above_threshold(merged, p_threshold), fh, indent=1)
                summary.written.append(meta_path)
    summary.refused = refused
    if refused:
        raise DataError(f"{len(refused)} of {len(names)} prediction set(s) not combined (nothing merged over "
                        f"complete predictions): " + "; ".join(f"{n}: {w}" for n, w in refused.items()))
    return summary


def incomplete_inputs(present: Mapping[str, Path]) -> str:
    """Why the prediction files of one field must not be combined (``""`` when they may).

    A file that records itself as covering part of the field (``coverage.complete`` false, see
    :mod:`scope.inference.coverage`) is never combined: merged with a complete file of the other
    algorithm it would leave most light curves without that algorithm's scores, and alone it
    would pass for the field. Files without a record (older or reference files) are combined as
    they are.
    """
    from scope.inference.coverage import KEY, read_metadata

    for alg, path in present.items():
        cov = read_metadata(path).get(KEY) or {}
        if cov.get("complete") is False:
            n = len(cov.get("feature_files") or [])
            total = cov.get("field_feature_files")
            other = [a for a in present if a != alg]
            return (f"{path} holds predictions for part of the field only ({n}"
                    f"{f' of {total}' if total else ''} feature file(s))"
                    + (f", while {present[other[0]]} is there too" if other else "")
                    + f"; run run-inference --whole-field for {alg} first")
    return ""


def _read(path: Path) -> pd.DataFrame:
    from scope.tables import read_table

    return read_table(path)

