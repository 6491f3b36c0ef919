"""run-scope-local: features and class predictions for a list of objects, on this machine.

Takes every generate-features option plus the ones below. Examples (the lists ship with SCoPe and
scope-initialize copies them)::

    run-scope-local --path-dataset local_scope_ztfid.csv --doCPU --group-names experiment --algorithms xgb
    run-scope-local --path-dataset local_scope_radec.csv --doCPU --write-csv \\
        --group-names experiment experiment --algorithms xgb dnn
    run-scope-local --path-dataset my_stars.csv --lightcurve-files my_stars_lc.csv --doCPU --skipCloseSources
"""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.run_scope_local")


def get_parser():
    from tools.generate_features import get_parser as generate_parser

    # every generate-features option; the reference built this from a parent parser and crashed on -h
    p = generate_parser()
    p.prog = "run-scope-local"
    p.description = ("Find the light curves of a list of objects (ZTF ids or positions, optional names), compute "
                     "their features and apply the newest model of every class of the chosen groups; results go "
                     "to time-stamped folders.")
    g = p.add_argument_group("run-scope-local")
    g.add_argument("--path-dataset", required=True,
                   help="objects: CSV/parquet/HDF5 with ztf_id and/or ra, dec (+ obj_id); relative to the base folder "
                        "unless it exists as given")
    g.add_argument("--cone-radius-arcsec", type=float, default=2.0, help="search radius for objects given by position")
    g.add_argument("--save-sources-filepath", default="sources.parquet",
                   help="matched light curves (relative: inside scope_local_<stamp>/)")
    g.add_argument("--lightcurve-files", nargs="+", default=None, metavar="PATH",
                   help="per-object light-curve files (IRSA, or id,time,mag,magerr,band) instead of the archive")
    g.add_argument("--algorithms", nargs="+", default=["dnn"], help="dnn and/or xgb")
    g.add_argument("--group-names", nargs="+", default=["experiment"],
                   help="model group per --algorithms entry, in order (one serves all; extra ones are ignored with "
                        "a warning, as the reference did): models_<alg>/<group>/")
    g.add_argument("--models-dir", default=None, help="folder holding models_<alg>/ (default: current folder)")
    i = p.add_argument_group("inference")
    i.add_argument("--write-csv", "--write_csv", dest="write_csv", action="store_true", help="also write CSV files")
    i.add_argument("--batch-size", type=int, default=None, help="rows per inference batch")
    i.add_argument("--period-suffix", default=None, help="period suffix of card-less models and the period column")
    i.add_argument("--float-convert-types", type=int, nargs=2, default=None, metavar=("FROM", "TO"),
                   help="model input as float<TO> (default: inference.float_type)")
    i.add_argument("--scale-features", "--scale_features", dest="scale_features", default="min_max",
                   help="scaling of models without a model card")
    i.add_argument("--feature-stats", default=None, help="'config': scale card-less models with feature_stats")
    i.add_argument("--trainingSet", default="use_config", help="training set whose statistics scale card-less models")
    i.add_argument("--impute-reference", default=None, help="fixed reference table for imputation")
    i.add_argument("--time-run", action="store_true", help="log the run time")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.errors import DataError
    from scope.generation import GenerateOptions
    from scope.inference.local import LocalOptions, run_scope_local
    from scope.inference.models import LegacyScaling

    cli.quiet_tensorflow()
    if args.doCPU and args.doGPU:
        raise DataError("choose one of --doCPU and --doGPU, not both")
    if args.doNotSave:
        raise DataError("run-scope-local keeps its features and predictions; --doNotSave does not apply")
    cfg = cli.load_config_for(args)
    if not (args.doCPU or args.doGPU):
        log.info("no --doCPU/--doGPU: searching periods on the CPU")
        args.doCPU = True
    gen = GenerateOptions.from_args(args, cfg)
    inference = {"batch_size": args.batch_size}
    if args.float_convert_types:
        inference["float_type"] = f"float{args.float_convert_types[1]}"
    if args.period_suffix is not None:
        inference["period_suffix"] = args.period_suffix
    if args.impute_reference:
        inference["impute_reference"] = args.impute_reference
    local = LocalOptions(
        path_dataset=args.path_dataset, cone_radius_arcsec=args.cone_radius_arcsec,
        save_sources_filepath=args.save_sources_filepath, algorithms=args.algorithms, group_names=args.group_names,
        models_dir=args.models_dir, lightcurve_files=args.lightcurve_files, write_csv=args.write_csv,
        inference=inference,
        legacy=LegacyScaling(method=args.scale_features, feature_stats=args.feature_stats, training_set=args.trainingSet))
    result = run_scope_local(cfg, gen, local)
    log.info(result.line())
    if args.time_run:
        log.info("run time: %.2f s", result.seconds)
    print(result.stamp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
