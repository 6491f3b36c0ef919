"""scope-upload-disagreements (deprecated): sources the DNN and XGBoost variability models disagree on.

A light curve disagrees when one algorithm scores ``vnv`` above ``high`` (0.95) and the other at
most ``low`` (0.1). Scores come from a local predictions table (``combine-preds`` output with
``vnv_dnn`` and ``vnv_xgb``) or Kowalski's classifications catalog; light curves of the training
set are left out. Each remaining one is saved to the Fritz group (found by position or created
with its photometry, like scope-upload-classification) with an annotation (origin
``ML_DR5_d15_v1``) holding its period, both scores and Gaia photometry where known. The reference
went through Fritz's ``/api/archive`` extension; this uses the standard SkyPortal routes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.services import fritz_payloads as fp
from scope.tables import read_table

log = logging.getLogger(__name__)

ORIGIN = "ML_DR5_d15_v1"
GAIA_COLUMNS = ("Gaia_EDR3__phot_g_mean_mag", "Gaia_EDR3__phot_bp_mean_mag", "Gaia_EDR3__phot_rp_mean_mag")


@dataclass
class DisagreementSummary:
    candidates: int = 0
    in_training_set: int = 0
    posted: int = 0
    already_annotated: int = 0
    without_lightcurves: int = 0


def disagreements(preds: pd.DataFrame, *, high: float = 0.95, low: float = 0.1) -> pd.DataFrame:
    """Rows where ``vnv_dnn`` and ``vnv_xgb`` disagree (one > ``high``, the other <= ``low``)."""
    missing = [c for c in ("vnv_dnn", "vnv_xgb") if c not in preds.columns]
    if missing:
        raise DataError(f"the predictions lack {', '.join(missing)} (combine DNN and XGB predictions first)")
    d, x = preds["vnv_dnn"].astype(float), preds["vnv_xgb"].astype(float)
    return preds[((d > high) & (x <= low)) | ((x > high) & (d <= low))].reset_index(drop=True)


def kowalski_disagreements(client, catalog: str, *, high: float = 0.95, low: float = 0.1) -> pd.DataFrame:
    """The same selection run as a Kowalski query on the classifications catalog."""
    flt = {"$or": [{"vnv_dnn": {"$gt": high}, "vnv_xgb": {"$lte": low}},
                   {"vnv_xgb": {"$gt": high}, "vnv_dnn": {"$lte": low}}]}
    docs = client.find(catalog, flt, {"_id": 1, "vnv_dnn": 1, "vnv_xgb": 1})
    return pd.DataFrame.from_records(docs) if docs else pd.DataFrame(columns=["_id", "vnv_dnn", "vnv_xgb"])


def upload_disagreements(cfg, client, candidates: pd.DataFrame, training_set: Path | None, group_id: int, *,
                         lightcurves=None, positions=None) -> DisagreementSummary:
    """Post the candidates to the group (see the module docstring).

    ``positions`` (a light-curve source) fills in ``ra``/``dec`` for candidates that lack them.
    """
    from scope.fritz.upload import UploadOptions, Uploader

    summary = DisagreementSummary(candidates=len(candidates))
    rows = candidates.copy()
    if training_set is not None:
        train = read_table(training_set)
        ids = set(pd.to_numeric(train.get("ztf_id", train.get("_id")), errors="coerce").dropna().astype(np.int64))
        keep = ~rows["_id"].astype(np.int64).isin(ids)
        summary.in_training_set = int((~keep).sum())
        rows = rows[keep].reset_index(drop=True)
    if len(rows) and not {"ra", "dec"} <= set(rows.columns):
        if positions is None:
            raise DataError("the candidates have no ra/dec and no light-curve source was given to look them up")
        rows = rows.merge(positions.positions(rows["_id"].astype(np.int64).to_numpy()), on="_id", how="left")
    up = Uploader(cfg, UploadOptions(file="", group_ids=[group_id]), client, lightcurves=lightcurves)
    suffix = cfg.get_path("features.info.period_suffix")
    for row in rows.to_dict("records"):
        state = up.find_existing(row)
        if state is None:
            state, _ = up.create_source(row)
            if state is None:
                summary.without_lightcurves += 1
                continue
        elif group_id not in state.groups:
            client.invite(state.obj_id, [group_id])
            state.groups.add(group_id)
        if ORIGIN in state.annotations:
            summary.already_annotated += 1
            continue
        data = {"vnv_dnn": row["vnv_dnn"], "vnv_xgb": row["vnv_xgb"]}
        for col in (f"period_{suffix}" if suffix else "period", "period", *GAIA_COLUMNS):
            if col in row and not fp.is_missing(row[col]):
                data["period" if col.startswith("period") else col] = float(row[col])
        up.annotate(state, ORIGIN, fp.plain(data))
        summary.posted += 1
    return summary
