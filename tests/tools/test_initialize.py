import json

from scope.config import load_config
from tools import scope_initialize


def test_initialize_writes_starter_files(workdir):
    assert scope_initialize.main(["--output-dir", "w"]) == 0
    folder = workdir / "w"
    assert sorted(p.name for p in folder.iterdir()) == [
        "DNN_AL_mapper.json", "XGB_AL_mapper.json", "config.yaml", "fritz_mapper.json", "golden_dataset_mapper.json",
        "local_scope_radec.csv", "local_scope_ztfid.csv"]
    for name, key in (("fritz_mapper.json", "vnv"), ("DNN_AL_mapper.json", "vnv_dnn"), ("XGB_AL_mapper.json", "rrab_xgb")):
        entry = json.loads((folder / name).read_text())[key]
        assert set(entry) == {"fritz_label", "taxonomy_id"} and entry["fritz_label"] in ("variable", "RR Lyrae ab")
    cfg = load_config(folder / "config.yaml")
    assert cfg["data"]["source"] == "auto"
    mapper = json.loads((folder / "golden_dataset_mapper.json").read_text())
    assert mapper["variable"] == {"fritz_label": "variable", "taxonomy_id": 1012}
    assert "token:" not in (folder / "config.yaml").read_text().replace("# ", "")


def test_initialize_keeps_existing_config(workdir):
    (workdir / "config.yaml").write_text("kowalski:\n  timeout: 3\n")
    assert scope_initialize.main(["--output-dir", str(workdir)]) == 0
    assert (workdir / "config.yaml").read_text() == "kowalski:\n  timeout: 3\n"
