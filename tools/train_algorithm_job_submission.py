"""train-algorithm-job-submission: submit and watch the training jobs of train-algorithm-slurm until done."""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.train_algorithm_job_submission")

DESCRIPTION = """Train every class of the training script through <dirname>/slurm/slurm.sub: classes whose newest
model in models_<alg>/<group>/<tag>/ reads back are done; the others are submitted (throttled job arrays,
at most --max-instances at once). Failed, timed-out or cancelled jobs are resubmitted up to --max-retries
times, then reported with their log; the loop ends when every class is done or given up (exit status 1 if
any was). Safe to rerun: job ids are recorded in slurm/jobs.json and their state asked of Slurm."""


def get_parser():
    from scope.hpc.arguments import add_loop_arguments

    p = cli.build_parser("train-algorithm-job-submission", DESCRIPTION)
    p.add_argument("--dirname", default="training",
                   help="folder of the scripts (train-algorithm-slurm writes <alg>_<dirname>; relative to the "
                        "current folder, or absolute)")
    p.add_argument("--scriptname", default="train_script.sh", help="training script (the classes to train)")
    p.add_argument("--group-name", default=None,
                   help="look for the models in this group instead of each line's --group")
    p.add_argument("--sweep", action="store_true", help="the jobs run sweeps: a class is done when its job completed")
    p.add_argument("--status", action="store_true", help="report where the training stands; submit nothing")
    add_loop_arguments(p, max_instances=100, wait_minutes=5.0, interval_flag="--submit-interval-seconds",
                       interval_default=5.0)
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from pathlib import Path

    from scope.hpc.arguments import job_script, run_submission_loop
    from scope.hpc.training import parse_training_script, training_items

    cfg = cli.load_config_for(args)
    project = Path.cwd().resolve()
    script = job_script(project / args.dirname, args.filetype, "train-algorithm-slurm")
    lines = parse_training_script(project / args.scriptname, sweep=args.sweep)
    items = training_items(lines, project, group=args.group_name, sweep=args.sweep)
    return run_submission_loop(cfg, args, script, items, "TID", "train-algorithm-job-submission",
                               interval_seconds=args.submit_interval_seconds, submit=not args.status)


if __name__ == "__main__":
    raise SystemExit(main())
