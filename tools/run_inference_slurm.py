"""run-inference-slurm: write the Slurm scripts that score fields with trained models."""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.run_inference_slurm")

DESCRIPTION = """Write <preds root>/<alg>_<dirname>/slurm/slurm.sub (scores the field $FID) and slurm_submission.sub
(a job running run-inference-job-submission over inference.fields_to_run, or --fields). A job runs the
get_all_preds script (--scriptname, create-inference-script's output) with the field number or, when
run-inference options are given here (--group-name, --paths-models ...), run-inference itself with exactly
those options and --field $FID."""


def build():
    from scope.hpc.arguments import add_cluster_arguments, add_loop_arguments
    from scope.hpc.passthrough import inherit_arguments
    from tools.run_inference import get_parser as inference_parser

    p = cli.build_parser("run-inference-slurm", DESCRIPTION)
    inherited = inherit_arguments(p, inference_parser(), skip={"algorithm", "field"}, title="run-inference")
    p.add_argument("--scriptname", default=None,
                   help="inference script run as '<script> $FID' (default: get_all_preds_<alg>.sh); not used when "
                        "run-inference options are given")
    p.add_argument("--dirname", default="inference", help="folder name: <preds root>/<alg>_<dirname>/{slurm,logs}")
    p.add_argument("--algorithm", default="dnn",
                   help="dnn or xgb: names the folder and jobs; passed to run-inference when given")
    p.add_argument("--fields", nargs="+", default=None, metavar="FIELD",
                   help="fields for the submission loop (default: inference.fields_to_run)")
    add_cluster_arguments(p, job_name="run_inference", memory_gb=64, time="24:00:00", submit_memory_gb=16, ncore=8,
                          gpus=None, gpus_help="GPUs per job (default: 1 for the DNN, 0 for XGBoost)")
    add_loop_arguments(p, max_instances=20, wait_minutes=5.0, interval_flag="--submit-interval-seconds",
                       interval_default=5.0, loop_command=False)
    return p, inherited


def get_parser():
    return build()[0]


def main(argv=None) -> int:
    from scope.hpc.arguments import run_generator

    return run_generator(build, _body, argv)


def _body(args, inherited, given) -> int:
    from scope.hpc.inference import write_inference_scripts

    cfg = cli.load_config_for(args)
    out = write_inference_scripts(cfg, args, inherited, given)
    log.info("job line: %s", out.job_line)
    log.info("submit the inference with: sbatch %s   (or run run-inference-job-submission --dirname %s here)",
             out.submission_script, out.root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
