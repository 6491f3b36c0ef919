"""Weights & Biases hyper-parameter sweeps of the DNN (``scope-train --run-sweeps``).

A sweep is driven by the wandb server, so it needs ``wandb.mode: online`` and a key. Each trial
trains a fresh network on the prepared data with the trial's settings and logs ``train_loss``
and ``val_loss``; copy the best values into ``training.classes.<tag>`` by hand, as with the
reference. Unlike the reference, the trial's learning rate is really used and ``amsgrad`` is a
true/false choice, so the sweep searches what it claims to.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import logging
from typing import Mapping

from scope.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_SWEEP = {
    "method": "bayes",
    "metric": {"name": "val_loss", "goal": "minimize"},
    "run_cap": 10,
    "parameters": {
        "lr": {"min": 3e-4, "max": 3e-2},
        "epsilon": {"min": 1e-9, "max": 1e-7},
        "amsgrad": {"values": [True, False]},
        "epochs": {"value": 50},
    },
}


def sweep_config(cfg: Mapping, name: str) -> dict:
    """The sweep definition: ``wandb.sweep_config_dnn`` when configured, else :data:`DEFAULT_SWEEP`."""
    configured = (cfg.get("wandb") or {}).get("sweep_config_dnn")
    out = copy.deepcopy(configured or DEFAULT_SWEEP)
    out["name"] = name
    return out


def trial_options(opts, params: Mapping):
    """Settings of one trial: ``opts`` with the trial's parameters (known settings only) replaced."""
    from scope.training.options import _validated

    fields = {f.name for f in dataclasses.fields(opts)} - {"sources"}
    values = opts.as_dict()
    for key, value in params.items():
        if key in fields:
            values[key] = value
    sources = {k: ("sweep" if k in params else v) for k, v in opts.sources.items()}
    return type(opts)(**_validated(values, "sweep", sources), sources=sources)


def run_sweep(cfg: Mapping, data, opts, *, tag: str, group: str, gpu: int | None = None) -> str:
    """Create a sweep on the wandb server and run its trials here; returns the sweep id."""
    from scope.training.tracking import tracking_mode

    if tracking_mode(cfg) != "online":
        raise ConfigError("--run-sweeps needs wandb.mode: online and a wandb.token (the wandb server runs sweeps)")
    import wandb

    section = cfg.get("wandb") or {}
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d_%H%M%S")
    definition = sweep_config(cfg, f"{group}-{tag}-{stamp}")
    sweep_id = wandb.sweep(definition, project=section.get("project"), entity=section.get("entity"))

    def trial() -> None:
        run = wandb.init(job_type="sweep", group=group, tags=[tag])
        try:
            trial_opts = trial_options(opts, dict(run.config))
            losses = _fit_trial(data, trial_opts, gpu)
            run.log({**{k: v for k, v in trial_opts.as_dict().items() if not isinstance(v, list)}, **losses})
        finally:
            run.finish()

    wandb.agent(sweep_id, function=trial, count=int(definition.get("run_cap", 10)))
    log.info("sweep %s finished; copy the best settings into training.classes.%s", sweep_id, tag)
    return sweep_id


def _fit_trial(data, opts, gpu) -> dict:
    import numpy as np

    from scope.training import dnn

    keras = dnn.import_keras(gpu)
    keras.utils.set_random_seed(opts.random_state)
    model = dnn.build_model(len(data.features), dense_branch=opts.dense_branch, conv_branch=opts.conv_branch)
    dnn.compile_model(model, opts)
    dmdt = data.dmdt if data.dmdt is not None else np.zeros((len(data.X), 26, 26, 1), dtype=np.float32)
    parts = {n: (data.X[getattr(data.split, n)], dmdt[getattr(data.split, n)], data.target[getattr(data.split, n)])
             for n in ("train", "val")}
    dnn.fit(model, parts["train"], parts["val"], opts, class_weight=data.class_weight,
            callbacks=dnn.make_callbacks(opts))
    out = {}
    for name, (X, D, y) in parts.items():
        values = model.evaluate(dnn.inputs(X, D), y.astype("float32"), verbose=0, return_dict=True)
        out[f"{name}_loss"] = float(values["loss"])
    return out
