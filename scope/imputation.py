"""Imputation of missing feature values with the strategies named in the config.

Strategies (``features.ontological.<name>.impute_strategy``): ``zero``; ``median`` / ``mean`` of
a reference set; ``regress`` (k-nearest-neighbour regression on the other ``regress`` columns of
the reference set); ``None`` (rows with a missing value are dropped). The reference set is the
table itself (self-imputation) or a training set the caller passes in.
"""

from __future__ import annotations

import logging
from typing import Mapping

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.schema import impute_strategies

log = logging.getLogger(__name__)


def impute_features(df: pd.DataFrame, cfg: Mapping, *, period_suffix: str | None = ...,
                    reference: pd.DataFrame | None = None, n_neighbors: int = 5,
                    drop_missing: bool = True) -> pd.DataFrame:
    """Fill missing feature values per the config's strategies.

    Parameters
    ----------
    df : pandas.DataFrame
        Features; not modified.
    cfg : mapping
        Configuration (its ``features.ontological`` list gives the strategies).
    period_suffix : str or None, optional
        Suffix of periodic features (default: the config's).
    reference : pandas.DataFrame, optional
        Set the medians, means and neighbours come from; ``df`` itself when omitted.
    n_neighbors : int
        Neighbours for ``regress``.
    drop_missing : bool
        Drop rows still missing a ``None``-strategy feature (the reference behaviour).

    Returns
    -------
    pandas.DataFrame
        A new frame (index reset when rows were dropped); ``attrs`` kept, with
        ``features_imputed`` set to True.
    """
    strategies = impute_strategies(cfg, period_suffix)
    ref = df if reference is None else reference
    out = df.copy()
    by_strategy: dict[str, list[str]] = {}
    for col, strategy in strategies.items():
        if col in out.columns:
            by_strategy.setdefault(strategy, []).append(col)
    for col in by_strategy.get("zero", []):
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0)
    for kind in ("median", "mean"):
        for col in by_strategy.get(kind, []):
            values = pd.to_numeric(ref[col], errors="coerce") if col in ref.columns else pd.Series(dtype=float)
            fill = values.median() if kind == "median" else values.mean()
            if np.isnan(fill):
                log.warning("no reference values for %s; its missing values stay missing", col)
                continue
            out[col] = pd.to_numeric(out[col], errors="coerce").fillna(fill)
    regress = by_strategy.get("regress", [])
    if regress:
        out = _knn_impute(out, ref, regress, n_neighbors)
    none_cols = by_strategy.get("none", [])
    if drop_missing and none_cols:
        bad = out[none_cols].isna().any(axis=1)
        if bad.any():
            log.info("dropping %d of %d rows missing a feature that has no imputation strategy",
                     int(bad.sum()), len(out))
            out = out.loc[~bad].reset_index(drop=True)
    out.attrs = dict(df.attrs)
    out.attrs["features_imputed"] = True
    return out


def _knn_impute(out: pd.DataFrame, ref: pd.DataFrame, cols: list[str], k: int) -> pd.DataFrame:
    from sklearn.impute import KNNImputer

    missing_ref = [c for c in cols if c not in ref.columns]
    if missing_ref:
        raise DataError(f"reference set for imputation lacks columns: {', '.join(missing_ref)}")
    ref_values = ref[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    usable = ~np.all(np.isnan(ref_values), axis=0)
    if not usable.any():
        log.warning("no reference values for %s; left missing", ", ".join(cols))
        return out
    cols = [c for c, ok in zip(cols, usable) if ok]
    imputer = KNNImputer(n_neighbors=k)
    imputer.fit(ref[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float))
    values = out[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, copy=True)
    rows = np.isnan(values).any(axis=1)
    if rows.any():
        values[rows] = imputer.transform(values[rows])
        out[cols] = values
    return out
