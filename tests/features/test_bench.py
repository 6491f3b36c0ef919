"""The benchmark scripts run and print their tables (tiny settings)."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_runs_with_tiny_settings(tmp_path, capsys, real_data):
    bench = _load("bench_periodsearch")
    out = tmp_path / "report.md"
    rc = bench.main(["--sizes", "40", "--n-lc", "2", "--threads", "1", "--max-freq", "1", "--max-freqs", "0.5", "1",
                     "--baseline", "300", "--stats-lc", "10", "--skip-astropy", "--data-dir", str(real_data),
                     "--recovery-sets", "alerce", "--output", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "| N | task | threads | lc/s (wall) | lc per CPU-s | peak MB | recovered |" in text
    assert "| 40 | CE 20x10 | 1 |" in text and "whole feature set" in text and "22 basic statistics" in text
    assert "## Scaling in the number of frequencies" in text
    assert "| alerce | RRL |" in text and "BEST" in text  # the per-class recovery table
    assert out.read_text().startswith("# SCoPe feature-engine benchmark")


def test_recovery_says_when_the_dev_set_is_missing(tmp_path, capsys, real_data):
    rec = _load("bench_recovery")
    rc = rec.main(["--sets", "eros1", "alerce", "--dev-dir", str(tmp_path / "nowhere"), "--data-dir", str(real_data),
                   "--max-freq", "1"])
    assert rc == 0
    captured = capsys.readouterr()
    assert "period dev set not found" in captured.err
    assert "| alerce | all |" in captured.out and "| eros1 |" not in captured.out


def test_recovery_counts_harmonics():
    data = _load("perioddata")
    strict, harmonic = data.recovery([2.0, 1.0, 4.0, 3.0, 2.01, 6.0, 0.7], [2.0] * 7)
    assert strict.tolist() == [True, False, False, False, True, False, False]
    assert harmonic.tolist() == [True, True, True, False, True, True, False]
