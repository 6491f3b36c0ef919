"""The one place that talks to Slurm: submit, query job states, cancel.

Job states come from Slurm itself, keyed by job id (``123`` or, for an array task, ``123_4``):
``squeue`` for jobs in the queue, ``scontrol show job`` for jobs that ended recently (Slurm keeps
them ``MinJobAge`` seconds, 300 by default) and ``sacct`` where accounting is enabled. A job none
of them knows any more is reported as ``UNKNOWN``; callers then judge by its output.

Every command runs with a time-out; transient failures (controller busy or unreachable, socket
time-outs) are retried with backoff (:mod:`scope.services.http`); anything else becomes one clear
error. A submission Slurm refuses raises :class:`SubmissionRefused` naming the script and
Slurm's reason. A submission whose answer was lost (time-out after sending) is looked up by the
unique comment every submission carries before it is retried, so it is never made twice.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from scope.errors import ServiceError
from scope.services.http import RetryPolicy, TransientFailure, call_with_retries, one_line

log = logging.getLogger(__name__)

#: states of a job that is still in Slurm's hands
ACTIVE_STATES = frozenset({
    "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
    "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "SPECIAL_EXIT", "POWER_UP_NODE",
})
#: states of a job that ended
ENDED_STATES = frozenset({
    "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL",
    "DEADLINE", "REVOKED",
})
# Reasons a pending job gives when Slurm will never start it as asked (beyond a node or a limit).
_NEVER_REASONS = ("BadConstraints", "PartitionConfig", "PartitionNodeLimit", "PartitionTimeLimit",
                  "DependencyNeverSatisfied", "InvalidAccount", "InvalidQOS")
# Messages of failures another attempt may cure. Submissions are retried only on those that
# certainly happened before Slurm accepted anything (the first group).
_NOT_SENT = ("unable to contact slurm controller", "connection refused", "temporarily unable to accept job",
             "resource temporarily unavailable", "slurm controller not responding", "try again later",
             "unable to establish", "communication connection failure", "no route to host")
_MAYBE_SENT = ("socket timed out", "timed out", "zero bytes were transmitted")
# Refusals that only mean "too many jobs queued right now" (site limits on submitted jobs).
_SUBMIT_LIMIT = ("job submit limit", "maxsubmitjobs", "qosmaxsubmitjob", "assocmaxsubmitjob",
                 "job violates accounting/qos policy")


class SlurmError(ServiceError):
    """Slurm could not be asked, or answered with an error."""


class SlurmUnavailable(SlurmError):
    """The Slurm commands are missing or the controller does not answer."""


class SubmissionRefused(SlurmError):
    """``sbatch`` refused a job (bad partition, memory beyond any node, account...)."""


class SubmitLimitReached(SlurmError):
    """``sbatch`` refused a job only because the user has as many jobs queued as the site allows."""


@dataclass(frozen=True)
class JobState:
    """What Slurm says about one job (or array task)."""

    job_id: str
    state: str
    reason: str = ""
    exit_code: str = ""

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == "COMPLETED"

    @property
    def never_starts(self) -> bool:
        """Pending for a reason that will not go away (the job asks for more than the partition has)."""
        reason = self.reason.strip()
        return self.state == "PENDING" and (reason in _NEVER_REASONS or bool(re.match(r"QOSMax\w*PerJob", reason)))


def _base_state(text: str) -> str:
    # "CANCELLED by 0", "CANCELLED+" -> "CANCELLED"
    return re.split(r"[\s+]", str(text).strip().upper(), maxsplit=1)[0] if text else "UNKNOWN"


def default_user() -> str:
    """The user whose jobs are watched: ``$USER`` (or the login name)."""
    return os.environ.get("USER") or getpass.getuser()


class Slurm:
    """Submit, watch and cancel jobs through Slurm's command-line tools.

    Parameters
    ----------
    user : str, optional
        Whose queue ``squeue`` lists (default :func:`default_user`).
    timeout : float
        Seconds before a Slurm command is abandoned (and retried).
    retries : int
        Retries of a command after a transient failure.
    backoff_seconds : float
        Wait before the first retry (doubling).
    """

    def __init__(self, *, user: str | None = None, timeout: float = 60.0, retries: int = 3,
                 backoff_seconds: float = 2.0):
        self.user = user or default_user()
        self.timeout = float(timeout)
        self.policy = RetryPolicy(max_retries=max(0, int(retries)), backoff_seconds=float(backoff_seconds))
        self._accounting: bool | None = None

    @classmethod
    def from_config(cls, cfg: Mapping, user: str | None = None) -> "Slurm":
        """A client with the time-outs and retries of config ``slurm``."""
        section = (cfg or {}).get("slurm") or {}
        return cls(user=user or section.get("user"), timeout=float(section.get("command_timeout_seconds", 60)),
                   retries=int(section.get("command_retries", 3)),
                   backoff_seconds=float(section.get("command_backoff_seconds", 2.0)))

    # -- running commands -------------------------------------------------------------------------
    def _run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
             cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
        """Run once; a missing program or a time-out raise, any exit status is returned."""
        try:
            return subprocess.run(list(argv), capture_output=True, text=True, timeout=self.timeout,
                                  env=dict(env) if env is not None else None, cwd=cwd, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise SlurmUnavailable(f"'{argv[0]}' not found: Slurm's commands are not on PATH "
                                   "(load the slurm module, or source .ci/slurm.sh for the test cluster)") from None
        except subprocess.TimeoutExpired:
            raise TransientFailure(f"'{' '.join(argv[:2])}' did not answer within {self.timeout:g} s",
                                   unreachable=True) from None

    def _query(self, argv: Sequence[str], *, ok_messages: Iterable[str] = ()) -> subprocess.CompletedProcess:
        """Run a read-only command, retrying transient failures; non-zero exits with one of
        ``ok_messages`` in stderr are returned, other failures raise :class:`SlurmError`."""
        ok = tuple(m.lower() for m in ok_messages)

        def attempt():
            proc = self._run(argv)
            if proc.returncode == 0:
                return proc
            message = (proc.stderr or proc.stdout or "").strip()
            low = message.lower()
            if any(m in low for m in ok):
                return proc
            if any(m in low for m in _NOT_SENT + _MAYBE_SENT):
                raise TransientFailure(one_line(message), unreachable=True)
            raise SlurmError(one_line(f"{argv[0]} failed (exit {proc.returncode}): {message or 'no message'}"))

        try:
            return call_with_retries(attempt, self.policy, what=f"{argv[0]}")
        except SlurmError:
            raise
        except ServiceError as exc:  # retries exhausted
            raise SlurmUnavailable(str(exc)) from None

    def available(self) -> bool:
        """True when ``sinfo`` gets an answer from a controller."""
        try:
            proc = self._run(["sinfo", "-h", "-o", "%P"])
        except (SlurmError, TransientFailure):
            return False
        return proc.returncode == 0

    # -- submit -------------------------------------------------------------------------------
    def submit(self, script: str | os.PathLike, *, array: str | None = None,
               export: Mapping[str, str] | None = None, options: Sequence[str] = (),
               clear: Iterable[str] = (), cwd: str | os.PathLike | None = None) -> str:
        """Submit ``script`` and return its job id (an array's id for an array job).

        Parameters
        ----------
        array : str, optional
            ``--array`` value such as ``0-9%3``.
        export : mapping, optional
            Variables exported to the job on top of the current environment.
        options : sequence of str
            Further sbatch options (``--mem=4G``, ``--output=...``); they override the script's.
        clear : iterable of str
            Variables removed from the environment the job inherits (stale work items).

        Raises
        ------
        SubmissionRefused
            sbatch refused the job; the message names the script and Slurm's reason.
        SlurmUnavailable
            The controller could not be reached after retries.
        """
        token = f"scope:{uuid.uuid4().hex[:16]}"
        argv = ["sbatch", "--parsable", f"--comment={token}", *options]
        if array:
            argv.append(f"--array={array}")
        env = {k: v for k, v in os.environ.items() if k not in set(clear)}
        # the ALL export keeps the environment (PATH, the virtual environment, SCOPE_CONFIG)
        argv.append("--export=" + ",".join(["ALL", *(f"{k}={v}" for k, v in (export or {}).items())]))
        argv.append(str(script))
        what = f"submitting {script}" + (f" (array {array})" if array else "")

        def attempt():
            try:
                proc = self._run(argv, env=env, cwd=cwd)
            except TransientFailure:
                found = self._find_by_comment(token)
                if found:
                    return found
                raise
            if proc.returncode == 0:
                job_id = proc.stdout.strip().splitlines()[-1].split(";")[0].strip() if proc.stdout.strip() else ""
                if not re.match(r"^\d+$", job_id):
                    raise SlurmError(f"sbatch accepted {script} but printed no job id: {one_line(proc.stdout)}")
                return job_id
            message = one_line((proc.stderr or proc.stdout or "").strip())
            low = message.lower()
            if any(m in low for m in _NOT_SENT):
                raise TransientFailure(message, unreachable=True)
            if any(m in low for m in _MAYBE_SENT):
                found = self._find_by_comment(token)
                if found:
                    return found
                raise TransientFailure(message, unreachable=True)
            refusal = f"Slurm refused {script}" + (f" (array {array})" if array else "") + \
                f": {message or 'no reason given'}"
            if any(m in low for m in _SUBMIT_LIMIT):
                raise SubmitLimitReached(refusal)
            raise SubmissionRefused(refusal)

        try:
            job_id = call_with_retries(attempt, self.policy, what=what)
        except SlurmError:
            raise
        except ServiceError as exc:
            raise SlurmUnavailable(str(exc)) from None
        log.debug("submitted %s as job %s", script, job_id)
        return job_id

    def _find_by_comment(self, token: str) -> str | None:
        """The job id of a submission whose answer was lost, found by its unique comment."""
        try:
            proc = self._run(["squeue", "-h", "-u", self.user, "-o", "%F|%k"])
        except (SlurmError, TransientFailure):
            return None
        for line in proc.stdout.splitlines():
            job, _, comment = line.partition("|")
            if comment.strip() == token:
                return job.strip()
        return None

    # -- state --------------------------------------------------------------------------------
    def states(self, job_ids: Iterable[str]) -> dict[str, JobState]:
        """Current state of each job id (``UNKNOWN`` when Slurm no longer knows it).

        Raises
        ------
        SlurmUnavailable
            Slurm could not be asked; nothing is assumed about any job then.
        """
        wanted = {str(j) for j in job_ids}
        if not wanted:
            return {}
        found: dict[str, JobState] = {}
        proc = self._query(["squeue", "-h", "-r", "-u", self.user, "-o", "%i|%T|%r"])
        for line in proc.stdout.splitlines():
            parts = line.split("|")
            if len(parts) >= 2 and parts[0].strip() in wanted:
                found[parts[0].strip()] = JobState(parts[0].strip(), _base_state(parts[1]),
                                                   reason=parts[2].strip() if len(parts) > 2 else "")
        missing = wanted - set(found)
        for base in sorted({j.split("_")[0] for j in missing}):
            for state in self._scontrol(base):
                if state.job_id in missing:
                    found[state.job_id] = state
        missing = wanted - set(found)
        if missing:
            found.update(self._sacct(missing))
        for job in wanted - set(found):
            found[job] = JobState(job, "UNKNOWN")
        return found

    def _scontrol(self, job_id: str) -> list[JobState]:
        proc = self._query(["scontrol", "show", "job", "-o", job_id], ok_messages=("invalid job id",))
        if proc.returncode != 0:
            return []
        out = []
        for line in proc.stdout.splitlines():
            fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            if "JobState" not in fields:
                continue
            task = fields.get("ArrayTaskId")
            key = f"{fields['ArrayJobId']}_{task}" if task and task.isdigit() and "ArrayJobId" in fields \
                else fields.get("JobId", "")
            out.append(JobState(key, _base_state(fields["JobState"]), reason=fields.get("Reason", ""),
                                exit_code=fields.get("ExitCode", "")))
        return out

    def _sacct(self, job_ids: Iterable[str]) -> dict[str, JobState]:
        if self._accounting is False:
            return {}
        ids = sorted(job_ids)
        proc = self._query(["sacct", "-n", "-P", "-X", "-j", ",".join(ids), "-o", "JobID,State,ExitCode"],
                           ok_messages=("accounting storage is disabled", "not running a supported accounting",
                                        "slurmdbd"))
        if proc.returncode != 0:
            self._accounting = False
            return {}
        self._accounting = True
        out = {}
        for line in proc.stdout.splitlines():
            parts = line.split("|")
            if len(parts) >= 2 and parts[0] in set(ids):
                out[parts[0]] = JobState(parts[0], _base_state(parts[1]),
                                         exit_code=parts[2] if len(parts) > 2 else "")
        return out

    # -- cancel -------------------------------------------------------------------------------
    def cancel(self, job_ids: Iterable[str]) -> None:
        """Cancel jobs (or array tasks); jobs that already ended are ignored."""
        ids = [str(j) for j in job_ids]
        if ids:
            self._query(["scancel", *ids], ok_messages=("invalid job id", "already completing or completed"))


def log_paths(header: Mapping[str, str], job_id: str, *, default_dir: Path | None = None) -> tuple[Path | None, Path | None]:
    """Where a job's stdout and stderr went: the script's ``--output``/``--error`` patterns filled in.

    Handles ``%A`` (array job id), ``%a`` (task id), ``%j`` (job id), ``%x`` (job name), ``%u`` (user)
    and ``%%``; without patterns, Slurm's default ``slurm-<id>.out`` in ``default_dir``.
    """
    array, _, task = str(job_id).partition("_")
    name = header.get("job-name", "")

    def fill(pattern: str) -> Path:
        text = pattern.replace("%%", "\0")
        for key, value in (("%A", array), ("%a", task or "4294967294"), ("%j", array if not task else array),
                           ("%x", name), ("%u", default_user())):
            text = text.replace(key, value)
        return Path(text.replace("\0", "%"))

    out = header.get("output")
    err = header.get("error")
    if out is None and default_dir is not None:
        out = str(default_dir / (f"slurm-{array}_{task}.out" if task else f"slurm-{array}.out"))
    return (fill(out) if out else None, fill(err) if err else (fill(out) if out else None))
