"""select-fritz-sample: pick sources for scanners to label (active learning) or for GCN follow-up.

From the predictions of one algorithm (``preds_<alg>/field_<f>/field_<f>.parquet``):

1. **consolidate** light curves into sources: one source per survey id (Gaia EDR3, else AllWISE,
   else PS1; a light curve with none is its own source - the reference dropped them), scores and
   positions aggregated with ``mean``/``median``/``max`` over its light curves (in every field:
   the reference's cross-field merge was keyed on the light-curve id and merged nothing), named by
   its Fritz ``obj_id`` when the predictions carry one, else ``ZTFJhhmmss.ss±ddmmss.s``;
2. add ``nonvar_<alg> = 1 - vnv_<alg>``; optionally drop sources of the training set;
3. **select**, per class (the model folders of ``models_<alg>/<group>``), the sources scoring at
   least ``probability_threshold``: a random sample (seed 9) topping the selection up to
   ``min_class_examples`` per class, or with ``select_top_n`` the best ``min_class_examples``;
4. write ``<al_directory>_<alg>/<al_filename>/<al_filename>.parquet`` (+ ``.csv``) and
   ``meta.json`` (``{<tag>_<alg>: selected sources above threshold}``).

In the reference the console command did nothing (its body was a generator nobody iterated).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.services import fritz_payloads as fp
from scope.tables import atomic_write, ensure_writable_dir, read_table, write_table

log = logging.getLogger(__name__)

STATISTICS = {"mean": "mean", "average": "mean", "avg": "mean", "median": "median", "med": "median", "max": "max",
              "maximum": "max"}
SEED = 9


@dataclass
class SampleOptions:
    fields: Sequence[str] = ("all",)
    group: str = "experiment"
    min_class_examples: int = 1000
    select_top_n: bool = False
    include_all_highprob_labels: bool = False
    probability_threshold: float = 0.9
    al_directory: str = "AL_datasets"
    al_filename: str = "active_learning_set"
    algorithm: str = "dnn"
    exclude_training_sources: bool = False
    write_csv: bool = False
    consolidation_statistic: str = "mean"
    read_consolidation_results: bool = False
    write_consolidation_results: bool = False
    consol_filename: str = "inference_results"
    do_not_save: bool = False
    do_all_sources: bool = False


def _statistic(name: str) -> str:
    try:
        return STATISTICS[str(name).strip().lower()]
    except KeyError:
        raise DataError(f"--consolidation-statistic must be mean, median or max, got '{name}'") from None


def prediction_files(preds: Path, fields: Sequence[str]) -> list[Path]:
    """``field_<f>/field_<f>.parquet`` for the named fields, or every field folder for ``all``."""
    if not preds.is_dir():
        raise DataError(f"no predictions folder {preds} (run run-inference first)")
    if not fields or [str(f).lower() for f in fields] == ["all"]:
        folders = sorted(p for p in preds.iterdir() if p.is_dir() and not p.name.startswith("."))
    else:
        folders = []
        for f in fields:
            name = f"field_{f}"
            folders.append(preds / name if (preds / name).is_dir() or str(f).isdigit() else preds / str(f))
    files = []
    for d in folders:
        path = d / f"{d.name}.parquet"
        if not path.exists():
            raise DataError(f"predictions file not found: {path}")
        files.append(path)
    if not files:
        raise DataError(f"no predictions under {preds}")
    return files


def consolidate(frames: Sequence[pd.DataFrame], algorithm: str, statistic: str = "mean") -> pd.DataFrame:
    """One row per source (see the module docstring, step 1)."""
    from scope.inference.combine import survey_ids

    how = _statistic(statistic)
    df = pd.concat(list(frames), ignore_index=True)
    if df.empty:
        raise DataError("the predictions are empty")
    keys, counts = survey_ids(df)
    df = df.assign(survey_id=keys.to_numpy())
    scores = [c for c in df.columns if c.endswith(f"_{algorithm}")]
    if not scores:
        raise DataError(f"the predictions have no <tag>_{algorithm} columns (wrong --algorithm?)")
    grouped = df.groupby("survey_id", sort=True)
    out = grouped[scores].agg(how)
    for col, agg in (("ra", "mean"), ("dec", "mean"), ("period", "median")):
        if col in df.columns:
            out[col] = grouped[col].agg(agg)
    out["_id"] = grouped["_id"].agg(lambda s: int(s.iloc[0]))
    out["lightcurve_ids"] = grouped["_id"].agg(lambda s: sorted(int(v) for v in s))
    if "obj_id" in df.columns:
        out["obj_id"] = grouped["obj_id"].agg(lambda s: next((str(v) for v in s if not fp.is_missing(v)), None))
    else:
        out["obj_id"] = None
    out = out.reset_index()
    names = [o if o else fp.position_name(r, d) for o, r, d in zip(out["obj_id"], out["ra"], out["dec"])]
    out["obj_id"] = names
    dup = out["obj_id"].duplicated(keep="first")
    if dup.any():  # two survey ids within 0.1 arcsec: the same star; keep the first
        log.warning("%d sources share a position name with another; kept the first of each", int(dup.sum()))
        out = out[~dup]
    log.info("%d light curves -> %d sources (survey ids: %s)", len(df), len(out),
             ", ".join(f"{k} {v}" for k, v in counts.items()))
    lead = ["obj_id", "survey_id", "_id", "ra", "dec"] + (["period"] if "period" in out.columns else [])
    return out[lead + [c for c in out.columns if c not in lead]].reset_index(drop=True)


def select(sources: pd.DataFrame, classes: Sequence[str], *, threshold: float, quota: int, top_n: bool = False,
           include_all: bool = False) -> pd.DataFrame:
    """The selection of step 3 (``classes`` are score columns, e.g. ``vnv_dnn``)."""
    rng = np.random.default_rng(SEED)
    if top_n:
        parts = []
        for c in classes:
            top = sources[sources[c] >= threshold].sort_values(c, ascending=False, kind="stable").head(quota)
            if include_all:
                top = top.copy()
                for other in classes:
                    top.loc[top[other] < threshold, other] = 0.0
            else:
                keep = [k for k in ("obj_id", "survey_id", "ra", "dec", "period", c) if k in top.columns]
                top = top[keep]
            parts.append(top)
        if not parts:
            return sources.iloc[0:0]
        both = pd.concat(parts, ignore_index=True)
        numeric = [c for c in both.columns if c in classes]
        both[numeric] = both[numeric].fillna(0.0)
        first = both.groupby("obj_id", sort=False).first()
        first[numeric] = both.groupby("obj_id", sort=False)[numeric].max()
        return first.reset_index()
    chosen: list[int] = []
    taken: set[int] = set()
    for c in classes:
        candidates = np.flatnonzero(sources[c].to_numpy(dtype=float) >= threshold)
        have = sum(1 for i in chosen if sources[c].iloc[i] >= threshold)
        need = quota - have
        pool = [i for i in candidates if i not in taken]
        if need <= 0 or not pool:
            continue
        picks = pool if len(pool) <= need else sorted(rng.choice(pool, size=need, replace=False).tolist())
        chosen += picks
        taken.update(picks)
    return sources.iloc[sorted(taken)].reset_index(drop=True)


def model_classes(models_dir: Path, algorithm: str, columns: Sequence[str]) -> list[str]:
    if not models_dir.is_dir():
        raise DataError(f"no models folder {models_dir} (train models first, or pick --group)")
    tags = sorted(p.name for p in models_dir.iterdir() if p.is_dir() and f"{p.name}_{algorithm}" in columns)
    if not tags:
        raise DataError(f"no model folder in {models_dir} matches a <tag>_{algorithm} column of the predictions")
    out = [f"{t}_{algorithm}" for t in tags]
    if f"nonvar_{algorithm}" in columns:
        out.append(f"nonvar_{algorithm}")
    return out


def select_fritz_sample(cfg, opts: SampleOptions, *, base: Path | None = None) -> tuple[pd.DataFrame, list[Path]]:
    """Run select-fritz-sample (see the module docstring); returns the selection and files written."""
    base = Path(base or Path.cwd())
    alg = str(opts.algorithm).lower()
    if alg not in ("dnn", "xgb"):
        raise DataError(f"--algorithm must be dnn or xgb, got '{opts.algorithm}'")
    out_dir = base / f"{opts.al_directory}_{alg}" / Path(opts.al_filename).stem
    if not opts.do_not_save or opts.write_consolidation_results:
        ensure_writable_dir(out_dir)
    consol = out_dir / f"{opts.consol_filename}_consol.parquet"
    written: list[Path] = []
    if opts.read_consolidation_results:
        if not consol.exists():
            raise DataError(f"--read-consolidation-results: {consol} not found")
        sources = read_table(consol)
    else:
        files = prediction_files(base / f"preds_{alg}", opts.fields)
        frames = [read_table(f) for f in files]
        sources = consolidate(frames, alg, opts.consolidation_statistic)
        if opts.write_consolidation_results:
            written.append(write_table(sources, consol))
            full = pd.concat(frames, ignore_index=True)
            written.append(write_table(full, out_dir / f"{opts.consol_filename}_full.parquet"))
            if opts.write_csv:
                written.append(write_table(sources, consol.with_suffix(".csv")))
    if f"vnv_{alg}" in sources.columns and f"nonvar_{alg}" not in sources.columns:
        sources[f"nonvar_{alg}"] = (1.0 - sources[f"vnv_{alg}"]).round(2)
    if opts.exclude_training_sources:
        sources = _without_training_sources(cfg, sources)
    classes = model_classes(base / f"models_{alg}" / opts.group, alg, list(sources.columns))
    quota = len(sources) if opts.do_all_sources else int(opts.min_class_examples)
    picked = select(sources, classes, threshold=float(opts.probability_threshold), quota=quota,
                    top_n=opts.select_top_n, include_all=opts.include_all_highprob_labels)
    meta = {c: int((picked[c] >= opts.probability_threshold).sum()) for c in classes if c in picked.columns}
    picked.attrs = {"algorithm": alg, "group": opts.group, "probability_threshold": float(opts.probability_threshold),
                    "min_class_examples": quota, "select_top_n": bool(opts.select_top_n)}
    if not opts.do_not_save:
        name = Path(opts.al_filename).stem
        written.append(write_table(picked, out_dir / f"{name}.parquet"))
        if opts.write_csv:
            written.append(write_table(picked, out_dir / f"{name}.csv"))
        with atomic_write(out_dir / "meta.json") as fh:
            json.dump(meta, fh, indent=1)
        written.append(out_dir / "meta.json")
    return picked, written


def _without_training_sources(cfg, sources: pd.DataFrame) -> pd.DataFrame:
    path = cfg.resolve_path(cfg.get_path("training.dataset"))
    if path is None or not Path(path).exists():
        raise DataError(f"--exclude-training-sources needs the training set named by training.dataset; "
                        f"not found: {path}")
    train = read_table(path, columns=None)
    names = set(train["obj_id"].astype(str)) if "obj_id" in train.columns else set()
    lcs = set(pd.to_numeric(train["ztf_id"], errors="coerce").dropna().astype(np.int64)) \
        if "ztf_id" in train.columns else set()
    keep = [not (o in names or any(int(i) in lcs for i in ids))
            for o, ids in zip(sources["obj_id"], sources["lightcurve_ids"])]
    log.info("dropped %d sources of the training set", len(sources) - sum(keep))
    return sources[keep].reset_index(drop=True)
