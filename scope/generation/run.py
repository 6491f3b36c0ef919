"""generate-features on one quadrant or source list: select, fetch and clean, compute, write.

Several quadrants of a field in one process: :mod:`scope.generation.field`; where files go and
what is checked before writing: :mod:`scope.generation.outputs`.
"""

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
from scope.generation.outputs import output_path, prepare_outputs, remove_if_empty, selection_key
from scope.generation.selection import (bright_star_cut, check_quadrant, quadrant_from_file, quadrant_sources,
                                        read_close_source_list, read_source_list)
from scope.lightcurves.batch import LightCurveBatch
from scope.tables import update_json, write_table

log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PROGRAMIDS = (1, 2, 3)
#: Summary name of the epochs of programs other than :data:`PROGRAMIDS`.
OTHER_PROGRAMS = "of other programs"


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime(TIME_FORMAT)


def fetch_and_clean(source, ids: np.ndarray, opts: GenerateOptions, summary: RunSummary,
                    bar=None) -> LightCurveBatch:
    """All light curves of ``ids``, cleaned; drops and removed epochs are counted in ``summary``.

    Light curves are fetched untrimmed, so that every epoch removed (of other programs, after
    ``max_timestamp_hjd``, implausible, thinned ...) is counted by the step that removed it.
    ``bar`` advances by the light curves that are dropped here.
    """
    chunk = max(1, int(opts.query_size_limit))
    batches = []
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        batch = source.lightcurves(part)
        missing = len(part) - len(batch)
        summary.drop("without a light curve", missing)
        summary.epochs_in += len(batch.t)
        n_points = len(batch.t)
        batch = batch.trim(programids=PROGRAMIDS)
        summary.remove_epochs(OTHER_PROGRAMS, n_points - len(batch.t))
        cleaned, reasons, epochs = clean_batch(batch, min_n_points=opts.min_n_lc_points,
                                               min_cadence_minutes=opts.min_cadence_minutes,
                                               max_timestamp_hjd=opts.max_timestamp_hjd,
                                               mag_range=opts.mag_range, time_window=opts.time_window)
        for reason, count in reasons.items():
            summary.drop(reason, count)
        for step, count in epochs.items():
            summary.remove_epochs(step, count)
        if bar is not None:
            bar.update(len(part) - len(cleaned))
        batches.append(cleaned)
    return LightCurveBatch.concat(batches)


def clean_batch(batch: LightCurveBatch, *, min_n_points: int, min_cadence_minutes: float,
                max_timestamp_hjd: float | None = None, mag_range=None,
                time_window=None) -> tuple[LightCurveBatch, dict, dict]:
    """Clean every light curve of a batch.

    Returns the survivors, dropped light curves by reason, and removed epochs by step.
    """
    from scope.features.clean import clean_lightcurves

    res = clean_lightcurves(batch.t, batch.m, batch.e, batch.offsets, flags=batch.flags,
                            max_timestamp_hjd=max_timestamp_hjd, min_cadence_minutes=min_cadence_minutes,
                            min_n_points=min_n_points, mag_range=mag_range, time_window=time_window)
    kept = res.kept
    cleaned = LightCurveBatch(ids=batch.ids, offsets=res.offsets, t=res.t, m=res.m, e=res.e,
                              flags=batch.flags[res.index], programid=batch.programid[res.index], ra=batch.ra,
                              dec=batch.dec, band=batch.band, field=batch.field, ccd=batch.ccd, quad=batch.quad,
                              source=batch.source)
    return cleaned.subset(kept), res.drop_summary(), res.epochs_removed


def generate_features(cfg: Mapping, opts: GenerateOptions, *, source=None, catalogs=None,
                      base: Path | None = None, sources: pd.DataFrame | None = None,
                      bar=None) -> tuple[pd.DataFrame, RunSummary]:
    """Run generate-features on one quadrant or source list; return the feature table and a summary.

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
    bar : tqdm, optional
        Progress bar to advance (one unit per selected source); default: a bar of this run's own.

    Returns
    -------
    (pandas.DataFrame, RunSummary)
        The features (one row per light curve written) and what happened.

    Raises
    ------
    DataError
        An impossible or empty selection (CCD outside 1-16, quadrant outside 1-4, a field or
        quadrant without light curves, an empty source list, ids none of which has a light
        curve), an unwritable output folder, a corrupt light-curve file, or a partial
        (``--stop-early``) run that would replace a complete feature file. Nothing is written then.
    """
    from scope import cli
    from scope.lightcurves.sources import open_source

    t0 = time.time()
    start_time = utc_now()
    base = Path(base) if base is not None else cli.base_dir(cfg, opts.base_dir)
    if opts.quadrant_file:
        qfile = Path(opts.quadrant_file)
        if not qfile.is_absolute():
            qfile = base / opts.dirname / "slurm" / qfile
        opts.field, opts.ccd, opts.quad = quadrant_from_file(qfile, opts.quadrant_index)
    elif not opts.specific_ids and sources is None:
        check_quadrant(opts.field, opts.ccd, opts.quad)
    if opts.do_cesium:
        from scope.generation.cesium_features import check_cesium

        check_cesium(opts.cesium_features)
    out = output_path(base, opts)
    created = prepare_outputs(base, opts, out)
    try:
        if source is None:
            source = open_source(cfg, catalog=opts.source_catalog, source=opts.source)
        if sources is None:
            sources = select_sources(opts, source, base)
        elif not len(sources):
            raise DataError("no sources given to compute features for")
        return generate_selected(cfg, opts, sources.reset_index(drop=True), source=source, catalogs=catalogs,
                                 base=base, out=out, bar=bar, t0=t0, start_time=start_time)
    except DataError:
        remove_if_empty(created)  # a refused run leaves nothing behind, not even empty folders
        raise


def select_sources(opts: GenerateOptions, source, base: Path) -> pd.DataFrame:
    """``_id, ra, dec`` (+ ``fritz_name``) of the run: a quadrant's, a source list's, or the saved list's.

    Raises :class:`DataError` when the selection is empty, naming what was empty.
    """
    limit = opts.query_size_limit if opts.stop_early else None
    if opts.specific_ids:
        if opts.fg_dataset:
            path = Path(opts.fg_dataset)
            path = path if path.is_absolute() else base / path
            sources = read_source_list(path, source, limit=limit)
        elif opts.skip_close_sources:
            path = base / opts.dirname / opts.close_sources_file
            sources = read_close_source_list(path, limit=limit)
        else:
            raise DataError("--doSpecificIDs needs --fg-dataset (or feature_generation.dataset)")
        if not len(sources):
            raise DataError(f"source list {path} holds no sources")
        return sources
    sources = quadrant_sources(source, opts.field, opts.ccd, opts.quad, minobs=opts.min_n_lc_points, limit=limit)
    if not len(sources):
        if not source.quadrants(opts.field):
            raise DataError(f"field {opts.field} has no light curves in {source.catalog}")
        raise DataError(f"field {opts.field}, CCD {opts.ccd}, quadrant {opts.quad} has no light curves with at "
                        f"least {opts.min_n_lc_points} epochs in {source.catalog}")
    return sources


def generate_selected(cfg, opts: GenerateOptions, sources: pd.DataFrame, *, source, catalogs, base: Path,
                      out: Path, bar, t0: float, start_time: str) -> tuple[pd.DataFrame, RunSummary]:
    """Bright-star cut, fetch and clean, features batch by batch (resumably), and the file."""
    summary = RunSummary()
    summary.n_input = len(sources)
    own_bar = bar is None
    if own_bar:
        bar = tqdm(total=len(sources), desc="features", unit="lc", disable=None if opts.progress else True,
                   dynamic_ncols=True)
    try:
        df, summary = _compute(cfg, opts, sources, source, catalogs, base, out, bar, summary, t0, start_time)
    finally:
        if own_bar:
            bar.close()
    return df, summary


def _compute(cfg, opts, sources, source, catalogs, base, out, bar, summary, t0, start_time):
    selection = selection_key(sources)
    if catalogs is None:
        catalogs = open_catalogs_or_none(cfg, opts)
    if not opts.skip_close_sources:
        if catalogs is None:
            raise DataError("the bright-star exclusion needs Gaia: configure data.catalogs_path or Kowalski, "
                            "or pass --skipCloseSources")
        sources, dropped = bright_star_cut(sources, catalogs, gaia_catalog=_gaia(cfg, opts),
                                           radius=opts.bright_star_radius, xmatch_radius=opts.xmatch_radius,
                                           max_gmag=opts.bright_star_max_gmag)
        summary.drop("near a bright star", len(dropped))
        bar.update(len(dropped))
        if opts.specific_ids and opts.save:
            _save_close_source_list(base / opts.dirname / opts.close_sources_file, sources)

    batch = fetch_and_clean(source, sources["_id"].to_numpy(np.int64), opts, summary, bar)
    if opts.specific_ids and len(sources) and summary.dropped.get("without a light curve", 0) == len(sources):
        raise DataError(f"none of the {len(sources)} sources has a light curve in {source.catalog}")
    if not len(batch):
        log.warning("no light curve survived selection and cleaning")
        return _finish(cfg, pd.DataFrame(), opts, summary, out, start_time, t0, source, selection)

    from scope.generation.compute import FeatureComputer

    computer = FeatureComputer(opts, batch)
    key = run_key(batch.ids, {**opts.fingerprint(), "grid": computer.grid_params()})
    ckpt_dir = Path(opts.checkpoint_dir) if opts.checkpoint_dir else out.parent / f".{out.stem}.parts"
    ckpt = Checkpoint(ckpt_dir, key)
    done = ckpt.done(restart=opts.restart) if opts.save else set()
    if done:
        summary.resumed_batches = len(done)
        log.info("resuming %s: %d of %d batches already done", out.name, len(done), computer.n_batches)
    extra = sources.set_index("_id")
    cesium = list(opts.cesium_features) if opts.do_cesium else None
    parts = []
    for k in range(computer.n_batches):
        sub = computer.batch(k)
        if k in done:
            parts.append(ckpt.load(k))
            bar.update(len(sub))
            continue
        cols = computer.compute(k, progress=bar.update)
        cols.update(_catalog_columns(sub, catalogs, cfg, opts))
        part = assemble_columns(sub, cols, extra, cesium=cesium)
        if opts.save:
            ckpt.save(k, part, done)
        parts.append(part)
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    result = _finish(cfg, df, opts, summary, out, start_time, t0, source, selection,
                     provenance=computer.provenance())
    if opts.save:
        ckpt.clear()
    return result


def _gaia(cfg, opts):
    return opts.gaia_catalog or cfg.get("kowalski", {}).get("collections", {}).get("gaia", "Gaia_EDR3")


def open_catalogs_or_none(cfg, opts):
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


def _finish(cfg, df, opts, summary, out, start_time, t0, source, selection: str, provenance=None):
    collections = cfg.get("kowalski", {}).get("collections", {})
    df.attrs = {
        "scope_code_version": __version__,
        "feature_generation_start_dateTime_utc": start_time,
        "feature_generation_end_dateTime_utc": utc_now(),
        "ZTF_source_catalog": getattr(source, "catalog", opts.source_catalog or ""),
        "ZTF_alerts_catalog": opts.alerts_catalog or collections.get("alerts", ""),
        "Gaia_catalog": _gaia(cfg, opts),
        "feature_schema": {"fourier_form": opts.fourier_form, "period_algorithms": list(opts.algorithms)},
        "parameters": opts.fingerprint(),
        "partial": bool(opts.stop_early),
        "selection_key": selection,
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
    entry = {"minobs": opts.min_n_lc_points, "start_time_utc": start_time, "end_time_utc": utc_now(),
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
    if opts.multi_quadrant:
        from scope.generation.field import generate_field

        return generate_field(cfg, opts)
    _, summary = generate_features(cfg, opts)
    return summary
