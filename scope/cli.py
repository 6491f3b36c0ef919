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

# the reference's default name of the defaults file (scope.config.DEFAULTS_NAME; not imported here
# so that building a parser stays free of the config module's yaml import)
DEFAULTS_FILE_NAME = "config.defaults.yaml"


def build_parser(prog: str, description: str, *, config: bool = True,
                 writes_config: bool = False) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` with the options every command shares.

    Every command takes the reference's three config options, ``--config-path``,
    ``--check-configs`` and ``--default-config-name``, plus ``--verbose`` and ``--quiet``.

    Parameters
    ----------
    prog, description : str
        Command name and ``--help`` text.
    config : bool
        Kept so that callers written when some commands had no config options still work; every
        command has them now, so it has no effect.
    writes_config : bool
        The command creates or updates the config file (``scope-initialize``): ``--config-path``
        names the file it writes, and ``--check-configs`` checks it after the command ran.
    """
    del config  # every command takes the config options (see the docstring)
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.scope_writes_config = writes_config
    group = parser.add_argument_group("configuration")
    if writes_config:
        group.add_argument("--config-path", default=None,
                           help="config YAML this command creates or updates (default: config.yaml in --output-dir)")
    else:
        group.add_argument("--config-path", default=None,
                           help="user config YAML, ours or a reference SCoPe config.yaml (default: $SCOPE_CONFIG, "
                                "else ./config.yaml, else the built-in defaults)")
    group.add_argument("--check-configs", action="store_true",
                       help="check the config as the reference did, "
                            + ("once the files are written" if writes_config else "before any work")
                            + ": every key of the defaults file (--default-config-name) must be in the effective "
                              "config (your file merged over the built-in defaults); the missing ones are named "
                              "and the command stops with an error")
    group.add_argument("--default-config-name", default=DEFAULTS_FILE_NAME, metavar="NAME",
                       help="defaults file for --check-configs, looked up in the config file's folder (the current "
                            "folder without a config file); when the default name is absent there, the built-in "
                            "defaults are used")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", nargs="?", type=int, const=1, default=0, metavar="LEVEL",
                           help="more logging: --verbose (info) or --verbose 2 (debug)")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
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
    check_after = getattr(parser, "scope_writes_config", False)
    try:
        if getattr(args, "check_configs", False) and not check_after:
            check_configs_for(args)
        status = body(args)
        if getattr(args, "check_configs", False) and check_after:
            check_configs_for(args)
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
    """Load the config named by ``--config-path`` (or the default search), once per command."""
    from scope.config import load_config

    cached = getattr(args, "_scope_config", None)
    path = getattr(args, "config_path", None)
    if cached is not None and cached[0] == path:
        return cached[1]
    cfg = load_config(path)
    args._scope_config = (path, cfg)
    return cfg


def check_configs_for(args: argparse.Namespace) -> None:
    """Run the ``--check-configs`` check on the command's config (see :func:`scope.config.check_config`)."""
    from scope.config import check_config

    check_config(load_config_for(args), getattr(args, "default_config_name", DEFAULTS_FILE_NAME))


def base_dir(cfg, override: str | None = None):
    """Base folder of outputs: an explicit override, else ``feature_generation.path_to_features``,
    else the current directory."""
    from pathlib import Path

    if override:
        return Path(override)
    configured = cfg.get_path("feature_generation.path_to_features")
    return cfg.resolve_path(configured) if configured else Path.cwd()
