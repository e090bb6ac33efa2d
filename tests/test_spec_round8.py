"""SPEC conformance, round 8: promises checked one by one that no other test pinned down.

Section 3's families are checked statistically (seeded, many draws, means and sds within a
few standard errors); section 9's "all problems at once" when a required top-level field is
itself what is wrong; section 6's help with examples for every command; rates of leavers,
change requests, rejections and risk strikes counted over many replications.
"""

from __future__ import annotations

import math
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from pydantic import TypeAdapter

from pmo_sim.cli import main
from pmo_sim.errors import ScenarioError
from pmo_sim.scenario.dists import RandomValue
from pmo_sim.scenario.loader import load_scenario_text

N = 200_000
_DIST: TypeAdapter = TypeAdapter(RandomValue)


def draws(spec: object, seed: int = 8) -> np.ndarray:
    return _DIST.validate_python(spec).sample(np.random.default_rng(seed), N)


def close(x: np.ndarray, mean: float, sd: float | None = None) -> None:
    """The sample mean (and sd) within 5 standard errors of the promised ones."""
    n, s = len(x), float(np.std(x, ddof=1))
    assert abs(float(np.mean(x)) - mean) < 5 * s / math.sqrt(n), (np.mean(x), mean)
    if sd is not None:
        # the sd's standard error, from the sample's fourth moment
        m4 = float(np.mean((x - np.mean(x)) ** 4))
        se_var = math.sqrt(max(m4 - s**4, 0.0) / n)
        assert abs(s**2 - sd**2) < 5 * se_var, (s, sd)


# --------------------------------------------------------------------------- SPEC 3


def test_a_plain_number_and_fixed_are_always_that_value() -> None:
    assert set(draws(7.5).tolist()) == {7.5}
    assert set(draws({"dist": "fixed", "value": 3}).tolist()) == {3.0}


def test_uniform_and_triangular() -> None:
    x = draws({"dist": "uniform", "low": 2, "high": 8})
    assert x.min() >= 2 and x.max() <= 8
    close(x, 5.0, 6 / math.sqrt(12))
    t = draws({"dist": "triangular", "low": 1, "mode": 2, "high": 9})
    assert t.min() >= 1 and t.max() <= 9
    var = (1 + 4 + 81 - 1 * 2 - 1 * 9 - 2 * 9) / 18
    close(t, 4.0, math.sqrt(var))


@pytest.mark.parametrize("lam", [None, 2.0, 6.0])
def test_pert_mean_is_low_plus_lambda_mode_plus_high_over_lambda_plus_2(lam: float | None) -> None:
    spec: dict[str, object] = {"dist": "pert", "low": 10, "mode": 15, "high": 40}
    if lam is not None:
        spec["lambda"] = lam
    x = draws(spec)
    assert x.min() >= 10 and x.max() <= 40
    k = 4.0 if lam is None else lam  # default lambda 4
    close(x, (10 + k * 15 + 40) / (k + 2))


def test_normal_is_redrawn_while_negative() -> None:
    from scipy.stats import truncnorm

    x = draws({"dist": "normal", "mean": 1.0, "sd": 2.0})
    assert x.min() >= 0  # nothing negative: redrawn, not clipped to 0 (no atom at 0)
    assert np.mean(x == 0) == 0
    kept = truncnorm(-1.0 / 2.0, np.inf, loc=1, scale=2)  # N(1, 2) conditioned on >= 0
    close(x, float(kept.mean()), float(kept.std()))


@pytest.mark.parametrize("family", ["lognormal", "gamma"])
def test_lognormal_and_gamma_have_the_arithmetic_mean_and_sd_given(family: str) -> None:
    close(draws({"dist": family, "mean": 0.15, "sd": 0.10}), 0.15, 0.10)
    close(draws({"dist": family, "mean": 800, "sd": 400}), 800, 400)


def test_exponential_has_that_mean() -> None:
    x = draws({"dist": "exponential", "mean": 15})
    assert x.min() >= 0
    close(x, 15.0, 15.0)


def test_empirical_resamples_the_values_uniformly_and_choice_by_weight() -> None:
    x = draws({"dist": "empirical", "values": [3, 5, 5, 11]})
    assert set(np.unique(x).tolist()) == {3.0, 5.0, 11.0}
    assert abs(np.mean(x == 5) - 0.5) < 5 * math.sqrt(0.25 / N)  # 5 is observed twice
    c = draws({"dist": "choice", "values": [2, 3], "weights": [1, 2]})
    assert abs(np.mean(c == 3) - 2 / 3) < 5 * math.sqrt(2 / 9 / N)
    u = draws({"dist": "choice", "values": [1, 2, 3, 4]})
    assert abs(np.mean(u == 4) - 0.25) < 5 * math.sqrt(0.1875 / N)


# --------------------------------------------------------------------------- SPEC 9

_CROSS = """
resources:
  dev: {headcount: 2}
projects:
  - name: A
    tasks:
      - {name: t1, skill: dev, people: 3, effort: 4}
      - {name: t2, skill: qa, effort: 4}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("head, first", [
    ("horizon: 100\n", "s.yaml:1:1: name: required field missing"),
    ("name: x\n", "s.yaml:1:1: horizon: required field missing"),
    ("name: x\nhorizon: -5\n", "s.yaml:2:10: horizon: must be greater than 0 (got -5)"),
    ("name: [x]\nhorizon: 100\n", "s.yaml:1:7: name: "),
])
def test_a_bad_name_or_horizon_does_not_hide_the_other_problems(head: str, first: str) -> None:
    # SPEC 9: every problem at once. A missing name or a bad horizon hid every cross-reference
    # problem: one line, and the crew and the unknown pool only after it was fixed.
    got = problems(head + _CROSS)
    assert got[0].startswith(first), got
    assert any("tasks.0.people: crew is larger than pool 'dev'" in p for p in got), got
    assert any("tasks.1.skill: unknown pool" in p for p in got), got
    assert len(got) == 3, got


def test_no_problem_is_judged_against_a_horizon_that_is_itself_wrong() -> None:
    got = problems("name: x\nhorizon: -5\nwarmup: 50\n" + _CROSS + """
workforce: {attrition_per_year: 0.1}
pmo:
  resource_manager:
    staffing: [{day: 30, pool: dev, change: 1}]
""")
    assert not [p for p in got if "warmup" in p or "staffing" in p], got
    assert len(got) == 3, got


# --------------------------------------------------------------------------- SPEC 6


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in sorted(group.commands.items()):
        out.append(path + (name,))
        if isinstance(command, click.Group):
            out += _commands(command, path + (name,))
    return out


@pytest.mark.parametrize("path", _commands(main), ids=" ".join)
def test_every_command_has_help_with_examples(path: tuple[str, ...]) -> None:
    # SPEC 6: every command has --help with examples (`pmo-sim import --help` had none).
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.output and f"pmo-sim {' '.join(path)} " in result.output, result.output


_TWO = """name: two
horizon: 100
resources:
  dev: {headcount: 2, day_rate: 100}
projects:
  - {name: P, value_per_day: 10, tasks: [{name: a, skill: dev, effort: {dist: uniform, low: 5, high: 9}}]}
policies:
  a_policy_with_a_long_name: {}
  another_policy_with_a_long_name: {resource_manager: {allocation: srpt}}
"""


def test_a_narrow_table_names_only_formats_the_command_has(tmp_path: Path) -> None:
    # "widen the terminal or use --format csv/json" was said by compare and fit too, which
    # have no csv (--format table|json): the note names the command's own formats.
    (tmp_path / "s.yaml").write_text(_TWO)
    runner = CliRunner(env={"COLUMNS": "60"})
    run = runner.invoke(main, ["run", str(tmp_path / "s.yaml"), "-n", "3", "-j", "1",
                               "--out", str(tmp_path / "r")])
    assert run.exit_code == 0 and "use --format json/csv)" in " ".join(run.output.split()), run.output
    compare = runner.invoke(main, ["compare", str(tmp_path / "r")])
    said = " ".join(compare.output.split())
    assert compare.exit_code == 0 and "not shown at 60 columns" in said, compare.output
    assert "use --format json)" in said and "csv" not in said, compare.output


# --------------------------------------------------------------------------- SPEC 4, 5, 10.3 by counting


def test_leavers_changes_and_rejections_come_at_their_rates() -> None:
    # SPEC 4: attrition per person per year (exponential times), replaced after hiring_delay;
    # change requests a Poisson rate per project per year while it is open and started; SPEC 5:
    # reject_fraction of them rejected. The one developer works on a task that never ends (a
    # leaver finishes the task in hand first), so the 20 idle operators are the leavers.
    import pmo_sim as ps

    sc = load_scenario_text("""name: rates
horizon: 500
resources:
  ops: {headcount: 20}
  dev: {headcount: 1}
workforce: {attrition_per_year: 0.3, hiring_delay: 0}
projects:
  - {name: P, tasks: [{name: a, skill: dev, effort: 1000000}]}
changes: {per_project_per_year: 5}
pmo: {change_manager: {reject_fraction: 0.25}}
""")
    r = ps.run_experiment(sc, replications=200, jobs=1, backend="serial").replications
    years = 500 / 250
    close(r["leavers"].to_numpy(dtype=float), 20 * 0.3 * years)  # Poisson: mean 12
    assert (r["hires"] == r["leavers"]).all()  # replaced at once (hiring_delay 0)
    close(r["changes"].to_numpy(dtype=float), 5 * years, math.sqrt(5 * years))
    share = r["changes_rejected"].sum() / r["changes"].sum()
    assert abs(share - 0.25) < 4 * math.sqrt(0.25 * 0.75 / r["changes"].sum())


def test_a_risk_strikes_at_its_probability_and_mitigation_strikes_a_subset() -> None:
    # SPEC 10.3: strikes when u < probability x (1 - probability_reduction), on pre-drawn
    # uniforms, so the mitigated strikes are a subset of the unmitigated; impacts x (1 - reduction).
    import pmo_sim as ps

    sc = load_scenario_text("""name: risky
horizon: 300
resources:
  dev: {headcount: 5}
intake:
  arrivals: 1
  count: 100
  templates: [{name: t, tasks: [{name: a, skill: dev, effort: 1}]}]
risks:
  - {name: slip, probability: 0.3, when: 0.5, impact: {cost: 100}}
policies:
  plain: {}
  careful: {governance: {risk_mitigation: {slip: {probability_reduction: 0.5, impact_reduction: 0.3}}}}
""")
    k = ps.run_experiment(sc, replications=20, jobs=1, backend="serial").risks
    struck = k.pivot_table(index=["replication", "project"], columns="policy", values="occurred")
    n = len(struck)
    for policy, p in (("plain", 0.3), ("careful", 0.15)):
        assert abs(struck[policy].mean() - p) < 4 * math.sqrt(p * (1 - p) / n), policy
    assert not (struck["careful"].astype(bool) & ~struck["plain"].astype(bool)).any()
    costs = k[k["occurred"]].groupby("policy")["cost"].unique()
    assert costs["plain"].tolist() == [100.0] and costs["careful"].tolist() == [70.0]


def test_roi_takes_format_csv_as_run_and_sweep_do(tmp_path: Path) -> None:
    # SPEC 6: --format table|json|csv is a common option of run, roi and sweep; roi refused
    # csv. It prints the paired replications, the rows --out writes to roi.csv.
    scenario = Path(__file__).parent.parent / "scenarios" / "training.yaml"
    args = ["roi", str(scenario), "--policy", "upskill", "--programme", "dev-course", "-n", "2",
            "--backend", "serial", "-q", "--format", "csv"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert result.stdout == (tmp_path / "r" / "roi.csv").read_text()
    assert result.stdout.splitlines()[0].startswith("replication,investment,benefit,net_gain,roi_pct,bcr")
    assert len(result.stdout.splitlines()) == 3


# --------------------------------------------------------------------------- SPEC 10.6, 10.7


def test_the_workbooks_forecast_says_not_reached_as_the_table_does(tmp_path: Path) -> None:
    # SPEC 10.6: a percentile not reached within the horizon prints as "> horizon", never as a
    # number. export's forecast sheet (SPEC 10.7) left a blank cell, as for no due date.
    import openpyxl

    import pmo_sim as ps
    from pmo_sim.io.excel import write_workbook

    (tmp_path / "s.yaml").write_text("""name: late
horizon: 20
calendar: {start_date: 2027-01-04}
resources:
  dev: {headcount: 1}
projects:
  - {name: Early, due: 15, tasks: [{name: a, skill: dev, effort: {dist: uniform, low: 2, high: 4}}]}
  - {name: Late, tasks: [{name: a, skill: dev, effort: {dist: uniform, low: 10, high: 30}}]}
""")
    res = ps.run_experiment(ps.load_scenario(tmp_path / "s.yaml"), replications=10, jobs=1,
                            out=tmp_path / "r")
    table = res.forecast().set_index("name")
    assert table.loc["Late", "p90"] == math.inf and 0 < table.loc["Late", "p_completed"] < 1
    sheet = openpyxl.load_workbook(write_workbook(res, tmp_path / "x.xlsx"))["forecast"]
    rows = {r[2]: dict(zip([c.value for c in sheet[1]], r, strict=True))
            for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Late"]["p90"] == rows["Late"]["p90_date"] == "> horizon"
    assert rows["Late"]["due"] is None  # no due date: empty, unlike a percentile not reached
    assert isinstance(rows["Early"]["p90"], float) and rows["Early"]["p90_date"] is not None


# --------------------------------------------------------------------------- SPEC 4.2


def test_each_replications_streams_are_spawned_from_the_root_seed() -> None:
    # SPEC 4.2: one root seed gives one stream per replication (SeedSequence(seed).spawn(...)),
    # and inside it one stream per source.
    from pmo_sim.sampling.streams import Source, stream

    keys = ((0, 0, Source.ARRIVALS), (7, 3, Source.CHANGES), (123, 41, Source.RISKS))
    for seed, replication, source in keys:
        child = np.random.SeedSequence(seed).spawn(replication + 1)[replication]
        grandchild = child.spawn(int(source) + 1)[int(source)]
        want = np.random.Generator(np.random.PCG64(grandchild)).random(5)
        assert np.array_equal(stream(seed, replication, source).random(5), want)


def test_the_default_jobs_are_the_cpus_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    # SPEC 6: -j defaults to the CPU count. On a machine of 64 CPUs where a batch system lets the
    # run use 2 (taskset, a cgroup's cpuset), it started 64 workers on those 2.
    import os

    from pmo_sim.experiment.workers import worker_count

    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3, 5}, raising=False)
    assert worker_count(None) == 2 and worker_count(7) == 7
    monkeypatch.delattr(os, "sched_getaffinity")  # a platform without it (macOS, Windows)
    assert worker_count(None) == 64


# --------------------------------------------------------------------------- SPEC 6: schema


def test_the_json_schema_takes_every_bundled_scenario_and_plain_numbers() -> None:
    # SPEC 6 `pmo-sim schema`, SPEC 3: a plain number is a fixed value. The schema allowed only
    # {dist: ...} mappings, so editors flagged `due: 200` or `effort: 5` in every scenario.
    import json

    import yaml

    jsonschema = pytest.importorskip("jsonschema")

    class Dates(yaml.SafeLoader):  # dates stay text, as an editor's YAML 1.2 reads them
        yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    result = CliRunner().invoke(main, ["schema"])
    validator = jsonschema.Draft202012Validator(json.loads(result.stdout))
    root = Path(__file__).parent.parent / "scenarios"
    files = sorted(root.glob("*.yaml")) + sorted(root.glob("history/*.yaml"))
    assert len(files) >= 10
    for path in files:
        errors = [f"{list(e.absolute_path)}: {e.message[:80]}"
                  for e in validator.iter_errors(yaml.load(path.read_text(), Loader=Dates))]
        assert not errors, (path.name, errors[:3])
    tiny = {"name": "x", "horizon": 10, "resources": {"dev": {"headcount": 1}},
            "projects": [{"name": "P", "due": 5, "tasks": [{"name": "a", "skill": "dev", "effort": 3}]}]}
    assert validator.is_valid(tiny)
    tiny["projects"][0]["tasks"][0]["effort"] = {"dist": "pert", "low": 1, "mode": 2, "high": 4}
    assert validator.is_valid(tiny)
    for wrong in (True, "3", {"dist": "pert", "low": 1}, {"dist": "nope"}):
        tiny["projects"][0]["tasks"][0]["effort"] = wrong
        assert not validator.is_valid(tiny), wrong


def test_the_json_schema_takes_a_policy_that_gives_only_what_it_changes() -> None:
    # SPEC 4: each policy deep-merges over pmo (and a null policy is an empty one): the schema
    # asked every policy for complete sections (a stage gate's at_progress) and refused null.
    import json

    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(CliRunner().invoke(main, ["schema"]).stdout))
    gate = {"at_progress": 0.5, "cancel_if_overrun": 1.5}
    course = {"name": "c", "skill": "dev"}
    sc: dict[str, object] = {
        "name": "x", "horizon": 10, "resources": {"dev": {"headcount": 1}},
        "pmo": {"governance": {"stage_gate": gate},
                "training_manager": {"programmes": [course]}},
        "policies": {"base": None, "strict": {"governance": {"stage_gate": {"cancel_if_overrun": 1.2}}}},
    }
    assert validator.is_valid(sc), [e.message for e in validator.iter_errors(sc)]
    assert load_scenario_text(json.dumps(sc)).policies["strict"].governance.stage_gate.at_progress == 0.5
    wrong = [{"governance": {"stage_gate": {"cancel_if_overrun": 1.2, "typo": 1}}},  # unknown key
             {"training_manager": {"programmes": [{"skill": "dev"}]}},  # lists replace: complete
             {"governance": {"stage_gate": {"at_progress": 2}}}]  # out of range
    for policy in wrong:
        sc["policies"] = {"p": policy}
        assert not validator.is_valid(sc), policy
        with pytest.raises(ScenarioError):
            load_scenario_text(json.dumps(sc))


# --------------------------------------------------------------------------- SPEC 8


def test_a_script_without_the_main_guard_is_told_why_its_workers_died(tmp_path: Path) -> None:
    # SPEC 8's example as a script: its workers import it again and start the experiment again,
    # which multiprocessing stops; the run said only "a worker process died".
    import subprocess
    import sys

    (tmp_path / "s.yaml").write_text(_TWO)
    script = tmp_path / "analysis.py"
    script.write_text("import pmo_sim as ps\n"
                      f"sc = ps.load_scenario({str(tmp_path / 's.yaml')!r})\n"
                      "res = ps.run_experiment(sc, replications=2, seed=0, jobs=2)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "could not start" in last and 'if __name__ == "__main__":' in last, done.stderr[-2000:]


def test_a_dated_traces_gantt_chart_reads_in_dates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # SPEC 10.4: with start_date, traces also show dates; the task log did, its chart only
    # working days.
    import datetime as dt

    from pmo_sim.analysis import plots

    text = _TWO.replace("horizon: 100\n", "horizon: 100\ncalendar: {start_date: 2027-01-04}\n")
    (tmp_path / "s.yaml").write_text(text)
    seen: list[object] = []
    drawn = plots.gantt
    monkeypatch.setattr(plots, "gantt", lambda *a, **k: seen.append(k.get("start_date")) or drawn(*a, **k))
    result = CliRunner().invoke(main, ["trace", str(tmp_path / "s.yaml"), "--policy",
                                       "a_policy_with_a_long_name", "--replication", "0",
                                       "--out", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert seen == [dt.date(2027, 1, 4)]
    one = ps_simulate(text)
    ax = plots.gantt(one.tasks, projects=one.projects, start_date=dt.date(2027, 1, 4))
    label = ax.xaxis.get_major_formatter()
    assert (label(0, 0), label(4.5, 0), label(5, 0)) == ("2027-01-04", "2027-01-08", "2027-01-11")
    assert "2027-01-04" in ax.get_xlabel()
    assert plots.gantt(one.tasks, projects=one.projects).get_xlabel() == "working day"


def ps_simulate(text: str):  # type: ignore[no-untyped-def]
    import pmo_sim as ps

    return ps.simulate(load_scenario_text(text), policy="a_policy_with_a_long_name")
