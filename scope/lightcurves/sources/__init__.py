"""Light-curve sources and the factory that picks one from the config."""

from __future__ import annotations

import logging
from typing import Mapping

from scope.errors import ConfigError
from scope.lightcurves.sources.base import LightCurveSource, angular_separation_arcsec
from scope.lightcurves.sources.tables import LightCurveTableSource
from scope.lightcurves.sources.ztf_archive import ZTFArchiveSource

log = logging.getLogger(__name__)

__all__ = ["LightCurveSource", "ZTFArchiveSource", "LightCurveTableSource", "open_source",
           "resolve_source_kind", "angular_separation_arcsec"]


def kowalski_configured(cfg: Mapping) -> bool:
    """True when at least one Kowalski instance has credentials."""
    instances = (cfg.get("kowalski") or {}).get("instances") or {}
    return any((spec or {}).get("token") or ((spec or {}).get("username") and (spec or {}).get("password"))
               for spec in instances.values())


def resolve_source_kind(cfg: Mapping, source: str | None = None) -> str:
    """``archive`` or ``kowalski``: the explicit choice, else ``data.source`` (``auto`` decides)."""
    kind = source or (cfg.get("data") or {}).get("source", "auto")
    if kind == "auto":
        kind = "kowalski" if kowalski_configured(cfg) else "archive"
    if kind not in ("archive", "kowalski"):
        raise ConfigError(f"data.source must be auto, archive or kowalski, got '{kind}'")
    return kind


def open_source(cfg, catalog: str | None = None, source: str | None = None, id_scheme: str = "objectid"):
    """Open the light-curve source the config (or the caller) names.

    Parameters
    ----------
    cfg : scope.config.Config
    catalog : str, optional
        Kowalski catalog of light curves (default ``kowalski.collections.sources``).
    source : {"archive", "kowalski"}, optional
        Overrides ``data.source``.
    id_scheme : {"objectid", "kowalski"}
        Id form for the local archive.
    """
    kind = resolve_source_kind(cfg, source)
    if kind == "kowalski":
        from scope.lightcurves.sources.kowalski import KowalskiSource
        from scope.services.kowalski import client_from_config

        catalog = catalog or cfg["kowalski"]["collections"]["sources"]
        return KowalskiSource(client_from_config(cfg), catalog)
    path = cfg.resolve_path((cfg.get("data") or {}).get("archive_path"))
    if path is None:
        raise ConfigError("no light-curve archive configured: run scope-demo-data, or set data.archive_path "
                          "in config.yaml (or configure a Kowalski instance)")
    from scope.lightcurves.plausibility import Plausibility

    return ZTFArchiveSource(path, id_scheme=id_scheme, plausibility=Plausibility.from_config(cfg))
