"""Fritz tests: a tiny demo sky (once per session) and a seeded loopback Fritz per test.

``fritz_env`` gives a working folder (CWD) holding a copy of the tiny demo (archive, catalogs,
labels, config.yaml) and a fresh loopback SkyPortal seeded from it, with ``config.yaml``'s ``fritz``
section pointing there (tiny retry waits, no throttle).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.loopback.skyportal_fixtures import write_fritz_config
from tests.loopback.skyportal_seed import Seed, seed_from_demo
from tests.loopback.skyportal_server import LoopbackSkyPortal

TINY_FLAGS = ["--ccds", "3", "--quads", "1", "2", "--n-per-quad", "15", "--seed", "7", "-q"]


@pytest.fixture(scope="session")
def fritz_demo(tmp_path_factory) -> Path:
    """A tiny demo sky: field 301, CCD 3, quadrants 1-2, 30 objects in g and r."""
    from tools.scope_demo_data import main

    folder = tmp_path_factory.mktemp("fritz_demo")
    assert main(["--output-dir", str(folder), *TINY_FLAGS]) == 0
    return folder


@dataclass
class FritzEnv:
    dir: Path
    server: LoopbackSkyPortal
    seed: Seed

    @property
    def token(self) -> str:
        return self.seed.token

    def config(self, **fritz) -> Path:
        return write_fritz_config(self.server, self.seed.token, self.dir, **fritz)


@pytest.fixture
def fritz_env(fritz_demo, tmp_path, monkeypatch, skyportal_server) -> FritzEnv:
    work = tmp_path / "work"
    shutil.copytree(fritz_demo, work)
    monkeypatch.chdir(work)
    monkeypatch.delenv("SCOPE_CONFIG", raising=False)
    monkeypatch.delenv("FRITZ_TOKEN", raising=False)
    server = skyportal_server()
    seed = seed_from_demo(server, work)
    env = FritzEnv(work, server, seed)
    env.config()
    return env


def predictions(demo: Path, *, algorithm: str = "xgb", seed: int = 1, tags=("vnv", "pnp", "rrab")) -> pd.DataFrame:
    """A predictions table for the demo's light curves, shaped like run-inference output."""
    truth = pd.read_parquet(Path(demo) / "ztf_archive" / "truth.parquet")
    rng = np.random.default_rng(seed)
    out = pd.DataFrame({"_id": truth["_id"].astype(np.int64), "ra": truth["ra"], "dec": truth["dec"],
                        "period": truth["period"]})
    for tag in tags:
        out[f"{tag}_{algorithm}"] = rng.random(len(out)).round(2)
    return out


def demo_features(demo: Path, path: Path | None = None) -> pd.DataFrame:
    """Features of every demo light curve (synthetic values, the light curves' real positions);
    written to ``path`` (a parquet file) when given."""
    from tests.loopback.kowalski_fixtures import synthetic_features

    truth = pd.read_parquet(Path(demo) / "ztf_archive" / "truth.parquet")
    feats = synthetic_features(truth["_id"].to_numpy(), seed=3, missing_fraction=0.0)
    from scope.lightcurves import ztf_ids

    loc = ztf_ids.decode_objectid(truth["_id"].to_numpy())
    feats["ra"], feats["dec"] = truth["ra"].to_numpy(), truth["dec"].to_numpy()
    feats["field"], feats["ccd"], feats["quad"], feats["filter"] = loc.field, loc.ccd, loc.quad, loc.filter
    if path is not None:
        from scope.tables import write_table

        write_table(feats, path)
    return feats
