"""scope-demo-report: held-out rows only everywhere, deterministic top picks, legible matrices, flagged classes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from scope.tables import read_table, write_table
from tools.scope_demo_report import main


@pytest.fixture
def demo(tiny_demo, tmp_path, monkeypatch):
    """A copy of the tiny demo with predictions, a "training set" and periods; ``(folder, labels, train_ids)``."""
    work = tmp_path / "demo"
    shutil.copytree(tiny_demo, work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("SCOPE_CONFIG", str(work / "config.yaml"))
    labels = read_table(work / "labels.parquet")
    ids = labels["ztf_id"].astype(np.int64).to_numpy()
    var = labels["variable"].to_numpy() > 0.5
    rng = np.random.default_rng(3)
    train_ids = ids[::3]
    preds = pd.DataFrame({"_id": ids, "vnv_xgb": np.where(var, 0.9, 0.1) + rng.uniform(-0.05, 0.05, len(ids)),
                          "pnp_xgb": rng.uniform(0, 1, len(ids)),
                          # every variable star ties at 0.8: more ties than panels
                          "rrlyr_xgb": np.where(var, 0.8, 0.2).astype(np.float32),
                          "e_xgb": np.where(labels["eclipsing"].to_numpy() > 0.5, 0.3, 0.1)})
    # the training set's light curves score highest of all: a report that used them would show them
    preds.loc[np.isin(ids, train_ids), "rrlyr_xgb"] = 0.99
    write_table(preds, work / "preds_xgb" / "field_301" / "field_301.parquet")
    write_table(pd.DataFrame({"ztf_id": train_ids}), work / "training_set.parquet")
    write_table(pd.DataFrame({"_id": ids, "period_ELS_ECE_EAOV": rng.uniform(0.3, 5, len(ids))}),
                work / "generated_features" / "field_301" / "gen_features_field_301_ccd_3_quad_1.parquet")
    return work, labels, train_ids


def _report(*extra):
    return main(["--predictions", "preds_xgb/field_301/field_301.parquet", "--exclude-training-set",
                 "training_set.parquet", "--headline", "vnv", "e", "--fold-class", "rrlyr", *extra])


def _folded_ids(text: str) -> list[int]:
    line = next(ln for ln in text.splitlines() if ln.startswith("`top_rrlyr_xgb_folded.png`"))
    return [int(v) for v in line.split("light curves ")[1].split(", the ")[0].split(", ")]


def test_folded_light_curves_are_held_out_and_picked_deterministically(demo):
    work, labels, train_ids = demo
    assert _report() == 0
    text = (work / "report" / "report.md").read_text()
    picked = _folded_ids(text)
    assert (work / "report" / "top_rrlyr_xgb_folded.png").exists()
    assert not set(picked) & set(train_ids.tolist())  # the training set's 0.99 scores are not shown
    held = labels[~labels["ztf_id"].isin(train_ids)]
    tied = held.loc[held["variable"] > 0.5, "ztf_id"].astype(int).sort_values().tolist()
    assert len(tied) > 4 and picked == tied[:4]  # ties go to the smallest ids
    assert f"{len(tied)} light curves share the score 0.80 of the last pick" in text
    # the same picks whatever the order of the prediction rows
    preds = read_table(work / "preds_xgb" / "field_301" / "field_301.parquet")
    write_table(preds.iloc[::-1].reset_index(drop=True), work / "preds_xgb" / "field_301" / "field_301.parquet")
    assert _report("--output-dir", "report2") == 0
    assert _folded_ids((work / "report2" / "report.md").read_text()) == picked


def test_confusion_matrices_name_classes_and_stay_legible(demo):
    import matplotlib.colors as mcolors

    from scope.config import load_config
    from scope.demo.report import confusion_figure

    work, labels, train_ids = demo
    classes = load_config(work / "config.yaml")["training"]["classes"]
    preds = read_table(work / "preds_xgb" / "field_301" / "field_301.parquet")
    fig = confusion_figure(preds, labels, classes, ["vnv", "e"], exclude_ids=train_ids)
    try:
        titles = [ax.get_title() for ax in fig.axes]
        assert titles == ["variable (XGBoost)", "eclipsing (XGBoost)"]
        ticks = [t.get_text() for t in fig.axes[1].get_xticklabels()]
        assert ticks == ["not eclipsing", "eclipsing"]
        whites = [t for ax in fig.axes for t in ax.texts if sum(mcolors.to_rgb(t.get_color())) > 1.5]
        assert whites and len(whites) < sum(len(ax.texts) for ax in fig.axes)  # both kinds of cells occur
        for ax in fig.axes:
            image = ax.get_images()[0]
            for text in ax.texts:
                x, y = text.get_position()
                cell = image.cmap(image.norm(image.get_array()[int(round(y)), int(round(x))]))
                luminance = 0.2126 * cell[0] + 0.7152 * cell[1] + 0.0722 * cell[2]
                colour = mcolors.to_rgb(text.get_color())
                # light text on dark cells, dark text on light cells
                assert (sum(colour) > 1.5) == (luminance < 0.5), (text.get_text(), luminance, colour)
        counts = sorted(int(t.get_text()) for t in fig.axes[0].texts)
        assert sum(counts) == len(labels) - len(train_ids)  # held-out rows only
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_class_never_reaching_the_threshold_is_flagged_with_its_validation_threshold(demo):
    work, labels, train_ids = demo
    card = work / "models_xgb" / "experiment" / "e" / "e.20240101_000000.card.json"
    card.parent.mkdir(parents=True)
    card.write_text(json.dumps({"format": "scope-model-card", "card_version": 1, "tag": "e", "label": "eclipsing",
                                "algorithm": "xgb", "features": ["wstd"], "period_suffix": None,
                                "scaling": {"params": {}}, "threshold": 0.7, "model_file": "e.20240101_000000.json",
                                "validation_threshold": {"best_threshold": 0.27, "f1": 0.83, "n_positive": 6}}))
    path = work / "preds_xgb" / "field_301" / "field_301.parquet"
    preds = read_table(path)
    preds.attrs = {"models": [{"tag": "e", "algorithm": "xgb", "card": str(card)},
                              {"tag": "vnv", "algorithm": "xgb", "card": None}]}
    write_table(preds, path)
    assert _report() == 0
    text = (work / "report" / "report.md").read_text()
    row = next(ln for ln in text.splitlines() if ln.startswith("| e |"))
    assert "| 0 † |" in row
    note = next(ln for ln in text.splitlines() if ln.startswith("- **e (eclipsing"))
    assert "no held-out score above 0.5 (the highest is 0.30)" in note
    assert "best threshold is 0.27 (F1 0.83, 6 members there)" in note
    assert not any(ln.startswith("- **vnv") for ln in text.splitlines())  # vnv passes 0.5
