"""gcn-cronjob with the features computed as jobs on the real test cluster (``source .ci/slurm.sh``)."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import REPO
from tests.gcn.conftest import RUN_FLAGS

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

SLURM_FLAGS = ["--features-on", "slurm", "--cluster-name", "plain", "--memory-GB", "1", "--time", "00:15:00",
               "--slurm-poll-seconds", "1"]


@pytest.fixture
def job_environment(monkeypatch):
    """What the jobs inherit through sbatch: this checkout importable, quiet TensorFlow, no stale work items."""
    monkeypatch.setenv("PYTHONPATH", f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}".rstrip(os.pathsep))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("QID", "TID", "FID", "SCOPE_TASK_LIST"):
        monkeypatch.delenv(name, raising=False)


def test_features_through_slurm_jobs_then_a_rerun_submits_and_posts_nothing(gcn_env, job_environment):
    from tools.gcn_cronjob import main

    env = gcn_env
    assert main([*RUN_FLAGS, *SLURM_FLAGS]) == 0
    slurm_dir = env.dir / "generated_features_GCN_sources" / "slurm"
    script = (slurm_dir / "gcn_features.sub").read_text()
    assert "-m tools.generate_features" in script and '"$FID"' in script and "--doSpecificIDs" in script
    assert "ssh" not in script and "scp" not in script and "rsync" not in script
    ledger = json.loads((slurm_dir / "jobs.json").read_text())["items"]
    assert len(ledger) == 2  # one job per event, both events side by side
    assert all(len(r["attempts"]) == 1 and r["attempts"][0]["job"] != "local" for r in ledger.values())
    posted = env.posted()
    assert any(posted[o] for o in env.gw_sources) and any(posted[o] for o in env.grb_sources)
    assert not list((env.dir / "generated_features_GCN_sources" / "specific_ids").glob("gcn_batch_*"))

    env.server.reset_log()
    assert main([*RUN_FLAGS, *SLURM_FLAGS]) == 0
    assert json.loads((slurm_dir / "jobs.json").read_text())["items"] == ledger
    assert env.writes() == [] and env.posted() == posted
