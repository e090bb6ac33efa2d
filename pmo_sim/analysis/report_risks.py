"""The report's "Which risks hurt most" section: the risk-driver ranking as a table and a figure.

The numbers are :func:`pmo_sim.analysis.risks.risk_drivers`' (through ``Results.risk_drivers``),
so the section exists only when the results have a ``risks`` table (a scenario with a risk
register). Per policy and risk, each is a mean per replication (a replication in which the risk
did not strike counts as zero) of what its strikes did: how often it struck, the days of pause
and the rework it added, its direct cost, and the value lost, an attribution defined in
:mod:`pmo_sim.analysis.risks` (first order: knock-on delays to other projects are not counted).
A risk's *toll* is value lost + direct cost, the measure the ranking uses.

- The **lead** names, per policy, the risk with the largest toll; policies whose top risk is
  the same share one sentence.
- The **table** has a row per risk, the projects it threatens (applicable, per future), and a
  column per policy (at most :data:`TABLE_POLICIES` a table, as the forecast's; more policies
  are shared evenly among several tables): each cell gives the toll, the value lost with its
  95% CI, the cost, the strikes and delay, the rework, the risk's rank in that policy and
  whether the policy mitigates it. Rows are in the order of each risk's largest toll under any
  policy, so the risks that hurt most somewhere come first.
- The **figure** draws the toll per risk as horizontal bars with their 95% CI as whiskers, one
  colour per policy, hatched where the policy mitigates the risk. With more risks than it can
  carry legibly (:data:`MAX_ROWS`, fewer with many policies) it keeps those with the largest
  toll and says so; the table lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from pmo_sim.analysis import format as fmt
from pmo_sim.analysis.plots import readable_ticks
from pmo_sim.analysis.report_figures import colours
from pmo_sim.analysis.report_page import Cell, HtmlTable, Section

if TYPE_CHECKING:
    from pmo_sim.analysis.report import ReportContext

#: Most risks in the figure, and most bars (risks × policies).
MAX_ROWS = 15
MAX_BARS = 80
#: Policies side by side in one table (more make further tables below it).
TABLE_POLICIES = 4
_MITIGATED_HATCH = "////"


def _drivers(ctx: ReportContext) -> pd.DataFrame | None:
    """The ranking, or None when the results have no risks table (no risk register)."""
    # (no risks table: no section; one that cannot be read is refused, not left out unsaid)
    if not ctx.res.has_table("risks"):
        return None
    drivers = ctx.res.risk_drivers()
    return drivers if len(drivers) else None


def _order(drivers: pd.DataFrame) -> list[str]:
    """The risks by their largest toll under any policy (ties: register order)."""
    worst = drivers.groupby("risk", sort=False)["loss"].max()
    return list(worst.sort_values(ascending=False, kind="stable").index.astype(str))


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _lead(drivers: pd.DataFrame, policies: Sequence[str], currency: str) -> str:
    """Per policy, the risk with the largest toll, in plain words."""
    top = drivers[drivers["rank"] == 1].set_index("policy")
    groups: dict[str, list[str]] = {}   # top risk ("": none cost anything) -> its policies
    for policy in policies:
        row = top.loc[policy]
        groups.setdefault(str(row["risk"]) if row["loss"] > 0 else "", []).append(policy)
    sentences = []
    for risk, names in groups.items():
        who = f"{'policy' if len(names) == 1 else 'policies'} {_join(names)}"
        if not risk:
            sentences.append(f"In {who}, no risk of the register cost anything in the simulated "
                             "futures.")
            continue
        amounts = _join([fmt.money(top.loc[p, "loss"], currency) for p in names])
        sentences.append(f"In {who}, “{risk}” costs most: about {amounts} per simulated future"
                         f"{' respectively' if len(names) > 1 else ''} in lost value and "
                         "direct cost.")
    return " ".join(sentences)


def _cell(row: pd.Series, currency: str) -> Cell:
    return Cell(fmt.money(row["loss"], currency), (
        f"value lost {fmt.money(row['value_lost'])}",
        f"95% CI {fmt.value_range(row['value_lost_ci_low'], row['value_lost_ci_high'], 'money')}",
        f"cost {fmt.money(row['cost'])}",
        f"{fmt.plain_number(row['strikes'])} strikes · {fmt.days(row['delay'])}",
        f"rework {fmt.value(row['effort_added'], 'person-days')}",
        f"rank {row['rank']} · {'mitigated' if row['mitigated'] else 'not mitigated'}"))


def _exposed(drivers: pd.DataFrame, risk: str) -> str:
    """Applicable projects per future. Arrivals are shared by the policies (common random
    numbers), so it is one number; should the policies' tables ever differ, the range."""
    values = drivers.loc[drivers["risk"] == risk, "applicable"]
    low, high = fmt.plain_number(values.min()), fmt.plain_number(values.max())
    return low if low == high else f"{low}{fmt.DASH}{high}"


def _tables(drivers: pd.DataFrame, order: Sequence[str], policies: Sequence[str],
            currency: str) -> list[HtmlTable]:
    """A row per risk, a column per policy, at most :data:`TABLE_POLICIES` policies a table
    (five make tables of three and two, not of four and one)."""
    by_key = {(str(r["policy"]), str(r["risk"])): r for _, r in drivers.iterrows()}
    size = -(-len(policies) // -(-len(policies) // TABLE_POLICIES))
    out = []
    for i in range(0, len(policies), size):
        chunk = policies[i:i + size]
        legend = [Cell("each cell:", ("value lost + cost", "value lost", "its 95% CI", "direct cost",
                                      "strikes · days of delay", "rework", "rank · mitigated?"),
                       "text legend"), Cell(""), *[Cell("") for _ in chunk]]
        rows = [[Cell(risk, css="text"), Cell(_exposed(drivers, risk), css="text"),
                 *[_cell(by_key[p, risk], currency) for p in chunk]] for risk in order]
        out.append(HtmlTable(["risk", "projects exposed", *chunk], [legend, *rows], "kpis"))
    return out


def risk_section(ctx: ReportContext) -> Section | None:
    """Which risks of the register cost the most, per policy: table, lead and figure."""
    drivers = _drivers(ctx)
    if drivers is None:
        return None
    policies = [p for p in ctx.res.policies if p in set(drivers["policy"])]
    order = _order(drivers)
    money = f" Amounts in {ctx.currency}." if ctx.currency else ""
    paragraphs = [
        _lead(drivers, policies, ctx.currency),
        f"Per risk of the register, the mean over the {ctx.n_done} simulated futures (a future "
        "in which it did not strike counts as zero) of the projects it threatened (exposed), "
        "how many it struck, the days of pause "
        "and the rework it added, its direct cost, and the value it cost the projects it struck "
        "by making them finish later (their value per day over the pause plus the rework done "
        "at the project's own pace, for projects completed by the horizon). That value lost is "
        "an attribution, not a re-run without the risk: delays passed on to other projects are "
        "not counted, so it is a lower estimate of a risk's toll. Risks rank by value lost + "
        f"cost; “mitigated” means the policy pays to reduce the risk.{money}"]
    section = Section("risks", "Which risks hurt most", paragraphs=paragraphs,
                      tables=_tables(drivers, order, policies, ctx.currency))
    if (drivers["loss"] > 0).any():
        kept, caption = _figure_rows(order, len(policies))
        section.figures.append(ctx.figure("risks", "Value lost + cost per risk", caption,
                                          risk_tolls, drivers, kept, policies, ctx.currency))
    return section


# --------------------------------------------------------------------------- the figure


def _figure_rows(order: Sequence[str], n_policies: int) -> tuple[list[str], str]:
    """The risks of the figure (the first of ``order``) and its caption."""
    limit = min(MAX_ROWS, max(5, MAX_BARS // max(1, n_policies)))
    caption = ("Per risk, the mean value lost + direct cost per simulated future, a bar per "
               "policy, with its 95% confidence interval as whiskers; hatched bars are risks the "
               "policy mitigates.")
    if len(order) <= limit:
        return list(order), caption
    return (list(order[:limit]),
            caption + f" Showing the {limit} of {len(order)} risks with the largest toll under "
                      "any policy; the table lists them all.")


def risk_tolls(drivers: pd.DataFrame, risks: Sequence[str], policies: Sequence[str],
               currency: str) -> Figure:
    """Value lost + cost per risk (rows) and policy (bars), 95% CI whiskers, mitigated hatched."""
    n = len(policies)
    fig = Figure(figsize=(9.6, max(2.6, 1.1 + len(risks) * (0.12 + 0.14 * n))), layout="constrained")
    ax = fig.add_subplot()
    step = min(0.8 / n, 0.3)
    rows = drivers.set_index(["policy", "risk"])
    for j, (policy, colour) in enumerate(colours(policies).items()):
        mine = rows.loc[policy].reindex(list(risks))
        ys = np.arange(len(risks)) + (j - (n - 1) / 2) * step
        loss = mine["loss"].to_numpy(float)
        bars = ax.barh(ys, loss, height=step * 0.9, color=colour, label=policy)
        for bar, mitigated in zip(bars, mine["mitigated"].to_numpy(bool), strict=True):
            if mitigated:
                bar.set_hatch(_MITIGATED_HATCH)
                bar.set_edgecolor("white")
        whiskers = [loss - mine["loss_ci_low"].to_numpy(float),
                    mine["loss_ci_high"].to_numpy(float) - loss]
        ax.errorbar(loss, ys, xerr=whiskers, fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(risks)), list(risks))
    ax.set_ylim(len(risks) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    readable_ticks(ax.xaxis, "money")
    ax.set_xlabel(f"value lost + direct cost per simulated future ({currency or 'money'})")
    handles = [Patch(facecolor=c, label=p) for p, c in colours(policies).items()]
    if drivers["mitigated"].any():
        handles.append(Patch(facecolor="#6e7781", edgecolor="white", hatch=_MITIGATED_HATCH,
                             label="mitigated"))
    ax.legend(handles=handles, fontsize=8, ncols=min(6, len(handles)), loc="lower center",
              bbox_to_anchor=(0.5, 1.0), frameon=False)
    return fig
