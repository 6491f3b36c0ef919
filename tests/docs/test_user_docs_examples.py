"""Every command line of the reference user docs that needs neither Fritz, Slurm nor a GPU runs as written.

The lines live in ``tests/data/user_docs_examples.yaml`` with the docs section each comes from. Each
``run`` line runs through bash, unedited (only the docs' ``<field_number>``-style placeholders are
filled in), in one working directory on a tiny demo sky prepared the way a user would: scope-demo-data,
scope-initialize, ids, features, a training set and models. Its ``config.yaml`` maps the paths the
lines name (``data/training/dataset.d15.csv``, a local features catalog for get-features); the example
inputs in ``tools/`` list objects of the demo sky. Console scripts run from this repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import REAL_DATA, REPO

EXAMPLES = yaml.safe_load((REAL_DATA / "user_docs_examples.yaml").read_text())
KINDS = {"run", "xfail", "gpu", "fritz", "slurm", "not-a-command"}
SCRIPTS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
LEGACY_DNN = REAL_DATA / "legacy-models" / "vnv.20240101_000000.h5"
FAST_GRID = ["--doCPU", "--max-freq", "8", "--samples-per-peak", "2", "--Ncore", "2", "--quiet"]
# a tqdm bar redrawn on the same line is not a repeated line
_PROGRESS = re.compile(r"\d+%\||it/s|s/it|\d+/\d+ \[")


def _filled(line: str) -> str:
    for name, value in EXAMPLES["placeholders"].items():
        line = line.replace(f"<{name}>", str(value))
    return line


def _params(kinds):
    out = []
    for i, ex in enumerate(EXAMPLES["examples"]):
        if ex["kind"] not in kinds:
            continue
        marks = [pytest.mark.xfail(strict=True, reason=ex["reason"])] if ex["kind"] == "xfail" else []
        out.append(pytest.param(ex, id=f"{i:02d}-{ex['line'].split()[0]}", marks=marks))
    return out


def test_the_examples_file_lists_every_line_with_a_kind_and_a_reason():
    examples = EXAMPLES["examples"]
    assert len(examples) == 39
    for ex in examples:
        assert ex["kind"] in KINDS and ex["section"], ex
        if ex["kind"] != "run":
            assert ex.get("reason"), ex
        first = ex["line"].split()[0]
        if ex["kind"] in ("run", "xfail"):
            assert first in SCRIPTS or first == "./get_all_preds.sh", ex
    gpu = [ex["line"] for ex in examples if ex["kind"] == "gpu"]
    assert gpu and all("--doGPU" in line or "--gpu 1" in line for line in gpu)
    fritz = [ex["line"] for ex in examples if ex["kind"] == "fritz"]
    assert all("scope" in line.split()[0] or "gcn_cronjob" in line for line in fritz)


# ------------------------------------------------------------------------------------------------
def _wrappers(folder: Path) -> Path:
    """Every console script as a tiny wrapper running this repository's module with this Python."""
    folder.mkdir()
    for name, entry in SCRIPTS.items():
        module, func = entry.split(":")
        path = folder / name
        path.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import sys; from {module} import {func}; "
                        f"sys.exit({func}())' \"$@\"\n")
        path.chmod(0o755)
    return folder


def _env(bin_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "SCOPE_CONFIG"}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(REPO),
               TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0", WANDB_MODE="disabled")
    return env


def _sh(cmd, work: Path, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout,
                          shell=isinstance(cmd, str), executable="/bin/bash" if isinstance(cmd, str) else None)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def docs_sky(tmp_path_factory):
    """The working directory every documented line runs in, and the environment to run it with."""
    import pandas as pd

    from scope.config import update_user_config
    from scope.idfiles import read_ids
    from scope.tables import read_table

    root = tmp_path_factory.mktemp("docs")
    env = _env(_wrappers(root / "bin"))
    work = root / "scope"
    work.mkdir()
    # a tiny sky (2 CCDs x 4 quadrants, a short survey) with enough variables for --min-count 100
    _sh(["scope-demo-data", "--field", "301", "--n-per-quad", "40", "--years", "0.7", "--seed", "11"], work, env)
    _sh(["scope-initialize"], work, env)  # keeps the demo's config.yaml, writes tools/ and the defaults copy
    update_user_config(work / "config.yaml", {
        "data": {"features_path": "generated_features/field_301"},  # get-features reads the local catalog
        "training": {"dataset": "data/training/dataset.d15.csv",    # the docs' training-set path
                     "dnn": {"patience": 2}},                      # --epochs 100 stops early
    })
    _sh(["get-quad-ids", "--field", "301", "--multi-quads", "--minobs", "20"], work, env)
    _sh(["get-quad-ids", "--field", "301", "--whole-field"], work, env)
    # features of every quadrant but ccd 2 / quad 4, which the docs' generate-features line computes
    for ccd in (1, 2):
        for quad in (1, 2, 3, 4):
            if (ccd, quad) != (2, 4):
                _sh(["generate-features", "--field", "301", "--ccd", str(ccd), "--quad", str(quad), *FAST_GRID],
                    work, env)
    ids = read_ids(work / "ids" / "field_301" / "data_ccd_01_quad_1.h5").tolist()
    pd.DataFrame({"ztf_id": ids[:6]}).to_csv(work / "specific_sources.csv", index=False)
    _sh(["generate-features", "--doSpecificIDs", "--fg-dataset", "specific_sources.csv", *FAST_GRID], work, env)
    # the docs' training-set and pre-trained-model paths
    (work / "data" / "training").mkdir(parents=True)
    features = sorted(str(p.relative_to(work)) for p in (work / "generated_features" / "field_301").glob("*.parquet"))
    _sh(["scope-build-training-set", "--labels", "labels.parquet", "--features", *features, "--output",
         "data/training/dataset.d15.csv"], work, env)
    for target in ("models/experiment/vnv/vnv.20221117_001502.h5",              # scope-train --pre-trained-model
                   "models_dnn/experiment/vnv/vnv.20240101_000000.h5",          # create-training-script's group
                   "models_dnn/nobalance_DR16_DNN_stats/vnv/vnv.20240101_000000.h5"):  # run-scope-local's DNN group
        (work / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(LEGACY_DNN, work / target)
    for tag in ("vnv", "pnp"):
        _sh(["scope-train", "--tag", tag, "--algorithm", "xgb", "--path-dataset", "data/training/dataset.d15.csv",
             "--skip-cv", "--save"], work, env)
    # the run-scope-local lines' groups; each algorithm finds models in either group, whichever it reads
    for group in ("DR16_stats", "nobalance_DR16_DNN_stats"):
        shutil.copytree(work / "models_xgb" / "experiment", work / "models_xgb" / group)
    _sh(["create-inference-script", "--group-name", "experiment", "--algorithm", "xgb", "--feature-directory",
         "generated_features", "--filename", "get_all_preds.sh"], work, env)
    # the example inputs of run-scope-local name objects of the demo sky
    positions = read_table(work / "ztf_archive" / "truth.parquet")
    pd.DataFrame({"ztf_id": ids[6:9], "obj_id": ["obj_4", "obj_5", "obj_6"]}).to_csv(
        work / "tools" / "local_scope_ztfid.csv", index=False)
    sample = positions.iloc[[0, 7, 13]]
    pd.DataFrame({"ra": sample["ra"].to_numpy(), "dec": sample["dec"].to_numpy(),
                  "obj_id": ["obj_1", "obj_2", "obj_3"]}).to_csv(work / "tools" / "local_scope_radec.csv", index=False)
    return work, env


def _repeated(output: str) -> list[str]:
    lines = [ln.strip() for chunk in output.splitlines() for ln in chunk.split("\r")]
    lines = [ln for ln in lines if ln and not _PROGRESS.search(ln)]
    return sorted({ln for ln in lines if lines.count(ln) > 1})


@pytest.mark.slow
@pytest.mark.parametrize("example", _params({"run", "xfail"}))
def test_documented_line_runs_as_written(docs_sky, example):
    work, env = docs_sky
    line = _filled(example["line"])
    proc = subprocess.run(line, shell=True, executable="/bin/bash", cwd=work, env=env, capture_output=True,
                          text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{line}\n{output[-4000:]}"
    for pattern in example.get("expect", []):
        assert list(work.glob(pattern)), f"{line} wrote no {pattern}"
    assert not _repeated(output), f"{line} printed these lines more than once: {_repeated(output)}"
