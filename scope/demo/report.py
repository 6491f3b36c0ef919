"""The main job's closing report: predictions scored against the demo sky's truth.

Per class and algorithm: how many true members the evaluated light curves hold, precision and
recall at a score threshold, and ROC AUC; plus two pictures (confusion matrices of the headline
classes and phase-folded light curves of top-scored sources).

Every table and plot is computed on the same rows, chosen once by :func:`held_out`: light curves
with a truth label that the models were not trained on. "Top" picks are deterministic: highest
score first, ties broken by the smaller id, and the report says how many were tied. A class
whose scores never pass the threshold is flagged, with the best threshold its model card
records for the validation split (written by ``scope-train``).
"""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.tables import atomic_write, read_table

log = logging.getLogger(__name__)

ALGORITHM_NAMES = {"xgb": "XGBoost", "dnn": "DNN"}


def _prediction_columns(preds: pd.DataFrame, tags: Sequence[str]) -> list[tuple[str, str, str]]:
    """(column, tag, algorithm) for every ``<tag>_<alg>`` column present."""
    out = []
    for col in preds.columns:
        for alg in ("dnn", "xgb"):
            tag = col[: -len(alg) - 1] if col.endswith(f"_{alg}") else None
            if tag in tags:
                out.append((col, tag, alg))
    return out


def held_out(preds: pd.DataFrame, labels: pd.DataFrame, exclude_ids: Sequence[int] = ()) -> pd.DataFrame:
    """The prediction rows every table and plot of the report uses: light curves with a truth
    label (``labels.ztf_id``) that are not in ``exclude_ids`` (the training set), by ``_id``."""
    if "_id" not in preds.columns:
        raise DataError("prediction table lacks the _id column")
    ids = pd.to_numeric(preds["_id"]).astype(np.int64)
    truth = set(pd.to_numeric(labels["ztf_id"]).astype(np.int64))
    keep = ids.isin(truth) & ~ids.isin(np.asarray(list(exclude_ids), dtype=np.int64))
    out = preds.loc[keep.to_numpy()].copy()
    out["_id"] = ids[keep].to_numpy()
    return out.sort_values("_id", kind="mergesort").reset_index(drop=True)


def _truth(labels: pd.DataFrame) -> pd.DataFrame:
    return labels.set_index(pd.to_numeric(labels["ztf_id"]).astype(np.int64))


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

    Returns
    -------
    pandas.DataFrame
        One row per class and algorithm, with ``max_score`` (the highest evaluated score).
    """
    from sklearn.metrics import roc_auc_score

    preds = held_out(preds, labels, exclude_ids)
    truth = _truth(labels)
    ids = preds["_id"].to_numpy()
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
                     "roc_auc": roc_auc_score(y, s) if 0 < y.sum() < len(y) else np.nan,
                     "max_score": float(s.max()) if len(s) else np.nan})
    if not rows:
        raise DataError("no prediction column matches a configured class with a label in the truth table")
    return pd.DataFrame(rows).sort_values(["class", "algorithm"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
def model_cards(frames: Sequence[pd.DataFrame]) -> dict:
    """``{(tag, algorithm): model card}`` of the models behind prediction tables (from their metadata)."""
    from scope.training.model_card import load_model_card

    out = {}
    for frame in frames:
        models = frame.attrs.get("models") or []
        if isinstance(models, Mapping):  # combined tables keep {algorithm: [models]}
            models = [m for group in models.values() for m in (group or [])]
        for m in models:
            card_path = m.get("card")
            if not card_path or not Path(card_path).exists():
                continue
            try:
                out[(m.get("tag"), m.get("algorithm"))] = load_model_card(card_path)
            except DataError as exc:
                log.debug("model card %s unreadable: %s", card_path, exc)
    return out


def never_reaching(table: pd.DataFrame, cards: Mapping, threshold: float) -> dict:
    """``{(class, algorithm): note}`` for every row whose held-out scores never pass ``threshold``."""
    notes = {}
    for r in table.itertuples(index=False):
        if r.n_predicted or not r.n_evaluated:
            continue
        card = cards.get((r[0], r.algorithm)) or {}
        cut = card.get("validation_threshold") or {}
        text = (f"**{r[0]} ({r.label}, {ALGORITHM_NAMES.get(r.algorithm, r.algorithm)})**: no held-out score "
                f"above {threshold:g} (the highest is {r.max_score:.2f}), so precision is undefined and recall 0")
        if cut.get("best_threshold") is not None:
            text += (f"; on the validation split its best threshold is {cut['best_threshold']:.2f} "
                     f"(F1 {cut['f1']:.2f}, {cut['n_positive']} members there)")
        else:
            text += "; its model card records no validation threshold"
        if np.isfinite(r.roc_auc):
            text += f". The scores still rank members first (ROC AUC {r.roc_auc:.3f}): they are low, not random."
        notes[(r[0], r.algorithm)] = text
    return notes


def write_report(table: pd.DataFrame, path: Path, *, threshold: float, notes: Sequence[str] = (),
                 flags: Mapping | None = None, extra: Sequence[str] = ()) -> Path:
    """Write the scores as a small markdown report.

    ``flags`` (from :func:`never_reaching`) mark their rows with a dagger and are listed below
    the table; ``extra`` lines follow at the end.
    """
    flags = flags or {}
    lines = ["# SCoPe demo: predictions against the demo truth", "",
             f"Positive prediction: score > {threshold}. Member: truth label > 0.5.", ""]
    lines += list(notes) + ([""] if notes else [])
    lines.append("| class | label | alg | evaluated | members | predicted | precision | recall | ROC AUC |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for r in table.itertuples(index=False):
        mark = " †" if (r[0], r.algorithm) in flags else ""
        lines.append(f"| {r[0]} | {r.label} | {r.algorithm} | {r.n_evaluated} | {r.n_true} | {r.n_predicted}{mark} | "
                     f"{r.precision:.3f} | {r.recall:.3f} | {r.roc_auc:.3f} |")
    if flags:
        lines += ["", f"† Classes whose scores never pass {threshold:g} on the held-out light curves:", ""]
        lines += [f"- {text}" for text in flags.values()]
    if extra:
        lines += [""] + list(extra)
    with atomic_write(path) as fh:
        fh.write("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusions(preds: pd.DataFrame, labels: pd.DataFrame, classes: Mapping, tags: Sequence[str],
                    path: Path, *, threshold: float = 0.5, exclude_ids: Sequence[int] = ()) -> Path | None:
    """Confusion matrices (counts) of ``tags`` for every algorithm, in one PNG (see
    :func:`confusion_figure`)."""
    fig = confusion_figure(preds, labels, classes, tags, threshold=threshold, exclude_ids=exclude_ids)
    if fig is None:
        return None
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def confusion_figure(preds: pd.DataFrame, labels: pd.DataFrame, classes: Mapping, tags: Sequence[str], *,
                     threshold: float = 0.5, exclude_ids: Sequence[int] = ()):
    """The confusion-matrix figure: one panel per class and algorithm, held-out rows only.

    Classes are named by their label (``eclipsing``, not ``e``); numbers are white on dark cells
    and black on light ones. ``None`` when no column matches ``tags``.
    """
    preds = held_out(preds, labels, exclude_ids)
    truth = _truth(labels)
    cols = [(c, t, a) for c, t, a in _prediction_columns(preds, list(tags))]
    if not cols:
        return None
    plt = _pyplot()
    cmap = plt.get_cmap("Blues")
    fig, axes = plt.subplots(1, len(cols), figsize=(3.6 * len(cols), 3.6), squeeze=False)
    for ax, (col, tag, alg) in zip(axes[0], cols):
        name = str(classes[tag].get("label", tag))
        s = preds[col].to_numpy(float)
        ok = np.isfinite(s)
        y = truth.loc[preds["_id"].to_numpy()[ok], classes[tag]["label"]].to_numpy(float) > 0.5
        p = s[ok] > threshold
        m = np.array([[np.sum(~y & ~p), np.sum(~y & p)], [np.sum(y & ~p), np.sum(y & p)]])
        image = ax.imshow(m, cmap=cmap, vmin=0, vmax=max(int(m.max()), 1))
        for (i, j), v in np.ndenumerate(m):
            r, g, b, _ = cmap(image.norm(v))
            dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5  # relative luminance of the cell
            ax.text(j, i, str(v), ha="center", va="center", fontsize=12, color="white" if dark else "black")
        ticks = ["\n".join(textwrap.wrap(t, 14)) for t in (f"not {name}", name)]
        ax.set_xticks([0, 1], ticks)
        ax.set_yticks([0, 1], ticks)
        ax.set_xlabel(f"predicted (score > {threshold:g})")
        ax.set_ylabel("true")
        ax.set_title(f"{name} ({ALGORITHM_NAMES.get(alg, alg)})")
    fig.tight_layout()
    return fig


def top_scored(preds: pd.DataFrame, column: str, n: int) -> tuple[pd.DataFrame, int]:
    """The ``n`` rows with the highest ``column`` (ties broken by the smaller ``_id``) and how many
    rows share the score of the last one picked."""
    ranked = preds[np.isfinite(preds[column].to_numpy(float))]
    ranked = ranked.sort_values([column, "_id"], ascending=[False, True], kind="mergesort")
    top = ranked.head(n)
    tied = int((ranked[column] == top[column].iloc[-1]).sum()) if len(top) else 0
    return top, tied


def plot_top_phase_folded(preds: pd.DataFrame, features: pd.DataFrame, source, column: str, path: Path, *,
                          n: int = 4, period_column: str = "period_ELS_ECE_EAOV", labels: pd.DataFrame | None = None,
                          exclude_ids: Sequence[int] = (), label: str | None = None) -> tuple[Path | None, str]:
    """Phase-folded light curves of the ``n`` top-scored held-out sources of ``column``.

    With ``labels``, only held-out labelled light curves are candidates (see :func:`held_out`),
    and each panel says whether the source truly is a ``label`` member. Returns the PNG (or
    ``None``) and a sentence describing the pick for the report.
    """
    if column not in preds.columns or period_column not in features.columns:
        return None, ""
    pool = held_out(preds, labels, exclude_ids) if labels is not None else preds
    top, tied = top_scored(pool, column, n)
    if not len(top):
        return None, ""
    periods = features.set_index(pd.to_numeric(features["_id"]).astype(np.int64))[period_column]
    ids = pd.to_numeric(top["_id"]).astype(np.int64).to_numpy()
    batch = source.lightcurves(ids).trim(clean_flags=True)
    if not len(batch):
        return None, ""
    order = {int(i): k for k, i in enumerate(ids)}
    panels = sorted(range(len(batch)), key=lambda i: order.get(int(batch.ids[i]), len(order)))
    truth = _truth(labels) if labels is not None else None
    scores = dict(zip(ids, top[column].to_numpy(float)))
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 2.9), squeeze=False)
    for ax, i in zip(axes[0], panels):
        oid = int(batch.ids[i])
        t, m, _ = batch.get(i)
        period = float(periods.get(oid, np.nan))
        phase = ((t - t.min()) / period) % 1.0 if np.isfinite(period) and period > 0 else (t - t.min())
        ax.plot(np.concatenate([phase, phase + 1]), np.concatenate([m, m]), ".", ms=2, color="k")
        ax.invert_yaxis()
        member = ""
        if truth is not None and label and label in truth.columns and oid in truth.index:
            member = f"\n{'a' if float(truth.loc[oid, label]) > 0.5 else 'not a'} {label} (truth)"
        ax.set_title(f"{oid}\nP={period:.4g} d, score {scores[oid]:.2f}{member}", fontsize=8)
        ax.set_xlabel("phase")
    axes[0][0].set_ylabel("mag")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    last = float(top[column].iloc[-1])
    text = (f"`{Path(path).name}`: light curves {', '.join(str(i) for i in ids)}, the {len(top)} held-out ones "
            f"with the highest `{column}` (from {len(pool)}), folded at their `{period_column}`")
    if tied > 1:
        text += f"; {tied} light curves share the score {last:.2f} of the last pick, which goes by the smallest id"
    return path, text + "."


def load_features(folder: Path) -> pd.DataFrame:
    """Every generated-features file below ``folder`` (ids and periods only)."""
    import pyarrow.parquet as pq

    frames = []
    for p in sorted(Path(folder).rglob("*.parquet")):
        if p.name.startswith("."):
            continue
        names = pq.read_schema(p).names
        if "_id" in names:
            frames.append(read_table(p, columns=[c for c in names if c == "_id" or c.startswith("period_")]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"_id": []})


def summary_line(table: pd.DataFrame, flags: Mapping) -> str:
    """One line for the log: rows scored, the headline AUCs, the flagged classes."""
    auc = table["roc_auc"].dropna()
    return (f"{len(table)} class/algorithm rows on held-out light curves; median ROC AUC "
            f"{auc.median():.3f}" + (f"; {len(flags)} never pass the threshold: "
                                     + ", ".join(f"{c} ({a})" for c, a in flags) if flags else ""))

