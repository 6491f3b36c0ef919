"""Loading a trained model with its card and scoring a feature table the way it was trained.

This is the training side's half of the train/serve contract: :func:`score_table` builds the
model input exactly as :mod:`scope.training.prepare` did (same feature order, the card's scaling,
the dm-dt stack when the model uses it) and refuses a table that lacks a feature.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError

log = logging.getLogger(__name__)


@dataclass
class TrainedModel:
    """A loaded model: the Keras model or XGBoost booster, its card (``None`` for reference
    models saved without one), the algorithm and the file it came from."""

    model: Any
    card: dict | None
    algorithm: str
    path: Path

    @property
    def features(self) -> list | None:
        return list(self.card["features"]) if self.card else None


def load_trained_model(path: str | Path, *, require_card: bool = True) -> TrainedModel:
    """Load ``<tag>.<ts>.h5`` (DNN) or ``<tag>.<ts>.json`` (XGBoost) and its card.

    Parameters
    ----------
    path : path-like
        The model file.
    require_card : bool
        Raise when there is no card (the default); with ``False`` a reference-release model
        without one loads with ``card=None`` and the caller supplies features and scaling.
    """
    from scope.training.model_card import card_path_for, load_model_card

    path = Path(path)
    if not path.exists():
        raise DataError(f"model file not found: {path}")
    card = load_model_card(path) if (require_card or card_path_for(path).exists()) else None
    algorithm = card["algorithm"] if card else ("xgb" if path.suffix == ".json" else "dnn")
    if algorithm == "dnn":
        from scope.training.dnn import load_dnn

        model = load_dnn(path)
    else:
        from scope.training.legacy import load_xgb_booster

        model = load_xgb_booster(path)
    return TrainedModel(model=model, card=card, algorithm=algorithm, path=path)


def model_input(df: pd.DataFrame, features: Sequence[str], scaling_params: dict | None,
                float_type: str = "float32") -> np.ndarray:
    """Scaled feature matrix in model order; identity scaling when ``scaling_params`` is None."""
    from scope.training.scaling import apply_scaling

    missing = [f for f in features if f not in df.columns]
    if missing:
        raise DataError(f"feature table lacks {len(missing)} feature(s) the model needs, e.g. "
                        f"{', '.join(repr(m) for m in missing[:3])}")
    params = scaling_params or {f: {"shift": 0.0, "scale": 1.0} for f in features}
    return apply_scaling(df, features, params).to_numpy(dtype=np.float64).astype(float_type or "float32")


def score_table(trained: TrainedModel, df: pd.DataFrame, *, features: Sequence[str] | None = None,
                scaling_params: dict | None = None, batch_size: int = 4096) -> np.ndarray:
    """Scores in [0, 1] of every row of a feature table.

    Features and scaling come from the card; ``features``/``scaling_params`` are needed only for
    card-less reference models. For the DNN, rows with missing feature values get NaN scores;
    XGBoost scores them (it routes missing values itself).
    """
    card = trained.card
    features = list(card["features"]) if card else (list(features) if features else None)
    if features is None:
        raise DataError(f"{trained.path} has no model card: pass the feature list it was trained on")
    params = card["scaling"]["params"] if card else scaling_params
    X = model_input(df, features, params, (card or {}).get("float_type") or "float32")
    if trained.algorithm == "xgb":
        from scope.training.legacy import xgb_predict

        return xgb_predict(trained.model, X, features)  # XGBoost handles missing values itself
    ok = np.isfinite(X).all(axis=1)
    scores = np.full(len(df), np.nan, dtype=np.float32)
    if ok.any():
        from scope.training.dataset import stack_dmdt
        from scope.training.dnn import predict

        uses_dmdt = card["dmdt"] if card else True
        if uses_dmdt and "dmdt" not in df.columns:
            raise DataError("feature table has no dmdt column, which this DNN needs")
        dmdt = stack_dmdt(df["dmdt"].iloc[np.flatnonzero(ok)] if uses_dmdt else None, int(ok.sum()))
        scores[ok] = predict(trained.model, X[ok], dmdt, batch_size=batch_size)
    return scores
