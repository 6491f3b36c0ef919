"""Reading a config file written for the reference SCoPe.

The reference's ``scope-initialize`` copies its whole ``config.defaults.yaml`` to ``config.yaml``, so an
existing user's file names every reference key. Most have the same name and meaning here. The others
are of two kinds:

* **renamed** (:data:`RENAMED`): the same setting under another name or shape here; translated
  before validation, so the rest of SCoPe only ever sees our names;
* **unused** (:data:`UNUSED`): settings of reference parts this SCoPe does not have (the Rubin
  pipeline, the taxonomy tree and field guide of its docs, a period-search block only its Rubin
  pipeline read, an XGBoost seed it never passed on). They are accepted, named in one line and
  dropped.

Everything else still goes through the normal validation, so a typo of one of our keys is an error.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Mapping

from scope.errors import ConfigError

#: Reference keys with no effect here (dotted paths; a section is dropped whole).
UNUSED = (
    "rubin",
    "taxonomy",
    "docs",
    "feature_generation.period_search",
    "training.xgboost.other_training_params.seed",
)

#: Reference key -> our key (``<catalog>`` stands for each catalog name).
RENAMED = {
    "kowalski.hosts.<name>.token": "kowalski.instances.<name>.token (host <name>.caltech.edu)",
    "training.xgboost.other_training_params.eta": "training.xgboost.other_training_params.eta_list",
    "feature_generation.external_catalog_features.<catalog>.projection":
        "feature_generation.external_catalog_features.<catalog> (the list of projected fields)",
}

# The reference hard-codes every Kowalski host as <name>.caltech.edu.
_REFERENCE_HOST = "{name}.caltech.edu"


@dataclass
class Translation:
    """A user config translated to our key names.

    Attributes
    ----------
    data : dict
        The config with renamed keys translated and unused ones removed.
    unused : list of str
        Dotted paths of the reference keys that were dropped.
    renamed : list of tuple
        ``(reference key, our key)`` for every translation applied.
    """

    data: dict
    unused: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)


def translate(user: Mapping[str, Any]) -> Translation:
    """Translate the reference's keys in ``user`` (a parsed config file) to ours.

    ``user`` is not modified. Keys that are not reference keys are left for validation.

    Raises
    ------
    ConfigError
        A reference section has the wrong shape (e.g. ``kowalski.hosts`` is not a mapping).
    """
    out = Translation(copy.deepcopy(dict(user)))
    for dotted in UNUSED:
        if _pop(out.data, dotted.split(".")):
            out.unused.append(dotted)
    _translate_hosts(out)
    _translate_eta(out)
    _translate_catalog_projections(out)
    return out


def _pop(node: Any, parts: list[str]) -> bool:
    """Remove ``parts`` from nested mappings; True when something was there."""
    for part in parts[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            return False
        node = node[part]
    if isinstance(node, dict) and parts[-1] in node:
        del node[parts[-1]]
        return True
    return False


def _mapping(value: Any, dotted: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"config key '{dotted}' must be a mapping, got {type(value).__name__}")
    return dict(value)


def _translate_hosts(out: Translation) -> None:
    kowalski = out.data.get("kowalski")
    if not isinstance(kowalski, dict) or "hosts" not in kowalski:
        return
    hosts = _mapping(kowalski.pop("hosts"), "kowalski.hosts")
    instances = _mapping(kowalski.get("instances"), "kowalski.instances")
    for name, spec in hosts.items():
        spec = _mapping(spec, f"kowalski.hosts.{name}")
        # an instance configured under our name wins over the reference entry of the same name
        merged = {"host": _REFERENCE_HOST.format(name=name), **spec, **_mapping(instances.get(name),
                                                                             f"kowalski.instances.{name}")}
        instances[name] = merged
    kowalski["instances"] = instances
    out.renamed.append(("kowalski.hosts", "kowalski.instances"))


def _translate_eta(out: Translation) -> None:
    other = ((out.data.get("training") or {}).get("xgboost") or {}).get("other_training_params")
    if not isinstance(other, dict) or "eta" not in other:
        return
    eta = other.pop("eta")
    if "eta_list" in other:
        out.unused.append("training.xgboost.other_training_params.eta (eta_list is set)")
        return
    other["eta_list"] = eta
    out.renamed.append(("training.xgboost.other_training_params.eta", "training.xgboost.other_training_params.eta_list"))


def _translate_catalog_projections(out: Translation) -> None:
    ext = (out.data.get("feature_generation") or {}).get("external_catalog_features")
    if not isinstance(ext, dict):
        return
    for catalog, spec in list(ext.items()):
        if not isinstance(spec, Mapping) or not ({"projection", "filter"} & set(spec)):
            continue
        where = f"feature_generation.external_catalog_features.{catalog}"
        projection = _mapping(spec.get("projection"), f"{where}.projection")
        ext[catalog] = [str(name) for name, wanted in projection.items() if wanted]
        out.renamed.append((f"{where}.projection", where))
        if spec.get("filter"):
            # a non-empty Kowalski filter would narrow the cross-match; we do not apply one
            out.unused.append(f"{where}.filter")
