"""Several quadrants of a field in one process (``--whole-field``, ``--ccd-range``, ``--quad-range``)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Mapping

from tqdm.auto import tqdm

from scope.errors import DataError
from scope.generation.options import GenerateOptions, RunSummary
from scope.generation.outputs import already_done, output_path, prepare_outputs, remove_if_empty, writable_folders
from scope.generation.run import generate_selected, open_catalogs_or_none, utc_now
from scope.generation.selection import check_quadrant, quadrant_sources

log = logging.getLogger(__name__)


def generate_field(cfg: Mapping, opts: GenerateOptions, *, source=None, catalogs=None,
                   base: Path | None = None) -> RunSummary:
    """Several quadrants of a field in one process (``--whole-field``, ``--ccd-range``, ``--quad-range``).

    Each quadrant is computed exactly as a separate one-quadrant run would compute it (same
    selection, frequency grid, files, ``meta.json`` entry); the source, the catalogs and the
    compiled kernels are shared. Quadrants whose feature file already holds a complete run with the
    same parameters are skipped (unless ``opts.restart``), so a killed run resumes where it stopped;
    unpopulated quadrants and quadrants without light curves of enough epochs are skipped and counted.

    Returns
    -------
    RunSummary
        The field's totals, with per-state quadrant counts.

    Raises
    ------
    DataError
        The field has no light curves in the selected CCDs/quadrants, or none has enough epochs.
    """
    from scope import cli
    from scope.lightcurves.sources import open_source

    t0 = time.time()
    base = Path(base) if base is not None else cli.base_dir(cfg, opts.base_dir)
    ccds = list(opts.ccds or range(1, 17))
    quads = list(opts.quads or range(1, 5))
    for ccd in ccds:
        for quad in quads:
            check_quadrant(opts.field, ccd, quad)
    if opts.do_cesium:
        from scope.generation.cesium_features import check_cesium

        check_cesium(opts.cesium_features)
    field_dir = output_path(base, opts.for_quadrant(ccds[0], quads[0])).parent
    created = writable_folders(opts, [field_dir, base / opts.dirname])
    try:
        if source is None:
            source = open_source(cfg, catalog=opts.source_catalog, source=opts.source)
        summary, plan = _plan_field(opts, source, base, ccds, quads)
    except DataError:
        remove_if_empty(created)
        raise
    if catalogs is None and plan:
        catalogs = open_catalogs_or_none(cfg, opts)
    bar = tqdm(total=sum(len(sel) for _, _, sel in plan), desc=f"field {opts.field}", unit="lc",
               disable=None if opts.progress else True, dynamic_ncols=True)
    try:
        for q_opts, out, selected in plan:
            bar.set_postfix_str(f"CCD {q_opts.ccd} quad {q_opts.quad}", refresh=False)
            prepare_outputs(base, q_opts, out)
            _, part = generate_selected(cfg, q_opts, selected, source=source, catalogs=catalogs, base=base,
                                        out=out, bar=bar, t0=time.time(), start_time=utc_now())
            summary.add(part)
            summary.quadrants["computed"] += 1
    finally:
        bar.close()
    summary.output = field_dir if opts.save else None
    summary.seconds = time.time() - t0
    return summary


def _plan_field(opts: GenerateOptions, source, base: Path, ccds: list[int], quads: list[int]):
    """The quadrants a multi-quadrant run computes (with their selections), and a summary of the others."""
    where = f"CCDs {_span(ccds)}, quadrants {_span(quads)}"
    populated = set(source.quadrants(opts.field))
    if not populated:
        raise DataError(f"field {opts.field} has no light curves in {source.catalog}")
    wanted = [(c, q) for c in ccds for q in quads if (c, q) in populated]
    if not wanted:
        raise DataError(f"field {opts.field} has no light curves in {where} of {source.catalog}")
    summary = RunSummary(field=opts.field)
    summary.quadrants = {"computed": 0, "already done": 0, "without light curves": 0}
    plan = []
    for ccd, quad in wanted:
        q_opts = opts.for_quadrant(ccd, quad)
        out = output_path(base, q_opts)
        selected = quadrant_sources(source, opts.field, ccd, quad, minobs=opts.min_n_lc_points,
                                    limit=opts.query_size_limit if opts.stop_early else None)
        if not opts.restart and len(selected) and already_done(out, q_opts, source, selected):
            log.debug("field %d ccd %d quad %d: already done (%s)", opts.field, ccd, quad, out)
            summary.quadrants["already done"] += 1
            continue
        if not len(selected):
            log.debug("field %d ccd %d quad %d: no light curves with >= %d epochs", opts.field, ccd, quad,
                      opts.min_n_lc_points)
            summary.quadrants["without light curves"] += 1
            continue
        plan.append((q_opts, out, selected))
    if not plan and not summary.quadrants["already done"]:
        raise DataError(f"field {opts.field} has no light curves with at least {opts.min_n_lc_points} epochs "
                        f"in {where} of {source.catalog}")
    return summary, plan


def _span(values: list[int]) -> str:
    return f"{values[0]}" if len(values) == 1 else f"{values[0]}-{values[-1]}"
