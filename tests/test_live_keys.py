"""The keys of live projects — ``ProjectState.remaining_effort`` and
``remaining_critical_path``, which ``srpt``, ``wsjf`` and ``min_slack`` take for every project
with work in progress at every allocation — are, to the bit, what task-by-task arithmetic
through ``TaskState.remaining`` gives: the hot loops inline that method, and must not change a
number (ties between projects are broken by the exact keys).

Checked at every call the engine makes, on bundled scenarios whose tasks are paused by change
requests (``baseline.yaml``) or last a fixed duration under a calendar (``capacity.yaml``),
and on the benchmarks' reference, also with four times its proposals for the same people
(many projects live at once), with ideas cutting efforts mid-run.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from strategies import with_allocation

from pmo_sim.engine.state import ProjectState
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _effort_task_by_task(proj: ProjectState, now: float) -> float:
    left = 0.0  # a plain left-to-right sum (sum() compensates from Python 3.12)
    for t in proj.running:
        left += t.remaining(now)
    return proj.pending_effort + left


def _path_task_by_task(proj: ProjectState, now: float) -> float:
    tails = proj._tails if proj._tails is not None else proj._chains()
    best = 0.0
    for t in proj.running:
        best = max(best, t.remaining(now) / t.speed + proj._after[t.index])
    for t in proj.ready_tasks:
        best = max(best, tails[t.index])
    return best


REFERENCE = "../benchmarks/reference.yaml"
OVERLOADED = {"intake.count": 160, "intake.arrivals": {"dist": "exponential", "mean": 3}}
# Closures hold running tasks still: their progress counts working days only (the keys are then
# computed on the calendar's slow path, which must agree with TaskState.remaining too).
CLOSED = {**OVERLOADED, "calendar": {"start_date": "2027-01-04", "closures": [
    {"start": s, "days": 6} for s in range(40, 700, 30)]}}
CASES = [("baseline.yaml", False, {}), ("capacity.yaml", False, {}), (REFERENCE, True, {}),
         (REFERENCE, True, OVERLOADED), (REFERENCE, False, CLOSED)]


@pytest.mark.parametrize(("name", "ideas", "overrides"), CASES)
@pytest.mark.parametrize("rule", ["srpt", "wsjf", "min_slack"])
def test_live_keys_are_the_task_by_task_sums(name: str, ideas: bool, overrides: dict, rule: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    sc = with_allocation(load_scenario(ROOT / "scenarios" / name, overrides), rule, ideas)
    effort, path = ProjectState.remaining_effort, ProjectState.remaining_critical_path
    seen = {"running": 0, "paused": 0, "closed": 0}

    def note(proj: ProjectState, now: float) -> None:
        if proj.running:
            seen["running"] += 1
            seen["paused"] += proj.paused_until > now
            down = proj.down
            seen["closed"] += down is not None and any(
                down.open_between(t.work_start, now) < now - t.work_start for t in proj.running)

    def checked_effort(proj: ProjectState, now: float) -> float:
        got = effort(proj, now)
        want = _effort_task_by_task(proj, now)
        assert got == want or (math.isnan(got) and math.isnan(want)), (proj.name, now, got, want)
        note(proj, now)
        return got

    def checked_path(proj: ProjectState, now: float) -> float:
        got = path(proj, now)
        if proj.tasks:
            assert got == _path_task_by_task(proj, now), (proj.name, now)
            note(proj, now)
        return got

    monkeypatch.setattr(ProjectState, "remaining_effort", checked_effort)
    monkeypatch.setattr(ProjectState, "remaining_critical_path", checked_path)
    for r in range(2):
        run_replication(sc, r, 11, sc.policy_names)
    assert seen["running"] > 50  # live projects were keyed
    if overrides is CLOSED:
        assert seen["closed"] > 0  # ... some with a task that ran through a closure
    if name != "capacity.yaml":
        assert seen["paused"] > 0  # ... some while a change request held their work
