"""Readable NumPy reference implementations of every period-search statistic (spec §4.8).

Each function computes the full periodogram of ONE prepared light curve (times relative to the
first point, magnitudes rescaled to [0, 1], weights for the rescaled magnitudes; see
:mod:`.prepare`) at an explicit array of frequencies. They are slow and obvious on purpose: the
fast kernels in :mod:`.cpu` are tested against them.

=========  =============================================================  ======
algorithm  statistic                                                      best
=========  =============================================================  ======
LS         (YC^2/CC + YS^2/SS) / YY with the Scargle offset tau            max
CE         sum_ij p_ij ln(p_j / p_ij), 20 phase x 10 magnitude bins        min
AOV        (n - r)/(r - 1) * s1 / s2, r = 20 phase bins                   max
FPW        sum_k (sum_{i in k} w_i y_i)^2 / (2 sum_{i in k} w_i)          max
MHF        max_K (BIC_0 - BIC_K), K = 0..3 harmonics plus a line          max
BLS        max over circular windows of s^2 / (r (W - r)), 50 bins        max
=========  =============================================================  ======
"""

from __future__ import annotations

import numpy as np


def _phase(t: np.ndarray, f: float) -> np.ndarray:
    x = t * f
    return x - np.floor(x)


def _bins(phase: np.ndarray, n_bins: int) -> np.ndarray:
    return np.minimum((phase * n_bins).astype(np.int64), n_bins - 1)


def lomb_scargle(t, y, freqs) -> np.ndarray:
    """Classic Lomb-Scargle power of mean-centred ``y`` (standard normalisation).

    Parameters
    ----------
    t, y : ndarray
        Relative times (days) and magnitudes of one light curve.
    freqs : ndarray
        Trial frequencies (cycles/day).

    Returns
    -------
    ndarray
        Power in [0, 1] at each frequency.
    """
    yc = y - y.mean()
    yy = np.sum(yc * yc)
    out = np.empty(len(freqs))
    for k, f in enumerate(freqs):
        omega_t = 2 * np.pi * _phase(t, f)
        tau2 = np.arctan2(np.sum(np.sin(2 * omega_t)), np.sum(np.cos(2 * omega_t)))
        arg = omega_t - tau2 / 2
        c = np.cos(arg)
        s = np.sin(arg)
        cc = np.sum(c * c)
        ss = np.sum(s * s)
        p = 0.0
        if cc > 1e-12 * len(t):
            p += np.sum(yc * c) ** 2 / cc
        if ss > 1e-12 * len(t):
            p += np.sum(yc * s) ** 2 / ss
        out[k] = p / yy if yy > 0 else np.nan
    return out


def conditional_entropy(t, y, freqs, n_phase: int = 20, n_mag: int = 10) -> np.ndarray:
    """Conditional entropy of magnitude given phase (smaller is more periodic).

    Magnitudes in [0, 1] are remapped to [5e-4, 0.9995] before binning, as in the reference.
    """
    n = len(t)
    mag_bin = np.clip(np.floor((5e-4 + y * 0.999) * n_mag).astype(np.int64), 0, n_mag - 1)
    out = np.empty(len(freqs))
    for k, f in enumerate(freqs):
        cell = _bins(_phase(t, f), n_phase) * n_mag + mag_bin
        p_ij = np.bincount(cell, minlength=n_phase * n_mag).reshape(n_phase, n_mag) / n
        p_j = p_ij.sum(axis=1, keepdims=True)
        nz = p_ij > 0
        ratio = np.where(nz, np.broadcast_to(p_j, p_ij.shape) / np.where(nz, p_ij, 1.0), 1.0)
        out[k] = np.sum(np.where(nz, p_ij * np.log(ratio), 0.0))
    return out


def analysis_of_variance(t, y, freqs, n_bins: int = 20) -> np.ndarray:
    """Phase-binned AOV F statistic (NaN when there are no more points than bins)."""
    n = len(t)
    if n <= n_bins:
        return np.full(len(freqs), np.nan)
    yc = y - y.mean()
    s_tot = np.sum(yc * yc)
    out = np.empty(len(freqs))
    for k, f in enumerate(freqs):
        b = _bins(_phase(t, f), n_bins)
        cnt = np.bincount(b, minlength=n_bins)
        sm = np.bincount(b, weights=yc, minlength=n_bins)
        used = cnt > 0
        s1 = np.sum(sm[used] ** 2 / cnt[used])
        s2 = s_tot - s1
        out[k] = (n - n_bins) / (n_bins - 1) * s1 / s2 if s2 > 0 else np.nan
    return out


def fpw(t, y, w, freqs, n_bins: int = 20) -> np.ndarray:
    """Finkbeiner et al. phase-folded weighted power with weights ``w`` (``y`` centred)."""
    yc = y - np.sum(w * y) / np.sum(w)
    out = np.empty(len(freqs))
    for k, f in enumerate(freqs):
        b = _bins(_phase(t, f), n_bins)
        bw = np.bincount(b, weights=w, minlength=n_bins)
        by = np.bincount(b, weights=w * yc, minlength=n_bins)
        used = bw > 0
        out[k] = np.sum(by[used] ** 2 / (2 * bw[used]))
    return out


def multi_harmonic(t, y, w, freqs, max_harmonics: int = 3) -> np.ndarray:
    """BIC gain of the best multi-harmonic model over a straight line, per frequency.

    ``chi2_K`` of offset + slope * (t - t_min) + sum_{k<=K} A_k cos(2 pi k f t) + B_k sin(...),
    ``BIC_K = chi2_K + ln(n) (2 + 2K)``; the statistic is ``max_K (BIC_0 - BIC_K)`` (>= 0).
    """
    n = len(t)
    span = np.ptp(t)
    tau = (t - t.min()) / span if span > 0 else np.zeros_like(t)
    sw = np.sqrt(w)
    out = np.empty(len(freqs))
    for k, f in enumerate(freqs):
        phase = 2 * np.pi * _phase(t, f)
        columns = [np.ones(n), tau]
        bics = []
        for harmonic in range(0, max_harmonics + 1):
            if harmonic:
                columns += [np.cos(harmonic * phase), np.sin(harmonic * phase)]
            design = np.column_stack(columns) * sw[:, None]
            beta, *_ = np.linalg.lstsq(design, y * sw, rcond=None)
            chi2 = np.sum((y * sw - design @ beta) ** 2)
            bics.append(chi2 + np.log(n) * (2 + 2 * harmonic))
        out[k] = max(0.0, max(bics[0] - b for b in bics))
    return out


def box_least_squares(t, y, w, freqs, n_bins: int = 50, qmin: float = 0.01, qmax: float = 0.5) -> np.ndarray:
    """Binned BLS power ``s^2 / (r (W - r))`` maximised over circular windows of phase bins.

    Window lengths run from ``max(1, floor(qmin n_bins))`` to ``min(n_bins - 1, ceil(qmax n_bins))``.
    """
    yc = y - np.sum(w * y) / np.sum(w)
    total_w = np.sum(w)
    lmin = max(1, int(np.floor(qmin * n_bins)))
    lmax = max(lmin, min(n_bins - 1, int(np.ceil(qmax * n_bins))))
    out = np.empty(len(freqs))
    for k, f in enumerate(freqs):
        b = _bins(_phase(t, f), n_bins)
        bw = np.bincount(b, weights=w, minlength=n_bins)
        by = np.bincount(b, weights=w * yc, minlength=n_bins)
        best = 0.0
        for length in range(lmin, lmax + 1):
            for start in range(n_bins):
                idx = (start + np.arange(length)) % n_bins
                r = bw[idx].sum()
                rest = total_w - r
                if r > 0 and rest > 0:
                    best = max(best, by[idx].sum() ** 2 / (r * rest))
        out[k] = best
    return out
