"""One gcn-cronjob run: GCN events -> light curves near their sources -> features -> predictions -> Fritz.

For every event (``--dateobs``, or every event of the last ``--daysAgo`` days, newest first):

1. **download**: the Fritz sources in its localization detected within ``--days-range`` days, and
   the ZTF light curves within ``--radius-arcsec`` of each (scope-download-gcn-sources);
2. the light curves not posted yet for the event's type (the checkpoint; all with
   ``--ignore-checkpoint``); none -> the event is up to date;
3. **features** of those without any (:mod:`scope.gcn.features`; every event's batch first, so
   Slurm runs them side by side);
4. **inference** with the configured groups, **combine** (select-fritz-sample, combine-preds;
   :mod:`scope.gcn.predict`);
5. **post** the classifications above ``--p-threshold`` to the event type's groups
   (:mod:`scope.gcn.post`), unless ``--doNotPost``; then the light curves go into the checkpoint.

A step that fails is logged with the event and its sources, marks the event failed (the other
events go on) and makes the exit status non-zero; nothing of that event enters the checkpoint, so
the next run does the remaining work, and posts nothing twice (the upload checks Fritz first).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from scope.errors import ScopeError
from scope.gcn.checkpoint import SourceCheckpoint
from scope.gcn.events import GcnEvent, event_at, recent_events
from scope.gcn.paths import Layout
from scope.gcn.runtime import EXIT_BUSY, RunLog, RunStopped, run_lock, stop_after, stop_on_sigterm
from scope.gcn.settings import EventType, PostTarget, post_target

log = logging.getLogger(__name__)

STEPS = ("download", "features", "inference", "combine", "post")
_SHOWN_IDS = 8


@dataclass
class CronOptions:
    """The settings of one run (gcn-cronjob's flags merged with config ``gcn``)."""

    days_ago: float = 7.0
    dateobs: str | None = None
    query_group_ids: Sequence[int] | None = None
    post_group_ids: Sequence[int] | None = None
    days_range: float = 7.0
    radius_arcsec: float = 0.5
    taxonomy_map: str = "fritz_mapper.json"
    p_threshold: float = 0.7
    agg_method: str = "mean"
    do_not_post: bool = False
    checkpoint_filename: str = "gcn_sources_checkpoint.json"
    checkpoint_refresh_days: float = 180.0
    ignore_checkpoint: bool = False
    timeout_seconds: float | None = None
    log_dir: str = "gcn_logs"
    keep_logs: int = 200


@dataclass
class CronSetup:
    """What a run works with, built once the run holds the lock."""

    client: Any                   # scope.services.fritz.FritzClient
    lightcurves: Any              # LightCurveSource (for the cone searches)
    models: Any                   # scope.gcn.predict.ModelGroups
    features: Any                 # LocalFeatures or SlurmFeatures
    event_types: Sequence[EventType]
    default_groups: Sequence[int]


@dataclass
class EventReport:
    """What happened to one event in this run."""

    event: GcnEvent
    target: PostTarget
    status: str = "not reached"   # done | up to date | not posted | failed | stopped | not reached
    light_curves: int = 0
    new: list[int] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    failed_step: str = ""
    error: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    classifications: int = 0
    comments: int = 0

    @property
    def label(self) -> str:
        return f"GCN event {self.event.describe()} [{self.target.kind}]"

    def timeline(self) -> str:
        times = ", ".join(f"{s} {self.seconds[s]:.1f} s" for s in STEPS if s in self.seconds)
        what = {"done": f"{self.classifications} classifications and {self.comments} comments posted to "
                        f"group(s) {', '.join(map(str, self.target.group_ids))}",
                "not posted": "not posted (--doNotPost)", "up to date": "nothing new",
                "failed": f"FAILED in {self.failed_step}", "stopped": f"stopped in {self.failed_step}",
                "not reached": "not reached"}[self.status]
        return (f"{self.label}: {self.light_curves} light curves ({len(self.new)} new); "
                f"{times or 'no steps'}; {what}")


@dataclass
class CronSummary:
    """The run as a whole."""

    events: list[EventReport] = field(default_factory=list)
    seconds: float = 0.0
    stopped: str | None = None
    stop_code: int = 1
    error: str | None = None
    log_file: Path | None = None

    def count(self, status: str) -> int:
        return sum(1 for r in self.events if r.status == status)

    @property
    def exit_code(self) -> int:
        if self.stopped:
            return self.stop_code
        return 1 if self.error or self.count("failed") else 0

    def line(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("done", "not posted", "up to date", "failed", "stopped",
                                                   "not reached") if self.count(s)]
        new = sum(len(r.new) for r in self.events)
        posted = sum(r.classifications for r in self.events)
        text = (f"gcn-cronjob: {len(self.events)} events ({', '.join(parts) or 'none'}), {new} new light curves, "
                f"{posted} classifications posted in {self.seconds:.1f} s")
        if self.stopped:
            text += f"; {self.stopped}"
        if self.error:
            text += f"; run failed: {self.error}"
        if self.log_file:
            text += f"; log {self.log_file}"
        return text


def _shown(values, n: int = _SHOWN_IDS) -> str:
    values = sorted(str(v) for v in values)
    return ", ".join(values[:n]) + (f" and {len(values) - n} more" if len(values) > n else "")


class CronRun:
    """The steps of :func:`run_cronjob` (see the module docstring)."""

    def __init__(self, cfg, opts: CronOptions, layout: Layout, setup: CronSetup, summary: CronSummary):
        self.cfg, self.opts, self.layout, self.setup, self.summary = cfg, opts, layout, setup, summary
        self.checkpoint: SourceCheckpoint | None = None

    # -- failures ---------------------------------------------------------------------------------
    def step(self, report: EventReport, name: str, fn: Callable[[], Any]) -> tuple[bool, Any]:
        """Run one step of one event; a failure is logged with the event's sources and marks it failed."""
        t = time.monotonic()
        try:
            return True, fn()
        except RunStopped:
            report.status, report.failed_step = "stopped", name
            raise
        except ScopeError as exc:
            self.fail(report, name, str(exc))
        except Exception as exc:  # a bug: logged with its traceback, and the other events still run
            log.error("%s: %s raised", report.label, name, exc_info=True)
            self.fail(report, name, f"{type(exc).__name__}: {exc}")
        finally:
            report.seconds[name] = report.seconds.get(name, 0.0) + time.monotonic() - t
        return False, None

    def fail(self, report: EventReport, name: str, message: str) -> None:
        report.status, report.failed_step, report.error = "failed", name, message
        sources = ""
        if report.names:
            sources = f" (Fritz sources {_shown(report.names)}; light curves {_shown(report.new)})"
        log.error("%s: %s failed%s: %s", report.label, name, sources, message)

    # -- the run ----------------------------------------------------------------------------------
    def events(self) -> list[GcnEvent]:
        client = self.setup.client
        if self.opts.dateobs:
            return [event_at(client, self.opts.dateobs)]
        return recent_events(client, self.opts.days_ago)

    def run(self) -> None:
        opts = self.opts
        self.checkpoint = SourceCheckpoint(self.layout.base / opts.checkpoint_filename,
                                           refresh_days=opts.checkpoint_refresh_days)
        events = self.events()
        log.info("%d GCN event(s) %s", len(events),
                 f"at {opts.dateobs}" if opts.dateobs else f"in the last {opts.days_ago:g} days")
        reports = [EventReport(e, post_target(e.tags, self.setup.event_types, self.setup.default_groups,
                                              opts.post_group_ids)) for e in events]
        self.summary.events = reports
        work = []
        for r in reports:
            planned = self.plan(r)
            if planned is not None:
                work.append((r, planned))
        self.features([(r, batch) for r, (_, batch) in work if batch is not None])
        for r, (_, batch) in work:
            if r.status != "failed":
                self.finish(r, batch)
            log.info(r.timeline())

    def plan(self, r: EventReport):
        """Steps 1-2 and the event's feature batch; None when there is nothing (more) to do."""
        from scope.fritz.gcn import download_gcn_sources
        from scope.gcn.features import plan_batch

        opts, paths = self.opts, self.layout.event(r.event.save_name)
        ok, result = self.step(r, "download", lambda: download_gcn_sources(
            self.setup.client, self.setup.lightcurves, dateobs=r.event.dateobs, group_ids=opts.query_group_ids,
            days_range=opts.days_range, radius_arcsec=opts.radius_arcsec,
            save_filename=str(self.layout.base / self.layout.save_filename)))
        if not ok:
            log.info(r.timeline())
            return None
        ids = result.table
        all_ids = set(ids["ztf_id"].astype(np.int64).tolist())
        done = set() if opts.ignore_checkpoint else self.checkpoint.done(r.target.checkpoint_key)
        r.light_curves = len(all_ids)
        r.new = sorted(all_ids - done)
        names = dict(zip(ids["ztf_id"].astype(np.int64), ids["fritz_name"].astype(str)))
        r.names = {names[i] for i in r.new}
        log.info("%s: %d Fritz sources in the localization, %d light curves near them, %d not posted yet",
                 r.label, result.n_fritz_sources, len(all_ids), len(r.new))
        if not r.new:
            r.status = "up to date"
            log.info(r.timeline())
            return None
        ok, batch = self.step(r, "features", lambda: plan_batch(r.label, paths, ids, set(r.new)))
        return (ids, batch) if ok else None

    def features(self, batches) -> None:
        """Step 3 for every event's batch: one after the other here, all at once on Slurm."""
        from scope.gcn.features import SlurmFeatures

        runner = self.setup.features
        if not batches:
            return
        log.info("features of %d light curves of %d event(s) %s", sum(b.n for _, b in batches), len(batches),
                 runner.where)
        groups = [batches] if isinstance(runner, SlurmFeatures) else [[one] for one in batches]
        for group in groups:
            t = time.monotonic()
            try:
                failed = runner.run([b for _, b in group])
            except RunStopped:
                for r, _ in group:
                    r.status, r.failed_step = "stopped", "features"
                raise
            except ScopeError as exc:
                failed = {b.key: str(exc) for _, b in group}
            finally:
                for r, _ in group:
                    r.seconds["features"] = r.seconds.get("features", 0.0) + time.monotonic() - t
            for r, b in group:
                if b.key in failed:
                    self.fail(r, "features", failed[b.key])

    def finish(self, r: EventReport, batch) -> None:
        """Steps 3 (merge), 4 and 5 of one event."""
        from scope.gcn.features import feature_ids, merge_batch
        from scope.gcn.post import post_event
        from scope.gcn.predict import predict, select_and_combine

        opts, paths, models = self.opts, self.layout.event(r.event.save_name), self.setup.models
        if batch is not None:
            ok, added = self.step(r, "features", lambda: merge_batch(paths.features, batch.output))
            if not ok:
                return
            log.info("%s: %d of %d new light curves have features (the others were dropped by generate-features)",
                     r.label, added, batch.n)
        have = feature_ids(paths.features) & set(r.new)
        if have:
            ok, _ = self.step(r, "inference", lambda: predict(self.cfg, paths, models))
            if not ok:
                return
            ok, _ = self.step(r, "combine", lambda: select_and_combine(
                self.cfg, paths, r.event.dateobs, models, agg_method=opts.agg_method, p_threshold=opts.p_threshold))
            if not ok:
                return
        if opts.do_not_post:
            r.status = "not posted"
            return
        if have:
            ok, result = self.step(r, "post", lambda: post_event(
                self.cfg, self.setup.client, paths, r.names, r.target.group_ids, taxonomy_map=opts.taxonomy_map,
                p_threshold=opts.p_threshold, radius_arcsec=opts.radius_arcsec))
            if not ok:
                return
            r.classifications, r.comments = result.classifications, result.comments
            if result.failed_rows:
                self.fail(r, "post", f"Fritz refused {result.failed_rows} of {result.rows} rows (see "
                                     f"{result.results_file}); they are tried again next run")
                return
        self.checkpoint.add(r.target.checkpoint_key, r.new)
        r.status = "done"


def run_cronjob(cfg, opts: CronOptions, layout: Layout, build: Callable[[], CronSetup]) -> int:
    """Run gcn-cronjob: take the lock, open the run log, build the setup, process the events.

    Parameters
    ----------
    cfg : scope.config.Config
    opts : CronOptions
    layout : Layout
        Folder names, under the project folder ``layout.base``.
    build : callable
        Returns the :class:`CronSetup` (called once the lock is held, so that a run that finds
        another one working does nothing at all).

    Returns
    -------
    int
        0 when every event was processed; 1 when a step (or the run) failed; ``EXIT_BUSY`` (75)
        when another run holds the lock; 124 after ``--timeout``; 143 after SIGTERM.
    """
    checkpoint = (layout.base / opts.checkpoint_filename).resolve()
    with run_lock(checkpoint) as holder:
        if holder is not None:
            log.warning("gcn-cronjob: another run (pid %s) is working on %s; this one exits", holder, checkpoint)
            return EXIT_BUSY
        with RunLog(layout.base / opts.log_dir, keep=opts.keep_logs) as runlog:
            t0 = time.monotonic()
            summary = CronSummary(log_file=runlog.path)
            try:
                with stop_on_sigterm(), stop_after(opts.timeout_seconds):
                    CronRun(cfg, opts, layout, build(), summary).run()
            except RunStopped as exc:
                summary.stopped, summary.stop_code = exc.reason, exc.exit_code
                log.error("gcn-cronjob: %s after %.0f s; the next run goes on from here", exc.reason,
                          time.monotonic() - t0)
            except ScopeError as exc:
                summary.error = str(exc)
                log.error("gcn-cronjob: %s", exc)
            summary.seconds = time.monotonic() - t0
            log.info(summary.line())
            return summary.exit_code
