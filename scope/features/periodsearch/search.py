"""Run one or several period-search algorithms on a ragged batch (spec §4.8)."""

from __future__ import annotations

import logging

import numpy as np

from scope.errors import ConfigError

from .grid import FrequencyGrid
from .peaks import agreement_scores, nested_candidates, pick_nested, significance
from .prepare import PreparedBatch, prepare_batch
from .registry import DEFAULT_PARAMS, RawSearch, expand_algorithms, get_backend
from .results import CANDIDATES_PER_ALGORITHM, NESTED_SUFFIX, AlgorithmResult, PeriodSearchResult, library_versions

log = logging.getLogger(__name__)


def find_periods(
    t,
    m,
    e,
    offsets,
    *,
    algorithms,
    grid: FrequencyGrid,
    backend: str = "cpu",
    top_n: int = 10,
    n_threads: int | None = None,
    nested_from: str = "bins",
    ls_engine: str = "auto",
    params: dict | None = None,
    prepared: PreparedBatch | None = None,
) -> PeriodSearchResult:
    """Best periods, significances and top-N distinct peaks for every light curve.

    Parameters
    ----------
    t, m, e : array_like of float64
        Concatenated absolute times (days), magnitudes and errors (cleaned and sorted).
    offsets : array_like of int64, shape (n + 1,)
    algorithms : str or sequence of str
        Algorithm names (see :mod:`.registry`), or a nested name.
    grid : FrequencyGrid
        Trial frequencies (:func:`.grid.make_grid`).
    backend : {"cpu", "numpy", "gpu", "gpu-sim"} or Backend
        Implementation (:mod:`.registry`), or a backend instance (e.g. a
        :class:`.gpu.GpuBackend` with its own chunk size); ``"gpu"`` raises
        :class:`scope.errors.BackendUnavailable` without a usable CUDA device.
    top_n : int
        Distinct peaks kept per algorithm. With N > 1 (and not nested) the result writes top-N
        and agreement columns; in nested mode it is the number of LS and CE candidates.
    n_threads : int, optional
        Threads over which light curves are spread (``None``: numba's setting, capped at the
        CPUs available to the process).
    nested_from : {"bins", "peaks"}
        Nested candidates: the N highest raw bins of LS and lowest of CE (``"bins"``, the
        reference's production behaviour) or their N distinct peaks (``"peaks"``).
    ls_engine : {"auto", "fft", "fft-double", "numba", "nifty"}
        Lomb-Scargle implementation of the cpu backend (:mod:`.registry`).
    params : dict, optional
        Overrides of :data:`.registry.DEFAULT_PARAMS` (``phase_bins``, ``mag_bins``,
        ``aov_bins``, ``fpw_bins``, ``bls_bins``, ``qmin``, ``qmax``, ``max_harmonics``).
    prepared : PreparedBatch, optional
        Output of :func:`.prepare.prepare_batch` for these arrays, to skip preparing twice.

    Returns
    -------
    PeriodSearchResult
    """
    specs, nested = expand_algorithms(algorithms)
    top_n = int(top_n or 0)
    if top_n < 0:
        raise ConfigError(f"top_n must be >= 0, got {top_n}")
    if nested_from not in ("bins", "peaks"):
        raise ConfigError(f"nested_from must be 'bins' or 'peaks', got {nested_from!r}")
    if nested and top_n < 1:
        raise ConfigError("the nested LS/CE -> AOV search needs top_n >= 1 candidates")
    p = dict(DEFAULT_PARAMS)
    if params:
        unknown = set(params) - set(DEFAULT_PARAMS)
        if unknown:
            raise ConfigError(f"unknown period-search parameters: {sorted(unknown)}")
        p.update(params)
    if not (0 < p["qmin"] < p["qmax"] < 1):
        raise ConfigError(f"BLS duty cycle range must satisfy 0 < qmin < qmax < 1, got {p['qmin']}, {p['qmax']}")
    impl = get_backend(backend, ls_engine=ls_engine, n_threads=n_threads) if isinstance(backend, str) else backend
    prep = prepared if prepared is not None else prepare_batch(t, m, e, offsets)
    n = len(prep)
    want_top = top_n > 1 and not nested
    # peaks cost next to nothing: keep enough for the best-period choice whatever top_n is
    n_peaks = max(CANDIDATES_PER_ALGORITHM, top_n)
    sep = grid.peak_width_bins

    results: dict[str, AlgorithmResult] = {}
    raws: dict[str, RawSearch] = {}

    def n_raw_of(base):
        # raw highest bins are only needed as nested candidates
        return top_n if (nested and nested_from == "bins" and base in ("LS", "CE")) else 0

    bases = [s.base for s in specs]
    if "CE" in bases and "AOV" in bases and p["phase_bins"] == p["aov_bins"] and hasattr(impl, "search_ce_aov"):
        # one pass over the grid for both: they share the phase binning
        log.debug("period search CE+AOV on %d light curves (%d frequencies)", n, grid.n_kept)
        raws["CE"], raws["AOV"] = impl.search_ce_aov(
            prep, grid, n_peaks=n_peaks, n_raw_ce=n_raw_of("CE"), n_raw_aov=n_raw_of("AOV"), sep=sep, params=p)
    for spec in specs:
        if spec.base not in raws:
            log.debug("period search %s on %d light curves (%d frequencies)", spec.name, n, grid.n_kept)
            raws[spec.base] = impl.search(prep, grid, spec, n_peaks=n_peaks, n_raw=n_raw_of(spec.base),
                                          sep=sep, params=p)
        results[spec.suffix] = _to_result(spec, raws[spec.base], grid, top_n if want_top else 0,
                                          varying=prep.scale > 0)
    if nested:
        results[NESTED_SUFFIX] = _nested(impl, prep, grid, raws, nested_from, p["aov_bins"], top_n)
    agreement = {}
    if want_top and n:
        agreement = agreement_scores(
            np.stack([r.top_periods for r in results.values()]),
            np.stack([r.period for r in results.values()]),
        )
    elif want_top:
        agreement = agreement_scores(np.zeros((len(results), 0, top_n)), np.zeros((len(results), 0)))
    return PeriodSearchResult(
        algorithms=results,
        grid=grid,
        backend=impl.name,
        top_n=top_n if want_top else 0,
        nested=nested,
        agreement=agreement,
        params={**p, "nested_from": nested_from, "peak_separation_bins": sep, "top_n": top_n,
                "ls_engine": ls_engine},
        versions=library_versions(impl.versions()),
    )


def _to_result(spec, raw: RawSearch, grid: FrequencyGrid, n_top: int, varying) -> AlgorithmResult:
    mean, std, count, best_idx, best_val = raw.summary.T
    sign = -1.0 if spec.minimize else 1.0
    # a constant light curve or a flat periodogram has no best period
    ok = varying & (count > 0) & (best_idx >= 0) & (std > 1e-10 * np.abs(mean))
    idx = np.where(ok, best_idx, 0).astype(np.int64)
    period = np.where(ok, 1.0 / grid.frequency(idx), np.nan)
    sig = np.where(ok, significance(best_val, mean, std), np.nan)
    stat = np.where(ok, sign * best_val, np.nan)
    n = len(period)

    def peaks(count):
        pk_idx = raw.pk_idx[:, :count]
        have = (pk_idx >= 0) & ok[:, None]
        top_p = np.where(have, 1.0 / grid.frequency(np.where(have, pk_idx, 0)), np.nan)
        top_s = np.where(have, significance(raw.pk_val[:, :count], mean[:, None], std[:, None]), np.nan)
        return top_p, top_s

    top_p, top_s = peaks(n_top) if n_top else (np.zeros((n, 0)), np.zeros((n, 0)))
    cand_p, cand_s = peaks(min(CANDIDATES_PER_ALGORITHM, raw.pk_idx.shape[1]))
    return AlgorithmResult(
        name=spec.name, base=spec.base, suffix=spec.suffix, period=period, significance=sig,
        pdot=np.zeros(n), statistic=stat, top_periods=top_p, top_significances=top_s,
        minimize=spec.minimize, candidate_periods=cand_p, candidate_significances=cand_s,
    )


def _nested(impl, prep, grid, raws, nested_from, aov_bins, top_n) -> AlgorithmResult:
    """LS and CE candidates, the one with the largest AOV F wins; significance = that F."""
    if nested_from == "bins":
        ls_idx, ce_idx = raws["LS"].raw_idx, raws["CE"].raw_idx
    else:
        ls_idx, ce_idx = raws["LS"].pk_idx[:, :top_n], raws["CE"].pk_idx[:, :top_n]
    cand = nested_candidates(ls_idx, ce_idx)
    freqs = np.where(cand >= 0, grid.frequency(np.where(cand >= 0, cand, 0)), np.nan)
    f_values = impl.aov_at(prep, freqs, aov_bins)
    best_idx, best_f = pick_nested(cand, f_values)
    ok = best_idx >= 0
    period = np.where(ok, 1.0 / grid.frequency(np.where(ok, best_idx, 0)), np.nan)
    n = len(period)
    return AlgorithmResult(
        name=NESTED_SUFFIX, base="NESTED", suffix=NESTED_SUFFIX, period=period, significance=best_f,
        pdot=np.zeros(n), statistic=best_f, top_periods=np.zeros((n, 0)), top_significances=np.zeros((n, 0)),
    )
