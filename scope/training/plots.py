"""Diagnostic plots of a trained classifier: confusion matrix, ROC, precision-recall, importance.

File names follow the reference (``<tag>.<ts>_cm``, ``_roc``, ``_recall``, ``_impvars``), written
as PNG and PDF. A split holding one class only still gets its confusion matrix; curves that
need both classes are skipped with a log message (the reference crashed).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

log = logging.getLogger(__name__)

FORMATS = ("png", "pdf")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)  # never open windows
    import matplotlib.pyplot as plt

    return plt


def _save(fig, stem: Path, formats: Sequence[str]) -> list[Path]:
    out = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        fig.savefig(path, dpi=100, bbox_inches="tight")
        out.append(path)
    return out


def plot_confusion(y_true, scores, tag: str, stem: Path, *, include_count: bool = False,
                   include_percent: bool = True, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Confusion matrix (fractions of all examples) with classes "not <tag>" and "<tag>"."""
    plt = _pyplot()
    y = np.asarray(y_true).astype(int)
    pred = (np.asarray(scores) >= 0.5).astype(int)
    cm = np.array([[np.sum((y == t) & (pred == p)) for p in (0, 1)] for t in (0, 1)], dtype=float)
    frac = cm / cm.sum() if cm.sum() else cm
    fig, ax = plt.subplots(figsize=(4, 3.5))
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(2):
        for j in range(2):
            parts = []
            if include_count:
                parts.append(f"{int(cm[i, j])}")
            if include_percent or not parts:
                parts.append(f"{100 * frac[i, j]:.1f}%")
            ax.text(j, i, "\n".join(parts), ha="center", va="center",
                    color="white" if frac[i, j] > 0.5 else "black")
    labels = [f"not {tag}", tag]
    ax.set_xticks([0, 1], labels)
    ax.set_yticks([0, 1], labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(im, ax=ax, fraction=0.046)
    paths = _save(fig, stem, formats)
    plt.close(fig)
    return paths


def plot_roc(y_true, scores, tag: str, stem: Path, *, formats: Sequence[str] = FORMATS) -> list[Path]:
    """ROC curve with its AUC in the title."""
    from sklearn.metrics import roc_auc_score, roc_curve

    y = np.asarray(y_true).astype(int)
    if not 0 < y.sum() < len(y):
        log.info("ROC plot of %s skipped: the split holds one class only", stem.name)
        return []
    plt = _pyplot()
    fpr, tpr, _ = roc_curve(y, scores)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot(fpr, tpr, lw=1.5)
    ax.plot([0, 1], [0, 1], ls="--", c="0.6", lw=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"{tag}: ROC AUC = {roc_auc_score(y, scores):.6f}")
    paths = _save(fig, stem, formats)
    plt.close(fig)
    return paths


def plot_precision_recall(y_true, scores, tag: str, stem: Path, *, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Precision-recall step curve with the average precision in the title."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    y = np.asarray(y_true).astype(int)
    if not 0 < y.sum() < len(y):
        log.info("precision-recall plot of %s skipped: the split holds one class only", stem.name)
        return []
    plt = _pyplot()
    precision, recall, _ = precision_recall_curve(y, scores)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.step(recall, precision, where="post")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{tag}: PR AUC = {average_precision_score(y, scores):.4f}")
    paths = _save(fig, stem, formats)
    plt.close(fig)
    return paths


def plot_importance(scores: Mapping[str, float], tag: str, stem: Path, *, top: int = 8,
                    formats: Sequence[str] = FORMATS) -> list[Path]:
    """Horizontal bar chart of the ``top`` most important features."""
    if not scores:
        return []
    plt = _pyplot()
    items = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:top][::-1]
    fig, ax = plt.subplots(figsize=(5, 0.4 * len(items) + 1))
    ax.barh([k for k, _ in items], [v for _, v in items])
    ax.set_xlabel("importance")
    ax.set_title(f"{tag}: feature importance")
    paths = _save(fig, stem, formats)
    plt.close(fig)
    return paths
