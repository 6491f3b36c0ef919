"""Every command takes the reference's config options (--config-path, --check-configs, --default-config-name)."""

from __future__ import annotations

import importlib
import shutil
import tomllib

import pytest

from scope import config as config_module
from tests.conftest import REAL_DATA, REPO

REFERENCE = REAL_DATA / "reference_config" / "config.yaml"
SCRIPTS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]


@pytest.fixture(autouse=True)
def _fresh_report_memory(monkeypatch):
    monkeypatch.setattr(config_module, "_REPORTED", set(), raising=False)


def _main(entry: str):
    module, func = entry.split(":")
    return getattr(importlib.import_module(module), func)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_every_command_documents_the_config_options(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _main(SCRIPTS[name])(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--config-path", "--check-configs", "--default-config-name"):
        assert flag in text, (name, flag)
    assert "every key of the defaults file" in text


@pytest.fixture
def reference_project(workdir, dr5_archive):
    """A working directory with the reference's config.yaml (plus the local archive) and its defaults copy."""
    text = REFERENCE.read_text() + f"data:\n  archive_path: {dr5_archive}\n"
    (workdir / "config.yaml").write_text(text)
    shutil.copy(REFERENCE, workdir / "config.defaults.yaml")
    return workdir


def test_a_command_runs_on_a_reference_config_and_checks_it(reference_project, capsys):
    from tools import get_quad_ids

    rc = get_quad_ids.main(["--config-path", "config.yaml", "--check-configs", "--field", "202", "--whole-field"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert err.count("have no effect in this SCoPe") == 1
    assert "has every key of" in err and "config.defaults.yaml" in err
    assert (reference_project / "ids" / "field_202" / "field_202.h5").exists()


def test_a_failed_check_stops_the_command_before_any_work(reference_project, capsys):
    from tools import get_quad_ids

    (reference_project / "team.yaml").write_text("training:\n  classes:\n    vnv: {label: variable, batch_size: 8}\n")
    rc = get_quad_ids.main(["--check-configs", "--default-config-name", "team.yaml", "--field", "202",
                            "--whole-field"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1
    assert err[-1].startswith("get-quad-ids: error: config check:") and "training.classes.vnv.batch_size" in err[-1]
    assert not (reference_project / "ids").exists()


def test_check_configs_on_a_command_that_reads_no_settings(workdir, capsys):
    from tools import assemble_training_stats

    (workdir / "config.yaml").write_text("kowalski:\n  timeout: 30\n")
    (workdir / "models_xgb" / "experiment").mkdir(parents=True)
    rc = assemble_training_stats.main(["--config-path", "config.yaml", "--check-configs", "--algorithm", "xgb"])
    assert rc == 0 and "has every key of the built-in defaults" in capsys.readouterr().err
    # a named config that does not exist is an error here as in every command
    assert assemble_training_stats.main(["--config-path", "nope.yaml", "--algorithm", "xgb"]) == 1
    assert "config file not found: nope.yaml" in capsys.readouterr().err


def test_commands_that_write_the_config_check_it_afterwards(workdir, capsys):
    from tools import scope_demo_data

    rc = scope_demo_data.main(["--output-dir", "sky", "--n-per-quad", "3", "--ccds", "1", "--quads", "1",
                               "--check-configs"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "config check: " in err and "sky/config.yaml has every key of the built-in defaults" in err
