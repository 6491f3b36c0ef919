"""Build a training set from a labelled list and feature files (``scope-build-training-set``).

Inputs
------
- a **labels table** (Parquet/HDF5/CSV) with either ZTF light-curve ids or positions (``ra``,
  ``dec`` in degrees), and either label columns (probabilities in [0, 1], named like the keys of
  the taxonomy mapper) or a column with a class name per row (several names may be joined with
  ``;`` or ``|``). Class names are matched, ignoring case, spaces, ``-`` and ``_``, against the
  mapper's keys and Fritz labels, the tags of ``training.classes`` (``rrab`` -> ``RR Lyrae ab``),
  common aliases, and an optional extra map. With implied labels on (the default), a class
  also sets its ancestors in the SCoPe hierarchy (:mod:`scope.training.taxonomy`);
- **feature files** as written by ``generate-features``/``get-features`` (one row per light
  curve, id column ``_id``).

Output
------
The reference's training-set layout (spec §4.1): ``obj_id`` if the labels had one, ``ra``,
``dec``, one column per mapper label (0.0 where absent), ``coordinates`` (Kowalski style), the
feature columns (``dmdt`` included), and ``ztf_id`` last; ``DataFrame.attrs`` records how it was
built. HDF5 files keep the table under ``/df``, ``coordinates`` under ``/coordinates`` and the
dm-dt histograms under ``/dmdt``, as the reference's do. Label values outside [0, 1] are
refused; columns that look like labels but are none of the mapper's are named in a warning.

Matching is by id when both sides have one; otherwise each labelled position takes the nearest
feature row within ``radius_arcsec``. Labels that found no features are counted and reported.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from scope.errors import ConfigError, DataError
from scope.training import taxonomy

log = logging.getLogger(__name__)

ID_COLUMNS = ("ztf_id", "_id", "id", "objectid", "source_id")
CLASS_COLUMNS = ("class", "classification", "label", "type", "class_name")
FEATURE_ID = "_id"
TABLE_SUFFIXES = (".parquet", ".pq", ".h5", ".hdf5", ".csv")
MAPPER_NAME = "golden_dataset_mapper.json"


# ---------------------------------------------------------------------------------------------
def find_mapper(path: str | Path | None = None, cfg=None) -> Path:
    """Locate the taxonomy mapper: the given path, else ``golden_dataset_mapper.json`` in the
    current folder or its ``tools/`` (where scope-initialize puts it), the same in the config's
    folder, or the installed package."""
    if path:
        p = Path(path)
        if not p.exists():
            raise DataError(f"taxonomy mapper not found: {p}")
        return p
    import scope

    package = Path(scope.__file__).parent
    candidates = [Path.cwd() / MAPPER_NAME, Path.cwd() / "tools" / MAPPER_NAME]
    if cfg is not None and getattr(cfg, "base_dir", None):
        candidates += [Path(cfg.base_dir) / MAPPER_NAME, Path(cfg.base_dir) / "tools" / MAPPER_NAME]
    candidates += [package / "data" / MAPPER_NAME, package / MAPPER_NAME, package.parent / MAPPER_NAME]
    for p in candidates:
        if p.exists():
            return p
    raise DataError(f"no {MAPPER_NAME} found; pass --taxonomy-map")


def load_mapper(path: str | Path) -> dict:
    """Read a taxonomy mapper: ``{column: {"fritz_label": ..., "taxonomy_id": ...}}``."""
    try:
        mapper = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read taxonomy mapper {path}: {exc}") from None
    if not isinstance(mapper, dict) or not all(isinstance(v, dict) and "fritz_label" in v for v in mapper.values()):
        raise DataError(f"{path} is not a taxonomy mapper ({{column: {{fritz_label, taxonomy_id}}}})")
    return mapper


def label_columns(mapper: Mapping) -> list[str]:
    """Label columns of a training set: mapper keys whose Fritz label is not ``"None"``."""
    return [k for k, v in mapper.items() if str(v.get("fritz_label")) != "None"]


def class_name_index(mapper: Mapping, cfg=None, extra: Mapping | None = None) -> dict[str, list[str]]:
    """Normalised class name -> label columns it stands for (see the module docstring)."""
    labels = label_columns(mapper)
    index: dict[str, list[str]] = {}

    def add(name, targets, override=False):
        key = taxonomy.normalize_name(name)
        targets = [targets] if isinstance(targets, str) else list(targets)
        bad = [t for t in targets if t not in labels]
        if bad:
            raise ConfigError(f"class name '{name}' maps to unknown label column(s): {', '.join(bad)}")
        if override or key not in index:
            index[key] = targets

    for lab in labels:
        add(lab, lab)
    for lab in labels:
        add(mapper[lab]["fritz_label"], lab)
    classes = ((cfg or {}).get("training") or {}).get("classes") or {}
    for tag, entry in classes.items():
        if isinstance(entry, Mapping) and entry.get("label") in labels:
            add(tag, entry["label"])
    for alias, lab in taxonomy.ALIASES.items():
        if lab in labels:
            add(alias, lab)
    for name, targets in (extra or {}).items():
        add(name, targets, override=True)
    return index


def labels_from_class_names(names: pd.Series, index: Mapping[str, list[str]], columns: Sequence[str],
                            *, implied: bool = True) -> pd.DataFrame:
    """One row of 0/1 label columns per class-name entry (``;``/``|`` separate several names)."""
    out = np.zeros((len(names), len(columns)), dtype=float)
    position = {c: i for i, c in enumerate(columns)}
    unknown: dict[str, int] = {}
    for row, value in enumerate(names):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        found: list[str] = []
        for part in re.split(r"[;|]", str(value)):
            if not part.strip():
                continue
            targets = index.get(taxonomy.normalize_name(part))
            if targets is None:
                unknown[part.strip()] = unknown.get(part.strip(), 0) + 1
                continue
            found += targets
        for lab in (taxonomy.implied_labels(found) if implied else set(found)):
            if lab in position:
                out[row, position[lab]] = 1.0
    if unknown:
        shown = ", ".join(f"'{k}' ({v})" for k, v in sorted(unknown.items(), key=lambda kv: -kv[1])[:8])
        raise DataError(f"unknown class name(s) in the labels: {shown}; map them with --class-map")
    return pd.DataFrame(out, columns=list(columns), index=names.index)


# ---------------------------------------------------------------------------------------------
def feature_files(paths: Sequence[str | Path]) -> list[Path]:
    """Expand files and folders (searched recursively for tables) into a sorted file list."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix.lower() in TABLE_SUFFIXES and f.is_file())
        elif p.exists():
            out.append(p)
        else:
            raise DataError(f"feature file not found: {p}")
    if not out:
        raise DataError(f"no feature tables under {', '.join(map(str, paths))}")
    return out


def read_features(paths: Sequence[Path]) -> pd.DataFrame:
    """Concatenate feature tables; every one must have ``_id``; later duplicates of an id win."""
    from scope.tables import read_table

    frames = []
    for p in paths:
        df = read_table(p)
        if FEATURE_ID not in df.columns:
            raise DataError(f"feature file {p} has no '{FEATURE_ID}' column")
        frames.append(df)
    features = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    features.attrs = dict(frames[0].attrs)
    dup = features.duplicated(FEATURE_ID, keep="last")
    if dup.any():
        log.info("%d duplicate feature rows (same _id) found; keeping the last of each", int(dup.sum()))
        features = features.loc[~dup].reset_index(drop=True)
    return features


def _unit_vectors(ra, dec) -> np.ndarray:
    ra, dec = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
    return np.column_stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])


def match_positions(ra, dec, feat_ra, feat_dec, radius_arcsec: float) -> tuple[np.ndarray, np.ndarray]:
    """Nearest feature row of each position within ``radius_arcsec``: (row or -1, separation)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(_unit_vectors(feat_ra, feat_dec))
    chord = 2 * np.sin(np.radians(radius_arcsec / 3600.0) / 2)
    points = _unit_vectors(ra, dec)
    ok = np.all(np.isfinite(points), axis=1)
    rows = np.full(len(points), -1, dtype=np.int64)
    sep = np.full(len(points), np.nan)
    if ok.any():
        dist, idx = tree.query(points[ok], k=1, distance_upper_bound=chord)
        hit = np.isfinite(dist)
        sel = np.flatnonzero(ok)[hit]
        rows[sel] = idx[hit]
        sep[sel] = np.degrees(2 * np.arcsin(np.clip(dist[hit] / 2, 0, 1))) * 3600.0
    return rows, sep


# ---------------------------------------------------------------------------------------------
@dataclass
class BuildReport:
    """Counts of a build: labels read, matched, unmatched (with a few unmatched examples)."""

    n_labels: int
    n_matched: int
    n_unmatched: int
    match: str
    unmatched_examples: list = field(default_factory=list)


def _pick(columns, wanted: str | None, candidates: Sequence[str], what: str) -> str | None:
    if wanted:
        if wanted not in columns:
            raise DataError(f"labels table has no {what} column '{wanted}'")
        return wanted
    return next((c for c in candidates if c in columns), None)


def build_training_set(labels: pd.DataFrame, features: pd.DataFrame, *, mapper: Mapping, cfg=None,
                       id_column: str | None = None, class_column: str | None = None,
                       ra_column: str = "ra", dec_column: str = "dec", radius_arcsec: float = 2.0,
                       implied: bool = True, class_map: Mapping | None = None) -> tuple[pd.DataFrame, BuildReport]:
    """Join labels to features into a training set (see the module docstring).

    Returns
    -------
    (pandas.DataFrame, BuildReport)
        The training set (one row per matched label) and the match counts.
    """
    columns = label_columns(mapper)
    id_col = _pick(labels.columns, id_column, ID_COLUMNS, "id")
    class_col = _pick(labels.columns, class_column, CLASS_COLUMNS, "class")
    given = [c for c in columns if c in labels.columns]
    if class_col is None and not given:
        raise DataError("labels table has neither label columns named like the taxonomy mapper's keys nor a "
                        f"class column ({', '.join(CLASS_COLUMNS)}; choose one with --class-column)")
    _warn_unused_columns(labels, columns, used={id_col, class_col, ra_column, dec_column, "obj_id"})
    label_values = pd.DataFrame(0.0, index=labels.index, columns=columns)
    for c in given:
        values = pd.to_numeric(labels[c], errors="coerce")
        if values.isna().all() and labels[c].notna().any():
            raise DataError(f"label column '{c}' of the labels table is not numeric")
    from scope.training.dataset import check_label_values

    check_label_values(labels, given, "the labels table")  # the reference clipped them silently
    for c in given:
        label_values[c] = pd.to_numeric(labels[c], errors="coerce").fillna(0.0)
    if class_col is not None:
        index = class_name_index(mapper, cfg, class_map)
        from_names = labels_from_class_names(labels[class_col], index, columns, implied=implied)
        label_values = np.maximum(label_values, from_names)

    if id_col is not None:
        match = "id"
        ids = pd.to_numeric(labels[id_col], errors="coerce")
        feat_pos = pd.Series(np.arange(len(features)), index=pd.to_numeric(features[FEATURE_ID]).to_numpy())
        rows = ids.map(feat_pos).fillna(-1).to_numpy(dtype=np.int64)
    elif ra_column in labels.columns and dec_column in labels.columns:
        match = "position"
        if "ra" not in features.columns or "dec" not in features.columns:
            raise DataError("matching by position needs 'ra' and 'dec' columns in the feature files")
        rows, _ = match_positions(labels[ra_column], labels[dec_column], features["ra"], features["dec"],
                                  radius_arcsec)
    else:
        raise DataError(f"labels table has no id column ({', '.join(ID_COLUMNS)}) and no "
                        f"'{ra_column}'/'{dec_column}' positions to match features with")

    hit = rows >= 0
    unmatched = labels.loc[~hit]
    example_col = id_col or ra_column
    report = BuildReport(n_labels=len(labels), n_matched=int(hit.sum()), n_unmatched=int((~hit).sum()),
                         match=match, unmatched_examples=unmatched[example_col].head(5).tolist())
    if report.n_unmatched:
        log.warning("%d of %d labels found no features (matched by %s)", report.n_unmatched, report.n_labels, match)
    if not hit.any():
        raise DataError(f"none of the {len(labels)} labels matched a feature row (by {match})")

    feat = features.iloc[rows[hit]].reset_index(drop=True)
    parts = []
    if "obj_id" in labels.columns:
        parts.append(labels.loc[hit, ["obj_id"]].reset_index(drop=True))
    pos_cols = [c for c in ("ra", "dec") if c in feat.columns]
    if pos_cols:
        parts.append(feat[pos_cols])
    elif {ra_column, dec_column} <= set(labels.columns):
        parts.append(labels.loc[hit, [ra_column, dec_column]].reset_index(drop=True)
                     .rename(columns={ra_column: "ra", dec_column: "dec"}))
    parts.append(label_values.loc[hit].reset_index(drop=True))
    parts.append(pd.DataFrame({"coordinates": _coordinates(feat)}))
    skip = set(columns) | {"ra", "dec", FEATURE_ID, "obj_id", "ztf_id", "coordinates", "radec_geojson"}
    parts.append(feat[[c for c in feat.columns if c not in skip]])
    parts.append(pd.DataFrame({"ztf_id": pd.to_numeric(feat[FEATURE_ID]).astype(np.int64)}))
    out = pd.concat(parts, axis=1)
    out.attrs = {
        "scope_code_version": _version(),
        "training_set_created_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "match": match, "radius_arcsec": radius_arcsec if match == "position" else None,
        "n_labels": report.n_labels, "n_unmatched": report.n_unmatched, "implied_labels": bool(implied),
        "features_metadata": _jsonable(features.attrs),
    }
    return out, report


def _coordinates(feat: pd.DataFrame) -> list:
    """Kowalski-style ``coordinates`` of each feature row, ``{"radec_geojson": {"type": "Point",
    "coordinates": [ra - 180, dec]}}``, as in the reference's training sets (spec section 4.1)."""
    if "coordinates" in feat.columns:
        return list(feat["coordinates"])
    if "radec_geojson" in feat.columns:
        out = []
        for v in feat["radec_geojson"]:
            lonlat = v.get("coordinates") if isinstance(v, dict) else None
            out.append(None if lonlat is None else
                       {"radec_geojson": {"type": "Point", "coordinates": [float(x) for x in lonlat]}})
        return out
    if "ra" in feat.columns and "dec" in feat.columns:
        return [{"radec_geojson": {"type": "Point", "coordinates": [float(r) - 180.0, float(d)]}}
                for r, d in zip(feat["ra"], feat["dec"])]
    return [None] * len(feat)


def _warn_unused_columns(labels: pd.DataFrame, columns: Sequence[str], used: set) -> None:
    """One warning naming the labels-table columns that look like labels (named like one, or
    probabilities in [0, 1]) but are no label of the mapper: a misspelt label would otherwise
    silently count as "absent" (0) for every source."""
    import difflib

    by_norm = {taxonomy.normalize_name(c): c for c in columns}
    named = []
    for c in labels.columns:
        if c in columns or c in used:
            continue
        close = by_norm.get(taxonomy.normalize_name(str(c))) or next(iter(difflib.get_close_matches(
            str(c), list(columns), n=1, cutoff=0.8)), None)
        if close is None and not _probability_like(labels[c]):
            continue
        named.append(f"'{c}'" + (f" (did you mean '{close}'?)" if close else ""))
    if named:
        log.warning("labels table column(s) not used, being no label of the taxonomy mapper: %s", ", ".join(named))


def _probability_like(col: pd.Series) -> bool:
    if not (pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_float_dtype(col.dtype)):
        return False
    values = col.dropna().astype(float)
    return bool(len(values)) and bool(((values >= 0) & (values <= 1)).all())


def _version() -> str:
    import scope

    return getattr(scope, "__version__", "unknown")


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        return json.loads(json.dumps(value, default=str))


def build_training_set_files(labels_path: str | Path, feature_paths: Sequence[str | Path], output: str | Path, *,
                             cfg=None, taxonomy_map: str | Path | None = None, class_map: str | Path | None = None,
                             **kwargs) -> BuildReport:
    """File-level :func:`build_training_set`: read the inputs, write the training set atomically."""
    from scope.tables import read_table, table_format, write_table

    table_format(output)  # fail on an unsupported output extension before any work
    mapper_path = find_mapper(taxonomy_map, cfg)
    mapper = load_mapper(mapper_path)
    extra = None
    if class_map:
        try:
            extra = json.loads(Path(class_map).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read class map {class_map}: {exc}") from None
    labels = read_table(labels_path)
    files = feature_files(feature_paths)
    features = read_features(files)
    df, report = build_training_set(labels, features, mapper=mapper, cfg=cfg, class_map=extra, **kwargs)
    df.attrs.update({"labels_file": str(labels_path), "feature_files": [str(f) for f in files],
                     "taxonomy_map": str(mapper_path)})
    write_table(df, output, hdf_keys=("coordinates",))  # HDF5: /df, /coordinates, /dmdt as the reference
    # the unmatched labels were reported above (a warning); the summary does not repeat them
    log.info("wrote %s: %d labelled sources (matched by %s)", output, len(df), report.match)
    return report
