"""generate-features as a library: select sources, fetch and clean light curves, compute features.

See :func:`scope.generation.run.generate_features` (one quadrant or source list) and
:func:`scope.generation.run.generate_field` (several quadrants of a field in one process).
"""

from scope.generation.options import GenerateOptions, RunSummary
from scope.generation.run import generate_features, generate_features_command, generate_field, output_path

__all__ = ["GenerateOptions", "RunSummary", "generate_features", "generate_features_command", "generate_field",
           "output_path"]
