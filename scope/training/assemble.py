"""Collect the per-class metrics of a model group (``assemble-training-stats``, spec §3.4).

For each class folder of ``models_<alg>/<group>/`` the newest model's
``<tag>.<ts>_plots/<set>/<tag>.<ts>_stats.json`` is copied into ``<alg>_<stats_directory>/``
(and, for XGBoost, its ``_impvars.json`` into ``<importance_directory>/``), as the reference
did; in addition one table ``<alg>_<stats_directory>/<group>_<set>_stats.csv`` lists every
class's metrics side by side. Where a model has no ``stats.json`` (saved without it), the metrics
come from its model card. Classes with no model or no metrics are reported and skipped (the
reference crashed on them).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pandas as pd

from scope.errors import DataError
from scope.training import model_card as mc

log = logging.getLogger(__name__)

SETS = ("train", "val", "test")


def assemble_training_stats(*, group_name: str = "experiment", algorithm: str = "dnn", set_name: str = "val",
                            importance_directory: str | Path = "xgb_feature_importance",
                            stats_directory: str = "stats", models_dir: str | Path | None = None,
                            output_dir: str | Path | None = None) -> pd.DataFrame:
    """Copy each class's stats into one folder and return (and write) the combined table.

    Parameters
    ----------
    group_name : str
        Group under ``models_<alg>/``.
    algorithm : str
        ``dnn`` or ``xgb``.
    set_name : str
        ``train``, ``val`` or ``test``.
    importance_directory : path-like
        Destination of XGBoost importance files (relative to ``output_dir``).
    stats_directory : str
        Stats are copied into ``<alg>_<stats_directory>/``.
    models_dir : path-like, optional
        Folder holding ``models_<alg>/`` (default: the current folder).
    output_dir : path-like, optional
        Where the output folders go (default: the current folder).

    Returns
    -------
    pandas.DataFrame
        One row per class: ``tag, timestamp`` and the metrics.
    """
    from scope.tables import atomic_write, write_table
    from scope.training.options import normalize_algorithm

    algorithm = normalize_algorithm(algorithm)
    if set_name not in SETS:
        raise DataError(f"--set-name must be one of {', '.join(SETS)}, got '{set_name}'")
    root = mc.models_root(Path(models_dir) if models_dir else Path.cwd(), algorithm) / group_name
    if not root.is_dir():
        raise DataError(f"no model group folder {root}")
    out_root = Path(output_dir) if output_dir else Path.cwd()
    stats_dir = out_root / f"{algorithm}_{stats_directory}"
    imp_dir = out_root / importance_directory
    rows, skipped = [], []
    for tag_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        tag = tag_dir.name
        models = mc.list_models(tag_dir, tag, algorithm)
        if not models:
            if tag != "sweeps":
                skipped.append(f"{tag} (no model)")
            continue
        model = models[-1]
        stem = model.name[: -len(mc.MODEL_EXTENSIONS[algorithm])]
        set_dir = tag_dir / f"{stem}_plots" / set_name
        stats_file = set_dir / f"{stem}_stats.json"
        metrics = None
        if stats_file.exists():
            metrics = json.loads(stats_file.read_text())
            stats_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(stats_file, stats_dir / stats_file.name)
        elif mc.card_path_for(model).exists():
            metrics = (mc.load_model_card(model).get("metrics") or {}).get(set_name)
            if metrics:
                with atomic_write(stats_dir / f"{stem}_stats.json") as fh:
                    json.dump(metrics, fh, indent=2)
        if not metrics:
            skipped.append(f"{tag} (no {set_name} metrics)")
            continue
        if algorithm == "xgb":
            imp = set_dir / f"{stem}_impvars.json"
            if imp.exists():
                imp_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy2(imp, imp_dir / imp.name)
        rows.append({"tag": tag, "timestamp": mc.model_timestamp(model), **metrics})
    if skipped:
        log.warning("skipped %d class(es): %s", len(skipped), ", ".join(skipped))
    table = pd.DataFrame(rows)
    if rows:
        write_table(table, stats_dir / f"{group_name}_{set_name}_stats.csv")
        log.info("collected %s metrics of %d classes into %s", set_name, len(rows), stats_dir)
    else:
        log.warning("no metrics found under %s", root)
    return table
