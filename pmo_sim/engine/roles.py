"""The role contract: how the engine and the PMO's roles talk.

The engine owns time, people, pools and the task life cycle; it knows no PMO role by name.
Each role (:mod:`pmo_sim.pmo`) is a plug-in, an instance of a :class:`Role` subclass that the
engine calls through the hooks below, in the order the policy lists its roles. A role owns its
state, counters and costs, and reports them at the end through :meth:`Role.report`. A role
never reaches into another role; it steers the world only through the methods of
:class:`WorldAPI` (the part of :class:`~pmo_sim.engine.world.World` roles may use), so it can
be tested against a small fake world.

Like SimPy's ``BaseResource._do_put``/``_do_get``, every hook states what it must do:

``attach(world)``
    Called once, after the world is built and before the clock starts (projects, pools and
    people exist; the arrival process is already scheduled). Read the role's policy section,
    keep the world, start the role's own SimPy processes. Must not draw random numbers except
    from the role's own stream (:func:`pmo_sim.sampling.stream`).
``plan_efforts(plan, efforts) -> efforts``
    Called once per project when its task states are built, before the clock starts: return
    the task efforts to use (a numpy array in file order; return ``efforts`` itself to keep
    them). Must be a deterministic function of the plan (e.g. better estimating practice).
``on_arrival(project) -> bool``
    A project has just arrived (projects arriving at the same instant come one call each, in
    arrival order). Return ``True`` to let it go on towards admission, or ``False`` to hold it;
    a role that holds a project must later call ``world.pass_on([project], self)`` (to let it go
    on) or ``world.cancel(project, ...)``. Roles are asked in order; the first that holds wins.
``on_admit(project)``
    The project was admitted (status ``open``); its first tasks are ready.
``on_task_start(task)``
    A crew was assigned to ``task`` (``task.start``, ``task.crew`` and ``task.rate`` are set).
``on_task_finish(task)``
    ``task`` finished and its crew was released, before its successors become ready. A role
    may cancel the project here (e.g. a stage gate).
``on_close(project)``
    The project completed or was cancelled (``project.status`` says which).
``report(acc)``
    At the horizon: add the role's KPIs and costs to the :class:`Accounts` (counters with
    :meth:`Accounts.count`, one-off spending with :meth:`Accounts.pay`, per-year functions with
    :meth:`Accounts.flow`). Costs in the window count in the KPI; every payment counts in NPV.
    A role may also fill a ``projects`` column it owns, project by project
    (:meth:`Accounts.per_project`), and add rows to a table of its own (:meth:`Accounts.rows`).

Hooks a role does not override cost nothing: the world calls a hook only on the roles whose
class overrides it (:func:`subscribers`), and a role can leave out hooks its class overrides
but its settings do not need by naming them in ``idle_hooks`` (set in ``__init__``).

Exactly one role also allocates (:class:`Allocator`): the resource manager. It holds the
backlog, the WIP gate and the pools' ready queues, and gives free people to ready tasks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    import numpy as np
    import simpy

    from pmo_sim.engine.clock import Downtime
    from pmo_sim.engine.state import Person, PoolState, ProjectState, Ramp, TaskState
    from pmo_sim.sampling import Plan, ProjectPlan
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import PMO


class WorldAPI(Protocol):
    """What a role may read and call on the world (the engine's side of the contract)."""

    @property
    def env(self) -> simpy.Environment:  # the clock: SimPy's environment (read, not replaced)
        ...

    scenario: Scenario
    policy: PMO
    plan: Plan
    t0: float  # start of the KPI window (warm-up)
    t1: float  # horizon
    delta: float  # discount intensity per day, ln(1 + r) / days_per_year
    work_share: float  # share of people's time on project work (innovation time lowers it)
    wip: int  # projects admitted and not yet closed
    closed: bool  # in calendar down-time: nothing may start
    down: Downtime | None  # the calendar's down-time intervals (None: no calendar down-time)
    touched: list[bool]  # per pool: freed capacity or new work since the allocator last looked
    touched_pools: list[int]  # the indices of the touched pools, in the order they were touched
    pools: list[PoolState]
    pool_by_name: dict[str, PoolState]
    projects: list[ProjectState]

    # ---- projects
    def pass_on(self, projects: Sequence[ProjectState], holder: Role) -> None:
        """Let projects a role held on arrival go on towards admission, together (the WIP gate's
        rule, not the order of the list, says who is admitted first)."""

    def admit(self, project: ProjectState) -> None:
        """Open a project: its first tasks become ready (the allocator's WIP gate calls this)."""

    def cancel(self, project: ProjectState, reason: str = "") -> None:
        """Stop a project wherever it is (held, in the backlog, open): it starts nothing more;
        running tasks finish and earn nothing. ``reason`` goes to ``cancel_reason``."""

    def reject(self, project: ProjectState) -> None:
        """A proposal that will not be funded leaves the portfolio (status ``rejected``)."""

    def apply_change(self, project: ProjectState, fraction: float, disruption: float) -> None:
        """Rework of ``fraction`` × the project's remaining effort, and a pause of its work."""

    def scale_pending_effort(self, project: ProjectState, factor: float) -> None:
        """Multiply the effort of the project's tasks that have not started by ``factor`` (all
        of them, for a project not admitted yet)."""

    # ---- tasks and people
    def start_task(self, task: TaskState, crew: list[Person], setup: float) -> None:
        """Start ``task`` with ``crew`` (a new list, taken off the idle lists by the caller)."""

    def dispatch(self) -> None:
        """Ask the allocator to give free people to ready tasks."""

    def touch(self, pool: PoolState) -> None:
        """Mark the pool as having something new to allocate (``touched_pools`` lists them)."""

    def claim(self, person: Person, on_free: Callable[[Person], None]) -> None:
        """Call ``on_free(person)`` when the person is free: now if idle, else after their task."""

    def send_away(self, person: Person) -> None:
        """The (free, claimed) person is off project work from now (e.g. in training)."""

    def release(self, person: Person) -> None:
        """A person back from being away or claimed: leaves if due to, else free for work."""

    def change_attrition(self, person: Person, factor: float) -> None:
        """Scale the person's attrition rate from now on (retention)."""

    def add_ramp(self, person: Person, ramp: Ramp) -> None:
        """A personal productivity ramp (e.g. a training gain coming in)."""

    def add_pool_ramp(self, pool: PoolState, ramp: Ramp) -> None:
        """A multiplier for everyone in the pool, new hires included (e.g. a tool's J-curve)."""

    def add_skill(self, person: Person, pool: PoolState) -> None:
        """The person can from now on also work in ``pool`` (cross-skilling)."""

    def hire(self, pool: PoolState) -> Person:
        """A new person (ramping up like a new hire) or equipment unit in the pool, from now on."""

    def dismiss(self, person: Person) -> None:
        """The person leaves for good, not replaced: now if free, else after their task."""

    def engage(self, pool: PoolState, productivity: float, day_rate: float, label: str) -> Person:
        """A contractor joins the pool, free now; paid ``day_rate`` while engaged."""


class Role:
    """Base of the PMO's roles: every hook is a no-op; see the module docstring."""

    #: The policy section the role reads (``resource_manager``, ``change_manager``, ...).
    section: ClassVar[str] = ""
    #: Hooks this instance overrides but does not need (they are not called).
    idle_hooks: frozenset[str] = frozenset()

    def __init__(self, scenario: Scenario, policy: PMO) -> None:
        """Keep the settings the role needs (its policy section); no world yet."""

    @classmethod
    def wanted(cls, scenario: Scenario, policy: PMO) -> bool:
        """Does this policy need the role at all? (Default: its policy section is set.)"""
        return getattr(policy, cls.section, None) is not None

    def attach(self, world: WorldAPI) -> None:
        """Read the policy, keep the world, start the role's processes."""

    def plan_efforts(self, plan: ProjectPlan, efforts: np.ndarray) -> np.ndarray:
        return efforts

    def on_arrival(self, project: ProjectState) -> bool:
        return True

    def on_admit(self, project: ProjectState) -> None:
        """The project was admitted."""

    def on_task_start(self, task: TaskState) -> None:
        """A crew was assigned to the task."""

    def on_task_finish(self, task: TaskState) -> None:
        """The task finished; its crew was released."""

    def on_close(self, project: ProjectState) -> None:
        """The project completed or was cancelled."""

    def report(self, acc: Accounts) -> None:
        """Add the role's KPIs and costs."""

    def dispose(self) -> None:
        """Drop what the role holds once the world's records are built (``World.dispose``): a
        role that binds methods to itself for speed is a cycle, which would keep its queues
        and everything in them for the cyclic garbage collector to find. What a role reports
        goes through :meth:`report`; a role of one's own that must keep something past the
        run (say, for a test to read) overrides this."""
        self.__dict__.clear()


class Allocator(Role):
    """The role that allocates: backlog, WIP gate, ready queues and crews (one per world)."""

    @classmethod
    def wanted(cls, scenario: Scenario, policy: PMO) -> bool:
        return True  # every world needs its allocator

    def enqueue(self, projects: Sequence[ProjectState]) -> None:
        """Projects that may now be admitted (arrived and not held): admit what the gate allows."""
        raise NotImplementedError

    def task_ready(self, task: TaskState) -> None:
        """A task whose predecessors are done joins its pool's ready queue."""
        raise NotImplementedError

    def withdraw(self, project: ProjectState) -> None:
        """A cancelled project's ready tasks leave the queues."""
        raise NotImplementedError

    def dispatch(self) -> None:
        """Give free capacity to ready tasks, in the policy's order; the pools to look at are
        the world's ``touched_pools`` (clear them, and their ``touched`` flags)."""
        raise NotImplementedError

    def project_closed(self) -> None:
        """A project left the WIP: admit from the backlog if the gate allows."""
        raise NotImplementedError

    def project_resumed(self, project: ProjectState) -> None:
        """A paused project may start its waiting tasks again."""
        raise NotImplementedError

    def project_changed(self, project: ProjectState) -> None:
        """The project's remaining work changed other than by its own tasks (rework, an idea)."""


def overrides(role: Role, hook: str) -> bool:
    """Does the role's class override ``hook`` of :class:`Role`, and does the role need it?"""
    return getattr(type(role), hook) is not getattr(Role, hook) and hook not in role.idle_hooks


def subscribers(roles: Iterable[Role], hook: str) -> list[Callable[..., object]]:
    """The bound ``hook`` of each role that overrides it, in role order."""
    return [getattr(r, hook) for r in roles if overrides(r, hook)]


class Accounts:
    """KPI contributions of the roles: counters, one-off payments and per-year cost flows.

    Money is kept twice: the nominal amount paid inside the KPI window [t0, t1) (what the cost
    KPIs show) and its present value at day 0 (what NPV subtracts; every one-off payment before
    the horizon counts, warm-up included, whereas payroll and the per-year flows are discounted
    over the window only: :mod:`pmo_sim.engine.records`).
    """

    def __init__(self, t0: float, t1: float, delta: float, days_per_year: float):
        self.t0, self.t1, self.delta, self.days_per_year = t0, t1, delta, days_per_year
        self.counts: dict[str, float] = {}
        self.nominal: dict[str, float] = {}
        self.present: dict[str, float] = {}
        self.flows: dict[str, float] = {}
        self.project_values: dict[str, dict[int, Any]] = {}
        self.extra: dict[str, dict[str, list[Any]]] = {}

    def count(self, kpi: str, value: float) -> None:
        self.counts[kpi] = self.counts.get(kpi, 0) + value

    def pay(self, kpi: str, nominal: float, present: float) -> None:
        """A cost already split into its in-window amount and present value (see :func:`payment`)."""
        self.nominal[kpi] = self.nominal.get(kpi, 0.0) + nominal
        self.present[kpi] = self.present.get(kpi, 0.0) + present

    def flow(self, kpi: str, per_year: float) -> None:
        """A cost of ``per_year`` paid evenly over the window (a PMO function's running cost)."""
        self.flows[kpi] = self.flows.get(kpi, 0.0) + per_year

    def per_project(self, column: str, project: int, value: Any) -> None:
        """The value of a ``projects`` column for the project of index ``project`` (a column the
        records leave at its default for projects no role gives a value)."""
        self.project_values.setdefault(column, {})[project] = value

    def rows(self, table: str, row: Mapping[str, Any]) -> None:
        """One row of a results table other than the core three (``goals``, ``risks``): every
        column of the table (:mod:`pmo_sim.schema`) but the key, by name."""
        columns = self.extra.setdefault(table, {})
        for name, value in row.items():
            columns.setdefault(name, []).append(value)


def payment(amount: float, day: float, t0: float, delta: float) -> tuple[float, float]:
    """(amount counted in the KPI window, present value at day 0) of a payment on ``day``."""
    return (amount if day >= t0 else 0.0), amount * math.exp(-delta * day)
