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

import numpy as np

from .._ragged import object_index
from .prepare import PreparedBatch

_TWO32 = 2.0 ** 32


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


class HostInputs:
    """The arrays the kernels read, computed on first use (NumPy; kernel point order).

    Only the reordered ``t``, ``y``, ``w`` and the light-curve index of every point are kept;
    every other array is built when :meth:`array` asks for it, so a batch holds on the host only
    what the algorithms searched need (each per-point array is 8 bytes per point).

    Per-point arrays: ``pa``, ``pb`` (uint64 fixed-point phase at ``fmin`` and step per ``df``),
    ``t`` (relative time), ``yc`` (magnitude minus its mean), ``w`` (weight), ``wyc`` (weight
    times the magnitude minus its weighted mean), ``rc``/``rs`` (cosine and sine of the phase
    step), ``wy``/``wt`` (``w * y`` and ``w * (t - t_first) / span``, multi-harmonic fit).
    Per light curve: ``offsets`` (n + 1), ``groups`` (n, n_mag + 1: absolute offsets of each
    magnitude bin, by which points are sorted), ``yy`` (sum of ``yc**2``), ``s_w`` (sum of
    weights), ``mhf`` (n, 6: the multi-harmonic sums ``w0, t1, t2, y0, yt, yy``); ``klnk``
    (``k ln k`` for k = 0 .. max points + 1).

    Parameters
    ----------
    prep : PreparedBatch
    fmin, df : float
        Grid origin and step (cycles/day).
    n_mag : int
        Magnitude bins of the conditional entropy (fixes the point order).
    """

    def __init__(self, prep: PreparedBatch, fmin: float, df: float, n_mag: int):
        self.fmin = float(fmin)
        self.df = float(df)
        self.offsets = np.asarray(prep.offsets, dtype=np.int64)
        self.n_lc = len(self.offsets) - 1
        self.lengths = np.diff(self.offsets).astype(np.float64)
        lc = object_index(self.offsets)
        mag = ce_mag_bins(prep.y, n_mag)
        order = np.lexsort((mag, lc))  # stable: by light curve, then magnitude bin
        self.t, self.y, self.w = prep.t[order], prep.y[order], prep.w[order]
        counts = np.zeros((self.n_lc, n_mag), dtype=np.int64)
        np.add.at(counts, (lc, mag), 1)
        del order, mag
        self.lc = lc.astype(np.int32) if self.n_lc < 2 ** 31 else lc
        self.groups = np.empty((self.n_lc, n_mag + 1), dtype=np.int64)
        self.groups[:, 0] = self.offsets[:-1]
        self.groups[:, 1:] = self.offsets[:-1, None] + np.cumsum(counts, axis=1)
        # the multi-harmonic fit's time axis (t - t_first) / span, from the time-sorted input
        if len(prep.t):
            first = np.where(self.lengths > 0, prep.t[np.minimum(self.offsets[:-1], len(prep.t) - 1)], 0.0)
            final = np.where(self.lengths > 0, prep.t[np.maximum(self.offsets[1:] - 1, 0)], 0.0)
        else:
            first = final = np.zeros(self.n_lc)
        self._first = first
        self._inv_span = np.divide(1.0, final - first, out=np.zeros(self.n_lc), where=final - first > 0)

    def _sum(self, values: np.ndarray) -> np.ndarray:
        return _per_lc_sum(values, self.offsets)

    def _mean(self, values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            if weights is None:
                return self._sum(values) / self.lengths
            return self._sum(weights * values) / self._sum(weights)

    def array(self, name: str) -> np.ndarray:
        """The kernel array ``name`` (see the class docstring)."""
        if name in ("offsets", "groups", "t", "w"):
            return getattr(self, name)
        if name == "pa":
            return fixed_phase(self.t, self.fmin)
        if name == "pb":
            return fixed_phase(self.t, self.df)
        if name in ("rc", "rs"):
            step = 2 * np.pi * _frac(self.t * self.df)
            return np.cos(step) if name == "rc" else np.sin(step)
        if name == "yc":
            return self.y - self._mean(self.y)[self.lc]
        if name == "yy":
            yc = self.array("yc")
            return self._sum(yc * yc)
        if name == "wyc":
            return self.w * (self.y - self._mean(self.y, self.w)[self.lc])
        if name == "s_w":
            return self._sum(self.w)
        if name == "wy":
            return self.w * self.y
        if name == "wt":
            return self.w * self._tn()
        if name == "mhf":
            tn, w, y = self._tn(), self.w, self.y
            sums = [w, w * tn, w * tn * tn, w * y, w * y * tn, w * y * y]
            return np.stack([self._sum(v) for v in sums], axis=1) if self.n_lc else np.zeros((0, 6))
        if name == "klnk":
            k = np.arange((int(self.lengths.max()) if self.n_lc else 0) + 2, dtype=np.float64)
            return k * np.log(np.maximum(k, 1.0))  # 0 for k = 0 and 1
        raise KeyError(f"no kernel array called {name!r}")

    def _tn(self) -> np.ndarray:
        return (self.t - self._first[self.lc]) * self._inv_span[self.lc]
