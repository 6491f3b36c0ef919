"""Features of the light curves near an event that do not have them yet: here, or as Slurm jobs.

Each event keeps one feature file. A run computes only the light curves still missing from it (a
*batch*: its ids in ``fg_sources/<d>_<digest>.parquet``, the digest naming exactly those ids), with
generate-features' own options (``--doSpecificIDs --fg-dataset <batch ids>`` plus every
generate-features flag given to gcn-cronjob), then merges the batch's file into the event's file
(atomically) and removes it. A batch file left by a stopped run is merged first, so finished work
is never redone; generate-features' checkpoints make a half-done batch resume where it stopped.

* :class:`LocalFeatures` runs generate-features in this process, batch after batch;
* :class:`SlurmFeatures` writes one job script (``<features dir>/slurm/gcn_features.sub``, the
  batch key arriving as ``$FID``) and submits every batch through the Slurm layer's submission
  loop, which waits for the jobs (polling, as ``sbatch --wait`` would, but surviving a lost
  connection), resubmits failed ones up to ``slurm.max_retries`` times and never submits a batch
  twice while its job runs. The jobs run with this interpreter (``<python> -m
  tools.generate_features``), so they need no activated environment on the shared file system.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from scope.gcn.paths import EventPaths, Layout
from scope.tables import read_table, write_table

log = logging.getLogger(__name__)

JOB_VARIABLE = "FID"
JOB_SCRIPT = "gcn_features.sub"


@dataclass
class FeatureBatch:
    """Light curves of one event to compute in this run."""

    label: str          # the event, for log lines
    paths: EventPaths
    key: str
    ids_file: Path
    n: int

    @property
    def output(self) -> Path:
        return self.paths.batch_features(self.key)


def feature_ids(path: Path) -> set[int]:
    """Light-curve ids in a feature file (none when it does not exist or has no rows)."""
    if not Path(path).exists():
        return set()
    table = read_table(path, columns=None)
    if "_id" not in table.columns:
        return set()
    return set(pd.to_numeric(table["_id"], errors="coerce").dropna().astype(np.int64).tolist())


def merge_batch(event_file: Path, batch_file: Path) -> int:
    """Add a batch's features to the event's file (a light curve computed again replaces its old
    row), then remove the batch file and its checkpoint folder; returns the rows added."""
    batch = read_table(batch_file)
    added = 0
    if "_id" in batch.columns and len(batch):
        if Path(event_file).exists():
            old = read_table(event_file)
            if "_id" in old.columns and len(old):
                old = old[~old["_id"].isin(batch["_id"])]
                merged = pd.concat([old, batch], ignore_index=True)
            else:
                merged = batch
        else:
            merged = batch
        merged.attrs = dict(batch.attrs)
        write_table(merged, event_file)
        added = len(batch)
    parts = batch_file.parent / f".{batch_file.stem}.parts"
    batch_file.unlink()
    shutil.rmtree(parts, ignore_errors=True)
    return added


def plan_batch(label: str, paths: EventPaths, ids: pd.DataFrame, wanted: set[int]) -> FeatureBatch | None:
    """The batch of ``wanted`` light curves without features (None when every one has them).

    ``ids`` is the event's source list (``ztf_id, fritz_name, coordinates``); the batch's list is
    its rows for the missing light curves.
    """
    for stale in paths.stale_batches():
        n = merge_batch(paths.features, stale)
        log.info("%s: merged %d feature rows a stopped run had computed (%s)", label, n, stale.name)
    missing = sorted(set(wanted) - feature_ids(paths.features))
    if not missing:
        return None
    digest = hashlib.sha256(np.asarray(missing, dtype=np.int64).tobytes()).hexdigest()[:10]
    key = paths.batch_key(digest)
    rows = ids[ids["ztf_id"].astype(np.int64).isin(missing)].reset_index(drop=True)
    rows.attrs = dict(ids.attrs)
    ids_file = paths.batch_ids(key)
    if not ids_file.exists():
        write_table(rows, ids_file)
    return FeatureBatch(label, paths, key, ids_file, len(rows))


def batch_arguments(layout: Layout, ids_file: str, filename: str) -> list[str]:
    """The generate-features flags that point a run at one batch."""
    return ["--doSpecificIDs", "--fg-dataset", ids_file, "--dirname", layout.features_dirname, "--filename",
            filename, "--output-dir", str(layout.base)]


class LocalFeatures:
    """generate-features in this process.

    Parameters
    ----------
    cfg : scope.config.Config
    layout : Layout
    tokens : list of str
        generate-features flags common to every batch (the user's, plus ``--doCPU`` by default).
    options_for : callable
        generate-features argv -> :class:`scope.generation.GenerateOptions` (generate-features'
        own parser; given by the command so that the library does not depend on it).
    """

    where = "here"

    def __init__(self, cfg, layout: Layout, tokens: Sequence[str], options_for: Callable):
        self.cfg, self.layout, self.tokens, self.options_for = cfg, layout, list(tokens), options_for

    def run(self, batches: Sequence[FeatureBatch]) -> dict[str, str]:
        """Compute every batch; returns ``{batch key: error}`` for those that failed."""
        from scope.errors import ScopeError
        from scope.generation.run import generate_features

        failed = {}
        for b in batches:
            argv = self.tokens + batch_arguments(self.layout, str(b.ids_file), EventPaths.batch_filename(b.key))
            try:
                opts = self.options_for(argv)
                opts.progress = False
                _, summary = generate_features(self.cfg, opts, base=self.layout.base)
                log.info("%s: %s", b.label, summary.line())
            except ScopeError as exc:
                failed[b.key] = str(exc)
            except Exception as exc:  # a bug: reported with its traceback; the other batches still run
                log.error("%s: generate-features failed", b.label, exc_info=True)
                failed[b.key] = f"{type(exc).__name__}: {exc}"
        return failed


class SlurmFeatures:
    """generate-features as Slurm jobs (see the module docstring).

    Parameters
    ----------
    cluster : scope.hpc.scripts.Cluster
        Resources and preamble of the jobs.
    slurm : scope.hpc.slurm.Slurm
    poll_seconds : float
        Seconds between two looks at the jobs.
    max_retries : int
        Resubmissions of a failed batch job.
    config_tokens : list of str
        ``--config-path <file>`` for the jobs.
    """

    where = "as Slurm jobs"

    def __init__(self, cfg, layout: Layout, tokens: Sequence[str], *, cluster, slurm, poll_seconds: float = 60.0,
                 max_retries: int = 2, config_tokens: Sequence[str] = ()):
        self.cfg, self.layout, self.tokens = cfg, layout, list(tokens)
        self.cluster, self.slurm = cluster, slurm
        self.poll_seconds, self.max_retries = float(poll_seconds), int(max_retries)
        self.config_tokens = list(config_tokens)

    def job_line(self) -> str:
        from scope.hpc.passthrough import shell_line

        root = self.layout.features_root
        ids_file = str(root / "fg_sources" / f"${JOB_VARIABLE}.parquet")
        tokens = [sys.executable, "-m", "tools.generate_features", *self.config_tokens, *self.tokens,
                  *batch_arguments(self.layout, ids_file, EventPaths.batch_filename(f"${JOB_VARIABLE}")), "--quiet"]
        return shell_line(tokens)

    def write_script(self) -> Path:
        from scope.hpc.jobspec import task_variable_lines
        from scope.hpc.scripts import prepare_folder, write_script

        slurm_dir, logs = prepare_folder(self.layout.features_root)
        commands = task_variable_lines(JOB_VARIABLE, fallback=[]) + [self.job_line()]
        spec = self.cluster.work_spec(project=self.layout.base, logs=logs, commands=commands)
        return write_script(slurm_dir / JOB_SCRIPT, spec)

    def run(self, batches: Sequence[FeatureBatch]) -> dict[str, str]:
        """Submit every batch and wait for them; returns ``{batch key: error}`` for those that failed.

        Raises
        ------
        scope.hpc.slurm.SlurmError
            Slurm refused the jobs or could not be reached (no batch is done then).
        """
        from scope.hpc.features import parquet_readable
        from scope.hpc.loop import LoopOptions, SubmissionLoop, WorkItem

        if not batches:
            return {}
        script = self.write_script()
        items = [WorkItem(key=b.key, label=f"{b.label} ({b.n} light curves)",
                          is_done=lambda p=b.output: parquet_readable(p)) for b in batches]
        opts = LoopOptions(submit=True, run_parallel=True, max_instances=None, wait_time_minutes=self.poll_seconds / 60,
                           submit_interval_seconds=0.0, max_retries=self.max_retries, use_array=False)
        summary = SubmissionLoop(script, items, JOB_VARIABLE, self.slurm, opts, "gcn-cronjob features").run()
        if summary.locked_by:
            return {b.key: f"another submission loop (pid {summary.locked_by}) holds {script.parent}" for b in batches}
        failed = {}
        for item, rec in summary.gave_up:
            last = rec.last
            where = (last.log_err or last.log_out) if last else None
            failed[item.key] = (f"Slurm job {last.job if last else '?'} {last.state if last else 'failed'}"
                                f"{f' ({last.reason})' if last and last.reason else ''} after {len(rec.attempts)} "
                                f"attempt(s){f'; log: {where}' if where else ''}")
        return failed

