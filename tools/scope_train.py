"""scope-train: train the DNN or XGBoost classifier of one class.

Settings come from ``training.classes.<tag>`` (then ``training.dnn`` / ``training.defaults``) in
the config; every flag given here overrides them. Unknown flags are errors.

Example::

    scope-train --tag vnv --algorithm xgb --path-dataset training_set.parquet --skip-cv --save --plot
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from scope.cli import build_parser as _base_parser
from scope.cli import load_config_for, quiet_tensorflow, run, str2bool

log = logging.getLogger("tools.scope_train")

# flags whose value feeds scope.training.options (dest -> setting name is the same)
SETTING_FLAGS = ("threshold", "balance", "weight_per_class", "scale_features", "test_size", "val_size",
                 "random_state", "feature_stats", "batch_size", "shuffle_buffer_size", "epochs",
                 "float_convert_types", "lr", "beta_1", "beta_2", "epsilon", "decay", "momentum", "amsgrad",
                 "monitor", "patience", "callbacks", "run_eagerly", "dense_branch", "conv_branch", "loss",
                 "optimizer", "pre_trained_model", "save", "plot", "weights_only", "skip_cv")


def _balance(value: str):
    if str(value).strip().lower() in ("none", "null"):
        return "none"  # explicit "no balancing", overriding the config
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or None, got '{value}'") from None


def build_parser() -> argparse.ArgumentParser:
    """The scope-train argument parser (also used to check generated training scripts)."""
    p = _base_parser("scope-train", "Train the DNN or XGBoost classifier of one class.")
    p.add_argument("--tag", required=True, help="class tag, a key of training.classes")
    p.add_argument("--path-dataset", default=None, help="training set (.parquet/.h5/.csv); default training.dataset")
    p.add_argument("--algorithm", default="dnn", help="dnn or xgb")
    p.add_argument("--gpu", type=int, default=None, help="GPU index for the DNN (default: CPU)")
    p.add_argument("--job-type", default="train", help="wandb job type")
    p.add_argument("--group", default="experiment", help="output group: models_<alg>/<group>/<tag>/")
    p.add_argument("--run-sweeps", action="store_true", help="run a wandb sweep (DNN, wandb online)")
    p.add_argument("--period-suffix", default=None, help="suffix of periodic features (None: no suffix)")
    p.add_argument("--models-dir", default=None, help="folder holding models_<alg>/ (default: current folder)")
    g = p.add_argument_group("data")
    g.add_argument("--threshold", type=float, default=None, help="label > threshold is positive")
    g.add_argument("--balance", type=_balance, default=None,
                   help="keep at most balance x minority of the majority class in training (None: all)")
    g.add_argument("--weight-per-class", action="store_true", default=None, help="weight classes by frequency")
    g.add_argument("--scale-features", default=None, help="min_max, median_std or none")
    g.add_argument("--feature-stats", default=None, help="'config': scale with the config's feature_stats")
    g.add_argument("--test-size", type=float, default=None, help="fraction of examples for testing")
    g.add_argument("--val-size", type=float, default=None, help="fraction of examples for validation")
    g.add_argument("--random-state", type=int, default=None, help="seed of splits and training")
    g.add_argument("--float-convert-types", type=int, nargs=2, default=None, metavar=("FROM", "TO"),
                   help="float widths, e.g. 64 32")
    n = p.add_argument_group("DNN")
    n.add_argument("--batch-size", type=int, default=None)
    n.add_argument("--shuffle-buffer-size", type=int, default=None)
    n.add_argument("--epochs", type=int, default=None)
    n.add_argument("--lr", type=float, default=None, help="learning rate")
    n.add_argument("--beta-1", type=float, default=None)
    n.add_argument("--beta-2", type=float, default=None)
    n.add_argument("--epsilon", type=float, default=None)
    n.add_argument("--decay", type=float, default=None, help="inverse-time learning-rate decay per step")
    n.add_argument("--momentum", type=float, default=None, help="SGD momentum")
    n.add_argument("--amsgrad", type=str2bool, nargs="?", const=True, default=None, help="use AMSGrad (Adam)")
    n.add_argument("--optimizer", default=None, help="adam or sgd")
    n.add_argument("--loss", default=None)
    n.add_argument("--monitor", default=None, help="metric watched by the callbacks (val_loss)")
    n.add_argument("--patience", type=int, default=None)
    n.add_argument("--callbacks", nargs="+", default=None,
                   help="early_stopping, reduce_lr_on_plateau, tensorboard")
    n.add_argument("--run-eagerly", action="store_true", default=None)
    n.add_argument("--dense-branch", action=argparse.BooleanOptionalAction, default=None,
                   help="use the dense branch on the scalar features")
    n.add_argument("--conv-branch", action=argparse.BooleanOptionalAction, default=None,
                   help="use the convolutional branch on dmdt")
    n.add_argument("--pre-trained-model", default=None, help="model file to continue training (.h5/.keras/.json)")
    n.add_argument("--plot-model", action="store_true", help="draw the network (needs pydot)")
    o = p.add_argument_group("output")
    o.add_argument("--save", action="store_true", default=None, help="save the model and its card")
    o.add_argument("--plot", action="store_true", default=None, help="write confusion/ROC/PR/importance plots")
    o.add_argument("--weights-only", action="store_true", default=None, help="DNN: skip the .keras twin")
    o.add_argument("--skip-cv", action="store_true", default=None, help="XGB: no grid search")
    return p


def overrides_from_args(args: argparse.Namespace) -> dict:
    """The settings given on the command line (``None`` for those absent)."""
    values = {name: getattr(args, name) for name in SETTING_FLAGS}
    if values["balance"] == "none":
        values["balance"] = False  # "explicitly none": resolve_options treats False as no balancing
    return values


def _body(args: argparse.Namespace) -> int:
    from scope.training.train import train

    cfg = load_config_for(args)
    suffix = ... if args.period_suffix is None else args.period_suffix
    # the saved model's path is the command's output (stdout, for scripts); the log line does not repeat it
    result = train(cfg, args.tag, algorithm=args.algorithm, path_dataset=args.path_dataset, group=args.group,
                   period_suffix=suffix, job_type=args.job_type, gpu=args.gpu, run_sweeps=args.run_sweeps,
                   plot_model=args.plot_model, models_dir=args.models_dir,
                   verbose=int(args.verbose or 0), progress=not args.quiet, **overrides_from_args(args))
    if result.model_path:
        print(result.model_path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of ``scope-train``."""
    quiet_tensorflow()
    return run(_body, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
