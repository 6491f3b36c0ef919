"""Turning noise-free magnitudes into ZTF-like measurements: errors, detections, flags, outliers.

* Errors follow a CCD noise model fitted to the public DR5 sample file: a 5-sigma limit per
  exposure, sky noise dominating faint sources, photon noise bright ones, and a 0.01 mag floor
  (for a 20.6 mag limit: 0.013 mag at 14, 0.05 at 18, 0.2 at the limit).
* A point exists only when the measured magnitude is brighter than the exposure's limit.
* Bad exposures (a few % per quadrant, more often the shallow ones) flag every object on them
  with ``catflags = 32768``; individual points are flagged at a few % with other bits. Flagged
  points are corrupted (offset, inflated error), as real flagged photometry often is.
* A small fraction of unflagged points are outliers (mostly too faint: cosmic rays, bad
  subtractions), so cleaning by flags alone is not enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ERROR_FLOOR = 0.012
_SOURCE_TO_SKY = 0.3  # source/sky noise ratio at the limit (fitted to the DR5 sample file)
BAD_EXPOSURE_FLAG = 32768
#: flags of single flagged points and how often each occurs
POINT_FLAGS = np.array([32768, 1, 2, 4, 16, 256, 512, 32769], dtype=np.uint16)
_POINT_FLAG_P = np.array([0.45, 0.12, 0.08, 0.08, 0.07, 0.10, 0.05, 0.05])


def magerr_model(mag, limmag, floor: float = ERROR_FLOOR) -> np.ndarray:
    """ZTF-like magnitude error for a source of magnitude ``mag`` on an exposure with 5-sigma limit ``limmag``."""
    f = 10 ** (-0.4 * (np.asarray(mag, dtype=np.float64) - np.asarray(limmag, dtype=np.float64)))
    k = _SOURCE_TO_SKY
    snr = 5.0 * f * np.sqrt((1.0 + k) / (1.0 + k * f))
    return np.hypot(floor, 1.0857 / np.maximum(snr, 1e-3))


def bad_exposures(rng: np.random.Generator, limmag: np.ndarray) -> np.ndarray:
    """Boolean per exposure of one quadrant: flagged as bad (shallow exposures more often)."""
    p = np.where(limmag < 19.4, 0.35, 0.015)
    return rng.random(len(limmag)) < p


@dataclass
class Measured:
    """Measurements of one object in one band (only the detected points).

    ``exposure`` indexes the schedule; ``outlier`` marks unflagged corrupted points.
    """

    exposure: np.ndarray
    mag: np.ndarray
    magerr: np.ndarray
    catflags: np.ndarray
    outlier: np.ndarray


def measure(rng: np.random.Generator, exposure: np.ndarray, true_mag: np.ndarray, limmag: np.ndarray,
            zp_error: np.ndarray, bad_exposure: np.ndarray, flag_rate: float, outlier_rate: float) -> Measured:
    """Measure an object on the given exposures.

    Parameters
    ----------
    rng : numpy.random.Generator
    exposure : ndarray of int
        Schedule indices of the exposures covering the object.
    true_mag, limmag, zp_error, bad_exposure : ndarray
        Per exposure (aligned with ``exposure``): noise-free magnitude, 5-sigma limit,
        zero-point error, whether the exposure is flagged bad.
    flag_rate, outlier_rate : float
        Per-point probabilities of a flagged point and of an unflagged outlier.
    """
    n = len(exposure)
    sigma = magerr_model(true_mag, limmag)
    mag = true_mag + zp_error + sigma * rng.standard_normal(n)
    detected = mag < limmag
    magerr = sigma.copy()

    flags = np.zeros(n, dtype=np.uint16)
    flags[bad_exposure] = BAD_EXPOSURE_FLAG
    single = (~bad_exposure) & (rng.random(n) < flag_rate)
    flags[single] = rng.choice(POINT_FLAGS, single.sum(), p=_POINT_FLAG_P)
    flagged = flags != 0
    kind = rng.random(n)
    shift = np.where(kind < 0.5, rng.normal(0.0, 0.15, n) + np.sign(rng.standard_normal(n)) * rng.uniform(0.1, 0.5, n),
                     np.where(kind < 0.8, rng.uniform(0.5, 2.5, n), -rng.uniform(0.3, 1.5, n)))
    mag = np.where(flagged, mag + shift, mag)
    magerr = np.where(flagged, magerr * rng.uniform(1.0, 2.5, n), magerr)

    outlier = (~flagged) & (rng.random(n) < outlier_rate)
    jump = np.where(rng.random(n) < 0.7, rng.uniform(0.4, 2.5, n), -rng.uniform(0.4, 2.0, n))
    mag = np.where(outlier, mag + jump, mag)

    # a detection needs the source itself above the limit; corrupted points keep their row
    keep = detected | ((flagged | outlier) & (true_mag < limmag))
    return Measured(exposure=exposure[keep], mag=mag[keep], magerr=magerr[keep], catflags=flags[keep],
                    outlier=outlier[keep])
