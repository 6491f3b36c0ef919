"""The benchmark script runs and prints its tables (tiny settings)."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_periodsearch.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_periodsearch", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_runs_with_tiny_settings(tmp_path, capsys, real_data):
    bench = _load()
    out = tmp_path / "report.md"
    rc = bench.main(["--sizes", "40", "--n-lc", "2", "--threads", "1", "--max-freq", "1", "--baseline", "300",
                     "--skip-astropy", "--data-dir", str(real_data), "--output", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "| N | task | threads | lc/s (wall) | lc per CPU-s | peak MB | recovered |" in text
    assert "| 40 | CE 20x10 | 1 |" in text and "whole feature set" in text
    assert "| RRL |" in text  # the per-class table of the real light curves
    assert out.read_text().startswith("# SCoPe period-search benchmark")


def test_recovery_counts_harmonics():
    bench = _load()
    assert bench.recovered([2.0, 1.0, 4.0, 3.0, 2.01], [2.0] * 5).tolist() == [True, True, True, False, True]
