"""One-parameter sweeps: how a KPI responds to one scenario field, for every policy.

``pmo-sim sweep SCENARIO --vary PATH=V1,V2,...`` reruns the experiment with ``--set
PATH=V`` for each value V. Every run uses the same root seed, so replication r sees the same
random world at every value and under every policy (common random numbers across values
too): the curves differ by the parameter's effect, not by sampling noise, and neighbouring
points are positively correlated rather than independently jittered.

PATH is any ``--set`` path (see :mod:`pmo_sim.scenario.overrides`); values are YAML scalars
read exactly like ``--set`` values. ``PATH=low:high:steps`` gives ``steps`` evenly spaced
values from low to high inclusive: whole numbers stay integers, and when the field is an
integer field (a headcount, say) the values are rounded and duplicates dropped.

Every variant is loaded and validated before anything runs, so a bad path or value fails at
once, reported like a ``--set`` problem but located at ``--vary``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pmo_sim.analysis.stats import summary
from pmo_sim.errors import Problem, ScenarioError, UsageError
from pmo_sim.experiment.runner import run_experiment
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.overrides import OverrideError, parse_value, resolve
from pmo_sim.schema import KPI_COLUMNS

SWEEP_COLUMNS = ("parameter", "value", "policy", "metric", "mean", "ci_low", "ci_high", "n")


def _vary_problem(message: str, text: str) -> ScenarioError:
    return ScenarioError([Problem(message, file="--vary", got=text, has_got=True)])


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``PATH=V1,V2,...`` or ``PATH=low:high:steps`` as ``(path, values)``.

    Values are YAML scalars (``3``, ``0.5``, ``wsjf``, ``true``). Raises :class:`ScenarioError`
    located at ``--vary`` when the text is not of either form.
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
    return path, list(dict.fromkeys(values))


def _evenly_spaced(spec: str, text: str) -> list[Any]:
    try:
        low, high, steps = (parse_value(part.strip()) for part in spec.split(":"))
    except OverrideError as exc:
        raise _vary_problem(exc.message, text) from None
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
    if not numbers or not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise _vary_problem("low:high:steps needs two numbers and a whole number of steps >= 1",
                            text)
    grid = np.linspace(float(low), float(high), steps)
    if isinstance(low, int) and isinstance(high, int) and np.all(grid == np.round(grid)):
        return list(dict.fromkeys(int(v) for v in np.round(grid)))
    # 12 significant digits: 0.3 rather than 0.30000000000000004 in tables and file names.
    return [float(f"{v:.12g}") for v in grid]


def integer_field(scenario: Scenario, path: str) -> bool:
    """Whether PATH holds an integer (not a float or a bool) in ``scenario``.

    False when the path does not resolve: the loader reports that, located at ``--vary``.
    """
    try:
        _, parent, key = resolve(scenario.model_dump(), path)
        current = parent[key]
    except (OverrideError, KeyError, IndexError, TypeError):
        return False
    return isinstance(current, int) and not isinstance(current, bool)


def as_integers(values: Sequence[Any]) -> list[Any]:
    """Numbers rounded to integers, duplicates dropped, order kept; other values unchanged."""
    rounded = [int(round(v)) if isinstance(v, float) else v for v in values]
    return list(dict.fromkeys(rounded))


def load_variants(scenario_path: str | os.PathLike[str], path: str, values: Sequence[Any],
                  sets: Mapping[str, Any] | None = None) -> list[tuple[Any, Scenario]]:
    """The scenario at each value of PATH (with ``sets`` applied too), all validated first.

    Problems with the varied field are located at ``--vary`` rather than at a ``--set`` line
    (once, when every value has it); all are raised at once as one :class:`ScenarioError`.
    """
    base = load_scenario(scenario_path, dict(sets or {}) or None)
    if integer_field(base, path):
        values = as_integers(values)
    variants: list[tuple[Any, Scenario]] = []
    problems: list[Problem] = []
    for value in values:
        overrides = {**(sets or {}), path: value}
        line = list(overrides).index(path) + 1
        try:
            variants.append((value, load_scenario(scenario_path, overrides)))
        except ScenarioError as exc:
            problems += [dataclasses.replace(p, file="--vary", line=None, column=None)
                         if p.file == "--set" and p.line == line else p for p in exc.problems]
    if problems:
        raise ScenarioError(list({str(p): p for p in problems}.values()))
    return variants


def sweep(scenario_path: str | os.PathLike[str], path: str, values: Sequence[Any], *,
          metric: str = "npv", replications: int = 100, seed: int = 0, jobs: int | None = None,
          backend: str = "local", scheduler: str | None = None,
          policies: Sequence[str] | None = None,
          sets: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run the experiment at every value of PATH and summarise ``metric`` per (value, policy).

    Every run uses root ``seed`` (common random numbers across values and policies). Returns
    one row per value × policy, values in the order given, with the columns of
    ``SWEEP_COLUMNS``: the mean of ``metric``, its 95% t interval and the replications used.
    """
    if metric not in KPI_COLUMNS:
        raise UsageError(f"unknown metric {metric!r}; available: {', '.join(KPI_COLUMNS)}")
    if not values:
        raise UsageError("--vary gives no values")
    frames = []
    for value, scenario in load_variants(scenario_path, path, values, sets):
        res = run_experiment(scenario, replications=replications, seed=seed, jobs=jobs,
                             backend=backend, scheduler=scheduler,
                             policies=list(policies) if policies else None)
        rows = summary(res.replications, [metric])
        rows.insert(0, "value", [value] * len(rows))
        rows.insert(0, "parameter", path)
        frames.append(rows)
    table = pd.concat(frames, ignore_index=True)
    return table[list(SWEEP_COLUMNS)]
