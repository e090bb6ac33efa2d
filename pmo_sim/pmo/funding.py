"""The funding board of governance (SPEC 10.2): proposals, reviews, the budget and its years.

With ``governance.funding``, an arriving project is a **proposal** (status ``proposal``) held
by governance until the board funds or rejects it. The board works like this:

- **Budget.** ``budget.per_year`` is released at day 0, ``days_per_year``, 2 × ``days_per_year``,
  ... (:meth:`~pmo_sim.scenario.strategy.Budget.release`). With ``carry_over`` unspent funds
  roll into the next year; without it, they lapse at the next release.
- **Reviews.** With ``review_every: 0`` the board reviews whenever a proposal arrives and
  whenever funds are released; with ``review_every: N`` it meets on day 0, N, 2N, ... A review
  at an instant comes after everything else of that instant: the proposals arriving then are
  reviewed together, and a budget release at the same instant comes first.
- **Ranking and greedy funding.** At a review, proposals scoring below ``min_score`` are
  rejected (both to 12 decimals: a score equal to it is not below it); the others are ranked
  by the policy's rule (:mod:`pmo_sim.rules.funding`; keys to 12 significant digits, so that
  exact ties stay ties; ties: arrival, then file order) and funded in that order while the
  funds cover their ``cost_estimate``: one that does not fit is skipped and the next one
  tried. Funding commits the estimate (the funds never go negative); the projects a review
  funds are passed on together (to the dependency gate, then the backlog, where the WIP gate
  admits them in allocation order, as projects arriving together).
- **max_wait.** A proposal still waiting ``max_wait`` days after its arrival is rejected at that
  instant, after any review at the same instant (which may still fund it).
- A proposal one of whose dependencies was already cancelled or rejected when it arrives is not
  reviewed: it goes straight on to the dependency rules, which cancel it (funds are not
  committed to a project that cannot go ahead). One that is waiting when that happens is
  cancelled where it waits.

Rejected proposals close with status ``rejected``; those still waiting at the horizon keep
status ``proposal``. Everything here is deterministic: the board draws no random numbers.

Cost: with ``review_every: 0`` there is a review per arrival, so a review must not cost what
the waiting list is long. Under a rule whose key ignores ``now``
(:data:`~pmo_sim.rules.funding.STEADY_FUNDING_RULES`) the waiting proposals are kept ranked as
they come and go; a review that no waiting proposal's estimate fits ends before ranking, and
funding stops once none of the rest fits; ``min_score`` is applied to the proposals come since
the last review (the others passed it then). The same decisions as sorting every waiting
proposal at every review (``tests/test_strategy_properties.py``).
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from heapq import heappop, heappush
from typing import TYPE_CHECKING

from pmo_sim.rules.funding import FUNDING_RULES, STEADY_FUNDING_RULES

if TYPE_CHECKING:
    import simpy

    from pmo_sim.engine.roles import Accounts, Role, WorldAPI
    from pmo_sim.engine.state import ProjectState
    from pmo_sim.scenario.models import Scenario
    from pmo_sim.scenario.policy import Funding
    from pmo_sim.scenario.strategy import Budget


@dataclass(frozen=True)
class Proposal:
    """What a funding rule sees of a project: the PMO's estimates (see :mod:`pmo_sim.rules.funding`)."""

    arrival: float
    value_per_day: float
    completion_value: float
    cost_estimate: float
    score: float
    planned_duration: float
    horizon: float
    discount_per_day: float


def release_days(budget: Budget | None, days_per_year: float, horizon: float) -> list[tuple[float, float]]:
    """``(day, amount)`` of every budget release before the horizon."""
    if budget is None:
        return []
    out = []
    year = 0
    while year * days_per_year < horizon:
        out.append((year * days_per_year, budget.release(year)))
        year += 1
    return out


class FundingBoard:
    """Governance's funding decisions for one world (see the module docstring)."""

    def __init__(self, scenario: Scenario, funding: Funding, on_funded: Callable[[ProjectState], None]):
        assert scenario.budget is not None  # validation: funding needs a budget
        self.scenario = scenario
        self.spec = funding
        self.budget = scenario.budget
        rule = FUNDING_RULES[funding.rule]
        # Keys to 12 significant digits: a tie worked by hand (0.3/90 and 0.1/30) is a tie here,
        # broken by arrival then file order, not by the last bit of a floating-point quotient.
        self.rule = lambda proposal, now: float(f"{rule(proposal, now):.12g}")
        self.on_funded = on_funded  # e.g. charge the project's risk mitigation
        self.funds = 0.0
        # Waiting proposals in the order they came (a dict as an ordered set: O(1) to find
        # and remove; reviews on every arrival made a list's scans quadratic).
        self.waiting: dict[ProjectState, None] = {}
        self.unscreened: list[ProjectState] = []  # come since the last review (min_score not yet applied)
        # Under a steady rule, the waiting proposals by (key, arrival, index), kept as they
        # come and go.
        self.steady = funding.rule in STEADY_FUNDING_RULES
        self.ranked: list[tuple[float, float, int, ProjectState]] = []
        self.costs: list[tuple[float, int, ProjectState]] = []  # the cheapest first (lazy: some left)
        self.proposals: dict[int, Proposal] = {}
        self.expired: list[ProjectState] = []  # past their max_wait since the last decision
        self.held: dict[ProjectState, int] = {}  # the order proposals came in
        self._decision_due = False
        self._review_due = False

    def attach(self, world: WorldAPI, holder: Role) -> None:
        self.world = world
        self.holder = holder
        self.env: simpy.Environment = world.env
        self.releases = release_days(self.budget, self.scenario.days_per_year, world.t1)
        self.released = 0  # releases applied so far
        for day, _ in self.releases:
            self.env.timeout(day).callbacks.append(lambda _e: self._on_release())
        if self.spec.review_every > 0:
            self._next_meeting(0)

    # ---------------------------------------------------------------- triggers

    def _next_meeting(self, k: int) -> None:
        # Meetings at k x review_every computed from k, so they never drift by rounding.
        day = k * self.spec.review_every
        if day < self.world.t1:
            self.env.timeout(day - self.env.now).callbacks.append(partial(self._meeting, k))

    def _meeting(self, k: int, _event: simpy.Event) -> None:
        self._request(review=True)
        self._next_meeting(k + 1)

    def _on_release(self) -> None:
        self._request(review=self.spec.review_every == 0)

    def _request(self, review: bool) -> None:
        """Decide after everything else of this instant (arrivals, releases, meetings)."""
        self._review_due = self._review_due or review
        if not self._decision_due:
            self._decision_due = True
            self.env.timeout(0).callbacks.append(lambda _e: self._decide())

    def _expire(self, project: ProjectState, _event: simpy.Event) -> None:
        if project in self.waiting:
            self.expired.append(project)
            self._request(review=False)

    # ---------------------------------------------------------------- proposals

    def hold(self, project: ProjectState) -> bool:
        """A project arrives: hold it as a proposal (False), or let it go on (True)."""
        if project.dependency_failed(self.world.projects):
            return True  # cannot go ahead: the dependency rules cancel it
        project.status = "proposal"
        self.waiting[project] = None
        self.held[project] = len(self.held)
        self.unscreened.append(project)
        plan = project.plan
        self.proposals[project.index] = Proposal(
            project.arrival, project.value_per_day, project.completion_value, plan.cost_estimate,
            plan.score, plan.planned_duration, self.world.t1, self.world.delta)
        if self.steady:
            insort(self.ranked, self._rank(project))
        heappush(self.costs, (plan.cost_estimate, project.index, project))
        if self.spec.max_wait is not None:
            self.env.timeout(self.spec.max_wait).callbacks.append(partial(self._expire, project))
        if self.spec.review_every == 0:
            self._request(review=True)
        return False

    def drop(self, project: ProjectState) -> None:
        """A project closed (a waiting proposal may be cancelled with a dependency)."""
        if project in self.waiting:
            self._leave(project)

    def _leave(self, project: ProjectState) -> None:
        del self.waiting[project]
        if self.steady:
            del self.ranked[bisect_left(self.ranked, self._rank(project))]

    def _rank(self, project: ProjectState) -> tuple[float, float, int, ProjectState]:
        """A waiting proposal's place under a steady rule (its key does not depend on the day)."""
        return self.rule(self.proposals[project.index], 0.0), project.arrival, project.index, project

    def _cheapest(self) -> float:
        """The smallest cost estimate of the waiting proposals (inf: none waits)."""
        costs = self.costs
        while costs and costs[0][2] not in self.waiting:
            heappop(costs)
        return costs[0][0] if costs else math.inf

    # ---------------------------------------------------------------- decisions

    def _release_until(self, now: float) -> None:
        while self.released < len(self.releases) and self.releases[self.released][0] <= now:
            amount = self.releases[self.released][1]
            self.funds = self.funds + amount if self.budget.carry_over or self.released == 0 else amount
            self.released += 1

    def _decide(self) -> None:
        self._decision_due = False
        now = self.env.now
        self._release_until(now)
        if self._review_due:
            self._review_due = False
            self._review(now)
        expired, self.expired = self.expired, []
        for project in sorted((p for p in expired if p in self.waiting), key=self.held.__getitem__):
            self._reject(project)  # in the order they wait

    def _review(self, now: float) -> None:
        # Those come since the last review are the only ones min_score can reject (the others
        # passed it then, and a score does not change); in the order they wait.
        fresh, self.unscreened = self.unscreened, []
        # To 12 decimals, as the rule keys: a score of exactly min_score passes (weights 1 and 2,
        # alignment 0.3: 2/3 x 0.3 is 0.2, though 0.19999999999999998 in floating point).
        floor = round(self.spec.min_score, 12)
        for project in [p for p in fresh if p in self.waiting and round(p.plan.score, 12) < floor]:
            self._reject(project)
        if not self._covers(self._cheapest()):
            return  # nothing waiting fits the funds: a review would fund nothing
        if self.steady:
            ranked = [e[3] for e in self.ranked]  # funding changes the ranking as it goes
        else:
            rule, proposals = self.rule, self.proposals
            ranked = sorted(self.waiting, key=lambda p: (rule(proposals[p.index], now), p.arrival, p.index))
        funded = []
        for project in ranked:
            cost = project.plan.cost_estimate
            if project in self.waiting and self._covers(cost):
                self.funds = max(0.0, self.funds - cost)
                self._fund(project, now)
                funded.append(project)
                if not self._covers(self._cheapest()):
                    break  # none of the rest fits
        # Funded together, they reach the WIP gate together: its allocation rule, not the
        # funding rule, says who is admitted first (as for projects arriving together).
        self.world.pass_on(funded, self.holder)

    def _covers(self, cost: float) -> bool:
        """Do the funds cover ``cost``? Up to rounding: 0.3 released covers 0.1 and then 0.2,
        though 0.3 - 0.1 is 0.19999999999999998 in floating point (a part in 10^10 is well
        under a cent of any budget)."""
        return cost <= self.funds + 1e-10 * max(1.0, abs(self.funds))

    def _fund(self, project: ProjectState, now: float) -> None:
        self._leave(project)
        project.funded = now
        project.status = "backlog"
        self.on_funded(project)

    def _reject(self, project: ProjectState) -> None:
        if project in self.waiting:  # a rejection's cascade may already have closed it
            self._leave(project)
            self.world.reject(project)

    def report(self, acc: Accounts) -> None:
        for project in self.world.projects:
            acc.per_project("funded", project.index,
                            math.nan if project.funded is None else project.funded)
