"""Monte Carlo experiments: chunked, parallel, resumable runs and their results folder.

``run_experiment`` (:mod:`.runner`) runs every policy × replications on a backend
(:mod:`.backends`), writes finished chunks to a results folder (:mod:`.store`) and returns
:class:`Results` (:mod:`.results`); ``load_results`` reopens a folder.

Names are imported lazily: worker processes import :mod:`.backends` only, and should not pay
for pandas and the analysis code they never use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pmo_sim.experiment.kept import RunInterrupted
    from pmo_sim.experiment.results import Results, load_results
    from pmo_sim.experiment.runner import run_experiment

_API = {
    "run_experiment": "pmo_sim.experiment.runner",
    "RunInterrupted": "pmo_sim.experiment.kept",
    "Results": "pmo_sim.experiment.results",
    "load_results": "pmo_sim.experiment.results",
}

__all__ = ["Results", "RunInterrupted", "load_results", "run_experiment"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'pmo_sim.experiment' has no attribute {name!r}")
