"""Noise-free light-curve shapes used by the demo classes.

Periodic shapes are functions of phase in [0, 1); they return either a normalised waveform
(0 at maximum light, 1 at minimum light) or a relative flux (1 = out of eclipse). Stochastic
shapes take the observation times and a random generator. Everything is plain NumPy on float64.
"""

from __future__ import annotations

import numpy as np

_GRID = 1024


class PhaseTemplate:
    """A smooth periodic waveform sampled on a fine phase grid.

    Built from piecewise-linear nodes ``(phase, value)`` and smoothed by a circular Gaussian of
    width ``smooth`` (in phase), then rescaled to span [0, 1] (0 = brightest).
    """

    def __init__(self, nodes_phase, nodes_value, smooth: float = 0.02):
        grid = (np.arange(_GRID) + 0.5) / _GRID
        xp = np.asarray(nodes_phase, dtype=np.float64)
        fp = np.asarray(nodes_value, dtype=np.float64)
        y = np.interp(grid, xp, fp, period=1.0)
        if smooth > 0:
            k = np.fft.rfftfreq(_GRID, d=1.0 / _GRID)
            y = np.fft.irfft(np.fft.rfft(y) * np.exp(-0.5 * (2 * np.pi * k * smooth) ** 2), n=_GRID)
        y = (y - y.min()) / (y.max() - y.min())
        self.grid = grid
        self.values = y

    def __call__(self, phase) -> np.ndarray:
        return np.interp(np.mod(phase, 1.0), self.grid, self.values, period=1.0)


def sawtooth(rise_fraction: float, smooth: float = 0.02, bump: tuple[float, float] | None = None) -> PhaseTemplate:
    """Pulsator shape: maximum at phase 0, slow decline, fast rise over ``rise_fraction``.

    ``bump`` = ``(phase, height)`` adds a secondary hump on the descending branch (the
    Hertzsprung bump of 6-16 d Cepheids); ``height`` is in units of the full amplitude.
    """
    decline_end = 1.0 - rise_fraction
    if bump is None:
        return PhaseTemplate([0.0, decline_end], [0.0, 1.0], smooth)
    bp, bh = bump
    xs = [0.0, bp - 0.08, bp, bp + 0.08, decline_end]
    ys = [x / decline_end for x in xs]
    ys[2] -= bh  # the hump is brighter than the plain decline
    return PhaseTemplate(xs, ys, smooth)


def harmonic(phase, a2: float = 0.0, phi2: float = 0.0) -> np.ndarray:
    """Near-sinusoidal shape with a second harmonic (0 = brightest, 1 = faintest)."""
    p = 2 * np.pi * np.asarray(phase)
    y = -np.cos(p) + a2 * np.cos(2 * p + phi2)
    grid = 2 * np.pi * np.linspace(0.0, 1.0, 512, endpoint=False)
    yg = -np.cos(grid) + a2 * np.cos(2 * grid + phi2)
    return (y - yg.min()) / (yg.max() - yg.min())


def _wrapped(phase, centre: float) -> np.ndarray:
    return np.mod(np.asarray(phase) - centre + 0.5, 1.0) - 0.5


def eclipsing_flux(phase, depth1: float, depth2: float, width1: float, width2: float,
                   sharpness: float = 2.0, phase2: float = 0.5, ellipsoidal: float = 0.0,
                   reflection: float = 0.0) -> np.ndarray:
    """Relative flux of an eclipsing binary: primary eclipse at phase 0, secondary at ``phase2``.

    Eclipses are generalised Gaussians ``depth * exp(-(|dphase| / width) ** sharpness)`` (flat
    bottoms for large ``sharpness``); ``ellipsoidal`` adds the tidal double wave (minima at the
    eclipses) and ``reflection`` the heated face seen near the secondary eclipse.
    """
    phase = np.asarray(phase, dtype=np.float64)
    d1 = np.abs(_wrapped(phase, 0.0))
    d2 = np.abs(_wrapped(phase, phase2))
    flux = (1.0 - depth1 * np.exp(-(d1 / width1) ** sharpness) - depth2 * np.exp(-(d2 / width2) ** sharpness))
    flux -= ellipsoidal * 0.5 * (1.0 - np.cos(4 * np.pi * phase))
    flux -= reflection * 0.5 * (1.0 + np.cos(2 * np.pi * phase))
    return flux


def contact_flux(phase, semi_amplitude: float, unequal: float = 0.0, oconnell: float = 0.0) -> np.ndarray:
    """Relative flux of a contact (W UMa) binary: a continuous double wave.

    ``unequal`` deepens the primary minimum (phase 0) relative to the secondary; ``oconnell``
    makes the two maxima unequal.
    """
    p = 2 * np.pi * np.asarray(phase, dtype=np.float64)
    return (1.0 - semi_amplitude * (1.0 - np.cos(2 * p)) - unequal * semi_amplitude * 0.5 * (1.0 + np.cos(p))
            + oconnell * np.sin(p))


def damped_random_walk(rng: np.random.Generator, t, tau: float, sf_inf: float) -> np.ndarray:
    """A damped random walk (Ornstein-Uhlenbeck process) sampled at times ``t`` (any order).

    ``sf_inf`` is the asymptotic structure function; the process has variance ``sf_inf**2 / 2``
    and correlation time ``tau`` (days). Returns zero-mean values in the input order.
    """
    t = np.asarray(t, dtype=np.float64)
    if t.size == 0:
        return np.empty(0)
    order = np.argsort(t, kind="stable")
    ts = t[order]
    sigma = sf_inf / np.sqrt(2.0)
    x = np.empty(ts.size)
    x[0] = rng.normal(0.0, sigma)
    decay = np.exp(-np.diff(ts) / tau)
    noise = rng.normal(0.0, 1.0, ts.size - 1) * sigma * np.sqrt(1.0 - decay ** 2)
    for i in range(1, ts.size):
        x[i] = x[i - 1] * decay[i - 1] + noise[i - 1]
    out = np.empty_like(x)
    out[order] = x
    return out


def flare_events(rng: np.random.Generator, t0: float, t1: float, rate_per_day: float,
                 min_amplitude: float, alpha: float, max_amplitude: float = 20.0):
    """Random flares between ``t0`` and ``t1``: start times and peak relative fluxes.

    Peak amplitudes follow a power law ``N(>A) ~ A**-alpha`` above ``min_amplitude``.
    """
    n = rng.poisson(max(rate_per_day * (t1 - t0), 0.0))
    starts = np.sort(rng.uniform(t0, t1, n))
    amps = np.minimum(min_amplitude * (1.0 - rng.random(n)) ** (-1.0 / alpha), max_amplitude)
    return starts, amps


def flare_flux(t, starts, amplitudes, decay: float, rise: float) -> np.ndarray:
    """Excess relative flux of flares: linear rise over ``rise`` days, exponential decay."""
    t = np.asarray(t, dtype=np.float64)
    excess = np.zeros(t.size)
    if len(starts) == 0 or t.size == 0:
        return excess
    # only flares that started within ~12 decay times before a point can matter
    lo = np.searchsorted(starts, t - 12 * decay - rise)
    hi = np.searchsorted(starts, t)
    for i in np.flatnonzero(hi > lo):
        dt = t[i] - starts[lo[i]:hi[i]]
        amp = amplitudes[lo[i]:hi[i]]
        rising = dt < rise
        excess[i] = np.sum(np.where(rising, amp * dt / rise, amp * np.exp(-(dt - rise) / decay)))
    return excess


def dips(t, centres, depths, widths) -> np.ndarray:
    """Extinction dips (mag, positive = fainter): Gaussians in time."""
    t = np.asarray(t, dtype=np.float64)
    out = np.zeros(t.size)
    for c, d, w in zip(centres, depths, widths):
        near = np.abs(t - c) < 5 * w
        if near.any():
            out[near] += d * np.exp(-0.5 * ((t[near] - c) / w) ** 2)
    return out
