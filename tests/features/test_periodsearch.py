"""Period search: every numba kernel against the NumPy reference, and independent checks."""

import numba
import numpy as np
import pytest
from scipy import stats as sps

from scope.errors import BackendUnavailable, ConfigError
from scope.features.periodsearch import find_periods, get_backend, make_grid, parse_algorithm
from scope.features.periodsearch import lsnifty, reference
from scope.features.periodsearch.grid import FrequencyGrid
from scope.features.periodsearch.gpu_probe import gpu_unavailable_reason
from scope.features.periodsearch.prepare import prepare_batch

from featsynth import ragged, ztf_like


def small_grid(fmin=0.0137, df=0.00731, nf=1400, gap=(600, 650), spp=5):
    """A grid not commensurate with any light-curve baseline (no phase-bin ties) with one gap."""
    segments = np.array([[0, gap[0]], [gap[1], nf]], dtype=np.int64)
    return FrequencyGrid(fmin=fmin, df=df, nf=nf, segments=segments, params={"samples_per_peak": spp})


@pytest.fixture
def batch(rng):
    # 250 points: more points than CE cells (the other CE accumulation path)
    lcs = [ztf_like(rng, n, period=p, amp=0.25, shape=s)
           for n, p, s in [(150, 0.713, "sine"), (120, 3.37, "sawtooth"), (90, 1.91, "eclipse"), (60, None, "sine"),
                           (250, 0.4271, "eclipse")]]
    return ragged(lcs)


# (algorithm, parameters, LS engine, relative tolerance of the statistics)
CASES = [
    ("LS", {}, "numba", 1e-9),
    ("LS", {}, "fft", 5e-5),  # complex64 fine grid (z-scores amplify the ~3e-6 power error)
    ("LS", {}, "fft-double", 1e-7),
    ("LS", {}, "auto", 5e-5),
    ("CE", {}, "numba", 1e-5),  # binned statistics: 32-bit fixed-point phases
    ("AOV", {}, "numba", 1e-5),  # ... and quantised magnitudes
    ("FPW", {}, "numba", 1e-5),
    ("MHF", {}, "numba", 1e-9),
    ("BLS", {"bls_bins": 20, "qmin": 0.05, "qmax": 0.3}, "numba", 1e-5),
]


@pytest.fixture
def sim_batch(rng):
    # small enough for the CUDA simulator (each simulated thread is a Python thread)
    return ragged([ztf_like(rng, n, period=p, amp=0.25, shape=s)
                   for n, p, s in [(60, 0.713, "sine"), (45, 3.37, "sawtooth"), (35, 1.91, "eclipse")]])


BACKENDS_UNDER_TEST = ["cpu", "gpu-sim", pytest.param("gpu", marks=pytest.mark.gpu)]


@pytest.mark.parametrize("backend", BACKENDS_UNDER_TEST)
@pytest.mark.parametrize("algorithm,params,engine,rtol", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_kernel_matches_numpy_reference(batch, sim_batch, algorithm, params, engine, rtol, backend):
    small = algorithm in ("MHF", "BLS")
    grid = small_grid(nf=700 if small else 1400, gap=(300, 330) if small else (600, 650))
    if backend != "cpu":
        if engine != "numba":
            pytest.skip("the LS engines are choices of the CPU backend; the GPU has one LS kernel")
        # the GPU kernels use exact fixed-point phases and unquantised magnitudes
        rtol = 1e-9
        if backend == "gpu-sim":
            batch, grid = sim_batch, small_grid(nf=240, gap=(100, 120))
    kw = dict(algorithms=[algorithm], grid=grid, top_n=4, params=params, ls_engine=engine)
    fast = find_periods(*batch, backend=backend, **kw).algorithms[algorithm]
    slow = find_periods(*batch, backend="numpy", **kw).algorithms[algorithm]
    np.testing.assert_array_equal(fast.period, slow.period)
    np.testing.assert_array_equal(fast.top_periods, slow.top_periods)
    np.testing.assert_allclose(fast.significance, slow.significance, rtol=rtol)
    np.testing.assert_allclose(fast.statistic, slow.statistic, rtol=rtol)
    np.testing.assert_allclose(fast.top_significances, slow.top_significances, rtol=rtol)


@pytest.mark.skipif(not lsnifty.available(), reason="nifty-ls not installed")
def test_nifty_ls_engine_matches_numba_kernel(batch):
    grid = small_grid()
    kw = dict(algorithms=["LS"], grid=grid, top_n=5, backend="cpu")
    a = find_periods(*batch, ls_engine="nifty", **kw).algorithms["LS"]
    b = find_periods(*batch, ls_engine="numba", **kw).algorithms["LS"]
    np.testing.assert_array_equal(a.top_periods, b.top_periods)
    np.testing.assert_allclose(a.significance, b.significance, rtol=1e-6)


def test_fft_ls_matches_the_direct_kernel_on_the_production_grid(rng):
    # the full 48 c/d grid over a 3-year baseline: ~5e5 frequencies, phases up to 5e4 cycles
    t, m, e = ztf_like(rng, 200, period=0.3171, amp=0.2, baseline=1095)
    offsets = np.array([0, len(t)])
    grid = make_grid(t.max() - t.min(), max_freq=48.0, samples_per_peak=10)
    direct = find_periods(t, m, e, offsets, algorithms=["LS"], grid=grid, top_n=3, ls_engine="numba").algorithms["LS"]
    for engine, rtol in (("fft", 2e-5), ("fft-double", 1e-8)):
        ls = find_periods(t, m, e, offsets, algorithms=["LS"], grid=grid, top_n=3, ls_engine=engine).algorithms["LS"]
        np.testing.assert_array_equal(ls.top_periods, direct.top_periods)
        np.testing.assert_allclose(ls.statistic, direct.statistic, rtol=rtol)
        np.testing.assert_allclose(ls.significance, direct.significance, rtol=rtol)
    assert abs(direct.period[0] / 0.3171 - 1) < 1e-3
    # spot check of the direct kernel against the reference at its best frequency
    prep = prepare_batch(t, m, e, offsets)
    best = reference.lomb_scargle(prep.t, prep.y, np.array([1 / direct.period[0]]))[0]
    assert best == pytest.approx(direct.statistic[0], rel=1e-9)


def test_reference_ls_equals_astropy(rng):
    from astropy.timeseries import LombScargle

    t, m, e = ztf_like(rng, 80, period=2.2)
    t = t - t.min()
    freqs = np.linspace(0.01, 3, 400)
    ours = reference.lomb_scargle(t, m, freqs)
    theirs = LombScargle(t, m, fit_mean=False, center_data=True, normalization="standard").power(freqs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_reference_ce_is_conditional_entropy(rng):
    t, m, _ = ztf_like(rng, 200, period=1.3)
    prep = prepare_batch(t, m, np.full(len(t), 0.1), np.array([0, len(t)]))
    f = 0.4567
    ours = reference.conditional_entropy(prep.t, prep.y, np.array([f]))[0]
    phase = (prep.t * f) % 1.0
    mag = 5e-4 + prep.y * 0.999
    joint, _, _ = np.histogram2d(phase, mag, bins=[np.linspace(0, 1, 21), np.linspace(0, 1, 11)])
    p = joint.ravel() / joint.sum()
    p_phase = joint.sum(axis=1) / joint.sum()
    h_joint = sps.entropy(p[p > 0])
    h_phase = sps.entropy(p_phase[p_phase > 0])
    assert ours == pytest.approx(h_joint - h_phase, rel=1e-12)


def test_reference_aov_is_one_way_anova_f(rng):
    t, m, _ = ztf_like(rng, 400, period=0.9)
    prep = prepare_batch(t, m, np.full(len(t), 0.1), np.array([0, len(t)]))
    f = 1 / 0.9
    phase_bin = np.minimum(((prep.t * f) % 1.0 * 20).astype(int), 19)
    groups = [prep.y[phase_bin == k] for k in range(20)]
    assert all(len(g) for g in groups)
    expected = sps.f_oneway(*groups).statistic
    assert reference.analysis_of_variance(prep.t, prep.y, np.array([f]))[0] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("algorithm", ["LS", "CE", "AOV", "FPW", "MHF"])
def test_injected_period_is_recovered(rng, algorithm):
    # not a whole number of days: nightly sampling would see only a few phases of a 5.0 d period,
    # which folds equally well at P/3, P/2, 2P, ...
    true_p = 3.71
    t, m, e = ztf_like(rng, 150, period=true_p, amp=0.3, noise=0.03, baseline=700)
    grid = make_grid(t.max() - t.min(), max_freq=2.0, samples_per_peak=10)
    res = find_periods(t, m, e, np.array([0, len(t)]), algorithms=[algorithm], grid=grid, top_n=1)
    p = res.algorithms[algorithm].period[0]
    assert min(abs(p / (true_p * h) - 1) for h in (1, 0.5, 2)) < 0.01
    assert res.algorithms[algorithm].significance[0] > 5


def test_top_n_peaks_are_distinct_and_ordered(batch):
    grid = small_grid()
    res = find_periods(*batch, algorithms=["LS", "CE", "AOV"], grid=grid, top_n=6)
    sep = grid.peak_width_bins
    for alg in res.algorithms.values():
        sig = alg.top_significances
        assert np.all(np.diff(sig[:3], axis=1) <= 1e-12)
        for row in alg.top_periods[:3]:
            idx = np.round((1 / row - grid.fmin) / grid.df).astype(int)
            gaps = np.abs(idx[:, None] - idx[None, :])[np.triu_indices(len(idx), 1)]
            assert gaps.min() >= sep
    cols = res.columns()
    assert "period_6_AOV" in cols and "significance_1_CE" in cols and "agree_score" in cols


@pytest.mark.parametrize("name", ["ELS_ECE_EAOV", "LS_CE_AOV"])
def test_nested_search_columns_and_backend_agreement(batch, name):
    grid = small_grid()
    fast = find_periods(*batch, algorithms=[name], grid=grid, top_n=5, ls_engine="numba")
    slow = find_periods(*batch, algorithms=[name], grid=grid, top_n=5, backend="numpy")
    cols = fast.columns()
    prefix = "E" if name.startswith("E") else ""
    expected = {f"{k}_{prefix}{a}" for k in ("period", "significance", "pdot") for a in ("LS", "CE", "AOV")}
    expected |= {f"{k}_ELS_ECE_EAOV" for k in ("period", "significance", "pdot")}
    assert set(cols) == expected  # no top-N or agreement columns in nested mode
    np.testing.assert_array_equal(cols["period_ELS_ECE_EAOV"], slow.columns()["period_ELS_ECE_EAOV"])
    np.testing.assert_allclose(cols["significance_ELS_ECE_EAOV"], slow.columns()["significance_ELS_ECE_EAOV"],
                               rtol=1e-9)


def test_nested_period_is_the_best_aov_candidate(batch):
    grid = small_grid()
    t, m, e, offsets = batch
    res = find_periods(t, m, e, offsets, algorithms=["LS_CE_AOV"], grid=grid, top_n=5, backend="numpy")
    prep = prepare_batch(t, m, e, offsets)
    freqs = grid.frequencies()
    for r in range(3):
        a, b = offsets[r], offsets[r + 1]
        ls = reference.lomb_scargle(prep.t[a:b], prep.y[a:b], freqs)
        ce = reference.conditional_entropy(prep.t[a:b], prep.y[a:b], freqs)
        cand = np.union1d(np.argsort(-ls, kind="stable")[:5], np.argsort(ce, kind="stable")[:5])
        aov = reference.analysis_of_variance(prep.t[a:b], prep.y[a:b], freqs[cand])
        assert res.algorithms["ELS_ECE_EAOV"].period[r] == pytest.approx(1 / freqs[cand][np.argmax(aov)])
        assert res.algorithms["ELS_ECE_EAOV"].significance[r] == pytest.approx(np.max(aov))


@pytest.mark.parametrize("backend", BACKENDS_UNDER_TEST)
def test_degenerate_light_curves_give_nan(backend):
    t = np.concatenate([np.arange(10.0), np.arange(2.0), np.arange(30.0)])
    m = np.concatenate([np.full(10, 15.0), [15.0, 15.1], np.full(30, 15.0)])
    e = np.full(len(t), 0.1)
    offsets = np.array([0, 10, 12, 12, 42])  # constant, two points, empty, constant
    grid = small_grid(nf=60, gap=(20, 25)) if backend == "gpu-sim" else small_grid(nf=300, gap=(100, 110))
    res = find_periods(t, m, e, offsets, algorithms=["LS", "CE", "AOV"], grid=grid, top_n=3, backend=backend)
    for name, alg in res.algorithms.items():
        flat = [0, 2, 3] if name == "CE" else [0, 1, 2, 3]  # CE is defined from 2 points
        assert np.all(np.isnan(alg.period[flat])), name
        assert np.all(np.isnan(alg.significance[flat])), name
        assert np.all(np.isnan(alg.top_periods[flat])), name


def test_thread_count_is_applied_and_restored(batch):
    grid = small_grid(nf=400, gap=(100, 120))
    before = numba.get_num_threads()
    one = find_periods(*batch, algorithms=["CE", "AOV"], grid=grid, top_n=3, n_threads=1)
    assert numba.get_num_threads() == before
    many = find_periods(*batch, algorithms=["CE", "AOV"], grid=grid, top_n=3, n_threads=numba.config.NUMBA_NUM_THREADS)
    for s in ("CE", "AOV"):
        np.testing.assert_array_equal(one.algorithms[s].top_periods, many.algorithms[s].top_periods)


def test_provenance_records_grid_backend_and_versions(batch):
    grid = small_grid(nf=300, gap=(100, 110))
    prov = find_periods(*batch, algorithms=["ECE"], grid=grid, top_n=1).provenance()
    assert prov["backend"] == "cpu" and prov["algorithms"] == {"ECE": "ECE"}
    assert prov["grid"]["nf"] == 300 and prov["grid"]["n_kept"] == 290
    assert "numba" in prov["versions"] and "numpy" in prov["versions"]
    assert prov["params"]["phase_bins"] == 20 and prov["params"]["mag_bins"] == 10


def test_names_suffixes_and_backends():
    assert parse_algorithm("ECE").base == "CE" and parse_algorithm("ECE").suffix == "ECE"
    spec = parse_algorithm("ELS_periodogram")
    assert (spec.base, spec.suffix) == ("LS", "ELS")
    assert parse_algorithm("AOV").suffix == "AOV"
    with pytest.raises(ConfigError, match="unknown period algorithm"):
        parse_algorithm("XYZ")
    if gpu_unavailable_reason() is not None:
        with pytest.raises(BackendUnavailable, match="no GPU backend available"):
            get_backend("gpu")
    with pytest.raises(ConfigError):
        get_backend("tpu")


def test_inputs_are_not_modified(batch):
    copies = [np.array(a, copy=True) for a in batch]
    find_periods(*batch, algorithms=["LS", "CE", "AOV"], grid=small_grid(nf=200, gap=(50, 60)), top_n=2)
    for a, c in zip(batch, copies):
        np.testing.assert_array_equal(a, c)
