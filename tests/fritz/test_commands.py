"""Every Fritz command is registered and parses the examples of the user documentation."""

import shlex
from importlib import import_module
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMMANDS = {
    "scope-download-classification": "tools.scope_download_classification",
    "scope-upload-classification": "tools.scope_upload_classification",
    "scope-manage-annotation": "tools.scope_manage_annotation",
    "post-taxonomy": "tools.post_taxonomy",
    "scope-download-gcn-sources": "tools.scope_download_gcn_sources",
    "select-fritz-sample": "tools.select_fritz_sample",
    "scope-upload-disagreements": "tools.scope_upload_disagreements",
}
# the examples of the user docs, verbatim (typos included: -get-ztf-filters, --group_ids)
DOC_EXAMPLES = [
    "scope-download-classification --file sample.csv --group-ids 360 361 --start 10 --merge-features True "
    "--features-catalog ZTF_source_features_DR16 --features-limit 5000 --taxonomy-map golden_dataset_mapper.json "
    "--output-dir fritzDownload --output-filename merged_classifications_features --output-format parquet "
    "-get-ztf-filters --impute-missing-features",
    "scope-download-gcn-sources --dateobs 2023-05-21T05:30:43",
    "scope-upload-classification --file sample.csv --group-ids 500 250 750 --classification variable flaring "
    "--taxonomy-map map.json --comment confident --start 35 --stop 50 --skip-phot --p-threshold 0.9 --write-obj-id "
    "--result-format csv --use-existing-obj-id --post-survey-id --replace-classifications",
    "scope-manage-annotation --action post --source sample.csv --group_ids 200 300 400 --origin revisedperiod "
    "--key period",
    "scope-upload-disagreements -file dataset.d15.csv -id 360 -token sample_token",
]


def test_commands_are_registered():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    for name, module in COMMANDS.items():
        assert scripts[name] == f"{module}:main"
        assert callable(import_module(module).main)


@pytest.mark.parametrize("line", DOC_EXAMPLES, ids=lambda s: s.split()[0])
def test_documented_examples_parse(line):
    name, *argv = shlex.split(line)
    args = import_module(COMMANDS[name]).get_parser().parse_args(argv)
    if name == "scope-download-classification":
        assert args.merge_features is True and args.get_ztf_filters and args.group_ids == [360, 361]
    if name == "scope-upload-classification":
        assert args.skip_phot is True and args.stop == 50 and args.classification == ["variable", "flaring"]
    if name == "scope-manage-annotation":
        assert args.group_ids == [200, 300, 400]
    if name == "scope-upload-disagreements":
        assert args.group_id == 360 and args.file == "dataset.d15.csv"


@pytest.mark.parametrize("module", COMMANDS.values())
def test_help_lists_every_flag_and_unknown_flags_fail(module, capsys):
    parser = import_module(module).get_parser()
    with pytest.raises(SystemExit) as done:
        parser.parse_args(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for action in parser._actions:
        for opt in action.option_strings:
            assert opt in text
    with pytest.raises(SystemExit) as bad:
        parser.parse_args(["--no-such-option"])
    assert bad.value.code == 2
