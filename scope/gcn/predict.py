"""Predictions for one event's light curves: run-inference, select-fritz-sample, combine-preds.

1. run-inference applies every model to the event's feature file, unless its predictions are newer
   than the features and were made by the same models (a rerun after an interruption does not
   score again);
2. select-fritz-sample consolidates each algorithm's predictions into one row per source (as the
   reference: every source, threshold 0, ``GCN_<alg>/GCN_sources_<d>/``);
3. combine-preds merges both algorithms per source (``GCN_dnn_xgb/<d>/merged_GCN_sources_<d>``),
   scores aggregated with ``agg_method``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from scope.gcn.paths import EventPaths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelGroups:
    """The models a run applies: ``{algorithm: group}`` and the models of each."""

    groups: Mapping[str, str]
    models: Sequence  # ModelSpec

    @property
    def algorithms(self) -> list[str]:
        return list(self.groups)


def load_model_groups(cfg, models_dir: Path, groups: Mapping[str, str]) -> ModelGroups:
    """The newest model of every class of each group (a missing group: one-line error)."""
    from scope.inference import discover_group

    models = []
    for alg, group in groups.items():
        models += discover_group(cfg, models_dir, group, alg)
    return ModelGroups(dict(groups), models)


def _recorded(path: Path) -> tuple[set[str], list[str]]:
    from scope.inference.inputs import file_metadata

    meta = file_metadata(path)
    models = {str(m.get("model_file")) for m in meta.get("models") or [] if isinstance(m, Mapping)}
    return models, [str(p) for p in meta.get("feature_files") or []]


def predictions_current(paths: EventPaths, models: ModelGroups) -> bool:
    """True when every algorithm's predictions are newer than the features and from these models."""
    features = paths.features
    if not features.exists():
        return False
    for alg in models.algorithms:
        preds = paths.predictions(alg)
        if not preds.exists() or preds.stat().st_mtime < features.stat().st_mtime:
            return False
        recorded, inputs = _recorded(preds)
        wanted = {str(m.path) for m in models.models if m.algorithm == alg}
        if recorded != wanted or inputs != [str(features)]:
            return False
    return True


def predict(cfg, paths: EventPaths, models: ModelGroups) -> bool:
    """Step 1; returns False when the predictions were already current."""
    from scope.inference import InferenceOptions, run_inference

    if predictions_current(paths, models):
        return False
    opts = InferenceOptions(field=paths.field, features_files=[paths.features], preds_root=paths.layout.base,
                            progress=False)
    summary = run_inference(cfg, list(models.models), opts)
    log.info("%s", summary.line())
    return True


def select_and_combine(cfg, paths: EventPaths, dateobs: str, models: ModelGroups, *, agg_method: str = "mean",
                       p_threshold: float = 0.7) -> Path:
    """Steps 2 and 3; returns the merged table."""
    from scope.fritz.select_sample import SampleOptions, select_fritz_sample
    from scope.inference.combine import combine_preds

    layout = paths.layout
    for alg, group in models.groups.items():
        opts = SampleOptions(fields=[paths.field], group=group, algorithm=alg, probability_threshold=0.0,
                             consol_filename=f"inference_results_{paths.save}",
                             al_directory=layout.sample_directory(alg), al_filename=paths.sample_name,
                             write_consolidation_results=True, select_top_n=True, do_all_sources=True, write_csv=True)
        select_fritz_sample(cfg, opts, base=layout.base)
    combine_preds(cfg, path_to_preds=layout.base, combined_dirname=f"{layout.combined_dirname}/{paths.save}",
                  dateobs=dateobs, merge_dnn_xgb=True, dnn_directory=layout.dnn_directory,
                  xgb_directory=layout.xgb_directory, write_csv=True, agg_method=agg_method, p_threshold=p_threshold,
                  overwrite=True)
    return paths.merged
