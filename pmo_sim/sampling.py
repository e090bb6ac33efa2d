"""Random streams and the per-replication Plan: what the world does, drawn up front.

Common random numbers are built in, not hoped for. Everything random that the world does —
project arrivals, the projects' sampled attributes, change requests, leavers and hiring
delays — is drawn *before* the simulation starts, as vectors, into a :class:`Plan` that every
policy of the replication then runs on. A policy can change *what happens* with a change
request or a leaver (assess it, reject it, retain the person), never *which* ones come.

Streams: one root seed; replication ``r``'s source ``s`` uses
``SeedSequence(seed, spawn_key=(r, s, ...))``, which is exactly the child
``SeedSequence(seed).spawn(...)[r].spawn(...)[s]``. A stream depends only on its key, so
adding replications (``--precision``), resuming, chunking or parallelism change nothing.

* Change requests of a project are a Poisson process over ``[arrival, horizon]`` drawn in
  absolute time; a request takes effect only if it falls while the project is started and
  open. By the memoryless property this is a Poisson process with the given rate while the
  project is open and started, and every policy sees the same requests at the same times.
* A person's leaving is a unit exponential "hazard budget" E: they leave when their
  cumulative attrition hazard reaches E (E / rate with a constant rate). A policy that lowers
  the rate (retention) delays the *same* leaver rather than drawing a new one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from pmo_sim.scenario.models import ProjectSpec, Scenario, Template

MAX_GENERATED_PROJECTS = 100_000


class Source(IntEnum):
    """Spawn-key slots of the random sources of a replication (never renumber)."""

    ARRIVALS = 0
    TEMPLATE_CHOICE = 1
    EXPLICIT = 2
    GENERATED = 3
    CHANGES = 4
    WORKFORCE = 5
    INNOVATION = 6
    GOVERNANCE = 7
    ESTIMATE_ERROR = 8  # per-skill estimate-error multipliers (calibration from history)
    ALIGNMENT = 9  # templates' strategic alignment draws
    RISKS = 10  # the risk register: strike uniforms, timing and impacts per (risk, project)


def stream(seed: int, replication: int, source: Source | int, *more: int) -> np.random.Generator:
    """The generator of one random source of one replication."""
    ss = np.random.SeedSequence(seed, spawn_key=(replication, int(source), *more))
    return np.random.Generator(np.random.PCG64(ss))


# --------------------------------------------------------------------------- task networks


@dataclass(frozen=True)
class Network:
    """A project's task network, compiled once per scenario: indices in topological order."""

    names: tuple[str, ...]
    pools: tuple[int, ...]
    people: tuple[int, ...]
    preds: tuple[tuple[int, ...], ...]
    succs: tuple[tuple[int, ...], ...]
    npreds: tuple[int, ...]
    order: tuple[int, ...]  # file indices in topological order (file order among ties)
    central: np.ndarray  # the effort distributions' central values (the estimate per task)
    estimate: float  # the project's estimated effort: the sum of the central values


def compile_network(spec: ProjectSpec | Template, pool_index: dict[str, int]) -> Network:
    names = tuple(t.name for t in spec.tasks)
    index = {n: i for i, n in enumerate(names)}
    preds = tuple(tuple(index[a] for a in t.after) for t in spec.tasks)
    succs: list[list[int]] = [[] for _ in names]
    for i, ps in enumerate(preds):
        for p in ps:
            succs[p].append(i)
    # Kahn's algorithm, always taking the lowest file index: a stable topological order.
    indeg = [len(ps) for ps in preds]
    order: list[int] = []
    frontier = sorted(i for i, d in enumerate(indeg) if d == 0)
    while frontier:
        i = frontier.pop(0)
        order.append(i)
        for s in succs[i]:
            indeg[s] -= 1
            if indeg[s] == 0:
                frontier.append(s)
                frontier.sort()
    if len(order) != len(names):
        raise ValueError("precedence cycle")  # the loader's checks report it properly
    central = np.array([t.effort.central() for t in spec.tasks])
    return Network(
        names=names,
        pools=tuple(pool_index[t.skill] for t in spec.tasks),
        people=tuple(t.people for t in spec.tasks),
        preds=preds,
        succs=tuple(tuple(s) for s in succs),
        npreds=tuple(len(p) for p in preds),
        order=tuple(order),
        central=central,
        estimate=float(central.sum()),
    )


# --------------------------------------------------------------------------- the plan


@dataclass
class ProjectPlan:
    """One project of one replication, with every attribute sampled."""

    index: int
    name: str
    template: str
    arrival: float
    due_date: float  # absolute day, NaN without a due date
    priority: float
    value_per_day: float
    completion_value: float
    budget: float  # NaN without a budget
    network: Network
    efforts: np.ndarray  # per task, file order
    change_times: np.ndarray = field(default_factory=lambda: np.empty(0))
    change_fraction: np.ndarray = field(default_factory=lambda: np.empty(0))
    change_disruption: np.ndarray = field(default_factory=lambda: np.empty(0))
    change_u: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass
class Plan:
    """Everything random of one replication, shared by every policy."""

    seed: int
    replication: int
    projects: list[ProjectPlan]
    leave_budget: list[np.ndarray]  # per pool: [headcount, K] unit exponentials
    hiring_delay: list[np.ndarray]  # per pool: [headcount, K] days
    _extra: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def occupant_draws(self, scenario: Scenario, pool: int, slot: int, k: int) -> tuple[float, float]:
        """(hazard budget, hiring delay) of the k-th person to hold a pool's slot."""
        budgets, delays = self.leave_budget[pool], self.hiring_delay[pool]
        if k < budgets.shape[1]:
            return float(budgets[slot, k]), float(delays[slot, k])
        # Rare: more turnover in one slot than pre-drawn. Extend from the slot's own stream so
        # the draw still depends only on (seed, replication, pool, slot, k).
        key = (pool, slot)
        if key not in self._extra or k - budgets.shape[1] >= len(self._extra[key][0]):
            n = 4 * (k - budgets.shape[1] + 1)
            rng = stream(self.seed, self.replication, Source.WORKFORCE, pool, slot + 1, n)
            wf = scenario.workforce
            assert wf is not None
            self._extra[key] = (rng.standard_exponential(n), wf.hiring_delay.sample(rng, n))
        extra_b, extra_d = self._extra[key]
        j = k - budgets.shape[1]
        return float(extra_b[j]), float(extra_d[j])


class Sampler:
    """Draws Plans for one scenario; compiles the task networks once."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.pool_index = {name: i for i, name in enumerate(scenario.resources)}
        self.explicit_networks = [compile_network(p, self.pool_index) for p in scenario.projects]
        self.template_networks = (
            [compile_network(t, self.pool_index) for t in scenario.intake.templates]
            if scenario.intake else []
        )

    def plan(self, seed: int, replication: int) -> Plan:
        sc = self.scenario
        projects = self._explicit(seed, replication) + self._generated(seed, replication)
        # A project arriving at or after the horizon never enters the simulated portfolio.
        projects = [p for p in projects if p.arrival < sc.horizon]
        projects.sort(key=lambda p: (p.arrival, p.index))
        for i, p in enumerate(projects):
            p.index = i
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
            efforts = np.array([t.effort.sample(rng, 1)[0] for t in spec.tasks])
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
            efforts = np.column_stack([t.effort.sample(rng, len(members)) for t in tpl.tasks])
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
        ends = np.cumsum(counts)
        starts = ends - counts
        for p, a, b, span in zip(projects, starts, ends, spans, strict=True):
            times = p.arrival + np.sort(u_time[a:b]) * span
            p.change_times, p.change_fraction = times, fractions[a:b]
            p.change_disruption, p.change_u = disruptions[a:b], u_reject[a:b]

    # -- workforce

    def _workforce(self, seed: int, replication: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        sc = self.scenario
        wf = sc.workforce
        budgets, delays = [], []
        for i, pool in enumerate(sc.resources.values()):
            if wf is None or wf.attrition_per_year <= 0:
                budgets.append(np.full((pool.headcount, 0), np.inf))
                delays.append(np.zeros((pool.headcount, 0)))
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
