"""run-inference: apply trained models to the feature files of a field (or of a source list).

Models are named one by one (``--paths-models`` + ``--model-class-names``, as the scripts of
create-inference-script do) or as a group (``--group-name``: the newest model of every class in
``models_<alg>/<group>/``). Each model's card gives its features, order, period suffix and
scaling; a feature file lacking any of those columns is refused with one line naming them.

Examples::

    run-inference --group-name experiment --algorithm xgb --field 301 --whole-field --write-csv
    run-inference --paths-models models_dnn/experiment/vnv/vnv.20240101_000000.h5 \\
        --model-class-names vnv --field 301 --whole-field --flag-ids
    run-inference --group-name experiment --algorithm dnn xgb --field specific_ids \\
        --feature-directory generated_features
"""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.run_inference")
DEFAULT_SCALING = "min_max"


def get_parser():
    p = cli.build_parser("run-inference", "Apply trained models to feature files and write predictions "
                         "preds_<alg>/field_<F>/field_<F>.parquet with one <tag>_<alg> column per class.")
    m = p.add_argument_group("models")
    m.add_argument("--paths-models", nargs="+", default=None, metavar="PATH",
                   help="model files (.h5 DNN, .json XGBoost), each with its model card beside it")
    m.add_argument("--model-class-names", nargs="+", default=None, metavar="TAG",
                   help="class tag of each --paths-models entry (same order); with --group-name: only these classes")
    m.add_argument("--group-name", "--model-group", dest="group_name", nargs="+", default=None, metavar="GROUP",
                   help="apply the newest model of every class in models_<alg>/<GROUP>/ (one group, or one per "
                        "--algorithm)")
    m.add_argument("--algorithm", nargs="+", default=None, metavar="ALG",
                   help="dnn and/or xgb (default: dnn, or xgb with --xgb-model; with --paths-models: from the "
                        "file extension)")
    m.add_argument("--xgb-model", action="store_true", help="the models are XGBoost models (same as --algorithm xgb)")
    m.add_argument("--models-dir", default=None, help="folder holding models_<alg>/ (default: current folder)")
    s = p.add_argument_group("what to score")
    s.add_argument("--field", default="296", help="field number, or a source-list name such as specific_ids")
    s.add_argument("--specific-ids", action="store_true", help="score the source-list features (--field specific_ids)")
    s.add_argument("--ccd", type=int, default=1, help="CCD (without --whole-field)")
    s.add_argument("--quad", type=int, default=1, help="quadrant (without --whole-field)")
    s.add_argument("--whole-field", action="store_true", help="every feature file of the field")
    s.add_argument("--feature-directory", default="features",
                   help="features (get-features) or the generate-features --dirname (generated_features)")
    s.add_argument("--feature-file-prefix", default="gen_features", help="generate-features --filename")
    s.add_argument("--features-file", nargs="+", default=None, metavar="PATH",
                   help="score these feature files instead (.parquet, .h5 or .csv)")
    s.add_argument("--path-to-features", default=None,
                   help="base folder of the feature directory (default: feature_generation.path_to_features or CWD)")
    i = p.add_argument_group("input preparation")
    i.add_argument("--period-suffix", default=None,
                   help="suffix of the period column copied to the output, and of the features of models without "
                        "a card (a card's own suffix always wins); None for no suffix")
    i.add_argument("--batch-size", type=int, default=None, help="rows per batch (default: inference.batch_size)")
    i.add_argument("--float-convert-types", type=int, nargs=2, default=None, metavar=("FROM", "TO"),
                   help="model input as float<TO> (default: inference.float_type)")
    i.add_argument("--impute-reference", default=None, metavar="PATH",
                   help="table whose medians/means/neighbours fill missing values (default: each batch itself, "
                        "as the reference)")
    i.add_argument("--scale-features", default=None,
                   help="scaling of models without a model card: min_max (default), median_std or none "
                        "(models with a card use the card's)")
    i.add_argument("--feature-stats", default=None, help="'config': scale card-less models with feature_stats")
    i.add_argument("--trainingSet", default="use_config",
                   help="training set whose statistics scale card-less models (default: training.dataset)")
    o = p.add_argument_group("output")
    o.add_argument("--flag-ids", action="store_true", help="list sources with missing features in <name>_flagged.json")
    o.add_argument("--write-csv", action="store_true", help="also write the predictions as CSV")
    o.add_argument("--no-write-metadata", action="store_true", help="do not update meta.json")
    o.add_argument("--output-dir", default=None, help="folder holding preds_<alg>/ (default: inference.path_to_preds or CWD)")
    o.add_argument("--overwrite", action="store_true",
                   help="replace a predictions file made from feature files this run does not read (e.g. a "
                        "whole-field file by a run on fewer files), and let per-quadrant parts that cover the "
                        "field replace a whole-field file")
    o.add_argument("--time-run", action="store_true", help="log the run time")
    o.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from pathlib import Path

    from scope.errors import DataError
    from scope.inference import InferenceOptions, LegacyScaling, discover_group, load_model_spec, run_inference
    from scope.training.options import normalize_algorithm

    cli.quiet_tensorflow()
    cfg = cli.load_config_for(args)
    suffix = ... if args.period_suffix is None else args.period_suffix
    scale = args.scale_features
    legacy = LegacyScaling(method=scale or DEFAULT_SCALING, feature_stats=args.feature_stats, training_set=args.trainingSet)
    algorithms = [normalize_algorithm(a) for a in args.algorithm] if args.algorithm else None
    if args.xgb_model:
        if algorithms and algorithms != ["xgb"]:
            raise DataError("--xgb-model contradicts --algorithm " + " ".join(args.algorithm))
        algorithms = ["xgb"]
    models_dir = Path(args.models_dir) if args.models_dir else Path.cwd()

    if args.paths_models and args.group_name:
        raise DataError("give either --paths-models or --group-name, not both")
    if args.paths_models:
        names = args.model_class_names
        if names is not None and len(names) != len(args.paths_models):
            raise DataError(f"--model-class-names has {len(names)} names for {len(args.paths_models)} --paths-models")
        if algorithms and len(algorithms) > 1:
            raise DataError("with --paths-models give at most one --algorithm (or none: the extension tells)")
        models = [load_model_spec(cfg, path, tag=names[k] if names else None,
                                  algorithm=algorithms[0] if algorithms else None, period_suffix=suffix, legacy=legacy)
                  for k, path in enumerate(args.paths_models)]
    elif args.group_name:
        algorithms = algorithms or ["dnn"]
        groups = args.group_name
        if len(groups) not in (1, len(algorithms)):
            raise DataError(f"give one --group-name or one per --algorithm ({len(algorithms)})")
        models = []
        for k, alg in enumerate(algorithms):
            group = groups[k] if len(groups) > 1 else groups[0]
            models += discover_group(cfg, models_dir, group, alg, period_suffix=suffix, legacy=legacy,
                                     tags=args.model_class_names)
    else:
        raise DataError("no models: give --paths-models (with --model-class-names) or --group-name")
    carded = [m for m in models if m.card is not None and m.scaling.get("method") != scale]
    if scale and carded:
        # the generated scripts always pass the reference's default; only a deliberate choice is worth a warning
        report = log.debug if scale == DEFAULT_SCALING else log.warning
        report("--scale-features %s applies to models without a model card only; %d model(s) use the scaling "
               "recorded in their card", scale, len(carded))

    field = "specific_ids" if args.specific_ids else str(args.field)
    opts = InferenceOptions(
        field=field, ccd=args.ccd, quad=args.quad, whole_field=args.whole_field, flag_ids=args.flag_ids,
        write_csv=args.write_csv, write_metadata=not args.no_write_metadata, batch_size=args.batch_size,
        float_type=f"float{args.float_convert_types[1]}" if args.float_convert_types else None,
        feature_directory=args.feature_directory, feature_file_prefix=args.feature_file_prefix,
        period_suffix=suffix, features_files=args.features_file,
        features_base=Path(args.path_to_features) if args.path_to_features else None,
        preds_root=Path(args.output_dir) if args.output_dir else None, impute_reference=args.impute_reference,
        progress=not args.no_progress, overwrite=args.overwrite)
    summary = run_inference(cfg, models, opts)
    log.info(summary.line())
    if summary.flagged_path:
        log.info("%s listed in %s", f"{summary.n_flagged} sources with missing features" if summary.n_flagged
                 else "no source with missing features", summary.flagged_path)
    if args.time_run:
        log.info("run time: %.2f s", summary.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
