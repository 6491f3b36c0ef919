"""create-training-script: write a script with one scope-train line per class worth training.

Example::

    create-training-script --filename train_dnn.sh --min-count 100 --pre-trained-group-name experiment \
        --add-keywords '--save --batch-size 32 --group new_experiment'
"""

from __future__ import annotations

import sys
from typing import Sequence

from scope.cli import build_parser, load_config_for, run


def _parser():
    p = build_parser("create-training-script", "Write a training script: one scope-train line per class.")
    p.add_argument("--filename", default="train_script.sh", help="script to create (must not exist)")
    p.add_argument("--algorithm", default="dnn", help="dnn or xgb")
    p.add_argument("--min-count", type=int, default=100, help="fewest positive examples a class needs")
    p.add_argument("--path-dataset", default=None, help="training set (default: training.dataset)")
    p.add_argument("--pre-trained-group-name", default=None,
                   help="continue training the newest models of this group")
    p.add_argument("--add-keywords", default="", help="options appended to every line")
    p.add_argument("--train-all", action="store_true",
                   help="with --pre-trained-group-name, also train classes without a model")
    p.add_argument("--period-suffix", default=None, help="suffix of periodic features (default: config)")
    return p


def _body(args) -> int:
    from scope.training.scripts import create_training_script

    cfg = load_config_for(args)
    create_training_script(
        cfg, filename=args.filename, algorithm=args.algorithm, min_count=args.min_count,
        path_dataset=args.path_dataset, pre_trained_group_name=args.pre_trained_group_name,
        add_keywords=args.add_keywords, train_all=args.train_all,
        period_suffix=... if args.period_suffix is None else args.period_suffix)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of ``create-training-script``."""
    return run(_body, _parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
