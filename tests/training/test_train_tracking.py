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


def test_epoch_logger_sends_every_epoch_to_the_run():
    from scope.training.tracking import Tracker

    class FakeRun:
        def __init__(self):
            self.logged, self.summary = [], {}

    run = FakeRun()
    run.log = run.logged.append
    tracker = Tracker(run)
    cb = tracker.keras_callback()
    cb.on_epoch_end(0, {"loss": 0.5, "val_auc": 0.9})
    cb.on_epoch_end(1, {"loss": 0.4, "val_auc": 0.95})
    assert run.logged == [{"epoch": 0, "loss": 0.5, "val_auc": 0.9}, {"epoch": 1, "loss": 0.4, "val_auc": 0.95}]
    tracker.summary({"test_roc_auc": 0.97, "test_precision": None})
    assert run.summary == {"test_roc_auc": 0.97}


def test_sweeps_need_wandb_online_and_apply_trial_settings(monkeypatch):
    from scope.errors import ConfigError
    from scope.training.options import class_spec, resolve_options
    from scope.training.sweeps import run_sweep, sweep_config, trial_options

    monkeypatch.setenv("WANDB_MODE", "offline")
    cfg = {"wandb": {"mode": "offline"},
           "training": {"classes": {"vnv": {"label": "variable", "features": "phenomenological"}}}}
    opts = resolve_options(cfg, class_spec(cfg, "vnv"))
    with pytest.raises(ConfigError, match="online"):
        run_sweep(cfg, None, opts, tag="vnv", group="g")
    trial = trial_options(opts, {"lr": 0.02, "amsgrad": True, "epochs": 50, "not_a_setting": 1})
    assert (trial.lr, trial.amsgrad, trial.epochs) == (0.02, True, 50) and trial.sources["lr"] == "sweep"
    assert sweep_config(cfg, "g-vnv")["parameters"]["amsgrad"] == {"values": [True, False]}
