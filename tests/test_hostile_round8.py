"""Edges an eighth hostile-input probe found.

- ``load_scenario(..., overrides={PATH: VALUE})`` with numpy scalars, as an analyst's notebook
  gives them (a value read from a DataFrame): ``numpy.int64(4)`` for a headcount was refused
  as "expected a whole number (got 4)", ``numpy.bool_(True)`` for the horizon was taken as a
  horizon of 1 day (Python's ``True`` is refused), and ``numpy.str_("x")`` for a name was a
  TypeError "a string or stream input is required" from the YAML reader. Numpy integers are
  integers and numpy booleans booleans now, and a text subclass is read as its text;
- ``fit H --out F/arrivals.png --figures F``: the fragment was written, then replaced by the
  arrivals figure (exit 0, "fragment: F/arrivals.png", no fragment anywhere), even without
  --force; and ``fit F/arrivals.png --figures F --force`` (a history under a figure's name)
  replaced the history it read with a figure. Both are refused first now (exit 2), nothing
  written;
- ``sweep F/sweep.csv --out F --force`` (and ``sensitivity`` of ``F/sensitivity.csv``,
  ``trace`` of ``F/trace-fifo-r0.csv``, or any of their figures): the scenario the study read
  was replaced by the study's table, exit 0. Refused first now, as ``fit H --out H`` is;
- ``roi F/summary.csv --out F --force`` (or F/manifest.json, F/roi.json...): the scenario was
  replaced by the results folder's file, exit 0; ``run`` already refused it. Refused first
  now, for the results folder's own files and roi's (roi.json, roi.csv, roi.png);
- ``run -n 2 --max-replications 5`` or ``run --paired`` without ``--precision``: the option was
  ignored, exit 0 (the run made its -n replications, with no word that the cap or the pairing
  meant nothing). Refused now, saying they belong to a --precision run;
- ``sensitivity --samples 7`` with the tornado method (the default): ignored, exit 0, a
  tornado of two points per factor whatever the samples. Refused now: tornado takes no
  samples;
- ``export R --ema DIR --baseline NAME``: the baseline (only the workbook's comparison has
  one) was ignored, even a name no policy has; exit 0. Refused now without --xlsx;
- ``pmo-sim new .`` (or ``..``) wrote a hidden file ``..yaml`` (``...yaml``) of a scenario
  named "." that ``ls`` does not show; refused now as a name that is no file name;
- the Python API's metrics: ``Results.compare(metrics="npv")`` was read as the metrics n, p,
  v ("unknown metrics 'n', 'p', 'v'"), ``verdict(metric=["npv"])`` said "unhashable type:
  'list'", ``summary(table, 5)`` and ``render_report(res, metrics=5)`` "'int' object is not
  iterable", and ``verdict(currency=["EUR"])`` printed amounts in "['EUR']". One name is one
  metric now, and the others are TypeErrors naming the argument;
- ``sensitivity(..., method="morris", samples=4.9)`` ran 4 trajectories (the samples cut to a
  whole number without a word) and ``samples=True`` said "at least 2 (got 1)"; a TypeError
  naming samples now, as run_experiment's replications;
- ``run_experiment(..., out=R, force="no")`` (or ``resume="no"``, ``Results.save(R,
  force="false")``, ``write_report(res, F, force="no")``): any text is true, so an existing
  results folder (or report) was overwritten. The
  flags are True or False now (a TypeError naming the flag otherwise), nothing touched;
- ``sweep --vary horizon=100:200:1``: one step is LOW alone, so the sweep ran horizon 100 and
  dropped the HIGH given without a word. Refused now unless LOW = HIGH (as frontier's
  ``--budget`` already was);
- ``run_experiment(sc, policies=[])`` (or a study's): an empty list, a filter that leaves no
  policy, ran every policy. Refused now (None is all of them);
- ``compare R --delta 1e308``: the header line ("s: 2 policies x 5 replications...") was
  printed on stdout before the error; the delta is checked first now, nothing on stdout;
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from test_hostile_round3 import invoke

import pmo_sim as ps
from pmo_sim.cli import main

QUEUE = Path(__file__).parent.parent / "scenarios" / "queue_mmc.yaml"


def test_numpy_scalars_in_overrides_are_the_python_values_they_hold() -> None:
    sc = ps.load_scenario(QUEUE, overrides={"resources.people.headcount": np.int64(4),
                                            "horizon": np.float32(1500.0),
                                            "name": np.str_("numpy_name")})
    assert sc.resources["people"].headcount == 4
    assert sc.horizon == 1500.0
    assert sc.name == "numpy_name"
    with pytest.raises(ps.ScenarioError, match=r"horizon: expected a number, not true/false"):
        ps.load_scenario(QUEUE, overrides={"horizon": np.bool_(True)})


def test_numpy_scalars_in_scenario_data_are_the_python_values_they_hold() -> None:
    from pmo_sim.scenario.loader import scenario_from_dict
    data: dict[str, Any] = {
        "name": np.str_("data"), "horizon": np.int64(100),
        "resources": {"people": {"headcount": np.uint8(2), "day_rate": np.float32(500)}},
    }
    sc = scenario_from_dict(data)
    assert (sc.name, sc.horizon, sc.resources["people"].headcount) == ("data", 100, 2)
    with pytest.raises(ps.ScenarioError, match=r"horizon: expected a number, not true/false"):
        scenario_from_dict({**data, "horizon": np.bool_(True)})


HISTORY = Path(__file__).parent.parent / "scenarios" / "history" / "tasks.csv"


@pytest.mark.parametrize("force", [True, False])
def test_fit_never_writes_a_figure_over_its_fragment(tmp_path: Path, force: bool) -> None:
    figures = tmp_path / "figures"
    out = figures / "arrivals.png"
    code, text = invoke("fit", str(HISTORY), "--out", str(out), "--figures", str(figures),
                        *(["--force"] if force else []))
    assert code == 2, text
    assert f"{out}: is also the figure arrivals.png this command writes" in text
    assert "Traceback" not in text
    assert not figures.exists()


def test_fit_never_writes_a_figure_over_the_history_it_reads(tmp_path: Path) -> None:
    figures = tmp_path / "figures"
    figures.mkdir()
    history = figures / "arrivals.png"
    history.write_bytes(HISTORY.read_bytes())
    code, text = invoke("fit", str(history), "--out", str(tmp_path / "f.yaml"),
                        "--figures", str(figures), "--force")
    assert code == 2, text
    assert f"is the input file {history} this command reads: writing there would destroy it" in text
    assert history.read_bytes() == HISTORY.read_bytes()
    assert not (tmp_path / "f.yaml").exists()


QUEUE_LOW = ["--set", "horizon=300", "--set", "warmup=0"]


@pytest.mark.parametrize(("command", "name", "options"), [
    ("sweep", "sweep.csv", ["--vary", "resources.people.headcount=3,4", "-n", "1", "-j", "1", "-q"]),
    ("sweep", "sweep.png", ["--vary", "resources.people.headcount=3,4", "-n", "1", "-j", "1", "-q"]),
    ("sensitivity", "sensitivity.csv", ["--vary", "resources.people.headcount=3:4", "--metric", "npv",
                                        "-n", "2", "-j", "1", "-q"]),
    ("frontier", "frontier.png", ["--budget", "0:1e6:2", "-n", "1", "-j", "1", "-q"]),
    ("trace", "trace-fifo-r0.csv", ["--policy", "fifo", "--replication", "0"]),
])
def test_a_study_never_writes_over_the_scenario_it_reads(tmp_path: Path, command: str, name: str,
                                                         options: list[str]) -> None:
    scenario = tmp_path / name
    scenario.write_bytes(QUEUE.read_bytes())
    code, text = invoke(command, str(scenario), *options, *QUEUE_LOW, "--out", str(tmp_path), "--force")
    assert code == 2, text
    assert f"is the input file {scenario} this command reads: writing there would destroy it" in text
    assert scenario.read_bytes() == QUEUE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


TRAINING = Path(__file__).parent.parent / "scenarios" / "training.yaml"


@pytest.mark.parametrize("name", ["summary.csv", "manifest.json", "roi.json", "roi.png"])
def test_roi_force_never_writes_over_the_scenario_it_runs(tmp_path: Path, name: str) -> None:
    scenario = tmp_path / name
    scenario.write_bytes(TRAINING.read_bytes())
    code, text = invoke("roi", str(scenario), "--policy", "upskill", "--programme", "dev-course",
                        "-n", "2", "-j", "1", "-q", "--set", "horizon=100", "--set", "warmup=0",
                        "--out", str(tmp_path), "--force")
    assert code == 2, text
    assert f"--force would replace or delete the scenario file {scenario}" in text
    assert scenario.read_bytes() == TRAINING.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("options", [["--max-replications", "5"], ["--paired"]])
def test_precision_options_without_a_precision_target_are_refused(tmp_path: Path,
                                                                  options: list[str]) -> None:
    out = tmp_path / "out"
    code, text = invoke("run", str(QUEUE), "-n", "2", "-j", "1", "-q", *QUEUE_LOW, *options,
                        "--out", str(out))
    assert code == 2, text
    assert f"{options[0]} applies to a --precision run only" in text
    assert not out.exists()
    with pytest.raises(ps.UsageError, match="--paired applies to a --precision run only"):
        ps.run_experiment(ps.load_scenario(QUEUE), replications=2, jobs=1, paired=True)


def test_samples_for_a_tornado_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = invoke("sensitivity", str(QUEUE), "--vary", "resources.people.headcount=3:4",
                        "--metric", "npv", "--samples", "7", "-n", "2", "-j", "1", "-q", *QUEUE_LOW,
                        "--out", str(out))
    assert code == 2, text
    assert "--samples is for morris and sobol: a tornado runs each --vary at LOW and HIGH" in text
    assert not out.exists()


def test_export_of_ema_tables_only_refuses_a_baseline(tiny_results: Path, tmp_path: Path) -> None:
    out = tmp_path / "ema"
    code, text = invoke("export", str(tiny_results), "--ema", str(out), "--baseline", "nope")
    assert code == 2, text
    assert "--baseline is for the workbook's comparison (--xlsx)" in text
    assert not out.exists()


@pytest.mark.parametrize("name", [".", "..", "...", "..yaml"])
def test_new_refuses_a_name_of_dots(tmp_path: Path, name: str) -> None:
    code, text = invoke("new", name, "--dir", str(tmp_path))
    assert code == 2, text
    assert f"NAME must be a plain file name, not dots only (got {name!r})" in text
    assert list(tmp_path.iterdir()) == []


def test_metrics_and_currency_of_the_wrong_type_are_named(tiny_results: Path) -> None:
    res = ps.load_results(tiny_results)
    assert res.compare(metrics="npv").equals(res.compare(metrics=["npv"]))
    with pytest.raises(TypeError, match=r"metric must be a KPI name \(text\), not list \(\['npv'\]\)"):
        ps.verdict(res.replications, metric=["npv"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"currency must be text, not list"):
        ps.verdict(res.replications, metric="npv", currency=["EUR"])  # type: ignore[arg-type]
    not_names = r"metrics must be KPI names \(text\) or a list of them, not int \(5\)"
    with pytest.raises(TypeError, match=not_names):
        ps.summary(res.replications, 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=not_names):
        ps.render_report(res, metrics=5)  # type: ignore[arg-type]


@pytest.mark.parametrize("samples", [4.9, True, "4"])
def test_sensitivity_samples_that_are_not_whole_numbers_are_refused(samples: Any) -> None:
    with pytest.raises(TypeError, match=rf"samples must be an integer, not {type(samples).__name__}"):
        ps.sensitivity(ps.load_scenario(QUEUE), {"resources.people.headcount": (3, 4)},
                       method="morris", samples=samples, replications=1, jobs=1)


@pytest.mark.parametrize("flag", ["force", "resume", "paired"])
def test_run_experiment_flags_given_as_text_are_refused(tiny_results: Path, flag: str) -> None:
    before = {p.name: p.read_bytes() for p in tiny_results.iterdir() if p.is_file()}
    sc = ps.load_scenario(tiny_results.parent / "s.yaml")
    with pytest.raises(TypeError, match=rf"{flag} must be True or False, not str \('no'\)"):
        ps.run_experiment(sc, replications=3, jobs=1, out=tiny_results, **{flag: "no"})
    with pytest.raises(TypeError, match=r"force must be True or False, not str \('false'\)"):
        ps.load_results(tiny_results).save(tiny_results.parent / "copy", force="false")  # type: ignore[arg-type]
    assert {p.name: p.read_bytes() for p in tiny_results.iterdir() if p.is_file()} == before
    assert not (tiny_results.parent / "copy").exists()
    page = tiny_results.parent / "page.html"
    page.write_text("mine")
    with pytest.raises(TypeError, match=r"force must be True or False, not str \('no'\)"):
        ps.write_report(ps.load_results(tiny_results), page, force="no")  # type: ignore[arg-type]
    assert page.read_text() == "mine"


def test_a_sweep_of_one_step_between_two_ends_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = invoke("sweep", str(QUEUE), "--vary", "resources.people.headcount=3:5:1",
                        "-n", "1", "-j", "1", "-q", *QUEUE_LOW, "--out", str(out))
    assert code == 2, text
    assert "one step gives LOW alone: give 2 steps or more to reach HIGH" in text
    assert not out.exists()
    from pmo_sim.experiment.sweep import parse_vary
    assert parse_vary("horizon=300:300:1") == ("horizon", [300])


def test_an_empty_list_of_policies_is_refused() -> None:
    sc = ps.load_scenario(QUEUE)
    with pytest.raises(ps.UsageError, match=r"policies is an empty list: give at least one name"):
        ps.run_experiment(sc, replications=1, jobs=1, policies=[])
    with pytest.raises(ps.UsageError, match=r"policies is an empty list"):
        ps.sweep(sc, {"resources.people.headcount": [3, 4]}, replications=1, jobs=1, policies=())


def test_compare_refuses_a_delta_out_of_range_before_printing(tmp_path: Path) -> None:
    sc = ps.load_scenario(QUEUE, overrides={"horizon": 300, "warmup": 0})
    ps.run_experiment(sc, replications=2, jobs=1, out=tmp_path / "r")
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "r"), "--delta", "1e308"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "the indifference zone delta must be positive, between 1e-150 and 1e+150" in result.stderr
