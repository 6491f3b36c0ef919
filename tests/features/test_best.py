"""The best-period choice: harmonics, eclipsing binaries, significance, degenerate input."""

import numpy as np
import pytest

from scope.features import compute_lightcurve_features
from scope.features.periodsearch import BEST_SUFFIX, choose_best_period, find_periods, make_grid
from scope.features.periodsearch.prepare import prepare_batch

from featsynth import ragged, ztf_like


def _best(lcs, algorithms=("LS", "CE", "AOV"), max_freq=4.0, baseline=1000.0):
    batch = ragged(lcs)
    grid = make_grid(baseline, max_freq=max_freq, samples_per_peak=10)
    res = find_periods(*batch, algorithms=list(algorithms), grid=grid, top_n=5)
    return res, choose_best_period(prepare_batch(*batch), res)


def test_eclipsing_binary_gets_its_true_period_not_half(rng):
    # two eclipses of different depth per cycle: Lomb-Scargle puts it at P/2
    lcs = [ztf_like(rng, 300, period=p, amp=0.5, noise=0.02, shape="eclipse") for p in (1.3731, 2.8173, 0.8129)]
    res, best = _best(lcs)
    true = np.array([1.3731, 2.8173, 0.8129])
    np.testing.assert_allclose(res.algorithms["LS"].period, true / 2, rtol=0.01)
    np.testing.assert_allclose(best.period, true, rtol=0.002)
    assert best.suffix == BEST_SUFFIX


@pytest.mark.parametrize("shape", ["sine", "sawtooth"])
def test_pulsators_are_not_doubled_or_halved(rng, shape):
    periods = (0.5731, 0.3313, 3.181)
    lcs = [ztf_like(rng, 200, period=p, amp=0.3, noise=0.03, shape=shape) for p in periods]
    _, best = _best(lcs)
    np.testing.assert_allclose(best.period, periods, rtol=0.002)


def test_significance_is_a_false_alarm_probability(rng):
    noise = [ztf_like(rng, 80, period=None, noise=0.05) for _ in range(120)]
    signal = [ztf_like(rng, 80, period=1.917, amp=0.3, noise=0.05)]
    _, best = _best(noise + signal, max_freq=3.0)
    sig = best.significance
    assert np.all(sig >= 0)
    # white noise: -log10 FAP > 1 about 10 % of the time and > 2 about 1 % (seeded sample)
    assert np.mean(sig[:-1] > 1) < 0.25
    assert np.mean(sig[:-1] > 2) < 0.08  # slightly optimistic at this N (120 samples: binomial noise too)
    assert sig[-1] > 10 and best.period[-1] == pytest.approx(1.917, rel=0.002)


def test_degenerate_light_curves_give_nan(rng):
    t, m, e = ztf_like(rng, 50, period=1.1)
    lcs = [(t, np.full(50, 15.0), e), (t[:4], m[:4], e[:4]), (t[:0], m[:0], e[:0]), (t, m, e)]
    _, best = _best(lcs)
    assert np.isnan(best.period[:3]).all() and np.isnan(best.significance[:3]).all()
    assert np.isfinite(best.period[3])


def test_best_columns_come_last_and_work_with_the_nested_search(rng):
    lcs = [ztf_like(rng, 150, period=p, amp=0.3, shape="sawtooth") for p in (1.61, 2.37)]
    cols = compute_lightcurve_features(*ragged(lcs), algorithms=["LS_CE_AOV"], grid=make_grid(1000.0, max_freq=3.0),
                                       top_n_periods=10, best_period=True)
    names = list(cols)
    assert names[-2:] == ["period_BEST", "significance_BEST"] and names[-3] == "dmdt"
    np.testing.assert_allclose(cols["period_BEST"], [1.61, 2.37], rtol=0.002)
    without = compute_lightcurve_features(*ragged(lcs), algorithms=["LS_CE_AOV"], grid=make_grid(1000.0, max_freq=3.0),
                                          top_n_periods=10)
    assert "period_BEST" not in without
    for name in without:  # the reference's columns are unchanged by the option
        np.testing.assert_array_equal(without[name], cols[name])
