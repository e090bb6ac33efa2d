"""The resource manager's allocation rules.

A rule is a small function ``key(project, now) -> float``: the smaller the key, the sooner
the project's ready tasks get free people (and, under a WIP limit, the sooner a backlog
project is admitted). Ties fall back to FIFO: earliest project arrival, then task ready time,
then file order — the engine appends that tie-break, so a rule only says what it ranks by.

Rules live in :data:`ALLOCATION_RULES`; validation reads this registry (its error lists the
rules), so adding a rule is adding one decorated function. A rule registered as
``static`` ranks by attributes a project never changes (its arrival, priority, due date); the
engine then keeps ready queues sorted as tasks join instead of re-ranking at every dispatch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class RankedProject(Protocol):
    """What a rule may look at (the engine's project state provides it)."""

    priority: float
    due_date: float  # absolute day; +inf when the project has no due date
    value_per_day: float

    def remaining_effort(self, now: float) -> float: ...

    def remaining_critical_path(self, now: float) -> float: ...


Rule = Callable[[RankedProject, float], float]
ALLOCATION_RULES: dict[str, Rule] = {}
STATIC_RULES: set[str] = set()


def rule(name: str, static: bool = False) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        ALLOCATION_RULES[name] = fn
        if static:
            STATIC_RULES.add(name)
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


@rule("srpt")
def srpt(project: RankedProject, now: float) -> float:
    """Shortest remaining processing time: least remaining project effort first."""
    return project.remaining_effort(now)


@rule("wsjf")
def wsjf(project: RankedProject, now: float) -> float:
    """Weighted shortest job first: highest value_per_day / remaining project effort first."""
    remaining = project.remaining_effort(now)
    if remaining <= 0:
        return float("-inf")
    return -project.value_per_day / remaining


@rule("min_slack")
def min_slack(project: RankedProject, now: float) -> float:
    """Least slack first: due date - now - remaining critical-path work (in days)."""
    return project.due_date - now - project.remaining_critical_path(now)
