"""``pmo-sim sweep`` and ``pmo-sim trace`` on the tiny scenario of test_experiment: outputs, CRN,
and refusals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from test_experiment import TINY_YAML, write_tiny

import pmo_sim
from pmo_sim.cli import main
from pmo_sim.errors import ScenarioError
from pmo_sim.experiment.sweep import axes_of, grid, parse_vary, sweep


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """Two pools (dev 4, ana 2), ten projects with change requests; policies base, focused."""
    return write_tiny(tmp_path)


@pytest.fixture
def with_pmo(tmp_path: Path) -> Path:
    """The same with a `pmo` section that 'base' inherits ('focused' sets its own WIP limit)."""
    return write_tiny(tmp_path, TINY_YAML + "pmo:\n  resource_manager: {allocation: fifo}\n")


# --------------------------------------------------------------------------- --vary


@pytest.mark.parametrize("text, expected", [
    ("resources.dev.headcount=2,3,4", ("resources.dev.headcount", [2, 3, 4])),
    ("a.b=2:6:3", ("a.b", [2, 4, 6])),
    ("a.b=0:1:3", ("a.b", [0.0, 0.5, 1.0])),
    ("a.b=0.1:0.3:3", ("a.b", [0.1, 0.2, 0.3])),
    ("pmo.resource_manager.allocation=fifo, wsjf", ("pmo.resource_manager.allocation",
                                                     ["fifo", "wsjf"])),
])
def test_parse_vary(text: str, expected: tuple[str, list[object]]) -> None:
    assert parse_vary(text) == expected


@pytest.mark.parametrize("text", ["headcount", "a.b=", "a=1:x:3", "a=1:2:0", "a=[1, 2]", "a=2,3,2"])
def test_parse_vary_refuses_malformed_text(text: str) -> None:
    with pytest.raises(ScenarioError, match="--vary"):
        parse_vary(text)


def test_integer_fields_get_rounded_values_and_say_so(small: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    path, values = parse_vary("resources.dev.headcount=2:3:3")  # 2, 2.5, 3
    table = sweep(small, path, values, replications=1, jobs=1, policies=["base"])
    assert list(table[path]) == [2, 3]  # 2.5 rounds half up to 3, a duplicate
    # 2.5 and 3 both give 3: the warning says the three values gave two points
    assert "values rounded to 2, 3 (3 values given, 2 points run)" in caplog.text


def test_grid_is_every_combination_first_path_slowest() -> None:
    axes = axes_of([("a", [1, 2]), ("b", ["x", "y", "z"])], None)
    assert grid(axes) == [{"a": a, "b": b} for a in (1, 2) for b in ("x", "y", "z")]


# --------------------------------------------------------------------------- sweep


def test_sweep_rows_for_every_value_and_policy(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "sw"
    result = invoke("sweep", str(small), "--vary", "resources.dev.headcount=2,3,4", "-n", "3",
                    "-j", "1", "--metric", "mean_cycle_time", "--out", str(out), "--format", "csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns) == ["resources.dev.headcount", "policy", "metric", "mean", "ci_low",
                                   "ci_high", "n"]
    assert list(table["resources.dev.headcount"]) == [2, 2, 3, 3, 4, 4]
    assert list(table["policy"]) == ["base", "focused"] * 3
    assert (table["n"] == 3).all() and (table["metric"] == "mean_cycle_time").all()
    assert (out / "sweep.png").stat().st_size > 0
    # More developers never slow the portfolio down in this model.
    base = table[table["policy"] == "base"]["mean"].to_numpy()
    assert base[0] >= base[-1]


def test_two_vary_run_the_full_grid(small: Path, tmp_path: Path) -> None:
    # Before, the second --vary silently replaced the first: only 'ana' was swept.
    out = tmp_path / "grid"
    result = invoke("sweep", str(small), "--vary", "resources.dev.headcount=2,4",
                    "--vary", "resources.ana.headcount=1,2,3", "-n", "2", "-j", "1",
                    "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns[:3]) == ["resources.dev.headcount", "resources.ana.headcount", "policy"]
    combos = list(table[["resources.dev.headcount", "resources.ana.headcount"]].itertuples(
        index=False, name=None))
    assert combos == [(d, a) for d in (2, 4) for a in (1, 2, 3) for _ in ("base", "focused")]
    assert (out / "sweep.png").stat().st_size > 1000
    import json
    doc = json.loads(result.stdout)
    assert doc["parameters"] == ["resources.dev.headcount", "resources.ana.headcount"]
    assert len(doc["rows"]) == 12


def test_a_grid_point_is_exactly_a_run_with_those_sets(with_pmo: Path) -> None:
    table = sweep(with_pmo, {"resources.dev.headcount": [2, 3], "pmo.resource_manager.wip_limit": [1, 3]},
                  replications=3, seed=2, jobs=2, policies=["base"])
    sc = pmo_sim.load_scenario(with_pmo, {"resources.dev.headcount": 3,
                                          "pmo.resource_manager.wip_limit": 1})
    plain = pmo_sim.run_experiment(sc, replications=3, seed=2, jobs=1, policies=["base"])
    row = table[(table["resources.dev.headcount"] == 3)
                & (table["pmo.resource_manager.wip_limit"] == 1)].iloc[0]
    assert row["mean"] == pytest.approx(plain.replications["npv"].mean(), rel=1e-12)


def test_sweep_accepts_a_scenario_object_and_pmo_paths_reach_inheriting_policies(
        with_pmo: Path) -> None:
    sc = pmo_sim.load_scenario(with_pmo)
    kwargs = dict(replications=2, seed=1, jobs=1, metric="avg_wip")
    from_object = sweep(sc, "pmo.resource_manager.wip_limit", [1, 3], **kwargs)  # type: ignore[arg-type]
    from_file = sweep(with_pmo, "pmo.resource_manager.wip_limit", [1, 3], **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(from_object, from_file)
    # 'base' inherits the WIP limit from pmo, 'focused' sets its own (2): only base moves.
    focused = from_file[from_file["policy"] == "focused"]["mean"].to_numpy()
    base = from_file[from_file["policy"] == "base"]["mean"].to_numpy()
    assert focused[0] == focused[1] and base[0] != base[1]


def test_sweep_is_crn_and_independent_of_jobs(small: Path) -> None:
    kwargs = dict(metric="npv", replications=4, seed=5, policies=["focused"])
    one = sweep(small, "resources.dev.headcount", [2, 3], jobs=1, **kwargs)  # type: ignore[arg-type]
    two = sweep(small, "resources.dev.headcount", [2, 3], jobs=2, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(one, two)
    # The point at headcount 3 is exactly a plain run with --set headcount=3 and the same seed.
    sc = pmo_sim.load_scenario(small, {"resources.dev.headcount": 3})
    plain = pmo_sim.run_experiment(sc, replications=4, seed=5, jobs=1, policies=["focused"])
    assert one["mean"].iloc[1] == pytest.approx(plain.replications["npv"].mean(), rel=1e-12)


@pytest.mark.parametrize("vary, named", [
    ("resources.devs.headcount=2,3", "resources.devs.headcount"),
    ("resources.dev.headcount=2,lots", "resources.dev.headcount"),
])
def test_sweep_bad_vary_is_exit_2_naming_it(small: Path, vary: str, named: str) -> None:
    result = invoke("sweep", str(small), "--vary", vary, "-n", "2", "-j", "1")
    assert result.exit_code == 2
    assert "--vary" in result.output and named in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("args, message", [
    (["--vary", "resources.dev.headcount=2,3", "--vary", "resources.dev.headcount=4"],
     "resources.dev.headcount: is varied twice"),
    (["--vary", "resources.dev.headcount=2,3", "--set", "resources.dev.headcount=4"],
     "resources.dev.headcount: is also given with --set"),
    (["--vary", "resources.dev.headcount=2,3,3"], "value 3 is listed twice"),
    (["--vary", "horizon=1:1000:200", "--vary", "warmup=0:10:60"], "the grid has 12,000 points"),
])
def test_sweep_refuses_what_it_would_drop(small: Path, args: list[str], message: str) -> None:
    result = invoke("sweep", str(small), *args, "-n", "1", "-j", "1")
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_sweep_combination_problems_are_reported_before_running(small: Path) -> None:
    # Each value is valid alone; warmup 150 with horizon 100 is not.
    result = invoke("sweep", str(small), "--vary", "horizon=100,300", "--vary", "warmup=0,150",
                    "-n", "1", "-j", "1")
    assert result.exit_code == 2, result.output
    assert "horizon=100, warmup=150" in result.output


def test_sweep_unknown_metric_is_exit_2(small: Path) -> None:
    result = invoke("sweep", str(small), "--vary", "resources.dev.headcount=2", "--metric", "nvp")
    assert result.exit_code == 2 and "unknown metric 'nvp'" in result.output


def test_progress_counts_the_replications_of_every_point(small: Path) -> None:
    calls: list[tuple[int, int]] = []
    sweep(small, {"resources.dev.headcount": [2, 3], "resources.ana.headcount": [1, 2]}, replications=3,
          jobs=1, policies=["base"], progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 12) and calls[-1] == (12, 12)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def _synthetic(params: dict[str, list[object]], policies: list[str]) -> pd.DataFrame:
    rows = [{**point, "policy": p, "metric": "npv", "mean": 1e6 * (i + 1), "ci_low": 0.9e6 * (i + 1),
             "ci_high": 1.1e6 * (i + 1), "n": 5}
            for i, point in enumerate(grid(params)) for p in policies]
    return pd.DataFrame(rows)


def test_figures_speak_units_and_lay_out_every_point() -> None:
    from pmo_sim.analysis.plots import money_text, sweep_figure

    assert money_text(1_234_567, "EUR") == "EUR 1.23M" and money_text(-52_000, "CHF") == "CHF -52k"
    one = sweep_figure(_synthetic({"a": [1, 2, 3]}, ["p", "q"]), currency="CHF")
    ax = one.axes[0]
    assert ax.get_ylabel().startswith("NPV (CHF)")
    assert ax.yaxis.get_major_formatter()(2.5e6, 0) == "CHF 2.5M"  # no 1e6 offset
    two = sweep_figure(_synthetic({"a": [1, 2], "b": ["x", "y", "z"]}, ["p", "q", "r", "s"]))
    panels = [a for a in two.axes if a.get_visible() and a.images]
    assert len(panels) == 4  # a heat map per policy
    three = sweep_figure(_synthetic({"a": [1, 2], "b": [1, 2], "c": [5, 6, 7]}, ["p", "q"]))
    panels = [a for a in three.axes if a.images]
    assert len(panels) == 6  # 3 values of c x 2 policies
    assert panels[0].get_title() == "p\nc=5"


# --------------------------------------------------------------------------- trace


def test_trace_writes_the_task_log_and_a_gantt_chart(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "tr"
    result = invoke("trace", str(small), "--policy", "focused", "--replication", "2", "--seed", "4",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Value delivered" in result.output
    log = pd.read_csv(out / "trace-focused-r2.csv")
    one = pmo_sim.simulate(pmo_sim.load_scenario(small), policy="focused", seed=4, replication=2)
    assert len(log) > 0
    pd.testing.assert_frame_equal(log, one.tasks, check_dtype=False)
    assert (out / "trace-focused-r2.png").stat().st_size > 1000


def test_trace_csv_on_stdout(small: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["trace", str(small), "--policy", "base", "--replication",
                                       "0", "--out", str(tmp_path), "--format", "csv"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "project,task,pool,ready,start,finish,effort,crew,people"


def test_trace_unknown_policy_is_exit_2(small: Path, tmp_path: Path) -> None:
    result = invoke("trace", str(small), "--policy", "nope", "--replication", "0",
                    "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "unknown policy 'nope'" in result.output and "base, focused" in result.output


CAPACITY = Path(__file__).resolve().parents[1] / "scenarios" / "capacity.yaml"


@pytest.mark.parametrize("policy", list(pmo_sim.load_scenario(CAPACITY).policy_names))
def test_every_policy_of_the_capacity_scenario_traces(tmp_path: Path, policy: str) -> None:
    # contractors (named <pool>-c<n>) once stopped the Gantt chart: their numbers did not sort
    # with the staff's
    result = CliRunner().invoke(main, ["trace", str(CAPACITY), "--policy", policy, "--replication", "0",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    log = pd.read_csv(tmp_path / f"trace-{policy}-r0.csv")
    assert len(log) > 0 and (tmp_path / f"trace-{policy}-r0.png").stat().st_size > 1000


def test_people_come_by_pool_staff_then_contractors_in_number_order() -> None:
    from pmo_sim.analysis.plots import people_by_pool

    crews = ["testers-c10", "dev-2,dev-10", "testers-c2", "testers-1", "dev-1.1", "dev-1"]
    tasks = pd.DataFrame({"crew": crews, "pool": [c.split("-")[0] for c in crews]})
    assert [p for _, p in people_by_pool(tasks)] == [
        "testers-1", "testers-c2", "testers-c10", "dev-1", "dev-1.1", "dev-2", "dev-10"]


def test_a_trace_where_no_task_starts_draws_an_empty_chart_quietly(tmp_path: Path) -> None:
    # before: matplotlib's "Attempting to set identical low and high ylims" on stderr
    import warnings

    scenario = tmp_path / "late.yaml"
    scenario.write_text("name: late\nhorizon: 100\nresources: {dev: {headcount: 2, day_rate: 100}}\n"
                        "projects: [{name: A, arrival: 100, tasks: [{name: t, skill: dev, effort: 5}]}]\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = CliRunner().invoke(main, ["trace", str(scenario), "--policy", "default",
                                           "--replication", "0", "--out", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t" / "trace-default-r0.png").stat().st_size > 1000
