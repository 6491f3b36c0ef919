"""Cluster presets: the module lines, environment activation and partitions of a named cluster.

Presets are data, in config ``slurm.clusters`` (``Expanse``, ``Delta`` and ``plain`` ship in
``config.defaults.yaml``; a user adds their own cluster in ``config.yaml`` the same way)::

    slurm:
      clusters:
        mycluster:
          partition: gpu             # -p of GPU jobs (null: Slurm's default partition)
          cpu_partition: normal      # -p of jobs without a GPU
          submit_partition: normal   # -p of the submission job
          gpu_setup: [module purge, module load cuda]
          cpu_setup: [module purge]
          submit_setup: [module purge, module load slurm]
          activate: source activate {env}   # written when there is an environment name
          python_env: null                  # default --python-env-name

Nothing personal lives in a preset: mail, account and user are given by the user (or come from
the environment), never defaulted.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Mapping

from scope.errors import ConfigError

_KEYS = ("partition", "cpu_partition", "submit_partition", "gpu_setup", "cpu_setup", "submit_setup", "activate",
         "python_env")


@dataclass(frozen=True)
class ClusterPreset:
    """One cluster's conventions (see the module docstring)."""

    name: str
    partition: str | None = None
    cpu_partition: str | None = None
    submit_partition: str | None = None
    gpu_setup: tuple[str, ...] = field(default_factory=tuple)
    cpu_setup: tuple[str, ...] = field(default_factory=tuple)
    submit_setup: tuple[str, ...] = field(default_factory=tuple)
    activate: str | None = None
    python_env: str | None = None

    def job_partition(self, gpus: int) -> str | None:
        """Partition of a work job: the GPU partition when it asks for GPUs."""
        return self.partition if gpus else (self.cpu_partition or None)

    def setup(self, *, gpus: int, env: str | None) -> list[str]:
        """Preamble of a work job: module lines (GPU or CPU), then the activation."""
        lines = list(self.gpu_setup if gpus else self.cpu_setup)
        return lines + self.activation(env)

    def submission_setup(self, env: str | None) -> list[str]:
        """Preamble of the submission job."""
        return list(self.submit_setup) + self.activation(env)

    def activation(self, env: str | None) -> list[str]:
        env = self.python_env if env is None else env
        if not env:
            return []
        return [(self.activate or "source activate {env}").format(env=env)]


def cluster_names(cfg: Mapping) -> list[str]:
    """The presets the config knows."""
    return list(((cfg.get("slurm") or {}).get("clusters") or {}).keys())


def load_preset(cfg: Mapping, name: str | None = None) -> ClusterPreset:
    """The preset ``name`` (default ``slurm.cluster_name``) from the config.

    A name is matched case-insensitively (the reference wrote ``Expanse``/``Delta``).

    Raises
    ------
    ConfigError
        Unknown cluster (the known ones are listed) or an unknown key in its preset.
    """
    section = cfg.get("slurm") or {}
    presets = section.get("clusters") or {}
    name = name or section.get("cluster_name") or "plain"
    match = next((k for k in presets if k == name), None) or next(
        (k for k in presets if str(k).lower() == str(name).lower()), None)
    if match is None:
        known = ", ".join(sorted(presets)) or "none"
        raise ConfigError(f"unknown cluster '{name}' (--cluster-name): presets are {known}; add yours under "
                          "slurm.clusters in config.yaml")
    spec = presets[match] or {}
    for key in spec:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"unknown key 'slurm.clusters.{match}.{key}'{hint}; a preset takes {', '.join(_KEYS)}")
    for key in ("gpu_setup", "cpu_setup", "submit_setup"):
        value = spec.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"config key 'slurm.clusters.{match}.{key}' must be a list of shell lines")
    return ClusterPreset(
        name=str(match), partition=spec.get("partition"), cpu_partition=spec.get("cpu_partition"),
        submit_partition=spec.get("submit_partition"), gpu_setup=tuple(spec.get("gpu_setup") or ()),
        cpu_setup=tuple(spec.get("cpu_setup") or ()), submit_setup=tuple(spec.get("submit_setup") or ()),
        activate=spec.get("activate"), python_env=spec.get("python_env"))
