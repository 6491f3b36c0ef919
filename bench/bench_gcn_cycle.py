"""One gcn-cronjob cycle on a demo sky against the loopback Fritz: events, sources, seconds per step.

    python bench/bench_gcn_cycle.py                           # a demo field (2 CCDs x 4 quadrants, 30 stars each)
    python bench/bench_gcn_cycle.py --demo demo               # the `make demo` folder, with its models
    python bench/bench_gcn_cycle.py --flags "--doCPU --Ncore 4 --max-freq 20"

Starts the test suite's loopback SkyPortal seeded from the demo (a GW event with three transients
on demo stars) plus a Fermi GRB event on two other stars, and runs gcn-cronjob twice in this
process: the cycle that finds the new light curves (download, features with the production grid
unless ``--flags`` says otherwise, DNN+XGB inference, combine, post) and the next cycle, which has
nothing new. Prints each event's timeline line from the run log, the summary, and the Fritz
requests. Models: the demo's ``models_<alg>/experiment`` when it has them, else tiny models trained
here on synthetic features (their scores mean nothing; the timing of each step does not depend on
them). The first cycle includes Python's imports (TensorFlow) and numba's compilation when the
cache is cold; run twice for warm numbers. Other load on the machine shows in the numbers.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _models(work: Path, demo: Path) -> str:
    if all((demo / f"models_{alg}" / "experiment").is_dir() for alg in ("dnn", "xgb")):
        for alg in ("dnn", "xgb"):
            shutil.copytree(demo / f"models_{alg}", work / f"models_{alg}", dirs_exist_ok=True)
        return "the demo's models_dnn|xgb/experiment"
    from scope.config import load_config
    from scope.tables import write_table
    from tests.inference.synthetic import train_models, training_set

    cfg = load_config(work / "config.yaml")
    write_table(training_set(cfg), work / "bench_training_set.parquet")
    train_models(cfg, work, work / "bench_training_set.parquet", xgb_tags=("vnv", "pnp"), dnn_tags=("vnv",))
    return "tiny models trained on synthetic features (xgb vnv, pnp; dnn vnv)"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--demo", default=None, help="an existing scope-demo-data folder (default: a new one)")
    p.add_argument("--n-per-quad", type=int, default=30, help="stars per quadrant of a new demo")
    p.add_argument("--flags", default="--doCPU", help="generate-features flags given to gcn-cronjob")
    p.add_argument("--keep", action="store_true", help="keep the working folder")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("WANDB_MODE", "disabled")
    import yaml

    from tests.loopback.skyportal_fixtures import write_fritz_config
    from tests.loopback.skyportal_seed import seed_from_demo, seed_grb_event
    from tests.loopback.skyportal_server import LoopbackSkyPortal
    from tools.gcn_cronjob import main as gcn_cronjob

    tmp = Path(tempfile.mkdtemp(prefix="bench_gcn_"))
    work = tmp / "project"
    if args.demo:
        shutil.copytree(args.demo, work, ignore=shutil.ignore_patterns("preds_*", "GCN_*", "generated_features*",
                                                                      "fritzDownload", "fritzUpload", "gcn_*"))
    else:
        from tools.scope_demo_data import main as demo_data

        assert demo_data(["--output-dir", str(work), "--ccds", "3", "5", "--n-per-quad", str(args.n_per_quad),
                          "-q"]) == 0
    server = LoopbackSkyPortal().start()
    try:
        seed = seed_from_demo(server, work)
        grb_group, _ = seed_grb_event(server, seed)
        config = yaml.safe_load((work / "config.yaml").read_text()) or {}
        (work / "config.yaml").write_text(yaml.safe_dump(config))
        write_fritz_config(server, seed.token, work, rate_limit=0, extra={"gcn": {
            "event_types": {"grb": {"tags": ["GRB", "Fermi"], "post_group_ids": [grb_group]},
                            "gw": {"tags": ["GW"], "post_group_ids": [seed.groups["emgw"]]}},
            "model_groups": {"dnn": "experiment", "xgb": "experiment"}}})
        models = _models(work, Path(args.demo) if args.demo else work)
        old = os.getcwd()
        os.chdir(work)
        try:
            print(f"demo: {work} ({len(seed.objects)} stars); models: {models}; flags: {args.flags}")
            for cycle in ("first cycle", "next cycle"):
                server.reset_log()
                t0 = time.perf_counter()
                rc = gcn_cronjob(["--daysAgo", "100000", "-q", *shlex.split(args.flags)])
                wall = time.perf_counter() - t0
                log = sorted((work / "gcn_logs").glob("*.log"))[-1].read_text().splitlines()
                print(f"\n== {cycle}: exit {rc}, {wall:.1f} s wall, {len(server.requests())} Fritz requests "
                      f"({len([r for r in server.requests() if r['method'] != 'GET'])} writes)")
                for line in log:
                    if "light curves (" in line or "gcn-cronjob: " in line:
                        print("  " + line.split(": ", 1)[1] if ": " in line else line)
        finally:
            os.chdir(old)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"\nkept {tmp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
