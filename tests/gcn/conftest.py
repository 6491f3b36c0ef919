"""gcn-cronjob tests: a tiny demo sky, tiny trained models, a seeded loopback Fritz with a GW and a GRB event.

``gcn_env`` is a project folder (the CWD) holding a copy of the demo (archive, catalogs), DNN and XGB
models of group ``experiment`` (trained once per session on synthetic features), and a
``config.yaml`` whose ``fritz`` section points at a fresh loopback SkyPortal and whose ``gcn``
section posts GW events to group "EM+GW" and GRB events to group "GRB follow-up". The server
holds the seed's GW event (three transients on demo stars) and a later GRB event (two transients
on other stars, outside the GW localization and window).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.loopback.skyportal_fixtures import write_fritz_config
from tests.loopback.skyportal_seed import Seed, seed_from_demo, seed_grb_event
from tests.loopback.skyportal_server import LoopbackSkyPortal

DEMO_FLAGS = ["--ccds", "3", "--quads", "1", "2", "--n-per-quad", "15", "--seed", "7", "-q"]
GRB_SOURCES = ["ZTF23grbaaaa", "ZTF23grbaaab"]
#: a coarse grid, no bright-star cut (the test is about the loop; the numbers are tested elsewhere)
FEATURE_FLAGS = ["--max-freq", "10", "--samples-per-peak", "2", "--min-n-lc-points", "20", "--Ncore", "1",
                 "--skipCloseSources"]
RUN_FLAGS = ["--daysAgo", "100000", "--p-threshold", "0.5", "-q", *FEATURE_FLAGS]
MODEL_CONFIG = {"training": {"xgboost": {"other_training_params": {"num_boost_round": 30}}}}


@pytest.fixture(scope="session")
def gcn_demo(tmp_path_factory) -> Path:
    """The tiny demo sky (field 301, CCD 3, quadrants 1-2, 30 objects in g and r)."""
    from tools.scope_demo_data import main

    folder = tmp_path_factory.mktemp("gcn_demo")
    assert main(["--output-dir", str(folder), *DEMO_FLAGS]) == 0
    return folder


@pytest.fixture(scope="session")
def gcn_models(tmp_path_factory) -> Path:
    """``models_xgb/experiment/{vnv,pnp}`` and ``models_dnn/experiment/vnv`` trained on synthetic features."""
    from scope.config import load_config
    from scope.tables import write_table
    from tests.inference.synthetic import train_models, training_set

    folder = tmp_path_factory.mktemp("gcn_models")
    (folder / "config.yaml").write_text(yaml.safe_dump(MODEL_CONFIG))
    cfg = load_config(folder / "config.yaml")
    write_table(training_set(cfg), folder / "training_set.parquet")
    train_models(cfg, folder, folder / "training_set.parquet", xgb_tags=("vnv", "pnp"), dnn_tags=("vnv",))
    return folder


@dataclass
class GcnEnv:
    dir: Path
    server: LoopbackSkyPortal
    seed: Seed
    grb_group: int
    grb_sources: dict

    @property
    def gw_sources(self) -> dict:
        return self.seed.gcn_sources

    @property
    def checkpoint(self) -> Path:
        return self.dir / "gcn_sources_checkpoint.json"

    def posted(self) -> dict[str, list[tuple[str, tuple[int, ...]]]]:
        """``{obj_id: [(classification, groups)]}`` of the classifications the bot posted."""
        out = {}
        for obj in [*self.gw_sources, *self.grb_sources]:
            out[obj] = sorted((c["classification"], tuple(sorted(c["group_ids"])))
                              for c in self.server.classifications_of(obj) if c["author_name"] == "scope_bot")
        return out

    def writes(self) -> list[tuple[str, str]]:
        """Requests since the last ``server.reset_log()`` that change something."""
        return [(r["method"], r["path"]) for r in self.server.requests() if r["method"] != "GET"]


def make_env(demo: Path, models: Path, work: Path, server: LoopbackSkyPortal) -> GcnEnv:
    shutil.copytree(demo, work)
    for name in ("models_xgb", "models_dnn"):
        shutil.copytree(models / name, work / name)
    seed = seed_from_demo(server, work)
    grb_group, grb = seed_grb_event(server, seed, names=GRB_SOURCES)
    write_fritz_config(server, seed.token, work, extra={"gcn": {
        "event_types": {"grb": {"tags": ["GRB", "Fermi"], "post_group_ids": [grb_group]},
                        "gw": {"tags": ["GW"], "post_group_ids": [seed.groups["emgw"]]}},
        "post_group_ids": [seed.groups["upload"]], "model_groups": {"dnn": "experiment", "xgb": "experiment"}},
        **MODEL_CONFIG})
    return GcnEnv(work, server, seed, grb_group, grb)


@pytest.fixture
def gcn_env(gcn_demo, gcn_models, tmp_path, monkeypatch, skyportal_server) -> GcnEnv:
    monkeypatch.delenv("SCOPE_CONFIG", raising=False)
    monkeypatch.delenv("FRITZ_TOKEN", raising=False)
    env = make_env(gcn_demo, gcn_models, tmp_path / "project", skyportal_server())
    monkeypatch.chdir(env.dir)
    return env
