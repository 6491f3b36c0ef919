"""Backends and algorithm names of the period search.

Backends share one signature (:class:`Backend`):

``numpy``
    The readable reference (:mod:`.reference`): full periodogram per light curve, then
    :func:`.peaks.reduce_periodogram`. Slow; for tests and small checks.
``cpu``
    numba kernels (:mod:`.cpu`), parallel over light curves, reduced on the fly. Lomb-Scargle
    (``ls_engine``): ``"auto"`` (default) the batched non-uniform FFT of :mod:`.lsfft` with a
    complex64 fine grid, and the direct kernel for light curves of fewer than
    :data:`.lsfft.DIRECT_BELOW` points; ``"fft"`` / ``"fft-double"`` the transform for every
    light curve (complex64 / complex128 fine grid); ``"numba"`` the direct kernel; ``"nifty"``
    nifty-ls (an optional package), for comparison.
``gpu``
    numba CUDA kernels (:mod:`.gpu`): the grid streamed through the device in chunks, the peaks
    reduced on the device. Without a usable CUDA device asking for it raises
    :class:`scope.errors.BackendUnavailable` naming what is missing.
``gpu-sim``
    The same kernels run by numba's CUDA simulator on the CPU: very slow, for tests on tiny
    inputs only.

Algorithm names: ``LS``, ``CE``, ``AOV``, ``FPW``, ``MHF``, ``BLS``, with an optional legacy ``E``
prefix (``ECE`` is ``CE``) and an optional ``_periodogram`` suffix (accepted, same result). The
column suffix is the name up to its first ``_`` (``ELS_periodogram`` -> ``ELS``). The nested
names ``ELS_ECE_EAOV`` and ``LS_CE_AOV`` run LS, CE and AOV under the spelling given and add the
nested period under the suffix ``ELS_ECE_EAOV``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from scope.errors import BackendUnavailable, ConfigError

from . import cpu, lsfft, lsnifty, reference
from .grid import FrequencyGrid
from .peaks import reduce_periodogram
from .prepare import PreparedBatch

log = logging.getLogger(__name__)

BackendName = Literal["numpy", "cpu", "gpu", "gpu-sim"]
BACKENDS: tuple[str, ...] = ("numpy", "cpu", "gpu", "gpu-sim")
ALGORITHMS: tuple[str, ...] = ("LS", "CE", "AOV", "FPW", "MHF", "BLS")
NESTED_NAMES: tuple[str, ...] = ("ELS_ECE_EAOV", "LS_CE_AOV")
#: Lomb-Scargle engines of the cpu backend.
LS_ENGINES: tuple[str, ...] = ("auto", "fft", "fft-double", "numba", "nifty")

#: Fewest points each statistic is computed for (fewer: NaN period and significance).
MIN_POINTS = {"LS": 3, "CE": 2, "AOV": None, "FPW": 2, "MHF": 3, "BLS": 2}  # AOV: more than bins

#: Default algorithm parameters (reference spec §4.8).
DEFAULT_PARAMS = {
    "phase_bins": 20,
    "mag_bins": 10,
    "aov_bins": 20,
    "fpw_bins": 20,
    "bls_bins": 50,
    "qmin": 0.01,
    "qmax": 0.5,
    "max_harmonics": 3,
}


@dataclass(frozen=True)
class AlgorithmSpec:
    """A parsed algorithm name."""

    name: str
    base: str
    suffix: str

    @property
    def minimize(self) -> bool:
        """Whether smaller statistic values are better."""
        return self.base == "CE"


def parse_algorithm(name: str) -> AlgorithmSpec:
    """Parse ``[E]<base>[_periodogram]`` into an :class:`AlgorithmSpec`.

    Raises
    ------
    ConfigError
        For an unknown name (the message lists the valid ones).
    """
    text = str(name).strip()
    core = text[: -len("_periodogram")] if text.endswith("_periodogram") else text
    base = core
    if base not in ALGORITHMS and base.startswith("E") and base[1:] in ALGORITHMS:
        base = base[1:]
    if base not in ALGORITHMS:
        valid = ", ".join(list(ALGORITHMS) + [f"E{a}" for a in ALGORITHMS] + list(NESTED_NAMES))
        raise ConfigError(f"unknown period algorithm {name!r}; valid: {valid} (optionally + '_periodogram')")
    return AlgorithmSpec(name=text, base=base, suffix=text.split("_")[0])


def expand_algorithms(names) -> tuple[list[AlgorithmSpec], bool]:
    """Turn the requested names into the algorithms to run and whether nesting is on.

    A nested name (``ELS_ECE_EAOV`` or ``LS_CE_AOV``) replaces the whole list, as in the
    reference (other names are ignored with a warning).

    Returns
    -------
    specs : list of AlgorithmSpec
    nested : bool
    """
    if isinstance(names, str):
        names = [names]
    names = [str(n).strip() for n in names]
    if not names:
        raise ConfigError("no period algorithm given")
    for nested_name in NESTED_NAMES:
        if nested_name in names:
            others = [n for n in names if n != nested_name]
            if others:
                log.warning("nested %s requested: ignoring the other algorithms %s", nested_name, others)
            parts = nested_name.split("_")
            return [parse_algorithm(p) for p in parts], True
    specs = [parse_algorithm(n) for n in names]
    suffixes = [s.suffix for s in specs]
    if len(set(suffixes)) != len(suffixes):
        raise ConfigError(f"period algorithms give duplicate column suffixes: {suffixes}")
    return specs, False


@dataclass
class RawSearch:
    """Kernel outputs for one algorithm (scores: larger is better)."""

    summary: np.ndarray  # (n, 5): mean, std, count, best index, best score
    pk_idx: np.ndarray
    pk_val: np.ndarray
    raw_idx: np.ndarray
    raw_val: np.ndarray

    def as_tuple(self):
        """The arrays in kernel argument order."""
        return self.summary, self.pk_idx, self.pk_val, self.raw_idx, self.raw_val

    @classmethod
    def allocate(cls, n: int, n_peaks: int, n_raw: int) -> "RawSearch":
        return cls(
            summary=np.empty((n, 5)),
            pk_idx=np.full((n, n_peaks), -1, np.int64),
            pk_val=np.full((n, n_peaks), np.nan),
            raw_idx=np.full((n, n_raw), -1, np.int64),
            raw_val=np.full((n, n_raw), np.nan),
        )


class Backend(Protocol):
    """What every period-search backend provides."""

    name: str

    def search(self, prep: PreparedBatch, grid: FrequencyGrid, spec: AlgorithmSpec, *,
               n_peaks: int, n_raw: int, sep: int, params: dict) -> RawSearch:
        """Reduce each light curve's periodogram of ``spec`` to peaks."""

    def aov_at(self, prep: PreparedBatch, freqs: np.ndarray, n_bins: int) -> np.ndarray:
        """AOV F of light curve ``r`` at ``freqs[r, :]`` (NaN frequencies skipped)."""

    def versions(self) -> dict:
        """Library versions used."""


class NumpyBackend:
    """The slow, obvious reference backend."""

    name = "numpy"

    def search(self, prep, grid, spec, *, n_peaks, n_raw, sep, params):
        out = RawSearch.allocate(len(prep), n_peaks, n_raw)
        indices = grid.kept_indices()
        freqs = grid.frequency(indices)
        for r in range(len(prep)):
            a, b = prep.offsets[r], prep.offsets[r + 1]
            t, y, w = prep.t[a:b], prep.y[a:b], prep.w[a:b]
            if b - a < _min_points(spec.base, params):
                out.summary[r] = (np.nan, np.nan, 0.0, -1.0, np.nan)
                continue
            stat = _reference_periodogram(spec.base, t, y, w, freqs, params)
            scores = -stat if spec.minimize else stat
            red = reduce_periodogram(scores, indices, n_peaks, n_raw, sep)
            out.summary[r] = (red["mean"], red["std"], red["count"], red["best_idx"], red["best_val"])
            out.pk_idx[r], out.pk_val[r] = red["pk_idx"], red["pk_val"]
            out.raw_idx[r], out.raw_val[r] = red["raw_idx"], red["raw_val"]
        return out

    def aov_at(self, prep, freqs, n_bins):
        out = np.full(freqs.shape, np.nan)
        for r in range(len(prep)):
            a, b = prep.offsets[r], prep.offsets[r + 1]
            ok = np.isfinite(freqs[r])
            if ok.any():
                out[r, ok] = reference.analysis_of_variance(prep.t[a:b], prep.y[a:b], freqs[r, ok], n_bins)
        return out

    def versions(self):
        return {}


class CpuBackend:
    """numba kernels; Lomb-Scargle by the engine ``ls_engine`` (see the module docstring)."""

    name = "cpu"

    def __init__(self, ls_engine: str = "auto", n_threads: int | None = None):
        if ls_engine not in LS_ENGINES:
            raise ConfigError(f"ls_engine must be one of {', '.join(LS_ENGINES)}, got {ls_engine!r}")
        if ls_engine == "nifty" and not lsnifty.available():
            raise BackendUnavailable("ls_engine='nifty' needs nifty-ls: pip install nifty-ls")
        self.ls_engine = ls_engine
        self.n_threads = n_threads

    @property
    def uses_nifty(self) -> bool:
        return self.ls_engine == "nifty"

    def search(self, prep, grid, spec, *, n_peaks, n_raw, sep, params):
        out = RawSearch.allocate(len(prep), n_peaks, n_raw)
        if not len(prep):
            return out
        base = spec.base
        if base == "LS" and self.uses_nifty:
            lsnifty.ls_batch_nifty(prep, grid, sep, self.n_threads, *out.as_tuple())
            return out
        if base == "LS" and self.ls_engine != "numba":
            lsfft.ls_batch(prep, grid, sep, self.n_threads, *out.as_tuple(),
                           precision="double" if self.ls_engine == "fft-double" else "single",
                           direct_below=lsfft.DIRECT_BELOW if self.ls_engine == "auto" else 0)
            return out
        none = RawSearch.allocate(0, 0, 0).as_tuple()
        ipar = np.zeros(4, np.int64)
        fpar = np.zeros(2)
        first, second = out.as_tuple(), none
        if base == "CE":
            code = cpu.CE_AOV
            ipar[:] = (params["phase_bins"], params["mag_bins"], 1, 0)
        elif base == "AOV":
            code = cpu.CE_AOV
            ipar[:] = (params["aov_bins"], params["mag_bins"], 0, 1)
            first, second = none, out.as_tuple()
        elif base == "FPW":
            code = cpu.FPW
            ipar[0] = params["fpw_bins"]
        elif base == "BLS":
            code = cpu.BLS
            ipar[0] = params["bls_bins"]
            fpar[:] = (params["qmin"], params["qmax"])
        elif base == "LS":
            code = cpu.LS
        else:
            code = cpu.MHF
            ipar[0] = params["max_harmonics"]
        cpu.search_batch(code, prep.t, prep.y, prep.w, prep.offsets, grid.fmin, grid.df, grid.segments,
                         ipar, fpar, sep, first, second, self.n_threads)
        return out

    def search_ce_aov(self, prep, grid, *, n_peaks, n_raw_ce, n_raw_aov, sep, params):
        """CE and AOV in one pass over the grid (they share the phase bins)."""
        ce = RawSearch.allocate(len(prep), n_peaks, n_raw_ce)
        aov = RawSearch.allocate(len(prep), n_peaks, n_raw_aov)
        if len(prep):
            ipar = np.array([params["phase_bins"], params["mag_bins"], 1, 1], dtype=np.int64)
            cpu.search_batch(cpu.CE_AOV, prep.t, prep.y, prep.w, prep.offsets, grid.fmin, grid.df, grid.segments,
                             ipar, np.zeros(2), sep, ce.as_tuple(), aov.as_tuple(), self.n_threads)
        return ce, aov

    def aov_at(self, prep, freqs, n_bins):
        out = np.full(freqs.shape, np.nan)
        if len(prep) and freqs.shape[1]:
            cpu.aov_at(prep.t, prep.y, prep.offsets, np.ascontiguousarray(freqs, dtype=np.float64), n_bins, out)
        return out

    def versions(self):
        import numba

        import scipy

        extra = {"numba": numba.__version__}
        if self.ls_engine != "numba":
            extra["scipy"] = scipy.__version__
        if self.uses_nifty:
            extra["nifty_ls"] = lsnifty.version()
        return extra


def _min_points(base: str, params: dict) -> int:
    if base == "AOV":
        return int(params["aov_bins"]) + 1
    return MIN_POINTS[base]


def _reference_periodogram(base, t, y, w, freqs, params):
    if base == "LS":
        return reference.lomb_scargle(t, y, freqs)
    if base == "CE":
        return reference.conditional_entropy(t, y, freqs, params["phase_bins"], params["mag_bins"])
    if base == "AOV":
        return reference.analysis_of_variance(t, y, freqs, params["aov_bins"])
    if base == "FPW":
        return reference.fpw(t, y, w, freqs, params["fpw_bins"])
    if base == "MHF":
        return reference.multi_harmonic(t, y, w, freqs, params["max_harmonics"])
    return reference.box_least_squares(t, y, w, freqs, params["bls_bins"], params["qmin"], params["qmax"])


def available_backends() -> list[str]:
    """Backends that can run on this machine (probed now, nothing cached at import)."""
    names = ["numpy", "cpu"]
    if _gpu_ready():
        names.append("gpu")
    return names


def _gpu_ready() -> bool:
    from .gpu_probe import gpu_unavailable_reason

    return gpu_unavailable_reason() is None


def get_backend(name: str, *, ls_engine: str = "auto", n_threads: int | None = None) -> Backend:
    """Return the backend called ``name``.

    Raises
    ------
    BackendUnavailable
        For ``"gpu"`` without a usable CUDA device (the message says what is missing).
    ConfigError
        For an unknown name.
    """
    key = str(name).lower()
    if key == "numpy":
        return NumpyBackend()
    if key == "cpu":
        return CpuBackend(ls_engine=ls_engine, n_threads=n_threads)
    if key in ("gpu", "gpu-sim"):
        from .gpu import GpuBackend

        return GpuBackend(simulate=key == "gpu-sim")
    raise ConfigError(f"unknown period-search backend {name!r}; valid: {', '.join(BACKENDS)}")
