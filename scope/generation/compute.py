"""Per-batch feature computation for generate-features: the pure feature engine plus cesium."""

from __future__ import annotations

import logging
import math

import numpy as np

from scope.errors import BackendUnavailable, DataError
from scope.generation.options import GenerateOptions
from scope.lightcurves.batch import LightCurveBatch

log = logging.getLogger(__name__)


class FeatureComputer:
    """Splits cleaned light curves into period-search batches and computes their features.

    The frequency grid is built once, from the longest baseline of all the light curves (the
    reference's rule), so every batch of a run searches the same frequencies. A batch (the unit of
    checkpoints, ``--period-batch-size``) is computed in small chunks so that a progress bar can
    move per few light curves; every light curve's features depend only on its own points and the
    grid, so the chunking changes no number.
    """

    def __init__(self, opts: GenerateOptions, lightcurves: LightCurveBatch):
        from scope.features.periodsearch.grid import baseline_of, make_grid

        self.opts = opts
        self.lightcurves = lightcurves
        self.size = max(1, int(opts.period_batch_size))
        self.n_batches = math.ceil(len(lightcurves) / self.size)
        self.grid = None
        self._provenance: dict = {}
        if opts.backend is not None:
            if opts.backend == "gpu":
                from scope.features.periodsearch.registry import get_backend

                get_backend("gpu")  # raises BackendUnavailable with a hint when there is no GPU
            baseline = baseline_of(lightcurves.t, lightcurves.offsets)
            if not baseline > 0:
                raise DataError("the light curves span no time: cannot build a frequency grid")
            self.grid = make_grid(baseline, max_freq=opts.max_freq, samples_per_peak=opts.samples_per_peak,
                                  scale_min_period=opts.scale_min_period,
                                  min_cadence_minutes=opts.min_cadence_minutes,
                                  remove_terrestrial=opts.remove_terrestrial)
            log.debug("frequency grid: %d frequencies (baseline %.1f d, fmax %.3g c/d)", self.grid.nf, baseline,
                      self.grid.params.get("max_freq", opts.max_freq))

    def grid_params(self) -> dict:
        return self.grid.as_dict() if self.grid is not None else {}

    def batch(self, k: int) -> LightCurveBatch:
        """Light curves of batch ``k``."""
        lo, hi = k * self.size, min((k + 1) * self.size, len(self.lightcurves))
        return self.lightcurves.subset(np.arange(lo, hi))

    def chunk_size(self) -> int:
        """Light curves per progress step: a few per thread (load balance), never the whole batch."""
        from scope.features._threads import resolve_threads

        return max(16, 8 * resolve_threads(self.opts.n_threads))

    def compute(self, k: int, progress=None) -> dict:
        """Feature columns (reference names) of batch ``k``.

        ``progress``, when given, is called with the number of light curves finished after each
        chunk.
        """
        sub = self.batch(k)
        step = self.chunk_size()
        parts = []
        for lo in range(0, len(sub), step):
            chunk = sub.subset(np.arange(lo, min(lo + step, len(sub))))
            parts.append(self._compute(chunk))
            if progress is not None:
                progress(len(chunk))
        if not parts:
            return self._compute(sub)
        if len(parts) == 1:
            return parts[0]
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}

    def _compute(self, sub: LightCurveBatch) -> dict:
        from scope.features import compute_lightcurve_features

        opts = self.opts
        ces = {}
        if opts.do_cesium:
            from scope.generation.cesium_features import cesium_columns

            ces = cesium_columns(sub, opts.cesium_features)
        kwargs = dict(top_n_periods=opts.top_n_periods, n_threads=opts.n_threads, fourier_form=opts.fourier_form)
        if opts.dm_edges:
            kwargs["dm_edges"] = np.asarray(opts.dm_edges, dtype=float)
        if opts.dt_edges:
            kwargs["dt_edges"] = np.asarray(opts.dt_edges, dtype=float)
        provenance: dict = {}
        if opts.backend is None:
            cols = compute_lightcurve_features(sub.t, sub.m, sub.e, sub.offsets, algorithms=[], grid=None,
                                               backend=None, provenance=provenance, **kwargs)
        else:
            cols = compute_lightcurve_features(sub.t, sub.m, sub.e, sub.offsets, algorithms=list(opts.algorithms),
                                               grid=self.grid, backend=opts.backend, provenance=provenance,
                                               params={"qmin": opts.qmin, "qmax": opts.qmax},
                                               batch_size=len(sub) or 1, **kwargs)
        if provenance:
            self._provenance = provenance
        if ces:
            # the basic-statistics skew wins (as in the reference, which overwrote cesium's)
            ces.pop("skew", None)
            cols = {**ces, **cols}
        return cols

    def provenance(self) -> dict:
        return self._provenance or {"grid": self.grid_params(), "backend": self.opts.backend}
