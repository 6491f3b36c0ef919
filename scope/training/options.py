"""Resolution of training settings: command line > ``training.classes.<tag>`` > global > built-in.

The reference resolved most settings this way but silently dropped some (the learning rate, the
optimizer flags on the pre-trained path). Here every setting a user can give is resolved in one
place, validated, and recorded in the model card.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from scope.errors import ConfigError

log = logging.getLogger(__name__)

ALGORITHMS = {
    "dnn": "dnn", "nn": "dnn",
    "xgb": "xgb", "xgboost": "xgb",
}
SCALINGS = ("min_max", "median_std", "none")
CALLBACKS = ("early_stopping", "reduce_lr_on_plateau", "tensorboard")
OPTIMIZERS = ("adam", "sgd")

# Built-in values, used when neither the command line nor the config gives one.
BUILTIN = {
    "threshold": 0.7,
    "balance": None,
    "weight_per_class": False,
    "scale_features": "min_max",
    "test_size": 0.1,
    "val_size": 0.1,
    "random_state": 42,
    "feature_stats": None,
    "float_convert_types": [64, 32],
    "batch_size": 64,
    "shuffle_buffer_size": 512,
    "epochs": 100,
    "lr": 3e-4,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "epsilon": 1e-7,
    "decay": 0.0,
    "momentum": 0.9,
    "amsgrad": False,
    "monitor": "val_loss",
    "patience": 20,
    "callbacks": ["reduce_lr_on_plateau", "early_stopping"],
    "run_eagerly": False,
    "dense_branch": True,
    "conv_branch": True,
    "loss": "binary_crossentropy",
    "optimizer": "adam",
    "pre_trained_model": None,
    "save": False,
    "plot": False,
    "weights_only": False,
    "skip_cv": False,
}

# Which global config section may supply a default for a setting (after the class entry).
_GLOBAL_SECTION = {
    **{k: "training.defaults" for k in ("scale_features", "test_size", "val_size", "random_state",
                                        "float_convert_types", "threshold", "balance",
                                        "weight_per_class", "feature_stats")},
    **{k: "training.dnn" for k in ("batch_size", "shuffle_buffer_size", "epochs", "lr", "beta_1",
                                   "beta_2", "epsilon", "decay", "momentum", "amsgrad", "monitor",
                                   "patience", "callbacks", "run_eagerly", "dense_branch",
                                   "conv_branch", "loss", "optimizer")},
}


def normalize_algorithm(name: str) -> str:
    """Return ``'dnn'`` or ``'xgb'`` for any accepted spelling (DNN, NN, XGBoost, ...)."""
    key = str(name).strip().lower()
    if key not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm '{name}': use dnn or xgb")
    return ALGORITHMS[key]


@dataclass(frozen=True)
class ClassSpec:
    """One entry of ``training.classes``.

    Attributes
    ----------
    tag : str
        Short class name (``vnv``), the key in the config and in model paths.
    label : str
        Training-set column holding the label probability (``variable``).
    feature_set : str
        ``phenomenological`` or ``ontological``.
    entry : dict
        The raw config entry (per-class overrides live here).
    """

    tag: str
    label: str
    feature_set: str
    entry: dict = field(default_factory=dict)


def class_spec(cfg: Mapping, tag: str) -> ClassSpec:
    """Look up ``training.classes.<tag>``; raise :class:`ConfigError` naming the tag if absent."""
    classes = (cfg.get("training") or {}).get("classes") or {}
    if tag not in classes:
        known = ", ".join(sorted(classes)) or "(none)"
        raise ConfigError(f"unknown class tag '{tag}': training.classes has {known}")
    entry = dict(classes[tag] or {})
    label = entry.get("label")
    if not label:
        raise ConfigError(f"training.classes.{tag}.label is missing")
    feature_set = entry.get("features", "phenomenological")
    if feature_set not in ("phenomenological", "ontological"):
        raise ConfigError(f"training.classes.{tag}.features must be phenomenological or ontological, "
                          f"got '{feature_set}'")
    return ClassSpec(tag=tag, label=str(label), feature_set=feature_set, entry=entry)


@dataclass
class TrainOptions:
    """Every resolved training setting (see :data:`BUILTIN` for the names and built-in values)."""

    threshold: float
    balance: float | None
    weight_per_class: bool
    scale_features: str
    test_size: float
    val_size: float
    random_state: int
    feature_stats: str | None
    float_convert_types: list
    batch_size: int
    shuffle_buffer_size: int
    epochs: int
    lr: float
    beta_1: float
    beta_2: float
    epsilon: float
    decay: float
    momentum: float
    amsgrad: bool
    monitor: str
    patience: int
    callbacks: list
    run_eagerly: bool
    dense_branch: bool
    conv_branch: bool
    loss: str
    optimizer: str
    pre_trained_model: str | None
    save: bool
    plot: bool
    weights_only: bool
    skip_cv: bool
    sources: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain dict of the settings (without the provenance map)."""
        out = asdict(self)
        out.pop("sources")
        return out


def resolve_options(cfg: Mapping, spec: ClassSpec, overrides: Mapping[str, Any] | None = None) -> TrainOptions:
    """Resolve every setting: ``overrides`` (command line) > class entry > global section > built-in.

    Parameters
    ----------
    cfg : mapping
        The configuration.
    spec : ClassSpec
        The class being trained.
    overrides : mapping, optional
        Values given explicitly (``None`` means "not given").

    Returns
    -------
    TrainOptions
        Validated settings; ``sources`` records where each came from.
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(overrides) - set(BUILTIN))
    if unknown:
        raise ConfigError(f"unknown training setting(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, builtin in BUILTIN.items():
        if key in overrides:
            values[key], sources[key] = overrides[key], "command line"
            continue
        if key in spec.entry and spec.entry[key] is not None:
            values[key], sources[key] = spec.entry[key], f"training.classes.{spec.tag}"
            continue
        section = _GLOBAL_SECTION.get(key)
        glob = _lookup(cfg, section, key) if section else None
        if glob is not None:
            values[key], sources[key] = glob, section
        else:
            values[key], sources[key] = builtin, "built-in"
    opts = TrainOptions(**_validated(values, spec.tag, sources), sources=sources)
    return opts


def _lookup(cfg: Mapping, section: str, key: str) -> Any:
    node: Any = cfg
    for part in section.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node.get(key) if isinstance(node, Mapping) else None


def _validated(v: dict, tag: str, sources: dict) -> dict:
    def where(key):
        return f"{key} (from {sources[key]}, class '{tag}')"

    def number(key, lo=None, hi=None, integer=False, lo_open=False, allow_none=False):
        value = v[key]
        if value is None and allow_none:
            return None
        try:
            num = int(value) if integer else float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where(key)} must be a number, got {value!r}") from None
        if integer and float(value) != num:
            raise ConfigError(f"{where(key)} must be an integer, got {value!r}")
        if not integer and not math.isfinite(num):
            raise ConfigError(f"{where(key)} must be finite, got {value!r}")
        if lo is not None and (num < lo or (lo_open and num == lo)):
            raise ConfigError(f"{where(key)} must be {'>' if lo_open else '>='} {lo}, got {value!r}")
        if hi is not None and num > hi:
            raise ConfigError(f"{where(key)} must be <= {hi}, got {value!r}")
        return num

    out = dict(v)
    out["threshold"] = number("threshold", 0.0, 1.0, lo_open=True)
    out["balance"] = _parse_balance(v["balance"], where("balance"))
    for key in ("test_size", "val_size"):
        out[key] = number(key, 0.0, 0.9)
    if out["val_size"] <= 0:
        raise ConfigError(f"{where('val_size')} must be > 0: early stopping needs a validation split")
    if out["test_size"] + out["val_size"] >= 0.9:
        raise ConfigError(f"test_size + val_size must be < 0.9 for class '{tag}', "
                          f"got {out['test_size']} + {out['val_size']}")
    out["random_state"] = number("random_state", 0, integer=True)
    for key in ("batch_size", "epochs", "shuffle_buffer_size"):
        out[key] = number(key, 1, integer=True)
    out["patience"] = number("patience", 0, integer=True)
    for key in ("lr", "epsilon"):
        out[key] = number(key, 0.0, lo_open=True)
    for key in ("beta_1", "beta_2"):
        out[key] = number(key, 0.0, 1.0)
    out["momentum"] = number("momentum", 0.0)
    out["decay"] = number("decay", 0.0) if v["decay"] is not None else 0.0
    scale = "none" if v["scale_features"] in (None, False) else str(v["scale_features"]).strip().lower()
    if scale in ("none", "null", ""):
        scale = "none"
    if scale not in SCALINGS:
        raise ConfigError(f"{where('scale_features')} must be one of {', '.join(SCALINGS)}, got {v['scale_features']!r}")
    out["scale_features"] = scale
    stats = v["feature_stats"]
    if stats is not None and str(stats).strip().lower() in ("none", "null", ""):
        stats = None
    if stats is not None and str(stats) != "config":
        raise ConfigError(f"{where('feature_stats')} must be 'config' or absent, got {stats!r}")
    out["feature_stats"] = stats
    fct = v["float_convert_types"]
    if (not isinstance(fct, (list, tuple)) or len(fct) != 2
            or any(int(x) not in (16, 32, 64) for x in fct)):
        raise ConfigError(f"{where('float_convert_types')} must be two of 16, 32, 64, got {fct!r}")
    out["float_convert_types"] = [int(x) for x in fct]
    out["amsgrad"] = _parse_amsgrad(v["amsgrad"], where("amsgrad"))
    for key in ("weight_per_class", "run_eagerly", "dense_branch", "conv_branch", "save", "plot",
                "weights_only", "skip_cv"):
        out[key] = _as_bool(v[key], where(key))
    if not (out["dense_branch"] or out["conv_branch"]):
        raise ConfigError(f"class '{tag}': at least one of dense_branch and conv_branch must be on")
    callbacks = v["callbacks"]
    if isinstance(callbacks, str):
        callbacks = [callbacks]
    callbacks = list(dict.fromkeys(str(c) for c in (callbacks or [])))  # keep order, drop repeats
    bad = [c for c in callbacks if c not in CALLBACKS]
    if bad:
        raise ConfigError(f"{where('callbacks')}: unknown callback(s) {', '.join(bad)}; "
                          f"use {', '.join(CALLBACKS)}")
    out["callbacks"] = callbacks
    out["monitor"] = str(v["monitor"])
    out["loss"] = str(v["loss"])
    optimizer = str(v["optimizer"]).strip().lower()
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"{where('optimizer')} must be one of {', '.join(OPTIMIZERS)}, got {v['optimizer']!r}")
    out["optimizer"] = optimizer
    out["pre_trained_model"] = None if v["pre_trained_model"] in (None, "", "None") else str(v["pre_trained_model"])
    return out


def _parse_balance(value: Any, where: str) -> float | None:
    if value is None or value is False:
        return None
    if isinstance(value, str) and value.strip().lower() in ("none", "null", ""):
        return None
    try:
        num = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number or None, got {value!r}") from None
    if not math.isfinite(num) or num <= 0:
        raise ConfigError(f"{where} must be > 0 (or None for no balancing), got {value!r}")
    return num


def _parse_amsgrad(value: Any, where: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    # The reference's configs hold sweep-tuned floats here, which it passed on as "always on".
    log.warning("%s is %r, not a boolean; AMSGrad stays off (set it to true to enable AMSGrad)",
                where, value)
    return False


def _as_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "t", "f", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "t", "1", "yes")
    raise ConfigError(f"{where} must be true or false, got {value!r}")
