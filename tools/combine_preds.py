"""combine-preds: merge DNN and XGBoost predictions per field; match light curves to sources.

Examples::

    combine-preds --specific-field 301 --write-csv
    combine-preds --use-config-fields --merge-dnn-xgb --agg-method max --p-threshold 0.8
"""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.combine_preds")


def get_parser():
    p = cli.build_parser("combine-preds",
                         "Merge preds_dnn/ and preds_xgb/ per field into preds_dnn_xgb/field_<F>.parquet, with each "
                         "light curve's source (Gaia, else AllWISE, else PS1 id; else its own id).")
    p.add_argument("--path-to-preds", default=None, help="folder holding the prediction folders "
                   "(default: inference.path_to_preds or CWD)")
    p.add_argument("--combined-preds-dirname", default="preds_dnn_xgb", help="output folder name")
    p.add_argument("--specific-field", default=None, help="combine only this field")
    p.add_argument("--use-config-fields", action="store_true",
                   help="combine inference.fields_to_run minus fields_to_exclude")
    p.add_argument("--dateobs", default=None, help="combine GCN_sources_<dateobs> instead of fields")
    p.add_argument("--merge-dnn-xgb", action="store_true",
                   help="also write one row per source with each class aggregated over algorithms and light curves")
    p.add_argument("--dnn-directory", default="preds_dnn", help="DNN predictions folder")
    p.add_argument("--xgb-directory", default="preds_xgb", help="XGBoost predictions folder")
    p.add_argument("--doNotSave", action="store_true", help="combine but write nothing")
    p.add_argument("--write-csv", action="store_true", help="also write CSV files")
    p.add_argument("--agg-method", default="mean", choices=["mean", "max"], help="aggregation for --merge-dnn-xgb")
    p.add_argument("--p-threshold", type=float, default=0.7,
                   help="score above which a class is listed for a source in merged_*_meta.json")
    p.add_argument("--overwrite", action="store_true", help="recombine fields already combined")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.inference.combine import combine_preds

    cfg = cli.load_config_for(args)
    summary = combine_preds(
        cfg, path_to_preds=args.path_to_preds, combined_dirname=args.combined_preds_dirname,
        specific_field=args.specific_field, use_config_fields=args.use_config_fields, dateobs=args.dateobs,
        merge_dnn_xgb=args.merge_dnn_xgb, dnn_directory=args.dnn_directory, xgb_directory=args.xgb_directory,
        save=not args.doNotSave, write_csv=args.write_csv, agg_method=args.agg_method,
        p_threshold=args.p_threshold, overwrite=args.overwrite)
    log.info(summary.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
