"""Options and run summary of generate-features."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

log = logging.getLogger(__name__)


@dataclass
class GenerateOptions:
    """Every setting of one generate-features run (CLI flags merged with the config)."""

    field: int = 296
    ccd: int = 1
    quad: int = 1
    ccds: list[int] | None = None          # several quadrants in one run (--whole-field, --ccd-range, --quad-range)
    quads: list[int] | None = None
    specific_ids: bool = False
    fg_dataset: str | None = None
    close_sources_file: str = "specific_ids_dropCloseSources.json"
    skip_close_sources: bool = False
    backend: str | None = "cpu"            # "cpu", "gpu" or None (no period search: period 1.0)
    algorithms: list[str] = dataclasses.field(default_factory=lambda: ["LS_CE_AOV"])
    period_batch_size: int = 1000
    samples_per_peak: float = 10.0
    max_freq: float = 48.0
    scale_min_period: bool = False
    remove_terrestrial: bool = False
    top_n_periods: int = 10
    qmin: float = 0.01
    qmax: float = 0.5
    min_n_lc_points: int = 50
    min_cadence_minutes: float = 30.0
    fourier_form: str = "legacy"
    do_cesium: bool = False
    cesium_features: list[str] = dataclasses.field(default_factory=list)
    bright_star_radius: float = 300.0
    bright_star_max_gmag: float = 13.0
    xmatch_radius: float = 2.0
    query_size_limit: int = 10000
    stop_early: bool = False
    max_timestamp_hjd: float | None = None
    mag_range: list[float] | None = None
    time_window: list[float] | None = None
    corrupt_fraction: float | None = None
    n_threads: int | None = None
    source: str | None = None
    source_catalog: str | None = None
    alerts_catalog: str | None = None
    gaia_catalog: str | None = None
    external_catalogs: dict = dataclasses.field(default_factory=dict)
    dm_edges: list[float] | None = None
    dt_edges: list[float] | None = None
    dirname: str = "generated_features"
    filename: str = "gen_features"
    base_dir: str | None = None
    save: bool = True
    checkpoint_dir: str | None = None
    restart: bool = False
    quadrant_file: str | None = None
    quadrant_index: int = 0
    progress: bool = True

    @property
    def multi_quadrant(self) -> bool:
        """True when one run covers several quadrants of the field."""
        return self.ccds is not None or self.quads is not None

    @classmethod
    def from_args(cls, args, cfg: Mapping) -> "GenerateOptions":
        """Options from parsed generate-features flags, with config defaults filled in."""
        from scope import cli
        from scope.errors import DataError
        from scope.lightcurves.plausibility import Plausibility

        fg = cfg.get("feature_generation", {})
        backend = "gpu" if args.doGPU else ("cpu" if args.doCPU else None)
        if args.period_algorithms:
            algorithms = list(args.period_algorithms)
        else:
            algorithms = list((fg.get("period_algorithms") or {}).get("GPU" if args.doGPU else "CPU") or [])
        ext = fg.get("external_catalog_features") or {}
        ccds = quads = None
        if args.whole_field or args.ccd_range is not None or args.quad_range is not None:
            if args.doSpecificIDs or args.doQuadrantFile:
                raise DataError("--whole-field / --ccd-range / --quad-range select quadrants of --field; "
                                "they cannot be combined with --doSpecificIDs or --doQuadrantFile")
            if args.ccd is not None or args.quad is not None:
                raise DataError("give either --ccd/--quad (one quadrant) or --whole-field/--ccd-range/--quad-range")
            ccds = cli.inclusive_range(args.ccd_range or [1, 16], "ccd", 1, 16)
            quads = cli.inclusive_range(args.quad_range or [1, 4], "quad", 1, 4)
        if args.doSpecificIDs and args.skipCloseSources and not args.fg_dataset:
            fg_dataset = None  # the source list a run without --skipCloseSources saved (reference §4.1)
        elif args.doSpecificIDs:
            fg_dataset = args.fg_dataset or fg.get("dataset")
        else:
            fg_dataset = args.fg_dataset
        plausible = Plausibility.from_config(cfg)
        return cls(
            field=args.field, ccd=1 if args.ccd is None else args.ccd, quad=1 if args.quad is None else args.quad,
            ccds=ccds, quads=quads, specific_ids=args.doSpecificIDs, fg_dataset=fg_dataset,
            close_sources_file=fg.get("ids_skipGaia") or "specific_ids_dropCloseSources.json",
            skip_close_sources=args.skipCloseSources, backend=backend, algorithms=algorithms,
            period_batch_size=args.period_batch_size, samples_per_peak=args.samples_per_peak,
            max_freq=args.max_freq, scale_min_period=args.doScaleMinPeriod,
            remove_terrestrial=args.doRemoveTerrestrial, top_n_periods=args.top_n_periods, qmin=args.qmin,
            qmax=args.qmax, min_n_lc_points=args.min_n_lc_points, min_cadence_minutes=args.min_cadence_minutes,
            fourier_form=args.fourier_form or fg.get("fourier_form", "legacy"), do_cesium=args.doCesium,
            cesium_features=list(fg.get("cesium_features") or []),
            bright_star_radius=args.bright_star_query_radius_arcsec,
            bright_star_max_gmag=float(fg.get("bright_star_max_gmag", 13.0)),
            xmatch_radius=args.xmatch_radius_arcsec, query_size_limit=args.query_size_limit,
            stop_early=args.stop_early,
            max_timestamp_hjd=args.max_timestamp_hjd if args.max_timestamp_hjd is not None
            else cfg.get("kowalski", {}).get("max_timestamp_hjd"),
            mag_range=None if plausible.mag_range is None else list(plausible.mag_range),
            time_window=None if plausible.time_window is None else list(plausible.time_window),
            corrupt_fraction=plausible.corrupt_fraction,
            n_threads=args.Ncore, source=args.source, source_catalog=args.source_catalog,
            alerts_catalog=args.alerts_catalog, gaia_catalog=args.gaia_catalog,
            external_catalogs={k: list(v) for k, v in ext.items()},
            dm_edges=list((fg.get("dmdt_ints") or {}).get("dmints") or []) or None,
            dt_edges=list((fg.get("dmdt_ints") or {}).get("dtints") or []) or None,
            dirname=args.dirname, filename=args.filename, base_dir=args.output_dir, save=not args.doNotSave,
            checkpoint_dir=args.checkpoint_dir, restart=args.restart,
            quadrant_file=args.quadrant_file if args.doQuadrantFile else None,
            quadrant_index=args.quadrant_index, progress=not args.quiet)

    def plausibility(self):
        """The :class:`~scope.lightcurves.plausibility.Plausibility` of these options."""
        from scope.lightcurves.plausibility import Plausibility

        return Plausibility(mag_range=None if self.mag_range is None else tuple(self.mag_range),
                            time_window=None if self.time_window is None else tuple(self.time_window),
                            corrupt_fraction=self.corrupt_fraction)

    def for_quadrant(self, ccd: int, quad: int) -> "GenerateOptions":
        """These options for one quadrant of a multi-quadrant run (what a separate run would get)."""
        return dataclasses.replace(self, ccd=int(ccd), quad=int(quad), ccds=None, quads=None)

    def fingerprint(self) -> dict:
        """The parameters that change the numbers (for checkpoint keys and metadata)."""
        keep = ("backend", "algorithms", "samples_per_peak", "max_freq", "scale_min_period", "remove_terrestrial",
                "top_n_periods", "qmin", "qmax", "min_n_lc_points", "min_cadence_minutes", "fourier_form",
                "do_cesium", "cesium_features", "xmatch_radius", "max_timestamp_hjd", "dm_edges", "dt_edges",
                "external_catalogs", "period_batch_size", "mag_range", "time_window")
        d = dataclasses.asdict(self)
        return {k: d[k] for k in keep}


@dataclass
class RunSummary:
    """What a run did: sources in, light curves dropped (by reason), epochs removed (by step), written.

    A multi-quadrant run sums its quadrants' summaries (:meth:`add`) and counts quadrants.
    """

    n_input: int = 0
    dropped: dict = dataclasses.field(default_factory=dict)
    epochs_in: int = 0
    epochs: dict = dataclasses.field(default_factory=dict)
    n_written: int = 0
    output: Path | None = None
    seconds: float = 0.0
    ok: bool = True
    resumed_batches: int = 0
    quadrants: dict = dataclasses.field(default_factory=dict)   # multi-quadrant runs: state -> count
    field: int | None = None

    def drop(self, reason: str, n: int = 1) -> None:
        """Count ``n`` light curves dropped for ``reason``."""
        if n:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(n)

    def remove_epochs(self, step: str, n: int) -> None:
        """Count ``n`` epochs removed by cleaning step ``step``."""
        if n:
            self.epochs[step] = self.epochs.get(step, 0) + int(n)

    def add(self, other: "RunSummary") -> None:
        """Add a quadrant's counts to this (field) summary."""
        self.n_input += other.n_input
        self.epochs_in += other.epochs_in
        self.n_written += other.n_written
        self.resumed_batches += other.resumed_batches
        for reason, n in other.dropped.items():
            self.drop(reason, n)
        for step, n in other.epochs.items():
            self.remove_epochs(step, n)

    def line(self) -> str:
        """The one-line closing summary."""
        parts = ", ".join(f"{n} {r}" for r, n in sorted(self.dropped.items())) or "none"
        removed = ", ".join(f"{n} {s}" for s, n in self.epochs.items() if n) or "none"
        where = f" to {self.output}" if self.output else " (not saved)"
        head = "generate-features:"
        if self.field is not None:
            states = ", ".join(f"{n} {s}" for s, n in self.quadrants.items() if n) or "none"
            head = f"generate-features: field {self.field}, {sum(self.quadrants.values())} quadrants ({states}):"
        return (f"{head} {self.n_input} sources in, dropped: {parts}; epochs: {self.epochs_in} read, "
                f"removed: {removed}; {self.n_written} written{where} in {self.seconds:.1f} s")
