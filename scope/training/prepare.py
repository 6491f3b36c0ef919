"""From a training-set file to model-ready arrays for one class.

Order of work: check columns -> last-chance imputation -> label rule -> drop rows with missing
feature values -> stratified split -> balancing -> scaling statistics from the training split ->
scaled, type-converted feature matrix (+ dm-dt stack when the model uses it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.training import dataset as ds
from scope.training import scaling, splits

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """Everything a classifier needs, plus what the model card records about the data.

    ``X`` (scaled features) and ``dmdt`` hold the member rows only; ``split`` indexes into them.
    """

    features: list
    X: np.ndarray
    dmdt: np.ndarray | None
    target: np.ndarray
    split: splits.Split
    class_weight: dict
    scaling: dict
    ids: np.ndarray | None
    info: dict = field(default_factory=dict)

    def part(self, name: str) -> tuple:
        """``(X, dmdt, y)`` of a split (``dmdt`` is ``None`` when not used)."""
        idx = getattr(self.split, name)
        return self.X[idx], None if self.dmdt is None else self.dmdt[idx], self.target[idx]


def prepare(df: pd.DataFrame, cfg: Mapping, *, tag: str, label: str, features: Sequence[str], opts,
            period_suffix: str | None, source: str, use_dmdt: bool, scaling_override: Mapping | None = None,
            min_examples: int = ds.MIN_EXAMPLES) -> Prepared:
    """Build the arrays of one class from a training-set frame.

    Parameters
    ----------
    df : pandas.DataFrame
        The training set (not modified).
    cfg : mapping
        Configuration (imputation strategies, ``feature_stats``).
    tag, label : str
        Class tag and its label column.
    features : sequence of str
        Feature columns, in model order.
    opts : TrainOptions
        Resolved settings (threshold, sizes, seed, scaling, balance, weights, float types).
    period_suffix : str or None
        For messages and config feature statistics.
    source : str
        Name of the training set in messages.
    use_dmdt : bool
        Stack the ``dmdt`` column (the DNN conv branch needs it).
    scaling_override : mapping, optional
        A model card's ``scaling`` section to reuse (continued training).
    min_examples : int
        Fewest positives and negatives accepted.
    """
    from scope.imputation import impute_features

    features = list(features)
    if not features:
        raise DataError(f"class '{tag}' has no features: check the config's feature list")
    ds.check_columns(df, tag=tag, label=label, features=features, source=source, period_suffix=period_suffix)
    if use_dmdt and "dmdt" not in df.columns:
        raise DataError(f"{source} has no dmdt column, which the DNN's conv branch needs "
                        "(train with --no-conv-branch or set training.dnn.conv_branch: false)")
    n_rows = len(df)
    df = impute_features(df, cfg, period_suffix=period_suffix)
    examples = ds.select_examples(df, label, opts.threshold)
    members = df.iloc[examples.rows]
    finite = ds.finite_feature_rows(members, features)
    n_missing = int((~finite).sum())
    if n_missing:
        log.info("class '%s': %d of %d examples have missing or infinite feature values; left out",
                 tag, n_missing, len(members))
    members = members.loc[finite] if n_missing else members
    target = examples.target[finite]
    n_pos, n_neg = int(target.sum()), int(len(target) - target.sum())
    if n_pos < min_examples:
        raise DataError(f"class '{tag}' has only {n_pos} positive examples ('{label}' > {opts.threshold:g}) "
                        f"in {source}; at least {min_examples} are needed")
    if n_neg < min_examples:
        raise DataError(f"class '{tag}' has only {n_neg} negative examples in {source}; "
                        f"at least {min_examples} are needed")

    split = splits.stratified_split(target, opts.test_size, opts.val_size, opts.random_state)
    train_rows = members.iloc[split.train]
    split = splits.balance_training(split, target, opts.balance, opts.random_state)
    weights = splits.class_weights(target[split.train], opts.weight_per_class)

    if scaling_override is not None:
        scale_info = dict(scaling_override)
        scale_info["source"] = "pre-trained model card"
    else:
        if opts.feature_stats == "config":
            stats, stats_source = scaling.stats_from_config(cfg, features, period_suffix), "config feature_stats"
        else:
            stats, stats_source = scaling.compute_stats(train_rows, features), "training split"
        scale_info = {"method": opts.scale_features, "source": stats_source, "stats": stats,
                      "params": scaling.scaling_params(stats, opts.scale_features)}
    scaled = scaling.apply_scaling(members, features, scale_info["params"])
    # float_convert_types = [from, to]: features are computed in float64 and handed over as float<to>
    X = scaled.to_numpy(dtype=np.float64).astype(f"float{opts.float_convert_types[1]}")
    dmdt = ds.stack_dmdt(members["dmdt"], len(members)) if use_dmdt else None
    ids = members["ztf_id"].to_numpy() if "ztf_id" in members.columns else None
    info = {"n_rows": n_rows, "n_rows_after_imputation": len(df), "n_examples": int(len(target)),
            "n_ambiguous": examples.n_ambiguous, "n_missing_features": n_missing,
            "counts": split.counts(target), "float_type": str(X.dtype)}
    log.info("class '%s': %d positive and %d negative examples; train/val/test = %d/%d/%d%s", tag, n_pos, n_neg,
             len(split.train), len(split.val), len(split.test),
             f" ({len(split.dropped)} balanced away)" if len(split.dropped) else "")
    return Prepared(features=features, X=X, dmdt=dmdt, target=target, split=split, class_weight=weights,
                    scaling=scale_info, ids=ids, info=info)


def resolve_dataset_path(cfg, path_dataset: str | Path | None) -> Path:
    """The training-set path: the explicit one, else ``training.dataset`` from the config."""
    if path_dataset:
        return Path(path_dataset)
    configured = cfg.get_path("training.dataset") if hasattr(cfg, "get_path") else None
    if not configured:
        raise DataError("no training set: pass --path-dataset or set training.dataset in the config")
    return cfg.resolve_path(configured)
