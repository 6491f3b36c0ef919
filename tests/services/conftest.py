"""Kowalski loopback fixtures for these tests (the project conftest may also load them as a plugin)."""

import logging

import pytest

from tests.loopback.kowalski_fixtures import kowalski_config, kowalski_server  # noqa: F401


@pytest.fixture(autouse=True)
def _restore_scope_logging():
    """Commands reconfigure the ``scope``/``tools`` loggers (no propagation); undo it after each
    test so later tests' ``caplog`` still sees library records."""
    saved = {name: (lg.handlers[:], lg.level, lg.propagate)
             for name in ("scope", "tools") for lg in [logging.getLogger(name)]}
    yield
    for name, (handlers, level, propagate) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
