"""What kind of event a GCN event is, and where its classifications go: data from config ``gcn``.

Each entry of ``gcn.event_types`` names a type (the key, which also keys the checkpoint), the
event tags that make an event of that type, and the Fritz groups its classifications are posted
to. The first type whose tags an event carries wins; an event of no type goes to
``gcn.post_group_ids``. Nothing here is ever changed while events are processed: every event gets
its own list (the reference replaced its one list with ``[48]`` for a GRB and appended ``1544`` for a
GW, so each event's groups depended on the events before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from scope.errors import ConfigError

#: checkpoint key of events of no configured type
OTHER = "other"
_KEYS = {"tags", "post_group_ids"}


@dataclass(frozen=True)
class EventType:
    """One kind of event: its name, the tags that make it, where it is posted."""

    name: str
    tags: tuple[str, ...]
    post_group_ids: tuple[int, ...]


def _groups(value, where: str) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(f"{where} must be a non-empty list of Fritz group ids, got {value!r}")
    try:
        return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must list integer Fritz group ids, got {value!r}") from None


def event_types(cfg: Mapping) -> list[EventType]:
    """The configured types, in config order.

    Raises
    ------
    ConfigError
        An entry with unknown keys, without tags, or with group ids that are not integers.
    """
    section = (cfg.get("gcn") or {}).get("event_types") or {}
    out = []
    for name, entry in section.items():
        where = f"gcn.event_types.{name}"
        extra = set(entry) - _KEYS
        if extra:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(extra))} (valid: tags, post_group_ids)")
        tags = entry.get("tags")
        if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
            raise ConfigError(f"{where}.tags must be a list of GCN tags, got {tags!r}")
        out.append(EventType(str(name), tuple(tags), _groups(entry.get("post_group_ids"), f"{where}.post_group_ids")))
    if any(t.name == OTHER for t in out):
        raise ConfigError(f"gcn.event_types: '{OTHER}' is reserved for events of no type")
    return out


def default_groups(cfg: Mapping) -> tuple[int, ...]:
    """``gcn.post_group_ids``: the groups of events of no configured type."""
    return _groups((cfg.get("gcn") or {}).get("post_group_ids"), "gcn.post_group_ids")


def classify_event(tags: Sequence[str], types: Sequence[EventType]) -> EventType | None:
    """The first type one of whose tags the event carries (tags compare exactly)."""
    have = set(tags)
    return next((t for t in types if have & set(t.tags)), None)


@dataclass(frozen=True)
class PostTarget:
    """Where one event's classifications go, and the checkpoint key of what was posted there."""

    kind: str
    group_ids: tuple[int, ...]
    checkpoint_key: str


def post_target(tags: Sequence[str], types: Sequence[EventType], default: Sequence[int],
                override: Sequence[int] | None = None) -> PostTarget:
    """The groups of an event with these tags.

    ``override`` (``--post-group-ids``) sends every event to those groups; its checkpoint key then
    names the groups too, so sources posted there by hand are not taken as posted to the type's
    own groups.
    """
    kind = classify_event(tags, types)
    name = kind.name if kind else OTHER
    groups = tuple(kind.post_group_ids) if kind else tuple(int(g) for g in default)
    if override:
        over = tuple(int(g) for g in override)
        if over != groups:
            return PostTarget(name, over, f"{name}:groups={','.join(map(str, over))}")
    return PostTarget(name, groups, name)
