"""The GPU benchmark script runs (tiny settings, kernels under the CUDA simulator) and prints its table."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_gpu.py"


def test_gpu_bench_runs_under_the_simulator(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_gpu", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "gpu.md"
    rc = bench.main(["--simulate", "--sizes", "22", "--n-lc", "1", "--max-freq", "0.3", "--baseline", "40",
                     "--top-n", "2", "--cpu-check", "1", "--output", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "| N | task | light curves | lc/s | device MB | host MB | same best period as CPU | recovered |" in text
    for task in ("LS", "CE 20x10", "AOV 20", "CE+AOV fused", "ELS_ECE_EAOV nested"):
        assert f"| 22 | {task} | 1 |" in text
    assert "simulator" in text and "100.0% of 1" in text
    assert out.read_text().startswith("# SCoPe GPU period-search benchmark")
