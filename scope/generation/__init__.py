"""generate-features as a library: select sources, fetch and clean light curves, compute features.

See :func:`scope.generation.run.generate_features` (one quadrant or source list) and
:func:`scope.generation.field.generate_field` (several quadrants of a field in one process).
"""

from scope.generation.field import generate_field
from scope.generation.options import GenerateOptions, RunSummary
from scope.generation.outputs import output_path
from scope.generation.run import generate_features, generate_features_command

__all__ = ["GenerateOptions", "RunSummary", "generate_features", "generate_features_command", "generate_field",
           "output_path"]
