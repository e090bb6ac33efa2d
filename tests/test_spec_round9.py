"""SPEC conformance, round 9: clauses checked one by one that no earlier round pinned down.

Each test names the SPEC section it holds the product to.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pmo_sim.cli import main
from pmo_sim.errors import ScenarioError
from pmo_sim.scenario.loader import load_scenario_text

_PLAIN = """name: plain
horizon: 100
resources:
  dev: {headcount: 2, day_rate: 100}
projects:
  - {name: P, value_per_day: 10, tasks: [{name: a, skill: dev, effort: {dist: uniform, low: 5, high: 9}}]}
"""


def problems(text: str, overrides: dict[str, object] | None = None) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml", overrides)
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- SPEC 6, 9: --set


def test_a_set_into_a_section_the_scenario_lacks_says_how_to_give_it() -> None:
    # SPEC 6 (--set overrides any scenario field) and 9 (a clear message saying what is wrong):
    # `--set changes.per_project_per_year=2` on a scenario without `changes` said only "no such
    # key; expected one of: name, horizon, resources, projects", as if `changes` were no key of
    # the format. A policy's missing role section already said how to add it; so does a
    # scenario's missing optional section now.
    got = problems(_PLAIN, {"changes.per_project_per_year": "2"})
    assert len(got) == 1 and got[0].startswith("--set:1:1: changes.per_project_per_year: "), got
    assert "set whole: changes={per_project_per_year: ...}" in got[0], got
    # the advice works, and a typo is still refused without the hint
    sc = load_scenario_text(_PLAIN, "s.yaml", {"changes": "{per_project_per_year: 2}"})
    assert sc.changes is not None and sc.changes.per_project_per_year == 2
    typo = problems(_PLAIN, {"chnages.per_project_per_year": "2"})
    assert "no such key" in typo[0] and "set whole" not in typo[0], typo


def test_a_vary_into_an_unset_section_is_not_called_a_single_value(tmp_path: Path) -> None:
    # SPEC 9 (what is wrong), SPEC 10.7: sensitivity reads paths on the resolved scenario, where
    # an absent section is null; `--vary workforce.attrition_per_year=0.1:0.2` on a scenario
    # without `workforce` said "workforce holds a single value", which it does not.
    (tmp_path / "s.yaml").write_text(_PLAIN)
    result = CliRunner().invoke(main, ["sensitivity", str(tmp_path / "s.yaml"), "--vary",
                                       "workforce.attrition_per_year=0.1:0.2", "-n", "2",
                                       "--backend", "serial", "-q", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "holds a single value" not in said, said
    assert ("--vary: workforce.attrition_per_year: workforce is not set, so it has no entry "
            "'attrition_per_year' (a section the scenario does not have is set whole: "
            "workforce={attrition_per_year: ...})") in said, said
    assert "Traceback" not in said


# --------------------------------------------------------------------------- SPEC 2, 7.2: priority


def test_a_priority_the_file_spells_out_is_a_whole_number() -> None:
    # SPEC 2 (priority 1 is the most urgent, larger numbers less) and 7.2 (a whole-number
    # `priority` column): `priority: 2.5` was accepted and silently ranked and reported as 2
    # (numpy's round half to even; 3.5 became 4), and so was a choice of [1, 2.5]. Both are
    # refused now, located; a continuous distribution's draws are still rounded.
    text = _PLAIN.replace("value_per_day: 10,", "value_per_day: 10, priority: 2.5,") + """intake:
  arrivals: 10
  count: 3
  templates:
    - {name: u, priority: {dist: choice, values: [1, 2.5]}, tasks: [{name: a, skill: dev, effort: 1}]}
    - {name: w, priority: {dist: uniform, low: 1, high: 3}, tasks: [{name: a, skill: dev, effort: 1}]}
"""
    got = problems(text)
    assert got == [
        "s.yaml:6:44: projects.0.priority: must be a whole number (1 is the most urgent; larger "
        "numbers are less urgent) (got 2.5)",
        "s.yaml:11:27: intake.templates.0.priority: must be a whole number (1 is the most urgent; "
        "larger numbers are less urgent) (got {'dist': 'choice', 'values': [1.0, 2.5], 'weights': None})",
    ], got
    assert problems(_PLAIN, {"projects.0.priority": "3.5"}) == [
        "--set:1:1: projects.0.priority: must be a whole number (1 is the most urgent; larger numbers "
        "are less urgent) (got 3.5)"]
    fine = text.replace("priority: 2.5,", "priority: 2.0,").replace("values: [1, 2.5]", "values: [1, 2]")
    assert load_scenario_text(fine, "s.yaml").projects[0].priority.value == 2


# --------------------------------------------------------------------------- SPEC 6: compare


def test_compare_of_one_policy_says_there_is_nothing_to_compare(tmp_path: Path) -> None:
    # SPEC 6: `compare` gives a paired comparison against a baseline and a best-policy verdict.
    # Of a run of one policy, the table printed the header and "next: pmo-sim compare R
    # --verbose" (to run itself again) and no verdict at all, where --format json, the report
    # and the workbook say that there is nothing to compare.
    (tmp_path / "s.yaml").write_text(_PLAIN)
    run = CliRunner().invoke(main, ["run", str(tmp_path / "s.yaml"), "-n", "2", "--backend", "serial",
                                    "-q", "--out", str(tmp_path / "r"), "--format", "csv"])
    assert run.exit_code == 0, run.output
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "One policy: default Only one policy was run: there is nothing to compare it with." in said, said
    assert "--verbose" not in said, said
    document = CliRunner().invoke(main, ["compare", str(tmp_path / "r"), "--format", "json"])
    assert '"verdict": "Only one policy was run: there is nothing to compare it with."' in document.output


# --------------------------------------------------------------------------- SPEC 3: gamma


def test_a_gamma_of_sd_0_is_its_mean_as_a_normal_and_a_lognormal_are() -> None:
    # SPEC 3: invalid parameters are "sd < 0"; the three mean-and-sd families take sd 0 as the
    # point mass at the mean. The normal and the lognormal did, the gamma was refused ("sd must
    # be greater than 0 for a gamma"), so `--vary ...effort.sd=0:5` failed at its low end.
    import numpy as np
    from pydantic import TypeAdapter

    from pmo_sim.scenario.dists import RandomValue

    rng = np.random.default_rng(9)
    for family in ("normal", "lognormal", "gamma"):
        dist = TypeAdapter(RandomValue).validate_python({"dist": family, "mean": 4.5, "sd": 0})
        assert np.allclose(dist.sample(rng, 5), 4.5) and dist.mean() == 4.5, family
    uniform = "{dist: uniform, low: 5, high: 9}"
    sc = load_scenario_text(_PLAIN.replace(uniform, "{dist: gamma, mean: 6, sd: 0}"))
    assert sc.projects[0].tasks[0].effort.sample(rng, 3).tolist() == [6.0, 6.0, 6.0]
    tiny = problems(_PLAIN.replace(uniform, "{dist: gamma, mean: 6, sd: 1.0e-9}"))
    assert len(tiny) == 1 and "sd must be at least 1e-06 times the mean for a gamma" in tiny[0], tiny


# --------------------------------------------------------------------------- SPEC 5, 10.4: stage gate


_GATE = """name: gate
horizon: 300
resources: {dev: {headcount: 1}}
projects:
  - name: P
    tasks:
      - {name: build, skill: dev, effort: 20}
      - {name: vendor, duration: 30, after: [build]}
      - {name: finish, skill: dev, effort: 20, after: [vendor]}
pmo: {governance: {stage_gate: {at_progress: 0.5, cancel_if_overrun: 1.5}}}
"""


def test_the_stage_gate_does_not_count_a_fixed_duration_as_effort() -> None:
    # SPEC 5: a project past at_progress of its planned effort is cancelled if its forecast
    # effort exceeds plan x cancel_if_overrun; SPEC 10.4: a `duration` task takes that long and
    # needs nothing. The plan left the vendor's 30 days out, the forecast counted them (as
    # README reads SPEC: a duration's days count in effort_planned and stage-gate progress):
    # 20 + 30 + 20 = 70 > 1.5 x 40, so a project exactly on plan was cancelled.
    import pmo_sim as ps

    on_plan = ps.simulate(load_scenario_text(_GATE)).projects.iloc[0]
    assert on_plan["status"] == "completed" and on_plan["cancel_reason"] == "", on_plan
    assert on_plan["finish"] == 70.0
    # a real overrun is still stopped: every effort twice its estimate
    overrun = ps.simulate(load_scenario_text(_GATE + "estimate_error: {dev: 2}\n")).projects.iloc[0]
    assert overrun["status"] == "cancelled" and overrun["cancel_reason"] == "stage_gate", overrun
    # a project of fixed durations only (an imported PSPLIB one) planned nothing, so its first
    # finished task "overran" a plan of 0; the plan counts the days, as its progress does
    only_durations = _GATE.replace("skill: dev, effort: 20", "duration: 20")
    assert ps.simulate(load_scenario_text(only_durations)).projects.iloc[0]["status"] == "completed"


# --------------------------------------------------------------------------- SPEC 5, 10.4: ideas


def test_an_idea_cuts_effort_not_a_fixed_duration() -> None:
    # SPEC 5: a successful idea reduces the remaining effort of open projects' tasks; SPEC 10.4:
    # a `duration` task takes that long whatever the crew (a vendor's delivery: no effort).
    # Ideas shortened the vendor's 30 days (and a waiting project's 10-day delivery) as if
    # they were person-days of work; now they cut only the effort tasks.
    import pmo_sim as ps

    text = """name: ideas
horizon: 400
resources: {dev: {headcount: 1}}
projects:
  - name: P
    tasks:
      - {name: build, skill: dev, effort: 20}
      - {name: vendor, duration: 30, after: [build]}
      - {name: finish, skill: dev, effort: 20, after: [vendor]}
  - {name: Q, depends_on: [P], tasks: [{name: ship, duration: 10}]}
pmo: {innovation_manager: {ideas_per_year: 200, success_probability: 1, effort_reduction: 0.01}}
"""
    tasks = ps.simulate(load_scenario_text(text)).tasks.set_index("task")
    assert tasks.loc["vendor", "finish"] - tasks.loc["vendor", "start"] == pytest.approx(30.0, abs=1e-9)
    assert tasks.loc["ship", "finish"] - tasks.loc["ship", "start"] == pytest.approx(10.0, abs=1e-9)
    assert tasks.loc["finish", "effort"] < 20.0  # the effort task is cut


# --------------------------------------------------------------------------- SPEC 6.1: validate


def test_validate_json_of_a_folder_is_the_document(tmp_path: Path) -> None:
    # SPEC 6.1: `validate --format json` prints {"ok", "errors": [...]} on stdout. A missing
    # file got that document, a folder only Click's usage error on stderr and an empty stdout.
    import json

    result = CliRunner().invoke(main, ["validate", str(tmp_path), "--format", "json"])
    assert result.exit_code == 2, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is False and len(document["errors"]) == 1, document
    assert document["errors"][0]["message"] == "is a directory, not a scenario file", document
    table = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert table.exit_code == 2 and f"{tmp_path}: is a directory, not a scenario file" in table.output


# --------------------------------------------------------------------------- SPEC 6: roi


def test_roi_without_programme_or_against_prices_the_policys_only_programme() -> None:
    # SPEC 6: `pmo-sim roi SCENARIO --policy P [--programme NAME | --against Q]`: the brackets
    # make both optional, but roi refused to run without one ("give exactly one of").
    import json

    scenario = str(Path(__file__).parent.parent / "scenarios" / "training.yaml")
    common = ["-n", "2", "--backend", "serial", "-q", "--format", "json"]
    bare = CliRunner().invoke(main, ["roi", scenario, "--policy", "upskill", *common])
    assert bare.exit_code == 0, bare.output
    named = CliRunner().invoke(main, ["roi", scenario, "--policy", "upskill", "--programme", "dev-course",
                                      *common])
    assert json.loads(bare.stdout) == json.loads(named.stdout)
    two = "has 2 training programmes (dev-course, testers-build)"
    for policy, said in (("no_training", "has no training programme"), ("upskill_and_cross_skill", two)):
        refused = CliRunner().invoke(main, ["roi", scenario, "--policy", policy, *common])
        assert refused.exit_code == 2 and said in refused.output, refused.output


# --------------------------------------------------------------------------- SPEC 4.2: not fixed


@pytest.mark.xfail(strict=True, reason="SPEC 4.2, reported not fixed: a generated project's priority, "
                   "value, efforts and alignment are drawn as per-template vectors of the template's "
                   "project count, so they depend on intake.count, the horizon and the arrival rate; "
                   "fixing it changes every bundled scenario's tables")
def test_a_generated_projects_draws_do_not_depend_on_how_many_were_generated() -> None:
    # SPEC 4.2: "A project's sampled attributes depend only on (seed, replication, project)".
    # Project t-1 arrives at the same time with the same due date whether the intake stops
    # after 2 projects or 20, but its effort is another draw.
    import pmo_sim as ps

    text = """name: crn
horizon: 400
resources: {dev: {headcount: 3}}
intake:
  arrivals: 5
  count: COUNT
  templates: [{name: t, due: {dist: uniform, low: 10, high: 20}, tasks: [{name: a, skill: dev,
    effort: {dist: uniform, low: 1, high: 9}}]}]
"""
    first = [ps.simulate(load_scenario_text(text.replace("COUNT", n))).projects.set_index("project")
             .loc["t-1"] for n in ("2", "20")]
    assert first[0]["due_date"] == first[1]["due_date"]  # holds: the first vector drawn
    assert first[0]["effort_planned"] == first[1]["effort_planned"]  # fails
