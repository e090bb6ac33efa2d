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
* Risk strikes are pre-drawn per (risk, project) whatever the policy, so a mitigated risk
  strikes in a subset of the same replications (:class:`_StrategyPlanner`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from pmo_sim.scenario.dists import Distribution
from pmo_sim.scenario.models import Pool, ProjectSpec, Scenario, Template

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
    # SPEC 10.1-10.3, set by _StrategyPlanner: estimates always, the rest when their section is set.
    cost_estimate: float = 0.0  # given, else sum over tasks of central effort x the pool's day rate
    planned_duration: float = 0.0  # critical path of the central efforts at base productivity, days
    alignment: np.ndarray = field(default_factory=lambda: np.empty(0))  # per goal, 0 where missing
    score: float = 0.0  # sum of normalised goal weight x alignment, in [0, 1]
    depends_on: tuple[int, ...] = ()  # indices into Plan.projects of the projects it waits for
    dependents: tuple[int, ...] = ()  # indices of the projects waiting for it
    blocked: bool = False  # a dependency arrives at or after the horizon: never admitted
    # Per applicable risk, in register order: its index, strike uniform, when, unmitigated impacts.
    risk_index: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    risk_u: np.ndarray = field(default_factory=lambda: np.empty(0))
    risk_when: np.ndarray = field(default_factory=lambda: np.empty(0))
    risk_delay: np.ndarray = field(default_factory=lambda: np.empty(0))
    risk_effort: np.ndarray = field(default_factory=lambda: np.empty(0))
    risk_cost: np.ndarray = field(default_factory=lambda: np.empty(0))


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
        self.strategy = _StrategyPlanner(scenario, self.explicit_networks, self.template_networks)

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
    block = max(16, int(1.3 * horizon / mean) + 8)
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


# --------------------------------------------------------------------------- strategy and risks


class _StrategyPlanner:
    """The Plan's part of SPEC 10.1-10.3: estimates, alignment and score, dependencies, risks.

    Estimates are deterministic: ``cost_estimate`` (given, or the sum over tasks of central
    effort in person-days x the pool's day rate) and ``planned_duration`` (the critical path of
    the central efforts, a task taking central / (people x pool productivity) days). Without
    strategy or risks nothing new is drawn, so such a scenario's Plans are unchanged.

    Draws have their own streams: template alignment from ``Source.ALIGNMENT`` (a stream per
    template, a vector per goal); risks from ``Source.RISKS``, a stream per (risk, group,
    quantity) over a fixed, policy-free order — group 0 the explicit projects by file index,
    group 1 the generated ones by generation index — so a project's draws do not depend on
    how many projects follow it (but for a normal distribution's redraws of negatives).
    """

    def __init__(self, scenario: Scenario, explicit: list[Network], templates: list[Network]):
        self.scenario = scenario
        self.n_explicit = len(explicit)
        self.specs: list[ProjectSpec | Template] = [*scenario.projects,
                                                    *(scenario.intake.templates if scenario.intake else [])]
        pools = list(scenario.resources.values())
        self.estimates = [_estimates(spec, net, pools)
                          for spec, net in zip(self.specs, explicit + templates, strict=True)]
        # Spec index by (template, name): explicit projects by name, generated ones by template.
        self.index = {("", p.name): i for i, p in enumerate(scenario.projects)}
        self.index |= {(s.name, ""): self.n_explicit + k for k, s in enumerate(self.specs[self.n_explicit:])}
        self.goals = list(scenario.strategy.goals) if scenario.strategy is not None else []
        self.weights = np.array(scenario.strategy.weights() if scenario.strategy is not None else [])

    def _spec(self, p: ProjectPlan) -> int:  # index into self.specs
        return self.index[(p.template, "" if p.template else p.name)]

    def draw(self, seed: int, replication: int, projects: list[ProjectPlan]) -> None:
        """Estimates, alignment, score and risk draws; ``p.index`` is still the file/generation index."""
        members: dict[int, list[ProjectPlan]] = {}  # generated projects by template
        for p in projects:
            spec = self._spec(p)
            p.cost_estimate, p.planned_duration = self.estimates[spec]
            if not p.template:
                aligned = self.specs[spec].alignment
                self._set_alignment(p, np.array([aligned.get(g, 0.0) for g in self.goals]))
            elif self.goals:
                members.setdefault(spec, []).append(p)
        for spec, group in members.items():
            tpl = self.specs[spec]
            assert isinstance(tpl, Template)
            rng = stream(seed, replication, Source.ALIGNMENT, spec - self.n_explicit)
            draws = np.column_stack([tpl.alignment[g].sample(rng, len(group)) if g in tpl.alignment
                                     else np.zeros(len(group)) for g in self.goals])
            for p, row in zip(group, draws, strict=True):
                self._set_alignment(p, row)
        if self.scenario.risks:
            self._risks(seed, replication, projects)

    def _set_alignment(self, p: ProjectPlan, alignment: np.ndarray) -> None:
        # Alignments lie in [0, 1] and the weights sum to 1: the clip only removes rounding.
        p.alignment, p.score = alignment, min(1.0, float(self.weights @ alignment)) if self.goals else 0.0

    def _risks(self, seed: int, replication: int, projects: list[ProjectPlan]) -> None:
        # (group, position): explicit projects by file index, generated ones by generation index.
        slots = [(1, p.index - self.n_explicit) if p.template else (0, p.index) for p in projects]
        sizes = (self.n_explicit, sum(1 for p in projects if p.template))
        rows: list[list[tuple[float, ...]]] = [[] for _ in projects]
        for r, risk in enumerate(self.scenario.risks):
            quantities = (None, risk.when, risk.impact.delay, risk.impact.effort, risk.impact.cost)
            draws = [np.column_stack([_risk_draws(seed, replication, r, group, q, dist, size)
                                      for q, dist in enumerate(quantities)])
                     for group, size in enumerate(sizes)]
            targets = risk.applies_to
            for row, p, (group, pos) in zip(rows, projects, slots, strict=True):
                if targets is None or p.name in targets.projects or p.template in targets.templates:
                    row.append((r, *draws[group][pos].tolist()))
        for p, row in zip(projects, rows, strict=True):
            table = np.array(row, dtype=float).reshape(-1, 6)
            p.risk_index = table[:, 0].astype(int)
            p.risk_u, p.risk_when, p.risk_delay, p.risk_effort, p.risk_cost = table[:, 1:].T.copy()

    def link(self, projects: list[ProjectPlan]) -> None:
        """``depends_on`` and ``dependents`` as indices into the arrival-sorted ``projects``."""
        present = {p.name: p.index for p in projects if not p.template}
        waiting: dict[int, list[int]] = {}
        for p in projects:
            spec = self.specs[self._spec(p)]
            if not spec.depends_on:
                continue
            p.blocked = any(name not in present for name in spec.depends_on)
            p.depends_on = tuple(sorted({present[n] for n in spec.depends_on if n in present}))
            for d in p.depends_on:
                waiting.setdefault(d, []).append(p.index)
        for d, dependents in waiting.items():
            projects[d].dependents = tuple(dependents)


def _risk_draws(seed: int, replication: int, risk: int, group: int, quantity: int,
                dist: Distribution | None, size: int) -> np.ndarray:
    """One quantity of one risk over one group of projects: strike uniforms when ``dist`` is None."""
    rng = stream(seed, replication, Source.RISKS, risk, group, quantity)
    return rng.random(size) if dist is None else dist.sample(rng, size)


def _estimates(spec: ProjectSpec | Template, net: Network, pools: list[Pool]) -> tuple[float, float]:
    """(cost_estimate, planned_duration) of a project or template, from its central efforts."""
    rates = np.array([pools[k].day_rate for k in net.pools])
    cost = spec.cost_estimate if spec.cost_estimate is not None else float(net.central @ rates)
    finish = np.zeros(len(net.names))
    for t in net.order:
        start = max((finish[q] for q in net.preds[t]), default=0.0)
        finish[t] = start + net.central[t] / (net.people[t] * pools[net.pools[t]].productivity)
    return cost, float(finish.max())
