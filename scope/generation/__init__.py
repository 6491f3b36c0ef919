"""generate-features as a library: select sources, fetch and clean light curves, compute features.

See :func:`scope.generation.run.generate_features`.
"""

from scope.generation.options import GenerateOptions, RunSummary
from scope.generation.run import generate_features, generate_features_command, output_path

__all__ = ["GenerateOptions", "RunSummary", "generate_features", "generate_features_command", "output_path"]
