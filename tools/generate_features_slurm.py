"""generate-features-slurm: write the Slurm scripts (and the quadrant file) of a survey-scale feature run."""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.generate_features_slurm")

DESCRIPTION = """Write <base>/<dirname>/slurm/slurm.sub (one generate-features job; in quadrant-file mode each
array task or job runs its own row, --quadrant-index $QID) and slurm_submission.sub (a job running
generate-features-job-submission), and with --generateQuadrantFile the quadrant file slurm.dat of every
populated quadrant (local archive or Kowalski; --field-list limits the fields). Every generate-features
option given here is passed to the jobs exactly; options not given are not written."""


def build():
    """The parser and the generate-features options it inherited."""
    from scope.hpc.arguments import add_cluster_arguments, add_loop_arguments
    from scope.hpc.passthrough import inherit_arguments
    from tools.generate_features import get_parser as features_parser

    p = cli.build_parser("generate-features-slurm", DESCRIPTION)
    inherited = inherit_arguments(p, features_parser(), title="generate-features")
    add_cluster_arguments(p, job_name="ztf_fg", memory_gb=180, time="48:00:00", submit_memory_gb=16, own_ncore=False,
                          gpus_help="GPUs per job (default: 1 with --doGPU, 0 with --doCPU); the cores are "
                                    "generate-features' --Ncore (--ntasks-per-node)")
    q = p.add_argument_group("quadrant file")
    q.add_argument("--generateQuadrantFile", action="store_true",
                   help="scan the fields and write the quadrant file (<job> <field> <ccd> <quad> per populated "
                        "quadrant) named by --quadrant-file into the slurm folder; the jobs then use it")
    q.add_argument("--field-list", type=int, nargs="+", default=None, metavar="FIELD",
                   help="fields of the quadrant file (default: every field of the archive, or 0-1999 on Kowalski)")
    q.add_argument("--count-sources", action="store_true",
                   help="also keep the light curves per quadrant in slurm/<quadrant file>_counts.json (sizes the "
                        "jobs with --memory-per-source-MB / --seconds-per-source)")
    add_loop_arguments(p, max_instances=20, wait_minutes=5.0, interval_flag="--submit-interval-minutes",
                       interval_default=1.0, features_flags=True, loop_command=False)
    s = p.add_argument_group("job sizes (written into the submission script)")
    s.add_argument("--memory-per-source-MB", type=float, default=None,
                   help="with counts: a quadrant's job asks for 1 GB + this per light curve (a power of two, at "
                        "least --memory-GB)")
    s.add_argument("--seconds-per-source", type=float, default=None,
                   help="with counts: a quadrant's job asks for this per light curve (whole hours, at least --time)")
    return p, inherited


def get_parser():
    return build()[0]


def main(argv=None) -> int:
    from scope.hpc.arguments import run_generator

    return run_generator(build, _body, argv)


def _body(args, inherited, given) -> int:
    from scope.hpc.features import write_feature_scripts

    cfg = cli.load_config_for(args)
    out = write_feature_scripts(cfg, args, inherited, given, progress=not args.quiet)
    if out.quadrant_file is not None and out.n_quadrants is not None:
        log.info("quadrant file: %s (%d quadrants)%s", out.quadrant_file, out.n_quadrants,
                 f"; counts: {out.counts_file}" if out.counts_file else "")
    log.info("job script: %s", out.job_script)
    if out.submission_script is not None:
        log.info("submit the whole run with: sbatch %s   (or run generate-features-job-submission --dirname %s "
                 "--doSubmit --runParallel here)", out.submission_script, out.root)
    else:
        log.info("submit it with: sbatch %s", out.job_script)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
