"""scope-initialize: write a starter config.yaml and example inputs into a working directory."""

from __future__ import annotations

import logging
from pathlib import Path

from scope import cli

log = logging.getLogger("tools.scope_initialize")


def get_parser():
    p = cli.build_parser("scope-initialize", "Write a starter config.yaml (no secrets) and the example "
                         "inputs (golden_dataset_mapper.json, local_scope_radec.csv, local_scope_ztfid.csv).",
                         config=False)
    p.add_argument("--output-dir", default=".", help="working directory to initialise")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    return p


def _body(args) -> int:
    from scope.initialize import initialize

    written = initialize(Path(args.output_dir), force=args.force)
    for path in written:
        log.info("wrote %s", path)
    log.info("initialised %s (%d files written)", Path(args.output_dir).resolve(), len(written))
    return 0


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
