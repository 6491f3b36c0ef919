"""A batch of single-band light curves stored as ragged columns.

Per-point arrays (``t``, ``m``, ``e``, ``flags``, ``programid``) are concatenated; object ``i`` owns
``offsets[i]:offsets[i+1]``. Times are float64 HJD; nothing here narrows them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

_OBJECT_FIELDS = {"ids": np.int64, "ra": np.float64, "dec": np.float64, "band": np.int8,
                  "field": np.int16, "ccd": np.int16, "quad": np.int16}
_POINT_FIELDS = {"t": np.float64, "m": np.float64, "e": np.float64, "flags": np.int32,
                 "programid": np.int16}


@dataclass
class LightCurveBatch:
    """Ragged light curves of ``n`` objects.

    Attributes
    ----------
    ids : ndarray of int64, shape (n,)
    ra, dec : ndarray of float64, shape (n,)
        Degrees (NaN when unknown).
    band : ndarray of int8, shape (n,)
        ZTF filter id: 1 = g, 2 = r, 3 = i (0 unknown).
    field, ccd, quad : ndarray of int16, shape (n,)
        Location (0 unknown).
    offsets : ndarray of int64, shape (n + 1,)
    t : ndarray of float64
        HJD of each point.
    m, e : ndarray of float64
        Magnitude and its uncertainty.
    flags : ndarray of int32
        ZTF ``catflags`` (0 = clean).
    programid : ndarray of int16
        ZTF program (1 public, 2 partnership, 3 Caltech; 0 unknown).
    """

    ids: np.ndarray
    offsets: np.ndarray
    t: np.ndarray
    m: np.ndarray
    e: np.ndarray
    flags: np.ndarray = None
    programid: np.ndarray = None
    ra: np.ndarray = None
    dec: np.ndarray = None
    band: np.ndarray = None
    field: np.ndarray = None
    ccd: np.ndarray = None
    quad: np.ndarray = None
    source: str = dataclasses.field(default="")

    def __post_init__(self):
        n = len(self.ids)
        npts = len(self.t)
        self.ids = np.asarray(self.ids, dtype=np.int64)
        self.offsets = np.asarray(self.offsets, dtype=np.int64)
        if len(self.offsets) != n + 1 or (n and self.offsets[-1] != npts) or (not n and npts):
            raise ValueError("offsets must have n + 1 entries ending at the number of points")
        for name, dtype in _POINT_FIELDS.items():
            value = getattr(self, name)
            setattr(self, name, np.zeros(npts, dtype) if value is None else np.ascontiguousarray(value, dtype))
        for name, dtype in _OBJECT_FIELDS.items():
            value = getattr(self, name)
            if value is None:
                value = np.full(n, np.nan) if dtype is np.float64 else np.zeros(n, dtype)
            setattr(self, name, np.asarray(value, dtype))

    def __len__(self) -> int:
        return len(self.ids)

    def lengths(self) -> np.ndarray:
        """Number of points of each light curve."""
        return np.diff(self.offsets)

    def get(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t, m, e)`` views of light curve ``i``."""
        a, b = self.offsets[i], self.offsets[i + 1]
        return self.t[a:b], self.m[a:b], self.e[a:b]

    def object(self, i: int) -> dict:
        """Object ``i`` as a dict of scalars and per-point arrays."""
        a, b = self.offsets[i], self.offsets[i + 1]
        out = {name: getattr(self, name)[i].item() for name in _OBJECT_FIELDS}
        out.update({name: getattr(self, name)[a:b] for name in _POINT_FIELDS})
        return out

    def subset(self, index: Sequence[int] | np.ndarray) -> "LightCurveBatch":
        """A new batch with the objects at ``index`` (integer positions or a boolean mask)."""
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        lengths = self.lengths()[index]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        take = (np.concatenate([np.arange(self.offsets[i], self.offsets[i + 1]) for i in index])
                if len(index) else np.zeros(0, dtype=np.int64)).astype(np.int64)
        kw = {name: getattr(self, name)[index] for name in _OBJECT_FIELDS}
        kw.update({name: getattr(self, name)[take] for name in _POINT_FIELDS})
        return LightCurveBatch(offsets=offsets, source=self.source, **kw)

    def select_points(self, keep: np.ndarray, drop_empty: bool = False) -> "LightCurveBatch":
        """A new batch keeping the points where ``keep`` is True (objects kept unless ``drop_empty``)."""
        keep = np.asarray(keep, dtype=bool)
        counts = np.add.reduceat(keep.astype(np.int64), self.offsets[:-1]) if len(self.t) else \
            np.zeros(len(self), dtype=np.int64)
        # reduceat misreads empty segments: fix them to zero
        counts = np.where(self.lengths() == 0, 0, counts)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        kw = {name: getattr(self, name) for name in _OBJECT_FIELDS}
        kw.update({name: getattr(self, name)[keep] for name in _POINT_FIELDS})
        out = LightCurveBatch(offsets=offsets, source=self.source, **kw)
        if drop_empty:
            out = out.subset(out.lengths() > 0)
        return out

    def trim(self, max_timestamp_hjd: float | None = None, programids: Iterable[int] | None = None,
             clean_flags: bool = False) -> "LightCurveBatch":
        """Drop points after ``max_timestamp_hjd``, of other programs, or flagged (catflags != 0)."""
        keep = np.ones(len(self.t), dtype=bool)
        if max_timestamp_hjd is not None:
            keep &= self.t <= max_timestamp_hjd
        if programids is not None:
            allowed = np.asarray(list(programids))
            # programid 0 means "unknown" (e.g. the public archive): keep those points
            keep &= np.isin(self.programid, allowed) | (self.programid == 0)
        if clean_flags:
            keep &= self.flags == 0
        return self if keep.all() else self.select_points(keep)

    @classmethod
    def from_arrays(cls, ids, t_list, m_list, e_list, flags_list=None, programid_list=None,
                    **object_fields) -> "LightCurveBatch":
        """Build a batch from per-object sequences of per-point arrays."""
        lengths = [len(t) for t in t_list]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)

        def cat(seq, dtype):
            if seq is None:
                return None
            return np.concatenate([np.asarray(s, dtype) for s in seq]) if len(seq) else np.zeros(0, dtype)

        return cls(ids=np.asarray(ids, dtype=np.int64), offsets=offsets, t=cat(t_list, np.float64),
                   m=cat(m_list, np.float64), e=cat(e_list, np.float64),
                   flags=cat(flags_list, np.int32), programid=cat(programid_list, np.int16), **object_fields)

    @classmethod
    def empty(cls) -> "LightCurveBatch":
        """A batch of no light curves."""
        return cls(ids=np.zeros(0, np.int64), offsets=np.zeros(1, np.int64), t=np.zeros(0), m=np.zeros(0),
                   e=np.zeros(0))

    @classmethod
    def concat(cls, batches: Sequence["LightCurveBatch"]) -> "LightCurveBatch":
        """Concatenate batches (object order preserved)."""
        batches = [b for b in batches if b is not None]
        if not batches:
            return cls.empty()
        lengths = np.concatenate([b.lengths() for b in batches])
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        kw = {name: np.concatenate([getattr(b, name) for b in batches]) for name in _OBJECT_FIELDS}
        kw.update({name: np.concatenate([getattr(b, name) for b in batches]) for name in _POINT_FIELDS})
        return cls(offsets=offsets, source=batches[0].source, **kw)

    def order_by(self, ids: Sequence[int]) -> "LightCurveBatch":
        """Reorder to follow ``ids`` (ids absent from the batch are skipped)."""
        pos = {int(v): i for i, v in enumerate(self.ids)}
        index = [pos[int(v)] for v in ids if int(v) in pos]
        return self.subset(np.asarray(index, dtype=np.int64))
