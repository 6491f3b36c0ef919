"""External cross-match features: the closest catalog match per source (spec §4.12).

Input is the result of a cone search around ``n`` query positions, as flat arrays: for every
match, the index of its query and its separation, plus the projected catalog fields. For each
query the CLOSEST match is used (the reference meant to, but always took the first one); ties go
to the first match in input order. Queries without a match get missing values.

Columns are ``<catalog>__<field>`` (double underscore), so ``_id`` becomes ``<catalog>___id``.
Value types:

* ``_id`` fields: int64 with 0 where unmatched -- check ``matched`` (the table layer turns them
  into nullable ``Int64``; a float would lose digits of 19-digit Gaia ids);
* numeric fields: float64 with NaN where unmatched (or where the catalog has no value);
* text and other object fields (``ph_qual``): object arrays with None where unmatched.

A requested field absent from the cone-search result gives a missing column.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from scope.errors import DataError


def closest_match_index(n_queries: int, query_index, sep_arcsec) -> np.ndarray:
    """Row of the closest match of every query (-1 when a query has none).

    Parameters
    ----------
    n_queries : int
        Number of query positions.
    query_index : array_like of int, shape (k,)
        Query of each match row (0 <= value < n_queries).
    sep_arcsec : array_like of float, shape (k,)
        Separation of each match; NaN separations rank last.

    Returns
    -------
    ndarray of int64, shape (n_queries,)
    """
    q = np.asarray(query_index, dtype=np.int64)
    sep = np.asarray(sep_arcsec, dtype=np.float64)
    if q.shape != sep.shape or q.ndim != 1:
        raise DataError("query_index and sep_arcsec must be 1-d arrays of one length")
    if len(q) and (q.min() < 0 or q.max() >= n_queries):
        raise DataError(f"query_index values must lie in [0, {n_queries})")
    best = np.full(int(n_queries), -1, dtype=np.int64)
    if not len(q):
        return best
    rows = np.arange(len(q))
    sortable = np.where(np.isnan(sep), np.inf, sep)
    # order by query, then separation, then input order: the first row of each query wins
    order = np.lexsort((rows, sortable, q))
    first = np.ones(len(order), dtype=bool)
    first[1:] = q[order][1:] != q[order][:-1]
    winners = order[first]
    best[q[winners]] = winners
    return best


def xmatch_columns(
    catalog: str,
    n_queries: int,
    query_index,
    sep_arcsec,
    fields: Mapping[str, np.ndarray],
    field_names: Sequence[str],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Feature columns of one catalog from its cone-search matches.

    Parameters
    ----------
    catalog : str
        Catalog name used as column prefix (``Gaia_EDR3``, ``AllWISE``, ``PS1_DR1``).
    n_queries : int
        Number of sources.
    query_index, sep_arcsec : array_like, shape (k,)
        Query and separation of each match row.
    fields : mapping of str to array_like, shape (k,)
        Projected catalog values per match row.
    field_names : sequence of str
        The fields wanted, in column order (from config ``external_catalog_features``).

    Returns
    -------
    columns : dict of str to ndarray, shape (n_queries,)
        ``<catalog>__<field>`` columns in ``field_names`` order.
    matched : ndarray of bool, shape (n_queries,)
        Whether each query has a match.
    """
    best = closest_match_index(n_queries, query_index, sep_arcsec)
    matched = best >= 0
    rows = np.where(matched, best, 0)
    columns: dict[str, np.ndarray] = {}
    for name in field_names:
        col = f"{catalog}__{name}"
        values = fields.get(name)
        if values is None:
            columns[col] = _missing(name, n_queries)
            continue
        values = np.asarray(values)
        if len(values) != len(np.asarray(query_index)):
            raise DataError(f"{catalog} field {name} has {len(values)} values for {len(query_index)} matches")
        columns[col] = _take(name, values, rows, matched)
    return columns, matched


def _missing(name: str, n: int) -> np.ndarray:
    if name == "_id":
        return np.zeros(n, dtype=np.int64)
    return np.full(n, np.nan)


def _take(name: str, values: np.ndarray, rows: np.ndarray, matched: np.ndarray) -> np.ndarray:
    if name == "_id":
        if not len(values):
            return np.zeros(len(rows), np.int64)
        picked = values[rows]
        if picked.dtype.kind == "f":  # ids that went through a float column: missing ones are NaN
            matched = matched & np.isfinite(picked)
            picked = np.where(matched, picked, 0.0)
        return np.where(matched, picked.astype(np.int64), 0)
    if values.dtype.kind in "biuf":
        out = values[rows].astype(np.float64) if len(values) else np.zeros(len(rows))
        return np.where(matched, out, np.nan)
    out = np.empty(len(rows), dtype=object)
    if len(values):
        picked = values[rows]
        for i in range(len(rows)):
            out[i] = picked[i] if matched[i] else None
    return out
