"""run-inference on Slurm: the generator (``run-inference-slurm``) and the work items of
``run-inference-job-submission``.

A job scores one field, ``$FID``, either through a get_all_preds script (create-inference-script's
output; the reference's form, ``<script> $FID``) or, when run-inference options are given to the
generator, with ``run-inference <those options> --field $FID`` directly. The submission loop scores
``inference.fields_to_run`` (minus ``fields_to_exclude``) or ``--fields``, throttled (the reference
submitted every field at once), and reads the job script from the folder the generator wrote it to
(the reference looked under the current folder while writing under ``path_to_preds``).
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from scope.errors import DataError
from scope.hpc.jobspec import task_variable_lines
from scope.hpc.loop import WorkItem
from scope.hpc.passthrough import render_options, shell_line

log = logging.getLogger(__name__)


@dataclass
class InferenceScripts:
    """What run-inference-slurm wrote."""

    root: Path
    job_script: Path
    submission_script: Path
    job_line: str
    preds_root: Path


def preds_root(cfg: Mapping, override: str | Path | None = None, project: Path | None = None) -> Path:
    """Folder holding ``preds_<alg>/``: the override, else ``inference.path_to_preds``, else the project."""
    project = Path(project or Path.cwd())
    if override:
        path = Path(override)
    else:
        configured = (cfg.get("inference") or {}).get("path_to_preds")
        path = cfg.resolve_path(configured) if configured and hasattr(cfg, "resolve_path") else (
            Path(configured) if configured else project)
    return (path if path.is_absolute() else project / path).resolve()


def write_inference_scripts(cfg, args: argparse.Namespace, actions: Sequence[argparse.Action], given: set[str], *,
                            project: Path | None = None) -> InferenceScripts:
    """Write ``<preds root>/<alg>_<dirname>/slurm/{slurm.sub,slurm_submission.sub}``."""
    from scope.hpc.arguments import loop_line_tokens
    from scope.hpc.scripts import Cluster, config_tokens, prepare_folder, write_script
    from scope.training.options import normalize_algorithm

    project = Path(project or Path.cwd()).resolve()
    algorithm = "xgb" if getattr(args, "xgb_model", False) else normalize_algorithm(args.algorithm)
    inherited = {a.dest for a in actions}
    direct = bool(given & inherited)
    out_root = preds_root(cfg, getattr(args, "output_dir", None) if "output_dir" in given else None, project)
    root = out_root / f"{algorithm}_{args.dirname}"
    slurm_dir, logs = prepare_folder(root)
    if direct:
        tokens = ["run-inference", *config_tokens(cfg), *render_options(actions, args, given)]
        if "algorithm" in given:
            tokens += ["--algorithm", algorithm]
        tokens += ["--field", "$FID"]
    else:
        script = (project / (args.scriptname or f"get_all_preds_{algorithm}.sh")).resolve()
        if not script.is_file():
            raise DataError(f"inference script not found: {script} (write it with create-inference-script, or "
                            "give run-inference options such as --group-name)")
        tokens = [str(script), "$FID"]
    line = shell_line(tokens)
    gpus = args.gpus if args.gpus is not None else (1 if algorithm == "dnn" else 0)
    cluster = Cluster.from_args(cfg, args, gpus=gpus)
    cluster.job_name = f"{args.job_name}_{algorithm}"
    job_script = write_script(slurm_dir / "slurm.sub", cluster.work_spec(
        project=project, logs=logs, commands=task_variable_lines("FID") + [line]))
    loop = ["run-inference-job-submission", *config_tokens(cfg), "--dirname", str(root), "--algorithm", algorithm,
            "--path-to-preds", str(out_root)]
    loop += loop_line_tokens(args, interval_flag="--submit-interval-seconds")
    if args.fields:
        loop += ["--fields", *[str(f) for f in args.fields]]
    submission = write_script(slurm_dir / "slurm_submission.sub",
                              cluster.submission_spec(project=project, logs=logs, commands=[shell_line(loop)]))
    return InferenceScripts(root=root, job_script=job_script, submission_script=submission, job_line=line,
                            preds_root=out_root)


def inference_fields(cfg: Mapping, explicit: Sequence[str] | None) -> list[str]:
    """Fields to score: ``explicit``, else ``inference.fields_to_run``; minus ``fields_to_exclude``."""
    fields = [str(f) for f in (explicit or (cfg.get("inference") or {}).get("fields_to_run") or [])]
    exclude = {str(f) for f in (cfg.get("fields_to_exclude") or [])}
    out = list(dict.fromkeys(f for f in fields if f not in exclude))
    if not out:
        raise DataError("no field to score: set inference.fields_to_run in config.yaml or pass --fields")
    return out


def inference_items(fields: Sequence[str], preds: Path, algorithm: str) -> list[WorkItem]:
    """One item per field: done when ``preds_<alg>/field_<F>/field_<F>.parquet`` reads back."""
    from scope.hpc.features import parquet_readable

    items = []
    for field in fields:
        out = preds / f"preds_{algorithm}" / f"field_{field}" / f"field_{field}.parquet"
        items.append(WorkItem(key=str(field), label=f"field {field} ({algorithm})",
                              is_done=lambda p=out: parquet_readable(p)))
    return items
