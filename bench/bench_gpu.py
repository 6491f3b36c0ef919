"""Benchmark of the GPU period search: light curves/s, device and host memory, agreement with the CPU.

One short script for a GPU machine. For each size N (points per light curve) it builds a batch of
synthetic ZTF-like light curves (``bench_periodsearch.ztf_like_batch``: nightly visits in
observing seasons, known periods), searches the production grid (48 cycles/day, 10 samples per
peak, a 3-year baseline: ~5.3e5 frequencies) on the GPU backend with LS, CE (20x10), AOV (20),
CE+AOV in one pass and the nested ELS_ECE_EAOV (50 candidates), and prints:

* light curves per second (wall clock, after a warm-up that compiles the kernels);
* device memory the backend allocated (inputs + score buffers + state) and the host memory
  traced during the search (tracemalloc: NumPy arrays and Python objects);
* agreement with the CPU backend: the fraction of the first ``--cpu-check`` light curves whose
  best period is identical (ties aside), and recovery of the injected period (P, P/2 or 2P).

Examples::

    python bench/bench_gpu.py                               # the full run (a GPU machine)
    python bench/bench_gpu.py --sizes 1000 --n-lc 1000 --cpu-check 32
    python bench/bench_gpu.py --simulate --sizes 30 --n-lc 2 --max-freq 0.5 --baseline 100 --cpu-check 2

``--simulate`` runs the same kernels under numba's CUDA simulator on the CPU (only for tiny
settings: it checks that the script works, its numbers mean nothing).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scope.features.periodsearch import find_periods, make_grid  # noqa: E402
from scope.features.periodsearch.gpu import GpuBackend  # noqa: E402

TASKS = {
    "LS": ["ELS"],
    "CE 20x10": ["ECE"],
    "AOV 20": ["EAOV"],
    "CE+AOV fused": ["ECE", "EAOV"],
    "ELS_ECE_EAOV nested": ["ELS_ECE_EAOV"],
}


def _synthetic():
    """The light-curve generator and helpers of bench_periodsearch.py (one definition of them)."""
    spec = importlib.util.spec_from_file_location("bench_periodsearch", Path(__file__).with_name("bench_periodsearch.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000], help="points per light curve")
    p.add_argument("--n-lc", type=int, default=1000, help="light curves per batch (one device batch)")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS), help="what to time")
    p.add_argument("--max-freq", type=float, default=48.0, help="grid top (cycles/day)")
    p.add_argument("--samples-per-peak", type=float, default=10.0, help="grid oversampling")
    p.add_argument("--baseline", type=float, default=1095.0, help="light-curve baseline (days)")
    p.add_argument("--top-n", type=int, default=50, help="peaks kept (nested: candidates), as in production")
    p.add_argument("--chunk-mb", type=float, default=512.0, help="device memory for the score buffers (MiB)")
    p.add_argument("--cpu-check", type=int, default=64,
                   help="light curves per size compared with the CPU backend (0: skip)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads of the comparison run")
    p.add_argument("--simulate", action="store_true", help="run the kernels under numba's CUDA simulator (tiny runs)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--output", type=Path, default=None, help="also write the report (markdown) here")
    return p.parse_args(argv)


def _device_header(simulate: bool) -> str:
    if simulate:
        return "numba CUDA simulator (CPU): numbers are not GPU figures"
    from scope.features.periodsearch.gpu_probe import device_description

    d = device_description()
    return f"{d.get('gpu', '?')} (compute {d.get('compute_capability', '?')}, driver {d.get('cuda_driver', '?')})"


def _search(batch, grid, algorithms, backend, top_n):
    tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    try:
        res = find_periods(*batch, algorithms=algorithms, grid=grid, backend=backend, top_n=top_n)
    finally:
        wall = time.perf_counter() - t0
        _, host_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return res, wall, host_peak / 2 ** 20


def _best_periods(res):
    return {s: r.period for s, r in res.algorithms.items()}


def _agreement(gpu_res, cpu_res, n):
    """Fraction of light curves whose best period is identical, counting equal-score ties as agreement."""
    fractions = []
    for suffix, g in gpu_res.algorithms.items():
        c = cpu_res.algorithms[suffix]
        same = (g.period[:n] == c.period[:n]) | (np.isnan(g.period[:n]) & np.isnan(c.period[:n]))
        tie = np.isclose(g.statistic[:n], c.statistic[:n], rtol=1e-6)
        fractions.append(float(np.mean(same | tie)) if n else float("nan"))
    return min(fractions) if fractions else float("nan")


def run(args) -> list[str]:
    bp = _synthetic()
    rng = np.random.default_rng(args.seed)
    grid = make_grid(args.baseline, max_freq=args.max_freq, samples_per_peak=args.samples_per_peak)
    lines = [
        "# SCoPe GPU period-search benchmark",
        "",
        f"device: {_device_header(args.simulate)}; host: {platform.node()} ({platform.processor() or platform.machine()})",
        f"grid: {grid.n_kept} frequencies (max {args.max_freq} c/d, {args.samples_per_peak} per peak, "
        f"baseline {args.baseline} d); top-N {args.top_n}; score buffers {args.chunk_mb} MiB",
        "",
        "| N | task | light curves | lc/s | device MB | host MB | same best period as CPU | recovered |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    chunk = int(args.chunk_mb * 2 ** 20)
    for n_points in args.sizes:
        lcs = bp.ztf_like_batch(rng, args.n_lc, n_points, args.baseline)
        batch = bp.ragged(lcs)
        true = np.array([lc[3] for lc in lcs])
        warm = bp.ragged(lcs[:2])
        n_check = min(args.cpu_check, args.n_lc)
        check = bp.ragged(lcs[:n_check]) if n_check else None
        for task in args.tasks:
            algorithms = TASKS[task]
            backend = GpuBackend(simulate=args.simulate, chunk_bytes=chunk)
            find_periods(*warm, algorithms=algorithms, grid=grid, backend=backend, top_n=args.top_n)  # compile
            backend.peak_device_bytes = 0
            res, wall, host_mb = _search(batch, grid, algorithms, backend, args.top_n)
            agree = "-"
            if n_check:
                cpu = find_periods(*check, algorithms=algorithms, grid=grid, backend="cpu", top_n=args.top_n,
                                   n_threads=args.threads)
                agree = f"{_agreement(res, cpu, n_check):.1%} of {n_check}"
            main = list(res.algorithms.values())[-1]
            rec = float(np.mean(bp.recovered(main.period, true)))
            line = (f"| {n_points} | {task} | {args.n_lc} | {args.n_lc / wall:.1f} | "
                    f"{backend.peak_device_bytes / 2 ** 20:.1f} | {host_mb:.1f} | {agree} | {rec:.0%} |")
            lines.append(line)
            print(line, flush=True)
    lines += ["", "lc/s: light curves per wall-clock second of one batch (kernels compiled beforehand). device MB:",
              "what the backend allocated (per-point inputs, score buffers, tracker state); host MB: traced",
              "host allocations during the search. 'same best period': identical period, or equal statistic (a tie)."]
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    lines = run(args)
    if args.output:
        args.output.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
