"""Host-side constants of the GPU period-search kernels (NumPy, computed once per batch).

The kernels never see absolute times. For every point of a prepared batch (times already
relative to each light curve's float64 epoch, see :mod:`.prepare`) the phase at grid index ``k``
is kept as a 64-bit fixed-point fraction of a cycle,

    phase_k = (A + k * B) mod 2**64,   A = frac(t * fmin) * 2**64,   B = frac(t * df) * 2**64,

so a kernel gets any trial phase with one integer multiply-add, without catastrophic cancellation
and without a float64 ``floor`` per point and frequency. ``A`` and ``B`` come from the exact
products (:func:`fixed_phase`), so the phase is within ``k * 2**-64`` cycles of the exact phase of
the float64 time and frequency: about 1e-13 cycles at the top of a production grid, a hundred times
closer than a direct float64 ``frac(t * f)``. The phase bin is ``(hi32(phase) * n_bins) >> 32``.

Points are reordered within each light curve by their conditional-entropy magnitude bin, so the
CE kernel can count one magnitude row of the phase x magnitude table at a time (``n_phase``
counters per thread instead of ``n_phase * n_mag``). Every other statistic is a sum over points
and does not depend on their order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._ragged import object_index
from .prepare import PreparedBatch

_TWO32 = 2.0 ** 32


@dataclass
class HostInputs:
    """Per-point and per-light-curve arrays the kernels read (all NumPy, kernel order).

    Attributes
    ----------
    offsets : int64 (n + 1,)
    groups : int64 (n, n_mag + 1)
        Absolute point offsets of each magnitude bin of each light curve (points are sorted by it).
    pa, pb : uint64 (n_points,)
        Fixed-point phase at ``fmin`` and phase step per ``df`` (module docstring).
    t, yc, w, wyc, rc, rs, wy, wt : float64 (n_points,)
        Relative time; magnitude minus its mean; weight; weight times the magnitude minus its
        weighted mean; cosine and sine of the phase step; ``w * y`` and ``w * (t - t0) / span``
        (multi-harmonic fit).
    n, yy, s_w : float64 (n,)
        Points, sum of ``yc**2`` and sum of weights per light curve.
    mhf : float64 (n, 6)
        The multi-harmonic fit's per-light-curve sums ``(w0, t1, t2, y0, yt, yy)``.
    klnk : float64 (max_n + 2,)
        ``k ln k`` (0 for k < 2).
    """

    offsets: np.ndarray
    groups: np.ndarray
    pa: np.ndarray
    pb: np.ndarray
    t: np.ndarray
    yc: np.ndarray
    w: np.ndarray
    wyc: np.ndarray
    rc: np.ndarray
    rs: np.ndarray
    wy: np.ndarray
    wt: np.ndarray
    n: np.ndarray
    yy: np.ndarray
    s_w: np.ndarray
    mhf: np.ndarray
    klnk: np.ndarray


def to_fixed64(x: np.ndarray) -> np.ndarray:
    """``floor(x * 2**64)`` as uint64 for ``x`` in [0, 1), exactly (two exact 32-bit halves)."""
    x = np.asarray(x, dtype=np.float64)
    hi = np.floor(x * _TWO32)
    lo = np.floor((x * _TWO32 - hi) * _TWO32)  # both products and the difference are exact
    return (hi.astype(np.uint64) << np.uint64(32)) | lo.astype(np.uint64)


def _frac(x: np.ndarray) -> np.ndarray:
    return x - np.floor(x)


def _two_product(a: np.ndarray, b: np.ndarray):
    """``a * b = p + e`` exactly (Dekker's product with Veltkamp's split)."""
    p = a * b
    c = 134217729.0 * a  # 2**27 + 1
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def fixed_phase(t: np.ndarray, f: float) -> np.ndarray:
    """``frac(t * f)`` as a uint64 fraction of a cycle, from the exact product (error <= 2**-64).

    The float64 product's integer part is dropped exactly and its rounding error is added back
    in fixed point, so the phase of grid index ``k``, ``A + k * B``, is off by at most ``k``
    units of 2**-64 cycles (1e-13 cycles at k = 1.5e6), where a direct float64 ``frac(t * f)``
    loses up to half an ulp of ``t * f`` (1.5e-11 cycles for t = 3000 d, f = 48 c/d).
    """
    p, e = _two_product(np.asarray(t, dtype=np.float64), np.float64(f))
    base = to_fixed64(_frac(p))
    corr = np.round(e * 2.0 ** 64).astype(np.int64)  # |e| <= ulp(p) / 2: a small integer
    return base + corr.view(np.uint64)  # modular: a negative correction wraps correctly


def _per_lc_sum(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each light curve (0 for empty ones)."""
    csum = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    return csum[offsets[1:]] - csum[offsets[:-1]]


def ce_mag_bins(y: np.ndarray, n_mag: int) -> np.ndarray:
    """Conditional-entropy magnitude bin of rescaled magnitudes (remapped to [5e-4, 0.9995])."""
    return np.clip(np.floor((5e-4 + y * 0.999) * n_mag).astype(np.int64), 0, n_mag - 1)


def host_inputs(prep: PreparedBatch, fmin: float, df: float, n_mag: int) -> HostInputs:
    """Everything the kernels need for ``prep`` on the grid ``fmin + k * df``.

    Parameters
    ----------
    prep : PreparedBatch
    fmin, df : float
        Grid origin and step (cycles/day).
    n_mag : int
        Magnitude bins of the conditional entropy (fixes the point order).
    """
    offsets = np.asarray(prep.offsets, dtype=np.int64)
    n_lc = len(offsets) - 1
    lc = object_index(offsets)
    lengths = np.diff(offsets).astype(np.float64)
    mag = ce_mag_bins(prep.y, n_mag)
    order = np.lexsort((np.arange(len(lc)), mag, lc))  # stable: by light curve, then magnitude bin
    t, y, w = prep.t[order], prep.y[order], prep.w[order]
    mag = mag[order]

    groups = np.empty((n_lc, n_mag + 1), dtype=np.int64)
    counts = np.zeros((n_lc, n_mag), dtype=np.int64)
    np.add.at(counts, (lc, mag), 1)
    groups[:, 0] = offsets[:-1]
    groups[:, 1:] = offsets[:-1, None] + np.cumsum(counts, axis=1)

    # the multi-harmonic fit's time axis: (t - t_first) / span, from the time-sorted input
    nonempty = lengths > 0
    first = np.where(nonempty, prep.t[np.minimum(offsets[:-1], max(len(prep.t) - 1, 0))], 0.0) if len(prep.t) \
        else np.zeros(n_lc)
    final = np.where(nonempty, prep.t[np.maximum(offsets[1:] - 1, 0)], 0.0) if len(prep.t) else np.zeros(n_lc)
    span = final - first
    inv_span = np.divide(1.0, span, out=np.zeros(n_lc), where=span > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = _per_lc_sum(y, offsets) / lengths
        s_w = _per_lc_sum(w, offsets)
        ybar_w = _per_lc_sum(w * y, offsets) / s_w
    yc = y - mean[lc]
    wyc = w * (y - ybar_w[lc])
    tn = (t - first[lc]) * inv_span[lc]
    yy = _per_lc_sum(yc * yc, offsets)
    mhf = np.stack([s_w, _per_lc_sum(w * tn, offsets), _per_lc_sum(w * tn * tn, offsets),
                    _per_lc_sum(w * y, offsets), _per_lc_sum(w * y * tn, offsets),
                    _per_lc_sum(w * y * y, offsets)], axis=1) if n_lc else np.zeros((0, 6))

    step = _frac(t * df)
    max_n = int(lengths.max()) if n_lc else 0
    k = np.arange(max_n + 2, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        klnk = np.where(k >= 2, k * np.log(np.maximum(k, 1.0)), 0.0)
    return HostInputs(
        offsets=offsets, groups=groups, pa=fixed_phase(t, fmin), pb=fixed_phase(t, df), t=t,
        yc=yc, w=w, wyc=wyc, rc=np.cos(2 * np.pi * step),
        rs=np.sin(2 * np.pi * step), wy=w * y, wt=w * tn, n=lengths, yy=yy, s_w=s_w, mhf=mhf, klnk=klnk,
    )
