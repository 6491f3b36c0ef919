import json

from scope.config import load_config
from tools import scope_initialize


def test_initialize_writes_starter_files(workdir):
    assert scope_initialize.main(["--output-dir", "w"]) == 0
    folder = workdir / "w"
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.yaml", "golden_dataset_mapper.json", "local_scope_radec.csv", "local_scope_ztfid.csv"]
    cfg = load_config(folder / "config.yaml")
    assert cfg["data"]["source"] == "auto"
    mapper = json.loads((folder / "golden_dataset_mapper.json").read_text())
    assert mapper["variable"] == {"fritz_label": "variable", "taxonomy_id": 1012}
    assert "token:" not in (folder / "config.yaml").read_text().replace("# ", "")


def test_initialize_keeps_existing_config(workdir):
    (workdir / "config.yaml").write_text("kowalski:\n  timeout: 3\n")
    assert scope_initialize.main(["--output-dir", str(workdir)]) == 0
    assert (workdir / "config.yaml").read_text() == "kowalski:\n  timeout: 3\n"
