"""combine-preds-slurm: write (and optionally submit) the Slurm job that combines the predictions."""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.combine_preds_slurm")

DESCRIPTION = """Write <dirname>/slurm/slurm.sub: one job running combine-preds with exactly the combine-preds
options given here (options not given are not written). --submit also hands it to sbatch."""


def build():
    from scope.hpc.arguments import add_cluster_arguments
    from scope.hpc.passthrough import inherit_arguments
    from tools.combine_preds import get_parser as combine_parser

    p = cli.build_parser("combine-preds-slurm", DESCRIPTION)
    inherited = inherit_arguments(p, combine_parser(), title="combine-preds")
    p.add_argument("--dirname", default="combine_preds", help="folder of the script: <dirname>/{slurm,logs}")
    add_cluster_arguments(p, job_name="combine_preds", memory_gb=128, time="24:00:00", ncore=1, gpus=0,
                          submission=False)
    s = p.add_argument_group("submission")
    s.add_argument("--submit", action="store_true", help="submit the job with sbatch and print its id")
    s.add_argument("--dependency", default=None,
                   help="with --submit: sbatch --dependency, e.g. afterok:<job id of the inference loop>")
    return p, inherited


def get_parser():
    return build()[0]


def main(argv=None) -> int:
    from scope.hpc.arguments import run_generator

    return run_generator(build, _body, argv)


def _body(args, inherited, given) -> int:
    from scope.errors import DataError
    from scope.hpc.combine import write_combine_script
    from scope.hpc.slurm import Slurm

    if args.dependency and not args.submit:
        raise DataError("--dependency goes with --submit")
    cfg = cli.load_config_for(args)
    out = write_combine_script(cfg, args, inherited, given)
    log.info("job line: %s", out.job_line)
    if args.submit:
        options = [f"--dependency={args.dependency}"] if args.dependency else []
        job = Slurm.from_config(cfg).submit(out.job_script, options=options)
        print(job)
        log.info("submitted %s as job %s", out.job_script, job)
    else:
        log.info("submit it with: sbatch %s", out.job_script)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
