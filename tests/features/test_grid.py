"""Frequency grid (spec §4.7)."""

import math

import numpy as np
import pytest

from scope.errors import DataError
from scope.features.periodsearch import TERRESTRIAL_BANDS, baseline_of, make_grid


def test_production_grid_parameters():
    grid = make_grid(1000.0, max_freq=48.0, samples_per_peak=10)
    assert grid.fmin == pytest.approx(2 / 1000)
    assert grid.df == pytest.approx(1 / (10 * 1000))
    assert grid.nf == math.ceil((48 - 0.002) / 1e-4)
    assert grid.n_kept == grid.nf
    f = grid.frequencies()
    assert f[0] == grid.fmin and f[-1] == pytest.approx(grid.fmin + (grid.nf - 1) * grid.df)
    assert grid.peak_width_bins == 10


def test_scale_min_period_uses_cadence_nyquist():
    grid = make_grid(500.0, max_freq=48.0, scale_min_period=True, min_cadence_minutes=30.0)
    assert grid.fmax == pytest.approx(24.0, abs=grid.df)


def test_terrestrial_bands_are_removed_as_closed_intervals():
    grid = make_grid(2000.0, max_freq=5.0, samples_per_peak=10, remove_terrestrial=True)
    f = grid.frequencies()
    for lo, hi, _ in TERRESTRIAL_BANDS:
        assert not np.any((f >= lo) & (f <= hi)), (lo, hi)
    full = make_grid(2000.0, max_freq=5.0, samples_per_peak=10)
    allf = full.frequencies()
    outside = np.ones(len(allf), bool)
    for lo, hi, _ in TERRESTRIAL_BANDS:
        outside &= (allf < lo) | (allf > hi)
    np.testing.assert_array_equal(f, allf[outside])
    # kept runs are contiguous in the uniform index space
    assert len(grid.segments) > 5
    assert np.all(grid.segments[:, 1] > grid.segments[:, 0])


def test_baseline_of_ragged_batch_ignores_empty_light_curves():
    t = np.array([10.0, 12.0, 100.0, 105.0, 130.0, 7.0])
    offsets = np.array([0, 2, 2, 5, 6])
    assert baseline_of(t, offsets) == 30.0
    assert baseline_of(np.zeros(0), np.array([0, 0])) == 0.0


@pytest.mark.parametrize("baseline", [0.0, -1.0, np.nan])
def test_bad_baseline_is_a_data_error(baseline):
    with pytest.raises(DataError):
        make_grid(baseline)


def test_empty_grid_is_a_data_error():
    with pytest.raises(DataError, match="empty frequency grid"):
        make_grid(0.01, max_freq=48.0)  # fmin = 200 c/d > fmax
