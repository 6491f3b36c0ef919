"""scope-initialize: write the starter files of a working directory (never replacing your changes).

Example::

    scope-initialize --output-dir mywork
"""

from __future__ import annotations

import logging
from pathlib import Path

from scope import cli

log = logging.getLogger("tools.scope_initialize")


def get_parser():
    p = cli.build_parser(
        "scope-initialize",
        "Write the reference SCoPe's starter files into a working directory: a starter config.yaml (no "
        "secrets) with a copy of the built-in config.defaults.yaml beside it, and in tools/ the taxonomy "
        "mappers (golden_dataset_mapper.json, fritz_mapper.json, DNN_AL_mapper.json, XGB_AL_mapper.json) and "
        "the example inputs of run-scope-local (local_scope_ztfid.csv, local_scope_radec.csv). A file you "
        "changed is kept and named; delete it and rerun to get the current version.",
        writes_config=True)
    p.add_argument("--output-dir", default=".", help="working directory to initialise (created if missing)")
    return p


def _body(args) -> int:
    from scope.initialize import initialize

    result = initialize(Path(args.output_dir), Path(args.config_path) if args.config_path else None)
    for path in result.written + result.updated:
        log.debug("wrote %s", path)
    args.config_path = str(result.config_path)  # what --check-configs then checks
    log.info(result.line())
    return 0


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
