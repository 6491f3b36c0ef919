"""The submission loop shared by generate-features / train-algorithm / run-inference job submission.

It is safe to rerun at any time, from cron or by hand:

* **completed work is never redone**: an item whose output exists and is readable is done;
* **work in flight is never submitted twice**: every submission's job id is recorded
  (:mod:`scope.hpc.ledger`) and its state asked of Slurm; a second loop started while one runs
  finds the lock taken and does nothing;
* **failures are retried, then reported**: a job that failed, timed out, ran out of memory, was
  cancelled, or ended without a readable output is resubmitted up to ``max_retries`` times (a
  timed-out job with twice the time, an out-of-memory one with twice the memory), then reported
  with its log path, and the loop exits non-zero;
* **throttled**: at most ``max_instances`` jobs run at once. Work goes out as Slurm job arrays
  whose ``%`` throttle enforces the limit (the task list of each array is a file, so any number of
  items fits whatever ``MaxArraySize`` is), or as single jobs ``submit_interval`` apart;
* with ``run_parallel`` off the items run one after the other in this process's allocation.

Each check logs one progress line (done / running / pending / failed); the loop ends when every
item is done or has used up its retries. Nothing reads standard input.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from scope.hpc.jobspec import format_slurm_time, memory_gigabytes, parse_slurm_time, read_header
from scope.hpc.ledger import Attempt, ItemRecord, Ledger, LoopLock, now
from scope.hpc.slurm import Slurm, SlurmUnavailable, SubmitLimitReached, log_paths
from scope.tables import atomic_write

log = logging.getLogger(__name__)

#: variables a job script reads its work item from; cleared from what jobs inherit
WORK_VARIABLES = ("QID", "TID", "FID", "SCOPE_TASK_LIST")


@dataclass
class WorkItem:
    """One unit of work: a quadrant-file row, a class to train, a field to score.

    Parameters
    ----------
    key : str
        The value the job script receives (``$QID``/``$TID``/``$FID``).
    label : str
        What a person calls it ("field 301 ccd 3 quad 1").
    is_done : callable
        True when the item's output exists and is readable.
    memory_gb, time : optional
        Resources of this item when they differ from the script's (sized by the item).
    done_by_job : bool
        The item leaves no file to check (wandb sweeps): done when its job completed.
    """

    key: str
    label: str
    is_done: Callable[[], bool]
    memory_gb: float | None = None
    time: str | None = None
    done_by_job: bool = False


@dataclass
class LoopOptions:
    """How a loop submits (see the module docstring)."""

    submit: bool = True
    run_parallel: bool = True
    max_instances: int | None = 20
    wait_time_minutes: float = 5.0
    submit_interval_seconds: float = 60.0
    max_retries: int = 2
    use_array: bool = True
    max_array_size: int | None = None   # default: 2 x max_instances (at most 1000); 1000 unthrottled
    once: bool = False
    reset: bool = False
    max_unreachable_checks: int = 5


@dataclass
class LoopSummary:
    """Where the work stands after a loop (or one check)."""

    name: str
    total: int = 0
    done: int = 0
    running: int = 0
    pending: int = 0
    retrying: int = 0
    gave_up: list = field(default_factory=list)    # (WorkItem, ItemRecord)
    waiting: int = 0
    submitted: int = 0
    resubmitted: int = 0
    locked_by: str = ""

    @property
    def ok(self) -> bool:
        return not self.gave_up

    def progress(self) -> str:
        return (f"{self.name}: {self.done} of {self.total} done, {self.running} running, {self.pending} pending, "
                f"{self.retrying} failed (to retry), {len(self.gave_up)} gave up, {self.waiting} to submit")

    def line(self) -> str:
        if self.locked_by:
            return f"{self.name}: another submission loop is running (pid {self.locked_by}); nothing done"
        return (f"{self.name}: {self.done} of {self.total} done, {self.running + self.pending} in flight, "
                f"{len(self.gave_up)} gave up; {self.submitted} jobs submitted in this run "
                f"({self.resubmitted} resubmissions)")


class SubmissionLoop:
    """Submit and watch the jobs of one batch script until its items are done.

    Parameters
    ----------
    script : path
        The job script (``slurm.sub``); its ``#SBATCH`` lines give the job name, log paths,
        memory and time, and its folder holds ``jobs.json``, ``jobs.lock`` and ``tasks/``.
    items : sequence of WorkItem
    variable : str
        ``QID``, ``TID`` or ``FID``: how the script receives an item.
    slurm : Slurm
    options : LoopOptions
    name : str
        The command, for log lines.
    """

    def __init__(self, script: str | os.PathLike, items: Sequence[WorkItem], variable: str, slurm: Slurm,
                 options: LoopOptions, name: str, *, sleep: Callable[[float], None] = time.sleep):
        self.script = Path(script).resolve()
        self.folder = self.script.parent
        self.items = list(items)
        self.variable = variable
        self.slurm = slurm
        self.opts = options
        self.name = name
        self.sleep = sleep
        self.header = read_header(self.script.read_text())
        self.ledger = Ledger(self.folder)
        self._done: set[str] = set()
        self._last_submit = -math.inf
        self._unreachable = 0
        self._submitted = 0
        self._resubmitted = 0

    # -- the loop -------------------------------------------------------------------------------
    def run(self) -> LoopSummary:
        """Check, submit, wait; until done (or one round with ``once``, or a status check only)."""
        lock = LoopLock(self.folder)
        if not lock.acquire():
            summary = LoopSummary(self.name, total=len(self.items), locked_by=lock.holder or "?")
            log.warning(summary.line())
            return summary
        try:
            if self.opts.reset:
                self._reset()
            while True:
                summary = self._check_or_wait()
                if summary is None:
                    continue
                log.info(summary.progress())
                if not self.opts.submit:
                    break
                blocked = False
                if self.opts.run_parallel:
                    try:
                        self._submit_round()
                    except SubmitLimitReached as exc:
                        blocked = True
                        log.warning("%s; the rest is submitted when queued jobs have finished", exc)
                    except SlurmUnavailable as exc:
                        blocked = True
                        self._unreachable += 1
                        if self._unreachable >= self.opts.max_unreachable_checks:
                            raise
                        log.warning("%s; submitting again at the next check", exc)
                elif self._run_next_local():
                    continue
                summary = self._check_or_wait()
                if summary is None:
                    continue
                in_flight = summary.running + summary.pending
                if not in_flight and not summary.waiting + summary.retrying:
                    break
                if self.opts.once:
                    log.info(summary.progress())
                    break
                if in_flight or blocked:
                    self.sleep(self.opts.wait_time_minutes * 60)
        finally:
            lock.release()
        summary.submitted, summary.resubmitted = self._submitted, self._resubmitted
        for item, rec in summary.gave_up:
            last = rec.last
            where = last.log_err or last.log_out if last else None
            log.warning("%s: gave up on %s after %d attempts (last: %s%s)%s", self.name, item.label,
                        len(rec.attempts), last.state if last else "?",
                        f", {last.reason}" if last and last.reason else "",
                        f"; log: {where}" if where else "")
        return summary

    # -- state ------------------------------------------------------------------------------------
    def _check_or_wait(self) -> LoopSummary | None:
        """:meth:`_check`; while Slurm cannot be asked, wait (``None``) and assume nothing, up to
        ``max_unreachable_checks`` times in a row."""
        try:
            summary = self._check()
        except SlurmUnavailable as exc:
            self._unreachable += 1
            if self._unreachable >= self.opts.max_unreachable_checks:
                raise
            log.warning("%s; nothing assumed about running jobs, next check in %.3g min", exc,
                        self.opts.wait_time_minutes)
            self.sleep(self.opts.wait_time_minutes * 60)
            return None
        self._unreachable = 0
        return summary

    def _item_done(self, item: WorkItem, rec: ItemRecord | None) -> bool:
        if item.key in self._done:
            return True
        if item.done_by_job:
            ok = bool(rec and rec.done)
        else:
            ok = bool(item.is_done())
        if ok:
            self._done.add(item.key)
        return ok

    def _check(self) -> LoopSummary:
        """Ask Slurm about every attempt in flight, settle ended ones, count everything."""
        records = {it.key: self.ledger.items.get(it.key) for it in self.items}
        in_flight = [(it, rec.last) for it in self.items for rec in [records[it.key]]
                     if rec and rec.last and not rec.last.ended and it.key not in self._done]
        jobs = [a.job for _, a in in_flight if a.job != "local"]
        states = self.slurm.states(jobs) if jobs else {}
        stuck = sorted({states[a.job].reason for _, a in in_flight if a.job in states and states[a.job].never_starts})
        if stuck:
            self._refuse_stuck(in_flight, states, stuck)
        changed = False
        for item, attempt in in_flight:
            if attempt.job == "local":  # a local run whose loop was killed
                self._settle(item, records[item.key], attempt, "INTERRUPTED")
                changed = True
                continue
            state = states.get(attempt.job)
            if state is None:
                continue
            if state.active:
                if attempt.state != state.state:
                    attempt.state, attempt.reason, changed = state.state, state.reason, True
                continue
            self._settle(item, records[item.key], attempt, state.state, exit_code=state.exit_code)
            changed = True
        if changed:
            self.ledger.save()
        return self._count(records)

    def _refuse_stuck(self, in_flight, states, reasons) -> None:
        """Jobs Slurm will never start: cancel them and stop, naming the script and the reason."""
        from scope.hpc.slurm import SubmissionRefused

        jobs = [a.job for _, a in in_flight if a.job in states and states[a.job].never_starts]
        self.slurm.cancel(jobs)
        for item, attempt in in_flight:
            if attempt.job in jobs:
                attempt.ended, attempt.failed, attempt.state = True, True, "CANCELLED"
                attempt.reason = f"never started: {states[attempt.job].reason}"
        self.ledger.save()
        raise SubmissionRefused(
            f"Slurm accepted {self.script} but will never start its jobs as asked ({', '.join(reasons)}: more cores, "
            f"memory, nodes or time than the partition allows?); cancelled {len(jobs)} jobs")

    def _settle(self, item: WorkItem, rec: ItemRecord, attempt: Attempt, state: str, exit_code: str = "") -> None:
        attempt.ended = True
        attempt.state = state
        if item.done_by_job:
            ok = state == "COMPLETED"
        else:
            self._done.discard(item.key)
            ok = bool(item.is_done())
        attempt.failed = not ok
        rec.done = ok
        if ok:
            self._done.add(item.key)
            attempt.reason = ""
        else:
            attempt.reason = {"COMPLETED": "ended without a readable output",
                              "UNKNOWN": "Slurm no longer knows the job and there is no output",
                              "INTERRUPTED": "the loop running it was stopped"}.get(
                state, f"exit code {exit_code}" if exit_code and exit_code != "0:0" else "")
            log.warning("%s: %s: job %s %s%s", self.name, item.label, attempt.job, state,
                        f" ({attempt.reason})" if attempt.reason else "")

    def _count(self, records: dict) -> LoopSummary:
        s = LoopSummary(self.name, total=len(self.items))
        for item in self.items:
            rec = records.get(item.key) or self.ledger.items.get(item.key)
            last = rec.last if rec else None
            if last is not None and not last.ended:
                if last.state == "RUNNING" or last.state in ("COMPLETING", "CONFIGURING"):
                    s.running += 1
                else:
                    s.pending += 1
            elif self._item_done(item, rec):
                s.done += 1
            elif rec is not None and rec.failures > self.opts.max_retries:
                s.gave_up.append((item, rec))
            elif rec is not None and last is not None and last.failed:
                s.retrying += 1
            else:
                s.waiting += 1
        return s

    def _candidates(self) -> list[WorkItem]:
        out = []
        for item in self.items:
            rec = self.ledger.items.get(item.key)
            if item.key in self._done:
                continue
            if rec and rec.last and not rec.last.ended:
                continue
            if rec and rec.failures > self.opts.max_retries:
                continue
            if self._item_done(item, rec):
                continue
            out.append(item)
        return out

    def _reset(self) -> None:
        """Forget attempts of items that gave up (they get their retries again)."""
        n = 0
        for item in self.items:
            rec = self.ledger.items.get(item.key)
            if rec and rec.failures > self.opts.max_retries and (not rec.last or rec.last.ended):
                rec.attempts = []
                n += 1
        if n:
            self.ledger.save()
        log.info("%s: --reset-running: %d items that had given up get their retries again", self.name, n)

    # -- resources ----------------------------------------------------------------------------
    def _base_resources(self, item: WorkItem) -> tuple[float | None, str | None]:
        mem = item.memory_gb
        if mem is None and self.header.get("mem"):
            mem = memory_gigabytes(self.header["mem"])
        return mem, item.time or self.header.get("time")

    def _resources(self, item: WorkItem) -> tuple[float | None, str | None]:
        """Memory and time of the next attempt: doubled after running out of them."""
        mem, limit = self._base_resources(item)
        rec = self.ledger.items.get(item.key)
        last = rec.last if rec else None
        if last is not None and last.failed:
            if last.state == "OUT_OF_MEMORY":
                mem = 2 * (last.memory_gb or mem or 4.0)
            if last.state == "TIMEOUT" and (last.time or limit):
                seconds = parse_slurm_time(last.time or limit)
                if seconds:
                    limit = format_slurm_time(2 * seconds)
        return mem, limit

    def _options(self, mem: float | None, limit: str | None) -> list[str]:
        from scope.hpc.jobspec import format_memory

        out = []
        header_mem = memory_gigabytes(self.header["mem"]) if self.header.get("mem") else None
        if mem is not None and mem != header_mem:
            out.append(f"--mem={format_memory(mem)}")
        if limit is not None and limit != self.header.get("time"):
            out.append(f"--time={limit}")
        return out

    # -- submitting ---------------------------------------------------------------------------
    def _in_flight_bound(self) -> int:
        """Most jobs that can run at once from what is in flight (arrays count up to their throttle)."""
        per_array: dict[str, int] = {}
        single = 0
        for rec in self.ledger.items.values():
            last = rec.last
            if last is None or last.ended or last.job == "local":
                continue
            if "_" in last.job:
                per_array[last.job.split("_")[0]] = per_array.get(last.job.split("_")[0], 0) + 1
            else:
                single += 1
        bound = single
        for array, n in per_array.items():
            throttle = (self.ledger.arrays.get(array) or {}).get("throttle")
            bound += min(n, int(throttle)) if throttle else n
        return bound

    def _wait_interval(self) -> None:
        gap = self.opts.submit_interval_seconds - (time.monotonic() - self._last_submit)
        if gap > 0:
            self.sleep(gap)

    def _submit_round(self) -> int:
        candidates = self._candidates()
        if not candidates:
            return 0
        limit = self.opts.max_instances
        capacity = math.inf if not limit else limit - self._in_flight_bound()
        if capacity <= 0:
            return 0
        n = 0
        if self.opts.use_array:
            groups: dict[tuple, list[WorkItem]] = {}
            for item in candidates:
                groups.setdefault(self._resources(item), []).append(item)
            size = self._array_size()
            for (mem, limit_time), members in groups.items():
                for start in range(0, len(members), size):
                    if capacity <= 0:
                        return n
                    chunk = members[start:start + size]
                    throttle = None if capacity == math.inf else int(capacity)
                    self._submit_array(chunk, mem, limit_time, throttle)
                    n += len(chunk)
                    capacity -= len(chunk) if throttle is None else min(throttle, len(chunk))
        else:
            for item in candidates[: None if capacity == math.inf else int(capacity)]:
                self._submit_single(item, *self._resources(item))
                n += 1
        return n

    def _array_size(self) -> int:
        """Tasks per array: small enough for sites' limits on queued jobs (each task counts), big
        enough to keep ``max_instances`` busy between two checks."""
        if self.opts.max_array_size:
            return max(1, int(self.opts.max_array_size))
        if not self.opts.max_instances:
            return 1000
        return max(1, min(1000, 2 * int(self.opts.max_instances)))

    def _task_list(self, keys: Sequence[str]) -> Path:
        folder = self.folder / "tasks"
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = folder / f"{stamp}_{os.getpid()}_{self._submitted:06d}.txt"
        with atomic_write(path) as fh:
            fh.write("".join(f"{k}\n" for k in keys))
        return path

    def _submit_array(self, items: Sequence[WorkItem], mem, limit_time, throttle: int | None) -> None:
        self._wait_interval()
        tasks = self._task_list([it.key for it in items])
        spec = f"0-{len(items) - 1}" + (f"%{throttle}" if throttle else "")
        array_id = self.slurm.submit(self.script, array=spec, export={"SCOPE_TASK_LIST": str(tasks)},
                                     options=self._options(mem, limit_time), clear=WORK_VARIABLES,
                                     cwd=self.header.get("chdir") or None)
        self._last_submit = time.monotonic()
        self.ledger.arrays[array_id] = {"throttle": throttle, "size": len(items), "tasks": str(tasks),
                                        "submitted": now()}
        for i, item in enumerate(items):
            self._record(item, f"{array_id}_{i}", mem, limit_time)
        self.ledger.save()
        log.info("%s: submitted array job %s: %d items%s%s", self.name, array_id, len(items),
                 f", at most {throttle} at once" if throttle else "", self._resource_note(mem, limit_time))

    def _submit_single(self, item: WorkItem, mem, limit_time) -> None:
        self._wait_interval()
        logs = Path(self.header["output"]).parent if self.header.get("output") else self.folder
        job = self.header.get("job-name", "job").removesuffix(".job")
        options = self._options(mem, limit_time) + [f"--output={logs / f'{job}_{item.key}_%j.out'}",
                                                    f"--error={logs / f'{job}_{item.key}_%j.err'}"]
        job_id = self.slurm.submit(self.script, export={self.variable: item.key}, options=options,
                                   clear=WORK_VARIABLES, cwd=self.header.get("chdir") or None)
        self._last_submit = time.monotonic()
        attempt = self._record(item, job_id, mem, limit_time)
        attempt.log_out = str(logs / f"{job}_{item.key}_{job_id}.out")
        attempt.log_err = str(logs / f"{job}_{item.key}_{job_id}.err")
        self.ledger.save()
        log.info("%s: submitted job %s for %s%s", self.name, job_id, item.label, self._resource_note(mem, limit_time))

    def _record(self, item: WorkItem, job_id: str, mem, limit_time) -> Attempt:
        rec = self.ledger.record(item.key)
        if rec.attempts:
            self._resubmitted += 1
        out, err = log_paths(self.header, job_id, default_dir=Path(self.header.get("chdir") or self.folder))
        attempt = Attempt(job=job_id, submitted=now(), memory_gb=mem, time=limit_time,
                          log_out=str(out) if out else None, log_err=str(err) if err else None)
        rec.attempts.append(attempt)
        rec.done = False
        self._submitted += 1
        return attempt

    def _resource_note(self, mem, limit_time) -> str:
        opts = self._options(mem, limit_time)
        return f" ({', '.join(o.lstrip('-') for o in opts)})" if opts else ""

    # -- in series, here ----------------------------------------------------------------------
    def _run_next_local(self) -> bool:
        """Run the next item in this process's allocation; False when none is left to run."""
        candidates = self._candidates()
        if not candidates:
            return False
        item = candidates[0]
        logs = Path(self.header["output"]).parent if self.header.get("output") else self.folder
        logs.mkdir(parents=True, exist_ok=True)
        job = self.header.get("job-name", "job").removesuffix(".job")
        rec = self.ledger.record(item.key)
        if rec.attempts:
            self._resubmitted += 1
        attempt = Attempt(job="local", submitted=now(), log_out=str(logs / f"{job}_local_{item.key}.out"),
                          log_err=str(logs / f"{job}_local_{item.key}.err"))
        rec.attempts.append(attempt)
        rec.done = False
        self._submitted += 1
        self.ledger.save()
        env = {k: v for k, v in os.environ.items() if k not in WORK_VARIABLES and k != "SLURM_ARRAY_TASK_ID"}
        env[self.variable] = item.key
        log.info("%s: running %s here (log %s)", self.name, item.label, attempt.log_out)
        with open(attempt.log_out, "w") as out, open(attempt.log_err, "w") as err:
            proc = subprocess.run(["bash", str(self.script)], env=env, stdout=out, stderr=err,
                                  stdin=subprocess.DEVNULL, cwd=self.header.get("chdir") or None)
        state = "COMPLETED" if proc.returncode == 0 else "FAILED"
        self._settle(item, rec, attempt, state, exit_code=f"{proc.returncode}:0")
        self.ledger.save()
        return True
