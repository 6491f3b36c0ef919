"""Light curves from per-point tables (CSV or parquet) such as IRSA light-curve files.

Two column layouts are recognised:

* IRSA ZTF light-curve files: ``oid, hjd`` (or ``mjd``), ``mag, magerr, catflags, filtercode``
  (``zg``/``zr``/``zi``), ``ra, dec`` and optionally ``programid, field, ccdid, qid``. Each ``oid`` is
  one single-band light curve and becomes its id.
* Plain tables: ``id, time, mag, magerr, band`` (optional ``ra, dec, catflags``). Each
  ``(id, band)`` pair is one light curve. Integer ids are kept when each id has one band; otherwise
  (names such as ``ZTF18abcdefg``, or several bands) light curves are numbered 1, 2, ... and
  :attr:`LightCurveTableSource.names` maps each number back to the object name.

Times below 2,400,000 are taken as MJD/HMJD and converted to HJD by adding 2,400,000.5.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.lightcurves.batch import LightCurveBatch
from scope.lightcurves.sources.base import angular_separation_arcsec
from scope.lightcurves.ztf_ids import FILTER_IDS

log = logging.getLogger(__name__)

_IRSA = {"oid", "mag", "magerr"}
_PLAIN = {"id", "time", "mag", "magerr"}


def _read_any(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        raise DataError(f"light-curve file not found: {path}")
    if suffix in (".parquet", ".pq"):
        from scope.tables import read_parquet

        return read_parquet(path).to_pandas()
    if suffix == ".csv":
        return pd.read_csv(path)
    raise DataError(f"unsupported light-curve file {path}: use .csv or .parquet")


def _band_ids(values: pd.Series) -> np.ndarray:
    out = []
    for v in values:
        if isinstance(v, (int, np.integer)) or (isinstance(v, float) and not np.isnan(v)):
            out.append(int(v))
        else:
            key = str(v).strip().lower()
            if key not in FILTER_IDS:
                raise DataError(f"unknown band '{v}': use g, r, i (or zg, zr, zi, or 1, 2, 3)")
            out.append(FILTER_IDS[key])
    return np.asarray(out, dtype=np.int8)


class LightCurveTableSource:
    """Light curves from one or more per-point tables.

    Parameters
    ----------
    paths : path or sequence of paths
        CSV/parquet files in the IRSA or plain layout.
    plausibility : Plausibility, optional
        Bounds of plausible photometry: a file whose epochs are mostly outside them is refused
        as corrupt, naming it (see :mod:`scope.lightcurves.plausibility`).
    """

    name = "files"

    def __init__(self, paths: str | Path | Sequence[str | Path], plausibility=None):
        if isinstance(paths, (str, Path)):
            paths = [paths]
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise DataError("no light-curve files given")
        self.catalog = ",".join(p.name for p in self.paths)
        frames = [self._normalise(_read_any(p), p) for p in self.paths]
        if plausibility is not None:
            for p, frame in zip(self.paths, frames):
                plausibility.check_file(p, frame["time"].to_numpy(float), frame["mag"].to_numpy(float))
        points = pd.concat(frames, ignore_index=True)
        self._build(points)

    @staticmethod
    def _normalise(df: pd.DataFrame, path: Path) -> pd.DataFrame:
        cols = set(df.columns)
        if _IRSA <= cols:
            tcol = "hjd" if "hjd" in cols else ("mjd" if "mjd" in cols else None)
            if tcol is None:
                raise DataError(f"{path}: IRSA light-curve table needs an hjd or mjd column")
            out = pd.DataFrame({"name": df["oid"].astype(str), "time": df[tcol].astype(float),
                                "mag": df["mag"].astype(float), "magerr": df["magerr"].astype(float)})
            out["band"] = _band_ids(df["filtercode"]) if "filtercode" in cols else 0
            out["catflags"] = df["catflags"].fillna(0).astype(int) if "catflags" in cols else 0
            out["programid"] = df["programid"].fillna(0).astype(int) if "programid" in cols else 0
            out["per_band_ids"] = True
        elif _PLAIN <= cols:
            out = pd.DataFrame({"name": df["id"].astype(str), "time": df["time"].astype(float),
                                "mag": df["mag"].astype(float), "magerr": df["magerr"].astype(float)})
            out["band"] = _band_ids(df["band"]) if "band" in cols else 0
            out["catflags"] = df["catflags"].fillna(0).astype(int) if "catflags" in cols else 0
            out["programid"] = 0
            out["per_band_ids"] = False
        else:
            raise DataError(
                f"{path}: unrecognised light-curve columns {sorted(cols)}; expected IRSA "
                "(oid, hjd|mjd, mag, magerr, filtercode, ...) or plain (id, time, mag, magerr, band)")
        for c in ("ra", "dec"):
            out[c] = df[c].astype(float) if c in cols else np.nan
        out.loc[out["time"] < 2_400_000, "time"] += 2_400_000.5
        return out

    def _build(self, points: pd.DataFrame) -> None:
        keys = points[["name", "band"]].drop_duplicates()
        names = keys["name"].unique()
        integer_names = all(n.lstrip("-").isdigit() for n in names)
        one_band_each = not keys["name"].duplicated().any()
        if integer_names and one_band_each:
            keys = keys.assign(_id=keys["name"].astype(np.int64))
        else:
            keys = keys.sort_values(["name", "band"]).assign(_id=np.arange(1, len(keys) + 1, dtype=np.int64))
        points = points.merge(keys, on=["name", "band"], how="left").sort_values(["_id", "time"], kind="stable")
        self.names: dict[int, str] = dict(zip(keys["_id"].astype(int), keys["name"]))
        grouped = points.groupby("_id", sort=True)
        ids = np.asarray(list(grouped.groups.keys()), dtype=np.int64)
        first = grouped.first()
        ra = grouped["ra"].median().to_numpy()
        dec = grouped["dec"].median().to_numpy()
        counts = grouped.size().to_numpy()
        self._batch = LightCurveBatch(
            ids=ids, offsets=np.concatenate([[0], np.cumsum(counts)]), t=points["time"].to_numpy(),
            m=points["mag"].to_numpy(), e=points["magerr"].to_numpy(), flags=points["catflags"].to_numpy(),
            programid=points["programid"].to_numpy(), ra=ra, dec=dec, band=first["band"].to_numpy(),
            source=self.catalog)
        self._pos = {int(v): i for i, v in enumerate(ids)}

    @property
    def ids(self) -> np.ndarray:
        """All light-curve ids."""
        return self._batch.ids.copy()

    def ids_for_name(self, name: str) -> list[int]:
        """Light-curve ids of an object name (one per band)."""
        return [i for i, n in self.names.items() if n == str(name)]

    def quadrants(self, field: int) -> list[tuple[int, int]]:
        return []

    def ids_in_quadrant(self, field, ccd, quad, *, minobs=0, skip=0, limit=None) -> np.ndarray:
        raise DataError("light-curve files have no field/CCD/quadrant layout; give ids instead")

    def positions(self, ids: Iterable[int]) -> pd.DataFrame:
        idx = [self._pos[int(i)] for i in ids if int(i) in self._pos]
        return pd.DataFrame({"_id": self._batch.ids[idx], "ra": self._batch.ra[idx], "dec": self._batch.dec[idx]})

    def lightcurves(self, ids: Iterable[int], *, max_timestamp_hjd=None, programids=None) -> LightCurveBatch:
        idx = [self._pos[int(i)] for i in ids if int(i) in self._pos]
        return self._batch.subset(np.asarray(idx, dtype=np.int64)).trim(
            max_timestamp_hjd=max_timestamp_hjd, programids=programids)

    def near(self, ra: float, dec: float, radius_arcsec: float, limit: int | None = None) -> pd.DataFrame:
        sep = angular_separation_arcsec(ra, dec, self._batch.ra, self._batch.dec)
        ok = np.flatnonzero(sep <= radius_arcsec)
        ok = ok[np.argsort(sep[ok], kind="stable")]
        out = pd.DataFrame({"_id": self._batch.ids[ok], "ra": self._batch.ra[ok], "dec": self._batch.dec[ok],
                            "sep_arcsec": sep[ok]})
        return out.head(limit) if limit else out
