"""Real and demo light curves with known periods, for the period-recovery benchmark.

Three sources, each a list of :class:`KnownPeriod` light curves:

* :func:`load_period_dev` -- the dev set of ``../shared/data/period-dev`` (SDSS Stripe 82 RR
  Lyrae, EROS-1 LMC eclipsing binaries, Cepheids, RR Lyrae and Miras with catalogued periods);
* :func:`load_alerce` -- the 25 ZTF light curves of ``tests/data/alerce_periodic_*`` (ALeRCE
  labels and periods; the band with more points, ``magpsf_corr``);
* :func:`load_demo` -- the demo sky of :mod:`scope.demo` (periodic classes, cleaned the way
  generate-features cleans ZTF data).

:func:`recovery` scores found periods the usual way: strict = within 1% of the true period;
harmonic = within 1% of P, P/2, 2P, P/3 or 3P.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Period ratios that count as a harmonic recovery.
HARMONICS = (1.0, 0.5, 2.0, 1.0 / 3.0, 3.0)


@dataclass
class KnownPeriod:
    """One light curve with its catalogued period."""

    id: str
    survey: str
    cls: str
    period: float
    t: np.ndarray
    m: np.ndarray
    e: np.ndarray

    @property
    def n(self) -> int:
        return len(self.t)


def recovery(found, true, tol: float = 0.01):
    """``(strict, harmonic)`` boolean arrays: ``found`` within ``tol`` of ``true`` (or a harmonic)."""
    found = np.asarray(found, dtype=float)
    true = np.asarray(true, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        strict = np.abs(found / true - 1) < tol
        harmonic = np.zeros(len(found), dtype=bool)
        for h in HARMONICS:
            harmonic |= np.abs(found / (true * h) - 1) < tol
    return strict, harmonic


def _clean_one(t, m, e, min_points=10):
    """Finite points with positive errors, time-sorted, one point per time (smallest error)."""
    ok = np.isfinite(t) & np.isfinite(m) & np.isfinite(e) & (e > 0)
    t, m, e = t[ok], m[ok], e[ok]
    order = np.lexsort((e, t))
    t, m, e = t[order], m[order], e[order]
    first = np.concatenate([[True], np.diff(t) > 0])
    t, m, e = t[first], m[first], e[first]
    return (t, m, e) if len(t) >= min_points else None


def load_period_dev(folder) -> list[KnownPeriod]:
    """The period-recovery dev set (``lightcurves.parquet`` + ``labels.csv`` in ``folder``).

    Raises
    ------
    FileNotFoundError
        With a message naming the folder when the files are not there.
    """
    import pandas as pd

    folder = Path(folder)
    lc_path, lab_path = folder / "lightcurves.parquet", folder / "labels.csv"
    if not (lc_path.exists() and lab_path.exists()):
        raise FileNotFoundError(f"period dev set not found in {folder} (needs lightcurves.parquet and labels.csv)")
    points = pd.read_parquet(lc_path)
    labels = pd.read_csv(lab_path)
    groups = {k: g for k, g in points.groupby("id", sort=False)}
    out = []
    for row in labels.itertuples(index=False):
        g = groups.get(row.id)
        if g is None:
            continue
        got = _clean_one(g["time"].to_numpy(float), g["mag"].to_numpy(float), g["magerr"].to_numpy(float))
        if got is None:
            continue
        out.append(KnownPeriod(str(row.id), str(row.survey), str(row[4]), float(row.period), *got))
    return out


def load_alerce(folder) -> list[KnownPeriod]:
    """The ALeRCE periodic light curves of ``tests/data`` (the band with more points)."""
    import pandas as pd

    folder = Path(folder)
    lc = pd.read_parquet(folder / "alerce_periodic_lightcurves.parquet")
    labels = pd.read_parquet(folder / "alerce_periodic_labels.parquet")
    out = []
    for row in labels.itertuples(index=False):
        obj = lc[lc["oid"] == row.oid]
        if not len(obj) or not np.isfinite(row.period):
            continue
        band = obj["fid"].value_counts().idxmax()
        obj = obj[obj["fid"] == band]
        got = _clean_one(obj["mjd"].to_numpy(float) + 2400000.5, obj["magpsf_corr"].to_numpy(float),
                         obj["sigmapsf_corr"].to_numpy(float))
        if got is not None:
            out.append(KnownPeriod(str(row.oid), "alerce_ztf", str(row.classALeRCE), float(row.period), *got))
    return out


def load_demo(workdir, *, n_per_quad: int = 150, seed: int = 42, min_points: int = 100) -> list[KnownPeriod]:
    """Periodic light curves of the demo sky, cleaned as generate-features does.

    The sky is written into ``workdir`` (created; reused when it is already there). Only light
    curves with at least ``min_points`` good points after cleaning are returned.
    """
    import pandas as pd

    from scope.demo.sky import TRUTH_NAME, make_demo_sky
    from scope.features.clean import clean_lightcurves
    from scope.lightcurves.sources.ztf_archive import ZTFArchiveSource

    workdir = Path(workdir)
    archive = workdir / "ztf_archive"
    if not (archive / TRUTH_NAME).exists():
        make_demo_sky(workdir, n_per_quad=n_per_quad, seed=seed, update_config=False, force=True)
    truth = pd.read_parquet(archive / TRUTH_NAME)
    truth = truth[np.isfinite(truth["period"])]
    source = ZTFArchiveSource(archive)
    batch = source.lightcurves(truth["_id"].to_numpy(np.int64))
    clean = clean_lightcurves(batch.t, batch.m, batch.e, batch.offsets, flags=batch.flags,
                              min_cadence_minutes=30.0, min_n_points=min_points)
    by_id = truth.set_index("_id")
    out = []
    for k, oid in enumerate(batch.ids.tolist()):
        a, b = clean.offsets[k], clean.offsets[k + 1]
        if b - a < min_points or oid not in by_id.index:
            continue
        row = by_id.loc[oid]
        out.append(KnownPeriod(str(oid), "demo", str(row["class"]), float(row["period"]),
                               clean.t[a:b].copy(), clean.m[a:b].copy(), clean.e[a:b].copy()))
    return out


def ragged(lcs):
    """Concatenate light curves into ``t, m, e, offsets``."""
    offsets = np.concatenate([[0], np.cumsum([lc.n for lc in lcs])]).astype(np.int64)
    cat = (lambda k: np.concatenate([getattr(lc, k) for lc in lcs]) if lcs else np.zeros(0))
    return cat("t"), cat("m"), cat("e"), offsets
