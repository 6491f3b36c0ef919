"""Starter files for a new SCoPe working directory."""

from __future__ import annotations

import logging
import shutil
from importlib import resources
from pathlib import Path

from scope.errors import DataError
from scope.tables import atomic_write

log = logging.getLogger(__name__)

STARTER_CONFIG = """\
# SCoPe user configuration. Only the keys you set here override the built-in defaults
# (see config.defaults.yaml in the package, or docs/config.md, for every key).
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

EXAMPLES = ("golden_dataset_mapper.json", "local_scope_radec.csv", "local_scope_ztfid.csv")


def initialize(folder: Path, force: bool = False) -> list[Path]:
    """Write ``config.yaml`` (unless present) and the example inputs into ``folder``.

    Returns the paths written. An existing ``config.yaml`` is kept unless ``force``.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {folder}: {exc.strerror}") from None
    written = []
    cfg = folder / "config.yaml"
    if cfg.exists() and not force:
        log.info("keeping existing %s", cfg)
    else:
        with atomic_write(cfg) as fh:
            fh.write(STARTER_CONFIG)
        written.append(cfg)
    data = resources.files("scope").joinpath("data")
    for name in EXAMPLES:
        target = folder / name
        if target.exists() and not force:
            continue
        with resources.as_file(data.joinpath(name)) as src:
            shutil.copyfile(src, target)
        written.append(target)
    return written
