"""Models for inference: discovery in ``models_<alg>/<group>/``, model cards, loading, scoring.

A model saved by ``scope-train`` has a card beside it (``<tag>.<ts>.card.json``) that says
exactly which feature columns it takes, in which order, with which period suffix and scaling.
Inference follows the card. Models saved by the reference release have no card: their feature
list is rebuilt from the config (``training.classes.<tag>.features`` -> the included features of
that set) and their scaling statistics from the training set or the config's ``feature_stats``,
as the reference did; a warning says so, because a changed config silently changes the input.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from scope.errors import ConfigError, DataError
from scope.training import model_card as mc

log = logging.getLogger(__name__)

EXTENSION_ALGORITHMS = {".h5": "dnn", ".hdf5": "dnn", ".keras": "dnn", ".json": "xgb"}


@dataclass
class LegacyScaling:
    """How to scale models that have no card (the reference's inference-time scaling).

    Attributes
    ----------
    method : str
        ``min_max``, ``median_std`` or ``none``.
    feature_stats : str or None
        ``"config"`` to take statistics from the config's ``feature_stats``; else they are
        computed from ``training_set``.
    training_set : path or None
        Training-set file (default: the config's ``training.dataset``).
    """

    method: str = "min_max"
    feature_stats: str | None = None
    training_set: str | Path | None = None
    _cache: dict = field(default_factory=dict, repr=False)


@dataclass
class ModelSpec:
    """One model ready to be applied.

    Attributes
    ----------
    tag : str
        Class tag; the prediction column is ``<tag>_<algorithm>``.
    algorithm : str
        ``dnn`` or ``xgb``.
    path : pathlib.Path
        Model file.
    features : list of str
        Input feature columns in model order (periodic ones suffixed).
    period_suffix : str or None
        Suffix the features were named with.
    scaling : dict
        ``{"method": ..., "params": {feature: {"shift", "scale"}}}``.
    uses_dmdt : bool
        Whether the model reads the ``dmdt`` histogram (DNN conv branch).
    card : dict or None
        The model card (``None`` for reference-release models).
    """

    tag: str
    algorithm: str
    path: Path
    features: list
    period_suffix: str | None
    scaling: dict
    uses_dmdt: bool = False
    card: dict | None = None
    _predict: Callable | None = field(default=None, repr=False)

    @property
    def column(self) -> str:
        """Prediction column name, ``<tag>_<algorithm>``."""
        return f"{self.tag}_{self.algorithm}"

    @property
    def timestamp(self) -> str | None:
        """The ``YYYYmmdd_HHMMSS`` stamp of the model file."""
        return mc.model_timestamp(self.path)

    def describe(self) -> dict:
        """What the prediction metadata records about this model."""
        return {"tag": self.tag, "algorithm": self.algorithm, "model_file": str(self.path),
                "timestamp": self.timestamp, "card": (self.card or {}).get("card_path"),
                "n_features": len(self.features), "period_suffix": self.period_suffix,
                "scaling": self.scaling.get("method"), "dmdt": self.uses_dmdt}

    def load(self) -> None:
        """Load the model (once) and check it takes as many features as its list names."""
        if self._predict is None:
            self._predict = _load_predictor(self)

    def predict(self, X: np.ndarray, dmdt: np.ndarray | None) -> np.ndarray:
        """Scores in [0, 1] for the rows of ``X`` (scaled, in model order)."""
        self.load()
        return np.asarray(self._predict(X, dmdt), dtype=np.float64).ravel()


# ---------------------------------------------------------------------------------------------
def algorithm_of(path: str | Path, algorithm: str | None = None) -> str:
    """The algorithm of a model file: the explicit one (checked against the extension) or the
    one its extension implies."""
    from scope.training.options import normalize_algorithm

    path = Path(path)
    implied = EXTENSION_ALGORITHMS.get(path.suffix.lower())
    if algorithm is None:
        if implied is None:
            raise DataError(f"cannot tell the algorithm of model file {path}: use .h5 (DNN) or .json (XGBoost)")
        return implied
    algorithm = normalize_algorithm(algorithm)
    if implied is not None and implied != algorithm:
        raise DataError(f"model file {path} is a{'n' if implied == 'xgb' else ''} {implied} model, "
                        f"but the algorithm given is {algorithm}")
    return algorithm


def tag_of(path: str | Path) -> str:
    """Class tag from a model file name (``vnv.20240101_000000.h5`` -> ``vnv``)."""
    return Path(path).name.split(".")[0]


def load_model_spec(cfg: Mapping, path: str | Path, *, tag: str | None = None, algorithm: str | None = None,
                    period_suffix: Any = ..., legacy: LegacyScaling | None = None) -> ModelSpec:
    """Describe a model file: from its card, or (reference-release models) from the config.

    Parameters
    ----------
    cfg : scope.config.Config
    path : path-like
        Model file (``.h5``/``.keras`` DNN, ``.json`` XGBoost).
    tag : str, optional
        Class tag (default: the card's, else the file name's).
    algorithm : str, optional
        ``dnn``/``xgb`` (default: from the extension).
    period_suffix : str or None, optional
        For models without a card only (a card's suffix always wins): the suffix of their
        periodic features (default: the config's).
    legacy : LegacyScaling, optional
        Scaling of models without a card (default: ``min_max`` from the training set).

    Returns
    -------
    ModelSpec
        Not loaded yet (see :meth:`ModelSpec.load`).
    """
    from scope.training.backends import require_algorithm

    path = Path(path)
    if not path.exists():
        raise DataError(f"model file not found: {path}")
    algorithm = algorithm_of(path, algorithm)
    require_algorithm(algorithm)  # before any feature is read
    if mc.card_path_for(path).exists():
        card = mc.load_model_card(path)
        if card["algorithm"] != algorithm:
            raise DataError(f"model card {card['card_path']} describes a {card['algorithm']} model, "
                            f"but {path.name} is used as {algorithm}")
        if tag is not None and tag != card["tag"]:
            raise DataError(f"model {path} was trained for class '{card['tag']}', not '{tag}' "
                            "(check the order of --model-class-names)")
        if period_suffix is not ... and _norm(period_suffix) != _norm(card["period_suffix"]):
            log.warning("model %s was trained with period suffix %s; using it instead of %s", path.name,
                        card["period_suffix"], period_suffix)
        scaling = card.get("scaling") or {}
        if "params" not in scaling:
            raise DataError(f"model card {card['card_path']} has no scaling parameters")
        uses_dmdt = bool(card.get("dmdt")) if algorithm == "dnn" else False
        return ModelSpec(tag=card["tag"], algorithm=algorithm, path=path, features=list(card["features"]),
                         period_suffix=_norm(card["period_suffix"]),
                         scaling={"method": scaling.get("method"), "params": scaling["params"]},
                         uses_dmdt=uses_dmdt, card=card)
    return _legacy_spec(cfg, path, tag or tag_of(path), algorithm, period_suffix, legacy or LegacyScaling())


def _norm(suffix):
    from scope.schema import normalize_suffix

    return normalize_suffix(suffix)


def _legacy_spec(cfg, path: Path, tag: str, algorithm: str, period_suffix, legacy: LegacyScaling) -> ModelSpec:
    from scope.schema import default_suffix, feature_names
    from scope.training.options import class_spec

    spec = class_spec(cfg, tag)
    suffix = default_suffix(cfg) if period_suffix is ... else _norm(period_suffix)
    features = feature_names(cfg, spec.feature_set, suffix)
    log.warning("model %s has no model card (saved by the reference release?): using the config's %s "
                "feature list for class '%s' (%d features, period suffix %s) and %s scaling; the result is "
                "only right if that list is the one the model was trained with", path.name, spec.feature_set,
                tag, len(features), suffix, legacy.method)
    params = _legacy_params(cfg, features, suffix, legacy)
    # A reference DNN always reads its dmdt input (it has both branches unless the file says otherwise).
    return ModelSpec(tag=tag, algorithm=algorithm, path=path, features=features, period_suffix=suffix,
                     scaling={"method": legacy.method, "params": params}, uses_dmdt=algorithm == "dnn", card=None)


def _legacy_params(cfg, features: Sequence[str], suffix, legacy: LegacyScaling) -> dict:
    from scope.training import scaling

    method = str(legacy.method or "none").strip().lower()
    if method in ("none", "null", ""):
        return {name: {"shift": 0.0, "scale": 1.0} for name in features}
    if method not in ("min_max", "median_std"):
        raise ConfigError(f"unknown scaling method '{legacy.method}': use min_max, median_std or none")
    if legacy.feature_stats == "config":
        stats = scaling.stats_from_config(cfg, features, suffix)
    else:
        stats = _training_set_stats(cfg, features, legacy)
    return scaling.scaling_params(stats, method)


def _training_set_stats(cfg, features: Sequence[str], legacy: LegacyScaling) -> dict:
    """Statistics of the training set over ``features`` (the reference scaled with these)."""
    from scope.tables import read_table
    from scope.training import scaling

    path = legacy.training_set
    if path in (None, "", "use_config"):
        configured = cfg.get_path("training.dataset") if hasattr(cfg, "get_path") else None
        path = cfg.resolve_path(configured) if configured else None
    path = Path(path) if path else None
    if path is None or not path.exists():
        raise DataError(f"models without a model card are scaled with statistics of their training set, "
                        f"which was not found ({path or 'training.dataset is not set'}): pass --trainingSet PATH, "
                        "--feature-stats config, or --scale-features none")
    key = str(path.resolve())
    cached = legacy._cache.setdefault(key, {})
    wanted = [f for f in features if f not in cached]
    if wanted:
        import pyarrow.parquet as pq

        if path.suffix.lower() in (".parquet", ".pq"):
            present = set(pq.read_schema(path).names)
            df = read_table(path, columns=[f for f in wanted if f in present])
        else:
            df = read_table(path)
        missing = [f for f in wanted if f not in df.columns]
        if missing:
            raise DataError(f"training set {path} lacks features needed for scaling: {', '.join(missing)}")
        cached.update(scaling.compute_stats(df, wanted))
    return {f: cached[f] for f in features}


# ---------------------------------------------------------------------------------------------
def newest_models(cfg: Mapping, models_dir: str | Path, group: str, algorithm: str,
                  tags: Sequence[str] | None = None) -> list[tuple[str, Path]]:
    """``(tag, newest model file)`` for every class of ``models_<alg>/<group>/``.

    Classes are the sub-folders that hold a model named ``<tag>.<ts>.<ext>`` ("newest" by that
    time stamp); other folders (``sweeps/``, leftovers) are skipped with a note. Order: the
    config's ``training.classes`` order, then any other tags alphabetically.

    Raises
    ------
    DataError
        When the group folder is missing, holds no model, or lacks one of ``tags``.
    """
    from scope.training.options import normalize_algorithm

    algorithm = normalize_algorithm(algorithm)
    root = mc.models_root(models_dir, algorithm) / group
    if not root.is_dir():
        raise DataError(f"no model group folder {root}: train models with scope-train --group {group} "
                        f"--algorithm {algorithm} --save, or check --models-dir")
    found, skipped = {}, []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        latest = mc.find_latest_model(models_dir, group, sub.name, algorithm)
        if latest is None:
            skipped.append(sub.name)
        else:
            found[sub.name] = latest
    if skipped:
        log.info("%s: no %s model in %s (skipped)", root, algorithm, ", ".join(skipped))
    if tags:
        unknown = [t for t in tags if t not in found]
        if unknown:
            raise DataError(f"no {algorithm} model for class(es) {', '.join(unknown)} in {root}")
        found = {t: found[t] for t in tags}
    if not found:
        raise DataError(f"model group {root} holds no {algorithm} model (<tag>/<tag>.<YYYYmmdd_HHMMSS>"
                        f"{mc.MODEL_EXTENSIONS[algorithm]})")
    configured = list(((cfg.get("training") or {}).get("classes") or {}))
    order = [t for t in configured if t in found] + sorted(t for t in found if t not in configured)
    return [(t, found[t]) for t in order]


def discover_group(cfg: Mapping, models_dir: str | Path, group: str, algorithm: str, *,
                   period_suffix: Any = ..., legacy: LegacyScaling | None = None,
                   tags: Sequence[str] | None = None) -> list[ModelSpec]:
    """The newest model of every class in ``models_<alg>/<group>/`` (see :func:`newest_models`).

    Parameters
    ----------
    cfg : scope.config.Config
    models_dir : path-like
        Folder holding ``models_<alg>/`` (or that folder itself).
    group : str
        Group name.
    algorithm : str
        ``dnn`` or ``xgb``.
    period_suffix, legacy
        As in :func:`load_model_spec` (models without a card only).
    tags : sequence of str, optional
        Only these classes.
    """
    from scope.training.options import normalize_algorithm

    algorithm = normalize_algorithm(algorithm)
    return [load_model_spec(cfg, path, tag=tag, algorithm=algorithm, period_suffix=period_suffix, legacy=legacy)
            for tag, path in newest_models(cfg, models_dir, group, algorithm, tags)]


# ---------------------------------------------------------------------------------------------
def _load_predictor(spec: ModelSpec) -> Callable:
    if spec.algorithm == "dnn":
        return _dnn_predictor(spec)
    return _xgb_predictor(spec)


def _dnn_predictor(spec: ModelSpec) -> Callable:
    from scope.training import dnn

    dnn.import_keras()
    model = dnn.load_dnn(spec.path)
    arch = dnn.model_architecture(model)
    if arch["n_features"] != len(spec.features):
        raise DataError(f"model {spec.path} takes {arch['n_features']} features but its feature list names "
                        f"{len(spec.features)}{'' if spec.card else ' (from the config: the model predates it?)'}")
    if spec.card is None:
        spec.uses_dmdt = bool(arch["conv_branch"])

    def predict(X, dmdt):
        if dmdt is None:
            dmdt = np.zeros((len(X), 26, 26, 1), dtype=X.dtype)
        return dnn.predict(model, X, dmdt, batch_size=8192)

    return predict


def _xgb_predictor(spec: ModelSpec) -> Callable:
    from scope.training.legacy import load_xgb_booster, xgb_predict

    booster = load_xgb_booster(spec.path)
    n = booster.num_features()
    if n != len(spec.features):
        raise DataError(f"model {spec.path} takes {n} features but its feature list names {len(spec.features)}"
                        f"{'' if spec.card else ' (from the config: the model predates it?)'}")

    def predict(X, dmdt):
        return xgb_predict(booster, X, spec.features)

    return predict
