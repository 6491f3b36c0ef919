"""Train one class with one algorithm: the library side of ``scope-train``.

:func:`train` resolves the settings, prepares the data (:mod:`scope.training.prepare`), fits a
DNN or an XGBoost model, evaluates it on the train/validation/test splits and, with ``save``,
writes the model, its card, per-split ``stats.json`` files and (with ``plot``) the plots::

    models_<alg>/<group>/<tag>/<tag>.<ts>.h5 | .json (+ .keras | .params)
    models_<alg>/<group>/<tag>/<tag>.<ts>.card.json
    models_<alg>/<group>/<tag>/<tag>.<ts>_plots/<split>/<tag>.<ts>_stats.json (+ plots)
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scope.errors import ConfigError, DataError
from scope.training import model_card as mc
from scope.training.metrics import best_threshold, binary_metrics, json_safe
from scope.training.options import class_spec, normalize_algorithm, resolve_options

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes
    ----------
    tag, algorithm, timestamp : str
        Class, ``dnn``/``xgb`` and the ``YYYYmmdd_HHMMSS`` stamp of the run.
    metrics : dict
        ``{split: {accuracy, precision, recall, f1_score, roc_auc, pr_auc, ...}}``.
    card : dict
        The model card (also written beside the model when saved).
    model_path, card_path : pathlib.Path or None
        Saved files (``None`` without ``save``).
    files : list of pathlib.Path
        Every file written.
    model : object
        The trained Keras model or XGBoost booster.
    """

    tag: str
    algorithm: str
    timestamp: str
    metrics: dict
    card: dict
    model_path: Path | None = None
    card_path: Path | None = None
    files: list = field(default_factory=list)
    model: Any = None


def train(cfg, tag: str, *, algorithm: str = "dnn", path_dataset: str | Path | None = None,
          group: str = "experiment", period_suffix: Any = ..., job_type: str = "train",
          gpu: int | None = None, run_sweeps: bool = False, plot_model: bool = False,
          models_dir: str | Path | None = None, verbose: int = 0, progress: bool = True,
          **overrides) -> TrainResult:
    """Train the classifier of class ``tag``.

    Parameters
    ----------
    cfg : scope.config.Config
        Configuration (``training``, ``features``, ``feature_stats``, ``wandb``).
    tag : str
        Key in ``training.classes``.
    algorithm : str
        ``dnn`` or ``xgb`` (any accepted spelling).
    path_dataset : path-like, optional
        Training set; default ``training.dataset`` from the config.
    group : str
        Output group (``models_<alg>/<group>/``) and wandb group.
    period_suffix : str or None, optional
        Suffix of periodic features; default the config's; ``None``/``"None"`` for none.
    job_type : str
        wandb job type.
    gpu : int, optional
        GPU index for the DNN; ``None`` trains on CPU.
    run_sweeps : bool
        Run a wandb hyper-parameter sweep instead of one training (DNN, wandb online only).
    plot_model : bool
        Also draw the network (needs pydot and graphviz).
    models_dir : path-like, optional
        Folder holding ``models_<alg>/`` (default: the current directory).
    verbose : int
        DNN progress: 0 a progress bar over the epochs (on terminals), 1 one short line per epoch,
        2 also Keras's own per-epoch output and TensorFlow's Python warnings.
    progress : bool
        Show the progress bar (``verbose`` 0 only).
    **overrides
        Any setting of :data:`scope.training.options.BUILTIN` (``None`` = not given).

    Returns
    -------
    TrainResult
    """
    from scope.schema import default_suffix, feature_names, normalize_suffix
    from scope.training.dataset import file_sha256, load_training_set
    from scope.training.prepare import prepare, resolve_dataset_path

    from scope.training.backends import require_algorithm

    t0 = time.time()
    algorithm = normalize_algorithm(algorithm)
    spec = class_spec(cfg, tag)
    opts = resolve_options(cfg, spec, overrides)
    # the package first: a machine without it learns so in one line, before the data are read
    require_algorithm(algorithm, **({"gpu": gpu} if algorithm == "dnn" else {}))
    suffix = default_suffix(cfg) if period_suffix is ... else normalize_suffix(period_suffix)
    features = feature_names(cfg, spec.feature_set, suffix)
    dataset_path = resolve_dataset_path(cfg, path_dataset)
    models_root = mc.models_root(Path(models_dir) if models_dir else Path.cwd(), algorithm)
    if run_sweeps and algorithm != "dnn":
        raise ConfigError("--run-sweeps works with the DNN only")

    tag_dir = models_root / group / tag
    if opts.save or opts.plot:
        from scope.tables import ensure_writable_dir

        # before the data are read; nothing created yet, so a failed run leaves no empty class folder
        ensure_writable_dir(tag_dir, create=False)
    pre_trained = _load_pre_trained(opts.pre_trained_model, algorithm, features, gpu)
    if pre_trained and pre_trained.get("arch"):
        opts.dense_branch = pre_trained["arch"]["dense_branch"]
        opts.conv_branch = pre_trained["arch"]["conv_branch"]
    use_dmdt = algorithm == "dnn" and opts.conv_branch

    df = load_training_set(dataset_path)
    data = prepare(df, cfg, tag=tag, label=spec.label, features=features, opts=opts, period_suffix=suffix,
                   source=f"training set {dataset_path}", use_dmdt=use_dmdt,
                   scaling_override=(pre_trained or {}).get("scaling"))
    del df

    timestamp = _dt.datetime.now(_dt.timezone.utc).strftime(mc.TIMESTAMP_FORMAT)
    if opts.save or opts.plot:
        timestamp = _free_timestamp(tag_dir, tag, timestamp)
    run_name = f"{tag}-{timestamp}"
    if run_sweeps:
        from scope.training.sweeps import run_sweep

        run_sweep(cfg, data, opts, tag=tag, group=group, gpu=gpu)
        return TrainResult(tag=tag, algorithm=algorithm, timestamp=timestamp, metrics={}, card={})

    from scope.training.tracking import start_run

    tracker = start_run(cfg, name=run_name, tag=tag, group=group, job_type=job_type,
                        directory=models_root.parent,
                        config={"tag": tag, "label": spec.label, "algorithm": algorithm,
                                "dataset": dataset_path.name, "features": len(features),
                                **{k: v for k, v in opts.as_dict().items() if not isinstance(v, list)}})
    try:
        if algorithm == "dnn":
            model, scores, extra = _train_dnn(data, opts, tag=tag, gpu=gpu, pre_trained=pre_trained, tracker=tracker,
                                              log_dir=models_root.parent / "logs" / f"{tag}-{timestamp}",
                                              verbose=verbose, progress=progress)
        else:
            model, scores, extra = _train_xgb(cfg, data, opts, pre_trained=pre_trained)
        metrics = {}
        for name in SPLITS:
            idx = getattr(data.split, name)
            if len(idx):
                metrics[name] = json_safe(binary_metrics(data.target[idx], scores[name]))
        tracker.summary({f"{s}_{k}": v for s, m in metrics.items() for k, v in m.items()})
        # where a cut would work on the validation split (reports flag classes that never reach 0.5)
        extra["validation_threshold"] = (json_safe(best_threshold(data.target[data.split.val], scores["val"]))
                                         if len(data.split.val) else None)
    finally:
        tracker.finish()

    card = _card(cfg, spec, opts, algorithm, group, timestamp, data, metrics, extra, dataset_path,
                 file_sha256(dataset_path), suffix, pre_trained)
    result = TrainResult(tag=tag, algorithm=algorithm, timestamp=timestamp, metrics=metrics, card=card, model=model)
    if opts.save:
        _save(result, model, tag_dir, opts, data, scores)
    if opts.plot:
        _plots(result, tag_dir, data, scores, extra, cfg)
    if plot_model and algorithm == "dnn":
        _plot_model(model, (tag_dir if opts.save else Path.cwd()) / f"{tag}.{timestamp}_model.pdf")
    test = metrics.get("test") or metrics.get("val") or {}
    fit = (f"{extra['epochs_run']} epochs" if algorithm == "dnn" else f"{extra['best_iteration'] + 1} rounds")
    log.info("%s (%s): %s; %s ROC AUC %s, PR AUC %s; %.1f s%s", tag, algorithm, fit,
             "test" if "test" in metrics else "val", _fmt(test.get("roc_auc")), _fmt(test.get("pr_auc")),
             time.time() - t0, "" if opts.save else " (not saved: no --save)")
    return result


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _free_timestamp(tag_dir: Path, tag: str, timestamp: str) -> str:
    """Bump the stamp by seconds until no file of this class uses it (two runs in one second)."""
    stamp = _dt.datetime.strptime(timestamp, mc.TIMESTAMP_FORMAT)
    while tag_dir.exists() and any(tag_dir.glob(f"{tag}.{stamp.strftime(mc.TIMESTAMP_FORMAT)}*")):
        stamp += _dt.timedelta(seconds=1)
    return stamp.strftime(mc.TIMESTAMP_FORMAT)


# ---------------------------------------------------------------------------------------------
def _load_pre_trained(path, algorithm: str, features, gpu) -> dict | None:
    """Load a model to continue training; check it takes the same inputs as this run."""
    if not path:
        return None
    path = Path(path)
    if not path.exists():
        raise DataError(f"pre-trained model not found: {path}")
    card = None
    if mc.card_path_for(path).exists():
        card = mc.load_model_card(path)
        if card["algorithm"] != algorithm:
            raise DataError(f"pre-trained model {path} is a {card['algorithm']} model, not {algorithm}")
        if list(card["features"]) != list(features):
            diff = next((i for i, (a, b) in enumerate(zip(card["features"], features)) if a != b),
                        min(len(card["features"]), len(features)))
            raise DataError(f"pre-trained model {path} was trained on other features than this run "
                            f"({len(card['features'])} vs {len(features)}; first difference at position {diff})")
    out: dict = {"path": str(path), "card": card, "scaling": card.get("scaling") if card else None}
    if algorithm == "dnn":
        from scope.training.dnn import import_keras, load_dnn, model_architecture

        import_keras(gpu)
        model = load_dnn(path)
        arch = model_architecture(model)
        if arch["n_features"] != len(features):
            raise DataError(f"pre-trained model {path} takes {arch['n_features']} features, "
                            f"this run has {len(features)}")
        out.update(model=model, arch=arch)
    else:
        from scope.training.legacy import load_xgb_booster

        booster = load_xgb_booster(path)
        if booster.num_features() != len(features):
            raise DataError(f"pre-trained model {path} takes {booster.num_features()} features, "
                            f"this run has {len(features)}")
        out["model"] = booster
    log.info("continuing training of %s", path)
    return out


def _train_dnn(data, opts, *, tag: str, gpu, pre_trained, tracker, log_dir: Path, verbose: int, progress: bool):
    from scope.training import dnn

    keras = dnn.import_keras(gpu)
    import tensorflow as tf

    dnn.quiet_python_logs(verbose >= 2)
    keras.utils.set_random_seed(opts.random_state)
    tf.config.experimental.enable_op_determinism()
    if pre_trained:
        model = pre_trained["model"]
    else:
        model = dnn.build_model(len(data.features), dense_branch=opts.dense_branch, conv_branch=opts.conv_branch)
    # A fresh optimizer with the resolved settings, also when continuing (the reference kept the
    # saved optimizer and silently ignored the settings given for the new run).
    dnn.compile_model(model, opts)
    callbacks = dnn.make_callbacks(opts, log_dir=log_dir)
    wandb_cb = tracker.keras_callback()
    if wandb_cb is not None:
        callbacks.append(wandb_cb)
    callbacks.append(dnn.epoch_reporter(tag, opts.epochs, lines=verbose >= 1, bar=progress))
    dmdt_all = data.dmdt if data.dmdt is not None else _zeros_dmdt(len(data.X))
    parts = {}
    for name in ("train", "val", "test"):
        idx = getattr(data.split, name)
        parts[name] = (data.X[idx], dmdt_all[idx], data.target[idx])
    history = dnn.fit(model, parts["train"], parts["val"], opts, class_weight=data.class_weight,
                      callbacks=callbacks, verbose=2 if verbose >= 2 else 0)
    epochs_run = len(next(iter(history.values()), []))
    scores = {name: dnn.predict(model, X, D, batch_size=max(opts.batch_size, 1024)) for name, (X, D, _) in parts.items()}
    monitor = history.get(opts.monitor)
    extra = {"epochs_run": epochs_run,
             "history_last": {k: float(v[-1]) for k, v in history.items() if len(v)},
             "best_monitor": None if not monitor else float(min(monitor) if "loss" in opts.monitor else max(monitor)),
             "architecture": dnn.model_architecture(model)}
    log.debug("dnn: %d epochs, best %s %s", epochs_run, opts.monitor, _fmt(extra["best_monitor"]))
    return model, scores, extra


def _zeros_dmdt(n: int) -> np.ndarray:
    from scope.training.dataset import DMDT_SHAPE

    return np.zeros((n,) + DMDT_SHAPE, dtype=np.float32)


def _train_xgb(cfg, data, opts, *, pre_trained):
    from scope.training import xgb as xg
    from scope.training.legacy import xgb_predict

    settings = xg.settings_from_config(cfg)
    X_train, _, y_train = data.part("train")
    X_val, _, y_val = data.part("val")
    dtrain = xg.dmatrix(X_train, y_train, data.features)
    dval = xg.dmatrix(X_val, y_val, data.features)
    spw = data.class_weight[1] / data.class_weight[0]
    params = xg.start_params(settings, spw, opts.random_state)
    params.update(xg.thread_params(X_train.shape))
    history: list = []
    if pre_trained is None and not opts.skip_cv:
        params, history = xg.grid_search(dtrain, params, settings, opts.random_state)
    booster, best_iteration = xg.train_booster(dtrain, dval, params, settings,
                                               xgb_model=(pre_trained or {}).get("model"))
    scores = {name: xgb_predict(booster, data.part(name)[0], data.features) if len(getattr(data.split, name))
              else np.zeros(0) for name in SPLITS}
    extra = {"params": params, "best_iteration": best_iteration, "grid_search": history,
             "importance": xg.importance(booster)}
    return booster, scores, extra


# ---------------------------------------------------------------------------------------------
def _card(cfg, spec, opts, algorithm, group, timestamp, data, metrics, extra, dataset_path, sha, suffix,
          pre_trained) -> dict:
    model_file = f"{spec.tag}.{timestamp}{mc.MODEL_EXTENSIONS[algorithm]}"
    training = cfg.get("training") or {}
    if spec.label == "variable":
        negative_rule = "non-variable > threshold and variable <= 0.5 (when a non-variable column exists)"
    else:
        negative_rule = "label <= min(0.5, threshold)"
    card = {
        "tag": spec.tag, "label": spec.label, "algorithm": algorithm, "group": group, "timestamp": timestamp,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model_file": model_file,
        "feature_set": spec.feature_set, "features": list(data.features), "n_features": len(data.features),
        "period_suffix": suffix,
        "dmdt": bool(algorithm == "dnn" and opts.conv_branch),
        "dmdt_shape": [26, 26, 1] if algorithm == "dnn" else None,
        "threshold": opts.threshold,
        "label_rule": {"positive": "label > threshold", "negative": negative_rule},
        "scaling": data.scaling,
        "float_type": data.info.get("float_type"),
        "class_weight": {str(k): v for k, v in data.class_weight.items()},
        "settings": opts.as_dict(), "settings_sources": dict(opts.sources),
        "training_set": {"path": str(Path(dataset_path).resolve()), "sha256": sha,
                         **{k: v for k, v in data.info.items() if k not in ("counts", "float_type")}},
        "counts": data.info["counts"],
        "metrics": metrics,
        "validation_threshold": extra.get("validation_threshold"),
        "config": {"class": dict(spec.entry),
                   "algorithm": training.get("dnn" if algorithm == "dnn" else "xgboost"),
                   "defaults": training.get("defaults")},
        "versions": mc.package_versions(algorithm),
        "random_state": opts.random_state,
        "pre_trained_model": (pre_trained or {}).get("path"),
    }
    if algorithm == "dnn":
        card["architecture"] = extra["architecture"]
        card["training"] = {k: extra[k] for k in ("epochs_run", "best_monitor", "history_last")}
    else:
        card["xgboost"] = {"params": extra["params"], "best_iteration": extra["best_iteration"],
                           "n_grid_candidates": len(extra["grid_search"])}
        card["importance"] = extra["importance"]
    return card


def _save(result: TrainResult, model, tag_dir: Path, opts, data, scores) -> None:
    from scope.tables import atomic_write

    stem = tag_dir / f"{result.tag}.{result.timestamp}"
    tag_dir.mkdir(parents=True, exist_ok=True)
    if result.algorithm == "dnn":
        from scope.training.dnn import save_dnn

        files = save_dnn(model, stem, weights_only=opts.weights_only)
    else:
        from scope.training.xgb import save_xgb

        files = save_xgb(model, stem)
    result.card["files"] = [p.name for p in files]
    card_path = mc.write_model_card(stem.with_name(stem.name + mc.CARD_SUFFIX), result.card)
    result.model_path, result.card_path = files[0], card_path
    result.files = [*files, card_path]
    import json

    for split, values in result.metrics.items():
        split_dir = tag_dir / f"{stem.name}_plots" / split
        split_dir.mkdir(parents=True, exist_ok=True)
        stats_path = split_dir / f"{stem.name}_stats.json"
        with atomic_write(stats_path) as fh:
            json.dump(values, fh, indent=2)
        result.files.append(stats_path)
        if result.algorithm == "xgb":
            imp_path = split_dir / f"{stem.name}_impvars.json"
            with atomic_write(imp_path) as fh:
                json.dump(result.card["importance"]["weight"], fh, indent=2)
            result.files.append(imp_path)


def _plots(result: TrainResult, tag_dir: Path, data, scores, extra, cfg) -> None:
    from scope.training import plots

    params = ((cfg.get("training") or {}).get("xgboost") or {}).get("plot_params") or {}
    stem_name = f"{result.tag}.{result.timestamp}"
    for split in result.metrics:
        split_dir = tag_dir / f"{stem_name}_plots" / split
        split_dir.mkdir(parents=True, exist_ok=True)
        y = data.target[getattr(data.split, split)]
        s = scores[split]
        result.files += plots.plot_confusion(y, s, result.tag, split_dir / f"{stem_name}_cm",
                                             include_count=bool(params.get("cm_include_count", False)),
                                             include_percent=bool(params.get("cm_include_percent", True)))
        result.files += plots.plot_roc(y, s, result.tag, split_dir / f"{stem_name}_roc")
        result.files += plots.plot_precision_recall(y, s, result.tag, split_dir / f"{stem_name}_recall")
        if result.algorithm == "xgb":
            result.files += plots.plot_importance(extra["importance"]["weight"], result.tag,
                                                  split_dir / f"{stem_name}_impvars")


def _plot_model(model, path: Path) -> None:
    import keras

    try:
        keras.utils.plot_model(model, to_file=str(path), show_shapes=True)
        log.info("network drawn in %s", path)
    except (ImportError, OSError) as exc:
        log.warning("--plot-model needs pydot and graphviz (%s); skipped", str(exc).splitlines()[0])

