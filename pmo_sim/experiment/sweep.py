"""Sweeps: how a KPI responds to one or several scenario fields, for every policy.

``pmo-sim sweep SCENARIO --vary PATH=V1,V2,... [--vary PATH2=...]`` runs the experiment at
every point of the full grid of the varied fields (every combination of their values), as
``--set PATH=V`` would. Every point uses the same root seed, so replication r sees the same
random world at every point and under every policy (common random numbers across points
too): the curves differ by the parameters' effects, not by sampling noise, and neighbouring
points are positively correlated rather than independently jittered. All points share one
backend (:mod:`pmo_sim.experiment.batch`).

PATH is any ``--set`` path (see :mod:`pmo_sim.scenario.overrides`); values are YAML scalars
read exactly like ``--set`` values. ``PATH=low:high:steps`` gives ``steps`` evenly spaced
values from low to high inclusive: whole numbers stay integers, and when the field is an
integer field (a headcount, say) the values are rounded half up and duplicates dropped,
with a warning naming the values used.

Nothing is dropped silently: a path given twice, a path also set with ``--set``, a value
listed twice, or more than :data:`MAX_POINTS` grid points are errors. Every value of every
path, then every combination, is loaded and validated before anything runs, so a bad path
or value fails at once, reported like a ``--set`` problem but located at ``--vary``.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pmo_sim.analysis.stats import summary
from pmo_sim.errors import Problem, ScenarioError, UsageError
from pmo_sim.experiment.batch import Study, run_variants
from pmo_sim.experiment.spec import Progress
from pmo_sim.experiment.variants import Base, check_path, round_for, validate_axes, variants
from pmo_sim.scenario.loader import override_pairs
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.overrides import OverrideError, parse_value
from pmo_sim.schema import KPI_COLUMNS

#: The columns after the varied paths (one column per path, named by the path).
RESULT_COLUMNS = ("policy", "metric", "mean", "ci_low", "ci_high", "n")
#: Most grid points one sweep may have (a typo such as 0:1:1000 twice is a million runs).
MAX_POINTS = 10_000


def _vary_problem(message: str, text: str) -> ScenarioError:
    return ScenarioError([Problem(message, file="--vary", got=text, has_got=True)])


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``PATH=V1,V2,...`` or ``PATH=low:high:steps`` as ``(path, values)``.

    Values are YAML scalars (``3``, ``0.5``, ``wsjf``, ``true``). Raises :class:`ScenarioError`
    located at ``--vary`` when the text is not of either form or lists a value twice.
    """
    path, sep, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    if not sep or not path or not spec:
        raise _vary_problem("expected PATH=V1,V2,... or PATH=low:high:steps", text)
    if "," not in spec and spec.count(":") == 2:
        return path, _evenly_spaced(spec, text)
    try:
        values = [parse_value(v.strip()) for v in spec.split(",")]
    except OverrideError as exc:
        raise _vary_problem(exc.message, text) from None
    if any(v is None or isinstance(v, (dict, list)) for v in values):
        raise _vary_problem("values must be scalars separated by commas", text)
    twice = [v for i, v in enumerate(values) if v in values[:i]]
    if twice:
        raise _vary_problem(f"value {twice[0]!r} is listed twice", text)
    return path, values


def _evenly_spaced(spec: str, text: str) -> list[Any]:
    try:
        low, high, steps = (parse_value(part.strip()) for part in spec.split(":"))
    except OverrideError as exc:
        raise _vary_problem(exc.message, text) from None
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
    if not numbers or not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise _vary_problem("low:high:steps needs two numbers and a whole number of steps >= 1",
                            text)
    if steps > MAX_POINTS:
        raise _vary_problem(f"at most {MAX_POINTS:,} steps", text)
    # (float() of an integer of 400 digits raises; beyond 1.8e308 YAML reads inf)
    ends = [float(v) if abs(v) < 1e308 else math.inf for v in (low, high)]
    if not all(math.isfinite(v) for v in ends):
        raise _vary_problem("low and high must be finite numbers, of at most 1e308 in size", text)
    if steps == 1 and ends[0] != ends[1]:  # linspace's one point is LOW: HIGH was dropped
        raise _vary_problem("one step gives LOW alone: give 2 steps or more to reach HIGH "
                            "(1 only when LOW = HIGH)", text)
    with np.errstate(over="ignore", invalid="ignore"):
        grid = np.linspace(ends[0], ends[1], steps)
    if not np.all(np.isfinite(grid)):  # high - low beyond the largest float
        raise _vary_problem("high - low must be a finite number (at most 1.8e308)", text)
    if isinstance(low, int) and isinstance(high, int) and np.all(grid == np.round(grid)):
        return list(dict.fromkeys(int(v) for v in np.round(grid)))
    # 12 significant digits: 0.3 rather than 0.30000000000000004 in tables and file names.
    return list(dict.fromkeys(float(f"{v:.12g}") for v in grid))


def check_axes(axes: Mapping[str, Sequence[Any]], sets: Mapping[str, Any] | None = None) -> None:
    """Refuse what a grid cannot honour: no values, a path also in ``sets``, too many points."""
    if not axes:
        raise UsageError("give at least one --vary PATH=V1,V2,...")
    problems = [Problem("no values to vary over", path=p, file="--vary") for p, v in axes.items() if not v]
    problems += [Problem("is also given with --set; vary it or set it, not both", path=p, file="--vary")
                 for p in axes if p in (sets or {})]
    if problems:
        raise ScenarioError(problems)
    points = int(np.prod([len(v) for v in axes.values()], dtype=float))
    if points > MAX_POINTS:
        raise UsageError(f"the grid has {points:,} points ({' x '.join(str(len(v)) for v in axes.values())});"
                         f" at most {MAX_POINTS:,}: use fewer values")


def axes_of(vary: str | Mapping[str, Sequence[Any]] | Sequence[tuple[str, Sequence[Any]]],
            values: Sequence[Any] | None) -> dict[str, list[Any]]:
    """The varied paths and their values from any of the accepted call forms.

    ``vary`` is one path (with ``values``), a mapping ``{path: values}``, or ``(path, values)``
    pairs (as parsed from several ``--vary``: then a path given twice is an error).
    """
    if isinstance(vary, str):
        if values is None:
            raise UsageError(f"no values given for {vary!r}")
        pairs: list[Any] = [(vary, values)]  # checked as a pair is: "23" ran 2 and 3
    elif values is not None:
        raise UsageError("give values only with a single path; with several, pass {path: values}")
    elif isinstance(vary, Mapping):
        pairs = list(vary.items())
    elif isinstance(vary, Iterable):
        pairs = list(vary)
    else:
        raise TypeError(f"vary must be a path, a mapping {{path: values}} or (path, values) "
                        f"pairs, not {type(vary).__name__} ({vary!r})")
    seen: dict[str, list[Any]] = {}
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise TypeError(f"vary must be a path, a mapping {{path: values}} or (path, values) "
                            f"pairs, not a list holding {pair!r}")
        path, vals = pair
        check_path(path)
        if isinstance(vals, str | bytes) or not isinstance(vals, Iterable):  # list("100"): 1, 0, 0
            raise TypeError(f"the values of {path!r} must be a list, not {type(vals).__name__} "
                            f"({vals!r}); give [{vals!r}]")
        if path in seen:
            raise ScenarioError([Problem("is varied twice; give all its values in one --vary",
                                         path=path, file="--vary")])
        seen[path] = list(vals)
    return seen


def grid(axes: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, the first path varying slowest."""
    return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]


def sweep(scenario: str | os.PathLike[str] | Scenario,
          vary: str | Mapping[str, Sequence[Any]] | Sequence[tuple[str, Sequence[Any]]],
          values: Sequence[Any] | None = None, *, metric: str = "npv", replications: int = 100,
          seed: int = 0, jobs: int | None = None, backend: str = "local",
          scheduler: str | None = None, policies: Sequence[str] | None = None,
          sets: Mapping[str, Any] | None = None, progress: Progress | None = None,
          ready: Callable[[], None] | None = None) -> pd.DataFrame:
    """Run the experiment at every grid point and summarise ``metric`` per (point, policy).

    ``sweep("s.yaml", "resources.dev.headcount", [2, 3])`` varies one path;
    ``sweep("s.yaml", {"resources.dev.headcount": [2, 3], "pmo.resource_manager.wip_limit":
    [2, 4]})`` runs the full grid of several. ``scenario`` is a file or a :class:`Scenario`.
    Every point uses root ``seed`` (common random numbers across points and policies).

    Returns one row per point × policy, points in grid order (the first path varying
    slowest, values in the order given): a column per varied path, then ``RESULT_COLUMNS``
    (the mean of ``metric``, its 95% t interval and the replications used). A sweep too large
    (:func:`~pmo_sim.experiment.batch.check_size`) is refused before ``ready()`` is called
    and anything runs.
    """
    if metric not in KPI_COLUMNS:
        raise UsageError(f"unknown metric {metric!r}; available: {', '.join(KPI_COLUMNS)}")
    axes = axes_of(vary, values)
    override_pairs(sets, "sets")  # its type, before check_axes looks paths up in it
    check_axes(axes, sets)
    base = Base.of(scenario, sets)
    axes = {path: round_for(base, path, vals) for path, vals in axes.items()}
    validate_axes(base, axes)
    points = grid(axes)
    scenarios = variants(base, points)
    labels = [", ".join(f"{k}={v}" for k, v in p.items()) for p in points]
    frames = run_variants(scenarios, replications=replications, seed=seed, policies=policies,
                          jobs=jobs, backend=backend, scheduler=scheduler, progress=progress,
                          labels=labels, study=Study("this sweep", "fewer replications (-n), "
                                                     "fewer values or --vary paths, or fewer "
                                                     "--policy", ready))
    rows = []
    for point, frame in zip(points, frames, strict=True):
        table = summary(frame, [metric])
        for path, value in reversed(point.items()):
            table.insert(0, path, [value] * len(table))
        rows.append(table)
    out = pd.concat(rows, ignore_index=True)
    return out[[*axes, *RESULT_COLUMNS]]

