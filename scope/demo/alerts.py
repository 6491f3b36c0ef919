"""ZTF alerts for the demo objects, derived from their own light curves.

ZTF issues an alert when a source differs from the reference image by 5 sigma. Here an alert
is raised for every clean point whose magnitude differs from the object's base magnitude by
more than five times its error, so large-amplitude variables get many alerts, low-amplitude
ones few, constant stars almost none. Outlier points raise an alert only sometimes, with a low
real-bogus score (``braai``), as bogus detections do. A few alerts from unrelated transients
are scattered over the field.
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd

from scope.demo import geometry

_LETTERS = np.array(list(string.ascii_lowercase))
_CANDID_BASE = 1_000_000_000_000_000_000


def _year(mjd: float) -> int:
    return int(2000 + (mjd - 51544.5) / 365.25)


def _object_names(rng, first_mjd, taken: set) -> list[str]:
    """ZTF-style alert object names, ``ZTF<yy>a<6 letters>``, unique."""
    names = []
    for t in first_mjd:
        while True:
            name = f"ZTF{_year(t) % 100:02d}a" + "".join(rng.choice(_LETTERS, 6))
            if name not in taken:
                taken.add(name)
                names.append(name)
                break
    return names


def alerts_table(rng: np.random.Generator, pop, light_curves, base_mags: dict) -> pd.DataFrame:
    """Alerts (``_id`` = candid, ``objectId``, ``ra``, ``dec``, ``braai``), sorted by declination.

    Parameters
    ----------
    rng : numpy.random.Generator
    pop : Population
    light_curves : iterable
        Measured light curves with ``star``, ``band``, ``exposure``, ``hmjd``, ``mag``,
        ``magerr``, ``catflags`` and ``outlier``.
    base_mags : dict
        ``band -> ndarray`` of each object's base magnitude in that band.
    """
    stars, exposures, times, scores = [], [], [], []
    for lc in light_curves:
        clean = lc.catflags == 0
        significant = clean & (np.abs(lc.mag - base_mags[lc.band][lc.star]) > 5.0 * lc.magerr)
        real = significant & ~lc.outlier
        bogus = significant & lc.outlier & (rng.random(len(lc.mag)) < 0.3)
        pick = real | bogus
        stars.append(np.full(pick.sum(), lc.star))
        exposures.append(lc.exposure[pick])
        times.append(lc.hmjd[pick])
        scores.append(np.where(lc.outlier[pick], rng.beta(1.2, 5.0, pick.sum()), rng.beta(9.0, 1.3, pick.sum())))
    star = np.concatenate(stars) if stars else np.empty(0, dtype=int)
    exposure = np.concatenate(exposures) if exposures else np.empty(0, dtype=int)
    hmjd = np.concatenate(times) if times else np.empty(0)
    braai = np.concatenate(scores) if scores else np.empty(0)

    taken: set = set()
    names = np.empty(len(pop), dtype=object)
    alerted = np.unique(star)
    first = np.array([hmjd[star == s].min() for s in alerted])
    names[alerted] = _object_names(rng, first, taken)
    n = len(star)
    jitter = 0.12
    ra, dec = geometry.offset_position(pop.objra[star], pop.objdec[star], jitter * rng.standard_normal(n),
                                       jitter * rng.standard_normal(n))
    table = pd.DataFrame({"exposure": exposure, "objectId": names[star] if n else np.empty(0, dtype=object),
                          "ra": ra, "dec": dec, "braai": braai})

    # unrelated transients and bogus detections anywhere in the field
    n_other = max(1, int(round(0.03 * n))) if len(pop) else 0
    pick = rng.integers(0, len(pop), n_other) if n_other else np.empty(0, dtype=int)
    ora, odec = geometry.offset_position(pop.ra[pick], pop.dec[pick], rng.uniform(-300, 300, n_other),
                                         rng.uniform(-300, 300, n_other))
    other_times = rng.uniform(hmjd.min(), hmjd.max(), n_other) if n else np.full(n_other, 58500.0)
    n_exposures = int(exposure.max()) + 1 if n else 1
    other = pd.DataFrame({"exposure": rng.integers(0, n_exposures, n_other),
                          "objectId": _object_names(rng, other_times, taken), "ra": ora, "dec": odec,
                          "braai": rng.uniform(0.0, 1.0, n_other)})
    table = pd.concat([table, other], ignore_index=True)
    # candid: time-ordered and unique, like the real ones
    table = table.sort_values(["exposure", "objectId"], kind="stable").reset_index(drop=True)
    table.insert(0, "_id", _CANDID_BASE + table["exposure"].to_numpy(np.int64) * 100_000
                 + table.groupby("exposure").cumcount().to_numpy(np.int64))
    table = table.drop(columns="exposure")
    table["objectId"] = table["objectId"].astype(str)
    return table.sort_values("dec", kind="stable").reset_index(drop=True)
