import pytest
import yaml

from scope.config import load_config, update_user_config
from scope.errors import ConfigError
from scope.schema import feature_names, impute_strategies
from tests.conftest import write_config


def test_defaults_only_without_user_file(workdir):
    cfg = load_config()
    assert cfg.source_path is None
    assert cfg.get_path("features.info.period_suffix") == "ELS_ECE_EAOV"
    assert cfg.get_path("kowalski.collections.sources").startswith("ZTF_sources_")


def test_user_file_overrides_only_what_it_names(workdir):
    write_config(workdir, "kowalski:\n  timeout: 12\n")
    cfg = load_config()
    assert cfg["kowalski"]["timeout"] == 12
    assert cfg["kowalski"]["port"] == 443  # untouched default
    assert cfg.source_path.name == "config.yaml"


def test_scope_config_env_and_explicit_path(workdir, monkeypatch, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    write_config(other, "data:\n  archive_path: arch\n")
    monkeypatch.setenv("SCOPE_CONFIG", str(other / "config.yaml"))
    cfg = load_config()
    assert cfg.resolve_path(cfg["data"]["archive_path"]) == other / "arch"
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


@pytest.mark.parametrize("text, message", [
    ("kowalski:\n  timeot: 3\n", "unknown config key 'kowalski.timeot'"),
    ("kowalski:\n  timeout: soon\n", "'kowalski.timeout' must be a number"),
    ("training:\n  dnn:\n    dense_branch: 3\n", "'training.dnn.dense_branch' must be a boolean"),
    ("features: [1, 2]\n", "'features' must be a mapping"),
    ("kowalski: {timeout: [\n", "malformed YAML"),
])
def test_bad_config_names_the_key(workdir, text, message):
    write_config(workdir, text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_config()


def test_open_maps_accept_new_entries(workdir):
    write_config(workdir, "training:\n  classes:\n    mine: {label: custom, features: phenomenological, lr: 0.01}\n"
                 "features:\n  phenomenological:\n    my_feat: {include: true, dtype: float64, periodic: false}\n")
    cfg = load_config()
    assert cfg["training"]["classes"]["mine"]["lr"] == 0.01
    assert "vnv" in cfg["training"]["classes"]
    assert "my_feat" in feature_names(cfg, "phenomenological")


def test_secrets_from_environment_and_redaction(workdir):
    write_config(workdir, "kowalski:\n  instances:\n    melman: {host: melman.example.org}\n")
    env = {"KOWALSKI_MELMAN_TOKEN": "s3cret-token", "FRITZ_TOKEN": "fritz-secret", "GLORIA_INSTANCE_TOKEN": "g-tok"}
    cfg = load_config(env=env)
    assert cfg["kowalski"]["instances"]["melman"]["token"] == "s3cret-token"
    assert cfg["kowalski"]["instances"]["gloria"] == {"host": "gloria.caltech.edu", "token": "g-tok"}
    text = repr(cfg.redacted())
    assert "s3cret" not in text and "fritz-secret" not in text and "g-tok" not in text


def test_defaults_hold_no_secrets():
    cfg = load_config(env={})
    assert cfg["fritz"]["token"] is None and cfg["wandb"]["token"] is None
    assert cfg["kowalski"]["instances"] == {}


def test_feature_schema_matches_reference_counts(workdir):
    cfg = load_config()
    phen = feature_names(cfg, "phenomenological")
    onto = feature_names(cfg, "ontological")
    assert len(phen) == 35 and len(onto) == 61
    assert "f1_power_ELS_ECE_EAOV" in phen and "period_ELS_ECE_EAOV" in onto
    assert "f1_power" in feature_names(cfg, "phenomenological", period_suffix=None)
    strategies = impute_strategies(cfg)
    assert strategies["n_ztf_alerts"] == "zero"
    assert sum(v == "regress" for v in strategies.values()) == 13
    assert sum(v == "median" for v in strategies.values()) == 9


def test_update_user_config_keeps_other_settings(workdir):
    path = write_config(workdir, "kowalski:\n  timeout: 7\n")
    update_user_config(path, {"data": {"archive_path": "a", "catalogs_path": "c"}})
    data = yaml.safe_load(path.read_text())
    assert data == {"kowalski": {"timeout": 7}, "data": {"archive_path": "a", "catalogs_path": "c"}}
    with pytest.raises(ConfigError):
        update_user_config(path, {"data": {"nonsense": 1}})
