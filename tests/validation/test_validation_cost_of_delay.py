"""Cost-of-delay sequencing: WSJF is Smith's rule, optimal for one person and a static batch.

Sources: W. E. Smith, "Various optimizers for single-stage production", Naval Research
Logistics Quarterly 3 (1956) (the weighted-shortest-processing-time rule minimises
sum_j w_j C_j on one machine); D. Reinertsen, The Principles of Product Development Flow
(2009), cost of delay and WSJF (cost of delay / duration).

N projects, all arriving at day 0, one one-task project each, one person: the delay cost of a
sequence is sum_j value_per_day_j x finish_j. WSJF (highest value_per_day / remaining effort
first) must hit the minimum over all N! orders, found by brute force; FIFO (file order)
generally does not.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from validation_helpers import size

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.scenario.models import Scenario

HORIZON = 1_000.0


def batch_scenario(efforts: list[float], values: list[float], allocation: str) -> Scenario:
    return Scenario.model_validate({
        "name": "cost-of-delay", "horizon": HORIZON,
        "resources": {"solo": {"headcount": 1}},
        "pmo": {"resource_manager": {"allocation": allocation}},
        "projects": [{"name": f"p{i}", "arrival": 0, "value_per_day": v,
                      "tasks": [{"name": "work", "skill": "solo", "effort": e}]}
                     for i, (e, v) in enumerate(zip(efforts, values, strict=True))],
    })


def optimal_delay_cost(efforts: list[float], values: list[float]) -> float:
    """min over all orders of sum_j v_j C_j (brute force over N! permutations)."""
    best = float("inf")
    for order in itertools.permutations(range(len(efforts))):
        t = cost = 0.0
        for j in order:
            t += efforts[j]
            cost += values[j] * t
        best = min(best, cost)
    return best


def simulated_delay_cost(efforts: list[float], values: list[float], allocation: str) -> float:
    rec = run_replication(batch_scenario(efforts, values, allocation), 0, 0)[0]
    finish = np.asarray(rec.projects["finish"])
    assert not np.isnan(finish).any(), "every project of the batch must finish"
    # value_delivered = sum_j v_j (horizon - C_j): the same objective, from the KPIs
    assert rec.kpis["value_delivered"] == pytest.approx(float(np.dot(values, HORIZON - finish)))
    return float(np.dot(values, finish))


# File order deliberately puts the lowest value-per-effort project first.
DESIGNED = ([8.0, 3.0, 5.0, 1.0, 4.0], [1.0, 6.0, 2.0, 3.0, 5.0])


def _random_batches() -> list:
    rng = np.random.default_rng(1956)
    return [pytest.param([float(x) for x in rng.integers(1, 20, 5)],
                         [float(x) for x in rng.integers(1, 50, 5)], id=f"random-{i}")
            for i in range(size(10, 40))]


@pytest.mark.parametrize(("efforts", "values"), [pytest.param(*DESIGNED, id="designed"),
                                                 *_random_batches()])
def test_wsjf_minimises_cost_of_delay(efforts: list[float], values: list[float]) -> None:
    """Smith (1956): on one machine with all jobs present at time 0, ordering by w_j / p_j
    (WSJF: value_per_day / effort) minimises sum_j w_j C_j; WSJF's simulated delay cost must
    equal the brute-force optimum over all 5! = 120 orders (to 1e-9)."""
    best = optimal_delay_cost(efforts, values)
    wsjf = simulated_delay_cost(efforts, values, "wsjf")
    assert wsjf == pytest.approx(best, rel=1e-9), (
        f"wsjf delay cost {wsjf:g} > optimum {best:g} (efforts {efforts}, values {values})")


def test_fifo_is_not_optimal_on_designed_batch() -> None:
    """Smith (1956), contrapositive: file order (FIFO) is not the w/p order here, so its delay
    cost must exceed the optimum; this shows the WSJF test can tell rules apart."""
    efforts, values = DESIGNED
    assert simulated_delay_cost(efforts, values, "fifo") > optimal_delay_cost(efforts, values) * 1.05
