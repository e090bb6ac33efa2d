"""Governance's funding rules: the order in which waiting proposals are funded (SPEC 10.2).

At each funding review the waiting proposals are ranked by the policy's rule and funded in
that order while the available funds cover their ``cost_estimate`` (a proposal that does not
fit is skipped and the next one tried). A rule is a small function ``key(proposal, now) ->
float``: the SMALLER the key, the sooner the proposal is funded. Ties fall back to arrival
order, then file order — the caller appends that tie-break, so a rule only says what it ranks
by. Rules that prefer *more* of something (value, score) return its negative.

A proposal costing nothing takes no funds, so the ratio rules put it first (key ``-inf``):
funding it cannot crowd out anything else.

Rules live in :data:`FUNDING_RULES`; validation reads this registry (its error lists the
rules), so adding a rule is adding one decorated function. Rules registered with
``uses_score`` rank by the strategic score, which needs a ``strategy`` section to mean
anything (validation says so).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol


class Proposal(Protocol):
    """What a funding rule may look at: the PMO's estimates, never the sampled truth."""

    @property
    def arrival(self) -> float: ...  # day the proposal arrived

    @property
    def value_per_day(self) -> float: ...  # benefit per day once delivered, until the horizon

    @property
    def completion_value(self) -> float: ...  # one-off benefit on delivery

    @property
    def cost_estimate(self) -> float: ...  # the funds funding commits

    @property
    def score(self) -> float: ...  # strategic score in [0, 1] (SPEC 10.1)

    @property
    def planned_duration(self) -> float: ...  # critical path of the estimate at base productivity, days

    @property
    def horizon(self) -> float: ...  # last simulated day: value is counted until then

    @property
    def discount_per_day(self) -> float: ...  # continuous discount intensity, ln(1 + r) / days_per_year


FundingRule = Callable[[Proposal, float], float]
FUNDING_RULES: dict[str, FundingRule] = {}
SCORE_RULES: set[str] = set()
#: Rules whose key does not depend on ``now``: the board keeps the waiting proposals ranked
#: instead of sorting them at every review (a rule not registered so is ranked afresh).
STEADY_FUNDING_RULES: set[str] = set()


def funding_rule(name: str, uses_score: bool = False,
                 steady: bool = False) -> Callable[[FundingRule], FundingRule]:
    def register(fn: FundingRule) -> FundingRule:
        FUNDING_RULES[name] = fn
        if uses_score:
            SCORE_RULES.add(name)
        if steady:
            STEADY_FUNDING_RULES.add(name)
        return fn

    return register


def _per_cost(amount: float, cost: float) -> float:
    """The key of "most ``amount`` per unit of cost first"."""
    return -math.inf if cost <= 0 else -amount / cost


@funding_rule("arrival", steady=True)
def arrival(proposal: Proposal, now: float) -> float:
    """First come, first funded: earliest arrival first."""
    return proposal.arrival


@funding_rule("value_per_cost", steady=True)
def value_per_cost(proposal: Proposal, now: float) -> float:
    """Highest value_per_day / cost_estimate first."""
    return _per_cost(proposal.value_per_day, proposal.cost_estimate)


@funding_rule("score", uses_score=True, steady=True)
def score(proposal: Proposal, now: float) -> float:
    """Highest strategic score first, whatever it costs."""
    return -proposal.score


@funding_rule("score_per_cost", uses_score=True, steady=True)
def score_per_cost(proposal: Proposal, now: float) -> float:
    """Highest score / cost_estimate first: the most strategy per unit of money."""
    return _per_cost(proposal.score, proposal.cost_estimate)


@funding_rule("wsjf", steady=True)
def wsjf(proposal: Proposal, now: float) -> float:
    """Weighted shortest job first: highest cost of delay (value_per_day) / planned duration first."""
    if proposal.planned_duration <= 0:
        return -math.inf
    return -proposal.value_per_day / proposal.planned_duration


@funding_rule("npv")
def npv(proposal: Proposal, now: float) -> float:
    """Highest own net present value first (see :func:`own_npv`)."""
    return -own_npv(proposal, now)


def own_npv(proposal: Proposal, now: float) -> float:
    """A proposal's NPV at ``now`` if funded now and finished after its planned duration.

    Benefits are the value_per_day flow from the finish to the horizon plus the completion
    value, discounted continuously to ``now``; the cost is the estimate, committed now. A
    proposal that could not finish before the horizon earns nothing in the simulated window.
    """
    finish = now + proposal.planned_duration
    if finish >= proposal.horizon:
        return -proposal.cost_estimate
    rate = proposal.discount_per_day
    ahead, until = finish - now, proposal.horizon - now
    if rate > 0:
        flow = proposal.value_per_day * (math.exp(-rate * ahead) - math.exp(-rate * until)) / rate
    else:
        flow = proposal.value_per_day * (until - ahead)
    return flow + proposal.completion_value * math.exp(-rate * ahead) - proposal.cost_estimate
