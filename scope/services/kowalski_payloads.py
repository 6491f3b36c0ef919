"""Pure builders of Kowalski ``/api/queries`` bodies, and the object-name codec.

Every builder returns ``{"query_type": ..., "query": {...}, "kwargs": {...}}`` made of plain
Python types only (numpy scalars and arrays are converted), so the body always JSON-encodes.

Cone and near searches key their results by object name, and Kowalski replaces every ``.`` in
a name by ``_`` because names become database keys. Names that contain ``_`` or ``.`` would then
be ambiguous, so :func:`encode_positions` sends opaque keys ``q0, q1, ...`` and the caller maps
replies back by position with :func:`decode_matches`.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from scope.errors import DataError

ANGULAR_UNITS = ("arcsec", "arcmin", "deg", "rad")
INFO_COMMANDS = ("catalog_names", "catalog_info", "index_info", "db_info")
KEY_PREFIX = "q"


def to_plain(value: Any) -> Any:
    """Convert numpy scalars/arrays (recursively) to JSON-encodable Python values."""
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_plain(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return [to_plain(v) for v in sorted(value)]
    return value


def _kwargs(*, skip=None, limit=None, sort=None, max_time_ms=None, **extra) -> dict:
    out: dict[str, Any] = {}
    if skip:
        if int(skip) < 0:
            raise DataError(f"skip must be >= 0, got {skip}")
        out["skip"] = int(skip)
    if limit is not None:
        if int(limit) < 0:
            raise DataError(f"limit must be >= 0, got {limit}")
        out["limit"] = int(limit)
    if sort:
        out["sort"] = [[str(f), int(d)] for f, d in sort]
    if max_time_ms is not None:
        if int(max_time_ms) < 1:
            raise DataError(f"max_time_ms must be >= 1, got {max_time_ms}")
        out["max_time_ms"] = int(max_time_ms)
    out.update({k: to_plain(v) for k, v in extra.items() if v is not None})
    return out


def _catalog(catalog: str) -> str:
    if not isinstance(catalog, str) or not catalog:
        raise DataError(f"a Kowalski catalog name must be a non-empty string, got {catalog!r}")
    return catalog


def _payload(query_type: str, query: dict, kwargs: dict | None = None) -> dict:
    body = {"query_type": query_type, "query": to_plain(query)}
    if kwargs:
        body["kwargs"] = kwargs
    return body


def info(command: str = "catalog_names", catalog: str | None = None) -> dict:
    """``info`` query (``catalog_names`` lists the instance's catalogs)."""
    if command not in INFO_COMMANDS:
        raise DataError(f"unknown Kowalski info command '{command}': use one of {', '.join(INFO_COMMANDS)}")
    query: dict[str, Any] = {"command": command}
    if command in ("catalog_info", "index_info"):
        query["catalog"] = _catalog(catalog)
    return _payload("info", query)


def find(catalog: str, filter: Mapping | None = None, projection: Mapping | None = None, *,  # noqa: A002
         skip: int | None = None, limit: int | None = None, sort: Sequence[tuple[str, int]] | None = None,
         max_time_ms: int | None = None) -> dict:
    """``find``: documents matching ``filter`` (``{}`` = all), reduced by ``projection``."""
    query: dict[str, Any] = {"catalog": _catalog(catalog), "filter": dict(filter or {})}
    if projection:
        query["projection"] = dict(projection)
    return _payload("find", query, _kwargs(skip=skip, limit=limit, sort=sort, max_time_ms=max_time_ms))


def find_one(catalog: str, filter: Mapping | None = None, *, max_time_ms: int | None = None) -> dict:  # noqa: A002
    """``find_one``: one whole document (Kowalski applies no projection) or ``None``."""
    query = {"catalog": _catalog(catalog), "filter": dict(filter or {})}
    return _payload("find_one", query, _kwargs(max_time_ms=max_time_ms))


def count_documents(catalog: str, filter: Mapping | None = None, *,  # noqa: A002
                    max_time_ms: int | None = None) -> dict:
    """``count_documents``: number of documents matching ``filter``."""
    query = {"catalog": _catalog(catalog), "filter": dict(filter or {})}
    return _payload("count_documents", query, _kwargs(max_time_ms=max_time_ms))


def estimated_document_count(catalog: str) -> dict:
    """``estimated_document_count``: size of a catalog from its metadata."""
    return _payload("estimated_document_count", {"catalog": _catalog(catalog)})


def aggregate(catalog: str, pipeline: Sequence[Mapping], *, allow_disk_use: bool = True,
              max_time_ms: int | None = None) -> dict:
    """``aggregate``: run a MongoDB pipeline (non-empty; no ``$out``/``$merge``/``$unionWith``)."""
    stages = [dict(s) for s in pipeline]
    if not stages:
        raise DataError("an aggregation pipeline needs at least one stage")
    forbidden = {k for s in stages for k in s} & {"$out", "$merge", "$unionWith"}
    if forbidden:
        raise DataError(f"Kowalski refuses pipeline stages {', '.join(sorted(forbidden))}")
    query = {"catalog": _catalog(catalog), "pipeline": stages}
    return _payload("aggregate", query, _kwargs(max_time_ms=max_time_ms, allowDiskUse=bool(allow_disk_use)))


def catalog_spec(filter: Mapping | None = None, projection: Mapping | None = None) -> dict:  # noqa: A002
    """Per-catalog ``{"filter": ..., "projection": ...}`` of cone and near searches."""
    return {"filter": dict(filter or {}), "projection": dict(projection or {})}


def _catalogs(catalogs: Mapping[str, Mapping | None] | Iterable[str]) -> dict:
    if isinstance(catalogs, Mapping):
        out = {_catalog(c): catalog_spec(**{k: v for k, v in (spec or {}).items() if k in ("filter", "projection")})
               for c, spec in catalogs.items()}
    else:
        out = {_catalog(c): catalog_spec() for c in catalogs}
    if not out:
        raise DataError("a cone or near search needs at least one catalog")
    return out


def _unit(unit: str) -> str:
    if unit not in ANGULAR_UNITS:
        raise DataError(f"angular unit '{unit}' is not one of {', '.join(ANGULAR_UNITS)}")
    return unit


def _radius(value: float, what: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise DataError(f"{what} must be a finite number >= 0, got {value}")
    return v


def encode_positions(ra: Sequence[float], dec: Sequence[float]) -> dict[str, list[float]]:
    """``{"q0": [ra0, dec0], "q1": ...}``: opaque keys that survive Kowalski's name mangling.

    Raises
    ------
    DataError
        A coordinate is not finite, RA outside [0, 360] or Dec outside [-90, 90].
    """
    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    dec = np.atleast_1d(np.asarray(dec, dtype=float))
    if ra.shape != dec.shape:
        raise DataError(f"ra and dec differ in length ({len(ra)} vs {len(dec)})")
    bad = ~(np.isfinite(ra) & np.isfinite(dec) & (ra >= 0) & (ra <= 360) & (np.abs(dec) <= 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"invalid position #{i}: ra={ra[i]}, dec={dec[i]} (degrees, 0<=ra<=360, |dec|<=90)")
    return {f"{KEY_PREFIX}{i}": [float(r), float(d)] for i, (r, d) in enumerate(zip(ra, dec))}


def key_index(key: str) -> int | None:
    """Position encoded in an opaque key (``"q12"`` -> 12), or ``None`` for foreign keys."""
    if key.startswith(KEY_PREFIX) and key[len(KEY_PREFIX):].isdigit():
        return int(key[len(KEY_PREFIX):])
    return None


def decode_matches(data: Mapping[str, Mapping[str, list]] | None, n: int) -> dict[str, list[list[dict]]]:
    """Turn ``data[catalog][key] = [docs]`` into ``{catalog: [docs of position 0, ...]}``.

    Positions missing from the reply get an empty list; keys that do not decode are ignored.
    """
    out: dict[str, list[list[dict]]] = {}
    for catalog, by_key in (data or {}).items():
        rows: list[list[dict]] = [[] for _ in range(n)]
        for key, docs in (by_key or {}).items():
            i = key_index(str(key))
            if i is not None and 0 <= i < n:
                rows[i] = list(docs or [])
        out[catalog] = rows
    return out


def cone_search(ra: Sequence[float], dec: Sequence[float], radius: float,
                catalogs: Mapping[str, Mapping | None] | Iterable[str], *, unit: str = "arcsec",
                skip: int | None = None, limit: int | None = None, sort=None,
                max_time_ms: int | None = None) -> dict:
    """``cone_search`` around each position (opaque keys, see :func:`encode_positions`).

    ``limit``/``skip``/``sort`` apply per position per catalog; results are unsorted.
    """
    query = {
        "object_coordinates": {"radec": encode_positions(ra, dec),
                               "cone_search_radius": _radius(radius, "cone search radius"),
                               "cone_search_unit": _unit(unit)},
        "catalogs": _catalogs(catalogs),
    }
    return _payload("cone_search", query,
                    _kwargs(skip=skip, limit=limit, sort=sort, max_time_ms=max_time_ms, filter_first=False))


def near(ra: Sequence[float], dec: Sequence[float], max_distance: float,
         catalogs: Mapping[str, Mapping | None] | Iterable[str], *, min_distance: float = 0.0,
         unit: str = "arcsec", limit: int | None = None, max_time_ms: int | None = None) -> dict:
    """``near``: per position, matches between ``min_distance`` and ``max_distance``, nearest first.

    ``max_distance`` is always sent, because Kowalski's default is expressed in radians.
    """
    query = {
        "max_distance": _radius(max_distance, "max_distance"),
        "min_distance": _radius(min_distance, "min_distance"),
        "distance_units": _unit(unit),
        "radec": encode_positions(ra, dec),
        "catalogs": _catalogs(catalogs),
    }
    return _payload("near", query, _kwargs(limit=limit, max_time_ms=max_time_ms))


def ids_filter(ids: Iterable[int]) -> dict:
    """``{"_id": {"$in": [...]}}`` with plain ints."""
    return {"_id": {"$in": [int(i) for i in ids]}}


def catalogs_of(payload: Mapping) -> list[str]:
    """Catalog names a payload touches (empty for catalog-less queries such as ``info``)."""
    query = payload.get("query", {})
    if "catalogs" in query:
        return list(query["catalogs"])
    if "catalog" in query and payload.get("query_type") != "info":
        return [query["catalog"]]
    return []
