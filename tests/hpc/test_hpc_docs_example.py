"""The runnable example of docs/hpc.md runs as written on the test cluster."""

import re
import subprocess

import pytest

from tests.hpc.helpers import REPO, write_wrappers

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def test_the_demo_example_of_the_hpc_page(tmp_path, job_env):
    text = (REPO / "docs" / "hpc.md").read_text()
    section = text[text.index("## Try it"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    lines = [line for line in block.splitlines() if not line.startswith("source .ci/slurm.sh")]
    write_wrappers(job_env, {"scope-demo-data": "tools.scope_demo_data",
                             "generate-features-slurm": "tools.generate_features_slurm"})
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(lines)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "demo-hpc" / "generated_features"
    assert len(list((out / "field_301").glob("*.parquet"))) == 2
    assert "2 of 2 done" in proc.stderr and "0 jobs submitted" in proc.stderr.splitlines()[-1]
