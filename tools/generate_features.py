"""generate-features: compute SCoPe features for the light curves of a quadrant or of a source list."""

from __future__ import annotations

import logging

from scope import cli

log = logging.getLogger("tools.generate_features")

DESCRIPTION = """Compute basic statistics, period search (LS, CE, AOV, FPW, MHF, BLS, or the nested
LS_CE_AOV), Fourier decomposition, dm-dt histograms, alert statistics and external cross-matches for
the light curves of one field/CCD/quadrant (default), of several quadrants of a field in one process
(--whole-field, --ccd-range, --quad-range), or of a source list (--doSpecificIDs), and write
<base>/<dirname>/field_<F>/<filename>_field_<F>_ccd_<C>_quad_<Q>.parquet per quadrant. Runs are
resumable: a killed run picks up at the last finished batch (checkpoints are keyed to the input ids and
parameters), and a multi-quadrant run skips the quadrants already written with the same parameters.
Epochs with implausible magnitudes or times (feature_generation.plausible_mag_range, survey_window_hjd)
are dropped and counted; a light-curve file that is mostly implausible is refused as corrupt. A progress
bar (per light curve) is shown on a terminal unless --quiet; the run ends with a one-line summary."""


def get_parser():
    p = cli.build_parser("generate-features", DESCRIPTION)
    g = p.add_argument_group("sources")
    g.add_argument("--source-catalog", default=None, help="Kowalski light-curve catalog (default: kowalski.collections.sources)")
    g.add_argument("--alerts-catalog", default=None, help="alerts catalog (default: kowalski.collections.alerts)")
    g.add_argument("--gaia-catalog", default=None, help="Gaia catalog (default: kowalski.collections.gaia)")
    g.add_argument("--source", choices=["archive", "kowalski"], default=None, help="light-curve source (default: data.source)")
    g.add_argument("--field", type=int, default=296, help="ZTF field")
    g.add_argument("--ccd", type=int, default=None, help="CCD (1-16) of a one-quadrant run; CCD 1 when not given")
    g.add_argument("--quad", type=int, default=None, help="quadrant (1-4) of a one-quadrant run; quadrant 1 when not given")
    g.add_argument("--whole-field", action="store_true",
                   help="every populated quadrant of --field in one process (one file per quadrant, as separate "
                        "runs would write; quadrants already written with the same parameters are skipped)")
    g.add_argument("--ccd-range", type=int, nargs="+", default=None, metavar="CCD",
                   help="several quadrants: one CCD or an inclusive range (e.g. 1 4); with --quad-range or alone "
                        "(all quadrants of those CCDs)")
    g.add_argument("--quad-range", type=int, nargs="+", default=None, metavar="QUAD",
                   help="several quadrants: one quadrant or an inclusive range (e.g. 1 2) of every CCD in --ccd-range "
                        "(default: all CCDs)")
    g.add_argument("--doQuadrantFile", action="store_true", help="take field/ccd/quad from row --quadrant-index of the quadrant file")
    g.add_argument("--quadrant-file", default="slurm.dat", help="quadrant file, looked up in <base>/<dirname>/slurm/")
    g.add_argument("--quadrant-index", type=int, default=0, help="row of the quadrant file")
    g.add_argument("--doSpecificIDs", action="store_true", help="use a source list instead of a quadrant")
    g.add_argument("--fg-dataset", default=None,
                   help="source list (parquet/h5/csv) with ztf_id and optionally coordinates/ra/dec and fritz_name "
                        "(default: feature_generation.dataset)")
    g.add_argument("--skipCloseSources", action="store_true",
                   help="skip the Gaia bright-star exclusion; with --doSpecificIDs and no --fg-dataset, read the "
                        "sources a previous run saved in <base>/<dirname>/<feature_generation.ids_skipGaia>")
    g.add_argument("--bright-star-query-radius-arcsec", type=float, default=300.0, help="bright-star search radius")
    g.add_argument("--xmatch-radius-arcsec", type=float, default=2.0, help="radius of Gaia self-match, alerts and cross-matches")
    g.add_argument("--query-size-limit", "--limit", dest="query_size_limit", type=int, default=10000,
                   help="light curves fetched per request; with --stop-early, the number of sources")
    g.add_argument("--stop-early", action="store_true", help="stop after --query-size-limit sources")
    g.add_argument("--max-timestamp-hjd", type=float, default=None,
                   help="drop epochs after this HJD (default: kowalski.max_timestamp_hjd)")
    g.add_argument("--Ncore", type=int, default=None, help="threads for the period search and parallel queries (default: all cores)")
    s = p.add_argument_group("period search")
    s.add_argument("--doCPU", action="store_true", help="period search on the CPU")
    s.add_argument("--doGPU", action="store_true", help="period search on the GPU")
    s.add_argument("--period-algorithms", nargs="+", default=None,
                   help="algorithms (LS CE AOV FPW MHF BLS, E-prefixed names, or LS_CE_AOV / ELS_ECE_EAOV); "
                        "default: feature_generation.period_algorithms[CPU|GPU]")
    s.add_argument("--period-batch-size", type=int, default=1000, help="light curves per period-search batch (and checkpoint)")
    s.add_argument("--samples-per-peak", type=float, default=10, help="frequency oversampling")
    s.add_argument("--max-freq", type=float, default=48.0, help="highest trial frequency (cycles/day)")
    s.add_argument("--doScaleMinPeriod", action="store_true", help="highest frequency = Nyquist of --min-cadence-minutes")
    s.add_argument("--doRemoveTerrestrial", action="store_true", help="remove terrestrial alias bands from the grid")
    s.add_argument("--top-n-periods", type=int, default=10, help="distinct peaks kept per algorithm (nested: candidates)")
    s.add_argument("--qmin", type=float, default=0.01, help="BLS minimum duty cycle")
    s.add_argument("--qmax", type=float, default=0.5, help="BLS maximum duty cycle")
    s.add_argument("--min-n-lc-points", type=int, default=50, help="minimum clean points (also the nobs filter)")
    s.add_argument("--min-cadence-minutes", type=float, default=30.0, help="greedy thinning: minimum minutes between kept points")
    s.add_argument("--fourier-form", choices=["legacy", "amplitude_phase"], default=None,
                   help="f1_* columns: raw cos/sin coefficients (legacy, DR16) or amplitudes and phases "
                        "(default: feature_generation.fourier_form)")
    s.add_argument("--doCesium", action="store_true",
                   help="add the cesium features of feature_generation.cesium_features (checked before any work)")
    o = p.add_argument_group("output")
    o.add_argument("--dirname", default="generated_features", help="output folder under the base folder")
    o.add_argument("--filename", default="gen_features", help="output file prefix")
    o.add_argument("--output-dir", default=None, help="base folder (default: feature_generation.path_to_features or CWD)")
    o.add_argument("--doNotSave", action="store_true", help="compute but do not write the feature file")
    o.add_argument("--checkpoint-dir", default=None, help="folder for resume checkpoints (default: beside the output)")
    o.add_argument("--restart", action="store_true",
                   help="ignore existing checkpoints (and, in a multi-quadrant run, quadrants already written) "
                        "and start over")
    return p


def main(argv=None) -> int:
    return cli.run(_body, get_parser(), argv)


def _body(args) -> int:
    from scope.errors import DataError
    from scope.generation import GenerateOptions, generate_features_command

    if args.doCPU and args.doGPU:
        raise DataError("choose one of --doCPU and --doGPU, not both")
    if args.doGPU:
        from scope.features.periodsearch.registry import get_backend

        get_backend("gpu")  # no usable GPU: one line naming what is missing, before any light curve is read
    cfg = cli.load_config_for(args)
    options = GenerateOptions.from_args(args, cfg)
    summary = generate_features_command(cfg, options)
    log.info(summary.line())
    return 0 if summary.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
