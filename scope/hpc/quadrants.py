"""Which quadrants hold light curves, and how many: ``check-quads-for-sources`` and the quadrant file.

Works on any light-curve source (the local archive or Kowalski). The counts use the same
``minobs`` selection as generate-features, so a quadrant listed has work to do; they are kept
(``--count-sources``) so that the submission loop can size each job's memory and time.

Files, in the reference's formats:

* quadrant file (``slurm.dat``): ``<job> <field> <ccd> <quad>`` per line, no header, jobs numbered
  from 0 in field / CCD / quadrant order;
* completeness JSON: ``{"<field>": {"<ccd>": [quads]}}``, or with counts
  ``{"<field>": {"<ccd>": {"<quad>": count}}}`` (``{}`` for a field scanned and found empty).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterable, Mapping

from tqdm.auto import tqdm

from scope.errors import DataError
from scope.tables import atomic_write

log = logging.getLogger(__name__)

ALL_FIELDS = range(0, 2000)
PAIRS = [(c, q) for c in range(1, 17) for q in range(1, 5)]

Counts = dict[int, dict[tuple[int, int], int]]


def default_fields(source) -> list[int]:
    """Fields to scan when none are named: the archive's own, else 0-1999 (every ZTF field)."""
    fields = getattr(source, "fields", None)
    return list(fields()) if callable(fields) else list(ALL_FIELDS)


def quadrant_counts(source, field: int, *, minobs: int = 0) -> dict[tuple[int, int], int]:
    """``{(ccd, quad): n}`` of a field's quadrants that hold light curves with >= ``minobs`` epochs."""
    if getattr(source, "name", "") == "kowalski":
        return _kowalski_counts(source, field, minobs)
    out = {}
    for ccd, quad in source.quadrants(field):
        n = len(source.ids_in_quadrant(field, ccd, quad, minobs=minobs))
        if n:
            out[(int(ccd), int(quad))] = int(n)
    return out


def populated_fields(source, fields: Iterable[int]) -> set[int]:
    """The fields of ``fields`` that hold any light curve: one cheap ``limit=1`` probe per field, in
    parallel on Kowalski (most of the 2000 field numbers are empty); the archive knows its fields."""
    fields = [int(f) for f in fields]
    if getattr(source, "name", "") != "kowalski":
        present = set(default_fields(source)) if callable(getattr(source, "fields", None)) else set(fields)
        return {f for f in fields if f in present}
    from scope.services import kowalski_payloads as kp

    found = source.client.query_batch([kp.find(source.catalog, {"field": {"$eq": f}}, {"_id": 1}, limit=1)
                                       for f in fields])
    return {f for f, docs in zip(fields, found) if docs}


def _kowalski_counts(source, field: int, minobs: int) -> dict[tuple[int, int], int]:
    from scope.lightcurves.sources.kowalski import count_field
    from scope.services import kowalski_payloads as kp

    payloads = []
    for ccd, quad in PAIRS:
        flt = {"field": {"$eq": int(field)}, "ccd": {"$eq": ccd}, "quad": {"$eq": quad}}
        if minobs > 0:
            flt[count_field(source.catalog)] = {"$gte": int(minobs)}
        payloads.append(kp.count_documents(source.catalog, flt))
    counts = source.client.query_batch(payloads)
    return {pair: int(n) for pair, n in zip(PAIRS, counts) if n}


def scan_fields(source, fields: Iterable[int], *, minobs: int = 0, known: Counts | None = None,
                save=None, progress: bool = True) -> Counts:
    """Counts of every field in ``fields`` (fields in ``known`` are not asked again).

    ``save(counts)`` is called after every field scanned, so an interrupted scan resumes.
    """
    counts: Counts = dict(known or {})
    todo = [int(f) for f in fields if int(f) not in counts]
    present = populated_fields(source, todo) if todo else set()
    for field in [f for f in todo if f not in present]:
        counts[field] = {}
    if save is not None and len(present) < len(todo):
        save(counts)
    for field in tqdm(sorted(present), desc="fields", unit="field", disable=None if progress else True, leave=False):
        counts[field] = quadrant_counts(source, field, minobs=minobs)
        if save is not None:
            save(counts)
    return {f: counts[f] for f in sorted(counts)}


def to_completeness(counts: Counts, *, with_counts: bool) -> dict:
    """The reference's completeness JSON; a field scanned and found empty is kept as ``{}`` (the
    reference left it out), so a resumed scan does not ask for it again."""
    out: dict = {}
    for field in sorted(counts):
        quads = counts[field]
        entry: dict = {}
        for (ccd, quad) in sorted(quads):
            if with_counts:
                entry.setdefault(str(ccd), {})[str(quad)] = int(quads[(ccd, quad)])
            else:
                entry.setdefault(str(ccd), []).append(int(quad))
        out[str(field)] = entry
    return out


def from_completeness(data: Mapping) -> tuple[Counts, bool]:
    """Counts from a completeness JSON; ``(counts, has_counts)`` (lists count as 0 light curves)."""
    counts: Counts = {}
    has_counts = True
    try:
        for field, ccds in data.items():
            entry: dict = {}
            for ccd, quads in (ccds or {}).items():
                if isinstance(quads, Mapping):
                    for quad, n in quads.items():
                        entry[(int(ccd), int(quad))] = int(n)
                else:
                    has_counts = False
                    for quad in quads:
                        entry[(int(ccd), int(quad))] = 0
            counts[int(field)] = entry
    except (TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"not a completeness file ({{field: {{ccd: quads}}}}): {exc}") from None
    return counts, has_counts


def read_completeness(path: str | Path) -> tuple[Counts, bool]:
    """:func:`from_completeness` of a file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read completeness file {path}: {exc}") from None
    try:
        return from_completeness(data)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


def write_completeness(path: str | Path, counts: Counts, *, with_counts: bool) -> Path:
    path = Path(path)
    with atomic_write(path) as fh:
        json.dump(to_completeness(counts, with_counts=with_counts), fh, indent=1)
    return path


def quadrant_rows(counts: Counts) -> list[tuple[int, int, int, int]]:
    """``(job, field, ccd, quad)`` for every populated quadrant, jobs numbered from 0 in order."""
    pairs = [(f, c, q) for f in sorted(counts) for (c, q) in sorted(counts[f])]
    return [(i, f, c, q) for i, (f, c, q) in enumerate(pairs)]


def write_quadrant_file(path: str | Path, rows: Iterable[tuple[int, int, int, int]]) -> Path:
    """The quadrant file: ``job field ccd quad`` per line."""
    path = Path(path)
    with atomic_write(path) as fh:
        for row in rows:
            fh.write(" ".join(str(int(v)) for v in row) + "\n")
    return path


def read_quadrant_file(path: str | Path) -> list[tuple[int, int, int, int]]:
    """Rows of a quadrant file, checked (four integers per line, CCD 1-16, quadrant 1-4, unique jobs)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"quadrant file not found: {path} (generate-features-slurm --generateQuadrantFile writes it)")
    rows, seen = [], set()
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            job, field, ccd, quad = (int(v) for v in parts)
        except ValueError:
            raise DataError(f"{path} line {n}: expected 'job field ccd quad', got {line.strip()!r}") from None
        if not (1 <= ccd <= 16 and 1 <= quad <= 4):
            raise DataError(f"{path} line {n}: CCD {ccd} / quadrant {quad} out of range (1-16 / 1-4)")
        if job in seen:
            raise DataError(f"{path} line {n}: job number {job} appears twice")
        seen.add(job)
        rows.append((job, field, ccd, quad))
    return rows
