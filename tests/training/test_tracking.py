"""Weights & Biases tracking: off by default, offline works without an account."""

from __future__ import annotations

import pytest

from scope.training.tracking import start_run, tracking_mode


def test_mode_resolution(monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert tracking_mode({"wandb": {"mode": "disabled"}}) == "disabled"
    assert tracking_mode({"wandb": {"mode": "offline"}}) == "offline"
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert tracking_mode({"wandb": {"mode": "disabled"}}) == "offline"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert tracking_mode({"wandb": {"mode": "online"}}) == "disabled"
    tracker = start_run({"wandb": {"mode": "online"}}, name="x", tag="x", group="g", job_type="train", config={})
    assert not tracker.active and tracker.keras_callback() is None


@pytest.mark.slow
def test_offline_run_logs_epochs_without_an_account(project, training_file, monkeypatch):
    from scope.training.train import train

    folder, cfg = project
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("WANDB_DIR", str(folder))
    r = train(cfg, "pnp", algorithm="dnn", path_dataset=training_file, epochs=2, conv_branch=False)
    runs = list((folder / "wandb").glob("offline-run-*"))
    assert len(runs) == 1, list(folder.rglob("*"))[:20]
    assert list(runs[0].glob("*.wandb")) and r.metrics["test"]["roc_auc"] is not None
