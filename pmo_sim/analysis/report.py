"""The HTML report: one self-contained file a strategist can mail, open offline and print.

:func:`render_report` turns :class:`~pmo_sim.experiment.Results` into an HTML string (a pure
function: no files, no global state); :func:`write_report` puts it on disk atomically. The
page is rendered by Jinja2 (``templates/report.html.j2``, autoescape on, so scenario and
policy names can never inject markup) and reads top-down as a decision document:

1. what was run (scenario, provenance; a partial run gets a warning banner),
2. the verdict in plain words (Kim-Nelson selection of the best policy on the chosen metric,
   or the policies the data cannot separate),
3. the headline KPIs per policy (mean and 95% CI, with unit and sense), the paired
   comparison against the baseline with significance marked,
4. figures, and how to read them.

Self-contained means no reference leaves the file: figures are matplotlib SVG inlined into
the page (fonts as ``<text>``, ids prefixed per figure so the figures' ``<defs>`` cannot
collide), the CSS is inline, and nothing needs JavaScript. Figures are drawn on bare
:class:`matplotlib.figure.Figure` objects, never through pyplot, so rendering a report
touches no global backend state.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import matplotlib as mpl
import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from pmo_sim import __version__
from pmo_sim.analysis.metrics import HEADLINE_METRICS, MetricInfo, metric_info
from pmo_sim.analysis.stats import summary
from pmo_sim.errors import UsageError

if TYPE_CHECKING:
    from pmo_sim.analysis.compare import Selection
    from pmo_sim.experiment import Results

#: Significance level of the report's tables (the CIs are 95%).
ALPHA = 0.05
_TEMPLATE = "report.html.j2"
_RC: dict[Any, Any] = {  # (Any keys: matplotlib types them as a Literal of rc names)
    "svg.fonttype": "none",          # text stays text: small, selectable, no glyph defs
    "svg.hashsalt": "pmo-sim",       # deterministic ids: the same results give the same file
    "text.parse_math": False,        # a '$' in a policy name is a dollar, not mathtext
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


# --------------------------------------------------------------------------- numbers


def _scaled(x: float) -> str:
    """1,234,567 -> 1.23M; 51,234 -> 51.2k; 12.345 -> 12.3."""
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:,.2f}M"
    if a >= 1e4:
        return f"{x / 1e3:,.1f}k"
    return f"{x:,.0f}" if a >= 100 else f"{x:.3g}"


def _tick(x: float) -> str:
    """Axis tick labels: as :func:`_scaled` without trailing zeros (200k, 1.5M)."""
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:g}M"
    return f"{x / 1e3:g}k" if a >= 1e4 else f"{x:g}"


def format_value(x: Any, info: MetricInfo, currency: str = "", signed: bool = False,
                 bare: bool = False) -> str:
    """A KPI value for a table cell, in its unit: ``EUR 1.23M``, ``45.1 d``, ``67.3%``.

    ``signed`` formats a difference (``+1.2k``; rates in percentage points), ``bare`` leaves
    money and days without their unit (for a table with a unit column).
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    if not np.isfinite(v):
        return "–"
    sign = "+" if signed and v > 0 else ""
    if info.unit == "rate":
        return f"{sign}{v * 100:.1f}%" if not signed else f"{sign}{v * 100:.1f} pp"
    text = sign + _scaled(v)
    if bare:
        return text
    if info.unit == "money":
        return f"{currency} {text}".strip()
    return f"{text} d" if info.unit in ("days", "person-days") else text


def unit_text(info: MetricInfo, currency: str) -> str:
    """The unit of a KPI in words, for table headers and axis labels."""
    return {"money": currency or "money", "days": "days", "day": "day", "person-days": "person-days",
            "rate": "%", "count": "count", "per-year": "per year", "": ""}[info.unit]


def _axis_formatter(info: MetricInfo) -> FuncFormatter:
    if info.unit == "rate":
        return FuncFormatter(lambda v, _pos: f"{v * 100:.0f}%")
    return FuncFormatter(lambda v, _pos: _tick(v))


# --------------------------------------------------------------------------- figures


def _svg(fig: Figure, key: str, label: str) -> Markup:
    """``fig`` as inline SVG markup with no external references and ids unique to ``key``."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]                                   # no XML prolog or DTD URL
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)  # no RDF/creator URLs
    svg = re.sub(r'\s(?:xmlns(?::\w+)?|width|height)="[^"]*"', "", svg[:svg.index(">")]) \
        + svg[svg.index(">"):]                                      # HTML needs no namespaces
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{key}-\1"', svg)
    svg = re.sub(r'(href="#|url\(#)([^")]+)', rf"\1{key}-\2", svg)
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{Markup.escape(label)}"', 1)
    return Markup(svg)  # noqa: S704 - matplotlib escapes the text it writes into SVG


def _colours(policies: Sequence[str]) -> dict[str, str]:
    cycle = [f"C{i % 10}" for i in range(len(policies))]
    return dict(zip(policies, cycle, strict=True))


def _distribution(res: Results, metric: str, currency: str) -> Figure:
    """Box plot of ``metric`` per policy (one box per policy, mean as a diamond)."""
    info = metric_info(metric)
    policies = res.policies
    data = [res.replications.loc[res.replications["policy"] == p, metric].dropna().to_numpy(float)
            for p in policies]
    fig = Figure(figsize=(7.2, 0.5 + 0.45 * len(policies) + 0.6))
    ax = fig.add_subplot()
    parts = ax.boxplot(data, orientation="horizontal", showmeans=True, widths=0.6,
                       patch_artist=True, meanprops={"marker": "D", "markerfacecolor": "white",
                                                     "markeredgecolor": "black", "markersize": 5})
    for patch, colour in zip(parts["boxes"], _colours(policies).values(), strict=True):
        patch.set_facecolor(colour)
        patch.set_alpha(0.55)
    ax.set_yticks(range(1, len(policies) + 1), policies)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(_axis_formatter(info))
    ax.set_xlabel(f"{info.label} per replication ({unit_text(info, currency)}); "
                  "box: quartiles, line: median, diamond: mean")
    return fig


def _forest(comparison: pd.DataFrame, metrics: Sequence[str], baseline: str,
            currency: str) -> Figure:
    """Paired differences to the baseline with 95% CIs: one small panel per metric."""
    cols = min(3, len(metrics))
    rows = -(-len(metrics) // cols)
    others = list(dict.fromkeys(comparison["policy"].astype(str)))
    fig = Figure(figsize=(7.6, rows * (0.9 + 0.32 * len(others))), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True).ravel()
    palette = {True: "#1a7f37", False: "#c62828", None: "#555555"}
    for ax, metric in zip(axes, metrics, strict=False):
        info = metric_info(metric)
        sub = comparison[comparison["metric"] == metric].reset_index(drop=True)
        for row in sub.to_dict("records"):
            i = others.index(str(row["policy"]))
            flag = row["better"] if isinstance(row["better"], bool) else None
            lo, mid, hi = float(row["ci_low"]), float(row["diff_mean"]), float(row["ci_high"])
            ax.errorbar([mid], [i], xerr=[[mid - lo], [hi - mid]], fmt="o", capsize=3,
                        color=palette[flag])
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(others)), others)
        ax.set_ylim(len(others) - 0.5, -0.5)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", left=False)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.xaxis.set_major_formatter(_axis_formatter(info))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(f"{info.label} ({unit_text(info, currency)})", fontsize=8.5)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(f"difference to '{baseline}' (95% CI); green: better, red: worse, grey: "
                 "not significant or neutral", fontsize=8.5)
    return fig


def _legend_above(ax: Axes, n: int) -> None:
    ax.legend(fontsize=8, ncols=min(4, n), loc="lower center", bbox_to_anchor=(0.5, 1.0),
              frameon=False)


def _tradeoff(table: pd.DataFrame, policies: Sequence[str]) -> Figure:
    """Mean cycle time (x) against on-time rate (y), each with its 95% CI."""
    fig = Figure(figsize=(7.2, 4.0))
    ax = fig.add_subplot()
    for policy, colour in _colours(policies).items():
        rows = table[table["policy"] == policy].set_index("metric")
        mean = rows["mean"].astype(float)
        half = rows["ci_high"].astype(float) - mean
        ax.errorbar([mean["mean_cycle_time"]], [mean["on_time_rate"]],
                    xerr=[half["mean_cycle_time"]], yerr=[half["on_time_rate"]], fmt="o",
                    capsize=3, color=colour, label=policy)
    ax.yaxis.set_major_formatter(_axis_formatter(metric_info("on_time_rate")))
    ax.set_xlabel("mean cycle time (days; lower is better)")
    ax.set_ylabel("on-time rate (higher is better)")
    ax.margins(0.15)
    _legend_above(ax, len(policies))
    return fig


def _utilisation(pools: pd.DataFrame, policies: Sequence[str]) -> Figure:
    """Mean utilisation per pool (groups) and policy (bars), with 95% CIs."""
    names = list(dict.fromkeys(pools["pool"].astype(str)))
    width = 0.8 / max(1, len(policies))
    fig = Figure(figsize=(7.2, 3.4))
    ax = fig.add_subplot()
    for j, (policy, colour) in enumerate(_colours(policies).items()):
        means, errs = [], []
        for pool in names:
            s = summary(pools[pools["pool"].astype(str) == pool], ["utilisation"])
            row = s[s["policy"] == policy]
            means.append(float(row["mean"].iloc[0]) if len(row) else np.nan)
            errs.append(float(row["ci_high"].iloc[0] - row["mean"].iloc[0]) if len(row) else np.nan)
        xs = np.arange(len(names)) + (j - (len(policies) - 1) / 2) * width
        ax.bar(xs, means, width, yerr=errs, capsize=2, color=colour, label=policy)
    ax.set_xticks(range(len(names)), names)
    ax.yaxis.set_major_formatter(_axis_formatter(metric_info("utilisation")))
    ax.set_ylabel("utilisation (busy / available)")
    _legend_above(ax, len(policies))
    return fig


def completions_curve(projects: pd.DataFrame, replications: pd.DataFrame,
                      grid: np.ndarray) -> pd.DataFrame:
    """Mean number of counted projects completed by day t, per policy (columns) and t (index).

    The mean is over every replication of the policy, including those that completed none.
    """
    done = projects[(projects["status"] == "completed") & projects["counted"].astype(bool)]
    out = {}
    for policy, reps in replications.groupby("policy", sort=False):
        finishes = np.sort(done.loc[done["policy"] == policy, "finish"].to_numpy(float))
        out[str(policy)] = np.searchsorted(finishes, grid, side="right") / max(1, len(reps))
    return pd.DataFrame(out, index=pd.Index(grid, name="day"))


def _completions(res: Results, horizon: float, warmup: float) -> Figure:
    grid = np.linspace(0.0, horizon, 501)
    curves = completions_curve(res.projects, res.replications, grid)
    fig = Figure(figsize=(7.2, 3.4))
    ax = fig.add_subplot()
    for policy, colour in _colours(res.policies).items():
        ax.plot(grid, curves[policy], drawstyle="steps-post", color=colour, label=policy)
    if warmup > 0:
        ax.axvline(warmup, color="grey", linestyle=":", linewidth=1)
        ax.annotate("warm-up ends", (warmup, 0), textcoords="offset points", xytext=(3, 3),
                    fontsize=7, color="grey")
    ax.set_xlabel("day")
    ax.set_ylabel("projects completed (mean)")
    _legend_above(ax, len(res.policies))
    return fig


# --------------------------------------------------------------------------- page content


def _when(stamp: Any) -> str:
    """An ISO timestamp of the manifest as ``2025-01-31 14:05 UTC`` (as is if unparsable)."""
    if not stamp:
        return ""
    try:
        t = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if t.tzinfo is not None:
        t = t.astimezone(timezone.utc)
    return f"{t:%Y-%m-%d %H:%M}" + (" UTC" if t.tzinfo is not None else "")


def _provenance(res: Results, n_done: int, description: str) -> list[tuple[str, str]]:
    m = res.manifest
    requested = m.get("replications")
    reps = str(n_done) if requested in (None, n_done) else f"{n_done} finished of {requested}"
    rows = [
        ("Scenario", str(m.get("scenario", ""))),
        ("Description", description),
        ("Policies", ", ".join(res.policies)),
        ("Replications per policy", reps),
        ("Seed", str(m.get("seed", ""))),
        ("Status", str(m.get("status", ""))),
        ("Started", _when(m.get("started"))),
        ("Finished", _when(m.get("finished"))),
        ("Command", str(m.get("command") or "")),
        ("Scenario SHA-256", str(m.get("scenario_sha256") or "")),
        ("Simulated with", f"pmo-sim {m.get('pmo_sim_version', '?')}"),
        ("Report by", f"pmo-sim {__version__}"),
    ]
    return [(k, v) for k, v in rows if v]


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
    elif m.get("command"):
        text += f" Continue it with: {m['command']} --resume"
    return text


def _kpi_rows(table: pd.DataFrame, metrics: Sequence[str], policies: Sequence[str],
              currency: str) -> list[dict[str, Any]]:
    rows = []
    for metric in metrics:
        info = metric_info(metric)
        sub = table[table["metric"] == metric].set_index("policy")
        means = sub["mean"].astype(float)
        best: set[str] = set()
        if info.sense != "neutral" and means.notna().any() and means.nunique() > 1:
            top = means.max() if info.sense == "higher" else means.min()
            best = {str(p) for p in means.index[means == top]}     # ties share the star
        cells = [{"mean": format_value(sub.at[p, "mean"], info, bare=True),
                  "ci": f"{format_value(sub.at[p, 'ci_low'], info, bare=True)} to "
                        f"{format_value(sub.at[p, 'ci_high'], info, bare=True)}",
                  "best": p in best} for p in policies]
        rows.append({"label": info.label, "unit": unit_text(info, currency),
                     "sense": info.sense_text, "cells": cells})
    return rows


def _compare_rows(comparison: pd.DataFrame, currency: str) -> list[dict[str, Any]]:
    rows = []
    for row in comparison.to_dict("records"):
        info = metric_info(str(row["metric"]))
        p_adj = float(row["p_adjusted"])
        significant = bool(np.isfinite(p_adj) and p_adj < ALPHA)
        flag = row["better"] if isinstance(row["better"], bool) else None
        verdict = ("better" if flag else "worse") if flag is not None else (
            "differs (neutral KPI)" if significant else "no significant difference")
        rows.append({
            "metric": info.label, "policy": str(row["policy"]),
            "diff": format_value(row["diff_mean"], info, currency, signed=True),
            "ci": f"{format_value(row['ci_low'], info, currency, signed=True)} to "
                  f"{format_value(row['ci_high'], info, currency, signed=True)}",
            "p": "–" if not np.isfinite(p_adj) else ("< 0.001" if p_adj < 1e-3 else f"{p_adj:.3f}"),
            "significant": significant, "verdict": verdict,
            "css": {True: "better", False: "worse", None: "neutral"}[flag],
        })
    return rows


def _verdict(res: Results, metric: str) -> tuple[str, str, Selection | None]:
    """(headline, explanation, selection) for the chosen metric."""
    info = metric_info(metric)
    if info.sense == "neutral":
        return (f"No best policy on {info.label}",
                f"{info.label} is neutral (neither higher nor lower is better), so no policy "
                "is selected on it; choose another metric with --metric.", None)
    sel = res.select_best(metric=metric)
    message = sel.message[0].upper() + sel.message[1:] + "."
    if sel.confident and sel.policy is not None:
        return f"Best on {info.label}: {sel.policy}", message, sel
    return f"Cannot separate the policies on {info.label} yet", message, sel


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("pmo_sim.analysis", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def render_report(results: Results, metrics: Sequence[str] | None = None,
                  baseline: str | None = None) -> str:
    """The report of ``results`` as one self-contained HTML document.

    ``metrics`` are the KPIs of the tables and the forest plot (default: the headline KPIs);
    the first one decides the verdict. ``baseline`` is the policy the others are compared
    with (default: the first policy). Raises :class:`UsageError` for an unknown metric or
    policy, or results without a single replication.
    """
    res = results
    if res.replications.empty:
        raise UsageError("these results have no finished replication: nothing to report")
    chosen = list(dict.fromkeys(metrics)) if metrics else list(HEADLINE_METRICS)
    base = res.resolve_baseline(baseline)
    table = summary(res.replications, list(dict.fromkeys(
        [*chosen, "mean_cycle_time", "on_time_rate"])))
    try:
        sc = res.scenario
        description, currency = sc.description, sc.currency
        horizon, warmup = float(sc.horizon), float(sc.warmup)
    except UsageError:
        description, currency = "", ""
        horizon, warmup = float(np.nanmax([res.projects["finish"].max(), 1.0])), 0.0
    n_done = int(res.replications.groupby("policy", sort=False)["replication"].nunique().min())
    several = len(res.policies) > 1
    comparison = res.compare(baseline=base, metrics=chosen) if several else pd.DataFrame()
    headline, explanation, selection = _verdict(res, chosen[0]) if several else (
        f"One policy: {res.policies[0]}", "Only one policy was run: there is nothing to "
        "compare it with.", None)

    figures: list[tuple[str, str, Markup]] = []

    def add(key: str, title: str, caption: str, draw: Any, *args: Any) -> None:
        with mpl.rc_context(_RC):
            figures.append((title, caption, _svg(draw(*args), key, title)))

    npv = "npv" if "npv" in res.replications else chosen[0]
    add("dist", f"Distribution of {metric_info(npv).label} per policy",
        "Each replication is one possible future; the spread is the risk of each policy.",
        _distribution, res, npv, currency)
    if several:
        add("forest", f"Paired differences to '{base}'",
            "Replication by replication on the same random world; an interval that does not "
            "cross zero is a difference the data support (per-comparison 95% CI).",
            _forest, comparison, chosen, base, currency)
    add("tradeoff", "Speed against punctuality",
        "Mean cycle time and on-time rate per policy, with 95% CIs: up and to the left is "
        "better (projects finish sooner, and more of them on time).", _tradeoff, table, res.policies)
    add("util", "Utilisation per pool",
        "Share of the available person-days spent on project work (95% CI). High utilisation "
        "is not a goal: queues grow steeply as it nears 100%.", _utilisation, res.pools,
        res.policies)
    add("done", "Projects completed over time",
        "Mean over replications of the number of counted projects finished by each day.",
        _completions, res, horizon, warmup)

    return _environment().get_template(_TEMPLATE).render(
        scenario=str(res.manifest.get("scenario", "")), description=description,
        provenance=_provenance(res, n_done, description),
        warning=_partial_warning(res, n_done),
        headline=headline, explanation=explanation, confident=bool(selection and selection.confident),
        policies=res.policies, kpis=_kpi_rows(table, chosen, res.policies, currency),
        baseline=base, comparisons=_compare_rows(comparison, currency) if several else [],
        figures=figures, n=n_done, k=max(0, len(res.policies) - 1),
        delta=format_value(selection.delta, metric_info(chosen[0]), currency) if selection else None,
        alpha=f"{selection.alpha:g}" if selection else None, version=__version__,
        seed=res.manifest.get("seed", "?"), status=res.manifest.get("status", "?"),
        finished=_when(res.manifest.get("finished")), sim_version=res.manifest.get("pmo_sim_version", "?"),
    )


def write_report(results: Results, path: str | os.PathLike[str], force: bool = False,
                 metrics: Sequence[str] | None = None, baseline: str | None = None) -> Path:
    """Render the report of ``results`` into ``path`` atomically; returns the path.

    An existing file is refused (:class:`UsageError`) unless ``force``. The page is written
    to a temporary file next to ``path`` and renamed, so ``path`` is never half-written.
    """
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{target} is a directory; give a file name such as {target / 'report.html'}")
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; use --force to overwrite it")
    html = render_report(results, metrics=metrics, baseline=baseline)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name opened with "x" (not mkstemp, whose 0600 mode would stick to the report).
    tmp = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
