"""run-scope-local: from a list of objects to class predictions on this machine.

1. read the list (ZTF ids and/or ra/dec, optional names; :mod:`scope.inference.local_input`);
2. find the light curves: by id, by cone search (``cone_radius_arcsec``), or by name in per-object
   light-curve files; from the local archive, the light-curve files, or Kowalski;
3. generate their features (:func:`scope.generation.generate_features`, source-list mode) into
   ``<base>/<dirname>_<stamp>/specific_ids/<filename>_<stamp>_specific_ids.parquet``;
4. apply the newest model of every class of each ``(algorithm, group)`` (one pass over the
   features) into ``preds_<alg>/field_<stamp>_specific_ids/``;
5. write ``<base>/scope_local_<stamp>/predictions.parquet`` (+ ``.csv``): one row per (object,
   light curve) with every score, or one row per object that has none with ``status`` saying why.

``<stamp>`` is the UTC start time ``YYYYmmdd_HHMMSS``, returned so callers can find the outputs.
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

from scope.errors import ConfigError

log = logging.getLogger(__name__)

PREDICTED = "predicted"
RESULTS_DIR = "scope_local_{stamp}"


@dataclass
class LocalOptions:
    """Settings of run-scope-local beyond those of generate-features.

    Attributes
    ----------
    path_dataset : path
        The object list (CSV, parquet, HDF5).
    cone_radius_arcsec : float
        Search radius for objects given by position.
    save_sources_filepath : str
        Where the matched light-curve list goes (relative paths: inside the results folder).
    algorithms, group_names : list of str
        Model groups to apply, ``models_<alg>/<group>/`` (aligned lists; one group serves all).
    models_dir : path, optional
        Folder holding ``models_<alg>/`` (default CWD).
    lightcurve_files : list of path, optional
        Per-object light-curve files to read instead of the archive or Kowalski.
    write_csv : bool
        CSV twins of the predictions.
    inference : dict
        Further :class:`~scope.inference.apply.InferenceOptions` fields (batch_size, float_type,
        period_suffix, impute_reference ...).
    legacy : LegacyScaling, optional
        Scaling of models without a card.
    """

    path_dataset: str | Path
    cone_radius_arcsec: float = 2.0
    save_sources_filepath: str = "sources.parquet"
    algorithms: Sequence[str] = ("dnn",)
    group_names: Sequence[str] = ("experiment",)
    models_dir: str | Path | None = None
    lightcurve_files: Sequence[str | Path] | None = None
    write_csv: bool = False
    inference: dict = field(default_factory=dict)
    legacy: Any = None


@dataclass
class LocalResult:
    """What run-scope-local produced."""

    stamp: str
    results: pd.DataFrame
    results_path: Path | None = None
    features_path: Path | None = None
    predictions: dict = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        objects = self.results.drop_duplicates("row")
        ok = set(self.results.loc[self.results["status"] == PREDICTED, "row"])
        failed = objects[~objects["row"].isin(ok)]
        reasons = failed["status"].map(lambda s: s.split(":")[0]).value_counts()
        why = "; ".join(f"{n} {r}" for r, n in reasons.items())
        return (f"run-scope-local {self.stamp}: {len(objects)} objects, {len(ok)} with predictions"
                + (f", {len(failed)} without ({why})" if len(failed) else "")
                + (f" -> {self.results_path}" if self.results_path else "") + f" in {self.seconds:.1f} s")


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")


def _open_source(cfg, gen_opts, lightcurve_files):
    if lightcurve_files:
        from scope.lightcurves.sources import LightCurveTableSource

        return LightCurveTableSource([Path(p) for p in lightcurve_files])
    configured = (cfg.get("data") or {}).get("lightcurve_files") or []
    if configured and gen_opts.source is None:
        from scope.lightcurves.sources import LightCurveTableSource

        return LightCurveTableSource([cfg.resolve_path(p) for p in configured])
    from scope.lightcurves.sources import open_source

    return open_source(cfg, catalog=gen_opts.source_catalog, source=gen_opts.source)


def _open_catalogs(cfg, gen_opts):
    from scope.catalogs import open_catalogs

    try:
        return open_catalogs(cfg, gen_opts.source)
    except ConfigError as exc:
        log.info("no ancillary catalogs (%s)", exc)
        return None


def run_scope_local(cfg: Mapping, gen_opts, local: LocalOptions, *, source=None, catalogs=None,
                    stamp: str | None = None) -> LocalResult:
    """Run the whole local pipeline (see the module docstring).

    Parameters
    ----------
    cfg : scope.config.Config
    gen_opts : scope.generation.GenerateOptions
        Feature-generation settings (source-list mode, dirname and filename are set here).
    local : LocalOptions
    source, catalogs : optional
        Light-curve source and catalog provider (default: from the options and the config).
    stamp : str, optional
        Time stamp of the outputs (default: now, UTC).

    Returns
    -------
    LocalResult
    """
    from scope import cli
    from scope.generation import generate_features
    from scope.inference.apply import InferenceOptions, run_inference
    from scope.inference.local_input import find_lightcurves, read_object_list
    from scope.tables import write_table

    t0 = time.time()
    stamp = stamp or _stamp()
    from scope.tables import ensure_writable_dir

    base = cli.base_dir(cfg, gen_opts.base_dir)
    models = _models(cfg, local)  # fail before any light curve is fetched
    ensure_writable_dir(base)

    path = Path(local.path_dataset)
    if not path.is_absolute() and not path.exists():
        path = base / path
    objects = read_object_list(path)
    if source is None:
        source = _open_source(cfg, gen_opts, local.lightcurve_files)
    matches, reasons = find_lightcurves(objects, source, local.cone_radius_arcsec)
    log.info("%d objects: %d light curves found; %d objects without any", len(objects.table), len(matches),
             len(reasons))
    out_dir = base / RESULTS_DIR.format(stamp=stamp)
    sources = (matches.drop_duplicates("_id")
               .rename(columns={"obj_id": "fritz_name"})[["_id", "ra", "dec", "fritz_name"]]
               .reset_index(drop=True))
    sources_path = Path(local.save_sources_filepath)
    sources_path = sources_path if sources_path.is_absolute() else out_dir / sources_path
    write_table(sources.rename(columns={"_id": "ztf_id"}), sources_path)

    features, features_path, feature_drops = pd.DataFrame(), None, {}
    if len(sources):
        if catalogs is None:
            catalogs = _open_catalogs(cfg, gen_opts)
        if catalogs is None and not gen_opts.skip_close_sources:
            log.warning("no Gaia catalog configured (data.catalogs_path or Kowalski): the bright-star exclusion "
                        "is skipped and cross-match features are missing")
            gen_opts.skip_close_sources = True
        gen_opts.specific_ids = True
        gen_opts.fg_dataset = str(sources_path)
        gen_opts.dirname = f"{gen_opts.dirname}_{stamp}"
        gen_opts.filename = f"{gen_opts.filename}_{stamp}"
        gen_opts.save = True
        features, summary = generate_features(cfg, gen_opts, source=source, catalogs=catalogs, base=base,
                                              sources=sources)
        log.info(summary.line())
        features_path = summary.output
        lost = np.setdiff1d(sources["_id"].to_numpy(np.int64),
                            pd.to_numeric(features["_id"]).to_numpy(np.int64) if len(features) else [])
        feature_drops = _why_dropped(source, lost, gen_opts)

    scores = pd.DataFrame({"_id": pd.Series(dtype=np.int64)})
    predictions = {}
    if features_path is not None and len(features):
        field_name = f"{stamp}_specific_ids"
        opts = InferenceOptions(field=field_name, features_files=[features_path], flag_ids=True,
                                write_csv=local.write_csv, progress=gen_opts.progress, **local.inference)
        from scope.inference.apply import NothingScored

        try:
            inf = run_inference(cfg, models, opts)
        except NothingScored as exc:
            # every object still gets its row: "not scored" with the reason below
            log.warning("%s", exc)
            inf = None
        if inf is not None:
            log.info(inf.line())
            predictions = dict(inf.outputs)
        from scope.tables import read_table

        for alg, p in predictions.items():
            table = read_table(p)
            cols = ["_id"] + [c for c in table.columns if c.endswith(f"_{alg}")]
            scores = scores.merge(table[cols], on="_id", how="outer") if len(scores) else table[cols]
    results = _results(objects.table, matches, reasons, feature_drops, features, scores, [m.column for m in models])
    results.attrs = {"run_scope_local_stamp": stamp, "input": str(path), "features": str(features_path),
                     "predictions": {k: str(v) for k, v in predictions.items()},
                     "models": [m.describe() for m in models]}
    results_path = write_table(results, out_dir / "predictions.parquet")
    if local.write_csv:
        write_table(results, out_dir / "predictions.csv")
    res = LocalResult(stamp=stamp, results=results, results_path=results_path, features_path=features_path,
                      predictions=predictions, seconds=time.time() - t0)
    return res


def _models(cfg, local: LocalOptions):
    from scope.inference.models import discover_group
    from scope.training.options import normalize_algorithm

    from scope.training.backends import require_algorithm

    algorithms = [normalize_algorithm(a) for a in local.algorithms]
    groups = list(local.group_names)
    if not algorithms:
        raise ConfigError("no --algorithms given")
    if 1 < len(groups) < len(algorithms):
        raise ConfigError(f"give one --group-names entry or one per algorithm ({len(algorithms)}), got {len(groups)}")
    if len(groups) > len(algorithms):
        # the reference paired groups with algorithms in order and ignored the rest; its docs rely on it
        log.warning("--group-names: %s not used (one group per --algorithms entry, in order: %s)",
                    ", ".join(groups[len(algorithms):]),
                    ", ".join(f"{a} -> {g}" for a, g in zip(algorithms, groups)))
        groups = groups[:len(algorithms)]
    for alg in dict.fromkeys(algorithms):
        require_algorithm(alg)  # before any light curve is fetched
    models_dir = Path(local.models_dir) if local.models_dir else Path.cwd()
    period_suffix = local.inference.get("period_suffix", ...)
    out = []
    for k, alg in enumerate(algorithms):
        out += discover_group(cfg, models_dir, groups[k] if len(groups) > 1 else groups[0], alg,
                              period_suffix=period_suffix, legacy=local.legacy)
    return out


def _why_dropped(source, ids: np.ndarray, gen_opts) -> dict:
    """A reason for each light curve feature generation left out (cleaning, or the bright-star cut)."""
    if not len(ids):
        return {}
    from scope.features.clean import clean_lightcurves

    batch = source.lightcurves(ids, max_timestamp_hjd=gen_opts.max_timestamp_hjd, programids=(1, 2, 3))
    out = {int(i): "light curve not returned by the source" for i in ids}
    if len(batch):
        cleaned = clean_lightcurves(batch.t, batch.m, batch.e, batch.offsets, flags=batch.flags,
                                    max_timestamp_hjd=gen_opts.max_timestamp_hjd,
                                    min_cadence_minutes=gen_opts.min_cadence_minutes,
                                    min_n_points=gen_opts.min_n_lc_points)
        for _id, reason in zip(batch.ids, cleaned.reasons):
            if reason is not None:
                out[int(_id)] = f"light curve rejected: {reason}"
            elif not gen_opts.skip_close_sources:
                out[int(_id)] = (f"within {gen_opts.bright_star_radius:g} arcsec of a bright Gaia star "
                                 f"(G < {gen_opts.bright_star_max_gmag:g}); --skipCloseSources keeps it")
            else:
                out[int(_id)] = "dropped by feature generation (see its log)"
    return out


def _results(objects: pd.DataFrame, matches: pd.DataFrame, reasons: dict, drops: dict, features: pd.DataFrame,
             scores: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """One row per (object, light curve), or per object without light curves, with a status."""
    rows = matches.copy()
    if len(features) and "filter" in features.columns:
        filt = features[["_id", "filter"]].assign(_id=lambda d: pd.to_numeric(d["_id"]).astype(np.int64))
        rows = rows.merge(filt, on="_id", how="left")
    else:
        rows["filter"] = pd.NA
    rows = rows.merge(scores, on="_id", how="left") if len(scores) else rows
    for c in columns:
        if c not in rows.columns:
            rows[c] = np.nan
    have = rows[list(columns)].notna().any(axis=1) if columns else pd.Series(False, index=rows.index)
    status = []
    for _id, ok in zip(rows["_id"], have):
        if ok:
            status.append(PREDICTED)
        elif int(_id) in drops:
            status.append(drops[int(_id)])
        else:
            status.append("not scored: a feature the models need is missing after imputation (see the flagged ids)")
    rows["status"] = status
    missing = objects[objects["row"].isin(list(reasons))]
    none = pd.DataFrame({"row": missing["row"].to_numpy(), "obj_id": missing["obj_id"].to_numpy(),
                         "_id": pd.array([pd.NA] * len(missing), dtype="Int64"),
                         "ra": missing["ra"].to_numpy(float) if "ra" in missing else np.nan,
                         "dec": missing["dec"].to_numpy(float) if "dec" in missing else np.nan,
                         "status": [reasons[r] for r in missing["row"]]})
    out = pd.concat([rows, none], ignore_index=True) if len(none) else rows
    out["_id"] = pd.to_numeric(out["_id"]).astype("Int64")
    out = out.sort_values(["row", "_id"], kind="stable").reset_index(drop=True)
    order = ["row", "obj_id", "_id", "ra", "dec", "sep_arcsec", "filter", "status", *columns]
    return out[[c for c in order if c in out.columns]]
