"""Where generate-features writes, and what it checks before and after: writable folders, leftovers of
killed runs, partial runs, and whether a quadrant is already done."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from scope.errors import DataError
from scope.generation.options import GenerateOptions
from scope.tables import ensure_writable_dir, parquet_attrs, remove_stale_temps


def output_path(base: Path, opts: GenerateOptions) -> Path:
    """Where the feature file goes (the reference's layout)."""
    root = Path(base) / opts.dirname
    if opts.specific_ids:
        return root / "specific_ids" / f"{opts.filename}_specific_ids.parquet"
    return root / f"field_{opts.field}" / f"{opts.filename}_field_{opts.field}_ccd_{opts.ccd}_quad_{opts.quad}.parquet"


def prepare_outputs(base: Path, opts: GenerateOptions, out: Path) -> list[Path]:
    """Before any work: output folders writable, a killed run's temporary files gone, no partial overwrite.

    Returns the folders it had to create (deepest first).
    """
    if not opts.save:
        return []
    folders = [out.parent, base / opts.dirname]  # the file; meta.json and the specific-ids source list
    if opts.checkpoint_dir:
        folders.append(Path(opts.checkpoint_dir))
    created = writable_folders(opts, folders)
    remove_stale_temps(out)
    if opts.stop_early and out.exists() and not parquet_attrs(out).get("partial"):
        raise DataError(f"refusing to replace the complete feature file {out} with a partial (--stop-early) run; "
                        "choose another --dirname or --filename, or remove the file")
    return created


def writable_folders(opts: GenerateOptions, folders: list[Path]) -> list[Path]:
    """Check (creating them) that ``folders`` are writable; return the folders created, deepest first."""
    if not opts.save:
        return []
    created = []
    for folder in folders:
        missing = [f for f in [Path(folder), *Path(folder).parents] if not f.exists()]
        ensure_writable_dir(folder)
        created += [f for f in missing if f not in created]
    return sorted(created, key=lambda f: len(f.parts), reverse=True)


def remove_if_empty(folders: list[Path]) -> None:
    """Remove the folders (deepest first) that are still empty."""
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            pass  # not empty (or gone): leave it


def selection_key(sources: pd.DataFrame) -> str:
    """SHA-256 of a selection's ids and positions (recorded in the feature file's metadata)."""
    h = hashlib.sha256()
    h.update(sources["_id"].to_numpy(np.int64).tobytes())
    h.update(sources[["ra", "dec"]].to_numpy(np.float64).tobytes())
    return h.hexdigest()


def already_done(out: Path, opts: GenerateOptions, source, selected: pd.DataFrame) -> bool:
    """Whether ``out`` holds a complete run of these parameters on this selection (a quadrant to skip)."""
    if not out.exists():
        return False
    try:
        attrs = parquet_attrs(out)
    except DataError:
        return False  # unreadable: compute it again
    wanted = json.loads(json.dumps(opts.fingerprint(), default=str))
    return (not attrs.get("partial") and attrs.get("parameters") == wanted
            and attrs.get("selection_key") == selection_key(selected)
            and attrs.get("ZTF_source_catalog") == getattr(source, "catalog", opts.source_catalog or ""))
