"""Period search: frequency grid, backends (numpy reference, numba CPU), peaks and results.

Typical use::

    from scope.features.periodsearch import baseline_of, make_grid, find_periods

    grid = make_grid(baseline_of(t, offsets), max_freq=48.0, samples_per_peak=10)
    result = find_periods(t, m, e, offsets, algorithms=["LS", "CE", "AOV"], grid=grid, top_n=10)
    columns = result.columns()  # period_LS, significance_LS, pdot_LS, ..., agreement columns
"""

from .grid import TERRESTRIAL_BANDS, FrequencyGrid, baseline_of, make_grid
from .registry import ALGORITHMS, BACKENDS, NESTED_NAMES, available_backends, get_backend, parse_algorithm
from .results import NESTED_SUFFIX, AlgorithmResult, PeriodSearchResult
from .search import find_periods

__all__ = [
    "ALGORITHMS",
    "BACKENDS",
    "NESTED_NAMES",
    "NESTED_SUFFIX",
    "TERRESTRIAL_BANDS",
    "AlgorithmResult",
    "FrequencyGrid",
    "PeriodSearchResult",
    "available_backends",
    "baseline_of",
    "find_periods",
    "get_backend",
    "make_grid",
    "parse_algorithm",
]
