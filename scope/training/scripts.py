"""The training-script generator (``create-training-script``, spec §3.3).

Writes a bash script with one ``scope-train`` line per class that has enough positive examples
in the training set, phenomenological classes first, then ontological. Fixed reference bugs:
options are written with hyphens (the reference wrote ``--path_dataset`` etc., which scope-train
silently dropped), pre-trained models are looked up under ``models_<alg>/`` by the time stamp in
their names (``.h5`` for the DNN, ``.json`` for XGBoost), and paths are quoted for the shell.
"""

from __future__ import annotations

import logging
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from scope.errors import DataError

log = logging.getLogger(__name__)


@dataclass
class ScriptReport:
    """What went into a generated script."""

    path: Path
    lines: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)


def _relative(path: Path) -> str:
    """``path`` relative to the current folder when inside it (scripts run from the project)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def create_training_script(cfg, *, filename: str | Path = "train_script.sh", algorithm: str = "dnn",
                           min_count: int = 100, path_dataset: str | Path | None = None,
                           pre_trained_group_name: str | None = None, add_keywords: str = "",
                           train_all: bool = False, period_suffix=..., models_dir: str | Path | None = None
                           ) -> ScriptReport:
    """Write the training script; see the module docstring.

    Parameters
    ----------
    cfg : scope.config.Config
    filename : path-like
        Script to create; an existing file is an error (never overwritten).
    algorithm : str
        ``dnn`` or ``xgb``.
    min_count : int
        Classes with fewer positive examples (label > threshold) are left out.
    path_dataset : path-like, optional
        Training set; default ``training.dataset``.
    pre_trained_group_name : str, optional
        Continue training the newest model of each class in ``models_<alg>/<group>/``; classes
        without one are left out unless ``train_all``.
    add_keywords : str
        Extra options appended to every line (e.g. ``'--save --group new_experiment'``).
    train_all : bool
        With a pre-trained group, also write lines for classes that have no model yet.
    period_suffix : str or None, optional
        Written as ``--period-suffix`` on every line (default: the config's).
    models_dir : path-like, optional
        Folder holding ``models_<alg>/`` (default: the current folder).
    """
    from scope.schema import default_suffix, normalize_suffix
    from scope.tables import atomic_write
    from scope.training.dataset import check_label_values, count_positives, load_training_set
    from scope.training.model_card import find_latest_model
    from scope.training.options import normalize_algorithm
    from scope.training.prepare import resolve_dataset_path

    from scope.training.backends import warn_if_missing

    algorithm = normalize_algorithm(algorithm)
    warn_if_missing(algorithm, "the scope-train lines", log)
    target = Path(filename)
    if target.exists():
        raise DataError(f"{target} already exists; choose another --filename or remove it")
    from scope.tables import ensure_writable_dir

    ensure_writable_dir(target.absolute().parent, create=False)
    dataset = resolve_dataset_path(cfg, path_dataset)
    df = load_training_set(dataset)
    suffix = default_suffix(cfg) if period_suffix is ... else normalize_suffix(period_suffix)
    models_dir = Path(models_dir) if models_dir else Path.cwd()
    dataset_arg = str(path_dataset) if path_dataset else str(dataset)

    report = ScriptReport(path=target)
    sections: dict[str, list[str]] = {"phenomenological": [], "ontological": []}
    classes: Mapping = (cfg.get("training") or {}).get("classes") or {}
    present = [(entry or {}).get("label") for entry in classes.values()]
    check_label_values(df, list(dict.fromkeys(lab for lab in present if lab in df.columns)), f"training set {dataset}")
    no_label, too_few, no_model = [], [], []
    for tag, entry in classes.items():
        entry = entry or {}
        label = entry.get("label")
        if label not in df.columns:
            report.skipped[tag] = f"no label column '{label}'"
            no_label.append(f"{tag} ('{label}')")
            continue
        n_pos = count_positives(df, label, float(entry.get("threshold", 0.7)))
        report.counts[tag] = n_pos
        if n_pos < min_count:
            report.skipped[tag] = f"{n_pos} positives < {min_count}"
            too_few.append((n_pos, tag))
            log.debug("%s: %d positives, fewer than %d; skipped", tag, n_pos, min_count)
            continue
        tokens = ["scope-train", "--tag", tag, "--algorithm", algorithm, "--path-dataset", dataset_arg]
        if pre_trained_group_name:
            model = find_latest_model(models_dir, pre_trained_group_name, tag, algorithm)
            if model is not None:
                tokens += ["--pre-trained-model", _relative(model)]
            elif not train_all:
                report.skipped[tag] = f"no model in group '{pre_trained_group_name}'"
                no_model.append(tag)
                continue
        tokens += ["--period-suffix", suffix or "None", "--verbose"]
        line = " ".join(shlex.quote(t) for t in tokens)
        if add_keywords.strip():
            line += " " + add_keywords.strip()
        feature_set = "ontological" if entry.get("features") == "ontological" else "phenomenological"
        sections[feature_set].append(line)
        report.lines.append(line)

    if no_label:
        log.warning("%d class(es) of training.classes have no label column in %s and get no line: %s",
                    len(no_label), dataset, ", ".join(no_label))
    if no_model:
        log.info("%d class(es) without a model in group %s left out (--train-all includes them): %s",
                 len(no_model), pre_trained_group_name, ", ".join(no_model))
    if not report.lines:
        raise DataError(f"no training line to write, so {target} is not written: " + _why_none(
            too_few, no_label, no_model, min_count, pre_trained_group_name, classes))
    trained = ", ".join(f"{t} {report.counts[t]}" for t in report.counts if t not in report.skipped)
    log.info("positives per class to train: %s%s", trained,
             f"; {len(too_few)} class(es) with fewer than {min_count} left out" if too_few else "")

    text = ["#!/bin/bash", "# Phenomenological", *sections["phenomenological"], "# Ontological",
            *sections["ontological"]]
    with atomic_write(target, "w") as fh:
        fh.write("\n".join(text) + "\n")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(target, 0o755 & ~umask)  # temporary files are created 0600; a script must run
    log.info("wrote %s: %d training lines, %d class(es) left out", target, len(report.lines), len(report.skipped))
    return report


def _why_none(too_few, no_label, no_model, min_count, group, classes) -> str:
    if not classes:
        return "the config has no training.classes"
    reasons = []
    if too_few:
        best = ", ".join(f"{t} {n}" for n, t in sorted(too_few, reverse=True)[:3])
        reasons.append(f"no class reaches --min-count {min_count} positives (most: {best}); lower --min-count")
    if no_label:
        reasons.append(f"{len(no_label)} class(es) have no label column in the training set")
    if no_model:
        reasons.append(f"{len(no_model)} class(es) have no model in group {group} (--train-all includes them)")
    return "; ".join(reasons)
