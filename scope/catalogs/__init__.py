"""Ancillary catalogs (Gaia, AllWISE, PS1, ZTF alerts) behind one cone-search protocol."""

from __future__ import annotations

from typing import Protocol, Sequence

import pandas as pd

from scope.catalogs.local import LocalCatalogs

CATALOGS = ("Gaia_EDR3", "AllWISE", "PS1_DR1", "ZTF_alerts")

__all__ = ["CatalogProvider", "LocalCatalogs", "CATALOGS", "open_catalogs"]


class CatalogProvider(Protocol):
    """Cone searches around many positions at once."""

    def cone(self, catalog: str, ra: Sequence[float], dec: Sequence[float], radius_arcsec: float,
             columns: Sequence[str] | None = None, filters: dict | None = None) -> pd.DataFrame:
        """Matches of every query position: columns ``query_index`` (position in ``ra``/``dec``),
        ``sep_arcsec``, ``_id``, ``ra``, ``dec`` and the requested ``columns``; sorted by query and
        separation. ``filters`` maps a column to ``(op, value)`` with op in ``lt, le, gt, ge, eq``."""


def open_catalogs(cfg, source: str | None = None):
    """The catalog provider for the configured data source (local folder or Kowalski)."""
    from scope.errors import ConfigError
    from scope.lightcurves.sources import resolve_source_kind

    kind = resolve_source_kind(cfg, source)
    if kind == "kowalski":
        from scope.catalogs.kowalski import KowalskiCatalogs
        from scope.services.kowalski import client_from_config

        return KowalskiCatalogs(client_from_config(cfg), cfg)
    path = cfg.resolve_path((cfg.get("data") or {}).get("catalogs_path"))
    if path is None:
        raise ConfigError("no ancillary catalogs configured: set data.catalogs_path in config.yaml "
                          "(scope-demo-data writes one), or use --skipCloseSources and skip cross-matches")
    return LocalCatalogs(path)
