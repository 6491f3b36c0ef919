"""Stratified splits, balancing, class weights and scaling statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scope.errors import ConfigError
from scope.training.scaling import apply_scaling, compute_stats, scaling_params, stats_from_config
from scope.training.splits import balance_training, class_weights, stratified_split


def test_splits_are_stratified_disjoint_and_deterministic():
    target = np.r_[np.ones(100), np.zeros(900)].astype(int)
    s1 = stratified_split(target, 0.1, 0.1, 7)
    s2 = stratified_split(target, 0.1, 0.1, 7)
    assert all(np.array_equal(getattr(s1, k), getattr(s2, k)) for k in ("train", "val", "test"))
    assert len(s1.test) == 100 and len(s1.val) == 100 and len(s1.train) == 800  # val is 10 % of all
    for idx in (s1.train, s1.val, s1.test):
        assert target[idx].mean() == pytest.approx(0.1, abs=0.011)
    allidx = np.concatenate([s1.train, s1.val, s1.test])
    assert len(np.unique(allidx)) == 1000
    assert not np.array_equal(stratified_split(target, 0.1, 0.1, 8).test, s1.test)


def test_balance_downsamples_the_training_majority_only():
    target = np.r_[np.ones(100), np.zeros(900)].astype(int)
    split = stratified_split(target, 0.1, 0.1, 0)
    out = balance_training(split, target, 2.0, 0)
    counts = out.counts(target)
    assert counts["train"] == {"pos": 80, "neg": 160}
    assert counts["dropped"] == {"pos": 0, "neg": 560}
    assert np.array_equal(out.test, split.test) and np.array_equal(out.val, split.val)
    # the majority may be the positives: then positives are down-sampled
    flipped = 1 - target
    out2 = balance_training(stratified_split(flipped, 0.1, 0.1, 0), flipped, 1.0, 0)
    assert out2.counts(flipped)["train"] == {"pos": 80, "neg": 80}


def test_class_weights_favour_the_minority():
    y = np.r_[np.ones(20), np.zeros(80)].astype(int)
    assert class_weights(y, True) == {0: pytest.approx(0.25), 1: 1.0}
    assert class_weights(y, False) == {0: 1.0, 1: 1.0}


def test_min_max_and_median_std_params_and_constant_features():
    df = pd.DataFrame({"a": [0.0, 5.0, 10.0, np.nan], "k": [3.0, 3.0, 3.0, 3.0]})
    stats = compute_stats(df, ["a", "k"])
    assert stats["a"]["max"] == 10.0 and stats["a"]["median"] == 5.0
    mm = scaling_params(stats, "min_max")
    assert mm["a"] == {"shift": 0.0, "scale": 10.0}
    assert mm["k"] == {"shift": 0.0, "scale": 1.0}  # constant: passes through unchanged
    ms = scaling_params(stats, "median_std")
    assert ms["a"]["shift"] == 5.0 and ms["a"]["scale"] == pytest.approx(np.std([0, 5, 10]))
    out = apply_scaling(df, ["a", "k"], mm)
    assert out["a"].tolist()[:3] == [0.0, 0.5, 1.0] and out["k"].tolist() == [3.0] * 4


def test_config_stats_find_periodic_features_by_their_unsuffixed_name():
    cfg = {"feature_stats": {"f1_power": {"min": 0, "max": 2, "median": 1, "mean": 1, "std": 0.5},
                             "wstd": {"min": 0, "max": 1, "median": 0.1, "mean": 0.2, "std": 0.1}}}
    stats = stats_from_config(cfg, ["wstd", "f1_power_ELS"], "ELS")
    assert stats["f1_power_ELS"]["max"] == 2.0
    with pytest.raises(ConfigError, match="'skew'"):
        stats_from_config(cfg, ["skew"], "ELS")
