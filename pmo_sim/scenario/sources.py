"""Where each node of a scenario's raw tree came from, for ``FILE:LINE:COL`` messages.

The reader (:mod:`pmo_sim.scenario.reader`) records the position of every key and value as it
builds the tree; ``--set`` overrides relocate what they replace; the policy merge records which
values a policy inherits from ``pmo``, so a problem in one is reported once, where it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from pmo_sim.errors import Problem

KeyPath = tuple[Union[str, int], ...]
_NO_VALUE = object()


@dataclass(frozen=True, slots=True)
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
