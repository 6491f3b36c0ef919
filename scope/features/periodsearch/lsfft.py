"""Lomb-Scargle on the uniform grid through one batched non-uniform FFT per light curve.

The classic floating-tau periodogram (:func:`.reference.lomb_scargle`) needs two sums at every
trial frequency ``f_k = fmin + k df``::

    Y_k = sum_j yc_j exp(2 pi i f_k t_j)        W_k = sum_j exp(2 pi i 2 f_k t_j)

Both are evaluated by one type-1 non-uniform FFT on ONE set of points: with an even
interleaving factor ``R`` and ``x_j = 2 pi R df t_j``,

* ``Y`` at ``k = R q + r`` is mode ``q`` of the transform with strengths
  ``yc_j exp(2 pi i (fmin + r df) t_j)`` (R transforms, one per residue ``r``);
* ``W`` at ``2k = R q' + r'`` (``r'`` even, ``q' < 2M``) is mode ``q' - h M`` of the transform
  with strengths ``exp(2 pi i (2 fmin + r' df + h M R df) t_j)`` (R transforms: R/2 even residues
  times two halves ``h``).

So all ``2R`` transforms share the points and the spreading weights, and each has only
``M = ceil(nf / R)`` modes: small FFTs that stay in cache (measured 2-3x faster per mode than one
FFT of ``nf`` modes). Points may wrap around the circle any number of times: modes are integers.

The transform is the usual spread / FFT / deconvolve scheme with the "exponential of
semicircle" kernel ``phi(z) = exp(beta (sqrt(1 - z^2) - 1))`` on a fine grid of ``n >= sigma M``
cells; its Fourier transform is tabulated once per grid by Gauss-Legendre quadrature. Phases of
the strengths are formed in float64 from ``frac(G t)`` (never ``2 pi G t`` of a large argument);
the fine grid and its FFT are complex64 (``precision="single"``, the default, ~1e-6 relative
error of the power) or complex128 (``"double"``, ~1e-10). Everything after the FFT (deconvolution,
power, peak reduction) is float64, and the periodogram is reduced block by block as it is formed,
so no full periodogram is ever stored.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

import numpy as np
from numba import njit

from .._threads import run_chunks
from ._tracker import N_FST, N_IST, consume_block, finish, init_state, start_segment

#: Default interleaving factor (transforms per sum); even.
DEFAULT_R = 20
#: Fine-grid oversampling.
SIGMA = 1.25
#: Kernel width (fine-grid cells) per precision, chosen for the oversampling above.
KERNEL_WIDTH = {"single": 11, "double": 14}


#: Light curves with fewer points use the direct kernel (measured crossover, ``bench/``).
DIRECT_BELOW = 40


@dataclass(frozen=True)
class LsFftPlan:
    """Everything about the transform that depends only on the grid (built once per run)."""

    fmin: float
    df: float
    nf: int
    r: int
    m: int
    n: int
    width: int
    beta: float
    corr: np.ndarray  # (m,) float64: 1 / kernel transform at centred mode q - m // 2
    precision: str

    @property
    def dtype(self):
        return np.complex64 if self.precision == "single" else np.complex128

    def grid_bytes(self) -> int:
        """Bytes of the per-thread work array."""
        return 2 * self.r * self.n * np.dtype(self.dtype).itemsize


def _good_fft_size(n: int) -> int:
    import scipy.fft

    return int(scipy.fft.next_fast_len(int(n)))


def make_plan(fmin: float, df: float, nf: int, *, precision: str = "single", r: int = DEFAULT_R) -> LsFftPlan:
    """Build the transform plan for the grid ``fmin + k df``, ``k < nf``.

    Parameters
    ----------
    fmin, df : float
        Grid start and step (cycles/day).
    nf : int
        Number of grid frequencies.
    precision : {"single", "double"}
        Fine-grid and FFT precision (everything else is float64).
    r : int
        Interleaving factor (even, >= 2).
    """
    if precision not in KERNEL_WIDTH:
        raise ValueError(f"precision must be 'single' or 'double', got {precision!r}")
    r = max(2, int(r) + (int(r) % 2))
    m = -(-int(nf) // r)
    m += m % 2  # even: centred modes -m/2 .. m/2 - 1
    n = _good_fft_size(max(2 * KERNEL_WIDTH[precision], math.ceil(SIGMA * m)))
    width = KERNEL_WIDTH[precision]
    sigma = n / m
    beta = 0.97 * math.pi * (1.0 - 1.0 / (2.0 * sigma)) * width
    corr = 1.0 / _kernel_transform(np.arange(m, dtype=np.float64) - m // 2, n, width, beta)
    return LsFftPlan(fmin=float(fmin), df=float(df), nf=int(nf), r=r, m=m, n=n, width=width, beta=beta, corr=corr,
                     precision=precision)


def _kernel_transform(modes, n, width, beta):
    """``Phi(2 pi m / n) = int phi(s) exp(-i 2 pi m s / n) ds`` over the kernel's support (cells)."""
    nodes, weights = np.polynomial.legendre.leggauss(4 * width + 24)
    half = width / 2.0
    s = half * (nodes + 1.0) / 2.0  # [0, half]
    wq = weights * half / 2.0
    z = s / half
    phi = np.exp(beta * (np.sqrt(np.maximum(0.0, 1.0 - z * z)) - 1.0))
    xi = 2.0 * np.pi * np.abs(modes) / n
    out = np.empty(len(modes))
    step = 4096
    for a in range(0, len(modes), step):
        out[a:a + step] = 2.0 * (np.cos(np.outer(xi[a:a + step], s)) @ (wq * phi))
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _spread(tr, yc, fmin, df, r, m, n, width, beta, grid):
    """Strengths of the 2r transforms, spread onto the fine grids ``grid[s, :]`` (zeroed here)."""
    grid[:, :] = 0
    npt = tr.shape[0]
    half_w = 0.5 * width
    inv_half = 1.0 / half_w
    kw = np.empty(width)
    shift = 0.5 * m * r * df  # centres the modes
    step = r * df
    for j in range(npt):
        t = tr[j]
        xu = t * step
        u = (xu - math.floor(xu)) * n  # fine-grid position in cells, [0, n)
        l0 = int(math.ceil(u - half_w))
        for k in range(width):
            z = (l0 + k - u) * inv_half
            a = 1.0 - z * z
            kw[k] = math.exp(beta * (math.sqrt(a) - 1.0)) if a > 0 else 0.0
        base = l0 % n
        for s in range(2 * r):
            if s < r:
                g = fmin + s * df + shift
                amp = yc[j]
            else:
                w = s - r
                g = 2.0 * fmin + (w // 2) * 2 * df + (w % 2) * m * step + shift
                amp = 1.0
            x = g * t
            ang = 2.0 * math.pi * (x - math.floor(x))
            cr = amp * math.cos(ang)
            ci = amp * math.sin(ang)
            row = grid[s]
            idx = base
            for k in range(width):
                row[idx] += complex(cr * kw[k], ci * kw[k])
                idx += 1
                if idx == n:
                    idx = 0


@njit(cache=True, nogil=True, fastmath={"contract", "arcp", "nsz"})
def _scaled_copy(src, cc, dre, dim):
    # all four are views of equal length: plain indices from 0 keep the loop free of checks
    for j in range(src.shape[0]):
        v = src[j]
        dre[j] = v.real * cc[j]
        dim[j] = v.imag * cc[j]


@njit(cache=True, nogil=True)
def _copy_modes(row, corr, m, n, q_lo, q_hi, dre, dim, d0, col):
    """``dre/dim[d0 + q - q_lo, col] = row[mode q] * corr[q]`` for ``q_lo <= q < q_hi``.

    Mode ``q`` (centred ``q - m/2``) sits at ``row[q - m/2]``, wrapped to the top of the FFT
    array when negative: two contiguous pieces at most.
    """
    half_m = m // 2
    split = min(max(q_lo, half_m), q_hi)
    if split > q_lo:
        a = q_lo - half_m + n
        b = d0 + split - q_lo
        _scaled_copy(row[a:a + split - q_lo], corr[q_lo:split], dre[d0:b, col], dim[d0:b, col])
    if q_hi > split:
        a = split - half_m
        b0 = d0 + split - q_lo
        b = b0 + q_hi - split
        _scaled_copy(row[a:a + q_hi - split], corr[split:q_hi], dre[b0:b, col], dim[b0:b, col])


@njit(cache=True, nogil=True, error_model="numpy")
def _load_block(spec, corr, r, m, n, qa, qb, yre, yim, wre, wim):
    """Deconvolved sums for the grid indices ``k = r qa .. r qb - 1``, read row by row.

    Afterwards ``Y_k`` and ``W_k`` both sit at position ``k - r qa`` of the flat buffers:
    ``Y`` at ``k = r q + rr`` goes to ``(q - qa) r + rr``; ``W`` at ``2k = r q2 + r2`` (``q2 =
    hh m + qw``: half ``hh``, mode ``qw``) goes to ``(q2 - 2 qa) r/2 + r2/2``, the same position.
    """
    half_r = r // 2
    size = yre.shape[0]
    y2re = yre.reshape((size // r, r))
    y2im = yim.reshape((size // r, r))
    w2re = wre.reshape((size // half_r, half_r))
    w2im = wim.reshape((size // half_r, half_r))
    for rr in range(r):
        _copy_modes(spec[rr], corr, m, n, qa, qb, y2re, y2im, 0, rr)
    lo2 = 2 * qa
    hi2 = 2 * qb
    for g in range(half_r):
        for hh in range(2):
            a = max(lo2, hh * m)
            b = min(hi2, (hh + 1) * m)
            if a < b:
                _copy_modes(spec[r + 2 * g + hh], corr, m, n, a - hh * m, b - hh * m, w2re, w2im, a - lo2, g)
        # positions past the last half are never used, but keep them finite
        for q2 in range(max(lo2, 2 * m), hi2):
            w2re[q2 - lo2, g] = 0.0
            w2im[q2 - lo2, g] = 0.0


@njit(cache=True, nogil=True, fastmath={"contract", "arcp", "nsz"}, error_model="numpy")
def _block_power(yre, yim, wre, wim, j0, nk, fn, inv_yy, vals):
    """Power at buffer positions ``j0 .. j0 + nk - 1`` into ``vals[0:nk]``.

    With ``Y = YC + i YS`` and ``W = C2 + i S2`` the floating-tau power is, without any angle,
    ``P = 2 (N |Y|^2 - Re(Y^2 conj(W))) / (N^2 - |W|^2) / YY``. Where ``N - |W|`` vanishes (every
    point at one phase of ``2 omega``) only the cosine term is kept, as in the reference.
    """
    lim2 = (fn * (1.0 - 2e-12)) ** 2
    rare = False
    for jj in range(nk):
        yc0 = yre[j0 + jj]
        ys0 = yim[j0 + jj]
        c2 = wre[j0 + jj]
        s2 = wim[j0 + jj]
        y2 = yc0 * yc0 + ys0 * ys0
        cross = (yc0 * yc0 - ys0 * ys0) * c2 + 2.0 * yc0 * ys0 * s2
        h2 = c2 * c2 + s2 * s2
        vals[jj] = 2.0 * (fn * y2 - cross) / (fn * fn - h2) * inv_yy
        rare |= h2 >= lim2
    if rare:
        for jj in range(nk):
            c2 = wre[j0 + jj]
            s2 = wim[j0 + jj]
            h2 = c2 * c2 + s2 * s2
            if h2 >= lim2:
                yc0 = yre[j0 + jj]
                ys0 = yim[j0 + jj]
                h = math.sqrt(h2)
                cross = (yc0 * yc0 - ys0 * ys0) * c2 + 2.0 * yc0 * ys0 * s2
                vals[jj] = (yc0 * yc0 + ys0 * ys0 + cross / h) / (fn + h) * inv_yy if h > 0 else 0.0


#: Modes per block of the power loop (r * _QBLOCK grid indices).
_QBLOCK = 128


@njit(cache=True, nogil=True, error_model="numpy")
def _power_reduce(spec, corr, r, m, n, npt, yy, segments, sep, summary, pk_idx, pk_val, raw_idx, raw_val):
    """Power at every kept grid index from the transformed grids, folded into the peak tracker."""
    fst = np.empty(N_FST)
    ist = np.empty(N_IST, np.int64)
    init_state(fst, ist, pk_idx, pk_val, raw_idx, raw_val)
    size = r * _QBLOCK
    yre = np.empty(size)
    yim = np.empty(size)
    wre = np.empty(size)
    wim = np.empty(size)
    vals = np.empty(size)
    fn = float(npt)
    inv_yy = 1.0 / yy
    n_seg = segments.shape[0]
    sg = 0
    if n_seg == 0:
        finish(fst, ist, pk_idx, pk_val, raw_idx, raw_val, summary)
        return
    k_end = segments[n_seg - 1, 1]
    qa = segments[0, 0] // r
    while qa * r < k_end:
        qb = min(qa + _QBLOCK, m)
        ka = qa * r
        kb = min(qb * r, k_end)
        # skip blocks that hold no kept index
        while sg < n_seg and segments[sg, 1] <= ka:
            sg += 1
        if sg < n_seg and segments[sg, 0] < kb:
            _load_block(spec, corr, r, m, n, qa, qb, yre, yim, wre, wim)
            s = sg
            while s < n_seg and segments[s, 0] < kb:
                lo = max(ka, segments[s, 0])
                hi = min(kb, segments[s, 1])
                if lo == segments[s, 0]:
                    start_segment(ist)
                _block_power(yre, yim, wre, wim, lo - ka, hi - lo, fn, inv_yy, vals)
                consume_block(vals, lo, hi - lo, fst, ist, pk_idx, pk_val, raw_idx, raw_val, sep)
                if segments[s, 1] > kb:
                    break
                s += 1
        qa = qb
    finish(fst, ist, pk_idx, pk_val, raw_idx, raw_val, summary)


class _Buffers(threading.local):
    array = None


_buffers = _Buffers()


def _work_array(plan: LsFftPlan) -> np.ndarray:
    """This thread's fine-grid array for ``plan`` (kept between light curves)."""
    buf = _buffers.array
    shape = (2 * plan.r, plan.n)
    if buf is None or buf.shape != shape or buf.dtype != plan.dtype:
        buf = np.empty(shape, dtype=plan.dtype)
        _buffers.array = buf
    return buf


@functools.lru_cache(maxsize=8)
def cached_plan(fmin: float, df: float, nf: int, precision: str = "single", r: int = DEFAULT_R) -> LsFftPlan:
    """:func:`make_plan`, remembered for the last few grids (a run uses one grid throughout)."""
    return make_plan(fmin, df, nf, precision=precision, r=r)


def ls_one_fft(plan: LsFftPlan, tr, y, segments, sep, summary, pk_idx, pk_val, raw_idx, raw_val) -> None:
    """Lomb-Scargle of one prepared light curve into its output rows (see :mod:`.cpu` for them).

    ``tr`` are times relative to the first point, ``y`` the rescaled magnitudes (at least 3
    points, not constant).
    """
    import scipy.fft

    yc = y - y.mean()
    yy = float(np.dot(yc, yc))
    grid = _work_array(plan)
    _spread(tr, yc, plan.fmin, plan.df, plan.r, plan.m, plan.n, plan.width, plan.beta, grid)
    spec = scipy.fft.ifft(grid, axis=1, norm="forward", workers=1, overwrite_x=True)
    _power_reduce(spec, plan.corr, plan.r, plan.m, plan.n, len(tr), yy, segments, sep,
                  summary, pk_idx, pk_val, raw_idx, raw_val)


def ls_batch(prep, grid, sep, n_threads, summary, pk_idx, pk_val, raw_idx, raw_val, *,
             precision: str = "single", direct_below: int = DIRECT_BELOW) -> None:
    """Lomb-Scargle of every light curve of ``prep`` into the kernel outputs (see :mod:`.cpu`).

    Light curves with fewer than ``direct_below`` points use the direct numba kernel
    (:func:`.cpu.search_batch`), which is cheaper there (its cost grows with the number of
    points, the transform's hardly does); the others use the transform. The choice depends on the
    light curve alone, never on the batch it is in.
    """
    from . import cpu

    offsets = prep.offsets
    n_lc = len(offsets) - 1
    if not n_lc:
        return
    plan = cached_plan(float(grid.fmin), float(grid.df), int(grid.nf), precision)
    lengths = np.diff(offsets)

    def work(r0, r1):
        for i in range(r0, r1):
            a, b = offsets[i], offsets[i + 1]
            if lengths[i] < max(3, direct_below):
                # the direct kernel also handles < 3 points and constant light curves
                cpu.ls_rows(prep.t, prep.y, offsets, grid.fmin, grid.df, grid.segments, sep, i, i + 1,
                            summary, pk_idx, pk_val, raw_idx, raw_val)
            elif not np.ptp(prep.y[a:b]) > 0:
                summary[i] = (np.nan, np.nan, 0.0, -1.0, np.nan)
                pk_idx[i] = -1
                pk_val[i] = np.nan
                raw_idx[i] = -1
                raw_val[i] = np.nan
            else:
                ls_one_fft(plan, prep.t[a:b], prep.y[a:b], grid.segments, sep,
                           summary[i], pk_idx[i], pk_val[i], raw_idx[i], raw_val[i])

    run_chunks(work, n_lc, n_threads, chunk=1)
