"""A light curve's features do not depend on the batch it is in, its place there, or the threads."""

import numpy as np
import pytest

from scope.features import compute_lightcurve_features
from scope.features.periodsearch import find_periods
from scope.features.periodsearch.grid import FrequencyGrid
from scope.features.periodsearch.peaks import reduce_periodogram

from featsynth import ragged, ztf_like


@pytest.fixture(scope="module")
def lcs():
    rng = np.random.default_rng(99)
    out = []
    for k, n in enumerate([25, 160, 45, 230, 12, 90, 310, 60]):
        period = None if k % 3 == 2 else float(rng.uniform(0.2, 9.0))
        out.append(ztf_like(rng, n, period=period, amp=0.15, noise=0.04, shape=("sine", "eclipse", "sawtooth")[k % 3]))
    return out


def _grid():
    segments = np.array([[0, 900], [940, 2200]], dtype=np.int64)
    return FrequencyGrid(fmin=0.0021, df=0.00149, nf=2200, segments=segments, params={"samples_per_peak": 6})


def _rows(cols, order):
    """Per-light-curve values of every column, in the original light-curve order."""
    back = np.argsort(order)
    return {k: np.asarray(v)[back] for k, v in cols.items()}


def _assert_same(a, b):
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("algorithms", [["LS", "CE", "AOV"], ["LS_CE_AOV"], ["FPW", "MHF", "BLS"]],
                         ids=["ls-ce-aov", "nested", "fpw-mhf-bls"])
def test_features_do_not_depend_on_batching_order_or_threads(lcs, algorithms):
    grid = _grid()
    n = len(lcs)
    kw = dict(algorithms=algorithms, grid=grid, top_n_periods=4, best_period=True)
    ref = compute_lightcurve_features(*ragged(lcs), batch_size=n, n_threads=1, **kw)
    for order, batch_size, threads in [(np.arange(n), 1, 2), (np.arange(n)[::-1], 3, 1),
                                       (np.array([3, 0, 6, 1, 7, 2, 5, 4]), 5, 2)]:
        cols = compute_lightcurve_features(*ragged([lcs[i] for i in order]), batch_size=batch_size,
                                           n_threads=threads, **kw)
        _assert_same(ref, _rows(cols, order))


@pytest.mark.parametrize("engine", ["fft", "fft-double", "numba"])
def test_lomb_scargle_engines_do_not_depend_on_the_batch(lcs, engine):
    grid = _grid()
    alone = [find_periods(*ragged([lc]), algorithms=["LS"], grid=grid, top_n=5, ls_engine=engine)
             .algorithms["LS"] for lc in lcs]
    together = find_periods(*ragged(lcs), algorithms=["LS"], grid=grid, top_n=5, ls_engine=engine,
                            n_threads=2).algorithms["LS"]
    for k, one in enumerate(alone):
        np.testing.assert_array_equal(one.top_periods[0], together.top_periods[k])
        np.testing.assert_array_equal(one.top_significances[0], together.top_significances[k])


def test_ties_go_to_the_lower_frequency_wherever_the_blocks_fall():
    # two equal peaks (grid indices 300 and 1700) and a plateau: the lower index wins every time
    k = np.arange(2000)
    scores = np.exp(-0.5 * ((k - 300) / 4.0) ** 2) + np.exp(-0.5 * ((k - 1700) / 4.0) ** 2)
    scores[1000:1003] = 0.5
    for start in (0, 1, 255, 256, 257):
        idx = np.arange(start, start + 2000)
        out = reduce_periodogram(scores, idx, n_peaks=3, n_raw=2, sep=5)
        assert out["pk_idx"][:2].tolist() == [start + 300, start + 1700]
        assert out["best_idx"] == start + 300
        assert out["raw_idx"].tolist() == [start + 300, start + 1700]
