"""pmo-sim: discrete-event Monte Carlo simulation of project-portfolio execution.

The public API (SPEC section 8)::

    import pmo_sim as ps
    sc = ps.load_scenario("scenarios/baseline.yaml")
    res = ps.run_experiment(sc, replications=200, seed=0, jobs=2)
    res.summary(); res.compare(baseline="baseline", metric="npv")
    ps.verdict(res.replications, metric="npv", currency=sc.currency).text
    ps.write_report(res, "report.html")
    course = ps.roi("scenarios/training.yaml", "upskill", programme="dev-course", replications=100)
    one = ps.simulate(sc, policy="baseline", seed=0, replication=3)
    ps.gantt(one.tasks, projects=one.projects)
    ps.forecast(res, by=300)      # when each project lands: P10..P90, P(on time), P(by day 300)
    board = ps.run_experiment(ps.load_scenario("scenarios/strategy.yaml"), replications=100)
    ps.risk_drivers(board)        # which risks cost the most (needs a risk register)
    ps.frontier("scenarios/strategy.yaml", budgets=[1e6, 2e6], metric="strategic_value")
                                  # value against budget (needs policies with governance.funding)
    ps.sensitivity(sc, {"resources.developers.headcount": (6, 10)}, metric="npv")

Names are imported lazily (on first use) so that ``pmo-sim --help`` starts fast;
``dir(pmo_sim)`` and tab completion list them all.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from pmo_sim._version import __version__

# Arrow's allocator, unless the user chose one: the C library's, which gives freed memory
# back, rather than mimalloc, which keeps it for reuse. A run's parent process moves chunks
# of columns into Parquet files (few, large allocations, as fast either way); with mimalloc
# it held ~15 MB more. Read by Arrow when it first allocates, so it must be set before.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

#: Public name -> (module, attribute in that module).
_API: dict[str, tuple[str, str]] = {
    "load_scenario": ("pmo_sim.scenario.loader", "load_scenario"),
    "Scenario": ("pmo_sim.scenario.models", "Scenario"),
    "simulate": ("pmo_sim.experiment.single", "simulate"),
    "run_experiment": ("pmo_sim.experiment", "run_experiment"),
    "ExperimentSpec": ("pmo_sim.experiment.spec", "ExperimentSpec"),
    "Results": ("pmo_sim.experiment", "Results"),
    "load_results": ("pmo_sim.experiment", "load_results"),
    "roi": ("pmo_sim.experiment.roi", "roi"),
    "sweep": ("pmo_sim.experiment.sweep", "sweep"),
    "summary": ("pmo_sim.analysis.stats", "summary"),
    "compare": ("pmo_sim.analysis.compare", "compare"),
    "select_best": ("pmo_sim.analysis.compare", "select_best"),
    "verdict": ("pmo_sim.analysis.verdict", "plain_verdict"),
    "analyse_roi": ("pmo_sim.analysis.roi", "analyse_roi"),
    "render_report": ("pmo_sim.analysis.report", "render_report"),
    "write_report": ("pmo_sim.analysis.report", "write_report"),
    "gantt": ("pmo_sim.analysis.plots", "gantt"),
    "forecast": ("pmo_sim.experiment.results", "Results.forecast"),
    "risk_drivers": ("pmo_sim.experiment.results", "Results.risk_drivers"),
    "frontier": ("pmo_sim.experiment.frontier", "frontier"),
    "sensitivity": ("pmo_sim.experiment.sensitivity", "sensitivity"),
    "ScenarioError": ("pmo_sim.errors", "ScenarioError"),
    "UsageError": ("pmo_sim.errors", "UsageError"),
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        module, attribute = _API[name]
        value = importlib.import_module(module)
        for part in attribute.split("."):  # "Results.forecast": ps.forecast(results, ...)
            value = getattr(value, part)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'pmo_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The public API and the module's own dunders; not its helpers (Any, importlib...).
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
