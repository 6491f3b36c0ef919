"""The README's main job, end to end, on a smaller demo sky (scripts/run_demo.sh)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _scores(report: str) -> dict:
    out = {}
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 9 and re.fullmatch(r"[a-z0-9]+", cells[0]) and cells[2] in ("xgb", "dnn"):
            out[(cells[0], cells[2])] = {"precision": float(cells[6]), "recall": float(cells[7]),
                                         "roc_auc": float(cells[8])}
    return out


@pytest.mark.slow
def test_main_job_on_a_small_demo_sky(tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("bash is needed")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SCOPE_CONFIG", None)
    env.update(SCOPE_DEMO_FLAGS="--n-per-quad 90 --seed 5", SCOPE_DEMO_GRID="--max-freq 30 --samples-per-peak 3",
               SCOPE_DEMO_XGB_MIN_COUNT="60", SCOPE_DEMO_DNN_MIN_COUNT="200", SCOPE_DEMO_DNN_EPOCHS="15")
    work = tmp_path / "demo"
    proc = subprocess.run(["bash", str(REPO / "scripts" / "run_demo.sh"), str(work)], env=env,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for rel in ["preds_xgb/field_301/field_301.parquet", "preds_dnn/field_301/field_301.parquet",
                "preds_dnn_xgb/field_301.parquet", "train_xgb.sh", "train_dnn.sh", "get_all_preds_xgb.sh",
                "report/report.md", "report/confusion_matrices.png"]:
        assert (work / rel).exists(), rel
    scores = _scores((work / "report" / "report.md").read_text())
    # a smaller sky and a coarser grid than `make demo`: bounds a broken pipeline cannot reach
    for tag in ("vnv", "pnp"):
        s = scores[(tag, "xgb")]
        assert s["precision"] >= 0.85 and s["recall"] >= 0.8 and s["roc_auc"] >= 0.93, (tag, s)
    assert scores[("vnv", "dnn")]["roc_auc"] >= 0.9
