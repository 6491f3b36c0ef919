"""Benchmark of the demo's feature step: eight one-quadrant processes against one --whole-field process.

Writes a demo sky (``scope-demo-data``, the demo's defaults: field 301, CCDs 1-2, quadrants 1-4) into
a work folder, warms the numba cache with a tiny run, then times, as subprocesses of this script:

* ``separate``: ``generate-features --field 301 --ccd C --quad Q`` for the eight quadrants, one
  process each (what ``scripts/run_demo.sh`` step 3 ran before);
* ``whole-field``: ``generate-features --field 301 --whole-field`` (what it runs now);

both with the demo's flags (``--doCPU --doRemoveTerrestrial --Ncore N`` and the demo grid), and
checks that the two write identical feature tables. It reports wall-clock seconds and CPU seconds
(user + system of the child processes: robust to other load on the machine) per mode. ``--cold``
also times a whole-field run with an empty numba cache (what a fresh clone pays once).

Examples::

    .venv/bin/python bench/bench_generate_field.py --work /tmp/bench-gf
    .venv/bin/python bench/bench_generate_field.py --work /tmp/bench-gf --ncore 2 --cold
    .venv/bin/python bench/bench_generate_field.py --work /tmp/bench-gf --n-per-quad 40 --grid "--max-freq 10"

Compare numbers only from runs at low load: the report prints the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FIELD = 301
QUADRANTS = [(c, q) for c in (1, 2) for q in (1, 2, 3, 4)]


def _env(work: Path, numba_cache: str | None = None) -> dict:
    env = dict(os.environ, SCOPE_CONFIG=str(work / "config.yaml"))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if numba_cache:
        env["NUMBA_CACHE_DIR"] = numba_cache
    return env


def _timed(commands: list[list[str]], work: Path, env: dict) -> tuple[float, float]:
    """Run commands one after another; return (wall s, CPU s of the children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for cmd in commands:
        subprocess.run(cmd, cwd=work, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _generate(flags: list[str], dirname: str) -> list[str]:
    return [sys.executable, "-m", "tools.generate_features", "--field", str(FIELD), *flags, "--dirname", dirname,
            "--quiet"]


def _same_tables(work: Path, a: str, b: str) -> bool:
    import numpy as np
    import pandas as pd

    from scope.tables import read_table

    for ccd, quad in QUADRANTS:
        name = f"field_{FIELD}/gen_features_field_{FIELD}_ccd_{ccd}_quad_{quad}.parquet"
        x, y = read_table(work / a / name), read_table(work / b / name)
        try:
            pd.testing.assert_frame_equal(x.drop(columns=["dmdt"]), y.drop(columns=["dmdt"]))
        except AssertionError:
            return False
        if not all(np.array_equal(u, v) for u, v in zip(x["dmdt"], y["dmdt"])):
            return False
    return True


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, required=True, help="work folder (the demo sky is written here once)")
    p.add_argument("--n-per-quad", type=int, default=150, help="scope-demo-data --n-per-quad (demo: 150)")
    p.add_argument("--ncore", type=int, default=os.cpu_count() or 1, help="--Ncore (demo: all cores)")
    p.add_argument("--grid", default="--max-freq 40 --samples-per-peak 4", help="grid flags (demo's default)")
    p.add_argument("--cold", action="store_true", help="also time a whole-field run with an empty numba cache")
    args = p.parse_args(argv)

    work = args.work.resolve()
    if not (work / "config.yaml").exists():
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "tools.scope_demo_data", "--output-dir", str(work), "--field",
                        str(FIELD), "--n-per-quad", str(args.n_per_quad), "--force", "-q"], check=True,
                       env=_env(work))
    env = _env(work)
    flags = ["--doCPU", "--doRemoveTerrestrial", "--Ncore", str(args.ncore), *shlex.split(args.grid)]
    for name in ("bench_warm", "bench_separate", "bench_field", "bench_cold"):
        shutil.rmtree(work / name, ignore_errors=True)
    # compile (or load) the kernels once, so that neither mode pays the one-off JIT
    _timed([_generate([*flags, "--ccd", "1", "--quad", "1", "--stop-early", "--query-size-limit", "20"],
                      "bench_warm")], work, env)

    load0 = os.getloadavg()
    rows = []
    wall, cpu = _timed([_generate([*flags, "--ccd", str(c), "--quad", str(q)], "bench_separate")
                        for c, q in QUADRANTS], work, env)
    rows.append(("separate (8 processes)", wall, cpu))
    wall, cpu = _timed([_generate([*flags, "--whole-field"], "bench_field")], work, env)
    rows.append(("whole-field (1 process)", wall, cpu))
    if args.cold:
        with tempfile.TemporaryDirectory(prefix="bench-numba-") as cache:
            wall, cpu = _timed([_generate([*flags, "--whole-field"], "bench_cold")], work, _env(work, cache))
        rows.append(("whole-field, cold numba cache", wall, cpu))
    load1 = os.getloadavg()

    print(f"demo feature step, field {FIELD}, {len(QUADRANTS)} quadrants, n-per-quad {args.n_per_quad}, "
          f"--Ncore {args.ncore}, grid '{args.grid}'")
    print(f"load average before {load0[0]:.2f}, after {load1[0]:.2f} ({os.cpu_count()} CPUs)\n")
    print("| mode | wall s | CPU s |")
    print("|---|---:|---:|")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} |")
    same = _same_tables(work, "bench_separate", "bench_field")
    print(f"\nidentical feature tables: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
