"""ZTF alert statistics around each source (spec §4.11).

``n_ztf_alerts`` counts the alert packets found within the cross-match radius of a source;
``mean_ztf_alert_braai`` is the mean of their real/bogus (``braai``) scores, ignoring missing
scores. With no alert both are 0 (the reference's defaults, also its impute strategy); when
alerts exist but none has a score the mean is NaN.
"""

from __future__ import annotations

import numpy as np

from scope.errors import DataError


def alert_stats(n_queries: int, query_index, braai) -> tuple[np.ndarray, np.ndarray]:
    """Alert count and mean braai per source.

    Parameters
    ----------
    n_queries : int
        Number of sources.
    query_index : array_like of int, shape (k,)
        Source of each alert found by the cone search.
    braai : array_like of float, shape (k,)
        Real/bogus score of each alert (NaN when missing).

    Returns
    -------
    n_ztf_alerts : ndarray of int64, shape (n_queries,)
    mean_ztf_alert_braai : ndarray of float64, shape (n_queries,)
    """
    q = np.asarray(query_index, dtype=np.int64)
    b = np.asarray(braai, dtype=np.float64)
    if q.shape != b.shape or q.ndim != 1:
        raise DataError("query_index and braai must be 1-d arrays of one length")
    if len(q) and (q.min() < 0 or q.max() >= n_queries):
        raise DataError(f"query_index values must lie in [0, {n_queries})")
    counts = np.bincount(q, minlength=n_queries).astype(np.int64)
    good = np.isfinite(b)
    n_scored = np.bincount(q[good], minlength=n_queries)
    total = np.bincount(q[good], weights=b[good], minlength=n_queries)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_scored > 0, total / np.maximum(n_scored, 1), np.nan)
    mean = np.where(counts == 0, 0.0, mean)
    return counts, mean
