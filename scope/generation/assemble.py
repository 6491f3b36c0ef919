"""Column order and dtypes of the generated feature table (the reference's, §5.3)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scope.lightcurves.batch import LightCurveBatch

BASIC_STATS = ["n", "median", "wmean", "chi2red", "roms", "wstd", "norm_peak_to_peak_amp", "norm_excess_var",
               "median_abs_dev", "iqr", "i60r", "i70r", "i80r", "i90r", "skew", "smallkurt",
               "inv_vonneumannratio", "welch_i", "stetson_j", "stetson_k", "ad", "sw"]
AGREEMENT = ["n_agree_pairs", "n_total_pairs", "agree_score", "agree_strict", "agree_weighted",
             "best_agree_period", "best_consensus_period"]
FOURIER = ["f1_power", "f1_BIC", "f1_a", "f1_b", "f1_amp", "f1_phi0", "f1_relamp1", "f1_relamp2", "f1_relamp3",
           "f1_relamp4", "f1_relphi1", "f1_relphi2", "f1_relphi3", "f1_relphi4"]
ALERTS = ["n_ztf_alerts", "mean_ztf_alert_braai"]


def xmatch_name(catalog: str, field: str) -> str:
    """``<catalog>__<field>`` (so ``_id`` gives ``<catalog>___id``)."""
    return f"{catalog}__{field}"


def ontological_columns(external: dict, n: int) -> dict:
    """All-missing cross-match columns (used when a catalog is unavailable)."""
    cols = {}
    for catalog, fields in external.items():
        for f in fields:
            name = xmatch_name(catalog, f)
            if f == "_id":
                cols[name] = pd.array([pd.NA] * n, dtype="Int64")
            elif f == "ph_qual":
                cols[name] = np.array([None] * n, dtype=object)
            else:
                cols[name] = np.full(n, np.nan)
    return cols


def _order(cols: dict, cesium: list[str] | None = None) -> list[str]:
    """Reference order: cesium, basic stats, periodic core/top-N/agreement, Fourier, dmdt, alerts, xmatch.

    ``cesium`` lists the cesium features in config order. A name both cesium and the basic
    statistics have (``skew``) keeps its cesium place, holding the basic statistic: the reference
    built each row as a dict, cesium first, and the later basic-statistics value replaced cesium's
    in the same slot.
    """
    names = list(cols)
    ces = [c for c in (cesium or []) if c in cols]
    basic = [c for c in BASIC_STATS if c in cols and c not in ces]
    periodic = [c for c in names if c.startswith(("period_", "significance_", "pdot_"))]
    agreement = [c for c in AGREEMENT if c in cols]
    fourier = [c for c in names if c.startswith("f1_")]
    xmatch = [c for c in names if "__" in c]
    tail = ["dmdt"] if "dmdt" in cols else []
    alerts = [c for c in ALERTS if c in cols]
    placed = set(ces + basic + periodic + agreement + fourier + xmatch + tail + alerts)
    rest = [c for c in names if c not in placed]
    return ces + rest + basic + periodic + agreement + fourier + tail + alerts + xmatch


def assemble_columns(batch: LightCurveBatch, cols: dict, extra: pd.DataFrame | None = None,
                     cesium: list[str] | None = None) -> pd.DataFrame:
    """One batch's feature rows: id, position, location, then the feature columns in reference order.

    ``cesium`` names the cesium features of the run (``--doCesium``), in config order.
    """
    n = len(batch)
    head = {"_id": pd.array(batch.ids, dtype="Int64"),
            "radec_geojson": [{"coordinates": [float(r) - 180.0, float(d)]} for r, d in zip(batch.ra, batch.dec)]}
    if extra is not None and "fritz_name" in extra.columns:
        head["fritz_name"] = extra["fritz_name"].reindex(batch.ids).astype(object).to_numpy()
    head.update({"ra": batch.ra.astype(np.float64), "dec": batch.dec.astype(np.float64),
                 "field": batch.field.astype(np.int64), "ccd": batch.ccd.astype(np.int64),
                 "quad": batch.quad.astype(np.int64), "filter": batch.band.astype(np.int64)})
    body = {}
    for name in _order(cols, cesium):
        value = cols[name]
        if name == "dmdt":
            body[name] = list(np.asarray(value, dtype=np.float64).reshape(n, 26, 26)) if n else []
        else:
            body[name] = value
    df = pd.DataFrame({**head, **body})
    for name in df.columns:
        if name.endswith("___id") and str(df[name].dtype) != "Int64":
            df[name] = pd.array(pd.to_numeric(df[name], errors="coerce"), dtype="Int64")
    return df
