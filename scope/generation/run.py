"""Orchestration of generate-features (see :mod:`scope.generation`)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from scope import __version__
from scope.errors import DataError
from scope.generation.assemble import assemble_columns, ontological_columns
from scope.generation.checkpoint import Checkpoint, run_key
from scope.generation.options import GenerateOptions, RunSummary
from scope.generation.selection import bright_star_cut, quadrant_from_file, quadrant_sources, read_source_list
from scope.lightcurves.batch import LightCurveBatch
from scope.tables import update_json, write_table

log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PROGRAMIDS = (1, 2, 3)


def _now() -> str:
    return datetime.now(timezone.utc).strftime(TIME_FORMAT)


def output_path(base: Path, opts: GenerateOptions) -> Path:
    """Where the feature file goes (the reference's layout)."""
    root = Path(base) / opts.dirname
    if opts.specific_ids:
        return root / "specific_ids" / f"{opts.filename}_specific_ids.parquet"
    return root / f"field_{opts.field}" / f"{opts.filename}_field_{opts.field}_ccd_{opts.ccd}_quad_{opts.quad}.parquet"


def fetch_and_clean(source, ids: np.ndarray, opts: GenerateOptions, summary: RunSummary) -> LightCurveBatch:
    """All light curves of ``ids``, cleaned; drops are counted in ``summary`` by reason."""
    chunk = max(1, int(opts.query_size_limit))
    batches = []
    for start in tqdm(range(0, len(ids), chunk), desc="fetching light curves", disable=None if opts.progress else True,
                      leave=False):
        part = ids[start:start + chunk]
        batch = source.lightcurves(part, max_timestamp_hjd=opts.max_timestamp_hjd, programids=PROGRAMIDS)
        missing = len(part) - len(batch)
        if missing:
            summary.drop("without a light curve", missing)
        cleaned, reasons = clean_batch(batch, min_n_points=opts.min_n_lc_points,
                                       min_cadence_minutes=opts.min_cadence_minutes)
        for reason, count in reasons.items():
            summary.drop(reason, count)
        batches.append(cleaned)
    return LightCurveBatch.concat(batches)


def clean_batch(batch: LightCurveBatch, *, min_n_points: int, min_cadence_minutes: float,
                max_timestamp_hjd: float | None = None) -> tuple[LightCurveBatch, dict]:
    """Clean every light curve of a batch; return the survivors and drop counts by reason."""
    from scope.features.clean import clean_lightcurves

    res = clean_lightcurves(batch.t, batch.m, batch.e, batch.offsets, flags=batch.flags,
                            max_timestamp_hjd=max_timestamp_hjd, min_cadence_minutes=min_cadence_minutes,
                            min_n_points=min_n_points)
    kept = res.kept
    cleaned = LightCurveBatch(ids=batch.ids, offsets=res.offsets, t=res.t, m=res.m, e=res.e,
                              flags=batch.flags[res.index], programid=batch.programid[res.index], ra=batch.ra,
                              dec=batch.dec, band=batch.band, field=batch.field, ccd=batch.ccd, quad=batch.quad,
                              source=batch.source)
    return cleaned.subset(kept), res.drop_summary()


def generate_features(cfg: Mapping, opts: GenerateOptions, *, source=None, catalogs=None,
                      base: Path | None = None, sources: pd.DataFrame | None = None) -> tuple[pd.DataFrame, RunSummary]:
    """Run generate-features and return the feature table and a summary.

    Parameters
    ----------
    cfg : scope.config.Config
    opts : GenerateOptions
    source, catalogs : optional
        Light-curve source and catalog provider (default: from the config).
    base : path, optional
        Base output folder (default: ``opts.base_dir``, config ``path_to_features``, or CWD).
    sources : pandas.DataFrame, optional
        ``_id, ra, dec`` (+ ``fritz_name``) to work on, bypassing quadrant/source-list selection
        (the bright-star cut still applies unless ``opts.skip_close_sources``).

    Returns
    -------
    (pandas.DataFrame, RunSummary)
        The features (one row per light curve written) and what happened.
    """
    from scope import cli
    from scope.catalogs import open_catalogs
    from scope.lightcurves.sources import open_source

    t0 = time.time()
    start_time = _now()
    summary = RunSummary()
    base = Path(base) if base is not None else cli.base_dir(cfg, opts.base_dir)
    if opts.quadrant_file:
        qfile = Path(opts.quadrant_file)
        if not qfile.is_absolute():
            qfile = base / opts.dirname / "slurm" / qfile
        opts.field, opts.ccd, opts.quad = quadrant_from_file(qfile, opts.quadrant_index)
    if source is None:
        source = open_source(cfg, catalog=opts.source_catalog, source=opts.source)

    # 1. select
    if sources is not None:
        sources = sources.reset_index(drop=True)
    elif opts.specific_ids:
        if not opts.fg_dataset:
            raise DataError("--doSpecificIDs needs --fg-dataset (or feature_generation.dataset)")
        path = Path(opts.fg_dataset)
        path = path if path.is_absolute() else base / path
        sources = read_source_list(path, source, limit=opts.query_size_limit if opts.stop_early else None)
    else:
        sources = quadrant_sources(source, opts.field, opts.ccd, opts.quad, minobs=opts.min_n_lc_points,
                                   limit=opts.query_size_limit if opts.stop_early else None)
    summary.n_input = len(sources)
    if catalogs is None:
        catalogs = _open_catalogs_or_none(cfg, opts)
    if len(sources) and not opts.skip_close_sources:
        if catalogs is None:
            raise DataError("the bright-star exclusion needs Gaia: configure data.catalogs_path or Kowalski, "
                            "or pass --skipCloseSources")
        sources, dropped = bright_star_cut(sources, catalogs, gaia_catalog=_gaia(cfg, opts),
                                           radius=opts.bright_star_radius, xmatch_radius=opts.xmatch_radius,
                                           max_gmag=opts.bright_star_max_gmag)
        summary.drop("near a bright star", len(dropped))
        if opts.specific_ids and opts.save:
            _save_close_source_list(base / opts.dirname / cfg.get("feature_generation", {}).get(
                "ids_skipGaia", "specific_ids_dropCloseSources.json"), sources)

    # 2. fetch and clean
    batch = fetch_and_clean(source, sources["_id"].to_numpy(np.int64), opts, summary)
    out = output_path(base, opts)
    if not len(batch):
        log.warning("no light curve survived selection and cleaning")
        df = pd.DataFrame()
        return _finish(cfg, df, opts, summary, out, start_time, t0, source, catalogs)

    # 3. compute, batch by batch, resumably
    from scope.generation.compute import FeatureComputer

    computer = FeatureComputer(opts, batch)
    key = run_key(batch.ids, {**opts.fingerprint(), "grid": computer.grid_params()})
    ckpt_dir = Path(opts.checkpoint_dir) if opts.checkpoint_dir else out.parent / f".{out.stem}.parts"
    ckpt = Checkpoint(ckpt_dir, key)
    done = ckpt.done(restart=opts.restart)
    if done:
        summary.resumed_batches = len(done)
        log.info("resuming: %d of %d batches already done", len(done), computer.n_batches)
    extra = sources.set_index("_id")
    parts = []
    bar = tqdm(total=len(batch), desc="features", disable=None if opts.progress else True, unit="lc")
    for k in range(computer.n_batches):
        sub = computer.batch(k)
        if k in done:
            parts.append(ckpt.load(k))
        else:
            cols = computer.compute(k)
            cols.update(_catalog_columns(sub, catalogs, cfg, opts))
            part = assemble_columns(sub, cols, extra)
            if opts.save:
                ckpt.save(k, part, done)
            parts.append(part)
        bar.update(len(sub))
    bar.close()
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    result = _finish(cfg, df, opts, summary, out, start_time, t0, source, catalogs, provenance=computer.provenance())
    if opts.save:
        ckpt.clear()
    return result


def _gaia(cfg, opts):
    return opts.gaia_catalog or cfg.get("kowalski", {}).get("collections", {}).get("gaia", "Gaia_EDR3")


def _open_catalogs_or_none(cfg, opts):
    from scope.catalogs import open_catalogs
    from scope.errors import ConfigError

    try:
        return open_catalogs(cfg, opts.source)
    except ConfigError as exc:
        log.warning("%s: alert statistics and cross-matches will be missing (NaN)", exc)
        return None


def _catalog_columns(batch: LightCurveBatch, catalogs, cfg, opts) -> dict:
    """Alert statistics and external cross-match columns for a batch."""
    from scope.features.alerts import alert_stats
    from scope.features.xmatch import xmatch_columns

    n = len(batch)
    cols: dict = {}
    if catalogs is None:
        cols["n_ztf_alerts"] = np.zeros(n, np.int64)
        cols["mean_ztf_alert_braai"] = np.zeros(n)
        cols.update(ontological_columns(opts.external_catalogs, n))
        return cols
    alerts_name = opts.alerts_catalog or cfg.get("kowalski", {}).get("collections", {}).get("alerts", "ZTF_alerts")
    if _has(catalogs, alerts_name):
        hits = catalogs.cone(alerts_name, batch.ra, batch.dec, opts.xmatch_radius, columns=["braai"])
        count, mean = alert_stats(n, hits["query_index"].to_numpy(np.int64),
                                  pd.to_numeric(hits["braai"], errors="coerce").to_numpy(float))
        cols["n_ztf_alerts"], cols["mean_ztf_alert_braai"] = count, mean
    else:
        cols["n_ztf_alerts"] = np.zeros(n, np.int64)
        cols["mean_ztf_alert_braai"] = np.zeros(n)
    for catalog, fields in opts.external_catalogs.items():
        wanted = [f for f in fields if f != "_id"]
        if _has(catalogs, catalog):
            hits = catalogs.cone(catalog, batch.ra, batch.dec, opts.xmatch_radius, columns=wanted)
            values = {f: hits[f].to_numpy() for f in fields if f in hits.columns}
            xcols, _ = xmatch_columns(catalog, n, hits["query_index"].to_numpy(np.int64),
                                      hits["sep_arcsec"].to_numpy(float), values, fields)
            cols.update(xcols)
        else:
            cols.update(ontological_columns({catalog: fields}, n))
    return cols


def _has(catalogs, name: str) -> bool:
    has = getattr(catalogs, "has", None)
    return True if has is None else bool(has(name))


def _save_close_source_list(path: Path, sources: pd.DataFrame) -> None:
    """``specific_ids_dropCloseSources.json``: the kept sources, for later --skipCloseSources runs."""
    import json

    from scope.tables import atomic_write

    names = sources["fritz_name"] if "fritz_name" in sources.columns else [None] * len(sources)
    payload = {}
    for _id, ra, dec, name in zip(sources["_id"], sources["ra"], sources["dec"], names):
        entry = {"radec_geojson": {"coordinates": [float(ra) - 180.0, float(dec)]}}
        if name is not None:
            entry["fritz_name"] = str(name)
        payload[str(int(_id))] = entry
    with atomic_write(path) as fh:
        json.dump(payload, fh)


def _finish(cfg, df, opts, summary, out, start_time, t0, source, catalogs, provenance=None):
    collections = cfg.get("kowalski", {}).get("collections", {})
    df.attrs = {
        "scope_code_version": __version__,
        "feature_generation_start_dateTime_utc": start_time,
        "feature_generation_end_dateTime_utc": _now(),
        "ZTF_source_catalog": getattr(source, "catalog", opts.source_catalog or ""),
        "ZTF_alerts_catalog": opts.alerts_catalog or collections.get("alerts", ""),
        "Gaia_catalog": _gaia(cfg, opts),
        "feature_schema": {"fourier_form": opts.fourier_form, "period_algorithms": list(opts.algorithms)},
        "parameters": opts.fingerprint(),
    }
    if provenance:
        df.attrs["period_search"] = provenance
    summary.n_written = len(df)
    if opts.save:
        write_table(df, out)
        summary.output = out
        _update_meta(out.parent.parent / "meta.json", opts, df, start_time)
    summary.seconds = time.time() - t0
    return df, summary


def _update_meta(path: Path, opts: GenerateOptions, df: pd.DataFrame, start_time: str) -> None:
    entry = {"minobs": opts.min_n_lc_points, "start_time_utc": start_time, "end_time_utc": _now(),
             "ZTF_source_catalog": df.attrs.get("ZTF_source_catalog"),
             "ZTF_alerts_catalog": df.attrs.get("ZTF_alerts_catalog"), "Gaia_catalog": df.attrs.get("Gaia_catalog"),
             "total": int(len(df))}
    if opts.specific_ids:
        group, key = "specific_ids", "specific_ids"
    else:
        group, key = "(field, ccd, quad)", f"({opts.field}, {opts.ccd}, {opts.quad})"

    def update(meta: dict) -> dict:
        meta.setdefault(group, {})[key] = entry
        return meta

    update_json(path, update)


def generate_features_command(cfg, opts: GenerateOptions) -> RunSummary:
    """What the generate-features command runs: features, written, and the summary."""
    _, summary = generate_features(cfg, opts)
    return summary
