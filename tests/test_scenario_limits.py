"""The bounded reader, names and slugs, ordered overrides, distribution bounds and the size estimate.

Each limit of :mod:`pmo_sim.scenario.limits` is crossed here by a file built for it (deep,
wide, aliased, long), and must give a located problem, never a RecursionError or a hang.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

import pmo_sim as ps
from pmo_sim.cli import main
from pmo_sim.errors import ScenarioError
from pmo_sim.scenario import dists
from pmo_sim.scenario.limits import MAX_NAME_CHARS, MAX_TEXT_CHARS, estimate_size
from pmo_sim.scenario.loader import load_scenario, load_scenario_text, scenario_from_dict
from pmo_sim.scenario.names import SLUG_MAX_CHARS, safe_slug
from pmo_sim.scenario.reader import read_yaml
from pmo_sim.scenario.writer import dump_yaml

ROOT = Path(__file__).parent.parent
BASE = """\
name: tiny
horizon: 100
resources:
  dev: {headcount: 2}
projects:
  - name: A
    tasks:
      - {name: build, skill: dev, effort: 10}
"""


def problems(text: str, **kwargs: Any) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml", **kwargs)
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- reading


@settings(max_examples=200, deadline=None)  # the first example builds ruamel's loader (~0.3 s)
@given(st.text(alphabet="0123456789+-._eEoxbInfaNul~TrueFalsy", min_size=1, max_size=8))
def test_plain_scalars_are_typed_as_ruamel_types_them(text: str) -> None:
    """YAML 1.2 core schema, as the previous ruamel loader read it (dates stay text here)."""
    try:
        expected = YAML(typ="rt").load(f"x: {text}\n")["x"]
    except Exception:  # not a plain scalar at all (`- x`, `:`...): nothing to compare
        return
    got = read_yaml(f"x: {text}\n", "s")[0]["x"]
    kind = next(t for t in (bool, int, float, type(None), object) if isinstance(expected, t))
    if kind is object:  # text (or a date, which ruamel constructs and pmo-sim keeps as text)
        assert got == str(expected), (text, got, expected)
    elif kind is float and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert type(got) is kind and got == expected, (text, got, expected)


_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
            | st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"),
                      max_size=12)
            | st.text(alphabet="0123456789+-._eEoxbInfaNul~TrueFalsy :#", max_size=8))
_TREES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=25)


@settings(max_examples=300)
@given(_TREES)
def test_written_yaml_reads_back_equal(tree: Any) -> None:
    """What pmo-sim writes (a results folder's ``scenario.yaml``) reads back as the same data:
    text the YAML 1.2 core schema would read as a number, a boolean or nothing is quoted."""
    text = dump_yaml({"x": tree})
    assert read_yaml(text, "s")[0] == {"x": tree}, text


def test_merge_keys_in_every_form_and_explicit_keys_win() -> None:
    tree, sources = read_yaml(
        "a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\n"
        "alone: {<<: *a}\nlist: {<<: [*a, *b]}\ninline: {<<: {x: 9}, y: 0}\nmine: {<<: *a, x: 5}\n", "m")
    assert tree["alone"] == {"x": 1, "y": 2}
    assert tree["list"] == {"x": 1, "y": 2, "z": 4}  # earlier merged mappings win
    assert tree["inline"] == {"y": 0, "x": 9}
    assert tree["mine"] == {"x": 5, "y": 2}  # keys written in the mapping win
    # a merged value is located where its anchor defines it
    assert sources.values[("alone", "y")] == sources.values[("a", "y")]


def test_an_alias_is_a_copy_so_an_override_changes_one_place() -> None:
    text = BASE.replace("  dev: {headcount: 2}", "  dev: &p {headcount: 2}\n  qa: *p")
    sc = load_scenario_text(text, overrides=[("resources.qa.headcount", "5")])
    assert (sc.resources["dev"].headcount, sc.resources["qa"].headcount) == (2, 5)


def test_merge_with_a_scalar_and_unknown_alias_are_located() -> None:
    assert problems(BASE + "x: &x 3\ny: {<<: *x}\n")[0].startswith(
        "s.yaml:10:9: y.<<: a merge key << takes a mapping or a list of mappings (got int)")
    assert problems(BASE + "y: *nope\n")[0].startswith("s.yaml:9:4: y: unknown alias *nope")


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/name:builtins.exec",
                                 "!custom", "!!binary", "!!set", "!!timestamp"])
def test_non_standard_tags_are_refused_never_constructed(tag: str) -> None:
    out = problems(BASE.replace("name: tiny", f"name: {tag} tiny"))
    assert out == [f"s.yaml:1:7: name: YAML tag {tag} is not allowed: a scenario holds plain mappings, "
                   "lists, numbers and text, and pmo-sim never constructs objects from tags"]


def test_standard_tags_are_honoured() -> None:
    sc = load_scenario_text(BASE.replace("horizon: 100", "horizon: !!float '100'").replace(
        "name: tiny", "name: !!str 123"))
    assert (sc.name, sc.horizon) == ("123", 100.0)
    assert problems(BASE.replace("horizon: 100", "horizon: !!int 1.5")) == [
        "s.yaml:2:10: horizon: YAML tag !!int: '1.5' is not a whole number"]


def test_deep_wide_aliased_and_long_files_are_refused_where_they_cross_a_limit() -> None:
    deep = BASE + "description: " + "[" * 3000 + "]" * 3000 + "\n"
    assert "YAML syntax error" in problems(deep)[0] or "levels deep" in problems(deep)[0]
    nested = BASE + "description:" + "".join(f"\n{'  ' * (i + 1)}k:" for i in range(40)) + " 1\n"
    assert "nested more than 32 levels deep" in problems(nested)[0]
    long = BASE + f"description: {'x' * (MAX_TEXT_CHARS + 1)}\n"
    assert problems(long) == [f"s.yaml:9:14: description: text of {MAX_TEXT_CHARS + 1:,} characters, "
                              f"longer than the limit of {MAX_TEXT_CHARS:,}"]
    huge = "description: " + "x" * (9 * 2**20)
    assert problems(huge) == ["s.yaml:1:1: the file is larger than 8 MiB, the limit for a scenario"]
    values = BASE + "description: [" + "1," * 1_000_001 + "]\n"
    assert "more than 1,000,000 values" in problems(values)[0]


def test_many_projects_and_a_long_chain_are_refused_with_the_count() -> None:
    projects = BASE + "".join(f"  - {{name: p{i}, tasks: [{{name: t, skill: dev, effort: 1}}]}}\n"
                              for i in range(20_001))
    assert "s.yaml:6:3: projects: has 20,002 items, more than the limit of 20,000" in problems(projects)
    chain = BASE + "".join(f"      - {{name: t{i + 1}, skill: dev, effort: 1, after: [t{i}]}}\n"
                           for i in range(20_000))
    assert "s.yaml:8:7: projects.0.tasks: has 20,001 items, more than the limit of 5,000" in problems(chain)


def test_a_long_precedence_chain_within_the_limit_is_checked_without_recursion() -> None:
    tasks = "".join(f"      - {{name: t{i}, skill: dev, effort: 1, after: [t{(i + 1) % 4000}]}}\n"
                    for i in range(4000))
    out = problems(BASE.replace("      - {name: build, skill: dev, effort: 10}\n", tasks))
    assert len(out) == 1 and "precedence cycle: t0 -> t3999 -> t3998" in out[0]


def test_python_data_too_deep_or_containing_itself_is_refused() -> None:
    data: dict[str, Any] = {"name": "x"}
    data["self"] = data
    with pytest.raises(ScenarioError, match="levels deep|contains itself"):
        scenario_from_dict(data)
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ScenarioError, match="levels deep"):
        scenario_from_dict({"name": "x", "d": deep})


# --------------------------------------------------------------------------- names and slugs


@pytest.mark.parametrize("where", ["name", "resources", "task", "policy", "programme", "adoption"])
def test_control_characters_are_refused_in_every_name(where: str) -> None:
    bad = "a\\x00b"
    text = {
        "name": BASE.replace("name: tiny", f'name: "{bad}"'),
        "resources": BASE.replace("  dev: {headcount: 2}",
                                  f'  dev: {{headcount: 2}}\n  "{bad}": {{headcount: 1}}'),
        "task": BASE.replace("{name: build,", f'{{name: "{bad}",'),
        "policy": BASE + f'policies:\n  "{bad}": {{}}\n',
        "programme": BASE + f'pmo:\n  training_manager: {{programmes: [{{name: "{bad}", skill: dev}}]}}\n',
        "adoption": BASE + f'pmo:\n  technology_manager: {{adoptions: [{{name: "{bad}"}}]}}\n',
    }[where]
    out = problems(text)
    assert len(out) == 1 and "a name must not contain control characters; character 2 is U+0000" in out[0]


def test_names_longer_than_the_limit_are_refused() -> None:
    assert f"at most {MAX_NAME_CHARS} characters" in problems(BASE.replace("tiny", "n" * 201))[0]
    load_scenario_text(BASE.replace("tiny", "n" * MAX_NAME_CHARS))


@given(st.text(max_size=300))
def test_safe_slug_is_a_plain_file_name(name: str) -> None:
    slug = safe_slug(name)
    assert 0 < len(slug) <= SLUG_MAX_CHARS + 1
    assert slug not in (".", "..") and not slug.startswith((".", "-"))
    assert not any(c in slug for c in "/\\:\x00") and slug.isprintable()
    assert safe_slug(slug) == slug


def _invoke_in(cwd: Path, *args: str) -> Any:
    before = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(before)


@pytest.mark.parametrize(("name", "sets"), [("../../x", []), ("/abs/x", []), ("tiny", ["name=../../x"]),
                                            ("tiny", ["name=/tmp/x"]), ("..", []), ("a\\\\..\\\\b", [])])
def test_run_never_writes_outside_results(tmp_path: Path, name: str, sets: list[str]) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (work / "s.yaml").write_text(BASE.replace("name: tiny", f'name: "{name}"'), encoding="utf-8")
    flags = [x for s in sets for x in ("--set", s)]
    result = _invoke_in(work, "run", "s.yaml", "-n", "1", "-j", "1", "-q", *flags)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_dir() and p.parent == work / "results")
    assert {p.relative_to(tmp_path).parts[:3] for p in tmp_path.rglob("*") if p.is_file()} <= {
        ("a", "b", "s.yaml"), ("a", "b", "results")}


@pytest.mark.parametrize("policy", ["../../evil", "/abs/p", "a b/c", "..", "NUL"])
def test_trace_file_names_stay_inside_their_folder(tmp_path: Path, policy: str) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / "s.yaml").write_text(BASE + f'policies:\n  "{policy}": {{}}\n', encoding="utf-8")
    result = _invoke_in(work, "trace", "s.yaml", "--policy", policy, "--replication", "0")
    assert result.exit_code == 0, result.output
    files = [p.relative_to(work) for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.parts[0] in ("s.yaml", "results") for p in files), files
    assert len([p for p in files if p.name.startswith("trace-")]) == 2


# --------------------------------------------------------------------------- overrides


def test_overrides_as_pairs_keep_their_positions() -> None:
    out = problems(BASE, overrides=[("horizon", "1"), ("horizon", "abc")])
    assert out == ["--set:2:1: horizon: expected a number (got 'abc')"]
    assert load_scenario_text(BASE, overrides=[("horizon", "5"), ("horizon", "7")]).horizon == 7
    assert load_scenario_text(BASE, overrides={"horizon": "5"}).horizon == 5


@pytest.mark.parametrize("index", ["²", "\u0661", "\uff10", "0" * 30 + "1"])
def test_list_indices_are_ascii_digits_only(index: str) -> None:
    out = problems(BASE, overrides=[(f"projects.{index}.due", "5")])
    assert out[0].startswith(f"--set:1:1: projects.{index}.due: no such item")


def test_validate_blames_the_second_of_two_sets() -> None:
    result = CliRunner().invoke(main, ["validate", str(ROOT / "scenarios" / "queue_mmc.yaml"),
                                       "--set", "horizon=1", "--set", "horizon=abc"])
    assert result.exit_code == 2 and result.output.startswith("--set:2:1: horizon: expected a number")


# --------------------------------------------------------------------------- distributions

WIDE = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
    [0.0, 1e-300, -1e-300, 1e300, 1e15, -1e15, 5e-324, 1.0, -3.0]))


@settings(max_examples=300, deadline=None)  # behaviour, not speed (a loaded host took 3.6 s)
@given(family=st.sampled_from(dists.DIST_NAMES), a=WIDE, b=WIDE, c=WIDE, lam=WIDE,
       values=st.lists(WIDE, min_size=1, max_size=4), weights=st.lists(WIDE, min_size=1, max_size=4))
def test_every_accepted_distribution_samples_finite_values(family: str, a: float, b: float, c: float,
                                                          lam: float, values: list[float],
                                                          weights: list[float]) -> None:
    params: dict[str, Any] = {"dist": family, "value": a, "low": min(a, c), "mode": b, "high": max(a, c),
                              "mean": a, "sd": b, "lambda": lam, "values": values, "weights": weights}
    model = {name: cls for name, cls in zip(dists.DIST_NAMES, (
        dists.Fixed, dists.Uniform, dists.Triangular, dists.Pert, dists.Normal, dists.Lognormal,
        dists.Exponential, dists.Gamma, dists.Empirical, dists.Choice), strict=True)}[family]
    keys = {f.alias or n for n, f in model.model_fields.items()}
    try:
        dist = model.model_validate({k: v for k, v in params.items() if k in keys})
    except ValueError:
        return  # refused at validation: fine
    draws = dist.sample(np.random.default_rng(0), 1000)
    assert np.isfinite(draws).all(), (dist, draws[~np.isfinite(draws)][:3])
    assert math.isfinite(dist.mean())


# --------------------------------------------------------------------------- the size of a run


BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml")) + [ROOT / "benchmarks" / "reference.yaml"]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_the_event_estimate_is_within_a_factor_two_of_the_events_kpi(path: Path) -> None:
    sc = load_scenario(path)
    estimate = estimate_size(sc).events
    events = max(ps.simulate(sc, policy=p, seed=0, replication=0).kpis["events"] for p in sc.policy_names)
    assert events / 2 <= estimate <= 2 * events


def test_the_budget_names_the_largest_field_and_can_be_raised_or_disabled() -> None:
    big = BASE + "changes: {per_project_per_year: 1e7}\n"
    assert problems(big) == ["s.yaml:9:33: changes.per_project_per_year: with horizon 100 this makes about "
                             "4,000,002 simulation events per replication, above the budget of 1,000,000; "
                             "raise it with --max-events"]
    assert load_scenario_text(big, max_events=None).changes is not None
    assert load_scenario_text(big, max_events=5e6).changes is not None
    path_ok = CliRunner().invoke(main, ["validate", "-", "--max-events", "5e6"])
    assert path_ok.exit_code == 2  # "-" is not a file: the option itself parses


def test_estimate_counts_each_source() -> None:
    sc = load_scenario_text(BASE + """\
intake:
  arrivals: 10
  templates: [{name: t, tasks: [{name: a, skill: dev, effort: 1}, {name: b, skill: dev, effort: 1}]}]
changes: {per_project_per_year: 5}
workforce: {attrition_per_year: 0.5}
days_per_year: 100
pmo:
  innovation_manager: {ideas_per_year: 3, success_probability: 0.5}
  training_manager: {programmes: [{name: p, skill: dev, trainees: 2, repeat_every: 25}]}
""")
    size = estimate_size(sc)
    assert (size.projects, size.tasks) == (11, 21)  # 1 explicit + 100 / 10 arrivals of 2 tasks
    assert size.changes == pytest.approx(5 * (1 + 10 * (100 - 50) / 100))  # arrivals spread over [0, 100]
    assert (size.leavers, size.ideas, size.cohorts, size.trainees) == (1.0, 3.0, 5.0, 10.0)


def test_a_risk_register_over_a_large_intake_counts_in_the_budget() -> None:
    # before: 300 risks over 40,000 generated projects were not estimated at all, and one
    # replication drew and recorded 12,000,000 (risk, project) pairs: 5.4 GB, two minutes
    risks = "".join(f"  - {{name: r{i}, probability: 0.5}}\n" for i in range(30))
    text = ("name: b\nhorizon: 2000\nresources:\n  dev: {headcount: 50, day_rate: 100}\n"
            "intake:\n  arrivals: 0.05\n  count: 40000\n"
            "  templates: [{name: T, tasks: [{name: a, skill: dev, effort: 1}]}]\nrisks:\n" + risks)
    with pytest.raises(ScenarioError, match=r"s\.yaml:10:3: risks: with horizon 2000 this makes about "
                                            r"1,280,000 simulation events"):
        load_scenario_text(text, "s.yaml")
    assert estimate_size(load_scenario_text(text, "s.yaml", max_events=None)).events == 1_280_000


def test_many_goals_over_a_large_intake_count_in_the_budget() -> None:
    # before: 3,000 goals over 40,000 generated projects were not estimated: 2 GB and 35 s for
    # one replication (an alignment drawn per goal and project)
    goals = "".join(f"    g{i}: {{weight: 1}}\n" for i in range(1000))
    text = ("name: b\nhorizon: 2000\nresources:\n  dev: {headcount: 50, day_rate: 100}\n"
            "strategy:\n  goals:\n" + goals + "intake:\n  arrivals: 0.05\n  count: 40000\n"
            "  templates: [{name: T, tasks: [{name: a, skill: dev, effort: 1}]}]\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:7:5: strategy\.goals: with horizon 2000 this "
                                            r"makes about 2,080,000 simulation events"):
        load_scenario_text(text, "s.yaml")
