"""numba period-search kernels: parallel over light curves, reduced to peaks on the fly.

:func:`search_batch` runs one kernel over a prepared ragged batch (:mod:`.prepare`) with
light curves spread over threads. Each per-light-curve kernel walks the kept runs of the uniform
frequency grid in blocks of ``BLOCK`` frequencies and passes each block of scores to
:func:`._tracker.consume_block`. No kernel ever holds more than one block of a periodogram.
CE and AOV share a kernel (they share the phase bins) and run fused when both are asked for.

Phases are kept incrementally: per light curve, ``frac(t_i * df)`` is a constant step, so the phase
at the next frequency is the previous phase plus that step. For the binned statistics (CE, AOV,
FPW, BLS) the phase is a 32-bit fixed-point fraction of a cycle, so the ``mod 1`` is the natural
integer wrap-around; the step's rounding error is at most 2**-33 cycles, and every block restarts
from an exact float64 ``frac(t * f)``, so the drift stays below 1e-7 cycles. For LS and MHF the
phase is a rotating unit vector, re-seeded exactly at every block.

Outputs (arrays passed in, one row per light curve):

``summary`` float64 (n, 5): mean score, std of score, finite bins, best grid index, best score.
``pk_idx``/``pk_val`` (n, n_peaks): distinct peaks, best first. ``raw_idx``/``raw_val`` (n, n_raw):
highest raw bins. Scores are "larger is better" (CE is negated by the caller's convention: the
kernel stores ``-H``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._threads import run_chunks
from ._tracker import N_FST, N_IST, consume_block, finish, init_state, start_segment

#: Frequencies per block (exact phase re-seed interval).
BLOCK = 256

# fastmath without the no-NaN / no-Inf assumptions: degenerate bins must still produce NaN/inf
_FM = {"contract", "arcp", "reassoc", "nsz", "afn"}

_TWO32 = 4294967296.0
_MASK32 = 0xFFFFFFFF


@njit(cache=True, nogil=True)
def _empty_row(summary_row, pk_idx_row, pk_val_row, raw_idx_row, raw_val_row):
    summary_row[0] = np.nan
    summary_row[1] = np.nan
    summary_row[2] = 0.0
    summary_row[3] = -1.0
    summary_row[4] = np.nan
    pk_idx_row[:] = -1
    pk_val_row[:] = np.nan
    raw_idx_row[:] = -1
    raw_val_row[:] = np.nan


@njit(cache=True, nogil=True, fastmath=_FM)
def _seed_phase_u32(tr, f, ph):
    for i in range(tr.shape[0]):
        x = tr[i] * f
        ph[i] = np.uint32(np.int64((x - math.floor(x)) * _TWO32) & _MASK32)


@njit(cache=True, nogil=True)
def _bin_shifts(n_bins):
    """Shifts for ``bin = ((phase >> s) * n_bins) >> (32 - s)`` in 32-bit arithmetic.

    ``s = ceil(log2(n_bins))`` keeps the product below 2**32; the bin edges are then exact to
    2**-(32 - s) of a cycle (2**-27 for 20 bins).
    """
    s = 0
    while (1 << s) < n_bins:
        s += 1
    return np.uint32(s), np.uint32(32 - s)


@njit(cache=True, nogil=True)
def _step_u32(tr, df):
    n = tr.shape[0]
    dph = np.empty(n, np.uint32)
    for i in range(n):
        x = tr[i] * df
        dph[i] = np.uint32(np.int64(math.floor((x - math.floor(x)) * _TWO32 + 0.5)) & _MASK32)
    return dph


# --------------------------------------------------------------------------------------------
# Conditional entropy and analysis of variance (separate or fused: they share the phase bins)
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, error_model="numpy")
def _ce_tables(yr, n_phase, n_mag):
    """Per-light-curve constants of the CE statistic.

    Returns the magnitude-bin offset of each point in the magnitude-major cell table, the
    ``k ln k`` table (column entropy) and the fixed-point increments ``(k+1) ln(k+1) - k ln k``
    (cell entropy, accumulated exactly in int64 while counting) with the inverse of their scale.
    """
    n = yr.shape[0]
    mb = np.empty(n, np.uint32)
    for i in range(n):
        # magnitude bins as in the reference: y remapped to [5e-4, 0.9995] before binning
        q = int(math.floor((5e-4 + yr[i] * 0.999) * n_mag))
        if q < 0:
            q = 0
        elif q >= n_mag:
            q = n_mag - 1
        mb[i] = q * n_phase
    klnk = np.zeros(n + 2)
    for k in range(2, n + 2):
        klnk[k] = k * math.log(k)
    scale = 2.0 ** 40
    worst = n * (math.log(n + 1.0) + 1.0) + 1.0
    while scale * worst > 4.0e18:
        scale *= 0.5
    dint = np.empty(n + 1, np.int64)
    for k in range(n + 1):
        dint[k] = np.int64(round((klnk[k + 1] - klnk[k]) * scale))
    return mb, klnk, dint, 1.0 / scale


@njit(cache=True, nogil=True, error_model="numpy")
def _aov_tables(yr, n_bins):
    """Per-light-curve constants of the AOV statistic.

    Bin count and bin sum are packed in one int64 per point (count 1 in bit 40; the centred
    magnitude quantised to about 2**-20 of its range and offset to be non-negative in the low 40
    bits), so each point costs one scatter-add and the bin sums are exact integers.
    Returns (packed, offset, sum of quantised values, their total sum of squares about the
    mean, F prefactor).
    """
    n = yr.shape[0]
    mean = 0.0
    for i in range(n):
        mean += yr[i]
    mean /= n
    amp = 0.0
    for i in range(n):
        d = abs(yr[i] - mean)
        if d > amp:
            amp = d
    # quantisation bits: keep n * 2**(bits + 2) below 2**40 so the low field never overflows
    bits = 20
    while bits > 8 and n * 2.0 ** (bits + 2) >= 2.0 ** 40:
        bits -= 1
    off = np.int64(1) << (bits + 1)
    q = (2.0 ** bits) / amp if amp > 0 else 0.0
    packed = np.empty(n, np.int64)
    sum_q = 0.0
    sumsq_q = 0.0
    for i in range(n):
        yq = np.int64(round((yr[i] - mean) * q))
        packed[i] = (np.int64(1) << 40) + yq + off
        sum_q += yq
        sumsq_q += float(yq) * float(yq)
    s_tot = sumsq_q - sum_q * sum_q / n
    return packed, off, sum_q, s_tot, (n - n_bins) / (n_bins - 1.0)


#: Frequencies per sub-block of the CE/AOV kernel: their bin totals are kept side by side so
#: the per-frequency finishing work (F ratios, column entropies) runs vectorised across them.
_FB = 32


@njit(cache=True, nogil=True, fastmath=_FM)
def _phase_bins(ph, dph, pbin, nb, bshift, bshift2):
    """Phase bin of every point at the current frequency, then step the phases."""
    for i in range(ph.shape[0]):
        p = ph[i]
        pbin[i] = np.uint32(((p >> bshift) * nb) >> bshift2)
        ph[i] = p + dph[i]


@njit(cache=True, nogil=True, fastmath=_FM)
def _phase_cells(ph, dph, mb, pbin, cell, nb, bshift, bshift2):
    """Phase bin and CE cell (phase bin + magnitude-bin offset) of every point, then step."""
    for i in range(ph.shape[0]):
        p = ph[i]
        b = np.uint32(((p >> bshift) * nb) >> bshift2)
        pbin[i] = b
        cell[i] = b + mb[i]
        ph[i] = p + dph[i]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _count_ce(cell, counts, dint):
    """Cell counts and, exactly in fixed point, ``sum_cells c ln c`` (returned, scaled)."""
    acc = np.int64(0)
    for i in range(cell.shape[0]):
        c = cell[i]
        kk = counts[c]
        acc += dint[kk]
        counts[c] = kk + np.uint32(1)
    return acc


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _count_aov(pbin, packed, acc):
    """Packed (count, sum) per phase bin of one frequency (``acc`` zeroed by the caller)."""
    for i in range(pbin.shape[0]):
        acc[pbin[i]] += packed[i]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _count_both(pbin, cell, packed, aacc, counts, dint):
    """:func:`_count_aov` and :func:`_count_ce` in one pass over the points."""
    acc = np.int64(0)
    for i in range(pbin.shape[0]):
        aacc[pbin[i]] += packed[i]
        c = cell[i]
        kk = counts[c]
        acc += dint[kk]
        counts[c] = kk + np.uint32(1)
    return acc


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _aov_finish(accs, nfb, n_bins, off, sum_q, s_tot, factor, n, colblk, between, out, o0):
    """AOV F of the sub-block's frequencies from their packed bin totals; bin counts to ``colblk``."""
    low_mask = (np.int64(1) << 40) - 1
    between[:] = 0.0
    for k in range(n_bins):
        for j in range(_FB):
            v = accs[j * n_bins + k]
            cnt = v >> 40
            colblk[k * _FB + j] = cnt
            sb = float((v & low_mask) - cnt * off)
            between[j] += sb * sb / max(cnt, 1)  # empty bins have sb = 0
    c0 = sum_q * sum_q / n
    for j in range(nfb):
        s1 = between[j] - c0
        s2 = s_tot - s1
        out[o0 + j] = factor * s1 / s2 if s2 > 0 else np.nan


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _ce_columns(counts, n_phase, n_mag, colblk, j):
    """Phase-bin totals of the cell counts into column ``j`` of ``colblk``."""
    for jj in range(n_phase):
        tot = np.uint32(0)
        for q in range(n_mag):
            tot += counts[q * n_phase + jj]
        colblk[jj * _FB + j] = tot


@njit(cache=True, nogil=True, error_model="numpy")
def _ce_finish(colblk, hcell, nfb, n_phase, klnk, n, out, o0):
    """``-H = -(sum_j c_j ln c_j - sum_ij c_ij ln c_ij) / n`` for the sub-block's frequencies."""
    for j in range(nfb):
        hj = 0.0
        for jj in range(n_phase):
            hj += klnk[colblk[jj * _FB + j]]
        out[o0 + j] = -(hj - hcell[j]) / n


@njit(cache=True, nogil=True, error_model="numpy")
def _ce_aov_one(r, tr, yr, fmin, df, segments, n_phase, n_mag, do_ce, do_aov, sep,
                ce_summary, ce_pk_idx, ce_pk_val, ce_raw_idx, ce_raw_val,
                aov_summary, aov_pk_idx, aov_pk_val, aov_raw_idx, aov_raw_val):
    """CE (score ``-H``) and/or AOV F of light curve ``r`` in one pass over the grid.

    Per frequency each point costs one phase step, one bin computation (vectorised) and one
    scatter-add per statistic; the cell term of the entropy is accumulated exactly while
    counting (a fixed-point table of ``(k+1) ln(k+1) - k ln k``), so there is no sum over the
    cells. Frequencies are handled in sub-blocks of :data:`_FB` whose bin totals sit side by side,
    so the F ratios and column entropies are finished together. Every sum is an exact integer, so
    the result does not depend on the order of the points.
    """
    n = tr.shape[0]
    run_ce = do_ce and n >= 2
    run_aov = do_aov and n > n_phase
    if do_ce and not run_ce:
        _empty_row(ce_summary[r], ce_pk_idx[r], ce_pk_val[r], ce_raw_idx[r], ce_raw_val[r])
    if do_aov and not run_aov:
        _empty_row(aov_summary[r], aov_pk_idx[r], aov_pk_val[r], aov_raw_idx[r], aov_raw_val[r])
    if not (run_ce or run_aov):
        return
    cfst = np.empty(N_FST)
    cist = np.empty(N_IST, np.int64)
    afst = np.empty(N_FST)
    aist = np.empty(N_IST, np.int64)
    if run_ce:
        init_state(cfst, cist, ce_pk_idx[r], ce_pk_val[r], ce_raw_idx[r], ce_raw_val[r])
    if run_aov:
        init_state(afst, aist, aov_pk_idx[r], aov_pk_val[r], aov_raw_idx[r], aov_raw_val[r])
    mb, klnk, dint, inv_scale = _ce_tables(yr, n_phase, n_mag)
    packed, off, sum_q, s_tot, factor = _aov_tables(yr, n_phase)
    counts = np.zeros(n_phase * n_mag, np.uint32)
    accs = np.zeros(n_phase * _FB, np.int64)
    colblk = np.zeros(n_phase * _FB, np.int64)
    hcell = np.zeros(_FB)
    between = np.zeros(_FB)
    dph = _step_u32(tr, df)
    ph = np.empty(n, np.uint32)
    pbin = np.empty(n, np.uint32)
    cell = np.empty(n, np.uint32)
    cvals = np.empty(BLOCK)
    avals = np.empty(BLOCK)
    nb = np.uint32(n_phase)
    bshift, bshift2 = _bin_shifts(n_phase)
    for s in range(segments.shape[0]):
        if run_ce:
            start_segment(cist)
        if run_aov:
            start_segment(aist)
        for k0 in range(segments[s, 0], segments[s, 1], BLOCK):
            nk = min(BLOCK, segments[s, 1] - k0)
            _seed_phase_u32(tr, fmin + k0 * df, ph)
            for j0 in range(0, nk, _FB):
                nfb = min(_FB, nk - j0)
                if run_aov:
                    accs[:] = 0
                for j in range(nfb):
                    # frequency j's bin totals: a contiguous row of the sub-block table
                    acc_j = accs[j * n_phase:(j + 1) * n_phase]
                    if run_ce:
                        _phase_cells(ph, dph, mb, pbin, cell, nb, bshift, bshift2)
                        counts[:] = 0
                        if run_aov:
                            hcell[j] = _count_both(pbin, cell, packed, acc_j, counts, dint) * inv_scale
                        else:
                            hcell[j] = _count_ce(cell, counts, dint) * inv_scale
                            _ce_columns(counts, n_phase, n_mag, colblk, j)
                    else:
                        _phase_bins(ph, dph, pbin, nb, bshift, bshift2)
                        _count_aov(pbin, packed, acc_j)
                if run_aov:
                    # also leaves the bin counts, CE's column totals, in colblk
                    _aov_finish(accs, nfb, n_phase, off, sum_q, s_tot, factor, n, colblk, between, avals, j0)
                if run_ce:
                    _ce_finish(colblk, hcell, nfb, n_phase, klnk, n, cvals, j0)
            if run_ce:
                consume_block(cvals, k0, nk, cfst, cist, ce_pk_idx[r], ce_pk_val[r],
                              ce_raw_idx[r], ce_raw_val[r], sep)
            if run_aov:
                consume_block(avals, k0, nk, afst, aist, aov_pk_idx[r], aov_pk_val[r],
                              aov_raw_idx[r], aov_raw_val[r], sep)
    if run_ce:
        finish(cfst, cist, ce_pk_idx[r], ce_pk_val[r], ce_raw_idx[r], ce_raw_val[r], ce_summary[r])
    if run_aov:
        finish(afst, aist, aov_pk_idx[r], aov_pk_val[r], aov_raw_idx[r], aov_raw_val[r], aov_summary[r])


# --------------------------------------------------------------------------------------------
# Weighted phase-binned statistics: FPW and BLS
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _bls_value(bw, by, cw, cy, total_w, n_bins, lmin, lmax):
    """Best ``s^2 / (r (W - r))`` over circular windows of ``lmin..lmax`` phase bins."""
    # prefix sums over the bins repeated twice: circular windows become slices
    for k in range(2 * n_bins):
        cw[k + 1] = cw[k] + bw[k % n_bins]
        cy[k + 1] = cy[k] + by[k % n_bins]
    best = 0.0
    for length in range(lmin, lmax + 1):
        for st in range(n_bins):
            rw = cw[st + length] - cw[st]
            rest = total_w - rw
            if rw > 0 and rest > 0:
                sy = cy[st + length] - cy[st]
                pw = sy * sy / (rw * rest)
                if pw > best:
                    best = pw
    return best


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _weighted_binned_one(r, tr, yr, wr, fmin, df, segments, n_bins, is_bls, qmin, qmax, sep,
                         summary, pk_idx, pk_val, raw_idx, raw_val):
    """FPW ``sum_k (sum w y)^2 / (2 sum w)`` or BLS over phase bins (y centred on its weighted mean)."""
    n = tr.shape[0]
    if n < 2:
        _empty_row(summary[r], pk_idx[r], pk_val[r], raw_idx[r], raw_val[r])
        return
    fst = np.empty(N_FST)
    ist = np.empty(N_IST, np.int64)
    init_state(fst, ist, pk_idx[r], pk_val[r], raw_idx[r], raw_val[r])
    sw = 0.0
    swy = 0.0
    for i in range(n):
        sw += wr[i]
        swy += wr[i] * yr[i]
    ybar = swy / sw
    wy = np.empty(n)
    for i in range(n):
        wy[i] = wr[i] * (yr[i] - ybar)
    lmin = max(1, int(math.floor(qmin * n_bins)))
    lmax = max(lmin, min(n_bins - 1, int(math.ceil(qmax * n_bins))))
    dph = _step_u32(tr, df)
    ph = np.empty(n, np.uint32)
    pbin = np.empty(n, np.uint32)
    bw = np.zeros(n_bins)
    by = np.zeros(n_bins)
    cw = np.zeros(2 * n_bins + 1)
    cy = np.zeros(2 * n_bins + 1)
    vals = np.empty(BLOCK)
    nb = np.uint32(n_bins)
    bshift, bshift2 = _bin_shifts(n_bins)
    for s in range(segments.shape[0]):
        start_segment(ist)
        for k0 in range(segments[s, 0], segments[s, 1], BLOCK):
            nk = min(BLOCK, segments[s, 1] - k0)
            _seed_phase_u32(tr, fmin + k0 * df, ph)
            for j in range(nk):
                _phase_bins(ph, dph, pbin, nb, bshift, bshift2)
                bw[:] = 0.0
                by[:] = 0.0
                for i in range(n):
                    c = pbin[i]
                    bw[c] += wr[i]
                    by[c] += wy[i]
                if is_bls:
                    vals[j] = _bls_value(bw, by, cw, cy, sw, n_bins, lmin, lmax)
                else:
                    tot = 0.0
                    for k in range(n_bins):
                        if bw[k] > 0:
                            tot += by[k] * by[k] / (2.0 * bw[k])
                    vals[j] = tot
            consume_block(vals, k0, nk, fst, ist, pk_idx[r], pk_val[r], raw_idx[r], raw_val[r], sep)
    finish(fst, ist, pk_idx[r], pk_val[r], raw_idx[r], raw_val[r], summary[r])


# --------------------------------------------------------------------------------------------
# Lomb-Scargle (classic, floating tau, centred data, standard normalisation)
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _seed_rotation(tr, f, c, s):
    for i in range(tr.shape[0]):
        x = tr[i] * f
        ang = 2.0 * math.pi * (x - math.floor(x))
        c[i] = math.cos(ang)
        s[i] = math.sin(ang)


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _ls_one(r, tr, yr, fmin, df, segments, sep, summary, pk_idx, pk_val, raw_idx, raw_val):
    """Lomb-Scargle power ``(YC^2/CC + YS^2/SS) / YY`` with the Scargle time offset tau."""
    n = tr.shape[0]
    if n < 3:
        _empty_row(summary[r], pk_idx[r], pk_val[r], raw_idx[r], raw_val[r])
        return
    fst = np.empty(N_FST)
    ist = np.empty(N_IST, np.int64)
    init_state(fst, ist, pk_idx[r], pk_val[r], raw_idx[r], raw_val[r])
    mean = 0.0
    for i in range(n):
        mean += yr[i]
    mean /= n
    yc = np.empty(n)
    yy = 0.0
    for i in range(n):
        yc[i] = yr[i] - mean
        yy += yc[i] * yc[i]
    c = np.empty(n)
    s = np.empty(n)
    dc = np.empty(n)
    ds = np.empty(n)
    _seed_rotation(tr, df, dc, ds)
    vals = np.empty(BLOCK)
    half_n = 0.5 * n
    for sg in range(segments.shape[0]):
        start_segment(ist)
        for k0 in range(segments[sg, 0], segments[sg, 1], BLOCK):
            nk = min(BLOCK, segments[sg, 1] - k0)
            _seed_rotation(tr, fmin + k0 * df, c, s)
            for j in range(nk):
                sc = 0.0
                ss = 0.0
                c2 = 0.0
                s2 = 0.0
                for i in range(n):
                    ci = c[i]
                    si = s[i]
                    sc += yc[i] * ci
                    ss += yc[i] * si
                    c2 += ci * ci - si * si
                    s2 += ci * si
                    c[i] = ci * dc[i] - si * ds[i]
                    s[i] = si * dc[i] + ci * ds[i]
                s2 *= 2.0
                h = math.sqrt(c2 * c2 + s2 * s2)
                if h > 0:
                    cos2 = c2 / h
                    sin2 = s2 / h
                else:
                    cos2 = 1.0
                    sin2 = 0.0
                ct = math.sqrt(max(0.0, 0.5 * (1.0 + cos2)))
                st = math.sqrt(max(0.0, 0.5 * (1.0 - cos2)))
                if sin2 < 0:
                    st = -st
                ycos = sc * ct + ss * st
                ysin = ss * ct - sc * st
                cc = half_n + 0.5 * h
                sss = half_n - 0.5 * h
                p = 0.0
                if cc > 1e-12 * n:
                    p += ycos * ycos / cc
                if sss > 1e-12 * n:
                    p += ysin * ysin / sss
                vals[j] = p / yy if yy > 0 else np.nan
            consume_block(vals, k0, nk, fst, ist, pk_idx[r], pk_val[r], raw_idx[r], raw_val[r], sep)
    finish(fst, ist, pk_idx[r], pk_val[r], raw_idx[r], raw_val[r], summary[r])


# --------------------------------------------------------------------------------------------
# Multi-harmonic Fourier (BIC improvement over a line)
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, error_model="numpy")
def chol_chi2(g, rhs, yy, size, chi2):
    """Cholesky of the leading ``size`` block of ``g``; chi2[k] for models of 2 + 2k parameters.

    Models whose matrix is not positive definite get ``inf``.
    """
    low = np.zeros((size, size))
    z = np.zeros(size)
    ok = size
    for i in range(size):
        for j in range(i + 1):
            acc = g[i, j]
            for k in range(j):
                acc -= low[i, k] * low[j, k]
            if i == j:
                if acc <= 1e-12 * max(abs(g[i, i]), 1e-300):
                    ok = i
                    break
                low[i, i] = math.sqrt(acc)
            else:
                low[i, j] = acc / low[j, j]
        if ok < size:
            break
        acc = rhs[i]
        for k in range(i):
            acc -= low[i, k] * z[k]
        z[i] = acc / low[i, i]
    resid = yy
    for k in range(chi2.shape[0]):
        chi2[k] = np.inf
    for i in range(ok):
        resid -= z[i] * z[i]
        if i % 2 == 1:  # a model of 2 + 2k parameters is complete after index 1 + 2k
            chi2[(i - 1) // 2] = resid


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _mhf_one(r, tr, yr, wr, fmin, df, segments, kh, sep, summary, pk_idx, pk_val, raw_idx, raw_val):
    """Multi-harmonic fit score ``max_K (BIC_0 - BIC_K)``, K = 0..kh.

    Model: offset + slope * (t - t_min) + sum_{k<=K} A_k cos(k phi) + B_k sin(k phi), weights
    ``w``. The normal matrix is assembled from harmonic sums (products of harmonics are
    harmonics), so each point costs O(K) per frequency.
    """
    n = tr.shape[0]
    if n < 3:
        _empty_row(summary[r], pk_idx[r], pk_val[r], raw_idx[r], raw_val[r])
        return
    size = 2 + 2 * kh
    fst = np.empty(N_FST)
    ist = np.empty(N_IST, np.int64)
    init_state(fst, ist, pk_idx[r], pk_val[r], raw_idx[r], raw_val[r])
    span = 0.0
    for i in range(n):
        if tr[i] - tr[0] > span:
            span = tr[i] - tr[0]
    inv_span = 1.0 / span if span > 0 else 0.0
    wy = np.empty(n)
    wt = np.empty(n)
    w0 = 0.0
    t1 = 0.0
    t2 = 0.0
    y0 = 0.0
    yt = 0.0
    yy = 0.0
    for i in range(n):
        wi = wr[i]
        ti = (tr[i] - tr[0]) * inv_span
        yi = yr[i]
        wy[i] = wi * yi
        wt[i] = wi * ti
        w0 += wi
        t1 += wi * ti
        t2 += wi * ti * ti
        y0 += wi * yi
        yt += wi * yi * ti
        yy += wi * yi * yi
    log_n = math.log(n)
    g = np.zeros((size, size))
    rhs = np.zeros(size)
    chi2 = np.empty(kh + 1)
    csum = np.zeros(2 * kh + 1)
    ssum = np.zeros(2 * kh + 1)
    tcs = np.zeros(kh + 1)
    tss = np.zeros(kh + 1)
    ycs = np.zeros(kh + 1)
    yss = np.zeros(kh + 1)
    c = np.empty(n)
    s = np.empty(n)
    dc = np.empty(n)
    ds = np.empty(n)
    _seed_rotation(tr, df, dc, ds)
    vals = np.empty(BLOCK)
    for sg in range(segments.shape[0]):
        start_segment(ist)
        for k0 in range(segments[sg, 0], segments[sg, 1], BLOCK):
            nk = min(BLOCK, segments[sg, 1] - k0)
            _seed_rotation(tr, fmin + k0 * df, c, s)
            for j in range(nk):
                csum[:] = 0.0
                ssum[:] = 0.0
                tcs[:] = 0.0
                tss[:] = 0.0
                ycs[:] = 0.0
                yss[:] = 0.0
                for i in range(n):
                    c1 = c[i]
                    s1 = s[i]
                    ck = c1
                    sk = s1
                    for h in range(1, 2 * kh + 1):
                        csum[h] += wr[i] * ck
                        ssum[h] += wr[i] * sk
                        if h <= kh:
                            tcs[h] += wt[i] * ck
                            tss[h] += wt[i] * sk
                            ycs[h] += wy[i] * ck
                            yss[h] += wy[i] * sk
                        cn = ck * c1 - sk * s1
                        sk = sk * c1 + ck * s1
                        ck = cn
                    c[i] = c1 * dc[i] - s1 * ds[i]
                    s[i] = s1 * dc[i] + c1 * ds[i]
                csum[0] = w0
                # the normal matrix; its lower triangle is what Cholesky reads
                g[0, 0] = w0
                g[1, 0] = t1
                g[1, 1] = t2
                rhs[0] = y0
                rhs[1] = yt
                for p in range(1, kh + 1):
                    ip = 2 * p
                    g[ip, 0] = csum[p]
                    g[ip + 1, 0] = ssum[p]
                    g[ip, 1] = tcs[p]
                    g[ip + 1, 1] = tss[p]
                    rhs[ip] = ycs[p]
                    rhs[ip + 1] = yss[p]
                    for q in range(1, p + 1):
                        iq = 2 * q
                        dpq = p - q
                        spq = p + q
                        g[ip, iq] = 0.5 * (csum[dpq] + csum[spq])
                        g[ip + 1, iq + 1] = 0.5 * (csum[dpq] - csum[spq])
                        # cos(p) sin(q) and sin(p) cos(q)
                        g[ip, iq + 1] = 0.5 * (ssum[spq] - ssum[dpq])
                        g[ip + 1, iq] = 0.5 * (ssum[spq] + ssum[dpq])
                for p in range(size):
                    for q in range(p + 1, size):
                        g[p, q] = g[q, p]
                chol_chi2(g, rhs, yy, size, chi2)
                bic0 = chi2[0] + log_n * 2.0
                best = 0.0
                for k in range(1, kh + 1):
                    gain = bic0 - (chi2[k] + log_n * (2.0 + 2.0 * k))
                    if gain > best:
                        best = gain
                vals[j] = best
            consume_block(vals, k0, nk, fst, ist, pk_idx[r], pk_val[r], raw_idx[r], raw_val[r], sep)
    finish(fst, ist, pk_idx[r], pk_val[r], raw_idx[r], raw_val[r], summary[r])


# --------------------------------------------------------------------------------------------
# The one parallel entry point
# --------------------------------------------------------------------------------------------

#: Kernel codes of :func:`search_batch`.
CE_AOV, FPW, BLS, LS, MHF = 0, 1, 2, 3, 4


def search_batch(code, t, y, w, offsets, fmin, df, segments, ipar, fpar, sep, outputs, outputs2, n_threads=None):
    """Run kernel ``code`` on every light curve, light curves spread over ``n_threads`` threads.

    ``ipar``/``fpar`` carry the integer/float parameters: CE_AOV (n_phase, n_mag, do_ce,
    do_aov; CE results in ``outputs``, AOV in ``outputs2``), FPW (n_bins), BLS (n_bins; qmin,
    qmax), LS (), MHF (max_harmonics). ``outputs``/``outputs2`` are the 5-tuples of arrays
    described in the module docstring (zero rows when unused). Each kernel family has its own
    compiled range function, so a run compiles only what it uses.
    """
    if code == CE_AOV:
        def work(r0, r1):
            _ce_aov_range(t, y, offsets, fmin, df, segments, ipar[0], ipar[1], ipar[2] != 0, ipar[3] != 0,
                          sep, r0, r1, *outputs, *outputs2)
    elif code in (FPW, BLS):
        def work(r0, r1):
            _weighted_range(t, y, w, offsets, fmin, df, segments, ipar[0], code == BLS, fpar[0], fpar[1],
                            sep, r0, r1, *outputs)
    elif code == LS:
        def work(r0, r1):
            ls_rows(t, y, offsets, fmin, df, segments, sep, r0, r1, *outputs)
    else:
        def work(r0, r1):
            _mhf_range(t, y, w, offsets, fmin, df, segments, ipar[0], sep, r0, r1, *outputs)
    # one light curve per task: costs are uneven (lengths differ) and each is large
    n_lc = len(offsets) - 1
    run_chunks(work, n_lc, n_threads, chunk=1 if n_lc < 4096 else 16)


@njit(cache=True, nogil=True)
def _ce_aov_range(t, y, offsets, fmin, df, segments, n_phase, n_mag, do_ce, do_aov, sep, r0, r1,
                  summary, pk_idx, pk_val, raw_idx, raw_val, summary2, pk_idx2, pk_val2, raw_idx2, raw_val2):
    for r in range(r0, r1):
        a = offsets[r]
        b = offsets[r + 1]
        _ce_aov_one(r, t[a:b], y[a:b], fmin, df, segments, n_phase, n_mag, do_ce, do_aov, sep,
                    summary, pk_idx, pk_val, raw_idx, raw_val, summary2, pk_idx2, pk_val2, raw_idx2, raw_val2)


@njit(cache=True, nogil=True)
def _weighted_range(t, y, w, offsets, fmin, df, segments, n_bins, is_bls, qmin, qmax, sep, r0, r1,
                    summary, pk_idx, pk_val, raw_idx, raw_val):
    for r in range(r0, r1):
        a = offsets[r]
        b = offsets[r + 1]
        _weighted_binned_one(r, t[a:b], y[a:b], w[a:b], fmin, df, segments, n_bins, is_bls, qmin, qmax, sep,
                             summary, pk_idx, pk_val, raw_idx, raw_val)


@njit(cache=True, nogil=True)
def ls_rows(t, y, offsets, fmin, df, segments, sep, r0, r1, summary, pk_idx, pk_val, raw_idx, raw_val):
    """The direct Lomb-Scargle kernel on light curves ``r0 .. r1 - 1`` (rows of the outputs)."""
    for r in range(r0, r1):
        a = offsets[r]
        b = offsets[r + 1]
        _ls_one(r, t[a:b], y[a:b], fmin, df, segments, sep, summary, pk_idx, pk_val, raw_idx, raw_val)


@njit(cache=True, nogil=True)
def _mhf_range(t, y, w, offsets, fmin, df, segments, kh, sep, r0, r1, summary, pk_idx, pk_val, raw_idx, raw_val):
    for r in range(r0, r1):
        a = offsets[r]
        b = offsets[r + 1]
        _mhf_one(r, t[a:b], y[a:b], w[a:b], fmin, df, segments, kh, sep, summary, pk_idx, pk_val, raw_idx, raw_val)


# --------------------------------------------------------------------------------------------
# Reduction of a full single-light-curve periodogram (for external LS engines)
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def reduce_power(power, segments, sep, summary_row, pk_idx_row, pk_val_row, raw_idx_row, raw_val_row):
    """Reduce one light curve's periodogram over the uniform grid to the same outputs."""
    fst = np.empty(N_FST)
    ist = np.empty(N_IST, np.int64)
    init_state(fst, ist, pk_idx_row, pk_val_row, raw_idx_row, raw_val_row)
    for sg in range(segments.shape[0]):
        start_segment(ist)
        for k0 in range(segments[sg, 0], segments[sg, 1], BLOCK):
            nk = min(BLOCK, segments[sg, 1] - k0)
            consume_block(power[k0:k0 + nk], k0, nk, fst, ist, pk_idx_row, pk_val_row,
                          raw_idx_row, raw_val_row, sep)
    finish(fst, ist, pk_idx_row, pk_val_row, raw_idx_row, raw_val_row, summary_row)


# --------------------------------------------------------------------------------------------
# AOV at chosen frequencies (the nested LS/CE -> AOV selection)
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, error_model="numpy")
def aov_at(t, y, offsets, freqs, n_bins, out):
    """AOV F of each light curve at its own list of frequencies ``freqs[r, :]`` (NaN skipped).

    Exact float64 phases; used on a handful of candidates per light curve.
    """
    n_lc = offsets.shape[0] - 1
    for r in range(n_lc):
        a = offsets[r]
        b = offsets[r + 1]
        n = b - a
        for j in range(freqs.shape[1]):
            out[r, j] = np.nan
        if n <= n_bins:
            continue
        mean = 0.0
        for i in range(n):
            mean += y[a + i]
        mean /= n
        s_tot = 0.0
        for i in range(n):
            s_tot += (y[a + i] - mean) ** 2
        cnt = np.zeros(n_bins)
        sm = np.zeros(n_bins)
        for j in range(freqs.shape[1]):
            f = freqs[r, j]
            if not np.isfinite(f):
                continue
            cnt[:] = 0.0
            sm[:] = 0.0
            for i in range(n):
                x = t[a + i] * f
                k = int((x - math.floor(x)) * n_bins)
                if k >= n_bins:
                    k = n_bins - 1
                cnt[k] += 1.0
                sm[k] += y[a + i] - mean
            s1 = 0.0
            for k in range(n_bins):
                if cnt[k] > 0:
                    s1 += sm[k] * sm[k] / cnt[k]
            s2 = s_tot - s1
            out[r, j] = (n - n_bins) / (n_bins - 1.0) * s1 / s2 if s2 > 0 else np.nan
