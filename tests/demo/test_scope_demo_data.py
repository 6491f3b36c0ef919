"""The scope-demo-data command: flags, config update, --force, and one-line errors."""

from __future__ import annotations

import os

import pytest
import yaml

from tools import scope_demo_data

TINY = ["--ccds", "3", "--quads", "1", "--n-per-quad", "12", "--seed", "3", "-q"]


def _run(folder, *extra):
    return scope_demo_data.main(["--output-dir", str(folder), *TINY, *extra])


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("scope-demo-data: error:"), err
    assert "Traceback" not in err
    return err


def test_default_demo_size_is_about_a_thousand_objects():
    args = scope_demo_data.get_parser().parse_args([])
    total = args.n_per_quad * len(args.ccds) * len(args.quads)
    assert 1000 <= total <= 1500
    assert args.field == 301 and args.seed == 42 and args.bands == ["g", "r"]


def test_config_update_keeps_user_settings(tmp_path):
    (tmp_path / "config.yaml").write_text(
        "wandb:\n  project: my-project\ndata:\n  source: auto\n  features_path: feats.parquet\n")
    assert _run(tmp_path) == 0
    cfg = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert cfg["wandb"] == {"project": "my-project"}
    assert cfg["data"]["features_path"] == "feats.parquet"
    assert cfg["data"]["archive_path"] == "ztf_archive" and cfg["data"]["catalogs_path"] == "catalogs"

    from scope.config import load_config

    loaded = load_config(tmp_path / "config.yaml")
    assert loaded.resolve_path(loaded.get_path("data.archive_path")) == tmp_path / "ztf_archive"
    assert (loaded.resolve_path(loaded.get_path("data.catalogs_path")) / "Gaia_EDR3.parquet").is_file()


def test_config_elsewhere_gets_paths_relative_to_itself(tmp_path):
    cfg_path = tmp_path / "settings" / "config.yaml"
    cfg_path.parent.mkdir()
    assert _run(tmp_path / "work", "--config-path", str(cfg_path), "--archive-name", "lc") == 0
    cfg = yaml.safe_load(cfg_path.read_text())
    assert cfg["data"]["archive_path"] == "../work/lc"
    assert not (tmp_path / "work" / "config.yaml").exists()


def test_no_config_flag_leaves_config_alone(tmp_path):
    assert _run(tmp_path, "--no-config") == 0
    assert not (tmp_path / "config.yaml").exists()
    assert (tmp_path / "labels.parquet").is_file()


def test_existing_demo_needs_force(tmp_path, capsys):
    assert _run(tmp_path) == 0
    capsys.readouterr()
    assert _run(tmp_path) == 1
    assert "--force" in _one_line_error(capsys)
    assert _run(tmp_path, "--force") == 0


def test_force_removes_stale_demo_quadrants_but_not_real_files(tmp_path):
    folder = tmp_path / "ztf_archive" / "0" / "field0301"
    assert scope_demo_data.main(["--output-dir", str(tmp_path), "--ccds", "3", "--quads", "1", "2",
                                 "--n-per-quad", "12", "-q"]) == 0
    real = folder / "ztf_000301_zg_c03_q2_dr5.parquet"
    real.write_bytes((folder / "ztf_000301_zg_c03_q2_drdemo.parquet").read_bytes())
    assert _run(tmp_path, "--force") == 0
    names = sorted(p.name for p in folder.glob("*.parquet"))
    assert names == ["ztf_000301_zg_c03_q1_drdemo.parquet", "ztf_000301_zg_c03_q2_dr5.parquet",
                     "ztf_000301_zr_c03_q1_drdemo.parquet"]


def test_output_dir_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "not_a_dir"
    target.write_text("x")
    assert _run(target) == 1
    assert "not a folder" in _one_line_error(capsys)


def test_unwritable_output_dir(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() == 0:  # root ignores permission bits: make the check see a read-only folder
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if str(p) == str(locked)
                            else real_access(p, mode, *a, **k))
    try:
        assert _run(locked) == 1
        assert "not writable" in _one_line_error(capsys)
    finally:
        locked.chmod(0o700)


def test_broken_config_fails_before_writing(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text("data: [unclosed\n")
    assert _run(tmp_path) == 1
    assert "config" in _one_line_error(capsys)
    assert not (tmp_path / "ztf_archive").exists()


@pytest.mark.parametrize("flags, words", [
    (["--quads", "5"], "quadrant"),
    (["--n-per-quad", "0"], "objects per quadrant"),
    (["--variable-fraction", "1.5"], "variable fraction"),
    (["--archive-name", "../outside"], "archive name"),
])
def test_bad_values_are_one_line_errors(tmp_path, capsys, flags, words):
    assert scope_demo_data.main(["--output-dir", str(tmp_path), "-q", *flags]) == 1
    assert words in _one_line_error(capsys)
    assert not (tmp_path / "ztf_archive").exists()


def test_unknown_flag_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as exc:
        scope_demo_data.main(["--output-dir", str(tmp_path), "--no-such-flag"])
    assert exc.value.code == 2
