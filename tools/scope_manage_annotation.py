"""scope-manage-annotation: post, update or delete a key of Fritz source annotations.

Example::

    scope-manage-annotation --action post --source sample.csv --group-ids 200 300 --origin revisedperiod --key period
"""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.scope_manage_annotation")

DESCRIPTION = """Post, update or delete the annotation key --key under --origin on one Fritz source (--source
<obj_id>) or on every source of a table with an obj_id column (values then come from the column named like
--key unless --value is given). Update merges the key into the existing annotation; delete removes each
annotation of that origin holding the key. Repeating a command changes nothing more."""


def get_parser():
    p = cli.build_parser("scope-manage-annotation", DESCRIPTION)
    p.add_argument("--action", required=True, help="post, update or delete")
    p.add_argument("--source", required=True, help="a Fritz obj_id, or a .csv/.parquet/.h5 table with obj_id")
    p.add_argument("--group-ids", "--group_ids", dest="group_ids", type=int, nargs="+", default=None,
                   help="Fritz groups that may see a posted annotation (default: all of the token's groups)")
    p.add_argument("--origin", default=None, help="annotation origin (e.g. revisedperiod)")
    p.add_argument("--key", default=None, help="annotation key (e.g. period)")
    p.add_argument("--value", default=None,
                   help="value to post/update (digits -> integer, with '.' -> float); from the table's --key "
                        "column when not given")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.errors import QueryError
    from scope.fritz.annotations import manage_annotation
    from scope.services.fritz import client_from_config

    cfg = cli.load_config_for(args)
    client = client_from_config(cfg)
    s = manage_annotation(client, args.action, args.source, origin=args.origin, key=args.key, value=args.value,
                          group_ids=args.group_ids)
    log.info("%s '%s' (origin %s): %d posted, %d updated, %d deleted, %d unchanged, %d without a matching "
             "annotation, %d failed", args.action.lower(), args.key, args.origin, s.posted, s.updated, s.deleted,
             s.unchanged, len(s.not_matched), len(s.failed))
    if s.failed:
        first = next(iter(s.failed.items()))
        raise QueryError(f"{len(s.failed)} sources failed (first: {first[0]}: {first[1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
