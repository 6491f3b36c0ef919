"""Light curves of an uploaded source: the ZTF photometry Fritz receives, and the plots posted as comments.

Points come from the configured light-curve source (the local archive, or Kowalski): every light
curve within the search radius, only clean (``catflags == 0``) finite points, one point per band
and epoch, ``mjd = hjd - 2400000.5``.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import numpy as np

from scope.services import fritz_payloads as fp

log = logging.getLogger(__name__)

MJD_ZERO = 58000.0
_STYLE = {1: ("g", "green", "o"), 2: ("r", "red", "D"), 3: ("i", "gold", "s")}


@dataclass
class Photometry:
    """Clean points of the light curves near a source."""

    ids: np.ndarray         # light-curve ids found
    ra: float               # mean position of those light curves
    dec: float
    mjd: np.ndarray
    mag: np.ndarray
    magerr: np.ndarray
    band: np.ndarray        # 1 = g, 2 = r, 3 = i

    def __len__(self) -> int:
        return len(self.mjd)

    def payload(self, obj_id: str, instrument_id: int, group_ids) -> dict:
        """The ``PUT /api/photometry`` packet."""
        filters = [fp.ZTF_FILTERS.get(int(b), "ztfr") for b in self.band]
        return fp.photometry_payload(obj_id, instrument_id, self.mjd, self.mag, self.magerr, filters, group_ids)


def photometry_near(source, ra: float, dec: float, radius_arcsec: float, *,
                    max_timestamp_hjd: float | None = None) -> Photometry | None:
    """Photometry of every light curve of ``source`` within ``radius_arcsec``; None when none has a
    clean point."""
    near = source.near(float(ra), float(dec), float(radius_arcsec))
    if near.empty:
        return None
    batch = source.lightcurves(near["_id"].to_numpy(), max_timestamp_hjd=max_timestamp_hjd)
    if len(batch) == 0:
        return None
    owner = np.repeat(np.arange(len(batch)), batch.lengths())
    flags = batch.flags if batch.flags is not None else np.zeros(len(batch.t), np.int32)
    ok = (flags == 0) & np.isfinite(batch.t) & np.isfinite(batch.m) & np.isfinite(batch.e)
    band = (batch.band if batch.band is not None else np.full(len(batch), 2, np.int8))[owner]
    t, m, e, band = batch.t[ok], batch.m[ok], batch.e[ok], band[ok]
    if not len(t):
        return None
    # one point per band and epoch (overlapping quadrants see the same exposure twice)
    _, keep = np.unique(np.column_stack([band.astype(float), np.round(t, 7)]), axis=0, return_index=True)
    keep = np.sort(keep)
    order = np.lexsort((t[keep], band[keep]))
    keep = keep[order]
    return Photometry(ids=np.asarray(batch.ids, np.int64), ra=float(np.nanmean(batch.ra)),
                      dec=float(np.nanmean(batch.dec)), mjd=t[keep] - fp.HJD_TO_MJD, mag=m[keep], magerr=e[keep],
                      band=band[keep].astype(np.int8))


def plot_png(phot: Photometry, title: str, *, period: float | None = None) -> bytes:
    """A PNG of the light curve (x = MJD - 58000) or, with ``period``, of it folded (t0 = MJD 58000)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot()
    x_all = phot.mjd - MJD_ZERO
    if period:
        x_all = np.mod(x_all / float(period), 1.0)
    for b in sorted(set(int(v) for v in phot.band)):
        name, colour, marker = _STYLE.get(b, (str(b), "black", "x"))
        sel = phot.band == b
        ax.errorbar(x_all[sel], phot.mag[sel], yerr=phot.magerr[sel], fmt=marker, color=colour, ms=3, lw=0.6,
                    label=f"ZTF {name}")
    ax.invert_yaxis()
    ax.set_xlabel(f"phase (P = {period:.6g} d)" if period else f"MJD - {MJD_ZERO:.0f}")
    ax.set_ylabel("magnitude (AB)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
