"""gcn-cronjob's refusals: one line naming the problem, a non-zero status, nothing posted."""

from __future__ import annotations

import pytest
import yaml

from tests.gcn.conftest import RUN_FLAGS


def _run(*extra) -> int:
    from tools.gcn_cronjob import main

    return main([*RUN_FLAGS, *extra])


@pytest.mark.parametrize("flags, message", [
    (["--timeout", "soon"], "--timeout must be a positive duration"),
    (["--dnn-preds-directory", "GCN_preds"], "--dnn-preds-directory must end in '_dnn'"),
])
def test_bad_flags_are_refused_before_any_work(gcn_env, capsys, flags, message):
    assert _run(*flags) == 1
    err = capsys.readouterr().err
    assert message in err and len([ln for ln in err.splitlines() if "error" in ln]) == 1
    assert gcn_env.server.requests() == [] and not (gcn_env.dir / "gcn_logs").exists()


def test_unknown_flags_are_errors(gcn_env, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _run("--post-groups", "5")
    assert exit_info.value.code == 2 and "unrecognized arguments: --post-groups" in capsys.readouterr().err


def test_a_missing_model_group_fails_the_run_in_its_log_and_posts_nothing(gcn_env, capsys):
    assert _run("--xgb-group-name", "nosuchgroup") == 1
    err = capsys.readouterr().err
    assert "nosuchgroup" in err
    log = next((gcn_env.dir / "gcn_logs").glob("*.log")).read_text()
    assert "run failed:" in log and "nosuchgroup" in log
    assert [r for r in gcn_env.server.requests() if r["method"] != "GET"] == []


def test_a_bad_event_type_in_the_config_is_named(gcn_env, capsys):
    cfg = gcn_env.dir / "config.yaml"
    data = yaml.safe_load(cfg.read_text())
    data["gcn"]["event_types"]["gw"]["post_group_ids"] = ["EM+GW"]
    cfg.write_text(yaml.safe_dump(data))
    assert _run() == 1
    assert "gcn.event_types.gw.post_group_ids must list integer Fritz group ids" in capsys.readouterr().err
