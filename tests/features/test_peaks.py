"""Peak reduction (on-the-fly kernel helper vs NumPy), significance, agreement and nesting."""

import numpy as np
import pytest

from scope.features.periodsearch.cpu import reduce_power
from scope.features.periodsearch.peaks import (
    agreement_scores,
    nested_candidates,
    pick_nested,
    reduce_periodogram,
    significance,
)


def _kernel_reduce(power, segments, n_peaks, n_raw, sep):
    summary = np.empty(5)
    pk_idx = np.empty(n_peaks, np.int64)
    pk_val = np.empty(n_peaks)
    raw_idx = np.empty(n_raw, np.int64)
    raw_val = np.empty(n_raw)
    reduce_power(power, segments, sep, summary, pk_idx, pk_val, raw_idx, raw_val)
    return summary, pk_idx, pk_val, raw_idx, raw_val


@pytest.mark.parametrize("seed", range(6))
def test_streaming_reduction_equals_numpy(seed):
    rng = np.random.default_rng(seed)
    nf = 3000
    power = np.convolve(rng.random(nf + 20), np.ones(7) / 7, mode="valid")[:nf]
    power[rng.integers(0, nf, 40)] = np.round(power[rng.integers(0, nf, 40)], 2)  # some ties
    power[rng.integers(0, nf, 5)] = np.nan
    segments = np.array([[0, 700], [760, 1500], [1501, 2999]], dtype=np.int64)
    idx = np.concatenate([np.arange(a, b) for a, b in segments])
    for n_peaks, n_raw, sep in [(5, 7, 3), (1, 0, 1), (12, 30, 10)]:
        summary, pk_idx, pk_val, raw_idx, raw_val = _kernel_reduce(power, segments, n_peaks, n_raw, sep)
        ref = reduce_periodogram(power[idx], idx, n_peaks, n_raw, sep)
        assert summary[0] == pytest.approx(ref["mean"], rel=1e-12)
        assert summary[1] == pytest.approx(ref["std"], rel=1e-9)
        assert summary[2] == ref["count"]
        assert summary[3] == ref["best_idx"] and summary[4] == ref["best_val"]
        np.testing.assert_array_equal(pk_idx, ref["pk_idx"])
        np.testing.assert_array_equal(pk_val, ref["pk_val"])
        np.testing.assert_array_equal(raw_idx, ref["raw_idx"])
        np.testing.assert_array_equal(raw_val, ref["raw_val"])


def test_distinct_peaks_merge_side_lobes_and_skip_edges():
    #            0    1    2    3    4    5    6    7    8    9   10   11
    s = np.array([9.0, 1.0, 5.0, 4.0, 6.0, 1.0, 1.0, 3.0, 1.0, 2.0, 1.0, 8.0])
    idx = np.arange(len(s))
    out = reduce_periodogram(s, idx, n_peaks=3, n_raw=2, sep=3)
    # interior maxima at 2 (5.0), 4 (6.0: within 3 bins of 2 and higher, replaces it), 7 (3.0)
    # and 9 (2.0: within 3 bins of 7 and lower, a side lobe of it)
    np.testing.assert_array_equal(out["pk_idx"], [4, 7, -1])
    # the edges (9.0 and 8.0) are not peaks, but they are the highest raw bins
    np.testing.assert_array_equal(out["raw_idx"], [0, 11])
    assert out["best_idx"] == 4
    # a monotonic periodogram has no peak: the best bin is the global maximum
    mono = reduce_periodogram(np.arange(10.0), np.arange(10), 3, 0, 2)
    assert mono["best_idx"] == 9 and np.all(mono["pk_idx"] == -1)


def test_significance_is_a_z_score():
    assert significance(5.0, 1.0, 2.0) == 2.0
    assert significance(-3.0, 1.0, 2.0) == 2.0
    assert np.isnan(significance(1.0, 1.0, 0.0))


def test_agreement_scores():
    nan = np.nan
    # 3 algorithms, 2 light curves, top-3
    top = np.array([
        [[1.0, 3.0, 7.0], [0.5, nan, nan]],
        [[2.0, 9.0, 11.0], [0.003, 0.7, nan]],   # 2.0 = 2 x 1.0; 0.003 d is below the floor
        [[5.0, 3.05, 1.02], [13.0, nan, nan]],
    ])
    best = top[:, :, 0]
    out = agreement_scores(top, best)
    assert out["n_total_pairs"].tolist() == [3, 0 + 3]
    # lc 0: A-B match (1 ~ 2/2), A-C match (3 ~ 3.05 and 1 ~ 1.02), B-C match (2 ~ 1.02 x 2)
    assert out["n_agree_pairs"][0] == 3 and out["agree_score"][0] == 1.0
    assert out["agree_strict"][0] == pytest.approx(1 / 3)  # only best A (1.0) ~ best B (2.0)
    # best weights: A-B ranks (0,0) -> 1; A-C ranks (0,1), 1 ~ 3.05/3 -> 1/2; B-C ranks (0,2) -> 1/3
    assert out["agree_weighted"][0] == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert out["best_agree_period"][0] == 1.0
    assert out["best_consensus_period"][0] == 1.0
    # lc 1: nothing matches
    assert out["n_agree_pairs"][1] == 0 and out["agree_score"][1] == 0
    assert np.isnan(out["best_agree_period"][1]) and np.isnan(out["best_consensus_period"][1])


def test_agreement_with_one_algorithm_has_no_pairs():
    out = agreement_scores(np.ones((1, 2, 3)), np.ones((1, 2)))
    assert out["n_total_pairs"].tolist() == [0, 0]
    assert np.all(np.isnan(out["agree_score"]))


def test_nested_candidates_and_pick():
    ls = np.array([[5, 9, -1], [1, 2, 3]])
    ce = np.array([[9, 4, 7], [-1, -1, -1]])
    cand = nested_candidates(ls, ce)
    np.testing.assert_array_equal(cand[0], [4, 5, 7, 9, -1, -1])
    np.testing.assert_array_equal(cand[1], [1, 2, 3, -1, -1, -1])
    f = np.array([[1.0, 3.0, 3.0, 2.0, np.nan, np.nan], [np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]])
    best, value = pick_nested(cand, f)
    assert best.tolist() == [5, -1]  # first of the tied maxima (lowest index)
    assert value[0] == 3.0 and np.isnan(value[1])
