"""scope-manage-annotation: post, update or delete one key of source annotations on Fritz.

A source is one Fritz ``obj_id`` or a table with an ``obj_id`` column (values then come from the
column named like ``key``). Repeating a command is harmless: posting an annotation that is already
there with the same value changes nothing, updating sets the same value again, deleting finds
nothing left. The reference sent the annotation id as ``obj_id`` when updating; this sends
``{data, origin}`` as SkyPortal expects, merging the key into the existing data (SkyPortal
replaces ``data`` wholesale).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scope.errors import DataError, QueryError
from scope.services import fritz_payloads as fp

log = logging.getLogger(__name__)

ACTIONS = ("post", "update", "delete")
TABLE_SUFFIXES = (".csv", ".parquet", ".pq", ".h5", ".hdf5")


@dataclass
class AnnotationSummary:
    posted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    not_matched: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def parse_value(text: str | None) -> Any:
    """A command-line value: all digits -> int, a number with ``.`` -> float, else the string."""
    if text is None:
        return None
    s = str(text).strip()
    if s.lstrip("+-").isdigit():
        return int(s)
    if "." in s:
        try:
            return float(s)
        except ValueError:
            return s
    return s


def normalize_action(action: str) -> str:
    a = str(action or "").strip().lower()
    if a not in ACTIONS:
        raise DataError(f"--action must be post, update or delete, got '{action}'")
    return a


def targets(source: str, key: str, value: Any) -> list[tuple[str, Any]]:
    """``(obj_id, value)`` pairs: one source, or every row of a table."""
    path = Path(str(source))
    if path.suffix.lower() in TABLE_SUFFIXES:
        from scope.tables import read_table

        if not path.exists():
            raise DataError(f"source table not found: {path}")
        table = read_table(path)
        if "obj_id" not in table.columns:
            raise DataError(f"{path} has no obj_id column")
        if value is None and key in table.columns:
            values = [fp.plain(v) for v in table[key].tolist()]
        else:
            values = [value] * len(table)
        return [(str(o), v) for o, v in zip(table["obj_id"], values) if not fp.is_missing(o)]
    return [(str(source), value)]


def manage_annotation(client, action: str, source: str, *, origin: str, key: str, value: str | None = None,
                      group_ids=None) -> AnnotationSummary:
    """Run one scope-manage-annotation command (see the module docstring)."""
    action = normalize_action(action)
    if not origin:
        raise DataError("--origin is required")
    if not key:
        raise DataError("--key is required")
    fp.check_origin(origin)
    parsed = parse_value(value)
    pairs = targets(source, key, parsed)
    summary = AnnotationSummary()
    for obj_id, v in pairs:
        if action in ("post", "update") and fp.is_missing(v):
            raise DataError(f"--value is needed to {action} '{key}' on {obj_id} (or a '{key}' column in the table)")
        try:
            if action == "post":
                _post(client, obj_id, origin, key, v, group_ids, summary)
            elif action == "update":
                _update(client, obj_id, origin, key, v, summary)
            else:
                _delete(client, obj_id, origin, key, summary)
        except QueryError as exc:
            summary.failed[obj_id] = str(exc)
            log.warning("%s: %s", obj_id, exc)
    return summary


def _post(client, obj_id, origin, key, value, group_ids, summary):
    aid = client.post_annotation(obj_id, origin, {key: value}, group_ids)
    if aid is not None:
        summary.posted += 1
        return
    existing = fp.annotation_by_origin(client.annotations(obj_id), origin) or {}
    if (existing.get("data") or {}).get(key) == value:
        summary.unchanged += 1
        return
    raise QueryError(f"an annotation with origin '{origin}' already exists on {obj_id} "
                     f"({existing.get('data')}); use --action update to change it")


def _update(client, obj_id, origin, key, value, summary):
    matched = [a for a in client.annotations(obj_id) if a.get("origin") == origin]
    if not matched:
        summary.not_matched.append(obj_id)
        log.info("%s has no annotation with origin '%s' to update", obj_id, origin)
        return
    for ann in matched:
        data = dict(ann.get("data") or {})
        if data.get(key) == value:
            summary.unchanged += 1
            continue
        data[key] = value
        client.update_annotation(obj_id, int(ann["id"]), data, origin)
        summary.updated += 1


def _delete(client, obj_id, origin, key, summary):
    matched = [a for a in client.annotations(obj_id) if a.get("origin") == origin and key in (a.get("data") or {})]
    if not matched:
        summary.not_matched.append(obj_id)
        log.info("%s has no annotation with origin '%s' holding '%s'", obj_id, origin, key)
    for ann in matched:
        client.delete_annotation(obj_id, int(ann["id"]))
        summary.deleted += 1
