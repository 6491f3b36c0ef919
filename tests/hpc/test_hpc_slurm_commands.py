"""The Slurm layer against stand-in Slurm commands that misbehave on purpose: transient failures are
retried, hangs time out, a lost answer is found by its comment instead of submitting twice, a
refusal is reported by name. (The real cluster is exercised in test_hpc_slurm_cluster.py.)"""

import json
import os
import sys
import textwrap

import pytest

from scope.hpc.slurm import JobState, Slurm, SlurmError, SlurmUnavailable, SubmissionRefused, SubmitLimitReached

FAKE = textwrap.dedent("""\
    #!{python}
    # a stand-in for {name}: behaviour from $FAKE_MODE, every call logged to $FAKE_LOG
    import json, os, sys, time
    name, mode, log = {name!r}, os.environ.get("FAKE_MODE", ""), os.environ["FAKE_LOG"]
    with open(log, "a") as fh:
        fh.write(json.dumps([name] + sys.argv[1:]) + "\\n")
    calls = sum(1 for line in open(log) if json.loads(line)[0] == name)
    comment = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--comment=")), "")
    if name == "sbatch":
        if mode == "transient" and calls <= 2:
            sys.exit("sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)")
        if mode == "refuse":
            sys.exit("sbatch: error: Batch job submission failed: Invalid partition name specified")
        if mode == "limit":
            sys.exit("sbatch: error: QOSMaxSubmitJobPerUserLimit\\nsbatch: error: Batch job submission failed: "
                     "Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)")
        if mode == "lost":
            open(os.environ["FAKE_LOG"] + ".comment", "w").write(comment)
            sys.exit("sbatch: error: Socket timed out on send/recv operation")
        if mode == "hang":
            time.sleep(30)
        print("123")
    elif name == "squeue":
        if mode == "hang":
            time.sleep(30)
        if "%F|%k" in sys.argv:
            print("555|" + open(os.environ["FAKE_LOG"] + ".comment").read())
        else:
            print("7_0|RUNNING|None")
            print("7_1|PENDING|PartitionConfig")
    elif name == "scontrol":
        job = sys.argv[-1]
        if job == "8":
            print("JobId=9 ArrayJobId=8 ArrayTaskId=0 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15")
            print("JobId=8 ArrayJobId=8 ArrayTaskId=1 JobState=CANCELLED Reason=None ExitCode=0:15")
        else:
            sys.exit("slurm_load_jobs error: Invalid job id specified")
    elif name == "sacct":
        sys.exit("Slurm accounting storage is disabled")
""")


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    folder = tmp_path / "fake-slurm"
    folder.mkdir()
    for name in ("sbatch", "squeue", "scontrol", "sacct", "scancel"):
        path = folder / name
        path.write_text(FAKE.format(python=sys.executable, name=name))
        path.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))

    def calls(name=None):
        if not log.exists():
            return []
        rows = [json.loads(line) for line in log.read_text().splitlines()]
        return [r for r in rows if name is None or r[0] == name]

    return calls


def _script(tmp_path):
    script = tmp_path / "job.sub"
    script.write_text("#!/bin/bash\necho hi\n")
    return script


def test_transient_failures_are_retried(tmp_path, fake_slurm, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "transient")
    slurm = Slurm(timeout=10, retries=3, backoff_seconds=0.01)
    assert slurm.submit(_script(tmp_path), array="0-3%2", export={"SCOPE_TASK_LIST": "/x"}) == "123"
    calls = fake_slurm("sbatch")
    assert len(calls) == 3
    argv = calls[-1]
    assert "--parsable" in argv and "--array=0-3%2" in argv and "--export=ALL,SCOPE_TASK_LIST=/x" in argv
    assert any(a.startswith("--comment=scope:") for a in argv)


def test_retries_run_out(tmp_path, fake_slurm, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "transient")
    with pytest.raises(SlurmUnavailable, match="Unable to contact slurm controller"):
        Slurm(timeout=10, retries=1, backoff_seconds=0.01).submit(_script(tmp_path))
    assert len(fake_slurm("sbatch")) == 2


def test_a_refusal_names_the_script_and_the_reason(tmp_path, fake_slurm, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "refuse")
    with pytest.raises(SubmissionRefused, match=r"Slurm refused .*job\.sub.*Invalid partition name"):
        Slurm(timeout=10, retries=3, backoff_seconds=0.01).submit(_script(tmp_path))
    assert len(fake_slurm("sbatch")) == 1  # a refusal is not retried


def test_a_full_queue_is_told_apart_from_a_refusal(tmp_path, fake_slurm, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "limit")
    with pytest.raises(SubmitLimitReached, match="job submit limit"):
        Slurm(timeout=10, retries=3, backoff_seconds=0.01).submit(_script(tmp_path))


def test_a_lost_answer_is_found_by_its_comment_not_submitted_twice(tmp_path, fake_slurm, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "lost")
    assert Slurm(timeout=10, retries=3, backoff_seconds=0.01).submit(_script(tmp_path)) == "555"
    assert len(fake_slurm("sbatch")) == 1


def test_hanging_commands_time_out(tmp_path, fake_slurm, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "hang")
    slurm = Slurm(timeout=0.5, retries=1, backoff_seconds=0.01)
    with pytest.raises(SlurmUnavailable, match="did not answer within 0.5 s"):
        slurm.states(["7_0"])
    assert len(fake_slurm("squeue")) == 2


def test_states_from_squeue_then_scontrol_then_unknown(fake_slurm):
    slurm = Slurm(timeout=10, retries=0)
    states = slurm.states(["7_0", "7_1", "8_0", "8_1", "99"])
    assert states["7_0"] == JobState("7_0", "RUNNING", "None")
    assert states["7_1"].never_starts and states["7_1"].active
    assert states["8_0"].state == "TIMEOUT" and states["8_0"].ended
    assert states["8_1"].state == "CANCELLED"
    assert states["99"].state == "UNKNOWN" and not states["99"].active and not states["99"].ended
    # sacct said accounting is off: it is not asked again
    assert slurm.states(["99"])["99"].state == "UNKNOWN"
    assert len(fake_slurm("sacct")) == 1


def test_missing_slurm_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SlurmError, match="'sbatch' not found"):
        Slurm().submit(_script(tmp_path))
    assert not Slurm().available()
