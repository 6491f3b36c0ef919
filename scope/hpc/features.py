"""generate-features on Slurm: the generator (``generate-features-slurm``) and the work items of
``generate-features-job-submission``.

The job line is generate-features' own command line: every generate-features option the user gave
to the generator is written back (parsed and re-emitted through generate-features' parser, see
:mod:`scope.hpc.passthrough`), options not given are not written (the reference wrote
``--max-timestamp-hjd None``, which the job then refused), and in quadrant-file mode each job reads
its own row: ``--doQuadrantFile --quadrant-file slurm.dat --quadrant-index $QID`` (the reference
wrote ``--quadrant-index 0``, so every job ran row 0).
"""

from __future__ import annotations

import argparse
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from scope.errors import DataError
from scope.hpc.jobspec import format_slurm_time, parse_slurm_time, task_variable_lines
from scope.hpc.loop import WorkItem
from scope.hpc.passthrough import render_options, shell_line
from scope.hpc.scripts import Cluster, config_tokens, prepare_folder, write_script

log = logging.getLogger(__name__)

#: generate-features options the generator writes itself (the quadrant selection)
QUADRANT_DESTS = ("field", "ccd", "quad", "doQuadrantFile", "quadrant_file", "quadrant_index")


@dataclass
class FeatureScripts:
    """What generate-features-slurm wrote."""

    root: Path
    job_script: Path
    submission_script: Path | None
    quadrant_file: Path | None
    n_quadrants: int | None
    counts_file: Path | None
    job_line: str


def job_tokens(cfg, actions: Sequence[argparse.Action], args: argparse.Namespace, given: set[str], *,
               quadrant_mode: bool) -> list[str]:
    """The generate-features command of each job, as tokens (``$QID`` left for the shell)."""
    tokens = ["generate-features", *config_tokens(cfg)]
    tokens += render_options(actions, args, given, exclude=QUADRANT_DESTS if quadrant_mode else ())
    if quadrant_mode:
        tokens += ["--doQuadrantFile", "--quadrant-file", args.quadrant_file, "--quadrant-index", "$QID"]
    return tokens


def write_feature_scripts(cfg, args: argparse.Namespace, actions: Sequence[argparse.Action], given: set[str],
                          *, project: Path | None = None, progress: bool = True) -> FeatureScripts:
    """Write ``slurm.sub``, ``slurm_submission.sub`` and (``--generateQuadrantFile``) the quadrant file.

    Parameters
    ----------
    cfg : scope.config.Config
    args : argparse.Namespace
        generate-features-slurm's parsed flags.
    actions : sequence of argparse.Action
        generate-features' options (inherited by the generator's parser).
    given : set of str
        Dests the user set.
    project : path, optional
        Folder the jobs run in (default: the current folder).
    """
    from scope import cli

    if not (args.doCPU or args.doGPU):
        raise DataError("give --doCPU or --doGPU: the jobs' period search (generate-features-slurm writes survey jobs)")
    if args.doCPU and args.doGPU:
        raise DataError("choose one of --doCPU and --doGPU, not both")
    if args.doQuadrantFile and args.doSpecificIDs:
        raise DataError("choose one of --doQuadrantFile and --doSpecificIDs, not both")
    if args.generateQuadrantFile and args.doSpecificIDs:
        raise DataError("--generateQuadrantFile writes quadrant jobs; it does not go with --doSpecificIDs")
    project = Path(project or Path.cwd()).resolve()
    base = cli.base_dir(cfg, args.output_dir)
    root = (project / base / args.dirname).resolve()
    slurm_dir, logs = prepare_folder(root)
    gpus = args.gpus if args.gpus is not None else (1 if args.doGPU else 0)
    cluster = Cluster.from_args(cfg, args, gpus=gpus)
    quadrant_mode = bool(args.doQuadrantFile or args.generateQuadrantFile)

    quadrant_file = counts_file = None
    n_rows = None
    if args.generateQuadrantFile:
        quadrant_file, counts_file, n_rows = generate_quadrant_file(
            cfg, slurm_dir / args.quadrant_file, fields=args.field_list, catalog=args.source_catalog,
            source=args.source, minobs=args.min_n_lc_points, keep_counts=args.count_sources, progress=progress)
    elif quadrant_mode:
        quadrant_file = slurm_dir / args.quadrant_file
        if not quadrant_file.is_file():
            log.warning("the jobs read %s, which does not exist yet (--generateQuadrantFile writes it)", quadrant_file)

    tokens = job_tokens(cfg, actions, args, given, quadrant_mode=quadrant_mode)
    line = shell_line(tokens)
    commands = (task_variable_lines("QID") if quadrant_mode else []) + [line]
    job_script = write_script(slurm_dir / "slurm.sub", cluster.work_spec(project=project, logs=logs, commands=commands))

    submission = None
    if quadrant_mode:
        from scope.hpc.arguments import loop_line_tokens

        loop = ["generate-features-job-submission", *config_tokens(cfg), "--dirname", str(root),
                "--filename", args.filename]
        if args.quadrant_file != "slurm.dat":
            loop += ["--quadrant-file", args.quadrant_file]
        loop += loop_line_tokens(args, interval_flag="--submit-interval-minutes", features_flags=True)
        for flag, value in (("--memory-per-source-MB", args.memory_per_source_MB),
                            ("--seconds-per-source", args.seconds_per_source)):
            if value is not None:
                loop += [flag, f"{value:g}"]
        submission = write_script(slurm_dir / "slurm_submission.sub",
                                  cluster.submission_spec(project=project, logs=logs, commands=[shell_line(loop)]))
    return FeatureScripts(root=root, job_script=job_script, submission_script=submission,
                          quadrant_file=quadrant_file, n_quadrants=n_rows, counts_file=counts_file, job_line=line)


def generate_quadrant_file(cfg, path: Path, *, fields=None, catalog=None, source=None, minobs: int = 0,
                           keep_counts: bool = False, progress: bool = True) -> tuple[Path, Path | None, int]:
    """Scan the fields and write the quadrant file (and, with ``keep_counts``, ``<stem>_counts.json``)."""
    from scope.hpc.quadrants import default_fields, quadrant_rows, scan_fields, write_completeness, write_quadrant_file
    from scope.lightcurves.sources import open_source

    src = open_source(cfg, catalog=catalog, source=source)
    wanted = list(fields) if fields else default_fields(src)
    counts = scan_fields(src, wanted, minobs=minobs, progress=progress)
    rows = quadrant_rows(counts)
    if not rows:
        raise DataError(f"no quadrant of fields {_fields_text(wanted)} holds light curves with at least {minobs} "
                        f"epochs in {src.catalog}: no quadrant file written")
    write_quadrant_file(path, rows)
    counts_path = None
    if keep_counts:
        counts_path = write_completeness(counts_path_for(path), counts, with_counts=True)
    n_fields = len({r[1] for r in rows})
    log.info("quadrant file %s: %d quadrants in %d fields (%s light curves with >= %d epochs)", path, len(rows),
             n_fields, f"{sum(sum(q.values()) for q in counts.values()):,}", minobs)
    return path, counts_path, len(rows)


def counts_path_for(quadrant_file: Path) -> Path:
    """``slurm.dat`` -> ``slurm_counts.json`` beside it."""
    return Path(quadrant_file).with_name(Path(quadrant_file).stem + "_counts.json")


def _fields_text(fields) -> str:
    fields = sorted(int(f) for f in fields)
    if len(fields) > 6:
        return f"{fields[0]}-{fields[-1]} ({len(fields)} fields)"
    return ", ".join(str(f) for f in fields)


# -- the submission loop's items ------------------------------------------------------------------
def parquet_readable(path: Path) -> bool:
    """True when ``path`` is a complete parquet file (its footer and schema read back)."""
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
        return True
    except (OSError, ValueError):  # ArrowInvalid is a ValueError, ArrowIOError an OSError
        return False


def feature_output(root: Path, filename: str, field: int, ccd: int, quad: int) -> Path:
    """The generate-features output of a quadrant (the reference's layout)."""
    from scope.generation.options import GenerateOptions
    from scope.generation.run import output_path

    opts = GenerateOptions(field=field, ccd=ccd, quad=quad, dirname=root.name, filename=filename)
    return output_path(root.parent, opts)


def fields_to_run(cfg: Mapping, explicit: Sequence[int] | None, section: str) -> set[int] | None:
    """Fields to keep: ``explicit``, else ``<section>.fields_to_run`` when the user's config sets it;
    ``None`` = all. ``fields_to_exclude`` is applied by the caller."""
    if explicit:
        return {int(f) for f in explicit}
    value = user_config_value(cfg, (section, "fields_to_run"))
    return {int(f) for f in value} if value else None


def user_config_value(cfg, keys: Sequence[str]):
    """A value as set in the user's config file itself (not the defaults), or ``None``."""
    from scope.config import read_yaml

    source = getattr(cfg, "source_path", None)
    if not source:
        return None
    node = read_yaml(Path(source))
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def feature_items(cfg, root: Path, filename: str, quadrant_file: Path, *, fields: Sequence[int] | None = None,
                  counts_file: Path | None = None, memory_per_source_mb: float | None = None,
                  seconds_per_source: float | None = None, floor_memory_gb: float | None = None,
                  floor_time: str | None = None) -> list[WorkItem]:
    """One item per quadrant-file row (key: the row index, what ``--quadrant-index`` reads).

    With counts and a per-source memory or time, big quadrants ask for more than the script's
    ``--mem``/``--time`` (which stay the minimum): memory rounded up to a power of two GB, time to
    whole hours, so that items fall into few array jobs.
    """
    from scope.hpc.quadrants import read_completeness, read_quadrant_file

    rows = read_quadrant_file(quadrant_file)
    keep = fields_to_run(cfg, fields, "feature_generation")
    exclude = {int(f) for f in (cfg.get("fields_to_exclude") or [])}
    counts = {}
    if counts_file is not None and Path(counts_file).is_file() and (memory_per_source_mb or seconds_per_source):
        per_field, has_counts = read_completeness(counts_file)
        if has_counts:
            counts = {(f, c, q): n for f, quads in per_field.items() for (c, q), n in quads.items()}
        else:
            log.warning("%s has no counts (write it with --count-sources): jobs are not sized", counts_file)
    elif memory_per_source_mb or seconds_per_source:
        log.warning("no counts file %s: jobs are not sized by quadrant", counts_file)
    items = []
    for index, (job, field, ccd, quad) in enumerate(rows):
        if (keep is not None and field not in keep) or field in exclude:
            continue
        out = feature_output(root, filename, field, ccd, quad)
        n = counts.get((field, ccd, quad))
        mem, limit = size_job(n, memory_per_source_mb, seconds_per_source, floor_memory_gb, floor_time)
        items.append(WorkItem(key=str(index), label=f"row {index} (field {field} ccd {ccd} quad {quad})",
                              is_done=lambda p=out: parquet_readable(p), memory_gb=mem, time=limit))
    if keep is not None and not items:
        raise DataError(f"no row of {quadrant_file} is in the fields to run ({_fields_text(keep)}); set "
                        "feature_generation.fields_to_run in config.yaml or pass --fields")
    return items


def size_job(n_sources: int | None, memory_per_source_mb: float | None, seconds_per_source: float | None,
             floor_memory_gb: float | None, floor_time: str | None) -> tuple[float | None, str | None]:
    """Memory (GB, a power of two) and time (whole hours) of a job over ``n_sources`` light curves,
    when they exceed the floors; ``None`` keeps the script's."""
    if n_sources is None:
        return None, None
    mem = limit = None
    if memory_per_source_mb:
        need = 1.0 + n_sources * memory_per_source_mb / 1024.0   # ~1 GB for Python and the libraries
        gb = float(2 ** math.ceil(math.log2(need)))
        if floor_memory_gb is None or gb > floor_memory_gb:
            mem = gb
    if seconds_per_source:
        seconds = 3600 * math.ceil(max(1.0, n_sources * seconds_per_source) / 3600)
        floor = parse_slurm_time(floor_time) if floor_time else None
        unlimited = floor_time is not None and floor is None
        if not unlimited and (floor is None or seconds > floor):
            limit = format_slurm_time(seconds)
    return mem, limit
