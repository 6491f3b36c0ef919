"""GPU period search: kernels (under numba's CUDA simulator), streaming, memory bound, probe, CUDA compile.

The per-algorithm comparison of every GPU kernel with the NumPy reference is in
test_periodsearch.py (``test_kernel_matches_numpy_reference[...-gpu-sim]`` and ``[...-gpu]``).
"""

from fractions import Fraction

import numba
import numpy as np
import pytest

from scope.errors import BackendUnavailable
from scope.features.periodsearch import find_periods, get_backend, make_grid
from scope.features.periodsearch.gpu import GpuBackend
from scope.features.periodsearch.gpu_prepare import HostInputs, to_fixed64
from scope.features.periodsearch.gpu_probe import describe_cuda_error, gpu_unavailable_reason
from scope.features.periodsearch.prepare import prepare_batch
from scope.features.periodsearch.registry import DEFAULT_PARAMS, NumpyBackend, parse_algorithm

from featsynth import ztf_like
from test_periodsearch import sim_batch, small_grid  # noqa: F401 (sim_batch is a fixture)

SIM_GRID = dict(nf=240, gap=(100, 120))


def _raw(backend, batch, grid, algorithm, n_peaks=4, n_raw=5):
    prep = prepare_batch(*batch)
    return backend.search(prep, grid, parse_algorithm(algorithm), n_peaks=n_peaks, n_raw=n_raw,
                          sep=grid.peak_width_bins, params=dict(DEFAULT_PARAMS))


@pytest.mark.parametrize("name", ["ELS_ECE_EAOV", "LS_CE_AOV"])
def test_nested_search_matches_numpy(sim_batch, name):
    grid = small_grid(**SIM_GRID)
    gpu = find_periods(*sim_batch, algorithms=[name], grid=grid, top_n=5, backend="gpu-sim").columns()
    ref = find_periods(*sim_batch, algorithms=[name], grid=grid, top_n=5, backend="numpy").columns()
    assert set(gpu) == set(ref)
    assert "period_ELS_ECE_EAOV" in gpu and ("period_ELS" in gpu) == name.startswith("E")
    for col in gpu:
        np.testing.assert_allclose(gpu[col], ref[col], rtol=1e-9, err_msg=col)
    np.testing.assert_array_equal(gpu["period_ELS_ECE_EAOV"], ref["period_ELS_ECE_EAOV"])


def test_feature_engine_runs_on_the_gpu_backend_with_e_names(sim_batch):
    from scope.features import compute_lightcurve_features

    kw = dict(algorithms=["ELS_ECE_EAOV"], grid=small_grid(**SIM_GRID), top_n_periods=5, ls_engine="numba")
    prov = {}
    gpu = compute_lightcurve_features(*sim_batch, backend="gpu-sim", provenance=prov, **kw)
    cpu = compute_lightcurve_features(*sim_batch, backend="cpu", **kw)
    assert list(gpu) == list(cpu)
    assert {"period_ELS", "period_ECE", "period_EAOV", "f1_power_ELS_ECE_EAOV"} <= set(gpu)
    for col in gpu:
        if col.startswith("period_"):
            np.testing.assert_array_equal(gpu[col], cpu[col], err_msg=col)
        else:  # the CPU AOV quantises magnitudes (1e-6); the GPU sums them in float64
            np.testing.assert_allclose(gpu[col], cpu[col], rtol=1e-5, err_msg=col)
    assert prov["backend"] == "gpu-sim" and prov["period_search"]["versions"]["cuda_target"] == "simulator"


def test_raw_bins_peaks_and_summary_match_numpy(sim_batch):
    # the raw highest bins are the nested candidates; the summary carries mean/std/count/best
    grid = small_grid(**SIM_GRID)
    for algorithm in ("LS", "CE", "AOV"):
        gpu = _raw(GpuBackend(simulate=True), sim_batch, grid, algorithm)
        ref = _raw(NumpyBackend(), sim_batch, grid, algorithm)
        np.testing.assert_array_equal(gpu.raw_idx, ref.raw_idx, err_msg=algorithm)
        np.testing.assert_array_equal(gpu.pk_idx, ref.pk_idx, err_msg=algorithm)
        np.testing.assert_allclose(gpu.raw_val, ref.raw_val, rtol=1e-9)
        np.testing.assert_allclose(gpu.summary, ref.summary, rtol=1e-9)


def test_results_do_not_depend_on_the_chunking(sim_batch):
    # one chunk per segment, a few chunks, and chunks of 7 frequencies: the state carried
    # across chunks on the device must give the same peaks
    grid = small_grid(**SIM_GRID)
    runs = [_raw(GpuBackend(simulate=True, chunk_bytes=b), sim_batch, grid, "AOV") for b in (1 << 20, 2048, 168)]
    for other in runs[1:]:
        for name in ("summary", "pk_idx", "pk_val", "raw_idx", "raw_val"):
            np.testing.assert_array_equal(getattr(other, name), getattr(runs[0], name), err_msg=name)


def test_fused_ce_aov_equals_separate_runs(sim_batch):
    grid = small_grid(**SIM_GRID)
    fused = find_periods(*sim_batch, algorithms=["CE", "AOV"], grid=grid, top_n=3, backend="gpu-sim")
    for name in ("CE", "AOV"):
        alone = find_periods(*sim_batch, algorithms=[name], grid=grid, top_n=3, backend="gpu-sim").algorithms[name]
        np.testing.assert_array_equal(fused.algorithms[name].top_periods, alone.top_periods)
        np.testing.assert_array_equal(fused.algorithms[name].significance, alone.significance)


def test_device_memory_is_bounded_by_the_chunk_not_the_grid(rng):
    t, m, e = ztf_like(rng, 25, period=1.3)
    batch = (t, m, e, np.array([0, len(t)]))
    peaks = []
    for nf in (300, 1200):
        backend = GpuBackend(simulate=True, chunk_bytes=800)
        _raw(backend, batch, small_grid(nf=nf, gap=(50, 60)), "AOV", n_peaks=3, n_raw=0)
        peaks.append(backend.peak_device_bytes)
    assert peaks[0] == peaks[1]
    assert peaks[0] < 800 + 25 * 64 + 4096  # score buffer + per-point inputs + state


def test_fixed_point_phases_are_exact_at_the_top_of_the_grid(rng):
    # phase at grid index k = frac(t * (fmin + k df)), computed as (A + k B) mod 2**64
    t = np.sort(rng.uniform(0, 3000, 50))
    fmin, df = 2 / 3000, 1 / 30000
    host = HostInputs(prepare_batch(t, np.sin(t), np.full(50, 0.1), np.array([0, 50])), fmin, df, 10)
    pa, pb = host.array("pa"), host.array("pb")
    worst = 0.0
    for k in (0, 1, 12345, 1_440_000):
        ours = ((pa + np.uint64(k) * pb) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
        for ti, p in zip(host.t, ours):
            exact = Fraction(float(ti)) * (Fraction(fmin) + k * Fraction(df))
            exact -= exact.numerator // exact.denominator
            d = abs(float(exact) - p)
            worst = max(worst, min(d, 1 - d))
    assert worst < 2e-13  # a direct float64 frac(t * f) is off by up to ~1.5e-11 cycles here
    assert to_fixed64(np.array([0.0, 0.5, np.nextafter(1.0, 0.0)])).tolist() == [0, 2 ** 63, 2 ** 64 - 2 ** 11]


def test_missing_gpu_is_one_sentence_naming_what_is_missing():
    assert "no NVIDIA driver" in describe_cuda_error(
        "\nCUDA driver library cannot be found.\nIf you are sure that a CUDA driver is installed,\n")
    assert "too old" in describe_cuda_error("Error at driver init: [35] Call to cuInit results in "
                                            "CUDA_ERROR_INSUFFICIENT_DRIVER")
    assert "no CUDA device" in describe_cuda_error("[100] Call to cuInit results in CUDA_ERROR_NO_DEVICE")
    reason = gpu_unavailable_reason()
    if reason is None:
        pytest.skip("a GPU is present")
    with pytest.raises(BackendUnavailable) as info:
        get_backend("gpu")
    message = str(info.value)
    assert message.startswith("no GPU backend available: ") and reason in message and "\n" not in message


def test_the_cuda_simulator_is_not_taken_for_a_gpu(monkeypatch):
    monkeypatch.setattr(numba.config, "ENABLE_CUDASIM", 1)
    assert "NUMBA_ENABLE_CUDASIM" in gpu_unavailable_reason()


def test_real_period_recovered_under_the_simulator(rng):
    t, m, e = ztf_like(rng, 40, period=3.71, amp=0.3, noise=0.02, baseline=300)
    grid = make_grid(t.max() - t.min(), max_freq=1.0, samples_per_peak=5)
    res = find_periods(t, m, e, np.array([0, len(t)]), algorithms=["LS"], grid=grid, top_n=1, backend="gpu-sim")
    p = res.algorithms["LS"].period[0]
    assert abs(p / 3.71 - 1) < 0.01 and res.algorithms["LS"].significance[0] > 5
    assert res.backend == "gpu-sim" and res.versions["cuda_target"] == "simulator"


@pytest.mark.slow
def test_every_kernel_compiles_for_the_cuda_target(monkeypatch):
    """Type inference and lowering for a real GPU (sm_90 PTX): what the simulator cannot check."""
    from numba import cuda, types as T
    from numba.cuda.cudadrv import nvvm

    from scope.features.periodsearch import gpu_binned, gpu_harmonic, gpu_tracker

    if not nvvm.is_available():
        pytest.skip("libNVVM (CUDA toolkit) not found")
    if gpu_unavailable_reason() is not None:
        # without a driver numba asks for the current device's compute capability when it compiles
        # device functions; name the target instead
        import numba.cuda.dispatcher as dispatcher
        from types import SimpleNamespace

        monkeypatch.setattr(dispatcher, "get_current_device", lambda: SimpleNamespace(compute_capability=(9, 0)))
    u64, f64, i64 = (T.Array(d, 1, "C") for d in (T.uint64, T.float64, T.int64))
    f2, i2, n = T.Array(T.float64, 2, "C"), T.Array(T.int64, 2, "C"), T.int64
    binned = (u64, u64, f64, i2, i64, f64, f64, n, n, f2, f2)
    weighted = (u64, u64, f64, f64, f64, i64, n, n, n, n, f2)
    track, finish = gpu_tracker.tracker_kernels(cuda.jit)
    kernels = [
        (gpu_binned.ce_aov_kernel(cuda.jit, 20, 10, True, True, 128), binned),
        (gpu_binned.ce_aov_kernel(cuda.jit, 20, 10, True, False, 128), binned),
        (gpu_binned.ce_aov_kernel(cuda.jit, 20, 10, False, True, 128), binned),
        (gpu_binned.weighted_kernel(cuda.jit, 20, False, 128), weighted),
        (gpu_binned.weighted_kernel(cuda.jit, 50, True, 32), weighted),
        (gpu_binned.aov_at_kernel(cuda.jit, 20, 128), (f64, f64, f64, i64, f2, f2)),
        (gpu_harmonic.ls_kernel(cuda.jit, 8, 128), (u64, u64, f64, f64, f64, f64, i64, n, n, f2)),
        (gpu_harmonic.mhf_kernel(cuda.jit, 3, 128), (u64, u64, f64, f64, f64, f2, i64, n, n, f2)),
        (track, (f2, n, n, n, n, n, n, f2, i2, i2, f2, i2, f2)),
        (finish, (f2, i2, i2, f2, i2, f2, n, n, f2)),
    ]
    for kernel, signature in kernels:
        ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=(9, 0))
        assert ".entry" in ptx


def test_block_size_shrinks_to_fit_the_bin_tables_in_shared_memory():
    from scope.errors import ConfigError
    from scope.features.periodsearch.gpu import SHARED_BYTES, _fit_threads

    assert _fit_threads(128, 20 * 16) == 128  # CE + AOV, 20 phase bins: 40 KB for 128 threads
    assert _fit_threads(128, 50 * 16) == 32  # BLS, 50 bins
    threads = _fit_threads(128, 60 * 16)
    assert threads % 32 == 0 and threads * 60 * 16 <= SHARED_BYTES
    with pytest.raises(ConfigError, match="too many bins"):
        _fit_threads(128, 2000 * 16)
