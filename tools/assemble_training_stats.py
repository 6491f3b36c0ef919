"""assemble-training-stats: collect the per-class metrics of a model group into one place.

Example::

    assemble-training-stats --group-name experiment --algorithm xgb --set-name test
"""

from __future__ import annotations

import sys
from typing import Sequence

from scope.cli import build_parser, run


def _parser():
    p = build_parser("assemble-training-stats", "Collect the per-class metrics of a model group.", config=False)
    p.add_argument("--group-name", default="experiment", help="group under models_<alg>/")
    p.add_argument("--algorithm", default="dnn", help="dnn or xgb")
    p.add_argument("--set-name", default="val", choices=("train", "val", "test"), help="which split")
    p.add_argument("--importance-directory", default="xgb_feature_importance",
                   help="where XGBoost importance files are copied")
    p.add_argument("--stats-directory", default="stats", help="stats go to <alg>_<stats-directory>/")
    p.add_argument("--models-dir", default=None, help="folder holding models_<alg>/ (default: current folder)")
    return p


def _body(args) -> int:
    from scope.training.assemble import assemble_training_stats

    assemble_training_stats(group_name=args.group_name, algorithm=args.algorithm, set_name=args.set_name,
                            importance_directory=args.importance_directory, stats_directory=args.stats_directory,
                            models_dir=args.models_dir)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of ``assemble-training-stats``."""
    return run(_body, _parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
