"""post-taxonomy: post a classification taxonomy (tdtax form) to Fritz.

The SCoPe phenomenological taxonomy ships with SCoPe (``scope/data/scope_phenomenological_taxonomy.yaml``);
any YAML file with the tdtax layout (``{class, tags?, subclasses?}`` nodes) can be posted instead.
The tree is checked before it is sent. Posting a name and version Fritz already has reports the
existing taxonomy's id instead of failing, so repeating the command is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from scope.errors import DataError, QueryError
from scope.services import fritz_payloads as fp

log = logging.getLogger(__name__)

BUNDLED_FILE = "scope_phenomenological_taxonomy.yaml"
BUNDLED_NAME = "SCoPe Phenomenological Taxonomy"
BUNDLED_VERSION = "1.3.0"
BUNDLED_PROVENANCE = "https://github.com/bfhealy/scope-phenomenology"
#: what the reference's command line used for a taxonomy file
FILE_DEFAULTS = ("Scope Phenomenological Taxonomy", "1.0.0", "github")


@dataclass
class TaxonomyResult:
    taxonomy_id: int
    name: str
    version: str
    created: bool


def bundled_hierarchy() -> dict:
    """The SCoPe phenomenological taxonomy tree."""
    return yaml.safe_load(resources.files("scope").joinpath("data", BUNDLED_FILE).read_text())


def read_hierarchy(path: str | Path) -> dict:
    """A tdtax tree from YAML (a top-level ``hierarchy:`` key is unwrapped)."""
    p = Path(path)
    try:
        tree = yaml.safe_load(p.read_text())
    except OSError as exc:
        raise DataError(f"cannot read taxonomy {p}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise DataError(f"taxonomy {p} is not valid YAML: {exc}") from None
    if isinstance(tree, dict) and "hierarchy" in tree and "class" not in tree:
        tree = tree["hierarchy"]
    fp.check_hierarchy(tree)
    return tree


def post_taxonomy(client, hierarchy: dict, *, name: str, version: str, provenance: str | None = None,
                  group_ids=None) -> TaxonomyResult:
    """Post the taxonomy, or find the one Fritz already has under that name and version."""
    payload = fp.taxonomy_payload(name, version, provenance, hierarchy, group_ids)
    try:
        tid = client.post_taxonomy(payload)
        return TaxonomyResult(tid, name, version, True)
    except QueryError as exc:
        if "already present" not in str(exc):
            raise
    for t in client.taxonomies():
        if t.get("name") == name and str(t.get("version")) == str(version):
            log.info("Fritz already has taxonomy '%s' version %s (id %s)", name, version, t.get("id"))
            return TaxonomyResult(int(t["id"]), name, version, False)
    raise QueryError(f"Fritz says taxonomy '{name}' {version} exists, but this token cannot read it")
