"""Build documents in Kowalski's shapes from local data, for the loopback server.

* ``ZTF_sources_*``: one document per light curve, ``_id`` = 10^13 + field*10^9 + rc*10^7 +
  filter*10^6 + matchid, scalar summary fields, ``coordinates`` and a ``data[]`` array of epochs
  sorted by ``hjd`` (:func:`source_document`, :func:`sources_from_batch`,
  :func:`sources_from_archive`).
* ``ZTF_source_features_*``: one document per row of a features table (:func:`feature_documents`).
* ``Gaia_EDR3``, ``AllWISE``, ``PS1_DR1``, ``ZTF_alerts``: one document per row of a local
  catalog table; dotted column names become nested fields (:func:`catalog_documents`).

Every positional document carries ``coordinates.radec_geojson`` with longitude = RA - 180.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from scope.lightcurves import ztf_ids


def plain(value: Any) -> Any:
    """numpy/pandas values -> plain Python (NaN stays a float NaN; NA becomes None)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _hms(ra: float) -> str:
    h = (ra / 15.0) % 24
    hh = int(h)
    mm = int((h - hh) * 60)
    ss = ((h - hh) * 60 - mm) * 60
    return f"{hh:02d}:{mm:02d}:{ss:07.4f}"


def _dms(dec: float) -> str:
    sign = "-" if dec < 0 else "+"
    d = abs(dec)
    dd = int(d)
    mm = int((d - dd) * 60)
    ss = ((d - dd) * 60 - mm) * 60
    return f"{sign}{dd:02d}:{mm:02d}:{ss:06.3f}"


def coordinates(ra: float, dec: float) -> dict:
    """Kowalski's ``coordinates`` sub-document."""
    ra, dec = float(ra), float(dec)
    return {"radec_str": [_hms(ra), _dms(dec)],
            "radec_geojson": {"type": "Point", "coordinates": [ra - 180.0, dec]}}


def _r(value, digits):
    v = float(value)
    return v if math.isnan(v) else round(v, digits)


def source_document(_id: int, ra: float, dec: float, hjd, mag, magerr, catflags=None, programid=None,
                    **extra) -> dict:
    """A ``ZTF_sources`` document for one light curve (``_id`` in Kowalski form).

    ``programid`` defaults to 1 (public); 0 ("unknown") is also stored as 1.
    """
    d = ztf_ids.decode_kowalski_id(int(_id))
    field, ccd, quad, rc, filt, matchid = (int(v) for v in d)
    hjd = np.asarray(hjd, dtype=float)
    mag = np.asarray(mag, dtype=float)
    magerr = np.asarray(magerr, dtype=float)
    n = len(hjd)
    catflags = np.zeros(n, int) if catflags is None else np.asarray(catflags, dtype=int)
    programid = np.ones(n, int) if programid is None else np.where(np.asarray(programid) == 0, 1,
                                                                   np.asarray(programid)).astype(int)
    order = np.argsort(hjd, kind="stable")
    data = []
    for k in order:
        expid = int(round((hjd[k] - 2458000.0) * 1e4)) % 10**9
        data.append({"hjd": _r(hjd[k], 5), "mag": _r(mag[k], 5), "magerr": _r(magerr[k], 5),
                     "catflags": int(catflags[k]), "expid": expid, "programid": int(programid[k]),
                     "ra": float(ra), "dec": float(dec),
                     "uexpid": 10**16 + field * 10**12 + rc * 10**10 + filt * 10**9 + expid})
    good = mag[np.isfinite(mag)]
    doc = {"_id": int(_id), "matchid": matchid, "filter": filt, "field": field, "ccd": ccd, "quad": quad,
           "rc": rc, "ra": float(ra), "dec": float(dec), "nobs": n,
           "meanmag": round(float(good.mean()), 3) if len(good) else float("nan"),
           "vonneumannratio": float("nan"), "coordinates": coordinates(ra, dec), "data": data}
    doc.update(plain(extra))
    return doc


def sources_from_batch(batch) -> list[dict]:
    """``ZTF_sources`` documents from a :class:`~scope.lightcurves.batch.LightCurveBatch`.

    Ids in public ``objectid`` form are converted to Kowalski ``_id`` s (matchid = object number).
    """
    ids = np.asarray(batch.ids, dtype=np.int64)
    if len(ids) and not bool(np.all(ztf_ids.is_kowalski_id(ids))):
        ids = ztf_ids.objectid_to_kowalski(ids)
    docs = []
    for i, _id in enumerate(ids):
        a, b = batch.offsets[i], batch.offsets[i + 1]
        docs.append(source_document(int(_id), batch.ra[i], batch.dec[i], batch.t[a:b], batch.m[a:b],
                                    batch.e[a:b], batch.flags[a:b], batch.programid[a:b]))
    return docs


def sources_from_archive(root, fields: Iterable[int] | None = None) -> list[dict]:
    """``ZTF_sources`` documents for every light curve of a local archive (all epochs kept)."""
    from scope.lightcurves.sources.ztf_archive import ZTFArchiveSource

    src = ZTFArchiveSource(root, id_scheme="kowalski")
    docs = []
    for field in (fields if fields is not None else src.fields()):
        for ccd, quad in src.quadrants(field):
            ids = src.ids_in_quadrant(field, ccd, quad)
            docs.extend(sources_from_batch(src.lightcurves(ids)))
    return docs


def _nest(flat: Mapping) -> dict:
    out: dict = {}
    for key, value in flat.items():
        parts = str(key).split(".")
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def catalog_documents(df: pd.DataFrame) -> list[dict]:
    """Documents from a catalog table with ``_id, ra, dec`` (dotted columns become nested)."""
    docs = []
    cols = list(df.columns)
    for row in df.itertuples(index=False, name=None):
        rec = {c: plain(v) for c, v in zip(cols, row)}
        doc = _nest(rec)
        if "ra" in rec and "dec" in rec and "coordinates" not in rec:
            doc["coordinates"] = coordinates(rec["ra"], rec["dec"])
        docs.append(doc)
    return docs


def catalogs_from_folder(folder) -> dict[str, list[dict]]:
    """``{catalog: documents}`` for every ``<catalog>.parquet`` of a local catalogs folder."""
    return {p.stem: catalog_documents(pd.read_parquet(p)) for p in sorted(Path(folder).glob("*.parquet"))}


def feature_documents(df: pd.DataFrame) -> list[dict]:
    """``ZTF_source_features`` documents from a features table (``dmdt`` as nested lists)."""
    docs = []
    cols = list(df.columns)
    for row in df.itertuples(index=False, name=None):
        doc = {}
        for c, v in zip(cols, row):
            if c == "dmdt" and v is not None and not (isinstance(v, float) and math.isnan(v)):
                v = np.asarray(v, dtype=float).reshape(26, 26).tolist()
            doc[c] = plain(v)
        if "ra" in doc and "dec" in doc and "coordinates" not in doc:
            doc["coordinates"] = coordinates(doc["ra"], doc["dec"])
        docs.append(doc)
    return docs
