"""Start a loopback Fritz (SkyPortal) by hand, seeded from a demo sky.

    python -m tests.loopback.fritz --demo demo --port 5000

prints the token and writes the ``fritz`` section into ``<demo>/config.yaml`` (unless
``--no-config``), then serves until Ctrl-C. See docs/fritz.md for the commands to try against it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.loopback.fritz", description=__doc__.split("\n\n")[0])
    p.add_argument("--demo", required=True, help="folder written by scope-demo-data (its sources seed the server)")
    p.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--token", default=None, help="token to accept (default: a random one, printed)")
    p.add_argument("--rate-limit", type=float, default=None, help="requests/s per token before HTTP 429")
    p.add_argument("--no-config", action="store_true", help="do not write the fritz section into config.yaml")
    args = p.parse_args(argv)
    from tests.loopback.skyportal_fixtures import write_fritz_config
    from tests.loopback.skyportal_seed import seed_from_demo
    from tests.loopback.skyportal_server import LoopbackSkyPortal

    demo = Path(args.demo)
    if not (demo / "ztf_archive" / "truth.parquet").exists():
        print(f"error: {demo} is not a scope-demo-data folder (run scope-demo-data first)", file=sys.stderr)
        return 1
    server = LoopbackSkyPortal(port=args.port, rate_limit=args.rate_limit).start()
    seed = seed_from_demo(server, demo, token=args.token)
    if not args.no_config:
        write_fritz_config(server, seed.token, demo, max_attempts=10, sleep_time=1, timeout=60, rate_limit=5)
    print(f"loopback Fritz at {server.url} with {len(seed.labelled)} labelled sources in group "
          f"{seed.groups['training']}; token {seed.token}" + ("" if args.no_config else f" (in {demo}/config.yaml)"),
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
