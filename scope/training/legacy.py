"""Model files in the reference release's formats.

DNN: the reference saved full Keras-2 HDF5 models (``<tag>.<ts>.h5``). Keras 3 cannot load those
as models, but their weights are stored per layer name, and our network uses the same layer
names (spec §5.1). :func:`load_keras2_h5` rebuilds the architecture from the weights found in the
file and loads them by name; :func:`write_keras2_h5` writes our models in the same layout
(weights under ``model_weights/<layer>/<layer>/<var>:0`` plus a Keras-2 ``model_config``), so a
file we save loads in both worlds.

XGBoost: the reference saved ``Booster.save_model`` JSON plus ``save_config`` ``.params``;
:func:`load_xgb_booster` reads both, and :func:`xgb_predict` copes with boosters that were
trained on unnamed columns (``f0, f1, ...``).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from scope.errors import DataError

log = logging.getLogger(__name__)

KERAS2_VERSION_ATTR = "keras_version"
_GENERIC_NAMES = re.compile(r"^f\d+$")


# ---------------------------------------------------------------------------------------------
# Keras-2 model_config (what Keras 2's load_model reads)
def _init(name: str) -> dict:
    return {"module": "keras.initializers", "class_name": name,
            "config": {"seed": None} if name == "GlorotUniform" else {}, "registered_name": None}


def _node(*sources: str) -> list:
    return [[[s, 0, 0, {}] for s in sources]]


def _input(name: str, shape: Sequence[int]) -> dict:
    return {"class_name": "InputLayer",
            "config": {"batch_input_shape": [None, *shape], "dtype": "float32", "sparse": False,
                       "ragged": False, "name": name},
            "name": name, "inbound_nodes": []}


def _common(name: str) -> dict:
    return {"name": name, "trainable": True, "dtype": "float32"}


def _regularized() -> dict:
    return {"kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None}


def _sepconv(name: str, filters: int, src: str) -> dict:
    cfg = {**_common(name), "filters": filters, "kernel_size": [3, 3], "strides": [1, 1],
           "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
           "activation": "relu", "use_bias": True, "kernel_initializer": _init("GlorotUniform"),
           "bias_initializer": _init("Zeros"), **_regularized(), "depth_multiplier": 1,
           "depthwise_initializer": _init("GlorotUniform"), "pointwise_initializer": _init("GlorotUniform"),
           "depthwise_regularizer": None, "pointwise_regularizer": None, "depthwise_constraint": None,
           "pointwise_constraint": None}
    return {"class_name": "SeparableConv2D", "config": cfg, "name": name, "inbound_nodes": _node(src)}


def _dense(name: str, units: int, activation: str, src: str) -> dict:
    cfg = {**_common(name), "units": units, "activation": activation, "use_bias": True,
           "kernel_initializer": _init("GlorotUniform"), "bias_initializer": _init("Zeros"), **_regularized()}
    return {"class_name": "Dense", "config": cfg, "name": name, "inbound_nodes": _node(src)}


def _dropout(name: str, rate: float, src: str) -> dict:
    return {"class_name": "Dropout", "config": {**_common(name), "rate": rate, "noise_shape": None, "seed": None},
            "name": name, "inbound_nodes": _node(src)}


def keras2_model_config(n_features: int, dense_branch: bool = True, conv_branch: bool = True) -> dict:
    """The Keras-2 ``model_config`` of the SCoPe network (layer order as the reference wrote it)."""
    layers: list[dict] = []
    if conv_branch:
        layers += [
            _input("dmdt", (26, 26, 1)),
            _sepconv("conv_conv_1", 16, "dmdt"),
            _sepconv("conv_conv_2", 16, "conv_conv_1"),
            _dropout("dropout_1", 0.25, "conv_conv_2"),
            {"class_name": "MaxPooling2D",
             "config": {**_common("max_pooling2d"), "pool_size": [2, 2], "padding": "valid", "strides": [2, 2],
                        "data_format": "channels_last"},
             "name": "max_pooling2d", "inbound_nodes": _node("dropout_1")},
        ]
    layers.append(_input("features", (n_features,)))
    if conv_branch:
        layers.append(_sepconv("conv_conv_3", 32, "max_pooling2d"))
    if dense_branch:
        layers.append(_dense("dense_fc_1", 256, "relu", "features"))
    if conv_branch:
        layers.append(_sepconv("conv_conv_4", 32, "conv_conv_3"))
    if dense_branch:
        layers.append(_dropout("dropout", 0.25, "dense_fc_1"))
    if conv_branch:
        layers.append(_dropout("dropout_2", 0.25, "conv_conv_4"))
    if dense_branch:
        layers.append(_dense("dense_fc_2", 32, "relu", "dropout"))
    if conv_branch:
        layers.append({"class_name": "GlobalAveragePooling2D",
                       "config": {**_common("global_average_pooling2d"), "data_format": "channels_last",
                                  "keepdims": False},
                       "name": "global_average_pooling2d", "inbound_nodes": _node("dropout_2")})
    if not conv_branch:
        layers.insert(0, _input("dmdt", (26, 26, 1)))  # declared though unused, as the reference
    branch_outputs = (["dense_fc_2"] if dense_branch else []) + (["global_average_pooling2d"] if conv_branch else [])
    if len(branch_outputs) == 2:
        layers.append({"class_name": "Concatenate", "config": {**_common("concatenate"), "axis": -1},
                       "name": "concatenate", "inbound_nodes": _node(*branch_outputs)})
        head_in = "concatenate"
    else:
        head_in = branch_outputs[0]
    layers += [_dropout("dropout_3", 0.4, head_in),
               _dense("fc_1", 16, "relu", "dropout_3"),
               _dense("score", 1, "sigmoid", "fc_1")]
    return {"class_name": "Functional",
            "config": {"name": "model", "trainable": True, "layers": layers,
                       "input_layers": [["features", 0, 0], ["dmdt", 0, 0]],
                       "output_layers": [["score", 0, 0]]}}


# ---------------------------------------------------------------------------------------------
# HDF5 weights (the layout Keras 2 wrote and reads, and Keras 3's legacy loader understands)
def _names_attr(names: Sequence[str]) -> np.ndarray:
    if not names:
        return np.array([], dtype=np.float64)  # Keras 2 writes empty name lists this way
    return np.array([n.encode("utf8") for n in names])


def _decode(values) -> list[str]:
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def write_keras2_h5(model, path: str | Path, *, n_features: int, dense_branch: bool, conv_branch: bool) -> Path:
    """Write ``model``'s weights (and a Keras-2 ``model_config``) in the reference's HDF5 layout.

    The file is written to a temporary name and moved into place.
    """
    import h5py
    import keras

    from scope.tables import atomic_path

    config = keras2_model_config(n_features, dense_branch, conv_branch)
    layer_names = [layer["name"] for layer in config["config"]["layers"]]
    by_name = {layer.name: layer for layer in model.layers}
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["backend"] = "tensorflow"
            f.attrs[KERAS2_VERSION_ATTR] = keras.__version__
            f.attrs["model_config"] = json.dumps(config)
            g = f.create_group("model_weights")
            g.attrs["backend"] = "tensorflow"
            g.attrs[KERAS2_VERSION_ATTR] = keras.__version__
            g.attrs["layer_names"] = _names_attr(layer_names)
            for name in layer_names:
                layer_group = g.create_group(name)
                layer = by_name.get(name)
                weights = layer.weights if layer is not None else []
                names = [f"{name}/{w.name}:0" for w in weights]
                layer_group.attrs["weight_names"] = _names_attr(names)
                for wname, w in zip(names, weights):
                    layer_group.create_dataset(wname, data=np.asarray(w.numpy()))
            g.create_group("top_level_model_weights").attrs["weight_names"] = _names_attr([])
    return Path(path)


def read_h5_architecture(path: str | Path) -> dict:
    """Infer ``n_features``, ``dense_branch`` and ``conv_branch`` from an HDF5 weights file."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            g = f["model_weights"] if "model_weights" in f else f
            names = set(_decode(g.attrs.get("layer_names", [])))
            dense = "dense_fc_1" in names
            conv = "conv_conv_1" in names
            n_features = None
            if dense:
                kernel = _layer_weights(g, "dense_fc_1")[0]
                n_features = int(kernel.shape[0])
            elif "model_config" in f.attrs:
                cfg = json.loads(f.attrs["model_config"])
                for layer in cfg["config"]["layers"]:
                    if layer["name"] == "features":
                        n_features = int(layer["config"]["batch_input_shape"][-1])
    except OSError as exc:
        raise DataError(f"cannot read model file {path}: {exc}") from None
    if not (dense or conv) or n_features is None:
        raise DataError(f"{path} does not hold a SCoPe DNN (no dense_fc_1 / conv_conv_1 layers)")
    return {"n_features": n_features, "dense_branch": dense, "conv_branch": conv}


def _layer_weights(group, name: str) -> list[np.ndarray]:
    layer_group = group[name]
    return [np.asarray(layer_group[w]) for w in _decode(layer_group.attrs.get("weight_names", []))]


def load_h5_weights(model, path: str | Path) -> None:
    """Set every weighted layer of ``model`` from the HDF5 file, matching layers by name.

    Raises
    ------
    DataError
        When a layer is missing from the file or a weight has another shape.
    """
    import h5py

    with h5py.File(path, "r") as f:
        g = f["model_weights"] if "model_weights" in f else f
        for layer in model.layers:
            if not layer.weights:
                continue
            if layer.name not in g:
                raise DataError(f"{path} has no weights for layer '{layer.name}'")
            values = _layer_weights(g, layer.name)
            expected = [tuple(w.shape) for w in layer.weights]
            if [v.shape for v in values] != expected:
                raise DataError(f"{path}: layer '{layer.name}' weights have shapes "
                                f"{[v.shape for v in values]}, the network expects {expected}")
            layer.set_weights(values)


def load_keras2_h5(path: str | Path):
    """Load a SCoPe DNN saved as HDF5 by the reference release (Keras 2) or by us.

    Returns
    -------
    keras.Model
        Uncompiled model with the file's weights.
    """
    from scope.training.dnn import build_model

    arch = read_h5_architecture(path)
    model = build_model(arch["n_features"], dense_branch=arch["dense_branch"], conv_branch=arch["conv_branch"])
    load_h5_weights(model, path)
    return model


# ---------------------------------------------------------------------------------------------
# XGBoost
def load_xgb_booster(path: str | Path, params_path: str | Path | None = None):
    """Load an XGBoost booster from ``<tag>.<ts>.json`` and its ``.params`` configuration.

    ``params_path`` defaults to the ``.params`` file beside the model; it is optional.
    """
    import xgboost as xgb

    path = Path(path)
    if not path.exists():
        raise DataError(f"model file not found: {path}")
    booster = xgb.Booster()
    try:
        booster.load_model(str(path))
    except xgb.core.XGBoostError as exc:
        raise DataError(f"cannot load XGBoost model {path}: {str(exc).splitlines()[0]}") from None
    params_path = Path(params_path) if params_path else path.with_suffix(".params")
    if params_path.exists():
        try:
            booster.load_config(params_path.read_text())
        except xgb.core.XGBoostError as exc:
            raise DataError(f"cannot apply XGBoost parameters {params_path}: {str(exc).splitlines()[0]}") from None
    return booster


def xgb_predict(booster, X, feature_names: Sequence[str] | None = None) -> np.ndarray:
    """Scores of ``booster`` on a 2-D array (or frame) of features in model order.

    Boosters trained on unnamed columns (``f0, f1, ...``, as the reference's files) get the
    array positionally; named boosters get the columns by ``feature_names``.
    """
    import xgboost as xgb

    values = np.asarray(X, dtype=np.float32)
    names = booster.feature_names
    if names and all(_GENERIC_NAMES.match(n) for n in names):
        dmat = xgb.DMatrix(values, feature_names=names)
    else:
        dmat = xgb.DMatrix(values, feature_names=list(feature_names) if feature_names else names)
    return booster.predict(dmat)
