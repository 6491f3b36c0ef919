"""generate-features --doGPU: the GPU period search from the command line."""

import numpy as np
import pytest

from scope.features.periodsearch.gpu_probe import gpu_unavailable_reason
from scope.generation import GenerateOptions
from scope.tables import read_table
from tools import generate_features

from test_generate_features import FAST_GRID, _copy as _work, _out

QUAD = ["--field", "301", "--ccd", "1", "--quad", "1"]


def test_doGPU_takes_the_gpu_algorithms_of_the_config():
    args = generate_features.get_parser().parse_args([*QUAD, "--doGPU", "--period-batch-size", "250"])
    cfg = {"feature_generation": {"period_algorithms": {"CPU": ["LS_CE_AOV"], "GPU": ["ELS_ECE_EAOV"]}}}
    opts = GenerateOptions.from_args(args, cfg)
    assert (opts.backend, opts.algorithms, opts.period_batch_size) == ("gpu", ["ELS_ECE_EAOV"], 250)


def test_doGPU_without_a_gpu_names_what_is_missing(small_demo, tmp_path, monkeypatch, capsys):
    reason = gpu_unavailable_reason()
    if reason is None:
        pytest.skip("a GPU is present")
    work = _work(small_demo, tmp_path, monkeypatch)
    assert generate_features.main([*QUAD, "--doGPU", *FAST_GRID]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no GPU backend available: " in err[0] and reason in err[0]
    assert not _out(work).exists()


@pytest.mark.gpu
def test_doGPU_writes_the_cpu_columns_under_E_names(small_demo, tmp_path, monkeypatch):
    cpu_work = _work(small_demo, tmp_path / "cpu", monkeypatch)
    assert generate_features.main([*QUAD, "--doCPU", *FAST_GRID]) == 0
    cpu = read_table(_out(cpu_work))
    gpu_work = _work(small_demo, tmp_path / "gpu", monkeypatch)
    assert generate_features.main([*QUAD, "--doGPU", "--period-batch-size", "7", *FAST_GRID]) == 0
    gpu = read_table(_out(gpu_work))

    def e_name(col):  # the reference writes the GPU run's LS/CE/AOV columns with an E prefix
        for base in ("LS", "CE", "AOV"):
            if col.endswith(f"_{base}") and not col.endswith("ELS_ECE_EAOV"):
                return col[: -len(base)] + "E" + base
        return col

    assert list(gpu.columns) == [e_name(c) for c in cpu.columns]
    same = np.isclose(gpu["period_ELS_ECE_EAOV"], cpu["period_ELS_ECE_EAOV"], rtol=1e-9)
    assert same.mean() >= 0.95
