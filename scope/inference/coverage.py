"""What a predictions file covers, and the rules that keep partial results from replacing complete ones.

Every predictions file records, under the metadata key ``coverage``::

    {"complete": true|false,
     "scope": "field" | "quadrant" | "files" | "source_list" | "assembled",
     "field": "301",
     "feature_files": [{"path", "name", "rows", "size", "mtime_ns"}, ...],
     "field_feature_files": 8,            # how many the field has, when known
     "parts": [...]}                      # assembled files only: the part files used

Rules (``run-inference``):

- only a run over every feature file of the field (``--whole-field``, or ``--features-file``
  naming exactly the field's files) writes ``field_<F>.parquet``; any other run on part of a
  field writes its own file (``ccd_<CC>_quad_<Q>.parquet`` for one quadrant, ``part_<stem>.parquet``
  for other files), marked incomplete;
- ``field_<F>.parquet`` is otherwise only *assembled* from parts that together cover every
  feature file of the field exactly as the files are now (same size and modification time),
  scored by the same models; an existing file written by a whole-field run is replaced by an
  assembled one only with ``overwrite``;
- an existing predictions file is never replaced by a run that reads fewer of the feature files
  it was made from (or, for files without a record, fewer rows) unless ``overwrite``.

``combine-preds`` reads the same record to refuse merging an incomplete table with a complete one.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Mapping, Sequence

from scope.errors import DataError

log = logging.getLogger(__name__)

KEY = "coverage"
_QUAD_RE = re.compile(r"(?:^|_)field_(?P<field>\d+)_ccd_(?P<ccd>\d+)_quad_(?P<quad>\d+)$")
_GET_FEATURES_QUAD_RE = re.compile(r"^ccd_(?P<ccd>\d+)_quad_(?P<quad>\d+)")


def file_record(path: str | Path) -> dict:
    """Identity of a feature file: resolved path, name, rows (parquet footer), size, mtime."""
    from scope.inference.inputs import file_rows

    path = Path(path)
    st = path.stat()
    return {"path": str(path.resolve()), "name": path.name, "rows": file_rows(path), "size": int(st.st_size),
            "mtime_ns": int(st.st_mtime_ns)}


def _same_file(record: Mapping, current: Mapping) -> bool:
    return (record.get("path") == current["path"] and record.get("size") == current["size"]
            and record.get("mtime_ns") == current["mtime_ns"])


def quadrant_name(path: str | Path, field: int) -> str | None:
    """``ccd_<CC>_quad_<Q>`` when ``path`` is one quadrant's feature file of ``field``, else ``None``."""
    stem = Path(path).stem
    m = _QUAD_RE.search(stem)
    if m and int(m.group("field")) == int(field):
        return f"ccd_{int(m.group('ccd')):02d}_quad_{int(m.group('quad'))}"
    m = _GET_FEATURES_QUAD_RE.match(stem)
    if m and Path(path).parent.name == f"field_{int(field)}":
        return f"ccd_{int(m.group('ccd')):02d}_quad_{int(m.group('quad'))}"
    return None


def plan_output(*, field: str, files: Sequence[Path], field_files: Sequence[Path] | None, whole_field: bool,
                source_list: bool, quadrant: tuple[int, int] | None, explicit: bool,
                name: str | None = None) -> tuple[str, dict]:
    """File stem of a run's output and its coverage record.

    Parameters
    ----------
    field : str
        The field number or source-list name.
    files : sequence of path
        Feature files this run reads.
    field_files : sequence of path or None
        Every feature file of the field (``None`` when the field's folder is unknown).
    whole_field, source_list : bool
        Kind of run.
    quadrant : (ccd, quad) or None
        The quadrant of a quadrant-mode run.
    explicit : bool
        The files were named with ``--features-file``.
    name : str, optional
        A stem chosen by the caller (kept; completeness still comes from the files).
    """
    records = [file_record(p) for p in files]
    n_field = len(field_files) if field_files is not None else None
    resolved = {str(Path(p).resolve()) for p in files}
    covers_field = field_files is not None and resolved == {str(Path(p).resolve()) for p in field_files}
    if source_list:
        stem, scope, complete = f"field_{field}", "source_list", True
    elif whole_field or (explicit and covers_field):
        stem, scope, complete = f"field_{field}", "field", True
    elif not explicit and quadrant is not None:
        stem, scope, complete = f"ccd_{int(quadrant[0]):02d}_quad_{int(quadrant[1])}", "quadrant", False
    else:
        quad = quadrant_name(files[0], int(field)) if len(files) == 1 else None
        if quad:
            stem, scope = quad, "quadrant"
        elif len(files) == 1:
            stem, scope = f"part_{Path(files[0]).stem}", "files"
        else:
            digest = hashlib.sha1("\n".join(sorted(resolved)).encode()).hexdigest()[:8]
            stem, scope = f"part_{Path(files[0]).stem}_and_{len(files) - 1}_more_{digest}", "files"
        complete = False
    coverage = {"complete": complete, "scope": scope, "field": str(field), "feature_files": records,
                "field_feature_files": n_field}
    return name or stem, coverage


def read_metadata(path: str | Path) -> dict:
    """The ``scope`` metadata of a predictions parquet file without reading its rows (``{}`` if none)."""
    from scope.inference.inputs import file_metadata

    return file_metadata(Path(path))


def check_replace(target: Path, coverage: Mapping, *, overwrite: bool) -> None:
    """Refuse (before any work) to replace ``target`` with a run that covers less than it does.

    Raises
    ------
    DataError
        When ``target`` was made from feature files this run does not read (or, for a file
        without a record, holds more rows than this run's files have), unless ``overwrite``.
    """
    if overwrite or not target.exists():
        return
    old = read_metadata(target)
    new_paths = {r["path"] for r in coverage["feature_files"]}
    old_cov = old.get(KEY) or {}
    old_paths = [r.get("path") for r in old_cov.get("feature_files", [])] or \
        [str(Path(p).resolve()) for p in old.get("feature_files", [])]
    if old_paths:
        lost = [p for p in old_paths if p not in new_paths]
        if lost:
            raise DataError(f"{target} holds predictions from {len(old_paths)} feature file(s), and this run reads "
                            f"only {len(old_paths) - len(lost)} of them (not: {', '.join(Path(p).name for p in lost[:5])}"
                            f"{' ...' if len(lost) > 5 else ''}); it is left as it is: score the whole field, or "
                            "pass --overwrite to replace it")
        return
    from scope.inference.inputs import file_rows

    new_rows = sum(int(r.get("rows") or 0) for r in coverage["feature_files"])
    old_rows = file_rows(target)
    if new_rows and old_rows > new_rows:
        raise DataError(f"{target} holds {old_rows} rows and this run's feature files have {new_rows}; it is left as "
                        "it is: pass --overwrite to replace it")


# ---------------------------------------------------------------------------------------------
def _score_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return [n for n in pq.read_schema(path).names if n.endswith(("_dnn", "_xgb"))]


def find_parts(folder: Path, field: str, field_files: Sequence[Path]) -> tuple[list[Path] | None, str]:
    """The part files of ``folder`` that together cover ``field_files`` as they are now.

    Returns
    -------
    (list of path or None, str)
        The parts in field-file order, or ``None`` and why not.
    """
    current = [file_record(p) for p in field_files]
    candidates = []
    for p in sorted(folder.glob("*.parquet")):
        if p.name.startswith(".") or p.stem == f"field_{field}":
            continue
        cov = read_metadata(p).get(KEY) or {}
        if cov.get("complete") is False and str(cov.get("field")) == str(field):
            candidates.append((p.stat().st_mtime_ns, p, cov))
    chosen: dict[Path, dict] = {}
    for rec in current:
        holders = [(mt, p, cov) for mt, p, cov in candidates
                   if any(_same_file(r, rec) for r in cov.get("feature_files", []))]
        if not holders:
            return None, f"no part holds predictions for {rec['name']} as it is now"
        _, p, cov = max(holders, key=lambda h: h[0])  # the newest part for this file
        chosen[p] = cov
    used = [r["path"] for cov in chosen.values() for r in cov["feature_files"]]
    if len(used) != len(set(used)) or set(used) != {r["path"] for r in current}:
        return None, "the newest parts overlap or hold files that are no longer part of the field"
    columns = {tuple(_score_columns(p)) for p in chosen}
    if len(columns) != 1:
        return None, "the parts were scored by different models"
    order = {r["path"]: i for i, r in enumerate(current)}
    parts = sorted(chosen, key=lambda p: min(order[r["path"]] for r in chosen[p]["feature_files"]))
    return parts, ""


def assemble_field(folder: Path, field: str, field_files: Sequence[Path], *, overwrite: bool = False) -> Path | None:
    """Write ``field_<F>.parquet`` from part files when they cover the whole field (see the module rules).

    Returns the written path, or ``None`` (the reason is logged).
    """
    import pyarrow.parquet as pq

    from scope.inference.writer import PredictionWriter

    target = folder / f"field_{field}.parquet"
    parts, why = find_parts(folder, field, field_files)
    if parts is None:
        log.info("%s not assembled from parts: %s", target.name, why)
        return None
    if target.exists():
        old = read_metadata(target)
        old_cov = old.get(KEY) or {}
        if old_cov.get("scope") == "assembled":
            stamp = {p.name: p.stat().st_mtime_ns for p in parts}
            if {d["name"]: d["mtime_ns"] for d in old_cov.get("parts", [])} == stamp:
                return None  # already assembled from exactly these parts
        elif not overwrite:
            log.info("the parts in %s now cover all %d feature files of field %s, but %s comes from a whole-field "
                     "run and is kept (pass --overwrite to replace it with the parts)", folder, len(field_files),
                     field, target.name)
            return None
    tables = [pq.read_table(p) for p in parts]
    schema = tables[0].schema.remove_metadata()
    metas = [read_metadata(p) for p in parts]
    records = [r for m in metas for r in m[KEY]["feature_files"]]
    meta = {**{k: v for k, v in metas[-1].items() if k not in (KEY, "feature_files", "n_sources", "unscored")},
            "feature_files": [r["path"] for r in records],
            "n_sources": int(sum(t.num_rows for t in tables)),
            "unscored": _sum_unscored(m.get("unscored") for m in metas),
            KEY: {"complete": True, "scope": "assembled", "field": str(field), "feature_files": records,
                  "field_feature_files": len(field_files),
                  "parts": [{"name": p.name, "mtime_ns": p.stat().st_mtime_ns} for p in parts]}}
    writer = PredictionWriter(target, [(f.name, f.type) for f in schema])
    try:
        for t in tables:
            writer.write_arrow(t.replace_schema_metadata(None))
        path = writer.close(meta)
    except BaseException:
        writer.abort()
        raise
    log.info("assembled %s from %d part file(s) covering all %d feature files of field %s (%d rows)", path,
             len(parts), len(field_files), field, meta["n_sources"])
    return path


def _sum_unscored(values) -> dict:
    out: dict = {}
    for v in values:
        for k, n in (v or {}).items():
            out[k] = out.get(k, 0) + int(n)
    return out
