"""What one input row asks to upload: its classes above threshold, its period, its survey id."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from scope.errors import DataError
from scope.services import fritz_payloads as fp

log = logging.getLogger(__name__)

READ = ("read", "Read", "READ")
SURVEY_ID_COLUMNS = ("Gaia_EDR3___id", "AllWISE___id", "PS1_DR1___id")


@dataclass(frozen=True)
class UploadClass:
    """An input column and the Fritz classification it becomes."""

    column: str
    fritz_label: str
    taxonomy_id: int


def upload_classes(mapper: Mapping[str, Mapping], requested: Sequence[str] | None,
                   columns: Sequence[str]) -> list[UploadClass]:
    """The columns to upload, in mapper order.

    ``requested`` None or ``read`` means every mapper key that is a column of the file. Named
    classes must be mapper keys; if none of them is a column, the last ``len(requested)``
    columns of the file hold their probabilities, in order (the reference's documented rule).
    """
    cols = list(columns)
    if not requested or (len(requested) == 1 and requested[0] in READ):
        chosen = [k for k in mapper if k in cols]
        if not chosen:
            raise DataError("no column of the input is a class of the taxonomy mapper (--taxonomy-map)")
        return [UploadClass(k, mapper[k]["fritz_label"], int(mapper[k]["taxonomy_id"])) for k in chosen]
    unknown = [c for c in requested if c not in mapper]
    if unknown:
        raise DataError(f"--classification names classes the taxonomy mapper lacks: {', '.join(unknown)}")
    present = [c for c in requested if c in cols]
    if present and len(present) < len(requested):
        missing = [c for c in requested if c not in cols]
        raise DataError(f"--classification columns missing from the input: {', '.join(missing)}")
    if not present:
        if len(requested) > len(cols):
            raise DataError(f"the input has fewer columns than the {len(requested)} classes named")
        sources = cols[-len(requested):]
        log.warning("classes %s are not columns of the input: reading them from its last %d columns (%s)",
                    ", ".join(requested), len(requested), ", ".join(sources))
        return [UploadClass(src, mapper[name]["fritz_label"], int(mapper[name]["taxonomy_id"]))
                for name, src in zip(requested, sources)]
    return [UploadClass(c, mapper[c]["fritz_label"], int(mapper[c]["taxonomy_id"])) for c in requested]


def row_classes(row: Mapping, classes: Sequence[UploadClass], p_threshold: float) -> list[tuple[UploadClass, float]]:
    """Classes of a row to post: probability >= ``p_threshold`` (when positive), else > 0."""
    out = []
    for c in classes:
        value = row.get(c.column)
        if fp.is_missing(value):
            continue
        try:
            p = float(value)
        except (TypeError, ValueError):
            raise DataError(f"column {c.column} holds '{value}', not a probability") from None
        if (p >= p_threshold) if p_threshold > 0 else (p > 0):
            out.append((c, min(max(p, 0.0), 1.0)))
    return out


def row_period(row: Mapping, columns: Sequence[str] = ("period",)) -> float | None:
    for col in columns:
        value = row.get(col)
        if not fp.is_missing(value):
            try:
                p = float(value)
            except (TypeError, ValueError):
                continue
            if np.isfinite(p) and p > 0:
                return p
    return None


def row_survey_id(row: Mapping) -> str | None:
    """``survey_id`` of the row, else ``<Catalog>___<id>`` of its first non-zero survey id
    (Gaia EDR3, then AllWISE, then PS1)."""
    value = row.get("survey_id")
    if not fp.is_missing(value):
        return str(value)
    for col in SURVEY_ID_COLUMNS:
        v = row.get(col)
        if not fp.is_missing(v):
            try:
                if int(v) != 0:
                    return f"{col[:-len('___id')]}___{int(v)}"
            except (TypeError, ValueError):
                continue
    return None
