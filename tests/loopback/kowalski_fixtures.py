"""pytest fixtures around the loopback Kowalski (load with ``pytest_plugins``).

* ``kowalski_server(catalogs, **kw)``: start a :class:`LoopbackKowalski` (stopped after the test);
* ``kowalski_config(server, ...)``: write a ``config.yaml`` in the working folder that points a
  Kowalski instance at the server, with tiny retry waits;
* :func:`synthetic_features`: a features table in the shape of ``ZTF_source_features_DR16``;
* :func:`demo_catalogs`: every Kowalski catalog for a demo folder written by ``scope-demo-data``
  (light curves as ``ZTF_sources_20240515``, the ancillary catalogs, optionally features).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.loopback.kowalski_server import LoopbackKowalski

SOURCES = "ZTF_sources_20240515"
FEATURES = "ZTF_source_features_DR16"


@pytest.fixture
def kowalski_server():
    """Factory: ``kowalski_server({catalog: docs}, users=...)`` -> a started server."""
    servers: list[LoopbackKowalski] = []

    def start(catalogs: Mapping | None = None, **kwargs) -> LoopbackKowalski:
        server = LoopbackKowalski(catalogs or {}, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


def kowalski_section(servers: Mapping[str, LoopbackKowalski | dict], *, max_retries: int = 2,
                     backoff_seconds: float = 0.001, timeout: float = 5, max_threads: int = 4) -> dict:
    """The ``kowalski`` config section for named servers (or raw instance specs)."""
    instances = {name: (s.instance_spec() if isinstance(s, LoopbackKowalski) else dict(s))
                 for name, s in servers.items()}
    return {"instances": instances, "timeout": timeout, "max_retries": max_retries,
            "backoff_seconds": backoff_seconds, "max_threads": max_threads}


@pytest.fixture
def kowalski_config(tmp_path):
    """Factory: write ``config.yaml`` (default: in the CWD) for loopback servers; returns its path."""
    def write(servers: Mapping[str, LoopbackKowalski | dict], folder: Path | None = None,
              extra: Mapping | None = None, **section_kw) -> Path:
        cfg = {"kowalski": kowalski_section(servers, **section_kw)}
        for key, value in (extra or {}).items():
            cfg.setdefault(key, {}).update(value) if isinstance(value, Mapping) else cfg.__setitem__(key, value)
        path = Path(folder or Path.cwd()) / "config.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        return path

    return write


def synthetic_features(ids, cfg: Mapping | None = None, *, seed: int = 0, missing_fraction: float = 0.1,
                       period_suffix: str = "ELS_ECE_EAOV") -> pd.DataFrame:
    """Features of ``ids`` shaped like Kowalski's features catalog.

    Every ontological feature of the config (periodic ones suffixed), ``ra``/``dec``/``field``/
    ``ccd``/``quad``/``filter``, a 26x26 ``dmdt`` and a few NaNs in the cross-match columns.
    """
    from scope.config import load_defaults
    from scope.lightcurves import ztf_ids

    cfg = cfg or load_defaults()
    rng = np.random.default_rng(seed)
    ids = np.asarray(ids, dtype=np.int64)
    n = len(ids)
    loc = ztf_ids.decode_kowalski_id(ids)
    df = pd.DataFrame({"_id": ids, "ra": rng.uniform(0, 360, n), "dec": rng.uniform(-30, 80, n),
                       "field": loc.field, "ccd": loc.ccd, "quad": loc.quad, "filter": loc.filter})
    for name, spec in cfg["features"]["ontological"].items():
        if name in df.columns or name in ("coordinates", "dmdt"):
            continue
        col = f"{name}_{period_suffix}" if spec.get("periodic") else name
        dtype = str(spec.get("dtype"))
        if dtype.lower().startswith("int"):
            df[col] = rng.integers(0, 20, n)
        elif dtype == "str":
            df[col] = rng.choice(["AAAA", "AABU", "UUUU"], n)
        else:
            df[col] = rng.normal(15, 2, n)
    df["dmdt"] = [rng.random((26, 26)) for _ in range(n)]
    for col in [c for c in df.columns if "__" in c and df[c].dtype.kind == "f"]:
        df.loc[rng.random(n) < missing_fraction, col] = np.nan
    return df


def demo_catalogs(root, features: pd.DataFrame | None = None) -> dict[str, list[dict]]:
    """``{catalog: documents}`` serving a ``scope-demo-data`` folder through the loopback.

    Light curves get Kowalski ``_id`` s (the archive read with ``id_scheme="kowalski"`` reports
    the same ids), catalogs keep theirs; ``features`` (a table with ``_id``) becomes
    ``ZTF_source_features_DR16``.
    """
    from tests.loopback.kowalski_docs import catalogs_from_folder, feature_documents, sources_from_archive

    root = Path(root)
    out = {SOURCES: sources_from_archive(root / "ztf_archive")}
    if (root / "catalogs").is_dir():
        out.update(catalogs_from_folder(root / "catalogs"))
    if features is not None:
        out[FEATURES] = feature_documents(features)
    return out
