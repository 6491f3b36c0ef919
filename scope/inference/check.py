"""Refuse feature files that do not carry the columns a model was trained on.

The check runs on the file schema before any row is read, and the error is one line naming the
missing columns and, where the file has the same features under another period suffix, those
extra columns too (the usual cause: features generated with another period algorithm).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from scope.errors import DataError

MAX_LISTED = 40


def _listing(names: Sequence[str]) -> str:
    names = list(names)
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" (+{len(names) - MAX_LISTED} more)" if len(names) > MAX_LISTED else "")


def file_period_suffixes(columns: Sequence[str]) -> list[str]:
    """Period suffixes present in a file: ``X`` for every ``period_X`` column (top-N ranks excluded)."""
    out = []
    for c in columns:
        if c.startswith("period_"):
            suffix = c[len("period_"):]
            if suffix and not suffix.split("_")[0].isdigit():
                out.append(suffix)
    return out


def check_schema(path: str | Path, columns: Sequence[str], models: Sequence,
                 kinds: Mapping[str, str] | None = None) -> None:
    """Raise :class:`DataError` when ``columns`` (of the file at ``path``) lack a model feature,
    or (with ``kinds``) hold one with values that are not numbers.

    Parameters
    ----------
    path : path-like
        The feature file (for the message).
    columns : sequence of str
        Its columns.
    models : sequence of ModelSpec
        Models to be applied.
    kinds : mapping, optional
        ``{column: kind}`` from :func:`scope.inference.inputs.file_column_kinds`; model features
        of kind ``text`` or ``other`` are refused by name (they could only ever score NaN).
    """
    present = set(columns)
    if "_id" not in present:
        raise DataError(f"feature file {path} has no _id column")
    missing: dict[str, None] = {}
    extra: dict[str, None] = {}
    bad_models = []
    suffixes = file_period_suffixes(columns)
    for spec in models:
        lost = [f for f in spec.features if f not in present]
        if spec.uses_dmdt and "dmdt" not in present:
            lost.append("dmdt")  # the DNN's conv branch would see only zeros
        if not lost:
            continue
        bad_models.append(spec.column)
        for name in lost:
            missing[name] = None
            base = _base_name(name, spec.period_suffix)
            if base is None:
                continue
            for s in suffixes:
                other = f"{base}_{s}"
                if other in present and other not in missing:
                    extra[other] = None
    if not missing:
        _check_kinds(path, models, kinds)
        return
    message = (f"feature file {path} does not match model(s) {', '.join(bad_models)}: "
               f"missing columns: {_listing(missing)}")
    if extra:
        message += (f"; extra columns with another period suffix ({', '.join(sorted({_suffix_of(e, suffixes) for e in extra}))}): "
                    f"{_listing(extra)}")
    raise DataError(message)


def _check_kinds(path, models: Sequence, kinds: Mapping[str, str] | None) -> None:
    if not kinds:
        return
    bad: dict[str, list[str]] = {}
    for spec in models:
        for name in spec.features:
            if kinds.get(name) in ("text", "other"):
                bad.setdefault(name, []).append(spec.column)
    if bad:
        users = sorted({c for cols in bad.values() for c in cols})
        shown = _listing([f"{n} ({kinds[n]})" for n in bad])
        raise DataError(f"feature file {path} has feature column(s) whose values are not numbers: {shown}; "
                        f"model(s) {', '.join(users)} need them as numbers")


def _base_name(name: str, suffix: str | None) -> str | None:
    if suffix and name.endswith(f"_{suffix}"):
        return name[: -len(suffix) - 1]
    return None


def _suffix_of(column: str, suffixes: Sequence[str]) -> str:
    for s in sorted(suffixes, key=len, reverse=True):
        if column.endswith(f"_{s}"):
            return s
    return "?"
