"""The slice of MongoDB query semantics Kowalski exposes, for the loopback server.

Covers what SCoPe sends: implicit AND across keys; ``$in, $nin, $eq, $ne, $gt, $gte, $lt,
$lte, $exists, $or, $and, $nor``; dotted paths into arrays of sub-documents (a condition holds
when *any* element satisfies it, and each condition may be satisfied by a different element;
the array itself is not filtered); inclusion and exclusion projections with dotted paths;
``sort``/``skip``/``limit``.
"""

from __future__ import annotations

import copy
import math
from numbers import Number
from typing import Any, Iterable, Mapping, Sequence

_MISSING = object()


def resolve(doc: Any, path: str) -> list:
    """Every value reachable by a dotted ``path``; arrays on the way fan out."""
    values = [doc]
    for part in path.split("."):
        nxt = []
        for v in values:
            if isinstance(v, dict):
                if part in v:
                    nxt.append(v[part])
            elif isinstance(v, list):
                if part.isdigit() and int(part) < len(v):
                    nxt.append(v[int(part)])
                for e in v:
                    if isinstance(e, dict) and part in e:
                        nxt.append(e[part])
        values = nxt
    out = []
    for v in values:
        out.append(v)
        if isinstance(v, list):
            out.extend(v)  # a comparison against an array matches any of its elements
    return out


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _key(value: Any):
    # equal MongoDB scalars share a key: 2 and 2.0 do, True and 1 do not
    return ("bool", value) if isinstance(value, bool) else value


def _comparable(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, Number) and isinstance(b, Number):
        return not (isinstance(a, float) and math.isnan(a)) and not (isinstance(b, float) and math.isnan(b))
    return type(a) is type(b) and isinstance(a, (str, bytes))


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, Number) and isinstance(b, Number) and not isinstance(a, bool) and not isinstance(b, bool):
        return a == b
    return type(a) is type(b) and a == b


def _cmp(op: str, a: Any, b: Any) -> bool:
    if not _comparable(a, b):
        return False
    return {"$gt": a > b, "$gte": a >= b, "$lt": a < b, "$lte": a <= b}[op]


def _op_holds(op: str, arg: Any, values: list, present: bool) -> bool:
    if op == "$eq":
        return any(_equal(v, arg) for v in values) or (arg is None and not present)
    if op == "$ne":
        return not _op_holds("$eq", arg, values, present)
    if op == "$in":
        if not isinstance(arg, list):
            raise ValueError("$in needs an array")
        if all(_scalar(a) for a in arg):  # the common case (long id lists): a set lookup
            wanted = {_key(a) for a in arg}
            return any(_scalar(v) and _key(v) in wanted for v in values) or (None in arg and not present)
        return any(_op_holds("$eq", a, values, present) for a in arg)
    if op == "$nin":
        if not isinstance(arg, list):
            raise ValueError("$nin needs an array")
        return not _op_holds("$in", arg, values, present)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return any(_cmp(op, v, arg) for v in values)
    if op == "$exists":
        return present == bool(arg)
    raise ValueError(f"unknown operator: {op}")


def matches(doc: Mapping, filt: Mapping | None) -> bool:
    """True when ``doc`` satisfies the MongoDB filter ``filt``."""
    for key, cond in (filt or {}).items():
        if key == "$or":
            if not any(matches(doc, f) for f in cond):
                return False
            continue
        if key == "$and":
            if not all(matches(doc, f) for f in cond):
                return False
            continue
        if key == "$nor":
            if any(matches(doc, f) for f in cond):
                return False
            continue
        if key.startswith("$"):
            raise ValueError(f"unknown top-level operator: {key}")
        values = resolve(doc, key)
        present = bool(values)
        if isinstance(cond, dict) and cond and all(str(k).startswith("$") for k in cond):
            if not all(_op_holds(op, arg, values, present) for op, arg in cond.items()):
                return False
        elif not _op_holds("$eq", cond, values, present):
            return False
    return True


def _include(src: Any, parts: Sequence[str], dst: dict) -> None:
    head, rest = parts[0], parts[1:]
    if not isinstance(src, dict) or head not in src:
        return
    value = src[head]
    if not rest:
        dst[head] = copy.deepcopy(value)
    elif isinstance(value, dict):
        sub = dst.setdefault(head, {})
        if isinstance(sub, dict):
            _include(value, rest, sub)
    elif isinstance(value, list):
        sub = dst.get(head)
        if not isinstance(sub, list) or len(sub) != len([e for e in value if isinstance(e, dict)]):
            sub = [{} for e in value if isinstance(e, dict)]
            dst[head] = sub
        for e, d in zip((e for e in value if isinstance(e, dict)), sub):
            _include(e, rest, d)


def _exclude(doc: Any, parts: Sequence[str]) -> None:
    if isinstance(doc, list):
        for e in doc:
            _exclude(e, parts)
        return
    if not isinstance(doc, dict) or parts[0] not in doc:
        return
    if len(parts) == 1:
        del doc[parts[0]]
    else:
        _exclude(doc[parts[0]], parts[1:])


def project(doc: Mapping, projection: Mapping | None) -> dict:
    """Apply an inclusion or exclusion projection (``{}``/``None`` returns the whole document)."""
    if not projection:
        return copy.deepcopy(dict(doc))
    spec = {k: v for k, v in projection.items()}
    keep_id = bool(spec.pop("_id", 1))
    if not spec:
        out = {"_id": copy.deepcopy(doc["_id"])} if keep_id and "_id" in doc else {}
        return out
    inclusive = {bool(v) for v in spec.values()}
    if len(inclusive) > 1:
        raise ValueError("Cannot do exclusion on field in inclusion projection")
    if inclusive.pop():
        out: dict = {}
        if keep_id and "_id" in doc:
            out["_id"] = copy.deepcopy(doc["_id"])
        for path in spec:
            _include(doc, path.split("."), out)
        return out
    out = copy.deepcopy(dict(doc))
    for path in spec:
        _exclude(out, path.split("."))
    if not keep_id:
        out.pop("_id", None)
    return out


def _sort_key(value: Any):
    # MongoDB's type order, simplified: missing/None < numbers < strings < other
    if value is _MISSING or value is None:
        return (0, 0)
    if isinstance(value, Number) and not isinstance(value, bool):
        return (1, -math.inf if isinstance(value, float) and math.isnan(value) else value)
    if isinstance(value, str):
        return (2, value)
    return (3, str(value))


def sort_docs(docs: list, sort: Iterable[Sequence] | None) -> list:
    """Stable multi-key sort by ``[[field, 1 | -1], ...]``."""
    out = list(docs)
    for field, direction in reversed(list(sort or [])):
        def key(d, field=field):
            vals = resolve(d, field)
            return _sort_key(vals[0] if vals else _MISSING)
        out.sort(key=key, reverse=int(direction) < 0)
    return out


def window(docs: list, skip: int | None, limit: int | None) -> list:
    """``skip`` then ``limit`` (0 or None = no limit)."""
    start = int(skip or 0)
    return docs[start:] if not limit else docs[start:start + int(limit)]
