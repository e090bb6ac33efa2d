"""``--set PATH=VALUE`` overrides of a scenario.

An override replaces one node of the *raw* scenario tree (the parsed YAML) before anything
is validated, so an overridden value is type-checked exactly like one written in the file
(pydantic rejects a new key the models do not know).

PATH is dotted. Mapping entries are addressed by key; list items by their ``name`` (e.g.
``projects.CRM upgrade.due``) or by their 0-based index (``projects.0.due``); a name wins
over an index when both could match. Every segment but the last must exist; the last may be
a new key of an existing mapping. An index is written in ASCII digits only (``²`` or ``٣`` are
names, not numbers). VALUE, when it is a string (the command line), is read as a YAML flow
value by the same bounded reader as scenario files (:mod:`pmo_sim.scenario.reader`): ``15`` is a
number, ``[1, 2]`` a list, ``{dist: fixed, value: 3}`` a mapping and ``wsjf`` a string. A key
or item name that contains dots is matched whole, over as many segments as it has
(``resources.dev.team.headcount`` for a pool ``dev.team``); when it and a key of one segment
both match, the longer wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pmo_sim.errors import ScenarioError, listed
from pmo_sim.scenario.reader import plain_tree, read_yaml
from pmo_sim.scenario.sources import KeyPath


class OverrideError(Exception):
    """An override whose path does not exist or whose value cannot be read."""

    def __init__(self, message: str, got: Any):
        super().__init__(message)
        self.message, self.got = message, got


def parse_value(value: Any) -> Any:
    """The Python value of an override: strings are YAML flow values, objects are copied."""
    try:
        if not isinstance(value, str):
            return plain_tree(value, "--set")
        return read_yaml(str(value), "--set")[0]  # str(): numpy.str_ is read as its text
    except ScenarioError as exc:
        message = exc.problems[0].message
        syntax = message.startswith("YAML syntax error: ")
        raise OverrideError(f"value is not valid YAML: {message.split(': ', 1)[1]}" if syntax
                            else f"value: {message}", value) from None


def _item_index(items: list[Any], segment: str) -> int | None:
    named = [i for i, item in enumerate(items) if isinstance(item, Mapping) and item.get("name") == segment]
    if len(named) == 1:
        return named[0]
    if segment.isascii() and segment.isdigit() and len(segment) <= 18 and int(segment) < len(items):
        return int(segment)
    return None


def _describe_list(items: list[Any]) -> str:
    names = [str(item["name"]) for item in items if isinstance(item, Mapping) and "name" in item]
    if not items:
        return "the list is empty"
    text = "expected index 0" if len(items) == 1 else f"expected an index 0..{len(items) - 1}"
    return text + (f" or one of the names: {listed(names)}" if names else "")


def _new_section_hint(segments: list[str], depth: int) -> str:
    """A policy lists only the role sections it changes, and a scenario only the optional
    sections it uses (``changes``, ``workforce``, ``budget``...): say how to add one."""
    whose = "policy" if segments[0] in ("pmo", "policies") else "scenario"
    if whose == "scenario" and (depth != 0 or not _is_section(segments[0])):
        return ""
    here = ".".join(segments[:depth + 1])
    return f" (a section the {whose} does not have is set whole: {here}={_skeleton(segments[depth + 1:])})"


_BRACKETED = re.compile(r"(.+?)\[([^\]]+)\]$")


def _index_hint(node: dict[str, Any], segment: str) -> str:
    """``projects[0]`` for a list of the mapping: a path names an item by a dot (``projects.0``)."""
    found = _BRACKETED.match(segment)
    if found is None or not isinstance(node.get(found[1]), list):
        return ""
    return f"; an item of a list is named with a dot: {found[1]}.{found[2]}"


def _is_section(key: str) -> bool:
    """Whether ``key`` is a top-level section of the scenario format (SPEC 4, 10)."""
    from pmo_sim.scenario.models import Scenario  # here: the models need no override

    field = Scenario.model_fields.get(key)
    return field is not None and not field.is_required()


def _skeleton(segments: list[str]) -> str:
    """The YAML of a value holding ``...`` at ``segments``: a mapping per key, a list per
    index (``staffing.0.day`` is ``{staffing: [{day: ...}]}``, not ``{0: ...}``)."""
    if not segments:
        return "..."
    inner = _skeleton(segments[1:])
    return f"[{inner}]" if segments[0].isdecimal() else f"{{{segments[0]}: {inner}}}"


def _dotted_width(node: Any, segments: list[str], depth: int) -> int:
    """How many segments from ``depth`` on spell the longest key of ``node`` (a mapping) or
    name of one of its items (a list) that contains a dot; 0 when none does. Only the names
    with a dot are compared, so a long path costs no more than the names it meets."""
    if isinstance(node, dict):
        candidates: list[Any] = list(node)
    elif isinstance(node, list):
        candidates = [item.get("name") for item in node if isinstance(item, Mapping)]
    else:
        return 0
    names = [n for n in candidates if isinstance(n, str) and "." in n]
    widths = [len(parts) for parts in (n.split(".") for n in names)
              if segments[depth:depth + len(parts)] == parts]
    return max(widths, default=0)


def resolve(tree: Any, dotted: str) -> tuple[KeyPath, Any, str | int]:
    """Where PATH points: ``(key path, parent container, last key)``.

    Raises :class:`OverrideError` naming the first segment that does not exist.
    """
    segments = dotted.split(".")
    if any(not s for s in segments):
        raise OverrideError("empty segment in the path", dotted)
    node: Any = tree
    path: KeyPath = ()
    depth = -1
    while depth + 1 < len(segments):
        depth += 1
        segment = segments[depth]
        # A key or name with dots in it (a pool "dev.team", a policy "v1.2") spans several
        # segments: before, it could not be reached at all ("no such key; expected one of:
        # dev.team (got 'dev')"), so no --set, --vary or sensitivity range could change it.
        width = _dotted_width(node, segments, depth)
        if width > 1:
            segment = ".".join(segments[depth:depth + width])
            depth += width - 1
        last = depth == len(segments) - 1
        if isinstance(node, dict):
            if segment not in node and not last:
                keys = listed(list(map(str, node))) if node else "none (the mapping is empty)"
                raise OverrideError(f"no such key; expected one of: {keys}"
                                    + _new_section_hint(segments, depth) + _index_hint(node, segment),
                                    segment)
            key: str | int = segment
        elif isinstance(node, list):
            index = _item_index(node, segment)
            if index is None:
                raise OverrideError(f"no such item; {_describe_list(node)}", segment)
            key = index
        else:
            where = ".".join(segments[:depth]) or "the scenario"
            raise OverrideError(f"{where} holds a single value, so it has no entry {segment!r}", segment)
        if last:
            return path + (key,), node, key
        if isinstance(node, dict) and node[key] is None:  # a resolved scenario's absent section
            raise OverrideError(f"{'.'.join(segments[:depth + 1])} is not set, so it has no entry "
                                f"{segments[depth + 1]!r}" + _new_section_hint(segments, depth), segment)
        node, path = node[key], path + (key,)
    raise AssertionError("unreachable: the loop returns on the last segment")


def apply_override(tree: Any, dotted: str, value: Any) -> KeyPath:
    """Set the node at PATH to VALUE in place; returns the key path that was set."""
    path, parent, key = resolve(tree, dotted)
    parent[key] = parse_value(value)
    return path
