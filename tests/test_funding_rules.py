"""Funding rules (SPEC 10.2): each key computed by hand on small proposals.

Smaller keys are funded first; the caller breaks ties by arrival, then file order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from pmo_sim.rules.funding import FUNDING_RULES, SCORE_RULES, own_npv


@dataclass(frozen=True)
class P:
    """A proposal as a funding rule sees it (frozen: rules only read)."""

    arrival: float = 0.0
    value_per_day: float = 0.0
    completion_value: float = 0.0
    cost_estimate: float = 1.0
    score: float = 0.0
    planned_duration: float = 10.0
    horizon: float = 100.0
    discount_per_day: float = 0.0


def key(rule: str, p: P, now: float = 0.0) -> float:
    return FUNDING_RULES[rule](p, now)


def test_registry_names_the_spec_rules() -> None:
    assert set(FUNDING_RULES) == {"arrival", "value_per_cost", "score", "score_per_cost", "wsjf", "npv"}
    assert {"score", "score_per_cost"} == SCORE_RULES


def test_arrival_ranks_by_arrival_day() -> None:
    assert key("arrival", P(arrival=12.5), now=40) == 12.5


def test_value_per_cost() -> None:
    assert key("value_per_cost", P(value_per_day=500, cost_estimate=20_000)) == -0.025
    cheap, dear = P(value_per_day=100, cost_estimate=1000), P(value_per_day=300, cost_estimate=6000)
    assert key("value_per_cost", cheap) < key("value_per_cost", dear)  # 0.1 per unit beats 0.05


def test_score_and_score_per_cost() -> None:
    assert key("score", P(score=0.75)) == -0.75
    assert key("score_per_cost", P(score=0.5, cost_estimate=250_000)) == -0.5 / 250_000
    # More score per unit of money first, even when the absolute score is lower.
    small, big = P(score=0.25, cost_estimate=10_000), P(score=1.0, cost_estimate=100_000)
    assert key("score_per_cost", small) < key("score_per_cost", big)
    assert key("score", big) < key("score", small)


@pytest.mark.parametrize("rule", ["value_per_cost", "score_per_cost"])
def test_a_free_proposal_comes_first(rule: str) -> None:
    assert key(rule, P(value_per_day=0, score=0, cost_estimate=0)) == -math.inf


def test_wsjf_is_cost_of_delay_over_duration() -> None:
    assert key("wsjf", P(value_per_day=800, planned_duration=40)) == -20.0
    assert key("wsjf", P(value_per_day=800, planned_duration=0)) == -math.inf


def test_npv_undiscounted() -> None:
    # Funded at day 10, finished at 30: 70 days of 100 a day to the horizon, plus 500, less 4000.
    p = P(value_per_day=100, completion_value=500, cost_estimate=4000, planned_duration=20, horizon=100)
    assert own_npv(p, 10) == 70 * 100 + 500 - 4000
    assert key("npv", p, 10) == -(70 * 100 + 500 - 4000)


def test_npv_discounted_to_now() -> None:
    rate = math.log(2) / 10  # value halves every 10 days
    p = P(value_per_day=10, completion_value=1000, cost_estimate=50, planned_duration=10, horizon=30,
          discount_per_day=rate)
    # From now=10: finish at 20 (factor 1/2), horizon at 30 (factor 1/4).
    flow = 10 * (0.5 - 0.25) / rate
    assert own_npv(p, 10) == pytest.approx(flow + 1000 * 0.5 - 50, rel=1e-12)
    # Later reviews discount the same project less: "now" is the review day, not day 0.
    assert own_npv(p, 15) < own_npv(p, 10)  # less time left to earn, same discount ahead


def test_npv_of_a_proposal_that_cannot_finish_is_minus_its_cost() -> None:
    p = P(value_per_day=1000, completion_value=1e6, cost_estimate=300, planned_duration=50, horizon=100)
    assert own_npv(p, 60) == -300
    assert own_npv(p, 40) == 10 * 1000 + 1e6 - 300


def test_greedy_order_by_key_then_arrival() -> None:
    # How the caller ranks: (key, arrival, file order) — equal keys fall back to arrival.
    props = [P(arrival=5, score=0.5), P(arrival=1, score=0.5), P(arrival=3, score=0.9)]
    order = sorted(range(3), key=lambda i: (key("score", props[i]), props[i].arrival, i))
    assert order == [2, 1, 0]
