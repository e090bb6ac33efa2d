"""The HTML report: one self-contained file a board can read, mail, open offline and print.

:func:`render_report` turns :class:`~pmo_sim.experiment.Results` into an HTML string (a pure
function of the results: no global state); :func:`write_report` puts it on disk atomically.
The page is rendered by Jinja2 (``templates/report.html.j2``, autoescape on, so scenario and
policy names can never inject markup) and reads top-down as a decision document. It is a list
of sections, each built by one function of :data:`SECTIONS` from a :class:`ReportContext`:

1. the **executive summary**: three sentences (what wins, by how much, with what risk), the
   verdict in plain words (:mod:`pmo_sim.analysis.verdict`) and any warning;
2. the **return on investment** when the folder was written by ``pmo-sim roi --out`` (its
   ``roi.json`` records the question; the numbers are recomputed by
   :func:`pmo_sim.analysis.roi.analyse_roi`, the one ROI computation);
3. the **KPIs**: mean and 95% CI per policy, and P10 / P50 / P90 (what to plan for);
4. the **paired comparison** with the baseline (difference, CI, adjusted p-value) and its
   forest plot, and speed against punctuality;
5. the **NPV distributions** (histogram and CDF per policy);
6. **when will it land?**: per project, the P80 finish date, its spread and the chance of
   being on time, with a figure (:mod:`pmo_sim.analysis.report_forecast`);
7. **which risks hurt most**: per policy, the risk register ranked by value lost + cost, with
   CIs, and a figure (:mod:`pmo_sim.analysis.report_risks`);
8. **value and cost over time** with 80% bands, and projects completed;
9. **utilisation and wait per pool**;
10. the **method** (common random numbers, paired CIs, Bonferroni, Kim-Nelson with its δ,
    n0 and α, how the curves are built) and the provenance.

A builder returns None when it has nothing to say (one policy: no comparison; no ``roi.json``:
no ROI; no projects: no forecast; no risk register: no risks), and the section is left out.
A new section is one more builder in :data:`SECTIONS`.

Self-contained means no reference leaves the file: figures are matplotlib SVG inlined into
the page (fonts as ``<text>``, ids prefixed per figure so the figures' ``<defs>`` cannot
collide), the CSS is inline, and nothing needs JavaScript.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pmo_sim import __version__
from pmo_sim.analysis import format as fmt
from pmo_sim.analysis import report_figures as figures
from pmo_sim.analysis.forecast import COLUMNS as FORECAST_COLUMNS
from pmo_sim.analysis.metrics import HEADLINE_METRICS, metric_info
from pmo_sim.analysis.plots import roi_figure
from pmo_sim.analysis.report_forecast import forecast_section
from pmo_sim.analysis.report_page import RC, Cell, FigureBlock, HtmlTable, Section, svg_markup, when
from pmo_sim.analysis.report_risks import risk_section
from pmo_sim.analysis.risks import PROJECT_COLUMNS as RISK_COLUMNS
from pmo_sim.analysis.roi import (
    ROI_JSON,
    VALUE_COLUMNS,
    RoiResult,
    analyse_roi,
    check_question,
    read_question,
)
from pmo_sim.analysis.stats import metric_names, summary
from pmo_sim.analysis.verdict import Verdict, executive_summary, plain_verdict
from pmo_sim.errors import UsageError, cannot_write, check_flags, check_pathlike, check_results
from pmo_sim.files import check_can_write_in, is_taken, refuse_results_file, write_atomically

if TYPE_CHECKING:
    from pmo_sim.experiment import Results

#: Significance level of the report's tables (the CIs are 95%).
ALPHA = 0.05
_TEMPLATE = "report.html.j2"
@dataclass
class ReportContext:
    """Everything the section builders read (computed once)."""

    res: Results
    metrics: list[str]
    baseline: str
    currency: str
    horizon: float
    warmup: float
    description: str
    n_done: int
    table: pd.DataFrame
    comparison: pd.DataFrame
    verdict: Verdict | None
    roi: RoiResult | None
    figure_count: list[int] = field(default_factory=lambda: [0])

    @property
    def several(self) -> bool:
        return len(self.res.policies) > 1

    def figure(self, key: str, title: str, caption: str, draw: Callable[..., Figure],
               *args: Any) -> FigureBlock:
        """Draw a figure and inline it, numbered in page order."""
        with mpl.rc_context(RC):
            svg = svg_markup(draw(*args), key, title)
        self.figure_count[0] += 1
        return FigureBlock(self.figure_count[0], title, caption, svg)


# --------------------------------------------------------------------------- sections


def summary_section(ctx: ReportContext) -> Section:
    """What wins, by how much, with what risk; the verdict and any warning."""
    if ctx.roi is not None:
        verdict_text = ctx.roi.verdict
        sentences = [verdict_text]
        headline = f"Return on {ctx.roi.question.programme or 'the extra spend'}: " \
                   f"{fmt.percent(ctx.roi.document['roi_pct_mean'])}"
        warnings = list(ctx.verdict.warnings) if ctx.verdict else []
        detail = ctx.verdict.text if ctx.verdict else ""
    elif ctx.verdict is not None and ctx.several:
        sentences = executive_summary(ctx.res.replications, ctx.verdict, ctx.metrics, ctx.currency)
        sentences = [s for s in sentences if not s.startswith("Warning:")]
        headline, warnings, detail = ctx.verdict.headline, ctx.verdict.warnings, ctx.verdict.text
    else:
        only = ctx.res.policies[0]
        sentences = [f"Only one policy was run ({only}): there is nothing to compare it with."]
        headline, warnings, detail = f"One policy: {only}", [], ""
    section = Section("summary", "Executive summary", headline=headline, paragraphs=sentences,
                      warnings=[w[0].upper() + w[1:] + "." for w in warnings], css="summary")
    if detail and detail not in sentences:
        section.notes.append(f"Verdict on {metric_info(ctx.metrics[0]).label}: {detail}")
    return section


def roi_section(ctx: ReportContext) -> Section | None:
    if ctx.roi is None:
        return None
    r, q = ctx.roi, ctx.roi.question
    rows = [[Cell(row["label"], css="text"), Cell(fmt.value(row["mean"], row["unit"], q.currency)),
             Cell(fmt.value_range(row["ci_low"], row["ci_high"], row["unit"], q.currency))]
            for row in r.document["breakdown"]]
    basis = "undiscounted cash over the horizon" if q.basis == "cash" else "present values at day 0"
    return Section("roi", "Return on investment", paragraphs=[
        f"{q.policy} against {q.baseline}, paired replication by replication; amounts in "
        f"{q.currency}, {basis}. P(ROI > 0) = {r.document['p_positive']:.0%}."],
        tables=[HtmlTable(["component", "mean per replication", "95% CI"], rows)],
        figures=[ctx.figure("roi", "Return on investment",
                            "Left: the ROI in each simulated future, with the mean, its 95% CI and "
                            "break-even. Right: cumulative benefit against the investment over "
                            "time, mean and the middle 80% of futures; they cross at payback.",
                            roi_figure, r)])


def kpi_section(ctx: ReportContext) -> Section:
    headers = ["KPI", "unit", *ctx.res.policies]
    legend = [Cell("each cell:", ("mean", "95% CI of the mean", "P10 · P50 · P90"), "text legend"),
              Cell(""), *[Cell("") for _ in ctx.res.policies]]
    rows = []
    for metric in ctx.metrics:
        info = metric_info(metric)
        sub = ctx.table[ctx.table["metric"] == metric].set_index("policy")
        means = sub["mean"].astype(float)
        best: set[str] = set()
        if info.sense != "neutral" and means.notna().any() and means.nunique() > 1:
            top = means.max() if info.sense == "higher" else means.min()
            best = {str(p) for p in means.index[means == top]}     # ties share the star
        cells = [Cell(info.label, (info.sense_text,), "text"),
                 Cell(fmt.unit_label(info.unit, ctx.currency), (), "text")]
        for p in ctx.res.policies:
            r = sub.loc[p]
            cells.append(Cell(
                ("★ " if p in best else "") + fmt.value(r["mean"], info.unit, bare=True),
                (fmt.value_range(r["ci_low"], r["ci_high"], info.unit),
                 " · ".join(fmt.value(r[q], info.unit, bare=True) for q in ("p10", "p50", "p90"))),
                "best" if p in best else ""))
        rows.append(cells)
    return Section("kpis", "Headline KPIs", paragraphs=[
        f"Mean over {ctx.n_done} replications per policy with its 95% confidence interval (CI), "
        "and the spread of single outcomes: P10, P50 and P90 are the values that 10%, 50% and 90% "
        "of simulated futures stay at or below. Plan for the spread; judge policies on the "
        "paired comparison. ★ marks the best mean where the KPI has a direction."],
        tables=[HtmlTable(headers, [legend, *rows], "kpis")])


def comparison_section(ctx: ReportContext) -> Section | None:
    if not ctx.several or not len(ctx.comparison):
        return None
    rows = []
    for r in ctx.comparison.to_dict("records"):
        info = metric_info(str(r["metric"]))
        p_adj = fmt.finite(r["p_adjusted"])
        significant = p_adj is not None and p_adj < ALPHA
        flag = r["better"] if isinstance(r["better"], bool) else None
        reading = ("better" if flag else "worse") if flag is not None else (
            "differs (neutral KPI)" if significant else "no significant difference")
        css = {True: "better", False: "worse", None: ""}[flag]
        rows.append([Cell(info.label, css="text"), Cell(str(r["policy"]), css="text"),
                     Cell(fmt.value(r["diff_mean"], info.unit, ctx.currency, signed=True), css=css),
                     Cell(fmt.value_range(r["ci_low"], r["ci_high"], info.unit, ctx.currency,
                                          signed=True)),
                     Cell(fmt.p_value(r["p_adjusted"]), css="sig" if significant else ""),
                     Cell(reading, css=f"text {css}")])
    k = len(ctx.res.policies) - 1
    return Section("comparison", f"Paired comparison with “{ctx.baseline}”", paragraphs=[
        f"Difference policy − {ctx.baseline}, replication by replication, with its 95% confidence "
        f"interval. p is Bonferroni-adjusted over the {k} comparison{'s' if k != 1 else ''} per "
        "KPI; bold p-values are significant at 5%. Rates differ in percentage points (pp)."],
        tables=[HtmlTable(["KPI", "policy", "difference", "95% CI", "p (adj.)", "reading"], rows)],
        figures=[ctx.figure("forest", f"Paired differences to {ctx.baseline}",
                            "Replication by replication on the same random world; an interval "
                            "that does not cross zero is a difference the data support.",
                            figures.forest, ctx.comparison, ctx.metrics, ctx.baseline, ctx.currency),
                 *_tradeoff(ctx)])


def _tradeoff(ctx: ReportContext) -> list[FigureBlock]:
    if not {"mean_cycle_time", "on_time_rate"} <= set(ctx.table["metric"]):
        return []
    return [ctx.figure("tradeoff", "Speed against punctuality",
                       "Mean cycle time and on-time rate per policy, with 95% CIs: up and to the "
                       "left is better (projects finish sooner, and more of them on time).",
                       figures.tradeoff, ctx.table, ctx.res.policies)]


def distributions_section(ctx: ReportContext) -> Section:
    metric = "npv" if "npv" in ctx.res.replications else ctx.metrics[0]
    label = metric_info(metric).label
    values = ctx.res.replications[metric]
    have = set(ctx.res.replications.loc[values.notna(), "policy"])
    missing = [p for p in ctx.res.policies if p not in have]
    notes = [f"No data: {label} is missing in every replication of "
             f"{'every policy' if len(missing) == len(ctx.res.policies) else ', '.join(missing)}; "
             f"the figure shows {'nothing' if len(missing) == len(ctx.res.policies) else 'the others'}."
             ] if missing else []
    return Section("distributions", f"{label}: the range of outcomes", notes=notes, figures=[ctx.figure(
        "dist", f"Distribution of {label} per policy",
        "Each replication is one possible future. Left: how often each outcome occurs; right: "
        "the share of futures at or below each value (read the P10 at 10%). A curve to the "
        "right is better for value; the spread is the risk.",
        figures.distributions, ctx.res.replications, ctx.res.policies, metric, ctx.currency)])


#: Policies given a panel of their own in "Value and cost over time": a report of a hundred
#: policies drew a panel each, a figure 130 inches high that took a minute to lay out
#: (matplotlib's shared axes cost grows with the square of the panels).
MAX_PANELS = 12


def panel_policies(ctx: ReportContext) -> tuple[list[str], str]:
    """The policies drawn one panel each (in the results' order), and what the title says of
    a choice: every policy up to :data:`MAX_PANELS`; beyond, the baseline and the best by the
    first metric (the verdict's; in the results' order if it is neutral)."""
    policies = [str(p) for p in ctx.res.policies]
    if len(policies) <= MAX_PANELS:
        return policies, ""
    metric = ctx.metrics[0]
    info = metric_info(metric)
    ranked = policies
    if info.sense != "neutral" and metric in ctx.res.replications:
        means = ctx.res.replications.groupby("policy", sort=False)[metric].mean()
        means.index = means.index.astype(str)
        ranked = list(means.sort_values(ascending=info.sense == "lower", kind="stable").index)
        how = f"the best {MAX_PANELS - 1} by mean {info.label}"
    else:
        how = f"the first {MAX_PANELS - 1}"
    keep = {ctx.baseline, *[p for p in ranked if p != ctx.baseline][:MAX_PANELS - 1]}
    return ([p for p in policies if p in keep],
            f"{MAX_PANELS} of {len(policies)} policies: {ctx.baseline} and {how}")


def over_time_section(ctx: ReportContext) -> Section:
    res = ctx.res
    blocks = []
    if "total_cost" in res.replications:
        shown, choice = panel_policies(ctx)
        blocks.append(ctx.figure(
            "overtime", "Value and cost over time",
            "Cumulative value realised and cost paid, mean (line) and the middle 80% of simulated "
            "futures (band). A project's value accrues evenly from its finish to the horizon; "
            "cost accrues evenly over the window (payroll is paid whether people are busy or "
            "not), ending at the replication's total cost."
            + (f" Shown: {choice}; every policy's figures are in the tables." if choice else ""),
            figures.value_and_cost, res.projects, res.replications, shown, ctx.horizon,
            ctx.warmup, ctx.currency, choice))
    blocks.append(ctx.figure("done", "Projects completed over time",
                             "Mean over replications of the number of counted projects finished "
                             "by each day.", figures.completions, res.projects, res.replications,
                             res.policies, ctx.horizon, ctx.warmup))
    return Section("over-time", "Value and cost over time", figures=blocks)


def pools_section(ctx: ReportContext) -> Section | None:
    if ctx.res.pools.empty:
        return None
    return Section("pools", "Utilisation and waiting per pool", figures=[ctx.figure(
        "pools", "Utilisation and wait for a crew, per pool",
        "Left: share of the available person-days spent on project work (95% CI); high "
        "utilisation is not a goal, as queues grow steeply near 100%. Right: mean time a "
        "ready task waited for its crew.", figures.pools, ctx.res.pools, ctx.res.policies)])


def method_section(ctx: ReportContext) -> Section:
    terms = [
        ("Replications and common random numbers",
         "Each replication is one possible future of the portfolio: arrivals, efforts, change "
         "requests and leavers are drawn at random. Every policy of a replication faces the same "
         "future, so differences between policies come from the policies, not from luck."),
        ("Paired confidence intervals",
         f"The comparison takes the difference policy − {ctx.baseline} in each replication and "
         "reports its mean with a 95% confidence interval (paired t)."),
        ("Bonferroni adjustment",
         "Each p-value is multiplied by the number of comparisons per KPI (capped at 1), so the "
         "chance of any false \"significant\" among them stays below 5%."),
        ("Selection and the indifference zone",
         ctx.verdict.method if ctx.verdict is not None and ctx.verdict.method else
         "One policy only: no selection."),
        ("Practically tied", "Two policies whose mean paired gap is below the indifference zone "
         "δ are practically tied: either is a good choice, and the report does not call one of "
         "them best."),
        ("Sense", "“higher is better” and “lower is better” say which way a KPI is good news; "
         "neutral KPIs such as utilisation are never called better or worse."),
    ]
    if ctx.roi is not None:
        terms.append(("Return on investment", "Per replication, P minus its baseline: investment "
                      "= extra training, technology and PMO spend; benefit = extra value "
                      "delivered − extra labour cost; ROI = (benefit − investment) / investment. "
                      "On the npv basis amounts are present values and the net gain is exactly "
                      "the NPV difference."))
    return Section("method", "How to read this report: method", terms=terms)


def provenance_section(ctx: ReportContext) -> Section:
    res, m = ctx.res, ctx.res.manifest
    requested = m.get("replications")
    reps = str(ctx.n_done) if requested in (None, ctx.n_done) else f"{ctx.n_done} finished of {requested}"
    rows = [("Scenario", str(m.get("scenario", ""))), ("Description", ctx.description),
            ("Policies", ", ".join(res.policies)), ("Replications per policy", reps),
            ("Seed", str(m.get("seed", ""))), ("Status", str(m.get("status", ""))),
            ("Started", when(m.get("started"))), ("Finished", when(m.get("finished"))),
            ("Command", str(m.get("command") or "")),
            ("Scenario SHA-256", str(m.get("scenario_sha256") or "")),
            ("Simulated with", f"pmo-sim {m.get('pmo_sim_version', '?')}"),
            ("Report by", f"pmo-sim {__version__}")]
    return Section("provenance", "Provenance", tables=[HtmlTable(
        [], [[Cell(k, css="key"), Cell(v, css="code" if k == "Command" else "text")]
             for k, v in rows if v], "prov")])


#: The report's sections in reading order; a builder returning None is left out.
SECTIONS: tuple[Callable[[ReportContext], Section | None], ...] = (
    summary_section, roi_section, kpi_section, comparison_section, distributions_section,
    forecast_section, risk_section, over_time_section, pools_section, method_section, provenance_section,
)


# --------------------------------------------------------------------------- page


def _partial_warning(res: Results, n_done: int) -> str | None:
    if res.complete:
        return None
    m = res.manifest
    text = (f"Partial run: {n_done} of {m.get('replications', '?')} replications per "
            "policy are finished, and everything below is computed from those alone.")
    failure = m.get("failure")
    if isinstance(failure, dict):
        text += (f" A replication failed (policy '{failure.get('policy')}', replication "
                 f"{failure.get('replication')}).")
    elif res.resume_command:
        text += f" Continue it with: {res.resume_command}"
    return text


def _title(ctx: ReportContext) -> str:
    scenario = str(ctx.res.manifest.get("scenario", ""))
    if ctx.roi is not None:
        q = ctx.roi.question
        thing = q.programme or f"{q.policy}'s extra spend over {q.against}"
        return f"Does {thing} pay for itself? Return on investment in “{scenario}”"
    if ctx.several:
        return f"Which PMO policy for “{scenario}”? {len(ctx.res.policies)} policies compared"
    return f"Outlook for “{scenario}” under {ctx.res.policies[0]}"


def _context(res: Results, metrics: Sequence[str] | None, baseline: str | None) -> ReportContext:
    # (one name is one metric, as resolve_metrics reads it: not its letters)
    chosen = metric_names(metrics) if metrics else list(HEADLINE_METRICS)
    question = read_question(res.path) if res.path is not None else None
    if question is not None and question.baseline not in res.policies:
        question = None      # a folder whose policies no longer match its roi.json
    if baseline is None and question is not None:
        baseline = question.baseline
    base = res.resolve_baseline(baseline)
    table = summary(res.replications, list(dict.fromkeys([*chosen, "mean_cycle_time", "on_time_rate"])
                                          if {"mean_cycle_time", "on_time_rate"} <= set(res.replications)
                                          else chosen))
    try:
        sc = res.scenario
        description, currency = sc.description, sc.currency
        horizon, warmup = float(sc.horizon), float(sc.warmup)
        facts = {"horizon": horizon, "warmup": warmup, "days_per_year": float(sc.days_per_year),
                 "discount_rate": float(sc.discount_rate), "currency": currency,
                 "day_rates": {name: float(pool.day_rate) for name, pool in sc.resources.items()}}
    except UsageError:
        description, currency, facts = "", "", None
        horizon, warmup = float(np.nanmax([res.projects["finish"].max(), 1.0])), 0.0
    if question is not None and facts is not None and res.path is not None:
        check_question(question, res.path / ROI_JSON, facts)  # roi.json's facts are the run's
    n_done = int(res.replications.groupby("policy", sort=False)["replication"].nunique().min())
    several = len(res.policies) > 1
    comparison = res.compare(baseline=base, metrics=chosen) if several else pd.DataFrame()
    verdict = None
    if several and metric_info(chosen[0]).sense != "neutral":
        verdict = plain_verdict(res.replications, chosen[0], baseline=base, currency=currency)
    roi = (analyse_roi(res.replications, res.projects, question, res.pools)
           if question is not None else None)
    return ReportContext(res, chosen, base, currency, horizon, warmup, description, n_done, table,
                         comparison, verdict, roi)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("pmo_sim.analysis", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def render_report(results: Results, metrics: Sequence[str] | None = None,
                  baseline: str | None = None) -> str:
    """The report of ``results`` as one self-contained HTML document.

    ``metrics`` are the KPIs of the tables and the forest plot (default: the headline KPIs);
    the first one decides the verdict. ``baseline`` is the policy the others are compared
    with (default: the first policy, or the ROI's baseline for a ``pmo-sim roi`` folder).
    Raises :class:`UsageError` for an unknown metric or policy, or results without a single
    replication.
    """
    check_results(results)
    results.require_replications("report")
    # Only the project columns the report reads: from a folder, not its ~25 columns
    results = results.with_projects([*FORECAST_COLUMNS, *VALUE_COLUMNS, *RISK_COLUMNS])
    ctx = _context(results, metrics, baseline)
    sections = [s for s in (build(ctx) for build in SECTIONS) if s is not None]
    m = results.manifest
    return _environment().get_template(_TEMPLATE).render(
        title=_title(ctx), scenario=str(m.get("scenario", "")), description=ctx.description,
        sections=sections, warning=_partial_warning(results, ctx.n_done), n=ctx.n_done,
        seed=m.get("seed", "?"), status=m.get("status", "?"), policies=results.policies,
        finished=when(m.get("finished")), sim_version=m.get("pmo_sim_version", "?"),
        currency=ctx.currency, version=__version__)


def write_report(results: Results, path: str | os.PathLike[str], force: bool = False,
                 metrics: Sequence[str] | None = None, baseline: str | None = None) -> Path:
    """Render the report of ``results`` into ``path`` atomically; returns the path.

    An existing file is refused (:class:`UsageError`) unless ``force``. The page is written
    to a temporary file next to ``path`` and renamed, so ``path`` is never half-written.
    """
    check_results(results)
    check_flags(force=force)  # force="no" is true: it overwrote the file
    check_pathlike(path, "the report's path")
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{target} is a directory; give a file name such as {target / 'report.html'}")
    refuse_results_file(target)
    if is_taken(target) and not force:
        raise UsageError(f"{target} already exists; use --force to overwrite it")
    try:
        check_can_write_in(target.parent)  # before the page is rendered
    except OSError as exc:
        raise cannot_write(target, exc) from None
    html = render_report(results, metrics=metrics, baseline=baseline)
    # (a path of the manifest's command may hold a byte that is not UTF-8, read as a lone
    # surrogate, which UTF-8 cannot encode: written as its escape, "\udcff")
    return write_atomically(target, lambda tmp: tmp.write_text(html, encoding="utf-8",
                                                                errors="backslashreplace"))
