"""Training-set loading and the per-class choice of positive and negative examples.

The training-set format is the reference's (spec §4.1): label columns holding probabilities in
[0, 1], feature columns (periodic ones carry the period suffix), ``ztf_id``, and optionally
``dmdt`` (26x26 per row) and coordinates; Parquet, HDF5 or CSV.

Label rule (the reference's bug §9.7 fixed)
--------------------------------------------
For a class with label column ``L`` and threshold ``t``:

- **positive**: ``L > t``;
- **negative**: ``L <= min(0.5, t)``;
- rows with ``min(0.5, t) < L <= t`` are **left out**: a labeller's "maybe" is neither. (The
  reference counted them as members of the class but trained them as negatives.)
- missing labels are left out.

For ``variable`` (the ``vnv`` classifier), when the set has a ``non-variable`` column, the
negatives are the rows with ``non-variable > t`` (and ``variable <= 0.5``), as in the reference:
a source nobody called non-variable is not evidence of non-variability. Rows labelled both
variable and non-variable above the threshold are left out.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from scope.errors import DataError

log = logging.getLogger(__name__)

DMDT_SHAPE = (26, 26, 1)
NONVARIABLE_LABEL = "non-variable"
#: fewest positive (and negative) examples a class needs to be trained
MIN_EXAMPLES = 10


def load_training_set(path: str | Path) -> pd.DataFrame:
    """Read a training set (``.parquet``, ``.h5``/``.hdf5`` or ``.csv``).

    Raises
    ------
    DataError
        When the file is missing, unreadable or of another format.
    """
    from scope.tables import read_table

    path = Path(path)
    if not path.exists():
        raise DataError(f"training set not found: {path}")
    df = read_table(path)
    if len(df) == 0:
        raise DataError(f"training set {path} has no rows")
    return df


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file (recorded in model cards)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def check_columns(df: pd.DataFrame, *, tag: str, label: str, features: Sequence[str],
                  source: str = "training set", period_suffix: str | None = None) -> None:
    """Fail with a one-line :class:`DataError` naming the class or column that is wrong.

    Checks that the label column exists, is numeric and holds values in [0, 1], that every
    feature column exists, and that every feature column is numeric.
    """
    if label not in df.columns:
        raise DataError(f"{source} has no label column '{label}' (needed by class '{tag}')")
    if not _numeric_like(df[label]):
        raise DataError(f"label column '{label}' in {source} is not numeric (class '{tag}')")
    check_label_values(df, [label], source)
    missing = [f for f in features if f not in df.columns]
    if missing:
        hint = f" (period suffix '{period_suffix}')" if period_suffix else ""
        shown = ", ".join(f"'{m}'" for m in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DataError(f"{source} lacks feature column(s) {shown} needed by class '{tag}'{hint}")
    for name in features:
        if not _numeric_like(df[name]):
            example = next((v for v in df[name] if v is not None and not _is_number(v)), None)
            raise DataError(f"feature column '{name}' in {source} is not numeric "
                            f"(dtype {df[name].dtype}, e.g. {example!r})")


def check_label_values(df: pd.DataFrame, columns: Sequence[str], source: str = "training set") -> None:
    """Refuse label columns holding values outside [0, 1] (labels are probabilities).

    Missing values are allowed (they are left out of training). The one-line error names every
    offending column with its count and an example, e.g. ``'variable' (3, e.g. 2.0)``.
    """
    bad = []
    for name in columns:
        values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        outside = ~np.isnan(values) & ((values < 0) | (values > 1))
        if outside.any():
            bad.append(f"'{name}' ({int(outside.sum())}, e.g. {values[outside][0]:g})")
    if bad:
        raise DataError(f"label values outside [0, 1] in {source}: {', '.join(bad)}; labels are probabilities")


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _numeric_like(col: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
        return True
    converted = pd.to_numeric(col, errors="coerce")
    # text that merely looks empty is missing, anything else unconvertible is not numeric
    return bool((converted.notna() | col.isna()).all())


@dataclass
class Examples:
    """Rows of the training set that take part in training a class.

    Attributes
    ----------
    rows : numpy.ndarray
        Positions (``iloc``) of the member rows in the training set.
    target : numpy.ndarray
        0/1 target per member row.
    n_ambiguous : int
        Rows left out because their label lies between the negative bound and the threshold.
    """

    rows: np.ndarray
    target: np.ndarray
    n_ambiguous: int = 0


def select_examples(df: pd.DataFrame, label: str, threshold: float) -> Examples:
    """Apply the label rule of this module to one class (see the module docstring)."""
    values = pd.to_numeric(df[label], errors="coerce").to_numpy(dtype=float)
    neg_bound = min(0.5, threshold)
    known = np.isfinite(values)
    pos = known & (values > threshold)
    if label == "variable" and NONVARIABLE_LABEL in df.columns:
        nonvar = pd.to_numeric(df[NONVARIABLE_LABEL], errors="coerce").to_numpy(dtype=float)
        nonvar_pos = np.isfinite(nonvar) & (nonvar > threshold)
        contradictory = pos & nonvar_pos
        if contradictory.any():
            log.warning("%d rows are labelled both variable and non-variable above %.2f; left out",
                        int(contradictory.sum()), threshold)
        pos &= ~contradictory
        neg = nonvar_pos & ~contradictory & ~(known & (values > 0.5))
        ambiguous = known & ~pos & ~neg & ~contradictory & (values > neg_bound)
    else:
        neg = known & (values <= neg_bound)
        ambiguous = known & ~pos & ~neg
    rows = np.flatnonzero(pos | neg)
    target = pos[rows].astype(np.int8)
    if ambiguous.any():
        log.info("label '%s': %d rows with %.2f < label <= %.2f are neither positive nor negative; left out",
                 label, int(ambiguous.sum()), neg_bound, threshold)
    return Examples(rows=rows, target=target, n_ambiguous=int(ambiguous.sum()))


def count_positives(df: pd.DataFrame, label: str, threshold: float) -> int:
    """Number of rows whose ``label`` exceeds ``threshold`` (the positives of a class)."""
    values = pd.to_numeric(df[label], errors="coerce").to_numpy(dtype=float)
    return int(np.sum(np.isfinite(values) & (values > threshold)))


def finite_feature_rows(df: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """Boolean mask of rows whose ``features`` are all finite numbers."""
    if not len(features):
        return np.ones(len(df), dtype=bool)
    values = df[list(features)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return np.isfinite(values).all(axis=1)


def stack_dmdt(column: pd.Series | None, n_rows: int) -> np.ndarray:
    """Stack a ``dmdt`` column into a ``(n, 26, 26, 1)`` float32 array.

    Missing entries (``None``/NaN) become zeros, as in the reference. ``column=None`` gives all
    zeros (used when a model has no conv branch).
    """
    out = np.zeros((n_rows,) + DMDT_SHAPE, dtype=np.float32)
    if column is None:
        return out
    for i, value in enumerate(column):
        if value is None or (np.isscalar(value) and not isinstance(value, str)):
            continue
        arr = np.asarray(value, dtype=np.float32)
        if arr.size != 26 * 26:
            raise DataError(f"dmdt entry at row {i} has {arr.size} values, expected 26x26")
        out[i] = arr.reshape(DMDT_SHAPE)
    return out
