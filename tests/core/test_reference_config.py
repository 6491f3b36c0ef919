"""A config.yaml written for the reference SCoPe loads: its keys are translated or named once, never refused."""

from __future__ import annotations

import logging
import shutil

import pytest
import yaml

from scope import config as config_module
from scope.config import load_config
from scope.errors import ConfigError
from scope.schema import feature_dtypes, feature_names
from tests.conftest import REAL_DATA, write_config
from tests.core.reference_lists import REFERENCE_PHENOMENOLOGICAL

REFERENCE = REAL_DATA / "reference_config" / "config.yaml"


@pytest.fixture(autouse=True)
def _fresh_report_memory(monkeypatch):
    # the one-line report is once per file and process; every test starts as a new process would
    monkeypatch.setattr(config_module, "_REPORTED", set(), raising=False)


@pytest.fixture
def reference_dir(workdir):
    """A working directory as the reference's scope-initialize leaves it: config.yaml + config.defaults.yaml."""
    shutil.copy(REFERENCE, workdir / "config.yaml")
    shutil.copy(REFERENCE, workdir / "config.defaults.yaml")
    return workdir


def _report_lines(caplog):
    return [r.getMessage() for r in caplog.records if "have no effect" in r.getMessage()]


def test_the_fixture_is_a_complete_reference_config():
    data = yaml.safe_load(REFERENCE.read_text())
    assert list(data) == ["kowalski", "rubin", "fritz", "wandb", "taxonomy", "docs", "features", "feature_stats",
                          "feature_generation", "training", "inference", "fields_to_exclude"]
    phen, onto = data["features"]["phenomenological"], data["features"]["ontological"]
    assert (len(phen), sum(v["include"] for v in phen.values())) == (46, 35)
    assert (len(onto), sum(v["include"] for v in onto.values())) == (83, 61)
    assert len(data["training"]["classes"]) == 52 and len(data["feature_generation"]["cesium_features"]) == 59


def test_reference_config_loads_and_names_unused_keys_in_one_line(reference_dir, caplog):
    caplog.set_level(logging.INFO, logger="scope")
    cfg = load_config()
    load_config()  # a command loading its config again says nothing new
    lines = _report_lines(caplog)
    assert len(lines) == 1, lines
    for key in ("rubin", "taxonomy", "docs", "feature_generation.period_search",
                "training.xgboost.other_training_params.seed"):
        assert key in lines[0]
    assert cfg.source_path.name == "config.yaml"


def test_reference_keys_are_read_under_our_names(reference_dir):
    from scope.services.kowalski import instance_specs

    cfg = load_config(env={"MELMAN_INSTANCE_TOKEN": "t0k"})
    assert cfg["kowalski"]["instances"]["gloria"] == {"host": "gloria.caltech.edu", "token": None}
    assert instance_specs(cfg) == {"melman": {"host": "melman.caltech.edu", "token": "t0k", "protocol": "https",
                                              "port": 443}}
    assert cfg["training"]["xgboost"]["other_training_params"]["eta_list"] == [0.3, 0.2, 0.1, 0.05]
    ext = cfg["feature_generation"]["external_catalog_features"]
    assert ext["AllWISE"][:3] == ["_id", "w1mpro", "w1sigmpro"] and len(ext["PS1_DR1"]) == 12
    assert cfg["fields_to_exclude"] == []  # an empty section, not "no value"
    assert cfg["training"]["classes"]["vnv"]["lr"] == 0.02229
    assert feature_names(cfg, "phenomenological", None) == REFERENCE_PHENOMENOLOGICAL
    assert feature_dtypes(cfg, "ontological")["ad"] == "float64"  # the reference writes 'float'
    assert feature_dtypes(cfg, "ontological")["_id"] == "int64"


def test_a_token_under_the_reference_hosts_key_is_used(workdir):
    write_config(workdir, "kowalski:\n  hosts:\n    melman:\n      token: abc\n  port: 8443\n")
    from scope.services.kowalski import instance_specs

    assert instance_specs(load_config()) == {"melman": {"host": "melman.caltech.edu", "token": "abc",
                                                        "protocol": "https", "port": 8443}}


def test_a_typo_of_our_key_still_errors_with_the_closest_key(workdir):
    text = REFERENCE.read_text().replace("  max_timestamp_hjd:", "  max_timestamp_hdj:")
    write_config(workdir, text)
    with pytest.raises(ConfigError, match=r"unknown config key 'kowalski.max_timestamp_hdj'.*"
                                          r"did you mean 'kowalski.max_timestamp_hjd'\?"):
        load_config()


@pytest.mark.parametrize("text, suggestion", [
    ("kowalski:\n  timeot: 3\n", "kowalski.timeout"),
    ("trainng:\n  dataset: x\n", "training"),
    ("FRITZ:\n  host: x\n", "fritz"),
    ("training:\n  xgboost:\n    other_training_params:\n      num_boost_rounds: 5\n",
     "training.xgboost.other_training_params.num_boost_round"),
])
def test_typos_suggest_the_closest_valid_key(workdir, text, suggestion):
    write_config(workdir, text)
    with pytest.raises(ConfigError, match=f"did you mean '{suggestion}'"):
        load_config()


def test_a_complete_feature_list_keeps_its_own_order(workdir):
    names = list(reversed(REFERENCE_PHENOMENOLOGICAL))
    full = yaml.safe_load(REFERENCE.read_text())["features"]["phenomenological"]
    reordered = {n: full[n] for n in names} | {n: s for n, s in full.items() if n not in names}
    write_config(workdir, yaml.safe_dump({"features": {"phenomenological": reordered}}, sort_keys=False))
    assert feature_names(load_config(), "phenomenological", None) == names
    # a partial list only adds or changes entries: the defaults' order stays, new features last
    write_config(workdir, "features:\n  phenomenological:\n    my_feat: {include: true, dtype: float, periodic: false}\n"
                          "    ad: {include: false, dtype: float, periodic: false}\n")
    partial = feature_names(load_config(), "phenomenological", None)
    assert partial == REFERENCE_PHENOMENOLOGICAL[1:] + ["my_feat"]


def test_check_configs_passes_for_a_reference_working_directory(reference_dir):
    assert config_module.check_config(load_config()) == reference_dir / "config.defaults.yaml"


def test_check_configs_names_the_keys_the_config_lacks(reference_dir):
    data = yaml.safe_load(REFERENCE.read_text())
    # an older copy without the sweep-derived per-class settings of the defaults beside it
    del data["training"]["classes"]["vnv"]["lr"], data["training"]["classes"]["pnp"]["batch_size"]
    (reference_dir / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError, match=r"lacks 2 key\(s\) of .*config.defaults.yaml: "
                                          r"training.classes.vnv.lr, training.classes.pnp.batch_size"):
        config_module.check_config(load_config())


def test_check_configs_with_our_own_override_file(workdir):
    write_config(workdir, "kowalski:\n  timeout: 30\n")
    assert config_module.check_config(load_config()) is None  # no defaults file beside it: the built-in defaults
    with pytest.raises(ConfigError, match="defaults file .*team_defaults.yaml not found"):
        config_module.check_config(load_config(), "team_defaults.yaml")
    (workdir / "team_defaults.yaml").write_text("training:\n  classes:\n    mine: {label: custom, features: "
                                                "ontological}\n")
    with pytest.raises(ConfigError, match="lacks 1 key.*training.classes.mine"):
        config_module.check_config(load_config(), "team_defaults.yaml")
