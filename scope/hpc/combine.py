"""combine-preds on Slurm (``combine-preds-slurm``): one job with combine-preds' own options.

Only the options given are written (the reference wrote ``--specific-field None --dateobs None``
when they were unset, which made combine-preds refuse to run).
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from scope.hpc.passthrough import render_options, shell_line

log = logging.getLogger(__name__)


@dataclass
class CombineScript:
    """What combine-preds-slurm wrote."""

    root: Path
    job_script: Path
    job_line: str


def write_combine_script(cfg, args: argparse.Namespace, actions: Sequence[argparse.Action], given: set[str], *,
                         project: Path | None = None) -> CombineScript:
    """Write ``<dirname>/slurm/slurm.sub`` running combine-preds with the given options."""
    from scope.hpc.scripts import Cluster, config_tokens, prepare_folder, write_script

    project = Path(project or Path.cwd()).resolve()
    root = project / args.dirname
    slurm_dir, logs = prepare_folder(root)
    line = shell_line(["combine-preds", *config_tokens(cfg), *render_options(actions, args, given)])
    cluster = Cluster.from_args(cfg, args, gpus=args.gpus or 0)
    job_script = write_script(slurm_dir / "slurm.sub", cluster.work_spec(project=project, logs=logs, commands=[line]))
    return CombineScript(root=root, job_script=job_script, job_line=line)
