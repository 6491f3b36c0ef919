"""check-quads-for-sources: which quadrants of which fields hold light curves, and how many."""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.check_quads_for_sources")

DESCRIPTION = """List the populated CCD/quadrants of ZTF fields in the local archive or on Kowalski (light curves
with at least --minobs epochs). With --save, write <base>/<filename>.json as {field: {ccd: [quads]}} or, with
--count-sources, {field: {ccd: {quad: count}}}; the file is rewritten after every field, and a rerun scans
only the fields it lacks (--rescan: all again)."""


def get_parser():
    p = cli.build_parser("check-quads-for-sources", DESCRIPTION)
    p.add_argument("--fields", type=int, nargs="+", default=None, metavar="FIELD",
                   help="fields to check (default: every field of the archive, or 0-1999 on Kowalski)")
    p.add_argument("--catalog", default=None, help="Kowalski light-curve catalog (default: kowalski.collections.sources)")
    p.add_argument("--source", choices=["archive", "kowalski"], default=None,
                   help="where light curves come from (default: data.source)")
    p.add_argument("--count-sources", action="store_true", help="record the number of light curves per quadrant")
    p.add_argument("--minobs", type=int, default=0, help="count only light curves with at least this many epochs")
    p.add_argument("--save", action="store_true", help="write the completeness file")
    p.add_argument("--filename", default="catalog_completeness", help="completeness file name (without .json)")
    p.add_argument("--output-dir", default=None,
                   help="folder of the completeness file (default: feature_generation.path_to_features or CWD)")
    p.add_argument("--rescan", action="store_true", help="with --save: scan fields already in the file again")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.hpc.quadrants import default_fields, read_completeness, scan_fields, write_completeness
    from scope.lightcurves.sources import open_source
    from scope.tables import ensure_writable_dir

    cfg = cli.load_config_for(args)
    source = open_source(cfg, catalog=args.catalog, source=args.source)
    fields = args.fields or default_fields(source)
    path = cli.base_dir(cfg, args.output_dir) / f"{args.filename}.json"
    existing, known, save = {}, {}, None
    if args.save:
        ensure_writable_dir(path.parent)
        if path.exists() and not args.rescan:
            existing, has_counts = read_completeness(path)
            if has_counts or not args.count_sources:  # a file without counts cannot answer --count-sources
                wanted = set(fields)
                known = {f: q for f, q in existing.items() if f in wanted}
                if known:
                    log.info("%s already holds %d of the fields; scanning the others (--rescan: all)", path,
                             len(known))

        def save(counts):
            write_completeness(path, {**existing, **counts}, with_counts=args.count_sources)

    counts = scan_fields(source, fields, minobs=args.minobs, known=known, save=save, progress=not args.quiet)
    populated = {f: q for f, q in counts.items() if q}
    n_quads = sum(len(q) for q in populated.values())
    n_lc = sum(sum(q.values()) for q in populated.values())
    for field, quads in populated.items():
        if args.count_sources:
            log.info("field %d: %d quadrants, %s light curves", field, len(quads), f"{sum(quads.values()):,}")
        else:
            log.info("field %d: %d quadrants", field, len(quads))
    if args.save:
        save(counts)
        log.info("wrote %s", path)
    log.info("check-quads-for-sources: %d of %d fields hold light curves (minobs %d): %d quadrants%s%s",
             len(populated), len(fields), args.minobs, n_quads,
             f", {n_lc:,} light curves" if args.count_sources else "", f", in {source.catalog}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
