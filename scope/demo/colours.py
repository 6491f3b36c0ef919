"""Approximate colour transformations between ZTF, Pan-STARRS, Gaia and WISE for demo stars.

Rough stellar-locus fits, good to a tenth of a magnitude for ordinary stars; they only need to
make the demo's catalogs mutually consistent, not to be used for science.
"""

from __future__ import annotations

import numpy as np


def r_minus_i(g_r):
    """PS1/ZTF r - i along the stellar locus (steepens for M dwarfs, g - r > 1.2)."""
    g_r = np.asarray(g_r, dtype=np.float64)
    return 0.03 + 0.42 * g_r + np.where(g_r > 1.2, 1.6 * (g_r - 1.2), 0.0)


def gaia_mags(r, g_r):
    """Gaia ``(G, BP, RP, BP - RP)`` from a mean r magnitude and g - r colour."""
    r = np.asarray(r, dtype=np.float64)
    g_r = np.asarray(g_r, dtype=np.float64)
    bp_rp = 0.20 + 1.60 * g_r
    g = r - 0.10 - 0.35 * g_r - 0.10 * g_r ** 2
    bp = g + 0.33 + 0.65 * (bp_rp - 0.82)
    rp = bp - bp_rp
    return g, bp, rp, bp_rp


def r_minus_w1_star(g_r):
    """r - W1 (Vega W1) for a normal star of colour g - r."""
    return 0.55 + 2.1 * np.asarray(g_r, dtype=np.float64)
