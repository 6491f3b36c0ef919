"""scope-download-gcn-sources: ZTF light-curve ids of the Fritz sources in a GCN event's localization.

Example::

    scope-download-gcn-sources --dateobs 2023-05-21T05:30:43
"""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.scope_download_gcn_sources")

DESCRIPTION = """List the Fritz sources inside a GCN event's localization (detected within --days-range days
after it), find the ZTF light curves within --radius-arcsec of each (local archive or Kowalski), and write
<save-filename>.<dateobs>.parquet (ztf_id, fritz_name, coordinates) and .json, ready for
generate-features --doSpecificIDs --fg-dataset <that parquet>."""


def get_parser():
    p = cli.build_parser("scope-download-gcn-sources", DESCRIPTION)
    p.add_argument("--dateobs", required=True, help="dateobs of the GCN event, e.g. 2023-05-21T05:30:43")
    p.add_argument("--group-ids", type=int, nargs="+", default=None,
                   help="Fritz groups to search (default: every group of the token)")
    p.add_argument("--days-range", type=float, default=7.0, help="days after the event to include detections")
    p.add_argument("--radius-arcsec", type=float, default=0.5, help="light-curve match radius around each source")
    p.add_argument("--save-filename", default="fritzDownload/specific_ids_GCN_sources",
                   help="output path without extension (the dateobs and extension are appended)")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.fritz.gcn import download_gcn_sources
    from scope.lightcurves.sources import open_source
    from scope.services.fritz import client_from_config

    cfg = cli.load_config_for(args)
    client = client_from_config(cfg)
    lightcurves = open_source(cfg)
    result = download_gcn_sources(client, lightcurves, dateobs=args.dateobs, group_ids=args.group_ids,
                                  days_range=args.days_range, radius_arcsec=args.radius_arcsec,
                                  save_filename=args.save_filename)
    log.info("GCN event %s: %d Fritz sources, %d light curves (%d sources without one) -> %s", args.dateobs,
             result.n_fritz_sources, len(result.table), result.n_without_lightcurves,
             ", ".join(str(p) for p in result.files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
