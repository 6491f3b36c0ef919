"""Bright Gaia stars near demo sources, and which sources they exclude.

The demo places a few G < 13 stars close to chosen sources so that the bright-star cut of
feature generation has something to drop. Which sources fall inside an exclusion zone is
decided here with the reference SCoPe rule (reference-features-spec §4.2), so the truth table
says exactly what a correct implementation should drop:

1. candidates: Gaia stars with G < 13 within 300 arcsec of the source;
2. a candidate within 2 arcsec is the source itself: it is removed and its Gaia position
   becomes the reference position;
3. each remaining star excludes the source when the separation is less than the Drake (2022)
   radius computed from its Tycho B_T and B_T - V_T (zero for B_T >= 13).
"""

from __future__ import annotations

import numpy as np

from scope.demo import geometry

BRIGHT_G_LIMIT = 13.0
QUERY_RADIUS_ARCSEC = 300.0
SELF_MATCH_ARCSEC = 2.0
MIN_PLACED_RADIUS_ARCSEC = 8.0


def tycho_from_gaia(g, bp_rp):
    """Tycho ``(B_T, V_T)`` from Gaia G and BP - RP (valid for G < 13)."""
    g = np.asarray(g, dtype=np.float64)
    x = np.asarray(bp_rp, dtype=np.float64)
    b_t = g - (-0.004288 - 0.8547 * x + 0.1244 * x ** 2 - 0.9085 * x ** 3 + 0.4843 * x ** 4 - 0.06814 * x ** 5)
    v_t = g - (-0.01077 - 0.0682 * x - 0.2387 * x ** 2 + 0.02342 * x ** 3)
    return b_t, v_t


def drake_radius_arcsec(b_t, b_v) -> np.ndarray:
    """Drake (2022) exclusion radius (arcsec) for Tycho ``B_T`` and ``B_T - V_T``; 0 for B_T >= 13."""
    b = np.asarray(b_t, dtype=np.float64)
    bv = np.asarray(b_v, dtype=np.float64)
    r = (354.817 - 53.27823 * b + 66.01137 * bv + 2.1031286 * b ** 2 + 7.6737066 * bv ** 2
         - 6.164676 * b * bv)
    return np.where(np.isfinite(r) & (b < 13.0), np.maximum(r, 0.0), 0.0)


def exclusion_radius_arcsec(g, bp_rp) -> np.ndarray:
    """Exclusion radius (arcsec) around a Gaia star; 0 where B_T >= 13 or BP - RP is missing."""
    b, v = tycho_from_gaia(g, bp_rp)
    return drake_radius_arcsec(b, b - v)


def place_bright_stars(rng: np.random.Generator, ra, dec, n: int):
    """Put ``n`` bright stars, each close enough to one randomly chosen source to exclude it.

    Returns
    -------
    dict of ndarray
        ``ra, dec, g, bp_rp`` of the bright stars.
    """
    n = min(int(n), len(ra))
    targets = rng.choice(len(ra), n, replace=False) if n else np.empty(0, dtype=int)
    g = rng.uniform(7.5, 12.5, n)
    bp_rp = rng.uniform(0.3, 1.6, n)
    radius = exclusion_radius_arcsec(g, bp_rp)
    # red stars near G = 12 have Tycho B_T >= 13 and no exclusion zone: draw those again
    for _ in range(100):
        weak = radius < MIN_PLACED_RADIUS_ARCSEC
        if not weak.any():
            break
        g[weak] = rng.uniform(7.5, 12.5, weak.sum())
        bp_rp[weak] = rng.uniform(0.3, 1.6, weak.sum())
        radius = exclusion_radius_arcsec(g, bp_rp)
    sep = rng.uniform(np.maximum(3.0, 0.25 * radius), np.maximum(3.5, 0.85 * radius))
    angle = rng.uniform(0.0, 2 * np.pi, n)
    sra, sdec = geometry.offset_position(np.asarray(ra)[targets], np.asarray(dec)[targets],
                                         sep * np.sin(angle), sep * np.cos(angle))
    return {"ra": sra, "dec": sdec, "g": g, "bp_rp": bp_rp}


def near_bright_star(ra, dec, gaia_ra, gaia_dec, gaia_g, gaia_bp_rp) -> np.ndarray:
    """Which sources a correct bright-star cut drops, given the Gaia catalog around them."""
    ra = np.asarray(ra, dtype=np.float64)
    dec = np.asarray(dec, dtype=np.float64)
    bright = np.asarray(gaia_g) < BRIGHT_G_LIMIT
    bra, bdec = np.asarray(gaia_ra)[bright], np.asarray(gaia_dec)[bright]
    bg, bxy = np.asarray(gaia_g)[bright], np.asarray(gaia_bp_rp)[bright]
    out = np.zeros(len(ra), dtype=bool)
    if not bright.any() or len(ra) == 0:
        return out
    radius = exclusion_radius_arcsec(bg, bxy)
    sep = geometry.separation_arcsec(ra[:, None], dec[:, None], bra[None, :], bdec[None, :])
    for i in range(len(ra)):
        cand = np.flatnonzero(sep[i] < QUERY_RADIUS_ARCSEC)
        if cand.size == 0:
            continue
        ref_ra, ref_dec = ra[i], dec[i]
        nearest = cand[np.argmin(sep[i, cand])]
        if sep[i, nearest] < SELF_MATCH_ARCSEC:
            ref_ra, ref_dec = bra[nearest], bdec[nearest]
            cand = cand[cand != nearest]
        if cand.size == 0:
            continue
        d = geometry.separation_arcsec(ref_ra, ref_dec, bra[cand], bdec[cand])
        out[i] = bool(np.any((radius[cand] > 0) & (d < radius[cand])))
    return out
