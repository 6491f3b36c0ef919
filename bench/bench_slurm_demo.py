"""The demo field's features through Slurm (generate-features-slurm + generate-features-job-submission)
against the serial way (one generate-features per quadrant, as scripts/run_demo.sh does), on the test
cluster of .ci/slurm.sh; checks that both give the same files and reports the wall times.

    source .ci/slurm.sh
    .venv/bin/python bench/bench_slurm_demo.py                       # the make-demo field: 8 quadrants
    .venv/bin/python bench/bench_slurm_demo.py --n-per-quad 40 --output /tmp/slurm-bench.md

Both runs use the same cores: serial one process per quadrant with --Ncore <cores>, Slurm one job per
quadrant with --Ncore 1, at most <cores> at once. The numba cache is warmed first, so neither run
pays the one-off compilation.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {"generate-features": "tools.generate_features", "scope-demo-data": "tools.scope_demo_data",
            "generate-features-slurm": "tools.generate_features_slurm",
            "generate-features-job-submission": "tools.generate_features_job_submission"}


def wrappers(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, module in COMMANDS.items():
        path = folder / name
        path.write_text(f'#!/bin/bash\nexport PYTHONPATH="{REPO}${{PYTHONPATH:+:$PYTHONPATH}}"\n'
                        f'exec "{sys.executable}" -m {module} "$@"\n')
        path.chmod(0o755)


def run(argv, cwd, env) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{' '.join(argv[:2])} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def same_files(a: Path, b: Path) -> int:
    import pandas as pd

    sys.path.insert(0, str(REPO))
    from scope.tables import read_table

    names = sorted(p.name for p in a.glob("*.parquet"))
    if names != sorted(p.name for p in b.glob("*.parquet")):
        sys.exit("the two runs wrote different files")
    for name in names:
        x, y = read_table(a / name), read_table(b / name)
        x.attrs, y.attrs = {}, {}
        pd.testing.assert_frame_equal(x, y)
    return len(names)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-per-quad", type=int, default=150, help="objects per quadrant (make demo: 150)")
    p.add_argument("--ccds", nargs="+", default=["1", "2"])
    p.add_argument("--quads", nargs="+", default=["1", "2", "3", "4"])
    p.add_argument("--grid", default="--max-freq 40 --samples-per-peak 4", help="frequency grid flags (the demo's)")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="cores both runs may use")
    p.add_argument("--workdir", default=None, help="keep the runs here (default: a temporary folder)")
    p.add_argument("--output", default=None, help="also write the report (markdown) here")
    args = p.parse_args()
    if not os.environ.get("SLURM_CONF") and shutil.which("sinfo") is None:
        sys.exit("no Slurm cluster: source .ci/slurm.sh first")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="scope-slurm-bench-"))
    env = dict(os.environ)
    wrappers(work / "bin")
    env["PATH"] = f"{work / 'bin'}{os.pathsep}{env['PATH']}"
    env.pop("SCOPE_CONFIG", None)
    grid = args.grid.split()
    quadrants = [(c, q) for c in args.ccds for q in args.quads]
    demo = ["scope-demo-data", "--field", "301", "--ccds", *args.ccds, "--quads", *args.quads, "--n-per-quad",
            str(args.n_per_quad), "--seed", "42", "--force", "-q"]
    for name in ("serial", "slurm"):
        (work / name).mkdir(parents=True, exist_ok=True)
        run(demo, work / name, env)
    # warm the numba cache (compilation is paid once per machine, not per run)
    warm = work / "warm"
    warm.mkdir(exist_ok=True)
    run(["scope-demo-data", "--ccds", "1", "--quads", "1", "--n-per-quad", "5", "--force", "-q"], warm, env)
    run(["generate-features", "--field", "301", "--ccd", "1", "--quad", "1", "--doCPU", *grid, "-q"], warm, env)

    serial = 0.0
    for ccd, quad in quadrants:
        serial += run(["generate-features", "--field", "301", "--ccd", ccd, "--quad", quad, "--doCPU",
                       "--doRemoveTerrestrial", "--Ncore", str(args.cores), *grid, "-q"], work / "serial", env)
    flags = ["--doCPU", "--doRemoveTerrestrial", "--Ncore", "1", *grid]
    gen = run(["generate-features-slurm", "--cluster-name", "plain", "--generateQuadrantFile", "--field-list", "301",
               "--gpus", "0", "--memory-GB", "1", "--time", "01:00:00", *flags, "-q"], work / "slurm", env)
    loop = run(["generate-features-job-submission", "--doSubmit", "--runParallel", "--max-instances",
                str(args.cores), "--wait-time-minutes", "0.05", "--submit-interval-minutes", "0", "-q"],
               work / "slurm", env)
    n = same_files(work / "serial" / "generated_features" / "field_301",
                   work / "slurm" / "generated_features" / "field_301")
    n_lc = 0
    import pyarrow.parquet as pq

    for path in (work / "serial" / "generated_features" / "field_301").glob("*.parquet"):
        n_lc += pq.read_metadata(path).num_rows
    load = os.getloadavg()[0]
    report = "\n".join([
        f"# Demo field through Slurm vs serial ({time.strftime('%Y-%m-%d %H:%M')}, load average {load:.2f}, "
        f"{args.cores} cores)", "",
        f"{n} quadrants, {n_lc} light curves written, grid `{args.grid}`; identical files in both runs.", "",
        "| run | wall s | light curves per s |", "|---|---|---|",
        f"| serial: one generate-features per quadrant, --Ncore {args.cores} | {serial:.1f} | {n_lc / serial:.1f} |",
        f"| Slurm: generate-features-slurm (quadrant file) | {gen:.1f} | |",
        f"| Slurm: job submission, {args.cores} jobs at once, --Ncore 1 | {loop:.1f} | {n_lc / loop:.1f} |",
        f"| Slurm total | {gen + loop:.1f} | {n_lc / (gen + loop):.1f} |", ""])
    print(report)
    if args.output:
        Path(args.output).write_text(report + "\n")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
