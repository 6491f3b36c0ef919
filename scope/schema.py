"""The feature schema, read from the config's ``features`` section.

The feature list in the config drives both generation and model input: which features a model
uses (``include``), their dtype, and whether a feature is periodic, i.e. named
``<feature>_<period_suffix>`` in data (``f1_power_ELS_ECE_EAOV``).
"""

from __future__ import annotations

from typing import Mapping

from scope.errors import ConfigError

FEATURE_SETS = ("phenomenological", "ontological")
IMPUTE_STRATEGIES = ("zero", "median", "mean", "regress", "none")
# the reference's config writes Python type names for dtypes
_DTYPE_ALIASES = {"float": "float64", "int": "int64"}


def normalize_dtype(dtype) -> str:
    """A feature's configured dtype as a pandas dtype name (``float`` -> ``float64``, ``int`` -> ``int64``)."""
    name = "float64" if dtype is None else str(dtype).strip()
    return _DTYPE_ALIASES.get(name, name)


def normalize_suffix(suffix: str | None) -> str | None:
    """Return ``None`` for the "no suffix" spellings (``None``, ``'None'``, ``''``)."""
    if suffix is None:
        return None
    s = str(suffix).strip()
    return None if s in ("", "None", "none", "null") else s


def default_suffix(cfg: Mapping) -> str | None:
    """The config's ``features.info.period_suffix``."""
    return normalize_suffix(cfg.get("features", {}).get("info", {}).get("period_suffix"))


def suffixed(name: str, spec: Mapping, period_suffix: str | None) -> str:
    """The data column name of a feature: ``name`` or ``name_<suffix>`` for periodic ones."""
    if spec.get("periodic") and period_suffix:
        return f"{name}_{period_suffix}"
    return name


def _feature_list(cfg: Mapping, feature_set: str) -> Mapping:
    if feature_set not in FEATURE_SETS:
        raise ConfigError(f"unknown feature set '{feature_set}': use one of {', '.join(FEATURE_SETS)}")
    features = cfg.get("features", {}).get(feature_set)
    if not isinstance(features, Mapping) or not features:
        raise ConfigError(f"config 'features.{feature_set}' is missing or empty")
    return features


def feature_names(cfg: Mapping, feature_set: str, period_suffix: str | None = ...) -> list[str]:
    """Included features of a set, in config order, periodic ones suffixed.

    ``period_suffix`` defaults to the config's ``features.info.period_suffix``; pass ``None`` to
    disable suffixing.
    """
    suffix = default_suffix(cfg) if period_suffix is ... else normalize_suffix(period_suffix)
    return [suffixed(n, spec or {}, suffix) for n, spec in _feature_list(cfg, feature_set).items()
            if (spec or {}).get("include")]


def feature_dtypes(cfg: Mapping, feature_set: str = "ontological", period_suffix: str | None = ...) -> dict:
    """Map data column name -> configured dtype for every feature of a set (included or not)."""
    suffix = default_suffix(cfg) if period_suffix is ... else normalize_suffix(period_suffix)
    return {suffixed(n, spec or {}, suffix): normalize_dtype((spec or {}).get("dtype"))
            for n, spec in _feature_list(cfg, feature_set).items()}


def impute_strategies(cfg: Mapping, period_suffix: str | None = ...) -> dict[str, str]:
    """Map included ontological feature column -> imputation strategy (lower-case)."""
    suffix = default_suffix(cfg) if period_suffix is ... else normalize_suffix(period_suffix)
    out = {}
    for name, spec in _feature_list(cfg, "ontological").items():
        spec = spec or {}
        if not spec.get("include"):
            continue
        strategy = str(spec.get("impute_strategy", "None")).strip().lower()
        if strategy not in IMPUTE_STRATEGIES:
            raise ConfigError(
                f"features.ontological.{name}.impute_strategy '{spec.get('impute_strategy')}' is not one of "
                f"zero, median, mean, regress, None"
            )
        out[suffixed(name, spec, suffix)] = strategy
    return out
