"""What every generator shares: the cluster flags, the two job specs, writing the scripts.

Each generator writes ``<folder>/slurm/slurm.sub`` (one unit of work: a quadrant, a class, a field)
and, with a submission loop, ``<folder>/slurm/slurm_submission.sub`` (a job that runs the loop),
plus ``<folder>/logs/`` for the jobs' output: the reference's layout.
"""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from scope.hpc.jobspec import JobSpec
from scope.hpc.presets import ClusterPreset, load_preset
from scope.tables import atomic_write, ensure_writable_dir

log = logging.getLogger(__name__)

@dataclass
class Cluster:
    """The resource flags of one generator run, with its preset."""

    preset: ClusterPreset
    job_name: str
    partition: str | None
    nodes: int | None
    ncore: int | None
    gpus: int
    memory_gb: float | None
    time: str | None
    submit_partition: str | None
    submit_nodes: int | None
    submit_ncore: int | None
    submit_memory_gb: float | None
    submit_time: str | None
    mail_user: str | None
    account: str | None
    env: str | None

    @classmethod
    def from_args(cls, cfg: Mapping, args: argparse.Namespace, *, gpus: int) -> "Cluster":
        preset = load_preset(cfg, args.cluster_name)
        return cls(preset=preset, job_name=args.job_name,
                   partition=args.partition_type or preset.job_partition(gpus), nodes=args.nodes,
                   ncore=getattr(args, "Ncore", None), gpus=int(gpus), memory_gb=args.memory_GB, time=args.time,
                   submit_partition=getattr(args, "submit_partition_type", None) or preset.submit_partition,
                   submit_nodes=getattr(args, "submit_nodes", None), submit_ncore=getattr(args, "submit_Ncore", None),
                   submit_memory_gb=getattr(args, "submit_memory_GB", None),
                   submit_time=getattr(args, "submit_time", None) or args.time, mail_user=args.mail_user,
                   account=args.account_name, env=args.python_env_name)

    def work_spec(self, *, project: Path, logs: Path, commands: Sequence[str], job_name: str | None = None) -> JobSpec:
        """``slurm.sub``: one unit of work."""
        name = job_name or self.job_name
        return JobSpec(job_name=name, output=str(logs / f"{name}_%A_%a.out"), error=str(logs / f"{name}_%A_%a.err"),
                       chdir=str(project), partition=self.partition, nodes=self.nodes, ntasks_per_node=self.ncore,
                       gpus=self.gpus or None, memory_gb=self.memory_gb, time=self.time, account=self.account,
                       mail_user=self.mail_user, setup=self.preset.setup(gpus=self.gpus, env=self.env),
                       commands=list(commands))

    def submission_spec(self, *, project: Path, logs: Path, commands: Sequence[str]) -> JobSpec:
        """``slurm_submission.sub``: the job that runs the submission loop."""
        name = self.job_name
        return JobSpec(job_name="submit_jobs", output=str(logs / f"{name}_submit_%j.out"),
                       error=str(logs / f"{name}_submit_%j.err"), chdir=str(project),
                       partition=self.submit_partition, nodes=self.submit_nodes, ntasks_per_node=self.submit_ncore,
                       memory_gb=self.submit_memory_gb, time=self.submit_time, account=self.account,
                       mail_user=self.mail_user, setup=self.preset.submission_setup(self.env), commands=list(commands))


def prepare_folder(root: Path, filetype: str = "slurm") -> tuple[Path, Path]:
    """``<root>/<filetype>/`` and ``<root>/logs/``, created and checked writable."""
    return ensure_writable_dir(Path(root) / filetype), ensure_writable_dir(Path(root) / "logs")


def write_script(path: Path, spec: JobSpec) -> Path:
    """Write a batch script atomically, executable."""
    text = spec.render()
    with atomic_write(path) as fh:
        fh.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o777 & ~umask)
    log.info("wrote %s", path)
    return path


def config_tokens(cfg) -> list[str]:
    """``--config-path <absolute path>`` when a user config file was loaded (jobs then read the same
    settings wherever they start), else nothing."""
    source = getattr(cfg, "source_path", None)
    return ["--config-path", str(Path(source).resolve())] if source else []
