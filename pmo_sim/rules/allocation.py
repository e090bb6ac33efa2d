"""The resource manager's allocation rules.

A rule is a small function ``key(subject, now) -> float``: the smaller the key, the sooner
the subject's ready tasks get free people. Ties fall back to FIFO: earliest project arrival,
then task ready time, then file order — the engine appends that tie-break, so a rule only says
what it ranks by.

Rules come at two levels. A **project-level** rule (the default) ranks a ready task by its
project (a :class:`RankedProject`), so all ready tasks of a project rank alike; under a WIP
limit it also decides which backlog project is admitted first. A **task-level** rule
(``level="task"``, listed in :data:`TASK_RULES`) ranks each ready task by its own attributes
(a :class:`RankedTask`), like the activity priority rules of the project-scheduling
literature: ``lst`` and ``lft`` rank by the task's CPM latest start and latest finish within
its project (:func:`pmo_sim.scenario.network.cpm`), computed backward from the project's due
date or, without one, from its arrival plus its critical-path length. In a parallel
schedule-generation scheme, minimum slack (latest start − earliest start) orders the tasks
eligible at one instant exactly as ``lst`` does, since they all can start now.

Rules live in :data:`ALLOCATION_RULES`; validation reads this registry (its error lists the
rules), so adding a rule is adding one decorated function. A rule registered as
``static`` ranks by attributes that never change (a project's arrival, priority or due date;
a task's latest start); the engine then keeps ready queues sorted as tasks join instead of
re-ranking at every dispatch. A dynamic rule registered as ``steady`` promises that the key of
a project with nothing running either stays put or moves with ``now`` by the same amount for
every project (``min_slack``'s ``- now``): such *resting* projects keep their order, so the
engine re-ranks only the projects with work in progress, not every waiting one. A steady rule
registered as ``still`` (``srpt``, ``wsjf``) promises more: a resting project's key does not
depend on ``now`` at all, so the key taken when it came to rest serves until it changes. One
whose resting key does move (``min_slack``) may register its :data:`RESTING_FORMS`: the part
of the key that stays put while the project rests, taken once, and the key from that part
and ``now`` — computed with the same operations in the same order as the rule, so the same
number, without walking the project again at every allocation. A steady rule may also say how
fast a *live* project's key can fall (:data:`LIVE_FALLS`: ``min_slack``'s by at most a day a
day, its ``- now``, the remaining critical path only shrinking as work is done, until the
project's efforts change): a key taken once then bounds it from below at later allocations,
and the engine takes again only the keys that may rank among those an allocation reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple, Protocol, TypeVar


class RankedProject(Protocol):
    """What a project-level rule may look at (the engine's project state provides it)."""

    priority: float
    due_date: float  # absolute day; +inf when the project has no due date
    value_per_day: float

    def remaining_effort(self, now: float) -> float: ...

    def remaining_critical_path(self, now: float) -> float: ...


class RankedTask(Protocol):
    """What a task-level rule may look at (absolute days, from the project's CPM)."""

    latest_start: float
    latest_finish: float


Rule = Callable[[Any, float], float]
"""``key(subject, now)``: the subject is a :class:`RankedProject`, or a :class:`RankedTask`
for the rules in :data:`TASK_RULES`."""
ALLOCATION_RULES: dict[str, Rule] = {}
STATIC_RULES: set[str] = set()
STEADY_RULES: set[str] = set()
STILL_RULES: set[str] = set()
RestPart = Callable[[Any], float]
RestKey = Callable[[Any, float, float], float]
#: rule name -> (the part of a resting project's key that stays put, key(project, part, now))
RESTING_FORMS: dict[str, tuple[RestPart, RestKey]] = {}
#: rule name -> the most a project's key can fall per day while its efforts do not change
#: (rework and ideas change them; tasks starting, finishing or becoming ready do not)
LIVE_FALLS: dict[str, float] = {}


class LiveRate(NamedTuple):
    """How a project's key is bounded from below at its own rate, between the times it is
    taken: a *quantity* that falls by at most ``falls(project)`` a day (taken with the key)
    while its efforts do not change and no task of it starts (a start adds the task's own
    rate: :func:`start_falls`), and the key as a function of it."""

    falls: Callable[[Any], float]
    quantity: Callable[[Any, float], float]  # (project, now)
    key: Callable[[Any, float], float]  # (project, quantity)
    floor: Callable[[Any, float], float]  # the least key once the quantity is at least this


#: rule name -> its :class:`LiveRate` (per project, where :data:`LIVE_FALLS` is one for all)
LIVE_RATES: dict[str, LiveRate] = {}
TASK_RULES: set[str] = set()

_R = TypeVar("_R", bound=Rule)


def rule(name: str, static: bool = False, steady: bool = False, still: bool = False,
         level: Literal["project", "task"] = "project",
         at_rest: tuple[RestPart, RestKey] | None = None,
         live_falls: float | None = None,
         live_rate: LiveRate | None = None) -> Callable[[_R], _R]:
    def register(fn: _R) -> _R:
        ALLOCATION_RULES[name] = fn
        if at_rest is not None:
            RESTING_FORMS[name] = at_rest
        if live_falls is not None:
            LIVE_FALLS[name] = live_falls
        if live_rate is not None:
            LIVE_RATES[name] = live_rate
        if static:
            STATIC_RULES.add(name)
        if steady or still or at_rest is not None:  # both promise a steady key
            STEADY_RULES.add(name)
        if still:
            STILL_RULES.add(name)
        if level == "task":
            TASK_RULES.add(name)
        return fn

    return register


@rule("fifo", static=True)
def fifo(project: RankedProject, now: float) -> float:
    """First come, first served: earliest project arrival, then task ready time, then file order."""
    return 0.0


@rule("priority", static=True)
def priority(project: RankedProject, now: float) -> float:
    """Lowest priority number first (1 is the most urgent)."""
    return project.priority


@rule("edd", static=True)
def edd(project: RankedProject, now: float) -> float:
    """Earliest due date first; projects without a due date come last."""
    return project.due_date


def start_falls(task: Any) -> float:
    """The most a running task's remaining work falls per day: its crew's rate (a day a day
    for a fixed duration); none while it is paused, in down-time or in set-up."""
    return 1.0 if task.is_duration else task.rate


def _remaining_falls(project: Any) -> float:
    """The most ``remaining_effort`` falls per day while the running tasks stay the same."""
    falls = 0.0
    for task in project.running:
        falls += start_falls(task)
    return falls


def _remaining(project: RankedProject, now: float) -> float:
    return project.remaining_effort(now)


def _as_is(project: RankedProject, remaining: float) -> float:
    return remaining  # srpt's key is the remaining effort, its least value the effort's least


_REMAINING_FALLS = LiveRate(_remaining_falls, _remaining, _as_is, _as_is)


@rule("srpt", still=True, live_rate=_REMAINING_FALLS)
def srpt(project: RankedProject, now: float) -> float:
    """Shortest remaining processing time: least remaining project effort first.

    ``live_rate``: a running task's remaining work falls by at most its crew's rate a day (not
    at all in down-time or a pause), so the key by at most their sum until a task starts (which
    adds its rate) or efforts change."""
    return project.remaining_effort(now)


def _wsjf_of(project: RankedProject, remaining: float) -> float:
    if remaining <= 0:
        return float("-inf")
    return -project.value_per_day / remaining


def _wsjf_floor(project: RankedProject, remaining: float) -> float:
    """The least ``wsjf`` key while the remaining effort is at least ``remaining`` (and never
    grows): with a value of 0 or more the key grows with the remaining effort; with a negative
    value it is above 0 while any effort is left."""
    if remaining <= 0:
        return float("-inf")
    value = project.value_per_day
    return -value / remaining if value >= 0 else 0.0


@rule("wsjf", still=True, live_rate=_REMAINING_FALLS._replace(key=_wsjf_of, floor=_wsjf_floor))
def wsjf(project: RankedProject, now: float) -> float:
    """Weighted shortest job first: highest value_per_day / remaining project effort first.

    ``live_rate``: bounded by the remaining effort's bound, as ``srpt``."""
    return _wsjf_of(project, project.remaining_effort(now))


def _critical_path_at_rest(project: RankedProject) -> float:
    return project.remaining_critical_path(0.0)  # nothing runs: the same at any time


def _min_slack_at_rest(project: RankedProject, critical_path: float, now: float) -> float:
    return project.due_date - now - critical_path  # NOTE: as min_slack computes it


@rule("min_slack", steady=True, at_rest=(_critical_path_at_rest, _min_slack_at_rest), live_falls=1.0)
def min_slack(project: RankedProject, now: float) -> float:
    """Least slack first: due date - now - remaining critical-path work (in days).

    ``live_falls=1.0``: as time passes the key falls by the time passed, less the critical-path
    work done meanwhile (the chains only shrink as tasks run, finish, or start: a task starting
    turns its chain from a ready one into a running one of the same length; a task finishing
    leaves successors whose chains its own contained), until rework or an idea changes efforts.
    """
    return project.due_date - now - project.remaining_critical_path(now)


@rule("lst", static=True, level="task")
def lst(task: RankedTask, now: float) -> float:
    """Latest start time first: the task's CPM latest start within its project."""
    return task.latest_start


@rule("lft", static=True, level="task")
def lft(task: RankedTask, now: float) -> float:
    """Latest finish time first: the task's CPM latest finish within its project."""
    return task.latest_finish
