"""scope-demo-data: write a synthetic ZTF field (light curves, catalogs, truth, labels) and point config.yaml at it."""

from __future__ import annotations

import logging
from pathlib import Path

from scope import cli

log = logging.getLogger("tools.scope_demo_data")


def get_parser():
    p = cli.build_parser(
        "scope-demo-data",
        "Write a synthetic but realistic ZTF field into a working directory: light curves in the public "
        "ZTF data-release layout, Gaia/AllWISE/PS1/alert catalogs, a truth table and training labels. "
        "The config file (default <output-dir>/config.yaml) is updated to point at them.",
        writes_config=True)
    p.add_argument("--output-dir", default=".", help="working directory to write into (created if missing)")
    p.add_argument("--field", type=int, default=301, help="ZTF field number")
    p.add_argument("--ccds", type=int, nargs="+", default=[1, 2], metavar="CCD", help="CCDs to fill (1-16)")
    p.add_argument("--quads", type=int, nargs="+", default=[1, 2, 3, 4], metavar="QUAD",
                   help="quadrants to fill in every CCD (1-4)")
    p.add_argument("--n-per-quad", type=int, default=150, help="objects per quadrant")
    p.add_argument("--variable-fraction", type=float, default=0.43, help="share of variable objects")
    p.add_argument("--seed", type=int, default=42, help="random seed (same seed and flags: same files)")
    p.add_argument("--start-mjd", type=float, default=58194.0, help="first night of the survey (MJD)")
    p.add_argument("--years", type=float, default=3.0, help="survey length (baseline) in years")
    p.add_argument("--bands", nargs="+", default=["g", "r"], choices=["g", "r", "i"], help="ZTF filters")
    p.add_argument("--archive-name", default="ztf_archive", help="light-curve archive folder inside --output-dir")
    p.add_argument("--catalogs-name", default="catalogs", help="catalog folder inside --output-dir")
    p.add_argument("--no-config", action="store_true", help="do not create or update the config file")
    p.add_argument("--force", action="store_true", help="overwrite an existing demo in --output-dir")
    return p


def _body(args) -> int:
    from scope.demo import make_demo_sky

    sky = make_demo_sky(
        Path(args.output_dir), field=args.field, ccds=args.ccds, quads=args.quads, n_per_quad=args.n_per_quad,
        variable_fraction=args.variable_fraction, seed=args.seed, start_mjd=args.start_mjd, years=args.years,
        bands=args.bands, archive_name=args.archive_name, catalogs_name=args.catalogs_name, force=args.force,
        update_config=not args.no_config, config_path=args.config_path)
    variables = sky.n_objects - sky.class_counts.get("nonvar", 0)
    log.info("light curves: %s", sky.archive_path)
    log.info("catalogs:     %s", sky.catalogs_path)
    log.info("truth:        %s; labels: %s", sky.truth_path, sky.labels_path)
    if sky.config_path is not None:
        log.info("config:       %s (data.archive_path and data.catalogs_path point at the demo)", sky.config_path)
        args.config_path = str(sky.config_path)  # what --check-configs then checks
    log.info("classes: %s", ", ".join(f"{k} {v}" for k, v in sky.class_counts.items()))
    log.info("demo field %d: %d objects (%d variable), %d light curves on %d exposures, "
             "%d near bright stars; %d files in %.1f s",
             sky.field, sky.n_objects, variables, sky.n_lightcurves, sky.n_exposures, sky.n_near_bright_star,
             len(sky.files), sky.seconds)
    return 0


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
