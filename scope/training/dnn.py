"""The SCoPe DNN (Keras 3): architecture, optimizer, callbacks, fitting, saving and loading.

Architecture (spec §5.1), with the reference's layer names so its weight files load:

- dense branch on the scalar features: ``dense_fc_1`` (256, relu) -> Dropout 0.25 ->
  ``dense_fc_2`` (32, relu);
- conv branch on the 26x26x1 dm-dt histogram: ``conv_conv_1``/``conv_conv_2`` (SeparableConv2D
  16, 3x3, relu) -> Dropout 0.25 -> MaxPool 2x2 -> ``conv_conv_3``/``conv_conv_4`` (32) ->
  Dropout 0.25 -> global average pooling;
- head: concatenate -> Dropout 0.4 -> ``fc_1`` (16, relu) -> ``score`` (1, sigmoid).

Both inputs (``features``, ``dmdt``) are always declared; a disabled branch's input is unused.

TensorFlow is imported only inside functions, after its start-up banners are silenced.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from scope.errors import ConfigError, DataError

log = logging.getLogger(__name__)

METRIC_NAMES = ("tp", "fp", "tn", "fn", "accuracy", "precision", "recall", "auc")


_KEEP = object()


def import_keras(gpu=_KEEP):
    """Import Keras quietly, optionally choosing the GPU TensorFlow may use.

    Parameters
    ----------
    gpu : int or None, optional
        Index of the one GPU to use; ``None`` hides every GPU (CPU training, as the reference);
        omitted leaves the devices alone.
    """
    from scope.optional import require

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if gpu is not _KEEP and sys.modules.get("tensorflow") is None:
        # before TensorFlow starts, the environment decides which GPUs exist for it
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1" if gpu is None else str(gpu)
    tf = require("tensorflow", "the DNN (TensorFlow/Keras)")
    keras = require("keras", "the DNN (TensorFlow/Keras)")
    quiet_python_logs()
    if gpu is _KEEP:
        return keras

    try:
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            visible = [] if gpu is None else [g for g in gpus if g.name.endswith(f":{gpu}")]
            tf.config.set_visible_devices(visible, "GPU")
    except RuntimeError:  # devices already initialised in this process; keep them
        pass
    return keras


def quiet_python_logs(verbose: bool = False) -> None:
    """TensorFlow's and absl's Python-side warnings (retracing notices, deprecations) only with
    ``verbose``; the C++ side is silenced by the environment before import."""
    import logging as _logging

    level = _logging.INFO if verbose else _logging.ERROR
    for name in ("tensorflow", "absl", "h5py"):
        _logging.getLogger(name).setLevel(level)


def build_model(n_features: int, *, dense_branch: bool = True, conv_branch: bool = True, name: str = "model"):
    """Build the (uncompiled) SCoPe network.

    Parameters
    ----------
    n_features : int
        Length of the scalar feature vector (35 phenomenological / 61 ontological by default).
    dense_branch, conv_branch : bool
        Which branches to build (at least one).
    name : str
        Model name.

    Returns
    -------
    keras.Model
        Inputs ``[features, dmdt]``, output ``score``.
    """
    if not (dense_branch or conv_branch):
        raise ConfigError("the DNN needs the dense branch, the conv branch, or both")
    keras = import_keras()
    from keras import layers

    # Layers are created in the reference's order so that automatic details match its files.
    dmdt = keras.Input(shape=(26, 26, 1), name="dmdt")
    features = keras.Input(shape=(int(n_features),), name="features")
    outputs = []
    if dense_branch:
        x = layers.Dense(256, activation="relu", name="dense_fc_1")(features)
        x = layers.Dropout(0.25, name="dropout")(x)
        outputs.append(layers.Dense(32, activation="relu", name="dense_fc_2")(x))
    if conv_branch:
        y = layers.SeparableConv2D(16, (3, 3), activation="relu", name="conv_conv_1")(dmdt)
        y = layers.SeparableConv2D(16, (3, 3), activation="relu", name="conv_conv_2")(y)
        y = layers.Dropout(0.25, name="dropout_1")(y)
        y = layers.MaxPooling2D(pool_size=(2, 2), name="max_pooling2d")(y)
        y = layers.SeparableConv2D(32, (3, 3), activation="relu", name="conv_conv_3")(y)
        y = layers.SeparableConv2D(32, (3, 3), activation="relu", name="conv_conv_4")(y)
        y = layers.Dropout(0.25, name="dropout_2")(y)
        outputs.append(layers.GlobalAveragePooling2D(name="global_average_pooling2d")(y))
    z = layers.Concatenate(name="concatenate")(outputs) if len(outputs) == 2 else outputs[0]
    z = layers.Dropout(0.4, name="dropout_3")(z)
    z = layers.Dense(16, activation="relu", name="fc_1")(z)
    score = layers.Dense(1, activation="sigmoid", name="score")(z)
    return keras.Model(inputs=[features, dmdt], outputs=score, name=name)


def make_optimizer(opts):
    """The optimizer the settings ask for, with their learning rate actually applied.

    ``adam``: Adam(lr, beta_1, beta_2, epsilon, amsgrad); ``sgd``: SGD(lr, momentum,
    nesterov=True). A ``decay`` > 0 becomes the Keras-2 style inverse-time decay of the learning
    rate per step, lr / (1 + decay * step).
    """
    import keras

    lr = opts.lr
    if opts.decay:
        lr = keras.optimizers.schedules.InverseTimeDecay(opts.lr, decay_steps=1, decay_rate=opts.decay)
    if opts.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=lr, beta_1=opts.beta_1, beta_2=opts.beta_2,
                                     epsilon=opts.epsilon, amsgrad=opts.amsgrad)
    if opts.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=opts.momentum, nesterov=True)
    raise ConfigError(f"unknown optimizer '{opts.optimizer}': use adam or sgd")


def compile_model(model, opts) -> None:
    """Compile with the configured loss and optimizer and the reference's eight metrics."""
    import keras

    metrics = [
        keras.metrics.TruePositives(name="tp"),
        keras.metrics.FalsePositives(name="fp"),
        keras.metrics.TrueNegatives(name="tn"),
        keras.metrics.FalseNegatives(name="fn"),
        keras.metrics.BinaryAccuracy(name="accuracy"),
        keras.metrics.Precision(name="precision"),
        keras.metrics.Recall(name="recall"),
        keras.metrics.AUC(name="auc"),
    ]
    model.compile(optimizer=make_optimizer(opts), loss=opts.loss, metrics=metrics,
                  run_eagerly=opts.run_eagerly)


def make_callbacks(opts, *, log_dir: Path | None = None) -> list:
    """Callbacks in the configured order.

    ``early_stopping`` restores the best weights. ``reduce_lr_on_plateau`` (factor 0.1,
    min_delta 1e-4) waits half the early-stopping patience: with equal patience (the reference)
    it fired in the epoch training stopped and never helped. It is skipped when a ``decay``
    schedule owns the learning rate.
    """
    import keras

    out = []
    for name in opts.callbacks:
        if name == "early_stopping":
            out.append(keras.callbacks.EarlyStopping(monitor=opts.monitor, patience=opts.patience,
                                                     restore_best_weights=True))
        elif name == "reduce_lr_on_plateau":
            if opts.decay:
                log.warning("reduce_lr_on_plateau skipped: decay=%g already schedules the learning rate",
                            opts.decay)
                continue
            out.append(keras.callbacks.ReduceLROnPlateau(monitor=opts.monitor, factor=0.1,
                                                         patience=max(1, opts.patience // 2),
                                                         min_delta=1e-4, cooldown=0, min_lr=0.0))
        elif name == "tensorboard":
            if log_dir is None:
                continue
            out.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), histogram_freq=1))
    return out


def epoch_reporter(name: str, epochs: int, *, lines: bool, bar: bool):
    """A Keras callback reporting training progress our way (Keras's own output stays off).

    Parameters
    ----------
    name : str
        What is being trained (``vnv``), shown on every line.
    epochs : int
        Most epochs the run may take.
    lines : bool
        One short INFO line per epoch (``--verbose``).
    bar : bool
        A tqdm bar over the epochs (shown on terminals only).
    """
    import time

    import keras

    class _Reporter(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self._bar = None
            if bar and not lines:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=epochs, desc=f"{name} dnn", unit="epoch", disable=None, leave=False)
            self._t = time.time()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            shown = [(k, logs[k]) for k in ("loss", "val_loss", "val_auc", "val_accuracy") if k in logs]
            if lines:
                log.info("%s dnn epoch %d/%d: %s (%.1f s)", name, epoch + 1, epochs,
                         ", ".join(f"{k} {float(v):.4f}" for k, v in shown), time.time() - self._t)
            if self._bar is not None:
                self._bar.set_postfix({k: f"{float(v):.3f}" for k, v in shown[:2]}, refresh=False)
                self._bar.update(1)
            self._t = time.time()

        def on_train_end(self, logs=None):
            if self._bar is not None:
                self._bar.close()

    return _Reporter()


def inputs(X: np.ndarray, dmdt: np.ndarray) -> dict:
    """The model's input dict."""
    return {"features": X, "dmdt": dmdt}


def fit(model, train: tuple, val: tuple, opts, *, class_weight: dict, callbacks: Sequence = (), verbose: int = 0):
    """Fit on ``train = (X, dmdt, y)`` validating on ``val``; returns the Keras history dict.

    The training split is reshuffled every epoch through a buffer of ``shuffle_buffer_size``
    examples (seeded by ``random_state``), as the reference did; unlike the reference every
    example is seen in every epoch (its ``steps_per_epoch = n // batch - 1`` dropped data).
    Class weights enter as per-example weights.
    """
    import tensorflow as tf

    X, D, y = train
    Xv, Dv, yv = val
    weights = np.where(y == 1, class_weight[1], class_weight[0]).astype(np.float32)
    train_ds = (tf.data.Dataset.from_tensor_slices((inputs(X, D), y.astype(np.float32), weights))
                .shuffle(opts.shuffle_buffer_size, seed=opts.random_state, reshuffle_each_iteration=True)
                .batch(opts.batch_size))
    val_ds = tf.data.Dataset.from_tensor_slices((inputs(Xv, Dv), yv.astype(np.float32))).batch(opts.batch_size)
    history = model.fit(train_ds, epochs=opts.epochs, validation_data=val_ds, callbacks=list(callbacks),
                        shuffle=False, verbose=verbose)
    return history.history


def predict(model, X: np.ndarray, dmdt: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Scores in [0, 1] for each row."""
    if len(X) == 0:
        return np.zeros(0, dtype=np.float32)
    # predict_on_batch on chunks avoids building a tf.data pipeline for plain arrays. Every new
    # input shape makes TensorFlow trace the model again (seconds, and "retracing" warnings), so
    # chunks are padded to a power of two: a handful of shapes serve every split and batch.
    out = []
    for i in range(0, len(X), batch_size):
        x, d = X[i:i + batch_size], dmdt[i:i + batch_size]
        n = len(x)
        size = min(batch_size, 1 << max(n - 1, 0).bit_length())
        if size > n:
            x = np.concatenate([x, np.zeros((size - n,) + x.shape[1:], dtype=x.dtype)])
            d = np.concatenate([d, np.zeros((size - n,) + d.shape[1:], dtype=d.dtype)])
        out.append(np.asarray(model.predict_on_batch(inputs(x, d))).ravel()[:n])
    return np.concatenate(out)


def model_architecture(model) -> dict:
    """``n_features``, ``dense_branch`` and ``conv_branch`` of a built model."""
    names = {layer.name for layer in model.layers}
    n_features = int(model.get_layer("features").output.shape[-1])
    return {"n_features": n_features, "dense_branch": "dense_fc_1" in names, "conv_branch": "conv_conv_1" in names}


def save_dnn(model, stem: Path, *, weights_only: bool = False) -> list[Path]:
    """Save ``<stem>.h5`` (reference HDF5 layout) and, unless ``weights_only``, ``<stem>.keras``.

    The ``.h5`` is what inference and the reference read; the ``.keras`` file also keeps the
    optimizer state for continued training in Keras 3.
    """
    from scope.tables import atomic_path
    from scope.training.legacy import write_keras2_h5

    arch = model_architecture(model)
    stem = Path(stem)
    files = [write_keras2_h5(model, stem.with_name(stem.name + ".h5"), **arch)]
    if not weights_only:
        target = stem.with_name(stem.name + ".keras")
        with atomic_path(target) as tmp:
            # Keras insists on the .keras extension of the file it writes
            tmp_keras = tmp.with_name(tmp.name + ".keras")
            model.save(tmp_keras)
            os.replace(tmp_keras, tmp)
        files.append(target)
    return files


def load_dnn(path: str | Path):
    """Load a DNN from ``.h5`` (ours or the reference's) or ``.keras``.

    Returns
    -------
    keras.Model
        For ``.h5`` an uncompiled model; for ``.keras`` the saved compiled model.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"model file not found: {path}")
    import_keras()
    if path.suffix == ".keras":
        import keras

        try:
            return keras.saving.load_model(path, compile=True)
        except (ValueError, OSError) as exc:
            raise DataError(f"cannot load Keras model {path}: {str(exc).splitlines()[0]}") from None
    if path.suffix in (".h5", ".hdf5"):
        from scope.training.legacy import load_keras2_h5

        return load_keras2_h5(path)
    raise DataError(f"unsupported DNN model file {path}: use .h5 or .keras")
