"""Benchmark of the SCoPe feature engine: throughput, scaling, memory, peers, period recovery.

One command for every figure of ``docs/benchmarks.md``::

    .venv/bin/python bench/bench_periodsearch.py --output /tmp/bench.md      # everything (~40 min)
    .venv/bin/python bench/bench_periodsearch.py --sizes 300 --threads 1 2 --skip-recovery   # targets only
    .venv/bin/python bench/bench_periodsearch.py --quadrant 10000 --quadrant-max-freq 1      # memory

Throughput runs on synthetic ZTF-like light curves (nightly visits in observing seasons over ~3
years, a periodic signal of known period: sinusoid, eclipsing-binary-like or sawtooth) at several
sizes on the production grid (max 48 cycles/day, 10 samples per peak: ~5.3e5 frequencies). Peers
that are installed are timed in the same run on the same light curves: nifty-ls and astropy
(Lomb-Scargle on the same grid) and light-curve (its fast Lomb-Scargle on a grid of 2**19 + 1
frequencies to the same top frequency, and 15 of its basic statistics). Then the scaling of LS,
CE and AOV in the number of frequencies, a summary against the targets of issue 14 (1 thread,
N = 300), and the period recovery of :mod:`bench_recovery` (dev set, ALeRCE, demo sky).

"lc/s (wall)" is light curves per wall-clock second; "lc per CPU-s" divides by the CPU time of
the process instead (all threads), so it measures per-core throughput and is not distorted by other
work on the machine; "peak MB" is the largest traced allocation (tracemalloc: NumPy arrays and
Python objects) during the task, i.e. the memory of one batch; "recovered" is the fraction of
light curves whose best period is within 1% of P, P/2, 2P, P/3 or 3P. The load average at the start is
printed: compare runs only at low load.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO, REPO / "bench"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import bench_recovery  # noqa: E402
import perioddata as PD  # noqa: E402

from scope.features import compute_lightcurve_features  # noqa: E402
from scope.features.stats import basic_stats  # noqa: E402
from scope.features.periodsearch import find_periods, make_grid  # noqa: E402
from scope.features.periodsearch import lsnifty  # noqa: E402

HJD0 = 2458200.5
SHARED = REPO / "tests" / "data"


# ----------------------------------------------------------------------------------------------
# synthetic light curves
# ----------------------------------------------------------------------------------------------


def ztf_like_batch(rng, n_lc, n_points, baseline):
    """``n_lc`` ZTF-like light curves of ``n_points`` points with known periods.

    Nights in observing seasons (8 of 12 months), one to a few visits per observed night, points
    spread over ``baseline`` days; periods log-uniform in [0.05, 100] days; shapes cycle through
    sinusoid, detached eclipsing binary (two narrow eclipses) and sawtooth (RR Lyrae-like).
    """
    lcs = []
    for k in range(n_lc):
        nights = np.arange(int(baseline))
        nights = nights[(nights % 365) < 240]
        n_nights = max(1, int(n_points / rng.uniform(1.0, 2.0)))
        chosen = np.sort(rng.choice(nights, size=min(n_nights, len(nights)), replace=False))
        t = np.sort(rng.choice(chosen, size=n_points, replace=True) + rng.uniform(0.15, 0.40, n_points))
        t = t + HJD0
        period = float(np.exp(rng.uniform(np.log(0.05), np.log(100.0))))
        shape = ("sine", "eclipse", "sawtooth")[k % 3]
        phase = ((t - HJD0) / period + rng.uniform()) % 1.0
        amp = rng.uniform(0.15, 0.6)
        if shape == "sine":
            signal = amp * np.sin(2 * np.pi * phase)
        elif shape == "eclipse":
            signal = amp * (np.exp(-0.5 * ((phase - 0.25) / 0.02) ** 2) + 0.5 * np.exp(-0.5 * ((phase - 0.75) / 0.02) ** 2))
        else:
            signal = amp * (phase - 0.5)
        noise = rng.uniform(0.01, 0.05)
        m = 17.0 + signal + rng.normal(0, noise, n_points)
        e = np.full(n_points, noise)
        lcs.append((t, m, e, period, shape))
    return lcs


def ragged(lcs):
    offsets = np.concatenate([[0], np.cumsum([len(lc[0]) for lc in lcs])]).astype(np.int64)
    return (np.concatenate([lc[0] for lc in lcs]), np.concatenate([lc[1] for lc in lcs]),
            np.concatenate([lc[2] for lc in lcs]), offsets)


def recovered(found, true, tol=0.01):
    """Within ``tol`` of the true period or a harmonic of it (see :func:`perioddata.recovery`)."""
    return PD.recovery(found, true, tol)[1]


# ----------------------------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------------------------


def measure(fn):
    """Run ``fn()``; return (result, wall seconds, process CPU seconds, traced peak in MB)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    c0 = time.process_time()
    try:
        result = fn()
    finally:
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - c0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, elapsed, cpu, peak / 2**20


def warm_up(grid):
    """Compile every kernel once (numba caches on disk, but the first call still loads)."""
    lcs = ztf_like_batch(np.random.default_rng(0), 2, 60, 400)
    small = make_grid(400, max_freq=2.0, samples_per_peak=2)
    b = ragged(lcs)
    for alg in (["LS"], ["CE"], ["AOV"], ["CE", "AOV"]):
        find_periods(*b, algorithms=alg, grid=small, top_n=3, n_threads=1)
    find_periods(*b, algorithms=["LS"], grid=small, top_n=3, n_threads=1, ls_engine="numba")
    compute_lightcurve_features(*b, algorithms=["ELS_ECE_EAOV"], grid=small, top_n_periods=50, n_threads=1,
                                best_period=True)
    basic_stats(*b)


def nifty_direct(lcs, grid, n_threads):
    """nifty-ls on its own: full periodogram per light curve, best frequency = argmax."""
    from nifty_ls import finufft

    best = []
    for t, m, e, *_ in lcs:
        tr = t - t.min()
        power = finufft.lombscargle(tr, m, grid.fmin, grid.df, grid.nf, nthreads=n_threads,
                                    center_data=True, fit_mean=False)
        best.append(1.0 / (grid.fmin + grid.df * int(np.argmax(power))))
    return np.array(best)


def astropy_direct(lcs, grid):
    """astropy LombScargle (its 'fast' method) on the same grid; best frequency = argmax."""
    from astropy.timeseries import LombScargle

    freqs = grid.fmin + grid.df * np.arange(grid.nf)
    best = []
    for t, m, e, *_ in lcs:
        power = LombScargle(t - t.min(), m, fit_mean=False, center_data=True).power(freqs, method="fast")
        best.append(1.0 / freqs[int(np.argmax(power))])
    return np.array(best)


def lightcurve_ls(lcs, max_freq):
    """light-curve's fast Lomb-Scargle (its FFT grid of 2**19 + 1 frequencies up to ``max_freq``)."""
    import light_curve as lcpkg

    per = lcpkg.Periodogram(peaks=1, freqs=np.linspace(0.0, 2 * np.pi * max_freq, 2**19 + 1), fast=True)
    # its features are (period, signal-to-noise) of each peak
    return np.array([per(t - t.min(), m, e)[0] for t, m, e, *_ in lcs])


def lightcurve_stats(lcs):
    """15 basic statistics of light-curve on every light curve."""
    import light_curve as lcpkg

    ext = lcpkg.Extractor(lcpkg.Amplitude(), lcpkg.AndersonDarlingNormal(), lcpkg.BeyondNStd(1.0), lcpkg.Cusum(),
                          lcpkg.Eta(), lcpkg.EtaE(), lcpkg.ExcessVariance(), lcpkg.InterPercentileRange(0.25),
                          lcpkg.Kurtosis(), lcpkg.MedianAbsoluteDeviation(), lcpkg.ReducedChi2(), lcpkg.Skew(),
                          lcpkg.StandardDeviation(), lcpkg.StetsonK(), lcpkg.WeightedMean())
    return ext.many([(t, m, e) for t, m, e, *_ in lcs], n_jobs=1)


def have(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def bench_size(n_points, args, rng):
    lcs = ztf_like_batch(rng, args.n_lc, n_points, args.baseline)
    grid = make_grid(args.baseline, max_freq=args.max_freq, samples_per_peak=args.samples_per_peak)
    true = np.array([lc[3] for lc in lcs])
    batch = ragged(lcs)
    # the statistics take microseconds: time them on many copies of the light curves
    many = lcs * max(1, args.stats_lc // len(lcs))
    many_batch = ragged(many)
    rows = []

    def add(task, threads, fn, period_of, n=None):
        # best of --repeat runs: on a shared machine the fastest run is the least disturbed one
        runs = [measure(fn) for _ in range(max(1, args.repeat))]
        result, secs, cpu, peak = min(runs, key=lambda r: r[1])
        rec = recovered(period_of(result), true).mean() if period_of else float("nan")
        count = n or len(lcs)
        rows.append({"N": n_points, "task": task, "threads": threads, "lc_per_s": count / secs,
                     "lc_per_cpu_s": count / max(cpu, 1e-9), "peak_mb": peak, "recovered": rec, "nf": grid.n_kept})

    for threads in args.threads:
        kw = dict(grid=grid, top_n=10, n_threads=threads)
        add("LS (scope)", threads, lambda: find_periods(*batch, algorithms=["LS"], **kw),
            lambda r: r.algorithms["LS"].period)
        add("LS (scope, direct kernel)", threads,
            lambda: find_periods(*batch, algorithms=["LS"], ls_engine="numba", **kw),
            lambda r: r.algorithms["LS"].period)
        add("CE 20x10", threads, lambda: find_periods(*batch, algorithms=["CE"], **kw),
            lambda r: r.algorithms["CE"].period)
        add("AOV 20", threads, lambda: find_periods(*batch, algorithms=["AOV"], **kw),
            lambda r: r.algorithms["AOV"].period)
        add("CE+AOV (one pass)", threads, lambda: find_periods(*batch, algorithms=["CE", "AOV"], **kw),
            lambda r: r.algorithms["AOV"].period)
        add("22 basic statistics", threads, lambda: basic_stats(*many_batch, n_threads=threads), None, n=len(many))
        if not args.skip_whole:
            add(WHOLE, threads,
                lambda: compute_lightcurve_features(*batch, algorithms=["ELS_ECE_EAOV"], grid=grid,
                                                    top_n_periods=50, n_threads=threads, best_period=True),
                lambda r: r["period_BEST"])
        if lsnifty.available():
            add("nifty-ls alone (full periodogram)", threads, lambda: nifty_direct(lcs, grid, threads), lambda r: r)
    if have("light_curve"):
        add("light-curve LS (fast, 2**19+1 frequencies)", 1, lambda: lightcurve_ls(lcs, args.max_freq), lambda r: r)
        add("light-curve, 15 basic statistics", 1, lambda: lightcurve_stats(many), None, n=len(many))
    if not args.skip_astropy:
        add("astropy LombScargle (fast)", 1, lambda: astropy_direct(lcs, grid), lambda r: r)
    return rows


def bench_frequencies(args, rng):
    """LS, CE and AOV at N = 300 on grids of several sizes (1 thread): the cost per frequency."""
    lcs = ztf_like_batch(rng, max(2, args.n_lc // 2), 300, args.baseline)
    batch = ragged(lcs)
    rows = []
    for fmax in args.max_freqs:
        grid = make_grid(args.baseline, max_freq=fmax, samples_per_peak=args.samples_per_peak)
        for alg in ("LS", "CE", "AOV"):
            run = (lambda: find_periods(*batch, algorithms=[alg], grid=grid, top_n=10, n_threads=1))
            run()  # the transform plan of a new grid is built once per run: not timed
            _, secs, cpu, peak = min((measure(run) for _ in range(max(1, args.repeat))), key=lambda r: r[2])
            rows.append({"nf": grid.n_kept, "task": alg, "lc_per_cpu_s": len(lcs) / cpu,
                         "ns_per_freq": cpu / len(lcs) / grid.n_kept * 1e9, "peak_mb": peak})
    return rows


#: Name of the whole-feature-set task in the tables.
WHOLE = "whole feature set (nested LS/CE/AOV, best period, Fourier, stats, dm-dt)"

#: Targets of issue 14 (1 thread, N = 300, production grid), light curves per CPU-second.
TARGETS = (("LS (scope)", 40.0), ("CE 20x10", 8.0), ("AOV 20", 12.0), ("22 basic statistics", 100_000.0),
           (WHOLE, 5.0))


def summary(rows):
    """Targets at N = 300: 1-thread figure, target, and the 2-thread speed-up of the same task."""
    out = []
    for task, target in TARGETS:
        one = [r for r in rows if r["N"] == 300 and r["task"] == task and r["threads"] == 1]
        two = [r for r in rows if r["N"] == 300 and r["task"] == task and r["threads"] == 2]
        if not one:
            continue
        speedup = two[0]["lc_per_s"] / one[0]["lc_per_s"] if two else float("nan")
        out.append({"task": task, "value": one[0]["lc_per_cpu_s"], "target": target, "speedup": speedup,
                    "met": "yes" if one[0]["lc_per_cpu_s"] >= target else "no"})
    return out


# ----------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------


def table(rows, columns):
    head = "| " + " | ".join(c[0] for c in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(fmt(r[key]) for _, key, fmt in columns) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def environment_line():
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    import numba

    peers = f"nifty-ls {lsnifty.version() or 'not installed'}"
    if have("light_curve"):
        import light_curve

        peers += f", light-curve {light_curve.__version__}"
    else:
        peers += ", light-curve not installed"
    return (f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
            f"{peers}; {os.cpu_count()} CPUs "
            f"({platform.processor() or platform.machine()}); load average {load[0]:.2f}")


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[30, 100, 300, 1000], help="points per light curve")
    p.add_argument("--n-lc", type=int, default=4, help="light curves per size (default 4)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to time")
    p.add_argument("--max-freq", type=float, default=48.0, help="grid top frequency, cycles/day")
    p.add_argument("--max-freqs", type=float, nargs="*", default=[6.0, 12.0, 24.0, 48.0],
                   help="grid top frequencies of the scaling-in-frequencies table (none: skip it)")
    p.add_argument("--samples-per-peak", type=float, default=10.0)
    p.add_argument("--baseline", type=float, default=1095.0, help="synthetic baseline, days (~3 yr)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1, help="time each task this many times, keep the fastest")
    p.add_argument("--stats-lc", type=int, default=2000, help="light curves the statistics are timed on")
    p.add_argument("--skip-whole", action="store_true", help="skip the whole-feature-set timing")
    p.add_argument("--skip-astropy", action="store_true", help="skip astropy LombScargle")
    p.add_argument("--skip-recovery", action="store_true", help="skip the period-recovery tables")
    p.add_argument("--recovery-sets", nargs="+", default=list(bench_recovery.SETS), choices=bench_recovery.SETS,
                   help="light-curve sets of the recovery tables")
    p.add_argument("--recovery-algorithms", nargs="+", default=["LS", "CE", "AOV"],
                   help="algorithms searched for the recovery tables")
    p.add_argument("--dev-dir", default=str(bench_recovery.DEV_DIR), help="folder of the period dev set")
    p.add_argument("--data-dir", default=str(SHARED), help="folder with alerce_periodic_*.parquet")
    p.add_argument("--quadrant", type=int, default=0,
                   help="also run the whole feature set on this many 300-point light curves (memory check)")
    p.add_argument("--quadrant-max-freq", type=float, default=48.0, help="grid top frequency for --quadrant")
    p.add_argument("--output", help="also write the report (markdown) to this file")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    rng = np.random.default_rng(args.seed)
    lines = ["# SCoPe feature-engine benchmark", "", environment_line(), ""]
    print("\n".join(lines), flush=True)
    warm_up(None)
    rows = []
    for n in args.sizes:
        rows += bench_size(n, args, rng)
        print(f"... N = {n} done", file=sys.stderr, flush=True)
    cols = [("N", "N", str), ("task", "task", str), ("threads", "threads", str),
            ("lc/s (wall)", "lc_per_s", lambda v: f"{v:.2f}"), ("lc per CPU-s", "lc_per_cpu_s", lambda v: f"{v:.2f}"),
            ("peak MB", "peak_mb", lambda v: f"{v:.1f}"),
            ("recovered", "recovered", lambda v: "-" if not np.isfinite(v) else f"{v:.0%}")]
    nf = rows[0]["nf"] if rows else 0
    text = [f"## Throughput ({args.n_lc} light curves per size, {nf:,} frequencies: max {args.max_freq:g} c/d, "
            f"{args.samples_per_peak:g} samples/peak, {args.baseline:g} d baseline; best of {args.repeat})", "",
            table(rows, cols), ""]
    summ = summary(rows)
    if summ:
        text += ["## Targets (N = 300, 1 thread, lc per CPU-second; speed-up = 2-thread / 1-thread wall rate)", "",
                 table(summ, [("task", "task", str), ("measured", "value", lambda v: f"{v:,.1f}"),
                              ("target", "target", lambda v: f"{v:,.0f}"), ("met", "met", str),
                              ("2-thread speed-up", "speedup", lambda v: "-" if not np.isfinite(v) else f"{v:.2f}x")]),
                 ""]
    if args.max_freqs:
        frows = bench_frequencies(args, rng)
        text += ["## Scaling in the number of frequencies (N = 300, 1 thread)", "",
                 table(frows, [("frequencies", "nf", lambda v: f"{v:,}"), ("task", "task", str),
                               ("lc per CPU-s", "lc_per_cpu_s", lambda v: f"{v:.2f}"),
                               ("ns per frequency", "ns_per_freq", lambda v: f"{v:.0f}"),
                               ("peak MB", "peak_mb", lambda v: f"{v:.1f}")]), ""]
    if args.quadrant:
        lcs = ztf_like_batch(rng, args.quadrant, 300, args.baseline)
        grid = make_grid(args.baseline, max_freq=args.quadrant_max_freq, samples_per_peak=args.samples_per_peak)
        res, secs, _cpu, peak = measure(lambda: compute_lightcurve_features(
            *ragged(lcs), algorithms=["ELS_ECE_EAOV"], grid=grid, top_n_periods=50, n_threads=max(args.threads)))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        text += [f"## Quadrant-sized run: {args.quadrant} light curves x 300 points, {grid.n_kept:,} frequencies, "
                 f"{max(args.threads)} threads", "",
                 f"{args.quadrant / secs:.2f} lc/s; traced peak {peak:.0f} MB; process max RSS {rss:.0f} MB", ""]
    if not args.skip_recovery:
        rec_args = bench_recovery.build_parser().parse_args(
            ["--sets", *args.recovery_sets, "--algorithms", *args.recovery_algorithms, "--dev-dir", args.dev_dir,
             "--data-dir", args.data_dir, "--max-freq", str(args.max_freq),
             "--samples-per-peak", str(args.samples_per_peak), "--threads", str(max(args.threads))])
        text += [bench_recovery.run(rec_args)]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text += [f"Process max RSS over the whole run: {rss:.0f} MB.", ""]
    report = "\n".join(text)
    print(report)
    if args.output:
        Path(args.output).write_text("\n".join(lines) + "\n" + report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
