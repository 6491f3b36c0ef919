"""The one base every service client builds on: retries, bounded parallelism, redaction, errors.

A client wraps each remote call in :func:`call_with_retries`. The call signals a failure worth
retrying (HTTP 429/5xx, refused or dropped connection, time-out, a reply that is not JSON) by
raising :class:`TransientFailure`, usually produced by :func:`classify_exception`. After the
configured number of retries with exponential backoff the failure becomes a domain error:
:class:`~scope.errors.ServiceUnavailable` when the service could not be reached,
:class:`~scope.errors.QueryError` when it answered with an error. Nothing is dropped silently.

Secrets (tokens, passwords) are registered with :func:`register_secret`; :func:`redact` removes
them, and every message this module logs or puts in an exception passes through it.
:class:`RedactingFilter` does the same for log handlers.

:class:`ServiceSession` is a ready ``requests`` session with all of the above for plain REST
services (Fritz).
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

from scope.errors import AuthError, QueryError, ScopeError, ServiceError, ServiceUnavailable, WriteOutcomeUnknown

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

REDACTED = "***"
# HTTP statuses worth another try: rate limiting and server-side trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# JWT-shaped strings are redacted even when nobody registered them.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+")
_AUTH_HEADER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+|token\s+)?[^\s'\",}]+")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


# --------------------------------------------------------------------------------------------
# redaction
def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`redact` removes it from any text."""
    if value and len(str(value)) >= 4:
        with _secrets_lock:
            _secrets.add(str(value))


def redact(text: Any) -> str:
    """``text`` as a string with registered secrets, JWTs and Authorization values masked."""
    s = str(text)
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in s:
            s = s.replace(secret, REDACTED)
    s = _JWT.sub(REDACTED, s)
    return _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, s)


def one_line(text: Any, limit: int = 400) -> str:
    """Redacted ``text`` collapsed to one line and cut at ``limit`` characters."""
    s = " ".join(redact(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


class RedactingFilter(logging.Filter):
    """Logging filter that masks registered secrets in every record it sees.

    Attach it to a handler (``handler.addFilter(RedactingFilter())``) so that records from any
    library passing through that handler are cleaned.
    """

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging API name
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record to logging's own handling
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# --------------------------------------------------------------------------------------------
# retries
@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    Attributes
    ----------
    max_retries : int
        Retries after the first attempt (0 = try once).
    backoff_seconds : float
        Wait before the first retry; doubled for each further one.
    max_backoff_seconds : float
        Upper bound of any single wait.
    jitter : float
        Each wait is stretched by a random factor in ``[1, 1 + jitter]`` so that clients
        sharing a rate limit do not retry in lock step (0 = exact waits).
    """

    max_retries: int = 3
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    jitter: float = 0.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        wait = min(self.backoff_seconds * (2 ** retry), self.max_backoff_seconds)
        return wait * (1.0 + self.jitter * random.random()) if self.jitter > 0 else wait

    @classmethod
    def from_config(cls, section: Mapping | None) -> "RetryPolicy":
        """Build from a config section with ``max_retries`` and ``backoff_seconds``."""
        section = section or {}
        return cls(max_retries=max(0, int(section.get("max_retries", 3))),
                   backoff_seconds=max(0.0, float(section.get("backoff_seconds", 1.0))))


class TransientFailure(Exception):
    """A failure that another attempt may cure.

    Parameters
    ----------
    detail : str
        What went wrong, for messages (redacted before use).
    unreachable : bool
        True when no answer came back at all (refused, dropped, timed out); the final error is
        then :class:`~scope.errors.ServiceUnavailable`, else :class:`~scope.errors.QueryError`.
    unsent : bool
        True when the request certainly had no effect on the server (connection refused, a
        rate limiter's 429): only such failures are retried for writes that must not repeat.
    """

    def __init__(self, detail: str, *, unreachable: bool = False, unsent: bool = False):
        super().__init__(detail)
        self.detail = detail
        self.unreachable = unreachable
        self.unsent = unsent


def final_error(what: str, failure: TransientFailure, attempts: int) -> ServiceError:
    """The domain error for ``failure`` after ``attempts`` tries of ``what``."""
    tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
    cls = ServiceUnavailable if failure.unreachable else QueryError
    return cls(one_line(f"{what} failed {tries}: {failure.detail}"))


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy, *, what: str,
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``fn`` until it succeeds, retrying :class:`TransientFailure` with backoff.

    Parameters
    ----------
    fn : callable
        The remote call. Raise :class:`TransientFailure` for retryable trouble; any
        :class:`~scope.errors.ScopeError` passes straight through.
    policy : RetryPolicy
    what : str
        Short description for log lines and the final error ("Kowalski find on X").

    Raises
    ------
    ServiceUnavailable, QueryError
        When every attempt failed.
    """
    retry = 0
    while True:
        try:
            return fn()
        except TransientFailure as exc:
            if retry >= policy.max_retries:
                raise final_error(what, exc, retry + 1) from None
            wait = policy.delay(retry)
            log.warning("%s failed (%s); retry %d of %d in %.3g s", what, one_line(exc.detail, 200),
                        retry + 1, policy.max_retries, wait)
            sleep(wait)
            retry += 1


def classify_exception(exc: BaseException) -> TransientFailure | None:
    """Map a transport exception (``requests``, JSON decoding) to a :class:`TransientFailure`.

    Returns ``None`` for exceptions that are not transport trouble (programming errors, bad
    queries), which callers should not retry.
    """
    import requests

    text = str(exc)
    if isinstance(exc, requests.exceptions.RetryError):
        m = re.search(r"too many (\d{3}) error responses", text)
        return TransientFailure(f"HTTP {m.group(1)} from the server" if m else "server kept failing")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TransientFailure("connection timed out", unreachable=True, unsent=True)
    if isinstance(exc, requests.exceptions.Timeout):
        return TransientFailure("request timed out", unreachable=True)
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "timed out" in text or "Timeout" in text:
            return TransientFailure("request timed out", unreachable=True)
        if "refused" in text.lower() or "NewConnectionError" in text:
            return TransientFailure("connection refused", unreachable=True, unsent=True)
        if "Name or service not known" in text or "nodename nor servname" in text:
            return TransientFailure("host name not found", unreachable=True, unsent=True)
        return TransientFailure("connection dropped before a reply", unreachable=True)
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return TransientFailure("reply cut off", unreachable=True)
    if isinstance(exc, json.JSONDecodeError):
        return TransientFailure("reply is not JSON")
    return None


# --------------------------------------------------------------------------------------------
# bounded parallelism
@dataclass
class Outcome:
    """Result of one item of :func:`run_bounded`: a value or the error that replaced it."""

    value: Any = None
    error: ScopeError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_bounded(fn: Callable[[T], R], items: Sequence[T] | Iterable[T], max_workers: int) -> list[Outcome]:
    """Apply ``fn`` to ``items`` with at most ``max_workers`` threads; outcomes in item order.

    A :class:`~scope.errors.ScopeError` raised for one item is kept in its :class:`Outcome`;
    any other exception is a bug and is re-raised once all items have finished.
    """
    items = list(items)
    if not items:
        return []

    def guarded(item):
        try:
            return Outcome(value=fn(item))
        except ScopeError as exc:
            return Outcome(error=exc)

    workers = max(1, min(int(max_workers or 1), len(items)))
    if workers == 1:
        return [guarded(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scope-svc") as pool:
        return list(pool.map(guarded, items))


# --------------------------------------------------------------------------------------------
# client-side throttle
class RateLimiter:
    """A token bucket: at most ``burst`` requests at once, refilled at ``rate`` per second.

    It mirrors the limiter in front of SkyPortal (nginx ``limit_req`` with ``burst`` and
    ``nodelay``), so a client that waits here is not answered with HTTP 429 there.
    ``rate`` of 0 or None switches throttling off.
    """

    def __init__(self, rate: float | None, burst: int = 1, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate = float(rate) if rate else 0.0
        self.burst = max(1, int(burst))
        self._tokens = float(self.burst)
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is free; returns the seconds waited."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            self._tokens -= 1  # may go negative: later callers queue behind this one
        if wait > 0:
            self._sleep(wait)
        return wait


# --------------------------------------------------------------------------------------------
# plain REST services
@dataclass
class Reply:
    """A decoded reply: HTTP ``status`` and JSON ``body`` (None when the body was not JSON)."""

    status: int
    body: Any


class ServiceSession:
    """A ``requests`` session for a token-authenticated REST service, with the base rules.

    Parameters
    ----------
    base_url : str
        ``protocol://host[:port]``.
    token : str, optional
        Sent as ``Authorization: <auth_scheme> <token>``; registered for redaction.
    auth_scheme : str
        ``"token"`` (SkyPortal), ``"Bearer"``, or ``""`` for the raw token.
    timeout : float
        Seconds per request.
    policy : RetryPolicy
    name : str
        Service name used in messages ("Fritz").
    rate_limit : float, optional
        Requests per second allowed by the client-side throttle (None/0 = unthrottled).
    burst : int
        Requests allowed at once before the throttle starts waiting.

    Attributes
    ----------
    requests_sent : int
        HTTP requests sent so far, retries included.
    """

    def __init__(self, base_url: str, token: str | None = None, *, auth_scheme: str = "token",
                 timeout: float = 30.0, policy: RetryPolicy | None = None, name: str = "service",
                 rate_limit: float | None = None, burst: int = 1):
        import requests

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.name = name
        self.limiter = RateLimiter(rate_limit, burst)
        self.requests_sent = 0
        self._count_lock = threading.Lock()
        self._session = requests.Session()
        self._session.trust_env = False  # never let ~/.netrc or proxies add credentials
        if token:
            register_secret(token)
            value = f"{auth_scheme} {token}".strip()
            self._session.headers["Authorization"] = value

    def request(self, method: str, path: str, *, idempotent: bool = True, **kwargs) -> Any:
        """Send a request and return the decoded JSON body.

        429 and 5xx replies, refused or dropped connections and time-outs are retried with
        backoff (a ``Retry-After`` header lengthens the wait). 401/403 raise
        :class:`~scope.errors.AuthError`; other 4xx raise :class:`~scope.errors.QueryError`.
        With ``idempotent=False`` (a write that must not be applied twice) only failures that
        prove the request had no effect are retried; any other failure raises
        :class:`~scope.errors.WriteOutcomeUnknown` so the caller can look before sending again.
        """
        return self.send(method, path, idempotent=idempotent, **kwargs).body

    def send(self, method: str, path: str, *, idempotent: bool = True, accept: Iterable[int] = (),
             **kwargs) -> Reply:
        """Like :meth:`request`, but statuses in ``accept`` (e.g. 404) come back as a
        :class:`Reply` instead of raising."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        what = f"{self.name} {method.upper()} /{path.lstrip('/')}"
        kwargs.setdefault("timeout", self.timeout)
        accept = frozenset(accept)
        retry_after: list[float] = []

        def once():
            self.limiter.acquire()
            with self._count_lock:
                self.requests_sent += 1
            try:
                try:
                    resp = self._session.request(method, url, **kwargs)
                except Exception as exc:  # noqa: BLE001 - classified below
                    failure = classify_exception(exc)
                    if failure is None:
                        raise
                    raise failure from None
                log.debug("%s -> HTTP %d", what, resp.status_code)
                if resp.status_code in accept:
                    return Reply(resp.status_code, _json_or_none(resp))
                if resp.status_code in RETRY_STATUSES:
                    after = resp.headers.get("Retry-After")
                    if after and after.replace(".", "", 1).isdigit():
                        retry_after.append(float(after))
                    # a rate limiter rejects before the application sees the request
                    raise TransientFailure(f"HTTP {resp.status_code}", unsent=resp.status_code == 429)
                if resp.status_code in (401, 403):
                    raise AuthError(one_line(f"{self.name} refused the credentials (HTTP {resp.status_code}): "
                                             f"{_message_of(resp)}"))
                if resp.status_code >= 400:
                    raise QueryError(one_line(f"{what} failed (HTTP {resp.status_code}): {_message_of(resp)}"))
                body = _json_or_none(resp)
                if body is None:
                    raise TransientFailure("reply is not JSON")
                return Reply(resp.status_code, body)
            except TransientFailure as failure:
                if idempotent or failure.unsent:
                    raise
                raise WriteOutcomeUnknown(one_line(
                    f"{what}: no definite answer ({failure.detail}); the write may or may not have been "
                    "applied")) from None

        def sleep(seconds: float) -> None:
            time.sleep(max(seconds, retry_after.pop()) if retry_after else seconds)

        return call_with_retries(once, self.policy, what=what, sleep=sleep)

    def close(self) -> None:
        self._session.close()


def _json_or_none(resp) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _message_of(resp) -> str:
    body = _json_or_none(resp)
    if body is None:
        return _html_text(resp.text)[:200]
    if isinstance(body, Mapping):
        return str(body.get("message") or body.get("status") or body)
    return str(body)[:200]


def _html_text(text: str) -> str:
    """The readable text of an HTML error page (nginx's 413/502 pages), else ``text``."""
    if "<" not in text:
        return text
    title = re.search(r"(?is)<title>(.*?)</title>", text)
    return title.group(1).strip() if title else re.sub(r"<[^>]+>", " ", text).strip()
