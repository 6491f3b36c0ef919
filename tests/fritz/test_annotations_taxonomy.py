"""scope-manage-annotation and post-taxonomy against the loopback Fritz."""

import pandas as pd
import pytest
import yaml

from scope.fritz.annotations import parse_value
from tools import post_taxonomy, scope_manage_annotation as ma


@pytest.mark.parametrize("text, value", [("12", 12), ("-3", -3), ("0.25", 0.25), ("1.2.3", "1.2.3"), ("EW", "EW")])
def test_values_from_the_command_line(text, value):
    assert parse_value(text) == value and type(parse_value(text)) is type(value)


def test_post_update_delete_one_source(fritz_env):
    server = fritz_env.server
    obj = fritz_env.seed.labelled[0]
    g = str(fritz_env.seed.groups["upload"])
    base = ["--source", obj, "--origin", "revisedperiod"]
    assert ma.main(["--action", "post", *base, "--key", "period", "--value", "0.5", "--group_ids", g]) == 0
    ann = [a for a in server.annotations_of(obj) if a["origin"] == "revisedperiod" and a["author_id"] == 1]
    assert len(ann) == 1 and ann[0]["data"] == {"period": 0.5} and ann[0]["group_ids"] == {int(g)}
    assert ma.main(["--action", "post", *base, "--key", "period", "--value", "0.5"]) == 0  # same again: no-op
    assert ma.main(["--action", "post", *base, "--key", "period", "--value", "0.7"]) == 1  # conflict: say update
    assert ma.main(["--action", "UPDATE", *base, "--key", "amplitude", "--value", "3"]) == 0
    put = server.requests("PUT", r"/api/sources/.*/annotations/\d+")[-1]["body"]
    assert put == {"data": {"period": 0.5, "amplitude": 3}, "origin": "revisedperiod"}  # merged; no obj_id
    assert ma.main(["--action", "delete", *base, "--key", "amplitude"]) == 0
    assert not [a for a in server.annotations_of(obj) if a["origin"] == "revisedperiod" and a["author_id"] == 1]
    assert ma.main(["--action", "delete", *base, "--key", "amplitude"]) == 0  # nothing left: fine


def test_table_mode_takes_values_from_the_key_column(fritz_env):
    objs = fritz_env.seed.labelled[:3]
    pd.DataFrame({"obj_id": objs, "period": [1.5, 2.5, 3.5]}).to_csv(fritz_env.dir / "sample.csv", index=False)
    assert ma.main(["--action", "post", "--source", "sample.csv", "--origin", "revisedperiod2", "--key", "period"]) == 0
    got = {a["obj_id"]: a["data"]["period"] for a in fritz_env.server.state.annotations.values()
           if a["origin"] == "revisedperiod2"}
    assert got == dict(zip(objs, [1.5, 2.5, 3.5]))


def test_annotation_errors(fritz_env, capsys):
    assert ma.main(["--action", "frobnicate", "--source", "x", "--origin", "o", "--key", "k"]) == 1
    assert ma.main(["--action", "post", "--source", "x", "--key", "k", "--value", "1"]) == 1
    assert ma.main(["--action", "post", "--source", "x", "--origin", "o", "--key", "k"]) == 1
    err = capsys.readouterr().err
    assert "post, update or delete" in err and "--origin is required" in err and "--value is needed" in err
    assert ma.main(["--action", "post", "--source", "ZTFJnope", "--origin", "o", "--key", "k", "--value", "1"]) == 1
    assert "Obj ZTFJnope not found" in capsys.readouterr().err


def test_post_bundled_taxonomy_twice(fritz_env, capsys):
    assert post_taxonomy.main(["--group-ids", str(fritz_env.seed.groups["upload"])]) == 0
    tid = int(capsys.readouterr().out.strip())
    tax = fritz_env.server.state.taxonomies[tid]
    assert tax["name"] == "SCoPe Phenomenological Taxonomy" and tax["version"] == "1.3.0"
    assert tax["hierarchy"]["class"] == "Time series" and tax["group_ids"] == {fritz_env.seed.groups["upload"]}
    assert post_taxonomy.main([]) == 0 and int(capsys.readouterr().out.strip()) == tid  # found, not duplicated


def test_post_a_yaml_taxonomy_and_reject_a_bad_one(fritz_env, capsys):
    (fritz_env.dir / "mine.yaml").write_text(yaml.safe_dump({"class": "stars", "subclasses": [{"class": "hot"}]}))
    assert post_taxonomy.main(["--taxonomy", "mine.yaml", "--name", "Mine", "--version", "2"]) == 0
    tid = int(capsys.readouterr().out.strip())
    assert fritz_env.server.state.taxonomies[tid]["provenance"] == "github"
    (fritz_env.dir / "bad.yaml").write_text(yaml.safe_dump({"class": "stars", "children": []}))
    n = len(fritz_env.server.log)
    assert post_taxonomy.main(["--taxonomy", "bad.yaml"]) == 1
    assert "unknown keys: children" in capsys.readouterr().err and len(fritz_env.server.log) == n  # never sent
    assert post_taxonomy.main(["--taxonomy", "missing.yaml"]) == 1
