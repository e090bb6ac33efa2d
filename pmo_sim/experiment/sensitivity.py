"""The sensitivity study: which scenario fields move a KPI, on common random numbers.

``pmo-sim sensitivity SCENARIO --vary PATH=LOW:HIGH ... --method tornado|morris|sobol``
(or the scenario's ``sensitivity:`` section, :mod:`pmo_sim.scenario.sensitivity`) builds a
design, one scenario variant per design point (:mod:`pmo_sim.experiment.variants`), runs
every point's replications 0..n-1 from the same seed on one backend
(:mod:`pmo_sim.experiment.batch`) and hands the KPI to the arithmetic of
:mod:`pmo_sim.analysis.sensitivity` (tornado effects with paired intervals, Morris μ*/σ,
Sobol S1/ST). The result is a tidy DataFrame of ``SENSITIVITY_COLUMNS``, one row per
(policy, factor, statistic).

Design sizes, with k factors, n replications per point and p policies:
tornado 2k points, Morris r(k + 1) points (r trajectories), Sobol N(k + 2) points (N base
samples); each point costs n × p replications.

Everything is checked before anything runs: each path must exist and hold a number (a
distribution is varied through one of its parameters, e.g. ``intake.arrivals.mean``), an
integer field needs whole-number bounds, and the scenario must be valid at both ends of
every range and at every design point. Problems are located at ``--vary``, or at the range's
line of the ``sensitivity:`` section when the ranges come from the file.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pmo_sim.analysis.sensitivity import (
    Factor,
    check_method,
    design,
    design_points,
    morris_indices,
    sobol_indices,
    tidy,
    tornado_effects,
)
from pmo_sim.errors import Problem, ScenarioError, UsageError, format_got
from pmo_sim.experiment.batch import Study, check_options, run_variants
from pmo_sim.experiment.spec import Progress
from pmo_sim.experiment.variants import VARY, Base, Origin, check_path, validate_axes, variants
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.overrides import OverrideError, parse_value
from pmo_sim.scenario.sensitivity import locate
from pmo_sim.schema import KPI_COLUMNS

#: Most design points one study may have.
MAX_POINTS = 100_000

Ranges = Mapping[str, Sequence[float]]


def parse_range(text: str) -> tuple[str, tuple[float, float]]:
    """``PATH=LOW:HIGH`` as ``(path, (low, high))``; a :class:`ScenarioError` at ``--vary`` if not."""
    path, sep, spec = text.partition("=")
    path = path.strip()
    parts = spec.split(":")
    try:
        bounds = [parse_value(p.strip()) for p in parts] if sep and len(parts) == 2 else []
    except OverrideError:
        bounds = []
    if not path or len(bounds) != 2 or not all(_is_number(b) for b in bounds):
        raise ScenarioError([Problem("expected PATH=LOW:HIGH with two numbers", file="--vary",
                                     got=text, has_got=True)])
    return path, (bounds[0], bounds[1])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def _ranges(base: Base, vary: Ranges | None, metric: str | None
            ) -> tuple[dict[str, tuple[float, float]], dict[str, Origin], str]:
    """The ranges, where each was declared, and the metric (command line over the section)."""
    section = base.scenario.sensitivity
    if vary is not None and not isinstance(vary, Mapping):  # ("'list' object has no attribute 'items'")
        raise TypeError(f"vary must be a mapping {{path: (low, high)}}, not {type(vary).__name__} "
                        f"({format_got(vary)})")
    if vary:
        for path, bounds in vary.items():
            check_path(path)
            if isinstance(bounds, str | bytes) or not isinstance(bounds, Sequence) or len(bounds) != 2:
                raise TypeError(f"the range of {path!r} must be a pair (low, high), not "
                                f"{type(bounds).__name__} ({bounds!r})")
        ranges = {path: (bounds[0], bounds[1]) for path, bounds in vary.items()}
        origins = {path: VARY for path in ranges}
    elif section is not None:
        ranges = {path: (low, high) for path, (low, high) in section.ranges.items()}
        origins = _declared_at(base, list(ranges))
    else:
        raise UsageError("nothing to vary: give --vary PATH=LOW:HIGH (repeatable), or declare "
                         "`sensitivity: {ranges: {PATH: [low, high]}}` in the scenario")
    chosen = metric or (section.metric if section is not None else "npv")
    if chosen not in KPI_COLUMNS:
        raise UsageError(f"unknown metric {chosen!r}; available: {', '.join(KPI_COLUMNS)}")
    return ranges, origins, chosen


def _declared_at(base: Base, paths: list[str]) -> dict[str, Origin]:
    if base.file is None:
        return {path: (base.source, None, None) for path in paths}
    found = locate(base.file, "sensitivity", "ranges")
    return {path: (str(base.file), *found.get(path, (None, None))) for path in paths}


def _factor(base: Base, path: str, low: float, high: float) -> Factor | tuple[str, Any]:
    """The factor of PATH over [low, high], or what is wrong with it (message, offending value)."""
    if path in base.sets:
        return "is also given with --set; vary it or set it, not both", low
    if not (_is_number(low) and _is_number(high) and low < high):
        return "needs a range LOW:HIGH of two numbers with LOW < HIGH", [low, high]
    current = base.current(path)
    if isinstance(current, dict) and "dist" in current:
        example = next((k for k in current if k != "dist"), "mean")
        return f"holds a distribution; vary one of its parameters, e.g. {path}.{example}", current.get("dist")
    if isinstance(current, dict):  # a pool, a section: before, called "a distribution"
        return "holds a section, not a number, so it has no range", current
    if current is not None and not _is_number(current):
        return "does not hold a number, so it has no range", current
    if not base.integer_field(path):
        return Factor(path, float(low), float(high))
    if not (float(low).is_integer() and float(high).is_integer()):
        return "holds whole numbers: give whole-number bounds", [low, high]
    return Factor(path, int(low), int(high), integer=True)


def factors_of(base: Base, ranges: Mapping[str, tuple[float, float]],
               origins: Mapping[str, Origin]) -> list[Factor]:
    """The factors, each checked to hold a number and to give a valid scenario at both ends.

    Every problem is raised at once, located at its origin.
    """
    factors, problems = _each_factor(base, ranges, origins)
    try:
        validate_axes(base, {f.path: [f.low, f.high] for f in factors}, origins)
    except ScenarioError as exc:
        problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return factors


def check_declared(file: str | os.PathLike[str], loaded: Scenario,
                   sets: Mapping[str, Any] | None = None) -> None:
    """What ``pmo-sim validate`` checks of the scenario's own ``sensitivity.ranges``, as a study
    does before it runs: each path exists and holds a number (whole-number bounds for a
    whole-number field), every problem at once at its range's line. That both ends give a valid
    scenario is left to the study (a scenario loaded per end)."""
    if loaded.sensitivity is None:
        return
    base = Base.of(file, sets, loaded)
    ranges, origins, _ = _ranges(base, None, None)
    problems = _each_factor(base, ranges, origins)[1]
    if problems:
        raise ScenarioError(problems)


def _each_factor(base: Base, ranges: Mapping[str, tuple[float, float]], origins: Mapping[str, Origin]
                 ) -> tuple[list[Factor], list[Problem]]:
    """The factors of the ranges whose path holds a number, and a located problem for each other."""
    factors, problems = [], []
    for path, (low, high) in ranges.items():
        file, line, column = origins.get(path, VARY)
        try:
            found = _factor(base, path, low, high)
        except ScenarioError as exc:  # the path does not exist
            found = exc.problems[0].message, exc.problems[0].got
        if isinstance(found, Factor):
            factors.append(found)
        else:
            problems.append(Problem(found[0], path=path, file=file, line=line, column=column,
                                    got=found[1], has_got=True))
    return factors, problems


def design_size(method: str, factors: int, samples: int) -> int:
    """Design points of a study of ``factors`` factors: tornado 2k, morris samples x (k + 1),
    sobol samples x (k + 2) (first-order and total indices)."""
    if method == "tornado":
        return 2 * factors
    return samples * (factors + (1 if method == "morris" else 2))


def _points(method: str, factors: Sequence[Factor], samples: int, seed: int
            ) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    if method == "tornado":
        return [{f.path: v} for f in factors for v in (f.low, f.high)], None
    matrix = design(method, factors, samples, seed)
    return design_points(factors, matrix), matrix


def _point_means(frames: Sequence[pd.DataFrame], metric: str, policy: str) -> np.ndarray:
    means = []
    for frame in frames:
        values = frame.loc[frame["policy"] == policy, metric].to_numpy(dtype=float)
        means.append(np.nanmean(values) if np.isfinite(values).any() else np.nan)
    return np.asarray(means, dtype=float)


def sensitivity(scenario: str | os.PathLike[str] | Scenario, vary: Ranges | None = None, *,
                metric: str | None = None, method: str = "tornado", replications: int = 20,
                samples: int | None = None, seed: int = 0, jobs: int | None = None,
                backend: str = "local", scheduler: str | None = None,
                policies: Sequence[str] | None = None, sets: Mapping[str, Any] | None = None,
                progress: Progress | None = None, ready: Callable[[], None] | None = None
                ) -> pd.DataFrame:
    """Run a sensitivity study and return its tidy table (``SENSITIVITY_COLUMNS``).

    ``vary`` maps ``--set`` paths to ``(low, high)``; without it the scenario's
    ``sensitivity.ranges`` are used (and its ``metric`` unless ``metric`` is given; else
    ``npv``). ``method``: ``tornado`` (one at a time, paired effects), ``morris`` (``samples``
    trajectories, default 10) or ``sobol`` (``samples`` base points, a power of 2, default
    64). ``replications`` per design point, every point on root ``seed`` (common random
    numbers). ``policies`` default to all; each gets its own rows. A study too large
    (:func:`~pmo_sim.experiment.batch.check_size`) is refused before ``ready()`` is called and
    anything runs.
    """
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, numbers.Integral)):
        # before: 4.9 ran 4 trajectories, True "at least 2 (got 1)"
        raise TypeError(f"samples must be an integer, not {type(samples).__name__} ({samples!r})")
    n_samples = check_method(method, samples)
    base = Base.of(scenario, sets)
    ranges, origins, metric = _ranges(base, vary, metric)
    chosen = check_options(base.scenario, replications, seed, policies, backend, jobs, scheduler)
    factors = factors_of(base, ranges, origins)
    size = design_size(method, len(factors), n_samples)
    if size > MAX_POINTS:  # before the design is built: its matrix alone can exhaust memory
        raise UsageError(f"the {method} design has {size:,} points; at most {MAX_POINTS:,}: "
                         f"use fewer --samples or factors")
    points, matrix = _points(method, factors, n_samples, seed)
    scenarios = variants(base, points, origins)
    labels = [", ".join(f"{k}={v}" for k, v in p.items()) for p in points]
    fewer = "fewer replications (-n), fewer --vary ranges, or fewer --policy"
    if method != "tornado":
        fewer = (f"fewer replications (-n), fewer --samples (now {n_samples}) or --vary ranges, "
                 "or fewer --policy")
    frames = run_variants(scenarios, replications=replications, seed=seed, policies=chosen, jobs=jobs,
                          backend=backend, scheduler=scheduler, progress=progress, labels=labels,
                          study=Study(f"this {method} study", fewer, ready))
    per_policy: dict[str, pd.DataFrame] = {}
    for policy in chosen:
        if matrix is None:
            mine = [f[f["policy"] == policy] for f in frames]
            effects = [tornado_effects(f.path, mine[2 * i], mine[2 * i + 1], metric)
                       for i, f in enumerate(factors)]
            per_policy[policy] = pd.concat(effects, ignore_index=True)
        elif method == "morris":
            per_policy[policy] = morris_indices(factors, matrix, _point_means(frames, metric, policy),
                                                metric, seed)
        else:
            per_policy[policy] = sobol_indices(factors, _point_means(frames, metric, policy), metric, seed)
    return tidy(method, metric, factors, per_policy)
