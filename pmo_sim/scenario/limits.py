"""Limits against hostile or careless scenario files, and the size of a run before it starts.

Every bound pmo-sim puts on its input is a constant here, so the README's "Limits" section,
the loader and the tests read the same numbers. They are generous for real portfolios and
keep ``validate`` on any file to seconds and well under 1 GB.

*Reading* (:mod:`pmo_sim.scenario.reader`): file size, nesting depth, number of values,
values reached through aliases, longest text. *The scenario* (:mod:`pmo_sim.scenario.models`):
names, explicit projects, tasks per project or template, ``intake.count``, whole-number fields
and the magnitude of every number.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pmo_sim.errors import UsageError

if TYPE_CHECKING:  # the models read the limits below; the estimate only reads a Scenario
    from pmo_sim.scenario.models import PMO, Scenario

# --------------------------------------------------------------------------- reading a file

MAX_FILE_BYTES = 8 * 1024 * 1024
"""A scenario file larger than 8 MiB is refused before it is parsed."""

MAX_DEPTH = 32
"""Mappings and lists nested deeper than this are refused (a scenario needs fewer than 10)."""

MAX_NODES = 1_000_000
"""Values in a file (mappings, lists and scalars, aliases expanded): about 100 bytes of
memory each while loading."""

MAX_ALIAS_NODES = 100_000
"""Values reached through aliases and merge keys, counted as if each alias were written out:
bounds "billion laughs" files, which multiply aliases of aliases."""

MAX_TEXT_CHARS = 100_000
"""The longest scalar (a ``description`` fits many pages)."""

# --------------------------------------------------------------------------- the scenario

MAX_NAME_CHARS = 200
"""The longest name (scenario, pool, project, template, task, policy, programme, adoption)."""

MAX_PROJECTS = 20_000
"""Explicit projects; more projects come from the intake (``intake.count``)."""

MAX_TASKS = 5_000
"""Tasks of one project or template."""

MAX_INTAKE_COUNT = 50_000
"""``intake.count``, and the projects an intake without a count may bring before the horizon
(half the sampler's hard stop of 100,000, so random variation never reaches it)."""

MAX_PEOPLE = 100_000
"""Headcount of a pool, crew size, managers."""

MAX_ALL_PEOPLE = 1_000_000
"""People and equipment units of all pools together, at their most: the pools' headcounts and
units, a policy's staffing changes up to its peak, and its contractors all engaged at once.
A replication holds every person as an object (about 500 bytes, 3.5 µs to set up): a million
people take about 0.5 GB and 3.5 s of every replication and policy, in each worker; 100 pools
of 100,000 people each passed ``validate`` and then needed about 5 GB a replication."""

MAX_COUNT = 1_000_000
"""Any other whole number (a WIP limit)."""

MAX_MAGNITUDE = 1e15
"""The largest size of any number of the scenario, and of any distribution's parameters:
a quadrillion (of days, money or people) is beyond any portfolio, and keeps every sum and
every draw finite."""

# --------------------------------------------------------------------------- the size of a run

DEFAULT_MAX_EVENTS = 1_000_000
"""The default budget of expected simulation events per replication and policy (``--max-events``).

The bundled scenarios make a few hundred to a thousand events per replication, a portfolio
64 times the benchmark's about 50,000, and 50,000 generated projects of five tasks about
300,000; one replication simulates about 100,000 events a second.
"""

MAX_STUDY_EVENTS = 1_000 * DEFAULT_MAX_EVENTS
"""The most expected simulation events a sweep, a sensitivity study or a frontier may make in
all (design points × replications × policies × events per replication and policy): 10^9, a
thousand replications at the event budget, about three hours of one core (the bundled
scenarios simulate 70,000 to 100,000 events a second). A run is resumable, chunk by chunk,
and its replications are bounded one by one; a study keeps nothing until it ends, so its
whole size is estimated and bounded before anything starts (its replications in all are also
bounded as a run's ``-n`` is)."""

#: What setting up one person (or unit) of a pool costs a replication, in simulation events of
#: time (3.5 µs against about 10 µs an event): counted in the load that sizes a run's chunks,
#: not in the event budget (a pool's people are bounded by :data:`MAX_ALL_PEOPLE`).
PERSON_EVENTS = 0.35

# Simulation events per unit of each count, calibrated on the bundled scenarios and the
# benchmark against the `events` KPI (estimate / KPI between 0.65 and 1.8): a project arrives
# and closes, a task starts and finishes, a change request is drawn for every day to the horizon
# but acts only while its project is open (so one event each is already generous), a leaver
# leaves and is replaced, an idea lands and may cut efforts, a trainee goes and comes back, a
# cohort and a review wake up. A (risk, project) pair is drawn and recorded (about an event's
# time); a (goal, project) alignment about a twentieth of one. A staffing hire is set up and
# ramps up; a staffing release looks through everyone the pool has had so far (about 0.1 us
# each: 20,000 changes of +1 and -1 took 5 s of a replication, 100,000 over two minutes, before
# the estimate counted them). A tool adoption is looked up at every task's start and finish
# (about 0.2 us a task: 50,000 adoptions over 5,000 tasks took 50 s).
EVENT_WEIGHTS = {"projects": 1.0, "tasks": 1.0, "changes": 1.0, "leavers": 4.0, "ideas": 2.0,
                 "trainees": 2.0, "cohorts": 1.0, "reviews": 1.0, "risk_pairs": 1.0,
                 "goal_pairs": 0.05, "hires": 1.0, "release_scans": 0.01, "adoption_pairs": 0.02}

GAP_REVIEW_DAYS = 20.0  # the gap-driven training manager's review period


@dataclass(frozen=True)
class SizeEstimate:
    """Expected counts per replication and policy; the per-policy ones are the largest policy's."""

    projects: float  # explicit ones arriving before the horizon + expected intake arrivals
    tasks: float
    changes: float  # change requests drawn: rate x years each project is in the portfolio
    leavers: float  # = hires: attrition x headcount x years (retention ignored)
    ideas: float
    cohorts: float  # training cohorts (and gap-driven reviews)
    trainees: float  # enrolments
    events: float
    largest: str  # the dotted path of the field that contributes most events
    people: float = 0.0  # people and units of all pools at their most (the largest policy's)


def estimate_size(scenario: Scenario) -> SizeEstimate:
    """The expected size of one replication of ``scenario`` (see :class:`SizeEstimate`)."""
    sc = scenario
    years = sc.horizon / sc.days_per_year
    parts: dict[str, float] = {}
    explicit = [p for p in sc.projects if p.arrival < sc.horizon]
    projects, tasks = float(len(explicit)), float(sum(len(p.tasks) for p in explicit))
    project_years = sum(sc.horizon - p.arrival for p in explicit) / sc.days_per_year
    parts["projects"] = _events(projects=projects, tasks=tasks)
    if sc.intake is not None:
        n, field_, tasks_each, mean_years = _intake(sc)
        projects, tasks, project_years = projects + n, tasks + n * tasks_each, project_years + n * mean_years
        parts[field_] = _events(projects=n, tasks=n * tasks_each)
    if sc.strategy is not None:  # an alignment per (goal, project), drawn for generated ones
        # (3,000 goals over 40,000 projects: 2 GB and 35 s before any estimate counted them;
        # about 0.3 us and 17 bytes each, a twentieth of an event's time)
        parts["strategy.goals"] = _events(goal_pairs=len(sc.strategy.goals) * projects)
    if sc.risks:  # drawn and recorded per (risk, applicable project): a row of the risks table each
        parts["risks"] = _events(risk_pairs=_risk_pairs(sc, projects - len(explicit)))
    changes = sc.changes.per_project_per_year * project_years if sc.changes is not None else 0.0
    parts["changes.per_project_per_year"] = _events(changes=changes)
    headcount = sum(pool.capacity for pool in sc.resources.values() if pool.kind == "people")
    leavers = sc.workforce.attrition_per_year * headcount * years if sc.workforce is not None else 0.0
    parts["workforce.attrition_per_year"] = _events(leavers=leavers)
    if sc.budget is not None:  # a budget release at the start of every budget year
        parts["days_per_year"] = _events(reviews=years + 1)
    worst: tuple[float, str, float, float, float] = (0.0, "", 0.0, 0.0, 0.0)
    for name, policy in sc.policies.items():
        base = "pmo" if policy is sc.pmo else f"policies.{name}"
        events, field_, ideas, cohorts, trainees = _policy(sc, policy, base, years, tasks)
        if events >= worst[0]:
            worst = (events, field_, ideas, cohorts, trainees)
    if worst[1]:
        parts[worst[1]] = worst[0]
    total = sum(parts.values())
    return SizeEstimate(projects=projects, tasks=tasks, changes=changes, leavers=leavers, ideas=worst[2],
                        cohorts=worst[3], trainees=worst[4], events=total if total == total else math.inf,
                        largest=max(parts, key=lambda k: parts[k]), people=most_people(sc)[0])


def most_people(sc: Scenario) -> tuple[int, tuple[str | int, ...]]:
    """The most people and equipment units all pools hold at once, over every policy, and the
    field at which the count first passes :data:`MAX_ALL_PEOPLE` (else the largest pool's).

    The pools are counted in file order; then each policy's staffing changes in day order
    (the peak of the running total: a release makes room for a later hire), then its
    contractors, each pool's ``max`` as if all were engaged at once.
    """
    total, at = 0, None
    largest: tuple[int, tuple[str | int, ...]] = (-1, ("resources",))
    for name, pool in sc.resources.items():
        path: tuple[str | int, ...] = ("resources", name, "headcount" if pool.kind == "people" else "units")
        total += pool.capacity
        if at is None and total > MAX_ALL_PEOPLE:
            at = path
        if pool.capacity > largest[0]:
            largest = (pool.capacity, path)
    most, where = total, at or largest[1]
    for name, policy in sc.policies.items():
        base: tuple[str | int, ...] = ("pmo",) if policy is sc.pmo else ("policies", name)
        peak, crossed = _policy_people(policy, total, base + ("resource_manager",))
        if peak > most:
            most, where = peak, at or crossed or where
    return most, where


def people_problem(sc: Scenario) -> tuple[tuple[str | int, ...], str, int] | None:
    """``(path, message, got)`` when all pools together hold more than :data:`MAX_ALL_PEOPLE`
    people and units at once (:func:`most_people`), located at the field that passes it."""
    most, path = most_people(sc)
    if most <= MAX_ALL_PEOPLE:
        return None
    got: int = _value_at(sc, path)
    return (path, f"all pools together would hold {most:,} people and units at once (staffing "
            f"changes and contractors included), more than the limit of {MAX_ALL_PEOPLE:,}: a "
            f"replication holds every person in memory (about 0.5 GB and 3.5 s per million); use "
            f"fewer or smaller pools", got)


def _value_at(sc: Scenario, path: tuple[str | int, ...]) -> int:
    if path[0] == "resources":
        return sc.resources[str(path[1])].capacity
    policy = sc.pmo if path[0] == "pmo" else sc.policies[str(path[1])]
    rm = policy.resource_manager
    if "staffing" in path:
        return rm.staffing[int(path[-2])].change
    return rm.contractors[int(path[-2])].max


def _policy_people(policy: PMO, start: int, base: tuple[str | int, ...]
                   ) -> tuple[int, tuple[str | int, ...] | None]:
    """(peak people and units with this policy's staffing and contractors, the field that
    takes them past :data:`MAX_ALL_PEOPLE`, or None)."""
    rm = policy.resource_manager
    now = peak = start
    crossed = None
    for i in sorted(range(len(rm.staffing)), key=lambda i: (rm.staffing[i].day, i)):
        now += rm.staffing[i].change
        if now > peak:
            peak = now
            if crossed is None and peak > MAX_ALL_PEOPLE:
                crossed = base + ("staffing", i, "change")
    for i, contractor in enumerate(rm.contractors):
        peak += contractor.max
        if crossed is None and peak > MAX_ALL_PEOPLE:
            crossed = base + ("contractors", i, "max")
    return peak, crossed


def _events(**counts: float) -> float:
    return sum(EVENT_WEIGHTS[k] * v for k, v in counts.items())


def _risk_pairs(sc: Scenario, generated: float) -> float:
    """Expected (risk, applicable project) pairs: each is drawn in the plan and a row of the
    risks table (300 risks over 40,000 generated projects made 12,000,000 rows, 5.4 GB and two
    minutes for one replication, before any estimate counted them)."""
    explicit = sum(1 for p in sc.projects if p.arrival < sc.horizon)
    templates = sc.intake.templates if sc.intake is not None else []
    weights = sum(t.weight for t in templates) or 1.0
    pairs = 0.0
    for risk in sc.risks:
        targets = risk.applies_to
        if targets is None:
            pairs += explicit + generated
        else:
            share = sum(t.weight for t in templates if t.name in targets.templates) / weights
            pairs += len(targets.projects) + generated * share
    return pairs


def _intake(sc: Scenario) -> tuple[float, str, float, float]:
    """(expected arrivals, the field that bounds them, tasks per project, mean years in the portfolio)."""
    intake = sc.intake
    assert intake is not None
    gap = max(intake.arrivals.mean(), 0.0)
    n = sc.horizon / gap if gap > 0 else math.inf
    field_ = "intake.arrivals"
    if intake.count is not None and intake.count < n:
        n, field_ = float(intake.count), "intake.count"
    span = min(sc.horizon, n * gap)  # arrivals spread evenly over [0, span]
    weights = sum(t.weight for t in intake.templates)
    tasks_each = sum(t.weight * len(t.tasks) for t in intake.templates) / weights
    return n, field_, tasks_each, (sc.horizon - span / 2) / sc.days_per_year


def _policy(sc: Scenario, policy: PMO, base: str, years: float,
            tasks: float) -> tuple[float, str, float, float, float]:
    """(events, the field that makes most of them, ideas, cohorts, trainees) of one policy."""
    parts: dict[str, float] = {}
    ideas = cohorts = trainees = 0.0
    if policy.resource_manager.staffing:
        parts[f"{base}.resource_manager.staffing"] = _staffing(sc, policy)
    tech = policy.technology_manager
    if tech is not None and tech.adoptions:  # each adoption before the horizon, at every task
        adopted = sum(1 for ad in tech.adoptions if ad.day < sc.horizon)
        parts[f"{base}.technology_manager.adoptions"] = _events(adoption_pairs=adopted * tasks)
    inn = policy.innovation_manager
    if inn is not None and inn.success_probability > 0:
        ideas = inn.ideas_per_year * years
        parts[f"{base}.innovation_manager.ideas_per_year"] = _events(ideas=ideas)
    tm = policy.training_manager
    if tm is not None:
        for i, prog in enumerate(tm.programmes):
            n = _cohorts(prog.start, prog.repeat_every, sc.horizon)
            headcount = sc.resources[prog.skill].capacity if prog.skill in sc.resources else 0
            size = prog.trainees if prog.trainees >= 1 else max(1.0, prog.trainees * headcount)
            cohorts, trainees = cohorts + n, trainees + n * size
            path = f"{base}.training_manager.programmes.{i}.repeat_every"
            parts[path] = _events(cohorts=n, trainees=n * size)
        if tm.gap_driven is not None:
            reviews = sc.horizon / GAP_REVIEW_DAYS
            cohorts += reviews
            parts[f"{base}.training_manager.gap_driven"] = _events(reviews=reviews)
    funding = policy.governance.funding if policy.governance is not None else None
    if funding is not None and funding.review_every > 0:  # the funding board's meetings
        parts[f"{base}.governance.funding.review_every"] = _events(reviews=sc.horizon / funding.review_every)
    if not parts:
        return 0.0, "", 0.0, 0.0, 0.0
    return sum(parts.values()), max(parts, key=lambda k: parts[k]), ideas, cohorts, trainees


def _staffing(sc: Scenario, policy: PMO) -> float:
    """Events of a staffing plan: every hire, and every release's look through the people its
    pool has had so far (initial ones and hires; leavers' replacements not counted)."""
    had = {name: pool.capacity for name, pool in sc.resources.items()}
    hires = scans = 0.0
    plan = policy.resource_manager.staffing
    for change in sorted(plan, key=lambda c: c.day):
        if change.day >= sc.horizon or change.pool not in had:
            continue
        if change.change > 0:
            had[change.pool] += change.change
            hires += change.change
        else:
            scans += had[change.pool]
    return _events(hires=hires, release_scans=scans)


def _cohorts(start: float, every: float | None, horizon: float) -> float:
    if start >= horizon:
        return 0.0
    return 1.0 if every is None else 1.0 + (horizon - start) / every


def size_problems(scenario: Scenario, max_events: float | None) -> list[tuple[tuple[str | int, ...], str]]:
    """Why ``scenario`` is too large to simulate, as ``(path, message)``; empty when it is not.

    An intake expected to bring more than :data:`MAX_INTAKE_COUNT` projects is always refused;
    a scenario expected to make more than ``max_events`` events per replication and policy is
    refused unless ``max_events`` is None.
    """
    size = estimate_size(scenario)
    out: list[tuple[tuple[str | int, ...], str]] = []
    intake = scenario.intake
    if intake is not None and intake.count is None and intake.arrivals.mean() > 0:
        expected = scenario.horizon / intake.arrivals.mean()
        if expected > MAX_INTAKE_COUNT:
            out.append((("intake", "arrivals"), f"about {_count(expected)} projects would arrive before "
                        f"the horizon, more than the intake's limit of {MAX_INTAKE_COUNT:,}; set "
                        "intake.count or lengthen the gaps"))
    if max_events is not None and not out and size.events > max_events:
        path = tuple(int(s) if s.isdigit() else s for s in size.largest.split("."))
        out.append((path, f"with horizon {scenario.horizon:g} this makes about {_count(size.events)} "
                    f"simulation events per replication, above the budget of {max_events:,.0f}; "
                    "raise it with --max-events"))
    return out


def _count(x: float) -> str:
    return f"{x:,.0f}" if x < 1e15 else f"{x:.2g}"


def check_budget(max_events: object) -> None:
    """A Python caller's ``max_events``: a finite number of at least 1, or None (no check), as
    ``--max-events`` is; before, NaN silently disabled the check and -1 refused every scenario
    as "above the budget of -1" (and ``run_experiment(max_events=-1)`` stopped every
    replication as a runaway, ``"1e6"`` failed each on "invalid literal for int()")."""
    if max_events is None:
        return
    if isinstance(max_events, bool) or not isinstance(max_events, numbers.Real):
        raise TypeError(f"max_events must be a number or None, not {type(max_events).__name__} "
                        f"({max_events!r})")
    if not (math.isfinite(max_events) and float(max_events) >= 1):
        raise UsageError(f"max_events must be a finite number of at least 1, or None for no "
                         f"budget (got {max_events})")
