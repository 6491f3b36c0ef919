"""Features of Fritz sources, found by position: Kowalski's features catalog or local feature files.

A Fritz source may have several ZTF light curves (bands, fields, overlapping quadrants) within
the match radius; each becomes a row. A light curve within reach of several sources goes to the
closest one (great-circle distance; the reference compared raw ra/dec differences).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.features_download import KowalskiFeatures, LocalFeatures
from scope.lightcurves.sources.base import angular_separation_arcsec

log = logging.getLogger(__name__)


class KowalskiPositionalFeatures(KowalskiFeatures):
    """A Kowalski features catalog searched by position (``cone_search``) and fetched by id."""

    def near(self, ra: Sequence[float], dec: Sequence[float], radius_arcsec: float) -> pd.DataFrame:
        projection = {"_id": 1, "ra": 1, "dec": 1, "coordinates.radec_geojson": 1}
        found = self.client.cone_search(ra, dec, radius_arcsec, {self.catalog: {"filter": {}, "projection": projection}})
        rows = []
        for i, docs in enumerate(found[self.catalog]):
            for d in docs:
                r, de = _doc_position(d)
                rows.append((i, int(d["_id"]), r, de))
        return _with_separation(rows, ra, dec)


class LocalPositionalFeatures(LocalFeatures):
    """Local feature files (``generate-features``/``get-features`` output) searched by position."""

    def __init__(self, path, catalog: str | None = None):
        path = Path(path)
        if path.is_dir() and not any(path.glob("*.parquet")):
            files = sorted(p for p in path.rglob("*.parquet") if not p.name.startswith("."))
            if not files:
                raise DataError(f"no parquet files in features folder {path}")
            super().__init__(files[0], catalog=catalog or path.name)
            self.files = files
        else:
            super().__init__(path, catalog=catalog)
        self._positions: pd.DataFrame | None = None

    def positions(self) -> pd.DataFrame:
        """``_id, ra, dec`` of every row, sorted by declination (read once)."""
        if self._positions is None:
            import pyarrow.dataset as ds

            dataset = ds.dataset([str(f) for f in self.files], format="parquet")
            names = dataset.schema.names
            if {"ra", "dec"} <= set(names):
                df = dataset.to_table(columns=["_id", "ra", "dec"]).to_pandas()
            elif "coordinates" in names or "radec_geojson" in names:
                col = "coordinates" if "coordinates" in names else "radec_geojson"
                df = dataset.to_table(columns=["_id", col]).to_pandas()
                radec = [_geojson_position(v) for v in df[col]]
                df = pd.DataFrame({"_id": df["_id"], "ra": [r for r, _ in radec], "dec": [d for _, d in radec]})
            else:
                raise DataError(f"features in {self.files[0].parent} have no ra/dec or coordinates to match on")
            df["_id"] = df["_id"].astype(np.int64)
            self._positions = df.dropna(subset=["ra", "dec"]).drop_duplicates("_id").sort_values("dec")
            self._positions = self._positions.reset_index(drop=True)
        return self._positions

    def near(self, ra: Sequence[float], dec: Sequence[float], radius_arcsec: float) -> pd.DataFrame:
        pos = self.positions()
        tdec = pos["dec"].to_numpy()
        window = radius_arcsec / 3600.0
        rows = []
        for i, (r, d) in enumerate(zip(np.atleast_1d(ra), np.atleast_1d(dec))):
            lo, hi = np.searchsorted(tdec, [d - window, d + window])
            sub = pos.iloc[lo:hi]
            sep = angular_separation_arcsec(r, d, sub["ra"].to_numpy(), sub["dec"].to_numpy())
            for _id, rr, dd in sub.loc[sep <= radius_arcsec, ["_id", "ra", "dec"]].itertuples(index=False):
                rows.append((i, int(_id), float(rr), float(dd)))
        return _with_separation(rows, ra, dec)


def _doc_position(doc) -> tuple[float, float]:
    if doc.get("ra") is not None and doc.get("dec") is not None:
        return float(doc["ra"]), float(doc["dec"])
    return _geojson_position(doc.get("coordinates"))


def _geojson_position(value) -> tuple[float, float]:
    if isinstance(value, str):
        import json

        value = json.loads(value)
    if isinstance(value, dict):
        value = (value.get("radec_geojson") or value).get("coordinates")
    if value is None:
        return np.nan, np.nan
    return float(value[0]) + 180.0, float(value[1])


def _with_separation(rows, ra, dec) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["query_index", "_id", "ra", "dec"])
    if df.empty:
        return df.assign(sep_arcsec=pd.Series(dtype=float))
    ra, dec = np.atleast_1d(np.asarray(ra, float)), np.atleast_1d(np.asarray(dec, float))
    qi = df["query_index"].to_numpy()
    df["sep_arcsec"] = angular_separation_arcsec(ra[qi], dec[qi], df["ra"].to_numpy(), df["dec"].to_numpy())
    return df


def assign_closest(matches: pd.DataFrame) -> pd.DataFrame:
    """One row per light curve: the source (``query_index``) closest to it."""
    if matches.empty:
        return matches
    ordered = matches.sort_values(["_id", "sep_arcsec", "query_index"], kind="stable")
    return ordered.drop_duplicates("_id").sort_values(["query_index", "sep_arcsec"]).reset_index(drop=True)


def open_positional_features(cfg, *, features_file=None, catalog=None, limit: int = 1000):
    """Local feature files (``--features-file`` or ``data.features_path`` unless the data source is
    Kowalski) or the Kowalski features catalog."""
    catalog = catalog or cfg.get_path("kowalski.collections.features")
    if features_file:
        return LocalPositionalFeatures(features_file, catalog=None)
    local = cfg.get_path("data.features_path")
    if local and cfg.get_path("data.source", "auto") != "kowalski":
        return LocalPositionalFeatures(cfg.resolve_path(local), catalog=None)
    from scope.services.kowalski import client_from_config

    return KowalskiPositionalFeatures(client_from_config(cfg), catalog, limit)
