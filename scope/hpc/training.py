"""scope-train on Slurm: the generator (``train-algorithm-slurm``) and the work items of
``train-algorithm-job-submission``.

The classes, their options and their group come from a training script (create-training-script's
output). Every ``scope-train`` line is parsed with scope-train's own parser (a misspelt option is an
error naming the line, not a silently dropped setting) and written back whole: the reference kept
only the *last* line's options and dropped ``--group`` and ``--algorithm``, so every class trained
into group ``experiment`` as a DNN. When the lines differ beyond ``--tag`` (a pre-trained model per
class, say), the job script selects each class's own line.
"""

from __future__ import annotations

import json
import logging
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from scope.errors import DataError
from scope.hpc.jobspec import task_variable_lines
from scope.hpc.loop import WorkItem
from scope.hpc.passthrough import given_dests, render_options, shell_line

log = logging.getLogger(__name__)


@dataclass
class TrainLine:
    """One ``scope-train`` line of a training script."""

    number: int
    tag: str
    group: str
    algorithm: str
    models_dir: str | None
    options: list[str]          # every option but --tag, canonical spelling


def _parser():
    from tools.scope_train import build_parser

    parser = build_parser()

    def refuse(message):
        raise DataError(message)

    parser.error = refuse  # an error names the line instead of exiting
    return parser


def parse_training_script(path: str | Path, *, sweep: bool = False) -> list[TrainLine]:
    """The ``scope-train`` lines of a training script.

    Raises
    ------
    DataError
        Missing script, no scope-train line, an option scope-train does not know, a class twice,
        or lines of different algorithms.
    """
    from scope.training.options import normalize_algorithm

    path = Path(path)
    if not path.is_file():
        raise DataError(f"training script not found: {path} (write it with create-training-script)")
    parser = _parser()
    lines: list[TrainLine] = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        try:
            words = shlex.split(raw, comments=True)
        except ValueError as exc:
            raise DataError(f"{path} line {number}: {exc}") from None
        start = next((i for i, w in enumerate(words) if Path(w).name == "scope-train"), None)
        if start is None:
            continue
        argv = words[start + 1:]
        try:
            ns = parser.parse_args(argv)
            given = given_dests(parser, argv)
        except DataError as exc:
            raise DataError(f"{path} line {number}: {exc}") from None
        if sweep and not ns.run_sweeps:
            ns.run_sweeps = True
            given.add("run_sweeps")
        options = render_options(parser._actions, ns, given, exclude={"tag", "help"})
        try:
            algorithm = normalize_algorithm(ns.algorithm)
        except Exception as exc:  # noqa: BLE001 - its own message names the value
            raise DataError(f"{path} line {number}: {exc}") from None
        lines.append(TrainLine(number, ns.tag, ns.group, algorithm, ns.models_dir, options))
    if not lines:
        raise DataError(f"{path} holds no scope-train line")
    seen: dict[str, int] = {}
    for line in lines:
        if line.tag in seen:
            raise DataError(f"{path}: class {line.tag} appears on lines {seen[line.tag]} and {line.number}")
        seen[line.tag] = line.number
    algorithms = sorted({line.algorithm for line in lines})
    if len(algorithms) > 1:
        raise DataError(f"{path} mixes algorithms {' and '.join(algorithms)}: write one script per algorithm")
    return lines


def job_commands(lines: Sequence[TrainLine], extra: Sequence[str] = ()) -> list[str]:
    """The body of ``slurm.sub``: one scope-train line for ``$TID`` (or one per class, when they differ)."""
    shared = {tuple(line.options) for line in lines}
    if len(shared) == 1:
        return [shell_line(["scope-train", *extra, "--tag", "$TID", *lines[0].options])]
    body = ['case "$TID" in']
    for line in lines:
        body.append(f"  {shlex.quote(line.tag)}) "
                    + shell_line(["scope-train", *extra, "--tag", line.tag, *line.options]) + " ;;")
    body += ['  *) echo "class $TID is not in the training script" >&2; exit 2 ;;', "esac"]
    return body


def tag_file_fallback(tag_file: Path) -> list[str]:
    """TID from the ``<n> <tag>`` file of ``--generateTrainingFile`` by array index."""
    return [f'TID="$(awk -v n="$SLURM_ARRAY_TASK_ID" \'$1 == n {{print $2; exit}}\' {shlex.quote(str(tag_file))})"']


def write_tag_file(path: Path, lines: Sequence[TrainLine]) -> Path:
    from scope.tables import atomic_write

    with atomic_write(path) as fh:
        for n, line in enumerate(lines):
            fh.write(f"{n} {line.tag}\n")
    return path


def model_readable(path: Path) -> bool:
    """True when a saved model reads back: XGBoost JSON parses, a DNN ``.h5`` opens as HDF5."""
    try:
        if path.suffix == ".json":
            json.loads(path.read_text())
            return True
        try:
            import h5py
        except ImportError:  # without the train extra: the HDF5 signature at least
            with open(path, "rb") as fh:
                return fh.read(8) == b"\x89HDF\r\n\x1a\n"
        with h5py.File(path, "r"):
            return True
    except (OSError, ValueError):
        return False


def training_items(lines: Sequence[TrainLine], project: Path, *, group: str | None = None,
                   sweep: bool = False) -> list[WorkItem]:
    """One item per class: done when its newest model in ``models_<alg>/<group>/<tag>/`` reads back
    (a sweep leaves no model: done when its job completed)."""
    from scope.training.model_card import find_latest_model

    items = []
    for line in lines:
        models_dir = Path(line.models_dir) if line.models_dir else project
        models_dir = models_dir if models_dir.is_absolute() else project / models_dir
        grp = group or line.group

        def done(tag=line.tag, alg=line.algorithm, grp=grp, models_dir=models_dir) -> bool:
            model = find_latest_model(models_dir, grp, tag, alg)
            return model is not None and model_readable(model)

        items.append(WorkItem(key=line.tag, label=f"class {line.tag} ({line.algorithm}, group {grp})", is_done=done,
                              done_by_job=sweep))
    return items


@dataclass
class TrainingScripts:
    """What train-algorithm-slurm wrote."""

    root: Path
    job_script: Path
    submission_script: Path
    tags: list[str]
    tag_file: Path | None


def write_training_scripts(cfg, args, *, project: Path | None = None) -> TrainingScripts:
    """Write ``<alg>_<dirname>/slurm/slurm.sub`` and ``slurm_submission.sub`` for a training script."""
    from scope.hpc.arguments import loop_line_tokens
    from scope.hpc.scripts import Cluster, config_tokens, prepare_folder, write_script

    project = Path(project or Path.cwd()).resolve()
    script = (project / args.scriptname).resolve()
    lines = parse_training_script(script, sweep=args.sweep)
    algorithm = lines[0].algorithm
    root = project / f"{algorithm}_{args.dirname}"
    slurm_dir, logs = prepare_folder(root)
    gpus = args.gpus if args.gpus is not None else (1 if algorithm == "dnn" else 0)
    cluster = Cluster.from_args(cfg, args, gpus=gpus)
    job_name = f"{args.job_name}_{algorithm}" + ("_sweep" if args.sweep else "")
    cluster.job_name = job_name
    tag_file = write_tag_file(slurm_dir / "slurm.dat", lines) if args.generateTrainingFile else None
    fallback = tag_file_fallback(tag_file) if tag_file else []
    extra = [] if any("--config-path" in line.options for line in lines) else config_tokens(cfg)
    commands = task_variable_lines("TID", fallback=fallback) + job_commands(lines, extra)
    job_script = write_script(slurm_dir / "slurm.sub", cluster.work_spec(project=project, logs=logs,
                                                                          commands=commands))
    loop = ["train-algorithm-job-submission", *config_tokens(cfg), "--dirname", str(root), "--scriptname", str(script)]
    loop += loop_line_tokens(args, interval_flag="--submit-interval-seconds")
    if args.sweep:
        loop.append("--sweep")
    submission = write_script(slurm_dir / "slurm_submission.sub",
                              cluster.submission_spec(project=project, logs=logs, commands=[shell_line(loop)]))
    return TrainingScripts(root=root, job_script=job_script, submission_script=submission,
                           tags=[line.tag for line in lines], tag_file=tag_file)
