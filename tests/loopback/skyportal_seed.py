"""Seed a loopback SkyPortal from a demo sky written by ``scope-demo-data``.

What a Fritz instance holding SCoPe's work looks like, in miniature:

* groups: the public "Sitewide Group" (1), "SCoPe training set" (2, the scanners' labels),
  "SCoPe active learning" (3, ML classifications scanners voted on), "SCoPe classifications"
  (4, an empty upload target), "EM+GW" (5, transients near a GCN event);
* users: ``scope_bot`` (the token the commands use: every ACL, every group), ``scanner`` (the
  human who labelled and voted), ``reader`` (a token without write ACLs);
* the ZTF instrument; taxonomies 1011/1012/1015/1017 whose classes are the Fritz labels of the
  shipped mappers (phenomenological ones inside the SCoPe tree);
* one source per labelled demo object (named ``ZTFJhhmmss.ss±ddmmss.s`` after the mean position
  of its light curves) in group 2, classified from the demo labels by ``scanner`` (probabilities
  as labelled, an up-vote each), with a period annotation for periodic ones;
* a few unlabelled objects in group 3 carrying SCoPe classifications with scanner votes of +1 or
  -1 (for ``--update-training-set --min-vote-diff``);
* a GCN event (``2023-05-21T05:30:43``) whose localization covers part of the field, with three
  transients in group 5 sitting on demo objects and detected in the days after the event.

:func:`seed_grb_event` adds a Fermi GRB event on other stars (for gcn-cronjob), and
:func:`add_gcn_event_near` any event with transients on given demo objects.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from scope.services.fritz_payloads import position_name
from tests.loopback.skyportal_server import LoopbackSkyPortal
from tests.loopback.skyportal_state import ALL_ACLS

GROUPS = {"training": "SCoPe training set", "al": "SCoPe active learning", "upload": "SCoPe classifications",
          "emgw": "EM+GW"}
GCN_DATEOBS = "2023-05-21T05:30:43"
GRB_DATEOBS = "2023-06-02T11:22:33"
GCN_MJD = 60085.2297
TAXONOMY_NAMES = {1011: "Sitewide taxonomy", 1012: "SCoPe Phenomenological Taxonomy (v1)",
                  1015: "SCoPe ontological", 1017: "SCoPe Phenomenological Taxonomy"}


@dataclass
class Seed:
    """What :func:`seed_from_demo` put on the server."""

    server: LoopbackSkyPortal
    token: str
    reader_token: str
    scanner_token: str
    groups: dict[str, int]
    objects: pd.DataFrame            # one row per demo object: obj_id, ra, dec, star, lightcurve ids, labelled
    labelled: list[str] = field(default_factory=list)
    active_learning: dict[str, int] = field(default_factory=dict)   # obj_id -> net votes of its classification
    gcn_sources: dict[str, tuple[float, float]] = field(default_factory=dict)


def _mappers() -> dict[int, set[str]]:
    data = resources.files("scope").joinpath("data")
    by_taxonomy: dict[int, set[str]] = {}
    for name in ("golden_dataset_mapper.json", "fritz_mapper.json", "DNN_AL_mapper.json", "XGB_AL_mapper.json"):
        try:
            mapper = json.loads(data.joinpath(name).read_text())
        except FileNotFoundError:
            continue
        for entry in mapper.values():
            if str(entry["fritz_label"]) != "None":
                by_taxonomy.setdefault(int(entry["taxonomy_id"]), set()).add(entry["fritz_label"])
    return by_taxonomy


def _hierarchy(labels: set[str]) -> dict:
    tree = yaml.safe_load(resources.files("scope").joinpath("data", "scope_phenomenological_taxonomy.yaml")
                          .read_text())

    def names(node):
        yield node["class"]
        for s in node.get("subclasses", []):
            yield from names(s)

    known = set(names(tree))
    extra = sorted(labels - known)
    tree = dict(tree)
    tree["subclasses"] = list(tree["subclasses"]) + [{"class": c} for c in extra]
    return tree


def demo_objects(demo_dir: Path) -> pd.DataFrame:
    """One row per demo object: ``star`` key, mean position, its light-curve ids, labelled flag."""
    truth = pd.read_parquet(Path(demo_dir) / "ztf_archive" / "truth.parquet")
    ids = truth["_id"].astype(np.int64)
    truth = truth.assign(star=ids - (ids // 10**11 % 10) * 10**11)  # the same object in every band
    grouped = truth.groupby("star", sort=True)
    out = pd.DataFrame({"ra": grouped["ra"].mean(), "dec": grouped["dec"].mean(),
                        "cls": grouped["class"].first(), "period": grouped["period"].first(),
                        "labelled": grouped["labelled"].any(),
                        "lightcurve_ids": grouped["_id"].apply(lambda s: sorted(int(i) for i in s))}).reset_index()
    out["obj_id"] = [position_name(r, d) for r, d in zip(out["ra"], out["dec"])]
    return out


def seed_from_demo(server: LoopbackSkyPortal, demo_dir: Path, *, n_active_learning: int = 4,
                   token: str | None = None) -> Seed:
    """Fill ``server`` from the demo folder ``demo_dir`` (see the module docstring)."""
    st = server.state
    demo_dir = Path(demo_dir)
    groups = {key: st.add_group(name) for key, name in GROUPS.items()}
    token = token or "fritz-token-" + secrets.token_hex(12)
    reader_token = "fritz-reader-" + secrets.token_hex(8)
    scanner_token = "fritz-scanner-" + secrets.token_hex(8)
    bot = st.add_user("scope_bot", token, acls=ALL_ACLS, groups=groups.values())
    scanner = st.add_user("scanner", scanner_token, acls=ALL_ACLS, groups=groups.values())
    st.add_user("reader", reader_token, acls=(), groups=groups.values())
    st.add_instrument("ZTF")
    for tid, labels in sorted(_mappers().items()):
        st.add_taxonomy(TAXONOMY_NAMES.get(tid, f"taxonomy {tid}"), "1.0", _hierarchy(labels), taxonomy_id=tid,
                        group_ids=[st.public_group])
    golden = json.loads(resources.files("scope").joinpath("data", "golden_dataset_mapper.json").read_text())

    objects = demo_objects(demo_dir)
    labels = pd.read_parquet(demo_dir / "labels.parquet")
    label_cols = [c for c in labels.columns if c in golden and str(golden[c]["fritz_label"]) != "None"]
    by_lc = labels.set_index(labels["ztf_id"].astype(np.int64))
    seed = Seed(server, token, reader_token, scanner_token, groups, objects)

    for row in objects.itertuples():
        lcs = [i for i in row.lightcurve_ids if i in by_lc.index]
        if not lcs:
            continue
        st.add_obj(row.obj_id, row.ra, row.dec, origin="Fritz")
        st.save(row.obj_id, groups["training"], scanner)
        values = by_lc.loc[lcs, label_cols].max(axis=0)
        for col, p in values.items():
            if p > 0:
                st.post_classification(scanner, {"obj_id": row.obj_id, "classification": golden[col]["fritz_label"],
                                                 "taxonomy_id": int(golden[col]["taxonomy_id"]),
                                                 "probability": float(p), "group_ids": [groups["training"]]})
        if np.isfinite(row.period):
            st.post_annotation(row.obj_id, scanner, {"origin": "revisedperiod", "data": {"period": float(row.period)},
                                                     "group_ids": [groups["training"]]})
        seed.labelled.append(row.obj_id)

    for i, row in enumerate(objects[~objects["obj_id"].isin(seed.labelled)].head(n_active_learning).itertuples()):
        st.add_obj(row.obj_id, row.ra, row.dec, origin="Fritz")
        st.save(row.obj_id, groups["al"], bot)
        label = "variable" if row.cls != "nonvar" else "non-variable"
        cid = st.post_classification(bot, {"obj_id": row.obj_id, "classification": label, "taxonomy_id": 1017,
                                           "probability": 0.8, "origin": "SCoPe", "ml": True, "vote": False,
                                           "label": False, "group_ids": [groups["al"]]})
        vote = 1 if i % 2 == 0 else -1
        st.vote(cid, scanner, vote)
        st.label(row.obj_id, scanner, [groups["al"]])
        seed.active_learning[row.obj_id] = vote

    ra0, dec0 = float(objects["ra"].median()), float(objects["dec"].median())
    near = objects.assign(sep=np.hypot((objects["ra"] - ra0) * np.cos(np.radians(dec0)),
                                       objects["dec"] - dec0)).sort_values("sep")
    st.add_gcn_event(GCN_DATEOBS, ra=ra0, dec=dec0, radius_deg=float(near["sep"].quantile(0.5)), tags=("GW", "BNS"))

    def transient(name, row, mjds):
        return add_transient(server, name, row.ra, row.dec, mjds, group_id=groups["emgw"], username="scope_bot")

    for k, row in enumerate(near.head(3).itertuples()):
        name = f"ZTF23aaaa{chr(ord('a') + k) * 2}"
        seed.gcn_sources[name] = transient(name, row, [GCN_MJD + 0.5 + k, GCN_MJD + 2.1])
    # left out: one outside the localization, one first detected more than a week after the event
    transient("ZTF23aaaazzz", next(near.tail(1).itertuples()), [GCN_MJD + 1])
    transient("ZTF23aaaayyy", next(near.iloc[3:4].itertuples()), [GCN_MJD + 9, GCN_MJD + 10])
    return seed


def add_transient(server: LoopbackSkyPortal, name: str, ra: float, dec: float, mjds, *, group_id: int,
                  username: str = "scope_bot") -> tuple[float, float]:
    """A transient 0.2 arcsec east of ``(ra, dec)`` saved to ``group_id``, detected (ZTF r) at ``mjds``."""
    st = server.state
    user = next(u for u in st.users.values() if u.username == username)
    iid = next(iter(st.instruments))
    ra, dec = float(ra + 0.2 / 3600 / np.cos(np.radians(dec))), float(dec)
    st.add_obj(name, ra, dec, origin="ZTF alert")
    st.save(name, group_id, user)
    st.put_photometry(user, {"obj_id": name, "instrument_id": iid, "mjd": list(mjds), "mag": [19.1] * len(mjds),
                             "magerr": [0.08] * len(mjds), "magsys": ["ab"] * len(mjds),
                             "filter": ["ztfr"] * len(mjds), "group_ids": [group_id]}, upsert=True)
    return ra, dec


def add_gcn_event_near(server: LoopbackSkyPortal, objects: pd.DataFrame, dateobs: str, *, tags, group_id: int,
                       names: list[str], radius_deg: float = 0.02) -> dict[str, tuple[float, float]]:
    """A GCN event centred on the first of ``objects`` (rows of :func:`demo_objects`) with one
    transient per name on those objects, detected a day and two days after ``dateobs``; returns
    ``{name: (ra, dec)}``. ``radius_deg`` should cover the objects."""
    from scope.services.fritz_payloads import parse_timestamp

    mjd = (parse_timestamp(dateobs) - parse_timestamp("1858-11-17")).total_seconds() / 86400.0
    rows = list(objects.head(len(names)).itertuples())
    server.state.add_gcn_event(dateobs, ra=float(rows[0].ra), dec=float(rows[0].dec), radius_deg=radius_deg,
                               tags=tuple(tags))
    return {name: add_transient(server, name, row.ra, row.dec, [mjd + 1.0, mjd + 2.0], group_id=group_id)
            for name, row in zip(names, rows)}


def seed_grb_event(server: LoopbackSkyPortal, seed: Seed, *, dateobs: str = GRB_DATEOBS,
                   names=("ZTF23grbaaaa", "ZTF23grbaaab")) -> tuple[int, dict[str, tuple[float, float]]]:
    """A Fermi GRB event after the seed's GW event, on two neighbouring demo stars far from the GW
    event's centre (outside its localization and window), its transients in a new group "GRB
    follow-up" that ``scope_bot`` belongs to. Returns the group id and ``{name: (ra, dec)}``."""
    st = server.state
    group = st.add_group("GRB follow-up")
    for user in st.users.values():
        if user.username == "scope_bot":
            user.groups.add(group)
    centre = st.gcn_events[GCN_DATEOBS]["localizations"][-1]["center"]
    objects = seed.objects
    sep = np.hypot((objects["ra"] - centre["ra"]) * np.cos(np.radians(centre["dec"])), objects["dec"] - centre["dec"])
    far = objects.loc[sep.sort_values().index[-1]]
    d = np.hypot((objects["ra"] - far.ra) * np.cos(np.radians(far.dec)), objects["dec"] - far.dec).sort_values()
    chosen = objects.loc[d.index[:len(names)]].reset_index(drop=True)
    sources = add_gcn_event_near(server, chosen, dateobs, tags=("Fermi", "GRB"), group_id=group, names=list(names),
                                 radius_deg=float(d.iloc[len(names) - 1]) * 1.5 + 1e-3)
    return group, sources
