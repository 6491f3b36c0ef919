"""The small protocol every light-curve source implements (local archive, files, Kowalski)."""

from __future__ import annotations

from typing import Iterable, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from scope.lightcurves.batch import LightCurveBatch


@runtime_checkable
class LightCurveSource(Protocol):
    """Where light curves come from.

    Attributes
    ----------
    name : str
        Short name of the source kind (``"archive"``, ``"kowalski"``, ``"files"``).
    catalog : str
        What is recorded in output metadata as the light-curve catalog.
    """

    name: str
    catalog: str

    def quadrants(self, field: int) -> list[tuple[int, int]]:
        """Populated ``(ccd, quad)`` pairs of a field, sorted."""

    def ids_in_quadrant(self, field: int, ccd: int, quad: int, *, minobs: int = 0, skip: int = 0,
                        limit: int | None = None) -> np.ndarray:
        """Ids (int64, ascending) of light curves in a quadrant with at least ``minobs`` epochs
        (all epochs, flagged ones included), paged by ``skip``/``limit``."""

    def positions(self, ids: Iterable[int]) -> pd.DataFrame:
        """``_id, ra, dec`` of the given ids (unknown ids are absent)."""

    def lightcurves(self, ids: Iterable[int], *, max_timestamp_hjd: float | None = None,
                    programids: Iterable[int] | None = None) -> LightCurveBatch:
        """Light curves of ``ids`` in request order, points past ``max_timestamp_hjd`` or of other
        programs removed. Ids that are not found are absent from the batch."""

    def near(self, ra: float, dec: float, radius_arcsec: float, limit: int | None = None) -> pd.DataFrame:
        """``_id, ra, dec, sep_arcsec`` of light curves within a radius, nearest first."""


def angular_separation_arcsec(ra1, dec1, ra2, dec2) -> np.ndarray:
    """Great-circle separation in arcsec (haversine; inputs in degrees, broadcast)."""
    ra1, dec1, ra2, dec2 = (np.radians(np.asarray(x, dtype=float)) for x in (ra1, dec1, ra2, dec2))
    s = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(s, 0, 1)))) * 3600.0
