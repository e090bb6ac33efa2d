"""Exact traces of the PMO levers beyond resource and change management.

One developer and fixed efforts, so every number below is worked out by hand: technology
J-curves, training (off work, then faster), innovation (time for improvement, ideas that cut
effort not yet started) and governance stage gates.
"""

from __future__ import annotations

import numpy as np
import pytest
from strategies import make_scenario, project, task, task_log

import pmo_sim
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.sampling import Sampler, Source, stream

TWO_STEPS = [project("A", task("t1", 10), task("t2", 10, after=["t1"]))]


def test_technology_j_curve_slows_then_speeds_work():
    # Adoption on day 0: productivity 0.5 at first, recovering linearly to 1.25 by day 10.
    # t1 starts on day 0 at 0.5: 10 / 0.5 = 20 days (a duration is fixed when the task
    # starts). t2 starts on day 20, past the dip: 10 / 1.25 = 8 days.
    sc = make_scenario(TWO_STEPS, pmo={"technology_manager": {"adoptions": [
        {"name": "tool", "day": 0, "cost": 7000, "productivity_gain": 0.25, "dip": 0.5,
         "dip_days": 10}]}})
    assert task_log(sc) == [("A", "t1", 0, 20.0, "dev-1"), ("A", "t2", 20.0, 28.0, "dev-1")]
    assert pmo_sim.simulate(sc).kpis["technology_cost"] == 7000


def test_training_takes_people_off_work_after_their_task_then_makes_them_faster():
    # The course starts on day 0, but dev-1 is on t1 (days 0-10): they finish it first, then
    # train over days 10-15, then work twice as fast: t2 (effort 10) takes 5 days, 15-20.
    sc = make_scenario(TWO_STEPS, pmo={"training_manager": {"programmes": [
        {"name": "course", "skill": "dev", "trainees": 1, "start": 0, "duration_days": 5,
         "cost_per_trainee": 3000, "productivity_gain": 1.0}]}})
    assert task_log(sc) == [("A", "t1", 0, 10.0, "dev-1"), ("A", "t2", 15.0, 20.0, "dev-1")]
    res = pmo_sim.simulate(sc)
    assert res.kpis["training_cost"] == 3000
    assert res.kpis["training_days"] == pytest.approx(5.0)
    pool = res.pools.iloc[0]
    assert pool["busy_days"] == pytest.approx(15.0)  # t1 and t2
    assert pool["idle_days"] == pytest.approx(sc.horizon - 15 - 5)


def test_innovation_time_slows_project_work_by_its_share():
    # A fifth of everyone's time goes to improvement work: 10 / 0.8 = 12.5 days per task.
    sc = make_scenario(TWO_STEPS, pmo={"innovation_manager": {"time_fraction": 0.2}})
    assert task_log(sc) == [("A", "t1", 0, 12.5, "dev-1"), ("A", "t2", 12.5, 25.0, "dev-1")]


@pytest.mark.parametrize("seed", range(6))
def test_successful_ideas_cut_the_effort_of_work_not_yet_started(seed):
    # Every idea succeeds and cuts the effort of tasks not yet started by half. t1 runs over
    # days 0-10 (its duration was fixed when it started); each idea before day 10 halves t2.
    sc = make_scenario(TWO_STEPS, pmo={"innovation_manager": {
        "ideas_per_year": 25, "success_probability": 1.0, "effort_reduction": 0.5}})
    rng = stream(seed, 0, Source.INNOVATION)  # the ideas of this replication, drawn as the engine does
    n = rng.poisson(25 * sc.horizon / sc.days_per_year)
    ideas = np.sort(sc.horizon * rng.random(n))
    k = int((ideas < 10).sum())
    assert task_log(sc, seed=seed) == [("A", "t1", 0, 10.0, "dev-1"),
                                       ("A", "t2", 10.0, round(10 + 10 * 0.5**k, 9), "dev-1")]


@pytest.mark.parametrize("seed", range(8))
def test_stage_gate_cancels_a_project_whose_forecast_overruns_its_estimate(seed):
    # Efforts are triangular(10, 10, 60): the estimate is the mode, 10 per task (20 in all).
    # When t1 is done, the work done (t1's effort, at least 10 = half the estimate) passes the
    # gate; the forecast t1 + t2 is compared with 1.5 x 20 = 30.
    tri = {"dist": "triangular", "low": 10, "mode": 10, "high": 60}
    sc = make_scenario([project("A", task("t1", tri), task("t2", tri, after=["t1"]),
                                value_per_day=100)],
                       pmo={"governance": {"stage_gate": {"at_progress": 0.5,
                                                          "cancel_if_overrun": 1.5}}})
    e1, e2 = Sampler(sc).plan(seed, 0).projects[0].efforts
    rec = run_replication(sc, 0, seed, trace=True)[0]
    status = rec.projects["status"][0]
    if e1 + e2 > 30:
        assert status == "cancelled"
        assert rec.projects["finish"][0] == pytest.approx(e1)  # cancelled at the gate
        assert rec.tasks["task"] == ["t1"]  # t2 never starts
        assert rec.kpis["value_delivered"] == 0 and rec.kpis["projects_cancelled"] == 1
    else:
        assert status == "completed"
        assert rec.projects["finish"][0] == pytest.approx(e1 + e2)
