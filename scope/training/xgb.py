"""XGBoost classifier: staged cross-validated grid search, early-stopped training, artifacts.

Grid search (unless skipped) follows the reference's stages (spec §5.3), scoring each candidate
by the best mean cross-validated AUC with early stopping:

1. ``max_depth`` x ``min_child_weight`` over the configured ``start, stop, step`` ranges;
2. ``subsample`` x ``colsample_bytree`` (tenths) over their ranges;
3. ``eta`` over ``eta_list``;
4. ``max_depth`` and ``min_child_weight`` refined to the best value +/- 1;
5. ``subsample`` and ``colsample_bytree`` refined to the best value +/- 0.1.

Fixed reference bugs: the ``colsample_bytree`` grid and the ``eta_list`` (or ``eta``) list are the
ones configured; the seed is passed to training; the final model is the early-stopped booster cut
at its best iteration instead of a second full retraining.

Early stopping watches ``early_stopping_metric`` (default ``logloss``) on the validation split,
not ``eval_metric`` (AUC) as the reference did: on small validation splits AUC reaches 1.0 within
a few rounds, so training stopped after 1-4 rounds with every score still near the base score
(on the demo sky, 3 classes never scored above 0.5 and test ROC AUC was 0.02-0.14 lower).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from scope.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_GRID = {"max_depth": [3, 8, 2], "min_child_weight": [1, 6, 2], "subsample": [6, 11, 2],
                "colsample_bytree": [6, 11, 2]}
DEFAULT_OTHER = {"eta_list": [0.3, 0.2, 0.1, 0.05], "nfold": 5, "metrics": ["auc"],
                 "objective": "binary:logistic", "eval_metric": "auc", "early_stopping_metric": "logloss",
                 "early_stopping_rounds": 10, "num_boost_round": 999}


@dataclass
class XGBSettings:
    """Grid and training settings from ``training.xgboost``."""

    grid: dict = field(default_factory=lambda: dict(DEFAULT_GRID))
    eta_list: list = field(default_factory=lambda: list(DEFAULT_OTHER["eta_list"]))
    nfold: int = 5
    metrics: list = field(default_factory=lambda: ["auc"])
    objective: str = "binary:logistic"
    eval_metric: str = "auc"
    early_stopping_metric: str = "logloss"
    early_stopping_rounds: int = 10
    num_boost_round: int = 999


def settings_from_config(cfg: Mapping) -> XGBSettings:
    """Read ``training.xgboost`` (accepting the reference's ``eta`` as well as ``eta_list``)."""
    section = ((cfg.get("training") or {}).get("xgboost") or {})
    grid_cfg = dict(DEFAULT_GRID)
    grid_cfg.update(section.get("gridsearch_params_start_stop_step") or {})
    for key, value in grid_cfg.items():
        if not (isinstance(value, (list, tuple)) and len(value) == 3 and all(isinstance(v, int) for v in value)
                and value[2] > 0 and value[1] > value[0]):
            raise ConfigError(f"training.xgboost.gridsearch_params_start_stop_step.{key} must be "
                              f"[start, stop, step] integers with stop > start, got {value!r}")
    user_other = section.get("other_training_params") or {}
    other = {**DEFAULT_OTHER, **user_other}
    eta = user_other.get("eta_list", user_other.get("eta", DEFAULT_OTHER["eta_list"]))
    if isinstance(eta, (int, float)):
        eta = [eta]
    return XGBSettings(grid=grid_cfg, eta_list=[float(e) for e in eta], nfold=int(other["nfold"]),
                       metrics=list(other["metrics"]), objective=str(other["objective"]),
                       eval_metric=str(other["eval_metric"]),
                       early_stopping_metric=str(other.get("early_stopping_metric") or other["eval_metric"]),
                       early_stopping_rounds=int(other["early_stopping_rounds"]),
                       num_boost_round=int(other["num_boost_round"]))


def _values(spec: Sequence[int], tenths: bool) -> list:
    start, stop, step = spec
    vals = list(range(start, stop, step))
    return [v / 10 for v in vals] if tenths else vals


def start_params(settings: XGBSettings, scale_pos_weight: float, seed: int) -> dict:
    """Initial parameters: the first value of each grid, the first eta."""
    g = settings.grid
    return {
        "max_depth": g["max_depth"][0], "min_child_weight": g["min_child_weight"][0],
        "eta": settings.eta_list[0], "subsample": g["subsample"][0] / 10,
        "colsample_bytree": g["colsample_bytree"][0] / 10,
        "objective": settings.objective, "eval_metric": eval_metrics(settings),
        "scale_pos_weight": float(scale_pos_weight), "seed": int(seed),
    }


def eval_metrics(settings: XGBSettings) -> list[str]:
    """Metrics evaluated while boosting; XGBoost stops early on the last one (the stopping metric)."""
    return list(dict.fromkeys([settings.eval_metric, settings.early_stopping_metric]))


#: below this many matrix cells, one thread beats several (threads spin on tiny trees)
SMALL_DATA_CELLS = 500_000


def thread_params(shape: tuple) -> dict:
    """``{"nthread": 1}`` for small training matrices, else nothing (XGBoost uses every core).

    On small sets each boosting round is so short that thread start-up and OpenMP spinning cost
    more than they save: on a busy 2-core machine a 600 x 61 grid search took 50-70 s with two
    threads and 8 s with one.
    """
    return {"nthread": 1} if shape[0] * max(shape[1], 1) < SMALL_DATA_CELLS else {}


def grid_search(dtrain, params: dict, settings: XGBSettings, seed: int) -> tuple[dict, list]:
    """Run the staged grid search; return the best parameters and a log of every candidate.

    Each candidate is scored by ``max(test-<metric>-mean)`` of a stratified ``xgb.cv`` with early
    stopping; a candidate replaces the best only when strictly better.
    """
    import xgboost as xgb

    best = dict(params)
    best_score = -np.inf
    tried: dict[tuple, float] = {}
    history: list = []
    metric = settings.metrics[0] if settings.metrics else settings.eval_metric

    def score(candidate: dict) -> float:
        key = tuple(sorted((k, candidate[k]) for k in ("max_depth", "min_child_weight", "subsample",
                                                        "colsample_bytree", "eta")))
        if key not in tried:
            res = xgb.cv(candidate, dtrain, num_boost_round=settings.num_boost_round, nfold=settings.nfold,
                         stratified=True, metrics=settings.metrics, seed=seed,
                         early_stopping_rounds=settings.early_stopping_rounds)
            tried[key] = float(res[f"test-{metric}-mean"].max())
            history.append({**{k: v for k, v in key}, f"cv_{metric}": tried[key]})
            log.debug("cv %s -> %.5f", dict(key), tried[key])
        return tried[key]

    def stage(grid: dict[str, list]) -> None:
        nonlocal best, best_score
        names = list(grid)
        combos = [[]]
        for name in names:
            combos = [c + [v] for c in combos for v in grid[name]]
        for combo in combos:
            candidate = {**best, **dict(zip(names, combo))}
            s = score(candidate)
            if s > best_score:
                best, best_score = candidate, s

    g = settings.grid
    stage({"max_depth": _values(g["max_depth"], False), "min_child_weight": _values(g["min_child_weight"], False)})
    stage({"subsample": sorted(_values(g["subsample"], True), reverse=True),
           "colsample_bytree": sorted(_values(g["colsample_bytree"], True), reverse=True)})
    stage({"eta": list(settings.eta_list)})
    stage({"max_depth": _refine_int(best["max_depth"], g["max_depth"]),
           "min_child_weight": _refine_int(best["min_child_weight"], g["min_child_weight"])})
    stage({"subsample": _refine_tenths(best["subsample"], g["subsample"]),
           "colsample_bytree": _refine_tenths(best["colsample_bytree"], g["colsample_bytree"])})
    log.info("grid search: best cv %s %.4f with max_depth=%s min_child_weight=%s subsample=%s "
             "colsample_bytree=%s eta=%s (%d candidates)", metric, best_score, best["max_depth"],
             best["min_child_weight"], best["subsample"], best["colsample_bytree"], best["eta"], len(tried))
    return best, history


def _refine_int(best: int, spec: Sequence[int]) -> list[int]:
    lo, hi = spec[0], spec[1] - 1
    return [v for v in (best - 1, best, best + 1) if lo <= v <= hi]


def _refine_tenths(best: float, spec: Sequence[int]) -> list[float]:
    lo, hi = spec[0], min(spec[1] - 1, 10)
    b = int(round(best * 10))
    return [v / 10 for v in (b - 1, b, b + 1) if lo <= v <= hi]


def train_booster(dtrain, dval, params: dict, settings: XGBSettings, *, xgb_model=None):
    """Train with early stopping on the validation metric; return the booster cut at its best round."""
    import xgboost as xgb

    booster = xgb.train(params, dtrain, num_boost_round=settings.num_boost_round,
                        evals=[(dtrain, "train"), (dval, "val")],
                        early_stopping_rounds=settings.early_stopping_rounds, verbose_eval=False,
                        xgb_model=xgb_model)
    best_iteration = int(getattr(booster, "best_iteration", booster.num_boosted_rounds() - 1))
    log.debug("xgboost: best validation %s %.4f at round %d", settings.early_stopping_metric,
              float(getattr(booster, "best_score", float("nan"))), best_iteration + 1)
    trimmed = booster[: best_iteration + 1]
    trimmed.feature_names = booster.feature_names
    return trimmed, best_iteration


def dmatrix(X: np.ndarray, y: np.ndarray | None, feature_names: Sequence[str]):
    """A DMatrix with the model's feature names."""
    import xgboost as xgb

    return xgb.DMatrix(np.asarray(X, dtype=np.float32), label=None if y is None else np.asarray(y, dtype=np.float32),
                       feature_names=list(feature_names))


def importance(booster) -> dict:
    """Feature importance by ``weight`` (split count, the reference's) and ``gain``."""
    return {"weight": {k: float(v) for k, v in booster.get_score(importance_type="weight").items()},
            "gain": {k: float(v) for k, v in booster.get_score(importance_type="gain").items()}}


def save_xgb(booster, stem: Path) -> list[Path]:
    """Save ``<stem>.json`` (the booster) and ``<stem>.params`` (its configuration)."""
    from scope.tables import atomic_path, atomic_write

    stem = Path(stem)
    # training may have pinned one thread (small data); whoever loads the model picks their own
    booster.set_param({"nthread": 0})
    model_path = stem.with_name(stem.name + ".json")
    with atomic_path(model_path) as tmp:
        booster.save_model(str(tmp))
    params_path = stem.with_name(stem.name + ".params")
    with atomic_write(params_path) as fh:
        fh.write(json.dumps(json.loads(booster.save_config())))
    return [model_path, params_path]
