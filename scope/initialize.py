"""Starter files for a new SCoPe working directory (``scope-initialize``).

The reference's set (spec §3.1): ``config.yaml`` and a copy of ``config.defaults.yaml`` beside it,
and in ``tools/`` the taxonomy mappers ``golden_dataset_mapper.json``, ``fritz_mapper.json``,
``DNN_AL_mapper.json``, ``XGB_AL_mapper.json`` and the example inputs of ``run-scope-local``,
``local_scope_ztfid.csv`` and ``local_scope_radec.csv``. Each comes from one file shipped in the
package (``scope/data/``), except ``config.yaml``, which here is a short starter that names only
what a user usually changes (the built-in defaults fill in the rest).

Unlike the reference, which overwrote ``tools/`` on every run, a file the user changed is never
replaced. ``.scope-initialize.json`` in the folder records what was written, so a file that is
still as written is brought up to date by a later run (after an upgrade), while one that differs
from it is kept and named.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from scope.errors import DataError
from scope.tables import atomic_write

log = logging.getLogger(__name__)

STARTER_CONFIG = """\
# SCoPe user configuration. Only the keys you set here override the built-in defaults
# (config.defaults.yaml beside this file is a copy of them, for reference; docs/config.md lists every key).
# A config.yaml written for the reference SCoPe works too.
# Secrets: put tokens here (this file is yours) or in environment variables
# KOWALSKI_<NAME>_TOKEN, FRITZ_TOKEN, WANDB_API_KEY. Never commit them.

data:
  source: auto          # auto | archive | kowalski
  archive_path: null    # folder in the public ZTF DR light-curve layout (scope-demo-data sets this)
  catalogs_path: null   # folder with Gaia_EDR3/AllWISE/PS1_DR1/ZTF_alerts parquet tables

# kowalski:
#   instances:
#     melman: {host: melman.caltech.edu, protocol: https, port: 443}   # token from KOWALSKI_MELMAN_TOKEN
"""

DEFAULTS_HEADER = ("# A copy of SCoPe's built-in defaults, written by scope-initialize for reference and for "
                   "--check-configs.\n# SCoPe reads its own packaged copy: change settings in config.yaml.\n")

MANIFEST = ".scope-initialize.json"
TOOLS_DIR = "tools"
#: Files copied from the package's ``data`` folder into ``<folder>/tools/``.
TOOLS_FILES = ("golden_dataset_mapper.json", "fritz_mapper.json", "DNN_AL_mapper.json", "XGB_AL_mapper.json",
               "local_scope_ztfid.csv", "local_scope_radec.csv")


@dataclass
class InitializeResult:
    """What :func:`initialize` did, file by file (paths as written)."""

    folder: Path
    config_path: Path
    written: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)

    def line(self) -> str:
        """The closing one-line summary."""
        return (f"initialised {self.folder}: {len(self.written)} file(s) written, {len(self.updated)} updated, "
                f"{len(self.unchanged)} already current, {len(self.kept)} kept as you changed them")


def starter_files(config_path: Path, folder: Path) -> dict[Path, bytes]:
    """Every starter file and its content: the config, the defaults copy beside it, and ``tools/``."""
    from scope.config import DEFAULTS_NAME

    package = resources.files("scope")
    files = {config_path: STARTER_CONFIG.encode(),
             config_path.parent / DEFAULTS_NAME:
                 (DEFAULTS_HEADER + package.joinpath(DEFAULTS_NAME).read_text(encoding="utf-8")).encode()}
    for name in TOOLS_FILES:
        files[folder / TOOLS_DIR / name] = package.joinpath("data").joinpath(name).read_bytes()
    return files


def initialize(folder: Path, config_path: Path | None = None) -> InitializeResult:
    """Write the starter files into ``folder`` without replacing anything the user changed.

    Parameters
    ----------
    folder : path
        Working directory (created if missing).
    config_path : path, optional
        The config file to write (default ``<folder>/config.yaml``); ``config.defaults.yaml`` goes
        beside it.

    Returns
    -------
    InitializeResult

    Raises
    ------
    DataError
        A folder cannot be created, or ``config_path`` is a folder.
    """
    folder = Path(folder)
    config_path = Path(config_path) if config_path is not None else folder / "config.yaml"
    if config_path.is_dir():
        raise DataError(f"--config-path {config_path} is a folder; name the config file to write")
    result = InitializeResult(folder=folder.resolve(), config_path=config_path)
    files = starter_files(config_path, folder)
    for target in {folder / TOOLS_DIR, config_path.parent}:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create {target}: {exc.strerror}") from None
    manifest_path = folder / MANIFEST
    recorded = _read_manifest(manifest_path)
    for path, content in files.items():
        key = _manifest_key(path, folder)
        new_hash = _sha256(content)
        if not path.exists():
            _write(path, content)
            result.written.append(path)
        else:
            current = _sha256(path.read_bytes())
            if current == new_hash:
                result.unchanged.append(path)
            elif current == recorded.get(key):
                # still exactly what an earlier run wrote: safe to bring up to date
                _write(path, content)
                result.updated.append(path)
            else:
                result.kept.append(path)
                continue  # not ours any more: the record keeps what we wrote, if anything
        recorded[key] = new_hash
    with atomic_write(manifest_path) as fh:
        json.dump(recorded, fh, indent=1, sort_keys=True)
    if result.kept:
        log.warning("kept %d file(s) that differ from what scope-initialize writes (your changes): %s; "
                    "delete one and rerun to get the current version",
                    len(result.kept), ", ".join(_manifest_key(p, folder) for p in result.kept))
    return result


def _write(path: Path, content: bytes) -> None:
    with atomic_write(path, "wb") as fh:
        fh.write(content)


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _manifest_key(path: Path, folder: Path) -> str:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def _read_manifest(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        log.warning("%s is unreadable; treating every existing starter file as yours", path)
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
