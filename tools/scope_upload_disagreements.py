"""scope-upload-disagreements (deprecated): post sources the DNN and XGB variability models disagree on.

Example (the reference's form)::

    scope-upload-disagreements -file dataset.d15.csv -id 360 --predictions preds_dnn_xgb/field_301.parquet
"""

from __future__ import annotations

import logging
from pathlib import Path

from scope import cli

log = logging.getLogger("tools.scope_upload_disagreements")

DESCRIPTION = """Deprecated. Find light curves where one algorithm scores vnv above --high and the other at most
--low (from --predictions, a combine-preds table with vnv_dnn and vnv_xgb, or Kowalski's classifications
catalog), leave out those of the training set -file, and save each to the Fritz group -id with an annotation
(origin ML_DR5_d15_v1: period, both scores, Gaia photometry)."""


def get_parser():
    p = cli.build_parser("scope-upload-disagreements", DESCRIPTION)
    p.add_argument("-file", "--file", dest="file", default=None,
                   help="training set whose light curves are left out (default: training.dataset)")
    p.add_argument("-id", "--group-id", dest="group_id", type=int, default=1, help="Fritz group to post to")
    p.add_argument("-token", "--token", dest="token", default=None,
                   help="Fritz token (deprecated: visible to other users of the machine; use fritz.token or "
                        "$FRITZ_TOKEN)")
    p.add_argument("--predictions", default=None,
                   help="table with _id, vnv_dnn, vnv_xgb (default: query kowalski.collections.classifications)")
    p.add_argument("--high", type=float, default=0.95, help="score above which a model says variable")
    p.add_argument("--low", type=float, default=0.1, help="score at or below which a model says not variable")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.fritz.disagreements import disagreements, kowalski_disagreements, upload_disagreements
    from scope.lightcurves.sources import open_source
    from scope.services.fritz import client_from_config
    from scope.tables import read_table

    log.warning("scope-upload-disagreements is deprecated: prefer select-fritz-sample and "
                "scope-upload-classification")
    cfg = cli.load_config_for(args)
    if args.token:
        cfg["fritz"]["token"] = args.token
    client = client_from_config(cfg)
    if args.predictions:
        candidates = disagreements(read_table(args.predictions), high=args.high, low=args.low)
    else:
        from scope.services.kowalski import client_from_config as kowalski_client

        candidates = kowalski_disagreements(kowalski_client(cfg), cfg.get_path("kowalski.collections.classifications"),
                                            high=args.high, low=args.low)
    training = Path(args.file) if args.file else cfg.resolve_path(cfg.get_path("training.dataset"))
    if training is not None and not Path(training).exists():
        if args.file:
            from scope.errors import DataError

            raise DataError(f"training set not found: {training}")
        training = None
    lightcurves = open_source(cfg)
    s = upload_disagreements(cfg, client, candidates, training, args.group_id, lightcurves=lightcurves,
                             positions=lightcurves)
    log.info("%d disagreements, %d in the training set; %d posted to group %d, %d already annotated, %d without "
             "light curves", s.candidates, s.in_training_set, s.posted, args.group_id, s.already_annotated,
             s.without_lightcurves)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
