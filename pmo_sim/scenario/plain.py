"""Reading plain YAML fast, without locations: a results folder's ``scenario.yaml``.

:func:`pmo_sim.scenario.reader.read_yaml` records where every key and value is written, so a
problem can be reported ``FILE:LINE:COL``; that bookkeeping costs ~5 µs a node, ~3.5 s of a
2,000-project scenario (320,000 lines), which every command on a results folder paid to read
the file a run wrote. A file pmo-sim wrote holds only plain mappings, lists and scalars, and
one that loads needs no locations. :func:`read_plain_yaml` reads such a file from the same
parser's events, types scalars by the same rules (:func:`~pmo_sim.scenario.reader._typed`), and
gives the same tree in ~0.6 s; anything that is not plain data (an anchor, alias, tag, merge
key, duplicate key, a key that is not text or a number, a limit crossed, a syntax error) makes
it return None instead, and the caller reads the file the careful way, which says what is wrong
and where.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml import events as ev

from pmo_sim.scenario.limits import MAX_DEPTH, MAX_NODES, MAX_TEXT_CHARS
from pmo_sim.scenario.reader import _LOADER, _typed

_MISSING = object()


class _NotPlain(Exception):
    """Not plain data: the careful reader must say why."""


def read_plain_yaml(text: str) -> Any:
    """The value of YAML ``text`` as :func:`~pmo_sim.scenario.reader.read_yaml` reads it, or
    None when the text is not one document of plain data within the reading limits (then
    ``read_yaml`` finds the problem, or reads what this reader does not: anchors, merges)."""
    try:
        return _walk(text)
    except (_NotPlain, yaml.YAMLError, ValueError, UnicodeError):
        return None


def _walk(text: str) -> Any:
    scalar, mapping_start, sequence_start = ev.ScalarEvent, ev.MappingStartEvent, ev.SequenceStartEvent
    ends = (ev.MappingEndEvent, ev.SequenceEndEvent)
    stack: list[Any] = []  # the dicts and lists being filled
    keys: list[Any] = []  # per open collection: the key waiting for its value (_MISSING: none)
    root: Any = _MISSING
    seen: dict[str, Any] = {}
    nodes = documents = 0
    for event in yaml.parse(text, Loader=_LOADER):
        kind = event.__class__
        if kind is scalar:
            if event.anchor is not None or event.tag is not None:
                raise _NotPlain
            nodes += 1
            value = event.value
            if len(value) > MAX_TEXT_CHARS or nodes > MAX_NODES:
                raise _NotPlain
            if not event.implicit[0]:  # quoted: text
                if event.style == '"':
                    value.encode("utf-8")  # a lone surrogate escape: UnicodeError
            else:  # typed once per distinct text (names, pools, distributions repeat)
                typed = seen.get(value, _MISSING)
                if typed is _MISSING:
                    typed = seen[value] = _typed(value, None)
                value = typed
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                raise _NotPlain
            nodes += 1
            if nodes > MAX_NODES:
                raise _NotPlain
            stack.append({} if kind is mapping_start else [])
            keys.append(_MISSING)
            continue
        elif kind in ends:  # counted when it opened
            keys.pop()
            value = stack.pop()
        elif kind is ev.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _NotPlain
            continue
        elif kind is ev.AliasEvent:
            raise _NotPlain
        else:  # stream and document ends
            continue
        if not stack:
            root = value
            continue
        top = stack[-1]
        if top.__class__ is list:
            top.append(value)
        elif keys[-1] is _MISSING:
            if (value is None or value is True or value is False or value == "<<"
                    or not isinstance(value, (str, int, float)) or value in top):
                raise _NotPlain  # refused, a merge, or a duplicate: the careful reader's
            keys[-1] = value
        else:
            top[keys[-1]] = value
            keys[-1] = _MISSING
    if root is _MISSING:
        raise _NotPlain
    return root
