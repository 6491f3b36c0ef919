"""Ancillary catalogs consistent with the demo objects: Gaia EDR3, AllWISE and Pan-STARRS1.

Every demo object gets counterparts at (nearly) its true position, with brightness and colours
from its ZTF magnitudes and physics that fits its class:

* Gaia parallax and proper motion from a class-typical absolute magnitude and tangential
  velocity (RR Lyrae and Cepheids far away, flaring M dwarfs and YSOs close, AGN at zero);
  errors grow with G as in EDR3; objects fainter than G = 20.9 are missing.
* AllWISE colours: stars near zero, AGN W1 - W2 > 0.8, YSOs red with strong W3/W4 excess,
  Miras very red; faint objects are missing, undetected bands are upper limits (``ph_qual`` U).
* PS1 grizy from the stellar locus (flat for AGN); undetected bands are NaN.

Each table also holds unrelated faint field objects, so a cross-match has something to reject.
Identifiers are synthetic but unique int64 values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scope.demo import geometry
from scope.demo.colours import gaia_mags, r_minus_i, r_minus_w1_star

#: class -> (absolute r magnitude range, tangential velocity range km/s); None = extragalactic
_ABS_MAG_VT = {
    "nonvar": ((3.5, 8.0), (15.0, 60.0)),
    "rrab": ((0.4, 0.8), (100.0, 250.0)),
    "rrc": ((0.4, 0.8), (100.0, 250.0)),
    "dscu": ((1.5, 2.8), (15.0, 50.0)),
    "cep": ((-4.5, -2.5), (10.0, 30.0)),
    "ea": ((2.5, 6.0), (15.0, 60.0)),
    "eb": ((1.5, 4.0), (15.0, 60.0)),
    "ew": ((3.0, 5.5), (15.0, 60.0)),
    "mira": ((-2.5, -1.0), (20.0, 80.0)),
    "flare": ((9.0, 12.0), (15.0, 60.0)),
    "agn": (None, None),
    "yso": (None, (5.0, 20.0)),
}
GAIA_LIMIT = 20.9
GAIA_EPOCH = 2016.0
WISE_LIMITS = {"w1": 16.9, "w2": 15.9, "w3": 11.5, "w4": 8.0}
PS1_LIMITS = {"g": 23.0, "r": 22.8, "i": 22.6, "z": 21.9, "y": 20.9}
PS1_SATURATION = 13.5


def _distance_pc(rng, cls, r_mag):
    d = np.full(len(cls), np.inf)
    for key, (mabs, _) in _ABS_MAG_VT.items():
        idx = np.flatnonzero(cls == key)
        if key == "yso":
            d[idx] = rng.uniform(140.0, 500.0, len(idx))  # nearby star-forming regions
        elif mabs is not None:
            m = rng.uniform(*mabs, len(idx))
            # giants among the constant stars: a sixth of them are far more luminous
            if key == "nonvar":
                giant = rng.random(len(idx)) < 0.15
                m = np.where(giant, rng.uniform(-0.5, 1.5, len(idx)), m)
            d[idx] = 10 ** ((r_mag[idx] - m + 5.0) / 5.0)
    return d


def _tangential_velocity(rng, cls):
    v = np.zeros(len(cls))
    for key, (_, vt) in _ABS_MAG_VT.items():
        idx = np.flatnonzero(cls == key)
        if vt is not None:
            v[idx] = rng.uniform(*vt, len(idx))
    return v


def _gaia_id(ra, dec, index):
    # a HEALPix-like sky cell in the high bits and a running number below, as real source_ids
    zone = np.floor((np.asarray(dec) + 90.0) * 200).astype(np.int64)
    cell = zone * 72000 + np.floor(np.asarray(ra) * 200).astype(np.int64)
    return cell * 2 ** 31 + np.asarray(index, dtype=np.int64)


def _sky_id(ra, dec, index):
    # a declination zone and RA in the high digits (like PS1 objIDs), a running number below
    zone = np.floor((np.asarray(dec) + 90.0) * 1200).astype(np.int64)
    ra_part = np.floor(np.asarray(ra) * 100).astype(np.int64)
    return zone * 10 ** 13 + ra_part * 10 ** 6 + np.asarray(index, dtype=np.int64)


def _field_positions(rng, n, ra, dec):
    """``n`` unrelated positions spread over the sky area the demo objects cover."""
    if n == 0 or len(ra) == 0:
        return np.empty(0), np.empty(0)
    pick = rng.integers(0, len(ra), n)
    # scatter around the objects by up to a few arcmin so the footprint is covered
    return geometry.offset_position(ra[pick], dec[pick], rng.normal(0, 120.0, n), rng.normal(0, 120.0, n))


def gaia_table(rng: np.random.Generator, pop, ztf_epoch_year: float, bright: dict) -> pd.DataFrame:
    """Gaia EDR3 rows for the demo objects, unrelated faint stars and the bright stars."""
    n = len(pop)
    g, bp, rp, bp_rp = gaia_mags(pop.r_mag, pop.g_r)
    d_pc = _distance_pc(rng, pop.cls, pop.r_mag)
    plx_true = np.where(np.isfinite(d_pc), 1000.0 / d_pc, 0.0)
    vt = _tangential_velocity(rng, pop.cls)
    pm_total = np.where(np.isfinite(d_pc), vt / (4.74 * d_pc / 1000.0), 0.0)
    angle = rng.uniform(0, 2 * np.pi, n)
    pmra, pmdec = pm_total * np.sin(angle), pm_total * np.cos(angle)
    # positions at the Gaia epoch: move back along the proper motion from the ZTF epoch
    dt = GAIA_EPOCH - ztf_epoch_year
    ra, dec = geometry.offset_position(pop.ra, pop.dec, pmra * dt / 1000.0, pmdec * dt / 1000.0)

    agn = pop.cls == "agn"
    sigma = 0.02 + 0.5 * 10 ** (0.4 * (g - 20.0))
    noise = rng.uniform(0.0, 0.12, n) + np.where(g > 19.0, rng.uniform(0.0, 0.4, n), 0.0)
    noise += np.where(agn, rng.uniform(0.3, 1.5, n), 0.0) + np.where(pop.cls == "ew", rng.uniform(0.0, 0.2, n), 0.0)
    excess = 1.15 + 0.04 * bp_rp + rng.normal(0, 0.01, n) + np.where(agn, rng.uniform(0.1, 0.6, n), 0.0)
    excess += np.where(g > 19.0, rng.uniform(0.0, 0.15, n), 0.0)
    objects = pd.DataFrame({
        "ra": ra, "dec": dec,
        "phot_g_mean_mag": g + rng.normal(0, 0.003, n), "phot_bp_mean_mag": bp + rng.normal(0, 0.01, n),
        "phot_rp_mean_mag": rp + rng.normal(0, 0.01, n), "bp_rp": bp_rp,
        "parallax": plx_true + sigma * rng.standard_normal(n), "parallax_error": sigma,
        "pmra": pmra + 1.0 * sigma * rng.standard_normal(n), "pmra_error": 1.0 * sigma,
        "pmdec": pmdec + 1.0 * sigma * rng.standard_normal(n), "pmdec_error": 1.0 * sigma,
        "astrometric_excess_noise": noise, "phot_bp_rp_excess_factor": excess,
    })
    objects["bp_rp"] = objects["phot_bp_mean_mag"] - objects["phot_rp_mean_mag"]
    seen = (g < GAIA_LIMIT) & (rng.random(n) > 0.01)
    objects = objects[seen]

    # unrelated faint stars
    n_field = int(round(0.3 * n))
    fra, fdec = _field_positions(rng, n_field, pop.ra, pop.dec)
    fg = rng.uniform(19.5, GAIA_LIMIT, n_field)
    fx = rng.uniform(0.6, 2.5, n_field)
    fsig = 0.02 + 0.5 * 10 ** (0.4 * (fg - 20.0))
    field = pd.DataFrame({
        "ra": fra, "dec": fdec, "phot_g_mean_mag": fg, "phot_bp_mean_mag": fg + 0.33 + 0.65 * (fx - 0.82),
        "phot_rp_mean_mag": fg + 0.33 + 0.65 * (fx - 0.82) - fx, "bp_rp": fx,
        "parallax": rng.uniform(0.05, 1.0, n_field) + fsig * rng.standard_normal(n_field), "parallax_error": fsig,
        "pmra": rng.normal(0, 5, n_field), "pmra_error": fsig, "pmdec": rng.normal(0, 5, n_field), "pmdec_error": fsig,
        "astrometric_excess_noise": rng.uniform(0.0, 0.5, n_field),
        "phot_bp_rp_excess_factor": 1.2 + rng.uniform(0.0, 0.2, n_field),
    })

    nb = len(bright["ra"])
    bsig = np.full(nb, 0.02)
    bstars = pd.DataFrame({
        "ra": bright["ra"], "dec": bright["dec"], "phot_g_mean_mag": bright["g"],
        "phot_bp_mean_mag": bright["g"] + 0.33 + 0.65 * (bright["bp_rp"] - 0.82),
        "phot_rp_mean_mag": bright["g"] + 0.33 + 0.65 * (bright["bp_rp"] - 0.82) - bright["bp_rp"],
        "bp_rp": bright["bp_rp"], "parallax": rng.uniform(1.0, 10.0, nb), "parallax_error": bsig,
        "pmra": rng.normal(0, 15, nb), "pmra_error": bsig, "pmdec": rng.normal(0, 15, nb), "pmdec_error": bsig,
        "astrometric_excess_noise": rng.uniform(0.0, 0.2, nb),
        "phot_bp_rp_excess_factor": 1.2 + rng.uniform(0, 0.05, nb),
    })
    out = pd.concat([objects, field, bstars], ignore_index=True)
    out.insert(0, "_id", _gaia_id(out["ra"], out["dec"], np.arange(len(out))))
    return _by_dec(out)


def _wise_colours(rng, cls, g_r):
    n = len(cls)
    red_dwarf = g_r > 1.2
    r_w1 = r_minus_w1_star(g_r)
    w12 = rng.normal(0.0, 0.04, n) + np.where(red_dwarf, 0.15, 0.0)
    w23 = rng.normal(0.05, 0.08, n) + np.where(red_dwarf, 0.2, 0.0)
    w34 = rng.normal(0.05, 0.10, n)
    special = {
        "agn": ((3.0, 4.5), (0.85, 1.4), (2.4, 3.3), (2.0, 2.8)),
        "yso": ((3.0, 5.0), (0.3, 1.0), (1.5, 2.8), (2.0, 3.0)),
        "mira": ((5.5, 8.5), (0.2, 0.6), (0.4, 1.0), (0.4, 0.8)),
    }
    for key, (a, b, c, d) in special.items():
        idx = np.flatnonzero(cls == key)
        r_w1[idx] = rng.uniform(*a, len(idx))
        w12[idx] = rng.uniform(*b, len(idx))
        w23[idx] = rng.uniform(*c, len(idx))
        w34[idx] = rng.uniform(*d, len(idx))
    return r_w1, w12, w23, w34


def _wise_band(rng, true, limit):
    """Measured magnitude, error and quality letter of one WISE band."""
    n = len(true)
    sigma = np.hypot(0.015, 0.217 * 10 ** (0.4 * (true - limit)))
    meas = true + sigma * rng.standard_normal(n)
    upper = true > limit + 0.3
    snr = 1.0857 / sigma
    qual = np.where(snr >= 10, "A", np.where(snr >= 3, "B", "C"))
    qual = np.where(upper, "U", qual)
    meas = np.where(upper, limit + rng.uniform(0.0, 0.3, n), meas)
    sigma = np.where(upper, np.nan, sigma)
    return meas, sigma, qual


def allwise_table(rng: np.random.Generator, pop) -> pd.DataFrame:
    """AllWISE rows for the demo objects bright enough in W1 or W2, plus unrelated sources."""
    n = len(pop)
    r_w1, w12, w23, w34 = _wise_colours(rng, pop.cls, pop.g_r)
    w1 = pop.r_mag - r_w1
    true = {"w1": w1, "w2": w1 - w12, "w3": w1 - w12 - w23, "w4": w1 - w12 - w23 - w34}
    n_field = int(round(0.1 * n))
    fw1 = rng.uniform(15.0, 17.0, n_field)
    ftrue = {"w1": fw1, "w2": fw1 - rng.normal(0.1, 0.2, n_field), "w3": fw1 - rng.uniform(0.0, 2.0, n_field),
             "w4": fw1 - rng.uniform(0.0, 3.0, n_field)}
    fra, fdec = _field_positions(rng, n_field, pop.ra, pop.dec)
    ra = np.concatenate([pop.ra, fra])
    dec = np.concatenate([pop.dec, fdec])
    true = {k: np.concatenate([true[k], ftrue[k]]) for k in true}
    total = n + n_field
    # WISE astrometry is coarser than Gaia's: 0.05" for bright sources, ~0.2" near the limit
    pos = 0.05 + 0.15 * 10 ** (0.4 * (true["w1"] - WISE_LIMITS["w1"]))
    ra, dec = geometry.offset_position(ra, dec, pos * rng.standard_normal(total), pos * rng.standard_normal(total))
    table = {"ra": ra, "dec": dec}
    quality = []
    for band in ("w1", "w2", "w3", "w4"):
        meas, sig, qual = _wise_band(rng, true[band], WISE_LIMITS[band])
        table[f"{band}mpro"] = meas
        table[f"{band}sigmpro"] = sig
        quality.append(qual)
    table["ph_qual"] = ["".join(q) for q in zip(*quality)]
    out = pd.DataFrame(table)
    detected = (true["w1"] < WISE_LIMITS["w1"] + 0.4) | (true["w2"] < WISE_LIMITS["w2"] + 0.2)
    out = out[detected].reset_index(drop=True)
    out.insert(0, "_id", _sky_id(out["ra"], out["dec"], np.arange(len(out))))
    return _by_dec(out)


def ps1_table(rng: np.random.Generator, pop) -> pd.DataFrame:
    """Pan-STARRS1 DR1 mean PSF magnitudes for the demo objects plus unrelated faint objects."""
    n = len(pop)
    ri = r_minus_i(pop.g_r)
    iz = 0.45 * ri - 0.01
    zy = 0.22 * ri
    agn = np.flatnonzero(pop.cls == "agn")
    ri[agn] = rng.uniform(0.0, 0.25, len(agn))
    iz[agn] = rng.uniform(-0.05, 0.15, len(agn))
    zy[agn] = rng.uniform(0.0, 0.15, len(agn))
    r = pop.r_mag
    mags = {"g": r + pop.g_r - 0.02, "r": r, "i": r - ri, "z": r - ri - iz, "y": r - ri - iz - zy}
    n_field = int(round(0.5 * n))
    fr = rng.uniform(20.5, 22.6, n_field)
    fgr = rng.uniform(0.3, 1.6, n_field)
    fri = r_minus_i(fgr)
    fmags = {"g": fr + fgr, "r": fr, "i": fr - fri, "z": fr - 1.45 * fri, "y": fr - 1.67 * fri}
    fra, fdec = _field_positions(rng, n_field, pop.ra, pop.dec)
    total = n + n_field
    ra = np.concatenate([pop.ra, fra])
    dec = np.concatenate([pop.dec, fdec])
    pos = rng.uniform(0.03, 0.1, total)
    ra, dec = geometry.offset_position(ra, dec, pos * rng.standard_normal(total), pos * rng.standard_normal(total))
    table = {"ra": ra, "dec": dec}
    for band in ("g", "r", "i", "z", "y"):
        true = np.concatenate([mags[band], fmags[band]])
        err = np.hypot(0.004, 0.217 * 10 ** (0.4 * (true - PS1_LIMITS[band])))
        meas = true + err * rng.standard_normal(total)
        missing = (true > PS1_LIMITS[band] + 0.2) | (true < PS1_SATURATION)
        table[f"{band}MeanPSFMag"] = np.where(missing, np.nan, meas)
        table[f"{band}MeanPSFMagErr"] = np.where(missing, np.nan, err)
    cls = np.concatenate([pop.cls, np.full(n_field, "field")])
    flag = np.where(rng.random(total) < 0.1, 60, 52)
    flag = np.where((cls == "agn") & (rng.random(total) < 0.5), 53, flag)
    table["qualityFlag"] = flag.astype(np.int64)
    out = pd.DataFrame(table)
    out.insert(0, "_id", _sky_id(out["ra"], out["dec"], np.arange(len(out))))
    return _by_dec(out)


def _by_dec(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("dec", kind="stable").reset_index(drop=True)
