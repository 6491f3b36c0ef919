"""compute_lightcurve_features: column names, order, modes, batching and period recovery."""

import numpy as np
import pytest

from scope.features import FOURIER_NAMES, STAT_NAMES, compute_lightcurve_features, periodic_suffixes
from scope.features.periodsearch import make_grid

from featsynth import ragged, ztf_like


@pytest.fixture
def lcs(rng):
    return [ztf_like(rng, n, period=p, amp=0.3, shape=s) for n, p, s in
            [(120, 0.6137, "sine"), (90, 2.71, "eclipse"), (60, 7.3, "sawtooth"), (1, None, "sine"), (0, None, "sine")]]


def _grid():
    return make_grid(1000.0, max_freq=4.0, samples_per_peak=5)


def test_top_n_columns_in_reference_order(lcs):
    cols = compute_lightcurve_features(*ragged(lcs), algorithms=["ELS", "ECE", "EAOV"], grid=_grid(), top_n_periods=3)
    names = list(cols)
    assert names[:22] == list(STAT_NAMES)
    assert names[22:31] == [f"{k}_{a}" for a in ("ELS", "ECE", "EAOV") for k in ("period", "significance", "pdot")]
    assert names[31:33] == ["period_1_ELS", "significance_1_ELS"]
    assert "period_3_EAOV" in names and names.index("n_agree_pairs") > names.index("period_3_EAOV")
    assert names[-1] == "dmdt" and names[-2] == "f1_relphi4_EAOV"
    assert [n for n in names if n.endswith("_ECE") and n.startswith("f1_")] == [f"{f}_ECE" for f in FOURIER_NAMES]
    assert cols["dmdt"].shape == (5, 26, 26)
    assert cols["n_agree_pairs"].dtype == np.int64
    for name, values in cols.items():
        assert len(values) == 5, name
    # the single-point and empty light curves: NaN everywhere it matters, no crash
    assert np.isnan(cols["period_ELS"][3:]).all() and np.isnan(cols["f1_power_ECE"][3:]).all()
    assert cols["n"][3:].tolist() == [1.0, 0.0]


def test_nested_mode_columns(lcs):
    cols = compute_lightcurve_features(*ragged(lcs), algorithms=["LS_CE_AOV"], grid=_grid(), top_n_periods=10)
    assert "period_ELS_ECE_EAOV" in cols and "f1_power_ELS_ECE_EAOV" in cols
    assert "period_LS" in cols and "period_1_LS" not in cols and "agree_score" not in cols
    assert periodic_suffixes(["LS_CE_AOV"], "cpu") == ["LS", "CE", "AOV", "ELS_ECE_EAOV"]


def test_no_backend_gives_period_one(lcs):
    cols = compute_lightcurve_features(*ragged(lcs), backend=None)
    for key in ("period_Ones", "significance_Ones", "pdot_Ones"):
        assert np.all(cols[key] == 1.0)
    assert "f1_power_Ones" in cols and np.isfinite(cols["f1_power_Ones"][0])


def test_batching_does_not_change_results(lcs):
    kw = dict(algorithms=["LS", "CE", "AOV"], grid=_grid(), top_n_periods=3)
    whole = compute_lightcurve_features(*ragged(lcs), batch_size=100, **kw)
    pieces = compute_lightcurve_features(*ragged(lcs), batch_size=2, n_threads=1, **kw)
    for name in whole:
        np.testing.assert_array_equal(whole[name], pieces[name], err_msg=name)


def test_empty_batch_and_default_grid(lcs):
    empty = compute_lightcurve_features(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(1, np.int64),
                                        algorithms=["LS"], top_n_periods=1)
    assert empty["period_LS"].shape == (0,) and empty["dmdt"].shape == (0, 26, 26)
    prov = {}
    compute_lightcurve_features(*ragged(lcs[:2]), algorithms=["CE"], top_n_periods=1, provenance=prov)
    assert prov["grid"]["samples_per_peak"] == 10.0 and prov["fourier_form"] == "legacy"
    assert prov["period_search"]["backend"] == "cpu"


def test_gpu_backend_is_refused(lcs):
    from scope.errors import BackendUnavailable
    from scope.features.periodsearch.gpu_probe import gpu_unavailable_reason

    if gpu_unavailable_reason() is None:
        pytest.skip("a GPU is present (test_gpu_periodsearch.py covers it)")
    with pytest.raises(BackendUnavailable, match="no GPU backend available"):
        compute_lightcurve_features(*ragged(lcs), algorithms=["ELS_ECE_EAOV"], backend="gpu", grid=_grid())


def test_nested_period_recovers_injected_periods(rng):
    periods = rng.uniform(0.2, 20, 24)
    shapes = ["sine", "sawtooth", "eclipse"]
    lcs = [ztf_like(rng, 150, period=p, amp=0.3, shape=shapes[k % 3], noise=0.03, baseline=900)
           for k, p in enumerate(periods)]
    grid = make_grid(900, max_freq=6.0, samples_per_peak=10)
    cols = compute_lightcurve_features(*ragged(lcs), algorithms=["ELS_ECE_EAOV"], grid=grid, top_n_periods=10)
    found = cols["period_ELS_ECE_EAOV"]
    ok = [min(abs(f / (p * h) - 1) for h in (1, 0.5, 2)) < 0.01 for f, p in zip(found, periods)]
    assert np.mean(ok) >= 0.9
