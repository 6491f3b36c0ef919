"""A Slurm job's resources and commands, rendered to a batch script (and read back from one).

The ``#SBATCH`` lines follow the reference generators' order and spelling (``--job-name=<job>.job``,
``--output``, ``--error``, ``-p``, ``--nodes``, ``--ntasks-per-node``, ``--gpus``, ``--mem <N>G``,
``--time=``, mail, ``-A``). Unlike the reference, an option without a value is not written at all
(no personal mail or account defaults), log paths are absolute and ``--chdir`` names the project
folder, so a script works wherever it is submitted from (a cron job starts in ``$HOME``).
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass, field

from scope.errors import DataError

_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def parse_slurm_time(text: str) -> int | None:
    """Seconds in a Slurm time limit (``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``); ``None`` = unlimited.

    Raises
    ------
    DataError
        The text is not a Slurm time.
    """
    value = str(text).strip()
    if value.upper() in ("UNLIMITED", "INFINITE"):
        return None
    m = _TIME.match(value)
    if not m:
        raise DataError(f"'{text}' is not a Slurm time limit (use HH:MM:SS, MM, or D-HH:MM:SS)")
    days, a, b, c = m.groups()
    parts = [int(x) for x in (a, b, c) if x is not None]
    if days is not None:  # D-HH, D-HH:MM, D-HH:MM:SS
        h, mi, s = (parts + [0, 0])[:3]
        return int(days) * 86400 + h * 3600 + mi * 60 + s
    if len(parts) == 1:
        return parts[0] * 60
    if len(parts) == 2:
        return parts[0] * 60 + parts[1]
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def format_slurm_time(seconds: float) -> str:
    """``HH:MM:SS`` (hours may exceed 24, as Slurm accepts), rounded up to the second."""
    total = max(1, int(math.ceil(seconds)))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def format_memory(gigabytes: float) -> str:
    """A ``--mem`` value: whole gigabytes as ``<N>G`` (the reference's form), else megabytes."""
    if gigabytes <= 0:
        raise DataError(f"a memory request must be positive, got {gigabytes} GB")
    if float(gigabytes).is_integer():
        return f"{int(gigabytes)}G"
    return f"{int(math.ceil(gigabytes * 1024))}M"


def memory_gigabytes(text: str) -> float:
    """Gigabytes in a ``--mem`` value such as ``180G``, ``1536M``, ``2T`` or ``4096`` (megabytes)."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$", str(text), re.IGNORECASE)
    if not m:
        raise DataError(f"'{text}' is not a Slurm memory size (e.g. 16G or 4096M)")
    scale = {"K": 1 / 1024 ** 2, "M": 1 / 1024, "": 1 / 1024, "G": 1.0, "T": 1024.0}[m.group(2).upper()]
    return float(m.group(1)) * scale


@dataclass
class JobSpec:
    """What one batch script asks for and runs.

    Every resource left ``None`` is not written, so Slurm's (or the site's) default applies.
    ``setup`` holds the cluster preamble (module and environment lines), ``commands`` the work.
    """

    job_name: str
    output: str | None = None
    error: str | None = None
    partition: str | None = None
    nodes: int | None = None
    ntasks_per_node: int | None = None
    gpus: int | None = None
    memory_gb: float | None = None
    time: str | None = None
    account: str | None = None
    mail_user: str | None = None
    mail_type: str = "ALL"
    chdir: str | None = None
    extra: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def validate(self) -> None:
        """Refuse values Slurm would refuse, naming them (before anything is written)."""
        if self.time is not None:
            parse_slurm_time(self.time)
        if self.memory_gb is not None:
            format_memory(self.memory_gb)
        for name in ("nodes", "ntasks_per_node"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise DataError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        if self.gpus is not None and int(self.gpus) < 0:
            raise DataError(f"--gpus must not be negative, got {self.gpus}")
        if not re.match(r"^[A-Za-z0-9_.+-]+$", self.job_name):
            raise DataError(f"job name '{self.job_name}' may only hold letters, digits and _ . + -")

    def sbatch_lines(self) -> list[str]:
        """The ``#SBATCH`` lines."""
        q = shlex.quote
        lines = [f"#SBATCH --job-name={q(self.job_name + '.job')}"]
        if self.output:
            lines.append(f"#SBATCH --output={q(self.output)}")
        if self.error:
            lines.append(f"#SBATCH --error={q(self.error)}")
        if self.chdir:
            lines.append(f"#SBATCH --chdir={q(self.chdir)}")
        if self.partition:
            lines.append(f"#SBATCH -p {q(self.partition)}")
        if self.nodes:
            lines.append(f"#SBATCH --nodes {int(self.nodes)}")
        if self.ntasks_per_node:
            lines.append(f"#SBATCH --ntasks-per-node {int(self.ntasks_per_node)}")
        if self.gpus:
            lines.append(f"#SBATCH --gpus {int(self.gpus)}")
        if self.memory_gb is not None:
            lines.append(f"#SBATCH --mem {format_memory(self.memory_gb)}")
        if self.time:
            lines.append(f"#SBATCH --time={self.time}")
        if self.mail_user:
            lines.append(f"#SBATCH --mail-type={q(self.mail_type)}")
            lines.append(f"#SBATCH --mail-user={q(self.mail_user)}")
        if self.account:
            lines.append(f"#SBATCH -A {q(self.account)}")
        lines += [f"#SBATCH {x}" for x in self.extra]
        return lines

    def render(self) -> str:
        """The whole batch script."""
        self.validate()
        return "\n".join(["#!/bin/bash", *self.sbatch_lines(), *self.setup, *self.commands]) + "\n"


def read_header(text: str) -> dict[str, str]:
    """The ``#SBATCH`` options of a script as ``{long option name: value}`` (``-p``/``-A`` spelled out).

    Only lines before the first command count, as for sbatch itself.
    """
    short = {"-p": "partition", "-A": "account", "-J": "job-name", "-o": "output", "-e": "error",
             "-t": "time", "-N": "nodes", "-D": "chdir", "-G": "gpus", "-a": "array"}
    out: dict[str, str] = {}
    for raw in text.splitlines()[1:]:
        line = raw.strip()
        if not line or (line.startswith("#") and not line.startswith("#SBATCH")):
            continue
        if not line.startswith("#SBATCH"):
            break
        try:
            words = shlex.split(line[len("#SBATCH"):])
        except ValueError:
            continue
        if not words:
            continue
        opt, rest = words[0], words[1:]
        if "=" in opt:
            opt, value = opt.split("=", 1)
        else:
            value = rest[0] if rest else ""
        name = short.get(opt, opt.lstrip("-"))
        out[name] = value
    return out


def task_variable_lines(variable: str, *, fallback: list[str] | None = None) -> list[str]:
    """Shell lines that set the job's work item ``$<variable>`` (``QID``, ``TID``, ``FID``).

    In order: this array task's line of the task list the submission loop wrote
    (``$SCOPE_TASK_LIST``); the value exported with ``sbatch --export=<variable>=...`` (the reference's
    form); ``fallback`` lines (default: the array index itself, so ``sbatch --array=0-99%10 slurm.sub``
    works without any loop). A job without a work item stops with a message.
    """
    v = variable
    fallback = fallback if fallback is not None else [f'{v}="$SLURM_ARRAY_TASK_ID"']
    lines = [
        f"# the work item ${v}: this array task's line of the submission loop's task list, else",
        f"# sbatch --export={v}=<value>, else derived from the array index",
        'if [ -n "${SCOPE_TASK_LIST:-}" ] && [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then',
        f'  {v}="$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$SCOPE_TASK_LIST")"',
        *([f'elif [ -z "${{{v}:-}}" ] && [ -n "${{SLURM_ARRAY_TASK_ID:-}}" ]; then',
           *[f"  {line}" for line in fallback]] if fallback else []),
        "fi",
        f'if [ -z "${{{v}:-}}" ]; then',
        f'  echo "no work item: submit with sbatch --export={v}=<value> or as an array job" >&2',
        "  exit 2",
        "fi",
    ]
    return lines
