"""Helpers of the Slurm tests (importable: ``from tests.hpc.helpers import ...``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: the console scripts the generated job lines call
COMMANDS = {
    "generate-features": "tools.generate_features",
    "scope-train": "tools.scope_train",
    "run-inference": "tools.run_inference",
    "combine-preds": "tools.combine_preds",
    "create-training-script": "tools.create_training_script",
    "create-inference-script": "tools.create_inference_script",
    "generate-features-job-submission": "tools.generate_features_job_submission",
    "train-algorithm-job-submission": "tools.train_algorithm_job_submission",
    "run-inference-job-submission": "tools.run_inference_job_submission",
}

_cluster: bool | None = None


def slurm_reachable() -> bool:
    """True when a Slurm controller answers ``sinfo`` (once per session)."""
    global _cluster
    if _cluster is None:
        _cluster = False
        if shutil.which("sinfo") and shutil.which("sbatch"):
            try:
                proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
                _cluster = proc.returncode == 0 and bool(proc.stdout.strip())
            except (OSError, subprocess.TimeoutExpired):
                _cluster = False
    return _cluster


def write_wrappers(folder: Path, commands: dict[str, str]) -> Path:
    """Executables ``<folder>/<command>`` running ``python -m <module>`` of this checkout."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, module in commands.items():
        path = folder / name
        path.write_text(f'#!/bin/bash\nexport PYTHONPATH="{REPO}${{PYTHONPATH:+:$PYTHONPATH}}"\n'
                        f'exec "{sys.executable}" -m {module} "$@"\n')
        path.chmod(0o755)
    return folder


def make_demo(folder: Path, *flags: str) -> Path:
    from tools.scope_demo_data import main

    assert main(["--output-dir", str(folder), "-q", *flags]) == 0
    return folder


def copy_demo(src: Path, dst: Path) -> Path:
    """A private copy of a demo folder (its config names the archive and catalogs relative to itself)."""
    shutil.copytree(src, dst)
    return dst


# -- round trips of generated job lines -------------------------------------------------------
_CANDIDATES = ("1.25", "7", "true", "0.5")
# a string value that needs quoting, with a '$' that must reach the command unexpanded
_TEXT = "x y'$HOME.parquet"


def _sample_one(action) -> list[str]:
    """Tokens giving ``action`` a value other than its default (the first long flag)."""
    import argparse

    flag = next((s for s in action.option_strings if s.startswith("--")), action.option_strings[0])
    if isinstance(action, argparse.BooleanOptionalAction):
        return ["--no-" + flag[2:]] if action.default is None or action.default else [flag]
    if action.nargs == 0:
        return [flag]
    if action.choices:
        value = next(str(c) for c in action.choices if c != action.default)
        words = [value]
    else:
        convert = action.type or str
        value = None
        for cand in ((_TEXT,) if convert is str else _CANDIDATES):
            try:
                converted = convert(cand)
            except Exception:  # noqa: BLE001 - trying which sample the type accepts
                continue
            if converted != action.default:
                value = cand
                break
        assert value is not None, f"no sample value for {flag}"
        words = [value]
    n = action.nargs
    if n in ("+", "*"):
        words = words * 2
    elif isinstance(n, int):
        words = words * n
    return [flag, *words]


def sample_argv(actions, *, skip=()) -> list[str]:
    """Every option of ``actions`` (but ``skip`` dests) with a non-default value."""
    argv: list[str] = []
    for action in actions:
        if action.dest in skip or not action.option_strings:
            continue
        argv += _sample_one(action)
    return argv


def write_recorder(folder: Path, name: str) -> Path:
    """An executable ``<folder>/<name>`` that writes the arguments it got, as JSON, to ``$ARGV_OUT``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                    "with open(os.environ['ARGV_OUT'], 'a') as fh:\n"
                    "    fh.write(json.dumps(sys.argv[1:]) + '\\n')\n")
    path.chmod(0o755)
    return path


def run_job_script(script: Path, bin_dir: Path, out: Path, **variables) -> list[list[str]]:
    """Run a generated job script with bash (as a job would, ``variables`` exported) and return the
    argument lists its recorder commands received."""
    import os

    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "ARGV_OUT": str(out), **variables}
    out.unlink(missing_ok=True)
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, cwd=script.parent)
    assert proc.returncode == 0, proc.stderr
    import json

    return [json.loads(line) for line in out.read_text().splitlines()]


def parsed(parser, argv) -> dict:
    return vars(parser.parse_args(argv))
