"""A target command's own flags, accepted by a generator and written back into the job line.

A generator (``generate-features-slurm``...) adds every option of the target command's parser to
its own (:func:`inherit_arguments`), so the user writes the flags they know. What the user gave is
found by parsing again with every default suppressed (:func:`given_dests`), and written back in the
target's canonical spelling (:func:`render_options`): unset options are not written at all, and
options added to the target command later flow through without any change here.

Values are quoted for the shell except the job variables ``$QID``, ``$TID``, ``$FID`` and ``$IDX``,
which stay expandable (``--fg-dataset 'batch_$IDX.parquet'`` reaches each job as its own file).
"""

from __future__ import annotations

import argparse
import re
import shlex
from typing import Iterable, Sequence

JOB_VARIABLES = ("QID", "TID", "FID", "IDX")
_VARIABLE = re.compile(r"(\$\{(?:%s)\}|\$(?:%s)\b)" % ("|".join(JOB_VARIABLES), "|".join(JOB_VARIABLES)))


def inherit_arguments(target: argparse.ArgumentParser, source: argparse.ArgumentParser, *,
                      skip: Iterable[str] = (), title: str | None = None) -> list[argparse.Action]:
    """Add ``source``'s options to ``target`` (the same :class:`argparse.Action` objects).

    Options whose flags ``target`` already has (help, ``--config-path``, ``--verbose``...) and dests in
    ``skip`` are left out. Each of ``source``'s argument groups becomes a group of ``target``, titled
    ``"<title>: <group>"``. Returns the inherited actions in ``source``'s order.
    """
    skip = set(skip)
    taken = set(target._option_string_actions)
    title = title or source.prog
    inherited: list[argparse.Action] = []
    for group in source._action_groups:
        actions = [a for a in group._group_actions
                   if a.option_strings and a.dest not in skip and not (set(a.option_strings) & taken)
                   and not isinstance(a, (argparse._HelpAction, argparse._VersionAction))]
        if not actions:
            continue
        name = group.title if group.title not in ("options", "optional arguments") else "options"
        new = target.add_argument_group(f"{title}: {name}",
                                        group.description if group.title not in ("options", None) else None)
        for action in actions:
            new._add_action(action)
            inherited.append(action)
    return inherited


def given_dests(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The dests the user set in ``argv`` (parsed again with every default suppressed)."""
    saved = [(a, a.default) for a in parser._actions]
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        namespace, _ = parser.parse_known_args(list(argv))
    finally:
        for action, default in saved:
            action.default = default
    return set(vars(namespace))


def _flag(action: argparse.Action) -> str:
    return next((s for s in action.option_strings if s.startswith("--")), action.option_strings[0])


def _words(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def render_action(action: argparse.Action, value) -> list[str]:
    """The tokens that make ``action`` parse to ``value``."""
    flag = _flag(action)
    if isinstance(action, argparse.BooleanOptionalAction):
        return [flag] if value else ["--no-" + flag[2:]]
    if isinstance(action, argparse._CountAction):
        return [flag] * int(value or 0)
    if action.nargs == 0:  # store_true / store_false / store_const
        return [flag]
    if isinstance(action, argparse._AppendAction):
        return [tok for item in (value or []) for tok in [flag, *_words(item)]]
    if action.nargs == "?" and value == action.const:
        return [flag]
    if value is None:
        return []
    return [flag, *_words(value)]


def render_options(actions: Sequence[argparse.Action], values: argparse.Namespace, given: set[str], *,
                   exclude: Iterable[str] = ()) -> list[str]:
    """Tokens for every action in ``actions`` the user gave (``given``), in the parser's order."""
    exclude = set(exclude)
    tokens: list[str] = []
    for action in actions:
        if action.dest in given and action.dest not in exclude and hasattr(values, action.dest):
            tokens += render_action(action, getattr(values, action.dest))
    return tokens


def shell_word(token: str) -> str:
    """``token`` quoted for bash, keeping the job variables expandable."""
    text = str(token)
    if not _VARIABLE.search(text):
        return shlex.quote(text)
    out = []
    for piece in _VARIABLE.split(text):
        if not piece:
            continue
        out.append(f'"{piece}"' if _VARIABLE.fullmatch(piece) else shlex.quote(piece))
    return "".join(out)


def shell_line(tokens: Sequence[str]) -> str:
    """A command line from tokens (see :func:`shell_word`)."""
    return " ".join(shell_word(t) for t in tokens)
