"""What the hand-computed tests share (``test_section5_hand``, ``test_section9_hand``,
``test_section10_hand``, ``test_kpis_hand``): one replication of a scenario written out in
full, its task trace rounded so that hand-computed fractions compare exactly, and a projects
column by project."""

from __future__ import annotations

import pmo_sim as ps
from pmo_sim.experiment.single import SimulationResult
from pmo_sim.scenario.loader import load_scenario_text


def simulate(text: str, policy: str | None = None) -> SimulationResult:
    """Replication 0, seed 0, of the scenario ``text`` (YAML) under ``policy`` (its pmo's)."""
    return ps.simulate(load_scenario_text(text), policy=policy, seed=0, replication=0)


def log(one: SimulationResult) -> list[tuple[str, str, float, float, str]]:
    """The task trace: (project, task, start, finish, crew), times to 9 decimals."""
    return [(r.project, r.task, round(r.start, 9), round(r.finish, 9), r.crew)
            for r in one.tasks.itertuples()]


def column(one: SimulationResult, name: str) -> dict[str, object]:
    """``projects[name]`` by project, NaN kept as NaN."""
    return one.projects.set_index("project")[name].to_dict()
