"""The demo's variability classes: how common they are, how bright, what periods, which labels.

Each class draws its own parameters (:meth:`DemoClass.sample`) and turns observation times
into noise-free magnitude offsets per band (:meth:`DemoClass.simulate`). Offsets are relative
to the object's base magnitude in that band; the band dependence of amplitudes follows the
physics roughly (pulsators and AGN vary more in g than in r, flares much more, eclipses about
the same).

``CLASS_LABELS`` maps every class to the SCoPe training labels (names from
``golden_dataset_mapper.json``) it carries; every label not listed is 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from scope.demo import shapes

G, R, I = 1, 2, 3

#: class key -> labels set to 1 in labels.parquet (all other label columns are 0)
CLASS_LABELS: dict[str, tuple[str, ...]] = {
    "nonvar": ("non-variable",),
    "rrab": ("variable", "periodic", "pulsator", "sawtooth", "RR Lyrae", "RR Lyrae ab"),
    "rrc": ("variable", "periodic", "pulsator", "sinusoidal", "RR Lyrae", "RR Lyrae c"),
    "dscu": ("variable", "periodic", "pulsator", "sinusoidal", "Delta Scu"),
    "cep": ("variable", "periodic", "pulsator", "sawtooth", "Cepheid"),
    "ea": ("variable", "periodic", "eclipsing", "EA", "binary star", "detached eclipsing MS-MS"),
    "eb": ("variable", "periodic", "eclipsing", "EB", "binary star", "Beta Lyr"),
    "ew": ("variable", "periodic", "eclipsing", "EW", "binary star", "W UMa"),
    "mira": ("variable", "periodic", "pulsator", "long timescale", "LPV", "Mira"),
    "flare": ("variable", "flaring"),
    "agn": ("variable", "irregular", "long timescale", "AGN"),
    "yso": ("variable", "irregular", "dipping", "YSO"),
}

#: every label column written to labels.parquet, in a stable order
LABEL_NAMES: tuple[str, ...] = tuple(dict.fromkeys(name for labels in CLASS_LABELS.values() for name in labels))


@dataclass(frozen=True)
class DemoClass:
    """One demo variability class.

    Attributes
    ----------
    key : str
        Short name used in ``truth.parquet`` (``class`` column).
    description : str
    weight : float
        Share among the variable objects (ignored for ``nonvar``).
    r_mag : (float, float)
        Range of the mean r magnitude.
    g_r : (float, float)
        Range of the mean g - r colour.
    periodic : bool
        Whether the class has a true period (recorded in the truth table).
    sample : callable
        ``sample(rng) -> dict`` of the object's parameters (``period`` included when periodic).
    simulate : callable
        ``simulate(params, rng, times) -> {band: offsets}`` with ``times = {band: hmjd}``.
    """

    key: str
    description: str
    weight: float
    r_mag: tuple[float, float]
    g_r: tuple[float, float]
    periodic: bool
    sample: Callable[[np.random.Generator], dict]
    simulate: Callable[[dict, np.random.Generator, dict], dict]
    labels: tuple[str, ...] = field(default=())


def _loguniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _phase(t, p):
    return (np.asarray(t, dtype=np.float64) - p["t0"]) / p["period"]


def _t0(rng, period):
    # a reference epoch inside the survey, so phases are well defined at any time
    return 58500.0 + rng.uniform(0.0, period)


# ---- constant stars --------------------------------------------------------------------------
def _sample_nonvar(rng):
    return {}


def _simulate_nonvar(p, rng, times):
    return {b: np.zeros(len(t)) for b, t in times.items()}


# ---- pulsators -------------------------------------------------------------------------------
def _sample_rrab(rng):
    period = float(rng.triangular(0.45, 0.57, 0.80))
    # Bailey diagram: longer periods have smaller amplitudes
    amp = float(np.clip(0.95 - 1.1 * (period - 0.5) + rng.normal(0.0, 0.12), 0.25, 1.05))
    return {"period": period, "t0": _t0(rng, period), "amp": amp, "rise": rng.uniform(0.12, 0.20),
            "kg": rng.uniform(1.28, 1.42), "ki": rng.uniform(0.75, 0.85)}


def _sample_rrc(rng):
    period = float(rng.triangular(0.25, 0.32, 0.40))
    return {"period": period, "t0": _t0(rng, period), "amp": rng.uniform(0.18, 0.45),
            "a2": rng.uniform(0.05, 0.15), "phi2": rng.uniform(0, 2 * np.pi),
            "kg": rng.uniform(1.25, 1.40), "ki": rng.uniform(0.75, 0.85)}


def _sample_dscu(rng):
    period = _loguniform(rng, 0.03, 0.20)
    return {"period": period, "t0": _t0(rng, period), "amp": _loguniform(rng, 0.05, 0.35),
            "a2": rng.uniform(0.0, 0.25), "phi2": rng.uniform(0, 2 * np.pi),
            "kg": rng.uniform(1.30, 1.45), "ki": rng.uniform(0.75, 0.85)}


def _sample_cep(rng):
    period = _loguniform(rng, 2.0, 40.0)
    bump = (rng.uniform(0.30, 0.45), rng.uniform(0.08, 0.18)) if 6.0 < period < 16.0 else None
    return {"period": period, "t0": _t0(rng, period), "amp": rng.uniform(0.30, 0.85),
            "rise": rng.uniform(0.25, 0.35), "bump": bump,
            "kg": rng.uniform(1.35, 1.50), "ki": rng.uniform(0.70, 0.80)}


def _sample_mira(rng):
    period = float(rng.uniform(100.0, 500.0))
    return {"period": period, "t0": _t0(rng, period), "amp": rng.uniform(1.5, 4.0),
            "rise": rng.uniform(0.35, 0.45), "mod_amp": rng.uniform(0.03, 0.12),
            "mod_period": period * rng.uniform(4.0, 9.0), "mod_phase": rng.uniform(0, 2 * np.pi),
            "kg": rng.uniform(1.12, 1.30), "ki": rng.uniform(0.70, 0.85)}


def _band_factor(p, band):
    return {G: p.get("kg", 1.0), R: 1.0, I: p.get("ki", 1.0)}[band]


def _template_offsets(template, p, times):
    """Zero-mean magnitude offsets of a 0..1 waveform scaled by the r amplitude."""
    mean = float(template.values.mean())
    return {b: p["amp"] * _band_factor(p, b) * (template(_phase(t, p)) - mean) for b, t in times.items()}


def _simulate_sawtooth(p, rng, times):
    bump = p.get("bump")
    template = shapes.sawtooth(p["rise"], smooth=0.015, bump=tuple(bump) if bump is not None else None)
    return _template_offsets(template, p, times)


def _simulate_harmonic(p, rng, times):
    out = {}
    grid = np.linspace(0.0, 1.0, 512, endpoint=False)
    mean = float(shapes.harmonic(grid, p["a2"], p["phi2"]).mean())
    for b, t in times.items():
        y = shapes.harmonic(_phase(t, p), p["a2"], p["phi2"]) - mean
        out[b] = p["amp"] * _band_factor(p, b) * y
    return out


def _simulate_mira(p, rng, times):
    template = shapes.sawtooth(p["rise"], smooth=0.06)
    mean = float(template.values.mean())
    out = {}
    for b, t in times.items():
        t = np.asarray(t, dtype=np.float64)
        # cycle-to-cycle amplitude changes, as real Miras show
        scale = 1.0 + p["mod_amp"] * np.sin(2 * np.pi * t / p["mod_period"] + p["mod_phase"])
        out[b] = p["amp"] * _band_factor(p, b) * scale * (template(_phase(t, p)) - mean)
    return out


# ---- eclipsing binaries ----------------------------------------------------------------------
def _depth_flux(depth_mag):
    return 1.0 - 10 ** (-0.4 * depth_mag)


def _sample_ea(rng):
    period = _loguniform(rng, 1.0, 10.0)
    depth1 = _loguniform(rng, 0.15, 1.1)
    eccentric = rng.random() < 0.2
    # eclipse scale in phase: (R1 + R2) / (pi a) is ~0.06 for two Sun-like stars at P = 3 d and shrinks
    # as P^(-2/3); this generalised-Gaussian scale gives full widths of about 0.04-0.1 at P = 1-3 d
    width = float(np.clip(rng.uniform(0.035, 0.075) * period ** (-1.0 / 3.0), 0.012, 0.08))
    return {"period": period, "t0": _t0(rng, period), "depth1": depth1,
            "depth2": depth1 * rng.uniform(0.05, 0.7), "width1": width, "width2": width * rng.uniform(0.8, 1.2),
            "sharp": rng.uniform(1.5, 3.0),
            "phase2": 0.5 + (rng.uniform(-0.08, 0.08) if eccentric else 0.0),
            "ellip": rng.uniform(0.0, 0.015), "kg": rng.uniform(0.95, 1.15), "ki": rng.uniform(0.90, 1.0)}


def _sample_eb(rng):
    period = _loguniform(rng, 0.5, 3.0)
    depth1 = rng.uniform(0.25, 0.9)
    width = rng.uniform(0.07, 0.12)
    return {"period": period, "t0": _t0(rng, period), "depth1": depth1,
            "depth2": depth1 * rng.uniform(0.2, 0.5), "width1": width, "width2": width, "sharp": 2.0,
            "phase2": 0.5, "ellip": rng.uniform(0.04, 0.12), "reflect": rng.uniform(0.0, 0.03),
            "kg": rng.uniform(0.98, 1.12), "ki": rng.uniform(0.90, 1.0)}


def _sample_ew(rng):
    period = _loguniform(rng, 0.25, 0.5)
    ptp_mag = rng.uniform(0.15, 0.70)
    return {"period": period, "t0": _t0(rng, period), "semi": _depth_flux(ptp_mag) / 2.0,
            "unequal": rng.uniform(0.0, 0.15), "oconnell": rng.uniform(-0.02, 0.02),
            "kg": rng.uniform(0.98, 1.08), "ki": rng.uniform(0.93, 1.0)}


def _flux_to_offsets(flux_fn, p, times):
    """Magnitude offsets from a relative-flux model, band-scaled in magnitudes."""
    return {b: _band_factor(p, b) * -2.5 * np.log10(np.clip(flux_fn(_phase(t, p)), 1e-3, None))
            for b, t in times.items()}


def _simulate_detached(p, rng, times):
    def flux(ph):
        return shapes.eclipsing_flux(ph, _depth_flux(p["depth1"]), _depth_flux(p["depth2"]), p["width1"],
                                     p["width2"], p["sharp"], p["phase2"], p["ellip"], p.get("reflect", 0.0))
    return _flux_to_offsets(flux, p, times)


def _simulate_contact(p, rng, times):
    def flux(ph):
        return shapes.contact_flux(ph, p["semi"], p["unequal"], p["oconnell"])
    return _flux_to_offsets(flux, p, times)


# ---- aperiodic -------------------------------------------------------------------------------
def _sample_flare(rng):
    return {"rate": rng.uniform(0.4, 1.5), "decay": _loguniform(rng, 0.008, 0.05),
            "min_amp": rng.uniform(0.06, 0.15), "alpha": rng.uniform(0.7, 1.0),
            "kg": rng.uniform(2.5, 4.0), "ki": rng.uniform(0.5, 0.7)}


def _simulate_flare(p, rng, times):
    all_t = np.concatenate([np.asarray(t, dtype=np.float64) for t in times.values()]) if times else np.empty(0)
    if all_t.size == 0:
        return {b: np.zeros(0) for b in times}
    starts, amps = shapes.flare_events(rng, all_t.min() - 1.0, all_t.max(), p["rate"], p["min_amp"], p["alpha"])
    rise = p["decay"] / 8.0
    out = {}
    for b, t in times.items():
        # flux amplitudes scale with band: flares are hot, M dwarfs are faint in g
        excess = shapes.flare_flux(t, starts, amps * _band_factor(p, b), p["decay"], rise)
        out[b] = -2.5 * np.log10(1.0 + excess)
    return out


def _sample_agn(rng):
    return {"tau": _loguniform(rng, 50.0, 500.0), "sf_inf": rng.uniform(0.15, 0.45),
            "kg": rng.uniform(1.25, 1.45), "ki": rng.uniform(0.80, 0.90)}


def _joint_times(times):
    bands = list(times)
    arrays = [np.asarray(times[b], dtype=np.float64) for b in bands]
    sizes = np.cumsum([0] + [a.size for a in arrays])
    return bands, (np.concatenate(arrays) if arrays else np.empty(0)), sizes


def _simulate_agn(p, rng, times):
    bands, t, sizes = _joint_times(times)
    # one process drives every band (AGN get bluer when brighter: larger swings in g)
    x = shapes.damped_random_walk(rng, t, p["tau"], p["sf_inf"])
    return {b: _band_factor(p, b) * x[sizes[k]:sizes[k + 1]] for k, b in enumerate(bands)}


def _sample_yso(rng):
    return {"dip_rate": rng.uniform(0.02, 0.08), "dip_depth": rng.uniform(0.3, 0.8),
            "dip_width": (0.3, 3.0), "tau": rng.uniform(5.0, 30.0), "sf_inf": rng.uniform(0.03, 0.10),
            "kg": rng.uniform(1.40, 1.50), "ki": rng.uniform(0.72, 0.80)}


def _simulate_yso(p, rng, times):
    bands, t, sizes = _joint_times(times)
    if t.size == 0:
        return {b: np.zeros(0) for b in bands}
    t0, t1 = t.min() - 5.0, t.max() + 5.0
    n = rng.poisson(p["dip_rate"] * (t1 - t0))
    centres = rng.uniform(t0, t1, n)
    depths = np.minimum(rng.exponential(p["dip_depth"], n) + 0.1, 2.0)
    widths = np.exp(rng.uniform(np.log(p["dip_width"][0]), np.log(p["dip_width"][1]), n))
    # dust extinction: the same dips, deeper in g (A_g / A_r ~ 1.45)
    base = shapes.dips(t, centres, depths, widths) + shapes.damped_random_walk(rng, t, p["tau"], p["sf_inf"])
    return {b: _band_factor(p, b) * base[sizes[k]:sizes[k + 1]] for k, b in enumerate(bands)}


# ---- the registry ----------------------------------------------------------------------------
def _make(key, description, weight, r_mag, g_r, periodic, sample, simulate) -> DemoClass:
    return DemoClass(key, description, weight, r_mag, g_r, periodic, sample, simulate, CLASS_LABELS[key])


CLASSES: dict[str, DemoClass] = {c.key: c for c in (
    _make("nonvar", "non-variable star", 0.0, (14.0, 20.5), (0.2, 1.5), False, _sample_nonvar, _simulate_nonvar),
    _make("rrab", "RR Lyrae ab (fundamental mode, sawtooth)", 0.12, (14.5, 20.3), (0.15, 0.45), True,
          _sample_rrab, _simulate_sawtooth),
    _make("rrc", "RR Lyrae c (first overtone, near-sinusoidal)", 0.07, (14.5, 20.3), (0.10, 0.30), True,
          _sample_rrc, _simulate_harmonic),
    _make("dscu", "delta Scuti (short period, small amplitude)", 0.09, (14.0, 19.5), (0.0, 0.30), True,
          _sample_dscu, _simulate_harmonic),
    _make("cep", "classical Cepheid", 0.05, (14.0, 17.5), (0.40, 1.00), True, _sample_cep, _simulate_sawtooth),
    _make("ea", "detached eclipsing binary (EA, Algol type)", 0.14, (14.0, 20.0), (0.20, 1.00), True,
          _sample_ea, _simulate_detached),
    _make("eb", "semi-detached eclipsing binary (EB, beta Lyrae type)", 0.09, (14.0, 20.0), (0.10, 0.80), True,
          _sample_eb, _simulate_detached),
    _make("ew", "contact eclipsing binary (EW, W UMa type)", 0.16, (14.0, 20.0), (0.30, 0.90), True,
          _sample_ew, _simulate_contact),
    _make("mira", "Mira / long-period variable", 0.07, (15.5, 18.5), (1.30, 2.00), True,
          _sample_mira, _simulate_mira),
    _make("flare", "flaring M dwarf", 0.07, (15.0, 19.5), (1.30, 1.60), False, _sample_flare, _simulate_flare),
    _make("agn", "AGN / quasar (damped random walk)", 0.07, (17.5, 20.5), (0.10, 0.45), False,
          _sample_agn, _simulate_agn),
    _make("yso", "young stellar object (dipper)", 0.07, (15.0, 19.5), (0.90, 1.60), False,
          _sample_yso, _simulate_yso),
)}

VARIABLE_KEYS: tuple[str, ...] = tuple(k for k in CLASSES if k != "nonvar")


def allocate_counts(n_total: int, variable_fraction: float) -> dict[str, int]:
    """Exact number of objects per class for ``n_total`` objects.

    The variable share is ``round(n_total * variable_fraction)``, split over the variable
    classes by weight with largest remainders; while there are at least as many variables as
    classes, every variable class gets at least one object. The rest are non-variable.
    """
    n_var = int(round(n_total * variable_fraction))
    n_var = min(max(n_var, 0), n_total)
    weights = np.array([CLASSES[k].weight for k in VARIABLE_KEYS])
    weights = weights / weights.sum()
    ideal = weights * n_var
    counts = np.floor(ideal).astype(int)
    if n_var >= len(VARIABLE_KEYS):
        counts = np.maximum(counts, 1)
    while counts.sum() > n_var:  # the minimum of one may overshoot: take from the richest
        excess = np.where(counts > 1, counts - ideal, -np.inf)
        counts[np.argmax(excess)] -= 1
    remainder = ideal - counts
    for k in np.argsort(-remainder, kind="stable")[: n_var - counts.sum()]:
        counts[k] += 1
    out = {"nonvar": n_total - n_var}
    out.update({k: int(c) for k, c in zip(VARIABLE_KEYS, counts)})
    return out
