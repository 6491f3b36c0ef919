"""scope-initialize writes the reference's starter files and never replaces a file the user changed."""

import hashlib
import json
from importlib import resources

import pytest

from scope.config import load_config
from tools import scope_initialize

MANIFEST = ".scope-initialize.json"  # what scope-initialize wrote, to tell your changes from its files
TOOLS_FILES = ("golden_dataset_mapper.json", "fritz_mapper.json", "DNN_AL_mapper.json", "XGB_AL_mapper.json",
               "local_scope_ztfid.csv", "local_scope_radec.csv")

STARTER_SET = ["config.defaults.yaml", "config.yaml", "tools/DNN_AL_mapper.json", "tools/XGB_AL_mapper.json",
               "tools/fritz_mapper.json", "tools/golden_dataset_mapper.json", "tools/local_scope_radec.csv",
               "tools/local_scope_ztfid.csv"]


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def test_initialize_writes_the_reference_starter_set(workdir):
    assert scope_initialize.main(["--output-dir", "w", "--check-configs"]) == 0
    folder = workdir / "w"
    assert _files(folder) == STARTER_SET
    cfg = load_config(folder / "config.yaml")
    assert cfg["data"]["source"] == "auto"
    assert "token:" not in (folder / "config.yaml").read_text().replace("# ", "")
    mapper = json.loads((folder / "tools" / "golden_dataset_mapper.json").read_text())
    assert mapper["variable"] == {"fritz_label": "variable", "taxonomy_id": 1012}
    assert json.loads((folder / "tools" / "DNN_AL_mapper.json").read_text())["vnv_dnn"] == {
        "fritz_label": "variable", "taxonomy_id": 1017}
    # the defaults copy is the packaged file (with a note on top) and itself a valid config
    packaged = resources.files("scope").joinpath("config.defaults.yaml").read_text()
    assert (folder / "config.defaults.yaml").read_text().endswith(packaged)
    load_config(folder / "config.defaults.yaml")


def test_a_changed_file_is_kept_and_named_in_one_line(workdir, capsys):
    assert scope_initialize.main([]) == 0
    (workdir / "config.yaml").write_text("kowalski:\n  timeout: 3\n")
    edited = workdir / "tools" / "fritz_mapper.json"
    edited.write_text('{"vnv": {"fritz_label": "variable", "taxonomy_id": 9}}\n')
    untouched = (workdir / "tools" / "local_scope_radec.csv").read_text()
    capsys.readouterr()
    assert scope_initialize.main(["--output-dir", "."]) == 0
    assert (workdir / "config.yaml").read_text() == "kowalski:\n  timeout: 3\n"
    assert '"taxonomy_id": 9' in edited.read_text()
    assert (workdir / "tools" / "local_scope_radec.csv").read_text() == untouched
    lines = capsys.readouterr().err.strip().splitlines()
    named = [line for line in lines if "fritz_mapper.json" in line]
    assert len(named) == 1 and "config.yaml" in named[0] and "tools/fritz_mapper.json" in named[0]
    assert lines[-1].endswith("0 file(s) written, 0 updated, 6 already current, 2 kept as you changed them")


def test_an_unchanged_file_from_an_earlier_version_is_brought_up_to_date(workdir):
    assert scope_initialize.main([]) == 0
    # as an earlier release would have written and recorded it
    old = b"ra,dec,obj_id\n1.0,2.0,old_example\n"
    manifest = json.loads((workdir / MANIFEST).read_text())
    manifest["tools/local_scope_radec.csv"] = hashlib.sha256(old).hexdigest()
    (workdir / MANIFEST).write_text(json.dumps(manifest))
    (workdir / "tools" / "local_scope_radec.csv").write_bytes(old)
    assert scope_initialize.main([]) == 0
    current = resources.files("scope").joinpath("data", "local_scope_radec.csv").read_bytes()
    assert (workdir / "tools" / "local_scope_radec.csv").read_bytes() == current


def test_a_file_that_was_there_before_is_never_replaced(workdir):
    (workdir / "tools").mkdir()
    (workdir / "tools" / "golden_dataset_mapper.json").write_text("{}\n")
    assert scope_initialize.main([]) == 0
    assert (workdir / "tools" / "golden_dataset_mapper.json").read_text() == "{}\n"


def test_config_path_names_the_config_to_write(workdir):
    assert scope_initialize.main(["--output-dir", "w", "--config-path", "conf/my.yaml", "--check-configs"]) == 0
    assert (workdir / "conf" / "my.yaml").exists() and (workdir / "conf" / "config.defaults.yaml").exists()
    assert not (workdir / "w" / "config.yaml").exists() and (workdir / "w" / "tools" / "fritz_mapper.json").exists()
    assert scope_initialize.main(["--config-path", "w"]) == 1


def test_the_al_mappers_are_the_fritz_mapper_per_algorithm():
    data = resources.files("scope").joinpath("data")
    fritz = json.loads(data.joinpath("fritz_mapper.json").read_text())
    assert len(fritz) == 45 and set(TOOLS_FILES) <= {p.name for p in data.iterdir()}
    for alg in ("DNN", "XGB"):
        mapper = json.loads(data.joinpath(f"{alg}_AL_mapper.json").read_text())
        assert mapper == {f"{tag}_{alg.lower()}": spec for tag, spec in fritz.items()}
    tags = set(load_config(env={})["training"]["classes"]) | {"nonvar"}
    assert set(fritz) <= tags
    assert {spec["taxonomy_id"] for spec in fritz.values()} == {1015, 1017}


@pytest.mark.parametrize("flag", ["--force"])
def test_there_is_no_overwrite_flag(workdir, flag):
    # the reference has none, and a changed file is never replaced: delete it to get a fresh copy
    with pytest.raises(SystemExit):
        scope_initialize.main([flag])
