"""Writing the demo sky: archive files in the public ZTF DR layout, truth, labels, catalogs.

Archive files follow the public data-release naming and schema::

    <archive>/<field // 1000>/field<FFFF>/ztf_<FFFFFF>_z<g|r|i>_c<CC>_q<Q>_drdemo.parquet

one row per object: ``objectid`` int64, ``filterid`` uint8, ``fieldid`` int16, ``rcid`` uint8,
``objra``/``objdec`` float32, ``nepochs`` int64, ``hmjd`` list<float64>, ``mag``/``magerr``/
``clrcoeff`` list<float32>, ``catflags`` list<uint16>. The real DR files store ``hmjd`` as
float32; the demo keeps float64 so short periods stay exact (the archive reader takes both).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow as pa

from scope.tables import write_parquet

log = logging.getLogger(__name__)

DEMO_RELEASE_TAG = "demo"
BAND_CODES = {1: "zg", 2: "zr", 3: "zi"}

ARCHIVE_SCHEMA = pa.schema([
    ("objectid", pa.int64()),
    ("filterid", pa.uint8()),
    ("fieldid", pa.int16()),
    ("rcid", pa.uint8()),
    ("objra", pa.float32()),
    ("objdec", pa.float32()),
    ("nepochs", pa.int64()),
    ("hmjd", pa.list_(pa.float64())),
    ("mag", pa.list_(pa.float32())),
    ("magerr", pa.list_(pa.float32())),
    ("clrcoeff", pa.list_(pa.float32())),
    ("catflags", pa.list_(pa.uint16())),
])


def field_folder(archive: Path, field: int) -> Path:
    """Folder of one field inside an archive: ``<archive>/<field // 1000>/field<FFFF>``."""
    return Path(archive) / str(field // 1000) / f"field{field:04d}"


def archive_file_name(field: int, band: int, ccd: int, quad: int, tag: str = DEMO_RELEASE_TAG) -> str:
    """``ztf_<FFFFFF>_z<g|r|i>_c<CC>_q<Q>_dr<tag>.parquet``."""
    return f"ztf_{field:06d}_{BAND_CODES[band]}_c{ccd:02d}_q{quad}_dr{tag}.parquet"


def _list_array(chunks, value_type) -> pa.ListArray:
    lengths = np.array([len(c) for c in chunks], dtype=np.int64)
    offsets = np.zeros(len(chunks) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    values = np.concatenate(chunks) if chunks else np.empty(0)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()),
                                    pa.array(values.astype(value_type.to_pandas_dtype()), value_type))


def archive_table(rows: list[dict]) -> pa.Table:
    """An Arrow table in the DR schema from per-object dicts (sorted by ``objectid``)."""
    rows = sorted(rows, key=lambda r: r["objectid"])
    columns = {
        "objectid": pa.array([r["objectid"] for r in rows], pa.int64()),
        "filterid": pa.array([r["filterid"] for r in rows], pa.uint8()),
        "fieldid": pa.array([r["fieldid"] for r in rows], pa.int16()),
        "rcid": pa.array([r["rcid"] for r in rows], pa.uint8()),
        "objra": pa.array(np.array([r["objra"] for r in rows], dtype=np.float32), pa.float32()),
        "objdec": pa.array(np.array([r["objdec"] for r in rows], dtype=np.float32), pa.float32()),
        "nepochs": pa.array([len(r["hmjd"]) for r in rows], pa.int64()),
    }
    for name in ("hmjd", "mag", "magerr", "clrcoeff", "catflags"):
        columns[name] = _list_array([r[name] for r in rows], ARCHIVE_SCHEMA.field(name).type.value_type)
    return pa.Table.from_pydict(columns, schema=ARCHIVE_SCHEMA)


def write_archive_file(path: Path, rows: list[dict]) -> Path:
    """Write one field/filter/CCD/quadrant file atomically."""
    table = archive_table(rows)
    # "item" (not "element") names the list values, exactly as in the public DR files
    write_parquet(table, path, use_compliant_nested_type=False)
    log.debug("wrote %s (%d objects)", path, table.num_rows)
    return Path(path)


def stale_demo_files(folder: Path, field: int, keep: set[Path]) -> list[Path]:
    """Demo-tagged archive files of ``field`` in ``folder`` that a new demo would not rewrite."""
    if not folder.is_dir():
        return []
    pattern = f"ztf_{field:06d}_z?_c??_q?_dr{DEMO_RELEASE_TAG}.parquet"
    return sorted(p for p in folder.glob(pattern) if p not in keep)
