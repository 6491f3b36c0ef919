"""Clients of remote services (Kowalski; Fritz) built on one HTTP/service base.

Nothing here connects at import: clients are created from the config by the commands that need
them (:func:`scope.services.kowalski.client_from_config`).
"""
