"""Cluster presets are data in the config; users add their own; nothing personal is defaulted."""

import pytest

from scope.config import load_config
from scope.errors import ConfigError
from scope.hpc.presets import cluster_names, load_preset
from tests.conftest import write_config


def test_shipped_presets():
    cfg = load_config()
    assert {"Expanse", "Delta", "plain"} <= set(cluster_names(cfg))
    expanse = load_preset(cfg, "expanse")  # the reference's names, any case
    assert expanse.setup(gpus=1, env=None) == ["module purge", "module add gpu/0.15.4", "module add cuda",
                                               "source activate scope-env"]
    assert expanse.setup(gpus=0, env="my-env") == ["module purge", "source activate my-env"]
    assert expanse.submission_setup(None) == ["module purge", "module add slurm", "source activate scope-env"]
    assert expanse.job_partition(1) == "gpu-shared" and expanse.job_partition(0) == "shared"
    delta = load_preset(cfg, "Delta")
    assert delta.setup(gpus=1, env=None)[:4] == ["module purge", "module add anaconda3_gpu", "module add cuda",
                                                 "module add gcc-runtime"]
    plain = load_preset(cfg, "plain")
    assert plain.setup(gpus=1, env=None) == [] and plain.submission_setup(None) == []
    assert plain.job_partition(1) is None
    assert plain.setup(gpus=0, env="venv") == ["source activate venv"]
    assert load_preset(cfg).name == cfg["slurm"]["cluster_name"]


def test_a_user_adds_a_cluster_and_changes_one(tmp_path):
    path = write_config(tmp_path, """
slurm:
  cluster_name: mine
  clusters:
    mine:
      partition: gpu
      cpu_partition: cpu
      gpu_setup: [module load cuda/12]
      activate: conda activate {env}
      python_env: scope
    Expanse:
      partition: gpu-debug
""")
    cfg = load_config(path)
    mine = load_preset(cfg)
    assert mine.name == "mine" and mine.job_partition(1) == "gpu" and mine.job_partition(0) == "cpu"
    assert mine.setup(gpus=1, env=None) == ["module load cuda/12", "conda activate scope"]
    expanse = load_preset(cfg, "Expanse")
    assert expanse.partition == "gpu-debug" and expanse.submit_partition == "shared"  # merged over the defaults


def test_unknown_cluster_and_keys_are_named(tmp_path):
    with pytest.raises(ConfigError, match="unknown cluster 'Perlmutter'.*Delta, Expanse, plain"):
        load_preset(load_config(), "Perlmutter")
    path = write_config(tmp_path, "slurm:\n  clusters:\n    odd:\n      partiton: x\n")
    with pytest.raises(ConfigError, match="slurm.clusters.odd.partiton.*did you mean 'partition'"):
        load_preset(load_config(path), "odd")
    path = write_config(tmp_path, "slurm:\n  clusters:\n    odd:\n      gpu_setup: module load cuda\n")
    with pytest.raises(ConfigError, match="must be a list of shell lines"):
        load_preset(load_config(path), "odd")
