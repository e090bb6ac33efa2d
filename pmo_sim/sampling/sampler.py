"""Drawing a replication's Plan: arrivals, projects, change requests, the workforce."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from pmo_sim.sampling.plans import Network, Plan, ProjectPlan, compile_network
from pmo_sim.sampling.strategy import StrategyPlanner
from pmo_sim.sampling.streams import Source, stream
from pmo_sim.scenario.dists import Distribution
from pmo_sim.scenario.models import ProjectSpec, Scenario, TaskSpec, Template

MAX_GENERATED_PROJECTS = 100_000


class Sampler:
    """Draws Plans for one scenario; compiles the task networks once."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.explicit_networks = [compile_network(p, scenario) for p in scenario.projects]
        self.template_networks = (
            [compile_network(t, scenario) for t in scenario.intake.templates]
            if scenario.intake else []
        )
        self.strategy = StrategyPlanner(scenario, self.explicit_networks, self.template_networks)

    def plan(self, seed: int, replication: int) -> Plan:
        sc = self.scenario
        projects = self._explicit(seed, replication) + self._generated(seed, replication)
        # A project arriving at or after the horizon never enters the simulated portfolio.
        projects = [p for p in projects if p.arrival < sc.horizon]
        # Before the re-indexing: the draws are keyed by file and generation order.
        self.strategy.draw(seed, replication, projects)
        projects.sort(key=lambda p: (p.arrival, p.index))
        for i, p in enumerate(projects):
            p.index = i
        self.strategy.link(projects)
        if sc.changes is not None and sc.changes.per_project_per_year > 0 and projects:
            self._changes(seed, replication, projects)
        budgets, delays = self._workforce(seed, replication)
        return Plan(seed, replication, projects, budgets, delays)

    # -- projects

    def _explicit(self, seed: int, replication: int) -> list[ProjectPlan]:
        out = []
        for i, (spec, net) in enumerate(zip(self.scenario.projects, self.explicit_networks, strict=True)):
            rng = stream(seed, replication, Source.EXPLICIT, i)
            attrs = _draw_attributes(spec, rng, 1)
            efforts = np.array([t.amount.sample(rng, 1)[0] for t in spec.tasks])
            efforts = _with_estimate_error(efforts[None, :], spec.tasks, self.scenario.estimate_error,
                                           seed, replication, 0, i)[0]
            out.append(_project(i, spec.name, "", spec.arrival, attrs, 0, net, efforts))
        return out

    def _generated(self, seed: int, replication: int) -> list[ProjectPlan]:
        intake = self.scenario.intake
        if intake is None:
            return []
        arrivals = _arrival_times(intake.arrivals, intake.count, self.scenario.horizon,
                                  stream(seed, replication, Source.ARRIVALS))
        n = len(arrivals)
        if n == 0:
            return []
        weights = np.array([t.weight for t in intake.templates])
        kinds = stream(seed, replication, Source.TEMPLATE_CHOICE).choice(
            len(weights), size=n, p=weights / weights.sum())
        out: list[ProjectPlan] = []
        offset = len(self.scenario.projects)
        names: dict[int, tuple] = {}
        for k, (tpl, net) in enumerate(zip(intake.templates, self.template_networks, strict=True)):
            members = np.flatnonzero(kinds == k)
            if len(members) == 0:
                continue
            rng = stream(seed, replication, Source.GENERATED, k)
            attrs = _draw_attributes(tpl, rng, len(members))
            efforts = np.column_stack([t.amount.sample(rng, len(members)) for t in tpl.tasks])
            efforts = _with_estimate_error(efforts, tpl.tasks, self.scenario.estimate_error,
                                           seed, replication, 1, k)
            for j, m in enumerate(members.tolist()):
                names[m] = (tpl, net, attrs, efforts[j], j)
        for m in range(n):  # names count from 1 in arrival order across the intake
            tpl, net, attrs, efforts, j = names[m]
            out.append(_project(offset + m, f"{tpl.name}-{m + 1}", tpl.name, float(arrivals[m]),
                                attrs, j, net, efforts))
        return out

    # -- change requests

    def _changes(self, seed: int, replication: int, projects: list[ProjectPlan]) -> None:
        sc = self.scenario
        ch = sc.changes
        assert ch is not None
        rng = stream(seed, replication, Source.CHANGES)
        rate = ch.per_project_per_year / sc.days_per_year
        spans = np.array([max(0.0, sc.horizon - p.arrival) for p in projects])
        counts = rng.poisson(rate * spans)
        total = int(counts.sum())
        u_time = rng.random(total)
        fractions = ch.effort_added.sample(rng, total)
        disruptions = ch.disruption.sample(rng, total)
        u_reject = rng.random(total)
        # Each project's requests at its arrival plus its sorted uniforms times its span: one
        # sort by (project, uniform) for all of them (a sort per project cost more than the draws).
        owner = np.repeat(np.arange(len(projects)), counts)
        arrivals = np.array([p.arrival for p in projects])
        times = arrivals[owner] + u_time[np.lexsort((u_time, owner))] * spans[owner]
        ends = np.cumsum(counts).tolist()
        a = 0
        for p, b in zip(projects, ends, strict=True):
            p.change_times, p.change_fraction = times[a:b], fractions[a:b]
            p.change_disruption, p.change_u = disruptions[a:b], u_reject[a:b]
            a = b

    # -- workforce

    def _workforce(self, seed: int, replication: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        sc = self.scenario
        wf = sc.workforce
        budgets, delays = [], []
        for i, pool in enumerate(sc.resources.values()):
            # Equipment never leaves; its arrays are empty, and no stream is used for it, so
            # the people pools' streams (keyed by pool index) are those of a scenario without it.
            if wf is None or wf.attrition_per_year <= 0 or pool.kind == "equipment":
                budgets.append(np.full((pool.capacity, 0), np.inf))
                delays.append(np.zeros((pool.capacity, 0)))
                continue
            years = sc.horizon / sc.days_per_year
            k = 2 + math.ceil(3 * wf.attrition_per_year * years)
            rng = stream(seed, replication, Source.WORKFORCE, i)
            budgets.append(rng.standard_exponential((pool.headcount, k)))
            delays.append(wf.hiring_delay.sample(rng, (pool.headcount, k)))
        return budgets, delays


def _arrival_times(gaps_dist, count: int | None, horizon: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Arrival days of the intake: the first one gap after day 0, until count or horizon."""
    limit = MAX_GENERATED_PROJECTS if count is None else count
    mean = max(gaps_dist.mean(), 1e-9)
    block = max(16, min(int(1.3 * horizon / mean), limit) + 8)  # never more than `limit` needs
    times = np.empty(0)
    last = 0.0
    while len(times) < limit and last < horizon:
        gaps = gaps_dist.sample(rng, block)
        t = last + np.cumsum(gaps)
        times = np.concatenate([times, t])
        last = float(t[-1])
        if len(times) >= MAX_GENERATED_PROJECTS and last < horizon:
            raise ValueError(
                f"the intake generates more than {MAX_GENERATED_PROJECTS} projects before the "
                "horizon; lengthen intake.arrivals or set intake.count")
    times = times[times < horizon]
    return times[:limit]


def _with_estimate_error(efforts: np.ndarray, tasks: Sequence[TaskSpec],
                         ratios: Mapping[str, Distribution], seed: int, replication: int,
                         *key: int) -> np.ndarray:
    """``efforts`` ([projects, tasks]) times a draw of each effort task's skill's estimate-error ratio.

    One vector per task with a ratio, in file order, from the ESTIMATE_ERROR stream of
    ``key``; row j of every vector belongs to project j, so a project's multipliers depend
    only on its own key and row. Tasks without a ratio are left as they are; without any,
    ``efforts`` is returned untouched and no stream is made.
    """
    if not ratios:
        return efforts
    skills = [_effort_skill(t, ratios) for t in tasks]
    columns = [j for j, skill in enumerate(skills) if skill is not None]
    if not columns:
        return efforts
    rng = stream(seed, replication, Source.ESTIMATE_ERROR, *key)
    out = np.array(efforts, dtype=float)
    for j in columns:
        out[:, j] *= ratios[skills[j]].sample(rng, out.shape[0])  # type: ignore[index]
    return out


def _effort_skill(task: TaskSpec, ratios: Mapping[str, Distribution]) -> str | None:
    """The skill whose estimate-error ratio applies to an effort task: its ``skill``, or the
    first pool with a ratio among its ``needs``; None for fixed-duration tasks."""
    if task.effort is None:
        return None
    for pool in task.units():
        if pool in ratios:
            return pool
    return None


def _draw_attributes(spec: ProjectSpec | Template, rng: np.random.Generator, n: int) -> dict:
    return {
        "due": spec.due.sample(rng, n) if spec.due is not None else np.full(n, np.nan),
        "priority": np.maximum(1.0, np.round(spec.priority.sample(rng, n))),
        "value_per_day": spec.value_per_day.sample(rng, n),
        "completion_value": spec.completion_value.sample(rng, n),
        "budget": spec.budget.sample(rng, n) if spec.budget is not None else np.full(n, np.nan),
    }


def _project(index: int, name: str, template: str, arrival: float, attrs: dict, j: int,
             net: Network, efforts: np.ndarray) -> ProjectPlan:
    return ProjectPlan(
        index=index, name=name, template=template, arrival=arrival,
        due_date=arrival + float(attrs["due"][j]),
        priority=float(attrs["priority"][j]),
        value_per_day=float(attrs["value_per_day"][j]),
        completion_value=float(attrs["completion_value"][j]),
        budget=float(attrs["budget"][j]),
        network=net,
        efforts=np.asarray(efforts, dtype=float),
    )
