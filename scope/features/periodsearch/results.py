"""Result containers of the period search, with provenance and the reference column names."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field

import numpy as np

from .grid import FrequencyGrid
from .peaks import AGREEMENT_COLUMNS

#: Column suffix of the nested LS/CE -> AOV period, whatever the spelling requested (the
#: reference writes this key on CPU and GPU alike, and ``features.info.period_suffix`` uses it).
NESTED_SUFFIX = "ELS_ECE_EAOV"

#: Distinct peaks every algorithm keeps for the best-period choice, whatever ``top_n`` is.
CANDIDATES_PER_ALGORITHM = 10


@dataclass
class AlgorithmResult:
    """Best periods of one algorithm for a batch of ``n`` light curves.

    Attributes
    ----------
    name : str
        Algorithm as requested (``"ECE"``, ``"LS_periodogram"``, ...).
    base : str
        Canonical algorithm (``"CE"``, ``"LS"``, ...; ``"NESTED"`` for LS/CE -> AOV).
    suffix : str
        Column suffix (``"ECE"`` for ``"ECE_periodogram"``; :data:`NESTED_SUFFIX` for nested).
    period, significance, pdot, statistic : ndarray of float64, shape (n,)
        Best period (days), its significance, its period derivative (always 0) and the raw
        statistic there. NaN when the light curve could not be searched.
    top_periods, top_significances : ndarray of float64, shape (n, N)
        Distinct peaks, best first, NaN padded (N = 0 when not requested).
    minimize : bool
        Whether smaller statistic values are better (CE).
    candidate_periods, candidate_significances : ndarray of float64, shape (n, C), optional
        The strongest distinct peaks whatever ``top_n`` asked for (C =
        :data:`CANDIDATES_PER_ALGORITHM` when available), best first, NaN padded: what the
        best-period choice (:mod:`.best`) weighs. None for results without peaks (nested).
    """

    name: str
    base: str
    suffix: str
    period: np.ndarray
    significance: np.ndarray
    pdot: np.ndarray
    statistic: np.ndarray
    top_periods: np.ndarray
    top_significances: np.ndarray
    minimize: bool = False
    candidate_periods: np.ndarray | None = None
    candidate_significances: np.ndarray | None = None


@dataclass
class PeriodSearchResult:
    """Everything one period search produced for a batch.

    Attributes
    ----------
    algorithms : dict of str to AlgorithmResult
        Keyed by column suffix, in run order (nested last).
    grid : FrequencyGrid
    backend : str
    top_n : int
        Top-N periods per algorithm written as columns (0 or 1: none).
    nested : bool
        Whether the nested LS/CE -> AOV period was computed.
    agreement : dict of str to ndarray
        Agreement columns (empty unless top-N columns are written).
    params : dict
        Algorithm parameters (bins, qmin/qmax, ...).
    versions : dict
        Versions of the libraries that did the work.
    """

    algorithms: dict
    grid: FrequencyGrid
    backend: str
    top_n: int = 0
    nested: bool = False
    agreement: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)

    def __len__(self) -> int:
        for res in self.algorithms.values():
            return len(res.period)
        return 0

    @property
    def suffixes(self) -> list[str]:
        """Column suffixes in order."""
        return list(self.algorithms)

    def columns(self) -> dict[str, np.ndarray]:
        """Reference-named columns: core, then top-N, then agreement.

        ``period_<S>``, ``significance_<S>``, ``pdot_<S>`` for every suffix S; with top-N (N > 1,
        not nested) ``period_<k>_<S>`` and ``significance_<k>_<S>`` for k = 1..N, then the
        agreement columns.
        """
        cols: dict[str, np.ndarray] = {}
        for suffix, res in self.algorithms.items():
            cols[f"period_{suffix}"] = res.period
            cols[f"significance_{suffix}"] = res.significance
            cols[f"pdot_{suffix}"] = res.pdot
        if self.top_n > 1 and not self.nested:
            for suffix, res in self.algorithms.items():
                for k in range(self.top_n):
                    cols[f"period_{k + 1}_{suffix}"] = res.top_periods[:, k]
                    cols[f"significance_{k + 1}_{suffix}"] = res.top_significances[:, k]
            for name in AGREEMENT_COLUMNS:
                if name in self.agreement:
                    cols[name] = self.agreement[name]
        return cols

    def provenance(self) -> dict:
        """JSON-friendly description: algorithms, grid, backend, parameters and versions."""
        return {
            "algorithms": {s: r.name for s, r in self.algorithms.items()},
            "backend": self.backend,
            "grid": self.grid.as_dict(),
            "top_n": int(self.top_n),
            "nested": bool(self.nested),
            "params": dict(self.params),
            "versions": dict(self.versions),
        }


def library_versions(extra: dict | None = None) -> dict:
    """Versions of the numerical stack (for provenance)."""
    import numba

    versions = {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__}
    import scope

    versions["scope"] = getattr(scope, "__version__", "unknown")
    if extra:
        versions.update(extra)
    return versions
