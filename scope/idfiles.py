"""Id files written by ``get-quad-ids`` and read by ``get-features`` and ``generate-features``.

Layout under a base folder (the reference's)::

    ids/field_<F>/data_ccd_<CC>_quad_<Q>.h5          dataset dataset_ccd_<C>_quad_<Q>_field_<F> (int64)
    ids/field_<F>/data_ccd_<C>_quad_<Q>_field_<F>.csv one id per line, no header
    ids/field_<F>/field_<F>.h5                        dataset dataset_field_<F> (int64)
    ids/field_<F>/meta.json                           counts per ccd/quad and the query parameters
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scope.errors import DataError
from scope.tables import atomic_path, atomic_write


def ids_dir(base: Path, field: int) -> Path:
    """``<base>/ids/field_<F>``."""
    return Path(base) / "ids" / f"field_{int(field)}"


def quad_h5_path(base: Path, field: int, ccd: int, quad: int) -> Path:
    return ids_dir(base, field) / f"data_ccd_{int(ccd):02d}_quad_{int(quad)}.h5"


def quad_csv_path(base: Path, field: int, ccd: int, quad: int) -> Path:
    return ids_dir(base, field) / f"data_ccd_{int(ccd)}_quad_{int(quad)}_field_{int(field)}.csv"


def field_h5_path(base: Path, field: int) -> Path:
    return ids_dir(base, field) / f"field_{int(field)}.h5"


def write_ids_h5(path: Path, dataset: str, ids: np.ndarray) -> None:
    """Write a 1-D int64 dataset into a new HDF5 file, atomically."""
    import tables

    ids = np.asarray(ids, dtype=np.int64)
    with atomic_path(path) as tmp:
        with tables.open_file(str(tmp), mode="w") as h5:
            if len(ids):
                h5.create_array("/", dataset, ids)
            else:  # PyTables refuses empty arrays; an extendable one may be empty
                h5.create_earray("/", dataset, atom=tables.Int64Atom(), shape=(0,))


def write_ids_csv(path: Path, ids: np.ndarray) -> None:
    """One id per line, no header."""
    with atomic_write(path, "w") as fh:
        for v in np.asarray(ids, dtype=np.int64):
            fh.write(f"{int(v)}\n")


def read_ids(path: Path) -> np.ndarray:
    """Read the ids of an id file (.h5: its first dataset; .csv/.txt: one id per line)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"id file not found: {path} (run get-quad-ids first)")
    if path.suffix in (".h5", ".hdf5"):
        import tables

        with tables.open_file(str(path), mode="r") as h5:
            nodes = [n for n in h5.walk_nodes("/") if isinstance(n, tables.Leaf)]
            if not nodes:
                raise DataError(f"id file {path} holds no dataset")
            return np.asarray(nodes[0].read(), dtype=np.float64 if nodes[0].dtype.kind == "f" else np.int64) \
                .astype(np.int64)
    text = path.read_text().split()
    try:
        return np.asarray([int(float(v)) for v in text], dtype=np.int64)
    except ValueError:
        raise DataError(f"id file {path} has a non-integer line") from None
