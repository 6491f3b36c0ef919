"""Metrics and plots, including splits that hold one class only (the reference crashed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scope.training.metrics import binary_metrics, json_safe


def test_binary_metrics_values():
    y = np.array([1, 1, 0, 0, 0])
    s = np.array([0.9, 0.4, 0.6, 0.1, 0.2])
    m = binary_metrics(y, s)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (1, 1, 1, 2)
    assert m["accuracy"] == pytest.approx(0.6) and m["precision"] == 0.5 and m["recall"] == 0.5
    assert m["f1_score"] == 0.5 and m["roc_auc"] == pytest.approx(5 / 6)
    assert 0 < m["pr_auc"] <= 1


def test_single_class_split_gives_undefined_auc_not_a_crash(tmp_path):
    from scope.training.plots import plot_confusion, plot_precision_recall, plot_roc

    y = np.zeros(4, dtype=int)
    s = np.array([0.1, 0.7, 0.2, 0.3])
    m = binary_metrics(y, s)
    assert math.isnan(m["roc_auc"]) and json_safe(m)["roc_auc"] is None and m["accuracy"] == 0.75
    assert plot_roc(y, s, "vnv", tmp_path / "x_roc") == []
    assert plot_precision_recall(y, s, "vnv", tmp_path / "x_recall") == []
    files = plot_confusion(y, s, "vnv", tmp_path / "x_cm")
    assert [f.name for f in files] == ["x_cm.png", "x_cm.pdf"] and all(f.stat().st_size > 0 for f in files)
