"""pytest fixtures around the loopback SkyPortal (loaded as a plugin by tests/conftest.py).

* ``skyportal_server(**kw)``: start a :class:`LoopbackSkyPortal` (stopped after the test);
* ``fritz_config(server, token, folder=None, extra=None, **fritz)``: write ``config.yaml`` whose
  ``fritz`` section points at the server with tiny retry waits and no client-side throttle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pytest
import yaml

from tests.loopback.skyportal_server import LoopbackSkyPortal

#: retries fast enough for tests: 4 attempts, 1 ms first wait, 5 s time-out, no throttle
TEST_FRITZ = {"max_attempts": 4, "sleep_time": 0.001, "timeout": 5, "rate_limit": 0}


@pytest.fixture
def skyportal_server():
    """Factory: ``skyportal_server(rate_limit=None, fast_list=True)`` -> a started server."""
    servers: list[LoopbackSkyPortal] = []

    def start(**kwargs) -> LoopbackSkyPortal:
        server = LoopbackSkyPortal(**kwargs).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


def write_fritz_config(server: LoopbackSkyPortal, token: str, folder: Path | None = None,
                       extra: Mapping | None = None, **fritz) -> Path:
    """``config.yaml`` in ``folder`` (default CWD) keeping what is there and adding ``fritz``."""
    path = Path(folder or Path.cwd()) / "config.yaml"
    cfg = yaml.safe_load(path.read_text()) if path.exists() else {}
    cfg = cfg or {}
    cfg["fritz"] = server.fritz_section(token, **{**TEST_FRITZ, **fritz})
    for key, value in (extra or {}).items():
        if isinstance(value, Mapping):
            cfg.setdefault(key, {}).update(value)
        else:
            cfg[key] = value
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture
def fritz_config():
    return write_fritz_config
