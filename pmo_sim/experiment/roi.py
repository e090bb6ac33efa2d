"""The ROI study: run a policy and its baseline on common random numbers, and price the spend.

The arithmetic (investment, benefit, ROI, BCR, payback) is :mod:`pmo_sim.analysis.roi`; this
module builds the baseline (a policy without one of its training programmes, or another
policy), runs the paired experiment and hands the tables over.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pmo_sim.analysis.roi import roi_summary, roi_table
from pmo_sim.errors import UsageError
from pmo_sim.experiment.runner import run_experiment
from pmo_sim.scenario.models import PMO, Scenario

# --------------------------------------------------------------------------- baselines


def programme_names(pmo: PMO) -> list[str]:
    """The training programmes of a policy, in file order."""
    tm = pmo.training_manager
    return [p.name for p in tm.programmes] if tm is not None else []


def without_programme(scenario: Scenario, policy: str, programme: str) -> tuple[Scenario, str]:
    """``scenario`` with one more policy: ``policy`` without training ``programme``.

    Returns the derived scenario and the new policy's name (``"<policy> without <programme>"``).
    A gap-driven rule that runs that programme goes with it (without the programme there is
    nothing for it to run). Raises :class:`UsageError` listing the policy's programmes when
    ``programme`` is not one of them.
    """
    pmo = policy_of(scenario, policy)
    names = programme_names(pmo)
    if programme not in names:
        raise UsageError(f"policy {policy!r} has no training programme {programme!r}; its "
                         f"programmes: {', '.join(names) if names else '(none)'}")
    tm = pmo.training_manager
    assert tm is not None  # it has a programme
    gap = tm.gap_driven if tm.gap_driven is None or tm.gap_driven.programme != programme else None
    reduced = pmo.model_copy(update={"training_manager": tm.model_copy(update={
        "programmes": [p for p in tm.programmes if p.name != programme], "gap_driven": gap})})
    name = f"{policy} without {programme}"
    while name in scenario.policies:  # a user's policy may already bear the name
        name += "'"
    return scenario.model_copy(update={"policies": {**scenario.policies, name: reduced}}), name


def policy_of(scenario: Scenario, policy: str) -> PMO:
    """The PMO setting of a named policy, or a :class:`UsageError` listing the policies."""
    if policy not in scenario.policies:
        raise UsageError(f"unknown policy {policy!r}; policies: {', '.join(scenario.policy_names)}")
    return scenario.policies[policy]


def investment_day(pmo: PMO, programme: str | None = None) -> float:
    """The day the investment is counted as paid (see the module docstring on payback).

    The named programme's start day, or else the earliest start of the policy's programmes
    and adoption day of its tools; 0 when it has neither (PMO functions are paid from day 0).
    """
    tm, tech = pmo.training_manager, pmo.technology_manager
    programmes = tm.programmes if tm is not None else []
    if programme is not None:
        return min(p.start for p in programmes if p.name == programme)
    days = [p.start for p in programmes] + [a.day for a in (tech.adoptions if tech else [])]
    return min(days, default=0.0)


# --------------------------------------------------------------------------- experiment


def roi(scenario: Scenario, policy: str, *, programme: str | None = None,
        against: str | None = None, replications: int = 100, seed: int = 0,
        jobs: int | None = None, backend: str = "local",
        scheduler: str | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run the paired experiment behind ``pmo-sim roi`` and summarise it.

    With ``programme``: ``policy`` against itself without that programme (a derived policy
    added to the scenario). With ``against``: ``policy`` against policy ``against``. Both run
    on common random numbers. Returns the SPEC 6.1 document and the per-replication table.
    """
    pmo = policy_of(scenario, policy)
    if (programme is None) == (against is None):
        raise UsageError("give exactly one of --programme NAME and --against POLICY")
    if against is not None:
        policy_of(scenario, against)
        if against == policy:
            raise UsageError(f"--against names the policy itself ({policy!r}): nothing to compare")
        baseline, day = against, investment_day(pmo)
    else:
        assert programme is not None
        scenario, baseline = without_programme(scenario, policy, programme)
        day = investment_day(pmo, programme)
    res = run_experiment(scenario, replications=replications, seed=seed, jobs=jobs,
                         backend=backend, scheduler=scheduler, policies=[policy, baseline])
    table = roi_table(res.replications, res.projects, policy, baseline, scenario.horizon,
                      scenario.warmup, day)
    return roi_summary(table, policy, programme=programme, against=against), table

