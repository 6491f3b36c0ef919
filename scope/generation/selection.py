"""Which sources a generate-features run works on: a quadrant, a source list, minus bright-star neighbours."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.tables import read_table

log = logging.getLogger(__name__)


def quadrant_from_file(path: Path, index: int) -> tuple[int, int, int]:
    """Row ``index`` of a quadrant file (``job_number field ccd quad`` per line)."""
    if not Path(path).exists():
        raise DataError(f"quadrant file not found: {path}")
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    if not 0 <= index < len(rows):
        raise DataError(f"quadrant index {index} is outside {path} ({len(rows)} rows)")
    row = rows[index]
    if len(row) != 4:
        raise DataError(f"{path} row {index} must hold 'job field ccd quad', got {' '.join(row)!r}")
    _, field, ccd, quad = (int(v) for v in row)
    return field, ccd, quad


def quadrant_sources(source, field: int, ccd: int, quad: int, *, minobs: int, limit: int | None = None,
                     page_size: int = 10000) -> pd.DataFrame:
    """``_id, ra, dec`` of a quadrant's light curves with at least ``minobs`` epochs (all pages)."""
    pages, skip = [], 0
    while True:
        size = page_size if limit is None else min(page_size, limit - skip)
        if size <= 0:
            break
        page = source.ids_in_quadrant(field, ccd, quad, minobs=minobs, skip=skip, limit=size)
        pages.append(page)
        skip += len(page)
        if len(page) < size:
            break
    ids = np.concatenate(pages) if pages else np.zeros(0, np.int64)
    if not len(ids):
        return pd.DataFrame({"_id": np.zeros(0, np.int64), "ra": np.zeros(0), "dec": np.zeros(0)})
    return source.positions(ids).reset_index(drop=True)


def _coords(value):
    """(ra, dec) from Kowalski-style ``{radec_geojson: {coordinates: [lon, lat]}}`` or ``[lon, lat]``."""
    if isinstance(value, str):
        import json

        value = json.loads(value)
    if isinstance(value, dict):
        value = value.get("radec_geojson", value).get("coordinates")
    if value is None:
        return np.nan, np.nan
    lon, lat = float(value[0]), float(value[1])
    return lon + 180.0, lat


def read_source_list(path: Path, source=None, limit: int | None = None) -> pd.DataFrame:
    """A source list as ``_id, ra, dec`` (+ ``fritz_name``).

    Accepts ``ztf_id`` (or ``_id``) with positions as ``coordinates`` (Kowalski geojson, RA - 180),
    as ``ra``/``dec`` columns, or not at all (looked up in ``source``); CSV works too.
    """
    df = read_table(path)
    id_col = "ztf_id" if "ztf_id" in df.columns else ("_id" if "_id" in df.columns else None)
    if id_col is None:
        raise DataError(f"source list {path} needs a ztf_id column")
    ids = pd.to_numeric(df[id_col], errors="coerce")
    if ids.isna().any():
        raise DataError(f"source list {path}: {int(ids.isna().sum())} ztf_id values are not integers")
    out = pd.DataFrame({"_id": ids.astype(np.int64)})
    if "ra" in df.columns and "dec" in df.columns:
        out["ra"] = df["ra"].astype(float).to_numpy()
        out["dec"] = df["dec"].astype(float).to_numpy()
    elif "coordinates" in df.columns:
        radec = [_coords(v) for v in df["coordinates"]]
        out["ra"] = [r for r, _ in radec]
        out["dec"] = [d for _, d in radec]
    else:
        if source is None:
            raise DataError(f"source list {path} has no positions and no light-curve source to look them up")
        pos = source.positions(out["_id"].to_numpy())
        out = out.merge(pos, on="_id", how="left")
    if "fritz_name" in df.columns:
        out["fritz_name"] = df["fritz_name"].astype(str).to_numpy()
    out = out.drop_duplicates("_id").reset_index(drop=True)
    if limit:
        out = out.head(limit)
    return out


def bright_star_cut(sources: pd.DataFrame, catalogs, *, gaia_catalog: str = "Gaia_EDR3", radius: float = 300.0,
                    xmatch_radius: float = 2.0, max_gmag: float = 13.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop sources inside the exclusion radius of a bright Gaia star (reference §4.2).

    Returns the kept sources and the dropped ids. Sources without a position are kept.
    """
    from scope.features.brightstars import bright_star_keep_mask

    if not len(sources):
        return sources, np.zeros(0, np.int64)
    stars = catalogs.cone(gaia_catalog, sources["ra"].to_numpy(), sources["dec"].to_numpy(), radius,
                          columns=["phot_g_mean_mag", "bp_rp"], filters={"phot_g_mean_mag": ("lt", max_gmag)})
    stars = stars.drop_duplicates("_id") if "_id" in stars.columns else stars
    keep = bright_star_keep_mask(
        sources["ra"].to_numpy(float), sources["dec"].to_numpy(float), stars["ra"].to_numpy(float),
        stars["dec"].to_numpy(float), pd.to_numeric(stars["phot_g_mean_mag"], errors="coerce").to_numpy(float),
        pd.to_numeric(stars["bp_rp"], errors="coerce").to_numpy(float), query_radius_arcsec=radius,
        xmatch_radius_arcsec=xmatch_radius, max_gmag=max_gmag)
    dropped = sources.loc[~keep, "_id"].to_numpy(np.int64)
    return sources.loc[keep].reset_index(drop=True), dropped
