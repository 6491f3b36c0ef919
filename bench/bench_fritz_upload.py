"""Requests and wall time of uploading a demo field's classifications to a (loopback) Fritz.

    python bench/bench_fritz_upload.py                       # the `make demo` sky (1200 stars, g and r)
    python bench/bench_fritz_upload.py --n-per-quad 30        # smaller
    python bench/bench_fritz_upload.py --predictions demo/preds_xgb/field_301/field_301.parquet \\
        --demo demo --taxonomy-map XGB_AL_mapper.json

Starts the loopback SkyPortal of the test suite (tests/loopback), seeded from the demo sky (its
labelled stars already on Fritz, as after scanning), and runs scope-upload-classification three
times: the upload, the same command again (resumes from its progress log: sends nothing), and
``--restart`` (checks every row against Fritz again: posts nothing new). ``--fresh`` empties Fritz
first, so every star is a new source. Prints the requests per
route and the wall time of each. Without ``--predictions`` the scores are made from the demo
truth (variable stars 0.9, others 0.1, per light curve), which is all an upload looks at.

The loopback answers in about a millisecond, so the times measure the client; on fritz.science
the client's throttle (fritz.rate_limit, 5 requests/s like Fritz's limiter) bounds a run to about
requests / 5 seconds. ``--rate-limit 5`` applies that throttle here too.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def route(entry) -> str:
    path = re.sub(r"/api/sources/[^/]+", "/api/sources/<id>", entry["path"])
    path = re.sub(r"/\d+$", "/<n>", path)
    return f"{entry['method']} {path}"


def synthetic_predictions(demo: Path):
    import numpy as np
    import pandas as pd

    truth = pd.read_parquet(demo / "ztf_archive" / "truth.parquet")
    variable = (truth["class"] != "nonvar").to_numpy()
    periodic = truth["period"].notna().to_numpy()
    return pd.DataFrame({"_id": truth["_id"], "ra": truth["ra"], "dec": truth["dec"], "period": truth["period"],
                         "vnv_xgb": np.where(variable, 0.9, 0.1), "pnp_xgb": np.where(periodic, 0.9, 0.1)})


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--demo", default=None, help="existing scope-demo-data folder (default: make one)")
    p.add_argument("--n-per-quad", type=int, default=150, help="stars per quadrant of a new demo sky")
    p.add_argument("--predictions", default=None, help="predictions table to upload (default: from the truth)")
    p.add_argument("--taxonomy-map", default="XGB_AL_mapper.json")
    p.add_argument("--p-threshold", type=float, default=0.7)
    p.add_argument("--rate-limit", type=float, default=0, help="client throttle, requests/s (0: none)")
    p.add_argument("--fresh", action="store_true", help="start from a Fritz without any of the demo's sources")
    args = p.parse_args(argv)

    import os

    from scope.tables import write_table
    from tests.loopback.skyportal_fixtures import write_fritz_config
    from tests.loopback.skyportal_seed import seed_from_demo
    from tests.loopback.skyportal_server import LoopbackSkyPortal
    from tools import scope_demo_data, scope_upload_classification

    work = Path(tempfile.mkdtemp(prefix="bench_fritz_"))
    demo = Path(args.demo) if args.demo else work / "demo"
    if not args.demo:
        assert scope_demo_data.main(["--output-dir", str(demo), "--n-per-quad", str(args.n_per_quad), "-q"]) == 0
    preds = Path(args.predictions) if args.predictions else work / "preds.parquet"
    if not args.predictions:
        write_table(synthetic_predictions(demo), preds)
    os.chdir(demo)
    server = LoopbackSkyPortal().start()
    seed = seed_from_demo(server, demo)
    if args.fresh:
        for obj_id in list(server.state.objs):
            server.state.remove_obj(obj_id)
        seed.labelled = []
    write_fritz_config(server, seed.token, demo, rate_limit=args.rate_limit, rate_burst=10)
    cmd = ["--file", str(preds), "--group-ids", str(seed.groups["upload"]), "--taxonomy-map", args.taxonomy_map,
           "--p-threshold", str(args.p_threshold), "--result-dir", str(work / "fritzUpload"), "-q"]
    print(f"demo {demo}: {len(seed.objects)} stars ({len(seed.labelled)} already on Fritz); predictions {preds}", flush=True)
    for label, extra in (("upload", []), ("same command again", []), ("--restart (re-check)", ["--restart"])):
        server.reset_log()
        t0 = time.perf_counter()
        rc = scope_upload_classification.main(cmd + extra)
        wall = time.perf_counter() - t0
        counts = collections.Counter(route(e) for e in server.log)
        print(f"\n## {label}: exit {rc}, {len(server.log)} requests, {wall:.2f} s", flush=True)
        for r, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            print(f"  {n:6d}  {r}")
    st = server.state
    n_cls = sum(1 for c in st.classifications.values() if seed.groups["upload"] in c["group_ids"])
    print(f"\nFritz now: {n_cls} classifications in the upload group, "
          f"{sum(1 for o in st.objs if o not in seed.labelled)} sources not labelled before")
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
