"""CUDA kernels of the phase-binned statistics: CE and AOV (fused or alone), FPW, BLS, AOV at chosen frequencies.

One thread computes the statistic of one light curve at one trial frequency; a block is
``threads`` consecutive frequencies of one light curve (``blockIdx.y`` is the light curve), so
every thread of a warp reads the same point at the same time (a broadcast load). Each thread owns
one column of the block's shared-memory bin tables, laid out ``[bin, thread]``: whatever bin a
thread updates, the 32 threads of a warp touch 32 different banks, so there are no bank conflicts
and no atomics, and every sum is accumulated in point order (deterministic). Phases are the
fixed-point ``pa + k * pb`` of :mod:`.gpu_prepare`; the bin is ``(hi32(phase) * n_bins) >> 32``.

Kernels are built by factories for given bin counts (shared-array shapes are compile-time
constants) and a ``jit`` decorator: numba's ``cuda.jit`` on a device, or the CUDA simulator's
``jit`` in tests, where the same code runs on the CPU. Statistics are "scores": CE stores ``-H``
(larger is better), as the CPU kernels do.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda, float64, int32, int64, uint64
from numba.extending import register_jitable

_U32 = np.uint64(32)
_NAN = float("nan")


def aov_f_device(jit, n_bins: int):
    """Device function: AOV F from the bin counts and sums of thread ``tid`` (NaN if n <= bins)."""
    fb = float(n_bins)

    @register_jitable
    def aov_f(cnt, sm, tid, n, s_tot):
        if n <= n_bins:
            return _NAN
        s1 = 0.0
        for j in range(n_bins):
            c = cnt[j, tid]
            if c > 0:
                s1 += sm[j, tid] * sm[j, tid] / c
        s2 = s_tot - s1
        if s2 > 0:
            return (n - fb) / (fb - 1.0) * s1 / s2
        return _NAN

    return aov_f


def ce_aov_kernel(jit, n_phase: int, n_mag: int, do_ce: bool, do_aov: bool, threads: int):
    """Conditional entropy (``-H``) and/or AOV F over a chunk of the grid.

    Launch: ``grid = (ceil(nk / threads), n_rows)``, ``block = threads``. Arguments:
    ``(pa, pb, yc, groups, offsets, klnk, yy, k0, nk, ce_out, aov_out)``; ``out[row, c]`` gets
    the score at grid index ``k0 + c`` for ``c < nk``.
    """
    nb64 = np.uint64(n_phase)
    aov_f = aov_f_device(jit, n_phase)
    # tables a variant does not use shrink to one row (more blocks fit on a multiprocessor)
    cell_rows = n_phase if do_ce else 1
    sum_rows = n_phase if do_aov else 1

    @jit
    def kernel(pa, pb, yc, groups, offsets, klnk, yy, k0, nk, ce_out, aov_out):
        row = cuda.blockIdx.y
        tid = cuda.threadIdx.x
        col = cuda.blockIdx.x * threads + tid
        cnt = cuda.shared.array((n_phase, threads), int32)
        cell = cuda.shared.array((cell_rows, threads), int32)
        sm = cuda.shared.array((sum_rows, threads), float64)
        if col >= nk:
            return
        n = offsets[row + 1] - offsets[row]
        kk = uint64(k0 + col)
        for j in range(n_phase):
            cnt[j, tid] = 0
        for j in range(sum_rows):
            sm[j, tid] = 0.0
        hc = 0.0
        if do_ce:
            # one magnitude row of the phase x magnitude table at a time (points sorted by it)
            for g in range(n_mag):
                ga = groups[row, g]
                gb = groups[row, g + 1]
                if gb > ga:
                    for j in range(n_phase):
                        cell[j, tid] = 0
                    for i in range(ga, gb):
                        ph = pa[i] + kk * pb[i]
                        j = int64(((ph >> _U32) * nb64) >> _U32)
                        cell[j, tid] += 1
                        if do_aov:
                            sm[j, tid] += yc[i]
                    for j in range(n_phase):
                        c = cell[j, tid]
                        hc += klnk[c]
                        cnt[j, tid] += c
        else:
            for i in range(offsets[row], offsets[row + 1]):
                ph = pa[i] + kk * pb[i]
                j = int64(((ph >> _U32) * nb64) >> _U32)
                cnt[j, tid] += 1
                sm[j, tid] += yc[i]
        if do_ce:
            if n >= 2:
                hj = 0.0
                for j in range(n_phase):
                    hj += klnk[cnt[j, tid]]
                ce_out[row, col] = -(hj - hc) / n
            else:
                ce_out[row, col] = _NAN
        if do_aov:
            aov_out[row, col] = aov_f(cnt, sm, tid, n, yy[row])

    return kernel


def weighted_kernel(jit, n_bins: int, is_bls: bool, threads: int):
    """FPW ``sum_k (sum w yc)^2 / (2 sum w)`` or binned BLS over a chunk of the grid.

    Arguments: ``(pa, pb, w, wyc, s_w, offsets, lmin, lmax, k0, nk, out)``; ``lmin``/``lmax``
    are the BLS window lengths in bins (ignored by FPW).
    """
    nb64 = np.uint64(n_bins)

    @jit
    def kernel(pa, pb, w, wyc, s_w, offsets, lmin, lmax, k0, nk, out):
        row = cuda.blockIdx.y
        tid = cuda.threadIdx.x
        col = cuda.blockIdx.x * threads + tid
        bw = cuda.shared.array((n_bins, threads), float64)
        by = cuda.shared.array((n_bins, threads), float64)
        if col >= nk:
            return
        if offsets[row + 1] - offsets[row] < 2:
            out[row, col] = _NAN
            return
        kk = uint64(k0 + col)
        for j in range(n_bins):
            bw[j, tid] = 0.0
            by[j, tid] = 0.0
        for i in range(offsets[row], offsets[row + 1]):
            ph = pa[i] + kk * pb[i]
            j = int64(((ph >> _U32) * nb64) >> _U32)
            bw[j, tid] += w[i]
            by[j, tid] += wyc[i]
        if not is_bls:
            tot = 0.0
            for j in range(n_bins):
                if bw[j, tid] > 0:
                    tot += by[j, tid] * by[j, tid] / (2.0 * bw[j, tid])
            out[row, col] = tot
            return
        # inclusive prefix sums in place; a circular window [st, st + L) wraps past the last bin
        for j in range(1, n_bins):
            bw[j, tid] += bw[j - 1, tid]
            by[j, tid] += by[j - 1, tid]
        total_w = s_w[row]
        best = 0.0
        for length in range(lmin, lmax + 1):
            for st in range(n_bins):
                end = st + length
                pw0 = bw[st - 1, tid] if st > 0 else 0.0
                py0 = by[st - 1, tid] if st > 0 else 0.0
                if end <= n_bins:
                    rw = bw[end - 1, tid] - pw0
                    sy = by[end - 1, tid] - py0
                else:
                    rw = bw[n_bins - 1, tid] - pw0 + bw[end - n_bins - 1, tid]
                    sy = by[n_bins - 1, tid] - py0 + by[end - n_bins - 1, tid]
                rest = total_w - rw
                if rw > 0 and rest > 0:
                    pw = sy * sy / (rw * rest)
                    if pw > best:
                        best = pw
        out[row, col] = best

    return kernel


def aov_at_kernel(jit, n_bins: int, threads: int):
    """AOV F of each light curve at its own frequencies ``freqs[row, :]`` (exact float64 phases).

    Launch: ``grid = (ceil(n_freqs / threads), n_rows)``. Arguments:
    ``(t, yc, yy, offsets, freqs, out)``; non-finite frequencies give NaN.
    """
    fb = float(n_bins)
    aov_f = aov_f_device(jit, n_bins)

    @jit
    def kernel(t, yc, yy, offsets, freqs, out):
        row = cuda.blockIdx.y
        tid = cuda.threadIdx.x
        col = cuda.blockIdx.x * threads + tid
        cnt = cuda.shared.array((n_bins, threads), int32)
        sm = cuda.shared.array((n_bins, threads), float64)
        if col >= freqs.shape[1]:
            return
        f = freqs[row, col]
        n = offsets[row + 1] - offsets[row]
        if n <= n_bins or not math.isfinite(f):
            out[row, col] = _NAN
            return
        for j in range(n_bins):
            cnt[j, tid] = 0
            sm[j, tid] = 0.0
        for i in range(offsets[row], offsets[row + 1]):
            x = t[i] * f
            j = int64((x - math.floor(x)) * fb)
            if j >= n_bins:
                j = n_bins - 1
            cnt[j, tid] += 1
            sm[j, tid] += yc[i]
        out[row, col] = aov_f(cnt, sm, tid, n, yy[row])

    return kernel
