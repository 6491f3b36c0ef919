"""scope-download-gcn-sources: the ZTF light curves under the Fritz sources of a GCN event.

Fritz lists the sources inside the event's localization that were detected within
``days_range`` days after it; each is matched to the light curves within ``radius_arcsec``
(local archive or Kowalski). A light curve near several sources is kept once, for the closest.
Output, in the format ``generate-features --doSpecificIDs --fg-dataset`` reads::

    <save_filename>.<dateobs, ':' -> '-'>.parquet   columns ztf_id, fritz_name, coordinates
    <save_filename>.<dateobs, ':' -> '-'>.json      {ztf_id: {fritz_name, radec_geojson}}

``coordinates`` holds Kowalski's ``{"radec_geojson": {"type": "Point", "coordinates": [ra - 180, dec]}}``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.services import fritz_payloads as fp
from scope.tables import atomic_write, ensure_writable_dir, write_table

log = logging.getLogger(__name__)


@dataclass
class GcnSources:
    dateobs: str
    n_fritz_sources: int = 0
    n_without_lightcurves: int = 0
    table: pd.DataFrame | None = None
    files: list[Path] = field(default_factory=list)


def geojson(ra: float, dec: float) -> dict:
    return {"type": "Point", "coordinates": [float(ra) - 180.0, float(dec)]}


def event_sources(client, dateobs: str, *, group_ids=None, days_range: float = 7.0) -> dict[str, tuple[float, float]]:
    """``{obj_id: (ra, dec)}`` of the Fritz sources in the event's localization."""
    if client.gcn_event(dateobs) is None:
        raise DataError(f"Fritz has no GCN event at {dateobs}")
    out: dict[str, tuple[float, float]] = {}
    params = fp.localization_query(dateobs, days_range=days_range, group_ids=group_ids or None)
    for _, _, sources in client.iter_source_pages(params):
        for s in sources:
            out[str(s["id"])] = (float(s["ra"]), float(s["dec"]))
    return out


def download_gcn_sources(client, lightcurves, *, dateobs: str, group_ids=None, days_range: float = 7.0,
                         radius_arcsec: float = 0.5,
                         save_filename: str = "fritzDownload/specific_ids_GCN_sources") -> GcnSources:
    """Run scope-download-gcn-sources (see the module docstring)."""
    if fp.parse_timestamp(dateobs) is None:
        raise DataError(f"--dateobs must look like 2023-05-21T05:30:43, got '{dateobs}'")
    base = Path(save_filename)
    ensure_writable_dir(base.parent if str(base.parent) else Path("."))
    result = GcnSources(dateobs)
    sources = event_sources(client, dateobs, group_ids=group_ids, days_range=days_range)
    result.n_fritz_sources = len(sources)
    rows = []
    for name, (ra, dec) in sources.items():
        near = lightcurves.near(ra, dec, radius_arcsec)
        if near.empty:
            result.n_without_lightcurves += 1
        for _id, r, d, sep in zip(near["_id"], near["ra"], near["dec"], near["sep_arcsec"]):
            rows.append((int(_id), name, float(r), float(d), float(sep)))
    df = pd.DataFrame(rows, columns=["ztf_id", "fritz_name", "ra", "dec", "sep"])
    df = df.sort_values(["ztf_id", "sep"]).drop_duplicates("ztf_id").sort_values(["fritz_name", "ztf_id"])
    table = pd.DataFrame({"ztf_id": df["ztf_id"].astype(np.int64).to_numpy(),
                          "fritz_name": df["fritz_name"].to_numpy(),
                          "coordinates": [{"radec_geojson": geojson(r, d)} for r, d in zip(df["ra"], df["dec"])]})
    table.attrs = {"dateobs": dateobs, "days_range": float(days_range), "radius_arcsec": float(radius_arcsec),
                   "fritz_group_ids": list(group_ids or [])}
    result.table = table
    stem = f"{base.name}.{dateobs.replace(':', '-')}"
    result.files.append(write_table(table, base.parent / f"{stem}.parquet"))
    with atomic_write(base.parent / f"{stem}.json") as fh:
        json.dump({str(i): {"fritz_name": n, "radec_geojson": c["radec_geojson"]}
                   for i, n, c in zip(table["ztf_id"], table["fritz_name"], table["coordinates"])}, fh, indent=1)
    result.files.append(base.parent / f"{stem}.json")
    return result
