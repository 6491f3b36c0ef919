"""The input list of run-scope-local: column detection, object names, light-curve look-up.

Columns are recognised by the reference's names (spec §3.7): RA from ``ra, RA, R.A., r.a., radeg,
ra_deg``; Dec from ``dec, DEC, Dec., Decl., dedeg, de_deg``; ZTF id from ``ztf_id, ztfid, ZTFID,
_id``; object name from ``obj_id, OBJ_ID, object_id, objectID, name``. Names are kept exactly as
given (the reference turned every "_" into "." on the way through Kowalski).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scope.errors import DataError

log = logging.getLogger(__name__)

RA_NAMES = ("ra", "RA", "R.A.", "r.a.", "radeg", "ra_deg")
DEC_NAMES = ("dec", "DEC", "Dec.", "Decl.", "dedeg", "de_deg")
ID_NAMES = ("ztf_id", "ztfid", "ZTFID", "_id")
NAME_NAMES = ("obj_id", "OBJ_ID", "object_id", "objectID", "name")


def _find(columns, names) -> str | None:
    for n in names:
        if n in columns:
            return n
    lower = {str(c).lower(): c for c in columns}
    for n in names:
        if n.lower() in lower:
            return lower[n.lower()]
    return None


def position_name(ra: float, dec: float, prefix: str = "ZTFJ") -> str:
    """IAU-style name ``ZTFJhhmmss.ss+ddmmss.s`` (rounded in whole units, so never ``60.00``)."""
    cs = int(round((float(ra) % 360.0) / 15.0 * 3600.0 * 100.0)) % (24 * 3600 * 100)
    h, rem = divmod(cs, 3600 * 100)
    m, rem = divmod(rem, 60 * 100)
    s, frac = divmod(rem, 100)
    sign = "-" if float(dec) < 0 else "+"
    ds = int(round(abs(float(dec)) * 3600.0 * 10.0))
    d, rem = divmod(ds, 3600 * 10)
    dm, rem = divmod(rem, 60 * 10)
    dsec, dfrac = divmod(rem, 10)
    return f"{prefix}{h:02d}{m:02d}{s:02d}.{frac:02d}{sign}{d:02d}{dm:02d}{dsec:02d}.{dfrac:d}"


@dataclass
class ObjectList:
    """The parsed input: one row per input object.

    ``table`` has ``row`` (input position), ``obj_id`` (str) and, where given, ``ztf_id`` (Int64),
    ``ra``, ``dec`` (float).
    """

    table: pd.DataFrame
    has_ids: bool
    has_positions: bool


def read_object_list(path: str | Path) -> ObjectList:
    """Read a CSV/parquet/HDF5 list of objects (ZTF ids and/or positions, optional names)."""
    from scope.tables import read_table

    path = Path(path)
    if path.suffix.lower() == ".csv":
        # names stay text: a column of digits or "obj_1" must not be reinterpreted
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    else:
        df = read_table(path)
    if not len(df):
        raise DataError(f"{path} lists no objects")
    ra_col, dec_col = _find(df.columns, RA_NAMES), _find(df.columns, DEC_NAMES)
    id_col, name_col = _find(df.columns, ID_NAMES), _find(df.columns, NAME_NAMES)
    if (ra_col is None) != (dec_col is None):
        raise DataError(f"{path} has {'an RA' if ra_col else 'a Dec'} column but no "
                        f"{'Dec' if ra_col else 'RA'} column")
    if id_col is None and ra_col is None and name_col is None:
        raise DataError(f"{path} needs ZTF ids ({', '.join(ID_NAMES)}), positions (ra, dec) or object names "
                        f"({', '.join(NAME_NAMES)}); it has {', '.join(map(str, df.columns))}")
    out = pd.DataFrame({"row": np.arange(len(df))})
    if id_col is not None:
        ids = pd.to_numeric(df[id_col], errors="coerce")
        bad = ids.isna() & df[id_col].notna()
        if bad.any():
            raise DataError(f"{path}: {int(bad.sum())} values of {id_col} are not integers "
                            f"(first: {df.loc[bad, id_col].iloc[0]!r})")
        out["ztf_id"] = ids.astype("Int64").to_numpy()
    if ra_col is not None:
        out["ra"] = pd.to_numeric(df[ra_col], errors="coerce").to_numpy(float)
        out["dec"] = pd.to_numeric(df[dec_col], errors="coerce").to_numpy(float)
    names = df[name_col].astype(object).to_numpy() if name_col is not None else np.array([None] * len(df))
    filled = []
    for k, name in enumerate(names):
        if name is not None and not (isinstance(name, float) and np.isnan(name)) and str(name) != "":
            filled.append(str(name))
        elif ra_col is not None and np.isfinite(out["ra"].iat[k]) and np.isfinite(out["dec"].iat[k]):
            filled.append(position_name(out["ra"].iat[k], out["dec"].iat[k]))
        elif id_col is not None and not pd.isna(out["ztf_id"].iat[k]):
            filled.append(f"ZTF_{int(out['ztf_id'].iat[k])}")
        else:
            filled.append(f"row_{k}")
    out["obj_id"] = pd.array(filled, dtype=object)
    return ObjectList(table=out, has_ids=id_col is not None, has_positions=ra_col is not None)


def find_lightcurves(objects: ObjectList, source, radius_arcsec: float) -> tuple[pd.DataFrame, dict]:
    """Light curves of every object: by ZTF id, else within ``radius_arcsec`` of its position,
    else (per-object light-curve files) by name.

    Returns
    -------
    (pandas.DataFrame, dict)
        Matches ``row, obj_id, _id, ra, dec, sep_arcsec`` (one per light curve; the separation is
        NaN for matches by id or name) and
        ``{row: reason}`` for objects without any.
    """
    rows, reasons = [], {}
    t = objects.table
    id_positions = None
    if objects.has_ids:
        wanted = t["ztf_id"].dropna().astype(np.int64).unique()
        id_positions = source.positions(wanted).set_index("_id") if len(wanted) else pd.DataFrame()
    by_name = getattr(source, "ids_for_name", None)
    for rec in t.itertuples(index=False):
        zid = getattr(rec, "ztf_id", None) if objects.has_ids else None
        ra = getattr(rec, "ra", np.nan) if objects.has_positions else np.nan
        dec = getattr(rec, "dec", np.nan) if objects.has_positions else np.nan
        if zid is not None and not pd.isna(zid):
            zid = int(zid)
            if zid in id_positions.index:
                p = id_positions.loc[zid]
                rows.append((rec.row, rec.obj_id, zid, float(p["ra"]), float(p["dec"]), np.nan))
            else:
                reasons[rec.row] = f"ZTF id {zid} not found in {getattr(source, 'catalog', 'the light-curve source')}"
            continue
        if np.isfinite(ra) and np.isfinite(dec):
            near = source.near(float(ra), float(dec), float(radius_arcsec))
            if not len(near):
                reasons[rec.row] = f"no light curve within {radius_arcsec:g} arcsec of ({ra:.6f}, {dec:.6f})"
            for _id, r, d, sep in zip(near["_id"], near["ra"], near["dec"], near["sep_arcsec"]):
                rows.append((rec.row, rec.obj_id, int(_id), float(r), float(d), float(sep)))
            continue
        if by_name is not None:
            ids = by_name(rec.obj_id)
            if not ids:
                reasons[rec.row] = f"no light curve named {rec.obj_id!r} in the light-curve files"
            for i in ids:
                p = source.positions([i])
                rows.append((rec.row, rec.obj_id, int(i), float(p["ra"].iat[0]), float(p["dec"].iat[0]), np.nan))
            continue
        reasons[rec.row] = "no ZTF id and no position"
    matches = pd.DataFrame(rows, columns=["row", "obj_id", "_id", "ra", "dec", "sep_arcsec"])
    matches["obj_id"] = matches["obj_id"].astype(object)
    return matches, reasons
