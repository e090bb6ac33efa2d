"""Governance: stage gates that stop runaway projects.

A project's estimate is the sum of its tasks' central values (the modes of three-point
estimates). When the effort done on a project first reaches ``at_progress`` × estimate, the
gate looks at the forecast — the project's current total effort, sampled effort plus rework —
and cancels the project if the forecast exceeds estimate × ``cancel_if_overrun``. A cancelled
project starts no more tasks; tasks already running finish (no preemption) and earn nothing.

``estimate_spread_reduction`` (better estimating practice) is applied when the world is built:
each effort draw moves towards its distribution's centre by that fraction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pmo_sim.engine.state import ProjectState
    from pmo_sim.engine.world import World


def after_task(world: World, proj: ProjectState) -> None:
    """Called when a task of an open project finishes: pass the gate, or cancel."""
    gov = world.policy.governance
    if gov is None or gov.stage_gate is None or proj.gate_passed or proj.closed:
        return
    gate = gov.stage_gate
    done = sum(t.effort for t in proj.tasks if t.finish == t.finish)
    if done < gate.at_progress * proj.effort_estimate:
        return
    proj.gate_passed = True
    forecast = sum(t.effort for t in proj.tasks)
    if forecast > gate.cancel_if_overrun * proj.effort_estimate:
        world.cancel(proj)
