"""The ROI study: run a policy and its baseline on common random numbers, and price the spend.

:func:`roi` (``pmo_sim.roi``, ``pmo-sim roi``) builds the baseline (a policy without one of
its training programmes, or another policy), runs the paired experiment, and hands the tables
to :func:`pmo_sim.analysis.roi.analyse_roi`, the one ROI computation. With ``out`` the paired
runs are a results folder (SPEC 7) and the answer is written beside them: ``roi.json`` (the
document, with the question so that ``pmo-sim report`` can redo the analysis), ``roi.csv``
(one row per replication) and ``roi.png`` (the ROI distribution, and cumulative benefit
against investment over time).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from pmo_sim.analysis.roi import ROI_JSON, VALUE_COLUMNS, RoiQuestion, RoiResult, analyse_roi
from pmo_sim.errors import (
    UsageError,
    check_pathlike,
    folder_not_empty,
    refuse_folder_for_file,
    unknown_policy,
)
from pmo_sim.experiment.runner import run_experiment
from pmo_sim.experiment.spec import Progress
from pmo_sim.files import write_atomically
from pmo_sim.pmo.training_manager import REVIEW_EVERY_DAYS
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import PMO, Scenario
from pmo_sim.scenario.policy import Programme

#: The files ``roi(..., out=DIR)`` writes beside the results folder's own.
ROI_CSV, ROI_FIGURE = "roi.csv", "roi.png"


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
        raise unknown_policy([policy], scenario.policy_names, "policies")
    return scenario.policies[policy]


def investment_day(pmo: PMO, programme: str | None = None, horizon: float = math.inf) -> float:
    """The day the investment is counted as paid (see the module docstring on payback).

    The named programme's first possible run, or else the earliest of the policy's
    programmes' and the adoption day of its tools before the horizon (later ones never
    happen, and pay nothing); 0 when there is none (PMO functions are paid from day 0). A
    programme runs at its start and, when the gap-driven rule names it, at any gap review
    too: the first review comes ``REVIEW_EVERY_DAYS`` in, possibly before its start. (A day
    past the horizon once made every payback "not within the horizon", even where the
    investment paid for itself.)
    """
    tm, tech = pmo.training_manager, pmo.technology_manager
    programmes = tm.programmes if tm is not None else []
    gap = tm.gap_driven if tm is not None else None

    def first_run(p: Programme) -> float:
        return min(p.start, REVIEW_EVERY_DAYS) if gap is not None and gap.programme == p.name else p.start

    if programme is not None:
        return min(first_run(p) for p in programmes if p.name == programme)
    days = [first_run(p) for p in programmes] + [a.day for a in (tech.adoptions if tech else [])]
    return min((d for d in days if d < horizon), default=0.0)


# --------------------------------------------------------------------------- experiment


def roi(scenario: Scenario | str | os.PathLike[str], policy: str, *, programme: str | None = None,
        against: str | None = None, basis: str = "cash", replications: int = 100, seed: int = 0,
        jobs: int | None = None, backend: str = "local", scheduler: str | None = None,
        out: str | os.PathLike[str] | None = None, force: bool = False,
        progress: Progress | None = None, command: str | None = None) -> RoiResult:
    """Return on investment of a training programme of ``policy``, or of its spend over a policy.

    With ``programme``: ``policy`` against itself without that programme (a derived policy
    added to the scenario). With ``against``: ``policy`` against policy ``against``. Both run
    on common random numbers (``replications`` from root ``seed``). ``basis`` is ``"cash"``
    (undiscounted, the default) or ``"npv"`` (present values; see
    :mod:`pmo_sim.analysis.roi`). ``scenario`` is a loaded scenario or a path.

    Returns a :class:`~pmo_sim.analysis.roi.RoiResult`: ``.document`` (SPEC 6.1, plus the
    breakdown, CIs, verdict), ``.table`` (per replication), ``.breakdown``, ``.results`` (the
    paired runs). With ``out`` the runs are written there as a results folder, with
    ``roi.json``, ``roi.csv`` and ``roi.png`` beside them (``force`` overwrites a folder).
    """
    if not isinstance(scenario, Scenario):
        check_pathlike(scenario, "scenario", " or a Scenario")
    if out is not None:
        check_pathlike(out, "out")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, None)
    question, sc = build_question(sc, policy, programme=programme, against=against, basis=basis)
    # Before the runs: roi.json and roi.csv were written, then roi.png failed on a folder.
    if out is not None:
        for name in (ROI_JSON, ROI_CSV, ROI_FIGURE):
            refuse_folder_for_file(Path(out) / name, "roi")
        if not force and Path(out).is_dir() and any(Path(out).iterdir()):  # roi cannot resume
            raise folder_not_empty(Path(out), resumable=False)
    res = run_experiment(sc, replications=replications, seed=seed, jobs=jobs, backend=backend,
                         scheduler=scheduler, policies=[policy, question.baseline], out=out,
                         force=force, progress=progress, command=command)
    # (only the project columns the value curves read: a long run's table stays on disk)
    result = analyse_roi(res.replications, res.with_projects(VALUE_COLUMNS).projects, question,
                         res.pools)
    result.document["seed"] = seed
    result.results = res
    if out is not None:
        write_roi_files(result, Path(out))
    return result


def build_question(scenario: Scenario, policy: str, *, programme: str | None = None,
                   against: str | None = None, basis: str = "cash") -> tuple[RoiQuestion, Scenario]:
    """The question (with the scenario facts the arithmetic needs) and the scenario to run
    (with the derived baseline policy for ``programme``)."""
    pmo = policy_of(scenario, policy)
    if programme is not None and against is not None:
        raise UsageError("give exactly one of --programme NAME and --against POLICY")
    if programme is None and against is None:
        # SPEC 6's `roi --policy P [--programme NAME | --against Q]`: without either, the
        # programme of P when it has just one, else the question is P's to say.
        names = programme_names(pmo)
        if len(names) != 1:
            has = (f"has {len(names)} training programmes ({', '.join(names)})" if names
                   else "has no training programme")
            raise UsageError(f"policy {policy!r} {has}: give --programme NAME or --against POLICY")
        programme = names[0]
    if against is not None:
        policy_of(scenario, against)
        if against == policy:
            raise UsageError(f"--against names the policy itself ({policy!r}): nothing to compare")
        baseline, day = against, investment_day(pmo, horizon=scenario.horizon)
    else:
        assert programme is not None
        scenario, baseline = without_programme(scenario, policy, programme)
        day = investment_day(pmo, programme)
    question = RoiQuestion(
        policy=policy, baseline=baseline, programme=programme, against=against, basis=basis,
        horizon=float(scenario.horizon), warmup=float(scenario.warmup), invest_day=float(day),
        discount_rate=float(scenario.discount_rate), days_per_year=float(scenario.days_per_year),
        currency=scenario.currency,
        day_rates={name: float(pool.day_rate) for name, pool in scenario.resources.items()})
    return question, scenario


def write_roi_files(result: RoiResult, folder: Path) -> None:
    """``roi.json`` (document + question), ``roi.csv`` and ``roi.png`` into ``folder``, each
    whole or not at all (a full disk left a temporary file behind, and a half figure)."""
    from pmo_sim.analysis.plots import roi_figure, save

    document = json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n"
    write_atomically(folder / ROI_JSON, lambda tmp: tmp.write_text(document, encoding="utf-8"),
                     make_folder=False, results_own=True)  # (what no other command may write)
    table = result.table.to_csv(index=False)
    write_atomically(folder / ROI_CSV, lambda tmp: tmp.write_text(table, encoding="utf-8"),
                     make_folder=False)
    figure = roi_figure(result)
    write_atomically(folder / ROI_FIGURE, lambda tmp: save(figure, tmp), make_folder=False)
