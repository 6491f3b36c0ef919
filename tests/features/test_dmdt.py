"""dm-dt histograms (spec §4.10) against numpy.histogram2d."""

import numpy as np
import pytest

from scope.errors import DataError
from scope.features.dmdt import DM_EDGES, DT_EDGES, dmdt_histograms

from featsynth import ragged, ztf_like


def _numpy_dmdt(t, m, dm_edges=DM_EDGES, dt_edges=DT_EDGES):
    order = np.argsort(t)
    t, m = t[order], m[order]
    i, j = np.triu_indices(len(t), 1)
    hist, _, _ = np.histogram2d(t[j] - t[i], m[j] - m[i], bins=[dt_edges, dm_edges])
    hist = hist.T
    norm = np.linalg.norm(hist)
    return hist / norm if norm else hist


def test_matches_histogram2d(rng):
    lcs = [ztf_like(rng, n, period=p, amp=1.0) for n, p in [(200, 0.5), (57, 3.3), (1, None), (0, None)]]
    # exact edge values for the closed last bin and an interior edge
    lcs.append((np.array([0.0, 0.04, 2000.0]) + 2458000.0, np.array([10.0, 10.05, 18.0]), np.ones(3)))
    t, m, e, offsets = ragged(lcs)
    out = dmdt_histograms(t, m, offsets)
    assert out.shape == (5, 26, 26)
    for k, (tt, mm, _) in enumerate(lcs):
        np.testing.assert_allclose(out[k], _numpy_dmdt(tt, mm), atol=1e-15)
    assert np.all(out[2] == 0) and np.all(out[3] == 0)
    np.testing.assert_allclose(np.linalg.norm(out[:2], axis=(1, 2)), 1.0)


def test_rows_are_dm_and_later_minus_earlier():
    t = np.array([0.0, 1.2])
    m = np.array([15.0, 15.6])  # fainter later: dm = +0.6
    out = dmdt_histograms(t, m, np.array([0, 2]))[0]
    row = np.searchsorted(DM_EDGES, 0.6, side="right") - 1
    col = np.searchsorted(DT_EDGES, 1.2, side="right") - 1
    assert out[row, col] == 1.0 and out.sum() == 1.0


def test_unsorted_input_and_custom_edges(rng):
    t, m, _ = ztf_like(rng, 80, period=1.1)
    perm = rng.permutation(80)
    dm = np.linspace(-2, 2, 5)
    dt = np.array([0, 1, 10, 100, 1000.0])
    out = dmdt_histograms(t[perm], m[perm], np.array([0, 80]), dm_edges=dm, dt_edges=dt)
    np.testing.assert_allclose(out[0], _numpy_dmdt(t, m, dm, dt), atol=1e-15)


def test_bad_edges():
    with pytest.raises(DataError):
        dmdt_histograms(np.zeros(1), np.zeros(1), np.array([0, 1]), dm_edges=[1.0, 0.0])
