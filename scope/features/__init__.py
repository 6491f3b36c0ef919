"""The feature engine: pure arrays in, arrays out (no config, files, pandas or network here).

Light curves come as ragged float64 arrays ``t`` (absolute HJD), ``m``, ``e`` and int64
``offsets`` (light curve ``i`` is ``offsets[i]:offsets[i+1]``), exactly the per-point arrays of
:class:`scope.lightcurves.LightCurveBatch`. Modules:

* :mod:`.clean` -- flags, invalid points, time cut, duplicates, cadence thinning, minimum points;
* :mod:`.stats` -- the 22 basic statistics; :mod:`.fourier` -- the ``f1_*`` columns;
  :mod:`.dmdt` -- dm-dt histograms;
* :mod:`.periodsearch` -- grid, LS/CE/AOV/FPW/MHF/BLS, top-N peaks, agreement, nested period;
* :mod:`.brightstars`, :mod:`.xmatch`, :mod:`.alerts` -- the ontological features.

:func:`compute_lightcurve_features` runs the whole light-curve part in bounded-memory batches.
"""

from __future__ import annotations

import logging

import numpy as np

from .dmdt import DM_EDGES, DT_EDGES, dmdt_histograms
from .fourier import FOURIER_NAMES, fourier_dict, fourier_features
from .periodsearch import BEST_SUFFIX, FrequencyGrid, baseline_of, choose_best_period, find_periods, make_grid
from .periodsearch.peaks import AGREEMENT_COLUMNS
from .periodsearch.prepare import check_ragged, prepare_batch
from .periodsearch.registry import expand_algorithms, get_backend
from .periodsearch.results import NESTED_SUFFIX, library_versions
from .stats import STAT_NAMES, basic_stats

log = logging.getLogger(__name__)

__all__ = [
    "FOURIER_NAMES",
    "ONES_SUFFIX",
    "STAT_NAMES",
    "compute_lightcurve_features",
    "periodic_suffixes",
]

#: Suffix of the placeholder "period search" run without a backend (period = 1 day).
ONES_SUFFIX = "Ones"

_INT_COLUMNS = ("n_agree_pairs", "n_total_pairs")


def periodic_suffixes(algorithms, backend) -> list[str]:
    """Column suffixes a run produces: ``["Ones"]`` without a backend, else per algorithm.

    Nested runs add :data:`.periodsearch.NESTED_SUFFIX` after the three algorithms.
    """
    if _is_ones(backend):
        return [ONES_SUFFIX]
    specs, nested = expand_algorithms(algorithms)
    suffixes = [s.suffix for s in specs]
    if nested:
        suffixes.append(NESTED_SUFFIX)
    return suffixes


def _is_ones(backend) -> bool:
    return backend is None or str(backend).lower() in ("none", "ones", "")


def compute_lightcurve_features(
    t,
    m,
    e,
    offsets,
    *,
    algorithms=("LS", "CE", "AOV"),
    grid: FrequencyGrid | None = None,
    top_n_periods: int = 10,
    backend: str | None = "cpu",
    n_threads: int | None = None,
    fourier_form: str = "legacy",
    dm_edges=None,
    dt_edges=None,
    batch_size: int = 1000,
    nested_from: str = "bins",
    ls_engine: str = "auto",
    provenance: dict | None = None,
    params: dict | None = None,
    best_period: bool = False,
) -> dict[str, np.ndarray]:
    """Every light-curve feature of the reference for a ragged batch of cleaned light curves.

    Parameters
    ----------
    t, m, e : array_like of float64
        Concatenated cleaned, time-sorted points: absolute HJD, magnitude, error.
    offsets : array_like of int64, shape (n + 1,)
    algorithms : sequence of str
        Period algorithms (``LS``, ``ECE``, ... or a nested ``ELS_ECE_EAOV`` / ``LS_CE_AOV``).
    grid : FrequencyGrid, optional
        Trial frequencies; default: :func:`.periodsearch.make_grid` on this batch's longest
        baseline with the production defaults (48 c/d, 10 samples per peak).
    top_n_periods : int
        Distinct peaks per algorithm (columns when > 1 and not nested) / nested candidates.
    backend : {"cpu", "numpy", "gpu"} or None
        Period-search backend; None means no period search: ``period_Ones``,
        ``significance_Ones`` and ``pdot_Ones`` are 1.0 (as the reference without --doCPU/GPU).
    n_threads : int, optional
        Worker threads for every kernel (``None``: numba's thread setting, capped at the CPUs
        available to the process).
    fourier_form : {"legacy", "amplitude_phase"}
        Meaning of the ``f1_*`` harmonic columns (:mod:`.fourier`).
    dm_edges, dt_edges : array_like, optional
        dm-dt histogram edges (default: the config's ``dmdt_ints``).
    batch_size : int
        Light curves per internal batch; memory is bounded by it times ``top_n_periods``.
    nested_from, ls_engine :
        See :func:`.periodsearch.find_periods`.
    params : dict, optional
        Algorithm parameters passed to :func:`.periodsearch.find_periods` (e.g. BLS ``qmin``/``qmax``).
    provenance : dict, optional
        Filled in place with the grid, backend, algorithm parameters, Fourier form and versions.
    best_period : bool
        Also choose a best period from the candidates of every algorithm
        (:func:`.periodsearch.choose_best_period`) and write ``period_BEST`` and
        ``significance_BEST`` (``-log10`` false-alarm probability) after all the reference's
        columns. Ignored without a period search.

    Returns
    -------
    dict of str to ndarray
        Reference column names in reference order: the 22 basic statistics; per algorithm
        ``period_<S>``, ``significance_<S>``, ``pdot_<S>``; top-N ``period_<k>_<S>`` /
        ``significance_<k>_<S>`` and the agreement columns (N > 1, not nested); ``f1_*_<S>`` per
        algorithm; ``dmdt`` of shape (n, 26, 26); with ``best_period``, ``period_BEST`` and
        ``significance_BEST`` last. Light curves without points give NaN rows.
    """
    t, m, e, offsets = check_ragged(t, m, e, offsets)
    n = len(offsets) - 1
    batch_size = max(1, int(batch_size))
    dm_e = DM_EDGES if dm_edges is None else np.asarray(dm_edges, dtype=np.float64)
    dt_e = DT_EDGES if dt_edges is None else np.asarray(dt_edges, dtype=np.float64)
    ones = _is_ones(backend)
    if not ones:
        get_backend(backend, ls_engine=ls_engine)  # fail early: unknown backend, or "gpu" without one
    suffixes = periodic_suffixes(algorithms, backend)
    nested = NESTED_SUFFIX in suffixes and not ones
    top_n = int(top_n_periods or 0)
    want_top = (not ones) and top_n > 1 and not nested
    if not ones and grid is None:
        base = baseline_of(t, offsets)
        grid = make_grid(base) if base > 0 else None
        if grid is None:
            log.warning("no light curve spans any time: period search skipped (NaN periods)")

    want_best = bool(best_period) and not ones
    cols = _allocate(n, suffixes, want_top, top_n, len(dm_e) - 1, len(dt_e) - 1, want_best)
    search_prov = None
    for start in range(0, n, batch_size):
        stop = min(n, start + batch_size)
        a, b = offsets[start], offsets[stop]
        bt, bm, be = t[a:b], m[a:b], e[a:b]
        boff = offsets[start: stop + 1] - a
        rows = slice(start, stop)
        stats = basic_stats(bt, bm, be, boff, n_threads=n_threads)
        for k, name in enumerate(STAT_NAMES):
            cols[name][rows] = stats[:, k]
        if ones:
            periods = {ONES_SUFFIX: np.ones(stop - start)}
            for key in ("period", "significance", "pdot"):
                cols[f"{key}_{ONES_SUFFIX}"][rows] = 1.0
        elif grid is not None:
            prep = prepare_batch(bt, bm, be, boff)
            res = find_periods(bt, bm, be, boff, algorithms=algorithms, grid=grid, backend=backend,
                               top_n=top_n, n_threads=n_threads, nested_from=nested_from,
                               ls_engine=ls_engine, prepared=prep, params=params)
            search_prov = res.provenance()
            for name, values in res.columns().items():
                cols[name][rows] = values
            periods = {s: r.period for s, r in res.algorithms.items()}
            if want_best:
                best = choose_best_period(prep, res, n_threads=n_threads)
                cols[f"period_{BEST_SUFFIX}"][rows] = best.period
                cols[f"significance_{BEST_SUFFIX}"][rows] = best.significance
        else:
            periods = {s: np.full(stop - start, np.nan) for s in suffixes}
        for suffix in suffixes:
            four = fourier_features(bt, bm, be, boff, periods[suffix], form=fourier_form, n_threads=n_threads)
            for name, values in fourier_dict(four, suffix).items():
                cols[name][rows] = values
        cols["dmdt"][rows] = dmdt_histograms(bt, bm, boff, dm_edges=dm_e, dt_edges=dt_e, n_threads=n_threads)
    if provenance is not None:
        provenance.update(
            backend=None if ones else str(backend),
            algorithms=suffixes,
            best_period=BEST_SUFFIX if want_best else None,
            period_search=search_prov,
            grid=None if grid is None else grid.as_dict(),
            fourier_form=fourier_form,
            top_n_periods=top_n,
            dm_edges=[float(x) for x in dm_e],
            dt_edges=[float(x) for x in dt_e],
            versions=library_versions(),
        )
    return cols


def _allocate(n, suffixes, want_top, top_n, n_dm, n_dt, want_best=False) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {name: np.full(n, np.nan) for name in STAT_NAMES}
    for suffix in suffixes:
        for key in ("period", "significance", "pdot"):
            cols[f"{key}_{suffix}"] = np.full(n, np.nan)
    if want_top:
        for suffix in suffixes:
            for k in range(1, top_n + 1):
                cols[f"period_{k}_{suffix}"] = np.full(n, np.nan)
                cols[f"significance_{k}_{suffix}"] = np.full(n, np.nan)
        for name in AGREEMENT_COLUMNS:
            cols[name] = np.zeros(n, np.int64) if name in _INT_COLUMNS else np.full(n, np.nan)
    for suffix in suffixes:
        for name in FOURIER_NAMES:
            cols[f"{name}_{suffix}"] = np.full(n, np.nan)
    cols["dmdt"] = np.zeros((n, n_dm, n_dt))
    if want_best:
        cols[f"period_{BEST_SUFFIX}"] = np.full(n, np.nan)
        cols[f"significance_{BEST_SUFFIX}"] = np.full(n, np.nan)
    return cols
