"""run-inference-job-submission: submit and watch the field jobs of run-inference-slurm until done."""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.run_inference_job_submission")

DESCRIPTION = """Score every field of inference.fields_to_run (minus fields_to_exclude), or --fields, through
<dirname>/slurm/slurm.sub: fields whose preds_<alg>/field_<F>/field_<F>.parquet reads back are done; the
others are submitted as throttled job arrays (at most --max-instances at once). Failed, timed-out or
cancelled jobs are resubmitted up to --max-retries times, then reported with their log; exit status 1 if
any field was given up. Safe to rerun: job ids are recorded in slurm/jobs.json and their state asked of Slurm."""


def get_parser():
    from scope.hpc.arguments import add_loop_arguments

    p = cli.build_parser("run-inference-job-submission", DESCRIPTION)
    p.add_argument("--dirname", default="inference",
                   help="folder of the scripts (run-inference-slurm writes <preds root>/<alg>_<dirname>; relative "
                        "to the preds root, or absolute)")
    p.add_argument("--algorithm", default="dnn", help="dnn or xgb: which preds_<alg>/ holds the results")
    p.add_argument("--fields", nargs="+", default=None, metavar="FIELD",
                   help="fields to score (default: inference.fields_to_run), minus fields_to_exclude")
    p.add_argument("--path-to-preds", default=None,
                   help="folder holding preds_<alg>/ (default: inference.path_to_preds or CWD)")
    p.add_argument("--status", action="store_true", help="report where the inference stands; submit nothing")
    add_loop_arguments(p, max_instances=20, wait_minutes=5.0, interval_flag="--submit-interval-seconds",
                       interval_default=5.0)
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.hpc.arguments import job_script, run_submission_loop
    from scope.hpc.inference import inference_fields, inference_items, preds_root
    from scope.training.options import normalize_algorithm

    cfg = cli.load_config_for(args)
    algorithm = normalize_algorithm(args.algorithm)
    preds = preds_root(cfg, args.path_to_preds)
    script = job_script(preds / args.dirname, args.filetype, "run-inference-slurm")
    items = inference_items(inference_fields(cfg, args.fields), preds, algorithm)
    return run_submission_loop(cfg, args, script, items, "FID", "run-inference-job-submission",
                               interval_seconds=args.submit_interval_seconds, submit=not args.status)


if __name__ == "__main__":
    raise SystemExit(main())
