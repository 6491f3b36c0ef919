"""Benchmark of the demo's training step: the generated training scripts, run as the demo runs them.

Takes a demo folder after its feature step (``scripts/run_demo.sh`` steps 1-3: ``config.yaml``,
``labels.parquet``, ``ztf_archive/``, ``generated_features/``), builds the training set as step 4
does, and for each variant of ``scope-train`` keywords writes ``train_xgb.sh`` / ``train_dnn.sh``
with ``create-training-script`` and runs them with bash, in a fresh copy. Prints, per variant and
algorithm: classes, wall seconds, CPU seconds of all child processes (user + system; less
distorted by other work on the machine than wall time), and the mean and minimum test ROC AUC of
the saved models (from their model cards), so that a faster variant shows what it costs in quality.

Examples::

    .venv/bin/python bench/bench_demo_training.py --demo demo
    .venv/bin/python bench/bench_demo_training.py --demo demo --parallel   # both scripts at once
    .venv/bin/python bench/bench_demo_training.py --demo demo --variant \\
        "quick=--skip-cv --save --random-state 7|--save --scale-features median_std --epochs 30 --patience 6 --random-state 7"

A variant is ``NAME=XGB_KEYWORDS|DNN_KEYWORDS`` (the ``--add-keywords`` of each script). The load
average at the start is printed: compare runs only at low load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: scripts/run_demo.sh step 5 before issue 9, and the flags recommended with it
VARIANTS = {
    "before": ("--skip-cv --save --plot --random-state 7",
               "--save --scale-features median_std --epochs 30 --patience 6 --batch-size 32 --random-state 7"),
    "recommended": ("--skip-cv --save --random-state 7",
                    "--save --scale-features median_std --epochs 30 --patience 6 --batch-size 32 --random-state 7"),
}
INPUTS = ("config.yaml", "labels.parquet", "ztf_archive", "catalogs", "generated_features")


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _run(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    wall0, cpu0 = time.time(), _children_cpu()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.time() - wall0, _children_cpu() - cpu0


def _aucs(folder: Path, algorithm: str) -> list[float]:
    out = []
    for card in sorted((folder / f"models_{algorithm}").rglob("*.card.json")):
        auc = ((json.loads(card.read_text()).get("metrics") or {}).get("test") or {}).get("roc_auc")
        if auc is not None:
            out.append(float(auc))
    return out


def run_variant(name: str, demo: Path, work: Path, xgb_kw: str, dnn_kw: str, args, env: dict) -> list[dict]:
    folder = work / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for item in INPUTS:
        if (demo / item).exists():
            (folder / item).symlink_to((demo / item).resolve())  # read-only inputs: share them
    env = {**env, "SCOPE_CONFIG": str(folder / "config.yaml")}
    field = args.field
    quads = sorted((demo / "generated_features" / f"field_{field}").glob(f"gen_features_field_{field}_ccd_1_quad_*.parquet"))
    _run(["scope-build-training-set", "--labels", "labels.parquet", "--features",
          *[str(q.relative_to(demo)) for q in quads], "--output", "training_set.parquet", "-q"], folder, env)
    rows, counts = [], {}
    for alg, kw, min_count in (("xgb", xgb_kw, args.xgb_min_count), ("dnn", dnn_kw, args.dnn_min_count)):
        script = f"train_{alg}.sh"
        _run(["create-training-script", "--algorithm", alg, "--filename", script, "--min-count", str(min_count),
              "--path-dataset", "training_set.parquet", "--add-keywords", kw, "-q"], folder, env)
        counts[alg] = sum(1 for ln in (folder / script).read_text().splitlines() if ln.startswith("scope-train"))
    if args.parallel:  # both scripts at once: the XGBoost runs use one core, so the DNN gets the other
        both = "bash train_xgb.sh & x=$!; bash train_dnn.sh; d=$?; wait $x; x=$?; exit $(( x || d ))"
        wall, cpu = _run(["bash", "-c", both], folder, env)
        timings = {"xgb+dnn": (wall, cpu)}
    else:
        timings = {alg: _run(["bash", f"train_{alg}.sh"], folder, env) for alg in counts}
    for alg, (wall, cpu) in timings.items():
        algs = alg.split("+")
        aucs = [a for x in algs for a in _aucs(folder, x)]
        rows.append({"variant": name, "alg": alg, "classes": sum(counts[x] for x in algs), "wall": wall, "cpu": cpu,
                     "mean_auc": sum(aucs) / len(aucs) if aucs else float("nan"),
                     "min_auc": min(aucs) if aucs else float("nan")})
        print(f"  {name} {alg}: {rows[-1]['classes']} classes, {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--demo", required=True, type=Path, help="demo folder after the feature step")
    p.add_argument("--workdir", type=Path, default=None, help="where the runs go (default: <demo>/bench_training)")
    p.add_argument("--field", type=int, default=301)
    p.add_argument("--xgb-min-count", type=int, default=40, help="as scripts/run_demo.sh")
    p.add_argument("--dnn-min-count", type=int, default=150, help="as scripts/run_demo.sh")
    p.add_argument("--parallel", action="store_true",
                   help="run train_xgb.sh and train_dnn.sh at the same time (one wall time for both)")
    p.add_argument("--variant", action="append", default=None, metavar="NAME=XGB_KW|DNN_KW",
                   help="keywords of a variant (default: the 'before' and 'recommended' variants)")
    args = p.parse_args(argv)
    demo = args.demo.resolve()
    if not (demo / "generated_features").is_dir():
        p.error(f"{demo} has no generated_features/: run scripts/run_demo.sh (steps 1-3) first")
    variants = dict(VARIANTS)
    if args.variant:
        variants = {}
        for v in args.variant:
            name, _, kws = v.partition("=")
            xgb_kw, _, dnn_kw = kws.partition("|")
            variants[name] = (xgb_kw, dnn_kw)
    work = (args.workdir or demo / "bench_training").resolve()
    env = dict(os.environ)
    env.update(TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0", WANDB_MODE="disabled")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs")
    rows = []
    for name, (xgb_kw, dnn_kw) in variants.items():
        rows += run_variant(name, demo, work, xgb_kw, dnn_kw, args, env)
    print("\n| variant | alg | classes | wall s | CPU s | mean test ROC AUC | min test ROC AUC |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['alg']} | {r['classes']} | {r['wall']:.1f} | {r['cpu']:.1f} | "
              f"{r['mean_auc']:.4f} | {r['min_auc']:.4f} |")
    for name in variants:
        part = [r for r in rows if r["variant"] == name]
        print(f"{name}: training step {sum(r['wall'] for r in part):.1f} s wall, "
              f"{sum(r['cpu'] for r in part):.1f} s CPU")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
