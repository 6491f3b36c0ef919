"""The main job's closing report: predictions scored against the demo sky's truth.

Per class and algorithm: how many true members the evaluated light curves hold, precision and
recall at a score threshold, and ROC AUC; plus two pictures (confusion matrices of the headline
classes and phase-folded light curves of top-scored sources).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.tables import atomic_write, read_table

log = logging.getLogger(__name__)


def _prediction_columns(preds: pd.DataFrame, tags: Sequence[str]) -> list[tuple[str, str, str]]:
    """(column, tag, algorithm) for every ``<tag>_<alg>`` column present."""
    out = []
    for col in preds.columns:
        for alg in ("dnn", "xgb"):
            tag = col[: -len(alg) - 1] if col.endswith(f"_{alg}") else None
            if tag in tags:
                out.append((col, tag, alg))
    return out


def score_predictions(preds: pd.DataFrame, labels: pd.DataFrame, classes: Mapping[str, Mapping], *,
                      threshold: float = 0.5, exclude_ids: Sequence[int] = ()) -> pd.DataFrame:
    """Precision, recall and ROC AUC of each ``<tag>_<alg>`` column against the label table.

    Parameters
    ----------
    preds : pandas.DataFrame
        Predictions with ``_id`` and ``<tag>_<alg>`` columns.
    labels : pandas.DataFrame
        ``ztf_id`` and label columns (probabilities; > 0.5 counts as a member).
    classes : mapping
        ``training.classes`` of the config (tag -> {label, ...}).
    threshold : float
        Score above which a prediction counts as positive.
    exclude_ids : sequence of int
        Light curves to leave out (e.g. those the models were trained on).
    """
    from sklearn.metrics import roc_auc_score

    if "_id" not in preds.columns:
        raise DataError("prediction table lacks the _id column")
    truth = labels.set_index(labels["ztf_id"].astype(np.int64))
    ids = preds["_id"].astype(np.int64)
    keep = ids.isin(truth.index) & ~ids.isin(np.asarray(exclude_ids, dtype=np.int64))
    preds = preds.loc[keep.to_numpy()]
    ids = preds["_id"].astype(np.int64).to_numpy()
    rows = []
    for col, tag, alg in _prediction_columns(preds, list(classes)):
        label = classes[tag].get("label")
        if label not in truth.columns:
            continue
        y = truth.loc[ids, label].to_numpy(float) > 0.5
        s = preds[col].to_numpy(float)
        ok = np.isfinite(s)
        y, s = y[ok], s[ok]
        pos = s > threshold
        tp = int((pos & y).sum())
        rows.append({"class": tag, "label": label, "algorithm": alg, "n_evaluated": int(len(y)),
                     "n_true": int(y.sum()), "n_predicted": int(pos.sum()),
                     "precision": tp / pos.sum() if pos.sum() else np.nan,
                     "recall": tp / y.sum() if y.sum() else np.nan,
                     "roc_auc": roc_auc_score(y, s) if 0 < y.sum() < len(y) else np.nan})
    if not rows:
        raise DataError("no prediction column matches a configured class with a label in the truth table")
    return pd.DataFrame(rows).sort_values(["class", "algorithm"]).reset_index(drop=True)


def write_report(table: pd.DataFrame, path: Path, *, threshold: float, notes: Sequence[str] = ()) -> Path:
    """Write the scores as a small markdown report."""
    lines = ["# SCoPe demo: predictions against the demo truth", "",
             f"Positive prediction: score > {threshold}. Member: truth label > 0.5.", ""]
    lines += list(notes) + ([""] if notes else [])
    lines.append("| class | label | alg | evaluated | members | predicted | precision | recall | ROC AUC |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for r in table.itertuples(index=False):
        lines.append(f"| {r[0]} | {r.label} | {r.algorithm} | {r.n_evaluated} | {r.n_true} | {r.n_predicted} | "
                     f"{r.precision:.3f} | {r.recall:.3f} | {r.roc_auc:.3f} |")
    with atomic_write(path) as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def plot_confusions(preds: pd.DataFrame, labels: pd.DataFrame, classes: Mapping, tags: Sequence[str],
                    path: Path, *, threshold: float = 0.5, exclude_ids: Sequence[int] = ()) -> Path | None:
    """Confusion matrices (counts) of ``tags`` for every algorithm, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truth = labels.set_index(labels["ztf_id"].astype(np.int64))
    ids = preds["_id"].astype(np.int64)
    preds = preds.loc[(ids.isin(truth.index) & ~ids.isin(list(exclude_ids))).to_numpy()]
    cols = [(c, t, a) for c, t, a in _prediction_columns(preds, list(tags))]
    if not cols:
        return None
    fig, axes = plt.subplots(1, len(cols), figsize=(3.2 * len(cols), 3.2), squeeze=False)
    for ax, (col, tag, alg) in zip(axes[0], cols):
        y = truth.loc[preds["_id"].astype(np.int64), classes[tag]["label"]].to_numpy(float) > 0.5
        p = preds[col].to_numpy(float) > threshold
        m = np.array([[np.sum(~y & ~p), np.sum(~y & p)], [np.sum(y & ~p), np.sum(y & p)]])
        ax.imshow(m, cmap="Blues")
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, str(v), ha="center", va="center", color="black")
        ax.set_xticks([0, 1], ["not", tag])
        ax.set_yticks([0, 1], ["not", tag])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{tag} ({alg})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_top_phase_folded(preds: pd.DataFrame, features: pd.DataFrame, source, column: str, path: Path, *,
                          n: int = 4, period_column: str = "period_ELS_ECE_EAOV") -> Path | None:
    """Phase-folded light curves of the ``n`` top-scored sources of ``column``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if column not in preds.columns or period_column not in features.columns:
        return None
    top = preds.sort_values(column, ascending=False).head(n)
    periods = features.set_index(features["_id"].astype(np.int64))[period_column]
    batch = source.lightcurves(top["_id"].astype(np.int64).to_numpy()).trim(clean_flags=True)
    if not len(batch):
        return None
    fig, axes = plt.subplots(1, len(batch), figsize=(3.2 * len(batch), 2.8), squeeze=False)
    for ax, i in zip(axes[0], range(len(batch))):
        oid = int(batch.ids[i])
        t, m, _ = batch.get(i)
        period = float(periods.get(oid, np.nan))
        phase = ((t - t.min()) / period) % 1.0 if np.isfinite(period) and period > 0 else (t - t.min())
        score = float(top.set_index(top["_id"].astype(np.int64)).loc[oid, column])
        ax.plot(np.concatenate([phase, phase + 1]), np.concatenate([m, m]), ".", ms=2, color="k")
        ax.invert_yaxis()
        ax.set_title(f"{oid}\nP={period:.4g} d, score {score:.2f}", fontsize=8)
        ax.set_xlabel("phase")
    axes[0][0].set_ylabel("mag")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def load_features(folder: Path) -> pd.DataFrame:
    """Every generated-features file below ``folder`` (ids and periods only)."""
    frames = []
    for p in sorted(Path(folder).rglob("*.parquet")):
        if p.name.startswith("."):
            continue
        df = read_table(p)
        if "_id" in df.columns:
            frames.append(df[[c for c in df.columns if c == "_id" or c.startswith("period_")]])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"_id": []})
