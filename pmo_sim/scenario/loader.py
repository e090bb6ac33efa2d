"""Reading a scenario file into a validated :class:`~pmo_sim.scenario.models.Scenario`.

Loading goes through five steps, and every bad input becomes a :class:`~pmo_sim.errors.Problem`
located ``FILE:LINE:COL`` at the offending value (SPEC section 9):

1. **Read and decode**: the file must exist and be UTF-8 text.
2. **Parse** with ruamel.yaml's round-trip loader, which keeps the line and column of every
   key and value. The parsed tree is converted to plain Python (dicts, lists, numbers,
   strings) while a :class:`SourceMap` records where each node came from.
3. **Override** (``--set PATH=VALUE``, :mod:`pmo_sim.scenario.overrides`): the raw tree is
   edited, and the overridden node is located at the ``--set`` argument instead of the file.
4. **Resolve policies**: each ``policies.NAME`` mapping is deep-merged over ``pmo``
   (mappings merge recursively; lists and scalars replace; a null policy is an empty one).
   The merge is done on the raw tree so locations survive; a value a policy inherits from
   ``pmo`` is remembered as an alias of its ``pmo`` path, so a problem in it is reported once,
   under ``pmo.…``.
5. **Validate** with the pydantic models in strict mode (so ``true`` is not a number and
   ``"15"`` is not 15), translate every error into a readable message
   (:mod:`pmo_sim.scenario.messages`), then run the cross-reference checks of
   :mod:`pmo_sim.scenario.checks`.

Syntax errors stop at step 2; otherwise *all* problems are reported at once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from pmo_sim.errors import Problem, ScenarioError
from pmo_sim.scenario.checks import semantic_problems
from pmo_sim.scenario.messages import translate
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.overrides import KeyPath, OverrideError, apply_override
from pmo_sim.scenario.yamlio import round_trip_yaml

_NO_VALUE = object()


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based


@dataclass
class SourceMap:
    """Where each node of the raw tree came from: a file position or a ``--set`` argument."""

    file: str
    values: dict[KeyPath, Location] = field(default_factory=dict)
    keys: dict[KeyPath, Location] = field(default_factory=dict)
    aliases: dict[KeyPath, KeyPath] = field(default_factory=dict)

    def canonical(self, path: KeyPath) -> KeyPath:
        """The path a value was written at (a policy's inherited value lives under ``pmo``)."""
        for i in range(len(path), 0, -1):
            if path[:i] in self.aliases:
                return self.aliases[path[:i]] + path[i:]
        return path

    def locate(self, path: KeyPath, key: bool = False) -> Location:
        """The key's or value's location, else that of the nearest located ancestor."""
        if key and path in self.keys:
            return self.keys[path]
        for i in range(len(path), -1, -1):
            if path[:i] in self.values:
                return self.values[path[:i]]
        return Location(self.file)

    def override(self, path: KeyPath, where: Location) -> None:
        """Everything at or under ``path`` now comes from ``where``."""
        for table in (self.values, self.keys):
            for p in [p for p in table if p[: len(path)] == path]:
                del table[p]
        self.values[path] = where

    def problem(self, path: KeyPath, message: str, got: Any = _NO_VALUE, key: bool = False) -> Problem:
        path = self.canonical(path)
        where = self.locate(path, key)
        return Problem(message=message, path=dotted(path), file=where.file, line=where.line,
                       column=where.column, got=None if got is _NO_VALUE else got,
                       has_got=got is not _NO_VALUE)


def dotted(path: KeyPath) -> str:
    return ".".join(str(p) for p in path)


# --------------------------------------------------------------------------- public API


def load_scenario(path: str | os.PathLike[str], overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, override, resolve and validate a scenario file; raises :class:`ScenarioError`."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise ScenarioError([Problem("file not found", file=name)]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem("is a directory, not a scenario file", file=name)]) from None
    except OSError as exc:
        raise ScenarioError([Problem(f"cannot read the file: {exc.strerror}", file=name)]) from None
    return load_scenario_text(_decode(data, name), name, overrides)


def load_scenario_text(
    text: str, filename: str = "<string>", overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Like :func:`load_scenario`, for YAML text already in memory."""
    tree, sources = _parse(text, filename)
    return _build(tree, sources, overrides)


def scenario_from_dict(
    data: Mapping[str, Any], source: str = "<dict>", overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Validate a scenario given as Python data (problems name ``source`` and the path)."""
    if not isinstance(data, Mapping):
        raise ScenarioError([Problem("the scenario must be a mapping", file=source, got=data, has_got=True)])
    sources = SourceMap(source)
    return _build(_to_plain(data, (), sources), sources, overrides)


def dump_scenario(scenario: Scenario) -> str:
    """YAML of the resolved scenario: loading it back gives an equal :class:`Scenario`.

    Every field is written out, ``pmo`` and each policy in full (a policy written in full
    does not depend on what it would inherit from ``pmo``); fixed values are written as plain
    numbers and ``name`` and ``dist`` come first in each mapping, for readability.
    """
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    out = StringIO()
    yaml.dump(_readable(scenario.model_dump(mode="json", by_alias=True)), out)
    return out.getvalue()


def _readable(value: Any) -> Any:
    if isinstance(value, dict):
        if value.keys() == {"dist", "value"} and value["dist"] == "fixed":
            return value["value"]
        ordered = {**{k: value[k] for k in ("name", "dist") if k in value}, **value}
        return {k: _readable(v) for k, v in ordered.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value


# --------------------------------------------------------------------------- read and parse


def _decode(data: bytes, filename: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError([Problem("the file is UTF-16 encoded; save it as UTF-8", file=filename,
                                     line=1, column=1)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        raise ScenarioError([Problem(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded); save it as UTF-8",
            file=filename, line=before.count(b"\n") + 1, column=column,
        )]) from None


def _parse(text: str, filename: str) -> tuple[dict[str, Any], SourceMap]:
    if not text.strip():
        raise ScenarioError([Problem("the file is empty; a scenario needs at least name, horizon and "
                                     "resources (try `pmo-sim new NAME`)", file=filename, line=1, column=1)])
    try:
        root = round_trip_yaml().load(text)
    except DuplicateKeyError:
        raise ScenarioError(_duplicate_keys(YAML(typ="rt").compose(text), filename)) from None
    except YAMLError as exc:
        raise ScenarioError([_syntax_problem(exc, text, filename)]) from None
    sources = SourceMap(filename)
    if not isinstance(root, CommentedMap):
        what = "empty (only comments)" if root is None else f"a {_kind(root)}"
        raise ScenarioError([Problem(
            f"the top level must be a mapping of scenario fields (name, horizon, resources, ...), "
            f"but it is {what}", file=filename, line=1, column=1,
        )])
    sources.values[()] = Location(filename, root.lc.line + 1, root.lc.col + 1)
    return _to_plain(root, (), sources), sources


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return "number" if isinstance(value, (int, float)) else type(value).__name__


def _syntax_problem(exc: YAMLError, text: str, filename: str) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    if mark is None and isinstance(getattr(exc, "position", None), int):  # ReaderError
        before = text[: exc.position]  # type: ignore[attr-defined]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc).splitlines()[0]
    message = f"YAML syntax error: {problem}"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        message += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
    return Problem(message, file=filename, line=line, column=column)


def _duplicate_keys(node: Node, filename: str, path: KeyPath = ()) -> list[Problem]:
    """Every duplicate key in the document (ruamel stops at the first)."""
    problems: list[Problem] = []
    if isinstance(node, MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append(Problem(
                    f"duplicate key; first defined at line {seen[key] + 1}", path=dotted(path + (key,)),
                    file=filename, line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1, got=key, has_got=True,
                ))
            else:
                seen[key] = key_node.start_mark.line
            problems += _duplicate_keys(value_node, filename, path + (key,))
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            problems += _duplicate_keys(item, filename, path + (i,))
    return problems


def _to_plain(node: Any, path: KeyPath, sources: SourceMap) -> Any:
    """Plain Python from ruamel's round-trip types, recording locations on the way."""
    if isinstance(node, Mapping):
        out = {}
        for key, value in node.items():
            # Keys brought in by a `<<:` merge have no position of their own: they are then
            # located at the mapping that holds them.
            position = node.lc.data.get(key) if isinstance(node, CommentedMap) else None
            if position is not None:
                k_line, k_col, v_line, v_col = position
                sources.keys[path + (key,)] = Location(sources.file, k_line + 1, k_col + 1)
                sources.values[path + (key,)] = Location(sources.file, v_line + 1, v_col + 1)
            out[str(key) if isinstance(key, str) else key] = _to_plain(value, path + (key,), sources)
        return out
    if isinstance(node, (list, tuple)):
        items = []
        for i, value in enumerate(node):
            if isinstance(node, CommentedSeq):
                line, col = node.lc.item(i)
                sources.values[path + (i,)] = Location(sources.file, line + 1, col + 1)
            items.append(_to_plain(value, path + (i,), sources))
        return items
    if isinstance(node, bool) or node is None:
        return node
    for plain in (int, float, str):
        if isinstance(node, plain):
            return plain(node)
    return node


# --------------------------------------------------------------------------- build


def _build(tree: dict[str, Any], sources: SourceMap, overrides: Mapping[str, Any] | None) -> Scenario:
    problems: list[Problem] = []
    for n, (path, value) in enumerate((overrides or {}).items(), start=1):
        try:
            sources.override(apply_override(tree, path, value), Location("--set", n, 1))
        except OverrideError as exc:
            problems.append(Problem(exc.message, path=path, file="--set", line=n, column=1,
                                    got=exc.got, has_got=True))
    resolved = _resolve_policies(tree, sources)
    try:
        scenario = Scenario.model_validate(resolved, strict=True)
    except ValidationError as exc:
        problems += [translate(err, resolved, sources) for err in exc.errors(include_url=False)]
        raise ScenarioError(_unique(problems)) from None
    problems += [sources.problem(path, message, got) for path, message, got in semantic_problems(scenario)]
    if problems:
        raise ScenarioError(_unique(problems))
    return scenario


def _unique(problems: list[Problem]) -> list[Problem]:
    # A problem inherited by several policies is found once per policy: report it once.
    return list({str(p): p for p in problems}.values())


def _resolve_policies(tree: dict[str, Any], sources: SourceMap) -> dict[str, Any]:
    policies, pmo = tree.get("policies"), tree.get("pmo", {})
    if not isinstance(policies, dict) or not isinstance(pmo, dict):
        return tree  # not mappings: validation says so
    merged = {}
    for name, policy in policies.items():
        policy = {} if policy is None else policy
        merged[name] = (_deep_merge(pmo, policy, ("pmo",), ("policies", name), sources)
                        if isinstance(policy, dict) else policy)
    return {**tree, "policies": merged}


def _deep_merge(base: dict[str, Any], over: dict[str, Any], base_path: KeyPath, over_path: KeyPath,
                sources: SourceMap) -> dict[str, Any]:
    out = dict(base)
    for key in base:
        if key not in over:
            sources.aliases[over_path + (key,)] = base_path + (key,)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _deep_merge(base[key], value, base_path + (key,), over_path + (key,), sources)
        else:
            out[key] = value
    return out
