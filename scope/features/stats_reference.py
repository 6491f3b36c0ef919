"""Slow NumPy/SciPy reference of the 22 basic statistics (one light curve at a time).

Same definitions and NaN rules as :mod:`.stats` (see its table), written the obvious way so the
numba version can be checked against it.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats as sps

from .stats import STAT_NAMES


def basic_stats_reference(t, m, e) -> np.ndarray:
    """The 22 statistics of one light curve, in :data:`.stats.STAT_NAMES` order.

    Parameters
    ----------
    t, m, e : array_like of float64
        Times, magnitudes and errors of one light curve (any order).

    Returns
    -------
    ndarray of float64, shape (22,)
    """
    t = np.asarray(t, dtype=np.float64)
    order = np.argsort(t, kind="mergesort")
    t = t[order]
    m = np.asarray(m, dtype=np.float64)[order]
    e = np.maximum(np.asarray(e, dtype=np.float64)[order], 1e-30)
    n = len(m)
    out = dict.fromkeys(STAT_NAMES, np.nan)
    out["n"] = float(n)
    if n >= 1:
        w = 1.0 / e**2
        median = np.median(m)
        wmean = np.sum(w * m) / np.sum(w)
        wstd = np.sqrt(np.sum(w * (m - wmean) ** 2) / np.sum(w))
        pct = lambda q: np.percentile(m, q)  # noqa: E731 (local shorthand)
        out.update(
            median=median,
            wmean=wmean,
            wstd=wstd,
            norm_peak_to_peak_amp=(np.max(m - e) - np.min(m + e)) / (np.max(m - e) + np.min(m + e)),
            norm_excess_var=np.sum((m - wmean) ** 2 - e**2) / (n * wmean**2),
            median_abs_dev=np.median(np.abs(m - median)),
            iqr=pct(75) - pct(25),
            i60r=pct(80) - pct(20),
            i70r=pct(85) - pct(15),
            i80r=pct(90) - pct(10),
            i90r=pct(95) - pct(5),
        )
    if n >= 2:
        w = 1.0 / e**2
        out["chi2red"] = np.sum(w * (m - out["wmean"]) ** 2) / (n - 1)
        out["roms"] = np.sum(np.abs(m - out["median"]) / e) / (n - 1)
        dt = np.diff(t)
        dm = np.diff(m)
        good = dt > 0
        u = 1.0 / dt[good] ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = np.sum(u * dm[good] ** 2) / (np.sum(u) * out["wstd"] ** 2)
            out["inv_vonneumannratio"] = 1.0 / eta
        d = np.sqrt(n / (n - 1)) * (m - out["wmean"]) / e
        p = d[:-1] * d[1:]
        out["welch_i"] = np.sum(p)
        out["stetson_j"] = np.sum(np.sign(p) * np.sqrt(np.abs(p)))
        out["stetson_k"] = (np.sum(np.abs(d)) / n) / np.sqrt(np.sum(d**2) / n)
        z = m / e
        if np.std(z) > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out["ad"] = sps.anderson(z).statistic
    if n >= 3:
        r = (m - out["wmean"]) / e
        out["skew"] = n / ((n - 1) * (n - 2)) * np.sum(r**3)
        z = m / e
        if np.ptp(z) > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out["sw"] = sps.shapiro(z).statistic
    if n >= 4:
        r = (m - out["wmean"]) / e
        out["smallkurt"] = n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * np.sum(r**4) - 3 * (n - 1) ** 2 / (
            (n - 2) * (n - 3)
        )
    return np.array([out[k] for k in STAT_NAMES], dtype=np.float64)
