"""Sky geometry of the demo field: a ZTF-like 4 x 4 CCD mosaic of 0.86-degree quadrants.

The demo does not reproduce the official ZTF field grid. Each field gets a fixed, plausible
centre (:data:`FIELD_CENTRES`, or a deterministic fallback for other field numbers) and a
mosaic laid out in the tangent plane around it:

* CCDs form a 4 x 4 grid with centres 1.8 deg apart (1.73-deg chips plus gaps); CCD 1-4 are the
  northern row from west to east, CCD 13-16 the southern row.
* Each CCD has four 0.86 x 0.86 deg quadrants: 1 = north-west, 2 = north-east, 3 = south-east,
  4 = south-west.

Positions are drawn uniformly inside a quadrant (tangent plane) and projected back to RA/Dec
with the gnomonic projection, so quadrants near the pole of the field stay square on the sky.
"""

from __future__ import annotations

import numpy as np

#: chosen demo field centres (RA, Dec) in degrees; 301 is the field the user docs use
FIELD_CENTRES = {301: (66.70, -9.90)}

CCD_PITCH_DEG = 1.80
QUAD_SIZE_DEG = 0.86
_EDGE_DEG = 5.0 / 3600.0  # keep objects off the very edge of the chip


def field_centre(field: int) -> tuple[float, float]:
    """Centre ``(ra, dec)`` in degrees of a demo field.

    Fields without a chosen centre get a deterministic one spread over the sky, so any field
    number yields a valid, repeatable footprint.
    """
    if field in FIELD_CENTRES:
        return FIELD_CENTRES[field]
    # a simple spiral: distinct fields land on distinct, well-separated spots
    ra = (field * 7.5) % 360.0
    dec = -25.0 + (field % 11) * 7.0
    return float(ra), float(dec)


def quadrant_offset(ccd: int, quad: int) -> tuple[float, float]:
    """Tangent-plane offset ``(xi, eta)`` in degrees of a quadrant centre from the field centre.

    ``xi`` grows to the east (increasing RA), ``eta`` to the north.
    """
    row, col = divmod(ccd - 1, 4)
    # CCD 1 sits west (xi < 0) in the north row (eta > 0)
    ccd_xi = (col - 1.5) * CCD_PITCH_DEG
    ccd_eta = (1.5 - row) * CCD_PITCH_DEG
    half = QUAD_SIZE_DEG / 2.0
    dxi = {1: -half, 2: half, 3: half, 4: -half}[quad]
    deta = {1: half, 2: half, 3: -half, 4: -half}[quad]
    return ccd_xi + dxi, ccd_eta + deta


def tangent_to_sky(xi_deg, eta_deg, ra0_deg: float, dec0_deg: float):
    """Inverse gnomonic projection of tangent-plane offsets around ``(ra0, dec0)``."""
    xi = np.radians(np.asarray(xi_deg, dtype=np.float64))
    eta = np.radians(np.asarray(eta_deg, dtype=np.float64))
    ra0 = np.radians(ra0_deg)
    dec0 = np.radians(dec0_deg)
    denom = np.cos(dec0) - eta * np.sin(dec0)
    ra = ra0 + np.arctan2(xi, denom)
    dec = np.arctan2(np.sin(dec0) + eta * np.cos(dec0), np.hypot(xi, denom))
    return np.degrees(ra) % 360.0, np.degrees(dec)


def random_positions(rng: np.random.Generator, n: int, field: int, ccd: int, quad: int):
    """``n`` positions ``(ra, dec)`` uniform inside a quadrant's footprint."""
    ra0, dec0 = field_centre(field)
    cx, cy = quadrant_offset(ccd, quad)
    half = QUAD_SIZE_DEG / 2.0 - _EDGE_DEG
    xi = cx + rng.uniform(-half, half, n)
    eta = cy + rng.uniform(-half, half, n)
    return tangent_to_sky(xi, eta, ra0, dec0)


def offset_position(ra_deg, dec_deg, dra_arcsec, ddec_arcsec):
    """Shift positions by small on-sky offsets (arcsec; RA offset measured along the sky)."""
    dec = np.asarray(dec_deg, dtype=np.float64)
    ra = np.asarray(ra_deg, dtype=np.float64) + np.asarray(dra_arcsec) / 3600.0 / np.cos(np.radians(dec))
    return ra % 360.0, dec + np.asarray(ddec_arcsec) / 3600.0


def separation_arcsec(ra1, dec1, ra2, dec2):
    """Great-circle separation in arcsec (haversine; broadcasts)."""
    ra1, dec1, ra2, dec2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (ra1, dec1, ra2, dec2))
    s = (np.sin((dec2 - dec1) / 2) ** 2
         + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2)
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(s, 0.0, 1.0)))) * 3600.0
