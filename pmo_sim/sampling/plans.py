"""What one replication's world is: task networks (compiled once per scenario) and the Plan."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pmo_sim.sampling.streams import Source, stream
from pmo_sim.scenario.models import ProjectSpec, Scenario, Template
from pmo_sim.scenario.network import planned_durations, topological_order

# --------------------------------------------------------------------------- task networks


@dataclass(frozen=True)
class Network:
    """A project's task network, compiled once per scenario: indices in topological order.

    What a task holds while it runs is ``needs[i]``: ``(pool index, units)`` pairs, people and
    equipment alike (a ``skill`` + ``people`` task is the one pair ``(skill, people)``).
    ``pools[i]``/``people[i]`` are the skill and crew size of a ``skill`` task; for a ``needs``
    task they are its first people pool and that pool's units (``-1``/``0`` when it needs no
    people). A task with ``is_duration[i]`` takes its drawn value as days whatever its crew;
    the others' drawn value is effort in person-days. ``planned[i]`` is the task's planned
    duration in days (:func:`pmo_sim.scenario.network.planned_duration`), the input of the CPM
    behind the ``lst``/``lft`` rules.
    """

    names: tuple[str, ...]
    pools: tuple[int, ...]
    people: tuple[int, ...]
    preds: tuple[tuple[int, ...], ...]
    succs: tuple[tuple[int, ...], ...]
    npreds: tuple[int, ...]
    order: tuple[int, ...]  # file indices in topological order (file order among ties)
    central: np.ndarray  # central values of what is drawn per task (the estimate per task)
    estimate: float  # the project's estimated effort: central values summed (person-days; a
    # fixed duration's days, as effort_planned and the stage gate's progress count them)
    needs: tuple[tuple[tuple[int, int], ...], ...]
    is_duration: tuple[bool, ...]
    planned: tuple[float, ...]
    speeds: tuple[float, ...]  # nominal crew speed: sum of units x productivity x fte of its people
    chain_speeds: tuple[float, ...]  # days per drawn unit in critical-path chains: 1 for a fixed
    # duration, else the nominal speed (1 when the task has no people to speak of)
    single: bool = True  # every task holds one pool, its skill: needs[i] == ((pools[i], people[i]),)


def compile_network(spec: ProjectSpec | Template, scenario: Scenario) -> Network:
    pool_index = {name: i for i, name in enumerate(scenario.resources)}
    names = tuple(t.name for t in spec.tasks)
    index = {n: i for i, n in enumerate(names)}
    preds = tuple(tuple(index[a] for a in t.after) for t in spec.tasks)
    succs: list[list[int]] = [[] for _ in names]
    for i, ps in enumerate(preds):
        for p in ps:
            succs[p].append(i)
    needs = tuple(tuple((pool_index[name], units) for name, units in t.units().items()) for t in spec.tasks)
    people_pools = {i for i, pool in enumerate(scenario.resources.values()) if pool.kind == "people"}
    crews = [next(((p, u) for p, u in held if p in people_pools), (-1, 0)) for held in needs]
    is_duration = tuple(t.duration is not None for t in spec.tasks)
    central = np.array([t.amount.central() for t in spec.tasks])
    speeds = tuple(_speed(held, scenario) for held in needs)
    return Network(
        names=names,
        pools=tuple(p for p, _ in crews),
        people=tuple(u for _, u in crews),
        preds=preds,
        succs=tuple(tuple(s) for s in succs),
        npreds=tuple(len(p) for p in preds),
        order=topological_order(preds),
        central=central,
        estimate=float(central.sum()),
        needs=needs,
        is_duration=is_duration,
        planned=planned_durations(spec.tasks, scenario.resources),
        speeds=speeds,
        chain_speeds=tuple(1.0 if d else (v or 1.0) for d, v in zip(is_duration, speeds, strict=True)),
        single=all(held == (crew,) for held, crew in zip(needs, crews, strict=True)),
    )


def _speed(held: tuple[tuple[int, int], ...], scenario: Scenario) -> float:
    pools = list(scenario.resources.values())
    total = 0.0
    for k, units in held:
        pool = pools[k]
        if pool.kind == "people":
            total += pool.productivity * pool.fte * units
    return total


# --------------------------------------------------------------------------- the plan

EXTRA_BLOCK = 4  # occupants of a slot drawn together once its pre-drawn ones run out

# Shared, read-only empty arrays: most projects have no change requests or risks, and making a
# new empty array for each of them was a tenth of the time it takes to draw a plan.
_EMPTY = np.empty(0)
_EMPTY.flags.writeable = False
_EMPTY_INT = np.empty(0, dtype=int)
_EMPTY_INT.flags.writeable = False


def _none() -> np.ndarray:
    return _EMPTY


def _no_ints() -> np.ndarray:
    return _EMPTY_INT


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
    efforts: np.ndarray  # per task, file order: effort, or days for a fixed-duration task
    change_times: np.ndarray = field(default_factory=_none)
    change_fraction: np.ndarray = field(default_factory=_none)
    change_disruption: np.ndarray = field(default_factory=_none)
    change_u: np.ndarray = field(default_factory=_none)
    # SPEC 10.1-10.3, set by _StrategyPlanner: estimates always, the rest when their section is set.
    cost_estimate: float = 0.0  # given, else sum over tasks of central effort x the pool's day rate
    planned_duration: float = 0.0  # critical path of the central efforts at base productivity, days
    alignment: np.ndarray = field(default_factory=_none)  # per goal, 0 where missing
    score: float = 0.0  # sum of normalised goal weight x alignment, in [0, 1]
    depends_on: tuple[int, ...] = ()  # indices into Plan.projects of the projects it waits for
    dependents: tuple[int, ...] = ()  # indices of the projects waiting for it
    blocked: bool = False  # a dependency arrives at or after the horizon: never admitted
    # Per applicable risk, in register order: its index, strike uniform, when, unmitigated impacts.
    risk_index: np.ndarray = field(default_factory=_no_ints)
    risk_u: np.ndarray = field(default_factory=_none)
    risk_when: np.ndarray = field(default_factory=_none)
    risk_delay: np.ndarray = field(default_factory=_none)
    risk_effort: np.ndarray = field(default_factory=_none)
    risk_cost: np.ndarray = field(default_factory=_none)


@dataclass
class Plan:
    """Everything random of one replication, shared by every policy."""

    seed: int
    replication: int
    projects: list[ProjectPlan]
    leave_budget: list[np.ndarray]  # per pool: [headcount, K] unit exponentials
    hiring_delay: list[np.ndarray]  # per pool: [headcount, K] days
    # Extra occupants' draws by (pool, slot, block): see occupant_draws.
    _extra: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def occupant_draws(self, scenario: Scenario, pool: int, slot: int, k: int) -> tuple[float, float]:
        """(hazard budget, hiring delay) of the k-th person to hold a pool's slot.

        Slots beyond the pool's headcount (people hired by a staffing plan) have nothing
        pre-drawn: all their draws come from the slot's own streams, like the rare extra
        turnover of a pre-drawn slot. Those come in blocks of ``EXTRA_BLOCK`` occupants, block
        b from its own stream keyed by (pool, slot, b), so a draw depends only on (seed,
        replication, pool, slot, k): never on how far an earlier policy sharing this Plan took
        the slot (redrawing a longer block from a new stream once did, and two policies then
        saw different leavers).
        """
        budgets, delays = self.leave_budget[pool], self.hiring_delay[pool]
        drawn = budgets.shape[1] if slot < budgets.shape[0] else 0
        if k < drawn:
            return float(budgets[slot, k]), float(delays[slot, k])
        block, i = divmod(k - drawn, EXTRA_BLOCK)
        key = (pool, slot, block)
        if key not in self._extra:
            # Block 0 keeps the key (..., slot + 1, 4) that the first extension always had.
            rng = stream(self.seed, self.replication, Source.WORKFORCE, pool, slot + 1, EXTRA_BLOCK,
                         *((block,) if block else ()))
            wf = scenario.workforce
            assert wf is not None
            self._extra[key] = (rng.standard_exponential(EXTRA_BLOCK),
                                wf.hiring_delay.sample(rng, EXTRA_BLOCK))
        extra_b, extra_d = self._extra[key]
        return float(extra_b[i]), float(extra_d[i])
