"""The reference release's model files load and reproduce its recorded scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scope.errors import DataError


@pytest.fixture
def legacy(real_data):
    folder = real_data / "legacy-models"
    return folder, np.load(folder / "vnv_reference_io.npz")


def test_legacy_dnn_reproduces_reference_scores(legacy):
    from scope.training.dnn import load_dnn, predict

    folder, io = legacy
    model = load_dnn(folder / "vnv.20240101_000000.h5")
    scores = predict(model, io["features"], io["dmdt"])
    np.testing.assert_allclose(scores, io["scores"], atol=1e-5, rtol=0)
    assert {layer.name for layer in model.layers if layer.weights} == {
        "dense_fc_1", "conv_conv_1", "conv_conv_2", "dense_fc_2", "conv_conv_3", "conv_conv_4", "fc_1", "score"}


def test_legacy_xgb_reproduces_reference_scores(legacy):
    from scope.training.legacy import load_xgb_booster, xgb_predict

    folder, io = legacy
    booster = load_xgb_booster(folder / "vnv.20240101_000000.json")
    np.testing.assert_allclose(xgb_predict(booster, io["features"]), io["xgb_scores"], atol=1e-6, rtol=0)


def _names(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def test_our_h5_has_the_reference_layout_and_round_trips(legacy, tmp_path):
    import h5py

    from scope.training.dnn import load_dnn, predict
    from scope.training.legacy import write_keras2_h5

    folder, io = legacy
    model = load_dnn(folder / "vnv.20240101_000000.h5")
    out = write_keras2_h5(model, tmp_path / "vnv.h5", n_features=35, dense_branch=True, conv_branch=True)
    with h5py.File(folder / "vnv.20240101_000000.h5") as ref, h5py.File(out) as ours:
        # the Keras-2 model description is identical, so the reference's load_model can read ours
        assert json.loads(ours.attrs["model_config"]) == json.loads(ref.attrs["model_config"])
        assert _names(ours["model_weights"].attrs["layer_names"]) == _names(ref["model_weights"].attrs["layer_names"])
        for name in ("dense_fc_1", "conv_conv_2", "score"):
            assert _names(ours["model_weights"][name].attrs["weight_names"]) == \
                   _names(ref["model_weights"][name].attrs["weight_names"])
    np.testing.assert_allclose(predict(load_dnn(out), io["features"], io["dmdt"]), io["scores"], atol=1e-6)


def test_single_branch_model_round_trips(tmp_path):
    from scope.training.dnn import build_model, load_dnn, model_architecture, predict, save_dnn

    rng = np.random.default_rng(1)
    model = build_model(7, dense_branch=True, conv_branch=False)
    files = save_dnn(model, tmp_path / "x.20240101_000000", weights_only=True)
    assert [f.name for f in files] == ["x.20240101_000000.h5"]
    loaded = load_dnn(files[0])
    assert model_architecture(loaded) == {"n_features": 7, "dense_branch": True, "conv_branch": False}
    X = rng.normal(size=(5, 7)).astype("float32")
    D = np.zeros((5, 26, 26, 1), dtype="float32")
    np.testing.assert_allclose(predict(loaded, X, D), predict(model, X, D), atol=1e-7)


def test_weights_of_wrong_shape_are_refused(legacy, tmp_path):
    from scope.training.dnn import build_model
    from scope.training.legacy import load_h5_weights

    folder, _ = legacy
    with pytest.raises(DataError, match="dense_fc_1"):
        load_h5_weights(build_model(61), folder / "vnv.20240101_000000.h5")
