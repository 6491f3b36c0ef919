"""Kowalski tests: fixtures come from tests.loopback.kowalski_fixtures (a plugin of tests/conftest.py)."""
