"""What makes gcn-cronjob safe under cron: one run at a time, a time limit, a log file per run.

* :func:`run_lock` holds ``<checkpoint>.lock`` (``flock``, released when the process ends, however it
  ends); a second run over the same checkpoint finds it taken and stops at once;
* :func:`stop_after` raises :class:`TimedOut` when ``--timeout`` has passed, and :func:`stop_on_sigterm`
  turns ``SIGTERM`` (what ``timeout 2h`` sends) into :class:`Terminated`, so the run ends through its
  normal clean-up: outputs are written atomically and the checkpoint only ever names posted work;
* :class:`RunLog` copies every log line of the run into ``<log dir>/gcn_cronjob_<UTC time>.log``
  and keeps the newest ``keep`` of them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import signal
import threading
from pathlib import Path
from typing import Iterator

from scope.errors import ConfigError

log = logging.getLogger(__name__)

#: exit status of a run that found another one working (EX_TEMPFAIL: try again later)
EXIT_BUSY = 75
_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


class RunStopped(BaseException):
    """The run was stopped from outside (a BaseException, so no step's error handling swallows it)."""

    exit_code = 1
    reason = "stopped"


class TimedOut(RunStopped):
    exit_code = 124  # what coreutils' timeout returns
    reason = "--timeout reached"


class Terminated(RunStopped):
    exit_code = 143  # 128 + SIGTERM
    reason = "stopped by SIGTERM"


def parse_duration(text) -> float | None:
    """Seconds in ``90``, ``90s``, ``110m``, ``2h`` or ``1d`` (None/empty: no limit).

    Raises
    ------
    ConfigError
        Anything else.
    """
    if text is None or str(text).strip() == "":
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", str(text).lower())
    if not m or m.group(2) not in _UNITS or float(m.group(1)) <= 0:
        raise ConfigError(f"--timeout must be a positive duration such as 7200, 110m or 2h, got '{text}'")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def stop_after(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimedOut` in this (main) thread once ``seconds`` have passed."""
    if not seconds or not _main_thread():
        if seconds:
            log.warning("--timeout works in the main thread only; running without a time limit")
        yield
        return

    def alarm(signum, frame):
        raise TimedOut()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while the block runs (main thread only)."""
    if not _main_thread():
        yield
        return

    def term(signum, frame):
        raise Terminated()

    old = signal.signal(signal.SIGTERM, term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def run_lock(checkpoint: Path) -> Iterator[str | None]:
    """Hold ``<checkpoint>.lock``; yields None when held, else the holder's pid (as text)."""
    from scope.hpc.ledger import LoopLock

    lock = LoopLock(checkpoint.parent, f"{checkpoint.name}.lock")
    if not lock.acquire():
        yield lock.holder or "?"
        return
    try:
        yield None
    finally:
        lock.release()


class RunLog:
    """A log file for one run: every record of the ``scope`` and ``tools`` loggers at INFO and above.

    Parameters
    ----------
    folder : path
    keep : int
        Run logs kept (the oldest are removed when a run starts).
    """

    PREFIX = "gcn_cronjob_"

    def __init__(self, folder: Path, keep: int = 200):
        from scope.tables import ensure_writable_dir

        self.folder = ensure_writable_dir(folder)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.path = self.folder / f"{self.PREFIX}{stamp}_{os.getpid()}.log"
        self.keep = max(1, int(keep))
        self._handler: logging.Handler | None = None

    def __enter__(self) -> "RunLog":
        from scope.services.http import RedactingFilter

        self._prune()
        handler = logging.FileHandler(self.path, encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                               "%Y-%m-%dT%H:%M:%S"))
        self._saved = []
        for name in ("scope", "tools"):
            lg = logging.getLogger(name)
            self._saved.append((lg, lg.level, [(h, h.level) for h in lg.handlers]))
            level = lg.getEffectiveLevel()
            if level > logging.INFO:  # --quiet quiets the terminal, not the run log
                for h in lg.handlers:
                    h.setLevel(max(h.level, level))
                lg.setLevel(logging.INFO)
            lg.addHandler(handler)
        self._handler = handler
        return self

    def __exit__(self, *exc) -> bool:
        if self._handler is not None:
            for lg, level, handlers in self._saved:
                lg.removeHandler(self._handler)
                lg.setLevel(level)
                for h, h_level in handlers:
                    h.setLevel(h_level)
            self._handler.close()
            self._handler = None
        return False

    def _prune(self) -> None:
        old = sorted(self.folder.glob(f"{self.PREFIX}*.log"))
        for path in old[: max(0, len(old) - (self.keep - 1))]:
            with contextlib.suppress(OSError):
                path.unlink()
