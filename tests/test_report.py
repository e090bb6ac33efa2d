"""``pmo-sim report``: one self-contained, escaped HTML file with the verdict and figures.

Real runs of a tiny two-policy scenario whose description and one policy name carry markup,
so every test also checks that user text is escaped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

import pmo_sim
from pmo_sim.analysis import format as fmt
from pmo_sim.analysis.report import render_report, write_report
from pmo_sim.analysis.report_figures import completions_curve
from pmo_sim.analysis.report_risks import MAX_ROWS, _figure_rows, _lead
from pmo_sim.analysis.verdict import plain_verdict
from pmo_sim.cli import main
from pmo_sim.errors import UsageError
from pmo_sim.experiment import Results
from pmo_sim.experiment.spec import Seams
from pmo_sim.scenario.loader import load_scenario, load_scenario_text

NASTY = "<script>alert('x')</script>"
POLICIES = ("base", NASTY)
SCENARIO_YAML = f"""\
name: tiny_report
description: "A tiny portfolio {NASTY} & friends"
horizon: 150
resources:
  dev: {{headcount: 3, day_rate: 500}}
  ana: {{headcount: 1, day_rate: 550}}
intake:
  arrivals: {{dist: exponential, mean: 10}}
  count: 8
  templates:
    - name: enh
      due: 40
      value_per_day: {{dist: lognormal, mean: 800, sd: 300}}
      tasks:
        - {{name: spec, skill: ana, effort: {{dist: triangular, low: 2, mode: 4, high: 8}}}}
        - {{name: build, skill: dev, effort: {{dist: pert, low: 5, mode: 10, high: 30}}, after: [spec]}}
policies:
  base: {{}}
  "{NASTY}":
    resource_manager: {{allocation: wsjf, wip_limit: 2}}
"""


class Page(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.tags if t == tag]


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sc") / "tiny_report.yaml"
    path.write_text(SCENARIO_YAML)
    return path


@pytest.fixture(scope="module")
def results(scenario_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Results:
    sc = load_scenario(scenario_file, None)
    return pmo_sim.run_experiment(sc, replications=10, seed=1, jobs=1,
                                  out=tmp_path_factory.mktemp("runs") / "full")


@pytest.fixture(scope="module")
def html(results: Results) -> str:
    return render_report(results)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_report_has_title_verdict_tables_and_figures(results: Results, html: str) -> None:
    page = Page(html)
    assert "Which PMO policy for “tiny_report”? 2 policies compared" in page.text
    assert "A tiny portfolio" in page.text
    for policy in POLICIES:
        assert policy in page.text
    verdict = plain_verdict(results.replications, "npv", currency="EUR")
    assert verdict.headline in page.text and verdict.text in page.text
    assert "Executive summary" in page.text and "Risk: in one simulated future in ten" in page.text
    assert "Headline KPIs" in page.text and "Paired comparison with “base”" in page.text
    assert "P10 · P50 · P90" in page.text and "EUR" in page.text
    assert "How to read this report" in page.text and "Bonferroni" in page.text
    assert "Kim-Nelson" in page.text and "n0 =" in page.text   # the method, not the summary
    sections = [a.get("id") for a in page.named("section")]
    assert sections == ["summary", "kpis", "comparison", "distributions", "forecast", "over-time", "pools",
                        "method", "provenance"]
    figures = page.named("svg")
    assert len(figures) >= 6 and all(f.get("aria-label") for f in figures)
    assert "complete" in page.text and "Partial run" not in page.text
    assert "e+0" not in html and "e-0" not in html.replace("e-0.", "")   # no scientific notation


def test_p_values_and_rates_read_plainly(html: str) -> None:
    text = Page(html).text
    assert "< 0.0001" in text or "0." in text
    assert not re.search(r"\b\d\.\d+e-\d+", text)
    assert re.search(r"\d+\.\d%", text)   # rates as percentages in the KPI table


def test_a_single_policy_report_has_no_comparison(scenario_file: Path, tmp_path: Path) -> None:
    sc = load_scenario(scenario_file, None)
    res = pmo_sim.run_experiment(sc, replications=4, seed=1, jobs=1, policies=["base"])
    page = Page(render_report(res))
    assert "Outlook for “tiny_report” under base" in page.text
    assert "comparison" not in [a.get("id") for a in page.named("section")]


def test_every_policy_losing_money_is_a_warning(scenario_file: Path) -> None:
    text = SCENARIO_YAML.replace("mean: 800, sd: 300", "mean: 5, sd: 2")
    res = pmo_sim.run_experiment(load_scenario_text(text), replications=4, seed=1, jobs=1)
    page = Page(render_report(res))
    assert "Every policy loses money" in page.text
    assert "Best on" not in page.text


def test_report_references_nothing_outside_the_file(html: str) -> None:
    page = Page(html)
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if name in ("src", "href", "xlink:href", "action", "data") and value is not None:
                assert value.startswith(("data:", "#")), (tag, name, value)
    assert "url(" not in html.replace("url(#", "")
    assert "http:" not in html and "https:" not in html and "@import" not in html
    assert not page.named("script") and not page.named("link")


def test_user_text_is_escaped(html: str) -> None:
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert not Page(html).named("script")


def test_partial_results_carry_a_warning_banner(scenario_file: Path, tmp_path: Path) -> None:
    sc = load_scenario(scenario_file, None)
    out = tmp_path / "partial"
    with pytest.raises(KeyboardInterrupt):
        pmo_sim.run_experiment(sc, replications=10, seed=1, jobs=1, chunk_size=2, out=out,
                               command=f"pmo-sim run tiny_report.yaml -n 10 --out {out}",
                               seams=Seams(stop_after_chunks=1))
    res = invoke("report", str(out))
    assert res.exit_code == 0, res.output
    assert "partial run" in res.stderr
    page = Page((out / "report.html").read_text(encoding="utf-8"))
    banners = [a for a in page.named("div") if a.get("class") == "banner"]
    assert banners and "Partial run: 2 of 10" in page.text and "2 of 10 replications" in page.text
    assert "--resume" in page.text


def test_cli_writes_once_and_refuses_to_overwrite_without_force(results: Results) -> None:
    folder = str(results.path)
    first = invoke("report", folder, "--metric", "on_time_rate", "--metric", "npv")
    target = Path(folder) / "report.html"
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == str(target) and target.is_file()
    assert "On-time rate" in Page(target.read_text(encoding="utf-8")).text
    again = invoke("report", folder)
    assert again.exit_code == 2 and "already exists" in again.stderr and "--force" in again.stderr
    assert "Traceback" not in again.output
    forced = invoke("report", folder, "--force", "--baseline", NASTY)
    assert forced.exit_code == 0, forced.output
    assert f"Paired comparison with “{NASTY}”" in Page(target.read_text(encoding="utf-8")).text
    assert not list(Path(folder).glob(".report.html.*"))   # no temporary file left behind


@pytest.mark.parametrize(("args", "message"), [
    (("--metric", "no_such_kpi"), "unknown metric"),
    (("--baseline", "nobody"), "unknown baseline"),
])
def test_cli_refuses_bad_options(results: Results, tmp_path: Path, args: tuple[str, ...],
                                 message: str) -> None:
    res = invoke("report", str(results.path), "--out", str(tmp_path / "r.html"), *args)
    assert res.exit_code == 2 and message in res.stderr and "Traceback" not in res.output
    assert not (tmp_path / "r.html").exists()


def test_cli_refuses_a_folder_that_is_not_results(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    res = invoke("report", str(tmp_path))
    assert res.exit_code == 2 and "not a results folder" in res.stderr
    assert "Traceback" not in res.output and not (tmp_path / "report.html").exists()


def test_write_report_refuses_a_directory(results: Results, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        write_report(results, tmp_path)


def test_completions_curve_counts_counted_completions_per_replication() -> None:
    projects = pd.DataFrame({
        "policy": ["a", "a", "a", "a", "b"],
        "replication": [0, 0, 1, 1, 0],
        "status": ["completed", "completed", "completed", "open", "cancelled"],
        "finish": [5.0, 10.0, 10.0, np.nan, 3.0],
        "counted": [True, False, True, True, True],
    })
    replications = pd.DataFrame({"policy": ["a", "a", "b", "b"], "replication": [0, 1, 0, 1]})
    curve = completions_curve(projects, replications, np.array([0.0, 5.0, 9.9, 10.0]))
    assert curve["a"].tolist() == [0.0, 0.5, 0.5, 1.0]   # (5 in rep 0) then (10 in rep 1), over 2 reps
    assert curve["b"].tolist() == [0.0, 0.0, 0.0, 0.0]   # a cancelled project never counts


# --------------------------------------------------------------------------- which risks hurt most


class RiskTables(HTMLParser):
    """The cells (``th`` and ``td``) of the tables in the ``risks`` section: per table, per row,
    per cell, (text, sub-lines)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.tables: list[list[list[tuple[str, list[str]]]]] = []
        self.cell: list[str] | None = None   # [main text, sub-line, sub-line, ...]
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self.inside = dict(attrs).get("id") == "risks"
        elif self.inside and tag == "table":
            self.tables.append([])
        elif self.inside and tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif self.inside and tag in ("th", "td"):
            self.cell = [""]
        elif self.cell is not None and tag == "span":
            self.cell.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self.cell is not None:
            self.tables[-1][-1].append((self.cell[0], self.cell[1:]))
            self.cell = None
        elif tag == "section":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell[-1] += data


@pytest.fixture(scope="module")
def strategy() -> Results:
    sc = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "strategy.yaml", None)
    return pmo_sim.run_experiment(sc, replications=6, seed=0, jobs=1)


def test_risk_section_shows_the_risk_driver_ranking(strategy: Results) -> None:
    html = render_report(strategy)
    page = Page(html)
    sections = [a.get("id") for a in page.named("section")]
    assert sections.index("risks") == sections.index("forecast") + 1
    drivers = strategy.risk_drivers().set_index(["policy", "risk"])
    tables = RiskTables(html).tables
    assert [len(t[0]) - 2 for t in tables] == [3, 2]   # five policies: three, then two
    worst = drivers.groupby(level="risk", sort=False)["loss"].max().sort_values(ascending=False)
    policies = iter(strategy.policies)
    for table in tables:
        chunk = [next(policies) for _ in table[0][2:]]
        assert [c[0] for c in table[0]] == ["risk", "projects exposed", *chunk]
        body = table[2:]                                    # the header, then the legend
        assert [row[0][0] for row in body] == list(worst.index) and len(body) == 4
        for row in body:
            risk = row[0][0]
            assert row[1][0] == fmt.plain_number(drivers.xs(risk, level="risk")["applicable"].iloc[0])
            for policy, (text, sub) in zip(chunk, row[2:], strict=True):
                d = drivers.loc[(policy, risk)]
                assert text == fmt.money(d["loss"], "EUR")
                assert sub == [
                    f"value lost {fmt.money(d['value_lost'])}",
                    f"95% CI {fmt.value_range(d['value_lost_ci_low'], d['value_lost_ci_high'], 'money')}",
                    f"cost {fmt.money(d['cost'])}",
                    f"{fmt.plain_number(d['strikes'])} strikes · {fmt.days(d['delay'])}",
                    f"rework {fmt.value(d['effort_added'], 'person-days')}",
                    f"rank {d['rank']} · {'mitigated' if d['mitigated'] else 'not mitigated'}"]
    careful = drivers.loc["careful"]
    top = careful.index[careful["rank"] == 1][0]
    # one sentence per top risk, naming the policies it tops (careful alone, or with others)
    [sentence] = [s for s in page.text.split(" In ") if "careful" in s and "costs most" in s]
    assert f"“{top}” costs most: about " in sentence
    assert fmt.money(careful.loc[top, "loss"], "EUR") in sentence.split("costs most")[1]
    assert any(a.get("aria-label") == "Value lost + cost per risk" for a in page.named("svg"))
    assert "hatched bars are risks the policy mitigates" in page.text


def test_no_risk_section_without_a_register(html: str) -> None:
    assert "risks" not in [a.get("id") for a in Page(html).named("section")]
    assert "Which risks hurt most" not in html


def test_risk_figure_keeps_the_worst_risks_and_says_so() -> None:
    order = [f"r{i}" for i in range(20)]
    kept, caption = _figure_rows(order, 1)
    assert kept == order[:MAX_ROWS] and f"Showing the {MAX_ROWS} of 20 risks" in caption
    kept, caption = _figure_rows(order, 10)   # 80 bars at most: 8 risks of 10 policies
    assert kept == order[:8] and "Showing the 8 of 20" in caption
    assert _figure_rows(order[:4], 10) == (order[:4], _figure_rows(order[:4], 1)[1])
    assert "Showing" not in _figure_rows(order[:4], 10)[1]


def test_risk_lead_groups_policies_and_says_when_nothing_struck() -> None:
    drivers = pd.DataFrame({"policy": ["a", "a", "b", "b", "c", "c"], "rank": [1, 2, 1, 2, 1, 2],
                            "risk": ["x", "y", "x", "y", "y", "x"],
                            "loss": [2000.0, 10.0, 1500.0, 0.0, 0.0, 0.0]})
    assert _lead(drivers, ["a", "b", "c"], "EUR") == (
        "In policies a and b, “x” costs most: about EUR 2k and EUR 1.5k per simulated future "
        "respectively in lost value and direct cost. In policy c, no risk of the register cost "
        "anything in the simulated futures.")


def test_the_pools_figure_shows_each_pools_mean_per_policy() -> None:
    """Rows of pools and policies interleaved, as a run writes them: each bar is the mean of
    its own pool's and policy's rows."""
    from pmo_sim.analysis.report_figures import pools

    rows = [{"policy": pol, "replication": r, "pool": pool, "utilisation": u, "mean_wait": 10 * u}
            for r in range(3) for pol in ("a", "b") for pool, u in (("dev", 0.1 * r + (pol == "b")),
                                                                    ("qa", 0.5 + 0.01 * r))]
    fig = pools(pd.DataFrame(rows), ["a", "b"])
    util = fig.axes[0]
    heights = [[round(p.get_height(), 9) for p in c] for c in util.containers if hasattr(c, "patches")]
    assert heights == [[0.1, 0.51], [1.1, 0.51]]
    assert [t.get_text() for t in util.get_xticklabels()] == ["dev", "qa"]


def test_a_report_of_many_policies_draws_the_baseline_and_the_best_over_time(html: str) -> None:
    """Value and cost over time: one panel per policy up to 12; of 15, the baseline and the 11
    best by the first metric (lowest mean total cost here), and the title says so."""
    policies = "\n".join(f"  p{i:02d}:\n    resource_manager: {{wip_limit: {1 + i % 5}}}"
                         for i in range(15))
    text = SCENARIO_YAML.split("policies:")[0] + "policies:\n" + policies + "\n"
    res = pmo_sim.run_experiment(load_scenario_text(text), replications=3, seed=2, jobs=1)
    many = render_report(res, metrics=["total_cost"], baseline="p07")
    svg = many[many.index('aria-label="Value and cost over time"'):]
    svg = svg[:svg.index("</svg>")]
    drawn = set(re.findall(r">(p\d\d)</text>", svg))
    means = res.replications.groupby("policy")["total_cost"].mean().drop("p07")
    assert drawn == {"p07", *means.sort_values(kind="stable").index[:11]}
    assert "12 of 15 policies: p07 and the best 11 by mean" in svg
    few = html[html.index('aria-label="Value and cost over time"'):]  # two policies: both drawn
    assert " of 2 policies" not in few[:few.index("</svg>")]
    assert "every policy&#39;s figures are in the tables" not in html
