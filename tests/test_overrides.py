"""``--set PATH=VALUE`` overrides: paths by key, index or name, values read as YAML."""

from __future__ import annotations

import pytest

from pmo_sim.errors import ScenarioError
from pmo_sim.scenario.dists import Fixed, Uniform
from pmo_sim.scenario.loader import load_scenario_text
from pmo_sim.scenario.overrides import OverrideError, parse_value, resolve

BASE = """\
name: base
horizon: 100
resources:
  developers: {headcount: 2}
  analysts: {headcount: 1}
projects:
  - name: CRM upgrade
    due: 50
    tasks:
      - {name: analysis, skill: analysts, effort: 5}
      - {name: build, skill: developers, effort: 10, after: [analysis]}
pmo:
  resource_manager: {allocation: fifo}
policies:
  baseline: {}
  focused:
    resource_manager: {allocation: wsjf, wip_limit: 3}
"""


def errors(overrides: dict[str, object]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(BASE, "s.yaml", overrides=overrides)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(("text", "value"), [
    ("15", 15), ("2.5", 2.5), ("[1, 2]", [1, 2]), ("{dist: fixed, value: 3}", {"dist": "fixed", "value": 3}),
    ("wsjf", "wsjf"), ("true", True), ("", None), ("CRM upgrade", "CRM upgrade"),
])
def test_values_are_yaml_flow_values(text: str, value: object) -> None:
    assert parse_value(text) == value


def test_python_values_are_copied() -> None:
    original = {"dist": "uniform", "low": 1, "high": (2,)}
    parsed = parse_value(original)
    assert parsed == {"dist": "uniform", "low": 1, "high": [2]} and parsed is not original


def test_paths_by_key_index_and_name() -> None:
    sc = load_scenario_text(BASE, overrides={
        "resources.developers.headcount": "5",
        "projects.0.due": 70,
        "projects.CRM upgrade.tasks.build.effort": "{dist: uniform, low: 8, high: 12}",
        "policies.focused.resource_manager.wip_limit": "4",
        "pmo.resource_manager.allocation": "edd",
    })
    assert sc.resources["developers"].headcount == 5
    assert sc.projects[0].due == Fixed(value=70)
    assert sc.projects[0].tasks[1].effort == Uniform(dist="uniform", low=8, high=12)
    assert sc.policies["focused"].resource_manager.wip_limit == 4
    assert sc.policies["focused"].resource_manager.allocation == "wsjf"
    assert sc.policies["baseline"].resource_manager.allocation == "edd"  # pmo overrides are inherited


def test_last_segment_may_be_a_new_key() -> None:
    sc = load_scenario_text(BASE, overrides={"warmup": "10", "resources.developers.day_rate": "700"})
    assert sc.warmup == 10 and sc.resources["developers"].day_rate == 700


def test_new_key_unknown_to_the_model_is_rejected_at_the_set_argument() -> None:
    assert errors({"horizon": "50", "resources.developers.salary": "1"}) == [
        "--set:2:1: resources.developers.salary: unknown key; expected one of: kind, headcount, day_rate, "
        "productivity, fte (got 'salary')"
    ]


def test_missing_paths() -> None:
    assert errors({"resources.devs.headcount": "3", "projects.ERP.due": 1, "name.first": "x",
                   "projects.0.tasks.9": "x"}) == [
        "--set:1:1: resources.devs.headcount: no such key; expected one of: developers, analysts "
        "(got 'devs')",
        "--set:2:1: projects.ERP.due: no such item; expected index 0 or one of the names: CRM upgrade "
        "(got 'ERP')",
        "--set:3:1: name.first: name holds a single value, so it has no entry 'first' (got 'first')",
        "--set:4:1: projects.0.tasks.9: no such item; expected an index 0..1 or one of the names: "
        "analysis, build (got '9')",
    ]


def test_problems_in_an_overridden_value_point_at_the_set_argument() -> None:
    assert errors({"projects.0.tasks.build.effort": "{dist: uniform, low: 9, high: 1}",
                   "projects.0.due": "soon"}) == [
        "--set:2:1: projects.0.due: expected a number or a distribution such as "
        "{dist: uniform, low: 1, high: 2} (got 'soon')",
        "--set:1:1: projects.0.tasks.1.effort: low (9) must not exceed high (1) "
        "(got {'dist': 'uniform', 'low': 9, 'high': 1})",
    ]


def test_semantic_problem_from_an_override_points_at_the_set_argument() -> None:
    assert errors({"projects.0.tasks.build.skill": "testers"}) == [
        "--set:1:1: projects.0.tasks.1.skill: unknown pool; expected one of: developers, analysts "
        "(got 'testers')"
    ]


def test_unparsable_value() -> None:
    assert errors({"horizon": "[1,"})[0].startswith("--set:1:1: horizon: value is not valid YAML: ")


def test_resolve_reports_empty_segments() -> None:
    with pytest.raises(OverrideError, match="empty segment"):
        resolve({"a": 1}, "a..b")


def test_a_role_section_a_policy_lacks_is_explained() -> None:
    # policies list only the sections they change: the message says how to add one
    sc = {"name": "s", "pmo": {}, "policies": {"base": {}}}
    with pytest.raises(OverrideError, match=r"set whole: policies\.base\.resource_manager="
                                            r"\{allocation: \.\.\.\}"):
        resolve(sc, "policies.base.resource_manager.allocation")


def test_a_bracketed_index_is_told_the_dotted_form() -> None:
    # (a path names an item by a dot; `projects[0]` was only "no such key")
    tree = {"projects": [{"name": "CRM upgrade", "arrival": 0}], "resources": {"devs": {"headcount": 1}}}
    for path, hint in (("projects[0].arrival", "projects.0"),
                       ("projects[CRM upgrade].arrival", "projects.CRM upgrade")):
        with pytest.raises(OverrideError, match=rf"; an item of a list is named with a dot: {hint}$"):
            resolve(tree, path)
    with pytest.raises(OverrideError) as info:  # not a list: no such hint
        resolve(tree, "resources[0].headcount")
    assert "with a dot" not in str(info.value)
