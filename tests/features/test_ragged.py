"""The in-kernel sorts agree with NumPy on every kind of input."""

import numpy as np
import pytest

from scope.features._ragged import fast_sort, heapsort


def _inputs():
    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 3, 15, 16, 17, 100, 1000, 5000):
        yield rng.normal(size=n)
        yield np.sort(rng.normal(size=n))
        yield np.sort(rng.normal(size=n))[::-1].copy()
        yield rng.integers(0, 3, n).astype(float)  # many duplicates
        yield np.concatenate([np.arange(n // 2), np.arange(n - n // 2)[::-1]]).astype(float)  # organ pipe


@pytest.mark.parametrize("sort", [fast_sort, heapsort], ids=["fast_sort", "heapsort"])
def test_sorts_match_numpy(sort):
    for x in _inputs():
        y = x.copy()
        sort(y)
        np.testing.assert_array_equal(y, np.sort(x))
