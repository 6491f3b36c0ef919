"""Job specs rendered to batch scripts, read back, and the work-item lines run by bash."""

import subprocess

import pytest

from scope.errors import DataError
from scope.hpc.jobspec import (JobSpec, format_memory, format_slurm_time, memory_gigabytes, parse_slurm_time,
                               read_header, task_variable_lines)


def test_reference_layout_and_nothing_unset():
    spec = JobSpec(job_name="ztf_fg", output="/p/logs/ztf_fg_%A_%a.out", error="/p/logs/ztf_fg_%A_%a.err",
                   chdir="/p", partition="gpu-shared", nodes=1, ntasks_per_node=9, gpus=1, memory_gb=91,
                   time="48:00:00", setup=["module purge"], commands=["echo hi"])
    text = spec.render()
    lines = text.splitlines()
    assert lines[0] == "#!/bin/bash"
    assert lines[1:11] == ["#SBATCH --job-name=ztf_fg.job", "#SBATCH --output=/p/logs/ztf_fg_%A_%a.out",
                           "#SBATCH --error=/p/logs/ztf_fg_%A_%a.err", "#SBATCH --chdir=/p",
                           "#SBATCH -p gpu-shared", "#SBATCH --nodes 1", "#SBATCH --ntasks-per-node 9",
                           "#SBATCH --gpus 1", "#SBATCH --mem 91G", "#SBATCH --time=48:00:00"]
    # no personal defaults: neither mail nor account lines unless given
    assert "mail" not in text and "-A " not in text
    assert lines[-2:] == ["module purge", "echo hi"]
    with_mail = JobSpec(job_name="j", mail_user="me@example.org", account="abc123").render()
    assert "#SBATCH --mail-type=ALL" in with_mail and "#SBATCH --mail-user=me@example.org" in with_mail
    assert "#SBATCH -A abc123" in with_mail


def test_header_reads_back():
    spec = JobSpec(job_name="t", output="/a b/o_%A_%a.out", partition="p", memory_gb=1.5, time="01:00:00",
                   account="acc", chdir="/w")
    header = read_header(spec.render())
    assert header["job-name"] == "t.job"
    assert header["output"] == "/a b/o_%A_%a.out"
    assert header["partition"] == "p" and header["account"] == "acc" and header["chdir"] == "/w"
    assert memory_gigabytes(header["mem"]) == pytest.approx(1.5)
    assert header["time"] == "01:00:00"


@pytest.mark.parametrize("text,seconds", [("30", 1800), ("10:30", 630), ("48:00:00", 172800),
                                          ("2-00", 172800), ("1-02:03:04", 93784), ("UNLIMITED", None)])
def test_slurm_times(text, seconds):
    assert parse_slurm_time(text) == seconds


def test_bad_values_are_refused_by_name():
    with pytest.raises(DataError, match="'two hours' is not a Slurm time"):
        JobSpec(job_name="j", time="two hours").render()
    with pytest.raises(DataError, match="memory request must be positive"):
        JobSpec(job_name="j", memory_gb=0).render()
    with pytest.raises(DataError, match="job name"):
        JobSpec(job_name="two words").render()
    assert format_slurm_time(3601.2) == "01:00:02" and format_memory(16) == "16G" and format_memory(0.5) == "512M"
    assert memory_gigabytes("2048") == 2.0 and memory_gigabytes("1T") == 1024


def _work_item(env: dict, fallback=None) -> subprocess.CompletedProcess:
    script = "\n".join(task_variable_lines("QID", fallback=fallback) + ['echo "item=$QID"'])
    return subprocess.run(["bash", "-c", script], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True,
                          text=True)


def test_work_item_from_task_list_export_or_array_index(tmp_path):
    tasks = tmp_path / "tasks.txt"
    tasks.write_text("17\n42\n5\n")
    assert _work_item({"SCOPE_TASK_LIST": str(tasks), "SLURM_ARRAY_TASK_ID": "1"}).stdout == "item=42\n"
    # a stale exported QID does not override the task list of an array task
    assert _work_item({"SCOPE_TASK_LIST": str(tasks), "SLURM_ARRAY_TASK_ID": "2", "QID": "9"}).stdout == "item=5\n"
    assert _work_item({"QID": "9"}).stdout == "item=9\n"                        # sbatch --export=QID=9
    assert _work_item({"SLURM_ARRAY_TASK_ID": "3"}).stdout == "item=3\n"        # sbatch --array=3
    missing = _work_item({})
    assert missing.returncode == 2 and "no work item" in missing.stderr
    # no fallback: an array index alone is not a work item
    assert _work_item({"SLURM_ARRAY_TASK_ID": "3"}, fallback=[]).returncode == 2
