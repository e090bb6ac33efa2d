"""What ``run`` and ``compare`` print for a decision: the verdict first, then two tables that
fit the terminal, then what to do next.

- the **verdict** in plain words (:func:`pmo_sim.analysis.verdict.plain_verdict`), with a
  warning when every policy loses money;
- the **summary**: one row per policy, the mean of each headline KPI ± its 95% CI
  half-width, the unit in every header;
- the **differences** to the baseline: one row per policy, the paired mean difference ±
  half-width, marked ✓ (significantly better) or ✗ (significantly worse);
- under ``--verbose``: every comparison with its Bonferroni-adjusted p-value, and the
  selection method (Kim-Nelson, δ, n0, α);
- the **next step**: ``pmo-sim report DIR``.

The SPEC 6.1 ``compare`` JSON document is built here too (:func:`compare_document`), with the
plain verdict added, so ``compare --format json`` and ``run --format json`` carry the same one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pmo_sim.analysis import format as fmt
from pmo_sim.analysis.metrics import metric_info
from pmo_sim.analysis.verdict import Verdict, plain_verdict
from pmo_sim.cli.output import Col, console, plain, print_table, records, say
from pmo_sim.errors import UsageError

if TYPE_CHECKING:
    from pmo_sim.experiment import Results

SPEC_COMPARE_KEYS = ("policy", "metric", "diff_mean", "ci_low", "ci_high", "p_value", "p_adjusted",
                     "better")
_MARK = {True: " ✓", False: " ✗", None: "  "}
#: Which KPI columns stay longest when a table must drop some to fit (after the decision metric).
IMPORTANCE = ("npv", "on_time_rate", "mean_cycle_time", "total_cost", "value_delivered",
              "projects_completed")


def _priorities(metrics: Sequence[str]) -> list[int]:
    """Drop order of metric columns: the decision metric (first) never, then by IMPORTANCE."""
    rank = {m: i for i, m in enumerate(IMPORTANCE)}
    order = sorted(metrics[1:], key=lambda m: rank.get(m, len(rank)))
    return [0] + [1 + order.index(m) for m in metrics[1:]]


def currency_of(res: Results) -> str:
    """The scenario's currency, or "" when the results carry no readable scenario."""
    try:
        return res.scenario.currency
    except UsageError:
        return ""


def _header(metric: str, currency: str, difference: bool = False) -> str:
    info = metric_info(metric)
    unit = fmt.unit_label(info.unit, currency, difference)
    lines = textwrap.wrap(info.label, 12) or [metric]
    return "\n".join([*lines, f"({unit})" if unit else ""]).rstrip("\n")


def _flag(value: Any) -> bool | None:
    v = plain(value)
    return v if isinstance(v, bool) else None


# --------------------------------------------------------------------------- tables


def print_summary(res: Results, metrics: Sequence[str], currency: str) -> None:
    """Mean ± 95% CI half-width of each metric, one row per policy."""
    table = res.summary(list(metrics))
    n = int(table["n"].max()) if len(table) else 0
    columns = [Col("policy", "left")] + [Col(_header(m, currency), priority=p)
                                         for m, p in zip(metrics, _priorities(metrics), strict=True)]
    rows = []
    for policy, sub in table.groupby("policy", sort=False):
        by_metric = {r["metric"]: r for r in sub.to_dict("records")}
        cells = []
        for m in metrics:
            r, unit = by_metric[m], metric_info(m).unit
            half = float(r["ci_high"]) - float(r["mean"])
            cells.append(f"{fmt.bare(r['mean'], unit)} ±{fmt.bare(half, unit, sig=2)}")
        rows.append([str(policy), *cells])
    print_table(f"Mean per policy ± 95% CI ({n} replication{'s' if n != 1 else ''} each)", columns, rows)


def print_differences(comparison: Any, baseline: str, metrics: Sequence[str], currency: str) -> None:
    """Paired differences to the baseline ± half-width, one row per policy, ✓/✗ marked."""
    if not len(comparison):
        return
    columns = [Col("policy", "left")] + [Col(_header(m, currency, difference=True), priority=p)
                                         for m, p in zip(metrics, _priorities(metrics), strict=True)]
    rows = []
    for policy, sub in comparison.groupby("policy", sort=False):
        by_metric = {r["metric"]: r for r in sub.to_dict("records")}
        cells = []
        for m in metrics:
            r, unit = by_metric[m], metric_info(m).unit
            half = float(r["ci_high"]) - float(r["diff_mean"])
            cells.append(f"{fmt.bare(r['diff_mean'], unit, signed=True)} ±{fmt.bare(half, unit, sig=2)}"
                         f"{_MARK[_flag(r['better'])]}")
        rows.append([str(policy), *cells])
    print_table(f"Difference to {baseline} (paired) ± 95% CI", columns, rows,
                caption="✓ better, ✗ worse (significant after Bonferroni adjustment); "
                        "unmarked: no significant difference")


def print_comparison_detail(comparison: Any, currency: str) -> None:
    """Every comparison with its CI and adjusted p-value (``--verbose``)."""
    columns = [Col("policy", "left"), Col("KPI", "left"), Col("difference"), Col("95% CI", priority=2),
               Col("p (adj.)"), Col("reading", "left", priority=1)]
    rows = []
    for r in comparison.to_dict("records"):
        info = metric_info(str(r["metric"]))
        flag = _flag(r["better"])
        reading = {True: "better", False: "worse", None: "not significant"}[flag]
        rows.append([str(r["policy"]), info.label,
                     fmt.value(r["diff_mean"], info.unit, currency, signed=True),
                     fmt.value_range(r["ci_low"], r["ci_high"], info.unit, currency, signed=True),
                     fmt.p_value(r["p_adjusted"]), reading])
    print_table("Every comparison (Bonferroni-adjusted p-values)", columns, rows)


# --------------------------------------------------------------------------- verdict


def print_verdict(verdict: Verdict | None, verbose: bool) -> None:
    out = console()
    if verdict is None:
        say("No verdict: the decision metric is neutral (neither higher nor lower is better).",
            out=out)
        return
    say(verdict.headline, style="bold", out=out)
    say(verdict.text, out=out)
    for warning in verdict.warnings:
        say(f"Warning: {warning}.", style="bold yellow", out=out)
    if verbose and verdict.method:
        say(f"Method: {verdict.method}", style="dim", out=out)


def print_next(path: Any, verbose: bool) -> None:
    if path is None:
        return
    out = console()
    say(f"results: {path}", out=out)
    say(f"next: pmo-sim report {path}   (an HTML report to share)", out=out)
    if not verbose:
        say(f"      pmo-sim compare {path} --verbose   (p-values and the selection method)", out=out)


def decide(res: Results, baseline: str, metrics: Sequence[str], delta: float | None,
           currency: str) -> tuple[Any, Verdict | None]:
    """The comparison on ``metrics`` and the plain verdict on the first of them (None when it
    is a neutral KPI, such as utilisation: no policy is better on it)."""
    comparison = res.compare(baseline=baseline, metrics=list(metrics))
    if metric_info(metrics[0]).sense == "neutral":
        return comparison, None
    verdict = plain_verdict(res.replications, metrics[0], baseline=baseline, delta=delta,
                            currency=currency)
    return comparison, verdict


def compare_document(res: Results, baseline: str, metrics: Sequence[str], delta: float | None,
                     currency: str) -> dict[str, Any]:
    """The SPEC 6.1 ``compare`` document, plus ``verdict`` (plain text), ``currency`` and the
    verdict's detail (``decision``: headline, leader, ties, δ, warnings, method)."""
    comparison, verdict = decide(res, baseline, metrics, delta, currency)
    sel = verdict.selection if verdict is not None else None
    if sel is not None:
        best = {"metric": sel.metric, "policy": sel.policy, "method": sel.method,
                "confident": bool(sel.confident)}
    else:   # one policy, or a neutral metric
        best = {"metric": metrics[0], "policy": verdict.best if verdict else None, "method": "",
                "confident": verdict is not None}
    return {"baseline": baseline, "rows": records(comparison, SPEC_COMPARE_KEYS), "best": best,
            "verdict": verdict.text if verdict else "no verdict: the metric is neutral",
            "currency": currency,
            "decision": {k: plain(v) if not isinstance(v, list) else v
                         for k, v in verdict.as_dict().items()} if verdict else None}
