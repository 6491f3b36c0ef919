"""The submission loop on the real test cluster, with a small job script (seconds per job)."""

import json
import subprocess
import threading
import time

import pytest

from scope.errors import ScopeError
from scope.hpc.jobspec import JobSpec, task_variable_lines
from scope.hpc.ledger import Attempt, Ledger, LoopLock
from scope.hpc.loop import LoopOptions, SubmissionLoop, WorkItem
from scope.hpc.slurm import Slurm, SubmissionRefused

pytestmark = pytest.mark.slurm

BODY = """echo "start $QID $(date +%s.%N)" >> events.txt
sleep "${JOB_SECONDS:-1}"
if [ -f "fail_$QID" ]; then echo "item $QID fails on purpose" >&2; exit 3; fi
mkdir -p out && echo done > "out/$QID.txt"
echo "end $QID $(date +%s.%N)" >> events.txt
"""


def make_project(folder, *, extra=(), partition=None, ntasks=None):
    folder.mkdir(parents=True, exist_ok=True)
    spec = JobSpec(job_name="t", output=str(folder / "logs" / "t_%A_%a.out"),
                   error=str(folder / "logs" / "t_%A_%a.err"), chdir=str(folder), memory_gb=0.25, time="00:05:00",
                   partition=partition, ntasks_per_node=ntasks, extra=list(extra),
                   commands=task_variable_lines("QID") + BODY.splitlines())
    (folder / "logs").mkdir(exist_ok=True)
    script = folder / "slurm" / "slurm.sub"
    script.parent.mkdir(exist_ok=True)
    script.write_text(spec.render())
    return script


def items_for(folder, n):
    return [WorkItem(key=str(i), label=f"item {i}", is_done=lambda p=folder / "out" / f"{i}.txt": p.exists())
            for i in range(n)]


def loop(script, n, **opts):
    defaults = dict(wait_time_minutes=0.01, submit_interval_seconds=0, max_retries=2)
    defaults.update(opts)
    return SubmissionLoop(script, items_for(script.parent.parent, n), "QID", Slurm(timeout=30, retries=2),
                          LoopOptions(**defaults), "test-loop")


def max_overlap(events_file):
    events = []
    for line in events_file.read_text().splitlines():
        kind, _, stamp = line.split()
        events.append((float(stamp), 1 if kind == "start" else -1))
    running = peak = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        running += step
        peak = max(peak, running)
    return peak


def test_throttled_arrays_finish_and_a_rerun_submits_nothing(tmp_path, job_env):
    script = make_project(tmp_path / "p")
    summary = loop(script, 5, max_instances=2).run()
    assert summary.ok and summary.done == 5 and summary.submitted == 5
    assert max_overlap(tmp_path / "p" / "events.txt") <= 2
    arrays = Ledger(script.parent).arrays.values()
    # arrays of at most twice the limit, each throttled so that the limit holds across arrays
    assert sum(a["size"] for a in arrays) == 5 and all(a["size"] <= 4 and 1 <= a["throttle"] <= 2 for a in arrays)
    before = (script.parent / "jobs.json").read_text()
    again = loop(script, 5, max_instances=2).run()
    assert again.ok and again.done == 5 and again.submitted == 0
    assert json.loads((script.parent / "jobs.json").read_text())["arrays"] == json.loads(before)["arrays"]


def test_failures_are_retried_then_reported_with_their_log(tmp_path, job_env, caplog):
    script = make_project(tmp_path / "p")
    (tmp_path / "p" / "fail_1").write_text("")
    summary = loop(script, 3, max_retries=1, max_instances=3).run()
    assert summary.done == 2 and not summary.ok
    [(item, record)] = summary.gave_up
    assert item.key == "1" and len(record.attempts) == 2 and all(a.state == "FAILED" for a in record.attempts)
    log = record.last.log_err
    assert "item 1 fails on purpose" in open(log).read()
    assert f"gave up on item 1 after 2 attempts (last: FAILED, exit code 3:0); log: {log}" in caplog.text


def test_a_cancelled_job_is_resubmitted(tmp_path, job_env, monkeypatch):
    monkeypatch.setenv("JOB_SECONDS", "4")
    script = make_project(tmp_path / "p")
    result = {}
    worker = threading.Thread(target=lambda: result.update(s=loop(script, 2, max_instances=2).run()))
    worker.start()
    killed = None
    deadline = time.time() + 60
    while killed is None and time.time() < deadline:
        ledger = script.parent / "jobs.json"
        if ledger.exists():
            first = json.loads(ledger.read_text())["items"].get("0", {}).get("attempts", [])
            if first:
                job = first[0]["job"]
                out = subprocess.run(["squeue", "-h", "-r", "-j", job.split("_")[0], "-o", "%i %T"],
                                     capture_output=True, text=True).stdout.split()
                if job in out and out[out.index(job) + 1] == "RUNNING":
                    subprocess.run(["scancel", job], check=True)
                    killed = job
        time.sleep(0.2)
    worker.join(120)
    assert killed, "the job never ran"
    summary = result["s"]
    assert summary.ok and summary.done == 2 and summary.resubmitted == 1
    attempts = Ledger(script.parent).items["0"].attempts
    assert [a.state for a in attempts] == ["CANCELLED", "COMPLETED"] and attempts[0].job == killed


def test_work_in_flight_is_never_submitted_twice(tmp_path, job_env, monkeypatch):
    monkeypatch.setenv("JOB_SECONDS", "3")
    script = make_project(tmp_path / "p")
    first = loop(script, 3, once=True).run()        # submits, then leaves (as from cron)
    assert first.submitted == 3
    second = loop(script, 3, once=True).run()       # the jobs are still queued or running
    assert second.submitted == 0 and second.running + second.pending + second.done == 3
    holder = LoopLock(script.parent)
    assert holder.acquire()
    try:  # a loop started while another one runs does nothing
        blocked = loop(script, 3).run()
        assert blocked.locked_by and blocked.submitted == 0
    finally:
        holder.release()
    final = loop(script, 3).run()
    assert final.ok and final.done == 3 and final.submitted == 0
    assert all(len(r.attempts) == 1 for r in Ledger(script.parent).items.values())


def test_single_jobs_and_serial_runs(tmp_path, job_env):
    script = make_project(tmp_path / "single")
    summary = loop(script, 2, use_array=False, max_instances=1).run()
    assert summary.ok and summary.done == 2
    ledger = Ledger(script.parent)
    assert not ledger.arrays and all(r.last.job.isdigit() for r in ledger.items.values())
    assert all((tmp_path / "single" / "logs" / f"t_{k}_{r.last.job}.err").exists() for k, r in ledger.items.items())

    serial = make_project(tmp_path / "serial")
    summary = loop(serial, 2, run_parallel=False).run()
    assert summary.ok and summary.done == 2
    assert all(r.last.job == "local" for r in Ledger(serial.parent).items.values())


def test_a_timed_out_job_gets_twice_the_time(tmp_path, job_env):
    script = make_project(tmp_path / "p")
    ledger = Ledger(script.parent)
    ledger.record("0").attempts.append(Attempt(job="1", submitted="x", state="TIMEOUT", ended=True, failed=True,
                                               time="00:05:00"))
    ledger.record("1").attempts.append(Attempt(job="2", submitted="x", state="OUT_OF_MEMORY", ended=True,
                                               failed=True, memory_gb=0.25))
    ledger.save()
    summary = loop(script, 2, once=True).run()
    assert summary.submitted == 2
    jobs = {k: r.last.job for k, r in Ledger(script.parent).items.items()}
    shown = {k: subprocess.run(["scontrol", "show", "job", "-o", j], capture_output=True, text=True).stdout
             for k, j in jobs.items()}
    assert "TimeLimit=00:10:00" in shown["0"] and "MinMemoryNode=512M" in shown["1"]
    assert loop(script, 2).run().ok


def test_refusals_are_named(tmp_path, job_env):
    script = make_project(tmp_path / "bad", partition="no-such-partition")
    with pytest.raises(SubmissionRefused, match=r"Slurm refused .*bad/slurm/slurm\.sub.*[Ii]nvalid partition"):
        loop(script, 1).run()
    # accepted, but Slurm would never start it (more cores than the node has)
    stuck = make_project(tmp_path / "stuck", ntasks=64)
    with pytest.raises(ScopeError, match="will never start its jobs as asked"):
        loop(stuck, 1).run()
    job = Ledger(stuck.parent).items["0"].last
    assert job.ended and job.failed
    state = subprocess.run(["squeue", "-h", "-r", "-j", job.job.split("_")[0]], capture_output=True, text=True)
    assert job.job not in state.stdout  # cancelled, not left in the queue
