"""Configuration: packaged defaults deep-merged with the user's YAML file.

``config.defaults.yaml`` (shipped inside the package) is the only source of defaults. A user
``config.yaml`` names just the keys it changes. The merged result is validated: a key that
does not exist in the defaults, or a value of the wrong type, is a :class:`ConfigError` naming
the key (with the closest valid key suggested). Secrets come from the user's file or from
environment variables, never from defaults, and :meth:`Config.redacted` hides them for logging.

A ``config.yaml`` written for the reference SCoPe (a full copy of its defaults) is read too: its
renamed keys are translated and the ones this SCoPe does not use are named in one log line and
dropped (:mod:`scope.reference_config`). :func:`check_config` is the reference's ``--check-configs``.
"""

from __future__ import annotations

import copy
import difflib
import logging
import os
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from scope.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULTS_NAME = "config.defaults.yaml"
ENV_CONFIG = "SCOPE_CONFIG"

# Maps whose keys are chosen by the user (feature names, class tags, instance names...).
_OPEN_MAPS = {
    ("kowalski", "instances"),
    ("features", "phenomenological"),
    ("features", "ontological"),
    ("feature_stats",),
    ("training", "classes"),
    ("slurm", "clusters"),  # cluster presets; their keys are checked by scope.hpc.presets
    ("gcn", "event_types"),  # GCN event types; their keys are checked by scope.gcn.settings
}
# Keys below an open map whose values are free-form mappings of overrides.
_FREE_BELOW = {("kowalski", "instances"), ("feature_stats",), ("training", "classes")}

_SECRET_KEYS = {"token", "password", "api_key"}

# Legacy reference environment variables: instance name -> variable.
_LEGACY_TOKEN_ENV = {
    "kowalski": "KOWALSKI_INSTANCE_TOKEN",
    "gloria": "GLORIA_INSTANCE_TOKEN",
    "melman": "MELMAN_INSTANCE_TOKEN",
}


class Config(dict):
    """Merged configuration (a plain nested ``dict``) plus where it came from.

    Attributes
    ----------
    source_path : pathlib.Path or None
        The user config file that was merged over the defaults, if any.
    base_dir : pathlib.Path
        Directory against which relative paths in the config resolve: the user config
        file's folder, or the current directory when there is none.
    """

    def __init__(self, data: Mapping[str, Any], source_path: Path | None = None,
                 base_dir: Path | None = None):
        super().__init__(data)
        self.source_path = source_path
        self.base_dir = Path(base_dir) if base_dir is not None else Path.cwd()

    def get_path(self, dotted: str, default: Any = None) -> Any:
        """Look up ``"a.b.c"``; return ``default`` when any level is missing."""
        node: Any = self
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def resolve_path(self, value: str | os.PathLike | None) -> Path | None:
        """Resolve a path from the config relative to :attr:`base_dir` (``~`` expanded)."""
        if value is None or value == "":
            return None
        p = Path(os.path.expanduser(str(value)))
        return p if p.is_absolute() else (self.base_dir / p)

    def redacted(self) -> dict:
        """A deep copy with every secret replaced by ``'***'`` (safe to log)."""
        return _redact(copy.deepcopy(dict(self)))


def _redact(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("***" if k in _SECRET_KEYS and v else _redact(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_redact(v) for v in node]
    return node


def load_defaults() -> dict:
    """Return the packaged defaults as a fresh nested dict."""
    text = resources.files("scope").joinpath(DEFAULTS_NAME).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def find_user_config(path: str | os.PathLike | None = None) -> Path | None:
    """Locate the user config: explicit path, then ``$SCOPE_CONFIG``, then ``./config.yaml``."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        return p
    env = os.environ.get(ENV_CONFIG)
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise ConfigError(f"config file named by ${ENV_CONFIG} not found: {p}")
        return p
    p = Path.cwd() / "config.yaml"
    return p if p.is_file() else None


def read_yaml(path: Path) -> dict:
    """Read a YAML mapping, turning parse errors into one-line :class:`ConfigError`."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"malformed YAML in {path}{where}: {getattr(exc, 'problem', exc)}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a YAML mapping at top level, got {type(data).__name__}")
    return data


def load_config(path: str | os.PathLike | None = None, *, env: Mapping[str, str] | None = None) -> Config:
    """Load the packaged defaults merged with the user's config file.

    Parameters
    ----------
    path : path-like, optional
        User config file. Without it, ``$SCOPE_CONFIG`` and then ``./config.yaml`` are tried;
        when none exists the defaults are used alone.
    env : mapping, optional
        Environment to read secrets from (default: ``os.environ``).

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        Missing file, malformed YAML, unknown key or wrong type (the message names the key).
    """
    env = os.environ if env is None else env
    defaults = load_defaults()
    user_path = find_user_config(path)
    merged = copy.deepcopy(defaults)
    if user_path is not None:
        user = read_user_file(user_path, defaults)
        merged = deep_merge(merged, user)
        _keep_complete_feature_lists_in_user_order(merged, user)
        log.debug("loaded config %s", user_path)
    _apply_env_secrets(merged, env)
    base = user_path.resolve().parent if user_path is not None else Path.cwd()
    return Config(merged, source_path=user_path, base_dir=base)


def _keep_complete_feature_lists_in_user_order(merged: dict, user: Mapping) -> None:
    """A user file that lists every model input of a set (a reference config.yaml does) defines the order.

    The order of a feature list is the input order of models without a model card (the reference's),
    so a list in the user's file that names every included feature wins over the defaults' order
    (entries it does not name follow in the defaults' order); a partial list (a few features added
    or changed) keeps the defaults' order, new features last.
    """
    features = user.get("features") if isinstance(user, Mapping) else None
    if not isinstance(features, Mapping):
        return
    for name in ("phenomenological", "ontological"):
        mine, current = features.get(name), merged.get("features", {}).get(name)
        if not isinstance(mine, Mapping) or not isinstance(current, dict):
            continue
        included = {key for key, spec in current.items() if isinstance(spec, Mapping) and spec.get("include")}
        if included <= set(mine):
            order = [key for key in mine if key in current] + [key for key in current if key not in mine]
            merged["features"][name] = {key: current[key] for key in order}


# Files whose reference keys were already reported by this process (one line per file, however
# often a command loads its config).
_REPORTED: set[Path] = set()


def read_user_file(path: Path, defaults: Mapping | None = None, *, report: bool = True) -> dict:
    """Read, translate and validate a user config file (our format or the reference SCoPe's).

    Reference keys are translated to ours (:mod:`scope.reference_config`); the reference keys
    that have no effect here are dropped and, with ``report``, named in one log line (once per
    file and process).

    Raises
    ------
    ConfigError
        Malformed YAML, an unknown key (with the closest valid key suggested) or a wrong type.
    """
    from scope.reference_config import translate

    defaults = load_defaults() if defaults is None else defaults
    translation = translate(read_yaml(path))
    user = _nulls_as_empty(translation.data, defaults)
    _validate(user, defaults, (), source=path)
    if report:
        _report_reference_keys(path, translation)
    return user


def _report_reference_keys(path: Path, translation) -> None:
    key = Path(path).resolve()
    if key in _REPORTED:
        return
    _REPORTED.add(key)
    for old, new in translation.renamed:
        log.debug("%s: reference key %s read as %s", path, old, new)
    if translation.unused:
        log.info("%s: %d reference SCoPe setting(s) have no effect in this SCoPe and are ignored: %s",
                 path, len(translation.unused), ", ".join(translation.unused))


def _nulls_as_empty(user: Mapping, defaults: Any) -> dict:
    """An empty YAML section (``fields_to_exclude:`` with its items commented out) reads as null:
    treat it as an empty list or mapping where the default is one, not as "no value"."""
    out = {}
    for key, value in user.items():
        default = defaults.get(key) if isinstance(defaults, Mapping) else None
        if value is None and isinstance(default, list):
            value = []
        elif value is None and isinstance(default, dict):
            value = {}
        elif isinstance(value, Mapping) and isinstance(default, Mapping):
            value = _nulls_as_empty(value, default)
        out[key] = value
    return out


def check_config(cfg: Config, defaults_name: str = DEFAULTS_NAME) -> Path | None:
    """The reference's ``--check-configs``: every key of a defaults file must be in the config.

    The defaults file is ``defaults_name`` in the config file's folder (the current folder when
    there is no config file), as the reference looked it up; when the default name is not found
    there, the packaged defaults are used. Keys are compared with the *effective* config (the
    file merged over our defaults), so a file that names only its changes passes; a defaults file
    written for the reference is read with the reference's keys translated, and its settings that
    have no effect here are not required.

    Returns
    -------
    pathlib.Path or None
        The defaults file checked against (None: the packaged defaults).

    Raises
    ------
    ConfigError
        The named defaults file does not exist, is invalid, or has keys the config lacks (named).
    """
    folder = cfg.source_path.resolve().parent if cfg.source_path is not None else Path.cwd()
    candidate = folder / Path(defaults_name).expanduser()
    if candidate.is_file():
        reference: Mapping = read_user_file(candidate, report=False)
        checked: Path | None = candidate
    elif str(defaults_name) == DEFAULTS_NAME:
        reference, checked = load_defaults(), None
    else:
        raise ConfigError(f"--default-config-name: defaults file {candidate} not found "
                          f"(it is looked up beside the config file)")
    missing = _missing_keys(reference, cfg, ())
    config_name = str(cfg.source_path) if cfg.source_path is not None else "the built-in defaults"
    against = str(checked) if checked is not None else "the built-in defaults"
    if missing:
        shown = ", ".join(missing[:10]) + (f", ... ({len(missing)} in all)" if len(missing) > 10 else "")
        raise ConfigError(f"config check: {config_name} lacks {len(missing)} key(s) of {against}: {shown}")
    log.info("config check: %s has every key of %s", config_name, against)
    return checked


def _missing_keys(reference: Mapping, have: Any, prefix: tuple) -> list[str]:
    missing = []
    for key, value in reference.items():
        here = prefix + (str(key),)
        if not isinstance(have, Mapping) or key not in have:
            missing.append(".".join(here))
        elif isinstance(value, Mapping):
            missing += _missing_keys(value, have[key], here)
    return missing


def deep_merge(base: dict, override: Mapping) -> dict:
    """Merge ``override`` into ``base`` recursively (mappings merge, everything else replaces)."""
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _compatible(user: Any, default: Any) -> bool:
    if default is None or user is None:
        return True
    if isinstance(default, bool):
        return isinstance(user, bool)
    if isinstance(default, (int, float)):
        return isinstance(user, (int, float)) and not isinstance(user, bool)
    return _type_name(user) == _type_name(default)


def _validate(user: Mapping, defaults: Mapping, prefix: tuple, source: Path | None = None) -> None:
    where = f"{source}: " if source is not None else ""
    for key, value in user.items():
        here = prefix + (str(key),)
        dotted = ".".join(here)
        if prefix in _FREE_BELOW or (len(prefix) >= 2 and prefix[:-1] in _FREE_BELOW):
            # free-form entries (per-class overrides, instance specs): only require mappings
            if prefix in _FREE_BELOW and not isinstance(value, Mapping):
                raise ConfigError(f"{where}config key '{dotted}' must be a mapping, got {_type_name(value)}")
            continue
        if prefix in _OPEN_MAPS:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}config key '{dotted}' must be a mapping, got {_type_name(value)}")
            continue
        if not isinstance(defaults, Mapping) or key not in defaults:
            raise ConfigError(f"{where}unknown config key '{dotted}' (not in config.defaults.yaml"
                              f"{_suggestion(str(key), defaults, prefix)})")
        default = defaults[key]
        if not _compatible(value, default):
            raise ConfigError(
                f"{where}config key '{dotted}' must be a {_type_name(default)}, got {_type_name(value)} "
                f"({value!r:.40})"
            )
        if isinstance(value, Mapping) and isinstance(default, Mapping):
            _validate(value, default, here, source)


def _suggestion(key: str, defaults: Any, prefix: tuple) -> str:
    """``; did you mean 'a.b'?`` for the closest valid key at that level, or the valid keys when few."""
    if not isinstance(defaults, Mapping) or not defaults:
        return ""
    valid = [str(k) for k in defaults]
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if not close:
        # a case slip (Timeout, FRITZ) is still the same key
        lowered = {k.lower(): k for k in valid}
        close = [lowered[key.lower()]] if key.lower() in lowered else []
    if close:
        return f"; did you mean '{'.'.join(prefix + (close[0],))}'?"
    if len(valid) <= 12:
        return f"; valid keys here: {', '.join(valid)}"
    return ""


def _apply_env_secrets(cfg: dict, env: Mapping[str, str]) -> None:
    instances = cfg.setdefault("kowalski", {}).setdefault("instances", {}) or {}
    cfg["kowalski"]["instances"] = instances
    for name, var in _LEGACY_TOKEN_ENV.items():
        if env.get(var):
            spec = instances.setdefault(name, {})
            spec.setdefault("host", f"{name}.caltech.edu")
            spec["token"] = env[var]
    for name, spec in instances.items():
        if spec is None:
            spec = instances[name] = {}
        var = f"KOWALSKI_{name.upper()}_TOKEN"
        if env.get(var):
            spec["token"] = env[var]
    if env.get("FRITZ_TOKEN"):
        cfg.setdefault("fritz", {})["token"] = env["FRITZ_TOKEN"]
    if env.get("WANDB_API_KEY"):
        cfg.setdefault("wandb", {})["token"] = env["WANDB_API_KEY"]


def update_user_config(path: str | os.PathLike, updates: Mapping[str, Any]) -> Path:
    """Deep-merge ``updates`` into the YAML file at ``path``, keeping every other setting.

    The file is created when missing and replaced atomically. Comments in an existing file
    are not preserved (PyYAML does not keep them); values are.
    """
    from scope.tables import atomic_write  # local import: tables imports pandas

    p = Path(path)
    current = read_yaml(p) if p.exists() else {}
    _validate(updates, load_defaults(), (), source=p)
    merged = deep_merge(current, updates)
    with atomic_write(p, "w") as fh:
        yaml.safe_dump(merged, fh, sort_keys=False, default_flow_style=False)
    return p
