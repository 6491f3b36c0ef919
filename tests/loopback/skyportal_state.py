"""The data and rules of the loopback SkyPortal (what its routes read and change).

Kept apart from the HTTP layer (:mod:`tests.loopback.skyportal_server`) so seeding and tests can
use it directly. Semantics follow ``service-api-contracts.md`` section 1: group-based read
access, one annotation per (source, origin), classifications checked against their taxonomy's
classes, default up-votes and labels, photometry de-duplicated on
``(obj_id, instrument_id, origin, mjd, fluxerr, flux)``, identical comments not stored twice.
Handlers raise :class:`ApiError` (status + message) for every refusal.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

PUBLIC_GROUP = "Sitewide Group"
VERSION = "1.4.0"
PHOT_ZP = 23.9
ALLOWED_BANDPASSES = ("ztfg", "ztfr", "ztfi", "sdssg", "sdssr", "sdssi", "bessellv", "atlasc", "atlaso")
MAX_PHOT_ROWS = 10_000
ALL_ACLS = ("Upload data", "Annotate", "Classify", "Post taxonomy", "Delete taxonomy", "Manage sources",
            "Comment")


class ApiError(Exception):
    """A refusal: HTTP ``status`` and SkyPortal's ``message``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class User:
    id: int
    username: str
    acls: set[str]
    groups: set[int]
    admin: bool = False
    expired: bool = False

    def as_dict(self) -> dict:
        return {"id": self.id, "username": self.username, "first_name": None, "last_name": None,
                "contact_email": None, "is_bot": False, "gravatar_url": None}


@dataclass
class Clock:
    """Deterministic timestamps, half a second apart: every other one has microsecond 0, which
    SkyPortal prints without a fraction (clients must parse both forms)."""

    start: dt.datetime = dt.datetime(2024, 1, 1, 0, 0, 0)
    ticks: itertools.count = field(default_factory=itertools.count)

    def now(self) -> str:
        return (self.start + dt.timedelta(seconds=0.5 * next(self.ticks))).isoformat()


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "yes", "t", "1")


class Indexed(dict):
    """A dict that also indexes its items by ``part(key, value)`` (the source id, mostly), so
    per-source look-ups stay fast on a sky of thousands of sources."""

    def __init__(self, part):
        super().__init__()
        self._part = part
        self._index: dict[Any, dict] = {}

    def __setitem__(self, key, value):
        if key in self:
            self._index[self._part(key, dict.__getitem__(self, key))].pop(key, None)
        super().__setitem__(key, value)
        self._index.setdefault(self._part(key, value), {})[key] = value

    def __delitem__(self, key):
        value = dict.__getitem__(self, key)
        super().__delitem__(key)
        self._index.get(self._part(key, value), {}).pop(key, None)

    def pop(self, key, *default):
        if key in self:
            value = self[key]
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def of(self, part) -> dict:
        """The items whose part is ``part`` (a live view: do not modify it)."""
        return self._index.get(part, {})


def _separation_deg(ra1, dec1, ra2, dec2):
    ra1, dec1, ra2, dec2 = (np.radians(np.asarray(x, float)) for x in (ra1, dec1, ra2, dec2))
    s = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(s, 0, 1))))


def _mjd(iso: str) -> float:
    t = dt.datetime.fromisoformat(iso)
    return (t - dt.datetime(1858, 11, 17)).total_seconds() / 86400.0


def hierarchy_valid(node: Any) -> bool:
    """The tdtax JSON schema, as far as SkyPortal checks it."""
    if not isinstance(node, Mapping) or not isinstance(node.get("class"), str):
        return False
    if set(node) - {"class", "tags", "subclasses", "other names", "url", "comments"}:
        return False
    if "tags" in node and not (isinstance(node["tags"], list) and all(isinstance(t, str) for t in node["tags"])):
        return False
    subs = node.get("subclasses", [])
    return isinstance(subs, list) and all(hierarchy_valid(s) for s in subs)


def hierarchy_classes(node: Mapping) -> Iterable[str]:
    if "class" in node:
        yield node["class"]
    for sub in node.get("subclasses", []) or []:
        yield from hierarchy_classes(sub)


class SkyPortalState:
    """Everything the loopback SkyPortal knows, guarded by one lock."""

    def __init__(self):
        self.lock = threading.RLock()
        self.clock = Clock()
        self._ids = {k: itertools.count(1) for k in ("user", "group", "classification", "annotation", "comment",
                                                     "photometry", "taxonomy", "instrument", "vote", "label",
                                                     "gcn")}
        self.users: dict[int, User] = {}
        self.tokens: dict[str, int] = {}
        self.groups: dict[int, dict] = {}
        self.objs: dict[str, dict] = {}
        by_key0 = lambda k, v: k[0]  # noqa: E731
        by_obj = lambda k, v: v["obj_id"]  # noqa: E731
        self.saves = Indexed(by_key0)            # (obj_id, group_id) -> Source row
        self.classifications = Indexed(by_obj)   # id -> classification
        self.votes = Indexed(by_key0)            # (classification_id, voter_id) -> vote
        self.labels = Indexed(by_key0)           # (obj_id, labeller_id, group_id) -> label row
        self.annotations = Indexed(by_obj)
        self.comments = Indexed(by_obj)
        self.photometry = Indexed(by_obj)
        self._phot_keys: dict[tuple, int] = {}
        self.taxonomies: dict[int, dict] = {}
        self.instruments: dict[int, dict] = {}
        self.gcn_events: dict[str, dict] = {}
        self.public_group = self.add_group(PUBLIC_GROUP, nickname="sitewide")

    # -- seeding -----------------------------------------------------------------------------
    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    def add_group(self, name: str, *, nickname: str | None = None, group_id: int | None = None) -> int:
        with self.lock:
            gid = group_id if group_id is not None else self.next_id("group")
            now = self.clock.now()
            self.groups[gid] = {"id": gid, "name": name, "nickname": nickname or name.lower().replace(" ", "_"),
                                "description": None, "private": False, "single_user_group": False,
                                "auto_accept_requests": False, "created_at": now, "modified": now}
            for user in self.users.values():
                if user.admin:
                    user.groups.add(gid)
            return gid

    def add_user(self, username: str, token: str, *, acls: Iterable[str] = ALL_ACLS, groups: Iterable[int] = (),
                 admin: bool = False, expired: bool = False) -> User:
        with self.lock:
            uid = self.next_id("user")
            member = set(groups) | {self.public_group}
            if admin:
                member |= set(self.groups)
            user = User(uid, username, set(acls), member, admin=admin, expired=expired)
            self.users[uid] = user
            self.tokens[token] = uid
            return user

    def add_instrument(self, name: str = "ZTF", filters=("ztfg", "ztfr", "ztfi")) -> int:
        with self.lock:
            iid = self.next_id("instrument")
            self.instruments[iid] = {"id": iid, "name": name, "type": "imager", "band": "optical",
                                     "telescope_id": 1, "filters": list(filters),
                                     "telescope": {"id": 1, "name": "Palomar 48 inch", "nickname": "P48"},
                                     "number_of_fields": 0, "region_summary": None, "log_exists": False}
            return iid

    def add_taxonomy(self, name: str, version: str, hierarchy: Mapping, *, group_ids: Iterable[int] | None = None,
                     provenance: str | None = None, taxonomy_id: int | None = None, is_latest: bool = True) -> int:
        with self.lock:
            tid = taxonomy_id if taxonomy_id is not None else self.next_id("taxonomy")
            if is_latest:
                for t in self.taxonomies.values():
                    if t["name"] == name:
                        t["isLatest"] = False
            now = self.clock.now()
            self.taxonomies[tid] = {"id": tid, "name": name, "version": version, "provenance": provenance,
                                    "isLatest": bool(is_latest), "hierarchy": dict(hierarchy), "created_at": now,
                                    "modified": now, "group_ids": set(group_ids or [self.public_group])}
            return tid

    def add_obj(self, obj_id: str, ra: float, dec: float, *, origin: str | None = None) -> dict:
        with self.lock:
            if obj_id not in self.objs:
                now = self.clock.now()
                self.objs[obj_id] = {"id": obj_id, "ra": float(ra), "dec": float(dec), "ra_dis": None,
                                     "dec_dis": None, "ra_err": None, "dec_err": None, "offset": 0.0,
                                     "redshift": None, "redshift_error": None, "redshift_origin": None,
                                     "altdata": None, "dist_nearest_source": None, "mag_nearest_source": None,
                                     "e_mag_nearest_source": None, "transient": False, "varstar": False,
                                     "is_roid": False, "score": None, "origin": origin, "alias": None,
                                     "healpix": None, "detect_photometry_count": 0, "created_at": now,
                                     "modified": now, "internal_key": obj_id}
            return self.objs[obj_id]

    def save(self, obj_id: str, group_id: int, user: User) -> None:
        with self.lock:
            row = self.saves.get((obj_id, group_id))
            if row is None or not row["active"]:
                self.saves[(obj_id, group_id)] = {"active": True, "requested": False, "saved_at": self.clock.now(),
                                                  "saved_by": user.id}

    def add_gcn_event(self, dateobs: str, *, ra: float, dec: float, radius_deg: float, tags=("GW",),
                      localization_name: str = "bayestar.fits.gz") -> dict:
        with self.lock:
            gid = self.next_id("gcn")
            event = {"id": gid, "dateobs": dateobs, "trigger_id": None, "aliases": [f"LVC#S{gid:06d}"],
                     "tags": list(tags), "lightcurve": None, "gcn_notices": [], "comments": [], "summaries": [],
                     "properties": [], "event_users": [], "gracedb_log": [], "gracedb_labels": [],
                     "localizations": [{"id": gid, "localization_name": localization_name, "dateobs": dateobs,
                                        "tags": [], "properties": [], "center": {"ra": ra, "dec": dec},
                                        "radius_deg": radius_deg, "created_at": self.clock.now()}]}
            self.gcn_events[dateobs] = event
            return event

    def remove_obj(self, obj_id: str) -> None:
        """Forget a source and everything attached to it (for tests that need an emptier Fritz)."""
        with self.lock:
            self.objs.pop(obj_id, None)
            for d in (self.saves, self.labels):
                for k in list(d.of(obj_id)):
                    del d[k]
            for cid in list(self.classifications.of(obj_id)):
                for k in list(self.votes.of(cid)):
                    del self.votes[k]
                del self.classifications[cid]
            for p in self.photometry.of(obj_id).values():
                self._phot_keys.pop(p["dedup_key"], None)
            for d in (self.annotations, self.comments, self.photometry):
                for k in list(d.of(obj_id)):
                    del d[k]

    # -- access ------------------------------------------------------------------------------
    def readable_groups(self, user: User) -> set[int]:
        return set(self.groups) if user.admin else set(user.groups)

    def obj_groups(self, obj_id: str) -> list[int]:
        return sorted(g for (_, g), row in self.saves.of(obj_id).items() if row["active"])

    def readable(self, obj_id: str, user: User) -> bool:
        return obj_id in self.objs and bool(set(self.obj_groups(obj_id)) & self.readable_groups(user))

    def check_groups(self, group_ids: Iterable, user: User, *, need_member: bool = True) -> list[int]:
        try:
            gids = [int(g) for g in group_ids]
        except (TypeError, ValueError):
            raise ApiError(f"Invalid group_ids: {group_ids}") from None
        bad = [g for g in gids if g not in self.groups or (need_member and g not in self.readable_groups(user))]
        if bad:
            raise ApiError(f"Cannot find one or more groups with IDs: {gids}.")
        return gids

    def _classification_readable(self, c: dict, user: User) -> bool:
        return user.admin or bool(c["group_ids"] & self.readable_groups(user))

    # -- serialisation -----------------------------------------------------------------------
    def group_dict(self, gid: int) -> dict:
        return dict(self.groups[gid])

    def source_groups(self, obj_id: str, user: User) -> list[dict]:
        out = []
        readable = self.readable_groups(user)
        for (o, g), row in sorted(self.saves.of(obj_id).items(), key=lambda kv: kv[0][1]):
            if g not in readable:
                continue
            saver = self.users.get(row["saved_by"])
            out.append({**self.group_dict(g), "active": row["active"], "requested": row["requested"],
                        "saved_at": row["saved_at"], "saved_by": saver.as_dict() if saver else None})
        return out

    def classification_dict(self, c: dict, *, groups: bool, votes: bool) -> dict:
        out = {k: c[k] for k in ("id", "classification", "origin", "taxonomy_id", "probability", "ml", "author_id",
                                 "author_name", "obj_id", "created_at", "modified")}
        out["groups"] = [self.group_dict(g) for g in sorted(c["group_ids"])] if groups else []
        out["votes"] = [dict(v) for _, v in sorted(self.votes.of(c["id"]).items())] if votes else []
        if votes:
            out["edits"] = list(c.get("edits", []))
        return out

    def annotation_dict(self, a: dict, *, with_type: bool = False) -> dict:
        out = {k: a[k] for k in ("id", "obj_id", "origin", "data", "author_id", "created_at", "modified")}
        out["groups"] = [self.group_dict(g) for g in sorted(a["group_ids"])]
        if with_type:
            out["type"] = "source"
        return out

    def source_dict(self, obj_id: str, user: User, *, full: bool, include_labellers: bool = False,
                    fast_list: bool = True) -> dict:
        obj = dict(self.objs[obj_id])
        obj["gal_lon"], obj["gal_lat"] = None, None
        obj["groups"] = self.source_groups(obj_id, user)
        detail = full or not fast_list
        classes = sorted((c for c in self.classifications.of(obj_id).values()
                          if self._classification_readable(c, user)),
                         key=lambda c: (c["created_at"], c["id"]))
        obj["classifications"] = [self.classification_dict(c, groups=detail, votes=detail) for c in classes]
        anns = sorted((a for a in self.annotations.of(obj_id).values()
                       if user.admin or a["group_ids"] & self.readable_groups(user)),
                      key=lambda a: (a["created_at"], a["id"]))
        obj["annotations"] = [self.annotation_dict(a, with_type=full) for a in anns]
        if include_labellers:
            rows = [r for (_, _, g), r in sorted(self.labels.of(obj_id).items()) if g in self.readable_groups(user)]
            if full:
                ids = list(dict.fromkeys(r["labeller_id"] for r in rows))
                obj["labellers"] = [self.users[i].as_dict() for i in ids if i in self.users]
            else:
                obj["labellers"] = [dict(r) for r in rows]
        if full:
            obj.update({"followup_requests": [], "galaxies": [], "assignments": [], "tags": [], "ebv": None,
                        "associated_objs": [], "duplicates": self._duplicates(obj_id, user)})
        return obj

    def _duplicates(self, obj_id: str, user: User) -> list[dict]:
        me = self.objs[obj_id]
        out = []
        for other, sep in zip(*self._within(me["ra"], me["dec"], 4.0 / 3600)):
            if other != obj_id and self.readable(other, user):
                o = self.objs[other]
                out.append({"obj_id": other, "ra": o["ra"], "dec": o["dec"], "separation": float(sep) * 3600})
        return out

    def _within(self, ra: float, dec: float, radius_deg: float, ids=None) -> tuple[list, np.ndarray]:
        """Sources (of ``ids``, default all) within ``radius_deg`` and their separations."""
        ids = list(self.objs) if ids is None else list(ids)
        if not ids:
            return [], np.zeros(0)
        pos = np.array([(self.objs[o]["ra"], self.objs[o]["dec"]) for o in ids], dtype=float)
        sep = _separation_deg(ra, dec, pos[:, 0], pos[:, 1])
        keep = np.flatnonzero(sep <= radius_deg)
        return [ids[i] for i in keep], sep[keep]

    # -- sources -----------------------------------------------------------------------------
    def list_sources(self, user: User, args: Mapping[str, str], *, fast_list: bool = True) -> dict:
        try:
            page = int(args.get("pageNumber", 1))
        except ValueError:
            raise ApiError("Invalid page number value.") from None
        if page < 1:
            raise ApiError("Page number must be greater than 0.")
        try:
            per_page = int(args.get("numPerPage", 100))
        except ValueError:
            raise ApiError("Invalid numPerPage value.") from None
        if per_page < 1:
            raise ApiError("Invalid numPerPage value.")
        per_page = min(per_page, 500)
        readable = self.readable_groups(user)
        gids = None
        if args.get("group_ids"):
            try:
                gids = [int(g) for g in str(args["group_ids"]).split(",") if g.strip()]
            except ValueError:
                raise ApiError(f"Invalid group_ids: {args['group_ids']}") from None
            if not user.admin and not set(gids) <= readable:
                raise ApiError("Cannot retrieve sources: Selected group(s) not all accessible to user.")
        want = set(gids) if gids is not None else readable
        ids = [o for o in self.objs if set(self.obj_groups(o)) & want & readable]
        cone = [args.get(k) for k in ("ra", "dec", "radius")]
        if any(v is not None for v in cone):
            try:
                ra, dec, radius = (float(v) for v in cone)
            except (TypeError, ValueError):
                raise ApiError(f"Cannot retrieve sources: Invalid ra, dec, radius: {cone}") from None
            ids = self._within(ra, dec, radius, ids)[0]
        if args.get("localizationDateobs") or args.get("localizationName"):
            if not args.get("startDate") or not args.get("endDate"):
                raise ApiError("must specify startDate and endDate when filtering by localizationDateobs or "
                               "localizationName")
            event = self.gcn_events.get(args.get("localizationDateobs", ""))
            if event is None:
                raise ApiError(f"Localization not found for dateobs {args.get('localizationDateobs')}")
            loc = event["localizations"][-1]
            c = loc["center"]
            ids = self._within(c["ra"], c["dec"], loc["radius_deg"], ids)[0]
        if args.get("startDate") or args.get("endDate"):
            ids = self._filter_detections(ids, args.get("startDate"), args.get("endDate"))
        sort_by = args.get("sortBy", "gcn_status" if args.get("localizationDateobs") else "saved_at")
        desc = args.get("sortOrder", "desc").lower() != "asc"

        def key(o):
            if sort_by in ("saved_at", "gcn_status"):
                return max((r["saved_at"] for (_, g), r in self.saves.of(o).items() if g in want), default="")
            if sort_by in ("ra", "dec"):
                return self.objs[o][sort_by]
            if sort_by == "id":
                return o
            raise ApiError(f"Invalid sortBy value: {sort_by}")

        ids.sort(key=lambda o: (key(o), o), reverse=desc)
        total = len(ids)
        if page > 1 and total and total % per_page == 0 and page == total // per_page + 1:
            raise ApiError("Page number out of range.")  # the quirk of the current server (section 1.4)
        window = ids[(page - 1) * per_page: page * per_page]
        include_labellers = _bool(args.get("includeLabellers"), False)
        data = {"sources": [self.source_dict(o, user, full=False, include_labellers=include_labellers,
                                             fast_list=fast_list) for o in window],
                "totalMatches": total, "pageNumber": page, "numPerPage": per_page}
        if gids is not None and len(gids) == 1:
            data["group_id"] = gids[0]
        return data

    def _filter_detections(self, ids, start, end):
        try:
            lo = _mjd(start) if start else -math.inf
            hi = _mjd(end) if end else math.inf
        except ValueError:
            raise ApiError(f"Invalid startDate/endDate: {start}, {end}") from None
        out = []
        for o in ids:
            mjds = [p["mjd"] for p in self.photometry.of(o).values() if p["mag"] is not None]
            if mjds and min(mjds) >= lo and max(mjds) <= hi:
                out.append(o)
        return out

    def post_source(self, user: User, body: Mapping) -> dict:
        allowed = {"id", "ra", "dec", "group_ids", "origin", "alias", "redshift", "redshift_error", "transient",
                   "varstar", "refresh_source", "ignore_if_in_group_ids", "saver_per_group_id", "altdata"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ApiError(f"Invalid/missing parameters: {{{', '.join(repr(k) + ': [' + repr('Unknown field.') + ']' for k in unknown)}}}")
        obj_id = body.get("id")
        if obj_id is None:
            raise ApiError("Invalid/missing parameters: {'id': ['Missing data for required field.']}")
        obj_id = str(obj_id)
        if not re.fullmatch(r"[A-Za-z0-9_\-;:+.]+", obj_id):
            raise ApiError(f"Failed to post source: Invalid source ID: {obj_id}")
        gids = body.get("group_ids")
        if gids is None:  # default: every group of the user
            gids = sorted(user.groups - {self.public_group}) or [self.public_group]
        for g in gids:
            if int(g) not in self.groups or int(g) not in self.readable_groups(user):
                raise ApiError(f"Failed to post source: Cannot find group_id {g}. Please remove and try again.")
        if obj_id not in self.objs:
            if body.get("ra") is None or body.get("dec") is None:
                raise ApiError("Failed to post source: RA/Declination must not be null for a new Obj")
            self.add_obj(obj_id, float(body["ra"]), float(body["dec"]), origin=body.get("origin"))
        for g in gids:
            self.save(obj_id, int(g), user)
        return {"id": obj_id, "saved_to_groups": [int(g) for g in gids]}

    def source_groups_post(self, user: User, body: Mapping) -> dict:
        unknown = sorted(set(body) - {"objId", "inviteGroupIds", "unsaveGroupIds"})
        if unknown:
            raise ApiError(f"Invalid/missing parameters: {unknown}")
        obj_id = body.get("objId")
        invite = [int(g) for g in body.get("inviteGroupIds") or []]
        unsave = [int(g) for g in body.get("unsaveGroupIds") or []]
        if not invite and not unsave:
            raise ApiError("One of either inviteGroupIds or unsaveGroupIds must be provided as a non-empty list")
        if obj_id not in self.objs:
            raise ApiError(f"Obj {obj_id} not found", 404)
        for g in invite:
            if g not in self.groups:
                raise ApiError(f"Invalid group ID: {g}")
            row = self.saves.get((obj_id, g))
            if row is not None and row["active"]:
                raise ApiError(f"Source already saved to group w/ ID {g}")
        for g in invite:
            if g in self.readable_groups(user):
                self.save(obj_id, g, user)
            else:
                self.saves[(obj_id, g)] = {"active": False, "requested": True, "saved_at": self.clock.now(),
                                           "saved_by": user.id}
        for g in unsave:
            if (obj_id, g) in self.saves:
                self.saves[(obj_id, g)]["active"] = False
        return {}

    # -- photometry --------------------------------------------------------------------------
    def put_photometry(self, user: User, body: Mapping, *, upsert: bool) -> dict:
        if not isinstance(body, Mapping):
            raise ApiError("Top level JSON must be an instance of `dict`")
        obj_id = body.get("obj_id")
        if obj_id not in self.objs:
            raise ApiError(f"Invalid object ID: {obj_id}")
        iid = body.get("instrument_id")
        inst = self.instruments.get(int(iid)) if isinstance(iid, (int, float, str)) and str(iid).isdigit() else None
        if inst is None:
            raise ApiError(f"Invalid instrument ID: {iid}")
        for key in ("mjd", "filter", "magsys"):
            if key not in body:
                raise ApiError(f"Invalid input format: missing required field {key}.")
        if "flux" in body and "mag" in body:
            raise ApiError("Invalid input format: do not mix mag and flux keys")
        lengths = {len(v) for k, v in body.items() if isinstance(v, list) and k not in ("group_ids", "stream_ids")}
        if len(lengths) > 1:
            raise ApiError("Unable to coerce passed JSON to a series of packets: arrays of different lengths")
        n = lengths.pop() if lengths else 1
        if n > MAX_PHOT_ROWS:
            raise ApiError(f"Maximum number of photometry rows to post exceeded: {n} > {MAX_PHOT_ROWS}.")

        def col(name, default=None):
            v = body.get(name, default)
            return list(v) if isinstance(v, list) else [v] * n

        mjd, mag, magerr, filt = col("mjd"), col("mag"), col("magerr"), col("filter")
        limit, origin = col("limiting_mag"), col("origin")
        gids = body.get("group_ids") or []
        gids = [self.public_group] if gids == "all" else self.check_groups(gids, user)
        new, ids = [], []
        for i in range(n):
            if mjd[i] is None:
                raise ApiError(f'Error parsing packet: missing required field mjd.')
            if (mag[i] is None) != (magerr[i] is None):
                raise ApiError(f'Error parsing packet "{{mjd: {mjd[i]}}}": mag and magerr must both be null, or '
                               f'both be not null.')
            if mag[i] is None and limit[i] is None:
                raise ApiError(f"Non-detections (mag=null) require a limiting_mag. Affected row(s) at MJD: "
                               f"[{mjd[i]}].")
            if filt[i] not in ALLOWED_BANDPASSES:
                raise ApiError(f"Filter(s) {{'{filt[i]}'}} is not allowed.")
            if filt[i] not in inst["filters"]:
                raise ApiError(f"Instrument {inst['name']} has no filter {filt[i]}.")
            if mag[i] is not None:
                flux = 10 ** (-0.4 * (float(mag[i]) - PHOT_ZP))
                fluxerr = float(magerr[i]) / (2.5 / math.log(10)) * flux
            else:
                flux, fluxerr = None, 10 ** (-0.4 * (float(limit[i]) - PHOT_ZP)) / 3.0
            key = (obj_id, inst["id"], str(origin[i]), round(float(mjd[i]), 9), _r(fluxerr), _r(flux))
            new.append((key, {"obj_id": obj_id, "instrument_id": inst["id"], "mjd": float(mjd[i]),
                              "mag": None if mag[i] is None else float(mag[i]),
                              "magerr": None if magerr[i] is None else float(magerr[i]),
                              "filter": filt[i], "origin": origin[i], "flux": flux, "fluxerr": fluxerr,
                              "group_ids": set(gids), "owner_id": user.id, "created_at": self.clock.now()}))
        dups = [k for k, _ in new if k in self._phot_keys]
        if dups and not upsert:
            raise ApiError(f"The following photometry already exists in the database: "
                           f"{[self._phot_keys[k] for k in dups][:10]}")
        for key, point in new:
            if key in self._phot_keys:
                pid = self._phot_keys[key]
                self.photometry[pid]["group_ids"] |= set(gids)
            else:
                pid = self.next_id("photometry")
                self.photometry[pid] = {"id": pid, **point, "dedup_key": key}
                self._phot_keys[key] = pid
            ids.append(pid)
        obj = self.objs[obj_id]
        obj["detect_photometry_count"] = sum(1 for p in self.photometry.of(obj_id).values() if p["mag"] is not None)
        return {"ids": ids} if upsert else {"ids": ids, "upload_id": f"upload-{ids[0] if ids else 0}"}

    # -- annotations -------------------------------------------------------------------------
    def list_annotations(self, obj_id: str, user: User) -> list:
        return [self.annotation_dict(a) for a in sorted(self.annotations.of(obj_id).values(), key=lambda a: a["id"])
                if user.admin or a["group_ids"] & self.readable_groups(user)]

    def post_annotation(self, obj_id: str, user: User, body: Mapping) -> dict:
        if obj_id not in self.objs:
            raise ApiError(f"Obj {obj_id} not found", 404)
        origin = body.get("origin")
        if not origin:
            raise ApiError("origin must be specified")
        if not isinstance(origin, str) or not re.match(r"^\w+", origin):
            raise ApiError("Input `origin` must begin with alphanumeric/underscore")
        data = body.get("data")
        if data is None:
            raise ApiError("data must be specified")
        if not isinstance(data, Mapping):
            raise ApiError("Invalid/missing parameters: data must be a dict")
        gids = body.get("group_ids")
        gids = sorted(self.readable_groups(user)) if not gids else self.check_groups(gids, user)
        for a in self.annotations.of(obj_id).values():
            if a["origin"] == origin:
                raise ApiError(f"Annotation already exists: (obj_id={obj_id}, origin={origin})")
        aid = self.next_id("annotation")
        now = self.clock.now()
        self.annotations[aid] = {"id": aid, "obj_id": obj_id, "origin": origin, "data": dict(data),
                                 "author_id": user.id, "group_ids": set(gids), "created_at": now, "modified": now}
        return {"annotation_id": aid}

    def _own_annotation(self, obj_id: str, aid: int, user: User) -> dict:
        a = self.annotations.get(aid)
        if a is None or not (user.admin or a["group_ids"] & self.readable_groups(user)):
            raise ApiError("Could not find any accessible annotations.", 403)
        if a["obj_id"] != obj_id:
            raise ApiError(f"Annotation {aid} does not belong to source {obj_id}")
        if a["author_id"] != user.id and not user.admin:
            raise ApiError("Could not find any accessible annotations.", 403)
        return a

    def put_annotation(self, obj_id: str, aid: int, user: User, body: Mapping) -> dict:
        a = self._own_annotation(obj_id, aid, user)
        if "data" in body:
            if not isinstance(body["data"], Mapping):
                raise ApiError("Invalid/missing parameters: data must be a dict")
            a["data"] = dict(body["data"])  # replaces, never merges
        if body.get("origin"):
            a["origin"] = body["origin"]
        if body.get("group_ids"):
            a["group_ids"] = set(self.check_groups(body["group_ids"], user))
        a["modified"] = self.clock.now()
        return {}

    def delete_annotation(self, obj_id: str, aid: int, user: User) -> dict:
        self._own_annotation(obj_id, aid, user)
        del self.annotations[aid]
        return {}

    # -- classifications ---------------------------------------------------------------------
    def post_classification(self, user: User, item: Mapping) -> int:
        for key in ("obj_id", "classification", "taxonomy_id"):
            if key not in item:
                raise ValueError(f"Missing required field {key}")
        obj_id = item["obj_id"]
        if not self.readable(obj_id, user):
            raise ValueError(f"Cannot find object with ID {obj_id}.")
        gids = item.get("group_ids") or [self.public_group]
        ml = item.get("ml", False)
        if ml in (True, "True", "t", "true"):
            ml = True
        elif ml in (False, "False", "f", "false"):
            ml = False
        else:
            raise ValueError(f"If provided, ml must be one of True, False, 'True', 'False', 't', 'f', 'true', "
                             f"'false' (got {ml})")
        tax = self.taxonomies.get(item["taxonomy_id"]) if isinstance(item["taxonomy_id"], int) else None
        if tax is None or not (user.admin or tax["group_ids"] & self.readable_groups(user)):
            raise ValueError(f"Cannot find a taxonomy with ID: {item['taxonomy_id']}.")
        if item["classification"] not in set(hierarchy_classes(tax["hierarchy"])):
            raise ValueError(f"That classification ({item['classification']}) is not in the allowed classes for "
                             f"the chosen taxonomy (id={item['taxonomy_id']}")
        p = item.get("probability")
        if p is not None and not 0 <= float(p) <= 1:
            raise ValueError(f"That probability ({p}) is outside the allowable range (0-1).")
        if any(int(g) not in self.groups or int(g) not in self.readable_groups(user) for g in gids):
            raise ValueError(f"Cannot find one or more groups with IDs: {gids}.")
        cid = self.next_id("classification")
        now = self.clock.now()
        self.classifications[cid] = {"id": cid, "classification": item["classification"],
                                     "origin": item.get("origin"), "taxonomy_id": tax["id"],
                                     "probability": None if p is None else float(p), "ml": ml,
                                     "author_id": user.id, "author_name": user.username, "obj_id": obj_id,
                                     "created_at": now, "modified": now, "group_ids": {int(g) for g in gids},
                                     "edits": []}
        if item.get("vote") is not False:
            self.vote(cid, user, 1)
        if item.get("label") is not False:
            self.label(obj_id, user, gids)
        return cid

    def vote(self, cid: int, user: User, value: int) -> None:
        self.votes[(cid, user.id)] = {"id": self.next_id("vote"), "classification_id": cid, "voter_id": user.id,
                                      "vote": int(value), "created_at": self.clock.now(),
                                      "modified": self.clock.now()}

    def label(self, obj_id: str, user: User, gids) -> None:
        for g in gids:
            key = (obj_id, user.id, int(g))
            if key not in self.labels:
                now = self.clock.now()
                self.labels[key] = {"id": self.next_id("label"), "obj_id": obj_id, "labeller_id": user.id,
                                    "group_id": int(g), "created_at": now, "modified": now}

    def delete_classification(self, cid: int, user: User, label: bool) -> None:
        c = self.classifications.get(cid)
        if c is None or not self._classification_readable(c, user):
            raise ApiError(f"Cannot find classification with ID: {cid}.")
        if c["author_id"] != user.id and not user.admin:
            raise ApiError("Insufficient user permissions.", 401)
        del self.classifications[cid]
        for key in list(self.votes.of(cid)):
            del self.votes[key]
        if label:
            self.label(c["obj_id"], user, c["group_ids"])

    def delete_source_classifications(self, obj_id: str, user: User, label: bool) -> None:
        for cid, c in list(self.classifications.of(obj_id).items()):
            if c["author_id"] == user.id or user.admin:
                self.delete_classification(cid, user, label)

    # -- comments ----------------------------------------------------------------------------
    def list_comments(self, obj_id: str, user: User) -> list:
        out = []
        for c in sorted(self.comments.of(obj_id).values(), key=lambda c: c["id"]):
            if user.admin or c["group_ids"] & self.readable_groups(user):
                author = self.users[c["author_id"]]
                out.append({"id": c["id"], "text": c["text"], "obj_id": obj_id, "author_id": author.id,
                            "bot": c["bot"], "attachment_name": c["attachment_name"], "channel": None,
                            "created_at": c["created_at"], "modified": c["modified"], "resourceType": "sources",
                            "groups": [self.group_dict(g) for g in sorted(c["group_ids"])],
                            "author": {"username": author.username, "first_name": None, "last_name": None,
                                       "gravatar_url": None, "is_bot": True}})
        return out

    def post_comment(self, obj_id: str, user: User, body: Mapping) -> dict:
        if obj_id not in self.objs:
            raise ApiError(f"Obj {obj_id} not found", 404)
        text = body.get("text")
        if not text:
            raise ApiError("Missing required field: text")
        gids = body.get("group_ids")
        gids = [self.public_group] if not gids else self.check_groups(gids, user)
        att_bytes = att_name = None
        if "attachment" in body:
            att = body["attachment"]
            if not (isinstance(att, Mapping) and "body" in att and "name" in att):
                raise ApiError("Malformed comment attachment")
            if att["body"] is None:
                raise ApiError("Comment attachment body is empty")
            try:
                att_bytes = base64.b64decode(str(att["body"]).split("base64,")[-1], validate=True)
            except (binascii.Error, ValueError):
                raise ApiError("Malformed comment attachment") from None
            att_name = att["name"]
        for c in self.comments.of(obj_id).values():
            if (c["text"] == text and c["attachment_bytes"] == att_bytes
                    and c["attachment_name"] == att_name and c["author_id"] == user.id and c["bot"]
                    and c["group_ids"] == set(gids)):
                return {"comment_id": c["id"], "message": "Same comment already exists."}
        cid = self.next_id("comment")
        now = self.clock.now()
        self.comments[cid] = {"id": cid, "obj_id": obj_id, "text": text, "attachment_bytes": att_bytes,
                              "attachment_name": att_name, "author_id": user.id, "bot": True,
                              "group_ids": set(gids), "created_at": now, "modified": now}
        return {"comment_id": cid}

    # -- taxonomy ----------------------------------------------------------------------------
    def taxonomy_dict(self, t: dict) -> dict:
        out = {k: v for k, v in t.items() if k != "group_ids"}
        out["groups"] = [self.group_dict(g) for g in sorted(t["group_ids"])]
        return out

    def post_taxonomy(self, user: User, body: Mapping) -> dict:
        allowed = {"name", "version", "provenance", "hierarchy", "hierarchy_file", "group_ids", "isLatest"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ApiError(f"Invalid/missing parameters: {{{', '.join(repr(k) + ': [' + repr('Unknown field.') + ']' for k in unknown)}}}")
        if not body.get("name") or not body.get("version"):
            raise ApiError("A name and version must be provided")
        hierarchy = body.get("hierarchy")
        if hierarchy is None and body.get("hierarchy_file"):
            import yaml

            hierarchy = yaml.safe_load(body["hierarchy_file"])
        if hierarchy is None:
            raise ApiError("Must provide either hierarchy or hierarchy_file")
        if not hierarchy_valid(hierarchy):
            raise ApiError("Hierarchy does not validate against the schema.")
        for t in self.taxonomies.values():
            if t["name"] == body["name"] and t["version"] == body["version"]:
                raise ApiError("That version/name combination is already present. If you really want to replace "
                               "this then delete the appropriate entry.")
        gids = [int(g) for g in body.get("group_ids") or [self.public_group] if int(g) in self.readable_groups(user)]
        if not gids:
            raise ApiError("No valid groups to share this taxonomy with")
        tid = self.add_taxonomy(body["name"], str(body["version"]), hierarchy, group_ids=gids,
                                provenance=body.get("provenance"), is_latest=_bool(body.get("isLatest"), True))
        return {"taxonomy_id": tid}


def _r(x):
    return None if x is None else float(f"{x:.12g}")
