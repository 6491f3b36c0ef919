"""select-fritz-sample: choose sources for Fritz scanners (active learning) from model predictions.

Example::

    select-fritz-sample --fields 301 --group experiment --algorithm xgb --probability-threshold 0.7 \\
        --min-class-examples 20 --write-csv
"""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.select_fritz_sample")

DESCRIPTION = """Consolidate the predictions in preds_<algorithm>/field_<f>/ into sources (one per Gaia/AllWISE/PS1
id), and select, for every class with a model in models_<algorithm>/<group>/, sources scoring at least
--probability-threshold: a random sample topping the selection up to --min-class-examples per class, or the
best ones with --select-top-n. Writes <al-directory>_<algorithm>/<al-filename>/<al-filename>.parquet and
meta.json."""


def get_parser():
    p = cli.build_parser("select-fritz-sample", DESCRIPTION)
    p.add_argument("--fields", nargs="+", default=["all"],
                   help="field numbers, 'all', or source-list names such as specific_ids")
    p.add_argument("--group", default="experiment", help="group of trained models (models_<algorithm>/<group>)")
    p.add_argument("--min-class-examples", type=int, default=1000, help="sources wanted per class")
    p.add_argument("--select-top-n", action="store_true", help="take the best-scoring sources of each class")
    p.add_argument("--include-all-highprob-labels", action="store_true",
                   help="with --select-top-n keep every class column (scores below the threshold set to 0)")
    p.add_argument("--probability-threshold", type=float, default=0.9, help="lowest score of a selected source")
    p.add_argument("--al-directory", default="AL_datasets", help="output folder prefix (<dir>_<algorithm>)")
    p.add_argument("--al-filename", default="active_learning_set", help="output name (extension ignored)")
    p.add_argument("--algorithm", default="dnn", help="dnn or xgb")
    p.add_argument("--exclude-training-sources", action="store_true",
                   help="leave out sources of the training set (training.dataset)")
    p.add_argument("--write-csv", action="store_true", help="also write CSV files")
    p.add_argument("--consolidation-statistic", default="mean", help="mean, median or max over light curves")
    p.add_argument("--read-consolidation-results", action="store_true",
                   help="reuse <consol-filename>_consol.parquet instead of consolidating again")
    p.add_argument("--write-consolidation-results", action="store_true",
                   help="write <consol-filename>_consol.parquet and _full.parquet")
    p.add_argument("--consol-filename", default="inference_results", help="name of the consolidation files")
    p.add_argument("--doNotSave", action="store_true", help="select and report, write nothing")
    p.add_argument("--doAllSources", action="store_true", help="quota = every source (GCN follow-up)")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.fritz.select_sample import SampleOptions, select_fritz_sample

    cfg = cli.load_config_for(args)
    opts = SampleOptions(
        fields=args.fields, group=args.group, min_class_examples=args.min_class_examples,
        select_top_n=args.select_top_n, include_all_highprob_labels=args.include_all_highprob_labels,
        probability_threshold=args.probability_threshold, al_directory=args.al_directory,
        al_filename=args.al_filename, algorithm=args.algorithm, exclude_training_sources=args.exclude_training_sources,
        write_csv=args.write_csv, consolidation_statistic=args.consolidation_statistic,
        read_consolidation_results=args.read_consolidation_results,
        write_consolidation_results=args.write_consolidation_results, consol_filename=args.consol_filename,
        do_not_save=args.doNotSave, do_all_sources=args.doAllSources)
    picked, files = select_fritz_sample(cfg, opts)
    log.info("selected %d sources%s", len(picked), f" -> {files[-2] if len(files) > 1 else files[0]}" if files else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
