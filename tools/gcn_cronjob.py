"""gcn-cronjob (also gcn_cronjob, python -m scope.gcn): classify the ZTF sources near new GCN events and post
the classifications to Fritz; safe to run from cron every two hours (see docs/gcn.md).

Examples::

    gcn-cronjob --daysAgo 3 --doCPU --Ncore 8
    gcn-cronjob --dateobs 2023-05-21T05:30:43 --doNotPost
    gcn-cronjob --features-on slurm --cluster-name plain --memory-GB 8 --time 01:00:00
"""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.gcn_cronjob")

DESCRIPTION = """Find the GCN events on Fritz of the last --daysAgo days (or the one at --dateobs), the ZTF
light curves near the Fritz sources in each event's localization, compute the features of those not
classified yet (here, or as Slurm jobs with --features-on slurm), apply the configured DNN and XGB models,
combine the predictions per source, and post the classifications scoring at least --p-threshold (with the
light curves' plots as comments) to the Fritz groups of the event's type (config gcn.event_types). A lock
keeps overlapping runs apart (the second exits at once with status 75); every step's failure is logged
with the event and its sources and makes the exit status 1 while the other events go on; a rerun finishes
what is left and posts nothing twice. Each run writes a log file with a closing summary into --log-dir.
Every generate-features option below is passed to the feature runs (default --doCPU)."""

#: generate-features options gcn-cronjob sets itself for each batch (or that make no sense here)
OWN_FEATURE_DESTS = ("field", "ccd", "quad", "doQuadrantFile", "quadrant_file", "quadrant_index", "doSpecificIDs",
                     "fg_dataset", "dirname", "filename", "output_dir", "doNotSave", "checkpoint_dir", "stop_early",
                     "whole_field", "ccd_range", "quad_range", "restart")


def build():
    """The parser and the generate-features options it inherited."""
    from scope.hpc.arguments import add_cluster_arguments
    from scope.hpc.passthrough import inherit_arguments
    from tools.generate_features import get_parser as features_parser

    p = cli.build_parser("gcn-cronjob", DESCRIPTION)
    e = p.add_argument_group("events and sources")
    e.add_argument("--daysAgo", type=float, default=7.0, help="events of the last this many days")
    e.add_argument("--dateobs", default=None, help="only the event at this time, e.g. 2023-05-21T05:30:43")
    e.add_argument("--query-group-ids", type=int, nargs="*", default=None,
                   help="Fritz groups searched for sources in the localizations (default: every group of the token)")
    e.add_argument("--days-range", type=float, default=7.0, help="days after the event a source must be detected in")
    e.add_argument("--radius-arcsec", type=float, default=0.5,
                   help="light curves within this radius of a source (and of the plots posted)")
    e.add_argument("--save-filename", default="fritzDownload/specific_ids_GCN_sources",
                   help="source lists <save-filename>.<dateobs>.parquet/.json")
    e.add_argument("--checkpoint-filename", default="gcn_sources_checkpoint.json",
                   help="light curves already posted, per event type (the lock is <this>.lock)")
    e.add_argument("--checkpoint-refresh-days", type=float, default=180.0,
                   help="start the checkpoint over when it is this many days old")
    e.add_argument("--ignore-checkpoint", action="store_true",
                   help="process every light curve near the events, posted before or not (Fritz still gets nothing "
                        "twice)")
    m = p.add_argument_group("models and predictions")
    m.add_argument("--algorithms", nargs="+", default=None, choices=["dnn", "xgb"],
                   help="algorithms applied (default: gcn.algorithms)")
    m.add_argument("--dnn-group-name", default=None, help="DNN models: models_dnn/<group> (default: gcn.model_groups.dnn)")
    m.add_argument("--xgb-group-name", default=None, help="XGB models: models_xgb/<group> (default: gcn.model_groups.xgb)")
    m.add_argument("--models-dir", default=None, help="folder holding models_<alg>/ (default: the current folder)")
    m.add_argument("--generated-features-dirname", default="generated_features_GCN_sources",
                   help="folder of the events' features")
    m.add_argument("--dnn-preds-directory", default="GCN_dnn", help="per-source DNN predictions (select-fritz-sample)")
    m.add_argument("--xgb-preds-directory", default="GCN_xgb", help="per-source XGB predictions (select-fritz-sample)")
    m.add_argument("--combined-preds-dirname", default="GCN_dnn_xgb", help="combined predictions, one folder per event")
    m.add_argument("--agg-method", default="mean", choices=["mean", "max"],
                   help="how a source's scores are aggregated over algorithms and light curves")
    f = p.add_argument_group("posting to Fritz")
    f.add_argument("--p-threshold", type=float, default=0.7, help="post classes scoring at least this")
    f.add_argument("--post-group-ids", type=int, nargs="+", default=None,
                   help="post every event's classifications to these groups (default: the groups of the event's type "
                        "in gcn.event_types, else gcn.post_group_ids)")
    f.add_argument("--taxonomy-map", default="fritz_mapper.json",
                   help="taxonomy mapper: score columns -> Fritz classifications (a path, or a mapper shipped with SCoPe)")
    f.add_argument("--doNotPost", action="store_true",
                   help="everything but posting (the checkpoint is not changed, so a later run posts)")
    r = p.add_argument_group("running under cron")
    r.add_argument("--timeout", default=None,
                   help="stop after this long (e.g. 110m, 2h; exit status 124; default: gcn.timeout, none)")
    r.add_argument("--log-dir", default=None, help="folder of the run logs (default: gcn.log_dir)")
    r.add_argument("--keep-logs", type=int, default=None, help="run logs kept (default: gcn.keep_logs)")
    r.add_argument("--features-on", choices=["local", "slurm"], default=None,
                   help="compute features in this process or as Slurm jobs (default: gcn.features_on)")
    r.add_argument("--slurm-poll-seconds", type=float, default=None,
                   help="seconds between looks at the Slurm jobs (default: gcn.slurm_poll_seconds)")
    r.add_argument("--username", default=None, help="whose Slurm queue is watched (default: slurm.user, else $USER)")
    add_cluster_arguments(p, job_name="gcn_features", memory_gb=16, time="02:00:00", own_ncore=False,
                          submission=False, gpus_help="GPUs per feature job (default: 1 with --doGPU, else 0)")
    slurm_group = next(g for g in p._action_groups if g.title == "Slurm resources")
    slurm_group.title = "Slurm resources (of the feature jobs, with --features-on slurm)"
    slurm_group.add_argument("--partition", dest="partition_type", default=None,
                             help="same as --partition-type (the reference's name)")
    inherited = inherit_arguments(p, features_parser(), skip=OWN_FEATURE_DESTS, title="generate-features")
    return p, inherited


def get_parser():
    return build()[0]


def main(argv=None) -> int:
    from scope.hpc.arguments import run_generator

    return run_generator(build, _body, argv)


def _body(args, inherited, given) -> int:
    from pathlib import Path

    from scope.gcn import CronOptions, Layout, run_cronjob
    from scope.gcn.runtime import parse_duration
    from scope.hpc.passthrough import render_options

    cfg = cli.load_config_for(args)
    section = cfg.get("gcn") or {}
    tokens = render_options(inherited, args, given)
    if not ({"doCPU", "doGPU"} & given):
        tokens = ["--doCPU", *tokens]
    if args.doGPU:
        from scope.features.periodsearch.registry import get_backend

        get_backend("gpu")  # no usable GPU: one line naming what is missing, before anything else
    layout = Layout(base=Path.cwd().resolve(), save_filename=args.save_filename,
                    features_dirname=args.generated_features_dirname, dnn_directory=args.dnn_preds_directory,
                    xgb_directory=args.xgb_preds_directory, combined_dirname=args.combined_preds_dirname)
    algorithms = list(dict.fromkeys(args.algorithms or section.get("algorithms") or ["dnn", "xgb"]))
    named = {"dnn": args.dnn_group_name, "xgb": args.xgb_group_name}
    groups = {alg: named[alg] or (section.get("model_groups") or {}).get(alg) for alg in algorithms}
    for alg in algorithms:
        layout.sample_directory(alg)  # a folder name select-fritz-sample cannot write: one line, now
    opts = CronOptions(
        days_ago=args.daysAgo, dateobs=args.dateobs, query_group_ids=args.query_group_ids or None,
        post_group_ids=args.post_group_ids, days_range=args.days_range, radius_arcsec=args.radius_arcsec,
        taxonomy_map=args.taxonomy_map, p_threshold=args.p_threshold, agg_method=args.agg_method,
        do_not_post=args.doNotPost, checkpoint_filename=args.checkpoint_filename,
        checkpoint_refresh_days=args.checkpoint_refresh_days, ignore_checkpoint=args.ignore_checkpoint,
        timeout_seconds=parse_duration(args.timeout if args.timeout is not None else section.get("timeout")),
        log_dir=args.log_dir or section.get("log_dir") or "gcn_logs",
        keep_logs=args.keep_logs if args.keep_logs is not None else int(section.get("keep_logs") or 200))
    features_on = args.features_on or section.get("features_on") or "local"
    models_dir = Path(args.models_dir) if args.models_dir else layout.base

    def setup():
        return _setup(cfg, args, layout, tokens, groups, models_dir, features_on, section)

    return run_cronjob(cfg, opts, layout, setup)


def _setup(cfg, args, layout, tokens, groups, models_dir, features_on, section):
    """The run's Fritz client, light-curve source, models and feature runner (built under the lock)."""
    from scope.errors import ConfigError
    from scope.gcn import CronSetup, LocalFeatures, SlurmFeatures, load_model_groups
    from scope.gcn.settings import default_groups, event_types
    from scope.generation import GenerateOptions
    from scope.lightcurves.sources import open_source
    from scope.services.fritz import client_from_config
    from tools.generate_features import get_parser as features_parser

    types, default = event_types(cfg), default_groups(cfg)
    models = load_model_groups(cfg, models_dir, groups)
    if features_on == "local":
        parser = features_parser()
        runner = LocalFeatures(cfg, layout, tokens, lambda argv: GenerateOptions.from_args(parser.parse_args(argv), cfg))
    elif features_on == "slurm":
        from scope.hpc.scripts import Cluster, config_tokens
        from scope.hpc.slurm import Slurm

        gpus = args.gpus if args.gpus is not None else (1 if args.doGPU else 0)
        runner = SlurmFeatures(cfg, layout, tokens, cluster=Cluster.from_args(cfg, args, gpus=gpus),
                               slurm=Slurm.from_config(cfg, user=args.username),
                               poll_seconds=args.slurm_poll_seconds or float(section.get("slurm_poll_seconds") or 60),
                               max_retries=int((cfg.get("slurm") or {}).get("max_retries", 2)),
                               config_tokens=config_tokens(cfg))
    else:
        raise ConfigError(f"gcn.features_on must be local or slurm, got '{features_on}'")
    return CronSetup(client=client_from_config(cfg), lightcurves=open_source(cfg), models=models, features=runner,
                     event_types=types, default_groups=default)


if __name__ == "__main__":
    raise SystemExit(main())
