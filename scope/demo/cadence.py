"""A ZTF-like observing schedule for one field: which exposures were taken, when, in which band.

The schedule is built night by night from simple, physical ingredients, so the gaps and clumps
a period search meets on real ZTF data appear for the right reasons:

* **Darkness**: astronomical night at Palomar lasts about 7.5 h at midsummer and 12 h at
  midwinter, centred on local midnight (UT 07:47).
* **Visibility**: the field is observed only while it is higher than 25 deg; near conjunction
  with the Sun the usable window shrinks to nothing, which makes the yearly seasonal gap.
* **Weather**: a two-state Markov chain (clear/cloudy spells last days, worse in winter), plus
  a few multi-week engineering shutdowns.
* **Scheduling**: on a usable night the field is visited with some probability; a visited
  night has g and r (about 60 % of nights), or r only, or g only. Each band gets 1-3 visits,
  occasionally a high-cadence night with up to 10 visits in all. Visits are at least 30 minutes
  apart.
* **Conditions**: each exposure has a 5-sigma limiting magnitude (worse at high airmass and
  near full Moon), a colour coefficient and a small zero-point error.

Times are heliocentric MJD (HMJD) in float64; the light-travel correction uses the field centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PALOMAR_LAT_DEG = 33.356
PALOMAR_LON_DEG = -116.863
MIN_VISIT_GAP_D = 30.0 / 1440.0
MAX_VISITS_PER_NIGHT = 10
#: MJD of a new Moon (2018-01-17) and the synodic month, for the lunar phase
_NEW_MOON_MJD = 58135.1
_SYNODIC_D = 29.530589
_WINTER_SOLSTICE_MJD = 58473.5  # 2018-12-21
_LIGHT_TIME_AU_D = 0.0057755  # light travel time across 1 au, days

#: median 5-sigma limiting magnitudes and colour-coefficient means by filter id (g, r, i)
LIMMAG_MEDIAN = {1: 20.8, 2: 20.6, 3: 20.0}
CLRCOEFF_MEAN = {1: -0.045, 2: 0.095, 3: 0.12}


@dataclass(frozen=True)
class Schedule:
    """Exposures of one field, sorted by time.

    Attributes
    ----------
    hmjd : ndarray of float64
        Heliocentric MJD of mid-exposure (field centre).
    band : ndarray of int8
        Filter id (1 = g, 2 = r, 3 = i).
    limmag : ndarray of float64
        5-sigma limiting magnitude of the exposure.
    clrcoeff : ndarray of float32
        Colour coefficient of the exposure's photometric calibration.
    zp_error : ndarray of float64
        Zero-point error (mag) common to every object on the exposure.
    night : ndarray of int64
        Integer MJD of the night's start (local evening).
    """

    hmjd: np.ndarray
    band: np.ndarray
    limmag: np.ndarray
    clrcoeff: np.ndarray
    zp_error: np.ndarray
    night: np.ndarray

    def __len__(self) -> int:
        return len(self.hmjd)


def _gmst_deg(mjd):
    return (280.46061837 + 360.98564736629 * (np.asarray(mjd) - 51544.5)) % 360.0


def _sun_ecliptic_longitude_deg(mjd):
    # low-precision solar longitude (good to ~0.01 deg), enough for seasons and HJD
    d = np.asarray(mjd) - 51544.5
    mean_lon = 280.460 + 0.9856474 * d
    anomaly = np.radians(357.528 + 0.9856003 * d)
    return (mean_lon + 1.915 * np.sin(anomaly) + 0.020 * np.sin(2 * anomaly)) % 360.0


def _ecliptic(ra_deg: float, dec_deg: float) -> tuple[float, float]:
    eps = np.radians(23.4393)
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    beta = np.arcsin(np.sin(dec) * np.cos(eps) - np.cos(dec) * np.sin(eps) * np.sin(ra))
    lam = np.arctan2(np.sin(ra) * np.cos(eps) + np.tan(dec) * np.sin(eps), np.cos(ra))
    return float(np.degrees(lam) % 360.0), float(np.degrees(beta))


def heliocentric_correction(mjd, ra_deg: float, dec_deg: float):
    """Days to add to a geocentric MJD to get the heliocentric time of a target."""
    lam, beta = _ecliptic(ra_deg, dec_deg)
    sun = _sun_ecliptic_longitude_deg(mjd)
    return -_LIGHT_TIME_AU_D * np.cos(np.radians(beta)) * np.cos(np.radians(lam - sun))


def _hour_angle_limit_deg(dec_deg: float, min_alt_deg: float = 25.0) -> float:
    lat, dec = np.radians(PALOMAR_LAT_DEG), np.radians(dec_deg)
    c = (np.sin(np.radians(min_alt_deg)) - np.sin(lat) * np.sin(dec)) / (np.cos(lat) * np.cos(dec))
    if c >= 1.0:
        return 0.0  # never that high
    return float(np.degrees(np.arccos(max(c, -1.0))))


def _observable_windows(nights: np.ndarray, ra_deg: float, dec_deg: float):
    """Start and end (MJD, UT) of the part of each night when the field is dark and high."""
    # local mean midnight after the evening of MJD n falls on UT date n + 1, at 07:47 UT
    midnight = nights + 1.0 - PALOMAR_LON_DEG / 360.0
    phase = 2 * np.pi * (nights - _WINTER_SOLSTICE_MJD) / 365.25
    half_night = (4.85 + 1.20 * np.cos(phase)) / 24.0
    dark0, dark1 = midnight - half_night, midnight + half_night
    lst_mid = _gmst_deg(midnight) + PALOMAR_LON_DEG
    ha_mid = ((lst_mid - ra_deg + 180.0) % 360.0) - 180.0
    transit = midnight - ha_mid / 360.98564736629
    ha_lim = _hour_angle_limit_deg(dec_deg) / 360.98564736629
    up0, up1 = transit - ha_lim, transit + ha_lim
    start, end = np.maximum(dark0, up0), np.minimum(dark1, up1)
    return start, end, transit


def _weather(rng: np.random.Generator, nights: np.ndarray) -> np.ndarray:
    """Boolean per night: usable (clear enough and the telescope running)."""
    winter = 0.5 * (1 + np.cos(2 * np.pi * (nights - _WINTER_SOLSTICE_MJD - 20) / 365.25))
    p_turn_bad = 0.07 + 0.17 * winter
    p_stay_bad = 0.55 + 0.15 * winter
    usable = np.empty(len(nights), dtype=bool)
    bad = False
    draws = rng.random(len(nights))
    for i in range(len(nights)):
        bad = draws[i] < (p_stay_bad[i] if bad else p_turn_bad[i])
        usable[i] = not bad
    # engineering shutdowns: about one per year, 1-3 weeks each
    n_down = rng.poisson(max(len(nights) / 365.25, 0.0))
    for _ in range(n_down):
        start = rng.integers(0, max(len(nights), 1))
        usable[start:start + rng.integers(7, 22)] = False
    return usable


def _visits_per_band(rng: np.random.Generator, high_cadence: bool) -> int:
    if high_cadence:
        return int(rng.integers(3, 6))
    return int(rng.choice([1, 2, 3], p=[0.35, 0.55, 0.10]))


def simulate_schedule(rng: np.random.Generator, ra_deg: float, dec_deg: float, start_mjd: float,
                      years: float, bands=(1, 2), visit_probability: float = 0.6,
                      shared_night_fraction: float = 0.6) -> Schedule:
    """Simulate the exposures of one field.

    Parameters
    ----------
    rng : numpy.random.Generator
    ra_deg, dec_deg : float
        Field centre.
    start_mjd : float
        First night (MJD).
    years : float
        Length of the survey (baseline) in years.
    bands : sequence of int
        Filter ids observed (1 = g, 2 = r, 3 = i).
    visit_probability : float
        Chance that a usable night includes this field.
    shared_night_fraction : float
        Fraction of visited nights with more than one band (with two bands: g and r).

    Returns
    -------
    Schedule
    """
    bands = tuple(int(b) for b in bands)
    nights = np.arange(np.floor(start_mjd), np.floor(start_mjd + years * 365.25), dtype=np.float64)
    start, end, transit = _observable_windows(nights, ra_deg, dec_deg)
    usable = _weather(rng, nights) & (end - start > 0.02)
    visited = usable & (rng.random(len(nights)) < visit_probability)
    # r is the survey's workhorse: single-band nights favour it
    single_weights = np.array([{1: 0.45, 2: 0.55, 3: 0.2}[b] for b in bands])
    single_weights = single_weights / single_weights.sum()

    times, band_out, night_out, transit_out = [], [], [], []
    for i in np.flatnonzero(visited):
        if len(bands) > 1 and rng.random() < shared_night_fraction:
            night_bands = list(bands) if len(bands) == 2 else list(rng.choice(bands, 2, replace=False))
        else:
            night_bands = [int(rng.choice(bands, p=single_weights))]
        high = rng.random() < 0.07
        plan = [b for b in night_bands for _ in range(_visits_per_band(rng, high))]
        rng.shuffle(plan)
        window = end[i] - start[i]
        fit = int(window // MIN_VISIT_GAP_D) + 1
        plan = plan[:min(len(plan), fit, MAX_VISITS_PER_NIGHT)]
        n = len(plan)
        # gaps of at least 30 min, then spread at random inside the remaining window
        spare = window - (n - 1) * MIN_VISIT_GAP_D
        extras = np.sort(rng.uniform(0.0, spare, n))
        t = start[i] + extras + np.arange(n) * MIN_VISIT_GAP_D
        times.append(t)
        band_out.extend(plan)
        night_out.extend([nights[i]] * n)
        transit_out.extend([transit[i]] * n)

    if times:
        mjd = np.concatenate(times)
    else:
        mjd = np.empty(0)
    band = np.asarray(band_out, dtype=np.int8)
    night = np.asarray(night_out, dtype=np.int64)
    hmjd = mjd + heliocentric_correction(mjd, ra_deg, dec_deg)

    # observing conditions
    lunar = 0.5 * (1 - np.cos(2 * np.pi * (mjd - _NEW_MOON_MJD) / _SYNODIC_D))  # 0 new, 1 full
    hours_from_transit = np.abs(mjd - np.asarray(transit_out, dtype=np.float64)) * 24.0
    base = np.array([LIMMAG_MEDIAN[int(b)] for b in band]) if len(band) else np.empty(0)
    moon_cost = np.where(band == 1, 0.9, 0.5) * lunar ** 2
    limmag = (base + 0.45 - moon_cost - 0.08 * hours_from_transit
              + rng.normal(0.0, 0.25, len(mjd)) - rng.exponential(0.12, len(mjd)))
    limmag = np.clip(limmag, 18.3, 21.6)
    clr = np.array([CLRCOEFF_MEAN[int(b)] for b in band]) if len(band) else np.empty(0)
    clrcoeff = (clr + rng.normal(0.0, 0.012, len(mjd))).astype(np.float32)
    zp_error = rng.normal(0.0, 0.006, len(mjd))
    order = np.argsort(hmjd, kind="stable")
    return Schedule(hmjd=hmjd[order], band=band[order], limmag=limmag[order], clrcoeff=clrcoeff[order],
                    zp_error=zp_error[order], night=night[order])
