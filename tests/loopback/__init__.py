"""Loopback servers that speak real service protocols, for offline tests."""
