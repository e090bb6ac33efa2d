"""The M/M/1 of the coverage tests (tests/test_coverage_intervals.py explains the model) and
its exact truths: the transient mean number in system from the birth-death chain, and E[npv]
of each policy from it."""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.linalg import expm

from pmo_sim.scenario.models import Scenario

LAM, MU, H, V = 1.0, 1.25, 30.0, 1.0
SHIFT = 10.0  # npv: the governance cost of `priority` and `edd` over the horizon


def queue(shift: float = SHIFT) -> Scenario:
    """An M/M/1 started empty over [0, H] under fifo, priority and edd (random priorities and
    due dates, independent of the effort); priority and edd pay ``shift`` for governance."""
    gov = {"governance": {"cost_per_year": shift * 250.0 / H}}  # days_per_year 250, no discounting
    return Scenario.model_validate({
        "name": "mm1-coverage", "horizon": H, "warmup": 0.0,
        "resources": {"staff": {"headcount": 1}},
        "intake": {"arrivals": {"dist": "exponential", "mean": 1.0 / LAM}, "templates": [{
            "name": "job", "value_per_day": V,
            "priority": {"dist": "uniform", "low": 1, "high": 5},
            "due": {"dist": "uniform", "low": 1, "high": 20},
            "tasks": [{"name": "work", "skill": "staff",
                       "effort": {"dist": "exponential", "mean": 1.0 / MU}}]}]},
        "policies": {"fifo": {},
                     "priority": {"resource_manager": {"allocation": "priority"}, **gov},
                     "edd": {"resource_manager": {"allocation": "edd"}, **gov}},
    })


@cache
def mean_in_system(lam: float = LAM, mu: float = MU, horizon: float = H, states: int = 80) -> float:
    """E[(1/H) ∫_0^H N(t) dt] for an M/M/1 started empty: ∫ p(t) dt from the exponential of
    the generator augmented with an integrator block (Van Loan 1978), on 0..``states``
    customers (P(N > 80) is far below 1e-12 here)."""
    k = states + 1
    q = np.zeros((k, k))
    q[np.arange(k - 1), np.arange(1, k)] = lam
    q[np.arange(1, k), np.arange(k - 1)] = mu
    q -= np.diag(q.sum(axis=1))
    big = np.zeros((2 * k, 2 * k))
    big[:k, :k] = q.T
    big[k:, :k] = np.eye(k)
    start = np.zeros(2 * k)
    start[0] = 1.0
    occupancy = (expm(big * horizon) @ start)[k:]  # ∫ P(N(t) = n) dt, n = 0..states
    return float(np.arange(k) @ occupancy / horizon)


def true_npv(policy: str) -> float:
    value = V * (LAM * H * H / 2.0 - H * mean_in_system())
    return value - (0.0 if policy == "fifo" else SHIFT)
