"""A local light-curve archive in the layout of the public ZTF data releases.

One parquet file per field / filter / CCD / quadrant, one row per object with per-epoch arrays::

    <root>/<field // 1000>/field<FFFF>/ztf_<FFFFFF>_<zg|zr|zi>_c<CC>_q<Q>_dr<N>.parquet
    columns: objectid, filterid, fieldid, rcid, objra, objdec, nepochs,
             hmjd[], mag[], magerr[], clrcoeff[], catflags[]

Files are found anywhere below ``root``; a file whose name does not follow the pattern is
indexed by its ``fieldid``/``rcid``/``filterid`` columns. Times are converted from HMJD to HJD
(+2400000.5) in float64. Ids are the archive's ``objectid`` (see :mod:`scope.lightcurves.ztf_ids`),
or, with ``id_scheme="kowalski"``, the Kowalski ``_id`` of the same light curve.

Reads verify parquet page checksums where a file has them, and with a
:class:`~scope.lightcurves.plausibility.Plausibility` a file whose epochs are mostly implausible
is refused as corrupt (a damaged page can decode into magnitudes of 1e-22 without any error).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scope.errors import DataError
from scope.lightcurves.batch import LightCurveBatch
from scope.lightcurves.plausibility import Plausibility
from scope.lightcurves.sources.base import angular_separation_arcsec
from scope.lightcurves import ztf_ids
from scope.tables import read_parquet

log = logging.getLogger(__name__)

HMJD_TO_HJD = 2400000.5
_NAME = re.compile(r"ztf_(\d+)_z([gri])_c(\d+)_q(\d)(?:_.*)?\.parquet$")
_REQUIRED = ("objectid", "filterid", "fieldid", "rcid", "objra", "objdec", "nepochs", "hmjd", "mag",
             "magerr", "catflags")


class ZTFArchiveSource:
    """Light curves from a local archive in the public ZTF DR layout.

    Parameters
    ----------
    root : path-like
        Folder holding the archive (searched recursively for ``*.parquet``).
    id_scheme : {"objectid", "kowalski"}
        Which id form the source reports and accepts.
    plausibility : Plausibility, optional
        Bounds of plausible photometry; a file read here whose epochs are mostly outside them
        raises :class:`DataError` naming the file. None: no such check.
    """

    name = "archive"

    def __init__(self, root, id_scheme: str = "objectid", plausibility: Plausibility | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(f"light-curve archive folder not found: {self.root} "
                            "(run scope-demo-data, or set data.archive_path in config.yaml)")
        if id_scheme not in ("objectid", "kowalski"):
            raise DataError(f"unknown id scheme '{id_scheme}': use objectid or kowalski")
        self.id_scheme = id_scheme
        self.plausibility = plausibility
        self.catalog = f"archive:{self.root.name}"
        self._index: dict[tuple[int, int, int], list[tuple[int, Path]]] | None = None

    # -- index ----------------------------------------------------------------------------------
    @property
    def index(self) -> dict[tuple[int, int, int], list[tuple[int, Path]]]:
        """``(field, ccd, quad) -> [(filterid, path), ...]`` built on first use."""
        if self._index is None:
            self._index = self._build_index()
        return self._index

    def _build_index(self):
        index: dict = defaultdict(list)
        for path in sorted(self.root.rglob("*.parquet")):
            if path.name.startswith("."):
                continue
            m = _NAME.search(path.name)
            if m:
                field, band, ccd, quad = int(m.group(1)), "gri".index(m.group(2)) + 1, int(m.group(3)), int(m.group(4))
                index[(field, ccd, quad)].append((band, path))
                continue
            try:
                schema = pq.read_schema(path)
            except (OSError, pa.ArrowInvalid):
                log.debug("skipping unreadable parquet %s", path)
                continue
            if not all(c in schema.names for c in ("fieldid", "rcid", "filterid", "objectid")):
                continue
            keys = self._read(path, ["fieldid", "rcid", "filterid"]).to_pandas().drop_duplicates()
            for f, rc, b in keys.itertuples(index=False):
                ccd, quad = ztf_ids.ccd_quad_from_rc(int(rc))
                index[(int(f), int(ccd), int(quad))].append((int(b), path))
        if not index:
            log.warning("no ZTF archive files found under %s", self.root)
        return dict(index)

    def fields(self) -> list[int]:
        """Fields present in the archive."""
        return sorted({k[0] for k in self.index})

    def quadrants(self, field: int) -> list[tuple[int, int]]:
        return sorted((c, q) for (f, c, q) in self.index if f == int(field))

    # -- ids ------------------------------------------------------------------------------------
    def _to_public(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if self.id_scheme == "kowalski":
            return ztf_ids.kowalski_to_objectid(ids) if len(ids) else ids
        return ids

    def _from_public(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if self.id_scheme == "kowalski":
            return ztf_ids.objectid_to_kowalski(ids) if len(ids) else ids
        return ids

    def _read(self, path: Path, columns: list[str], objectids: np.ndarray | None = None) -> pa.Table:
        filters = None
        if objectids is not None:
            filters = pc.field("objectid").isin(pa.array(np.asarray(objectids, dtype=np.int64)))
        try:
            return read_parquet(path, columns=columns, filters=filters)
        except DataError as exc:
            raise DataError(f"archive file: {exc}") from None

    def ids_in_quadrant(self, field: int, ccd: int, quad: int, *, minobs: int = 0, skip: int = 0,
                        limit: int | None = None) -> np.ndarray:
        parts = []
        for _, path in self.index.get((int(field), int(ccd), int(quad)), []):
            t = self._read(path, ["objectid", "nepochs", "fieldid", "rcid"])
            rc = int(ztf_ids.rc_from_ccd_quad(ccd, quad))
            mask = pc.and_(pc.equal(t["fieldid"], int(field)), pc.equal(t["rcid"], rc))
            if minobs and minobs > 0:
                mask = pc.and_(mask, pc.greater_equal(t["nepochs"], int(minobs)))
            parts.append(t.filter(mask)["objectid"].to_numpy())
        ids = np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        ids = self._from_public(ids)
        ids = np.sort(ids)
        end = None if limit is None or limit <= 0 else skip + limit
        return ids[skip:end].astype(np.int64)

    def _group_by_file(self, public_ids: np.ndarray) -> dict[Path, np.ndarray]:
        groups: dict[Path, list] = defaultdict(list)
        d = ztf_ids.decode_objectid(public_ids)
        for i, oid in enumerate(public_ids):
            key = (int(d.field[i]), int(d.ccd[i]), int(d.quad[i]))
            for band, path in self.index.get(key, []):
                if band == int(d.filter[i]):
                    groups[path].append(oid)
        return {p: np.asarray(v, dtype=np.int64) for p, v in groups.items()}

    def positions(self, ids: Iterable[int]) -> pd.DataFrame:
        wanted = np.asarray(list(ids), dtype=np.int64)
        public = self._to_public(wanted)
        frames = []
        for path, oids in self._group_by_file(public).items():
            t = self._read(path, ["objectid", "objra", "objdec"], oids).to_pandas()
            frames.append(t)
        if not frames:
            return pd.DataFrame({"_id": np.zeros(0, np.int64), "ra": [], "dec": []})
        df = pd.concat(frames, ignore_index=True)
        out = pd.DataFrame({"_id": self._from_public(df["objectid"].to_numpy()),
                            "ra": df["objra"].to_numpy(np.float64), "dec": df["objdec"].to_numpy(np.float64)})
        order = {int(v): i for i, v in enumerate(wanted)}
        return out.iloc[np.argsort([order[int(v)] for v in out["_id"]], kind="stable")].reset_index(drop=True)

    def lightcurves(self, ids: Iterable[int], *, max_timestamp_hjd: float | None = None,
                    programids: Iterable[int] | None = None) -> LightCurveBatch:
        wanted = np.asarray(list(ids), dtype=np.int64)
        public = self._to_public(wanted)
        batches = []
        cols = ["objectid", "filterid", "fieldid", "rcid", "objra", "objdec", "hmjd", "mag", "magerr", "catflags"]
        for path, oids in self._group_by_file(public).items():
            t = self._read(path, cols, oids)
            if t.num_rows == 0:
                continue
            batch = self._table_to_batch(t)
            if self.plausibility is not None:
                self.plausibility.check_file(path, batch.t, batch.m)
            batches.append(batch)
        batch = LightCurveBatch.concat(batches)
        batch.source = self.catalog
        batch = batch.order_by(wanted)
        # the public archive has no programid per epoch; max_timestamp trims points
        return batch.trim(max_timestamp_hjd=max_timestamp_hjd)

    def _table_to_batch(self, t: pa.Table) -> LightCurveBatch:
        def flat(name, dtype):
            col = t[name].combine_chunks()
            return np.asarray(col.flatten().to_numpy(zero_copy_only=False), dtype=dtype)

        hmjd = t["hmjd"].combine_chunks()
        offsets = np.asarray(hmjd.offsets.to_numpy(), dtype=np.int64)
        offsets = offsets - offsets[0]
        tt = flat("hmjd", np.float64) + HMJD_TO_HJD
        lengths = np.diff(offsets)
        for name in ("mag", "magerr", "catflags"):
            if not np.array_equal(np.asarray(pc.list_value_length(t[name].combine_chunks()).to_numpy(
                    zero_copy_only=False), dtype=np.int64), lengths):
                raise DataError(f"archive row arrays hmjd and {name} have different lengths")
        rc = t["rcid"].to_numpy().astype(np.int64)
        ccd, quad = ztf_ids.ccd_quad_from_rc(rc)
        return LightCurveBatch(
            ids=self._from_public(t["objectid"].to_numpy()), offsets=offsets, t=tt,
            m=flat("mag", np.float64), e=flat("magerr", np.float64), flags=flat("catflags", np.int32),
            ra=t["objra"].to_numpy().astype(np.float64), dec=t["objdec"].to_numpy().astype(np.float64),
            band=t["filterid"].to_numpy().astype(np.int8), field=t["fieldid"].to_numpy().astype(np.int16),
            ccd=ccd, quad=quad)

    # -- positions ------------------------------------------------------------------------------
    def _all_positions(self) -> pd.DataFrame:
        return _positions_table(self.root, tuple(sorted({p for v in self.index.values() for _, p in v})))

    def near(self, ra: float, dec: float, radius_arcsec: float, limit: int | None = None) -> pd.DataFrame:
        pos = self._all_positions()
        window = radius_arcsec / 3600.0
        sel = pos[(pos["dec"] >= dec - window) & (pos["dec"] <= dec + window)]
        sep = angular_separation_arcsec(ra, dec, sel["ra"].to_numpy(), sel["dec"].to_numpy())
        out = sel.assign(sep_arcsec=sep)[sep <= radius_arcsec].sort_values(["sep_arcsec", "objectid"])
        out = pd.DataFrame({"_id": self._from_public(out["objectid"].to_numpy()), "ra": out["ra"].to_numpy(),
                            "dec": out["dec"].to_numpy(), "sep_arcsec": out["sep_arcsec"].to_numpy()})
        return out.head(limit) if limit else out.reset_index(drop=True)


@lru_cache(maxsize=4)
def _positions_table(root: Path, paths: tuple[Path, ...]) -> pd.DataFrame:
    frames = [read_parquet(p, columns=["objectid", "objra", "objdec"]).to_pandas() for p in paths]
    if not frames:
        return pd.DataFrame({"objectid": np.zeros(0, np.int64), "ra": [], "dec": []})
    df = pd.concat(frames, ignore_index=True).rename(columns={"objra": "ra", "objdec": "dec"})
    df["ra"] = df["ra"].astype(np.float64)
    df["dec"] = df["dec"].astype(np.float64)
    return df.sort_values("dec").reset_index(drop=True)
