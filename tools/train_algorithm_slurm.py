"""train-algorithm-slurm: write the Slurm scripts that train every class of a training script."""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.train_algorithm_slurm")

DESCRIPTION = """Write <alg>_<dirname>/slurm/slurm.sub (trains the class $TID with its own line of the training
script: every scope-train option of that line, --group and --algorithm included) and slurm_submission.sub
(a job running train-algorithm-job-submission over every class of the script)."""


def get_parser():
    from scope.hpc.arguments import add_cluster_arguments, add_loop_arguments

    p = cli.build_parser("train-algorithm-slurm", DESCRIPTION)
    p.add_argument("--scriptname", default="train_script.sh", help="training script (create-training-script output)")
    p.add_argument("--dirname", default="training", help="folder name: <alg>_<dirname>/{slurm,logs}")
    p.add_argument("--sweep", action="store_true",
                   help="jobs run wandb sweeps (scope-train --run-sweeps); job name <name>_<alg>_sweep")
    p.add_argument("--generateTrainingFile", action="store_true",
                   help="also write slurm/slurm.dat ('<n> <tag>' per class), so that sbatch --array=0-<n-1> "
                        "slurm.sub trains class n in task n without the submission loop")
    add_cluster_arguments(p, job_name="train", memory_gb=64, time="12:00:00", submit_memory_gb=16, ncore=4,
                          gpus=None, gpus_help="GPUs per job (default: 1 for the DNN, 0 for XGBoost)")
    add_loop_arguments(p, max_instances=20, wait_minutes=5.0, interval_flag="--submit-interval-seconds",
                       interval_default=5.0, loop_command=False)
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.hpc.training import write_training_scripts

    cfg = cli.load_config_for(args)
    out = write_training_scripts(cfg, args)
    log.info("%d classes: %s", len(out.tags), " ".join(out.tags))
    log.info("submit the training with: sbatch %s   (or run train-algorithm-job-submission --dirname %s here)",
             out.submission_script, out.root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
