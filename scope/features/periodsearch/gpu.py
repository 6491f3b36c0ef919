"""The GPU period-search backend: numba CUDA kernels, the grid streamed in chunks, peaks reduced on the device.

For one batch of light curves and one algorithm (or CE and AOV fused):

1. :class:`.gpu_prepare.HostInputs` computes the per-point constants (fixed-point phases
   relative to each light curve's float64 epoch, centred magnitudes, weights) and they are copied
   to the device, each array only when a kernel needs it (and computed only then).
2. The kept frequencies are cut into chunks of at most ``chunk_bytes / (8 * rows * buffers)``
   frequencies. For each chunk a score kernel (:mod:`.gpu_binned`, :mod:`.gpu_harmonic`) fills a
   ``rows x chunk`` float64 buffer on the device and the tracker kernel (:mod:`.gpu_tracker`)
   folds it into per-light-curve state that stays on the device.
3. ``finish`` writes the summary, the distinct peaks and the raw highest bins, the only arrays
   copied back: ``O(rows x (n_peaks + n_raw))`` host memory per batch, whatever the grid.

Device memory is the per-point inputs (at most ~100 bytes per point), the score buffers
(``chunk_bytes``, 512 MiB by default) and the state. The same kernels run under numba's CUDA
simulator on the CPU (``simulate=True``, the backend ``"gpu-sim"``): that is how they are tested
without a GPU, on tiny inputs.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
import warnings
from contextlib import contextmanager

import numpy as np

from scope.errors import BackendUnavailable, ConfigError

from .gpu_prepare import HostInputs
from .gpu_probe import device_description, gpu_unavailable_reason
from .prepare import PreparedBatch

log = logging.getLogger(__name__)

#: Device bytes for the score buffers of one chunk (all buffers together).
DEFAULT_CHUNK_BYTES = 512 * 2 ** 20
#: Threads per block of the score kernels on a device; the simulator uses fewer (Python threads).
DEVICE_THREADS = 128
SIM_THREADS = 32
#: Frequencies per thread of the Lomb-Scargle kernel (phase rotations between exact phases).
LS_PER_THREAD = 8
#: Static shared memory a block may use (the CUDA limit without opting in to more).
SHARED_BYTES = 48 * 1024
#: Light curves per launch (CUDA limits the second grid dimension to 65535).
MAX_ROWS = 65535

_KERNELS: dict = {}


def _cuda_module(simulate: bool):
    if simulate:
        from numba.cuda import simulator

        return simulator
    from numba import cuda

    return cuda


def _kernel(simulate: bool, key: tuple, build):
    """The kernel ``build(jit)`` for ``key``, compiled once per process and flavour."""
    full = (simulate, *key)
    if full not in _KERNELS:
        _KERNELS[full] = build(_cuda_module(simulate).jit)
    return _KERNELS[full]


def _fit_threads(threads: int, bytes_per_thread: int) -> int:
    """Threads per block whose shared-memory bin tables fit :data:`SHARED_BYTES` (a multiple of 32 when possible)."""
    fit = max(1, SHARED_BYTES // max(1, bytes_per_thread))
    if fit >= threads:
        return threads
    if fit < 32:
        raise ConfigError(f"too many bins for the GPU kernels: {bytes_per_thread} bytes of bin tables per thread "
                          f"leave fewer than 32 threads per block in {SHARED_BYTES} bytes of shared memory")
    return fit - fit % 32


def _segments_chunks(segments: np.ndarray, width: int):
    """``(k0, nk, starts_segment)`` pieces of the kept grid, at most ``width`` long."""
    for a, b in segments:
        for k0 in range(int(a), int(b), width):
            yield k0, min(width, int(b) - k0), k0 == a


def _rows(prep: PreparedBatch, lo: int, hi: int) -> PreparedBatch:
    a, b = prep.offsets[lo], prep.offsets[hi]
    return PreparedBatch(t=prep.t[a:b], y=prep.y[a:b], w=prep.w[a:b], offsets=prep.offsets[lo:hi + 1] - a,
                         epoch=prep.epoch[lo:hi], scale=prep.scale[lo:hi])


class _DeviceInputs:
    """Host inputs of one batch, copied to the device on first use of each array."""

    def __init__(self, cuda, host):
        self._cuda = cuda
        self._host = host
        self._dev: dict = {}
        self.nbytes = 0

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._dev:
            arr = np.ascontiguousarray(self._host.array(name))
            if arr.size == 0:  # keep every device array non-empty
                arr = np.zeros((1,) * arr.ndim, dtype=arr.dtype)
            self._dev[name] = self._cuda.to_device(arr)
            self.nbytes += arr.nbytes
        return self._dev[name]


class GpuBackend:
    """Period search with numba CUDA kernels (see the module docstring).

    Parameters
    ----------
    simulate : bool
        Run the kernels in numba's CUDA simulator on the CPU (slow; for tests) instead of a GPU.
    chunk_bytes : int, optional
        Device memory for the score buffers of one grid chunk (default 512 MiB; the simulator
        uses 2 KiB, so that small test grids are streamed in several chunks too).
    threads : int, optional
        Threads per block of the score kernels.

    Raises
    ------
    BackendUnavailable
        Without ``simulate``, when there is no usable CUDA device (the message names what is
        missing: numba's CUDA target, the driver, a device, libNVVM).
    """

    def __init__(self, *, simulate: bool = False, chunk_bytes: int | None = None, threads: int | None = None):
        if not simulate:
            reason = gpu_unavailable_reason()
            if reason:
                raise BackendUnavailable(f"no GPU backend available: {reason}; use the CPU backend (--doCPU)")
        self.simulate = bool(simulate)
        self.name = "gpu-sim" if simulate else "gpu"
        self.chunk_bytes = int(chunk_bytes or (2048 if simulate else DEFAULT_CHUNK_BYTES))
        if self.chunk_bytes < 8:
            raise ConfigError(f"chunk_bytes must be at least 8, got {chunk_bytes}")
        self.threads = int(threads or (SIM_THREADS if simulate else DEVICE_THREADS))
        self._cuda = _cuda_module(self.simulate)
        self._host_cache: tuple | None = None
        #: Largest device memory this backend asked for in one scan (bytes; inputs + buffers + state).
        self.peak_device_bytes = 0

    # ---------------------------------------------------------------- Backend protocol

    def search(self, prep, grid, spec, *, n_peaks, n_raw, sep, params):
        from .registry import RawSearch

        base = spec.base
        if base in ("CE", "AOV"):
            ce, aov = self._ce_aov(prep, grid, params, n_peaks, n_raw if base == "CE" else 0,
                                   n_raw if base == "AOV" else 0, sep, base == "CE", base == "AOV")
            return ce if base == "CE" else aov
        out = RawSearch.allocate(len(prep), n_peaks, n_raw)
        self._scan(prep, grid, params, [out], sep, self._launcher(base, params))
        return out

    def search_ce_aov(self, prep, grid, *, n_peaks, n_raw_ce, n_raw_aov, sep, params):
        """CE and AOV in one pass over the grid (they share the phase bins)."""
        return self._ce_aov(prep, grid, params, n_peaks, n_raw_ce, n_raw_aov, sep, True, True)

    def aov_at(self, prep, freqs, n_bins):
        freqs = np.ascontiguousarray(freqs, dtype=np.float64)
        out = np.full(freqs.shape, np.nan)
        if not len(prep) or not freqs.shape[1]:
            return out
        from .gpu_binned import aov_at_kernel

        n_bins = int(n_bins)
        threads = _fit_threads(self.threads, 12 * n_bins)
        kern = _kernel(self.simulate, ("aov_at", n_bins, threads), lambda jit: aov_at_kernel(jit, n_bins, threads))
        cuda = self._cuda
        for lo in range(0, len(prep), MAX_ROWS):
            hi = min(len(prep), lo + MAX_ROWS)
            dev = self._inputs(prep, lo, hi, 1.0, 1.0, 1)
            d_f = cuda.to_device(freqs[lo:hi])
            d_out = cuda.device_array(d_f.shape, np.float64)
            blocks = (math.ceil(freqs.shape[1] / threads), hi - lo)
            with self._quiet():
                kern[blocks, threads](dev.t, dev.yc, dev.yy, dev.offsets, d_f, d_out)
            out[lo:hi] = d_out.copy_to_host()
        return out

    def versions(self):
        import numba

        extra = {"numba": numba.__version__}
        if self.simulate:
            extra["cuda_target"] = "simulator"
            return extra
        try:
            extra["numba_cuda"] = importlib.metadata.version("numba-cuda")
        except importlib.metadata.PackageNotFoundError:
            pass
        extra.update(device_description())
        return extra

    # ---------------------------------------------------------------- internals

    def _ce_aov(self, prep, grid, params, n_peaks, n_raw_ce, n_raw_aov, sep, do_ce, do_aov):
        from .gpu_binned import ce_aov_kernel
        from .registry import RawSearch

        n = len(prep)
        ce = RawSearch.allocate(n, n_peaks, n_raw_ce)
        aov = RawSearch.allocate(n, n_peaks, n_raw_aov)
        n_phase = int(params["phase_bins"] if do_ce else params["aov_bins"])
        n_mag = int(params["mag_bins"])
        threads = _fit_threads(self.threads, n_phase * (4 + 4 * do_ce + 8 * do_aov))
        kern = _kernel(self.simulate, ("ce_aov", n_phase, n_mag, do_ce, do_aov, threads),
                       lambda jit: ce_aov_kernel(jit, n_phase, n_mag, do_ce, do_aov, threads))

        def launch(dev, k0, nk, buffers):
            ce_buf = buffers[0] if do_ce else buffers[-1]
            aov_buf = buffers[-1] if do_aov else buffers[0]
            blocks = (math.ceil(nk / threads), ce_buf.shape[0])
            kern[blocks, threads](dev.pa, dev.pb, dev.yc, dev.groups, dev.offsets, dev.klnk, dev.yy, k0, nk,
                                  ce_buf, aov_buf)

        outputs = ([ce] if do_ce else []) + ([aov] if do_aov else [])
        self._scan(prep, grid, params, outputs, sep, launch)
        return ce, aov

    def _launcher(self, base, params):
        """The chunk launcher of a single-output algorithm (LS, FPW, BLS, MHF)."""
        from .gpu_binned import weighted_kernel
        from .gpu_harmonic import ls_kernel, mhf_kernel

        threads = self.threads
        if base == "LS":
            kper = LS_PER_THREAD
            kern = _kernel(self.simulate, ("ls", kper, threads), lambda jit: ls_kernel(jit, kper, threads))

            def launch(dev, k0, nk, buffers):
                out = buffers[0]
                blocks = (math.ceil(nk / (threads * kper)), out.shape[0])
                kern[blocks, threads](dev.pa, dev.pb, dev.rc, dev.rs, dev.yc, dev.yy, dev.offsets, k0, nk, out)
            return launch
        if base == "MHF":
            kh = int(params["max_harmonics"])
            kern = _kernel(self.simulate, ("mhf", kh, threads), lambda jit: mhf_kernel(jit, kh, threads))

            def launch(dev, k0, nk, buffers):
                out = buffers[0]
                blocks = (math.ceil(nk / threads), out.shape[0])
                kern[blocks, threads](dev.pa, dev.pb, dev.w, dev.wy, dev.wt, dev.mhf, dev.offsets, k0, nk, out)
            return launch
        is_bls = base == "BLS"
        n_bins = int(params["bls_bins"] if is_bls else params["fpw_bins"])
        lmin = lmax = 0
        if is_bls:
            lmin = max(1, int(math.floor(params["qmin"] * n_bins)))
            lmax = max(lmin, min(n_bins - 1, int(math.ceil(params["qmax"] * n_bins))))
        wthreads = _fit_threads(threads, 16 * n_bins)
        kern = _kernel(self.simulate, ("weighted", n_bins, is_bls, wthreads),
                       lambda jit: weighted_kernel(jit, n_bins, is_bls, wthreads))

        def launch(dev, k0, nk, buffers):
            out = buffers[0]
            blocks = (math.ceil(nk / wthreads), out.shape[0])
            kern[blocks, wthreads](dev.pa, dev.pb, dev.w, dev.wyc, dev.s_w, dev.offsets, lmin, lmax, k0, nk, out)
        return launch

    def _inputs(self, prep, lo, hi, fmin, df, n_mag) -> _DeviceInputs:
        # one batch is searched by several algorithms in a row: keep the last inputs
        key = (id(prep), lo, hi, float(fmin), float(df), int(n_mag))
        if self._host_cache is None or self._host_cache[0] != key:
            host = HostInputs(_rows(prep, lo, hi), fmin, df, n_mag)
            self._host_cache = (key, _DeviceInputs(self._cuda, host), prep)
        return self._host_cache[1]

    def _scan(self, prep, grid, params, outputs, sep, launch):
        """Stream the kept grid through ``launch`` and the tracker; fill ``outputs`` (RawSearch)."""
        from .gpu_tracker import initial_state, tracker_kernels

        n = len(prep)
        if not n or not outputs:
            return
        track, finish = _kernel(self.simulate, ("tracker",), tracker_kernels)
        cuda = self._cuda
        n_peaks = outputs[0].pk_idx.shape[1]
        longest = int(np.max(grid.segments[:, 1] - grid.segments[:, 0]))
        tthreads = min(self.threads, 64)
        for lo in range(0, n, MAX_ROWS):
            hi = min(n, lo + MAX_ROWS)
            rows = hi - lo
            dev = self._inputs(prep, lo, hi, grid.fmin, grid.df, params["mag_bins"])
            width = max(1, min(longest, self.chunk_bytes // (8 * rows * len(outputs))))
            buffers = [cuda.device_array((rows, width), np.float64) for _ in outputs]
            states = []
            state_bytes = 0
            for res in outputs:
                host_state = initial_state(rows, n_peaks, res.raw_idx.shape[1])
                states.append({k: cuda.to_device(v) for k, v in host_state.items()})
                state_bytes += sum(v.nbytes for v in host_state.values())
            self.peak_device_bytes = max(self.peak_device_bytes,
                                         dev.nbytes + 8 * rows * width * len(outputs) + state_bytes)
            tblocks = math.ceil(rows / tthreads)
            with self._quiet():
                for k0, nk, new_segment in _segments_chunks(grid.segments, width):
                    launch(dev, k0, nk, buffers)
                    for buf, st, res in zip(buffers, states, outputs):
                        track[tblocks, tthreads](buf, k0, nk, int(new_segment), int(sep), n_peaks,
                                                 res.raw_idx.shape[1], st["fst"], st["ist"], st["pk_idx"],
                                                 st["pk_val"], st["raw_idx"], st["raw_val"])
                for st, res in zip(states, outputs):
                    summary = cuda.device_array((rows, 5), np.float64)
                    finish[tblocks, tthreads](st["fst"], st["ist"], st["pk_idx"], st["pk_val"], st["raw_idx"],
                                              st["raw_val"], n_peaks, res.raw_idx.shape[1], summary)
                    res.summary[lo:hi] = summary.copy_to_host()
                    if n_peaks:
                        res.pk_idx[lo:hi] = st["pk_idx"].copy_to_host()[:, :n_peaks]
                        res.pk_val[lo:hi] = st["pk_val"].copy_to_host()[:, :n_peaks]
                    if res.raw_idx.shape[1]:
                        res.raw_idx[lo:hi] = st["raw_idx"].copy_to_host()
                        res.raw_val[lo:hi] = st["raw_val"].copy_to_host()
            log.debug("gpu scan: %d light curves, chunks of %d frequencies, %d buffer(s)", rows, width, len(outputs))

    def _quiet(self):
        return _quiet(self.simulate)


@contextmanager
def _quiet(simulate: bool):
    """Simulated kernels do uint64 arithmetic on NumPy scalars, which warns on the (intended) wrap-around."""
    if not simulate:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="overflow encountered", category=RuntimeWarning)
        yield
