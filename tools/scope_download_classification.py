"""scope-download-classification: download Fritz labels, optionally merged with features.

Examples::

    scope-download-classification --file parse --group-ids 2 --merge-features --features-file generated_features
    scope-download-classification --file sample.csv --group-ids 360 361 --start 10 --merge-features True
"""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.scope_download_classification")

DESCRIPTION = """Download the classifications, probabilities, votes, labellers and periods of Fritz sources - every
source saved to --group-ids (--file parse) or the rows of a table with obj_id and/or ra/dec - into
<output-dir>/<name>_fritzDownload.<format>. With --merge-features, join each source to the features of its ZTF
light curves (Kowalski's features catalog, or local feature files with --features-file) into a training set
<output-dir>/<output-filename>.<format>. An interrupted download resumes where it stopped."""


def get_parser():
    p = cli.build_parser("scope-download-classification", DESCRIPTION)
    p.add_argument("--file", default="parse",
                   help="'parse' (download the sources of --group-ids) or a .csv/.h5/.parquet file with obj_id "
                        "and/or ra, dec columns")
    p.add_argument("--group-ids", type=int, nargs="+", default=[], help="Fritz group ids (parse mode)")
    p.add_argument("--start", type=int, default=0,
                   help="first page (parse mode, 1-based) or first row (file mode, 0-based) to download")
    p.add_argument("--merge-features", type=cli.str2bool, nargs="?", const=True, default=False,
                   help="merge the downloaded sources with features (bare flag or true/false)")
    p.add_argument("--features-catalog", default=None,
                   help="Kowalski features catalog (default: kowalski.collections.features)")
    p.add_argument("--features-limit", type=int, default=1000, help="light curves per features query")
    p.add_argument("--features-file", default=None,
                   help="local features parquet file or folder (generate-features/get-features output) instead of "
                        "Kowalski (default: data.features_path when set and data.source is not kowalski)")
    p.add_argument("--taxonomy-map", default="golden_dataset_mapper.json",
                   help="taxonomy mapper JSON: label columns and their Fritz classes (a path, or the name of a "
                        "mapper in the current folder, the config's folder or shipped with SCoPe)")
    p.add_argument("--output-dir", default="fritzDownload", help="folder for the downloaded files")
    p.add_argument("--output-filename", default="merged_classifications_features",
                   help="name of the merged file (an extension here overrides --output-format)")
    p.add_argument("--output-format", default="parquet", help="parquet, h5 or csv")
    p.add_argument("--get-ztf-filters", "-get-ztf-filters", action="store_true",
                   help="add each light curve's ZTF filter id (1=g, 2=r, 3=i) to the features")
    p.add_argument("--impute-missing-features", action="store_true",
                   help="fill missing features with the strategies of features.ontological.*.impute_strategy")
    p.add_argument("--update-training-set", action="store_true",
                   help="fold the downloaded (active-learning) labels into the training set named by "
                        "training.dataset, keeping classifications with enough net votes")
    p.add_argument("--updated-training-set-prefix", default="updated_AL",
                   help="prefix of the updated training set and merged file names")
    p.add_argument("--min-vote-diff", type=int, default=1,
                   help="net votes (up - down) a classification needs with --update-training-set")
    p.add_argument("--radius-arcsec", type=float, default=2.0,
                   help="match radius for coordinates (file mode) and for light curves' features")
    p.add_argument("--period-suffix", default=None,
                   help="suffix of periodic features for dtypes and imputation (default: features.info.period_suffix)")
    p.add_argument("--restart", action="store_true", help="discard an interrupted download and start over")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.fritz.download import DownloadOptions, download_classifications
    from scope.schema import normalize_suffix
    from scope.services.fritz import client_from_config

    cfg = cli.load_config_for(args)
    opts = DownloadOptions(
        file=args.file, group_ids=args.group_ids, start=args.start, merge_features=args.merge_features,
        features_catalog=args.features_catalog, features_limit=args.features_limit, features_file=args.features_file,
        taxonomy_map=args.taxonomy_map, output_dir=args.output_dir, output_filename=args.output_filename,
        output_format=args.output_format, get_ztf_filters=args.get_ztf_filters,
        impute_missing_features=args.impute_missing_features, update_training_set=args.update_training_set,
        updated_training_set_prefix=args.updated_training_set_prefix, min_vote_diff=args.min_vote_diff,
        radius_arcsec=args.radius_arcsec, restart=args.restart,
        period_suffix=... if args.period_suffix is None else normalize_suffix(args.period_suffix))
    features = None
    if opts.merge_features:
        from scope.fritz.features import open_positional_features

        features = open_positional_features(cfg, features_file=opts.features_file, catalog=opts.features_catalog,
                                            limit=opts.features_limit)
    client = client_from_config(cfg)
    summary = download_classifications(cfg, opts, client, features=features, progress=not args.quiet)
    extra = f"; {summary.n_rows} rows with features" if opts.merge_features else ""
    if opts.update_training_set:
        extra += f"; training set now {summary.n_training_rows} rows"
    reused = f" ({summary.pages_reused} pages / {summary.rows_reused} rows from an earlier run)" \
        if summary.pages_reused or summary.rows_reused else ""
    missing = f"; {summary.not_found} rows not found on Fritz" if summary.not_found else ""
    log.info("downloaded %d sources in %d Fritz requests%s%s%s -> %s", summary.n_sources, client.requests_sent,
             reused, missing, extra, ", ".join(str(p) for p in summary.files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
