"""Optional Weights & Biases tracking of training runs.

Tracking is on when ``wandb.mode`` in the config is ``offline`` or ``online``, or when the
``WANDB_MODE`` environment variable says so (it wins over the config). ``offline`` needs no
account and touches no network; runs land in ``./wandb`` and can be synced later with
``wandb sync``. ``online`` needs a key (``wandb.token`` or ``WANDB_API_KEY``); without one the run
falls back to offline. Training never requires wandb: when it is not installed or fails to
start, a warning is logged and training goes on untracked.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Mapping

log = logging.getLogger(__name__)

MODES = ("disabled", "offline", "online")


def tracking_mode(cfg: Mapping) -> str:
    """``disabled``, ``offline`` or ``online`` from ``WANDB_MODE`` or ``wandb.mode``."""
    env = os.environ.get("WANDB_MODE", "").strip().lower()
    if env in ("offline", "dryrun"):
        return "offline"
    if env in ("online", "run"):
        return "online"
    if env == "disabled":
        return "disabled"
    mode = str(((cfg.get("wandb") or {}).get("mode")) or "disabled").strip().lower()
    return mode if mode in MODES else "disabled"


class Tracker:
    """A started wandb run (or a no-op when tracking is off)."""

    def __init__(self, run=None):
        self.run = run

    @property
    def active(self) -> bool:
        return self.run is not None

    def keras_callback(self):
        """A Keras callback logging every epoch's loss and metrics, or ``None``."""
        if self.run is None:
            return None
        import keras

        run = self.run

        class _EpochLogger(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                run.log({"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}})

        return _EpochLogger()

    def summary(self, values: Mapping[str, float]) -> None:
        """Record final values (test metrics, counts) in the run summary."""
        if self.run is not None:
            self.run.summary.update({k: v for k, v in values.items() if v is not None})

    def finish(self) -> None:
        if self.run is not None:
            self.run.finish()
            self.run = None


def start_run(cfg: Mapping, *, name: str, tag: str, group: str, job_type: str, config: Mapping,
              directory: Path | None = None) -> Tracker:
    """Start a wandb run when tracking is on; always returns a :class:`Tracker`."""
    mode = tracking_mode(cfg)
    if mode == "disabled":
        return Tracker()
    try:
        import wandb
    except ImportError:
        log.warning("wandb tracking is configured but wandb is not installed; training untracked")
        return Tracker()
    section = cfg.get("wandb") or {}
    token = section.get("token") or os.environ.get("WANDB_API_KEY")
    if mode == "online" and not token:
        log.warning("wandb.mode is online but no wandb.token / WANDB_API_KEY is set; logging offline")
        mode = "offline"
    kwargs = dict(project=section.get("project") or "scope", group=group, job_type=job_type, name=name,
                  tags=[tag], config=dict(config), mode=mode, reinit="finish_previous")
    if mode == "online" and section.get("entity"):
        kwargs["entity"] = section["entity"]
    if directory is not None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        kwargs["dir"] = str(directory)
    try:
        if mode == "online":
            wandb.login(key=token, verify=False)
        run = wandb.init(settings=wandb.Settings(silent=True), **kwargs)
    except Exception as exc:  # tracking must never stop training
        log.warning("wandb could not start (%s); training untracked", str(exc).splitlines()[0] if str(exc) else exc)
        return Tracker()
    log.info("wandb run %s (%s)", name, mode)
    return Tracker(run)
