"""The demo's objects: class, position, brightness, colour and variability parameters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scope.demo import geometry
from scope.demo.classes import CLASSES, allocate_counts
from scope.demo.colours import r_minus_i

#: slope of the magnitude distribution, d log10 N / dm (faint stars are more common)
_COUNT_SLOPE = 0.12


@dataclass
class Population:
    """Physical objects of the demo field (one entry per star; each is seen in several bands).

    Arrays have one element per object; ``params`` holds each object's variability parameters.
    ``ra``/``dec`` are true positions, ``objra``/``objdec`` the ZTF-measured ones.
    """

    ccd: np.ndarray
    quad: np.ndarray
    number: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    objra: np.ndarray
    objdec: np.ndarray
    cls: np.ndarray
    r_mag: np.ndarray
    g_r: np.ndarray
    params: list
    drop_fraction: np.ndarray
    flag_rate: np.ndarray
    outlier_rate: np.ndarray

    def __len__(self) -> int:
        return len(self.ccd)

    def base_mag(self, band: int) -> np.ndarray:
        """Base (mean-light) magnitude in a band: 1 = g, 2 = r, 3 = i."""
        if band == 1:
            return self.r_mag + self.g_r
        if band == 3:
            return self.r_mag - r_minus_i(self.g_r)
        return self.r_mag.copy()


def _faint_weighted(rng, lo, hi, n):
    # inverse CDF of p(m) ~ 10**(slope * m) on [lo, hi]
    a = _COUNT_SLOPE * np.log(10.0)
    u = rng.random(n)
    return np.log(np.exp(a * lo) + u * (np.exp(a * hi) - np.exp(a * lo))) / a


def draw_population(rng: np.random.Generator, field: int, quadrants, n_per_quad: int,
                    variable_fraction: float) -> Population:
    """Draw every object of the demo field.

    Parameters
    ----------
    rng : numpy.random.Generator
    field : int
    quadrants : sequence of (ccd, quad)
    n_per_quad : int
        Objects per quadrant.
    variable_fraction : float
        Share of variable objects; class counts are exact (:func:`allocate_counts`).
    """
    quadrants = list(quadrants)
    n = n_per_quad * len(quadrants)
    counts = allocate_counts(n, variable_fraction)
    cls = np.concatenate([np.full(c, k, dtype=object) for k, c in counts.items()]) if n else np.empty(0, object)
    cls = cls[rng.permutation(n)].astype(str) if n else np.empty(0, dtype=str)

    ccd = np.repeat([c for c, _ in quadrants], n_per_quad).astype(np.int16)
    quad = np.repeat([q for _, q in quadrants], n_per_quad).astype(np.int16)
    number = np.tile(np.arange(1, n_per_quad + 1), len(quadrants)).astype(np.int64)
    ra = np.empty(n)
    dec = np.empty(n)
    for k, (c, q) in enumerate(quadrants):
        sl = slice(k * n_per_quad, (k + 1) * n_per_quad)
        ra[sl], dec[sl] = geometry.random_positions(rng, n_per_quad, field, c, q)

    r_mag = np.empty(n)
    g_r = np.empty(n)
    params = [None] * n
    for key, spec in CLASSES.items():
        idx = np.flatnonzero(cls == key)
        r_mag[idx] = _faint_weighted(rng, *spec.r_mag, len(idx))
        if key == "nonvar":
            g_r[idx] = rng.triangular(spec.g_r[0], 0.6, spec.g_r[1], len(idx))
        else:
            g_r[idx] = rng.uniform(*spec.g_r, len(idx))
        for i in idx:
            params[i] = spec.sample(rng)

    # ZTF astrometry: ~30 mas for bright stars, ~150 mas at the faint end
    pos_err = 0.03 + 0.12 * 10 ** (0.4 * (r_mag - 20.0))
    objra, objdec = geometry.offset_position(ra, dec, rng.normal(0, 1, n) * pos_err, rng.normal(0, 1, n) * pos_err)
    # the archive stores float32 positions: keep exactly those everywhere else too
    objra = objra.astype(np.float32).astype(np.float64)
    objdec = objdec.astype(np.float32).astype(np.float64)

    # objects miss exposures: chip edges, bad columns, and epochs that the real archive files
    # under the overlapping secondary-grid field instead; this spreads the epoch counts
    drop = np.minimum(rng.beta(1.1, 4.0, n), 0.8)
    return Population(ccd=ccd, quad=quad, number=number, ra=ra, dec=dec, objra=objra, objdec=objdec, cls=cls,
                      r_mag=r_mag, g_r=g_r, params=params, drop_fraction=drop,
                      flag_rate=rng.uniform(0.003, 0.04, n), outlier_rate=rng.uniform(0.0, 0.008, n))
