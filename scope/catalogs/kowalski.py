"""Cone searches on Kowalski's ancillary catalogs (Gaia EDR3, AllWISE, PS1 DR1, ZTF alerts).

Implements :class:`scope.catalogs.CatalogProvider` with the same output as
:class:`scope.catalogs.local.LocalCatalogs`: one row per match with ``query_index``,
``sep_arcsec``, ``_id``, ``ra``, ``dec`` and the requested columns, sorted by query and
separation. Nested document fields come back as dotted column names
(``classifications.braai``). Positions of matches are read from
``coordinates.radec_geojson`` (longitude + 180 = RA), which every positional catalog carries.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.lightcurves.sources.base import angular_separation_arcsec
from scope.services import kowalski_payloads as kp
from scope.services.kowalski import KowalskiClient

log = logging.getLogger(__name__)

#: protocol catalog name -> key of ``kowalski.collections`` naming the Kowalski collection
COLLECTION_KEYS = {"Gaia_EDR3": "gaia", "AllWISE": "allwise", "PS1_DR1": "ps1", "ZTF_alerts": "alerts"}
_OPS = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte", "eq": "$eq",
        "$lt": "$lt", "$lte": "$lte", "$gt": "$gt", "$gte": "$gte", "$eq": "$eq"}
_GEO = "coordinates.radec_geojson.coordinates"


def flatten(doc: Mapping, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists are kept as values)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


class KowalskiCatalogs:
    """Ancillary catalogs on Kowalski.

    Parameters
    ----------
    client : KowalskiClient
    cfg : mapping, optional
        Configuration; ``kowalski.collections`` maps the protocol names to collection names
        (e.g. a different Gaia release).
    """

    def __init__(self, client: KowalskiClient, cfg: Mapping | None = None):
        self.client = client
        collections = ((cfg or {}).get("kowalski") or {}).get("collections") or {}
        self.collections = {name: collections.get(key, name) for name, key in COLLECTION_KEYS.items()}

    def collection(self, catalog: str) -> str:
        """Kowalski collection behind a protocol catalog name (other names pass through)."""
        return self.collections.get(catalog, catalog)

    def cone(self, catalog: str, ra: Sequence[float], dec: Sequence[float], radius_arcsec: float,
             columns: Sequence[str] | None = None, filters: dict | None = None) -> pd.DataFrame:
        """See :class:`scope.catalogs.CatalogProvider`.

        ``columns=None`` returns every field; ``filters`` (``{column: (op, value)}``) is applied
        on the server.

        Raises
        ------
        BatchQueryError
            Some positions could not be searched after retries (they are named).
        """
        ra = np.atleast_1d(np.asarray(ra, dtype=float))
        dec = np.atleast_1d(np.asarray(dec, dtype=float))
        wanted = None if columns is None else [c for c in columns if c not in ("_id", "ra", "dec")]
        projection = None if wanted is None else {**{c: 1 for c in wanted}, "_id": 1, _GEO: 1}
        flt = {}
        for col, (op, value) in (filters or {}).items():
            if op not in _OPS:
                raise DataError(f"unknown filter operator '{op}' for {col}: use lt, le, gt, ge or eq")
            flt.setdefault(col, {})[_OPS[op]] = float(value) if not isinstance(value, str) else value
        name = self.collection(catalog)
        ok = np.isfinite(ra) & np.isfinite(dec)
        index = np.flatnonzero(ok)
        rows: list[dict] = []
        if len(index):
            found = self.client.cone_search(ra[index], dec[index], radius_arcsec,
                                            {name: kp.catalog_spec(flt, projection)})
            for qi, docs in zip(index, found[name]):
                for doc in docs:
                    flat = flatten(doc)
                    geo = flat.pop(_GEO, None)
                    flat.pop("coordinates.radec_geojson.type", None)
                    flat.pop("coordinates.radec_str", None)
                    if geo is not None and len(geo) == 2:
                        flat.setdefault("ra", float(geo[0]) + 180.0)
                        flat.setdefault("dec", float(geo[1]))
                    flat["query_index"] = int(qi)
                    rows.append(flat)
        out = pd.DataFrame(rows)
        base = ["query_index", "sep_arcsec", "_id", "ra", "dec"]
        if out.empty:
            out = pd.DataFrame({c: pd.Series(dtype=float) for c in base + (wanted or [])})
            out["query_index"] = out["query_index"].astype(np.int64)
            return out
        out["sep_arcsec"] = angular_separation_arcsec(ra[out["query_index"].to_numpy()],
                                                      dec[out["query_index"].to_numpy()],
                                                      out["ra"].to_numpy(dtype=float), out["dec"].to_numpy(dtype=float))
        # the server's cone is exact; drop float-edge strays so local and remote agree
        out = out[out["sep_arcsec"] <= radius_arcsec]
        rest = [c for c in (wanted if wanted is not None else out.columns) if c not in base]
        for c in rest:
            if c not in out.columns:
                out[c] = np.nan
        out = out[base + rest].sort_values(["query_index", "sep_arcsec"], kind="stable").reset_index(drop=True)
        out["query_index"] = out["query_index"].astype(np.int64)
        return out
