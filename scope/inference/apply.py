"""run-inference as a library: apply models to feature files in bounded memory.

For every row batch of every feature file (only the needed columns are read):

1. ids, position, period and location go to the output as they are (survey ids: 0 = no match);
2. with ``flag_ids``, sources missing a model feature are listed in ``<name>_flagged.json``;
3. missing values are imputed with the config's strategies (``features.ontological.*.impute_strategy``),
   the batch itself being the reference set as in the reference (or a fixed reference table);
4. each model gets its card's features, in its card's order, scaled with its card's parameters,
   as ``inference.float_type``; rows still missing a value are not scored (NaN) and counted;
5. scores are appended to ``preds_<alg>/field_<F>/<name>.parquet`` (+ ``.csv``), one
   ``<tag>_<alg>`` column per model.

Every feature file is checked against every model before any work starts, and every model is
loaded once (the reference reloaded DNNs for every batch).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from scope.errors import ConfigError, DataError
from scope.inference import inputs
from scope.inference.check import check_schema
from scope.inference.models import ModelSpec

log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SURVEY_ID_COLUMNS = ("Gaia_EDR3___id", "AllWISE___id", "PS1_DR1___id")
LOCATION_COLUMNS = ("field", "ccd", "quad")
#: largest batch used as its own imputation reference; bigger batches use a fixed random subset
#: (k-nearest-neighbour imputation costs n_missing x n_reference distance evaluations)
MAX_BATCH_REFERENCE = 20000
FLOAT_TYPES = ("float32", "float64")


@dataclass
class InferenceOptions:
    """Settings of one run (CLI flags merged with the config).

    Attributes
    ----------
    field : str
        Field number, or a source-list name ending in ``specific_ids``.
    ccd, quad : int
        Quadrant (without ``whole_field``).
    whole_field : bool
        Every feature file of the field; output ``field_<F>.parquet``.
    flag_ids : bool
        Write ``<name>_flagged.json``.
    write_csv, write_metadata : bool
        CSV twin of the predictions; ``meta.json`` in the output folder.
    batch_size : int
        Rows per batch.
    float_type : str or None
        ``float32``/``float64`` model input (default ``inference.float_type``).
    feature_directory, feature_file_prefix : str
        Where the feature files are (see :func:`scope.inference.inputs.locate_feature_files`).
    period_suffix : str or None
        Suffix of the ``period`` column copied to the output (default: the models').
    features_files : list of path, optional
        Explicit feature files (skip the location rules).
    features_base : path, optional
        Base folder of the feature directory (default ``feature_generation.path_to_features`` or CWD).
    preds_root : path, optional
        Folder holding ``preds_<alg>/`` (default ``inference.path_to_preds`` or CWD).
    output_name : str, optional
        File stem of the output (default ``field_<F>`` or ``ccd_<CC>_quad_<Q>``).
    impute_reference : path, optional
        Fixed reference table for imputation (default: each batch is its own reference).
    progress : bool
        Show a progress bar.
    overwrite : bool
        Replace a predictions file made from feature files this run does not read, and let
        parts replace a whole-field file (see :mod:`scope.inference.coverage`).
    """

    field: str = "296"
    ccd: int = 1
    quad: int = 1
    whole_field: bool = False
    flag_ids: bool = False
    write_csv: bool = False
    write_metadata: bool = True
    batch_size: int | None = None
    float_type: str | None = None
    feature_directory: str = "features"
    feature_file_prefix: str = "gen_features"
    period_suffix: Any = ...
    features_files: list | None = None
    features_base: Path | None = None
    preds_root: Path | None = None
    output_name: str | None = None
    impute_reference: str | Path | None = None
    progress: bool = True
    overwrite: bool = False


@dataclass
class InferenceSummary:
    """What a run did."""

    outputs: dict = field(default_factory=dict)
    assembled: dict = field(default_factory=dict)
    complete: bool = True
    columns: dict = field(default_factory=dict)
    n_sources: int = 0
    unscored: dict = field(default_factory=dict)
    n_flagged: int = 0
    flagged_path: Path | None = None
    feature_files: list = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        """One-line summary for the command's closing log message."""
        outs = ", ".join(str(p) for p in self.outputs.values())
        gaps = {k: v for k, v in self.unscored.items() if v}
        unscored = ("; not scored (missing features): " + ", ".join(f"{k} {v}" for k, v in gaps.items())) if gaps else ""
        n_models = sum(len(v) for v in self.columns.values())
        part = "" if self.complete else " (part of the field)"
        built = ("; assembled " + ", ".join(str(p) for p in self.assembled.values())) if self.assembled else ""
        return (f"run-inference: {self.n_sources} sources from {len(self.feature_files)} feature file(s) scored by "
                f"{n_models} model(s) in {self.seconds:.1f} s -> {outs}{part}{built}{unscored}")


def _now() -> str:
    return datetime.now(timezone.utc).strftime(TIME_FORMAT)


class NothingScored(DataError):
    """A run whose models could not score a single source (nothing is written)."""


def plan_run(cfg: Mapping, opts: InferenceOptions) -> tuple[list[Path], list[Path] | None, str, dict]:
    """Feature files to read, every feature file of the field (when known), output stem, coverage.

    ``field_<F>`` for a whole field or a source list; ``ccd_<CC>_quad_<Q>`` for one quadrant;
    ``part_<stem>`` for other explicit files (see :mod:`scope.inference.coverage`).
    """
    from scope import cli
    from scope.inference import coverage

    # a source list (or any other non-numeric name) is complete by definition: it is its own "field"
    source_list = not inputs._is_int(opts.field)
    if source_list and not inputs.is_specific_ids(opts.field) and not opts.features_files:
        raise DataError(f"field must be a number or end in 'specific_ids', got '{opts.field}'")
    base = Path(opts.features_base) if opts.features_base else cli.base_dir(cfg)
    if opts.features_files:
        files = [Path(p) for p in opts.features_files]
        for p in files:
            if not p.exists():
                raise DataError(f"feature file not found: {p}")
    else:
        files = inputs.locate_feature_files(base, opts.feature_directory, opts.field, ccd=opts.ccd, quad=opts.quad,
                                            whole_field=opts.whole_field, prefix=opts.feature_file_prefix)
    field_files = None
    if not source_list:
        if opts.whole_field and not opts.features_files:
            field_files = files
        else:
            try:
                field_files = inputs.locate_feature_files(base, opts.feature_directory, opts.field, whole_field=True,
                                                          prefix=opts.feature_file_prefix)
            except DataError:
                field_files = None
    name, cov = coverage.plan_output(
        field=str(opts.field), files=files, field_files=field_files,
        whole_field=opts.whole_field and not opts.features_files, source_list=source_list,
        quadrant=None if opts.whole_field else (opts.ccd, opts.quad), explicit=bool(opts.features_files),
        name=opts.output_name)
    return files, field_files, name, cov


def preds_root(cfg: Mapping, override: str | Path | None = None) -> Path:
    """Folder holding ``preds_<alg>/``: the override, ``inference.path_to_preds``, or the CWD."""
    if override:
        return Path(override)
    configured = cfg.get_path("inference.path_to_preds") if hasattr(cfg, "get_path") else None
    return cfg.resolve_path(configured) if configured else Path.cwd()


def output_dir(cfg: Mapping, algorithm: str, opts: InferenceOptions) -> Path:
    """``<preds root>/preds_<alg>/field_<F>/``."""
    return preds_root(cfg, opts.preds_root) / f"preds_{algorithm}" / f"field_{opts.field}"


# ---------------------------------------------------------------------------------------------
def run_inference(cfg: Mapping, models: Sequence[ModelSpec], opts: InferenceOptions) -> InferenceSummary:
    """Apply ``models`` to the feature files ``opts`` names and write the predictions.

    Parameters
    ----------
    cfg : scope.config.Config
    models : sequence of ModelSpec
        DNN and/or XGBoost models; one output file per algorithm.
    opts : InferenceOptions

    Returns
    -------
    InferenceSummary

    Raises
    ------
    DataError
        Missing feature files, a feature file lacking a model's columns (one line naming them),
        or a model that cannot be loaded; :class:`NothingScored` when no source could be scored
        (nothing is written then).
    """
    t0 = time.time()
    start = _now()
    models = list(models)
    if not models:
        raise DataError("no models to apply")
    _check_unique_columns(models)
    float_type = _float_type(cfg, opts.float_type)
    batch_size = int(opts.batch_size or cfg.get_path("inference.batch_size", 100000))
    if batch_size < 1:
        raise ConfigError(f"batch size must be >= 1, got {batch_size}")

    from scope.inference import coverage
    from scope.inference.writer import remove_stale_temps
    from scope.tables import ensure_writable_dir

    files, field_files, name, cov = plan_run(cfg, opts)
    algorithms = list(dict.fromkeys(m.algorithm for m in models))
    dirs = {alg: output_dir(cfg, alg, opts) for alg in algorithms}
    for alg, folder in dirs.items():  # before any work: a bad destination costs nothing
        ensure_writable_dir(folder, create=False)  # created when there is something to write
        remove_stale_temps(folder)
        coverage.check_replace(folder / f"{name}.parquet", cov, overwrite=opts.overwrite)
    kinds_of = {p: inputs.file_column_kinds(p) for p in files}
    columns_of = {p: list(k) for p, k in kinds_of.items()}
    for p, kinds in kinds_of.items():  # the file schema first: a mismatch is found before models load
        if kinds:
            check_schema(p, list(kinds), [m for m in models if m.card is not None], kinds)
    for spec in models:  # loading settles whether a card-less DNN reads dmdt
        spec.load()
    for p, kinds in kinds_of.items():
        if kinds:  # an empty quadrant is written as a table without columns
            check_schema(p, list(kinds), models, kinds)

    suffix = _period_suffix(cfg, models, opts.period_suffix)
    period_col = f"period_{suffix}" if suffix else "period"
    all_columns = set().union(*map(set, columns_of.values())) if columns_of else set()
    has_obj_id = "fritz_name" in all_columns
    has_filter = "filter" in all_columns
    strategies = _strategies(cfg, models)
    model_features = list(dict.fromkeys(f for m in models for f in m.features))
    wanted = (["_id", "ra", "dec", period_col, *LOCATION_COLUMNS, "filter", *SURVEY_ID_COLUMNS, "fritz_name"]
              + model_features + [c for s in strategies.values() for c in s])
    if any(m.uses_dmdt for m in models):
        wanted.append("dmdt")
    reference = _load_reference(opts.impute_reference, strategies)

    writers = {}
    from scope.inference.writer import FlagWriter, PredictionWriter

    summary = InferenceSummary(feature_files=[str(p) for p in files], complete=cov["complete"])
    flagger = None
    try:
        for alg in algorithms:
            schema = _schema(has_obj_id, has_filter, [m for m in models if m.algorithm == alg])
            writers[alg] = PredictionWriter(dirs[alg] / f"{name}.parquet", schema, write_csv=opts.write_csv)
        if opts.flag_ids:
            flagger = FlagWriter(dirs[algorithms[0]] / f"{name}_flagged.json")
        unscored = {m.column: 0 for m in models}
        missing_counts = {m.column: np.zeros(len(m.features), dtype=np.int64) for m in models}
        total = sum(inputs.file_rows(p) for p in files)
        from tqdm.auto import tqdm

        bar = tqdm(total=total or None, desc="inference", unit="src", disable=None if opts.progress else True)
        n_dmdt_missing = 0
        for path in files:
            if not columns_of[path]:
                log.info("%s is empty; skipped", path)
                continue
            for frame, dmdt in inputs.iter_batches(path, wanted, batch_size):
                n_dmdt_missing += int(frame.attrs.get("dmdt_missing", 0))
                base_cols = _base_columns(frame, period_col, has_obj_id, has_filter)
                if flagger is not None:
                    _flag(flagger, frame, base_cols["_id"].to_numpy(), model_features)
                work = _impute(frame, cfg, strategies, reference)
                scores = {}
                for spec in models:
                    scores[spec.column], bad = _score(spec, work, dmdt, float_type)
                    unscored[spec.column] += int(bad.any(axis=1).sum())
                    missing_counts[spec.column] += bad.sum(axis=0)
                for alg in algorithms:
                    writers[alg].write(base_cols.assign(**{m.column: scores[m.column] for m in models
                                                           if m.algorithm == alg}))
                summary.n_sources += len(frame)
                bar.update(len(frame))
        bar.close()
        _check_scored(models, files, summary.n_sources, unscored, missing_counts)
        if n_dmdt_missing:
            log.warning("%d sources have no dmdt histogram; the DNN saw zeros for them (as the reference)",
                        n_dmdt_missing)
        common = {**(inputs.file_metadata(files[0]) if files else {}),  # the features' own metadata first
                  "inference_scope_code_version": _version(), "inference_dateTime_utc": start,
                  "inference_end_dateTime_utc": _now(), "feature_files": [str(p) for p in files],
                  "period_suffix": suffix, "float_type": float_type, "n_sources": summary.n_sources,
                  "imputation_reference": str(opts.impute_reference) if opts.impute_reference else "batch"}
        for alg in algorithms:
            alg_models = [m for m in models if m.algorithm == alg]
            meta = {**common, "algorithm": alg, "models": [m.describe() for m in alg_models],
                    "unscored": {m.column: unscored[m.column] for m in alg_models}, coverage.KEY: cov}
            summary.outputs[alg] = writers[alg].close(meta)
            if opts.write_metadata:
                _update_meta(dirs[alg] / "meta.json", opts.field, alg, alg_models,
                             summary.n_sources if cov["complete"] else None)
        if flagger is not None:
            summary.flagged_path = flagger.close()
            summary.n_flagged = flagger.count
    except BaseException:
        for w in writers.values():
            w.abort()
        if flagger is not None:
            flagger.abort()
        raise
    summary.unscored = unscored
    summary.columns = {alg: [m.column for m in models if m.algorithm == alg] for alg in algorithms}
    if not cov["complete"] and field_files:
        for alg in algorithms:
            path = coverage.assemble_field(dirs[alg], str(opts.field), field_files, overwrite=opts.overwrite)
            if path is not None:
                summary.assembled[alg] = path
    summary.seconds = time.time() - t0
    for col, bad in unscored.items():
        if bad:
            log.warning("%s: %d of %d sources not scored: a feature was missing after imputation "
                        "(see --flag-ids)", col, bad, summary.n_sources)
    return summary


# ---------------------------------------------------------------------------------------------
def _version() -> str:
    import scope

    return getattr(scope, "__version__", "unknown")


def _check_unique_columns(models: Sequence[ModelSpec]) -> None:
    seen: dict[str, Path] = {}
    for m in models:
        if m.column in seen:
            raise DataError(f"two models for {m.column}: {seen[m.column]} and {m.path}")
        seen[m.column] = m.path


def _float_type(cfg: Mapping, value: str | None) -> str:
    value = value or cfg.get_path("inference.float_type", "float32")
    value = str(value)
    if value in ("32", "64"):
        value = f"float{value}"
    if value not in FLOAT_TYPES:
        raise ConfigError(f"inference float type must be float32 or float64, got '{value}'")
    return value


def _period_suffix(cfg: Mapping, models: Sequence[ModelSpec], given: Any) -> str | None:
    from scope.schema import default_suffix, normalize_suffix

    if given is not ...:
        return normalize_suffix(given)
    suffixes = {m.period_suffix for m in models}
    if len(suffixes) == 1:
        return suffixes.pop()
    return default_suffix(cfg)


def _strategies(cfg: Mapping, models: Sequence[ModelSpec]) -> dict:
    """``{period_suffix: {column: strategy}}`` for the suffixes the models use."""
    from scope.schema import impute_strategies

    return {m.period_suffix: impute_strategies(cfg, m.period_suffix) for m in models}


def _load_reference(path, strategies: Mapping) -> pd.DataFrame | None:
    if not path:
        return None
    from scope.tables import read_table

    path = Path(path)
    if not path.exists():
        raise DataError(f"imputation reference table not found: {path}")
    wanted = list(dict.fromkeys(c for s in strategies.values() for c in s))
    if path.suffix.lower() in (".parquet", ".pq"):
        present = set(inputs.file_columns(path))
        return read_table(path, columns=[c for c in wanted if c in present])
    df = read_table(path)
    return df[[c for c in wanted if c in df.columns]]


def _base_columns(frame: pd.DataFrame, period_col: str, has_obj_id: bool, has_filter: bool) -> pd.DataFrame:
    """Ids, position, period and location of a batch, in the output's column order."""
    n = len(frame)
    ids = pd.to_numeric(frame["_id"], errors="coerce")
    if ids.isna().any():
        raise DataError(f"{int(ids.isna().sum())} feature rows have no _id")
    out = {"_id": ids.astype(np.int64).to_numpy()}
    if has_obj_id:
        out["obj_id"] = frame["fritz_name"].astype(object).to_numpy() if "fritz_name" in frame.columns \
            else np.array([None] * n, dtype=object)
    for c in SURVEY_ID_COLUMNS:
        values = pd.to_numeric(frame[c], errors="coerce") if c in frame.columns else pd.Series(np.zeros(n))
        out[c] = values.fillna(0).astype(np.int64).to_numpy()
    for c, src in (("ra", "ra"), ("dec", "dec"), ("period", period_col)):
        out[c] = pd.to_numeric(frame[src], errors="coerce").to_numpy(float) if src in frame.columns \
            else np.full(n, np.nan)
    for c in LOCATION_COLUMNS + (("filter",) if has_filter else ()):
        out[c] = pd.to_numeric(frame[c], errors="coerce").astype("Int64") if c in frame.columns \
            else pd.array([pd.NA] * n, dtype="Int64")
    return pd.DataFrame(out)


def _schema(has_obj_id: bool, has_filter: bool, models: Sequence[ModelSpec]) -> list:
    import pyarrow as pa

    cols = [("_id", pa.int64())]
    if has_obj_id:
        cols.append(("obj_id", pa.string()))
    cols += [(c, pa.int64()) for c in SURVEY_ID_COLUMNS]
    cols += [("ra", pa.float64()), ("dec", pa.float64()), ("period", pa.float64())]
    cols += [(c, pa.int64()) for c in LOCATION_COLUMNS + (("filter",) if has_filter else ())]
    cols += [(m.column, pa.float32()) for m in models]
    return cols


def _flag(flagger, frame: pd.DataFrame, ids: np.ndarray, features: Sequence[str]) -> None:
    """Record the sources of a batch that miss a model feature before imputation."""
    names = [f for f in features if f in frame.columns]
    missing = frame[names].apply(pd.to_numeric, errors="coerce").isna().to_numpy() if names \
        else np.zeros((len(frame), 0), bool)
    flagger.add(ids, missing, names)


def _impute(frame: pd.DataFrame, cfg: Mapping, strategies: Mapping, reference: pd.DataFrame | None) -> dict:
    """``{period_suffix: frame}`` with missing values filled per the config's strategies."""
    from scope.imputation import impute_features

    out = {}
    for suffix, strat in strategies.items():
        cols = [c for c in strat if c in frame.columns]
        if reference is None:
            # a column without any value cannot be filled from the batch itself; leave it (its rows
            # stay unscored) rather than warn once per column and batch
            empty = [c for c in cols if pd.to_numeric(frame[c], errors="coerce").isna().all()]
            if empty:
                log.debug("no values at all in this batch for %s", ", ".join(empty))
                cols = [c for c in cols if c not in empty]
        work = frame
        if cols:
            part = frame[cols].apply(pd.to_numeric, errors="coerce")
            ref = reference
            if ref is None and len(frame) > MAX_BATCH_REFERENCE:
                ref = part.sample(MAX_BATCH_REFERENCE, random_state=0)
            imputed = impute_features(part, cfg, period_suffix=suffix, reference=ref, drop_missing=False)
            work = frame.copy(deep=False)  # copy-on-write: only the replaced columns are new
            for c in cols:
                work[c] = pd.to_numeric(imputed[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        out[suffix] = work
    return out


def _check_scored(models: Sequence[ModelSpec], files: Sequence[Path], n_sources: int, unscored: Mapping,
                  missing_counts: Mapping) -> None:
    """Raise :class:`NothingScored` when there was nothing to score or a model scored no source."""
    if n_sources == 0:
        raise NothingScored(f"nothing to score: the feature file(s) {', '.join(str(p) for p in files)} hold no "
                            "sources; no predictions written")
    dead = [m for m in models if unscored[m.column] >= n_sources]
    if not dead:
        return
    parts = []
    for m in dead:
        counts = missing_counts[m.column]
        worst = [(int(counts[i]), m.features[i]) for i in np.argsort(-counts, kind="stable")[:3] if counts[i]]
        parts.append(f"{m.column} (missing: {', '.join(f'{name} in {n}' for n, name in worst)})")
    raise NothingScored(f"nothing could be scored by {', '.join(parts)}: each of the {n_sources} sources misses a "
                        "feature after imputation; no predictions written (see --flag-ids)")


def _score(spec: ModelSpec, work: Mapping, dmdt: np.ndarray | None, float_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Scores of one model for one batch (NaN where a feature is still missing) and the
    ``(rows, features)`` mask of values that were missing."""
    from scope.training.scaling import apply_scaling

    frame = work[spec.period_suffix]
    X = apply_scaling(frame, spec.features, spec.scaling["params"]).to_numpy(dtype=np.float64)
    bad = ~np.isfinite(X)
    ok = ~bad.any(axis=1)
    scores = np.full(len(X), np.nan, dtype=np.float32)
    if ok.any():
        Xs = X[ok].astype(float_type)
        D = None
        if spec.uses_dmdt and dmdt is not None:
            D = dmdt[ok].astype(float_type, copy=False)
        scores[ok] = spec.predict(Xs, D)
    return scores, bad


def _update_meta(path: Path, field_name: str, algorithm: str, models: Sequence[ModelSpec], total: int | None) -> None:
    """``meta.json`` of the field: its models and (from complete runs only) the source count."""
    from scope.tables import update_json

    def update(meta: dict) -> dict:
        meta["field"] = int(field_name) if str(field_name).isdigit() else field_name
        key = f"{algorithm}_models"
        # the reference appended on every rerun; keep each model once
        meta[key] = list(dict.fromkeys([*meta.get(key, []), *(str(m.path) for m in models)]))
        if total is not None:  # a run on part of the field does not know the field's total
            meta["total"] = int(total)
        return meta

    update_json(path, update)
