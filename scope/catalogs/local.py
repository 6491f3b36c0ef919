"""Cone searches on local parquet catalogs (``<folder>/<catalog>.parquet``).

Each catalog has at least ``_id, ra, dec`` (degrees). Tables are loaded once, sorted by
declination, and searched strip by strip: a query touches only the rows within its radius in
declination, so a cone over millions of rows costs a binary search plus a few separations.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.lightcurves.sources.base import angular_separation_arcsec
from scope.tables import read_parquet

log = logging.getLogger(__name__)

_OPS = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal, "eq": np.equal,
        "$lt": np.less, "$lte": np.less_equal, "$gt": np.greater, "$gte": np.greater_equal, "$eq": np.equal}


class LocalCatalogs:
    """Ancillary catalogs stored as parquet tables in one folder.

    Parameters
    ----------
    folder : path-like
        Folder with ``Gaia_EDR3.parquet``, ``AllWISE.parquet``, ``PS1_DR1.parquet``,
        ``ZTF_alerts.parquet`` (any subset).
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DataError(f"catalog folder not found: {self.folder}")
        self._tables: dict[str, pd.DataFrame] = {}

    def available(self) -> list[str]:
        """Catalog names present in the folder."""
        return sorted(p.stem for p in self.folder.glob("*.parquet"))

    def has(self, catalog: str) -> bool:
        return (self.folder / f"{catalog}.parquet").exists()

    def table(self, catalog: str) -> pd.DataFrame:
        """The whole catalog, sorted by declination (cached)."""
        if catalog not in self._tables:
            path = self.folder / f"{catalog}.parquet"
            if not path.exists():
                raise DataError(f"catalog {catalog} not found in {self.folder} (expected {path.name})")
            df = read_parquet(path).to_pandas()  # page checksums verified
            missing = {"_id", "ra", "dec"} - set(df.columns)
            if missing:
                raise DataError(f"catalog {path} lacks columns: {', '.join(sorted(missing))}")
            self._tables[catalog] = df.sort_values("dec", kind="stable").reset_index(drop=True)
        return self._tables[catalog]

    def cone(self, catalog: str, ra: Sequence[float], dec: Sequence[float], radius_arcsec: float,
             columns: Sequence[str] | None = None, filters: dict | None = None) -> pd.DataFrame:
        """See :class:`scope.catalogs.CatalogProvider`."""
        table = self.table(catalog)
        if filters:
            mask = np.ones(len(table), dtype=bool)
            for col, (op, value) in filters.items():
                if col not in table.columns:
                    raise DataError(f"catalog {catalog} has no column {col} to filter on")
                mask &= _OPS[op](table[col].to_numpy(dtype=float), value)
            table = table.loc[mask].reset_index(drop=True)
        cols = list(table.columns) if columns is None else ["_id", "ra", "dec"] + [
            c for c in columns if c not in ("_id", "ra", "dec")]
        absent = [c for c in cols if c not in table.columns]
        present = [c for c in cols if c in table.columns]
        ra = np.atleast_1d(np.asarray(ra, dtype=float))
        dec = np.atleast_1d(np.asarray(dec, dtype=float))
        tdec = table["dec"].to_numpy()
        tra = table["ra"].to_numpy()
        window = radius_arcsec / 3600.0
        lo = np.searchsorted(tdec, dec - window, side="left")
        hi = np.searchsorted(tdec, dec + window, side="right")
        q_idx, rows, seps = [], [], []
        for i in range(len(ra)):
            if hi[i] <= lo[i] or not np.isfinite(ra[i]) or not np.isfinite(dec[i]):
                continue
            cand = np.arange(lo[i], hi[i])
            sep = angular_separation_arcsec(ra[i], dec[i], tra[cand], tdec[cand])
            ok = sep <= radius_arcsec
            if ok.any():
                order = np.argsort(sep[ok], kind="stable")
                rows.append(cand[ok][order])
                seps.append(sep[ok][order])
                q_idx.append(np.full(int(ok.sum()), i))
        if rows:
            rows_a = np.concatenate(rows)
            out = table.iloc[rows_a][present].reset_index(drop=True)
            out.insert(0, "sep_arcsec", np.concatenate(seps))
            out.insert(0, "query_index", np.concatenate(q_idx).astype(np.int64))
        else:
            out = pd.DataFrame({"query_index": np.zeros(0, np.int64), "sep_arcsec": np.zeros(0)})
            for c in present:
                out[c] = table[c].iloc[:0].to_numpy()
        for c in absent:
            out[c] = np.nan
        return out
