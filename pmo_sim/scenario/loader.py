"""Reading a scenario file into a validated :class:`~pmo_sim.scenario.models.Scenario`.

Loading goes through six steps, and every bad input becomes a :class:`~pmo_sim.errors.Problem`
located ``FILE:LINE:COL`` at the offending value (SPEC section 9):

1. **Read and decode**: the file must exist, be at most
   :data:`~pmo_sim.scenario.limits.MAX_FILE_BYTES` long and be UTF-8 text.
2. **Parse** (:mod:`pmo_sim.scenario.reader`): one bounded pass over the YAML events builds
   plain Python (dicts, lists, numbers, text) and a :class:`SourceMap` of where each node
   came from; depth, size, aliases and tags are checked on the way.
3. **Override** (``--set PATH=VALUE``, :mod:`pmo_sim.scenario.overrides`): the raw tree is
   edited, and the overridden node is located at its ``--set`` argument (the n-th override is
   ``--set:n:1``) instead of the file.
4. **Resolve policies**: each ``policies.NAME`` mapping is deep-merged over ``pmo``
   (mappings merge recursively; lists and scalars replace; a null policy is an empty one).
   The merge is done on the raw tree so locations survive; a value a policy inherits from
   ``pmo`` is remembered as an alias of its ``pmo`` path, so a problem in it is reported once,
   under ``pmo.…``.
5. **Validate** with the pydantic models in strict mode (so ``true`` is not a number and
   ``"15"`` is not 15), translate every error into a readable message
   (:mod:`pmo_sim.scenario.messages`), then run the cross-reference checks of
   :mod:`pmo_sim.scenario.checks`.
6. **Size** (:mod:`pmo_sim.scenario.limits`): a valid scenario whose expected number of
   simulation events per replication exceeds ``max_events`` is refused at the field that
   makes it large.

Syntax errors and crossed reading limits stop at step 2; otherwise *all* problems are
reported at once. When the models reject part of the tree, the cross-reference checks still
run, on what is left once the rejected parts are cut off: unknown keys are removed and every
rejected value is dropped (a rejected required value takes its mapping or list item with it,
up to a few levels). If what is left validates, its cross-reference problems are added (paths
mapped back to the file), except those that name something that was cut off: a task naming a
pool whose headcount is wrong is not also "an unknown pool".
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

from pydantic import ValidationError

from pmo_sim.errors import Problem, ScenarioError, check_pathlike, format_got
from pmo_sim.files import FileRefused, FileTooLarge, read_bounded
from pmo_sim.scenario.base import build_validator
from pmo_sim.scenario.checks import semantic_problems
from pmo_sim.scenario.limits import DEFAULT_MAX_EVENTS, MAX_FILE_BYTES, check_budget, size_problems
from pmo_sim.scenario.messages import clean_path, translate
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.overrides import KeyPath, OverrideError, apply_override
from pmo_sim.scenario.plain import read_plain_yaml
from pmo_sim.scenario.reader import plain_tree, read_yaml
from pmo_sim.scenario.sources import Location, SourceMap
from pmo_sim.scenario.writer import dump_yaml

Overrides = Union[Mapping[str, Any], Sequence[tuple[str, Any]]]
"""``--set`` overrides: ``{path: value}``, or ``[(path, value), ...]`` in command-line order
(a path may then repeat: the last one wins, and each is located at its own position)."""

# --------------------------------------------------------------------------- public API


def load_scenario(path: str | os.PathLike[str], overrides: Overrides | None = None, *,
                  max_events: float | None = DEFAULT_MAX_EVENTS) -> Scenario:
    """Read, override, resolve and validate a scenario file; raises :class:`ScenarioError`.

    ``max_events`` is the budget of expected simulation events per replication and policy
    (:func:`pmo_sim.scenario.limits.size_problems`); None disables the check.
    """
    check_pathlike(path, "the scenario file")
    name = os.fspath(path)
    return load_scenario_text(_read_text(name), name, overrides, max_events=max_events)


def _read_text(name: str) -> str:
    try:
        data = read_bounded(name, MAX_FILE_BYTES)
    except FileTooLarge:
        raise ScenarioError([_too_big(name)]) from None
    except FileRefused as exc:  # a pipe nothing comes through
        raise ScenarioError([Problem(str(exc), file=name)]) from None
    except FileNotFoundError:
        raise ScenarioError([Problem("file not found", file=name)]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem("is a directory, not a scenario file", file=name)]) from None
    except OSError as exc:
        raise ScenarioError([Problem(f"cannot read the file: {exc.strerror}", file=name)]) from None
    return _decode(data, name)


def load_written_scenario(path: str | os.PathLike[str]) -> Scenario:
    """A scenario file pmo-sim wrote (a results folder's ``scenario.yaml``): what
    ``load_scenario(path, None, max_events=None)`` gives, read fast when it is plain data.

    A file that is plain data and loads is read without recording where each value is written
    (:func:`pmo_sim.scenario.plain.read_plain_yaml`: 4.1 s to 1.1 s at 2,000 projects); any
    other, or one with a problem, is read again the careful way, whose :class:`ScenarioError`
    locates every problem.
    """
    name = os.fspath(path)
    text = _read_text(name)
    if len(text) <= MAX_FILE_BYTES:
        tree = read_plain_yaml(text)
        if isinstance(tree, dict):
            try:
                return _build(tree, SourceMap(name), None, None)
            except ScenarioError:
                pass  # located below
    return load_scenario_text(text, name, None, max_events=None)


def load_scenario_text(text: str, filename: str = "<string>", overrides: Overrides | None = None, *,
                       max_events: float | None = DEFAULT_MAX_EVENTS) -> Scenario:
    """Like :func:`load_scenario`, for YAML text already in memory."""
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError([_too_big(filename)])
    tree, sources = _parse(text, filename)
    return _build(tree, sources, overrides, max_events)


def scenario_from_dict(data: Mapping[str, Any], source: str = "<dict>", overrides: Overrides | None = None,
                       *, max_events: float | None = DEFAULT_MAX_EVENTS) -> Scenario:
    """Validate a scenario given as Python data (problems name ``source`` and the path)."""
    if not isinstance(data, Mapping):
        raise ScenarioError([Problem("the scenario must be a mapping", file=source, got=data, has_got=True)])
    return _build(plain_tree(data, source), SourceMap(source), overrides, max_events)


def dump_scenario(scenario: Scenario) -> str:
    """YAML of the resolved scenario: loading it back gives an equal :class:`Scenario`.

    Every field is written out, ``pmo`` and each policy in full (a policy written in full
    does not depend on what it would inherit from ``pmo``); fixed values are written as plain
    numbers and ``name`` and ``dist`` come first in each mapping, for readability.
    """
    return dump_yaml(_readable(scenario.model_dump(mode="json", by_alias=True)))


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


def _too_big(filename: str) -> Problem:
    return Problem(f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB, the limit for a scenario",
                   file=filename, line=1, column=1)


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
    root, sources = read_yaml(text, filename)
    if not isinstance(root, dict):
        raise ScenarioError([_not_a_mapping(root, sources.values.get(()), text, filename)])
    return root, sources


def _not_a_mapping(root: Any, where: Location | None, text: str, filename: str) -> Problem:
    """The top level is not a mapping: say what it is, where its node starts, and what was
    written there. Before, a document that is ``null`` or ``~`` was reported as "only comments"."""
    expected = "the top level must be a mapping of scenario fields (name, horizon, resources, ...), but "
    if where is None or where.line is None:  # no node at all: only comments (and blank lines)
        return Problem(expected + "it is empty (only comments)", file=filename, line=1, column=1)
    line, column = where.line, where.column or 1
    if root is not None:
        return Problem(f"{expected}it is a {_kind(root)}", file=filename, line=line, column=column,
                       got=root, has_got=True)
    written = text.splitlines()[line - 1][column - 1:].split(" #")[0].strip()
    if written in _NULL_WORDS or written.startswith("!!null"):
        return Problem(f"{expected}the document is null (it holds no mapping)", file=filename,
                       line=line, column=column, got=written, has_got=True)
    return Problem(f"{expected}the document is empty (it holds no mapping)", file=filename,
                   line=line, column=column)


#: How YAML writes null, the whole document given as one of them.
_NULL_WORDS = frozenset({"null", "Null", "NULL", "~"})


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return "number" if isinstance(value, (int, float)) else type(value).__name__


# --------------------------------------------------------------------------- build


_NOT_A_PAIR = object()


def override_pairs(overrides: Overrides | None, name: str = "overrides") -> list[tuple[Any, Any]]:
    """``overrides`` as (path, value) pairs; an item that is no pair has the value
    :data:`_NOT_A_PAIR` (reported at its ``--set``); a study's ``sets`` are read so too. One
    text (``"a.b=3"``, as ``--set`` takes it) was taken for a list of its letters, each an
    unknown key, and an item ``"a.b=3"`` for the path ``a.b=3``; a number failed on "'int'
    object is not iterable" (a study's ``sets="a.b=3"`` on "dictionary update sequence")."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    if isinstance(overrides, str | bytes) or not isinstance(overrides, Iterable):
        raise TypeError(f"{name} must be a mapping {{PATH: VALUE}} or a list of (PATH, VALUE) "
                        f"pairs, not {type(overrides).__name__} ({format_got(overrides)})")
    return [tuple(pair) if isinstance(pair, (tuple, list)) and len(pair) == 2
            else (pair, _NOT_A_PAIR) for pair in overrides]


def _build(tree: dict[str, Any], sources: SourceMap, overrides: Overrides | None,
           max_events: float | None) -> Scenario:
    check_budget(max_events)
    problems: list[Problem] = []
    for n, (path, value) in enumerate(override_pairs(overrides), start=1):
        try:
            if value is _NOT_A_PAIR and isinstance(path, str) and "=" in path:
                head = path.partition("=")[0].strip()
                raise OverrideError(f"an override is a (PATH, VALUE) pair, not the text of a "
                                    f"--set: give ({head!r}, VALUE)", path)
            if value is _NOT_A_PAIR or not isinstance(path, str):
                raise OverrideError("an override is a (PATH, VALUE) pair with a dotted text PATH", path)
            sources.override(apply_override(tree, path, value), Location("--set", n, 1))
        except OverrideError as exc:
            problems.append(Problem(exc.message, path=str(path), file="--set", line=n, column=1,
                                    got=exc.got, has_got=True))
    resolved = _resolve_policies(tree, sources)
    build_validator(Scenario)  # on first use (base.Model), not interrupted midway
    try:
        scenario = Scenario.model_validate(resolved, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems += [translate(err, resolved, sources) for err in errors]
        problems += _pruned_problems(resolved, errors, sources)
        raise ScenarioError(_unique(problems)) from None
    problems += [sources.problem(path, message, got) for path, message, got in semantic_problems(scenario)]
    if not problems and max_events is not None:
        problems += [sources.problem(path, message) for path, message in size_problems(scenario, max_events)]
    if problems:
        raise ScenarioError(_unique(problems))
    return scenario


# --------------------------------------------------------------------------- pruned re-validation

_PRUNE_ROUNDS = 6  # a rejected value can take its distribution, task and project with it

#: Required top-level scalars a rejected or missing value of which is replaced by a stand-in
#: for the cross-reference checks: the rest of the scenario does not depend on them, and
#: without one a file missing its `name` was refused for that alone (SPEC 9: every problem at
#: once). A problem judged against the stand-in horizon (a warm-up, a staffing day, a closure
#: beyond it) is left out: the horizon it would be judged against is itself wrong.
_STAND_INS: dict[str, Any] = {"name": "scenario", "horizon": 1.0}


def _pruned_problems(tree: dict[str, Any], errors: list[Any], sources: SourceMap) -> list[Problem]:
    """Cross-reference problems of what is left once the rejected parts are cut off."""
    doomed: set[KeyPath] = set()
    current: Any = tree
    remap: dict[KeyPath, list[int]] = {}
    stand_ins: set[str] = set()
    for _ in range(_PRUNE_ROUNDS):
        for err in errors:
            path = _original(clean_path(tuple(err["loc"]), current), remap)
            if err["type"] == "missing":
                if len(path) == 1 and path[0] in _STAND_INS:
                    continue  # given a stand-in below
                path = path[:-1]
            if not path:
                return []  # the top level itself is what is wrong
            doomed.add(path)
        remap = {}
        current = _prune(tree, (), doomed, remap)
        for key, value in _STAND_INS.items():
            if key not in current:
                current[key] = value
                stand_ins.add(key)
        try:
            scenario = Scenario.model_validate(current, strict=True)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            continue
        gone = _names_of(tree, doomed)
        # Every node a doomed path runs through (a set: one test per problem, where a scan of
        # every doomed path took minutes for 19,000 projects with a bad task each)
        above = {d[:k] for d in doomed for k in range(len(d) + 1)}
        out = []
        for path, message, got in semantic_problems(scenario):
            original = _original(path, remap)
            # A problem about a name that was cut off, or at a node whose part was cut off (a
            # task whose invalid effort was removed "needs an effort"), is an echo of the
            # structural problem already reported: leave it out.
            if (isinstance(got, str) and got in gone) or original in above:
                continue
            if "horizon" in stand_ins and "horizon" in message:
                continue
            out.append(sources.problem(original, message, got))
        return out
    return []


def _prune(node: Any, path: KeyPath, doomed: set[KeyPath], remap: dict[KeyPath, list[int]]) -> Any:
    """A copy of ``node`` without the doomed paths; ``remap`` keeps the list indices kept."""
    if isinstance(node, dict):
        return {k: _prune(v, path + (k,), doomed, remap) for k, v in node.items()
                if path + (k,) not in doomed}
    if isinstance(node, list):
        kept = [i for i in range(len(node)) if path + (i,) not in doomed]
        if len(kept) < len(node):
            remap[path] = kept
        return [_prune(node[i], path + (i,), doomed, remap) for i in kept]
    return node


def _original(path: KeyPath, remap: dict[KeyPath, list[int]]) -> KeyPath:
    """A path of the pruned tree, as a path of the original tree."""
    out: KeyPath = ()
    for seg in path:
        kept = remap.get(out)
        if kept is not None and isinstance(seg, int) and 0 <= seg < len(kept):
            seg = kept[seg]
        out += (seg,)
    return out


def _names_of(tree: dict[str, Any], doomed: set[KeyPath]) -> set[str]:
    """The names of what was cut off: mapping keys, and the ``name`` of cut list items."""
    names: set[str] = set()
    for path in doomed:
        node: Any = tree
        for seg in path[:-1]:
            try:
                node = node[seg]
            except (KeyError, IndexError, TypeError):
                node = None
        last = path[-1]
        if isinstance(node, dict) and isinstance(last, str):
            names.add(last)
            node = node.get(last)
        elif isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
            node = node[last]
        if isinstance(node, dict) and isinstance(node.get("name"), str):
            names.add(node["name"])
    return names


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


