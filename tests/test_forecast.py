"""Forecasts (SPEC 10.6): "when will it land, P80?".

The percentiles are checked against numpy's quantiles of ``projects.parquet`` on a real results
folder; "> horizon", P(on time) and the other chances on small tables worked out by hand; dates
(working days, holidays) on a deterministic run dated by hand; then the command line's formats
and bad names, the report's section and figure, and the Excel sheet.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

import pmo_sim
from pmo_sim.analysis.forecast import forecast, landing_date, shown
from pmo_sim.analysis.report import render_report
from pmo_sim.analysis.report_forecast import MAX_ROWS, _figure_rows
from pmo_sim.cli import main
from pmo_sim.errors import UsageError
from pmo_sim.experiment import Results, load_results, run_experiment
from pmo_sim.io.excel import write_workbook
from pmo_sim.scenario.calendar import date_of
from pmo_sim.scenario.loader import load_scenario_text

# Alpha (two sequential tasks of 10..60 days) completes in about half of the futures by the
# horizon, Beta in all of them; the stage gate of `gated` cancels most of Alpha.
LANDING_YAML = """\
name: landing
horizon: 55
calendar:
  start_date: 2027-01-04
  holidays: [2027-01-08]
resources:
  dev: {headcount: 3, day_rate: 500}
projects:
  - name: Alpha
    due: 45
    tasks:
      - {name: build, skill: dev, effort: {dist: triangular, low: 10, mode: 10, high: 60}}
      - {name: test, skill: dev, effort: {dist: triangular, low: 10, mode: 10, high: 60}, after: [build]}
  - name: Beta
    arrival: 5
    due: {dist: uniform, low: 30, high: 50}
    tasks:
      - {name: build, skill: dev, effort: {dist: uniform, low: 20, high: 45}}
intake:
  arrivals: {dist: exponential, mean: 10}
  count: 6
  templates:
    - name: small
      due: 15
      tasks: [{name: do, skill: dev, effort: {dist: uniform, low: 3, high: 12}}]
policies:
  plain: {}
  gated:
    governance: {stage_gate: {at_progress: 0.5, cancel_if_overrun: 1.5}}
"""
START = dt.date(2027, 1, 4)   # a Monday


def invoke(*args: str, columns: int = 80) -> Result:
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(main, list(args))


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Results:
    folder = tmp_path_factory.mktemp("forecast") / "run"
    run_experiment(load_scenario_text(LANDING_YAML), replications=30, seed=5, jobs=1, out=folder)
    return load_results(folder)


def frame(rows: list[tuple[str, str, str, float, float]], policy: str = "p") -> pd.DataFrame:
    """A projects table of (project, template, status, finish, due_date) rows."""
    return pd.DataFrame([{"policy": policy, "replication": i, "project": p, "template": t,
                          "status": s, "finish": f, "due_date": d, "counted": True}
                         for i, (p, t, s, f, d) in enumerate(rows)])


# --------------------------------------------------------------------------- percentiles


def test_percentiles_are_numpy_quantiles_of_the_parquet_finish_days(landing: Results) -> None:
    # numpy's "inverted_cdf" (Hyndman-Fan 1): the smallest finish day reached by a share q
    # of the replications; a replication that did not complete counts as +inf.
    parquet = pd.read_parquet(landing.path / "projects.parquet")   # type: ignore[operator]
    table = landing.forecast()
    assert list(zip(table["policy"], table["kind"], table["name"], strict=True)) == [
        (p, k, n) for p in ("plain", "gated")
        for k, n in (("project", "Alpha"), ("project", "Beta"), ("template", "small"))]
    for row in table.to_dict("records"):
        rows = parquet[parquet["policy"] == row["policy"]]
        rows = (rows[(rows["template"] == "") & (rows["project"] == row["name"])]
                if row["kind"] == "project" else rows[(rows["template"] == row["name"]) & rows["counted"]])
        days = np.where(rows["status"] == "completed", rows["finish"], np.inf)
        expected = np.quantile(days, [0.1, 0.5, 0.8, 0.9], method="inverted_cdf")
        assert [row["p10"], row["p50"], row["p80"], row["p90"]] == expected.tolist()
        assert row["n"] == len(rows) and row["p_completed"] == np.mean(rows["status"] == "completed")
    alpha = table[(table["policy"] == "plain") & (table["name"] == "Alpha")].iloc[0]
    assert 0.5 < alpha["p_completed"] < 0.8                     # so its P80 is not reached
    assert math.isfinite(alpha["p50"]) and alpha["p80"] == math.inf and alpha["p80_date"] is None
    gated = table[(table["policy"] == "gated") & (table["name"] == "Alpha")].iloc[0]
    assert gated["p_cancelled"] > 0.5 and gated["p50"] == math.inf


def test_a_percentile_beyond_the_completed_share_is_not_reached() -> None:
    # 10 futures, 7 completed on days 1..7: P10 is the 1st finish, P50 the 5th; P80 would be
    # the 8th, which never happened.
    rows = [("A", "", "completed", float(d), math.nan) for d in range(7, 0, -1)] \
        + [("A", "", "open", math.nan, math.nan)] * 3
    row = forecast(frame(rows), horizon=10).iloc[0]
    assert (row["p10"], row["p50"], row["p80"], row["p90"]) == (1.0, 5.0, math.inf, math.inf)
    assert shown(row["p80"]) == "> horizon" and shown(row["p50"]) == "day 5"
    assert shown(row["p50"], START) == "2027-01-04"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 500.0), st.sampled_from(
    ["completed", "completed", "open", "backlog", "cancelled", "rejected", "proposal"])),
    min_size=1, max_size=40))
def test_percentiles_match_numpy_and_are_reached_exactly_when_enough_completed(
        draws: list[tuple[float, str]]) -> None:
    table = frame([("A", "", s, f, math.nan) for f, s in draws])
    row = forecast(table, horizon=500).iloc[0]
    days = np.array([f if s == "completed" else np.inf for f, s in draws])
    done = int(np.isfinite(days).sum())
    for q in (10, 50, 80, 90):
        assert row[f"p{q}"] == np.quantile(days, q / 100, method="inverted_cdf")
        assert (row[f"p{q}"] < math.inf) == (done >= math.ceil(q * len(draws) / 100))
    assert row["p10"] <= row["p50"] <= row["p80"] <= row["p90"]
    assert row["p_completed"] + row["p_cancelled"] + row["p_rejected"] + row["p_unfinished"] \
        == pytest.approx(1.0)


# --------------------------------------------------------------------------- chances


def test_chances_worked_out_by_hand() -> None:
    rows = [("A", "", "completed", 8.0, 10.0),     # on time
            ("A", "", "completed", 10.0, 10.0),    # on time: finish <= due, as the KPI
            ("A", "", "completed", 12.0, 10.0),    # late
            ("A", "", "open", math.nan, 10.0),     # not finished: not on time
            ("A", "", "completed", 9.0, math.nan),  # no due date: left out of P(on time)
            ("A", "", "cancelled", 3.0, 10.0),     # cancelled early is not "on time"
            ("A", "", "rejected", 2.0, 10.0),
            ("A", "", "proposal", math.nan, 10.0),  # waiting for funds: unfinished
            ("t-1", "t", "completed", 4.0, 5.0),
            ("t-2", "t", "completed", 6.0, 5.0),
            ("t-3", "t", "completed", 1.0, 9.0)]   # arrived in the warm-up: not counted
    table = frame(rows)
    table.loc[10, "counted"] = False
    out = forecast(table, horizon=20, by=10).set_index("name")
    a, t = out.loc["A"], out.loc["t"]
    assert a["n"] == 8 and a["p_on_time"] == 2 / 7 and a["due"] == 10.0
    assert a["p_by"] == 3 / 8 and a["by"] == 10.0                 # 8, 10 and 9
    assert (a["p_completed"], a["p_cancelled"], a["p_rejected"], a["p_unfinished"]) == (
        4 / 8, 1 / 8, 1 / 8, 2 / 8)
    # finish days sorted: 8, 9, 10, 12, inf x 4 -> P10 = 1st, P50 = 4th, P80 = 7th
    assert (a["p10"], a["p50"], a["p80"]) == (8.0, 12.0, math.inf)
    assert t["n"] == 2 and t["p_on_time"] == 0.5 and math.isnan(t["due"])
    assert (t["p10"], t["p50"], t["p90"]) == (4.0, 4.0, 6.0)


def test_rows_follow_the_names_asked_for_and_unknown_names_are_refused() -> None:
    rows = [("A", "", "completed", 1.0, math.nan), ("B", "", "completed", 2.0, math.nan),
            ("t-1", "t", "completed", 3.0, math.nan)]
    table = frame(rows)
    assert forecast(table, horizon=5)["name"].tolist() == ["A", "B", "t"]
    assert forecast(table, horizon=5, order=["t", "B"])["name"].tolist() == ["B", "A", "t"]
    assert forecast(table, horizon=5, projects=["B", "A"])["name"].tolist() == ["B", "A"]
    assert forecast(table, horizon=5, templates=["t"])["kind"].tolist() == ["template"]
    for kwargs, message in [({"projects": ["C"]}, "unknown project 'C'; the results have: A, B"),
                            ({"projects": ["t-1"]}, "'t-1' is a generated project"),
                            ({"templates": ["u"]}, "unknown template 'u'; the results have: t"),
                            ({"policy": "q"}, "unknown policy 'q'; the results have: p"),
                            ({"by": 6}, "beyond the horizon"), ({"by": -1}, "from 0 to the horizon"),
                            ({"by": "2027-01-05"}, "no calendar.start_date"),
                            ({"by": "soon"}, "neither a day number nor a date")]:
        with pytest.raises(UsageError, match=re.escape(message)):
            forecast(table, horizon=5, **kwargs)
    assert forecast(table.iloc[:0], horizon=5).empty
    generated_only = table.iloc[2:]
    with pytest.raises(UsageError, match=re.escape(
            "unknown project 'A': the scenario names no projects, its projects are generated "
            "from templates (t); ask for a template instead")):
        forecast(generated_only, horizon=5, projects=["A"])
    with pytest.raises(UsageError, match="'t-1' is a generated project"):
        forecast(generated_only, horizon=5, projects=["t-1"])


# --------------------------------------------------------------------------- dates


def test_landing_dates_by_hand() -> None:
    friday = [dt.date(2027, 1, 8)]
    assert landing_date(2.5, START) == dt.date(2027, 1, 6)     # during day 2, a Wednesday
    assert landing_date(5.0, START) == dt.date(2027, 1, 8)     # days 0-4 worked: Friday
    assert landing_date(5.0, START, friday) == dt.date(2027, 1, 7)   # nobody works that Friday
    assert landing_date(7.0, START) == dt.date(2027, 1, 12)    # day 6: the Tuesday after
    assert landing_date(9.3, START) == dt.date(2027, 1, 15)
    assert landing_date(0.0, START) == START and landing_date(math.inf, START) is None


@given(st.floats(0.0, 2000.0))
def test_landing_dates_agree_with_the_scenario_calendar(day: float) -> None:
    # The date of a moment is the day it falls in; an end at a whole day closes the day before.
    expected = date_of(START, day) if day != math.floor(day) or day == 0 else date_of(START, day - 1)
    assert landing_date(day, START) == expected


def test_dates_of_a_run_with_a_holiday(tmp_path: Path) -> None:
    # Five days of work from Monday 2027-01-04 with Wednesday 6th a holiday: Mon, Tue, Thu,
    # Fri, Mon. The project finishes at 6.0 and lands on Monday 2027-01-11, its due date.
    text = """\
name: dated
horizon: 20
calendar: {start_date: 2027-01-04, holidays: [2027-01-06]}
resources: {dev: {headcount: 1, day_rate: 500}}
projects:
  - {name: Five, due: 6, tasks: [{name: t, skill: dev, effort: 5}]}
"""
    run_experiment(load_scenario_text(text), replications=2, seed=0, jobs=1, out=tmp_path / "r")
    res = load_results(tmp_path / "r")
    row = res.forecast().iloc[0]
    assert row["p50"] == 6.0 and row["p50_date"] == dt.date(2027, 1, 11)
    assert row["due_on"] == dt.date(2027, 1, 11) and row["p_on_time"] == 1.0
    for by, chance in [("2027-01-08", 0.0), ("2027-01-10", 0.0), ("2027-01-11", 1.0),
                       (5.5, 0.0), ("6", 1.0), (dt.date(2027, 1, 11), 1.0)]:
        assert res.forecast(by=by).iloc[0]["p_by"] == chance, by
    with pytest.raises(UsageError, match="before the start date"):
        res.forecast(by="2027-01-01")
    assert pmo_sim.forecast(res, by=6).equals(res.forecast(by=6)) and "forecast" in dir(pmo_sim)


# --------------------------------------------------------------------------- command line


def test_table_fits_80_columns_and_says_not_reached(landing: Results) -> None:
    result = invoke("forecast", str(landing.path))
    assert result.exit_code == 0, result.output
    assert not [line for line in result.output.splitlines() if cell_len(line) > 80]
    assert "When will it land? landing" in result.output and "small *" in result.output
    wide = invoke("forecast", str(landing.path), "--policy", "plain", "--by", "2027-02-26",
                  columns=160)
    alpha = next(line for line in wide.output.splitlines() if line.strip().startswith("Alpha"))
    row = landing.forecast(policy="plain", projects=["Alpha"]).iloc[0]
    cells = re.split(r"\s{2,}", alpha.strip())
    assert cells[1:4] == [row["p50_date"].isoformat(), "> horizon", "> horizon"]
    assert cells[4] == "2027-03-05" and "by 2027-02-26" in wide.output   # due day 45


def test_json_and_csv_hold_every_column(landing: Results) -> None:
    table = landing.forecast(by=40)
    doc = json.loads(invoke("forecast", str(landing.path), "--by", "40", "--format", "json").output)
    assert doc["horizon"] == 55 and doc["start_date"] == "2027-01-04" and doc["by"] == 40
    assert len(doc["forecasts"]) == len(table) and doc["units"]["p80_date"] == "date"
    for got, want in zip(doc["forecasts"], table.to_dict("records"), strict=True):
        for column, value in want.items():
            if isinstance(value, dt.date):
                assert got[column] == value.isoformat()
            elif isinstance(value, float) and not math.isfinite(value):
                assert got[column] is None, column
            else:
                assert got[column] == value, column
    csv = pd.read_csv(io.StringIO(invoke("forecast", str(landing.path), "--by", "40",
                                         "--format", "csv").output))
    assert list(csv.columns) == list(table.columns)
    numbers = [c for c in table.columns if c not in ("policy", "kind", "name") and "_date" not in c
               and c != "due_on"]
    pd.testing.assert_frame_equal(csv[numbers], table[numbers], check_dtype=False)
    assert csv["p80_date"].fillna("").tolist() == [d.isoformat() if d else "" for d in table["p80_date"]]


@pytest.mark.parametrize("args, message", [
    (["--project", "Gamma"], "unknown project 'Gamma'; the results have: Alpha, Beta"),
    (["--project", "small-1"], "'small-1' is a generated project"),
    (["--template", "big"], "unknown template 'big'; the results have: small"),
    (["--policy", "strict"], "unknown policy 'strict'; the results have: plain, gated"),
    (["--by", "soon"], "'soon' is neither a day number nor a date"),
    (["--by", "99"], "day 99 is beyond the horizon (day 55)"),
    (["--by", "2026-12-31"], "before the start date, 2027-01-04"),
    (["--format", "xml"], "'xml' is not one of"),
])
def test_bad_names_and_days_are_exit_2(landing: Results, args: list[str], message: str) -> None:
    result = invoke("forecast", str(landing.path), *args)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- report and Excel


def test_report_section_and_figure(landing: Results) -> None:
    html = render_report(landing)
    assert 'id="forecast"' in html and "When will it land?" in html
    assert "&gt; horizon" in html and "2027-03-05" in html          # Alpha's P80; its due date
    assert 'aria-label="When each project lands"' in html
    assert html.index('id="distributions"') < html.index('id="forecast"') < html.index('id="over-time"')
    nothing = Results(landing.replications, landing.projects.iloc[:0], landing.pools,
                      landing.manifest, landing.scenario, landing.path)
    assert 'id="forecast"' not in render_report(nothing)


def test_the_figure_keeps_the_projects_furthest_out() -> None:
    rows = [(f"P{i:02d}", "", "completed", float(i), math.nan) for i in range(50)]
    table = forecast(frame(rows), horizon=60)
    keys, caption = _figure_rows(table, 1)
    assert len(keys) == MAX_ROWS and f"Showing {MAX_ROWS} of 50" in caption
    assert keys == [("project", f"P{i:02d}") for i in range(10, 50)]   # the 40 latest, in order


def test_excel_export_has_the_forecast_sheet(landing: Results, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_workbook(landing, tmp_path / "f.xlsx"))
    assert book.sheetnames[:3] == ["summary", "comparison", "forecast"]
    sheet = pd.read_excel(tmp_path / "f.xlsx", sheet_name="forecast")
    table = landing.forecast()
    assert list(sheet.columns) == list(table.columns)
    # Percentiles not reached read "> horizon" as in the table (SPEC 10.6; Excel has no infinity).
    expected = table["p80"].astype(object).where(table["p80"] != math.inf, "> horizon")
    pd.testing.assert_series_equal(sheet["p80"], expected, check_dtype=False)
    ws = book["forecast"]
    formats = {h.value: c.number_format for h, c in zip(ws[1], ws[2], strict=True)}
    assert formats["p10"] == "0.0" and formats["p_on_time"] == "0.0%"
    assert formats["p10_date"] == formats["due_on"] == "yyyy-mm-dd"
