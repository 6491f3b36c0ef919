"""scope-train with the DNN: the configured optimizer is applied, saving/reloading, continuing."""

from __future__ import annotations

import numpy as np
import pytest

from tools.scope_train import main


@pytest.mark.slow
def test_dnn_trains_saves_and_reloads(project, training_file):
    from scope.tables import read_table
    from scope.training.dataset import stack_dmdt
    from scope.training.dnn import load_dnn, predict
    from scope.training.model_card import find_latest_model, load_model_card
    from scope.training.scaling import apply_scaling

    folder, cfg = project
    rc = main(["--tag", "vnv", "--path-dataset", str(training_file), "--save", "--epochs", "6",
               "--lr", "0.003", "--random-state", "2"])
    assert rc == 0
    model_path = find_latest_model(folder, "experiment", "vnv", "dnn")
    assert model_path.suffix == ".h5" and model_path.with_suffix(".keras").exists()
    card = load_model_card(model_path)
    assert card["algorithm"] == "dnn" and card["dmdt"] is True
    assert card["architecture"] == {"n_features": 35, "dense_branch": True, "conv_branch": True}
    assert card["settings"]["lr"] == 0.003 and card["settings_sources"]["lr"] == "command line"
    assert card["training"]["epochs_run"] == 6
    assert card["metrics"]["test"]["roc_auc"] >= 0.95
    # inference path: the card's scaling + the .h5 reproduce the training's quality
    from scope.training.metrics import binary_metrics
    from scope.training.models import load_trained_model, score_table

    df = read_table(training_file)
    scores = score_table(load_trained_model(model_path), df)
    X = apply_scaling(df, card["features"], card["scaling"]["params"]).to_numpy("float32")
    np.testing.assert_allclose(scores, predict(load_dnn(model_path), X, stack_dmdt(df["dmdt"], len(df))), atol=1e-6)

    sel = (df["variable"] > 0.7) | (df["non-variable"] > 0.7)
    assert binary_metrics((df["variable"] > 0.7)[sel], scores[sel])["roc_auc"] >= 0.95


def test_configured_optimizer_is_really_used(project):
    from scope.training.dnn import build_model, compile_model
    from scope.training.options import class_spec, resolve_options

    folder, cfg = project
    opts = resolve_options(cfg, class_spec(cfg, "vnv"), {"lr": 0.0123, "amsgrad": True, "epsilon": 1e-9})
    model = build_model(35)
    compile_model(model, opts)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0123)
    assert model.optimizer.amsgrad is True and model.optimizer.epsilon == 1e-9
    opts = resolve_options(cfg, class_spec(cfg, "vnv"), {"optimizer": "sgd", "lr": 0.05, "momentum": 0.5})
    compile_model(model, opts)
    assert type(model.optimizer).__name__ == "SGD" and float(model.optimizer.learning_rate) == pytest.approx(0.05)
    assert model.optimizer.momentum == 0.5 and model.optimizer.nesterov


@pytest.mark.slow
def test_dense_only_dnn_is_deterministic_and_continues_training(project, training_file):
    from scope.training.train import train

    folder, cfg = project
    kw = dict(algorithm="dnn", path_dataset=training_file, epochs=3, conv_branch=False, random_state=4)
    a = train(cfg, "pnp", save=True, **kw)
    b = train(cfg, "pnp", **kw)
    assert a.metrics == b.metrics
    assert a.card["dmdt"] is False and a.card["architecture"]["conv_branch"] is False
    # continue from the saved model: same features, its scaling reused, new optimizer settings applied
    c = train(cfg, "pnp", save=True, pre_trained_model=str(a.model_path), **{**kw, "conv_branch": None, "lr": 1e-4})
    assert c.card["pre_trained_model"] == str(a.model_path)
    assert c.card["scaling"]["source"] == "pre-trained model card"
    assert c.card["scaling"]["params"] == a.card["scaling"]["params"]
    assert c.card["settings"]["lr"] == 1e-4
    assert c.model_path != a.model_path and c.model_path.exists()


def test_continuing_with_other_features_is_refused(project, training_file):
    from scope.errors import DataError
    from scope.training.train import train

    folder, cfg = project
    a = train(cfg, "pnp", algorithm="xgb", path_dataset=training_file, skip_cv=True, save=True)
    with pytest.raises(DataError, match="other features"):
        train(cfg, "rrlyr", algorithm="xgb", path_dataset=training_file, pre_trained_model=str(a.model_path))


def test_legacy_reference_model_can_be_continued(project, training_file, real_data):
    from scope.training.train import train

    folder, cfg = project
    legacy = real_data / "legacy-models" / "vnv.20240101_000000.h5"
    r = train(cfg, "vnv", algorithm="dnn", path_dataset=training_file, epochs=1, pre_trained_model=str(legacy))
    assert r.card["pre_trained_model"] == str(legacy)
    assert r.card["scaling"]["source"] == "training split"  # the reference saved no statistics


def test_dnn_training_output_is_short_lines_not_keras_dumps(project, training_file, capfd):
    """Generated training lines pass --verbose: one short line per epoch, none of Keras's own
    500-character lines or TensorFlow's retracing notices; --verbose 2 brings Keras's back."""
    rc = main(["--tag", "vnv", "--path-dataset", str(training_file), "--epochs", "3", "--patience", "5",
               "--weights-only", "--verbose", "--random-state", "1"])
    assert rc == 0
    out, err = capfd.readouterr()
    lines = (out + err).splitlines()
    epochs = [ln for ln in lines if " dnn epoch " in ln]
    assert [ln.split(":")[0] for ln in epochs] == ["vnv dnn epoch 1/3", "vnv dnn epoch 2/3", "vnv dnn epoch 3/3"]
    assert all("val_loss" in ln for ln in epochs)
    assert max(len(ln) for ln in lines) < 200, max(lines, key=len)
    assert not [ln for ln in lines if "Epoch 1/3" in ln or "retracing" in ln.lower() or "step - " in ln]
    assert main(["--tag", "vnv", "--path-dataset", str(training_file), "--epochs", "1", "--verbose", "2",
                 "--weights-only"]) == 0
    assert "/step - " in capfd.readouterr().out  # Keras's own epoch line
