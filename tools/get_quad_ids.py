"""get-quad-ids: list the light-curve ids of a ZTF field, per CCD/quadrant or for the whole field."""

from __future__ import annotations

import logging

import numpy as np

from scope import cli

log = logging.getLogger("tools.get_quad_ids")

DESCRIPTION = """Write the ids of the light curves in a ZTF field to ids/field_<F>/ under the output folder:
one HDF5 + CSV file per CCD/quadrant (single quadrant, or --multi-quads), or one HDF5 file for the whole
field (--whole-field), plus meta.json with the counts. Reads the local archive (data.archive_path) or,
with Kowalski credentials configured, a Kowalski catalog."""


def get_parser():
    p = cli.build_parser("get-quad-ids", DESCRIPTION)
    p.add_argument("--catalog", default=None,
                   help="Kowalski catalog to page through (default: kowalski.collections.sources); "
                        "recorded in meta.json when the local archive is used")
    p.add_argument("--source", choices=["archive", "kowalski"], default=None,
                   help="where ids come from (default: config data.source)")
    p.add_argument("--id-scheme", choices=["objectid", "kowalski"], default=None,
                   help="id form for the local archive: public DR objectid or Kowalski _id "
                        "(default: objectid; Kowalski always reports its own)")
    p.add_argument("--output", default=None, help="also write every id written, one per line, to this file")
    p.add_argument("--output-dir", default=None,
                   help="root folder; ids go to <root>/ids/field_<F>/ (default: feature_generation.path_to_features or CWD)")
    p.add_argument("--field", type=int, default=301, help="ZTF field")
    p.add_argument("--ccd-range", type=int, nargs="+", default=[1, 16], help="one CCD or an inclusive range")
    p.add_argument("--quad-range", type=int, nargs="+", default=[1, 4], help="one quadrant or an inclusive range")
    p.add_argument("--ccd", type=int, default=None, help="single-quadrant mode: the CCD (same as --ccd-range C)")
    p.add_argument("--quad", type=int, default=None, help="single-quadrant mode: the quadrant (same as --quad-range Q)")
    p.add_argument("--minobs", type=int, default=20, help="minimum number of epochs (flagged included)")
    p.add_argument("--skip", type=int, default=0, help="single-quadrant mode: ids to skip")
    p.add_argument("--limit", type=int, default=10000,
                   help="page size; in single-quadrant mode, the number of ids returned (0 = all)")
    p.add_argument("--multi-quads", action="store_true", help="one file per CCD/quadrant in the ranges")
    p.add_argument("--whole-field", action="store_true", help="one file for the whole field")
    return p


def main(argv=None) -> int:
    parser = get_parser()
    return cli.run(_body, parser, argv)


def _body(args) -> int:
    from scope.errors import DataError
    from scope.idfiles import write_ids_csv
    from scope.lightcurves.sources import open_source
    from scope.quadids import collect_quad_ids, write_field_ids, write_quad_ids, write_meta

    cfg = cli.load_config_for(args)
    base = cli.base_dir(cfg, args.output_dir)
    ccd_range = [args.ccd] if args.ccd is not None else args.ccd_range
    quad_range = [args.quad] if args.quad is not None else args.quad_range
    ccds = cli.inclusive_range(ccd_range, "ccd", 1, 16)
    quads = cli.inclusive_range(quad_range, "quad", 1, 4)
    source = open_source(cfg, catalog=args.catalog, source=args.source, id_scheme=args.id_scheme or "objectid")
    catalog = args.catalog or getattr(source, "catalog", "")
    if not source.quadrants(args.field):
        raise DataError(f"field {args.field} has no light curves in {source.catalog}")
    multi = args.multi_quads or args.whole_field
    if not multi:
        ccds, quads = ccds[:1], quads[:1]
    results = collect_quad_ids(source, args.field, ccds, quads, minobs=args.minobs,
                               page_size=args.limit, skip=0 if multi else args.skip,
                               single_page=not multi)
    total = sum(len(v) for v in results.values())
    if total == 0:
        raise DataError(f"no ids found in field {args.field}, CCDs {ccds[0]}-{ccds[-1]}, quadrants "
                        f"{quads[0]}-{quads[-1]} with minobs >= {args.minobs}")
    if args.whole_field:
        path = write_field_ids(base, args.field, results)
        log.info("wrote %d ids of field %d to %s", total, args.field, path)
    else:
        written = {k: v for k, v in results.items() if len(v)}
        for (ccd, quad), ids in written.items():
            write_quad_ids(base, args.field, ccd, quad, ids)
        log.info("wrote %d ids in %d quadrant files under %s", total, len(written),
                 base / "ids" / f"field_{args.field}")
    write_meta(base, args.field, results, catalog=catalog, minobs=args.minobs, ccd_range=[ccds[0], ccds[-1]],
               quad_range=[quads[0], quads[-1]])
    if args.output:
        from pathlib import Path

        write_ids_csv(Path(args.output), np.concatenate(list(results.values())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
