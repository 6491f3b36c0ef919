"""Collecting the ids of a field's quadrants from any light-curve source, and saving them."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from scope import idfiles
from scope.tables import update_json

log = logging.getLogger(__name__)


def collect_quad_ids(source, field: int, ccds, quads, *, minobs: int = 0, page_size: int = 10000,
                     skip: int = 0, single_page: bool = False) -> dict[tuple[int, int], np.ndarray]:
    """Ids per ``(ccd, quad)``, paging through the source.

    With ``single_page`` only one page (``skip``, ``page_size``) is read per quadrant; otherwise
    pages are read until a short page and **all** pages are kept (the reference kept only the
    last page of a quadrant).
    """
    out: dict[tuple[int, int], np.ndarray] = {}
    pairs = [(c, q) for c in ccds for q in quads]
    for ccd, quad in tqdm(pairs, desc=f"field {field} quadrants", disable=True if len(pairs) < 4 else None, leave=False):
        if single_page:
            ids = source.ids_in_quadrant(field, ccd, quad, minobs=minobs, skip=skip,
                                         limit=page_size if page_size > 0 else None)
        else:
            pages, start = [], 0
            size = page_size if page_size > 0 else 10**9
            while True:
                page = source.ids_in_quadrant(field, ccd, quad, minobs=minobs, skip=start, limit=size)
                pages.append(page)
                if len(page) < size:
                    break
                start += size
            ids = np.concatenate(pages) if pages else np.zeros(0, np.int64)
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        log.debug("field %d ccd %d quad %d: %d ids", field, ccd, quad, len(ids))
        out[(ccd, quad)] = ids
    return out


def write_quad_ids(base: Path, field: int, ccd: int, quad: int, ids: np.ndarray) -> None:
    """The per-quadrant HDF5 and CSV id files."""
    idfiles.write_ids_h5(idfiles.quad_h5_path(base, field, ccd, quad),
                         f"dataset_ccd_{ccd}_quad_{quad}_field_{field}", ids)
    idfiles.write_ids_csv(idfiles.quad_csv_path(base, field, ccd, quad), ids)


def write_field_ids(base: Path, field: int, results: dict) -> Path:
    """The whole-field HDF5 id file (integer ids)."""
    ids = np.concatenate(list(results.values())) if results else np.zeros(0, np.int64)
    path = idfiles.field_h5_path(base, field)
    idfiles.write_ids_h5(path, f"dataset_field_{field}", ids)
    return path


def write_meta(base: Path, field: int, results: dict, *, catalog: str, minobs: int, ccd_range, quad_range) -> dict:
    """``meta.json`` with the counts per ccd/quad and the query parameters (replaced each run)."""
    counts: dict = {}
    for (ccd, quad), ids in sorted(results.items()):
        counts.setdefault(str(ccd), {"quad": {}})["quad"][str(quad)] = int(len(ids))
    meta = {"catalog": catalog, "minobs": int(minobs), "field": int(field), "ccd_range": list(ccd_range),
            "quad_range": list(quad_range), "ccd": counts, "total": int(sum(len(v) for v in results.values()))}
    return update_json(idfiles.ids_dir(base, field) / "meta.json", lambda _old: meta)
