"""Shared plumbing of the command-line tools: parser basics, logging, error handling.

Every command is ``tools/<name>.py:main(argv=None) -> int``. :func:`run` wraps the body so a
:class:`~scope.errors.ScopeError` becomes one line on stderr and a non-zero exit, never a
traceback; unknown flags are argparse errors (exit 2).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Callable, Sequence

from scope.errors import ScopeError

log = logging.getLogger("scope")


def build_parser(prog: str, description: str, *, config: bool = True) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` with the options every command shares.

    Adds ``--config-path`` (when ``config``), ``--verbose`` and ``--quiet``.
    """
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    if config:
        parser.add_argument("--config-path", default=None,
                            help="user config YAML (default: $SCOPE_CONFIG, else ./config.yaml, else built-in defaults)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", nargs="?", type=int, const=1, default=0, metavar="LEVEL",
                       help="more logging: --verbose (info) or --verbose 2 (debug)")
    group.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    return parser


def str2bool(value: str | bool) -> bool:
    """Parse a boolean flag value (``true/false/1/0/yes/no``)."""
    if isinstance(value, bool):
        return value
    v = str(value).strip().lower()
    if v in ("1", "true", "t", "yes", "y"):
        return True
    if v in ("0", "false", "f", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean, got '{value}'")


def inclusive_range(values, name: str, lo: int, hi: int) -> list[int]:
    """``--<name>-range`` values (one value or an inclusive pair) as a list, checked against ``lo..hi``."""
    from scope.errors import DataError

    if len(values) not in (1, 2):
        raise DataError(f"--{name}-range takes one value or two (an inclusive range)")
    a, b = (values[0], values[0]) if len(values) == 1 else values
    if not (lo <= a <= b <= hi):
        raise DataError(f"--{name}-range must lie within {lo}..{hi} and be increasing, got {values}")
    return list(range(a, b + 1))


def setup_logging(verbose: int = 0, quiet: bool = False) -> None:
    """Configure the root ``scope`` logger for command-line use."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose and verbose > 1 else logging.INFO)
    # default (no flag) is INFO too: commands report progress and a closing summary
    handler = logging.StreamHandler(sys.stderr)
    from scope.services.http import RedactingFilter

    handler.addFilter(RedactingFilter())  # a second guard: no secret reaches the terminal
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s" if level == logging.DEBUG
                                           else "%(message)s"))
    root = logging.getLogger("scope")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    for name in ("tools",):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(level)
        lg.propagate = False


def quiet_tensorflow() -> None:
    """Silence TensorFlow's start-up banners (both variables are needed)."""
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run(body: Callable[[argparse.Namespace], int | None], parser: argparse.ArgumentParser,
        argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, configure logging, run ``body(args)`` and map errors to exit codes.

    Returns
    -------
    int
        0 on success, the error's ``exit_code`` (1) for a :class:`ScopeError`, 130 on Ctrl-C.
        Usage errors exit with argparse's status 2.
    """
    args = parser.parse_args(argv)
    setup_logging(getattr(args, "verbose", 0), getattr(args, "quiet", False))
    try:
        status = body(args)
    except ScopeError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except FileNotFoundError as exc:
        print(f"{parser.prog}: error: file not found: {exc.filename}", file=sys.stderr)
        return 1
    except PermissionError as exc:
        print(f"{parser.prog}: error: permission denied: {exc.filename}", file=sys.stderr)
        return 1
    return int(status or 0)


def load_config_for(args: argparse.Namespace):
    """Load the config named by ``--config-path`` (or the default search)."""
    from scope.config import load_config

    return load_config(getattr(args, "config_path", None))


def base_dir(cfg, override: str | None = None):
    """Base folder of outputs: an explicit override, else ``feature_generation.path_to_features``,
    else the current directory."""
    from pathlib import Path

    if override:
        return Path(override)
    configured = cfg.get_path("feature_generation.path_to_features")
    return cfg.resolve_path(configured) if configured else Path.cwd()
