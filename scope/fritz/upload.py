"""scope-upload-classification: post classifications (and their source, photometry, period,
survey id and comments) to Fritz without ever posting anything twice.

Per input row (positions ``start..stop``, inclusive):

1. the classes to post: mapper columns (``read``) or the named ones, probability >= the threshold;
2. the Fritz source: by ``obj_id`` (``use_existing_obj_id``), else the sources within
   ``radius_arcsec`` - with ``match_ids`` the one whose survey-id annotation names the row's survey
   id, else the most recently created ``ZTFJ`` source; none -> a new source named after the mean
   position of the light curves found there (``ZTFJhhmmss.ss±ddmmss.s``);
3. a new source is created in the target groups with its photometry (a PUT: SkyPortal upserts);
   an existing one is saved to the target groups it is not in, and gets its photometry unless
   ``skip_phot``;
4. the period as annotation ``uploadedperiod`` unless the source has one;
5. with ``replace_classifications`` the source's classifications in the target groups are
   deleted first (once per source and run);
6. a classification is queued unless the source already has that label in every target group;
   queues are posted every ``batch_rows`` rows;
7. comments (``comment``, photometry plots) unless a comment with that text exists;
8. the survey id as annotation ``survey_id_origin`` (a new id is added to an existing one).

Nothing is posted twice, also across interruptions: rows are logged as finished
(:class:`~scope.fritz.progress.ProgressLog`) only after their classifications were accepted, a
rerun skips finished rows and re-checks the others against Fritz, and a classification post that
got no definite answer is reconciled by reading the sources back before anything is re-sent
(SkyPortal stores batch items one by one and keeps those before a failing one). Sources met in
this run are remembered, so the second light curve of a star costs no request.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from scope.errors import AuthError, DataError, QueryError, ServiceError, WriteOutcomeUnknown
from scope.fritz import common
from scope.fritz.photometry import Photometry, photometry_near, plot_png
from scope.fritz.progress import ProgressLog
from scope.fritz.rows import UploadClass, row_classes, row_period, row_survey_id, upload_classes
from scope.lightcurves.sources.base import angular_separation_arcsec
from scope.services import fritz_payloads as fp
from scope.tables import ensure_writable_dir, read_table, write_table

log = logging.getLogger(__name__)

RECONCILE_ROUNDS = 4
_CACHE_SIZE = 2048


@dataclass
class UploadOptions:
    """What scope-upload-classification should do (see ``docs/fritz.md``)."""

    file: str
    group_ids: Sequence[int]
    classification: Sequence[str] | None = None
    taxonomy_map: str = "golden_dataset_mapper.json"
    comment: str | None = None
    start: int | None = None
    stop: int | None = None
    classification_origin: str = "SCoPe"
    skip_phot: bool = False
    post_survey_id: bool = False
    survey_id_origin: str = "SCoPe_xmatch"
    p_threshold: float = 0.0
    match_ids: bool = False
    use_existing_obj_id: bool = False
    post_upvote: bool = False
    check_labelled_box: bool = False
    write_obj_id: bool = False
    result_dir: str = "fritzUpload"
    result_filetag: str = "fritzUpload"
    result_format: str = "parquet"
    replace_classifications: bool = False
    radius_arcsec: float = 2.0
    no_ml: bool = False
    post_phot_as_comment: bool = False
    post_phasefolded_phot: bool = False
    phot_dirname: str = "phot_plots"
    instrument_name: str = "ZTF"
    batch_rows: int = 10
    restart: bool = False


@dataclass
class UploadSummary:
    rows: int = 0
    rows_skipped_done: int = 0
    rows_failed: int = 0
    sources_created: int = 0
    sources_existing: int = 0
    classifications_posted: int = 0
    classifications_present: int = 0
    classifications_deleted: int = 0
    annotations_posted: int = 0
    comments_posted: int = 0
    photometry_points: int = 0
    requests: int = 0
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


@dataclass
class SourceState:
    """What this run knows about one Fritz source (kept current as it posts)."""

    obj_id: str
    ra: float
    dec: float
    groups: set[int]
    labels: dict[str, set[int]]              # classification -> groups (-1: groups not known)
    classification_ids: dict[int, set[int]]  # id -> groups
    annotations: dict[str, dict]             # origin -> annotation
    detail: bool                             # classification groups known
    comment_texts: set[str] | None = None
    photometry_sent: bool = False
    replaced: bool = False
    pending: dict[str, set[int]] = field(default_factory=dict)

    @classmethod
    def from_source(cls, src: dict) -> "SourceState":
        labels: dict[str, set[int]] = {}
        cids: dict[int, set[int]] = {}
        for c in src.get("classifications") or []:
            gids = fp.classification_group_ids(c)
            groups = set(gids) if gids is not None else {-1}
            labels.setdefault(str(c.get("classification")), set()).update(groups)
            cids[int(c["id"])] = groups
        return cls(obj_id=str(src["id"]), ra=float(src.get("ra") or np.nan), dec=float(src.get("dec") or np.nan),
                   groups=set(fp.source_group_ids(src)), labels=labels, classification_ids=cids,
                   annotations={str(a.get("origin")): a for a in src.get("annotations") or []},
                   detail=not fp.lacks_nested_detail(src))

    def has_label(self, label: str, groups: set[int]) -> bool:
        return groups <= (self.labels.get(label, set()) | self.pending.get(label, set()))


@dataclass
class _Queued:
    row: int
    item: dict


class Uploader:
    """One upload run; see the module docstring and :func:`upload_classifications`."""

    def __init__(self, cfg, opts: UploadOptions, client, *, lightcurves=None):
        self.cfg, self.opts, self.client = cfg, opts, client
        self._lightcurves = lightcurves
        self.groups = fp.group_list(opts.group_ids)
        if not self.groups:
            raise DataError("give the target Fritz groups with --group-ids")
        self.summary = UploadSummary()
        self.cache: OrderedDict[str, SourceState] = OrderedDict()
        self.centers: list[tuple[float, float, str]] = []
        self.queue: list[_Queued] = []
        self.row_results: dict[int, dict] = {}
        self.unflushed: list[int] = []
        self.instrument_id: int | None = None
        self.counted: set[str] = set()  # sources already counted as created or existing

    # -- light curves --------------------------------------------------------------------------
    @property
    def lightcurves(self):
        if self._lightcurves is None:
            from scope.lightcurves.sources import open_source

            self._lightcurves = open_source(self.cfg, id_scheme="objectid")
        return self._lightcurves

    def photometry(self, ra: float, dec: float) -> Photometry | None:
        kind = getattr(self.lightcurves, "name", "")
        cut = self.cfg.get_path("kowalski.max_timestamp_hjd") if kind == "kowalski" else None
        return photometry_near(self.lightcurves, ra, dec, self.opts.radius_arcsec, max_timestamp_hjd=cut)

    # -- finding sources -----------------------------------------------------------------------
    def remember(self, state: SourceState, center: tuple[float, float] | None = None) -> SourceState:
        self.cache[state.obj_id] = state
        self.cache.move_to_end(state.obj_id)
        if center is not None and np.isfinite(center[0]):
            self.centers.append((center[0], center[1], state.obj_id))
            self.centers = self.centers[-_CACHE_SIZE:]
        while len(self.cache) > _CACHE_SIZE:
            self.cache.popitem(last=False)
        return state

    def detailed(self, state: SourceState) -> SourceState:
        """Make sure the classifications' groups are known (list results lack them)."""
        if state.detail or not state.labels:
            return state
        full = self.client.source(state.obj_id)
        if full is None:
            return state
        fresh = SourceState.from_source(full)
        fresh.comment_texts, fresh.photometry_sent, fresh.replaced = state.comment_texts, state.photometry_sent, \
            state.replaced
        fresh.pending = state.pending
        return self.remember(fresh)

    def find_existing(self, row: dict) -> SourceState | None:
        """The Fritz source a row belongs to, or None when it needs a new one."""
        opts = self.opts
        obj_id = row.get("obj_id") if opts.use_existing_obj_id else None
        if obj_id is not None and not fp.is_missing(obj_id):
            obj_id = str(obj_id)
            if obj_id in self.cache:
                return self.cache[obj_id]
            src = self.client.source(obj_id)
            return None if src is None else self.detailed(self.remember(SourceState.from_source(src)))
        ra, dec = _position(row)
        if ra is None:
            raise DataError("row has neither an obj_id to use (--use-existing-obj-id) nor ra/dec")
        # a row at the centre of an earlier one (the star's other band) resolves the same way
        for cra, cdec, cid in reversed(self.centers):
            if cid in self.cache and angular_separation_arcsec(ra, dec, cra, cdec) <= min(0.1, opts.radius_arcsec):
                return self.cache[cid]
        near = self.client.sources_near(ra, dec, opts.radius_arcsec)
        chosen = None
        if opts.match_ids:
            sid = row_survey_id(row)
            for src in near:
                ann = fp.annotation_by_origin(src.get("annotations") or [], opts.survey_id_origin)
                if sid and ann and sid in [str(v) for v in (ann.get("data") or {}).values()]:
                    chosen = src
                    break
        if chosen is None:
            ztfj = [s for s in near if str(s.get("id", "")).startswith("ZTFJ")]
            if ztfj:
                chosen = max(ztfj, key=lambda s: (fp.parse_timestamp(s.get("created_at")) or dt.datetime.min, s["id"]))
        if chosen is None:
            return None
        if str(chosen["id"]) in self.cache:
            state = self.cache[str(chosen["id"])]
            self.centers.append((ra, dec, state.obj_id))
            return state
        return self.detailed(self.remember(SourceState.from_source(chosen), (ra, dec)))

    # -- one row -------------------------------------------------------------------------------
    def process_row(self, index: int, row: dict, classes: list[UploadClass]) -> dict:
        opts = self.opts
        result = {"row": index, "obj_id": None, "status": "", "posted": 0, "present": 0, "message": ""}
        wanted = row_classes(row, classes, opts.p_threshold)
        if not wanted:
            result["status"] = "nothing above threshold"
            return result
        state = self.find_existing(row)
        phot: Photometry | None = None
        if state is None:
            state, phot = self.create_source(row)
            if state is None:
                result["status"] = "no light curves"
                result["message"] = f"no light curve with clean points within {opts.radius_arcsec} arcsec"
                return result
        else:
            if state.obj_id not in self.counted:
                self.counted.add(state.obj_id)
                self.summary.sources_existing += 1
            missing = [g for g in self.groups if g not in state.groups]
            if missing:
                self.client.invite(state.obj_id, missing)
                state.groups.update(missing)
            if not opts.skip_phot and not state.photometry_sent:
                phot = self.photometry(state.ra, state.dec)
                if phot is not None:
                    self.put_photometry(state, phot)
        result["obj_id"] = state.obj_id
        period = row_period(row)
        if period is not None and fp.PERIOD_ORIGIN not in state.annotations:
            self.annotate(state, fp.PERIOD_ORIGIN, {"period": period})
        if opts.replace_classifications and not state.replaced:
            self.replace(self.detailed(state))
            state = self.cache.get(state.obj_id, state)
        state = self.detailed(state)
        targets = set(self.groups)
        for cls, p in wanted:
            if state.has_label(cls.fritz_label, targets):
                result["present"] += 1
                self.summary.classifications_present += 1
                continue
            item = fp.classification_item(state.obj_id, cls.fritz_label, cls.taxonomy_id, p, group_ids=self.groups,
                                          origin=opts.classification_origin, vote=opts.post_upvote,
                                          label=opts.check_labelled_box, ml=not opts.no_ml)
            self.queue.append(_Queued(index, item))
            state.pending.setdefault(cls.fritz_label, set()).update(targets)
            result["posted"] += 1
        self.post_comments(state, row, wanted, phot, period)
        if opts.post_survey_id:
            self.post_survey_id(state, row)
        result["status"] = "uploaded"
        return result

    def create_source(self, row: dict) -> tuple[SourceState | None, Photometry | None]:
        ra, dec = _position(row)
        if ra is None:
            raise DataError("a new source needs ra and dec")
        phot = self.photometry(ra, dec)
        if phot is None:
            return None, None
        given = row.get("obj_id") if self.opts.use_existing_obj_id else None
        name = str(given) if given is not None and not fp.is_missing(given) else fp.position_name(phot.ra, phot.dec)
        if given is None and angular_separation_arcsec(ra, dec, phot.ra, phot.dec) > 0.99 * self.opts.radius_arcsec:
            # the cone around the row could have missed a source saved at the light curves' position
            src = self.client.source(name)
            if src is not None:
                state = self.detailed(self.remember(SourceState.from_source(src), (ra, dec)))
                self.summary.sources_existing += 1
                self.counted.add(state.obj_id)
                missing = [g for g in self.groups if g not in state.groups]
                if missing:
                    self.client.invite(state.obj_id, missing)
                    state.groups.update(missing)
                return state, None
        self.client.save_source(name, phot.ra, phot.dec, self.groups)
        self.summary.sources_created += 1
        self.counted.add(name)
        state = self.remember(SourceState(name, phot.ra, phot.dec, set(self.groups), {}, {}, {}, detail=True,
                                          comment_texts=set()), (ra, dec))
        self.put_photometry(state, phot)
        return state, phot

    def put_photometry(self, state: SourceState, phot: Photometry) -> None:
        if self.instrument_id is None:
            self.instrument_id = self.client.instrument_id(self.opts.instrument_name)
        self.client.put_photometry(phot.payload(state.obj_id, self.instrument_id, self.groups))
        state.photometry_sent = True
        self.summary.photometry_points += len(phot)

    def annotate(self, state: SourceState, origin: str, data: dict) -> None:
        aid = self.client.post_annotation(state.obj_id, origin, data, self.groups)
        if aid is None:  # a retried post that had succeeded, or someone else's: read what is there
            for ann in self.client.annotations(state.obj_id):
                state.annotations[str(ann.get("origin"))] = ann
            return
        state.annotations[origin] = {"id": aid, "origin": origin, "data": dict(data)}
        self.summary.annotations_posted += 1

    def replace(self, state: SourceState) -> None:
        targets = set(self.groups)
        mine = {cid: g for cid, g in state.classification_ids.items() if g & (targets | {-1})}
        if mine:
            if len(mine) == len(state.classification_ids):
                self.client.delete_source_classifications(state.obj_id, label=self.opts.check_labelled_box)
            else:
                for cid in mine:
                    self.client.delete_classification(cid, label=self.opts.check_labelled_box)
            self.summary.classifications_deleted += len(mine)
            full = self.client.source(state.obj_id)
            fresh = SourceState.from_source(full) if full is not None else state
            fresh.comment_texts, fresh.photometry_sent, fresh.pending = state.comment_texts, state.photometry_sent, \
                state.pending
            state = self.remember(fresh)
        state.replaced = True

    def post_comments(self, state: SourceState, row: dict, wanted, phot: Photometry | None, period) -> None:
        opts = self.opts
        planned: list[tuple[str, bytes | None, str | None]] = []
        if opts.comment:
            planned.append((opts.comment, None, None))
        if opts.post_phot_as_comment or opts.post_phasefolded_phot:
            if phot is None:
                phot = self.photometry(state.ra, state.dec)
            if phot is not None:
                title = f"{state.obj_id}: " + ", ".join(c.fritz_label for c, _ in wanted)
                base = f"ZTF source within {opts.radius_arcsec:g} arcsec of {state.obj_id}"
                folder = Path(opts.result_dir) / opts.phot_dirname
                if opts.post_phot_as_comment:
                    planned.append((f"{base}: time series", _saved(plot_png(phot, title), folder / f"{state.obj_id}.png"),
                                    f"{state.obj_id}.png"))
                if opts.post_phasefolded_phot and period:
                    planned.append((f"{base}: phase-folded, P = {period:.6g} d",
                                    _saved(plot_png(phot, title, period=period),
                                           folder / f"{state.obj_id}_phasefold.png"), f"{state.obj_id}_phasefold.png"))
        if not planned:
            return
        if state.comment_texts is None:
            state.comment_texts = {str(c.get("text")) for c in self.client.comments(state.obj_id)}
        for text, attachment, name in planned:
            if text in state.comment_texts:
                continue
            self.client.post_comment(state.obj_id, fp.comment_payload(text, group_ids=self.groups,
                                                                       attachment=attachment, attachment_name=name))
            state.comment_texts.add(text)
            self.summary.comments_posted += 1

    def post_survey_id(self, state: SourceState, row: dict) -> None:
        sid = row_survey_id(row)
        if sid is None:
            log.warning("row for %s has no survey id to post", state.obj_id)
            return
        origin = self.opts.survey_id_origin
        ann = state.annotations.get(origin)
        if ann is None:
            self.annotate(state, origin, {"survey_id": sid})
            return
        data = dict(ann.get("data") or {})
        if sid in [str(v) for v in data.values()]:
            return
        n = sum(1 for k in data if str(k).startswith("survey_id"))
        data[f"survey_id_{n + 1}"] = sid
        try:
            self.client.update_annotation(state.obj_id, int(ann["id"]), data, origin)
        except AuthError as exc:  # someone else's annotation: SkyPortal lets only its author change it
            log.warning("cannot add survey id %s to %s's %s annotation: %s", sid, state.obj_id, origin, exc)
            return
        ann["data"] = data
        self.summary.annotations_posted += 1

    # -- classifications -----------------------------------------------------------------------
    def flush(self) -> dict[int, str]:
        """Post the queued classifications; returns ``{row: error}`` for items Fritz refused."""
        queued, self.queue = self.queue, []
        if not queued:
            return {}
        try:
            self.client.post_classifications([q.item for q in queued])
            self._posted([q.item for q in queued])
            return {}
        except (WriteOutcomeUnknown, QueryError, ServiceError) as exc:
            if isinstance(exc, AuthError):
                raise
            log.warning("posting %d classifications: %s; checking what Fritz stored", len(queued), exc)
            return self.reconcile(queued, bad_item=isinstance(exc, QueryError))

    def _posted(self, items: list[dict]) -> None:
        for item in items:
            state = self.cache.get(item["obj_id"])
            if state is not None:
                state.labels.setdefault(item["classification"], set()).update(item["group_ids"])
        self.summary.classifications_posted += len(items)

    def reconcile(self, queued: list[_Queued], *, bad_item: bool) -> dict[int, str]:
        """Read the sources back, post only what is missing; isolate items Fritz refuses."""
        failures: dict[int, str] = {}
        for round_ in range(RECONCILE_ROUNDS):
            missing = self._missing(queued)
            if not missing:
                return failures
            if round_:
                time.sleep(self.client.session.policy.delay(round_ - 1))
            queued = missing
            if not bad_item:
                try:
                    self.client.post_classifications([q.item for q in missing])
                    self._posted([q.item for q in missing])
                    return failures
                except QueryError as exc:
                    bad_item = True
                    log.warning("re-posting %d classifications: %s", len(missing), exc)
                except (WriteOutcomeUnknown, ServiceError) as exc:
                    if isinstance(exc, AuthError):
                        raise
                    log.warning("re-posting %d classifications: %s", len(missing), exc)
                    queued = missing
                    continue
            pending = []
            for q in missing:  # one at a time, so one refused item does not hold back the others
                try:
                    self.client.post_classifications([q.item])
                    self._posted([q.item])
                except QueryError as exc:
                    failures[q.row] = str(exc)
                    log.warning("row %d: Fritz refused %s for %s: %s", q.row, q.item["classification"],
                                q.item["obj_id"], exc)
                except (WriteOutcomeUnknown, ServiceError) as exc:
                    if isinstance(exc, AuthError):
                        raise
                    pending.append(q)
            if not pending:
                return failures
            queued, bad_item = pending, False
        still = self._missing(queued)
        if still:
            raise WriteOutcomeUnknown(f"{len(still)} classifications could not be confirmed on Fritz after "
                                      f"{RECONCILE_ROUNDS} attempts; run the upload again to finish them")
        return failures

    def _missing(self, queued: list[_Queued]) -> list[_Queued]:
        by_obj: dict[str, SourceState] = {}
        out = []
        for q in queued:
            obj = q.item["obj_id"]
            if obj not in by_obj:
                src = self.client.source(obj)
                by_obj[obj] = SourceState.from_source(src) if src is not None else None
                cached = self.cache.get(obj)
                if cached is not None and by_obj[obj] is not None:
                    cached.labels = by_obj[obj].labels
                    cached.classification_ids = by_obj[obj].classification_ids
            state = by_obj[obj]
            if state is None or not set(q.item["group_ids"]) <= state.labels.get(q.item["classification"], set()):
                out.append(q)
            else:
                self.summary.classifications_posted += 1
        return out


def _position(row: dict) -> tuple[float | None, float | None]:
    ra, dec = row.get("ra"), row.get("dec")
    if fp.is_missing(ra) or fp.is_missing(dec):
        return None, None
    return float(ra), float(dec)


def _saved(png: bytes, path: Path) -> bytes:
    from scope.tables import atomic_write

    with atomic_write(path, "wb") as fh:
        fh.write(png)
    return png


# ------------------------------------------------------------------------------------------------
def upload_classifications(cfg, opts: UploadOptions, client, *, lightcurves=None,
                           progress: bool = True) -> UploadSummary:
    """Run scope-upload-classification (see the module docstring).

    Parameters
    ----------
    cfg : scope.config.Config
    opts : UploadOptions
    client : scope.services.fritz.FritzClient
    lightcurves : LightCurveSource, optional
        Where photometry comes from (default: the configured source, opened when first needed).

    Returns
    -------
    UploadSummary
        Rows that Fritz refused are counted in ``rows_failed`` (and listed in the results file);
        they are not marked finished, so a rerun tries them again.
    """
    from tqdm import tqdm

    t0 = time.time()
    path = Path(opts.file)
    if not path.exists():
        raise DataError(f"input file not found: {path}")
    table = read_table(path)
    ext = common.normalize_format(opts.result_format)
    mapper = common.load_taxonomy_map(opts.taxonomy_map, cfg)
    classes = upload_classes(mapper, opts.classification, list(table.columns))
    n = len(table)
    start = 0 if opts.start is None else int(opts.start)
    stop = n - 1 if opts.stop is None else min(int(opts.stop), n - 1)
    if start < 0 or start > max(stop, 0) and n:
        raise DataError(f"--start {opts.start} / --stop {opts.stop} select no rows of the {n} in {path}")
    out_dir = ensure_writable_dir(Path(opts.result_dir))
    stem = f"{path.stem}_{opts.result_filetag}"
    key = common.fingerprint(file=common.file_fingerprint(path), groups=list(opts.group_ids),
                             classes=[c.column for c in classes], p=opts.p_threshold, origin=opts.classification_origin,
                             replace=opts.replace_classifications, existing=opts.use_existing_obj_id,
                             match=opts.match_ids, comment=opts.comment, survey=opts.post_survey_id,
                             phot=[opts.skip_phot, opts.post_phot_as_comment, opts.post_phasefolded_phot],
                             vote=opts.post_upvote, label=opts.check_labelled_box, ml=not opts.no_ml,
                             radius=opts.radius_arcsec, mapper=opts.taxonomy_map)
    progress_log = ProgressLog(out_dir / f"{stem}_log.jsonl", key, restart=opts.restart)
    up = Uploader(cfg, opts, client, lightcurves=lightcurves)
    summary = up.summary
    requests_before = client.requests_sent
    rows = range(start, stop + 1) if n else range(0)
    todo = [i for i in rows if i not in progress_log.done]
    summary.rows = len(rows)
    summary.rows_skipped_done = len(rows) - len(todo)
    if summary.rows_skipped_done:
        log.info("%d of %d rows were finished by an earlier run (%s); %s", summary.rows_skipped_done, len(rows),
                 progress_log.path, "nothing left to do" if not todo else f"{len(todo)} to go")
    records = table.to_dict("records")
    failed: dict[int, dict] = {}

    def finish_batch():
        refused = up.flush()
        done = []
        for i in up.unflushed:
            res = up.row_results[i]
            if i in refused:
                res.update(status="failed", message=refused[i])
                failed[i] = res
            else:
                done.append(res)
        progress_log.record(done)
        up.unflushed = []

    try:
        for k, i in enumerate(tqdm(todo, desc="upload", unit="row", disable=not progress or len(todo) < 2)):
            try:
                res = up.process_row(i, records[i], classes)
            except (AuthError, WriteOutcomeUnknown):
                raise
            except (QueryError, DataError) as exc:
                res = {"row": i, "obj_id": None, "status": "failed", "posted": 0, "present": 0,
                       "message": str(exc)}
                failed[i] = res
                log.warning("row %d: %s", i, exc)
            else:
                up.row_results[i] = res
                up.unflushed.append(i)
            if (k + 1) % max(1, opts.batch_rows) == 0:
                finish_batch()
        finish_batch()
    finally:
        progress_log.close()
        summary.rows_failed = len(failed)
        summary.requests = client.requests_sent - requests_before
        summary.seconds = time.time() - t0
        summary.files += _write_results(table, progress_log.done, failed, out_dir, stem, ext, opts)
    return summary


def _write_results(table: pd.DataFrame, done: dict, failed: dict, out_dir: Path, stem: str, ext: str,
                   opts: UploadOptions) -> list[Path]:
    rows = sorted({**done, **failed}.items())
    report = pd.DataFrame([{"row": i, **{k: v for k, v in r.items() if k != "row"}} for i, r in rows],
                          columns=["row", "obj_id", "status", "posted", "present", "message"])
    written = [write_table(report, out_dir / f"{stem}_results{ext}")]
    if opts.write_obj_id:
        copy = table.copy()
        ids = copy["obj_id"].astype(object).to_numpy() if "obj_id" in copy.columns else np.full(len(copy), None)
        for i, r in done.items():
            if r.get("obj_id") and 0 <= i < len(copy):
                ids[i] = r["obj_id"]
        copy["obj_id"] = ids
        copy.attrs = dict(table.attrs)
        written.append(write_table(copy, out_dir / f"{stem}{ext}"))
    return written


__all__ = ["UploadOptions", "UploadSummary", "Uploader", "upload_classifications"]
