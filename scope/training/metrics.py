"""Binary-classification metrics recorded in model cards and ``stats.json`` files."""

from __future__ import annotations

import math

import numpy as np


def binary_metrics(y_true: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict:
    """Accuracy, precision, recall, F1, ROC AUC and PR AUC of scores against 0/1 truth.

    Parameters
    ----------
    y_true : numpy.ndarray
        0/1 truth.
    scores : numpy.ndarray
        Model scores in [0, 1].
    threshold : float
        Scores ``>= threshold`` count as positive predictions (0.5, as the reference).

    Returns
    -------
    dict
        ``accuracy, precision, recall, f1_score, roc_auc, pr_auc`` (NaN where undefined, e.g.
        ROC AUC of a split with one class), the confusion counts ``tp, fp, tn, fn`` and ``n``.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y_true).astype(int).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    pred = (s >= threshold).astype(int)
    tp = int(np.sum((pred == 1) & (y == 1)))
    fp = int(np.sum((pred == 1) & (y == 0)))
    tn = int(np.sum((pred == 0) & (y == 0)))
    fn = int(np.sum((pred == 0) & (y == 1)))
    n = len(y)
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f1 = (2 * precision * recall / (precision + recall)
          if tp and not math.isnan(precision) and not math.isnan(recall) else (0.0 if n else math.nan))
    both = 0 < y.sum() < n
    return {
        "accuracy": (tp + tn) / n if n else math.nan,
        "precision": precision,
        "recall": recall,
        "f1_score": f1,
        "roc_auc": float(roc_auc_score(y, s)) if both else math.nan,
        "pr_auc": float(average_precision_score(y, s)) if both else math.nan,
        "tp": tp, "fp": fp, "tn": tn, "fn": fn, "n": n,
    }


def json_safe(metrics: dict) -> dict:
    """Replace NaN by ``None`` so the metrics serialise as strict JSON."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}


def best_threshold(y_true: np.ndarray, scores: np.ndarray) -> dict:
    """The score threshold with the highest F1 on one split, and how high its scores reach.

    Used to explain a class whose scores never pass the default 0.5: the model may rank well
    (high ROC AUC) with scores that stay low, and this says where a cut would work.

    Parameters
    ----------
    y_true : numpy.ndarray
        0/1 truth.
    scores : numpy.ndarray
        Model scores; a prediction is positive when ``score >= threshold``.

    Returns
    -------
    dict
        ``best_threshold`` (``None`` without positives), ``f1``, ``precision``, ``recall`` there,
        ``max_score`` and ``max_positive_score`` of the split, ``n`` and ``n_positive``.
    """
    y = np.asarray(y_true).astype(int).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    ok = np.isfinite(s)
    y, s = y[ok], s[ok]
    out = {"best_threshold": None, "f1": None, "precision": None, "recall": None,
           "max_score": float(s.max()) if len(s) else None,
           "max_positive_score": float(s[y == 1].max()) if (y == 1).any() else None,
           "n": int(len(y)), "n_positive": int(y.sum())}
    if not y.any():
        return out
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    k = np.arange(1, len(s_sorted) + 1)
    last = np.r_[s_sorted[1:] != s_sorted[:-1], True]  # cut after the last of each run of equal scores
    tp, k, thresholds = tp[last], k[last], s_sorted[last]
    precision = tp / k
    recall = tp / y.sum()
    f1 = np.where(tp > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0.0)
    best = int(np.argmax(f1))  # the first maximum: the highest threshold reaching the best F1
    out.update(best_threshold=float(thresholds[best]), f1=float(f1[best]), precision=float(precision[best]),
               recall=float(recall[best]))
    return out
