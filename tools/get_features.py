"""get-features: download precomputed features for the ids that get-quad-ids wrote."""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.get_features")

DESCRIPTION = """Download features for the sources of a ZTF field (whole field, or CCD/quadrant ranges) from a
Kowalski features catalog or a local features parquet, using the id files get-quad-ids wrote under
<base>/ids/field_<F>/. Writes <base>/features/field_<F>/..._iter_<i>.parquet files of at most --max-sources
rows. Rerunning resumes: ids already written are skipped (--restart starts over)."""


def get_parser():
    p = cli.build_parser("get-features", DESCRIPTION)
    p.add_argument("--field", type=int, default=291, help="ZTF field")
    p.add_argument("--ccd-range", type=int, nargs="+", default=[1, 16], help="one CCD or an inclusive range")
    p.add_argument("--quad-range", type=int, nargs="+", default=[1, 4], help="one quadrant or an inclusive range")
    p.add_argument("--limit-per-query", type=int, default=1000, help="ids per Kowalski query")
    p.add_argument("--max-sources", type=int, default=100000, help="rows per output file")
    p.add_argument("--features-catalog", default=None,
                   help="Kowalski features catalog (default: kowalski.collections.features)")
    p.add_argument("--features-file", default=None,
                   help="local features parquet file or folder instead of Kowalski (default: data.features_path "
                        "when set and data.source is not kowalski)")
    p.add_argument("--whole-field", action="store_true", help="read ids/field_<F>/field_<F>.h5 (one id file)")
    p.add_argument("--start", type=int, default=None, help="first position in the id list")
    p.add_argument("--end", type=int, default=None, help="position after the last one in the id list")
    p.add_argument("--restart", action="store_true", help="discard earlier output files and download everything")
    p.add_argument("--no-write-results", action="store_true", help="query only; write nothing")
    p.add_argument("--write-csv", action="store_true", help="also write a CSV next to each parquet file")
    p.add_argument("--column-list", nargs="+", default=None,
                   help="columns to download (default: all fields of the catalog)")
    p.add_argument("--suffix", default=None, help="appended to the output file names")
    p.add_argument("--impute-missing-features", action="store_true",
                   help="fill missing values with the strategies of features.ontological.*.impute_strategy")
    p.add_argument("--no-self-impute", action="store_true",
                   help="impute from the training set (training.dataset) instead of the downloaded rows")
    p.add_argument("--period-suffix", default=None,
                   help="suffix of periodic features for dtypes and imputation (default: features.info.period_suffix)")
    p.add_argument("--base-dir", "--output-dir", dest="base_dir", default=None,
                   help="base folder holding ids/ and receiving features/ "
                        "(default: feature_generation.path_to_features or CWD)")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def open_provider(cfg, args):
    """Local parquet (``--features-file`` / ``data.features_path``) or the Kowalski catalog."""
    from scope.features_download import KowalskiFeatures, LocalFeatures

    catalog = args.features_catalog or cfg.get_path("kowalski.collections.features")
    if args.features_file:
        # a path on the command line is relative to the current directory, like any shell path
        return LocalFeatures(args.features_file, catalog=args.features_catalog)
    local = cfg.get_path("data.features_path")
    if local and cfg.get_path("data.source", "auto") != "kowalski":
        return LocalFeatures(cfg.resolve_path(local), catalog=args.features_catalog)
    from scope.services.kowalski import client_from_config

    return KowalskiFeatures(client_from_config(cfg), catalog, args.limit_per_query)


def _body(args) -> int:
    from scope.features_download import FeaturesRequest, download_features
    from scope.schema import normalize_suffix

    cfg = cli.load_config_for(args)
    base = cli.base_dir(cfg, args.base_dir)
    req = FeaturesRequest(
        field=args.field,
        ccds=cli.inclusive_range(args.ccd_range, "ccd", 1, 16),
        quads=cli.inclusive_range(args.quad_range, "quad", 1, 4),
        whole_field=args.whole_field,
        max_sources=args.max_sources,
        start=args.start,
        end=args.end,
        restart=args.restart,
        write_results=not args.no_write_results,
        write_csv=args.write_csv,
        column_list=args.column_list,
        suffix=args.suffix,
        impute=args.impute_missing_features,
        self_impute=not args.no_self_impute,
        period_suffix=... if args.period_suffix is None else normalize_suffix(args.period_suffix),
    )
    provider = open_provider(cfg, args)
    summary = download_features(cfg, req, provider, base, progress=not args.quiet)
    verb = "downloaded" if req.write_results else "queried (not written)"
    log.info("%s %d rows of field %d from %s into %d file(s); %d ids already present, %d not in the catalog",
             verb, summary.rows, args.field, provider.catalog, len(summary.files), summary.skipped,
             summary.not_found)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
