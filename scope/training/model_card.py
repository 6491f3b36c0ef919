"""Model cards: a JSON file beside every saved model describing what it needs and how it did.

``models_<alg>/<group>/<tag>/<tag>.<YYYYmmdd_HHMMSS>.card.json`` sits beside the model file
(``.h5`` for the DNN, ``.json`` for XGBoost). Inference reads it to build exactly the input the
model was trained on (feature names in order, period suffix, scaling) and to refuse a mismatch.
The format is documented in ``docs/training.md``; :data:`CARD_VERSION` changes when a field
changes meaning.
"""

from __future__ import annotations

import json
import logging
import platform
import re
from pathlib import Path
from typing import Any, Mapping

from scope.errors import DataError

log = logging.getLogger(__name__)

CARD_FORMAT = "scope-model-card"
CARD_VERSION = 1
CARD_SUFFIX = ".card.json"
TIMESTAMP_FORMAT = "%Y%m%d_%H%M%S"
MODEL_EXTENSIONS = {"dnn": ".h5", "xgb": ".json"}
_MODEL_RE = re.compile(r"^(?P<tag>.+)\.(?P<ts>\d{8}_\d{6})(?P<ext>\.h5|\.json)$")

REQUIRED_FIELDS = ("tag", "label", "algorithm", "features", "period_suffix", "scaling", "threshold",
                   "model_file")


def card_path_for(model_path: str | Path) -> Path:
    """The card of a model file: ``vnv.20240101_000000.h5`` -> ``vnv.20240101_000000.card.json``."""
    model_path = Path(model_path)
    if model_path.name.endswith(CARD_SUFFIX):
        return model_path
    stem = model_path.name
    for ext in (".weights.h5", ".keras", ".h5", ".json", ".params"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
            break
    return model_path.with_name(stem + CARD_SUFFIX)


def write_model_card(path: str | Path, card: Mapping[str, Any]) -> Path:
    """Write a card atomically as indented JSON (NaN written as ``null``)."""
    from scope.tables import atomic_write

    missing = [k for k in REQUIRED_FIELDS if k not in card]
    if missing:
        raise ValueError(f"model card lacks fields: {', '.join(missing)}")
    body = {"format": CARD_FORMAT, "card_version": CARD_VERSION, **card}
    text = json.dumps(_strict(body), indent=2)
    with atomic_write(path, "w") as fh:
        fh.write(text + "\n")
    return Path(path)


def _strict(node: Any) -> Any:
    if isinstance(node, float) and node != node:  # NaN
        return None
    if isinstance(node, dict):
        return {str(k): _strict(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_strict(v) for v in node]
    if hasattr(node, "item") and not isinstance(node, (str, bytes)):  # numpy scalars
        return _strict(node.item())
    if isinstance(node, Path):
        return str(node)
    return node


def load_model_card(path: str | Path) -> dict:
    """Read the card of a model, given the card itself or the model file beside it.

    Parameters
    ----------
    path : path-like
        ``<tag>.<ts>.card.json`` or the model file (``.h5``/``.json``/``.keras``).

    Returns
    -------
    dict
        The card, with ``card_path`` added (absolute path of the card file).

    Raises
    ------
    DataError
        When the card is missing (e.g. a model saved by the reference release), unreadable, or
        lacks a required field.
    """
    card_path = card_path_for(path)
    if not card_path.exists():
        raise DataError(f"no model card for {path} (expected {card_path.name}); models saved by the "
                        "reference release have none: retrain, or pass the feature list explicitly")
    try:
        card = json.loads(card_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read model card {card_path}: {exc}") from None
    if card.get("format") != CARD_FORMAT:
        raise DataError(f"{card_path} is not a SCoPe model card")
    if int(card.get("card_version", 0)) > CARD_VERSION:
        raise DataError(f"{card_path} has card version {card['card_version']}; this SCoPe reads up to "
                        f"{CARD_VERSION}: upgrade SCoPe")
    missing = [k for k in REQUIRED_FIELDS if k not in card]
    if missing:
        raise DataError(f"model card {card_path} lacks {', '.join(missing)}")
    card["card_path"] = str(card_path.resolve())
    return card


def model_timestamp(path: str | Path) -> str | None:
    """The ``YYYYmmdd_HHMMSS`` stamp in a model file name, or ``None``."""
    m = _MODEL_RE.match(Path(path).name)
    return m.group("ts") if m else None


def list_models(tag_dir: str | Path, tag: str, algorithm: str) -> list[Path]:
    """Model files ``<tag>.<ts>.<ext>`` of one class directory, oldest first (by the stamp).

    Only files named exactly like saved models count, so cards (``.card.json``), XGBoost
    ``.params`` files and Keras ``.keras`` twins are never mistaken for models.
    """
    ext = MODEL_EXTENSIONS[algorithm]
    tag_dir = Path(tag_dir)
    if not tag_dir.is_dir():
        return []
    found = []
    for p in tag_dir.iterdir():
        m = _MODEL_RE.match(p.name)
        if m and m.group("tag") == tag and m.group("ext") == ext and p.is_file():
            found.append((m.group("ts"), p))
    return [p for _, p in sorted(found)]


def models_root(models_dir: str | Path, algorithm: str) -> Path:
    """``models_<alg>`` under ``models_dir``, or ``models_dir`` itself if it is one already."""
    models_dir = Path(models_dir)
    if models_dir.name.startswith("models_"):
        return models_dir
    return models_dir / f"models_{algorithm}"


def find_latest_model(models_dir: str | Path, group: str, tag: str, algorithm: str) -> Path | None:
    """Newest model of a class in a group, by the time stamp in its name (not the file time).

    Parameters
    ----------
    models_dir : path-like
        The project folder holding ``models_<alg>/``, or that ``models_<alg>`` folder itself.
    group : str
        Group name (``experiment``, ``trained_dnn_models``...).
    tag : str
        Class tag.
    algorithm : str
        ``dnn`` or ``xgb`` (any spelling :func:`scope.training.options.normalize_algorithm` takes).

    Returns
    -------
    pathlib.Path or None
        ``models_<alg>/<group>/<tag>/<tag>.<ts>.h5`` (DNN) or ``.json`` (XGB), or ``None``.
    """
    from scope.training.options import normalize_algorithm

    algorithm = normalize_algorithm(algorithm)
    models = list_models(models_root(models_dir, algorithm) / group / tag, tag, algorithm)
    return models[-1] if models else None


def package_versions(algorithm: str) -> dict:
    """Versions of the packages that shaped a model (recorded in its card)."""
    from importlib.metadata import PackageNotFoundError, version

    import scope

    names = ["numpy", "pandas", "scikit-learn"]
    names += ["tensorflow", "tensorflow-cpu", "keras"] if algorithm == "dnn" else ["xgboost", "xgboost-cpu"]
    out = {"scope": getattr(scope, "__version__", "unknown"), "python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out
