"""Synthetic ZTF-like light curves for the feature tests (deterministic)."""

from __future__ import annotations

import numpy as np

HJD0 = 2458200.5



def ztf_like(rng, n, period=None, amp=0.3, baseline=1000.0, noise=0.03, shape="sine", t0=HJD0):
    """One light curve: nightly visits in observing seasons, optional periodic signal.

    Returns absolute times (HJD, sorted), magnitudes and errors.
    """
    nights = np.arange(int(baseline))
    nights = nights[(nights % 365) < 240]  # seasonal gap
    t = np.sort(rng.choice(nights, size=n, replace=True) + rng.uniform(0.15, 0.4, n))
    t = np.unique(t)
    while len(t) < n:  # keep exactly n distinct times
        t = np.unique(np.concatenate([t, rng.choice(nights, n - len(t)) + rng.uniform(0.15, 0.4, n - len(t))]))
    t = t[:n] + t0
    m = np.full(n, 16.0)
    if period:
        phase = ((t - t0) / period) % 1.0
        if shape == "sine":
            m = m + amp * np.sin(2 * np.pi * phase)
        elif shape == "eclipse":  # two eclipses of different depth per period
            m = m + amp * np.exp(-0.5 * ((phase - 0.25) / 0.03) ** 2) + 0.6 * amp * np.exp(-0.5 * ((phase - 0.75) / 0.03) ** 2)
        elif shape == "sawtooth":
            m = m + amp * (phase - 0.5)
    e = np.full(n, noise)
    m = m + rng.normal(0, noise, n)
    return t, m, e


def ragged(lcs):
    """Concatenate [(t, m, e), ...] into ragged arrays ``t, m, e, offsets``."""
    lengths = [len(lc[0]) for lc in lcs]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    arrays = [np.concatenate([np.asarray(lc[k], dtype=np.float64) for lc in lcs]) if lcs else np.zeros(0)
              for k in range(3)]
    return (*arrays, offsets)
