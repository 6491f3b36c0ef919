"""Fourier decomposition at a given period: the 14 ``f1_*`` features (spec §4.9).

Model, fitted by weighted least squares (weights ``1/sigma^2``) on the cleaned magnitudes::

    y(t) = a + b (t - t_min) + sum_{n=1..K} [A_n cos(2 pi n t / P) + B_n sin(2 pi n t / P)]

for K = 0..5; ``BIC_K = chi2_K + ln(N) (2 + 2K)`` and the model with the smallest BIC (K*) wins.

Phases follow the absolute-time definition of the reference (``t`` is absolute HJD), so the
``A_n``/``B_n`` values match the legacy features. They are computed without ever forming
``2 pi t / P`` from a large ``t``: ``frac(t / P) = frac(frac(t_min / P) + (t - t_min) / P)`` in
float64, with ``t - t_min`` formed first.

Columns (:data:`FOURIER_NAMES`):

* ``f1_power`` = (chi2_0 - chi2_K*) / chi2_0; ``f1_BIC`` = BIC_K*;
* ``f1_a`` = a (magnitude at t_min), ``f1_b`` = b (mag/day), both from the K* model;
* ``form="legacy"`` (default, the DR16 / training-set semantics): ``f1_amp`` = A_1,
  ``f1_phi0`` = B_1, ``f1_relamp{k}`` = A_{k+1}, ``f1_relphi{k}`` = B_{k+1} (k = 1..4);
* ``form="amplitude_phase"`` (the reference's current semantics): ``f1_amp`` = R_1 =
  sqrt(A_1^2 + B_1^2), ``f1_phi0`` = phi_1 = atan2(A_1, B_1), ``f1_relamp{k}`` = R_{k+1} / R_1,
  ``f1_relphi{k}`` = ((phi_{k+1} / (k+1) - phi_1) / (2 pi / (k+1))) mod 1.

Harmonics above K* are 0 in both forms. Rows are NaN when N < 3 or the period is not a positive
finite number. A model whose normal matrix is singular is skipped.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scope.errors import ConfigError, DataError

from ._threads import run_chunks
from .periodsearch.prepare import check_ragged

FOURIER_NAMES: tuple[str, ...] = (
    "f1_power",
    "f1_BIC",
    "f1_a",
    "f1_b",
    "f1_amp",
    "f1_phi0",
    "f1_relamp1",
    "f1_relphi1",
    "f1_relamp2",
    "f1_relphi2",
    "f1_relamp3",
    "f1_relphi3",
    "f1_relamp4",
    "f1_relphi4",
)

FORMS = ("legacy", "amplitude_phase")
MAX_HARMONICS = 5


def fourier_features(t, m, e, offsets, periods, *, form: str = "legacy", n_threads: int | None = None) -> np.ndarray:
    """Fit the Fourier model at each light curve's period.

    Parameters
    ----------
    t, m, e : array_like of float64
        Concatenated absolute times (days), magnitudes and errors.
    offsets : array_like of int64, shape (n + 1,)
    periods : array_like of float64, shape (n,)
        Period (days) for each light curve.
    form : {"legacy", "amplitude_phase"}
        Meaning of the harmonic columns (see module docstring).
    n_threads : int, optional
        Threads (``None``: numba's setting, capped at the available CPUs).

    Returns
    -------
    ndarray of float64, shape (n, 14)
        Columns in the order of :data:`FOURIER_NAMES`.
    """
    if form not in FORMS:
        raise ConfigError(f"fourier form must be one of {FORMS}, got {form!r}")
    t, m, e, offsets = check_ragged(t, m, e, offsets)
    periods = np.ascontiguousarray(periods, dtype=np.float64)
    if periods.shape != (len(offsets) - 1,):
        raise DataError(f"need one period per light curve: {len(offsets) - 1} light curves, {periods.shape} periods")
    out = np.full((len(periods), len(FOURIER_NAMES)), np.nan)
    amp_phase = form == "amplitude_phase"
    run_chunks(lambda a, b: _fourier_range(t, m, e, offsets, periods, amp_phase, a, b, out), len(periods), n_threads)
    return out


def fourier_dict(values: np.ndarray, suffix: str) -> dict[str, np.ndarray]:
    """Named columns ``<name>_<suffix>`` from the output of :func:`fourier_features`."""
    return {f"{name}_{suffix}": values[:, k] for k, name in enumerate(FOURIER_NAMES)}


@njit(cache=True, nogil=True, error_model="numpy")
def _cholesky_prefix(g, size):
    """Lower Cholesky factor of ``g[:size, :size]``; returns (L, number of valid leading rows)."""
    low = np.zeros((size, size))
    for i in range(size):
        for j in range(i + 1):
            acc = g[i, j]
            for k in range(j):
                acc -= low[i, k] * low[j, k]
            if i == j:
                if acc <= 1e-13 * max(abs(g[i, i]), 1e-300):
                    return low, i
                low[i, i] = math.sqrt(acc)
            else:
                low[i, j] = acc / low[j, j]
    return low, size


@njit(cache=True, nogil=True, error_model="numpy")
def fourier_one(t, m, e, period, amp_phase, out):
    """Fourier features of one light curve into ``out`` (float64[14], pre-filled with NaN)."""
    n = t.shape[0]
    if n < 3 or not (period > 0) or not np.isfinite(period):
        return
    t0 = t[0]
    for i in range(n):
        if t[i] < t0:
            t0 = t[i]
    span = 0.0
    for i in range(n):
        if t[i] - t0 > span:
            span = t[i] - t0
    inv_span = 1.0 / span if span > 0 else 0.0
    base = t0 / period
    base -= math.floor(base)
    size = 2 + 2 * MAX_HARMONICS
    x = np.empty(size)
    g = np.zeros((size, size))
    rhs = np.zeros(size)
    sw = 0.0
    swy = 0.0
    for i in range(n):
        sig = e[i] if e[i] > 1e-30 else 1e-30
        w = 1.0 / (sig * sig)
        sw += w
        swy += w * m[i]
    ybar = swy / sw
    yy = 0.0
    for i in range(n):
        sig = e[i] if e[i] > 1e-30 else 1e-30
        w = 1.0 / (sig * sig)
        tau = t[i] - t0
        ph = base + tau / period
        ph = 2.0 * math.pi * (ph - math.floor(ph))
        x[0] = 1.0
        x[1] = tau * inv_span
        for k in range(1, MAX_HARMONICS + 1):
            x[2 * k] = math.cos(k * ph)
            x[2 * k + 1] = math.sin(k * ph)
        y = m[i] - ybar
        yy += w * y * y
        for p in range(size):
            rhs[p] += w * y * x[p]
            for q in range(p + 1):
                g[p, q] += w * x[p] * x[q]
    for p in range(size):
        for q in range(p + 1, size):
            g[p, q] = g[q, p]
    low, valid = _cholesky_prefix(g, size)
    if valid < 2:
        return
    z = np.zeros(size)
    for i in range(valid):
        acc = rhs[i]
        for k in range(i):
            acc -= low[i, k] * z[k]
        z[i] = acc / low[i, i]
    log_n = math.log(n)
    chi0 = yy - z[0] * z[0] - z[1] * z[1]
    best_k = 0
    best_bic = chi0 + log_n * 2.0
    best_chi = chi0
    resid = chi0
    for k in range(1, MAX_HARMONICS + 1):
        last = 2 * k + 1
        if last >= valid:
            break
        resid -= z[2 * k] * z[2 * k] + z[2 * k + 1] * z[2 * k + 1]
        bic = resid + log_n * (2.0 + 2.0 * k)
        if bic < best_bic:
            best_bic = bic
            best_k = k
            best_chi = resid
    used = 2 + 2 * best_k
    beta = np.zeros(size)
    for i in range(used - 1, -1, -1):
        acc = z[i]
        for k in range(i + 1, used):
            acc -= low[k, i] * beta[k]
        beta[i] = acc / low[i, i]
    out[0] = (chi0 - best_chi) / chi0 if chi0 > 0 else np.nan
    out[1] = best_bic
    out[2] = beta[0] + ybar
    out[3] = beta[1] * inv_span
    if not amp_phase:
        for k in range(2 * MAX_HARMONICS):
            out[4 + k] = beta[2 + k]
        return
    amp1 = math.sqrt(beta[2] ** 2 + beta[3] ** 2)
    phi1 = math.atan2(beta[2], beta[3])
    out[4] = amp1
    out[5] = phi1 if best_k >= 1 else 0.0
    for h in range(2, MAX_HARMONICS + 1):
        col = 6 + 2 * (h - 2)
        if h > best_k:
            out[col] = 0.0
            out[col + 1] = 0.0
            continue
        a_h = beta[2 * h]
        b_h = beta[2 * h + 1]
        out[col] = math.sqrt(a_h * a_h + b_h * b_h) / amp1
        rel = (math.atan2(a_h, b_h) / h - phi1) / (2.0 * math.pi / h)
        out[col + 1] = rel - math.floor(rel)


@njit(cache=True, nogil=True, error_model="numpy")
def _fourier_range(t, m, e, offsets, periods, amp_phase, r0, r1, out):
    for r in range(r0, r1):
        a = offsets[r]
        b = offsets[r + 1]
        fourier_one(t[a:b], m[a:b], e[a:b], periods[r], amp_phase, out[r])
