"""The loop a user runs: labels from Fritz -> features -> train -> infer -> upload -> download again."""

import pytest

from scope.tables import read_table

FAST_GRID = ["--max-freq", "10", "--samples-per-peak", "2", "--top-n-periods", "5", "--Ncore", "1"]


@pytest.mark.slow
def test_labels_in_classifications_out(fritz_env):
    from tools import (generate_features, run_inference, scope_download_classification as download, scope_train,
                       scope_upload_classification as upload)

    g = fritz_env.seed.groups
    for quad in ("1", "2"):
        assert generate_features.main(["--field", "301", "--ccd", "3", "--quad", quad, "--doCPU", "--quiet",
                                       *FAST_GRID]) == 0
    # 1. the scanners' labels, merged with the demo field's features
    assert download.main(["--group-ids", str(g["training"]), "--merge-features",
                          "--features-file", "generated_features/field_301", "-q"]) == 0
    training = fritz_env.dir / "fritzDownload" / "merged_classifications_features.parquet"
    ts = read_table(training)
    assert len(ts) >= 40 and ts["variable"].between(0, 1).all()
    # 2. a model, 3. predictions for the whole field
    assert scope_train.main(["--tag", "vnv", "--algorithm", "xgb", "--path-dataset", str(training), "--skip-cv",
                             "--save", "--random-state", "3", "-q"]) == 0
    model = next((fritz_env.dir / "models_xgb" / "experiment" / "vnv").glob("vnv.*[0-9].json"))
    assert run_inference.main(["--paths-models", str(model), "--model-class-names", "vnv", "--xgb-model",
                               "--field", "301", "--whole-field", "--feature-directory", "generated_features",
                               "-q"]) == 0
    preds = read_table(fritz_env.dir / "preds_xgb" / "field_301" / "field_301.parquet")
    assert "vnv_xgb" in preds.columns
    # 4. the confident ones go back to Fritz
    fritz_env.server.reset_log()
    assert upload.main(["--file", "preds_xgb/field_301/field_301.parquet", "--group-ids", str(g["upload"]),
                        "--taxonomy-map", "XGB_AL_mapper.json", "--p-threshold", "0.7", "--skip-phot", "-q"]) == 0
    posted = [c for c in fritz_env.server.state.classifications.values() if c["origin"] == "SCoPe"
              and g["upload"] in c["group_ids"]]
    assert posted and all(c["classification"] == "variable" and c["probability"] >= 0.7 for c in posted)
    # 5. and come back with the next download
    assert download.main(["--group-ids", str(g["upload"]), "--output-dir", "again", "-q"]) == 0
    again = read_table(fritz_env.dir / "again" / "parse_fritzDownload.parquet")
    mine = {c["obj_id"] for c in posted}
    assert set(again["obj_id"]) >= mine
    assert again.set_index("obj_id").loc[sorted(mine), "classification"].str.contains("variable").all()
    assert (preds["vnv_xgb"] >= 0.7).sum() >= len(mine)
