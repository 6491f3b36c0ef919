"""CUDA kernels of the harmonic statistics: Lomb-Scargle and the multi-harmonic fit (MHF).

Lomb-Scargle: one thread computes ``per_thread`` consecutive frequencies of one light curve.
Per point it evaluates ``cos``/``sin`` of the exact fixed-point phase once, at the first of its
frequencies, and steps to the next ones by rotating with the point's precomputed
``(cos, sin)(2 pi frac(t df))`` (four multiply-adds instead of a float64 sincos). Every thread
starts from an exact phase, so the rotation error stays at ``per_thread`` roundings.

MHF: one thread per frequency; the normal matrix is assembled from harmonic sums (products of
harmonics are harmonics) and solved by Cholesky in the thread's local memory, as in the CPU
kernel.

Factories take the ``jit`` decorator (numba's ``cuda.jit`` or the CUDA simulator's).
"""

from __future__ import annotations

import math

from numba import cuda, float64, uint64
from numba.extending import register_jitable

_TWO_PI = 2.0 * math.pi
_INV_2_64 = 2.0 ** -64
_NAN = float("nan")
_INF = float("inf")


def ls_power_device(jit):
    """Device function: classic LS power from ``sum y c``, ``sum y s``, ``sum cos 2wt``, ``sum sin 2wt``."""

    @register_jitable
    def ls_power(sc, ss, c2, s2, yy, n):
        h = math.sqrt(c2 * c2 + s2 * s2)
        if h > 0:
            cos2 = c2 / h
            sin2 = s2 / h
        else:
            cos2 = 1.0
            sin2 = 0.0
        # (max() inside a register_jitable helper does not compile for CUDA in numba 0.68)
        half_up = 0.5 * (1.0 + cos2)
        half_down = 0.5 * (1.0 - cos2)
        ct = math.sqrt(half_up) if half_up > 0 else 0.0
        st = math.sqrt(half_down) if half_down > 0 else 0.0
        if sin2 < 0:
            st = -st
        ycos = sc * ct + ss * st
        ysin = ss * ct - sc * st
        cc = 0.5 * n + 0.5 * h
        sss = 0.5 * n - 0.5 * h
        p = 0.0
        if cc > 1e-12 * n:
            p += ycos * ycos / cc
        if sss > 1e-12 * n:
            p += ysin * ysin / sss
        if yy > 0:
            return p / yy
        return _NAN

    return ls_power


def ls_kernel(jit, per_thread: int, threads: int):
    """Lomb-Scargle over a chunk: ``grid = (ceil(nk / (threads * per_thread)), n_rows)``.

    Arguments: ``(pa, pb, rc, rs, yc, yy, offsets, k0, nk, out)``.
    """
    ls_power = ls_power_device(jit)
    kper = per_thread

    @jit
    def kernel(pa, pb, rc, rs, yc, yy, offsets, k0, nk, out):
        row = cuda.blockIdx.y
        col0 = (cuda.blockIdx.x * threads + cuda.threadIdx.x) * kper
        if col0 >= nk:
            return
        n = offsets[row + 1] - offsets[row]
        if n < 3:
            for j in range(kper):
                if col0 + j < nk:
                    out[row, col0 + j] = _NAN
            return
        sc = cuda.local.array(kper, float64)
        ss = cuda.local.array(kper, float64)
        c2 = cuda.local.array(kper, float64)
        cs = cuda.local.array(kper, float64)
        for j in range(kper):
            sc[j] = 0.0
            ss[j] = 0.0
            c2[j] = 0.0
            cs[j] = 0.0
        kk = uint64(k0 + col0)
        for i in range(offsets[row], offsets[row + 1]):
            ph = pa[i] + kk * pb[i]
            ang = _TWO_PI * (float64(ph) * _INV_2_64)
            c = math.cos(ang)
            s = math.sin(ang)
            y = yc[i]
            dc = rc[i]
            ds = rs[i]
            for j in range(kper):
                sc[j] += y * c
                ss[j] += y * s
                c2[j] += c * c - s * s
                cs[j] += c * s
                cn = c * dc - s * ds
                s = s * dc + c * ds
                c = cn
        for j in range(kper):
            if col0 + j < nk:
                out[row, col0 + j] = ls_power(sc[j], ss[j], c2[j], 2.0 * cs[j], yy[row], n)

    return kernel


def chol_chi2_device(jit, size: int, n_models: int):
    """Device function: chi2 of the nested models of ``2 + 2k`` parameters (``inf`` if singular)."""

    @register_jitable
    def chol_chi2(g, rhs, yy, low, z, chi2):
        ok = size
        for i in range(size):
            for j in range(i + 1):
                acc = g[i, j]
                for k in range(j):
                    acc -= low[i, k] * low[j, k]
                if i == j:
                    scale = abs(g[i, i])
                    if scale < 1e-300:
                        scale = 1e-300
                    if acc <= 1e-12 * scale:
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
        for k in range(n_models):
            chi2[k] = _INF
        for i in range(ok):
            resid -= z[i] * z[i]
            if i % 2 == 1:  # a model of 2 + 2k parameters is complete after index 1 + 2k
                chi2[(i - 1) // 2] = resid

    return chol_chi2


def mhf_kernel(jit, max_harmonics: int, threads: int):
    """Multi-harmonic fit score ``max_K (BIC_0 - BIC_K)``, K <= ``max_harmonics``, over a chunk.

    Arguments: ``(pa, pb, w, wy, wt, sums, offsets, k0, nk, out)`` with ``sums`` the per-light-curve
    ``(w0, t1, t2, y0, yt, yy)`` (:class:`.gpu_prepare.HostInputs` ``mhf``).
    """
    kh = max_harmonics
    size = 2 + 2 * kh
    n_h = 2 * kh + 1
    n_models = kh + 1
    chol_chi2 = chol_chi2_device(jit, size, n_models)

    @jit
    def kernel(pa, pb, w, wy, wt, sums, offsets, k0, nk, out):
        row = cuda.blockIdx.y
        col = cuda.blockIdx.x * threads + cuda.threadIdx.x
        if col >= nk:
            return
        n = offsets[row + 1] - offsets[row]
        if n < 3:
            out[row, col] = _NAN
            return
        csum = cuda.local.array(n_h, float64)
        ssum = cuda.local.array(n_h, float64)
        tcs = cuda.local.array(n_h, float64)
        tss = cuda.local.array(n_h, float64)
        ycs = cuda.local.array(n_h, float64)
        yss = cuda.local.array(n_h, float64)
        g = cuda.local.array((size, size), float64)
        low = cuda.local.array((size, size), float64)
        rhs = cuda.local.array(size, float64)
        z = cuda.local.array(size, float64)
        chi2 = cuda.local.array(n_models, float64)
        for h in range(n_h):
            csum[h] = 0.0
            ssum[h] = 0.0
            tcs[h] = 0.0
            tss[h] = 0.0
            ycs[h] = 0.0
            yss[h] = 0.0
        for p in range(size):
            for q in range(size):
                low[p, q] = 0.0
            z[p] = 0.0
        kk = uint64(k0 + col)
        for i in range(offsets[row], offsets[row + 1]):
            ph = pa[i] + kk * pb[i]
            ang = _TWO_PI * (float64(ph) * _INV_2_64)
            c1 = math.cos(ang)
            s1 = math.sin(ang)
            ck = c1
            sk = s1
            wi = w[i]
            for h in range(1, n_h):
                csum[h] += wi * ck
                ssum[h] += wi * sk
                if h <= kh:
                    tcs[h] += wt[i] * ck
                    tss[h] += wt[i] * sk
                    ycs[h] += wy[i] * ck
                    yss[h] += wy[i] * sk
                cn = ck * c1 - sk * s1
                sk = sk * c1 + ck * s1
                ck = cn
        csum[0] = sums[row, 0]
        g[0, 0] = sums[row, 0]
        g[1, 0] = sums[row, 1]
        g[1, 1] = sums[row, 2]
        rhs[0] = sums[row, 3]
        rhs[1] = sums[row, 4]
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
                g[ip, iq + 1] = 0.5 * (ssum[spq] - ssum[dpq])
                g[ip + 1, iq] = 0.5 * (ssum[spq] + ssum[dpq])
        for p in range(size):
            for q in range(p + 1, size):
                g[p, q] = g[q, p]
        chol_chi2(g, rhs, sums[row, 5], low, z, chi2)
        log_n = math.log(float64(n))
        bic0 = chi2[0] + log_n * 2.0
        best = 0.0
        for k in range(1, kh + 1):
            gain = bic0 - (chi2[k] + log_n * (2.0 + 2.0 * k))
            if gain > best:
                best = gain
        out[row, col] = best

    return kernel

