"""Basic statistics (spec §4.6): numba vs the NumPy/SciPy reference vs independent formulas."""

import warnings

import numpy as np
import pytest
from scipy import stats as sps

from scope.features.stats import STAT_NAMES, basic_stats, stats_dict
from scope.features.stats_reference import basic_stats_reference

from featsynth import ragged, ztf_like


def _random_batch(rng, lengths):
    lcs = []
    for n in lengths:
        t = rng.uniform(0, 900, n) + 2458000.5  # unsorted on purpose
        m = 17 + rng.standard_t(4, n) * 0.2
        e = rng.uniform(0.01, 0.2, n)
        lcs.append((t, m, e))
    return lcs


def test_reference_order_and_names():
    assert STAT_NAMES[:3] == ("n", "median", "wmean")
    assert STAT_NAMES[-2:] == ("ad", "sw")
    assert len(STAT_NAMES) == 22


def test_numba_matches_reference_for_all_sizes(rng):
    lengths = [0, 1, 2, 3, 4, 5, 7, 8, 20, 100, 600]
    lcs = _random_batch(rng, lengths)
    out = basic_stats(*ragged(lcs))
    assert out.shape == (len(lengths), 22) and out.dtype == np.float64
    for row, (t, m, e) in zip(out, lcs):
        ref = basic_stats_reference(t, m, e)
        # W uses Royston's polynomial coefficients with a full-precision normal quantile, scipy
        # a slightly different quantile routine: agreement to ~1e-8
        np.testing.assert_allclose(row[:21], ref[:21], rtol=1e-9, atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(row[21], ref[21], rtol=1e-7, equal_nan=True)


def test_against_independent_numpy_scipy(rng):
    t, m, e = ztf_like(rng, 300, period=2.3, amp=0.4)
    m = m + rng.normal(0, 0.05, len(m))
    out = stats_dict(basic_stats(*ragged([(t, m, e)])))
    w = 1 / e**2
    wmean = np.average(m, weights=w)
    wstd = np.sqrt(np.cov(m, aweights=w, ddof=0))
    n = len(m)
    assert out["n"][0] == n
    assert out["median"][0] == pytest.approx(np.median(m))
    assert out["wmean"][0] == pytest.approx(wmean)
    assert out["wstd"][0] == pytest.approx(wstd)
    assert out["chi2red"][0] == pytest.approx(wstd**2 * w.sum() / (n - 1))
    q = np.percentile(m, [5, 10, 15, 20, 25, 75, 80, 85, 90, 95])
    assert out["iqr"][0] == pytest.approx(q[5] - q[4])
    assert out["i90r"][0] == pytest.approx(q[9] - q[0])
    assert out["median_abs_dev"][0] == pytest.approx(sps.median_abs_deviation(m))
    with warnings.catch_warnings():  # scipy >= 1.17 asks for a p-value method; A^2 is unaffected
        warnings.simplefilter("ignore", FutureWarning)
        ad = sps.anderson(m / e).statistic
    assert out["ad"][0] == pytest.approx(ad, rel=1e-9)
    assert out["sw"][0] == pytest.approx(sps.shapiro(m / e).statistic, rel=1e-7)
    # with equal errors the error-normalised skew is a rescaled sample skewness
    r = (m - wmean) / e
    g1 = sps.skew(r, bias=True)
    assert out["skew"][0] == pytest.approx(g1 * np.std(r) ** 3 * n * n / ((n - 1) * (n - 2)))
    # Stetson K of the d_i is the classic ratio
    d = np.sqrt(n / (n - 1)) * r
    assert out["stetson_k"][0] == pytest.approx(np.mean(np.abs(d)) / np.sqrt(np.mean(d**2)))
    # von Neumann with time weights
    dt, dm = np.diff(t), np.diff(m)
    eta = np.sum(dm**2 / dt**2) / (np.sum(1 / dt**2) * wstd**2)
    assert out["inv_vonneumannratio"][0] == pytest.approx(1 / eta)


def test_small_n_rules():
    t = np.array([1.0, 2.0, 3.0])
    m = np.array([10.0, 10.5, 10.2])
    e = np.array([0.1, 0.1, 0.1])
    out = basic_stats(t, m, e, np.array([0, 1, 3, 3]))
    one, two, empty = out
    names = list(STAT_NAMES)
    assert one[0] == 1 and np.isfinite(one[names.index("median")])
    assert np.isnan(one[names.index("chi2red")]) and np.isnan(one[names.index("skew")])
    assert np.isfinite(two[names.index("chi2red")]) and np.isnan(two[names.index("skew")])
    assert np.isnan(two[names.index("sw")]) and np.isnan(two[names.index("smallkurt")])
    assert empty[0] == 0 and np.all(np.isnan(empty[1:]))


def test_constant_light_curve_has_zero_scatter():
    t = np.arange(50.0)
    m = np.full(50, 15.0)
    e = np.full(50, 0.05)
    out = stats_dict(basic_stats(t, m, e, np.array([0, 50])))
    assert out["wstd"][0] == 0 and out["chi2red"][0] == 0 and out["iqr"][0] == 0
    assert np.isnan(out["sw"][0]) and np.isnan(out["ad"][0])


def test_zero_errors_do_not_crash():
    t = np.arange(10.0)
    m = np.linspace(15, 16, 10)
    e = np.zeros(10)
    out = basic_stats(t, m, e, np.array([0, 10]))
    assert out.shape == (1, 22)


def test_thread_count_does_not_change_results(rng):
    lcs = _random_batch(rng, [50] * 8)
    one = basic_stats(*ragged(lcs), n_threads=1)
    two = basic_stats(*ragged(lcs), n_threads=2)
    np.testing.assert_array_equal(one, two)
