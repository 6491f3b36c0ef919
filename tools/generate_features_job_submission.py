"""generate-features-job-submission: submit and watch the quadrant jobs of generate-features-slurm until done."""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.generate_features_job_submission")

DESCRIPTION = """Run the rows of <dirname>/slurm/slurm.dat through <dirname>/slurm/slurm.sub: quadrants whose
feature file exists and reads back are done; the others are submitted as throttled Slurm job arrays
(--doSubmit, at most --max-instances at once; --doSubmitLoop: no limit), or run one after the other here
without --runParallel. Failed, timed-out or cancelled jobs are resubmitted up to --max-retries times, then
reported with their log. Safe to rerun (cron): the job ids are recorded in slurm/jobs.json and their state
asked of Slurm, so nothing in flight is submitted twice. Without --doSubmit/--doSubmitLoop: the status only.
Exit status 1 when any quadrant failed for good."""


def get_parser():
    from scope.hpc.arguments import add_loop_arguments

    p = cli.build_parser("generate-features-job-submission", DESCRIPTION)
    p.add_argument("--dirname", default="generated_features",
                   help="feature folder written by generate-features-slurm (relative to the base folder, or absolute)")
    p.add_argument("--filename", default="gen_features", help="feature file prefix (generate-features --filename)")
    p.add_argument("--output-dir", default=None,
                   help="base folder (default: feature_generation.path_to_features or CWD)")
    p.add_argument("--quadrant-file", default=None, help="quadrant file in the script folder (default: <filetype>.dat)")
    p.add_argument("--fields", type=int, nargs="+", default=None, metavar="FIELD",
                   help="only these fields (default: feature_generation.fields_to_run when your config sets it, "
                        "else every row), minus fields_to_exclude")
    add_loop_arguments(p, max_instances=20, wait_minutes=5.0, interval_flag="--submit-interval-minutes",
                       interval_default=1.0, features_flags=True)
    s = p.add_argument_group("job sizes")
    s.add_argument("--counts-file", default=None,
                   help="light curves per quadrant (default: <quadrant file>_counts.json beside it, from "
                        "--count-sources)")
    s.add_argument("--memory-per-source-MB", type=float, default=None,
                   help="a quadrant's job asks for 1 GB + this per light curve (a power of two, at least the "
                        "script's --mem)")
    s.add_argument("--seconds-per-source", type=float, default=None,
                   help="a quadrant's job asks for this per light curve (whole hours, at least the script's --time)")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from pathlib import Path

    from scope.hpc.arguments import job_script, run_submission_loop
    from scope.hpc.features import counts_path_for, feature_items
    from scope.hpc.jobspec import memory_gigabytes, read_header

    cfg = cli.load_config_for(args)
    root = cli.base_dir(cfg, args.output_dir) / args.dirname
    script = job_script(root, args.filetype, "generate-features-slurm")
    quadrant_file = script.parent / (args.quadrant_file or f"{args.filetype}.dat")
    header = read_header(script.read_text())
    counts = Path(args.counts_file) if args.counts_file else counts_path_for(quadrant_file)
    items = feature_items(cfg, root.resolve(), args.filename, quadrant_file, fields=args.fields, counts_file=counts,
                          memory_per_source_mb=args.memory_per_source_MB, seconds_per_source=args.seconds_per_source,
                          floor_memory_gb=memory_gigabytes(header["mem"]) if header.get("mem") else None,
                          floor_time=header.get("time"))
    return run_submission_loop(cfg, args, script, items, "QID", "generate-features-job-submission",
                               interval_seconds=60.0 * args.submit_interval_minutes,
                               submit=bool(args.doSubmit or args.doSubmitLoop), run_parallel=args.runParallel)


if __name__ == "__main__":
    raise SystemExit(main())
