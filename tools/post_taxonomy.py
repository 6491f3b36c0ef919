"""post-taxonomy: post the SCoPe phenomenological taxonomy (or a tdtax YAML file) to Fritz.

Examples::

    post-taxonomy --group-ids 4
    post-taxonomy --taxonomy my_taxonomy.yaml --name "My taxonomy" --version 1.0.0 --provenance https://...
"""

from __future__ import annotations

import logging
from pathlib import Path

from scope import cli

log = logging.getLogger("tools.post_taxonomy")

DEFAULT_FILE = "phenomenological.yaml"
DESCRIPTION = f"""Post a classification taxonomy to Fritz: the tdtax YAML file --taxonomy, or, when that file is
the default {DEFAULT_FILE} and does not exist, the SCoPe phenomenological taxonomy shipped with SCoPe. Prints
the taxonomy id; a name and version Fritz already has are reported with their existing id."""


def get_parser():
    p = cli.build_parser("post-taxonomy", DESCRIPTION)
    p.add_argument("--taxonomy", default=DEFAULT_FILE, help="tdtax YAML file (relative to the current folder)")
    p.add_argument("--group-ids", type=int, nargs="+", default=None,
                   help="groups to share the taxonomy with (default: Fritz's public group)")
    p.add_argument("--name", default=None,
                   help="taxonomy name (default: 'SCoPe Phenomenological Taxonomy' for the bundled one, "
                        "'Scope Phenomenological Taxonomy' for a file)")
    p.add_argument("--version", default=None, help="taxonomy version (default: 1.3.0 bundled, 1.0.0 for a file)")
    p.add_argument("--provenance", default=None, help="where the taxonomy comes from (URL; default: github)")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.fritz import taxonomy as tx
    from scope.services.fritz import client_from_config

    cfg = cli.load_config_for(args)
    path = Path(args.taxonomy)
    if not path.exists() and args.taxonomy == DEFAULT_FILE:
        tree, defaults = tx.bundled_hierarchy(), (tx.BUNDLED_NAME, tx.BUNDLED_VERSION, tx.BUNDLED_PROVENANCE)
        source = "the bundled SCoPe phenomenological taxonomy"
    else:
        tree, defaults, source = tx.read_hierarchy(path), tx.FILE_DEFAULTS, str(path)
    name, version, provenance = (args.name or defaults[0], args.version or defaults[1],
                                 args.provenance or defaults[2])
    client = client_from_config(cfg)
    result = tx.post_taxonomy(client, tree, name=name, version=version, provenance=provenance,
                              group_ids=args.group_ids)
    print(result.taxonomy_id)
    log.info("%s taxonomy '%s' version %s from %s: taxonomy_id %d", "posted" if result.created else "Fritz already had",
             name, version, source, result.taxonomy_id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
