"""Posting one event's classifications to Fritz with scope-upload-classification's library.

The rows posted are the merged sources that hold a light curve not yet posted for the event's
type (``post_GCN_sources_<d>.parquet``, rewritten only when its rows change, so an interrupted
upload resumes from its own progress log). Each row goes to the Fritz source named by its
``obj_id`` (the GCN transient), with the classes scoring at least ``p_threshold``, the light curves'
time-series and phase-folded plots as comments, and no photometry (the transient's own stays).
The upload never posts a classification, comment or annotation that is already there, so a rerun
after any failure posts only what is missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from scope.gcn.paths import EventPaths
from scope.tables import read_table, write_table

log = logging.getLogger(__name__)


@dataclass
class PostResult:
    rows: int = 0
    classifications: int = 0
    already_there: int = 0
    comments: int = 0
    failed_rows: int = 0
    results_file: Path | None = None


def rows_to_post(merged: pd.DataFrame, names: set[str]) -> pd.DataFrame:
    """Rows of sources among ``names`` (the Fritz names of this run's new light curves)."""
    if "obj_id" not in merged.columns:
        from scope.errors import DataError

        raise DataError("the merged predictions have no obj_id column (Fritz source names) to post to")
    out = merged[merged["obj_id"].astype(str).isin(names)].reset_index(drop=True)
    out.attrs = dict(merged.attrs)
    return out


def write_if_changed(table: pd.DataFrame, path: Path) -> bool:
    """Write ``table`` unless ``path`` already holds the same rows; True when written."""
    if path.exists():
        try:
            old = read_table(path)
            if list(old.columns) == list(table.columns) and old.reset_index(drop=True).equals(table):
                return False
        except (OSError, ValueError):
            pass
    write_table(table, path)
    return True


def post_event(cfg, client, paths: EventPaths, names: set[str], group_ids: Sequence[int], *, taxonomy_map: str,
               p_threshold: float, radius_arcsec: float) -> PostResult:
    """Post the classifications of the sources in ``names``; see the module docstring."""
    from scope.fritz.upload import UploadOptions, upload_classifications

    table = rows_to_post(read_table(paths.merged), names)
    result = PostResult(rows=len(table))
    if table.empty:
        return result
    write_if_changed(table, paths.to_post)
    opts = UploadOptions(file=str(paths.to_post), group_ids=list(group_ids), classification=["read"],
                         taxonomy_map=taxonomy_map, skip_phot=True, use_existing_obj_id=True,
                         radius_arcsec=radius_arcsec, p_threshold=p_threshold, post_phot_as_comment=True,
                         post_phasefolded_phot=True, result_dir=str(paths.event_dir))
    s = upload_classifications(cfg, opts, client, progress=False)
    result.classifications, result.already_there = s.classifications_posted, s.classifications_present
    result.comments, result.failed_rows = s.comments_posted, s.rows_failed
    result.results_file = s.files[0] if s.files else None
    return result
