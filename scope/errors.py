"""Exceptions raised by SCoPe.

Every error a user can cause (bad config, missing files, a service that says no) is a
:class:`ScopeError`. The command-line layer prints its message on one line and exits
non-zero, so messages must be complete sentences that name the offending key, column,
file or id.
"""

from __future__ import annotations


class ScopeError(Exception):
    """Base class of all errors SCoPe reports to users."""

    #: exit status used by the command-line layer
    exit_code = 1


class ConfigError(ScopeError):
    """The configuration is malformed: unknown key, wrong type, missing value."""


class DataError(ScopeError):
    """Input data or files are missing, unreadable, or inconsistent."""


class ServiceError(ScopeError):
    """A remote service (Kowalski, Fritz, Weights & Biases) failed."""


class AuthError(ServiceError):
    """A service refused our credentials."""


class ServiceUnavailable(ServiceError):
    """A service could not be reached (down, timed out, connection refused)."""


class QueryError(ServiceError):
    """A service answered a query with an error, or queries were lost after retries."""


class BackendUnavailable(ScopeError):
    """A computational backend (e.g. the GPU period search) cannot run here."""


class MissingDependency(ScopeError):
    """An optional Python package needed by this command is not installed (see :mod:`scope.optional`)."""


class WriteOutcomeUnknown(ServiceError):
    """A write was sent but no definite answer came back (time-out, dropped connection, 5xx):
    it may or may not have been applied, so it is not blindly repeated; callers look first."""
