"""Cleaning (spec §4.4): flags, invalid values, time cut, duplicates, thinning, minimum points."""

import numpy as np
import pytest

from scope.errors import DataError
from scope.features.clean import clean_lightcurves, subset_ragged


def _one(t, m=None, e=None, **kw):
    t = np.asarray(t, dtype=float)
    m = np.arange(len(t), dtype=float) if m is None else np.asarray(m, dtype=float)
    e = np.full(len(t), 0.1) if e is None else np.asarray(e, dtype=float)
    return clean_lightcurves(t, m, e, np.array([0, len(t)]), **kw)


def test_greedy_thinning_keeps_first_point_of_each_burst():
    # the reference test: t = [0, 0.001, 0.002, 0.025, 0.05] at 30 min keeps indices [0, 3, 4]
    out = _one([0, 0.001, 0.002, 0.025, 0.05], min_cadence_minutes=30.0, min_n_points=1)
    np.testing.assert_array_equal(out.m, [0, 3, 4])
    np.testing.assert_array_equal(out.index, [0, 3, 4])


def test_thinning_can_be_disabled():
    out = _one([0, 0.001, 0.002], min_cadence_minutes=0, min_n_points=1)
    assert len(out.t) == 3


def test_sorting_and_duplicate_times_keep_the_smallest_error():
    out = _one([3.0, 1.0, 2.0, 2.0, 2.0], m=[30, 10, 20, 21, 22], e=[0.1, 0.1, 0.3, 0.1, 0.1],
               min_cadence_minutes=0, min_n_points=1)
    np.testing.assert_array_equal(out.t, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out.m, [10, 21, 30])  # 21: smallest error, first among ties


def test_flags_nans_zero_errors_and_time_cut():
    t = [1.0, 2.0, 3.0, np.nan, 5.0, 6.0, 7.0]
    m = [1.0, np.inf, 3.0, 4.0, 5.0, 6.0, 7.0]
    e = [0.1, 0.1, 0.0, 0.1, -1.0, 0.1, 0.1]
    flags = [0, 0, 0, 0, 0, 4, 0]
    out = clean_lightcurves(np.array(t), np.array(m), np.array(e), np.array([0, 7]), flags=np.array(flags),
                            max_timestamp_hjd=6.5, min_cadence_minutes=30, min_n_points=1)
    np.testing.assert_array_equal(out.t, [1.0])
    assert out.reasons == [None]


def test_every_edge_case_gets_a_reason_and_nothing_crashes():
    lcs = {
        "empty": ([], [], [], []),
        "flagged": ([1.0, 2.0], [1.0, 1.0], [0.1, 0.1], [1, 2]),
        "invalid": ([1.0, 2.0], [np.nan, 1.0], [0.1, 0.0], [0, 0]),
        "late": ([10.0, 11.0], [1.0, 1.0], [0.1, 0.1], [0, 0]),
        "single": ([1.0], [1.0], [0.1], [0]),
        "good": ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.1, 0.1, 0.1], [0, 0, 0]),
    }
    t = np.concatenate([np.asarray(v[0], float) for v in lcs.values()])
    m = np.concatenate([np.asarray(v[1], float) for v in lcs.values()])
    e = np.concatenate([np.asarray(v[2], float) for v in lcs.values()])
    fl = np.concatenate([np.asarray(v[3], int) for v in lcs.values()])
    offsets = np.concatenate([[0], np.cumsum([len(v[0]) for v in lcs.values()])])
    out = clean_lightcurves(t, m, e, offsets, flags=fl, max_timestamp_hjd=5.0, min_n_points=2)
    reasons = dict(zip(lcs, out.reasons))
    assert reasons["empty"] == "no points"
    assert reasons["flagged"].startswith("all points flagged")
    assert reasons["invalid"].startswith("no valid points")
    assert reasons["late"] == "all points after max_timestamp_hjd"
    assert reasons["single"] == "fewer than 2 points after cleaning (1)"
    assert reasons["good"] is None
    np.testing.assert_array_equal(out.kept, [False] * 5 + [True])
    np.testing.assert_array_equal(out.lengths(), [0, 0, 0, 0, 0, 3])
    assert out.drop_summary()["fewer than 2 points after cleaning"] == 1
    st, sm, se, so = out.select(out.kept)
    np.testing.assert_array_equal(so, [0, 3])
    np.testing.assert_array_equal(sm, [1.0, 2.0, 3.0])


def test_inputs_are_not_modified():
    t = np.array([3.0, 1.0, 2.0])
    m = np.array([1.0, 2.0, 3.0])
    e = np.array([0.1, 0.1, 0.1])
    copies = [a.copy() for a in (t, m, e)]
    clean_lightcurves(t, m, e, np.array([0, 3]), min_n_points=1)
    for a, c in zip((t, m, e), copies):
        np.testing.assert_array_equal(a, c)


def test_subset_ragged_by_indices_and_mask():
    t = np.arange(6.0)
    offsets = np.array([0, 1, 3, 6])
    st, sm, se, so = subset_ragged(t, t, t, offsets, [2, 0])
    np.testing.assert_array_equal(st, [3, 4, 5, 0])
    np.testing.assert_array_equal(so, [0, 3, 4])
    st, *_ , so = subset_ragged(t, t, t, offsets, np.array([False, True, False]))
    np.testing.assert_array_equal(st, [1, 2])


def test_implausible_magnitudes_and_times_outside_the_window_are_dropped_and_counted():
    t = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 15.0, 15.001, 16.0, 99.0])
    m = np.array([15.0, 1e-22, 15.2, 99.0, 15.4, 15.5, 15.6, 15.7, 15.8, 15.9])
    e = np.full(len(t), 0.05)
    e[6] = 0.01  # the duplicate time with the smaller error wins
    flags = np.zeros(len(t), int)
    flags[2] = 4
    out = clean_lightcurves(t, m, e, np.array([0, len(t)]), flags=flags, mag_range=(3.0, 28.0),
                            time_window=(0.0, 50.0), max_timestamp_hjd=15.5, min_cadence_minutes=30.0,
                            min_n_points=1)
    np.testing.assert_array_equal(out.t, [10.0, 14.0, 15.0])
    np.testing.assert_array_equal(out.m, [15.0, 15.4, 15.6])
    assert out.epochs_removed == {
        "flagged (catflags != 0)": 1, "non-finite or error <= 0": 0, "implausible magnitude": 2,
        "outside the survey window": 1, "after max_timestamp_hjd": 1, "duplicate time": 1,
        "cadence thinning": 1, "in light curves with too few points": 0}
    assert sum(out.epochs_removed.values()) + len(out.t) == len(t)


def test_every_point_is_kept_or_counted_once():
    rng = np.random.default_rng(4)
    lengths = rng.integers(0, 80, 30)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    n = offsets[-1]
    t = np.round(rng.uniform(0, 30, n), 2)
    m = rng.choice([15.0, 16.0, np.nan, -3.0, 40.0], n, p=[0.5, 0.3, 0.05, 0.1, 0.05])
    e = rng.choice([0.05, 0.0], n, p=[0.95, 0.05])
    out = clean_lightcurves(t, m, e, offsets, flags=rng.choice([0, 1], n, p=[0.9, 0.1]), mag_range=(3, 28),
                            time_window=(1.0, None), max_timestamp_hjd=28.0, min_cadence_minutes=60,
                            min_n_points=10)
    assert sum(out.epochs_removed.values()) + len(out.t) == n
    assert out.epochs_removed["in light curves with too few points"] > 0


def test_light_curves_with_nothing_plausible_get_their_reason():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    m = np.array([1e-22, 0.0, 15.0, 15.1])
    e = np.full(4, 0.1)
    out = clean_lightcurves(t, m, e, np.array([0, 2, 4]), mag_range=(3.0, 28.0), time_window=(3.5, None),
                            min_n_points=1)
    assert out.reasons == ["no point with a plausible magnitude", None]
    out = clean_lightcurves(t, m, e, np.array([0, 2, 3, 4]), time_window=(3.5, None), min_n_points=1)
    assert out.reasons[1] == "no point inside the survey window"
    with pytest.raises(DataError, match="mag_range must have low < high"):
        clean_lightcurves(t, m, e, np.array([0, 4]), mag_range=(28.0, 3.0))
