"""Which sources a generate-features run works on: a quadrant, a source list, minus bright-star neighbours."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.tables import read_table

log = logging.getLogger(__name__)


def check_quadrant(field: int, ccd: int, quad: int, where: str = "") -> None:
    """Refuse a field/CCD/quadrant that cannot exist (CCD 1-16, quadrant 1-4, field >= 1)."""
    problems = []
    if not int(field) >= 1:
        problems.append(f"field {field} (fields are numbered from 1)")
    if not 1 <= int(ccd) <= 16:
        problems.append(f"CCD {ccd} (ZTF CCDs are 1-16)")
    if not 1 <= int(quad) <= 4:
        problems.append(f"quadrant {quad} (quadrants are 1-4)")
    if problems:
        raise DataError(f"no such ZTF quadrant{where}: " + ", ".join(problems))


def quadrant_from_file(path: Path, index: int) -> tuple[int, int, int]:
    """Row ``index`` of a quadrant file (``job_number field ccd quad`` per line), checked."""
    if not Path(path).exists():
        raise DataError(f"quadrant file not found: {path}")
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    if not 0 <= index < len(rows):
        raise DataError(f"quadrant index {index} is outside {path} ({len(rows)} rows)")
    row = rows[index]
    try:
        if len(row) != 4:
            raise ValueError
        _, field, ccd, quad = (int(v) for v in row)
    except ValueError:
        raise DataError(f"{path} row {index} must hold four integers 'job field ccd quad', "
                        f"got {' '.join(row)!r}") from None
    check_quadrant(field, ccd, quad, f" in {path} row {index}")
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


def read_close_source_list(path: Path, limit: int | None = None) -> pd.DataFrame:
    """The sources a specific-ids run kept after the bright-star cut (``specific_ids_dropCloseSources.json``).

    ``{"<ztf_id>": {"radec_geojson": {"coordinates": [ra - 180, dec]}, "fritz_name"?: str}}``
    (reference §5.5), as ``_id, ra, dec`` (+ ``fritz_name``), in file order; ``limit`` keeps the
    first entries (``--stop-early``).
    """
    import json

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} not found: --doSpecificIDs --skipCloseSources reads the sources a run without "
                        "--skipCloseSources saved there; run that first, or give --fg-dataset")
    try:
        payload = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(payload, dict):
        raise DataError(f"{path} must map ztf_id to {{radec_geojson: ...}}, got a {type(payload).__name__}")
    items = list(payload.items())[:limit] if limit else list(payload.items())
    rows = []
    for key, entry in items:
        try:
            _id = int(key)
            ra, dec = _coords(entry)
        except (TypeError, ValueError, AttributeError, IndexError):
            raise DataError(f"{path}: entry {key!r} must be {{\"radec_geojson\": {{\"coordinates\": [lon, lat]}}}} "
                            "under an integer ztf_id") from None
        rows.append((_id, ra, dec, entry.get("fritz_name") if isinstance(entry, dict) else None))
    out = pd.DataFrame({"_id": np.array([r[0] for r in rows], dtype=np.int64),
                        "ra": np.array([r[1] for r in rows], dtype=float),
                        "dec": np.array([r[2] for r in rows], dtype=float)})
    if any(r[3] is not None for r in rows):
        out["fritz_name"] = [None if r[3] is None else str(r[3]) for r in rows]
    return out.drop_duplicates("_id").reset_index(drop=True)


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
