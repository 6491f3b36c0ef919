"""Exclusion of sources near bright stars, from Gaia photometry (spec §4.2).

For each source position:

1. candidate bright stars are those with G < ``max_gmag`` (13) within ``query_radius_arcsec``
   (300") of the source;
2. self-match: if the nearest candidate lies within ``xmatch_radius_arcsec`` (2") it is the
   source itself; it is removed from the candidates and its Gaia position becomes the reference
   position (otherwise the source position is);
3. each remaining candidate with a BP-RP colour gets a Tycho-2 magnitude pair (valid for G < 13,
   x = BP - RP)::

       B_T = G - (-0.004288 - 0.8547 x + 0.1244 x^2 - 0.9085 x^3 + 0.4843 x^4 - 0.06814 x^5)
       V_T = G - (-0.01077 - 0.0682 x - 0.2387 x^2 + 0.02342 x^3)

   and an exclusion radius (arcsec; A. Drake 2022) for B_T < 13, else 0::

       r = 354.817 - 53.27823 B + 66.01137 (B - V) + 2.1031286 B^2 + 7.6737066 (B - V)^2
           - 6.164676 B (B - V)

4. the source is dropped when some candidate has r > 0 and lies closer than r to the reference
   position.

A star without BP-RP (NaN) gets radius 0, as a missing colour did in the reference (where a
``None`` colour crashed instead).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scope.errors import DataError

ARCSEC_PER_RAD = 180.0 / math.pi * 3600.0


def tycho_bv_from_gaia(g, bp_rp):
    """Tycho-2 ``B_T`` and ``V_T`` from Gaia G and BP-RP (valid for G < 13).

    Parameters
    ----------
    g, bp_rp : array_like
        Gaia G magnitude and BP-RP colour.

    Returns
    -------
    b_t, v_t : ndarray
    """
    g = np.asarray(g, dtype=np.float64)
    x = np.asarray(bp_rp, dtype=np.float64)
    b_t = g - (-0.004288 - 0.8547 * x + 0.1244 * x**2 - 0.9085 * x**3 + 0.4843 * x**4 - 0.06814 * x**5)
    v_t = g - (-0.01077 - 0.0682 * x - 0.2387 * x**2 + 0.02342 * x**3)
    return b_t, v_t


def exclusion_radius_arcsec(b_t, v_t):
    """Drake (2022) exclusion radius in arcsec; 0 where ``B_T >= 13`` or a magnitude is NaN."""
    b = np.asarray(b_t, dtype=np.float64)
    bv = b - np.asarray(v_t, dtype=np.float64)
    r = (354.817 - 53.27823 * b + 66.01137 * bv + 2.1031286 * b**2 + 7.6737066 * bv**2 - 6.164676 * b * bv)
    return np.where((b < 13.0) & np.isfinite(r), r, 0.0)


def bright_star_keep_mask(
    ra,
    dec,
    star_ra,
    star_dec,
    star_g,
    star_bp_rp,
    *,
    query_radius_arcsec: float = 300.0,
    xmatch_radius_arcsec: float = 2.0,
    max_gmag: float = 13.0,
) -> np.ndarray:
    """Which sources survive the bright-star cut.

    Parameters
    ----------
    ra, dec : array_like of float64, shape (n,)
        Source positions (degrees).
    star_ra, star_dec, star_g, star_bp_rp : array_like of float64, shape (k,)
        Gaia stars around the sources (any magnitude; only G < ``max_gmag`` is used). BP-RP may
        be NaN.
    query_radius_arcsec : float
        Radius within which stars are considered (the reference's cone radius).
    xmatch_radius_arcsec : float
        Radius of the self-match.
    max_gmag : float
        Stars at least this faint are ignored.

    Returns
    -------
    ndarray of bool, shape (n,)
        True for sources to keep.
    """
    ra = np.ascontiguousarray(ra, dtype=np.float64)
    dec = np.ascontiguousarray(dec, dtype=np.float64)
    if ra.shape != dec.shape or ra.ndim != 1:
        raise DataError("ra and dec must be 1-d arrays of one length")
    sra = np.asarray(star_ra, dtype=np.float64)
    sdec = np.asarray(star_dec, dtype=np.float64)
    sg = np.asarray(star_g, dtype=np.float64)
    sbprp = np.asarray(star_bp_rp, dtype=np.float64)
    if not (sra.shape == sdec.shape == sg.shape == sbprp.shape) or sra.ndim != 1:
        raise DataError("bright-star arrays must be 1-d and of one length")
    bright = (sg < max_gmag) & np.isfinite(sra) & np.isfinite(sdec)
    sra, sdec, sg, sbprp = sra[bright], sdec[bright], sg[bright], sbprp[bright]
    b_t, v_t = tycho_bv_from_gaia(sg, sbprp)
    radius = np.where(np.isfinite(sbprp), exclusion_radius_arcsec(b_t, v_t), 0.0)
    order = np.argsort(sdec, kind="mergesort")
    keep = np.ones(len(ra), dtype=bool)
    if len(ra) and len(order):
        _keep_kernel(ra, dec, np.ascontiguousarray(sra[order]), np.ascontiguousarray(sdec[order]),
                     np.ascontiguousarray(radius[order]), float(query_radius_arcsec),
                     float(xmatch_radius_arcsec), keep)
    return keep


@njit(cache=True, nogil=True)
def separation_arcsec(ra1, dec1, ra2, dec2):
    """Great-circle separation (haversine) of two positions in degrees, in arcsec."""
    d2r = math.pi / 180.0
    sdd = math.sin(0.5 * (dec2 - dec1) * d2r)
    sda = math.sin(0.5 * (ra2 - ra1) * d2r)
    h = sdd * sdd + math.cos(dec1 * d2r) * math.cos(dec2 * d2r) * sda * sda
    return 2.0 * math.asin(math.sqrt(min(1.0, h))) * ARCSEC_PER_RAD


@njit(cache=True, nogil=True)
def _keep_kernel(ra, dec, sra, sdec, radius, query_r, xmatch_r, keep):
    band = query_r / 3600.0
    for i in range(ra.shape[0]):
        lo = np.searchsorted(sdec, dec[i] - band, side="left")
        hi = np.searchsorted(sdec, dec[i] + band, side="right")
        nearest = -1
        nearest_sep = np.inf
        for j in range(lo, hi):
            s = separation_arcsec(ra[i], dec[i], sra[j], sdec[j])
            if s <= query_r and s < nearest_sep:
                nearest_sep = s
                nearest = j
        ref_ra = ra[i]
        ref_dec = dec[i]
        self_match = -1
        if nearest >= 0 and nearest_sep <= xmatch_r:
            self_match = nearest
            ref_ra = sra[nearest]
            ref_dec = sdec[nearest]
        for j in range(lo, hi):
            if j == self_match or not radius[j] > 0:
                continue
            if separation_arcsec(ra[i], dec[i], sra[j], sdec[j]) > query_r:
                continue
            if separation_arcsec(ref_ra, ref_dec, sra[j], sdec[j]) < radius[j]:
                keep[i] = False
                break
