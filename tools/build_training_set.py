"""scope-build-training-set: join a labelled source list to feature files into a training set.

Example::

    scope-build-training-set --labels truth.parquet --features features/ --output training_set.parquet
"""

from __future__ import annotations

import sys
from typing import Sequence

from scope.cli import build_parser, load_config_for, run


def _parser():
    p = build_parser("scope-build-training-set",
                     "Build a training set from a labels table (ids or positions + label columns or "
                     "class names) and feature files.")
    p.add_argument("--labels", required=True, help="labels table (.parquet/.h5/.csv)")
    p.add_argument("--features", required=True, nargs="+", help="feature files or folders (id column _id)")
    p.add_argument("--output", required=True, help="training set to write (.parquet/.h5/.csv)")
    p.add_argument("--taxonomy-map", default=None, help="taxonomy mapper JSON (default: golden_dataset_mapper.json)")
    p.add_argument("--class-map", default=None, help="JSON {class name: label column or list} for extra names")
    p.add_argument("--id-column", default=None, help="id column of the labels (default: ztf_id, _id, id, ...)")
    p.add_argument("--class-column", default=None, help="column with a class name per row (default: class, ...)")
    p.add_argument("--ra-column", default="ra", help="right ascension column (deg) for matching by position")
    p.add_argument("--dec-column", default="dec", help="declination column (deg) for matching by position")
    p.add_argument("--radius-arcsec", type=float, default=2.0, help="match radius by position")
    p.add_argument("--no-implied-labels", action="store_true",
                   help="do not set the parent labels of a class name (RR Lyrae ab -> RR Lyrae, variable, ...)")
    return p


def _body(args) -> int:
    from scope.training.training_set import build_training_set_files

    cfg = load_config_for(args)
    build_training_set_files(
        args.labels, args.features, args.output, cfg=cfg, taxonomy_map=args.taxonomy_map,
        class_map=args.class_map, id_column=args.id_column, class_column=args.class_column,
        ra_column=args.ra_column, dec_column=args.dec_column, radius_arcsec=args.radius_arcsec,
        implied=not args.no_implied_labels)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of ``scope-build-training-set``."""
    return run(_body, _parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
