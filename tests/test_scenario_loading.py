"""Loading scenarios: policy resolution, round trips, locations, and the checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from samples import MINIMAL_YAML

import pmo_sim
from pmo_sim.errors import ScenarioError
from pmo_sim.scenario.checks import semantic_problems
from pmo_sim.scenario.dists import Exponential, Normal, Pert
from pmo_sim.scenario.loader import dump_scenario, load_scenario_text, scenario_from_dict
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.schema import scenario_json_schema
from pmo_sim.scenario.starter import starter_scenario

TINY = MINIMAL_YAML

POLICIES = TINY + """\
pmo:
  resource_manager: {allocation: wsjf, wip_limit: 4}
  change_manager: {assessment_days: 2}
  training_manager:
    programmes:
      - {name: basics, skill: developers}
policies:
  baseline: {}
  focused:
    resource_manager: {wip_limit: 6}
    change_manager: null
    training_manager:
      programmes:
        - {name: advanced, skill: developers, productivity_gain: 0.1}
  bare:
"""


def problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml", **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def test_minimal_scenario_has_one_default_policy_equal_to_pmo(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    sc = pmo_sim.load_scenario(path)
    assert sc.policy_names == ["default"]
    assert sc.policies["default"] == sc.pmo
    assert sc.projects[0].tasks[0].effort.mean() == 10


def test_policies_deep_merge_over_pmo() -> None:
    sc = load_scenario_text(POLICIES)
    assert sc.policy_names == ["baseline", "focused", "bare"]
    assert sc.policies["baseline"] == sc.pmo == sc.policies["bare"]  # empty or null: pmo as is
    focused = sc.policies["focused"]
    assert focused.resource_manager.allocation == "wsjf"  # inherited
    assert focused.resource_manager.wip_limit == 6  # overridden
    assert focused.change_manager is None  # null switches a role off
    assert focused.training_manager is not None
    assert [p.name for p in focused.training_manager.programmes] == ["advanced"]  # lists replace


def test_problem_inherited_by_every_policy_is_reported_once_under_pmo() -> None:
    text = TINY + "pmo:\n  resource_manager: {wip_limit: 0}\npolicies:\n  a: {}\n  b: {allocation: x}\n"
    lines = problems(text)
    assert lines == [
        "s.yaml:10:33: pmo.resource_manager.wip_limit: must be at least 1 (got 0)",
        "s.yaml:13:7: policies.b.allocation: unknown key; expected one of: resource_manager, "
        "change_manager, training_manager, technology_manager, innovation_manager, governance "
        "(got 'allocation')",
    ]


def test_semantic_problem_inherited_from_pmo_is_reported_once() -> None:
    text = TINY + ("pmo:\n  training_manager:\n    programmes: [{name: p, skill: qa}]\n"
                   "policies:\n  a: {}\n  b: {}\n")
    assert problems(text) == [
        "s.yaml:11:35: pmo.training_manager.programmes.0.skill: unknown pool; "
        "expected one of: developers (got 'qa')"
    ]


def test_every_problem_is_reported_at_once() -> None:
    text = TINY.replace("horizon: 100", "horizon: -1").replace("headcount: 2", "headcount: 0")
    text = text.replace("effort: 10", "effort: {dist: gamma, mean: 1}") + "extra: 1\n"
    assert [line.split(": ")[1] for line in problems(text)] == [
        "horizon", "resources.developers.headcount", "projects.0.tasks.0.effort.sd", "extra",
    ]


def test_dump_round_trip_with_aliases_and_overrides() -> None:
    text = POLICIES.replace(
        "effort: 10", "effort: {dist: pert, low: 1, mode: 2, high: 9, lambda: 6}"
    ) + """\
intake:
  arrivals: {dist: exponential, mean: 15}
  templates:
    - name: small
      value_per_day: {dist: normal, mean: 100, sd: 20}
      tasks: [{name: t, skill: developers, effort: {dist: lognormal, mean: 3, sd: 1}}]
"""
    sc = load_scenario_text(text, overrides={"resources.developers.headcount": "7"})
    effort = sc.projects[0].tasks[0].effort
    assert isinstance(effort, Pert) and effort.lambda_ == 6
    assert sc.intake is not None
    assert isinstance(sc.intake.arrivals, Exponential)
    assert isinstance(sc.intake.templates[0].value_per_day, Normal)
    dumped = dump_scenario(sc)
    assert "lambda: 6" in dumped and "lambda_" not in dumped and "mean_" not in dumped
    again = load_scenario_text(dumped)
    assert again == sc
    assert again.resources["developers"].headcount == 7
    assert dump_scenario(again) == dumped


def test_dump_round_trip_of_default_policy_and_starter() -> None:
    for text in (TINY, starter_scenario("demo")):
        sc = load_scenario_text(text)
        assert load_scenario_text(dump_scenario(sc)) == sc


def test_starter_shows_every_section_and_loads() -> None:
    text = starter_scenario("my-portfolio.yaml")
    sc = load_scenario_text(text)
    assert sc.name == "my-portfolio"
    for section in ("description", "warmup", "days_per_year", "currency", "discount_rate", "intake",
                    "changes", "workforce", "pmo", "policies"):
        assert f"\n{section}:" in text
    assert sc.changes and sc.workforce and sc.intake
    focused = sc.policies["focused"]
    assert focused.training_manager and focused.technology_manager and focused.innovation_manager
    assert focused.governance and focused.governance.stage_gate
    assert "# " in text


def test_bool_and_quoted_numbers_are_not_numbers() -> None:
    text = TINY.replace("horizon: 100", 'horizon: "100"').replace("day_rate: 500", "day_rate: true")
    assert problems(text) == [
        "s.yaml:2:10: horizon: expected a number (got '100')",
        "s.yaml:4:40: resources.developers.day_rate: expected a number, not true/false (got True)",
    ]


def test_scenario_from_dict_runs_the_same_checks() -> None:
    data = {"name": "d", "horizon": 10, "resources": {"dev": {"headcount": 1}},
            "projects": [{"name": "A", "tasks": [{"name": "t", "skill": "qa", "effort": 1}]}]}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="api")
    assert str(info.value) == "api: projects.0.tasks.0.skill: unknown pool; expected one of: dev (got 'qa')"
    data["projects"][0]["tasks"][0]["skill"] = "dev"  # type: ignore[index]
    assert scenario_from_dict(data).name == "d"


def test_semantic_problems_cover_the_cross_references() -> None:
    sc = Scenario.model_validate({
        "name": "x", "horizon": 10, "warmup": 10, "resources": {"dev": {"headcount": 1}},
        "projects": [
            {"name": "A", "priority": 0, "tasks": [
                {"name": "a", "skill": "dev", "effort": 1, "after": ["b"]},
                {"name": "b", "skill": "dev", "effort": 1, "after": ["a"], "people": 2}]},
            {"name": "A", "tasks": [{"name": "t", "skill": "ops", "effort": 1}]},
        ],
        "pmo": {"training_manager": {"programmes": [{"name": "p", "skill": "dev", "cross_skill": "ops"},
                                                    {"name": "p", "skill": "dev"}],
                                     "gap_driven": {"threshold_days": 3, "programme": "q"}},
                "technology_manager": {"adoptions": [{"name": "ci", "skills": ["ops"]}]}},
    })
    found = {(".".join(map(str, path)), message.split(";")[0].split(" (")[0])
             for path, message, _ in semantic_problems(sc)}
    assert found == {
        ("warmup", "must be less than horizon"),
        ("projects.0.priority", "must be at least 1"),
        ("projects.0.tasks.0.after", "precedence cycle: a -> b -> a"),
        ("projects.0.tasks.1.people", "crew is larger than pool 'dev'"),
        ("projects.1.name", "duplicate project name"),
        ("projects.1.tasks.0.skill", "unknown pool"),
        ("pmo.training_manager.programmes.0.cross_skill", "unknown pool"),
        ("pmo.training_manager.programmes.1.name", "duplicate programme name"),
        ("pmo.training_manager.gap_driven.programme", "no programme of that name in this policy"),
        ("pmo.technology_manager.adoptions.0.skills.0", "unknown pool"),
    }


def test_json_schema_describes_the_format() -> None:
    schema = scenario_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "pmo-sim scenario" and schema["description"]
    assert {"name", "horizon", "resources", "pmo", "policies"} <= set(schema["properties"])
    assert set(schema["required"]) == {"name", "horizon", "resources"}
