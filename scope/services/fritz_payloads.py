"""Pure builders of Fritz (SkyPortal) requests and parsers of its replies.

Nothing here touches the network. Builders return plain Python values that JSON-encode
(numpy scalars converted, NaN and infinities sent as ``null``); query-string builders return
``{name: str}`` maps in the form SkyPortal parses: it reads only the *last* value of a repeated
key, so lists go as one comma-separated value (``group_ids=1,2``), and booleans as
``true``/``false``.

Parsers accept what every SkyPortal version in use returns (see
``service-api-contracts.md`` section 1.9): timestamps with or without microseconds, list-mode
sources whose classifications carry no ``groups``/``votes`` (the "fast" list query) and
labellers given either as users (``id``) or as label rows (``labeller_id``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from scope.errors import DataError, QueryError

#: SkyPortal caps ``numPerPage`` of source and classification lists at this value
MAX_PER_PAGE = 500
#: photometry rows SkyPortal accepts in one request
MAX_PHOTOMETRY_ROWS = 10_000
#: SkyPortal stores magnitudes against this AB zero point
PHOT_ZP = 23.9
ZTF_FILTERS = {1: "ztfg", 2: "ztfr", 3: "ztfi"}
HJD_TO_MJD = 2400000.5
PERIOD_ORIGIN = "uploadedperiod"
_ORIGIN = re.compile(r"^\w+")


# ------------------------------------------------------------------------------------------------
# values
_SIMPLE = (str, int, bool, type(None))


def _finite_or_none(values: list) -> list:
    return [v if type(v) is not float or math.isfinite(v) else None for v in values]


def plain(value: Any) -> Any:
    """``value`` as JSON-ready Python: numpy converted, NaN/inf -> None, recursively."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        return _finite_or_none(value.tolist())
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else (
            value.tolist() if isinstance(value, np.ndarray) else value)
        return [v if type(v) in _SIMPLE else (v if type(v) is float and math.isfinite(v) else plain(v))
                for v in items]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value


def is_missing(value: Any) -> bool:
    """True for None, NaN, pandas NA and empty strings."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == "" or value.strip().lower() == "nan"
    try:
        return bool(value != value)  # NaN and NA
    except (TypeError, ValueError):
        return False


def comma_list(values: Iterable | None) -> str | None:
    """``[1, 2]`` -> ``"1,2"`` (None or empty -> None, i.e. parameter left out)."""
    if values is None:
        return None
    items = [str(plain(v)) for v in ([values] if isinstance(values, (str, int)) else values)]
    return ",".join(items) if items else None


def flag(value: bool) -> str:
    return "true" if value else "false"


def query(**params) -> dict[str, str]:
    """Query-string parameters without the unset ones, every value a string."""
    out = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = flag(value)
        elif isinstance(value, (list, tuple, set, np.ndarray)):
            joined = comma_list(value)
            if joined is not None:
                out[key] = joined
        else:
            out[key] = str(plain(value))
    return out


def parse_timestamp(text: Any) -> dt.datetime | None:
    """A SkyPortal timestamp as a naive UTC ``datetime``; None when absent or unreadable.

    Accepts ``2023-05-04T12:34:56.123456``, the same without a fraction (what SkyPortal emits
    when the microsecond is 0), a trailing ``Z`` or UTC offset, a space instead of ``T``, and a
    bare date.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    if isinstance(text, dt.datetime):
        value = text
    else:
        s = str(text).strip()
        if not s:
            return None
        if s.endswith("Z") or s.endswith("z"):
            s = s[:-1] + "+00:00"
        m = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", s.replace(" ", "T", 1))
        if m:  # fromisoformat wants exactly 3 or 6 fractional digits before Python 3.11
            s = f"{m.group(1)}.{(m.group(2) + '000000')[:6]}{m.group(3)}"
        try:
            value = dt.datetime.fromisoformat(s.replace(" ", "T", 1))
        except ValueError:
            return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def format_timestamp(value: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` (naive UTC), the form SkyPortal's date parameters read safely."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def position_name(ra: float, dec: float, prefix: str = "ZTFJ") -> str:
    """IAU-style name ``ZTFJhhmmss.ss±ddmmss.s`` of a position (degrees).

    Rounded in whole units of the last digit, so seconds never read ``60.00`` (the reference
    rounded each field separately).
    """
    if not (math.isfinite(ra) and math.isfinite(dec)):
        raise DataError(f"cannot name a source at ra={ra}, dec={dec}")
    if not -90 <= dec <= 90:
        raise DataError(f"declination {dec} is outside -90..90")
    centi_sec = int(round((ra % 360.0) / 15.0 * 3600.0 * 100.0)) % (24 * 3600 * 100)
    h, rest = divmod(centi_sec, 3600 * 100)
    m, cs = divmod(rest, 60 * 100)
    deci_arcsec = int(round(abs(dec) * 3600.0 * 10.0))
    d, rest = divmod(deci_arcsec, 3600 * 10)
    dm, ds = divmod(rest, 60 * 10)
    sign = "-" if dec < 0 and deci_arcsec > 0 else "+"
    return f"{prefix}{h:02d}{m:02d}{cs // 100:02d}.{cs % 100:02d}{sign}{d:02d}{dm:02d}{ds // 10:02d}.{ds % 10:d}"


def group_list(group_ids: Iterable | None) -> list[int]:
    """Group ids as a de-duplicated list of ints, in the given order."""
    out: list[int] = []
    for g in group_ids or ():
        try:
            gid = int(g)
        except (TypeError, ValueError):
            raise DataError(f"group id must be an integer, got {g!r}") from None
        if gid not in out:
            out.append(gid)
    return out


# ------------------------------------------------------------------------------------------------
# query strings
def sources_query(*, group_ids=None, page: int = 1, per_page: int = MAX_PER_PAGE, include_labellers: bool = False,
                  sort_by: str | None = "saved_at", sort_order: str | None = "asc", **extra) -> dict[str, str]:
    """``GET /api/sources`` parameters for a page of a group's sources.

    Pages are ordered by save time, oldest first, so sources saved while a download runs land on
    later pages instead of shifting the pages already fetched.
    """
    if int(page) < 1:
        raise DataError(f"page numbers start at 1, got {page}")
    return query(group_ids=group_ids, pageNumber=int(page), numPerPage=min(int(per_page), MAX_PER_PAGE),
                 includeLabellers=include_labellers or None, sortBy=sort_by, sortOrder=sort_order, **extra)


def cone_query(ra: float, dec: float, radius_arcsec: float, **extra) -> dict[str, str]:
    """``GET /api/sources`` parameters of a cone search (SkyPortal wants degrees, radius too)."""
    if not (math.isfinite(float(ra)) and math.isfinite(float(dec))):
        raise DataError(f"cannot search around ra={ra}, dec={dec}")
    if float(radius_arcsec) <= 0:
        raise DataError(f"search radius must be positive, got {radius_arcsec} arcsec")
    return query(ra=float(ra), dec=float(dec), radius=float(radius_arcsec) / 3600.0, **extra)


def localization_query(dateobs: str, *, days_range: float = 7.0, group_ids=None, page: int = 1,
                       per_page: int = 100) -> dict[str, str]:
    """``GET /api/sources`` parameters for sources in a GCN event's localization.

    SkyPortal requires ``startDate`` and ``endDate`` with ``localizationDateobs``: the event
    time and ``days_range`` days after it.
    """
    start = parse_timestamp(dateobs)
    if start is None:
        raise DataError(f"--dateobs must look like 2023-05-21T05:30:43, got '{dateobs}'")
    end = start + dt.timedelta(days=float(days_range))
    return query(group_ids=group_ids, localizationDateobs=format_timestamp(start), startDate=format_timestamp(start),
                 endDate=format_timestamp(end), numPerPage=min(int(per_page), MAX_PER_PAGE), pageNumber=int(page))


def page_count(total: int, per_page: int) -> int:
    """Pages holding ``total`` matches (no empty trailing page when it divides evenly)."""
    return max(0, math.ceil(int(total) / max(1, int(per_page))))


# ------------------------------------------------------------------------------------------------
# request bodies
def source_payload(obj_id: str, ra: float, dec: float, group_ids, origin: str = "Fritz") -> dict:
    """``POST /api/sources``: create (or re-save) a source in groups."""
    _check_obj_id(obj_id)
    return plain({"id": str(obj_id), "ra": float(ra), "dec": float(dec), "group_ids": group_list(group_ids),
                  "origin": origin})


def source_groups_payload(obj_id: str, invite) -> dict:
    """``POST /api/source_groups``: save an existing source to more groups."""
    invite = group_list(invite)
    if not invite:
        raise DataError("no groups to save the source to")
    return {"objId": str(obj_id), "inviteGroupIds": invite}


def photometry_payload(obj_id: str, instrument_id: int, mjd, mag, magerr, filters, group_ids, *,
                       ra=None, dec=None) -> dict:
    """``PUT /api/photometry``: magnitude-space ZTF points (AB).

    No ``limiting_mag`` is sent: SkyPortal needs one only for non-detections, and every point
    here is a detection (the reference sent the 23.9 zero point as a limit).
    """
    n = len(mjd)
    for name, arr in (("mag", mag), ("magerr", magerr), ("filter", filters)):
        if len(arr) != n:
            raise DataError(f"photometry of {obj_id}: {name} has {len(arr)} values for {n} epochs")
    body = {"obj_id": str(obj_id), "instrument_id": int(instrument_id), "mjd": plain(np.asarray(mjd, float)),
            "mag": plain(np.asarray(mag, float)), "magerr": plain(np.asarray(magerr, float)),
            "magsys": ["ab"] * n, "filter": [str(f) for f in filters], "group_ids": group_list(group_ids)}
    if ra is not None and dec is not None:
        body["ra"] = plain(np.broadcast_to(np.asarray(ra, float), (n,)))
        body["dec"] = plain(np.broadcast_to(np.asarray(dec, float), (n,)))
    return body


def split_photometry(payload: Mapping, max_rows: int = MAX_PHOTOMETRY_ROWS) -> list[dict]:
    """Split a photometry packet into packets of at most ``max_rows`` points."""
    n = len(payload["mjd"])
    if n <= max_rows:
        return [dict(payload)]
    out = []
    for start in range(0, n, max_rows):
        part = {}
        for key, value in payload.items():
            part[key] = value[start:start + max_rows] if isinstance(value, list) and key != "group_ids" else value
        out.append(part)
    return out


def classification_item(obj_id: str, classification: str, taxonomy_id: int, probability: float, *, group_ids,
                        origin: str = "SCoPe", vote: bool = False, label: bool = False, ml: bool = True) -> dict:
    """One entry of ``POST /api/classification``.

    ``vote`` and ``label`` are always sent: SkyPortal adds an up-vote and marks the source
    labelled when they are left out.
    """
    p = round(float(probability), 6)  # float32 scores would otherwise arrive as 0.8899999856948853
    if not 0.0 <= p <= 1.0:
        raise DataError(f"probability of {classification} for {obj_id} must lie in [0, 1], got {probability}")
    return {"obj_id": str(obj_id), "classification": str(classification), "origin": str(origin),
            "taxonomy_id": int(taxonomy_id), "probability": p, "group_ids": group_list(group_ids),
            "vote": bool(vote), "label": bool(label), "ml": bool(ml)}


def annotation_payload(origin: str, data: Mapping, group_ids=None) -> dict:
    """``POST /api/sources/<id>/annotations``."""
    check_origin(origin)
    if not isinstance(data, Mapping) or not data:
        raise DataError(f"annotation '{origin}' needs data (a non-empty mapping)")
    body = {"origin": str(origin), "data": plain(dict(data))}
    if group_ids:
        body["group_ids"] = group_list(group_ids)
    return body


def annotation_update_payload(data: Mapping, origin: str) -> dict:
    """``PUT /api/sources/<id>/annotations/<annotation_id>``: ``data`` replaces the whole dict."""
    check_origin(origin)
    return {"data": plain(dict(data)), "origin": str(origin)}


def comment_payload(text: str, *, group_ids=None, attachment: bytes | None = None,
                    attachment_name: str | None = None) -> dict:
    """``POST /api/sources/<id>/comments`` (attachment as base64)."""
    import base64

    if not str(text).strip():
        raise DataError("a comment needs text")
    body: dict[str, Any] = {"text": str(text)}
    if group_ids:
        body["group_ids"] = group_list(group_ids)
    if attachment is not None:
        body["attachment"] = {"body": base64.b64encode(attachment).decode("ascii"),
                              "name": attachment_name or "attachment.png"}
    return body


def taxonomy_payload(name: str, version: str, provenance: str | None, hierarchy: Mapping, group_ids=None,
                     is_latest: bool = True) -> dict:
    """``POST /api/taxonomy`` (the hierarchy is checked first, see :func:`check_hierarchy`)."""
    if not str(name or "").strip() or not str(version or "").strip():
        raise DataError("a taxonomy needs a name and a version")
    check_hierarchy(hierarchy)
    body = {"name": str(name), "version": str(version), "hierarchy": plain(hierarchy), "isLatest": bool(is_latest)}
    if provenance:
        body["provenance"] = str(provenance)
    if group_ids:
        body["group_ids"] = group_list(group_ids)
    return body


def check_hierarchy(node: Any, path: str = "hierarchy") -> None:
    """Raise :class:`DataError` unless ``node`` is a tdtax tree: ``{class, tags?, subclasses?}``."""
    if not isinstance(node, Mapping):
        raise DataError(f"{path} must be a mapping with a 'class', got {type(node).__name__}")
    extra = set(node) - {"class", "tags", "subclasses", "other names", "url", "comments"}
    if extra:
        raise DataError(f"{path} has unknown keys: {', '.join(sorted(map(str, extra)))}")
    if not isinstance(node.get("class"), str) or not node["class"].strip():
        raise DataError(f"{path} needs a 'class' name")
    tags = node.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise DataError(f"{path} ({node['class']}): 'tags' must be a list of strings")
    subs = node.get("subclasses", [])
    if not isinstance(subs, list):
        raise DataError(f"{path} ({node['class']}): 'subclasses' must be a list")
    for i, sub in enumerate(subs):
        check_hierarchy(sub, f"{path} > {node['class']}[{i}]")


def hierarchy_classes(node: Mapping) -> list[str]:
    """Every class name of a tdtax tree (depth first)."""
    out = [node["class"]]
    for sub in node.get("subclasses", []) or []:
        out += hierarchy_classes(sub)
    return out


def check_origin(origin: str) -> None:
    if not isinstance(origin, str) or not _ORIGIN.match(origin):
        raise DataError(f"annotation origin must start with a letter, digit or underscore, got {origin!r}")


def _check_obj_id(obj_id: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_\-;:+.]+", str(obj_id)):
        raise DataError(f"'{obj_id}' is not a valid Fritz source id (letters, digits and _-;:+. only)")


# ------------------------------------------------------------------------------------------------
# replies
def envelope_data(body: Any, what: str) -> Any:
    """The ``data`` of a SkyPortal success envelope; :class:`QueryError` for an error envelope."""
    if not isinstance(body, Mapping) or "status" not in body:
        raise QueryError(f"{what}: the reply is not a SkyPortal envelope")
    if body.get("status") != "success":
        raise QueryError(f"{what}: {body.get('message') or 'error'}")
    return body.get("data", {})


def classification_group_ids(classification: Mapping) -> list[int] | None:
    """Group ids of a classification, or None when the server did not say (list-mode sources)."""
    groups = classification.get("groups")
    if not groups:
        return None
    return [int(g["id"]) if isinstance(g, Mapping) else int(g) for g in groups]


def lacks_nested_detail(source: Mapping) -> bool:
    """True when a source came from the fast list query: classifications without groups.

    Every classification belongs to at least one group, so empty ``groups`` means "not filled
    in"; fetching the single source gives groups and votes.
    """
    return any(classification_group_ids(c) is None for c in source.get("classifications") or [])


def source_group_ids(source: Mapping) -> list[int]:
    """Groups a source is saved to (requested or unsaved ones excluded)."""
    out = []
    for g in source.get("groups") or []:
        if not isinstance(g, Mapping):
            out.append(int(g))
        elif g.get("active", True) and not g.get("requested", False):
            out.append(int(g["id"]))
    return out


def vote_sum(classification: Mapping) -> int | None:
    """Net votes of a classification; None when the reply carried no vote information."""
    votes = classification.get("votes")
    if votes is None:
        return None
    return int(sum(int(v.get("vote", 0)) for v in votes if isinstance(v, Mapping)))


def labeller_ids(source: Mapping) -> list[str]:
    """User ids of the source's labellers (users carry ``id``, label rows ``labeller_id``)."""
    out: list[str] = []
    for lab in source.get("labellers") or []:
        uid = lab.get("labeller_id", lab.get("id")) if isinstance(lab, Mapping) else lab
        if uid is not None and str(uid) not in out:
            out.append(str(uid))
    return out


def period_annotations(source: Mapping) -> list[tuple[str, float]]:
    """``(origin, period)`` of every annotation with a ``period`` key."""
    out = []
    for ann in source.get("annotations") or []:
        data = ann.get("data") or {}
        if isinstance(data, Mapping) and not is_missing(data.get("period")):
            try:
                out.append((str(ann.get("origin")), float(data["period"])))
            except (TypeError, ValueError):
                continue
    return out


def source_record(source: Mapping, *, votes_known: bool = True) -> dict:
    """One downloaded source in the reference's layout (the Fritz web export's columns).

    ``classification``, ``probability``, ``sum_votes``, ``labellers``, ``period_origin`` and
    ``period`` are ``;``-joined strings in the order of the source's classifications and
    annotations. ``sum_votes`` is empty when the reply carried no votes.
    """
    classes = source.get("classifications") or []
    probs = ["" if is_missing(c.get("probability")) else repr(float(c["probability"])) for c in classes]
    sums = [vote_sum(c) for c in classes]
    periods = period_annotations(source)
    return {
        "obj_id": str(source.get("id")),
        "ra": plain(source.get("ra")),
        "dec": plain(source.get("dec")),
        "classification": ";".join(str(c.get("classification")) for c in classes),
        "probability": ";".join(probs),
        "sum_votes": ";".join("" if s is None else str(s) for s in sums) if votes_known else "",
        "labellers": ";".join(labeller_ids(source)),
        "period_origin": ";".join(o for o, _ in periods),
        "period": ";".join(repr(p) for _, p in periods),
    }


def split_field(value: Any) -> list[str]:
    """A ``;``-joined record field back as a list (empty for missing)."""
    if is_missing(value):
        return []
    return str(value).split(";")


def record_probabilities(record: Mapping, label_to_column: Mapping[str, str], *, min_vote_diff: int | None = None,
                         ) -> dict[str, float]:
    """Label columns of one downloaded record: the probability of the first classification
    of each Fritz label (0.0 where absent).

    With ``min_vote_diff`` only classifications whose net votes reach it count (active
    learning: what scanners confirmed).
    """
    out = {col: 0.0 for col in label_to_column.values()}
    names = split_field(record.get("classification"))
    probs = split_field(record.get("probability"))
    sums = split_field(record.get("sum_votes"))
    seen: set[str] = set()
    for i, name in enumerate(names):
        col = label_to_column.get(name)
        if col is None or name in seen:
            continue
        if min_vote_diff is not None:
            try:
                if int(sums[i]) < int(min_vote_diff):
                    continue
            except (IndexError, ValueError):
                continue
        seen.add(name)
        try:
            p = float(probs[i]) if i < len(probs) and probs[i] != "" else 1.0
        except ValueError:
            p = 1.0
        out[col] = p
    return out


def existing_label_groups(source: Mapping, *, label_box: bool | None = None) -> dict[str, set[int]]:
    """``{classification: group ids}`` of a source's classifications (groups unknown -> ``{-1}``)."""
    out: dict[str, set[int]] = {}
    for c in source.get("classifications") or []:
        gids = classification_group_ids(c)
        out.setdefault(str(c.get("classification")), set()).update(gids if gids is not None else {-1})
    return out


def annotation_by_origin(annotations: Sequence[Mapping], origin: str) -> Mapping | None:
    for ann in annotations or []:
        if ann.get("origin") == origin:
            return ann
    return None

