"""Inference: apply trained models to feature tables, write and combine predictions.

- :mod:`scope.inference.models`: find a group's models and load them with their model cards;
- :mod:`scope.inference.inputs`: locate feature files and stream them in row batches;
- :mod:`scope.inference.apply`: ``run-inference`` (batched, bounded memory);
- :mod:`scope.inference.combine`: ``combine-preds`` (DNN + XGB, light curves matched to sources);
- :mod:`scope.inference.scripts`: the ``get_all_preds_<alg>.sh`` generator;
- :mod:`scope.inference.local`: ``run-scope-local`` (a list of objects -> predictions).

Heavy libraries (TensorFlow, XGBoost) are imported only when a model of that kind is loaded.
"""

from scope.inference.apply import InferenceOptions, InferenceSummary, run_inference
from scope.inference.models import LegacyScaling, ModelSpec, discover_group, load_model_spec

__all__ = ["InferenceOptions", "InferenceSummary", "run_inference", "LegacyScaling", "ModelSpec",
           "discover_group", "load_model_spec"]
