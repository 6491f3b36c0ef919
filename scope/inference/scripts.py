"""``get_all_preds_<alg>.sh``: one run-inference call over every class of a model group.

The script takes a field number (or ``specific_ids`` / ``<dateobs>_specific_ids``) as its only
argument. Differences from the reference generator (spec §3.5, §9.17):

- the script first changes into the project folder it was written for (found relative to the
  script itself) and names models relative to it, so a project folder can be moved or copied to a
  cluster and its scripts still work;
- ``--use-custom-python`` runs ``<python> -m tools.run_inference`` (the reference wrote
  ``<python> run-inference``, which Python reads as a file name);
- folders of a group that hold no model (``sweeps/``, leftovers) are skipped, and the newest
  model is picked by the time stamp in its name, not by file time;
- the script stops at the first error (``set -euo pipefail``) and prints a usage line without an
  argument. It holds no credentials: tokens stay in config files and the environment;
- every message is a line of its own (the reference's ``echo -n`` glued run-inference's log to it).
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import shlex
from pathlib import Path
from typing import Mapping, Sequence

from scope.errors import DataError
from scope.inference.models import newest_models

log = logging.getLogger(__name__)


def _rel(path: Path, start: Path) -> str:
    try:
        return os.path.relpath(Path(path).resolve(), start.resolve())
    except ValueError:  # another drive (Windows); keep it absolute
        return str(Path(path).resolve())


def render_script(models: Sequence[tuple[str, Path]], *, algorithm: str, script_dir: Path, project_dir: Path,
                  scale_features: str = "min_max", feature_directory: str = "features", write_csv: bool = False,
                  batch_size: int = 100000, period_suffix: str | None = None, python: str | None = None,
                  config_path: str | Path | None = None, group: str = "", extra: str = "") -> str:
    """Text of the inference script.

    Parameters
    ----------
    models : sequence of (tag, path)
        The models, in the order their columns should appear.
    algorithm : str
        ``dnn`` or ``xgb``.
    script_dir : path
        Folder the script will live in.
    project_dir : path
        Folder the script runs in (model and config paths are written relative to it).
    python : str, optional
        Interpreter to run ``-m tools.run_inference`` with (default: the ``run-inference`` command).
    config_path : path, optional
        Config passed with ``--config-path``.
    extra : str
        Further run-inference options appended verbatim.
    """
    import scope

    command = f"{shlex.quote(str(python))} -m tools.run_inference" if python else "run-inference"
    paths = " ".join(shlex.quote(_rel(p, project_dir)) for _, p in models)
    tags = " ".join(shlex.quote(t) for t, _ in models)
    common = (f"--scale-features {shlex.quote(str(scale_features))} --feature-directory {shlex.quote(feature_directory)} "
              f"--period-suffix {shlex.quote(str(period_suffix))} --batch-size {int(batch_size)}")
    if algorithm == "xgb":
        options = f"--paths-models {paths} --model-class-names {tags} {common} --xgb-model --field \"$1\" --whole-field --flag-ids"
    else:
        options = f"--paths-models {paths} --model-class-names {tags} --field \"$1\" --whole-field --flag-ids {common}"
    if write_csv:
        options += " --write-csv"
    if config_path:
        options += f" --config-path {shlex.quote(_rel(Path(config_path), project_dir))}"
    if extra:
        options += f" {extra}"
    to_project = _rel(project_dir, script_dir)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        "#!/bin/bash",
        f"# Call script followed by field number, e.g: ./{'get_all_preds_' + algorithm}.sh 301",
        "# (or specific_ids / <dateobs>_specific_ids for features of a source list).",
        f"# Written by create-inference-script (SCoPe {getattr(scope, '__version__', '?')}) on {stamp}"
        + (f" for models_{algorithm}/{group}" if group else "") + f": {len(models)} classes.",
        "# It runs in the project folder it was written for; paths are relative to that folder.",
        "set -euo pipefail",
        'if [ "$#" -lt 1 ]; then',
        '  echo "usage: $0 <field number | specific_ids>" >&2',
        "  exit 2",
        "fi",
        f'cd "$(dirname "$0")"{"/" + shlex.quote(to_project) if to_project != "." else ""}',
        f'echo "{algorithm} inference"',
        # one line each: run-inference logs to stderr, and "echo -n" glued its lines onto ours
        f'echo "Running inference of {len(models)} {algorithm} model(s) on $1..."',
        f"{command} {options}",
        'echo "done"',
        "",
    ]
    return "\n".join(lines)


def write_inference_script(cfg: Mapping, *, filename: str | Path | None = None, group_name: str = "experiment",
                           algorithm: str = "dnn", models_dir: str | Path | None = None, overwrite: bool = False,
                           **render_kw) -> Path:
    """Write ``get_all_preds_<alg>.sh`` (executable) for a model group and return its path.

    ``render_kw`` go to :func:`render_script`. The file is created exclusively unless
    ``overwrite`` (as the reference, which refused to replace an existing script).
    """
    from scope.tables import atomic_write
    from scope.training.options import normalize_algorithm

    from scope.training.backends import warn_if_missing

    algorithm = normalize_algorithm(algorithm)
    warn_if_missing(algorithm, "the run-inference lines", log)
    models_dir = Path(models_dir) if models_dir else Path.cwd()
    path = Path(filename) if filename else Path(f"get_all_preds_{algorithm}.sh")
    if path.exists() and not overwrite:
        raise DataError(f"{path} already exists: remove it or pass --overwrite")
    from scope.tables import ensure_writable_dir

    ensure_writable_dir(path.absolute().parent, create=False)
    models = newest_models(cfg, models_dir, group_name, algorithm)
    text = render_script(models, algorithm=algorithm, script_dir=path.resolve().parent, project_dir=Path.cwd(),
                         group=group_name, **render_kw)
    with atomic_write(path, "w") as fh:
        fh.write(text)
    os.chmod(path, os.stat(path).st_mode | 0o111)
    log.info("wrote %s: %d %s models of group %s (%s)", path, len(models), algorithm, group_name,
             ", ".join(t for t, _ in models))
    return path
