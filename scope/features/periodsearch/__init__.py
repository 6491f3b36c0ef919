"""Period search: frequency grid, backends (numpy reference, numba CPU), peaks and results.

Typical use::

    from scope.features.periodsearch import baseline_of, choose_best_period, find_periods, make_grid
    from scope.features.periodsearch.prepare import prepare_batch

    grid = make_grid(baseline_of(t, offsets), max_freq=48.0, samples_per_peak=10)
    result = find_periods(t, m, e, offsets, algorithms=["LS", "CE", "AOV"], grid=grid, top_n=10)
    columns = result.columns()  # period_LS, significance_LS, pdot_LS, ..., agreement columns
    best = choose_best_period(prepare_batch(t, m, e, offsets), result)  # .period, .significance
"""

from .best import BEST_SUFFIX, choose_best_period
from .grid import TERRESTRIAL_BANDS, FrequencyGrid, baseline_of, make_grid
from .registry import ALGORITHMS, BACKENDS, NESTED_NAMES, available_backends, get_backend, parse_algorithm
from .results import NESTED_SUFFIX, AlgorithmResult, PeriodSearchResult
from .search import find_periods

__all__ = [
    "ALGORITHMS",
    "BEST_SUFFIX",
    "BACKENDS",
    "NESTED_NAMES",
    "NESTED_SUFFIX",
    "TERRESTRIAL_BANDS",
    "AlgorithmResult",
    "FrequencyGrid",
    "PeriodSearchResult",
    "available_backends",
    "baseline_of",
    "choose_best_period",
    "find_periods",
    "get_backend",
    "make_grid",
    "parse_algorithm",
]
