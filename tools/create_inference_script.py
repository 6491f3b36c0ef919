"""create-inference-script: write get_all_preds_<alg>.sh, which runs inference for every class of a group.

Example::

    create-inference-script --group-name experiment --algorithm xgb --feature-directory generated_features
    ./get_all_preds_xgb.sh 301
"""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.create_inference_script")


def get_parser():
    p = cli.build_parser("create-inference-script",
                         "Write a shell script that runs run-inference with the newest model of every class of a "
                         "model group; call it with a field number (or specific_ids).")
    p.add_argument("--filename", default=None, help="script to write (default: get_all_preds_<alg>.sh)")
    p.add_argument("--group-name", default="experiment", help="model group: models_<alg>/<group>/")
    p.add_argument("--algorithm", default="dnn", help="dnn or xgb")
    p.add_argument("--models-dir", default=None, help="folder holding models_<alg>/ (default: current folder)")
    p.add_argument("--scale-features", default="min_max",
                   help="scaling of models without a model card (models with a card use their own)")
    p.add_argument("--feature-directory", default="features",
                   help="features (get-features) or a generate-features --dirname")
    p.add_argument("--write-csv", action="store_true", help="the script also writes CSV predictions")
    p.add_argument("--batch-size", type=int, default=100000, help="rows per inference batch")
    p.add_argument("--use-custom-python", action="store_true", help="run inference with --path-to-python")
    p.add_argument("--path-to-python", default=None,
                   help="interpreter for --use-custom-python (default: the one running this command)")
    p.add_argument("--period-suffix", default=None, help="period suffix (default: features.info.period_suffix)")
    p.add_argument("--add-keywords", default="", help="further run-inference options, appended verbatim")
    p.add_argument("--overwrite", action="store_true", help="replace an existing script")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    import sys
    from pathlib import Path

    from scope.inference.scripts import write_inference_script
    from scope.schema import default_suffix, normalize_suffix

    cfg = cli.load_config_for(args)
    suffix = default_suffix(cfg) if args.period_suffix is None else normalize_suffix(args.period_suffix)
    python = (args.path_to_python or sys.executable) if args.use_custom_python else None
    path = write_inference_script(
        cfg, filename=args.filename, group_name=args.group_name, algorithm=args.algorithm,
        models_dir=args.models_dir, overwrite=args.overwrite, scale_features=args.scale_features,
        feature_directory=args.feature_directory, write_csv=args.write_csv, batch_size=args.batch_size,
        period_suffix=suffix, python=python, config_path=args.config_path, extra=args.add_keywords)
    here = path.parent.resolve() == Path.cwd().resolve()
    log.info("run it with: %s <field>", f"./{path.name}" if here else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
