"""Reading YAML text into plain Python, bounded and located.

A scenario file is untrusted input: it may be mailed, edited by hand or crafted. This module
turns YAML text into plain Python (dicts, lists, numbers, text, booleans, None) in *one
iterative pass over the parser's events* — never a recursive walk, never a general YAML
constructor — and refuses, located ``FILE:LINE:COL``, anything that could make loading slow,
huge or unsafe. Every limit is a constant of :mod:`pmo_sim.scenario.limits`:

* the nesting depth (:data:`~pmo_sim.scenario.limits.MAX_DEPTH`), checked as each mapping or
  list opens, so nothing downstream can recurse deeper than that;
* the number of nodes (:data:`~pmo_sim.scenario.limits.MAX_NODES`) and, separately, the nodes
  reached through aliases and merges (:data:`~pmo_sim.scenario.limits.MAX_ALIAS_NODES`). An
  anchor's expanded size is known when it closes, so a "billion laughs" file is refused at the
  first alias that crosses the limit, before anything is copied;
* the length of any one scalar (:data:`~pmo_sim.scenario.limits.MAX_TEXT_CHARS`).

Only plain data is built. Scalars are typed by the YAML 1.2 core schema (as ruamel.yaml reads
them: ``yes`` is text, ``0x1F`` and ``1_000`` are numbers, ``.inf`` is infinite; a date stays
text). The standard tags ``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!map``
and ``!!seq`` are honoured; every other tag (``!!python/...``, ``!!binary``, ``!custom``) is
refused, never constructed. Merge keys (``<<: *anchor``, ``<<: [*a, *b]``, ``<<: {...}``) work
as in YAML 1.1: keys written in the mapping win, then earlier merged mappings. An alias is a
copy, so editing one place (``--set``) never changes another. Duplicate keys are reported, all
of them. Each value and key is located where it is written; a value reached through an alias
or a merge is located where its anchor defines it.

The events come from PyYAML's libyaml parser when it is installed (about 30 times faster than
the pure-Python one, which is the fallback).
"""

from __future__ import annotations

import copy
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml import events as ev

from pmo_sim.errors import Problem, ScenarioError
from pmo_sim.scenario.limits import MAX_ALIAS_NODES, MAX_DEPTH, MAX_NODES, MAX_TEXT_CHARS
from pmo_sim.scenario.sources import KeyPath, Location, SourceMap, dotted

_LOADER: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
_NO_VALUE = object()


# --------------------------------------------------------------------------- scalars (YAML 1.2 core)

_CORE = "tag:yaml.org,2002:"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
# As ruamel's YAML 1.2 resolver: underscores anywhere after the sign (``-_0`` is 0), but at
# least one digit (``0x_`` is text, not an error).
_INT = re.compile(r"[-+]?(?:0b_*[01][01_]*|0o_*[0-7][0-7_]*|0x_*[0-9a-fA-F][0-9a-fA-F_]*"
                  r"|_*[0-9][0-9_]*)")
_FLOAT = re.compile(r"""[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                       |[0-9][0-9_]*[eE][-+]?[0-9]+
                       |\.[0-9_]+(?:[eE][-+][0-9]+)?
                       |\.(?:inf|Inf|INF))
                       |\.(?:nan|NaN|NAN)""", re.X)
_BASES = {"0b": 2, "0o": 8, "0x": 16}


def _to_int(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    base = _BASES.get(digits[:2], 10)
    return sign * int(digits[2:] if base != 10 else digits, base)


def _to_float(text: str) -> float:
    plain = text.replace("_", "").lower()
    if plain.endswith((".inf", ".nan")):
        return float(plain.replace(".", ""))
    return float(plain)


_T_NULL, _T_BOOL, _T_INT, _T_FLOAT, _T_STR = (_CORE + t for t in ("null", "bool", "int", "float", "str"))
_NUMERIC_START = frozenset("-+.0123456789")


def _typed(text: str, tag: str | None) -> Any:
    """The value of a plain scalar (``tag`` None) or of one with a standard tag.

    Raises ValueError when an explicitly tagged scalar does not fit its tag.
    """
    if tag is None and (not text or text[0] not in _NUMERIC_START):  # fast path: most scalars
        return None if text in _NULLS else _BOOLS.get(text, text)
    if tag in (None, _T_NULL) and text in _NULLS:
        return None
    if tag in (None, _T_BOOL) and text in _BOOLS:
        return _BOOLS[text]
    if tag in (None, _T_INT) and _INT.fullmatch(text):
        return _to_int(text)
    if tag in (None, _T_FLOAT, _T_INT) and _FLOAT.fullmatch(text):
        value = _to_float(text)
        if tag == _T_INT and not value.is_integer():
            raise ValueError(f"{text!r} is not a whole number")
        return int(value) if tag == _T_INT else value
    if tag == _T_FLOAT and _INT.fullmatch(text):
        return float(_to_int(text))
    if tag is None:
        return text
    raise ValueError(f"{text!r} cannot be read as {_short(tag)}")


def _short(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


_SCALAR_TAGS = frozenset({_T_STR, _T_INT, _T_FLOAT, _T_BOOL, _T_NULL})
_MAP_TAGS = frozenset({None, "!", _CORE + "map"})
_SEQ_TAGS = frozenset({None, "!", _CORE + "seq"})


# --------------------------------------------------------------------------- the event walk


class _Stop(Exception):
    """A limit was crossed: reading stops at once (the problem is already recorded)."""


@dataclass
class _Anchor:
    value: Any
    path: KeyPath | None
    log: tuple[int, int]  # the anchored node's entries in the location log
    size: int  # nodes, aliases expanded


@dataclass
class _Frame:
    value: Any  # the dict or list being filled
    path: KeyPath | None  # None for a mapping used as a key (refused)
    log_start: int
    nodes_start: int
    anchor: str | None
    where: Location
    key: Any = _NO_VALUE  # the mapping key waiting for its value
    key_loc: Location | None = None
    merge_key: bool = False  # the waiting key is `<<`
    merges: list[tuple[Any, Location, tuple[KeyPath | None, int, int]]] = field(default_factory=list)
    explicit: dict[Any, int] = field(default_factory=dict)  # key -> line it was written at


class _Walk:
    def __init__(self, filename: str):
        self.file = filename
        self.sources = SourceMap(filename)
        self.log: list[tuple[KeyPath, Location | None, Location]] = []
        self.anchors: dict[str, _Anchor] = {}
        self.stack: list[_Frame] = []
        self.problems: list[Problem] = []
        self.nodes = 0
        self.alias_nodes = 0
        self.root: Any = None
        self.documents = 0

    def at(self, mark: Any) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def fail(self, where: Location, message: str, path: KeyPath | None = None, stop: bool = False,
             got: Any = _NO_VALUE) -> None:
        self.problems.append(Problem(message, path=dotted(path or ()), file=where.file, line=where.line,
                                     column=where.column, got=None if got is _NO_VALUE else got,
                                     has_got=got is not _NO_VALUE))
        if stop:
            raise _Stop

    # -- where the next node goes

    def child_path(self) -> KeyPath | None:
        """The path of a node starting now; None when it is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if top.path is None:
            return None
        if isinstance(top.value, list):
            return top.path + (len(top.value),)
        if top.key is _NO_VALUE:
            return None
        return top.path + (top.key,)

    def count(self, n: int, where: Location, path: KeyPath | None) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            self.fail(where, f"the file has more than {MAX_NODES:,} values (mappings, lists and "
                      "scalars, aliases expanded), the limit for a scenario", path, stop=True)

    def place(self, value: Any, where: Location, prov: tuple[KeyPath | None, int, int] | None,
              merge_key: bool = False) -> None:
        """Hand a finished node to its parent (or make it the document)."""
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
            return
        if top.key is _NO_VALUE:
            if isinstance(value, (dict, list)):
                self.fail(where, "a mapping key must be text or a number, not a "
                          f"{'mapping' if isinstance(value, dict) else 'list'}", top.path)
                value = object()  # keeps the walk going; the problem is reported
            elif value is None or isinstance(value, bool):
                # YAML reads `null:`, `~:` or `true:` as null or a truth value, never as a name
                # (and `true` equals the key `1`): said here, at the key, as written
                self.fail(where, "a mapping key must be text or a number, not "
                          f"{'null' if value is None else 'true or false'}; quote it if it is a name",
                          top.path, got="null" if value is None else str(value).lower())
                value = object()
            top.key, top.key_loc, top.merge_key = value, where, merge_key
            return
        key, top.key = top.key, _NO_VALUE
        if top.merge_key:
            top.merges.append((value, where, prov or (None, 0, 0)))
        elif key in top.explicit:
            self.fail(top.key_loc or where, f"duplicate key; first defined at line {top.explicit[key]}",
                      (top.path or ()) + (key,), got=key)
        else:
            top.explicit[key] = (top.key_loc.line if top.key_loc else None) or 0
            top.value[key] = value

    def record(self, path: KeyPath | None, where: Location) -> None:
        if path is None:
            return
        key_loc = self.stack[-1].key_loc if self.stack and isinstance(self.stack[-1].value, dict) else None
        if key_loc is not None:
            self.sources.keys[path] = key_loc
        self.sources.values[path] = where
        self.log.append((path, key_loc, where))

    # -- events

    def scalar(self, event: ev.ScalarEvent) -> None:
        where, path = self.at(event.start_mark), self.child_path()
        self.count(1, where, path)
        text = event.value
        if len(text) > MAX_TEXT_CHARS:
            self.fail(where, f"text of {len(text):,} characters, longer than the limit of "
                      f"{MAX_TEXT_CHARS:,}", path, stop=True)
        value = self._scalar_value(event, where, path)
        if event.style == '"':  # escapes can spell what UTF-8 cannot hold
            _check_text(self, text, where, path)
        start = len(self.log)
        self.record(path, where)
        self._anchor(event.anchor, value, path, start, 1)
        merge = event.tag is None and not event.style and event.implicit[0] and text == "<<"
        self.place(value, where, None, merge_key=merge)

    def _scalar_value(self, event: ev.ScalarEvent, where: Location, path: KeyPath | None) -> Any:
        tag, text = event.tag, event.value
        if tag in ("!", _T_STR) or (tag is None and not event.implicit[0]):
            return text  # quoted, `!` or `!!str`: text
        if tag is None or tag in _SCALAR_TAGS:
            try:
                return _typed(text, tag)
            except ValueError as exc:  # a tag that does not fit, or an int past Python's digit limit
                self.fail(where, f"YAML tag {_short(tag)}: {exc}" if tag else
                          f"a number of {len(text):,} digits is too large to read", path)
                return None
        self.fail(where, self._tag_message(tag), path)
        return None

    def _tag_message(self, tag: str) -> str:
        return (f"YAML tag {_short(tag)} is not allowed: a scenario holds plain mappings, lists, "
                "numbers and text, and pmo-sim never constructs objects from tags")

    def open(self, event: ev.CollectionStartEvent) -> None:
        where, path = self.at(event.start_mark), self.child_path()
        if len(self.stack) >= MAX_DEPTH:
            self.fail(where, f"nested more than {MAX_DEPTH} levels deep, the limit for a scenario",
                      path, stop=True)
        self.count(1, where, path)
        is_map = isinstance(event, ev.MappingStartEvent)
        if event.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
            self.fail(where, self._tag_message(event.tag or ""), path)
        start = len(self.log)
        self.record(path, where)
        self.stack.append(_Frame({} if is_map else [], path, start, self.nodes - 1, event.anchor, where))

    def close(self, event: ev.CollectionEndEvent) -> None:
        frame = self.stack.pop()
        if isinstance(frame.value, dict):
            self._merge(frame)
        self._anchor(frame.anchor, frame.value, frame.path, frame.log_start, self.nodes - frame.nodes_start)
        self.place(frame.value, frame.where, (frame.path, frame.log_start, len(self.log)))

    def _anchor(self, name: str | None, value: Any, path: KeyPath | None, start: int, size: int) -> None:
        if name is not None:
            self.anchors[name] = _Anchor(value, path, (start, len(self.log)), size)

    def alias(self, event: ev.AliasEvent) -> None:
        where, path = self.at(event.start_mark), self.child_path()
        anchor = self.anchors.get(event.anchor)
        if anchor is None:
            self.fail(where, f"unknown alias *{event.anchor}: no anchor &{event.anchor} is defined "
                      "before it (an anchor cannot refer to itself)", path, stop=True)
            return
        self.alias_nodes += anchor.size
        if self.alias_nodes > MAX_ALIAS_NODES:
            self.fail(where, f"aliases expand to more than {MAX_ALIAS_NODES:,} values, the limit for "
                      "a scenario (a file that multiplies aliases of aliases, like a 'billion "
                      "laughs' attack, is refused)", path, stop=True)
        self.count(anchor.size, where, path)
        value = copy.deepcopy(anchor.value)  # a copy: editing one place never changes another
        start = len(self.log)
        self.record(path, where)
        if path is not None and anchor.path is not None:
            self._replay(anchor.path, path, anchor.log)
        self.place(value, where, (path, start, len(self.log)))

    def _replay(self, source: KeyPath, target: KeyPath, span: tuple[int, int],
                only: frozenset[Any] | None = None) -> None:
        """Locate a copied subtree where its original is written (skipping its own root)."""
        n = len(source)
        for i in range(*span):
            path, key_loc, value_loc = self.log[i]
            rel = path[n:]
            if not rel or path[:n] != source or (only is not None and rel[0] not in only):
                continue
            new = target + rel
            if key_loc is not None:
                self.sources.keys[new] = key_loc
            self.sources.values[new] = value_loc
            self.log.append((new, key_loc, value_loc))

    def _merge(self, frame: _Frame) -> None:
        """Apply ``<<`` merges: keys written in the mapping win, then earlier merged mappings."""
        for value, where, (src_path, start, end) in frame.merges:
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(item, dict) for item in items) or not items:
                self.fail(where, "a merge key << takes a mapping or a list of mappings (got "
                          f"{'a list' if isinstance(value, list) else type(value).__name__})",
                          (frame.path or ()) + ("<<",))
                continue
            for i, item in enumerate(items):
                added = frozenset(k for k in item if k not in frame.value)
                for k in added:
                    frame.value[k] = item[k]
                if frame.path is not None and src_path is not None and added:
                    base = src_path + ((i,) if isinstance(value, list) else ())
                    self._replay(base, frame.path, (start, end), added)


def _check_text(walk: _Walk, value: str, where: Location, path: KeyPath | None) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        walk.fail(where, "text holds a lone surrogate escape (\\ud800-\\udfff), which is not a "
                  "character", path)


# --------------------------------------------------------------------------- entry points


def read_yaml(text: str, filename: str) -> tuple[Any, SourceMap]:
    """The plain value of YAML ``text`` and where each node is; raises :class:`ScenarioError`.

    Syntax errors and crossed limits stop reading; tag, merge and duplicate-key problems are
    all collected first.
    """
    walk = _Walk(filename)
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            _dispatch(walk, event)
    except _Stop:
        raise ScenarioError(walk.problems) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([*walk.problems, syntax_problem(exc, text, filename)]) from None
    except UnicodeEncodeError as exc:
        line, column = _position(text, exc.start)
        raise ScenarioError([Problem("the text holds a lone surrogate, which is not a character",
                                     file=filename, line=line, column=column)]) from None
    if walk.problems:
        raise ScenarioError(walk.problems)
    return walk.root, walk.sources


def _dispatch(walk: _Walk, event: ev.Event) -> None:
    if isinstance(event, ev.ScalarEvent):
        walk.scalar(event)
    elif isinstance(event, (ev.MappingStartEvent, ev.SequenceStartEvent)):
        walk.open(event)
    elif isinstance(event, (ev.MappingEndEvent, ev.SequenceEndEvent)):
        walk.close(event)
    elif isinstance(event, ev.AliasEvent):
        walk.alias(event)
    elif isinstance(event, ev.DocumentStartEvent):
        walk.documents += 1
        if walk.documents > 1:
            walk.fail(walk.at(event.start_mark), "a second YAML document (---): a scenario file "
                      "holds exactly one", stop=True)


def _position(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - before.rfind("\n")


def syntax_problem(exc: yaml.YAMLError, text: str, filename: str) -> Problem:
    """A parser error as a located problem."""
    mark = getattr(exc, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    if mark is None and isinstance(getattr(exc, "position", None), int):  # ReaderError
        line, column = _position(text, exc.position)
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc).splitlines()[0]
    message = f"YAML syntax error: {problem}"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        message += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
    return Problem(message, file=filename, line=line, column=column)


def plain_tree(data: Any, source: str) -> Any:
    """A copy of Python data as plain dicts, lists and scalars, within the reading limits.

    For scenarios given as Python data (:func:`pmo_sim.scenario.loader.scenario_from_dict`):
    tuples become lists, scalars plain values (:func:`_plain_scalar`), and data nested too deep,
    too large or referring to itself is refused like such a file.
    """
    box: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(data, box, 0, 1)]
    nodes = 0
    while stack:
        node, parent, key, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH or nodes > MAX_NODES:
            what = (f"nested more than {MAX_DEPTH} levels deep" if depth > MAX_DEPTH
                    else f"more than {MAX_NODES:,} values (or it contains itself)")
            raise ScenarioError([Problem(f"the scenario data is {what}, the limit for a scenario",
                                         file=source)])
        if isinstance(node, Mapping):
            out: Any = {}
            for k, v in node.items():
                k = str(k) if isinstance(k, str) else k
                out[k] = None
                stack.append((v, out, k, depth + 1))
        elif isinstance(node, (list, tuple)):
            out = [None] * len(node)
            stack.extend((v, out, i, depth + 1) for i, v in enumerate(node))
        else:
            out = _plain_scalar(node)
        parent[key] = out
    return box[0]


def _plain_scalar(node: Any) -> Any:
    """A scalar as the plain value it holds: numpy's integers an ``int``, its floats a ``float``,
    ``numpy.bool_`` a ``bool`` (refused where a number goes, not read as 1), ``str`` its text."""
    kind = getattr(getattr(node, "dtype", None), "kind", "")
    if isinstance(node, bool) or node is None or kind == "b":
        return None if node is None else bool(node)
    if isinstance(node, (numbers.Integral, float)) or kind == "f":
        return int(node) if isinstance(node, numbers.Integral) else float(node)
    return str(node) if isinstance(node, str) else node
