"""pmo-sim: discrete-event Monte Carlo simulation of project-portfolio execution.

The public API (SPEC section 8)::

    import pmo_sim as ps
    sc = ps.load_scenario("scenarios/baseline.yaml")
    res = ps.run_experiment(sc, replications=200, seed=0, jobs=2)
    res.summary(); res.compare(baseline="baseline", metric="npv")
    one = ps.simulate(sc, policy="baseline", seed=0, replication=3)

Names are imported lazily so that ``pmo-sim --help`` starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from pmo_sim._version import __version__

_API = {
    "load_scenario": "pmo_sim.scenario.loader",
    "Scenario": "pmo_sim.scenario.models",
    "simulate": "pmo_sim.experiment.single",
    "run_experiment": "pmo_sim.experiment",
    "Results": "pmo_sim.experiment",
    "load_results": "pmo_sim.experiment",
    "ScenarioError": "pmo_sim.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'pmo_sim' has no attribute {name!r}")
