"""Setting resolution: command line > class entry > global config > built-in."""

from __future__ import annotations

import logging

import pytest

from scope.errors import ConfigError
from scope.training.options import class_spec, normalize_algorithm, resolve_options

CFG = {"training": {
    "dnn": {"lr": 0.003, "epochs": 200, "amsgrad": False, "batch_size": 64},
    "defaults": {"test_size": 0.1, "val_size": 0.1, "random_state": 42},
    "classes": {
        "vnv": {"label": "variable", "features": "phenomenological", "threshold": 0.7, "lr": 0.01,
                "batch_size": 32, "amsgrad": 0.00037},
        "ea": {"label": "EA", "features": "phenomenological", "amsgrad": True, "balance": "None"},
    }}}


def test_precedence():
    spec = class_spec(CFG, "vnv")
    opts = resolve_options(CFG, spec, {"epochs": 5, "threshold": None})
    assert opts.epochs == 5 and opts.sources["epochs"] == "command line"
    assert opts.lr == 0.01 and opts.sources["lr"] == "training.classes.vnv"
    assert opts.batch_size == 32
    assert opts.random_state == 42 and opts.sources["random_state"] == "training.defaults"
    assert opts.threshold == 0.7
    assert opts.patience == 20 and opts.sources["patience"] == "built-in"
    assert resolve_options(CFG, class_spec(CFG, "ea")).lr == 0.003  # from training.dnn


def test_amsgrad_only_when_really_configured(caplog):
    with caplog.at_level(logging.WARNING):
        assert resolve_options(CFG, class_spec(CFG, "vnv")).amsgrad is False
    assert "not a boolean" in caplog.text
    assert resolve_options(CFG, class_spec(CFG, "ea")).amsgrad is True
    assert resolve_options(CFG, class_spec(CFG, "vnv"), {"amsgrad": True}).amsgrad is True


def test_balance_none_spellings():
    assert resolve_options(CFG, class_spec(CFG, "ea")).balance is None
    assert resolve_options(CFG, class_spec(CFG, "vnv"), {"balance": 1.5}).balance == 1.5


@pytest.mark.parametrize("override, match", [
    ({"threshold": 1.5}, "threshold"),
    ({"scale_features": "zscore"}, "scale_features"),
    ({"callbacks": ["early_stopping", "bogus"]}, "bogus"),
    ({"dense_branch": False, "conv_branch": False}, "at least one"),
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"test_size": 0.5, "val_size": 0.5}, "test_size"),
])
def test_bad_settings_are_config_errors(override, match):
    with pytest.raises(ConfigError, match=match):
        resolve_options(CFG, class_spec(CFG, "vnv"), override)


def test_unknown_tag_and_algorithm():
    with pytest.raises(ConfigError, match="unknown class tag 'xyz'"):
        class_spec(CFG, "xyz")
    assert normalize_algorithm("XGBoost") == "xgb" and normalize_algorithm("NN") == "dnn"
    with pytest.raises(ConfigError, match="unknown algorithm"):
        normalize_algorithm("svm")
