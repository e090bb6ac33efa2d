"""Variants of one scenario: the same file with some fields set to other values, validated.

Sweeps and sensitivity studies run a scenario at many *points*, each a mapping ``{PATH:
value}`` of ``--set`` paths (:mod:`pmo_sim.scenario.overrides`). A :class:`Base` holds what
the points are applied to, and :meth:`Base.variant` builds one validated
:class:`~pmo_sim.scenario.models.Scenario` per point.

The points are applied to the scenario as the user wrote it, so they mean what ``--set`` means:

- **A scenario file** is read once as plain YAML (the *raw* tree), and every point is applied
  to that tree before policies are deep-merged over ``pmo``: a ``pmo.*`` path changes the
  policies that inherit that lever, not those that set it themselves. Re-validating a tree is
  fast (milliseconds) where re-reading the file with locations is not (a tenth of a second),
  so a point that fails is read again the slow way, for messages located in the file.
- **A Scenario object** has its policies already resolved. Its raw tree is rebuilt with each
  policy written as what differs from ``pmo`` (the way a file is written), so a ``pmo.*``
  path again reaches the policies that agree with ``pmo`` on that lever.

A problem with a varied value is reported at the option that varied it (``--vary``), or at
the scenario entry that declared it, instead of at an anonymous ``--set`` line.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML

from pmo_sim.errors import Problem, ScenarioError, UsageError, check_pathlike
from pmo_sim.scenario.loader import dump_scenario, load_scenario, override_pairs, scenario_from_dict
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.overrides import OverrideError, resolve

log = logging.getLogger(__name__)

#: The most values (mappings, lists and scalars of the scenario as written) a study may build in
#: all: every design point is a validated copy of the scenario, held until the study ends, at up
#: to about 450 bytes and 10 us a value (a scenario of 300 projects: 1.1 MB and 25 ms a point).
#: Before, a sobol study of 98,304 points of such a scenario (within every other limit) grew
#: past 2 GB in 40 s, and would have needed 100 GB and 80 minutes, before any message.
MAX_STUDY_VALUES = 5_000_000

#: Where a varied path's problems are reported: ``(file, line, column)``; line None for an option.
Origin = tuple[str, int | None, int | None]
VARY: Origin = ("--vary", None, None)


def _safe_yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def _policy_diff(policy: Any, pmo: Any) -> Any:
    """What ``policy`` sets differently from ``pmo`` (mappings compared key by key)."""
    if not isinstance(policy, dict) or not isinstance(pmo, dict):
        return policy
    out = {}
    for key, value in policy.items():
        if key not in pmo:
            out[key] = value
        elif value != pmo[key]:
            out[key] = _policy_diff(value, pmo[key]) if isinstance(value, dict) else value
    return out


def raw_tree(scenario: Scenario) -> dict[str, Any]:
    """A plain tree of ``scenario`` that loads back equal, with policies written as differences."""
    tree = _safe_yaml(dump_scenario(scenario))
    pmo = tree.get("pmo") or {}
    tree["policies"] = {name: _policy_diff(p, pmo) for name, p in (tree.get("policies") or {}).items()}
    return dict(tree)


@dataclass(frozen=True)
class Base:
    """A scenario (a file, or an object) with ``sets`` applied, ready to derive variants from."""

    scenario: Scenario
    tree: dict[str, Any]
    source: str
    sets: Mapping[str, Any]
    file: Path | None = None

    @classmethod
    def of(cls, scenario: str | os.PathLike[str] | Scenario,
           sets: Mapping[str, Any] | None = None, loaded: Scenario | None = None) -> Base:
        """Load and validate the base; a bad file or ``--set`` raises a located :class:`ScenarioError`.
        ``loaded``: the file already loaded with ``sets`` (not loaded again)."""
        sets = dict(override_pairs(sets, "sets")) if sets else {}  # "a=1": "dictionary update ..."
        if isinstance(scenario, Scenario):
            tree = raw_tree(scenario)
            base = scenario_from_dict(tree, "<scenario>", sets or None) if sets else scenario
            return cls(base, tree, "<scenario>", sets)
        check_pathlike(scenario, "scenario", " or a Scenario")
        file = Path(scenario)
        base = loaded if loaded is not None else load_scenario(file, sets or None)  # problems located
        tree = _safe_yaml(file.read_text(encoding="utf-8-sig"))
        return cls(base, tree, os.fspath(file), sets, file)

    def variant(self, point: Mapping[str, Any], origins: Mapping[str, Origin] | None = None) -> Scenario:
        """The scenario with ``point`` applied over ``sets``, or a :class:`ScenarioError`.

        Problems with a varied path are reported at ``origins[path]`` (default ``--vary``).
        """
        overrides = {**self.sets, **point}
        try:
            return scenario_from_dict(self.tree, self.source, overrides)
        except ScenarioError as exc:
            problems = exc.problems
        if self.file is not None:
            try:  # the slow way, for problems located in the file
                load_scenario(self.file, overrides)
            except ScenarioError as exc:
                problems = exc.problems
        raise ScenarioError(relocate(problems, list(overrides), point, origins or {}))

    def current(self, path: str) -> Any:
        """The value at PATH in the resolved base scenario (a fixed distribution as its number).

        Raises :class:`ScenarioError` located at ``--vary`` when the path does not exist.
        """
        try:
            _, parent, key = resolve(self._dumped, path)
            value = parent[key]
        except OverrideError as exc:
            raise ScenarioError([Problem(exc.message, path=path, file="--vary", got=exc.got,
                                         has_got=True)]) from None
        except (KeyError, IndexError, TypeError):
            value = None  # a new key of an existing mapping: the loader says whether it is allowed
        if isinstance(value, dict) and value.get("dist") == "fixed":
            return value["value"]
        return value

    @functools.cached_property
    def _dumped(self) -> dict[str, Any]:
        """The resolved scenario as plain data, read (never changed) by :meth:`current`: dumped once,
        not twice per path (200 ranges of a 200-project scenario took ``validate`` 36 s)."""
        # by_alias: the names a scenario file and a path use. Without it a distribution's
        # mean read as "mean_" (its Python name), so sensitivity told a user to vary
        # intake.arrivals.mean_, a path that does not exist, and a path ending in .mean
        # held no value here.
        return self.scenario.model_dump(by_alias=True)

    def integer_field(self, path: str) -> bool:
        """Whether PATH holds a whole number (a headcount, a crew size) rather than a float or a flag.

        Read from the value when there is one, else from the model's type (an optional
        ``wip_limit`` that is not set is still an integer field).
        """
        try:
            value = self.current(path)
        except ScenarioError:
            return False
        if value is None:
            return field_type(path) is int
        return isinstance(value, int) and not isinstance(value, bool)


def _unwrap(tp: Any) -> Any:
    """``tp`` without ``Annotated[...]`` and without ``None`` in an optional."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def field_type(path: str) -> Any:
    """The type a scenario field at PATH is declared with, or None when no model field matches.

    List items (named or indexed) and mapping entries are stepped over; in a union of models
    (the distributions) the first member that has the field decides.
    """
    tp: Any = Scenario
    for segment in path.split("."):
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if origin in (list, dict):
            tp = typing.get_args(tp)[-1]
            continue
        members = typing.get_args(tp) if origin in (typing.Union, types.UnionType) else (tp,)
        found = [f.annotation for m in members if isinstance(m, type) and issubclass(m, BaseModel)
                 for name, f in m.model_fields.items() if segment in (name, f.alias)]
        if not found:
            return None
        tp = found[0]
    return _unwrap(tp)


def relocate(problems: Sequence[Problem], override_paths: Sequence[str], point: Mapping[str, Any],
             origins: Mapping[str, Origin]) -> list[Problem]:
    """Problems of the ``--set`` lines that carried a point's paths, moved to their origin."""
    out = []
    for p in problems:
        line = p.line if p.file == "--set" else None
        path = override_paths[line - 1] if line is not None and 0 < line <= len(override_paths) else None
        if path is not None and path in point:
            file, at_line, column = origins.get(path, VARY)
            p = dataclasses.replace(p, file=file, line=at_line, column=column)
        out.append(p)
    return list({str(p): p for p in out}.values())


def check_path(path: object) -> None:
    """A :class:`TypeError` unless a path to vary (a sweep's or a sensitivity's) is text: an
    integer failed deep inside with "'int' object has no attribute 'split'"."""
    if not isinstance(path, str):
        raise TypeError(f"a path to vary must be dotted text, not {type(path).__name__} ({path!r})")


def validate_axes(base: Base, axes: Mapping[str, Sequence[Any]],
                  origins: Mapping[str, Origin] | None = None) -> None:
    """Every value of every path, one at a time, all problems at once (before any run)."""
    check_copies(base, sum(len(values) for values in axes.values()))
    problems: list[Problem] = []
    for path, values in axes.items():
        for value in values:
            try:
                base.variant({path: value}, origins)
            except ScenarioError as exc:
                # A problem elsewhere than the varied field (a crew larger than the pool a
                # headcount leaves) did not say which value made it: "[at PATH=VALUE]", as a
                # combination's problems do.
                problems += [p if p.path == path else
                             dataclasses.replace(p, message=f"{p.message} [at {path}={value}]")
                             for p in exc.problems]
    if problems:
        raise ScenarioError(list({str(p): p for p in problems}.values()))


def variants(base: Base, points: Sequence[Mapping[str, Any]],
             origins: Mapping[str, Origin] | None = None) -> list[Scenario]:
    """The scenario at every point, validated; every failing point's problems at once.

    Call :func:`validate_axes` first: then only combinations of valid values can fail here.
    """
    check_copies(base, len(points))
    out: list[Scenario] = []
    problems: list[Problem] = []
    for point in points:
        try:
            out.append(base.variant(point, origins))
        except ScenarioError as exc:
            where = ", ".join(f"{k}={v}" for k, v in point.items())
            problems += [dataclasses.replace(p, message=f"{p.message} [at {where}]") for p in exc.problems]
    if problems:
        raise ScenarioError(list({str(p): p for p in problems}.values()))
    return out


def check_copies(base: Base, copies: int) -> None:
    """A :class:`UsageError` when ``copies`` of the scenario hold more than :data:`MAX_STUDY_VALUES`."""
    size = _values(base.tree)
    if copies * size > MAX_STUDY_VALUES:
        raise UsageError(f"{copies:,} design points of a scenario of {size:,} values make {copies * size:,} "
                         f"values, more than the {MAX_STUDY_VALUES:,} a study may build and hold (each "
                         "point is a validated copy of the scenario, about 0.5 KB and 10 us a value): use "
                         "fewer values, --samples or factors, or a smaller scenario")


def _values(tree: Any) -> int:
    """The mappings, lists and scalars of a plain tree (its keys not counted)."""
    if isinstance(tree, dict):
        return 1 + sum(_values(v) for v in tree.values())
    if isinstance(tree, list):
        return 1 + sum(_values(v) for v in tree)
    return 1


def whole(x: float) -> int:
    """``x`` rounded to the nearest whole number, halves up (2.5 -> 3, not Python's 2)."""
    return int(math.floor(x + 0.5))


def round_for(base: Base, path: str, values: Sequence[Any]) -> list[Any]:
    """Values for PATH: rounded to whole numbers when it is an integer field (said on stderr).

    Duplicates that rounding creates are dropped, keeping the order; a warning names the
    values used, so nothing is dropped silently.
    """
    if not base.integer_field(path):
        return list(values)
    rounded = [whole(v) if isinstance(v, float) else v for v in values]
    kept = list(dict.fromkeys(rounded))
    if rounded != list(values):
        merged = len(values) - len(kept)  # points that rounding made equal to another
        log.warning("%s holds whole numbers: values rounded to %s%s", path, ", ".join(map(str, kept)),
                    f" ({len(values)} values given, {len(kept)} points run)" if merged else "")
    return kept
