"""Stochastic task networks (PERT/CPM with random durations) against an independent Monte Carlo.

Sources: Malcolm, Roseboom, Clark & Fazar (1959), "Application of a technique for research and
development program evaluation" (PERT); MacCrimmon & Ryavec (1964), "An analytical study of
the PERT assumptions" (merge-event bias: E[max(X, Y)] >= max(E X, E Y), so the path of mean
durations underestimates the mean finish); Van Slyke (1963), "Monte Carlo methods and the PERT
problem".

A single project with ample people never queues: its finish is the longest path of task
durations effort / (people * productivity) (SPEC 2, 4.1). The reference samples the same
distributions with scipy.stats (inverse-transform / scipy's own generators, not pmo_sim's
code) and computes the longest path in numpy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats
from validation_helpers import Estimate, assert_matches, replicate, seed_for, size

POOLS = {"dev": {"headcount": 8, "productivity": 1.25}, "qa": {"headcount": 3, "productivity": 0.8}}

# name -> (pool, crew, effort distribution)
TASKS: dict[str, tuple[str, int, dict[str, Any]]] = {
    "design": ("dev", 2, {"dist": "triangular", "low": 8, "mode": 12, "high": 22}),
    "spec": ("qa", 1, {"dist": "lognormal", "mean": 5, "sd": 2.5}),
    "build": ("dev", 4, {"dist": "pert", "low": 8, "mode": 10, "high": 20}),
    "test": ("qa", 2, {"dist": "gamma", "mean": 6, "sd": 3}),
    "release": ("dev", 1, {"dist": "uniform", "low": 1, "high": 3}),
}

NETWORKS = {
    # design and spec in parallel, merging into build, then a series tail
    "merge": {"design": [], "spec": [], "build": ["design", "spec"], "test": ["build"]},
    # pure series chain: durations add
    "chain": {"design": [], "spec": ["design"], "build": ["spec"], "test": ["build"],
              "release": ["test"]},
}


def reference_distribution(dist: dict[str, Any]) -> Any:
    """The frozen scipy.stats law of a SPEC-3 distribution (an independent implementation)."""
    kind = dist["dist"]
    if kind == "triangular":
        lo, mode, hi = dist["low"], dist["mode"], dist["high"]
        return stats.triang((mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
    if kind == "pert":  # beta-PERT with lambda = 4
        lo, mode, hi = dist["low"], dist["mode"], dist["high"]
        return stats.beta(1 + 4 * (mode - lo) / (hi - lo), 1 + 4 * (hi - mode) / (hi - lo),
                          loc=lo, scale=hi - lo)
    if kind == "lognormal":  # arithmetic mean and sd given
        s2 = math.log(1 + (dist["sd"] / dist["mean"]) ** 2)
        return stats.lognorm(math.sqrt(s2), scale=dist["mean"] * math.exp(-s2 / 2))
    if kind == "gamma":
        return stats.gamma((dist["mean"] / dist["sd"]) ** 2, scale=dist["sd"] ** 2 / dist["mean"])
    if kind == "uniform":
        return stats.uniform(dist["low"], dist["high"] - dist["low"])
    raise ValueError(f"no reference for {kind}")


def task_days(name: str) -> Any:
    """(law of the effort, divisor) so that duration = effort / (crew * productivity)."""
    pool, crew, dist = TASKS[name]
    return reference_distribution(dist), crew * POOLS[pool]["productivity"]


def reference_finish(network: dict[str, list[str]], n: int, rng: np.random.Generator) -> np.ndarray:
    """Longest path of the network, by Monte Carlo (tasks listed in topological order)."""
    finish: dict[str, np.ndarray] = {}
    for name, preds in network.items():
        law, rate = task_days(name)
        ready = np.max([finish[p] for p in preds], axis=0) if preds else np.zeros(n)
        finish[name] = ready + law.ppf(rng.random(n)) / rate
    return np.max(list(finish.values()), axis=0)


def simulated_finish(network: dict[str, list[str]], replications: int, seed: int) -> np.ndarray:
    from pmo_sim.scenario.models import Scenario

    tasks = [{"name": name, "skill": TASKS[name][0], "people": TASKS[name][1],
              "effort": TASKS[name][2], "after": preds} for name, preds in network.items()]
    sc = Scenario.model_validate({"name": "network", "horizon": 10_000, "resources": POOLS,
                                  "projects": [{"name": "p", "tasks": tasks}]})
    recs = replicate(sc, replications, seed)["default"]
    assert all(rec.projects["status"][0] == "completed" for rec in recs)
    return np.array([rec.projects["finish"][0] for rec in recs])


@pytest.mark.parametrize("network", list(NETWORKS))
def test_project_finish_matches_longest_path_monte_carlo(network: str) -> None:
    """The simulated finish-time distribution of one project with ample people equals the
    longest-path distribution of an independent Monte Carlo (Van Slyke 1963): the mean within
    4 combined SE, the 10/50/90 % quantiles (the share of simulated finishes below the
    reference quantile is q within 4 binomial SE + the reference's own quantile error) and a
    two-sample Kolmogorov-Smirnov test at alpha = 0.001.

    For the merge network, the mean must also exceed the path of mean durations by more than
    4 SE (merge-event bias, MacCrimmon & Ryavec 1964); for the chain, the mean is the sum of
    the mean durations (linearity) as an exact reference.
    """
    net = NETWORKS[network]
    sim = simulated_finish(net, size(2_000, 20_000), seed_for(f"network-{network}"))
    n_ref = size(200_000, 1_000_000)
    ref = reference_finish(net, n_ref, np.random.default_rng(seed_for(f"reference-{network}")))

    est, ref_est = Estimate.of(sim), Estimate.of(ref)
    combined = Estimate(est.mean, math.hypot(est.se, ref_est.se), est.n)
    assert_matches(f"{network}: mean finish vs reference Monte Carlo", combined, ref_est.mean, bias=0.0)

    for q in (0.1, 0.5, 0.9):
        share = Estimate(float(np.mean(sim <= np.quantile(ref, q))), math.sqrt(q * (1 - q) / len(sim)),
                         len(sim))
        assert_matches(f"{network}: share below the reference {q:.0%} quantile", share, q,
                       bias=4 * math.sqrt(q * (1 - q) / n_ref))

    ks = stats.ks_2samp(sim, ref)
    assert ks.pvalue > 1e-3, f"{network}: KS statistic {ks.statistic:.4f}, p = {ks.pvalue:.2g}"

    mean_days = {name: task_days(name)[0].mean() / task_days(name)[1] for name in net}
    path_of_means: dict[str, float] = {}
    for name, preds in net.items():
        path_of_means[name] = max((path_of_means[p] for p in preds), default=0.0) + mean_days[name]
    deterministic = max(path_of_means.values())
    if network == "chain":
        assert_matches("chain: mean finish vs sum of mean durations", est, deterministic, bias=0.0)
    else:
        assert est.mean - deterministic > 4 * est.se, (
            f"{network}: no merge bias: mean finish {est} vs path of means {deterministic:.4g}")
