"""Flag groups shared by the Slurm commands (reference names, defaults per command family)."""

from __future__ import annotations

import argparse
from typing import Mapping

from scope.hpc.loop import LoopOptions


def add_cluster_arguments(parser: argparse.ArgumentParser, *, job_name: str, memory_gb: float, time: str,
                          submit_memory_gb: float | None = 16, ncore: int | None = None, own_ncore: bool = True,
                          gpus: int | None = None, gpus_help: str = "GPUs per job", submission: bool = True) -> None:
    """The resource flags of a generator."""
    g = parser.add_argument_group("Slurm resources")
    g.add_argument("--job-name", default=job_name, help="name of the jobs (<name>.job)")
    g.add_argument("--cluster-name", default=None,
                   help="cluster preset from config slurm.clusters (Expanse, Delta, plain, or your own); "
                        "default: slurm.cluster_name (Expanse)")
    g.add_argument("--partition-type", default=None, help="partition of the jobs (default: the preset's)")
    g.add_argument("--nodes", type=int, default=1, help="nodes per job")
    if own_ncore:
        g.add_argument("--Ncore", type=int, default=ncore, help="tasks (cores) per node of each job")
    g.add_argument("--gpus", type=int, default=gpus, help=gpus_help)
    g.add_argument("--memory-GB", type=float, default=memory_gb, help="memory per job, GB")
    g.add_argument("--time", default=time, help="time limit per job (HH:MM:SS)")
    if submission:
        g.add_argument("--submit-partition-type", default=None,
                       help="partition of the submission job (default: the preset's)")
        g.add_argument("--submit-nodes", type=int, default=None, help="nodes of the submission job")
        g.add_argument("--submit-Ncore", type=int, default=None, help="cores of the submission job")
        g.add_argument("--submit-memory-GB", type=float, default=submit_memory_gb,
                       help="memory of the submission job, GB")
        g.add_argument("--submit-time", default=None, help="time limit of the submission job (default: --time)")
    g.add_argument("--mail-user", default=None, help="e-mail address for Slurm's job mails (none unless given)")
    g.add_argument("--account-name", default=None, help="allocation account, -A (none unless given)")
    g.add_argument("--python-env-name", default=None,
                   help="environment activated in the jobs (default: the preset's: scope-env on Expanse and "
                        "Delta; plain: none, the jobs inherit the submitting shell's environment)")


def add_loop_arguments(parser: argparse.ArgumentParser, *, max_instances: int = 20, wait_minutes: float = 5.0,
                       interval_flag: str = "--submit-interval-minutes", interval_default: float = 1.0,
                       features_flags: bool = False, loop_command: bool = True) -> None:
    """The flags of a submission loop (on the loop command, or on a generator that writes its line)."""
    unit = "minutes" if interval_flag.endswith("minutes") else "seconds"
    g = parser.add_argument_group("submission loop")
    g.add_argument("--max-instances", type=int, default=max_instances, help="most jobs running at once")
    g.add_argument("--wait-time-minutes", type=float, default=wait_minutes, help="minutes between status checks")
    g.add_argument(interval_flag, type=float, default=interval_default,
                   help=f"{unit} between two submissions (one array job, or one single job)")
    if features_flags:
        if loop_command:
            g.add_argument("--doSubmit", action="store_true",
                           help="submit (at most --max-instances at once) and watch until every row is done; "
                                "without --doSubmit/--doSubmitLoop only the status is reported")
        g.add_argument("--doSubmitLoop", action="store_true",
                       help="submit every row at once, without the --max-instances limit (hard on Kowalski)")
        g.add_argument("--runParallel", action="store_true",
                       help="run the rows as Slurm jobs [recommended]; without it they run one after the other "
                            "in the current allocation")
    g.add_argument("--user", default=None, help="whose queue is watched (default: slurm.user, else $USER)")
    g.add_argument("--max-retries", type=int, default=None,
                   help="resubmissions of a failed, timed-out or cancelled job before giving up on it "
                        "(default: slurm.max_retries)")
    g.add_argument("--no-array", action="store_true",
                   help="submit one job per item (sbatch --export=<VAR>=...) instead of throttled job arrays")
    g.add_argument("--max-array-size", type=int, default=None,
                   help="tasks per array job (default: twice --max-instances, at most 1000); keep it below the "
                        "site's MaxArraySize and its limit on queued jobs")
    if loop_command:
        g.add_argument("--once", action="store_true",
                       help="one check and one round of submissions, then exit (for cron)")
        g.add_argument("--reset-running", action="store_true",
                       help="items that used up their retries get them again")
        g.add_argument("-f", "--filetype", default="slurm",
                       help="script folder and name: <dirname>/<filetype>/<filetype>.sub")


def loop_options(args: argparse.Namespace, cfg: Mapping, *, interval_seconds: float, submit: bool = True,
                 run_parallel: bool = True) -> LoopOptions:
    """:class:`LoopOptions` from a loop command's flags and config ``slurm``."""
    section = (cfg or {}).get("slurm") or {}
    retries = args.max_retries if args.max_retries is not None else int(section.get("max_retries", 2))
    unlimited = bool(getattr(args, "doSubmitLoop", False))
    if args.max_instances is not None and args.max_instances < 1 and not unlimited:
        from scope.errors import DataError

        raise DataError(f"--max-instances must be at least 1, got {args.max_instances}")
    return LoopOptions(submit=submit, run_parallel=run_parallel,
                       max_instances=None if unlimited else args.max_instances,
                       wait_time_minutes=max(0.0, args.wait_time_minutes),
                       submit_interval_seconds=max(0.0, interval_seconds), max_retries=max(0, retries),
                       use_array=not args.no_array, max_array_size=args.max_array_size, once=args.once,
                       reset=args.reset_running)


def loop_line_tokens(args: argparse.Namespace, *, interval_flag: str, features_flags: bool = False) -> list[str]:
    """The loop flags a generator writes into ``slurm_submission.sub`` (values always written,
    ``--user``/``--max-retries`` only when given)."""
    tokens: list[str] = []
    if features_flags:
        tokens.append("--doSubmitLoop" if args.doSubmitLoop else "--doSubmit")
        if args.runParallel:
            tokens.append("--runParallel")
    tokens += ["--max-instances", str(args.max_instances), "--wait-time-minutes", f"{args.wait_time_minutes:g}"]
    if args.user:
        tokens += ["--user", str(args.user)]
    interval = getattr(args, interval_flag.lstrip("-").replace("-", "_"))
    tokens += [interval_flag, f"{interval:g}"]
    if args.max_retries is not None:
        tokens += ["--max-retries", str(args.max_retries)]
    if args.no_array:
        tokens.append("--no-array")
    if args.max_array_size is not None:
        tokens += ["--max-array-size", str(args.max_array_size)]
    return tokens


def run_generator(build, body, argv=None) -> int:
    """``main`` of a generator that inherits a target command's flags.

    ``build()`` returns ``(parser, inherited actions)``; ``body(args, inherited, given)`` gets the
    dests the user set (see :func:`scope.hpc.passthrough.given_dests`).
    """
    import sys

    from scope import cli
    from scope.hpc.passthrough import given_dests

    parser, inherited = build()
    argv = list(sys.argv[1:] if argv is None else argv)
    return cli.run(lambda args: body(args, inherited, given_dests(parser, argv)), parser, argv)


def job_script(folder, filetype: str, generator: str):
    """``<folder>/<filetype>/<filetype>.sub``, or a one-line error naming the generator that writes it."""
    from pathlib import Path

    from scope.errors import DataError

    script = (Path(folder) / filetype / f"{filetype}.sub").resolve()
    if not script.is_file():
        raise DataError(f"job script not found: {script} (write it with {generator})")
    return script


def run_submission_loop(cfg: Mapping, args: argparse.Namespace, script, items, variable: str, name: str, *,
                        interval_seconds: float, submit: bool = True, run_parallel: bool = True) -> int:
    """Run a loop command's :class:`~scope.hpc.loop.SubmissionLoop`; exit status 1 if anything gave up."""
    import logging

    from scope.hpc.loop import SubmissionLoop
    from scope.hpc.slurm import Slurm

    opts = loop_options(args, cfg, interval_seconds=interval_seconds, submit=submit, run_parallel=run_parallel)
    summary = SubmissionLoop(script, items, variable, Slurm.from_config(cfg, user=args.user), opts, name).run()
    logging.getLogger(f"tools.{name.replace('-', '_')}").info(summary.line())
    return 0 if summary.ok else 1
